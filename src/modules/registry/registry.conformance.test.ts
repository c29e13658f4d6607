// The registry against DOMAIN.md section 1 through the API: effective-dated facts [from, to) with
// one answer "as of" any date (an open earlier period of the same kind ends when the next begins,
// any other overlap is refused), the person file read as of a date, retraction keeping the
// history, optimistic concurrency on persons (a stale or racing version gets 409), the four
// relation kinds with their dates and checks, death, and every kind's data fields named in the
// errors in zh and en. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken } from '../access/index.ts';
import { FACT_KINDS } from './registry.facts.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let tokenValue = '';
let seq = 300;

interface FactJson {
  id: number;
  kind: string;
  from: string;
  to: string | null;
  data: Record<string, unknown>;
  retractedAt: string | null;
  retractionReason: string | null;
}
interface RelationJson {
  kind: string;
  role: string;
  personId: number;
  subtype: string | null;
  validFrom: string | null;
  validTo: string | null;
  entrustmentFormDate: string | null;
  carerFitnessCheckedOn: string | null;
  carerFit: boolean | null;
}
interface ErrorJson {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokenValue}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function person(name: string, birthDate: string): Promise<number> {
  const r = await call('POST', '/persons', {
    name,
    idNumber: makeIdNumber('410225', birthDate, (seq += 2)),
    hukouRegionCode: V1,
  });
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function fact(personId: number, body: Record<string, unknown>): Promise<FactJson> {
  const r = await call('POST', `/persons/${personId}/facts`, body);
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as FactJson;
}

async function file(personId: number, asOf?: string) {
  const r = await call('GET', `/persons/${personId}${asOf ? `?asOf=${asOf}` : ''}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as { version: number; facts: FactJson[]; relations: RelationJson[] };
}

function fieldError(r: { statusCode: number; body: string; json(): unknown }): {
  path: string;
  message: string;
} {
  assert.equal(r.statusCode, 400, r.body);
  const detail = (r.json() as ErrorJson).error.details?.[0];
  assert.ok(detail, r.body);
  return { path: detail.path.replace(/^\//, '').replace(/\//g, '.'), message: detail.message };
}

before(async () => {
  t = await createTestApp();
  tokenValue = (
    await createToken(t.ctx, null, { name: 'county', role: 'county_staff', regionCode: '410225' })
  ).token;
});

after(async () => t.close());

describe('facts are periods [from, to) with one answer as of any date', () => {
  test('a later fact of the same kind ends the open earlier one the day it begins', async () => {
    const id = await person('钱务工', '1980-01-01');
    const first = await fact(id, {
      kind: 'migration',
      from: '2024-03-01',
      data: { destination: '广东省东莞市' },
    });
    const second = await fact(id, {
      kind: 'migration',
      from: '2025-05-01',
      data: { destination: '浙江省杭州市' },
    });
    const all = (await file(id)).facts;
    assert.equal(all.find((f) => f.id === first.id)?.to, '2025-05-01');
    assert.equal(all.find((f) => f.id === second.id)?.to, null);
    const before = (await file(id, '2025-04-30')).facts;
    assert.deepEqual(
      before.map((f) => f.data.destination),
      ['广东省东莞市'],
    );
    const on = (await file(id, '2025-05-01')).facts;
    assert.deepEqual(
      on.map((f) => f.data.destination),
      ['浙江省杭州市'],
    );
    const closing = await t.ctx.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'person.fact.add')
      .where('entity_id', '=', String(id))
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual((closing.details as { ended?: unknown }).ended, [
      { factId: first.id, from: '2024-03-01', to: '2025-05-01' },
    ]);
  });

  test('any other overlap with a fact of the same kind is refused with 409 naming that fact; nothing is written', async () => {
    const id = await person('孙服刑', '1979-02-02');
    const served = await fact(id, {
      kind: 'liberty_restriction',
      from: '2020-01-01',
      to: '2022-01-01',
      data: { type: 'sentence' },
    });
    const inside = await call('POST', `/persons/${id}/facts`, {
      kind: 'liberty_restriction',
      from: '2021-06-01',
      data: { type: 'other' },
    });
    assert.equal(inside.statusCode, 409, inside.body);
    assert.match(inside.body, new RegExp(`#${served.id}`));
    assert.match(inside.body, /2020-01-01/);
    const en = await call(
      'POST',
      `/persons/${id}/facts`,
      { kind: 'liberty_restriction', from: '2019-01-01', to: '2020-01-02', data: { type: 'other' } },
      'en',
    );
    assert.equal(en.statusCode, 409, en.body);
    assert.match(en.body, /overlaps/);
    // An open fact starting before a recorded one would cover it: refused too.
    const open = await fact(id, { kind: 'self_care', from: '2024-01-01', data: { level: 'mild' } });
    const earlier = await call('POST', `/persons/${id}/facts`, {
      kind: 'self_care',
      from: '2023-01-01',
      data: { level: 'intact' },
    });
    assert.equal(earlier.statusCode, 409, earlier.body);
    const sameDay = await call('POST', `/persons/${id}/facts`, {
      kind: 'self_care',
      from: '2024-01-01',
      data: { level: 'severe' },
    });
    assert.equal(sameDay.statusCode, 409, sameDay.body);
    const facts = (await file(id)).facts;
    assert.equal(facts.length, 2);
    assert.equal(facts.find((f) => f.id === open.id)?.to, null);
    // Another kind does not clash.
    await fact(id, { kind: 'serious_illness', from: '2021-01-01', data: {} });
  });

