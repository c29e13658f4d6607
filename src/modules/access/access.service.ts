// Accounts, sign-in, sessions, TOTP, API tokens and the administrators' use cases. Each use case
// owns its transaction and writes its audit entry inside it. Services throw DomainError only.
import { randomBytes } from 'node:crypto';
import { hash as argonHash, verify as argonVerify } from '@node-rs/argon2';
import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { AppContext } from '../../platform/context.ts';
import type { Config } from '../../platform/config.ts';
import type { DB } from '../../platform/db.schema.ts';
import { DomainError, conflict, forbidden, invalid, notFound, type Message } from '../../platform/errors.ts';
import { isSealed, seal, sealedKeyId, secretKeyFor, unseal } from '../../platform/secrets.ts';
import {
  ADMIN_ROLES,
  ROLE_LABELS,
  holdsPersonalData,
  permissionsOf,
  VIEWER_ROLES,
  requireAccess,
  type Actor,
  type Role,
} from './access.policy.ts';
import { signInCache } from './access.cache.ts';
import * as repo from './access.repository.ts';
import type { UserRow } from './access.repository.ts';
import {
  PASSWORD_HISTORY,
  isAdminRole,
  isRole,
  newApiToken,
  normalizeRecoveryCode,
  normalizeUsername,
  passwordProblems,
  randomSecret,
  recoveryCodes,
  regionFitsRole,
  sha256Hex,
  temporaryPassword,
} from './access.rules.ts';
import { anonymousActor, audit, systemActor, toAuditActor, type AuditActor } from './audit.ts';
import type {
  AssignRoleBody,
  CreateOwnTokenBody,
  CreateTokenBody,
  Me,
  TokenView,
  UserView,
} from './access.schemas.ts';

type Db = Kysely<DB> | Transaction<DB>;

// ---------- Passwords ----------

// argon2id with the library defaults (19 MiB, 2 passes, 1 lane: the OWASP minimum).
export async function hashPassword(password: string): Promise<string> {
  return argonHash(password);
}

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await argonVerify(hashed, password);
  } catch {
    return false;
  }
}

let dummyHash: Promise<string> | null = null;
/** Spends the time of a real verification, so an unknown username answers as slowly as a known one. */
async function spendVerificationTime(password: string): Promise<void> {
  dummyHash ??= hashPassword(randomSecret(16));
  await verifyPassword(await dummyHash, password);
}

function policyError(problems: Message[]): DomainError {
  return new DomainError(
    'VALIDATION_FAILED',
    { zh: '新密码不符合密码策略', en: 'The new password does not meet the password policy' },
    problems.map((message) => ({ path: 'newPassword', message })),
  );
}

// ---------- Who is asking ----------

export type SessionLimitation = 'password_change' | 'two_factor_enrollment' | null;

/** A session may be limited: a forced password change first, then (administrators) TOTP enrolment. */
export function limitationOf(
  user: Pick<UserRow, 'must_change_password' | 'role' | 'totp_enabled' | 'must_enroll_totp'>,
  config: Config,
): SessionLimitation {
  if (user.must_change_password) return 'password_change';
  if (twoFactorRequired(user, config) && !user.totp_enabled) return 'two_factor_enrollment';
  return null;
}

/** Administrators always (outside the demo); anyone whose enrolment an administrator reset. */
function twoFactorRequired(user: Pick<UserRow, 'role' | 'must_enroll_totp'>, config: Config): boolean {
  if (user.must_enroll_totp) return true;
  return isRole(user.role) && isAdminRole(user.role) && !config.demoMode;
}

/** What a request needs of its user: the actor, the demo flag and the session's limitation. */
type SignedInUser = Pick<
  UserRow,
  | 'id'
  | 'username'
  | 'role'
  | 'region_code'
  | 'individual_access'
  | 'demo'
  | 'must_change_password'
  | 'totp_enabled'
  | 'must_enroll_totp'
>;

function actorForUser(
  user: Pick<UserRow, 'id' | 'username' | 'role' | 'region_code' | 'individual_access'>,
  ip: string,
  sessionId: string | null,
  requestId: string | null,
): Actor {
  const role = user.role as Role;
  return {
    kind: 'user',
    userId: user.id,
    tokenId: null,
    username: user.username,
    role,
    regionCode: user.region_code ?? '',
    permissions: permissionsOf(role, user.individual_access),
    individualAccess: VIEWER_ROLES.includes(role) && user.individual_access,
    ip,
    sessionId,
    requestId,
  };
}

export interface SessionAuth {
  actor: Actor;
  sessionId: string;
  csrfToken: string;
  limitation: SessionLimitation;
}

// A resolved sign-in as the cache keeps it (no password hash, no TOTP seed). Its deadlines are
// Date.now() values computed from the database's own clock at the lookup (taken before the query
// was sent, so they err early), and every hit checks them: a session past its idle or absolute
// timeout, or a token past its expiry, is looked up again, and the database decides.
interface CachedSession {
  kind: 'session';
  user: SignedInUser;
  csrfToken: string;
  lastSeenAt: number;
  idleEndsAt: number;
  absoluteEndsAt: number;
}

interface CachedToken {
  kind: 'token';
  token: {
    id: number;
    name: string;
    role: Role;
    region_code: string | null;
    individual_access: boolean;
    /** The business user the token belongs to, the actor of its audit entries; null: none (see tokenOwner). */
    owner: TokenOwner | null;
  };
  lastUsedAt: number | null;
  expiresAt: number;
}

type CachedSignIn = CachedSession | CachedToken;

/** last_seen_at is written at most this often; the idle timeout counts from it. */
const SESSION_TOUCH_MS = 10_000;
const TOKEN_TOUCH_MS = 60_000;

/** Converts a database time into our clock, given the database's now() and our time before asking. */
function localTime(at: Date | string, checkedAt: Date | string, askedAt: number): number {
  return askedAt + (new Date(at).getTime() - new Date(checkedAt).getTime());
}

/**
 * Forgets the cached sign-ins a committed change affects: call after the transaction, so that no
 * request can cache the state from before it again (see SignInCache.generation).
 */
export function forgetSignIns(
  ctx: AppContext,
  what: { userId?: number | null; tokenId?: number | null; sessionId?: string | null },
): void {
  const cache = signInCache<CachedSignIn>(ctx);
  if (what.sessionId) cache.forgetKey(`s:${what.sessionId}`);
  if (what.userId != null || what.tokenId != null)
    cache.forget({ userId: what.userId ?? null, tokenId: what.tokenId ?? null });
}

/** Resolves the session cookie to its actor; null when the session is unknown, expired or revoked. */
export async function authenticateSession(
  ctx: AppContext,
  rawSessionId: string,
  ip: string,
  requestId: string | null,
): Promise<SessionAuth | null> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(rawSessionId)) return null;
  const idHash = sha256Hex(rawSessionId);
  const cache = signInCache<CachedSignIn>(ctx);
  const key = `s:${idHash}`;
  let session = cache.get(key);
  if (session?.kind !== 'session' || Date.now() >= Math.min(session.idleEndsAt, session.absoluteEndsAt)) {
    const generation = cache.generation();
    const askedAt = Date.now();
    const row = await repo.findLiveSession(
      ctx.db,
      idHash,
      ctx.config.sessionIdleMinutes,
      ctx.config.sessionAbsoluteHours,
    );
    if (!row || !isRole(row.role)) {
      cache.drop(key);
      return null;
    }
    const lastSeenAt = localTime(row.last_seen_at, row.checked_at, askedAt);
    session = {
      kind: 'session',
      user: {
        id: row.id,
        username: row.username,
        role: row.role,
        region_code: row.region_code,
        individual_access: row.individual_access,
        demo: row.demo,
        must_change_password: row.must_change_password,
        totp_enabled: row.totp_enabled,
        must_enroll_totp: row.must_enroll_totp,
      },
      csrfToken: row.csrf_token,
      lastSeenAt,
      idleEndsAt: lastSeenAt + ctx.config.sessionIdleMinutes * 60_000,
      absoluteEndsAt:
        localTime(row.session_created_at, row.checked_at, askedAt) +
        ctx.config.sessionAbsoluteHours * 3_600_000,
    };
    cache.put(key, session, { userId: row.id, tokenId: null }, generation);
  }
  const { user } = session;
  if (user.demo && !ctx.config.demoMode) return null;
  // The idle clock needs minute precision at most: skip the write while the last touch is fresh.
  const now = Date.now();
  if (now - session.lastSeenAt >= SESSION_TOUCH_MS) {
    await repo.touchSession(ctx.db, idHash);
    session.lastSeenAt = now;
    session.idleEndsAt = now + ctx.config.sessionIdleMinutes * 60_000;
  }
  return {
    actor: actorForUser(user, ip, idHash, requestId),
    sessionId: idHash,
    csrfToken: session.csrfToken,
    limitation: limitationOf(user, ctx.config),
  };
}

