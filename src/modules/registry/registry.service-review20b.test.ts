// Session 20 review of the registry's writes, second round (tester's registry findings 1, 2, 3, 5):
// - a person's edit that changes the birth date or sex (or the ID number, which brings both) is
//   checked against their facts and links as the routes that record them check them: 400 naming the
//   field and each fact or link with its person, nothing written; what was already wrong before the
//   edit does not block it;
// - a merge that would give the person kept two open marriages, two biological fathers or mothers,
//   or parent links their birth date does not fit is refused (409, intoId), ended marriages as before;
// - a merge's refusal for overlapping facts names each fact with whose record it is on;
// - retracting a fact whose end was stated (…/end, or a `to` given) reopens what it ended only up to
//   that end.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken } from '../access/index.ts';
import { today } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let county: string;

type Lang = 'zh' | 'en';
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang: Lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${county}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(url: string, payload: unknown): Promise<number> {
  const r = await call('POST', url, payload);
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

/** A person without an ID number (so that the birth date and sex may be edited on their own). */
function person(name: string, sex: 1 | 2, birthDate: string): Promise<number> {
  return created('/persons', { name, noIdReason: '未落户', sex, birthDate, hukouRegionCode: V1 });
}

async function link(personId: number, body: Record<string, unknown>): Promise<number> {
  const r = await call('POST', `/persons/${personId}/relations`, body);
  assert.equal(r.statusCode, 201, r.body);
  const row = await t.ctx.db
    .selectFrom('person_relations')
    .select('id')
    .where((eb) =>
      eb.or([
        eb.and([
          eb('person_id', '=', personId),
          eb('related_person_id', '=', body.relatedPersonId as number),
        ]),
        eb.and([
          eb('related_person_id', '=', personId),
          eb('person_id', '=', body.relatedPersonId as number),
        ]),
      ]),
    )
    .where('kind', '=', body.kind as 'parent')
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function row(id: number) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function updates(id: number): Promise<number> {
  const r = await t.ctx.db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('action', '=', 'person.update')
    .where('entity_id', '=', String(id))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function patch(id: number, body: Record<string, unknown>, lang: Lang = 'zh') {
  const version = (await row(id)).version;
  return call('PATCH', `/persons/${id}`, { version, ...body }, lang);
}

/** A 400 of a PATCH: its details; the person unchanged and no person.update entry written. */
async function refusedEdit(id: number, body: Record<string, unknown>, lang: Lang = 'zh') {
  const stored = await row(id);
  const audited = await updates(id);
  const r = await patch(id, body, lang);
  assert.equal(r.statusCode, 400, r.body);
  const error = (r.json() as ErrorBody).error;
  assert.equal(error.code, 'VALIDATION_FAILED');
  assert.deepEqual(await row(id), stored);
  assert.equal(await updates(id), audited);
  return error.details ?? [];
}

before(async () => {
  t = await createTestApp();
  county = (await createToken(t.ctx, null, { name: 'sr20b', role: 'county_staff', regionCode: '410225' }))
    .token;
});
after(async () => {
  await t?.close();
});

describe('a changed birth date or sex is held against the person’s facts and links', () => {
  test('a fact beginning before the new birth date: 400 on birthDate naming the fact, zh and en', async () => {
    const girl = await person('韩小雨', 2, '2010-01-01');
    const school = await created(`/persons/${girl}/facts`, {
      kind: 'schooling',
      from: '2016-09-01',
      data: { stage: 'primary' },
    });
    const zh = await refusedEdit(girl, { birthDate: '2018-01-01' });
    assert.deepEqual(zh, [
      {
        path: 'birthDate',
        message: `就学记录 #${school} 的开始日期 2016-09-01 早于本人的出生日期 2018-01-01；请核对出生日期，或先撤回该记录`,
      },
    ]);
    const en = await refusedEdit(girl, { birthDate: '2018-01-01' }, 'en');
    assert.match(
      en[0]?.message ?? '',
      new RegExp(`schooling #${school} 2016-09-01 is before the birth of this person`),
    );
    // A correction the facts allow is taken; a retracted fact is not held against it.
    assert.equal((await patch(girl, { birthDate: '2012-01-01' })).statusCode, 200);
    const retract = await call('POST', `/persons/${girl}/facts/${school}/retract`, { reason: '录入错误' });
    assert.equal(retract.statusCode, 200, retract.body);
    assert.equal((await patch(girl, { birthDate: '2018-01-01' })).statusCode, 200);
  });

  test('a death before the new birth date: 400 naming the death', async () => {
    const old = await person('韩老', 1, '1940-01-01');
    const death = await created(`/persons/${old}/facts`, { kind: 'death', from: '2020-05-01' });
    const details = await refusedEdit(old, { birthDate: '2021-01-01' });
    assert.equal(details.length, 1);
    assert.equal(details[0]?.path, 'birthDate');
    assert.match(
      details[0]?.message ?? '',
      new RegExp(`死亡记录 #${death} 的开始日期 2020-05-01 早于本人的出生日期`),
    );
  });

  test('a parent born after the child, or a biological parent under 12, from either end', async () => {
    const father = await person('韩父', 1, '1990-01-01');
    const son = await person('韩子', 1, '2015-01-01');
    const linkId = await link(son, { relatedPersonId: father, kind: 'parent', subtype: 'biological' });

    const later = await refusedEdit(father, { birthDate: '2020-01-01' });
    assert.deepEqual(later, [
      {
        path: 'birthDate',
        message: `与子女“韩子”(#${son})的亲子关系 #${linkId}：父母“韩父”的出生日期 2020-01-01 不早于子女的出生日期 2015-01-01`,
      },
    ]);
    const young = await refusedEdit(father, { birthDate: '2008-01-01' }, 'en');
    assert.match(
      young[0]?.message ?? '',
      new RegExp(`parent link #${linkId} with the child 韩子 \\(#${son}\\)`),
    );
    assert.match(young[0]?.message ?? '', /only 7 at the child's birth/);

    const child = await refusedEdit(son, { birthDate: '1989-06-01' });
    assert.equal(child[0]?.path, 'birthDate');
    assert.match(child[0]?.message ?? '', new RegExp(`^与父母“韩父”\\(#${father}\\)的亲子关系 #${linkId}：`));

    // Adoptive: any age older, but still older.
    const stepSon = await person('韩继子', 1, '2016-01-01');
    await link(stepSon, { relatedPersonId: father, kind: 'parent', subtype: 'step' });
    assert.equal((await patch(stepSon, { birthDate: '2000-01-01' })).statusCode, 200);
  });

  test('a link already wrong before the edit does not block a correction (only what the edit makes wrong)', async () => {
    const father = await person('韩旧父', 1, '1990-01-01');
    const son = await person('韩旧子', 1, '2015-01-01');
    await link(son, { relatedPersonId: father, kind: 'parent' });
    // Recorded before the 12-year rule: the father 5 at the birth.
    await sql`UPDATE persons SET birth_date = '2010-01-01' WHERE id = ${father}`.execute(t.ctx.db);
    assert.equal((await patch(father, { birthDate: '2009-06-01' })).statusCode, 200);
    assert.equal((await row(father)).birth_date, '2009-06-01');
  });

  test('a sex change giving a child two biological mothers: 400 on sex naming the other parent; by ID number on idNumber', async () => {
    const father = await person('韩父二', 1, '1990-01-01');
    const mother = await person('韩母二', 2, '1991-01-01');
    const child = await person('韩子二', 1, '2015-01-01');
    const fatherLink = await link(child, { relatedPersonId: father, kind: 'parent' });
    await link(child, { relatedPersonId: mother, kind: 'parent' });
    const details = await refusedEdit(father, { sex: 2 });
    assert.deepEqual(details, [
      {
        path: 'sex',
        message: `与子女“韩子二”(#${child})的亲子关系 #${fatherLink}：“韩子二”已登记生母“韩母二”(#${mother})，本人为女性则是其第二位生母：一人只有一位生父和一位生母`,
      },
    ]);
    // An ID number whose sex digit is even brings the sex 2 with it.
    const byNumber = await refusedEdit(father, { idNumber: makeIdNumber('410225', '1990-01-01', 412) });
    assert.equal(byNumber[0]?.path, 'idNumber');
    assert.match(byNumber[0]?.message ?? '', /第二位生母/);
    // The finding's next step, a third biological parent added, stays refused by addRelation.
    assert.equal((await row(father)).sex, 1);
  });

  test('the marriage age of a marriage in force (birth date and sex) and a carer’s age', async () => {
    const wife = await person('韩妻', 2, '1983-06-01');
    const husband = await person('韩夫', 1, '1980-01-01');
    const marriage = await link(wife, { relatedPersonId: husband, kind: 'spouse', validFrom: '2005-01-01' });
    const younger = await refusedEdit(wife, { birthDate: '1986-01-01' });
    assert.equal(younger[0]?.path, 'birthDate');
    assert.match(
      younger[0]?.message ?? '',
      new RegExp(
        `^与配偶“韩夫”\\(#${husband}\\)的婚姻关系 #${marriage}：“韩妻”在 2005-01-01 为 19 周岁，未到法定婚龄`,
      ),
    );
    // 21 on the wedding day: old enough as a woman, not as a man.
    const asMan = await refusedEdit(wife, { sex: 1 });
    assert.equal(asMan[0]?.path, 'sex');
    assert.match(asMan[0]?.message ?? '', /为 21 周岁，未到法定婚龄（男不早于 22 周岁/);
    // An ended marriage is not held to it.
    const end = await call('POST', `/persons/${wife}/relations/${marriage}/end`, { to: '2010-01-01' });
    assert.equal(end.statusCode, 200, end.body);
    assert.equal((await patch(wife, { birthDate: '1986-01-01' })).statusCode, 200);

    const child = await person('韩留守', 1, '2015-01-01');
    const carer = await person('韩照护', 2, '1980-01-01');
    const care = await link(child, { relatedPersonId: carer, kind: 'carer', validFrom: '2020-01-01' });
    const teen = await refusedEdit(carer, { birthDate: '2005-01-01' });
    assert.equal(teen[0]?.path, 'birthDate');
    assert.match(
      teen[0]?.message ?? '',
      new RegExp(
        `^与被照护人“韩留守”\\(#${child}\\)的委托照护关系 #${care}：“韩照护”在 2020-01-01 为 15 周岁`,
      ),
    );
  });

  test('a link dated before the new birth date', async () => {
    const a = await person('韩甲', 1, '1980-01-01');
    const b = await person('韩乙', 2, '1981-01-01');
    const marriage = await link(a, { relatedPersonId: b, kind: 'spouse', validFrom: '2004-01-01' });
    const details = await refusedEdit(b, { birthDate: '2004-06-01' });
    const starts = details.filter((d) => d.message.includes('关系开始日期'));
    assert.deepEqual(starts, [
      {
        path: 'birthDate',
        message: `与配偶“韩甲”(#${a})的婚姻关系 #${marriage}：关系开始日期 2004-01-01 早于本人的出生日期 2004-06-01`,
      },
    ]);
  });
});

describe('a merge refuses to put conflicting links side by side', () => {
  async function mergeInto(id: number, intoId: number, lang: Lang = 'zh') {
    return call('POST', `/persons/${id}/merge`, { intoId, version: (await row(id)).version }, lang);
  }

  function refusal(r: { statusCode: number; body: string; json(): unknown }) {
    assert.equal(r.statusCode, 409, r.body);
    const error = (r.json() as ErrorBody).error;
    assert.equal(error.code, 'CONFLICT');
    assert.deepEqual(error.details, [{ path: 'intoId', message: error.message }]);
    return error.message;
  }

  test('two biological fathers: 409 naming both; once the fathers are merged, the children merge', async () => {
    const kept = await person('周小红', 2, '2016-04-04');
    const duplicate = await person('周小红', 2, '2016-04-04');
    const f1 = await person('周父', 1, '1985-01-01');
    const f2 = await person('周父', 1, '1985-01-01');
    const l1 = await link(kept, { relatedPersonId: f1, kind: 'parent' });
    const l2 = await link(duplicate, { relatedPersonId: f2, kind: 'parent' });
    const message = refusal(await mergeInto(duplicate, kept));
    assert.equal(
      message,
      `无法合并：保留人员“周小红”(#${kept})登记的生父是“周父”(#${f1}，亲子关系 #${l1})，被合并人员“周小红”(#${duplicate})登记的生父是“周父”(#${f2}，亲子关系 #${l2})：一人只有一位生父和一位生母；如这两人是同一人，请先合并他们的记录，否则请先核实哪一位是生父`,
    );
    assert.match(
      refusal(await mergeInto(duplicate, kept, 'en')),
      /has 周父 \(#\d+, parent link #\d+\) as biological father/,
    );
    assert.equal((await row(duplicate)).merged_into, null);
    const links = await t.ctx.db
      .selectFrom('person_relations')
      .select(['id', 'person_id', 'valid_to'])
      .where('id', 'in', [l1, l2])
      .orderBy('id')
      .execute();
    assert.deepEqual(links, [
      { id: l1, person_id: kept, valid_to: null },
      { id: l2, person_id: duplicate, valid_to: null },
    ]);

    assert.equal((await mergeInto(f2, f1)).statusCode, 200);
    const merged = await mergeInto(duplicate, kept);
    assert.equal(merged.statusCode, 200, merged.body);
  });

  test('a biological mother merged into a man: a second father for her child', async () => {
    const child = await person('周小明', 1, '2014-01-01');
    const father = await person('周大明', 1, '1984-01-01');
    const asMother = await person('周某', 2, '1985-01-01');
    const kept = await person('周某', 1, '1985-01-01');
    await link(child, { relatedPersonId: father, kind: 'parent' });
    await link(child, { relatedPersonId: asMother, kind: 'parent' });
    const message = refusal(await mergeInto(asMother, kept));
    assert.match(
      message,
      new RegExp(`被合并人员“周某”\\(#${asMother}\\)是“周小明”\\(#${child}\\)的亲生父母`),
    );
    assert.match(message, new RegExp(`已登记生父“周大明”\\(#${father}\\)`));
  });

  test('a parent link the kept person’s birth date does not fit', async () => {
    const child = await person('周幼', 2, '2010-01-01');
    const duplicate = await person('周长', 1, '1985-01-01');
    const kept = await person('周长', 1, '2005-01-01');
    const linkId = await link(child, { relatedPersonId: duplicate, kind: 'parent' });
    const message = refusal(await mergeInto(duplicate, kept));
    assert.equal(
      message,
      `无法合并：按保留人员的出生日期 2005-01-01，被合并人员“周长”(#${duplicate})与子女“周幼”(#${child})的亲子关系 #${linkId} 不成立（被合并人员出生于 1985-01-01）：生父母“周长”（2005-01-01出生）在子女出生时（2010-01-01）仅 5 周岁，不足 12 周岁：多为身份号码填错（如填成兄弟姐妹的号码），请核对`,
    );
    assert.equal((await row(duplicate)).merged_into, null);
  });

  test('two open marriages: 409 naming both; after one is ended, the merge goes through (ended ones as before)', async () => {
    const kept = await person('郑大山', 1, '1980-05-05');
    const duplicate = await person('郑大山', 1, '1980-05-05');
    const s1 = await person('郑妻甲', 2, '1982-01-01');
    const s2 = await person('郑妻乙', 2, '1983-01-01');
    const m1 = await link(kept, { relatedPersonId: s1, kind: 'spouse', validFrom: '2005-01-01' });
    const m2 = await link(duplicate, { relatedPersonId: s2, kind: 'spouse', validFrom: '2006-01-01' });
    const message = refusal(await mergeInto(duplicate, kept));
    assert.equal(
      message,
      `无法合并：保留人员“郑大山”(#${kept})与配偶“郑妻甲”(#${s1})的婚姻关系 #${m1}（自 2005-01-01）未结束，被合并人员“郑大山”(#${duplicate})与配偶“郑妻乙”(#${s2})的婚姻关系 #${m2}（自 2006-01-01）也未结束：合并后一人会同时有两位配偶（民法典第一千零四十二条）；请先在家庭关系中结束已解除或有误的那一个配偶关系，再合并`,
    );
    assert.match(refusal(await mergeInto(duplicate, kept, 'en')), /would have two spouses at once/);
    assert.equal((await row(duplicate)).merged_into, null);
    const end = await call('POST', `/persons/${kept}/relations/${m1}/end`, { to: '2006-01-01' });
    assert.equal(end.statusCode, 200, end.body);
    assert.equal((await mergeInto(duplicate, kept)).statusCode, 200);
  });

  test('a widow’s open link to her late husband beside a later marriage merges', async () => {
    const kept = await person('郑寡', 2, '1960-01-01');
    const duplicate = await person('郑寡', 2, '1960-01-01');
    const late = await person('郑先夫', 1, '1958-01-01');
    const second = await person('郑后夫', 1, '1959-01-01');
    await link(kept, { relatedPersonId: late, kind: 'spouse', validFrom: '1985-01-01' });
    await created(`/persons/${late}/facts`, { kind: 'death', from: '2010-01-01' });
    await link(duplicate, { relatedPersonId: second, kind: 'spouse', validFrom: '2012-01-01' });
    const r = await mergeInto(duplicate, kept);
    assert.equal(r.statusCode, 200, r.body);
  });
});

describe('a merge refused for overlapping facts names whose record each fact is on', () => {
  test('the kept person’s fact and the duplicate’s, each with its owner, and intoId in the details', async () => {
    const kept = await person('秦双', 1, '1985-07-07');
    const duplicate = await person('秦双', 1, '1985-07-07');
    const keptFact = await created(`/persons/${kept}/facts`, {
      kind: 'migration',
      from: '2020-01-01',
      data: { destination: 'A' },
    });
    const dupFact = await created(`/persons/${duplicate}/facts`, {
      kind: 'migration',
      from: '2019-01-01',
      to: '2021-01-01',
      data: { destination: 'B' },
    });
    const version = (await row(duplicate)).version;
    const zh = await call('POST', `/persons/${duplicate}/merge`, { intoId: kept, version });
    assert.equal(zh.statusCode, 409, zh.body);
    const message = `无法合并：保留人员“秦双”(#${kept})的外出务工记录 #${keptFact} [2020-01-01, …) 与被合并人员“秦双”(#${duplicate})的外出务工记录 #${dupFact} [2019-01-01, 2021-01-01) 时间重叠；请先结束或撤回该记录`;
    assert.deepEqual((zh.json() as ErrorBody).error, {
      code: 'CONFLICT',
      message,
      details: [{ path: 'intoId', message }],
    });
    const en = await call('POST', `/persons/${duplicate}/merge`, { intoId: kept, version }, 'en');
    assert.equal(
      (en.json() as ErrorBody).error.message,
      `cannot merge: the migration for work #${keptFact} of the person kept, 秦双 (#${kept}) [2020-01-01, …): overlaps the migration for work #${dupFact} of the person merged away, 秦双 (#${duplicate}) [2019-01-01, 2021-01-01); end or retract that record first`,
    );
    assert.equal((await row(duplicate)).merged_into, null);
  });
});

describe('retracting a fact whose end was stated reopens the fact it ended up to that end', () => {
  const migration = (from: string, destination: string, to?: string) => ({
    kind: 'migration',
    from,
    ...(to ? { to } : {}),
    data: { destination },
  });

  async function fact(id: number) {
    return t.ctx.db
      .selectFrom('person_facts')
      .select(['valid_to', 'ended_by_fact_id'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
  }

  async function retract(personId: number, factId: number) {
    const r = await call('POST', `/persons/${personId}/facts/${factId}/retract`, { reason: '录入错误' });
    assert.equal(r.statusCode, 200, r.body);
    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'person.fact.retract')
      .execute();
    return entries
      .map((e) => e.details as { factId: number; reopened?: unknown })
      .find((d) => d.factId === factId);
  }

  test('ended with …/end (she came back): the earlier fact ends on the return, as an end stated on its own', async () => {
    const mother = await person('钱母甲', 2, '1986-02-06');
    const shenzhen = await created(`/persons/${mother}/facts`, migration('2023-06-10', '深圳'));
    const shanghai = await created(`/persons/${mother}/facts`, migration('2024-01-01', '上海'));
    assert.deepEqual(await fact(shenzhen), { valid_to: '2024-01-01', ended_by_fact_id: shanghai });
    const end = await call('POST', `/persons/${mother}/facts/${shanghai}/end`, { to: '2024-10-01' });
    assert.equal(end.statusCode, 200, end.body);
    const audit = await retract(mother, shanghai);
    assert.deepEqual(await fact(shenzhen), { valid_to: '2024-10-01', ended_by_fact_id: null });
    assert.deepEqual(audit?.reopened, [
      { factId: shenzhen, from: '2023-06-10', previousTo: '2024-01-01', to: '2024-10-01' },
    ]);
    // Not a migrant today: the file shows no migration in force.
    const file = await call('GET', `/persons/${mother}?asOf=${today()}`);
    assert.deepEqual((file.json() as { facts: unknown[] }).facts, []);
  });

  // A fact recorded with its own `to` inside an open one no longer ends it (409, session 21 F3): the
  // later fact is recorded open, which ends the earlier one, and its end is stated afterwards.
  async function endedOn(personId: number, factId: number, to: string) {
    const r = await call('POST', `/persons/${personId}/facts/${factId}/end`, { to });
    assert.equal(r.statusCode, 200, r.body);
  }

  test('an end stated afterwards on the later fact; a later fact starting after it is not reached', async () => {
    const mother = await person('钱母乙', 2, '1986-02-06');
    const a = await created(`/persons/${mother}/facts`, migration('2023-06-10', '深圳'));
    const b = await created(`/persons/${mother}/facts`, migration('2024-01-01', '上海'));
    await endedOn(mother, b, '2024-10-01');
    const c = await created(`/persons/${mother}/facts`, migration('2025-03-01', '杭州'));
    await retract(mother, b);
    assert.deepEqual(await fact(a), { valid_to: '2024-10-01', ended_by_fact_id: null });
    // Retracting the later one leaves the stated end alone.
    await retract(mother, c);
    assert.deepEqual(await fact(a), { valid_to: '2024-10-01', ended_by_fact_id: null });
  });

  test('the next fact beginning on the stated end: ended by it, as before', async () => {
    const mother = await person('钱母丙', 2, '1986-02-06');
    const a = await created(`/persons/${mother}/facts`, migration('2023-06-10', '深圳'));
    const b = await created(`/persons/${mother}/facts`, migration('2024-01-01', '上海'));
    await endedOn(mother, b, '2024-10-01');
    const c = await created(`/persons/${mother}/facts`, migration('2024-10-01', '杭州'));
    await retract(mother, b);
    assert.deepEqual(await fact(a), { valid_to: '2024-10-01', ended_by_fact_id: c });
  });
});