  test('a period ending on the day another begins is not an overlap; each side of the boundary has one answer', async () => {
    const id = await person('周上学', '2012-03-03');
    await fact(id, { kind: 'schooling', from: '2018-09-01', to: '2024-09-01', data: { stage: 'primary' } });
    await fact(id, {
      kind: 'schooling',
      from: '2024-09-01',
      data: { stage: 'junior', school: '堌阳镇一中' },
    });
    assert.deepEqual(
      (await file(id, '2024-08-31')).facts.map((f) => f.data.stage),
      ['primary'],
    );
    assert.deepEqual(
      (await file(id, '2024-09-01')).facts.map((f) => f.data.stage),
      ['junior'],
    );
    assert.deepEqual((await file(id, '2018-08-31')).facts, []);
    assert.equal((await file(id)).facts.length, 2);
  });

  test('an end on or before the start is a field error on "to" in zh and en', async () => {
    const id = await person('吴日期', '1990-04-04');
    const before = fieldError(
      await call('POST', `/persons/${id}/facts`, {
        kind: 'serious_illness',
        from: '2024-05-01',
        to: '2024-04-30',
      }),
    );
    assert.equal(before.path, 'to');
    assert.match(before.message, /结束日期必须晚于开始日期/);
    const same = fieldError(
      await call(
        'POST',
        `/persons/${id}/facts`,
        { kind: 'serious_illness', from: '2024-05-01', to: '2024-05-01' },
        'en',
      ),
    );
    assert.equal(same.path, 'to');
    assert.match(same.message, /the end must be after the start/);
    assert.equal((await file(id)).facts.length, 0);
  });

  test('asOf must be a date: a field error naming asOf', async () => {
    const id = await person('郑查询', '1990-05-05');
    const bad = fieldError(await call('GET', `/persons/${id}?asOf=2024-02-30`));
    assert.equal(bad.path, 'asOf');
  });

  test('a retracted fact stays in the timeline with who, when and why, and is in force on no date', async () => {
    const id = await person('王撤回', '1985-06-06');
    const wrong = await fact(id, { kind: 'disability', from: '2020-01-01', data: { category: 4, grade: 2 } });
    const r = await call('POST', `/persons/${id}/facts/${wrong.id}/retract`, { reason: '证号录错' });
    assert.equal(r.statusCode, 200, r.body);
    const timeline = (await file(id)).facts;
    assert.equal(timeline.length, 1);
    assert.ok(timeline[0]?.retractedAt);
    assert.equal(timeline[0]?.retractionReason, '证号录错');
    assert.deepEqual((await file(id, '2024-01-01')).facts, []);
    const audit = await t.ctx.db
      .selectFrom('audit_log')
      .select(['details', 'actor_token_id'])
      .where('action', '=', 'person.fact.retract')
      .where('entity_id', '=', String(id))
      .executeTakeFirstOrThrow();
    // The audit entry names the fact and the reason's length only (the reason stays on the fact).
    assert.equal((audit.details as { reason?: string }).reason, undefined);
    assert.equal((audit.details as { reasonLength?: number }).reasonLength, 4);
    // The retracted period no longer blocks the corrected one.
    await fact(id, { kind: 'disability', from: '2020-01-01', data: { category: 4, grade: 3 } });
  });
});

