// Accounts and signed-in clients for HTTP tests. `signIn` goes through POST /auth/login;
// `sessionFor` makes a session directly in the database (for administrators, whose sign-in needs a
// fresh TOTP code each time).
import * as OTPAuth from 'otpauth';
import type { AppContext } from '../../src/platform/context.ts';
import type { App } from '../../src/platform/http.ts';
import type { Role } from '../../src/modules/access/index.ts';
import { hashPassword, sealTotpSecret } from '../../src/modules/access/index.ts';
import { randomSecret, sha256Hex } from '../../src/modules/access/access.rules.ts';

export const TEST_PASSWORD = 'Correct-Horse-42';

export interface TestUser {
  id: number;
  username: string;
  password: string;
  totpSecret: string | null;
}

let hashed: Promise<string> | null = null;

/** An account with a role, ready to sign in (password TEST_PASSWORD unless given). */
export async function makeUser(
  ctx: AppContext,
  username: string,
  role: Role | null,
  regionCode: string | null,
  options: { password?: string; mustChange?: boolean; totp?: boolean; individualAccess?: boolean } = {},
): Promise<TestUser> {
  const password = options.password ?? TEST_PASSWORD;
  const hash = options.password
    ? await hashPassword(password)
    : await (hashed ??= hashPassword(TEST_PASSWORD));
  const totpSecret = options.totp ? new OTPAuth.Secret({ size: 20 }).base32 : null;
  const row = await ctx.db
    .insertInto('users')
    .values({
      username,
      display_name: username,
      role,
      region_code: regionCode,
      password_hash: hash,
      must_change_password: options.mustChange ?? false,
      totp_secret: totpSecret === null ? null : sealTotpSecret(ctx.config, totpSecret),
      totp_enabled: options.totp ?? false,
      individual_access: options.individualAccess ?? false,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  await ctx.db.insertInto('password_history').values({ user_id: row.id, password_hash: hash }).execute();
  return { id: row.id, username, password, totpSecret };
}

/**
 * Waits, when less than `marginMs` is left of the current 30-second TOTP period, for the next one: a
 * test that takes the previous or a later period's code must not see the server's clock cross into
 * another period between the code and the sign-in (a loaded machine takes seconds for argon2).
 */
export async function awayFromPeriodEnd(marginMs = 10_000): Promise<void> {
  const left = 30_000 - (Date.now() % 30_000);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

export function totpCode(secret: string, offsetSteps = 0): string {
  return new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret), digits: 6, period: 30 }).generate({
    timestamp: Date.now() + offsetSteps * 30_000,
  });
}

export interface Client {
  cookie: string;
  csrf: string;
  headers: Record<string, string>;
  /** Headers for a state-changing request (cookie + CSRF header). */
  write: Record<string, string>;
}

export function cookieClient(session: string, csrf: string): Client {
  const cookie = `shouhu_session=${session}; shouhu_csrf=${csrf}`;
  return { cookie, csrf, headers: { cookie }, write: { cookie, 'x-shouhu-csrf': csrf } };
}

/** Reads the session and CSRF cookies that a login response set. */
export function clientFromLogin(response: { cookies: { name: string; value: string }[] }): Client {
  const session = response.cookies.find((c) => c.name === 'shouhu_session')?.value;
  const csrf = response.cookies.find((c) => c.name === 'shouhu_csrf')?.value;
  if (!session || !csrf) throw new Error('the login response set no session cookies');
  return cookieClient(session, csrf);
}

export async function signIn(
  app: App,
  username: string,
  password = TEST_PASSWORD,
  extra: Record<string, string> = {},
) {
  const response = await app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { username, password, ...extra },
  });
  return { response, client: response.statusCode === 200 ? clientFromLogin(response) : null };
}

/** A live session for the user, made directly in the database. */
export async function sessionFor(ctx: AppContext, userId: number): Promise<Client> {
  const session = randomSecret(32);
  const csrf = randomSecret(32);
  await ctx.db
    .insertInto('sessions')
    .values({ id: sha256Hex(session), user_id: userId, csrf_token: csrf, ip: '127.0.0.1' })
    .execute();
  return cookieClient(session, csrf);
}

/**
 * Users made and signed in, one client each, by the name the test calls them:
 * `{ county: ['county1', 'county_staff', '410225'], ... }`.
 */
export async function signedInClients<K extends string>(
  t: { ctx: AppContext; app: App },
  users: Record<K, [username: string, role: Role, regionCode: string]>,
): Promise<Record<K, Client>> {
  const clients = {} as Record<K, Client>;
  for (const [who, [username, role, region]] of Object.entries(users) as [K, [string, Role, string]][]) {
    await makeUser(t.ctx, username, role, region);
    const { client } = await signIn(t.app, username);
    if (!client) throw new Error(`${username} (${role}) could not sign in`);
    clients[who] = client;
  }
  return clients;
}

export type ApiMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/**
 * A call to `/api/v1{url}` as `client`: a GET with its cookie, a write with the CSRF header too, in
 * another language when `lang` is given.
 */
export function apiCall(
  app: App,
  client: Client,
  method: ApiMethod,
  url: string,
  payload?: unknown,
  lang?: string,
) {
  return app.inject({
    method,
    url: `/api/v1${url}`,
    headers: {
      ...(method === 'GET' ? client.headers : client.write),
      ...(lang ? { 'accept-language': lang } : {}),
    },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

/** The newest audit entry's id (0 when there is none): the entries after it are what a test did. */
export async function lastAuditId(ctx: AppContext): Promise<number> {
  const row = await ctx.db
    .selectFrom('audit_log')
    .select((eb) => eb.fn.max('id').as('id'))
    .executeTakeFirstOrThrow();
  return Number(row.id ?? 0);
}
