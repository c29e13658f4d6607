// Maintenance of the embedded database: PGlite has no autovacuum, so a job vacuums and analyses it.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, testEngine, type TestApp } from './support/db.ts';
import {
  maintainDatabase,
  maintenanceJob,
  needsOwnVacuum,
  scheduleMaintenance,
} from '../src/platform/maintenance.ts';
import { addDays, startOfChinaDay, today } from '../src/platform/dates.ts';
import { findCommand } from '../src/cli/commands.ts';
import { parseArgs } from '../src/cli/command.ts';

describe('database maintenance', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({}, { regions: false });
    await sql`CREATE TABLE churn (k int PRIMARY KEY, v int NOT NULL)`.execute(t.ctx.db);
  });
  after(async () => t.close());

  // Every row of the table rewritten `times` times, as the jobs' progress or the count tables are.
  const churn = async (times: number) => {
    for (let i = 0; i < times; i++)
      await sql`INSERT INTO churn SELECT g, 0 FROM generate_series(1, 2000) g
        ON CONFLICT (k) DO UPDATE SET v = churn.v + 1`.execute(t.ctx.db);
  };
  const heapBytes = async () =>
    Number(
      (await sql<{ n: string }>`SELECT pg_relation_size('churn')::text AS n`.execute(t.ctx.db)).rows[0]?.n,
    );

  test('only the embedded database (or a server without autovacuum) needs it', async () => {
    if (testEngine() === 'postgres') {
      // A server vacuums itself unless its autovacuum is off (as on some test servers).
      const setting = await sql<{ on: boolean }>`SELECT current_setting('autovacuum')::boolean AS on`.execute(
        t.ctx.db,
      );
      const serverVacuums = setting.rows[0]?.on === true;
      assert.equal(await needsOwnVacuum(t.database), !serverVacuums);
      const result = await maintainDatabase(t.database);
      if (serverVacuums) {
        assert.match(result.skipped ?? '', /autovacuum/);
        assert.deepEqual(result.tables, []);
      } else assert.ok(result.tables.some((x) => x.name === 'persons'));
      return;
    }
    assert.equal(await needsOwnVacuum(t.database), true, 'PGlite, whatever SHOW autovacuum says');
    // The reason for the job: PGlite on its own never reclaims an old row version.
    await sql`CREATE TABLE churn_alone (k int PRIMARY KEY, v int NOT NULL)`.execute(t.ctx.db);
    const size = async () =>
      Number(
        (await sql<{ n: string }>`SELECT pg_relation_size('churn_alone')::text AS n`.execute(t.ctx.db))
          .rows[0]?.n,
      );
    const rewrite = () =>
      sql`INSERT INTO churn_alone SELECT g, 0 FROM generate_series(1, 2000) g
        ON CONFLICT (k) DO UPDATE SET v = churn_alone.v + 1`.execute(t.ctx.db);
    for (let i = 0; i < 10; i++) await rewrite();
    const first = await size();
    for (let i = 0; i < 10; i++) await rewrite();
    assert.ok((await size()) > first * 1.5, `the table kept growing (${first} -> ${await size()})`);
  });

  test('the space of updated rows is used again once vacuumed, and the planner gets statistics', async () => {
    await churn(10);
    const grown = await heapBytes();
    const steps: string[] = [];
    const result = await maintainDatabase(t.database, {
      force: true,
      progress: (done, total, message) => void steps.push(`${done}/${total} ${message}`),
    });
    assert.equal(result.skipped, null);
    const names = result.tables.map((x) => x.name);
    for (const table of ['churn', 'persons', 'jobs', 'group_count_deltas', 'sessions'])
      assert.ok(names.includes(table), `${table} vacuumed`);
    assert.ok(steps.includes(`${names.length}/${names.length} done`), 'progress reaches the end');
    assert.ok(steps.some((s) => s.endsWith('vacuum churn')));
    // VACUUM freed the old versions: ten more rewrites fit in the pages the first ten left. Without
    // the vacuum the table grows by half and more (the test above); a few pages of slack, as on the
    // PostgreSQL server a snapshot held elsewhere can keep some versions a while (seen: 85 -> 92 pages).
    await churn(10);
    const after = await heapBytes();
    assert.ok(after <= grown * 1.2, `no growth after vacuum beyond a few pages (${after} > ${grown})`);
    const stats = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM pg_stats WHERE tablename = 'churn' AND attname = 'v'`.execute(t.ctx.db);
    assert.equal(stats.rows[0]?.n, 1, 'ANALYZE wrote the column statistics');
  });

  test('the nightly job runs after the groups evaluation of the night, once a date, and queues the next', async () => {
    const date = today();
    const id = await scheduleMaintenance(t.ctx, date);
    assert.equal(await scheduleMaintenance(t.ctx, date), id, 'one job a date');
    const row = await t.ctx.db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    assert.equal(row.name, 'platform.maintenance');
    assert.equal(row.run_after.getTime(), startOfChinaDay(addDays(date, 1), 90).getTime());
    // Run now, as the queue would that night.
    const job = maintenanceJob(t.ctx);
    t.ctx.jobs.register(job);
    await sql`UPDATE jobs SET run_after = now() WHERE id = ${id}`.execute(t.ctx.db);
    await t.ctx.jobs.drain();
    const done = await t.ctx.jobs.get(id);
    assert.equal(done?.status, 'succeeded');
    const outcome = done?.result as { skipped: string | null; tables: { name: string }[] };
    if (await needsOwnVacuum(t.database)) assert.ok(outcome.tables.some((x) => x.name === 'persons'));
    else assert.match(outcome.skipped ?? '', /autovacuum/);
    const next = await t.ctx.db
      .selectFrom('jobs')
      .select(['idempotency_key', 'status'])
      .where('name', '=', 'platform.maintenance')
      .where('id', '<>', id)
      .execute();
    assert.deepEqual(next, [
      { idempotency_key: `platform.maintenance:${addDays(date, 1)}`, status: 'queued' },
    ]);
  });

  test('shouhu db maintain vacuums now, with --force on a server', async () => {
    const found = findCommand(['db', 'maintain', '--force']);
    assert.ok(found);
    const printed: string[] = [];
    const progress: string[] = [];
    const code = await found.command.run(parseArgs(found.rest), t.ctx, {
      print: (line) => printed.push(line),
      error: (line) => printed.push(line),
      progress: (done, total, message) => progress.push(`${done}/${total} ${message}`),
    });
    assert.equal(code, 0);
    assert.match(printed.join('\n'), /^vacuumed and analysed \d+ tables in [\d.]+ s$/);
    assert.ok(progress.at(-1)?.endsWith(' done'));
  });
});
