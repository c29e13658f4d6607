// Configuration comes from the environment (twelve-factor), read once at start and passed down.
// Every value has a default that suits the embedded demo; production sets DATABASE_URL and the
// secrets.
import path from 'node:path';

export interface Config {
  /** PostgreSQL server URL; when absent the embedded PGlite database in `dataDir` is used. */
  databaseUrl: string | null;
  /** Folder of the embedded database, its lock and the local CLI socket. */
  dataDir: string;
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /** Serve cookies with the Secure flag (set when the server sits behind TLS). */
  secureCookies: boolean;
  sessionIdleMinutes: number;
  sessionAbsoluteHours: number;
  /**
   * How long a resolved session or API token is kept in memory (0: not at all). Changes made
   * through this process take effect at once; another server process's only after this time.
   */
  authCacheSeconds: number;
  lockoutAttempts: number;
  lockoutMinutes: number;
  /** Requests per minute per IP on the sign-in route. */
  loginRateLimit: number;
  /** Counts below this are shown as "<N" to viewers above the county. */
  smallCellThreshold: number;
  /** Run background jobs in this process. */
  runJobs: boolean;
  /**
   * The demo (`serve --demo`): demo accounts exist and administrators may work without TOTP.
   * Never read from the environment, so a production start cannot switch it on by accident.
   */
  demoMode: boolean;
  /**
   * Which proxies' X-Forwarded-For to believe for the client address (rate limits, audit). Off by
   * default: a client that reaches the server directly could otherwise choose its own address.
   */
  trustProxy: boolean | string;
  /**
   * The key that encrypts secrets at rest (TOTP seeds): 32 bytes as 64 hex digits, from
   * SHOUHU_SECRET_KEY. Required with DATABASE_URL; the embedded mode keeps one in the data folder
   * (src/platform/secrets.ts).
   */
  secretKey: string | null;
}

function intFrom(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0)
    throw new Error(`${name} must be a non-negative integer, got "${raw}"`);
  return value;
}

// Below 3 a small count could be pinned by its neighbours however much is hidden (groups.suppression.ts).
function smallCellThresholdFrom(env: NodeJS.ProcessEnv): number {
  const value = intFrom(env, 'SMALL_CELL_THRESHOLD', 5);
  if (value < 3) throw new Error(`SMALL_CELL_THRESHOLD must be at least 3, got ${value}`);
  return value;
}

function secretKeyFrom(env: NodeJS.ProcessEnv): string | null {
  const raw = env.SHOUHU_SECRET_KEY?.trim();
  if (!raw) return null;
  if (!/^[0-9a-fA-F]{64}$/.test(raw))
    throw new Error(
      'SHOUHU_SECRET_KEY must be 64 hex digits (32 bytes), e.g. the output of `openssl rand -hex 32`',
    );
  return raw.toLowerCase();
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  const logLevel = (env.LOG_LEVEL ?? 'info') as Config['logLevel'];
  if (!LOG_LEVELS.includes(logLevel)) throw new Error(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);
  return {
    databaseUrl: env.DATABASE_URL && env.DATABASE_URL !== '' ? env.DATABASE_URL : null,
    dataDir: path.resolve(env.SHOUHU_DATA_DIR ?? './data'),
    host: env.HOST ?? '0.0.0.0',
    port: intFrom(env, 'PORT', 3000),
    logLevel,
    secureCookies: env.SECURE_COOKIES === '1' || env.SECURE_COOKIES === 'true',
    sessionIdleMinutes: intFrom(env, 'SESSION_IDLE_MINUTES', 30),
    sessionAbsoluteHours: intFrom(env, 'SESSION_ABSOLUTE_HOURS', 12),
    authCacheSeconds: intFrom(env, 'AUTH_CACHE_SECONDS', 5),
    lockoutAttempts: intFrom(env, 'LOCKOUT_ATTEMPTS', 5),
    lockoutMinutes: intFrom(env, 'LOCKOUT_MINUTES', 15),
    loginRateLimit: intFrom(env, 'LOGIN_RATE_LIMIT', 30),
    smallCellThreshold: smallCellThresholdFrom(env),
    runJobs: env.SHOUHU_RUN_JOBS !== '0',
    demoMode: false,
    trustProxy: env.TRUST_PROXY === 'true' ? true : env.TRUST_PROXY ? env.TRUST_PROXY : false,
    secretKey: secretKeyFrom(env),
    ...overrides,
  };
}
