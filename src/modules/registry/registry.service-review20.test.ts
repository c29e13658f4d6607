// Session 20 review of the registry's writes:
// - a person's edit that changes a household's head (户主 given, the head moved to another household)
//   and a merge that hands a household's head on wrote no `household.update` entry: the household's
//   trail missed the change, which a head changed on the household itself records (from, to);
// - migration 0260 releases the ID numbers that merged records still hold (written there before
//   session 19), exactly as releaseMergedIdNumber releases one when the number is written again.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { lastAuditId } from '../../../test/support/access.ts';
import { createToken } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { releaseMergedIdNumber } from './registry.repository.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const MIGRATION = path.join(
  import.meta.dirname,
  '../../../migrations/0260_registry_merged_records_release_id_numbers.sql',
);

let t: TestApp;
let county: string;

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${county}` },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

let serial = 0;
async function person(extra: Record<string, unknown> = {}): Promise<{ id: number; version: number }> {
  serial += 1;
  const r = await call('POST', '/persons', {
    name: `户主审计${serial}`,
    idNumber: makeIdNumber('410225', '1970-01-02', 200 + serial),
    hukouRegionCode: V1,
    ...extra,
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: number; version: number };
}

/** A person without an ID number: two such records of one person may be merged. */
async function unnumbered(name: string, extra: Record<string, unknown> = {}) {
  return person({ name, idNumber: null, noIdReason: '未登记', sex: 1, birthDate: '1948-08-08', ...extra });
}

async function household(householdNo: string): Promise<number> {
  const r = await call('POST', '/households', { householdNo, hukouRegionCode: V1 });
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function personRow(id: number) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function headOf(id: number): Promise<number | null> {
  return (
    await t.ctx.db
      .selectFrom('households')
      .select('head_person_id')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).head_person_id;
}

async function entriesAfter(id: number, action: string) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['entity_type', 'entity_id', 'region_code', 'details'])
    .where('id', '>', id)
    .where('action', '=', action)
    .orderBy('id')
    .execute();
}

before(async () => {
  t = await createTestApp();
  county = (
    await createToken(t.ctx, null, {
      name: 'sr20-county',
      role: 'county_staff',
      regionCode: '410225',
      individualAccess: false,
    })
  ).token;
});
after(async () => {
  await t?.close();
});

describe('a household whose head a person’s edit or a merge changes is audited as household.update', () => {
  test('PATCH relationToHead 户主 on a household without a head: the household’s entry names the head from and to', async () => {
    const h = await household('SR20-1');
    const p = await person({ householdId: h, relationToHead: '子' });
    assert.equal(await headOf(h), null);
    const before = await lastAuditId(t.ctx);
    const r = await call('PATCH', `/persons/${p.id}`, { version: p.version, relationToHead: '户主' });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(await headOf(h), p.id);
    const entries = await entriesAfter(before, 'household.update');
    assert.deepEqual(entries, [
      {
        entity_type: 'household',
        entity_id: String(h),
        region_code: V1,
        details: {
          fields: ['headPersonId'],
          headPersonId: { from: null, to: p.id },
          by: 'person.update',
          personId: p.id,
        },
      },
    ]);
    // An edit that leaves the head as it is writes no household entry.
    const again = await call('PATCH', `/persons/${p.id}`, {
      version: (r.json() as { version: number }).version,
      name: '户主审计改名',
    });
    assert.equal(again.statusCode, 200, again.body);
    assert.equal((await entriesAfter(before, 'household.update')).length, 1);
  });

  test('the head moved to another household as its 户主: one entry for each household, the one left and the one headed', async () => {
    const left = await household('SR20-2');
    const joined = await household('SR20-3');
    const head = await person({ householdId: left, relationToHead: '户主' });
    assert.equal(await headOf(left), head.id);
    const before = await lastAuditId(t.ctx);
    const r = await call('PATCH', `/persons/${head.id}`, {
      version: (await personRow(head.id)).version,
      householdId: joined,
      relationToHead: '户主',
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(await headOf(left), null);
    assert.equal(await headOf(joined), head.id);
    const entries = await entriesAfter(before, 'household.update');
    assert.deepEqual(
      entries.map((e) => [e.entity_id, (e.details as { headPersonId: unknown }).headPersonId]),
      [
        [String(left), { from: head.id, to: null }],
        [String(joined), { from: null, to: head.id }],
      ],
    );
    // The person's own entry is still there, with the move.
    const [own] = await entriesAfter(before, 'person.update');
    assert.deepEqual((own?.details as { householdId: unknown }).householdId, { from: left, to: joined });
  });

  test('the head moved out of the household with no household: the household left is audited', async () => {
    const left = await household('SR20-4');
    const head = await person({ householdId: left, relationToHead: '户主' });
    const before = await lastAuditId(t.ctx);
    const r = await call('PATCH', `/persons/${head.id}`, {
      version: (await personRow(head.id)).version,
      householdId: null,
      relationToHead: null,
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(await headOf(left), null);
    const entries = await entriesAfter(before, 'household.update');
    assert.deepEqual(
      entries.map((e) => [e.entity_id, e.details]),
      [
        [
          String(left),
          {
            fields: ['headPersonId'],
            headPersonId: { from: head.id, to: null },
            by: 'person.update',
            personId: head.id,
          },
        ],
      ],
    );
  });

  test('a merge that hands the household’s head on to the person kept: the household’s entry says so', async () => {
    const h = await household('SR20-5');
    const dup = await unnumbered('合并户主', { householdId: h, relationToHead: '户主' });
    const kept = await unnumbered('合并户主');
    assert.equal(await headOf(h), dup.id);
    const before = await lastAuditId(t.ctx);
    const r = await call('POST', `/persons/${dup.id}/merge`, {
      intoId: kept.id,
      version: (await personRow(dup.id)).version,
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(await headOf(h), kept.id);
    const entries = await entriesAfter(before, 'household.update');
    assert.deepEqual(
      entries.map((e) => [e.entity_id, e.region_code, e.details]),
      [
        [
          String(h),
          V1,
          {
            fields: ['headPersonId'],
            headPersonId: { from: dup.id, to: kept.id },
            by: 'person.merge',
            personId: dup.id,
          },
        ],
      ],
    );
  });

  test('a new member who is 户主 of a household without a head: person.create names the household headed', async () => {
    const h = await household('SR20-6');
    const before = await lastAuditId(t.ctx);
    const p = await person({ householdId: h, relationToHead: '户主' });
    assert.equal(await headOf(h), p.id);
    const [created] = await entriesAfter(before, 'person.create');
    assert.deepEqual(created?.details, {
      headOf: { householdId: h, headPersonId: { from: null, to: p.id } },
    });
    // A member who is not the head: nothing of the kind.
    const member = await person({ householdId: h, relationToHead: '子' });
    const entries = await entriesAfter(before, 'person.create');
    assert.equal(entries[1]?.entity_id, String(member.id));
    assert.deepEqual(entries[1]?.details, {});
  });
});

describe('migration 0260: merged records let go of the ID numbers they still hold', () => {
  /** A merged pair of one elder without a number, the merged record then given a number directly. */
  async function mergedHolding(name: string, idNumber: string) {
    const dup = await unnumbered(name);
    const kept = await unnumbered(name);
    const r = await call('POST', `/persons/${dup.id}/merge`, {
      intoId: kept.id,
      version: (await personRow(dup.id)).version,
    });
    assert.equal(r.statusCode, 200, r.body);
    // As a PATCH wrote it before session 19 refused writes on merged records.
    await t.ctx.db
      .updateTable('persons')
      .set({ id_number: idNumber, no_id_reason: null })
      .where('id', '=', dup.id)
      .execute();
    return { dup: dup.id, kept: kept.id };
  }

  test('the number is released as releaseMergedIdNumber releases it; live records and merged ones without a number are untouched', async () => {
    const migrated = await mergedHolding('迁移老人', makeIdNumber('410225', '1948-08-08', 301));
    const released = await mergedHolding('释放老人', makeIdNumber('410225', '1948-08-08', 311));
    const alreadyEmpty = await mergedHolding('无号老人', makeIdNumber('410225', '1948-08-08', 321));
    await t.ctx.db
      .updateTable('persons')
      .set({ id_number: null, no_id_reason: 'merged' })
      .where('id', '=', alreadyEmpty.dup)
      .execute();
    const live = await person();
    const ids = [migrated.dup, migrated.kept, released.dup, alreadyEmpty.dup, live.id];
    const rowsBefore = new Map(await Promise.all(ids.map(async (id) => [id, await personRow(id)] as const)));
    const numberOf = (id: number) => rowsBefore.get(id)!.id_number!;

    // The service's release, on one of the two.
    const byService = await releaseMergedIdNumber(t.ctx.db, numberOf(released.dup));
    assert.deepEqual(
      byService.map((r) => r.id),
      [released.dup],
    );
    const releasedRow = await personRow(released.dup);
    // The migration, on the other (the one the service released holds none any more).
    await sql.raw(fs.readFileSync(MIGRATION, 'utf8')).execute(t.ctx.db);
    const migratedRow = await personRow(migrated.dup);

    for (const [row, number] of [
      [migratedRow, numberOf(migrated.dup)],
      [releasedRow, numberOf(released.dup)],
    ] as const) {
      const was = rowsBefore.get(row.id)!;
      assert.equal(row.id_number, null);
      assert.equal(row.no_id_reason, `merged:${number.slice(-6)}`);
      assert.equal(row.version, was.version + 1);
      assert.ok(row.updated_at.getTime() >= was.updated_at.getTime());
      assert.equal(row.merged_into, was.merged_into);
    }
    // The same columns, the same way, as the service.
    const pick = (r: typeof migratedRow) => ({
      id_number: r.id_number,
      no_id_reason: r.no_id_reason?.replace(/[0-9X]{6}$/, '<tail>'),
      versionStep: r.version - rowsBefore.get(r.id)!.version,
    });
    assert.deepEqual(pick(migratedRow), pick(releasedRow));

    for (const id of [migrated.kept, alreadyEmpty.dup, live.id]) {
      const now = await personRow(id);
      const was = rowsBefore.get(id)!;
      assert.deepEqual(
        [now.id_number, now.no_id_reason, now.version],
        [was.id_number, was.no_id_reason, was.version],
      );
    }
    // The number can now be registered to the person it belongs to.
    const registered = await call('POST', '/persons', {
      name: '号码本人',
      idNumber: numberOf(migrated.dup),
      hukouRegionCode: V1,
    });
    assert.equal(registered.statusCode, 201, registered.body);

    // Run again, it changes nothing.
    const versions = async () =>
      (await t.ctx.db.selectFrom('persons').select(['id', 'version']).orderBy('id').execute()).map(
        (r) => `${r.id}:${r.version}`,
      );
    const once = await versions();
    await sql.raw(fs.readFileSync(MIGRATION, 'utf8')).execute(t.ctx.db);
    assert.deepEqual(await versions(), once);
  });

  test('the migration is one of the files the server applies at start', async () => {
    const applied = await sql<{
      name: string;
    }>`SELECT name FROM schema_migrations WHERE name = ${path.basename(MIGRATION)}`.execute(t.ctx.db);
    assert.equal(applied.rows.length, 1);
  });
});