interface TokenOwner {
  id: number;
  username: string;
}

/** A token row with its creator's account as it stands now (access.repository.ts findLiveToken*). */
interface TokenWithCreator {
  role: string;
  region_code: string | null;
  individual_access: boolean;
  created_by: number | null;
  creator_username: string | null;
  creator_role: string | null;
  creator_region_code: string | null;
  creator_individual_access: boolean | null;
  creator_disabled: boolean | null;
  creator_demo: boolean | null;
}

/**
 * Whom a token acts for (三员分立, DOMAIN.md section 6: no administrator holds a working business
 * credential):
 * - made on the server console (no creator): the token itself, as before (the console is the host's
 *   operator, who could read the database anyway);
 * - created by a business user for himself (POST /auth/tokens): that user, while his account is
 *   enabled and still has the token's role, region and grant; a disabled account or a changed role
 *   or region ends the token with the account's sessions;
 * - issued by an administrator: the token itself, and only for a role without personal data. A token
 *   of a role with personal data that an administrator created (possible before this rule) does not
 *   work: its secret was in the administrator's hands.
 * undefined: the token may not act.
 */
function tokenOwner(row: TokenWithCreator, config: Config): TokenOwner | null | undefined {
  if (row.created_by === null) return null;
  const creatorRole = row.creator_role;
  if (creatorRole === null || !isRole(creatorRole) || isAdminRole(creatorRole))
    return isRole(row.role) && !holdsPersonalData(row.role, row.individual_access) ? null : undefined;
  if (row.creator_disabled !== false || (row.creator_demo === true && !config.demoMode)) return undefined;
  const sameGrant =
    (VIEWER_ROLES.includes(creatorRole) && row.creator_individual_access === true) ===
    (VIEWER_ROLES.includes(creatorRole) && row.individual_access);
  if (creatorRole !== row.role || (row.creator_region_code ?? '') !== (row.region_code ?? '') || !sameGrant)
    return undefined;
  return { id: row.created_by, username: row.creator_username ?? '' };
}

/** Resolves an API token (Authorization: Bearer) to its actor; null when unknown, expired or revoked. */
export async function authenticateToken(
  ctx: AppContext,
  raw: string,
  ip: string,
  requestId: string | null,
): Promise<Actor | null> {
  if (raw.length < 20 || raw.length > 200) return null;
  const tokenHash = sha256Hex(raw);
  const cache = signInCache<CachedSignIn>(ctx);
  const key = `t:${tokenHash}`;
  let cached = cache.get(key);
  if (cached?.kind !== 'token' || Date.now() >= cached.expiresAt) {
    const generation = cache.generation();
    const askedAt = Date.now();
    const row = await repo.findLiveTokenForAuth(ctx.db, tokenHash);
    const owner = row ? tokenOwner(row, ctx.config) : undefined;
    if (!row || !isRole(row.role) || owner === undefined) {
      cache.drop(key);
      return null;
    }
    cached = {
      kind: 'token',
      token: {
        id: row.id,
        name: row.name,
        role: row.role,
        region_code: row.region_code,
        individual_access: row.individual_access,
        owner,
      },
      lastUsedAt: row.last_used_at ? localTime(row.last_used_at, row.checked_at, askedAt) : null,
      expiresAt: localTime(row.expires_at, row.checked_at, askedAt),
    };
    // Kept under the owner too: disabling him or changing his role forgets it with his sessions.
    cache.put(key, cached, { userId: owner?.id ?? null, tokenId: row.id }, generation);
  }
  const { token } = cached;
  const now = Date.now();
  if (cached.lastUsedAt === null || now - cached.lastUsedAt >= TOKEN_TOUCH_MS) {
    await repo.touchToken(ctx.db, token.id);
    cached.lastUsedAt = now;
  }
  const role = token.role;
  // A business user's own token acts as that user (the accountable actor of its audit entries, its
  // writes' recorded_by); the entries name the token by actor_token_id.
  return {
    kind: 'token',
    userId: token.owner?.id ?? null,
    tokenId: token.id,
    username: token.owner?.username ?? `token:${token.name}`,
    role,
    regionCode: token.region_code ?? '',
    permissions: permissionsOf(role, token.individual_access),
    individualAccess: VIEWER_ROLES.includes(role) && token.individual_access,
    ip,
    sessionId: null,
    requestId,
  };
}

/**
 * Whether the sign-in an actor was resolved from still stands with the same rights: the session live
 * (not signed out, idle or past its age, the account enabled) or the token not revoked or expired, with
 * the same role, region and grant. Read from the database, not the sign-in cache, so that a change in
 * another server process holds too. A long download asks between its pages (signInGuard): a disabled
 * account, a narrowed role or a revoked token stops it, as it stops the next request. An actor with no
 * sign-in (the command line on the server) has nothing to lose.
 */
export async function stillSignedIn(ctx: AppContext, actor: Actor): Promise<boolean> {
  const same = (role: string | null, regionCode: string | null, individualAccess: boolean) =>
    role === actor.role &&
    (regionCode ?? '') === actor.regionCode &&
    (VIEWER_ROLES.includes(actor.role) && individualAccess) === actor.individualAccess;
  if (actor.kind === 'token') {
    if (actor.tokenId === null) return false;
    const row = await repo.findLiveTokenById(ctx.db, actor.tokenId);
    if (row === undefined || !same(row.role, row.region_code, row.individual_access)) return false;
    const owner = tokenOwner(row, ctx.config);
    return owner !== undefined && (owner?.id ?? null) === actor.userId;
  }
  const sessionId = actor.sessionId;
  if (sessionId === null) return actor.userId === null;
  const row = await repo.findLiveSession(
    ctx.db,
    sessionId,
    ctx.config.sessionIdleMinutes,
    ctx.config.sessionAbsoluteHours,
  );
  if (!row || (row.demo && !ctx.config.demoMode) || row.must_change_password) return false;
  if (!same(row.role, row.region_code, row.individual_access)) return false;
  // Downloading is using the session: it does not go idle under a long export.
  await repo.touchSession(ctx.db, sessionId);
  return true;
}

/**
 * The records of a long download, asking stillSignedIn at most once a second as they are read (and so
 * on the first record read after the client paused): when the sign-in no longer stands the download
 * stops with UNAUTHENTICATED, audited with what was asked for.
 */
export async function* signInGuard<T>(
  ctx: AppContext,
  actor: Actor,
  records: AsyncIterable<T>,
  what: { action: string; entityType: string; entityId: string; regionCode: string | null },
  everyMs = 1000,
): AsyncGenerator<T> {
  let checkedAt = Date.now();
  for await (const record of records) {
    if (Date.now() - checkedAt >= everyMs) {
      if (!(await stillSignedIn(ctx, actor))) {
        await audit(ctx.db, actor, {
          action: `${what.action}.stopped`,
          entityType: what.entityType,
          entityId: what.entityId,
          regionCode: what.regionCode,
          result: 'denied',
          details: { reason: 'sign-in no longer valid' },
        });
        throw new DomainError('UNAUTHENTICATED');
      }
      checkedAt = Date.now();
    }
    yield record;
  }
}

const REFUSAL_AUDIT_MS = 60_000;
const refusalAudited = new Map<string, number>();

/**
 * A credential refused at the door that names a known sign-in: an API token revoked or expired, or the
 * session of a disabled account. Audited (`auth.token.refused`, `auth.session.refused`) with the token
 * or account, the IP and the route: a leaked or forgotten credential still in use is what an auditor
 * must see. Unknown tokens and sessions that merely went idle or were signed out are not written (any
 * client may send garbage; a browser left open sends its expired cookie), so the trail stays the
 * record of real credentials.
 */