describe('optimistic concurrency on a person', () => {
  test('the current version wins and bumps it; a stale one gets 409; of two racing edits exactly one wins', async () => {
    const id = await person('冯并发', '1970-07-07');
    const { version } = await file(id);
    const stale = await call('PATCH', `/persons/${id}`, { version: version + 5, ethnicity: '回族' });
    assert.equal(stale.statusCode, 409, stale.body);
    assert.equal((stale.json() as ErrorJson).error.code, 'CONFLICT');
    const [a, b] = await Promise.all([
      call('PATCH', `/persons/${id}`, { version, ethnicity: '汉族' }),
      call('PATCH', `/persons/${id}`, { version, phone: '13800001111' }),
    ]);
    assert.deepEqual([a.statusCode, b.statusCode].sort(), [200, 409], `${a.body} ${b.body}`);
    const after = await file(id);
    assert.equal(after.version, version + 1);
    const winner = a.statusCode === 200 ? a : b;
    assert.equal((winner.json() as { version: number }).version, version + 1);
  });
});

describe('relations', () => {
  test('parent (biological, adoptive, step), spouse, legal guardian and entrusted carer, with their dates', async () => {
    const child = await person('陈小孩', '2016-08-08');
    const father = await person('陈父', '1986-01-01');
    const adoptive = await person('陈养母', '1988-02-02');
    const step = await person('陈继母', '1990-03-03');
    const guardian = await person('陈叔', '1975-04-04');
    const carer = await person('陈奶奶', '1955-05-05');
    const link = async (id: number, body: Record<string, unknown>) => {
      const r = await call('POST', `/persons/${id}/relations`, body);
      assert.equal(r.statusCode, 201, r.body);
    };
    await link(child, { relatedPersonId: father, kind: 'parent' });
    await link(child, {
      relatedPersonId: adoptive,
      kind: 'parent',
      subtype: 'adoptive',
      validFrom: '2019-01-01',
    });
    await link(child, { relatedPersonId: step, kind: 'parent', subtype: 'step', validFrom: '2021-06-01' });
    await link(father, { relatedPersonId: step, kind: 'spouse', validFrom: '2021-06-01' });
    await link(child, { relatedPersonId: guardian, kind: 'guardian', validFrom: '2022-01-01' });
    await link(child, {
      relatedPersonId: carer,
      kind: 'carer',
      validFrom: '2023-01-01',
      entrustmentFormDate: '2023-01-05',
      carerFitnessCheckedOn: '2023-01-10',
      carerFit: true,
    });
    const relations = (await file(child)).relations;
    const of = (pid: number) => relations.find((r) => r.personId === pid);
    assert.equal(of(father)?.subtype, 'biological');
    assert.equal(of(adoptive)?.subtype, 'adoptive');
    assert.equal(of(adoptive)?.validFrom, '2019-01-01');
    assert.equal(of(step)?.subtype, 'step');
    assert.equal(of(guardian)?.role, 'guardian');
    assert.deepEqual(
      [
        of(carer)?.role,
        of(carer)?.entrustmentFormDate,
        of(carer)?.carerFitnessCheckedOn,
        of(carer)?.carerFit,
      ],
      ['carer', '2023-01-05', '2023-01-10', true],
    );
    const spouseSeen = (await file(step)).relations.find((r) => r.personId === father);
    assert.equal(spouseSeen?.role, 'spouse');
    // As of a day before a link began it is not in force.
    const early = (await file(child, '2020-01-01')).relations.map((r) => r.personId).sort();
    assert.deepEqual(early, [father, adoptive].sort());
  });

  test('a relation to oneself, a duplicate, a reversed spouse link, a reversed parent link and misplaced fields are refused', async () => {
    const a = await person('褚甲', '1980-01-01');
    const b = await person('褚乙', '1981-01-01');
    const kid = await person('褚丙', '2010-01-01');
    const self = fieldError(
      await call('POST', `/persons/${a}/relations`, { relatedPersonId: a, kind: 'spouse' }),
    );
    assert.equal(self.path, 'relatedPersonId');
    assert.equal(
      (await call('POST', `/persons/${a}/relations`, { relatedPersonId: b, kind: 'spouse' })).statusCode,
      201,
    );
    const again = await call('POST', `/persons/${a}/relations`, { relatedPersonId: b, kind: 'spouse' });
    assert.equal(again.statusCode, 409, again.body);
    const reversed = await call('POST', `/persons/${b}/relations`, { relatedPersonId: a, kind: 'spouse' });
    assert.equal(reversed.statusCode, 409, reversed.body);
    assert.equal(
      (await call('POST', `/persons/${kid}/relations`, { relatedPersonId: a, kind: 'parent' })).statusCode,
      201,
    );
    const cycle = await call('POST', `/persons/${a}/relations`, { relatedPersonId: kid, kind: 'parent' });
    assert.equal(cycle.statusCode, 409, cycle.body);
    const subtype = fieldError(
      await call('POST', `/persons/${kid}/relations`, {
        relatedPersonId: b,
        kind: 'guardian',
        subtype: 'step',
      }),
    );
    assert.equal(subtype.path, 'subtype');
    const form = fieldError(
      await call(
        'POST',
        `/persons/${kid}/relations`,
        { relatedPersonId: b, kind: 'guardian', entrustmentFormDate: '2024-01-01' },
        'en',
      ),
    );
    assert.equal(form.path, 'entrustmentFormDate');
    assert.match(form.message, /entrusted carer/);
    const count = await t.ctx.db
      .selectFrom('person_relations')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where((eb) => eb.or([eb('person_id', 'in', [a, b, kid]), eb('related_person_id', 'in', [a, b, kid])]))
      .executeTakeFirstOrThrow();
    assert.equal(Number(count.n), 2);
  });
});

