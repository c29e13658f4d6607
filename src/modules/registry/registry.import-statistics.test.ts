// The import keeps the planner's statistics of the registry current (refreshStatistics): a large
// import leaves them analysed, and an import that finds the registry larger than its statistics know
// analyses it before joining it. Without this, a re-import run right after a first load of 200,000
// persons took 175 s in one step instead of 4 s (docs/PERFORMANCE.md, bench/import); the embedded
// database has no autovacuum to catch up. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { systemActor } from '../access/index.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { writeGeneratedTemplate } from './registry.generator.ts';

const TODAY = '2026-11-29';
const PERSONS = 1500;
const TABLES = ['households', 'persons', 'person_relations', 'person_facts'];
const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };
let t: TestApp;
let dir: string;
let county: string;
let small: string;

/** When each registry table was last analysed by a statement (not by autovacuum), and its size as planned. */
async function analysed(): Promise<Record<string, { at: number | null; reltuples: number }>> {
  const r = await sql<{ relname: string; last_analyze: Date | null; reltuples: number }>`
    SELECT s.relname, s.last_analyze, c.reltuples::float8 AS reltuples
    FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
    WHERE s.schemaname = current_schema() AND s.relname IN ('households', 'persons', 'person_relations', 'person_facts')`.execute(
    t.database.db,
  );
  return Object.fromEntries(
    r.rows.map((row) => [
      row.relname,
      {
        at: row.last_analyze ? new Date(row.last_analyze).getTime() : null,
        reltuples: Number(row.reltuples),
      },
    ]),
  );
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-import-statistics-'));
  t = await createTestApp({ dataDir: dir });
  county = path.join(dir, 'county.csv');
  await writeGeneratedTemplate(county, { countyCode: '410225', persons: PERSONS, seed: 5, asOf: TODAY });
  // The first few rows of the same county: far below the floor where statistics matter.
  const lines = fs.readFileSync(county, 'utf8').split('\r\n');
  small = path.join(dir, 'small.csv');
  fs.writeFileSync(small, lines.slice(0, 11).join('\r\n') + '\r\n');
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

test('an import of a few rows leaves the statistics alone', async () => {
  const before = await analysed();
  const outcome = await importRegistryFile(t.database, small, importer, { today: TODAY });
  assert.equal(outcome.status, 'succeeded');
  assert.equal(outcome.counts.inserted, 10);
  const now = await analysed();
  for (const table of TABLES) assert.equal(now[table]?.at, before[table]?.at, table);
});

test('a large import leaves every table it wrote analysed, its size known to the planner', async () => {
  const before = await analysed();
  const outcome = await importRegistryFile(t.database, county, importer, { today: TODAY });
  assert.equal(outcome.status, 'succeeded');
  assert.equal(outcome.counts.inserted, PERSONS - 10);
  const now = await analysed();
  for (const table of TABLES) {
    const at = now[table]?.at;
    assert.ok(at !== null && at !== undefined && at !== before[table]?.at, `${table} analysed`);
  }
  assert.equal(now['persons']?.reltuples, PERSONS);
  assert.ok((now['person_relations']?.reltuples ?? 0) > PERSONS / 2, 'the relations are known');
});

test('a re-import that finds more registered persons than the statistics know analyses first', async () => {
  // Statistics from before the registry filled up (as after a load that nothing analysed).
  await sql`UPDATE pg_class SET reltuples = 0 WHERE oid = 'persons'::regclass`.execute(t.database.db);
  const before = await analysed();
  const outcome = await importRegistryFile(t.database, county, importer, { today: TODAY });
  assert.equal(outcome.status, 'succeeded');
  // Nothing changed, so only the check before the writes can have analysed the tables.
  assert.equal(outcome.counts.unchanged, PERSONS);
  assert.equal(outcome.counts.inserted + outcome.counts.updated, 0);
  const now = await analysed();
  assert.notEqual(now['persons']?.at, before['persons']?.at);
  assert.equal(now['persons']?.reltuples, PERSONS);
});

test('a re-import whose statistics are current analyses nothing', async () => {
  const before = await analysed();
  const outcome = await importRegistryFile(t.database, county, importer, { today: TODAY });
  assert.equal(outcome.counts.unchanged, PERSONS);
  const now = await analysed();
  for (const table of TABLES) assert.equal(now[table]?.at, before[table]?.at, table);
});
