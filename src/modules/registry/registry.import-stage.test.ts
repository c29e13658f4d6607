// The set-based import (registry.import-stage.ts) through the use case: writing in small chunks gives
// the same registry as writing at once (spouses, parents and households span chunks), a person
// registered without an ID number receives it from a file, and a changed head row updates the
// household. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { systemActor } from '../access/index.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { writeGeneratedTemplate } from './registry.generator.ts';
import { countRegistry } from './registry.repository.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { dropAbandonedStages, withStage } from './registry.import-stage.ts';
import pg from 'pg';

let chunked: TestApp;
let whole: TestApp;
let dir: string;
let generated: string;
const TODAY = '2026-11-29';
const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

function csv(rows: Record<string, string>[]): string {
  return (
    '\uFEFF' +
    [
      TEMPLATE_HEADERS.join(','),
      ...rows.map((row) => TEMPLATE_HEADERS.map((h) => row[h] ?? '').join(',')),
    ].join('\r\n') +
    '\r\n'
  );
}

/** The registry as a user would compare it: by ID number and household number, not by row id. */
async function fingerprint(db: Kysely<DB>) {
  const persons = await sql<Record<string, unknown>>`
    SELECT p.id_number, p.name, p.name_pinyin, p.sex, p.birth_date, p.hukou_region_code, p.residence_region_code,
      p.relation_to_head, h.household_no, h.hukou_region_code AS household_hukou, h.annual_income_fen,
      head.id_number AS head
    FROM persons p JOIN households h ON h.id = p.household_id LEFT JOIN persons head ON head.id = h.head_person_id
    ORDER BY h.household_no, p.name, p.birth_date`.execute(db);
  const relations = await sql<Record<string, unknown>>`
    SELECT a.id_number AS a, a.name AS a_name, b.id_number AS b, r.kind, r.subtype, r.source
    FROM person_relations r JOIN persons a ON a.id = r.person_id JOIN persons b ON b.id = r.related_person_id
    ORDER BY 1, 2, 3, 4`.execute(db);
  const facts = await sql<Record<string, unknown>>`
    SELECT p.id_number, p.name, f.kind, f.valid_from, f.valid_to, f.data::text AS data, f.retracted_at IS NULL AS current
    FROM person_facts f JOIN persons p ON p.id = f.person_id ORDER BY 1, 2, 3, 4, 6`.execute(db);
  return { persons: persons.rows, relations: relations.rows, facts: facts.rows };
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-import-stage-'));
  chunked = await createTestApp({ dataDir: path.join(dir, 'a') });
  whole = await createTestApp({ dataDir: path.join(dir, 'b') });
  generated = path.join(dir, 'county.csv');
  await writeGeneratedTemplate(generated, { countyCode: '410225', persons: 300, seed: 7, asOf: TODAY });
});

