// Starting and stopping the whole service: database, migrations, jobs, HTTP, and (embedded mode)
// the data-folder lock and the local socket for CLI commands.
import type http from 'node:http';
import type { Config } from './platform/config.ts';
import type { AppContext } from './platform/context.ts';
import { acquireDataDirLock, dataDirPaths } from './platform/embedded.ts';
import { secretKeyFor } from './platform/secrets.ts';
import type { App } from './platform/http.ts';
import { createLogger, type Logger } from './platform/logging.ts';
import { createContext, createHttpApp, openDatabase } from './app.ts';
import { startLocalCommandServer } from './cli/local-socket.ts';

export interface RunningServer {
  app: App;
  ctx: AppContext;
  url: string;
  stop(): Promise<void>;
}

export class DataDirInUseError extends Error {
  readonly ownerPid: number;
  constructor(ownerPid: number) {
    super(`the data folder is in use by process ${ownerPid}`);
    this.ownerPid = ownerPid;
  }
}

/** Opens the database, owning the data folder in embedded mode. */
export async function openContext(
  config: Config,
  logger: Logger,
): Promise<{ ctx: AppContext; release: () => void }> {
  let release = () => {};
  if (!config.databaseUrl) {
    const lock = acquireDataDirLock(config.dataDir);
    if (!lock.acquired) throw new DataDirInUseError(lock.ownerPid);
    release = lock.release;
  }
  try {
    const database = await openDatabase(config);
    const ctx = await createContext(config, database, logger);
    return { ctx, release };
  } catch (error) {
    release();
    throw error;
  }
}

export async function startServer(
  config: Config,
  options: { logger?: Logger; beforeListen?: (ctx: AppContext) => Promise<void> } = {},
): Promise<RunningServer> {
  const logger = options.logger ?? createLogger(config.logLevel);
  // The key that encrypts secrets at rest: required with DATABASE_URL, made once in the data
  // folder otherwise. Resolved before anything opens, so a missing key stops the start plainly.
  secretKeyFor(config);
  const { ctx, release } = await openContext(config, logger);
  let socket: http.Server | null = null;
  try {
    await options.beforeListen?.(ctx);
    const app = await createHttpApp(ctx);
    await app.listen({ host: config.host, port: config.port });
    if (!config.databaseUrl) socket = await startLocalCommandServer(dataDirPaths(config.dataDir).socket, ctx);
    if (config.runJobs) ctx.jobs.start();
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const url = `http://localhost:${port}`;
    let stopping: Promise<void> | null = null;
    const stop = () =>
      (stopping ??= (async () => {
        // Finish in-flight requests first (Fastify answers new ones with 503 while closing).
        await app.close();
        await ctx.jobs.stop();
        if (socket) await new Promise<void>((resolve) => socket!.close(() => resolve()));
        await ctx.database.close();
        release();
      })());
    return { app, ctx, url, stop };
  } catch (error) {
    await ctx.database.close();
    release();
    throw error;
  }
}