export async function auditRefusedCredential(
  ctx: AppContext,
  credential: { kind: 'token' | 'session'; raw: string },
  meta: { ip: string; requestId: string | null; route: string },
): Promise<void> {
  // One entry a minute per credential: an integration polling with a revoked token is on record
  // without filling the trail with an entry per request.
  const hash = sha256Hex(credential.raw);
  const key = `${credential.kind}:${hash}`;
  const now = Date.now();
  if ((refusalAudited.get(key) ?? 0) > now - REFUSAL_AUDIT_MS) return;
  if (refusalAudited.size >= 10_000) refusalAudited.clear();
  refusalAudited.set(key, now);
  if (credential.kind === 'token') {
    if (credential.raw.length < 20 || credential.raw.length > 200) return;
    const row = await ctx.db
      .selectFrom('api_tokens')
      .select(['id', 'name', 'role', 'region_code', 'revoked_at'])
      .select(sql<boolean>`expires_at <= now()`.as('expired'))
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return;
    await audit(ctx.db, anonymousActor(meta.ip, meta.requestId, `token:${row.name}`), {
      action: 'auth.token.refused',
      entityType: 'api_token',
      entityId: row.id,
      regionCode: row.region_code,
      result: 'denied',
      details: {
        route: meta.route,
        reason: row.revoked_at !== null ? 'revoked' : row.expired ? 'expired' : 'refused',
      },
    });
    return;
  }
  if (!/^[A-Za-z0-9_-]{43}$/.test(credential.raw)) return;
  const row = await ctx.db
    .selectFrom('sessions as s')
    .innerJoin('users as u', 'u.id', 's.user_id')
    .select(['u.id', 'u.username', 'u.region_code', 'u.disabled'])
    .where('s.id', '=', hash)
    .executeTakeFirst();
  if (!row?.disabled) return;
  await audit(ctx.db, anonymousActor(meta.ip, meta.requestId, row.username), {
    action: 'auth.session.refused',
    entityType: 'user',
    entityId: row.id,
    regionCode: row.region_code,
    result: 'denied',
    details: { route: meta.route, reason: 'account disabled' },
  });
}

// ---------- Sign-in ----------

/**
 * The in-memory guard of the sign-in route: requests per IP per minute. (Failures of unknown
 * usernames are counted in the database, like those of accounts: see recordUnknownNameFailure.)
 */
export class LoginGuard {
  readonly #perIp = new Map<string, { windowStart: number; count: number }>();
  readonly #now: () => number;
  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Counts a sign-in request; false when the IP has used up its requests for this minute. */
  allow(ip: string, perMinute: number): boolean {
    const now = this.#now();
    ip = addressKey(ip);
    const entry = this.#perIp.get(ip);
    if (!entry || now - entry.windowStart >= 60_000) {
      if (this.#perIp.size > 50_000) this.#perIp.clear();
      this.#perIp.set(ip, { windowStart: now, count: 1 });
      return true;
    }
    entry.count += 1;
    return entry.count <= perMinute;
  }
}

/**
 * The address the per-IP limit counts: an IPv4 address as it is (also IPv4-mapped IPv6), an IPv6
 * address by its /64 network, since one subscriber line gets a whole /64 and could otherwise take a
 * new address for every attempt.
 */
export function addressKey(ip: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!ip.includes(':')) return ip;
  const [head = '', tail = ''] = ip.split('%')[0]!.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = ip.includes('::') && tail ? tail.split(':') : [];
  const groups = ip.includes('::')
    ? [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right]
    : left;
  return groups
    .slice(0, 4)
    .map((g) => (parseInt(g, 16) || 0).toString(16))
    .join(':')
    .concat('::/64');
}

const BAD_CREDENTIALS: Message = { zh: '用户名或密码错误', en: 'Wrong username or password' };

export interface LoginInput {
  username: string;
  password: string;
  totpCode?: string | undefined;
  recoveryCode?: string | undefined;
}

export interface LoginResult {
  sessionToken: string;
  csrfToken: string;
  limitation: SessionLimitation;
}

export async function login(
  ctx: AppContext,
  guard: LoginGuard,
  input: LoginInput,
  meta: { ip: string; requestId: string },
): Promise<LoginResult> {
  const { config } = ctx;
  if (!guard.allow(meta.ip, config.loginRateLimit)) throw new DomainError('RATE_LIMITED');
  const username = normalizeUsername(input.username);
  const user = await repo.findUserByUsername(ctx.db, username);
  const anonymous = anonymousActor(meta.ip, meta.requestId, username);

  if (!user) {
    // An unknown name locks like an account, counted in the database so that every server process
    // and a restarted one answer it like a known name (which would otherwise tell them apart).
    await spendVerificationTime(input.password);
    const nameHash = sha256Hex(`login:${username}`);
    const wasLocked = await repo.unknownNameLocked(ctx.db, nameHash);
    const locks =
      !wasLocked &&
      (await repo.recordUnknownNameFailure(ctx.db, nameHash, config.lockoutAttempts, config.lockoutMinutes));
    await audit(
      ctx.db,
      { ...anonymous, username: '' },
      {
        action: 'auth.login',
        result: 'denied',
        details: { reason: 'unknown_user' },
      },
    );
    throw wasLocked || locks
      ? new DomainError('ACCOUNT_LOCKED')
      : new DomainError('UNAUTHENTICATED', BAD_CREDENTIALS);
  }

  const who: AuditActor = {
    ...anonymous,
    kind: 'anonymous',
    userId: user.id,
    username: user.username,
    role: user.role,
  };
  // The attempt is counted before the password is checked, so that parallel guesses cannot all
  // read "not locked" first: one beyond the allowed number is refused like a locked account.
  const attempt =
    user.locked_until && user.locked_until.getTime() > Date.now() ? null : await reserveAttempt(ctx, user.id);
  if (attempt === null || (config.lockoutAttempts > 0 && attempt > config.lockoutAttempts)) {
    await spendVerificationTime(input.password);
    await audit(ctx.db, who, {
      action: 'auth.login',
      entityType: 'user',
      entityId: user.id,
      result: 'denied',
      details: { reason: 'locked' },
    });
    throw new DomainError('ACCOUNT_LOCKED');
  }

  const passwordOk = await verifyPassword(user.password_hash, input.password);
  if (!passwordOk) {
    const locked = await recordFailure(ctx, user, who, 'bad_password', 'auth.login', attempt);
    throw locked ? new DomainError('ACCOUNT_LOCKED') : new DomainError('UNAUTHENTICATED', BAD_CREDENTIALS);
  }
  // The password was right: what stops the sign-in now is not a guess.
  if (
    user.disabled ||
    (user.demo && !config.demoMode) ||
    !isRole(user.role) ||
    (user.totp_enabled && !input.totpCode && !input.recoveryCode)
  )
    await releaseAttempt(ctx, user.id);
  if (user.disabled || (user.demo && !config.demoMode)) {
    const reason = user.disabled ? 'disabled' : 'demo_account_outside_demo';
    await audit(ctx.db, who, {
      action: 'auth.login',
      entityType: 'user',
      entityId: user.id,
      result: 'denied',
      details: { reason },
    });
    throw new DomainError('UNAUTHENTICATED', BAD_CREDENTIALS);
  }
  if (!isRole(user.role)) {
    await audit(ctx.db, who, {
      action: 'auth.login',
      entityType: 'user',
      entityId: user.id,
      result: 'denied',
      details: { reason: 'no_role' },
    });
    throw forbidden({
      zh: '账户尚未分配角色，请联系安全管理员',
      en: 'The account has no role yet; ask the security administrator',
    });
  }

  let secondFactor: 'totp' | 'recovery_code' | null = null;
  if (user.totp_enabled) {
    if (!input.totpCode && !input.recoveryCode) throw new DomainError('TWO_FACTOR_REQUIRED');
    const ok = input.totpCode
      ? await useTotpCode(ctx, user, input.totpCode)
      : await useRecoveryCode(ctx.db, user.id, input.recoveryCode ?? '');
    if (!ok) {
      const locked = await recordFailure(
        ctx,
        user,
        who,
        input.totpCode ? 'bad_totp' : 'bad_recovery_code',
        'auth.login',
        attempt,
      );
      throw locked ? new DomainError('ACCOUNT_LOCKED') : new DomainError('UNAUTHENTICATED', BAD_CREDENTIALS);
    }
    secondFactor = input.totpCode ? 'totp' : 'recovery_code';
  }

  const sessionToken = randomSecret(32);
  const csrfToken = randomSecret(32);
  const signedIn = await ctx.db.transaction().execute(async (trx) => {
    // The password (and TOTP code) were checked against the account as read before; a password
    // or two-factor reset that committed meanwhile has ended every session, and must not be
    // outlived by this one.
    const current = await repo.lockUserRow(trx, user.id);
    if (
      !current ||
      current.password_hash !== user.password_hash ||
      current.totp_secret !== user.totp_secret
    ) {
      await audit(trx, who, {
        action: 'auth.login',
        entityType: 'user',
        entityId: user.id,
        result: 'denied',
        details: { reason: 'password_changed_meanwhile' },
      });
      return false;
    }
    await trx
      .updateTable('users')
      .set({ failed_attempts: 0, locked_until: null })
      .where('id', '=', user.id)
      .execute();
    await repo.deleteDeadSessions(trx, user.id, config.sessionIdleMinutes, config.sessionAbsoluteHours);
    await trx
      .insertInto('sessions')
      .values({ id: sha256Hex(sessionToken), user_id: user.id, csrf_token: csrfToken, ip: meta.ip })
      .execute();
    await audit(
      trx,
      { ...who, kind: 'user' },
      {
        action: 'auth.login',
        entityType: 'user',
        entityId: user.id,
        regionCode: user.region_code,
        details: { secondFactor },
      },
    );
    return true;
  });
  if (!signedIn) throw new DomainError('UNAUTHENTICATED', BAD_CREDENTIALS);
  return { sessionToken, csrfToken, limitation: limitationOf(user, config) };
}

