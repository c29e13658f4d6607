import { maintainDatabase } from '../platform/maintenance.ts';
import { migrate, pendingMigrations } from '../platform/migrate.ts';
import { defineCommands, recordId, UsageError, type CommandSpec, type ParsedArgs } from './command.ts';

function jobId(args: ParsedArgs): { raw: string; id: number | null } {
  const raw = args.positionals[0];
  if (raw === undefined) throw new UsageError("'shouhu jobs show' needs ID");
  return { raw, id: recordId('ID', raw) };
}

export const platformCommands: CommandSpec[] = defineCommands([
  {
    path: ['migrate'],
    summary: 'Apply pending database migrations (also applied at every start)',
    usage: 'shouhu migrate',
    async run(_args, ctx, io) {
      const done = await migrate(ctx.database, (line) => io.print(line));
      if (!done.length) io.print('database is up to date');
      const pending = await pendingMigrations(ctx.database);
      return pending.length ? 1 : 0;
    },
  },
  {
    path: ['db', 'maintain'],
    summary: 'VACUUM (ANALYZE) every table now (the embedded database has no autovacuum; also nightly)',
    usage: 'shouhu db maintain [--force]',
    async run(args, ctx, io) {
      const result = await maintainDatabase(ctx.database, {
        progress: io.progress,
        force: args.flags.force === true,
      });
      if (result.skipped) io.print(`nothing done: ${result.skipped} (--force vacuums anyway)`);
      else {
        const ms = result.tables.reduce((sum, t) => sum + t.ms, 0);
        io.print(`vacuumed and analysed ${result.tables.length} tables in ${(ms / 1000).toFixed(1)} s`);
      }
      return 0;
    },
  },
  {
    path: ['jobs', 'show'],
    summary: 'Show a background job: status and progress',
    usage: 'shouhu jobs show ID',
    check: (args) => void jobId(args),
    async run(args, ctx, io) {
      const { raw, id } = jobId(args);
      const job = id === null ? null : await ctx.jobs.get(id);
      if (!job) {
        io.error(`job ${raw} not found`);
        return 1;
      }
      io.print(JSON.stringify(job, null, 2));
      return 0;
    },
  },
]);