after(async () => {
  await chunked.close();
  await whole.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('the set-based import', () => {
  test('small chunks write the same registry as one chunk, and a re-import in chunks changes nothing', async () => {
    const a = await importRegistryFile(chunked.ctx.database, generated, importer, {
      today: TODAY,
      batchSize: 7,
    });
    const b = await importRegistryFile(whole.ctx.database, generated, importer, { today: TODAY });
    assert.deepEqual(a.counts, { rows: 300, inserted: 300, updated: 0, unchanged: 0, errors: 0 });
    assert.deepEqual(b.counts, a.counts);
    const printed = await fingerprint(chunked.ctx.db);
    assert.ok(printed.relations.some((r) => r.kind === 'spouse'));
    assert.ok(printed.relations.some((r) => r.kind === 'parent'));
    assert.ok(printed.facts.length > 20);
    assert.ok(printed.persons.some((p) => p.head !== null && p.annual_income_fen !== null));
    assert.deepEqual(printed, await fingerprint(whole.ctx.db));
    const before = await countRegistry(chunked.ctx.db);
    const again = await importRegistryFile(chunked.ctx.database, generated, importer, {
      today: TODAY,
      batchSize: 7,
    });
    assert.deepEqual(again.counts, { rows: 300, inserted: 0, updated: 0, unchanged: 300, errors: 0 });
    assert.deepEqual(await countRegistry(chunked.ctx.db), before);
    // No scratch table is left behind.
    const left = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'import\\_%'`.execute(chunked.ctx.db);
    assert.equal(left.rows[0]?.n, 0);
  });

  test('a person registered without an ID number receives it; a changed income updates the household', async () => {
    const db = whole.ctx.db;
    const head = makeIdNumber('410225', '1970-05-05', 301);
    const row = (child: Record<string, string>, income: string): Record<string, string>[] => [
      {
        户编号: 'S-1',
        姓名: '周大',
        公民身份号码: head,
        与户主关系: '户主',
        户籍地代码: '410225101200',
        '家庭年收入(元)': income,
      },
      {
        户编号: 'S-1',
        姓名: '周小',
        与户主关系: '子',
        户籍地代码: '410225101200',
        父亲身份号码: head,
        ...child,
      },
    ];
    const first = path.join(dir, 'no-id.csv');
    fs.writeFileSync(
      first,
      csv(row({ 无身份号码原因: '未落户', 性别: '男', 出生日期: '2024-01-02' }, '12000')),
    );
    const r1 = await importRegistryFile(whole.ctx.database, first, importer, { today: TODAY });
    assert.deepEqual(r1.counts, { rows: 2, inserted: 2, updated: 0, unchanged: 0, errors: 0 });
    const childId = makeIdNumber('410225', '2024-01-02', 311);
    const second = path.join(dir, 'with-id.csv');
    fs.writeFileSync(second, csv(row({ 公民身份号码: childId }, '15000')));
    const before = await countRegistry(db);
    const r2 = await importRegistryFile(whole.ctx.database, second, importer, { today: TODAY });
    assert.deepEqual(r2.counts, { rows: 2, inserted: 0, updated: 2, unchanged: 0, errors: 0 });
    assert.deepEqual(await countRegistry(db), before);
    const child = await db
      .selectFrom('persons')
      .select(['id_number', 'no_id_reason', 'version'])
      .where('name', '=', '周小')
      .executeTakeFirstOrThrow();
    assert.deepEqual(child, { id_number: childId, no_id_reason: null, version: 2 });
    const household = await db
      .selectFrom('households')
      .select('annual_income_fen')
      .where('household_no', '=', 'S-1')
      .executeTakeFirstOrThrow();
    assert.equal(household.annual_income_fen, 1_500_000);
    const r3 = await importRegistryFile(whole.ctx.database, second, importer, { today: TODAY });
    assert.deepEqual(r3.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 0 });
  });

  test('a file that does not fit the parsing worker’s heap is refused whole; the process lives on', async () => {
    const huge = path.join(dir, 'huge.csv');
    // Every cell just under the CSV reader's one-million-character limit: 20 MB in one row.
    fs.writeFileSync(huge, csv([Object.fromEntries(TEMPLATE_HEADERS.map((h) => [h, 'x'.repeat(600_000)]))]));
    const before = await countRegistry(whole.ctx.db);
    const outcome = await importRegistryFile(whole.ctx.database, huge, importer, {
      today: TODAY,
      parseHeapMb: 16,
    });
    assert.equal(outcome.status, 'rejected');
    assert.match(outcome.message?.en ?? '', /too large/);
    assert.match(outcome.message?.zh ?? '', /文件过大/);
    assert.deepEqual(await countRegistry(whole.ctx.db), before);
    fs.rmSync(huge);
  });

  test('the stage of an import whose process was killed is dropped by the next import; stages in use are kept', async () => {
    const database = chunked.ctx.database;
    const db = chunked.ctx.db;
    const tables = async () =>
      (
        await sql<{
          name: string;
        }>`SELECT relname AS name FROM pg_class WHERE relkind = 'r' AND relname LIKE 'import\\_%' ORDER BY 1`.execute(
          db,
        )
      ).rows.map((r) => r.name);
    // What a killed import leaves: its unlogged tables, and nobody holding its stage.
    await sql`CREATE UNLOGGED TABLE import_rows_0123456789ab (row_number integer)`.execute(db);
    await sql`CREATE UNLOGGED TABLE import_refs_0123456789ab (row_number integer)`.execute(db);
    // Not a stage: a name that only looks like one.
    await sql`CREATE TABLE import_rows_backup (row_number integer)`.execute(db);
    // On PostgreSQL, an import running in another process: its session holds the stage's lock.
    let other: pg.Client | null = null;
    if (database.kind === 'postgres') {
      other = new pg.Client({ connectionString: chunked.database.url ?? '' });
      await other.connect();
      await other.query('SELECT pg_advisory_lock(1398030663, $1::integer)', [
        Number.parseInt('fedcba98', 16) | 0,
      ]);
      await sql`CREATE UNLOGGED TABLE import_rows_fedcba987654 (row_number integer)`.execute(db);
    }
    // An import running in this process keeps its stage while another import starts and ends.
    const small = path.join(dir, 'small.csv');
    fs.writeFileSync(
      small,
      csv([
        {
          户编号: 'K-1',
          姓名: '孔一',
          公民身份号码: makeIdNumber('410225', '1980-01-01', 401),
          与户主关系: '户主',
          户籍地代码: '410225101200',
        },
      ]),
    );
    const during = await withStage(database, async (stage) => {
      const outcome = await importRegistryFile(database, small, importer, { today: TODAY });
      assert.equal(outcome.status, 'succeeded');
      return { stage, left: await tables() };
    });
    assert.ok(during.left.includes(during.stage.rows), 'the running stage is kept');
    assert.ok(!during.left.includes('import_rows_0123456789ab'), 'the killed stage is dropped');
    assert.ok(!during.left.includes('import_refs_0123456789ab'));
    assert.ok(during.left.includes('import_rows_backup'));
    if (other) {
      assert.ok(during.left.includes('import_rows_fedcba987654'), "another process's running stage is kept");
      await other.end(); // the process dies: its lock goes with its session
      assert.equal(await dropAbandonedStages(database), 1);
    }
    assert.deepEqual(await tables(), ['import_rows_backup']);
    await sql`DROP TABLE import_rows_backup`.execute(db);
  });
});
