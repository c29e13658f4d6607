// The audit trail, session 20 review (tester-access finding 2): an id of another region, or one that
// does not exist, named in a request BODY (relatedPersonId, headPersonId, householdId, intoId) was
// refused with 400 and no audit entry, where the same id in the path answers 404 and is audited as
// `access.not_found` (DECISIONS.md "A 404 on a route is audited"). A walk through ids in bodies now
// leaves the same trace: one entry per refusal naming the field and the id, written although the
// refused write rolls back, and the answer is unchanged (it tells nothing of the record asked for).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { apiCall, lastAuditId, signedInClients, type ApiMethod, type Client } from './support/access.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村: the director's village
const T1 = '410225101'; // 堌阳镇
const V3 = '410225102200'; // a village of another township of the county
const COUNTY = '410225';
/** An id no record has. */
const MISSING = 987_654_321;

type Who = 'director' | 'township' | 'county';

let t: TestApp;
let clients: Record<Who, Client>;

function call(who: Who, method: ApiMethod, url: string, payload?: unknown) {
  return apiCall(t.app, clients[who], method, url, payload);
}

let serial = 0;
async function person(village: string, extra: Record<string, unknown> = {}) {
  serial += 1;
  const r = await call('county', 'POST', '/persons', {
    name: `审计${serial}`,
    idNumber: makeIdNumber('410225', '1980-03-04', 100 + serial),
    hukouRegionCode: village,
    ...extra,
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: number; version: number };
}

async function household(householdNo: string, village: string) {
  const r = await call('county', 'POST', '/households', { householdNo, hukouRegionCode: village });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: number; version: number };
}

async function entriesAfter(id: number) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['action', 'actor_username', 'entity_type', 'entity_id', 'region_code', 'result', 'details'])
    .where('id', '>', id)
    .orderBy('id')
    .execute();
}

interface ErrorBody {
  error: { code: string; message: string; details: { path: string; message: string }[] };
}

/** What the caller learns from the answer: the status, the code and the field with its message. */
function answer(r: { statusCode: number; body: string }) {
  const { error } = JSON.parse(r.body) as ErrorBody;
  return { status: r.statusCode, code: error.code, details: error.details };
}

let own: { id: number; version: number };
let ownTwin: { id: number; version: number };
let ownHousehold: { id: number; version: number };
let foreign: { id: number; version: number };
let foreignHousehold: { id: number; version: number };

before(async () => {
  t = await createTestApp();
  clients = await signedInClients(t, {
    director: ['ar20.director', 'village_child_director', V1],
    township: ['ar20.township', 'township_staff', T1],
    county: ['ar20.county', 'county_staff', COUNTY],
  });
  ownHousehold = await household('AR20-1', V1);
  own = await person(V1);
  ownTwin = await person(V1);
  foreignHousehold = await household('AR20-2', V3);
  foreign = await person(V3, { householdId: foreignHousehold.id });
});
after(async () => {
  await t.close();
});

interface Case {
  name: string;
  who: Who;
  field: string;
  entityType: 'person' | 'household';
  /** What the entry says of the write refused: its action and the record in the path. */
  refused: () => Record<string, unknown>;
  request: (id: number) => Promise<{ statusCode: number; body: string }>;
  foreignId: () => number;
}

const cases: Case[] = [
  {
    name: 'relatedPersonId on POST /persons/{id}/relations',
    who: 'director',
    field: 'relatedPersonId',
    entityType: 'person',
    refused: () => ({ action: 'person.relation.add', personId: own.id }),
    request: (id) =>
      call('director', 'POST', `/persons/${own.id}/relations`, { relatedPersonId: id, kind: 'carer' }),
    foreignId: () => foreign.id,
  },
  {
    name: 'headPersonId on POST /households',
    who: 'director',
    field: 'headPersonId',
    entityType: 'person',
    refused: () => ({ action: 'household.create' }),
    request: (id) =>
      call('director', 'POST', '/households', {
        householdNo: `AR20-H${id}`,
        hukouRegionCode: V1,
        headPersonId: id,
      }),
    foreignId: () => foreign.id,
  },
  {
    name: 'headPersonId on PATCH /households/{id}',
    who: 'director',
    field: 'headPersonId',
    entityType: 'person',
    refused: () => ({ action: 'household.update', householdId: ownHousehold.id }),
    request: (id) =>
      call('director', 'PATCH', `/households/${ownHousehold.id}`, {
        version: ownHousehold.version,
        headPersonId: id,
      }),
    foreignId: () => foreign.id,
  },
  {
    name: 'householdId on POST /persons',
    who: 'director',
    field: 'householdId',
    entityType: 'household',
    refused: () => ({ action: 'person.create' }),
    request: (id) =>
      call('director', 'POST', '/persons', {
        name: '审计乙',
        idNumber: makeIdNumber('410225', '2015-06-07', 900 + (id % 50)),
        hukouRegionCode: V1,
        householdId: id,
      }),
    foreignId: () => foreignHousehold.id,
  },
  {
    name: 'householdId on PATCH /persons/{id}',
    who: 'director',
    field: 'householdId',
    entityType: 'household',
    refused: () => ({ action: 'person.update', personId: own.id }),
    request: (id) =>
      call('director', 'PATCH', `/persons/${own.id}`, { version: own.version, householdId: id }),
    foreignId: () => foreignHousehold.id,
  },
  {
    // A village director may not merge: the township's staff of the director's township may.
    name: 'intoId on POST /persons/{id}/merge',
    who: 'township',
    field: 'intoId',
    entityType: 'person',
    refused: () => ({ action: 'person.merge', personId: ownTwin.id }),
    request: (id) =>
      call('township', 'POST', `/persons/${ownTwin.id}/merge`, { intoId: id, version: ownTwin.version }),
    foreignId: () => foreign.id,
  },
];

