// Test databases. Each test file gets its own fresh database: an in-memory PGlite by default, or,
// when TEST_DATABASE_URL is set, a new database on that PostgreSQL server, dropped on close. So
// runs never see each other's data and the whole suite runs on both engines.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openPglite, openPostgres, type Database } from '../../src/platform/db.ts';
import { migrate } from '../../src/platform/migrate.ts';
import { loadConfig, type Config } from '../../src/platform/config.ts';
import { createLogger, type Logger } from '../../src/platform/logging.ts';
import type { AppContext } from '../../src/platform/context.ts';
import { createContext, createHttpApp } from '../../src/app.ts';
import type { App } from '../../src/platform/http.ts';
import { loadRegions } from '../../src/modules/regions/index.ts';

export const DEMO_COUNTY = '410225';
export const TEST_SECRET_KEY = '5e'.repeat(32);

export function testEngine(): 'postgres' | 'pglite' {
  return process.env.TEST_DATABASE_URL ? 'postgres' : 'pglite';
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = '/' + name;
  return u.toString();
}

export type TestDatabase = Database & { url: string | null };

export async function openTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    const database = await openPglite(null);
    await migrate(database);
    return Object.assign(database, { url: null });
  }
  const name = `shouhu_t_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = withDatabase(adminUrl, name);
  const database = Object.assign(await openPostgres(url, 5), { url });
  await migrate(database);
  const close = database.close.bind(database);
  database.close = async () => {
    await close();
    const dropper = new pg.Client({ connectionString: adminUrl });
    await dropper.connect();
    await dropper.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await dropper.end();
  };
  return database;
}

export interface TestApp {
  ctx: AppContext;
  app: App;
  database: TestDatabase;
  logs: string[];
  close(): Promise<void>;
}

/**
 * A migrated database with the demo county's regions, the application context and the HTTP app
 * (use app.inject). Logs are captured in `logs` (one JSON line each).
 */
export async function createTestApp(
  overrides: Partial<Config> = {},
  options: { regions?: boolean } = {},
): Promise<TestApp> {
  const database = await openTestDatabase();
  const logs: string[] = [];
  const logger: Logger = createLogger('info', { write: (line: string) => logs.push(line) });
  // Files the app writes (uploads, error reports named by import id) go to a folder of this app's
  // own, removed on close, unless the test names one: never the working folder's ./data, where test
  // files running at once would overwrite each other's reports and leave files behind.
  const ownDataDir = overrides.dataDir ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-test-'));
  // A fixed key for secrets at rest, so no test writes a key file into the working folder.
  const config = loadConfig(
    {},
    {
      runJobs: false,
      secretKey: TEST_SECRET_KEY,
      ...(ownDataDir ? { dataDir: ownDataDir } : {}),
      ...overrides,
    },
  );
  const ctx = await createContext(config, database, logger);
  if (options.regions !== false) await loadRegions(database, { within: DEMO_COUNTY });
  const app = await createHttpApp(ctx, { serveWeb: false });
  await app.ready();
  return {
    ctx,
    app,
    database,
    logs,
    async close() {
      await app.close();
      await database.close();
      if (ownDataDir) fs.rmSync(ownDataDir, { recursive: true, force: true });
    },
  };
}
