// The composition root: opens the database, builds the context, registers every module's jobs and
// routes. A newcomer starts reading here.
import type { Config } from './platform/config.ts';
import type { AppContext } from './platform/context.ts';
import { openPglite, openPostgres, type Database } from './platform/db.ts';
import { dataDirPaths } from './platform/embedded.ts';
import { buildApp, type App } from './platform/http.ts';
import { JobQueue } from './platform/jobs.ts';
import { maintenanceJob, scheduleMaintenance } from './platform/maintenance.ts';
import type { Logger } from './platform/logging.ts';
import { migrate } from './platform/migrate.ts';
import { regionRoutes, regionsLoadJob } from './modules/regions/index.ts';
import { accessRoutes, sealTotpSecrets } from './modules/access/index.ts';
import {
  onImportCommitted,
  onPersonChanged,
  registryImportJob,
  registryRoutes,
  reviewLedgerWith,
  setGroupProvider,
} from './modules/registry/index.ts';
import {
  followImport,
  followPersonChange,
  groupRoutes,
  personGroupsProvider,
  registerGroupsJobs,
  reviewLedgerRows,
  scheduleGroupsDaily,
} from './modules/groups/index.ts';

export async function openDatabase(config: Config): Promise<Database> {
  if (config.databaseUrl) return openPostgres(config.databaseUrl);
  return openPglite(dataDirPaths(config.dataDir).pgdata);
}

export async function createContext(config: Config, database: Database, logger: Logger): Promise<AppContext> {
  await migrate(database, (line) => logger.info(line));
  const ctx: AppContext = { config, database, db: database.db, jobs: new JobQueue(database.db), logger };
  registerJobs(ctx);
  // TOTP seeds written before they were encrypted are sealed now; a wrong key stops the start.
  await sealTotpSecrets(ctx);
  if (config.runJobs) {
    await scheduleGroupsDaily(ctx);
    await scheduleMaintenance(ctx);
  }
  return ctx;
}

export function registerJobs(ctx: AppContext): void {
  // Nightly VACUUM (ANALYZE) where nothing else vacuums: the embedded database has no autovacuum.
  ctx.jobs.register(maintenanceJob(ctx));
  ctx.jobs.register(regionsLoadJob(ctx));
  ctx.jobs.register(registryImportJob(ctx));
  registerGroupsJobs(ctx);
  // A change to a person, their facts or links re-evaluates the groups of the person and their
  // relatives; a merge moves the duplicate's periods to the person kept.
  onPersonChanged(followPersonChange);
  // A template import writes set-based and announces no one person; once it commits, the groups of
  // the villages it changed (and its persons' relatives' villages) are evaluated by a job.
  onImportCommitted(followImport);
  // The person file shows the groups and person lists filter by them; the registry does not import
  // the groups module (which imports the registry), so the groups module lends it what it needs.
  setGroupProvider(personGroupsProvider);
  // A child ledger import lists the rows where the ledger's own answers disagree with the rules.
  reviewLedgerWith(reviewLedgerRows);
}

export interface HttpAppOptions {
  serveWeb?: boolean;
  /** Extra routes under /api/v1 (tests and benchmarks register baselines here). */
  extraRoutes?: (api: App) => void;
}

export async function createHttpApp(ctx: AppContext, options: HttpAppOptions = {}): Promise<App> {
  return buildApp({
    ctx,
    logger: ctx.logger,
    serveWeb: options.serveWeb ?? true,
    routes: async (api) => {
      // First: its hook resolves request.actor and refuses unauthenticated calls to every route.
      accessRoutes(api, ctx);
      regionRoutes(api, ctx);
      registryRoutes(api, ctx);
      groupRoutes(api, ctx);
      options.extraRoutes?.(api);
    },
  });
}