/** Counts a sign-in attempt before its password is checked; the count with it, or null when locked. */
async function reserveAttempt(ctx: AppContext, userId: number): Promise<number | null> {
  const row = await sql<{ failed_attempts: number }>`
    UPDATE users SET failed_attempts = failed_attempts + 1
    WHERE id = ${userId} AND (locked_until IS NULL OR locked_until <= now())
    RETURNING failed_attempts`.execute(ctx.db);
  return row.rows[0]?.failed_attempts ?? null;
}

/** Gives back a reserved attempt whose password was right. */
async function releaseAttempt(ctx: AppContext, userId: number): Promise<void> {
  await sql`UPDATE users SET failed_attempts = greatest(failed_attempts - 1, 0) WHERE id = ${userId}`.execute(
    ctx.db,
  );
}

/**
 * Counts a failed sign-in; locks the account at the configured number of failures.
 */
async function recordFailure(
  ctx: AppContext,
  user: UserRow,
  who: AuditActor,
  reason: string,
  action = 'auth.login',
  reservedAttempt: number | null = null,
): Promise<boolean> {
  const { lockoutAttempts, lockoutMinutes } = ctx.config;
  // A reserved attempt is counted already and locks when it is the last one allowed; otherwise the
  // failure is counted here.
  const add = reservedAttempt === null ? 1 : 0;
  const locks =
    reservedAttempt === null
      ? sql<boolean>`(${lockoutAttempts} > 0 AND failed_attempts + 1 >= ${lockoutAttempts})`
      : sql<boolean>`${lockoutAttempts > 0 && reservedAttempt >= lockoutAttempts}::boolean`;
  return ctx.db.transaction().execute(async (trx) => {
    const row = await sql<{ failed_attempts: number; locked_until: Date | null }>`
      UPDATE users SET
        failed_attempts = CASE WHEN ${locks} THEN 0 ELSE failed_attempts + ${add} END,
        locked_until = CASE WHEN ${locks} THEN now() + make_interval(mins => ${lockoutMinutes}) ELSE locked_until END
      WHERE id = ${user.id}
      RETURNING failed_attempts, locked_until`.execute(trx);
    const lockedUntil = row.rows[0]?.locked_until ?? null;
    const locked = lockedUntil !== null && lockedUntil.getTime() > Date.now();
    await audit(trx, who, {
      action,
      entityType: 'user',
      entityId: user.id,
      result: 'denied',
      details: { reason, ...(locked ? { locked: true, lockMinutes: lockoutMinutes } : {}) },
    });
    return locked;
  });
}

export async function logout(ctx: AppContext, actor: Actor): Promise<void> {
  if (!actor.sessionId) return;
  const sessionId = actor.sessionId;
  await ctx.db.transaction().execute(async (trx) => {
    await repo.revokeSession(trx, sessionId);
    await audit(trx, actor, { action: 'auth.logout', entityType: 'user', entityId: actor.userId });
  });
  forgetSignIns(ctx, { sessionId });
}

/**
 * Signs the user out everywhere: every session (this one included) and the user's own API tokens
 * (what a user does who fears a session was stolen, and such a session may have made one).
 */
export async function logoutEverywhere(
  ctx: AppContext,
  actor: Actor,
): Promise<{ sessions: number; tokens: number }> {
  const userId = requireUser(actor);
  const counts = await ctx.db.transaction().execute(async (trx) => {
    const sessions = await repo.revokeUserSessions(trx, userId);
    await audit(trx, actor, {
      action: 'auth.logout_all',
      entityType: 'user',
      entityId: userId,
      details: { sessions },
    });
    const tokens = await revokeTokensWithCredentials(
      trx,
      actor,
      { id: userId, role: actor.role },
      'signed out everywhere',
    );
    return { sessions, tokens };
  });
  forgetSignIns(ctx, { userId });
  return counts;
}

function requireUser(actor: Actor): number {
  if (actor.kind !== 'user' || actor.userId === null)
    throw forbidden({ zh: '此操作需要以用户身份登录', en: 'This needs a signed-in user, not an API token' });
  return actor.userId;
}

export async function me(ctx: AppContext, actor: Actor, csrfToken: string | null): Promise<Me> {
  const base = {
    kind: actor.kind,
    role: actor.role,
    roleLabel: ROLE_LABELS[actor.role].zh,
    regionCode: actor.regionCode,
    regionName: await repo.regionName(ctx.db, actor.regionCode || null),
    permissions: [...actor.permissions],
    individualAccess: actor.individualAccess,
    csrfToken,
  };
  if (actor.kind === 'token' || actor.userId === null) {
    return {
      ...base,
      user: { id: actor.tokenId ?? 0, username: actor.username, displayName: actor.username },
      mustChangePassword: false,
      twoFactorEnabled: false,
      twoFactorRequired: false,
      limitedTo: null,
    };
  }
  const user = await repo.findUserById(ctx.db, actor.userId);
  if (!user) throw new DomainError('UNAUTHENTICATED');
  return {
    ...base,
    user: { id: user.id, username: user.username, displayName: user.display_name },
    mustChangePassword: user.must_change_password,
    twoFactorEnabled: user.totp_enabled,
    twoFactorRequired: twoFactorRequired(user, ctx.config),
    limitedTo: limitationOf(user, ctx.config),
  };
}

// ---------- Passwords ----------

async function checkNewPassword(
  db: Db,
  user: Pick<UserRow, 'id' | 'username'>,
  password: string,
): Promise<void> {
  const problems = passwordProblems(password, user.username);
  if (problems.length) throw policyError(problems);
  for (const old of await repo.recentPasswordHashes(db, user.id, PASSWORD_HISTORY)) {
    if (await verifyPassword(old, password))
      throw policyError([
        {
          zh: `不能与最近 ${PASSWORD_HISTORY} 次使用过的密码相同`,
          en: `must differ from the last ${PASSWORD_HISTORY} passwords`,
        },
      ]);
  }
}

/**
 * Asks a signed-in user for their password again before a change a stolen session must not make
 * (a new password, a new authenticator). Counted before the check like a sign-in, so that parallel
 * guesses through a stolen session get no more than the allowed number; a locked account is not
 * checked at all, and a lockout ends every session of the account.
 */
async function reauthenticate(
  ctx: AppContext,
  actor: Actor,
  user: UserRow,
  password: string,
  action: string,
  field: string,
): Promise<void> {
  const attempt = await reserveAttempt(ctx, user.id);
  if (attempt === null || (ctx.config.lockoutAttempts > 0 && attempt > ctx.config.lockoutAttempts)) {
    await audit(ctx.db, actor, {
      action,
      entityType: 'user',
      entityId: user.id,
      result: 'denied',
      details: { reason: 'locked' },
    });
    await repo.revokeUserSessions(ctx.db, user.id);
    forgetSignIns(ctx, { userId: user.id });
    throw new DomainError('ACCOUNT_LOCKED');
  }
  if (!(await verifyPassword(user.password_hash, password))) {
    const locked = await recordFailure(
      ctx,
      user,
      toAuditActor(actor),
      'bad_current_password',
      action,
      attempt,
    );
    if (locked) {
      await repo.revokeUserSessions(ctx.db, user.id);
      forgetSignIns(ctx, { userId: user.id });
    }
    throw invalid(field, { zh: '当前密码不正确', en: 'The current password is wrong' });
  }
  await releaseAttempt(ctx, user.id);
}

/** Changes the signed-in user's password; every other session of the user is signed out. */
export async function changePassword(
  ctx: AppContext,
  actor: Actor,
  currentPassword: string,
  newPassword: string,
): Promise<void> {
  const userId = requireUser(actor);
  const user = await repo.findUserById(ctx.db, userId);
  if (!user) throw new DomainError('UNAUTHENTICATED');
  await reauthenticate(ctx, actor, user, currentPassword, 'auth.password.change', 'currentPassword');
  await checkNewPassword(ctx.db, user, newPassword);
  const hashed = await hashPassword(newPassword);
  await ctx.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('users')
      .set({
        password_hash: hashed,
        password_changed_at: sql<Date>`now()`,
        must_change_password: false,
        updated_at: sql<Date>`now()`,
        version: sql<number>`version + 1`,
      })
      .where('id', '=', userId)
      .execute();
    await repo.pushPasswordHistory(trx, userId, hashed, PASSWORD_HISTORY);
    const others = await repo.revokeUserSessions(trx, userId, actor.sessionId);
    await audit(trx, actor, {
      action: 'auth.password.change',
      entityType: 'user',
      entityId: userId,
      details: { otherSessionsRevoked: others },
    });
    // A token made with the old password is what a thief of that password keeps.
    await revokeTokensWithCredentials(trx, actor, user, 'password changed');
  });
  // The other sessions end (and the own tokens), and this one loses its password-change limitation.
  forgetSignIns(ctx, { userId });
}

