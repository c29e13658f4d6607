// Ending a fact: POST /persons/{id}/facts/{factId}/end sets the end of an open period, validated
// (after the start, a real date; field errors in zh and en), scoped (another village gets 404),
// audited, refused with 409 when the fact is no longer open, and it re-evaluates the care groups
// (the mother back home: the child is no longer left behind). Runs on PGlite, or PostgreSQL with
// TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, type Role } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const V2 = '410225101201'; // 堌阳镇 任庄村

let t: TestApp;
const tokens: Record<string, string> = {};
const ids = { father: 0, mother: 0, child: 0, fatherFact: 0, motherFact: 0 };

function call(who: string, url: string, payload?: unknown, lang = 'zh', method: 'GET' | 'POST' = 'POST') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(who: string, url: string, payload: unknown): Promise<number> {
  const r = await call(who, url, payload);
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function token(name: string, role: Role, regionCode: string): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode })).token;
}

async function childGroups(): Promise<string[]> {
  const r = await call('county', `/persons/${ids.child}`, undefined, 'zh', 'GET');
  assert.equal(r.statusCode, 200, r.body);
  const groups = (r.json() as { groups: { code: string; until: string | null }[] }).groups;
  return groups.filter((g) => g.until === null).map((g) => g.code);
}

before(async () => {
  t = await createTestApp();
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.v1 = await token('v1', 'village_child_director', V1);
  tokens.v2 = await token('v2', 'village_child_director', V2);
  const household = await created('county', '/households', { householdNo: 'END-1', hukouRegionCode: V1 });
  const person = (name: string, idNumber: string, relationToHead: string) =>
    created('county', '/persons', {
      name,
      idNumber,
      hukouRegionCode: V1,
      householdId: household,
      relationToHead,
    });
  ids.father = await person('赵父', makeIdNumber('410225', '1984-01-05', 711), '户主');
  ids.mother = await person('赵母', makeIdNumber('410225', '1986-02-06', 722), '配偶');
  ids.child = await person('赵小妹', makeIdNumber('410225', '2017-03-07', 732), '女');
  for (const parent of [ids.father, ids.mother])
    await created('county', `/persons/${ids.child}/relations`, { relatedPersonId: parent, kind: 'parent' });
  const migration = { kind: 'migration', from: '2025-01-01', data: { destination: '浙江省杭州市' } };
  ids.fatherFact = await created('county', `/persons/${ids.father}/facts`, migration);
  ids.motherFact = await created('county', `/persons/${ids.mother}/facts`, migration);
});

after(async () => t.close());

describe('ending a fact', () => {
  test('both parents away: the child is left behind', async () => {
    assert.ok((await childGroups()).includes('left_behind_child'));
  });

  test('an end on or before the start, or not a date, is a field error in zh and en; nothing changes', async () => {
    const url = `/persons/${ids.mother}/facts/${ids.motherFact}/end`;
    const same = await call('v1', url, { to: '2025-01-01' });
    assert.equal(same.statusCode, 400, same.body);
    const detail = (same.json() as { error: { details: { path: string; message: string }[] } }).error
      .details[0]!;
    assert.equal(detail.path, 'to');
    assert.match(detail.message, /结束日期必须晚于开始日期 2025-01-01/);
    const before = await call('v1', url, { to: '2024-12-31' }, 'en');
    assert.equal(before.statusCode, 400);
    assert.match(before.body, /the end must be after the start 2025-01-01/);
    const notADate = await call('v1', url, { to: '2026-02-30' });
    assert.equal(notADate.statusCode, 400, notADate.body);
    assert.match(notADate.body, /"path":"\/?to"/);
    const missing = await call('v1', url, {});
    assert.equal(missing.statusCode, 400);
    const fact = await t.ctx.db
      .selectFrom('person_facts')
      .selectAll()
      .where('id', '=', ids.motherFact)
      .executeTakeFirstOrThrow();
    assert.equal(fact.valid_to, null);
  });

  test('a director of another village gets 404; an unknown fact 404', async () => {
    assert.equal(
      (await call('v2', `/persons/${ids.mother}/facts/${ids.motherFact}/end`, { to: '2026-10-01' }))
        .statusCode,
      404,
    );
    assert.equal(
      (await call('v1', `/persons/${ids.mother}/facts/999999/end`, { to: '2026-10-01' })).statusCode,
      404,
    );
    // The fact belongs to the mother: named under another person it is not found.
    assert.equal(
      (await call('v1', `/persons/${ids.father}/facts/${ids.motherFact}/end`, { to: '2026-10-01' }))
        .statusCode,
      404,
    );
  });

  test('the mother came back on 2026-10-01: the period ends, audited, and the child is no longer left behind', async () => {
    const r = await call('v1', `/persons/${ids.mother}/facts/${ids.motherFact}/end`, { to: '2026-10-01' });
    assert.equal(r.statusCode, 200, r.body);
    const view = r.json() as { id: number; from: string; to: string; retractedAt: string | null };
    assert.deepEqual(
      [view.id, view.from, view.to, view.retractedAt],
      [ids.motherFact, '2025-01-01', '2026-10-01', null],
    );

    // "As of D" has one answer: away on 2026-09-30, home on 2026-10-01.
    const file = (await call('county', `/persons/${ids.mother}`, undefined, 'zh', 'GET')).json() as {
      facts: { id: number; from: string; to: string | null }[];
    };
    assert.deepEqual(
      file.facts.map((f) => [f.id, f.from, f.to]),
      [[ids.motherFact, '2025-01-01', '2026-10-01']],
    );

    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'person.fact.end')
      .executeTakeFirstOrThrow();
    assert.equal(entry.entity_id, String(ids.mother));
    assert.deepEqual(
      { ...(entry.details as Record<string, unknown>) },
      { factId: ids.motherFact, kind: 'migration', from: '2025-01-01', previousTo: null, to: '2026-10-01' },
    );

    assert.ok(!(await childGroups()).includes('left_behind_child'));
    const period = await t.ctx.db
      .selectFrom('group_memberships')
      .selectAll()
      .where('person_id', '=', ids.child)
      .where('group_code', '=', 'left_behind_child')
      .executeTakeFirstOrThrow();
    // The period ends on the day she came back, not on the day that was recorded.
    assert.equal(period.until, '2026-10-01');
    const left = await t.ctx.db
      .selectFrom('worklist_items')
      .selectAll()
      .where('person_id', '=', ids.child)
      .where('kind', '=', 'group_left')
      .execute();
    assert.equal(left.length, 1);
  });

  test('a fact already ended, or retracted, is no longer open: 409', async () => {
    const again = await call('v1', `/persons/${ids.mother}/facts/${ids.motherFact}/end`, {
      to: '2026-11-01',
    });
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.body, /2026-10-01/);
    const retracted = await call('county', `/persons/${ids.father}/facts/${ids.fatherFact}/retract`, {});
    assert.equal(retracted.statusCode, 200);
    const end = await call(
      'v1',
      `/persons/${ids.father}/facts/${ids.fatherFact}/end`,
      { to: '2026-10-01' },
      'en',
    );
    assert.equal(end.statusCode, 409);
    assert.match(end.body, /retracted/);
  });
});
