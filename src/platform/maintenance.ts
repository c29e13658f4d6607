// Vacuum and statistics for the embedded database. PGlite runs PostgreSQL as a single process
// (single-user mode): no autovacuum worker ever starts, although `SHOW autovacuum` says on. Without
// one, every updated or deleted row stays in its table for good (a table whose rows are updated
// twenty times grows twentyfold: the jobs' progress, the sessions, the group count tables, the
// periods that each evaluation redates), the planner never learns the tables' sizes and value
// distributions, and old transaction ids are never frozen. maintainDatabase does here what
// autovacuum does on a server: VACUUM (ANALYZE) table by table. On a PostgreSQL server it does
// nothing while autovacuum runs there (docs/DECISIONS.md "The embedded database is vacuumed by a job").
import { sql } from 'kysely';
import type { AppContext } from './context.ts';
import { addDays, maxDate, startOfChinaDay, today, type IsoDate } from './dates.ts';
import type { Database } from './db.ts';
import { defineJob } from './jobs.ts';

export interface MaintenanceResult {
  /** Why nothing was done (a server's own autovacuum runs), or null when the tables were vacuumed. */
  skipped: string | null;
  tables: { name: string; ms: number }[];
}

export interface MaintenanceOptions {
  /** Called before each table and once at the end (done = total). */
  progress?: (done: number, total: number, message: string) => void | Promise<void>;
  /** Vacuum even on a server whose autovacuum is on. */
  force?: boolean;
}

/** True when nothing else vacuums this database: PGlite, or a server with autovacuum off. */
export async function needsOwnVacuum(database: Database): Promise<boolean> {
  if (database.kind === 'pglite') return true;
  const setting = await sql<{ on: boolean }>`SELECT current_setting('autovacuum')::boolean AS on`.execute(
    database.db,
  );
  return setting.rows[0]?.on !== true;
}

/**
 * VACUUM (ANALYZE) of every table of the schema, one statement a table so that the application's other
 * statements run between them (PGlite has one session, shared in turns).
 */
export async function maintainDatabase(
  database: Database,
  options: MaintenanceOptions = {},
): Promise<MaintenanceResult> {
  if (!options.force && !(await needsOwnVacuum(database)))
    return { skipped: 'autovacuum runs on this PostgreSQL server', tables: [] };
  const listed = await sql<{ name: string }>`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = current_schema() AND c.relkind IN ('r', 'm') AND c.relpersistence <> 't'
    ORDER BY c.relname`.execute(database.db);
  const names = listed.rows.map((r) => r.name);
  const tables: MaintenanceResult['tables'] = [];
  for (const [i, name] of names.entries()) {
    await options.progress?.(i, names.length, `vacuum ${name}`);
    const start = performance.now();
    try {
      await sql`VACUUM (ANALYZE) ${sql.table(name)}`.execute(database.db);
    } catch (error) {
      // A table dropped since it was listed (an import's stage) has nothing left to vacuum.
      if ((error as { code?: string }).code !== '42P01') throw error;
      continue;
    }
    tables.push({ name, ms: performance.now() - start });
  }
  await options.progress?.(names.length, names.length, 'done');
  return { skipped: null, tables };
}

// ---------- The nightly job ----------

/** The quiet hour after the groups' daily evaluation (00:30 China time): 01:30. */
const NIGHTLY_MINUTES = 90;

export function maintenanceJob(ctx: AppContext) {
  const definition = defineJob<{ date: IsoDate }, MaintenanceResult>({
    name: 'platform.maintenance',
    handler: async (job) => {
      const result = await maintainDatabase(ctx.database, {
        progress: (done, total, message) => job.progress(done, total, message),
      });
      await scheduleMaintenance(ctx, maxDate(addDays(job.payload.date, 1), today()) ?? today());
      return result;
    },
  });
  return definition;
}

/** Queues the maintenance of `date` (default today) for that night; once per date. */
export async function scheduleMaintenance(ctx: AppContext, date: IsoDate = today()): Promise<number> {
  const runAfter = startOfChinaDay(addDays(date, 1), NIGHTLY_MINUTES);
  return ctx.jobs.enqueue(
    maintenanceJob(ctx),
    { date },
    { idempotencyKey: `platform.maintenance:${date}`, runAfter },
  );
}