// ---------- TOTP (RFC 6238) ----------

const TOTP_PERIOD = 30;

function totpFor(secretBase32: string, username: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({
    issuer: 'Shouhu 守护',
    label: username,
    algorithm: 'SHA1',
    digits: 6,
    period: TOTP_PERIOD,
    secret: OTPAuth.Secret.fromBase32(secretBase32),
  });
}

/** The time step of a valid code (one step of clock drift either way), or null. */
export function totpStep(secretBase32: string, code: string, now = Date.now()): number | null {
  const delta = totpFor(secretBase32, 'x').validate({ token: code, timestamp: now, window: 1 });
  if (delta === null) return null;
  return Math.floor(now / 1000 / TOTP_PERIOD) + delta;
}

// The TOTP seed is stored sealed (SM4-CBC + HMAC-SM3, src/platform/secrets.ts) under the
// configured key. A seed from before sealing (base32, no 'sm4$' prefix) is read as it is and
// sealed at the next start by sealTotpSecrets.
const TOTP_PURPOSE = 'totp';

export function sealTotpSecret(config: Config, secretBase32: string): string {
  return seal(secretKeyFor(config), TOTP_PURPOSE, secretBase32);
}

function openTotpSecret(config: Config, stored: string): string {
  return isSealed(stored) ? unseal(secretKeyFor(config), TOTP_PURPOSE, stored) : stored;
}

/**
 * At start: seals every TOTP seed still stored in plain text, and refuses to start when a sealed
 * seed was written under another key (a wrong SHOUHU_SECRET_KEY would otherwise lock every
 * enrolled user out with a bare error at sign-in). Resolves the key only when there are seeds.
 */
export async function sealTotpSecrets(ctx: AppContext): Promise<{ sealed: number }> {
  const rows = await ctx.db
    .selectFrom('users')
    .select(['id', 'totp_secret'])
    .where('totp_secret', 'is not', null)
    .execute();
  if (rows.length === 0) return { sealed: 0 };
  const key = secretKeyFor(ctx.config);
  const foreign = rows.find((r) => isSealed(r.totp_secret!) && sealedKeyId(r.totp_secret!) !== key.id);
  if (foreign) {
    // Throws the SecretKeyError that names both keys.
    unseal(key, TOTP_PURPOSE, foreign.totp_secret!);
  }
  const plain = rows.filter((r) => !isSealed(r.totp_secret!));
  if (plain.length === 0) return { sealed: 0 };
  await ctx.db.transaction().execute(async (trx) => {
    for (const row of plain) {
      await trx
        .updateTable('users')
        .set({ totp_secret: seal(key, TOTP_PURPOSE, row.totp_secret!) })
        .where('id', '=', row.id)
        .where('totp_secret', '=', row.totp_secret)
        .execute();
    }
    await audit(trx, systemActor('start'), {
      action: 'auth.2fa.secrets_sealed',
      details: { users: plain.length, keyId: key.id },
    });
  });
  return { sealed: plain.length };
}

/** Accepts a TOTP code once: a code (or an older one) that was already used is refused. */
async function useTotpCode(ctx: AppContext, user: UserRow, code: string): Promise<boolean> {
  if (!user.totp_secret) return false;
  const step = totpStep(openTotpSecret(ctx.config, user.totp_secret), code);
  if (step === null) return false;
  const updated = await sql`UPDATE users SET totp_last_step = ${step}
    WHERE id = ${user.id} AND (totp_last_step IS NULL OR totp_last_step < ${step})`.execute(ctx.db);
  return Number(updated.numAffectedRows ?? 0) === 1;
}

/** Uses a recovery code once; exported for the concurrency test. */
export async function useRecoveryCode(db: Db, userId: number, code: string): Promise<boolean> {
  const normalized = normalizeRecoveryCode(code);
  if (normalized.length < 8) return false;
  // used_at IS NULL again outside the subquery: PostgreSQL re-checks only the outer condition when a
  // concurrent sign-in used the same code first, so without it both would succeed.
  const updated = await sql`UPDATE recovery_codes SET used_at = now()
    WHERE id = (SELECT id FROM recovery_codes WHERE user_id = ${userId} AND code_hash = ${sha256Hex(normalized)}
      AND used_at IS NULL LIMIT 1) AND used_at IS NULL`.execute(db);
  return Number(updated.numAffectedRows ?? 0) === 1;
}

const alreadyEnabled = () =>
  conflict({ zh: '已启用双因素验证', en: 'Two-factor authentication is already enabled' });

/** Starts (or restarts) TOTP enrolment: a new secret, not active until confirmed with a code. */
export async function enrollTotp(
  ctx: AppContext,
  actor: Actor,
): Promise<{ otpauthUri: string; qrCodeDataUrl: string; secret: string }> {
  const userId = requireUser(actor);
  const user = await repo.findUserById(ctx.db, userId);
  if (!user) throw new DomainError('UNAUTHENTICATED');
  if (user.totp_enabled) throw alreadyEnabled();
  const secret = new OTPAuth.Secret({ size: 20 }).base32;
  await ctx.db.transaction().execute(async (trx) => {
    // Only while two-factor is off: a confirmation that committed meanwhile keeps its seed.
    const started = await trx
      .updateTable('users')
      .set({ totp_secret: sealTotpSecret(ctx.config, secret), totp_last_step: null })
      .where('id', '=', userId)
      .where('totp_enabled', '=', false)
      .executeTakeFirst();
    if (Number(started.numUpdatedRows) !== 1) throw alreadyEnabled();
    await audit(trx, actor, { action: 'auth.2fa.enroll', entityType: 'user', entityId: userId });
  });
  const otpauthUri = totpFor(secret, user.username).toString();
  return { otpauthUri, qrCodeDataUrl: await QRCode.toDataURL(otpauthUri), secret };
}

/**
 * Confirms enrolment with a code from the app and the account's password, asked again so that a
 * stolen session cannot bind the thief's authenticator and take the recovery codes (which would lock
 * the owner out); returns ten recovery codes, shown this once.
 */
export async function confirmTotp(
  ctx: AppContext,
  actor: Actor,
  input: { code: string; password: string },
): Promise<string[]> {
  const userId = requireUser(actor);
  const user = await repo.findUserById(ctx.db, userId);
  if (!user) throw new DomainError('UNAUTHENTICATED');
  if (user.totp_enabled) throw alreadyEnabled();
  if (!user.totp_secret) throw invalid('code', { zh: '请先开始绑定', en: 'Start the enrolment first' });
  await reauthenticate(ctx, actor, user, input.password, 'auth.2fa.confirm', 'password');
  const code = input.code;
  const step = totpStep(openTotpSecret(ctx.config, user.totp_secret), code);
  if (step === null) {
    await audit(ctx.db, actor, {
      action: 'auth.2fa.confirm',
      entityType: 'user',
      entityId: userId,
      result: 'denied',
    });
    throw invalid('code', { zh: '验证码不正确', en: 'The code is wrong' });
  }
  const codes = recoveryCodes(10);
  await ctx.db.transaction().execute(async (trx) => {
    // The seed the code was checked against must still be the one enrolled: another session of the
    // account may have restarted the enrolment while the password was being checked, and its seed
    // (a thief's) must not be the one switched on.
    const enabled = await trx
      .updateTable('users')
      .set({
        totp_enabled: true,
        totp_last_step: step,
        must_enroll_totp: false,
        updated_at: sql<Date>`now()`,
        version: sql<number>`version + 1`,
      })
      .where('id', '=', userId)
      .where('totp_enabled', '=', false)
      .where('totp_secret', '=', user.totp_secret)
      .executeTakeFirst();
    if (Number(enabled.numUpdatedRows) !== 1)
      throw conflict({
        zh: '绑定期间账号的双因素设置已被更改，请重新开始绑定',
        en: 'The two-factor enrolment changed while it was being confirmed: start the enrolment again',
      });
    await trx.deleteFrom('recovery_codes').where('user_id', '=', userId).execute();
    await trx
      .insertInto('recovery_codes')
      .values(
        codes.map((c) => ({
          user_id: userId,
          code_hash: sha256Hex(normalizeRecoveryCode(c)),
          used_at: null,
        })),
      )
      .execute();
    await audit(trx, actor, { action: 'auth.2fa.confirm', entityType: 'user', entityId: userId });
  });
  // The session's enrolment limitation ends.
  forgetSignIns(ctx, { userId });
  return codes;
}

