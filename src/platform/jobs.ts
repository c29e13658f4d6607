// Durable background jobs on the application's own database (works the same on PGlite and on a
// PostgreSQL server; see docs/DECISIONS.md). A job is a row: a worker claims it with
// FOR UPDATE SKIP LOCKED and a lease, reports progress into the row (which renews the lease),
// and records the result. A job whose worker died is claimed again once the lease has run out,
// so handlers must be idempotent: running one twice leaves the same state as running it once.
import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from './db.schema.ts';

export interface JobContext<P> {
  id: number;
  payload: P;
  attempt: number;
  /** Records progress (and renews the lease). Cheap to call often: it writes at most every 250 ms. */
  progress(done: number, total?: number | null, message?: string): Promise<void>;
  signal: AbortSignal;
}

export interface JobDefinition<P, R> {
  name: string;
  handler: (ctx: JobContext<P>) => Promise<R>;
  maxAttempts?: number;
}

export interface JobView {
  id: number;
  name: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  progress: { done: number; total: number | null; message: string | null };
  result: unknown;
  error: string | null;
  attempts: number;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
}

const LEASE_SECONDS = 60;

export function defineJob<P, R>(definition: JobDefinition<P, R>): JobDefinition<P, R> {
  return definition;
}

export interface EnqueueOptions {
  idempotencyKey?: string;
  createdBy?: number | null;
  regionCode?: string | null;
  runAfter?: Date;
}

type AnyJob = JobDefinition<never, unknown>;

export class JobQueue {
  readonly #db: Kysely<DB>;
  readonly #definitions = new Map<string, AnyJob>();
  readonly #workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  #running = false;
  #timer: NodeJS.Timeout | null = null;
  #active: Promise<void> | null = null;
  #abort = new AbortController();
  #wake: (() => void) | null = null;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  register<P, R>(definition: JobDefinition<P, R>): void {
    this.#definitions.set(definition.name, definition as unknown as AnyJob);
  }

  /** Adds a job; with an idempotency key, a second submission returns the first job's id. */
  async enqueue<P>(
    definition: JobDefinition<P, unknown>,
    payload: P,
    options: EnqueueOptions = {},
  ): Promise<number> {
    const row = await this.#db
      .insertInto('jobs')
      .values({
        name: definition.name,
        payload: JSON.stringify(payload),
        idempotency_key: options.idempotencyKey ?? null,
        max_attempts: definition.maxAttempts ?? 3,
        created_by: options.createdBy ?? null,
        region_code: options.regionCode ?? null,
        run_after: options.runAfter ?? new Date(),
      })
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning('id')
      .executeTakeFirst();
    this.#wake?.();
    if (row) return row.id;
    const existing = await this.#db
      .selectFrom('jobs')
      .select('id')
      .where('idempotency_key', '=', options.idempotencyKey ?? '')
      .executeTakeFirstOrThrow();
    return existing.id;
  }

  async get(id: number): Promise<JobView | null> {
    const row = await this.#db.selectFrom('jobs').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return null;
    return {
      id: row.id,
      name: row.name,
      status: row.status,
      progress: { done: row.progress_done, total: row.progress_total, message: row.progress_message },
      result: row.result,
      error: row.error,
      attempts: row.attempts,
      createdAt: row.created_at.toISOString(),
      startedAt: row.started_at?.toISOString() ?? null,
      finishedAt: row.finished_at?.toISOString() ?? null,
    };
  }

  /** Claims and runs one job; returns false when nothing was claimable. */
  async runOnce(): Promise<boolean> {
    const names = [...this.#definitions.keys()];
    if (!names.length) return false;
    const claimed = await sql<{
      id: number;
      name: string;
      payload: unknown;
      attempts: number;
      max_attempts: number;
    }>`
      UPDATE jobs SET status = 'running', locked_by = ${this.#workerId},
        locked_until = now() + make_interval(secs => ${LEASE_SECONDS}),
        attempts = attempts + 1, started_at = coalesce(started_at, now()), updated_at = now()
      WHERE id = (
        SELECT id FROM jobs
        WHERE name IN (${sql.join(names)})
          AND ((status = 'queued' AND run_after <= now()) OR (status = 'running' AND locked_until < now()))
        ORDER BY id
        FOR UPDATE SKIP LOCKED
        LIMIT 1)
      RETURNING id, name, payload, attempts, max_attempts`.execute(this.#db);
    const job = claimed.rows[0];
    if (!job) return false;
    const definition = this.#definitions.get(job.name);
    if (!definition) return false;
    let lastWrite = 0;
    const ctx: JobContext<never> = {
      id: job.id,
      payload: job.payload as never,
      attempt: job.attempts,
      signal: this.#abort.signal,
      progress: async (done, total, message) => {
        const now = Date.now();
        if (now - lastWrite < 250 && total !== undefined && done !== total) return;
        lastWrite = now;
        await this.#db
          .updateTable('jobs')
          .set({
            progress_done: done,
            ...(total !== undefined ? { progress_total: total } : {}),
            ...(message !== undefined ? { progress_message: message } : {}),
            locked_until: sql<Date>`now() + make_interval(secs => ${LEASE_SECONDS})`,
            updated_at: sql<Date>`now()`,
          })
          .where('id', '=', job.id)
          .where('locked_by', '=', this.#workerId)
          .execute();
      },
    };
    try {
      const result = await definition.handler(ctx);
      await this.#db
        .updateTable('jobs')
        .set({
          status: 'succeeded',
          result: JSON.stringify(result ?? null),
          error: null,
          finished_at: sql<Date>`now()`,
          updated_at: sql<Date>`now()`,
          locked_by: null,
          locked_until: null,
        })
        .where('id', '=', job.id)
        .execute();
    } catch (error) {
      if (this.#abort.signal.aborted) {
        // Shutting down: hand the job back so the next start picks it up at once.
        await this.#db
          .updateTable('jobs')
          .set({ status: 'queued', locked_by: null, locked_until: null, attempts: sql<number>`attempts - 1` })
          .where('id', '=', job.id)
          .execute();
        return true;
      }
      const message = error instanceof Error ? error.message : String(error);
      const final = job.attempts >= job.max_attempts;
      await this.#db
        .updateTable('jobs')
        .set({
          status: final ? 'failed' : 'queued',
          error: message,
          run_after: sql<Date>`now() + make_interval(secs => ${2 ** job.attempts})`,
          finished_at: final ? sql<Date>`now()` : null,
          updated_at: sql<Date>`now()`,
          locked_by: null,
          locked_until: null,
        })
        .where('id', '=', job.id)
        .execute();
    }
    return true;
  }

  /** Polls for work until stop(); wakes early when this process enqueues a job. */
  start(pollMs = 1000): void {
    if (this.#running) return;
    this.#running = true;
    this.#abort = new AbortController();
    const loop = async () => {
      while (this.#running) {
        let worked: boolean;
        try {
          worked = await this.runOnce();
        } catch {
          worked = false;
        }
        if (!this.#running) break;
        if (!worked)
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            this.#timer = setTimeout(resolve, pollMs);
          });
      }
    };
    this.#active = loop();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#abort.abort();
    if (this.#timer) clearTimeout(this.#timer);
    this.#wake?.();
    await this.#active;
  }

  /** Runs jobs until none is claimable (tests and the CLI use this instead of the poller). */
  async drain(): Promise<void> {
    while (await this.runOnce()) {
      /* keep going */
    }
  }
}
