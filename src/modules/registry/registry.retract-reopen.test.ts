// Retracting a fact puts back what it ended: a fact recorded by mistake ended the earlier fact of
// its kind on its start (a father's migration to 广州 ended by a wrong one to 杭州); retracting it
// reopens the earlier one, until the next fact of the kind that is not retracted or open, in the
// same transaction as the retraction, audited, with the care groups following (the child is left
// behind again). An end a clerk stated, or a fact that ended nothing, is left as it is. The
// registry-template import keeps the same link. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, type Role } from '../access/index.ts';
import { today } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { templateCsv } from '../../../test/support/files.ts';
import { multipartFile } from '../../../test/support/upload.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let dir: string;
const tokens: Record<string, string> = {};

function call(who: string, url: string, payload?: unknown, method: 'GET' | 'POST' = 'POST') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': 'zh' },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(url: string, payload: unknown): Promise<number> {
  const r = await call('county', url, payload);
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function token(name: string, role: Role, regionCode: string): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode })).token;
}

let households = 0;
let serial = 700;
/** A household of a father, a mother and their child (born 2017), linked as parents. */
async function family(): Promise<{ father: number; mother: number; child: number }> {
  const household = await created('/households', {
    householdNo: `REOPEN-${++households}`,
    hukouRegionCode: V1,
  });
  serial += 10;
  // The sequence number's parity is the sex: odd for the father, even for the mother and daughter.
  const person = (name: string, birth: string, relationToHead: string, n: number) =>
    created('/persons', {
      name,
      idNumber: makeIdNumber('410225', birth, serial + n),
      hukouRegionCode: V1,
      householdId: household,
      relationToHead,
    });
  const father = await person('钱父', '1984-01-05', '户主', 1);
  const mother = await person('钱母', '1986-02-06', '配偶', 2);
  const child = await person('钱小妹', '2017-03-07', '女', 4);
  for (const parent of [father, mother])
    await created(`/persons/${child}/relations`, { relatedPersonId: parent, kind: 'parent' });
  return { father, mother, child };
}

const migration = (from: string, destination: string) => ({ kind: 'migration', from, data: { destination } });

async function retract(personId: number, factId: number, reason = '录入错误') {
  const r = await call('county', `/persons/${personId}/facts/${factId}/retract`, { reason });
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as { id: number; retractedAt: string | null };
}

async function stored(factId: number) {
  return t.ctx.db
    .selectFrom('person_facts')
    .select(['id', 'valid_from', 'valid_to', 'ended_by_fact_id', 'retracted_at'])
    .where('id', '=', factId)
    .executeTakeFirstOrThrow();
}

/** The facts in the person's file as of a date: [id, from, to, destination]. */
async function fileAsOf(personId: number, asOf: string) {
  const r = await call('county', `/persons/${personId}?asOf=${asOf}`, undefined, 'GET');
  assert.equal(r.statusCode, 200, r.body);
  return (
    r.json() as { facts: { id: number; from: string; to: string | null; data: { destination?: string } }[] }
  ).facts.map((f) => [f.id, f.from, f.to, f.data.destination ?? null]);
}

async function currentGroups(personId: number): Promise<string[]> {
  const r = await call('county', `/persons/${personId}`, undefined, 'GET');
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { groups: { code: string; until: string | null }[] }).groups
    .filter((g) => g.until === null)
    .map((g) => g.code);
}