// ---------- Users (system administrator; roles by the security administrator) ----------

export function toUserView(row: UserRow): UserView {
  return {
    id: row.id,
    username: row.username,
    displayName: row.display_name,
    role: isRole(row.role) ? row.role : null,
    regionCode: row.region_code,
    individualAccess: row.individual_access,
    disabled: row.disabled,
    locked: row.locked_until !== null && row.locked_until.getTime() > Date.now(),
    mustChangePassword: row.must_change_password,
    twoFactorEnabled: row.totp_enabled,
    twoFactorResetPending: row.must_enroll_totp && !row.totp_enabled,
    version: row.version,
    createdAt: row.created_at.toISOString(),
  };
}

/** Both the system administrator (accounts) and the security administrator (roles) see the account list. */
export async function listUsers(
  ctx: AppContext,
  actor: Actor,
  query: { q?: string | undefined; limit?: number | undefined; cursor?: string | undefined },
): Promise<{ items: UserView[]; nextCursor: string | null }> {
  if (!actor.permissions.has('users.manage') && !actor.permissions.has('roles.assign')) throw forbidden();
  const limit = query.limit ?? 50;
  let q = ctx.db
    .selectFrom('users')
    .selectAll()
    .orderBy('id')
    .limit(limit + 1);
  if (query.cursor) q = q.where('id', '>', Number(query.cursor));
  if (query.q) {
    const like = `%${query.q.replace(/[\\%_]/g, (c) => '\\' + c)}%`;
    q = q.where((eb) => eb.or([eb('username', 'like', like), eb('display_name', 'like', like)]));
  }
  const rows = await q.execute();
  const items = rows.slice(0, limit).map(toUserView);
  return { items, nextCursor: rows.length > limit ? String(items[items.length - 1]!.id) : null };
}