describe('death', () => {
  test('death is an event without an end, recorded once, and nothing about the person starts after it', async () => {
    const id = await person('蒋故', '1950-09-09');
    const spouse = await person('蒋妻', '1952-09-09');
    assert.equal(
      (await call('POST', `/persons/${id}/relations`, { relatedPersonId: spouse, kind: 'spouse' }))
        .statusCode,
      201,
    );
    const away = await fact(id, { kind: 'migration', from: '2020-01-01', data: {} });
    const withEnd = fieldError(
      await call('POST', `/persons/${id}/facts`, { kind: 'death', from: '2025-01-01', to: '2025-02-01' }),
    );
    assert.equal(withEnd.path, 'to');
    const death = await fact(id, { kind: 'death', from: '2025-01-01' });
    const twice = await call('POST', `/persons/${id}/facts`, { kind: 'death', from: '2025-03-01' });
    assert.equal(twice.statusCode, 409, twice.body);
    const ended = await call('POST', `/persons/${id}/facts/${death.id}/end`, { to: '2025-06-01' });
    assert.equal(ended.statusCode, 400, ended.body);
    const later = fieldError(
      await call('POST', `/persons/${id}/facts`, { kind: 'serious_illness', from: '2025-02-01' }),
    );
    assert.equal(later.path, 'from');
    // The history is kept as recorded: the migration and the spouse link are not rewritten; the
    // rules read the death first (DECISIONS.md).
    const after = await file(id, '2025-06-01');
    assert.deepEqual(after.facts.map((f) => f.id).sort(), [away.id, death.id].sort());
    assert.equal(after.relations.length, 1);
    // A retracted death no longer blocks.
    assert.equal(
      (await call('POST', `/persons/${id}/facts/${death.id}/retract`, { reason: '误报' })).statusCode,
      200,
    );
    await fact(id, { kind: 'serious_illness', from: '2025-02-01' });
  });
});

