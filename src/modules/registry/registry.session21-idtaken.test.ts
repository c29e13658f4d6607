// Session 21, attacks on access (findings-access F1): POST/PATCH /persons refused because the ID
// number is registered to another person told a caller who may not reveal ID numbers which person
// holds it (#id), unaudited: with the mask leaving about 500 candidates, a village director confirmed
// any masked person's full number in seconds. Now every such refusal is audited (the holder when in
// the caller's region, never the number), the holder is named only to a caller who may reveal, and
// after ID_TAKEN_LIMIT refusals within an hour no ID number is written for the caller (429, audited).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, type Role } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { ID_TAKEN_LIMIT } from './registry.service.ts';

const V1 = '410225101200'; // the director's village
const V3 = '410225102200'; // a village of another township of the county

let t: TestApp;
const tokens: Record<string, { token: string; id: number }> = {};

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

async function token(name: string, role: Role, regionCode: string) {
  const created = await createToken(t.ctx, null, { name, role, regionCode, individualAccess: false });
  return { token: created.token, id: created.item.id };
}

function call(who: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]!.token}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function person(
  body: Record<string, unknown>,
  who = 'county',
): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', '/persons', body);
  assert.equal(r.statusCode, 201, r.body);
  return r.json();
}

/** The audit entries of one action written by one token, oldest first. */
async function entries(action: string, who: string) {
  return t.ctx.db
    .selectFrom('audit_log')
    .selectAll()
    .where('action', '=', action)
    .where('actor_token_id', '=', tokens[who]!.id)
    .orderBy('id')
    .execute();
}

before(async () => {
  t = await createTestApp();
  tokens.county = await token('s21-county', 'county_staff', '410225');
  tokens.director = await token('s21-director', 'village_child_director', V1);
  tokens.otherDirector = await token('s21-other-director', 'village_child_director', V3);
  tokens.prober = await token('s21-prober', 'village_child_director', V1);
});

after(async () => t.close());

