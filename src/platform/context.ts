// What every module's service, route and job receives: the configuration, the database and the
// job queue. Built once by src/app.ts (the composition root).
import type { Kysely } from 'kysely';
import type { Config } from './config.ts';
import type { Database } from './db.ts';
import type { DB } from './db.schema.ts';
import type { JobQueue } from './jobs.ts';
import type { Logger } from './logging.ts';

export interface AppContext {
  config: Config;
  database: Database;
  db: Kysely<DB>;
  jobs: JobQueue;
  logger: Logger;
}