async function retractAudit(factId: number) {
  const entries = await t.ctx.db
    .selectFrom('audit_log')
    .select('details')
    .where('action', '=', 'person.fact.retract')
    .execute();
  const entry = entries.find((e) => (e.details as { factId?: number }).factId === factId);
  assert.ok(entry, `an audit entry for the retraction of #${factId}`);
  return entry.details as Record<string, unknown>;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-reopen-'));
  t = await createTestApp({ dataDir: dir });
  tokens.county = await token('county', 'county_staff', '410225');
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('retracting a fact reopens the fact it ended', () => {
  test('广州 ended by a wrong 杭州: retracting 杭州 puts 广州 back, audited, and the child is left behind again', async () => {
    const f = await family();
    const guangzhou = await created(`/persons/${f.father}/facts`, migration('2023-01-01', '广东省广州市'));
    await created(`/persons/${f.mother}/facts`, migration('2023-01-01', '广东省广州市'));
    assert.ok((await currentGroups(f.child)).includes('left_behind_child'));

    const hangzhou = await created(`/persons/${f.father}/facts`, migration('2025-03-01', '浙江省杭州市'));
    assert.deepEqual(await stored(guangzhou), {
      id: guangzhou,
      valid_from: '2023-01-01',
      valid_to: '2025-03-01',
      ended_by_fact_id: hangzhou,
      retracted_at: null,
    });

    await retract(f.father, hangzhou, '录入错误：仍在广州');
    const back = await stored(guangzhou);
    assert.deepEqual([back.valid_to, back.ended_by_fact_id, back.retracted_at], [null, null, null]);
    for (const asOf of [today(), '2025-06-01'])
      assert.deepEqual(await fileAsOf(f.father, asOf), [[guangzhou, '2023-01-01', null, '广东省广州市']]);

    // The groups followed in the retraction's transaction: both parents away, the child left behind.
    assert.ok((await currentGroups(f.child)).includes('left_behind_child'));
    const periods = await t.ctx.db
      .selectFrom('group_memberships')
      .select(['since', 'until'])
      .where('person_id', '=', f.child)
      .where('group_code', '=', 'left_behind_child')
      .execute();
    assert.ok(
      periods.some((p) => p.until === null),
      JSON.stringify(periods),
    );

    const details = await retractAudit(hangzhou);
    assert.deepEqual(details.reopened, [
      { factId: guangzhou, from: '2023-01-01', previousTo: '2025-03-01', to: null },
    ]);
  });

  test('a chain A, B, C: retracting B reopens A until C (ended by C); retracting C then leaves A open', async () => {
    const f = await family();
    const a = await created(`/persons/${f.father}/facts`, migration('2022-01-01', '北京市'));
    const b = await created(`/persons/${f.father}/facts`, migration('2023-05-01', '上海市'));
    const c = await created(`/persons/${f.father}/facts`, migration('2024-09-01', '天津市'));
    assert.equal((await stored(a)).ended_by_fact_id, b);
    assert.equal((await stored(b)).ended_by_fact_id, c);

    await retract(f.father, b);
    const afterB = await stored(a);
    assert.deepEqual([afterB.valid_to, afterB.ended_by_fact_id], ['2024-09-01', c]);
    assert.deepEqual(await fileAsOf(f.father, '2024-01-01'), [[a, '2022-01-01', '2024-09-01', '北京市']]);
    assert.deepEqual((await retractAudit(b)).reopened, [
      { factId: a, from: '2022-01-01', previousTo: '2023-05-01', to: '2024-09-01' },
    ]);

    await retract(f.father, c);
    const afterC = await stored(a);
    assert.deepEqual([afterC.valid_to, afterC.ended_by_fact_id], [null, null]);
    assert.deepEqual(await fileAsOf(f.father, today()), [[a, '2022-01-01', null, '北京市']]);
    assert.deepEqual((await retractAudit(c)).reopened, [
      { factId: a, from: '2022-01-01', previousTo: '2024-09-01', to: null },
    ]);
  });

  test('an end a clerk stated stays when the next fact is retracted', async () => {
    const f = await family();
    const a = await created(`/persons/${f.father}/facts`, migration('2022-01-01', '北京市'));
    const end = await call('county', `/persons/${f.father}/facts/${a}/end`, { to: '2024-01-01' });
    assert.equal(end.statusCode, 200, end.body);
    // The next migration begins on the day the first one ended: it ends nothing.
    const b = await created(`/persons/${f.father}/facts`, migration('2024-01-01', '上海市'));
    assert.deepEqual([(await stored(a)).valid_to, (await stored(a)).ended_by_fact_id], ['2024-01-01', null]);
    await retract(f.father, b);
    const after = await stored(a);
    assert.deepEqual([after.valid_to, after.ended_by_fact_id], ['2024-01-01', null]);
    assert.equal((await retractAudit(b)).reopened, undefined);
    assert.deepEqual(await fileAsOf(f.father, '2025-01-01'), []);
  });

  test('a fact that ended nothing, or whose earlier fact was itself retracted, reopens nothing', async () => {
    const f = await family();
    const alone = await created(`/persons/${f.mother}/facts`, migration('2024-01-01', '苏州市'));
    await retract(f.mother, alone);
    assert.equal((await retractAudit(alone)).reopened, undefined);

    const a = await created(`/persons/${f.father}/facts`, migration('2022-01-01', '北京市'));
    const b = await created(`/persons/${f.father}/facts`, migration('2023-05-01', '上海市'));
    await retract(f.father, a);
    await retract(f.father, b);
    const after = await stored(a);
    assert.equal(after.valid_to, '2023-05-01');
    assert.notEqual(after.retracted_at, null);
    assert.equal((await retractAudit(b)).reopened, undefined);
    assert.deepEqual(await fileAsOf(f.father, '2024-01-01'), []);
  });
});

describe('the migration', () => {
  test('takes the links of facts recorded before it from the audit trail, and only those', async () => {
    const f = await family();
    const a = await created(`/persons/${f.father}/facts`, migration('2022-01-01', '北京市'));
    const b = await created(`/persons/${f.father}/facts`, migration('2023-05-01', '上海市'));
    const c = await created(`/persons/${f.mother}/facts`, migration('2022-01-01', '北京市'));
    const end = await call('county', `/persons/${f.mother}/facts/${c}/end`, { to: '2023-05-01' });
    assert.equal(end.statusCode, 200, end.body);
    const d = await created(`/persons/${f.mother}/facts`, migration('2023-05-01', '上海市'));
    // As the rows were before the column: no link.
    await sql`UPDATE person_facts SET ended_by_fact_id = NULL WHERE id IN (${a}, ${b}, ${c}, ${d})`.execute(
      t.ctx.db,
    );
    const script = fs.readFileSync(
      path.resolve(import.meta.dirname, '../../../migrations/0240_registry_fact_ended_by.sql'),
      'utf8',
    );
    const backfill = script.slice(script.indexOf('UPDATE person_facts'));
    assert.match(backfill, /^UPDATE person_facts f SET ended_by_fact_id/);
    await sql.raw(backfill).execute(t.ctx.db);
    assert.equal((await stored(a)).ended_by_fact_id, b);
    // The mother's first migration was ended by a clerk, not by the next one.
    assert.equal((await stored(c)).ended_by_fact_id, null);
    await retract(f.father, b);
    assert.deepEqual([(await stored(a)).valid_to, (await stored(a)).ended_by_fact_id], [null, null]);
  });
});

describe('the registry-template import keeps the link', () => {
  let files = 0;
  async function runImport(rows: Record<string, string>[]) {
    const body = multipartFile(`reopen-${++files}.csv`, Buffer.from('\uFEFF' + templateCsv(rows)));
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports',
      headers: { 'content-type': body.contentType, authorization: `Bearer ${tokens.county}` },
      payload: body.payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    await t.ctx.jobs.drain();
    const view = await call('county', `/imports/${(r.json() as { id: number }).id}`, undefined, 'GET');
    const result = view.json() as { status: string; counts: { errors: number } };
    assert.equal(result.status, 'succeeded', view.body);
    assert.equal(result.counts.errors, 0, view.body);
  }

  const ID = makeIdNumber('410225', '1985-04-04', 915);
  const row = (extra: Record<string, string>) => ({
    户编号: 'REOPEN-IMPORT',
    姓名: '孙外出',
    公民身份号码: ID,
    与户主关系: '户主',
    户籍地代码: V1,
    ...extra,
  });
  const factsOf = async () => {
    const person = await t.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('id_number', '=', ID)
      .executeTakeFirstOrThrow();
    const facts = await t.ctx.db
      .selectFrom('person_facts')
      .select(['id', 'valid_from', 'valid_to', 'ended_by_fact_id', 'retracted_at', 'data'])
      .where('person_id', '=', person.id)
      .where('kind', '=', 'migration')
      .orderBy('id')
      .execute();
    return { personId: person.id, facts };
  };

  test('a new destination ends the old one by the new fact; retracting it over the API reopens the old one', async () => {
    await runImport([row({ 外出务工: '是', 外出务工地: '广东省广州市', 外出开始日期: '2023-01-01' })]);
    await runImport([row({ 外出务工: '是', 外出务工地: '浙江省杭州市', 外出开始日期: '2025-03-01' })]);
    const { personId, facts } = await factsOf();
    assert.equal(facts.length, 2, JSON.stringify(facts));
    const [old, wrong] = facts as [(typeof facts)[number], (typeof facts)[number]];
    assert.deepEqual(
      [old.valid_to, old.ended_by_fact_id, wrong.valid_from, wrong.valid_to],
      ['2025-03-01', wrong.id, '2025-03-01', null],
    );

    await retract(personId, wrong.id, '导入文件有误');
    const [reopened] = (await factsOf()).facts;
    assert.deepEqual([reopened?.id, reopened?.valid_to, reopened?.ended_by_fact_id], [old.id, null, null]);
    assert.deepEqual(await fileAsOf(personId, today()), [[old.id, '2023-01-01', null, '广东省广州市']]);
    assert.deepEqual((await retractAudit(wrong.id)).reopened, [
      { factId: old.id, from: '2023-01-01', previousTo: '2025-03-01', to: null },
    ]);
  });

  test('an end the file states (外出务工=否) is no new fact: nothing to reopen', async () => {
    await runImport([row({ 外出务工: '否' })]);
    const { facts } = await factsOf();
    const open = facts.find(
      (f) => f.retracted_at === null && (f.data as { destination?: string }).destination === '广东省广州市',
    );
    assert.ok(open);
    assert.equal(open.valid_to, today());
    assert.equal(open.ended_by_fact_id, null);
  });
});