describe('an ID number registered to another person (POST and PATCH /persons)', () => {
  test('a caller who may not reveal is not told who holds it, and every refusal is audited without the number', async () => {
    const id = makeIdNumber('410225', '1991-05-13', 1);
    const holder = await person({ name: '武某', idNumber: id, hukouRegionCode: V1 });

    // The director (no persons.reveal) tries the holder's number for a new person of his village.
    const refused = await call('director', 'POST', '/persons', {
      name: '测试乙',
      idNumber: id,
      hukouRegionCode: V1,
    });
    assert.equal(refused.statusCode, 409, refused.body);
    const body = refused.json() as ErrorBody;
    assert.equal(body.error.code, 'CONFLICT');
    assert.equal(body.error.details?.[0]?.path, 'idNumber');
    assert.doesNotMatch(body.error.message, new RegExp(`#${holder.id}`));
    assert.match(body.error.message, /已登记为另一人员/);
    assert.match(body.error.message, /按完整公民身份号码查找/);
    const en = await call(
      'director',
      'POST',
      '/persons',
      { name: 'x', idNumber: id, hukouRegionCode: V1 },
      'en',
    );
    assert.match((en.json() as ErrorBody).error.message, /already registered.*full ID number/);
    assert.doesNotMatch((en.json() as ErrorBody).error.message, new RegExp(`#${holder.id}`));

    // By PATCH on a person of his own: the same answer.
    const own = await person(
      { name: '本村人', noIdReason: '未登记', sex: 1, birthDate: '1991-05-13', hukouRegionCode: V1 },
      'director',
    );
    const patched = await call('director', 'PATCH', `/persons/${own.id}`, {
      version: own.version,
      idNumber: id,
      noIdReason: null,
    });
    assert.equal(patched.statusCode, 409, patched.body);
    assert.doesNotMatch((patched.json() as ErrorBody).error.message, new RegExp(`#${holder.id}`));

    // Each of the three refusals is on record: who, which person's number (in his region), never the number.
    const audited = await entries('person.id_number_taken', 'director');
    assert.equal(audited.length, 3);
    for (const entry of audited) {
      assert.equal(entry.result, 'denied');
      assert.equal(entry.actor_kind, 'token');
      assert.equal(entry.entity_type, 'person');
      assert.equal(entry.entity_id, String(holder.id));
      assert.equal(entry.region_code, V1);
      assert.equal((entry.details as { holder: string }).holder, 'inScope');
      assert.ok(!JSON.stringify(entry.details).includes(id.slice(6)), 'the number is not in the entry');
    }
    assert.deepEqual(
      audited.map((e) => (e.details as { action: string; personId?: number }).action),
      ['person.create', 'person.create', 'person.update'],
    );
    assert.equal((audited[2]!.details as { personId?: number }).personId, own.id);
    // Nothing was written: the holder keeps the number, the own person has none.
    const row = await t.ctx.db
      .selectFrom('persons')
      .select('id_number')
      .where('id', '=', own.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.id_number, null);
  });

  test('a caller who may reveal is still told the holder; a holder outside the region is audited as such', async () => {
    const id = makeIdNumber('410225', '1988-03-03', 2);
    const holder = await person({ name: '李某', idNumber: id, hukouRegionCode: V1 });

    const county = await call('county', 'POST', '/persons', {
      name: '重复',
      idNumber: id,
      hukouRegionCode: V1,
    });
    assert.equal(county.statusCode, 409, county.body);
    assert.match((county.json() as ErrorBody).error.message, new RegExp(`#${holder.id}.*请先查找该人员`));
    const [countyEntry] = await entries('person.id_number_taken', 'county');
    assert.equal(countyEntry?.entity_id, String(holder.id));

    // Another township's director: the holder is outside his region; the entry says so and names nobody.
    const other = await call('otherDirector', 'POST', '/persons', {
      name: '外地',
      idNumber: id,
      hukouRegionCode: V3,
    });
    assert.equal(other.statusCode, 409, other.body);
    assert.match((other.json() as ErrorBody).error.message, /已在您管辖范围以外的地区登记/);
    const [otherEntry] = await entries('person.id_number_taken', 'otherDirector');
    assert.ok(otherEntry, 'the refusal outside the region is audited');
    assert.equal(otherEntry.entity_id, null);
    assert.equal(otherEntry.region_code, V3);
    assert.equal((otherEntry.details as { holder: string }).holder, 'outOfScope');
  });

  test(`after ${ID_TAKEN_LIMIT} refusals within the hour no ID number is written for the caller (429, audited), whatever the number`, async () => {
    const taken = makeIdNumber('410225', '2015-06-06', 3);
    await person({ name: '被试', idNumber: taken, hukouRegionCode: V1 });
    for (let i = 0; i < ID_TAKEN_LIMIT; i++) {
      const r = await call('prober', 'POST', '/persons', {
        name: `试${i}`,
        idNumber: taken,
        hukouRegionCode: V1,
      });
      assert.equal(r.statusCode, 409, `try ${i}: ${r.body}`);
    }
    // The next try is refused before the number is looked at: taken or free, the same 429.
    for (const idNumber of [taken, makeIdNumber('410225', '2015-06-06', 5)]) {
      const r = await call('prober', 'POST', '/persons', { name: '再试', idNumber, hukouRegionCode: V1 });
      assert.equal(r.statusCode, 429, r.body);
      const body = r.json() as ErrorBody;
      assert.equal(body.error.code, 'RATE_LIMITED');
      assert.equal(body.error.details?.[0]?.path, 'idNumber');
      assert.match(body.error.message, /公民身份号码/);
    }
    const free = await t.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('id_number', '=', makeIdNumber('410225', '2015-06-06', 5))
      .execute();
    assert.equal(free.length, 0, 'nothing was written');
    assert.equal((await entries('person.id_number_taken', 'prober')).length, ID_TAKEN_LIMIT);
    const limited = await entries('person.id_number_taken.limited', 'prober');
    assert.equal(limited.length, 2);
    assert.equal(limited[0]?.result, 'denied');
    // A person without an ID number is still registered, and other callers are not held back.
    await person(
      { name: '无号', noIdReason: '未登记', sex: 2, birthDate: '2015-06-06', hukouRegionCode: V1 },
      'prober',
    );
    await person(
      { name: '他人', idNumber: makeIdNumber('410225', '2015-06-06', 7), hukouRegionCode: V1 },
      'director',
    );
  });
});