describe('an id of another region named in a request body', () => {
  for (const c of cases)
    test(`${c.name}: 400 as before, one access.not_found entry naming the field and the id`, async () => {
      const before = await lastAuditId(t.ctx);
      const r = await c.request(c.foreignId());
      const refused = answer(r);
      assert.equal(refused.status, 400, r.body);
      assert.equal(refused.code, 'VALIDATION_FAILED');
      assert.deepEqual(
        refused.details.map((d) => d.path),
        [c.field],
      );
      assert.match(
        refused.details[0]?.message ?? '',
        c.entityType === 'person' ? /未找到该人员/ : /未找到该户/,
      );

      const entries = await entriesAfter(before);
      assert.deepEqual(
        entries.map((e) => e.action),
        ['access.not_found'],
        JSON.stringify(entries),
      );
      const [entry] = entries;
      assert.equal(entry?.result, 'denied');
      assert.equal(entry?.entity_type, c.entityType);
      assert.equal(entry?.entity_id, String(c.foreignId()));
      // The record's region is not written: the entry tells the auditor what was asked, not where
      // the record is, as the path's 404 entry.
      assert.equal(entry?.region_code, null);
      assert.deepEqual(entry?.details, { field: c.field, id: c.foreignId(), ...c.refused() });
      assert.equal(entry?.actor_username, c.who === 'township' ? 'ar20.township' : 'ar20.director');
    });

  for (const c of cases)
    test(`${c.name}: an id that does not exist answers the same and is audited the same`, async () => {
      const outside = answer(await c.request(c.foreignId()));
      const before = await lastAuditId(t.ctx);
      const missing = answer(await c.request(MISSING));
      assert.deepEqual(missing, outside);
      const entries = await entriesAfter(before);
      assert.deepEqual(
        entries.map((e) => [e.action, e.entity_type, e.entity_id, (e.details as { field: string }).field]),
        [['access.not_found', c.entityType, String(MISSING), c.field]],
      );
    });

  test('the refused writes wrote nothing: no household, no person, no link, no merge', async () => {
    const households = await t.ctx.db
      .selectFrom('households')
      .select('household_no')
      .where('household_no', 'like', 'AR20-H%')
      .execute();
    assert.deepEqual(households, []);
    const persons = await t.ctx.db.selectFrom('persons').select('id').where('name', '=', '审计乙').execute();
    assert.deepEqual(persons, []);
    const links = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where('person_id', '=', own.id)
      .execute();
    assert.deepEqual(links, []);
    const rows = await t.ctx.db
      .selectFrom('persons')
      .select(['id', 'household_id', 'merged_into'])
      .where('id', 'in', [own.id, ownTwin.id])
      .orderBy('id')
      .execute();
    assert.deepEqual(rows, [
      { id: own.id, household_id: null, merged_into: null },
      { id: ownTwin.id, household_id: null, merged_into: null },
    ]);
    const head = await t.ctx.db
      .selectFrom('households')
      .select('head_person_id')
      .where('id', '=', ownHousehold.id)
      .executeTakeFirstOrThrow();
    assert.equal(head.head_person_id, null);
  });

  test('a body refused for another reason writes no access.not_found entry', async () => {
    // The director's own villager as the related person of himself: refused for another reason.
    const before = await lastAuditId(t.ctx);
    const r = await call('director', 'POST', `/persons/${own.id}/relations`, {
      relatedPersonId: own.id,
      kind: 'carer',
    });
    assert.equal(r.statusCode, 400, r.body);
    const entries = await entriesAfter(before);
    assert.deepEqual(
      entries.filter((e) => e.action === 'access.not_found'),
      [],
    );
  });
});
