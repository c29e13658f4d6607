// The platform: migrations, the job queue's durability, graceful shutdown, request ids.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from './support/db.ts';
import { JobQueue, defineJob } from '../src/platform/jobs.ts';
import { migrate, pendingMigrations } from '../src/platform/migrate.ts';
import { buildApp } from '../src/platform/http.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import type { AppContext } from '../src/platform/context.ts';

describe('migrations', () => {
  let database: TestDatabase;
  before(async () => (database = await openTestDatabase()));
  after(async () => database.close());

  test('applying twice changes nothing and leaves nothing pending', async () => {
    assert.deepEqual(await migrate(database), []);
    assert.deepEqual(await pendingMigrations(database), []);
  });

  test('a failing migration leaves no trace (all or nothing)', async () => {
    await assert.rejects(
      database.execScript('CREATE TABLE half_done (id int); SELECT * FROM no_such_table;'),
    );
    const exists = await sql<{ t: string | null }>`SELECT to_regclass('half_done')::text AS t`.execute(
      database.db,
    );
    assert.equal(exists.rows[0]?.t, null);
  });
});

describe('jobs', () => {
  let database: TestDatabase;
  before(async () => (database = await openTestDatabase()));
  after(async () => database.close());

  test('a job reports progress, and an idempotency key returns the first job', async () => {
    const queue = new JobQueue(database.db);
    const seen: number[] = [];
    const job = defineJob<{ n: number }, { sum: number }>({
      name: 'test.sum',
      handler: async (ctx) => {
        let sum = 0;
        for (let i = 1; i <= ctx.payload.n; i++) {
          sum += i;
          await ctx.progress(i, ctx.payload.n, `adding ${i}`);
          seen.push(i);
        }
        return { sum };
      },
    });
    queue.register(job);
    const id = await queue.enqueue(job, { n: 4 }, { idempotencyKey: 'sum-4' });
    assert.equal(await queue.enqueue(job, { n: 4 }, { idempotencyKey: 'sum-4' }), id);
    await queue.drain();
    const view = await queue.get(id);
    assert.equal(view?.status, 'succeeded');
    assert.deepEqual(view?.result, { sum: 10 });
    assert.deepEqual(view?.progress, { done: 4, total: 4, message: 'adding 4' });
    assert.deepEqual(seen, [1, 2, 3, 4]);
  });

  test('a job whose worker died is taken again after its lease runs out (survives a restart)', async () => {
    const first = new JobQueue(database.db);
    let runs = 0;
    const definition = defineJob<Record<string, never>, string>({
      name: 'test.survivor',
      handler: async () => {
        runs += 1;
        return 'done';
      },
    });
    const id = await first.enqueue(definition, {});
    // The first process claimed the job and died: the row says running, with a lease that ran out.
    await sql`UPDATE jobs SET status = 'running', locked_by = 'dead-worker', locked_until = now() - interval '1 second', attempts = 1 WHERE id = ${id}`.execute(
      database.db,
    );
    const restarted = new JobQueue(database.db);
    restarted.register(definition);
    await restarted.drain();
    const view = await restarted.get(id);
    assert.equal(view?.status, 'succeeded');
    assert.equal(view?.attempts, 2);
    assert.equal(runs, 1);
  });

  test('a running job with a live lease is not taken twice', async () => {
    const queue = new JobQueue(database.db);
    const definition = defineJob<Record<string, never>, null>({
      name: 'test.leased',
      handler: async () => null,
    });
    queue.register(definition);
    const id = await queue.enqueue(definition, {});
    await sql`UPDATE jobs SET status = 'running', locked_by = 'other', locked_until = now() + interval '1 minute' WHERE id = ${id}`.execute(
      database.db,
    );
    assert.equal(await queue.runOnce(), false);
    assert.equal((await queue.get(id))?.status, 'running');
  });

  test('a failing job is retried, then marked failed with its error', async () => {
    const queue = new JobQueue(database.db);
    const definition = defineJob<Record<string, never>, never>({
      name: 'test.failing',
      maxAttempts: 2,
      handler: async () => {
        throw new Error('disk full');
      },
    });
    queue.register(definition);
    const id = await queue.enqueue(definition, {});
    await queue.runOnce();
    assert.equal((await queue.get(id))?.status, 'queued');
    await sql`UPDATE jobs SET run_after = now() WHERE id = ${id}`.execute(database.db);
    await queue.runOnce();
    const view = await queue.get(id);
    assert.equal(view?.status, 'failed');
    assert.equal(view?.error, 'disk full');
    assert.equal(view?.attempts, 2);
  });
});

describe('HTTP platform', () => {
  test('graceful shutdown finishes in-flight requests', async () => {
    const database = await openTestDatabase();
    try {
      const logger = createLogger('silent');
      const config = loadConfig({}, { runJobs: false });
      const ctx: AppContext = { config, database, db: database.db, jobs: new JobQueue(database.db), logger };
      let arrived!: () => void;
      const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
      const app = await buildApp({
        ctx,
        logger,
        serveWeb: false,
        routes: (api) => {
          api.get('/slow', { config: { public: true } }, async () => {
            arrived();
            await new Promise((resolve) => setTimeout(resolve, 400));
            return { finished: true };
          });
        },
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      const address = app.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const inFlight = fetch(`http://127.0.0.1:${port}/api/v1/slow`);
      await requestArrived;
      const closing = app.close();
      const response = await inFlight;
      assert.equal(response.status, 200);
      assert.deepEqual(await response.json(), { finished: true });
      await closing;
    } finally {
      await database.close();
    }
  });
});