describe('every kind validates its data fields, naming the field in zh and en', () => {
  const cases: { kind: (typeof FACT_KINDS)[number]; data: Record<string, unknown>; path: string }[] = [
    { kind: 'migration', data: { expectedReturn: '2026-13-01' }, path: 'data.expectedReturn' },
    { kind: 'migration', data: { destination: '' }, path: 'data.destination' },
    { kind: 'migration', data: { contact: 5 }, path: 'data.contact' },
    { kind: 'migration', data: { homeVisits: 'daily' }, path: 'data.homeVisits' },
    { kind: 'liberty_restriction', data: {}, path: 'data.type' },
    {
      kind: 'liberty_restriction',
      data: { type: 'sentence', expectedEnd: 'soon' },
      path: 'data.expectedEnd',
    },
    { kind: 'lost_contact', data: {}, path: 'data.policeReportDate' },
    { kind: 'guardianship_revoked', data: { court: 'x' }, path: 'data.court' },
    { kind: 'deported', data: { to: 'x' }, path: 'data.to' },
    { kind: 'death', data: { cause: 'x' }, path: 'data.cause' },
    { kind: 'declared_missing', data: { x: 1 }, path: 'data.x' },
    { kind: 'declared_dead', data: { x: 1 }, path: 'data.x' },
    { kind: 'disability', data: { category: 8, grade: 1 }, path: 'data.category' },
    { kind: 'disability', data: { category: 1, grade: 5 }, path: 'data.grade' },
    { kind: 'disability', data: { category: 1, grade: 1, certificateNo: 7 }, path: 'data.certificateNo' },
    { kind: 'serious_illness', data: { diagnosis: 3 }, path: 'data.diagnosis' },
    { kind: 'schooling', data: { stage: 'kindergarten' }, path: 'data.stage' },
    { kind: 'schooling', data: { stage: 'primary', droppedOut: 'yes' }, path: 'data.droppedOut' },
    { kind: 'self_care', data: { level: 'none' }, path: 'data.level' },
    { kind: 'living_arrangement', data: {}, path: 'data.value' },
    { kind: 'family_planning_special', data: { x: 1 }, path: 'data.x' },
    { kind: 'assistance', data: { program: 'wubao' }, path: 'data.program' },
    { kind: 'guardianship_failure', data: {}, path: 'data.type' },
    { kind: 'ledger_declaration', data: {}, path: 'data.leftBehindChild' },
  ];

  test('every kind has a case', () => {
    assert.deepEqual(new Set(cases.map((c) => c.kind)), new Set(FACT_KINDS));
  });

  for (const c of cases)
    test(`${c.kind}: ${c.path}`, async () => {
      const id = await person(`校验${c.path.length}`, '1991-01-01');
      const body = { kind: c.kind, from: '2024-01-01', data: c.data };
      const zh = fieldError(await call('POST', `/persons/${id}/facts`, body, 'zh'));
      const en = fieldError(await call('POST', `/persons/${id}/facts`, body, 'en'));
      assert.equal(zh.path, c.path);
      assert.equal(en.path, c.path);
      assert.match(zh.message, /[\u4e00-\u9fff]/);
      assert.match(en.message, /^[\x20-\x7e]+$/);
      assert.equal((await file(id)).facts.length, 0);
    });

  test('a migration records destination, expected return, contact and how often they come home', async () => {
    const id = await person('韩外出', '1987-02-02');
    const f = await fact(id, {
      kind: 'migration',
      from: '2024-02-20',
      data: {
        destination: '江苏省苏州市',
        expectedReturn: '2025-01-20',
        contact: '13900002222',
        homeVisits: 'yearly',
      },
    });
    // The contact phone leaves the server masked like the person's own phone (the reveal shows it).
    assert.deepEqual(f.data, {
      destination: '江苏省苏州市',
      expectedReturn: '2025-01-20',
      contact: '139****2222',
      homeVisits: 'yearly',
    });
  });
});