async function insertUser(
  trx: Transaction<DB>,
  values: {
    username: string;
    displayName: string;
    password: string;
    mustChange: boolean;
    role: Role | null;
    regionCode: string | null;
    individualAccess?: boolean;
    createdBy: number | null;
    demo?: boolean;
  },
): Promise<UserRow> {
  const hashed = await hashPassword(values.password);
  const exists = await repo.findUserByUsername(trx, values.username);
  if (exists)
    throw conflict({
      zh: `用户名 ${values.username} 已存在`,
      en: `The username ${values.username} is taken`,
    });
  const row = await trx
    .insertInto('users')
    .values({
      username: values.username,
      display_name: values.displayName,
      password_hash: hashed,
      must_change_password: values.mustChange,
      role: values.role,
      region_code: values.regionCode,
      individual_access: values.individualAccess ?? false,
      created_by: values.createdBy,
      demo: values.demo ?? false,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await repo.pushPasswordHistory(trx, row.id, hashed, PASSWORD_HISTORY);
  return row;
}

/**
 * Creates an account with a temporary password (changed at first sign-in). The account has no
 * role until the security administrator assigns one: the system administrator manages accounts
 * but cannot grant access to anything (三员分立).
 */
export async function createUser(
  ctx: AppContext,
  actor: Actor,
  input: { username: string; displayName: string },
): Promise<{ user: UserView; temporaryPassword: string }> {
  requireAccess(actor, 'users.manage');
  const password = temporaryPassword();
  const username = normalizeUsername(input.username);
  const row = await ctx.db.transaction().execute(async (trx) => {
    const created = await insertUser(trx, {
      username,
      displayName: input.displayName.trim(),
      password,
      mustChange: true,
      role: null,
      regionCode: null,
      createdBy: actor.userId,
    });
    await audit(trx, actor, {
      action: 'user.create',
      entityType: 'user',
      entityId: created.id,
      details: { username },
    });
    return created;
  });
  return { user: toUserView(row), temporaryPassword: password };
}

const ADMIN_ACCOUNT_ON_CONSOLE: Message = {
  zh: '三员账户只能在服务器控制台管理（shouhu users create-admin / reset-password）',
  en: 'Administrator accounts are managed on the server console only (shouhu users create-admin / reset-password)',
};
const NOT_YOURSELF: Message = {
  zh: '不能对自己的账户执行此操作',
  en: 'You cannot do this to your own account',
};

async function loadManagedUser(
  trx: Transaction<DB>,
  actor: Actor,
  id: number,
  version: number | null,
): Promise<UserRow> {
  const user = await repo.lockUserRow(trx, id);
  if (!user) throw notFound({ zh: '用户不存在', en: 'No such user' });
  if (actor.userId === id) throw forbidden(NOT_YOURSELF);
  if (isRole(user.role) && isAdminRole(user.role)) throw forbidden(ADMIN_ACCOUNT_ON_CONSOLE);
  if (version !== null && user.version !== version) throw conflict();
  return user;
}

export async function setUserDisabled(
  ctx: AppContext,
  actor: Actor,
  id: number,
  version: number,
  disabled: boolean,
): Promise<UserView> {
  requireAccess(actor, 'users.manage');
  const view = await ctx.db.transaction().execute(async (trx) => {
    await loadManagedUser(trx, actor, id, version);
    const row = await trx
      .updateTable('users')
      .set({ disabled, updated_at: sql<Date>`now()`, version: sql<number>`version + 1` })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (disabled) await repo.revokeUserSessions(trx, id);
    await audit(trx, actor, {
      action: disabled ? 'user.disable' : 'user.enable',
      entityType: 'user',
      entityId: id,
    });
    // A business user's own tokens end with his account (an administrator's issued ones do not: they
    // belong to no one). Revoked, not only refused at the door, so a queued import of theirs stops too.
    if (disabled && row.role !== null && isRole(row.role) && !isAdminRole(row.role))
      await revokeOwnTokensAudited(trx, actor, id, 'account disabled');
    return toUserView(row);
  });
  forgetSignIns(ctx, { userId: id });
  return view;
}

/** A new temporary password (changed at next sign-in); clears a lockout and signs the user out everywhere. */
export async function resetPassword(
  ctx: AppContext,
  actor: Actor,
  id: number,
): Promise<{ user: UserView; temporaryPassword: string }> {
  requireAccess(actor, 'users.manage');
  const password = temporaryPassword();
  const hashed = await hashPassword(password);
  const result = await ctx.db.transaction().execute(async (trx) => {
    await loadManagedUser(trx, actor, id, null);
    const row = await applyPasswordReset(trx, id, hashed);
    await audit(trx, actor, { action: 'user.password.reset', entityType: 'user', entityId: id });
    await revokeTokensWithCredentials(trx, actor, row, 'password reset');
    return { user: toUserView(row), temporaryPassword: password };
  });
  forgetSignIns(ctx, { userId: id });
  return result;
}

async function applyPasswordReset(trx: Transaction<DB>, id: number, hashed: string): Promise<UserRow> {
  const row = await trx
    .updateTable('users')
    .set({
      password_hash: hashed,
      must_change_password: true,
      failed_attempts: 0,
      locked_until: null,
      password_changed_at: sql<Date>`now()`,
      updated_at: sql<Date>`now()`,
      version: sql<number>`version + 1`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await repo.pushPasswordHistory(trx, id, hashed, PASSWORD_HISTORY);
  await repo.revokeUserSessions(trx, id);
  return row;
}

/**
 * Ends a user's TOTP enrolment (a lost or replaced phone, a seed that may have been copied): the
 * seed and recovery codes are deleted, every session of the user ends, and the user must enrol a
 * new authenticator at the next sign-in. The security administrator's duty, not the system
 * administrator's: the one who resets passwords must not also be able to reset the second
 * factor, or one administrator alone could take over any account (三员分立). Nobody resets their
 * own enrolment here, and administrator accounts are reset on the console only.
 */
export async function resetTwoFactor(ctx: AppContext, actor: Actor, id: number): Promise<UserView> {
  requireAccess(actor, 'twofactor.reset');
  const view = await ctx.db.transaction().execute(async (trx) => {
    const user = await loadManagedUser(trx, actor, id, null);
    if (!user.totp_enabled)
      throw conflict({
        zh: `${user.username} 尚未启用双因素验证，无需重置`,
        en: `${user.username} has not enrolled two-factor authentication; there is nothing to reset`,
      });
    const { row, details } = await applyTwoFactorReset(trx, id);
    await audit(trx, actor, {
      action: 'user.2fa.reset',
      entityType: 'user',
      entityId: id,
      regionCode: user.region_code,
      details,
    });
    await revokeTokensWithCredentials(trx, actor, row, 'two-factor reset');
    return toUserView(row);
  });
  forgetSignIns(ctx, { userId: id });
  return view;
}

async function applyTwoFactorReset(
  trx: Transaction<DB>,
  id: number,
): Promise<{ row: UserRow; details: { codesDeleted: number; sessionsRevoked: number } }> {
  const row = await trx
    .updateTable('users')
    .set({
      totp_secret: null,
      totp_enabled: false,
      totp_last_step: null,
      must_enroll_totp: true,
      updated_at: sql<Date>`now()`,
      version: sql<number>`version + 1`,
    })
    .where('id', '=', id)
    .returningAll()
    .executeTakeFirstOrThrow();
  const deleted = await trx.deleteFrom('recovery_codes').where('user_id', '=', id).executeTakeFirst();
  const sessionsRevoked = await repo.revokeUserSessions(trx, id);
  return { row, details: { codesDeleted: Number(deleted.numDeletedRows), sessionsRevoked } };
}

async function checkScope(db: Db, role: Role, regionCode: string | null, path: string): Promise<void> {
  if (!regionFitsRole(role, regionCode)) {
    throw invalid(path, {
      zh: `角色 ${ROLE_LABELS[role].zh} 的管辖区域层级不符`,
      en: `The region does not have the level the role ${role} needs`,
    });
  }
  if (regionCode !== null && !(await repo.regionExists(db, regionCode)))
    throw invalid(path, { zh: `行政区划 ${regionCode} 不存在`, en: `Region ${regionCode} does not exist` });
}

/**
 * The security administrator assigns a role and its region. Nobody changes their own role or
 * scope, and the three administrator roles are never granted here (they are provisioned on the
 * console), so no administrator can make another account an administrator.
 */
export async function assignRole(
  ctx: AppContext,
  actor: Actor,
  id: number,
  input: AssignRoleBody,
): Promise<UserView> {
  requireAccess(actor, 'roles.assign');
  if (ADMIN_ROLES.includes(input.role)) throw forbidden(ADMIN_ACCOUNT_ON_CONSOLE);
  const individualAccess = VIEWER_ROLES.includes(input.role) ? (input.individualAccess ?? false) : false;
  const view = await ctx.db.transaction().execute(async (trx) => {
    const before = await loadManagedUser(trx, actor, id, input.version);
    await checkScope(trx, input.role, input.regionCode, 'regionCode');
    const row = await trx
      .updateTable('users')
      .set({
        role: input.role,
        region_code: input.regionCode,
        individual_access: individualAccess,
        updated_at: sql<Date>`now()`,
        version: sql<number>`version + 1`,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
    // A narrower scope must take effect now, not when the old session happens to end.
    const revoked = await repo.revokeUserSessions(trx, id);
    await audit(trx, actor, {
      action: 'user.role.assign',
      entityType: 'user',
      entityId: id,
      regionCode: input.regionCode,
      details: {
        from: {
          role: before.role,
          regionCode: before.region_code,
          individualAccess: before.individual_access,
        },
        to: { role: input.role, regionCode: input.regionCode, individualAccess },
        sessionsRevoked: revoked,
      },
    });
    // His own tokens of the old role, region or grant end with it.
    await revokeOwnTokensAudited(trx, actor, id, 'role changed', {
      role: input.role,
      regionCode: input.regionCode,
      individualAccess,
    });
    return toUserView(row);
  });
  forgetSignIns(ctx, { userId: id });
  return view;
}

// ---------- Console (CLI) account work ----------

export async function createAdminAccount(
  ctx: AppContext,
  input: {
    username: string;
    displayName: string;
    role: Role;
    password: string;
    mustChange: boolean;
    command?: string;
  },
): Promise<UserView> {
  if (!ADMIN_ROLES.includes(input.role))
    throw invalid('role', { zh: '不是管理员角色', en: 'Not an administrator role' });
  const username = normalizeUsername(input.username);
  const problems = passwordProblems(input.password, username);
  if (problems.length) throw policyError(problems);
  return ctx.db.transaction().execute(async (trx) => {
    const row = await insertUser(trx, {
      username,
      displayName: input.displayName,
      password: input.password,
      mustChange: input.mustChange,
      role: input.role,
      regionCode: null,
      createdBy: null,
    });
    await audit(trx, systemActor(input.command ?? 'users create-admin'), {
      action: 'user.create',
      entityType: 'user',
      entityId: row.id,
      details: { username, role: input.role },
    });
    return toUserView(row);
  });
}

export async function resetPasswordOnConsole(ctx: AppContext, username: string): Promise<string> {
  const password = temporaryPassword();
  const hashed = await hashPassword(password);
  const userId = await ctx.db.transaction().execute(async (trx) => {
    const user = await repo.findUserByUsername(trx, normalizeUsername(username));
    if (!user) throw notFound({ zh: '用户不存在', en: 'No such user' });
    const row = await applyPasswordReset(trx, user.id, hashed);
    const onConsole = systemActor('users reset-password');
    await audit(trx, onConsole, {
      action: 'user.password.reset',
      entityType: 'user',
      entityId: user.id,
    });
    await revokeTokensWithCredentials(trx, onConsole, row, 'password reset');
    return user.id;
  });
  forgetSignIns(ctx, { userId });
  return password;
}

/** The console's two-factor reset: the way for administrator accounts (whose TOTP is required). */
export async function resetTwoFactorOnConsole(ctx: AppContext, username: string): Promise<UserView> {
  const view = await ctx.db.transaction().execute(async (trx) => {
    const user = await repo.findUserByUsername(trx, normalizeUsername(username));
    if (!user) throw notFound({ zh: '用户不存在', en: 'No such user' });
    if (!user.totp_enabled)
      throw conflict({
        zh: `${user.username} 尚未启用双因素验证，无需重置`,
        en: `${user.username} has not enrolled two-factor authentication; there is nothing to reset`,
      });
    const { row, details } = await applyTwoFactorReset(trx, user.id);
    const onConsole = systemActor('users reset-2fa');
    await audit(trx, onConsole, {
      action: 'user.2fa.reset',
      entityType: 'user',
      entityId: user.id,
      regionCode: user.region_code,
      details,
    });
    await revokeTokensWithCredentials(trx, onConsole, row, 'two-factor reset');
    return toUserView(row);
  });
  forgetSignIns(ctx, { userId: view.id });
  return view;
}

/**
 * The demo accounts: idempotent (creates the account when the username is free, else leaves it
 * alone). They are marked demo and sign in only while the server runs as the demo.
 */
export async function ensureDemoUser(
  ctx: AppContext,
  input: {
    username: string;
    displayName: string;
    role: Role;
    regionCode: string | null;
    password: string;
    individualAccess?: boolean;
  },
): Promise<{ created: boolean; user: UserView }> {
  const existing = await repo.findUserByUsername(ctx.db, input.username);
  if (existing) return { created: false, user: toUserView(existing) };
  await checkScope(ctx.db, input.role, input.regionCode, 'regionCode');
  const row = await ctx.db.transaction().execute(async (trx) => {
    const created = await insertUser(trx, {
      username: input.username,
      displayName: input.displayName,
      password: input.password,
      mustChange: false,
      role: input.role,
      regionCode: input.regionCode,
      individualAccess: input.individualAccess ?? false,
      createdBy: null,
      demo: true,
    });
    await audit(trx, systemActor('demo'), {
      action: 'user.create',
      entityType: 'user',
      entityId: created.id,
      regionCode: input.regionCode,
      details: { username: input.username, role: input.role, demo: true },
    });
    return created;
  });
  return { created: true, user: toUserView(row) };
}

// ---------- API tokens (security administrator) ----------

type TokenRow = Awaited<ReturnType<typeof repo.findLiveToken>> & object;

function toTokenView(row: TokenRow): TokenView {
  return {
    id: row.id,
    name: row.name,
    prefix: row.token_prefix,
    role: row.role as Role,
    regionCode: row.region_code,
    individualAccess: row.individual_access,
    expiresAt: new Date(row.expires_at).toISOString(),
    revokedAt: row.revoked_at?.toISOString() ?? null,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    lastUsedAt: row.last_used_at?.toISOString() ?? null,
  };
}

/**
 * Creates an API token for a system that calls the API (a reporting tool, a data exchange). The
 * token carries a business role and region like a user; administrator roles are not available to
 * tokens (administrators sign in with TOTP). The token is returned once and stored as a hash.
 * - On the server console (no actor): any business role.
 * - By the security administrator: only a role without personal data (a viewer without individual
 *   access, a service provider). A token of a role with personal data is a business credential whose
 *   secret must not pass through an administrator's hands (三员分立): the business user who will use
 *   it creates it for himself (createOwnToken); the security administrator lists and revokes it.
 */
export async function createToken(
  ctx: AppContext,
  actor: Actor | null,
  input: CreateTokenBody,
): Promise<{ token: string; item: TokenView }> {
  if (actor) requireAccess(actor, 'tokens.manage');
  if (ADMIN_ROLES.includes(input.role))
    throw invalid('role', {
      zh: 'API 令牌不能使用管理员角色',
      en: 'API tokens cannot hold an administrator role',
    });
  const individualAccess = VIEWER_ROLES.includes(input.role) ? (input.individualAccess ?? false) : false;
  if (actor && holdsPersonalData(input.role, individualAccess)) {
    const message = {
      zh: `角色“${ROLE_LABELS[input.role].zh}”${individualAccess ? '（可查看个人记录）' : ''}可访问个人信息：此类令牌只能由使用它的业务人员本人登录后创建（我的令牌），安全管理员可以查看和吊销`,
      en: `The role ${input.role}${individualAccess ? ' with individual access' : ''} reaches personal data: such a token is created only by the business user who will use it, signed in as himself (my tokens); the security administrator can list and revoke it`,
    };
    throw new DomainError('FORBIDDEN', message, [{ path: 'role', message }]);
  }
  await checkScope(ctx.db, input.role, input.regionCode, 'regionCode');
  return issueToken(ctx, actor ?? systemActor('token create'), {
    name: input.name,
    role: input.role,
    regionCode: input.regionCode,
    individualAccess,
    days: input.expiresInDays ?? 90,
    createdBy: actor?.userId ?? null,
  });
}

/** Stores a new token (its hash) and audits its creation in the same transaction; the token is returned once. */
async function issueToken(
  ctx: AppContext,
  actor: Actor | AuditActor,
  input: {
    name: string;
    role: Role;
    regionCode: string | null;
    individualAccess: boolean;
    days: number;
    createdBy: number | null;
  },
  detailsMore: Record<string, unknown> = {},
): Promise<{ token: string; item: TokenView }> {
  const token = newApiToken();
  return ctx.db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('api_tokens')
      .values({
        name: input.name,
        token_hash: sha256Hex(token),
        token_prefix: token.slice(0, 10),
        role: input.role,
        region_code: input.regionCode,
        individual_access: input.individualAccess,
        expires_at: sql<Date>`now() + make_interval(days => ${input.days})`,
        created_by: input.createdBy,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, actor, {
      action: 'token.create',
      entityType: 'api_token',
      entityId: row.id,
      regionCode: input.regionCode,
      details: {
        name: input.name,
        role: input.role,
        expiresInDays: input.days,
        // The grant is what an auditor must see: a viewer token that reads persons (DOMAIN.md section 6).
        individualAccess: row.individual_access,
        scope: input.regionCode ?? 'national',
        ...detailsMore,
      },
    });
    return { token, item: toTokenView(row) };
  });
}

/**
 * A business user creates an API token for himself (a script or a system he runs and answers for):
 * it has his own role, region and grant, no wider, and acts as him. Every audit entry it makes names
 * him as the actor (and the token by actor_token_id); it stops working when his account is disabled
 * or his role, region or grant changes (tokenOwner). The account's password is asked again, so that
 * a stolen session cannot turn itself into a credential that outlives it. Only a signed-in user, not
 * a token, creates one.
 */
export async function createOwnToken(
  ctx: AppContext,
  actor: Actor,
  input: CreateOwnTokenBody,
): Promise<{ token: string; item: TokenView }> {
  const userId = requireUser(actor);
  requireAccess(actor, 'tokens.own');
  if (ADMIN_ROLES.includes(actor.role)) throw forbidden();
  const user = await repo.findUserById(ctx.db, userId);
  if (!user || user.role !== actor.role) throw new DomainError('UNAUTHENTICATED');
  await reauthenticate(ctx, actor, user, input.password, 'token.create', 'password');
  return issueToken(
    ctx,
    actor,
    {
      name: input.name,
      role: actor.role,
      regionCode: user.region_code,
      individualAccess: VIEWER_ROLES.includes(actor.role) && user.individual_access,
      days: input.expiresInDays ?? 90,
      createdBy: userId,
    },
    { owner: userId },
  );
}

/** The signed-in user's own tokens (created by him), newest first. */
export async function listOwnTokens(ctx: AppContext, actor: Actor): Promise<TokenView[]> {
  const userId = requireUser(actor);
  requireAccess(actor, 'tokens.own');
  const rows = await ctx.db
    .selectFrom('api_tokens')
    .selectAll()
    .where('created_by', '=', userId)
    .orderBy('id', 'desc')
    .limit(1000)
    .execute();
  return rows.map(toTokenView);
}

/** Revokes one of the signed-in user's own tokens; another's answers 404 like one that does not exist. */
export async function revokeOwnToken(ctx: AppContext, actor: Actor, id: number): Promise<TokenView> {
  const userId = requireUser(actor);
  requireAccess(actor, 'tokens.own');
  return revoke(ctx, actor, id, userId);
}

export async function listTokens(ctx: AppContext, actor: Actor): Promise<TokenView[]> {
  requireAccess(actor, 'tokens.manage');
  const rows = await ctx.db.selectFrom('api_tokens').selectAll().orderBy('id', 'desc').limit(1000).execute();
  return rows.map(toTokenView);
}

export async function revokeToken(ctx: AppContext, actor: Actor, id: number): Promise<TokenView> {
  requireAccess(actor, 'tokens.manage');
  return revoke(ctx, actor, id, null);
}

/**
 * Revokes a business user's own tokens (repo.revokeOwnTokens), each audited as token.revoke with the
 * reason; returns how many.
 */
async function revokeOwnTokensAudited(
  trx: Transaction<DB>,
  actor: Actor | AuditActor,
  userId: number,
  reason: string,
  keep?: { role: string; regionCode: string | null; individualAccess: boolean },
): Promise<number> {
  const revoked = await repo.revokeOwnTokens(trx, userId, keep);
  for (const token of revoked)
    await audit(trx, actor, {
      action: 'token.revoke',
      entityType: 'api_token',
      entityId: token.id,
      regionCode: token.region_code,
      details: { owner: userId, reason },
    });
  return revoked.length;
}

/** Why a business account's own tokens end with its credentials (token.revoke's reason). */
type CredentialEvent = 'password reset' | 'password changed' | 'two-factor reset' | 'signed out everywhere';

/**
 * The account's credentials were replaced or its sessions ended for fear of theft: its own tokens
 * end too, or whoever held the old password or session keeps a credential that outlives the remedy
 * (docs/DECISIONS.md, "What ends a user's own API token"). An administrator account's tokens are the
 * ones the security administrator issued to systems (no personal data, belonging to no one): they stay.
 */
async function revokeTokensWithCredentials(
  trx: Transaction<DB>,
  actor: Actor | AuditActor,
  user: { id: number; role: string | null },
  reason: CredentialEvent,
): Promise<number> {
  if (user.role !== null && isRole(user.role) && isAdminRole(user.role)) return 0;
  return revokeOwnTokensAudited(trx, actor, user.id, reason);
}

/** Revokes a token (of that creator only, when one is given), audited; its cached sign-in is forgotten. */
async function revoke(
  ctx: AppContext,
  actor: Actor,
  id: number,
  createdBy: number | null,
): Promise<TokenView> {
  const view = await ctx.db.transaction().execute(async (trx) => {
    let query = trx
      .updateTable('api_tokens')
      .set({ revoked_at: sql<Date>`coalesce(revoked_at, now())` })
      .where('id', '=', id);
    if (createdBy !== null) query = query.where('created_by', '=', createdBy);
    const row = await query.returningAll().executeTakeFirst();
    if (!row) throw notFound({ zh: '令牌不存在', en: 'No such token' });
    await audit(trx, actor, {
      action: 'token.revoke',
      entityType: 'api_token',
      entityId: id,
      regionCode: row.region_code,
    });
    return toTokenView(row);
  });
  forgetSignIns(ctx, { tokenId: id });
  return view;
}

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * The names of users, for other modules' lists that show who did something (the imports list):
 * they hold user ids only (docs/ARCHITECTURE.md, modules refer to each other's records by id).
 */
export async function userNames(
  db: Kysely<DB>,
  ids: readonly number[],
): Promise<Map<number, { username: string; displayName: string }>> {
  const unique = [...new Set(ids)];
  if (!unique.length) return new Map();
  const rows = await db
    .selectFrom('users')
    .select(['id', 'username', 'display_name'])
    .where('id', 'in', unique)
    .execute();
  return new Map(rows.map((r) => [Number(r.id), { username: r.username, displayName: r.display_name }]));
}
