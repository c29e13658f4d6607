// Care-group policy review (session 19), judged against DOMAIN.md:
// - "Every derived status the system shows must carry its reasons" and section 2's "Keep the
//   sub-category": an evaluation of a past date (POST /groups/evaluations with a past asOf) wrote that
//   date's reasons and sub-category on the periods that still run today, so today's person file and
//   member list named grounds that had ended (a mother "migrant" who is at home and ill; a child's dibao
//   that ended in 2023) until the next daily run;
// - section 1: "serious illness (重病), as defined by the county (config)": there was no such setting,
//   and any record of a serious illness (a cold) made a child de facto unsupported.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import { insertFactRow, insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { fact, somebody, withConfig } from '../../../test/support/group-subjects.ts';
import { today, type IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import {
  deFactoUnsupportedChild,
  explainLeftBehindChild,
  leftBehindChild,
  type GroupSubject,
  type ParentSnapshot,
} from './groups.rules.ts';
import { groupsOfPerson } from './groups.service.ts';
import { configProblems, uncoercedProblems } from './groups.settings.ts';

const COUNTY = '410225';
const VILLAGE = '410225001214'; // 老韩陵村 (rural)
const PAST = '2021-06-01';

// ---------- An evaluation of a past date keeps today's grounds ----------

describe('an evaluation of a past date leaves today’s grounds on the periods that run today', () => {
  let t: TestApp;
  const clients: Record<string, Client> = {};
  const ids: Record<string, number> = {};

  async function person(key: string, sex: 1 | 2, birthDate: IsoDate) {
    ids[key] = await insertPersonRow(t.ctx.db, { name: key, sex, birthDate, hukou: VILLAGE });
    return ids[key] as number;
  }

  async function family(key: string) {
    const child = await person(`${key}童`, 1, '2015-01-01');
    const father = await person(`${key}父`, 1, '1985-01-01');
    const mother = await person(`${key}母`, 2, '1987-01-01');
    await insertParentLink(t.ctx.db, child, father);
    await insertParentLink(t.ctx.db, child, mother);
    return { child, father, mother };
  }

  async function call<T>(method: 'GET' | 'POST', url: string, payload?: object) {
    const response = await t.app.inject({
      method,
      url,
      headers: method === 'GET' ? clients.county?.headers : clients.county?.write,
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: response.json() as T };
  }

  interface Job {
    status: string;
    progress: { done: number; total: number | null };
    result: {
      persons: number;
      entered: number;
      left: number;
      updated: number;
      today?: { asOf: string; persons: number; updated: number; entered: number; left: number };
    };
  }

  async function evaluate(asOf: IsoDate): Promise<Job> {
    const started = await call<{ jobId: number }>('POST', '/api/v1/groups/evaluations', {
      region: VILLAGE,
      asOf,
    });
    assert.equal(started.status, 202);
    await t.ctx.jobs.drain();
    return (await call<Job>('GET', `/api/v1/groups/evaluations/${started.body.jobId}`)).body;
  }

  const reasonsOf = async (personId: number, code: string, on?: IsoDate) =>
    (await groupsOfPerson(t.ctx.db, personId, on)).find((g) => g.code === code);

  async function memberOnList(personId: number, group: string, asOf: IsoDate = today()) {
    const list = await call<{
      items: { personId: number; subCategory: string | null; reasons: { zh: string[] } }[];
    }>('GET', `/api/v1/stats/groups/members?region=${VILLAGE}&group=${group}&asOf=${asOf}`);
    assert.equal(list.status, 200);
    return list.body.items.find((item) => item.personId === personId);
  }

  before(async () => {
    t = await createTestApp();
    Object.assign(clients, await signedInClients(t, { county: ['county19', 'county_staff', COUNTY] }));
    // Child 1: the father away since 2020; the mother away 2020-2024, at home and ill since 2024.
    const one = await family('甲');
    await insertFactRow(t.ctx.db, one.father, { kind: 'migration', from: '2020-01-01' });
    await insertFactRow(t.ctx.db, one.mother, { kind: 'migration', from: '2020-01-01', to: '2024-01-01' });
    await insertFactRow(t.ctx.db, one.mother, {
      kind: 'serious_illness',
      from: '2024-01-01',
      data: { diagnosis: '尿毒症' },
    });
    // Child 2: the child's own dibao 2020-2023, the child's own disability since 2022-06-01.
    const two = await family('乙');
    await insertFactRow(t.ctx.db, two.child, {
      kind: 'assistance',
      from: '2020-01-01',
      to: '2023-01-01',
      data: { program: 'dibao' },
    });
    await insertFactRow(t.ctx.db, two.child, {
      kind: 'disability',
      from: '2022-06-01',
      data: { category: 4, grade: 2 },
    });
    await evaluateRegion(t.ctx.db, { regionCode: VILLAGE, asOf: today() });
  });
  after(async () => {
    await t.close();
  });

  test('POST /groups/evaluations of 2021: the person file and the member list of today keep today’s reasons and sub-category', async () => {
    const child1 = ids['甲童'] as number;
    const child2 = ids['乙童'] as number;
    const lbcToday = await reasonsOf(child1, 'left_behind_child');
    const distressedToday = await reasonsOf(child2, 'distressed_child');
    assert.match(lbcToday?.reasons.zh.join('; ') ?? '', /母亲甲母患重病自2024-01-01/);
    assert.equal(distressedToday?.subCategory, 'disability');

    const job = await evaluate(PAST);
    assert.equal(job.status, 'succeeded');
    assert.equal(job.progress.done, job.progress.total, 'one pass over the village, finished');

    // Today: the grounds of today, not those of 2021.
    const lbc = await reasonsOf(child1, 'left_behind_child');
    assert.deepEqual(lbc?.reasons, lbcToday?.reasons);
    assert.doesNotMatch(lbc?.reasons.zh.join('; ') ?? '', /母亲甲母外出务工/, 'the mother came home in 2024');
    const distressed = await reasonsOf(child2, 'distressed_child');
    assert.equal(distressed?.subCategory, 'disability', 'the dibao ended in 2023');
    assert.deepEqual(distressed?.reasons, distressedToday?.reasons);
    const listed = await memberOnList(child2, 'distressed_child');
    assert.equal(listed?.subCategory, 'disability');
    assert.doesNotMatch(listed?.reasons.zh.join('; ') ?? '', /低保/);

    // What the job says it did: the evaluation of 2021 wrote that date's grounds on the two periods,
    // and the evaluation of today that followed gave today's back.
    assert.equal(job.result.updated, 2);
    assert.equal(job.result.today?.asOf, today());
    assert.equal(job.result.today?.updated, 2);
    assert.deepEqual([job.result.today?.entered, job.result.today?.left], [0, 0]);
  });

  test('the past date still reads as it was: both children members on 2021-06-01, counted in the statistics', async () => {
    const child1 = ids['甲童'] as number;
    const child2 = ids['乙童'] as number;
    assert.equal((await reasonsOf(child1, 'left_behind_child', PAST))?.since, '2020-01-01');
    assert.equal((await reasonsOf(child2, 'distressed_child', PAST))?.since, '2020-01-01');
    assert.ok(await memberOnList(child2, 'distressed_child', PAST));
    const stats = await call<{ total: { counts: Record<string, { value: number | null }> } }>(
      'GET',
      `/api/v1/stats/groups?region=${VILLAGE}&asOf=${PAST}`,
    );
    assert.equal(stats.body.total.counts.left_behind_child?.value, 1);
    assert.equal(stats.body.total.counts.distressed_child?.value, 1);
  });

  test('an evaluation as of today reports no pass of today and, after a past one, changes nothing', async () => {
    const job = await evaluate(today());
    assert.equal(job.status, 'succeeded');
    assert.equal(job.result.today, undefined);
    assert.deepEqual([job.result.entered, job.result.left, job.result.updated], [0, 0, 0]);
  });
});

// ---------- Serious illness as the county defines it ----------

const AS_OF = '2026-11-29';
const LIST = ['尿毒症', '恶性肿瘤', 'AIDS'];

function parent(name: string, sex: 1 | 2, facts: Fact[]): ParentSnapshot {
  return { ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts), parentType: 'biological' };
}

const childOf = (father: ParentSnapshot, mother: ParentSnapshot): GroupSubject => ({
  person: somebody('小明', 1, '2015-06-15'),
  parents: [father, mother],
  spouse: null,
  children: [],
});

const ill = (diagnosis?: string, from: IsoDate = '2024-01-01', to: IsoDate | null = null) =>
  fact('serious_illness', from, to, diagnosis === undefined ? {} : { diagnosis });
const deadFather = () => parent('张三', 1, [fact('death', '2020-01-10')]);
const awayFather = () => parent('张三', 1, [fact('migration', '2023-01-01')]);
const mother = (...facts: Fact[]) => parent('李梅', 2, facts);
const reasons = (subject: GroupSubject, rule = deFactoUnsupportedChild, list: string[] = LIST) =>
  rule(subject, AS_OF, withConfig({ seriousIllnessDiagnoses: list }))?.reasons.map((r) => r.zh) ?? null;

describe('serious illness as the county defines it (seriousIllnessDiagnoses)', () => {
  test('no list (the default): every serious illness on record counts, and the reasons read as before', () => {
    const child = childOf(deadFather(), mother(ill('感冒')));
    assert.deepEqual(reasons(child, deFactoUnsupportedChild, []), [
      '未满18周岁(2015-06-15出生)',
      '父亲张三死亡(2020-01-10)',
      '母亲李梅患重病自2024-01-01',
    ]);
  });

  test('with a list, a cold does not make a child de facto unsupported, nor the other parent unable', () => {
    assert.equal(reasons(childOf(deadFather(), mother(ill('感冒')))), null);
    assert.equal(reasons(childOf(awayFather(), mother(ill('感冒'))), leftBehindChild), null);
  });

  test('with a list, a record that names no diagnosis does not count', () => {
    assert.equal(reasons(childOf(deadFather(), mother(ill()))), null);
    assert.equal(reasons(childOf(deadFather(), mother(ill('   ')))), null);
  });

  test('a listed disease counts for both groups, and the reasons name it as the county lists it', () => {
    assert.deepEqual(reasons(childOf(deadFather(), mother(ill('尿毒症')))), [
      '未满18周岁(2015-06-15出生)',
      '父亲张三死亡(2020-01-10)',
      '母亲李梅患重病(尿毒症)自2024-01-01',
    ]);
    const lbc = leftBehindChild(
      childOf(awayFather(), mother(ill('恶性肿瘤'))),
      AS_OF,
      withConfig({ seriousIllnessDiagnoses: LIST }),
    );
    assert.deepEqual(
      lbc?.reasons.map((r) => r.en),
      [
        'under 16 (born 2015-06-15)',
        'father 张三 migrant since 2023-01-01',
        'mother 李梅 seriously ill (恶性肿瘤) since 2024-01-01',
      ],
    );
  });

  test('a diagnosis is matched after width, spaces and Latin case; nothing else is read into it', () => {
    for (const recorded of ['尿 毒 症', ' 尿毒症\u3000', 'ａｉｄｓ', 'Aids'])
      assert.notEqual(reasons(childOf(deadFather(), mother(ill(recorded)))), null, recorded);
    assert.match(reasons(childOf(deadFather(), mother(ill('ａｉｄｓ'))))?.join('; ') ?? '', /患重病\(AIDS\)/);
    for (const recorded of ['尿毒症(透析)', '尿毒', '慢性肾衰竭'])
      assert.equal(reasons(childOf(deadFather(), mother(ill(recorded)))), null, recorded);
  });

  test('a stretch runs over the listed records only: a listed illness after a cold counts from its own start', () => {
    const child = childOf(
      deadFather(),
      mother(ill('感冒', '2023-01-01', '2024-01-01'), ill('尿毒症', '2024-01-01')),
    );
    const member = deFactoUnsupportedChild(child, AS_OF, withConfig({ seriousIllnessDiagnoses: LIST }));
    assert.equal(member?.since, '2024-01-01');
    assert.equal(deFactoUnsupportedChild(child, AS_OF, withConfig({}))?.since, '2023-01-01');
  });

  test('the ledger’s answers say why an illness on record does not count', () => {
    const answers = explainLeftBehindChild(
      childOf(awayFather(), mother(ill('感冒'))),
      AS_OF,
      withConfig({ seriousIllnessDiagnoses: LIST }),
    );
    assert.equal(answers.oneMigrantOtherUnable.holds, false);
    assert.ok(
      answers.oneMigrantOtherUnable.reasons.some(
        (r) => r.zh === '母亲李梅登记的重病(感冒)不在本地区认定的重病病种之列',
      ),
      answers.oneMigrantOtherUnable.reasons.map((r) => r.zh).join('; '),
    );
  });
});

describe('the illness list is checked when it is saved', () => {
  const only = (value: unknown) => configProblems({ seriousIllnessDiagnoses: value });

  test('a list of diseases, or an empty one, is a setting', () => {
    assert.deepEqual(only(LIST), []);
    assert.deepEqual(only([]), []);
    assert.deepEqual(uncoercedProblems({ seriousIllnessDiagnoses: LIST }), []);
  });

  test('a disease twice, also in another width, spacing or case, names the field and both spellings', () => {
    const [problem, ...more] = only(['尿毒症', '恶性肿瘤', '尿 毒 症']);
    assert.equal(more.length, 0);
    assert.equal(problem?.path, 'config.seriousIllnessDiagnoses.2');
    assert.match(problem?.message.zh ?? '', /病种"尿 毒 症"与"尿毒症"重复/);
    assert.match(problem?.message.en ?? '', /"尿 毒 症" repeats "尿毒症"/);
    assert.equal(only(['AIDS', 'ａｉｄｓ'])[0]?.path, 'config.seriousIllnessDiagnoses.1');
  });

  test('a blank or overlong name, too many diseases, or no list: each refused with the field named', () => {
    const blank = only(['尿毒症', ' \u3000 '])[0];
    assert.equal(blank?.path, 'config.seriousIllnessDiagnoses.1');
    assert.equal(blank?.message.zh, '病种名称不能为空');
    const long = only(['病'.repeat(101)])[0];
    assert.equal(long?.path, 'config.seriousIllnessDiagnoses.0');
    assert.match(long?.message.en ?? '', /at most 100 characters/);
    const many = only(Array.from({ length: 501 }, (_, i) => `病${i}`))[0];
    assert.equal(many?.path, 'config.seriousIllnessDiagnoses');
    assert.match(many?.message.zh ?? '', /最多列 500 个病种/);
    const text = only('尿毒症')[0];
    assert.equal(text?.path, 'config.seriousIllnessDiagnoses');
    assert.equal(text?.message.en, 'must be a list of disease names (text)');
    const coerced = uncoercedProblems({ seriousIllnessDiagnoses: ['尿毒症', 5, true] });
    assert.deepEqual(
      coerced.map((p) => p.path),
      ['config.seriousIllnessDiagnoses.1', 'config.seriousIllnessDiagnoses.2'],
    );
  });
});

describe('the illness list through the API, effective from its date', () => {
  let t: TestApp;
  const clients: Record<string, Client> = {};

  async function call<T>(method: 'GET' | 'PUT', url: string, payload?: object, lang = 'zh') {
    const response = await t.app.inject({
      method,
      url,
      headers: {
        ...(method === 'GET' ? clients.county?.headers : clients.county?.write),
        'accept-language': lang,
      },
      ...(payload ? { payload } : {}),
    });
    return { status: response.statusCode, body: response.json() as T };
  }

  before(async () => {
    t = await createTestApp();
    Object.assign(clients, await signedInClients(t, { county: ['county19b', 'county_staff', COUNTY] }));
  });
  after(async () => {
    await t.close();
  });

  test('GET /groups/config shows the setting, empty by default', async () => {
    const view = await call<{ effective: Record<string, unknown> }>(
      'GET',
      `/api/v1/groups/config?region=${COUNTY}`,
    );
    assert.equal(view.status, 200);
    assert.deepEqual(view.body.effective.seriousIllnessDiagnoses, []);
  });

  test('a bad list is a 400 naming the item, in Chinese and English; nothing is saved', async () => {
    type Refusal = { error: { code: string; details: { path: string; message: string }[] } };
    const body = { config: { seriousIllnessDiagnoses: ['尿毒症', '尿毒症 '] }, version: 0 };
    const zh = await call<Refusal>('PUT', `/api/v1/groups/config?region=${COUNTY}`, body);
    assert.equal(zh.status, 400);
    assert.deepEqual(
      zh.body.error.details.map((d) => d.path),
      ['config.seriousIllnessDiagnoses.1'],
    );
    assert.match(zh.body.error.details[0]?.message ?? '', /重复/);
    const en = await call<Refusal>('PUT', `/api/v1/groups/config?region=${COUNTY}`, body, 'en');
    assert.match(en.body.error.details[0]?.message ?? '', /list each once/);
    const number = await call<Refusal>('PUT', `/api/v1/groups/config?region=${COUNTY}`, {
      config: { seriousIllnessDiagnoses: [5] },
      version: 0,
    });
    assert.equal(number.status, 400);
    assert.deepEqual(
      number.body.error.details.map((d) => d.path),
      ['config.seriousIllnessDiagnoses.0'],
    );
    const view = await call<{ version: number }>('GET', `/api/v1/groups/config?region=${COUNTY}`);
    assert.equal(view.body.version, 0);
  });

  test('a child whose mother has a cold is de facto unsupported until the county’s list takes effect', async () => {
    const db = t.ctx.db;
    const child = await insertPersonRow(db, {
      name: '丙童',
      sex: 1,
      birthDate: '2015-01-01',
      hukou: VILLAGE,
    });
    const father = await insertPersonRow(db, {
      name: '丙父',
      sex: 1,
      birthDate: '1985-01-01',
      hukou: VILLAGE,
    });
    const mum = await insertPersonRow(db, { name: '丙母', sex: 2, birthDate: '1987-01-01', hukou: VILLAGE });
    await insertParentLink(db, child, father);
    await insertParentLink(db, child, mum);
    await insertFactRow(db, father, { kind: 'death', from: '2020-01-10' });
    await insertFactRow(db, mum, {
      kind: 'serious_illness',
      from: '2024-01-01',
      data: { diagnosis: '感冒' },
    });
    await evaluateRegion(db, { regionCode: VILLAGE, asOf: today() });
    assert.equal((await groupsOfPerson(db, child))[0]?.code, 'de_facto_unsupported_child');

    const saved = await call<{ evaluationJobId: number; effective: Record<string, unknown> }>(
      'PUT',
      `/api/v1/groups/config?region=${COUNTY}`,
      { config: { seriousIllnessDiagnoses: LIST }, version: 0, validFrom: '2026-06-01' },
    );
    assert.equal(saved.status, 200);
    await t.ctx.jobs.drain();
    const periods = await db
      .selectFrom('group_memberships')
      .select(['group_code', 'since', 'until'])
      .where('person_id', '=', child)
      .execute();
    assert.deepEqual(periods, [
      { group_code: 'de_facto_unsupported_child', since: '2024-01-01', until: '2026-06-01' },
    ]);
  });
});
