// Who is asking, for every /api/v1 request, and the access routes. accessRoutes runs first in the
// composition root: its onRequest hook resolves request.actor from the session cookie or a bearer
// token and answers 401 for every route that is not marked `config: { public: true }`.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App } from '../../platform/http.ts';
import type { AppContext } from '../../platform/context.ts';
import { DomainError } from '../../platform/errors.ts';
import { requireRoutePermission, type Actor, type RoutePermission } from './access.policy.ts';
import {
  AssignRoleBody,
  AuditList,
  AuditQuery,
  AuditVerify,
  ChangePasswordBody,
  CreateOwnTokenBody,
  CreateTokenBody,
  CreateUserBody,
  CreatedToken,
  IdParams,
  LoginBody,
  Me,
  Ok,
  RecoveryCodes,
  Revoked,
  TokenList,
  TokenView,
  TotpConfirmBody,
  TotpEnrollment,
  UserList,
  UserListQuery,
  UserView,
  UserWithPassword,
  VersionBody,
} from './access.schemas.ts';
import * as service from './access.service.ts';
import type { SessionLimitation } from './access.service.ts';
import { exportAudit, searchAudit, verifyForActor } from './audit.search.ts';
import { audit, recordRead } from './audit.ts';

export const SESSION_COOKIE = 'shouhu_session';
export const CSRF_COOKIE = 'shouhu_csrf';
export const CSRF_HEADER = 'x-shouhu-csrf';

type Limitation = Exclude<SessionLimitation, null>;

export interface RequestAuth {
  kind: 'session' | 'token';
  sessionId: string | null;
  csrfToken: string | null;
  limitation: SessionLimitation;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking; null only on public routes. */
    actor: Actor | null;
    auth: RequestAuth | null;
  }
  interface FastifyContextConfig {
    /** Reachable by a session that must first change its password or enrol TOTP. */
    allowLimited?: readonly Limitation[];
    /** What the actor needs for this route (required on every route that is not public). */
    permission?: RoutePermission;
  }
}

/** The signed-in actor of a non-public route (the hook guarantees one). */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new DomainError('UNAUTHENTICATED');
  return request.actor;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const BOTH: readonly Limitation[] = ['password_change', 'two_factor_enrollment'];

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function limitationError(limitation: Limitation): DomainError {
  return limitation === 'password_change'
    ? new DomainError('PASSWORD_CHANGE_REQUIRED')
    : new DomainError('TWO_FACTOR_ENROLLMENT_REQUIRED');
}

/**
 * Secure when configured (SECURE_COOKIES) and whenever the request came over TLS, which behind a
 * trusted proxy (TRUST_PROXY) is what its X-Forwarded-Proto says.
 */
function cookieOptions(ctx: AppContext, request: FastifyRequest, httpOnly: boolean) {
  const secure = ctx.config.secureCookies || request.protocol === 'https';
  return { path: '/', httpOnly, sameSite: 'strict' as const, secure };
}

function setSessionCookies(reply: FastifyReply, ctx: AppContext, session: string, csrf: string): void {
  void reply.setCookie(SESSION_COOKIE, session, cookieOptions(ctx, reply.request, true));
  void reply.setCookie(CSRF_COOKIE, csrf, cookieOptions(ctx, reply.request, false));
}

function clearSessionCookies(reply: FastifyReply, ctx: AppContext): void {
  void reply.clearCookie(SESSION_COOKIE, cookieOptions(ctx, reply.request, true));
  void reply.clearCookie(CSRF_COOKIE, cookieOptions(ctx, reply.request, false));
}

/** Resolves request.actor and enforces sign-in, CSRF and session limitations on every route. */
/**
 * A route's path parameters as the path gave them: a refusal before validation sees "5", one after
 * it 5; the trail records the text either way, so one search finds both.
 */
function pathText(params: unknown): Record<string, string> {
  if (!params || typeof params !== 'object') return {};
  return Object.fromEntries(Object.entries(params).map(([key, value]) => [key, String(value)]));
}

export function accessHooks(app: App, ctx: AppContext): void {
  app.decorateRequest('actor', null);
  app.decorateRequest('auth', null);
  // A route that forgets to say what it needs does not start: the check before validation would
  // otherwise refuse it to everyone, found only by its first user.
  // The API document names it for each operation (x-permission).
  app.addHook('onRoute', (route) => {
    if (route.config?.public === true) return;
    const permission = route.config?.permission;
    if (!permission)
      throw new Error(
        `${String(route.method)} ${route.url}: config.permission is required on a route that is not public`,
      );
    if (route.schema) route.schema = { ...route.schema, ...{ 'x-permission': permission } };
  });

  const refusedCredential = async (
    request: FastifyRequest,
    credential: { kind: 'token' | 'session'; raw: string },
  ) => {
    try {
      await service.auditRefusedCredential(ctx, credential, {
        ip: request.ip,
        requestId: request.id,
        route: `${request.method} ${request.routeOptions.url ?? ''}`,
      });
    } catch (error) {
      request.log.error({ err: error }, 'could not audit a refused credential');
    }
  };

  app.addHook('onRequest', async (request) => {
    const isPublic = request.routeOptions.config?.public === true;
    const authorization = request.headers.authorization;
    if (typeof authorization === 'string' && /^bearer\s/i.test(authorization)) {
      const actor = await service.authenticateToken(
        ctx,
        authorization.slice(7).trim(),
        request.ip,
        request.id,
      );
      if (actor) request.auth = { kind: 'token', sessionId: null, csrfToken: null, limitation: null };
      request.actor = actor;
      // A wrong token never falls back to the cookie.
      if (!actor && !isPublic) {
        await refusedCredential(request, { kind: 'token', raw: authorization.slice(7).trim() });
        throw new DomainError('UNAUTHENTICATED');
      }
    } else {
      const raw = request.cookies[SESSION_COOKIE];
      if (raw) {
        const session = await service.authenticateSession(ctx, raw, request.ip, request.id);
        if (!session && !isPublic) await refusedCredential(request, { kind: 'session', raw });
        if (session) {
          request.actor = session.actor;
          request.auth = {
            kind: 'session',
            sessionId: session.sessionId,
            csrfToken: session.csrfToken,
            limitation: session.limitation,
          };
        }
      }
    }
    if (isPublic) return;
    const auth = request.auth;
    if (!request.actor || !auth) throw new DomainError('UNAUTHENTICATED');
    if (auth.kind === 'session') {
      const given = request.headers[CSRF_HEADER];
      if (
        !SAFE_METHODS.has(request.method) &&
        (typeof given !== 'string' || !sameSecret(given, auth.csrfToken ?? ''))
      )
        throw new DomainError('CSRF_FAILED');
      if (auth.limitation && !(request.routeOptions.config?.allowLimited ?? []).includes(auth.limitation))
        throw limitationError(auth.limitation);
    }
    // Before the body is read or validated: a role without the route's permission learns nothing of
    // its fields, and the refusal is audited like every 403.
    const permission = request.routeOptions.config?.permission;
    if (!permission) throw new DomainError('FORBIDDEN');
    requireRoutePermission(request.actor, permission);
  });

  // Every refusal of a signed-in actor is audited (a separate transaction: the refused work has none).
  app.addHook('onSend', async (request, reply, payload) => {
    if (reply.statusCode === 403 && request.actor) {
      const code = typeof payload === 'string' ? (/"code":"([A-Z_]+)"/.exec(payload)?.[1] ?? null) : null;
      const asked = askedScope(request.query);
      try {
        await audit(ctx.db, request.actor, {
          action: 'access.denied',
          entityType: 'route',
          entityId: `${request.method} ${request.routeOptions.url ?? ''}`,
          regionCode:
            typeof asked.region === 'string' && REGION_CODE.test(asked.region) ? asked.region : null,
          result: 'denied',
          details: { code, params: pathText(request.params), query: asked },
        });
      } catch (error) {
        request.log.error({ err: error }, 'could not audit a refusal');
      }
    } else if (reply.statusCode === 404 && request.actor && request.routeOptions.url) {
      // A record out of scope answers 404 like one that does not exist (ids cannot be probed); both
      // are audited alike, so an insider walking the ids leaves a trace without learning which
      // exist. The route's parameters are ids and formats, never personal data.
      try {
        await recordRead(ctx.db, request.actor, {
          action: 'access.not_found',
          entityType: 'route',
          entityId: `${request.method} ${request.routeOptions.url}`,
          result: 'denied',
          details: { params: request.params ?? {} },
        });
      } catch (error) {
        request.log.error({ err: error }, 'could not audit a refusal');
      }
    }
    return payload;
  });
}

const REGION_CODE = /^[0-9]{2}(?:[0-9]{2}(?:[0-9]{2}(?:[0-9]{3}(?:[0-9]{3})?)?)?)?$/;

/**
 * The query parameters that say what a refused request asked for (a region, a group, a date, a
 * format), for its audit entry: an auditor tells a clerk's own village asked in error from another
 * township probed. Free text (a search's `q`) is left out: it may hold a name or an ID number.
 */
const SCOPE_PARAMETERS = ['region', 'regionCode', 'within', 'group', 'asOf', 'from', 'to', 'format', 'kind'];
function askedScope(query: unknown): Record<string, unknown> {
  if (typeof query !== 'object' || query === null) return {};
  const out: Record<string, unknown> = {};
  for (const key of SCOPE_PARAMETERS) {
    const value = (query as Record<string, unknown>)[key];
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
      out[key] = typeof value === 'string' ? value.slice(0, 40) : value;
  }
  return out;
}

export function accessRoutes(app: App, ctx: AppContext): void {
  accessHooks(app, ctx);
  const guard = new service.LoginGuard();
  const errors = {
    400: { $ref: 'ErrorEnvelope#' },
    401: { $ref: 'ErrorEnvelope#' },
    403: { $ref: 'ErrorEnvelope#' },
  };

  app.post(
    '/auth/login',
    {
      config: { public: true },
      schema: {
        tags: ['auth'],
        summary: 'Sign in with username and password (and a TOTP or recovery code when enabled)',
        security: [],
        body: LoginBody,
        response: { 200: Me, ...errors, 423: { $ref: 'ErrorEnvelope#' }, 429: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request, reply) => {
      const result = await service.login(ctx, guard, request.body, { ip: request.ip, requestId: request.id });
      setSessionCookies(reply, ctx, result.sessionToken, result.csrfToken);
      const session = await service.authenticateSession(ctx, result.sessionToken, request.ip, request.id);
      if (!session) throw new DomainError('INTERNAL');
      return service.me(ctx, session.actor, result.csrfToken);
    },
  );

  app.post(
    '/auth/logout',
    {
      config: { allowLimited: BOTH, permission: { signedIn: true } },
      schema: { tags: ['auth'], summary: 'Sign out (this session)', response: { 200: Ok, ...errors } },
    },
    async (request, reply) => {
      await service.logout(ctx, actorOf(request));
      clearSessionCookies(reply, ctx);
      return { ok: true as const };
    },
  );

  app.post(
    '/auth/logout-all',
    {
      config: { allowLimited: BOTH, permission: { signedIn: true } },
      schema: {
        tags: ['auth'],
        summary: 'Sign out everywhere (every session and own API token of the user)',
        response: { 200: Revoked, ...errors },
      },
    },
    async (request, reply) => {
      const { sessions, tokens } = await service.logoutEverywhere(ctx, actorOf(request));
      clearSessionCookies(reply, ctx);
      return { revokedSessions: sessions, revokedTokens: tokens };
    },
  );

  app.get(
    '/auth/me',
    {
      config: { allowLimited: BOTH, permission: { signedIn: true } },
      schema: {
        tags: ['auth'],
        summary: 'The signed-in user: role, region, permissions, what must be done first',
        response: { 200: Me, ...errors },
      },
    },
    async (request) => service.me(ctx, actorOf(request), request.auth?.csrfToken ?? null),
  );

  app.post(
    '/auth/change-password',
    {
      config: { allowLimited: BOTH, permission: { signedIn: true } },
      schema: {
        tags: ['auth'],
        summary: 'Change the own password (signs out the other sessions, revokes the own API tokens)',
        body: ChangePasswordBody,
        response: { 200: Ok, ...errors },
      },
    },
    async (request) => {
      await service.changePassword(
        ctx,
        actorOf(request),
        request.body.currentPassword,
        request.body.newPassword,
      );
      return { ok: true as const };
    },
  );

  app.post(
    '/auth/2fa/enroll',
    {
      config: { allowLimited: ['two_factor_enrollment'], permission: { signedIn: true } },
      schema: {
        tags: ['auth'],
        summary: 'Start TOTP enrolment: an otpauth URI and its QR code',
        response: { 200: TotpEnrollment, ...errors, 409: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request) => service.enrollTotp(ctx, actorOf(request)),
  );

  app.post(
    '/auth/2fa/confirm',
    {
      config: { allowLimited: ['two_factor_enrollment'], permission: { signedIn: true } },
      schema: {
        tags: ['auth'],
        summary:
          'Confirm TOTP enrolment with a code and the account password (asked again); returns ten recovery codes, shown once',
        body: TotpConfirmBody,
        response: { 200: RecoveryCodes, ...errors, 409: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request) => ({
      recoveryCodes: await service.confirmTotp(ctx, actorOf(request), request.body),
    }),
  );

  // ---------- Users ----------
  const userErrors = { ...errors, 404: { $ref: 'ErrorEnvelope#' }, 409: { $ref: 'ErrorEnvelope#' } };

  app.get(
    '/users',
    {
      config: { permission: { any: ['users.manage', 'roles.assign'] } },
      schema: {
        tags: ['users'],
        summary: 'Accounts (system and security administrators)',
        querystring: UserListQuery,
        response: { 200: UserList, ...errors },
      },
    },
    async (request) => service.listUsers(ctx, actorOf(request), request.query),
  );

  app.post(
    '/users',
    {
      config: { permission: { all: ['users.manage'] } },
      schema: {
        tags: ['users'],
        summary:
          'Create an account with a temporary password (system administrator); the role is assigned by the security administrator',
        body: CreateUserBody,
        response: { 201: UserWithPassword, ...userErrors },
      },
    },
    async (request, reply) => {
      const created = await service.createUser(ctx, actorOf(request), request.body);
      return reply.status(201).send(created);
    },
  );

  app.post(
    '/users/:id/disable',
    {
      config: { permission: { all: ['users.manage'] } },
      schema: {
        tags: ['users'],
        summary: 'Disable an account (signs it out)',
        params: IdParams,
        body: VersionBody,
        response: { 200: UserView, ...userErrors },
      },
    },
    async (request) =>
      service.setUserDisabled(ctx, actorOf(request), request.params.id, request.body.version, true),
  );

  app.post(
    '/users/:id/enable',
    {
      config: { permission: { all: ['users.manage'] } },
      schema: {
        tags: ['users'],
        summary: 'Enable a disabled account',
        params: IdParams,
        body: VersionBody,
        response: { 200: UserView, ...userErrors },
      },
    },
    async (request) =>
      service.setUserDisabled(ctx, actorOf(request), request.params.id, request.body.version, false),
  );

  app.post(
    '/users/:id/reset-password',
    {
      config: { permission: { all: ['users.manage'] } },
      schema: {
        tags: ['users'],
        summary:
          'A new temporary password (system administrator); clears a lockout, signs the user out, revokes his own API tokens',
        params: IdParams,
        response: { 200: UserWithPassword, ...userErrors },
      },
    },
    async (request) => service.resetPassword(ctx, actorOf(request), request.params.id),
  );

  app.post(
    '/users/:id/reset-2fa',
    {
      config: { permission: { all: ['twofactor.reset'] } },
      schema: {
        tags: ['users'],
        summary:
          "End another user's TOTP enrolment (security administrator): seed and recovery codes deleted, sessions and own API tokens ended, enrol again at next sign-in",
        params: IdParams,
        response: { 200: UserView, ...userErrors },
      },
    },
    async (request) => service.resetTwoFactor(ctx, actorOf(request), request.params.id),
  );

  app.put(
    '/users/:id/role',
    {
      config: { permission: { all: ['roles.assign'] } },
      schema: {
        tags: ['users'],
        summary: 'Assign role and region (security administrator); carries the version, 409 when stale',
        params: IdParams,
        body: AssignRoleBody,
        response: { 200: UserView, ...userErrors },
      },
    },
    async (request) => service.assignRole(ctx, actorOf(request), request.params.id, request.body),
  );

  // ---------- API tokens ----------

  app.get(
    '/tokens',
    {
      config: { permission: { all: ['tokens.manage'] } },
      schema: {
        tags: ['tokens'],
        summary: 'API tokens (security administrator)',
        response: { 200: TokenList, ...errors },
      },
    },
    async (request) => ({ items: await service.listTokens(ctx, actorOf(request)) }),
  );

  app.post(
    '/tokens',
    {
      config: { permission: { all: ['tokens.manage'] } },
      schema: {
        tags: ['tokens'],
        summary:
          'Create an API token with a role and region that reaches no personal data (security administrator); the token is shown once',
        body: CreateTokenBody,
        response: { 201: CreatedToken, ...errors },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createToken(ctx, actorOf(request), request.body)),
  );

  app.post(
    '/tokens/:id/revoke',
    {
      config: { permission: { all: ['tokens.manage'] } },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke an API token',
        params: IdParams,
        response: { 200: TokenView, ...errors, 404: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request) => service.revokeToken(ctx, actorOf(request), request.params.id),
  );

  // ---------- A business user's own API tokens ----------

  app.get(
    '/auth/tokens',
    {
      config: { permission: { all: ['tokens.own'] } },
      schema: {
        tags: ['tokens'],
        summary: "The signed-in user's own API tokens",
        response: { 200: TokenList, ...errors },
      },
    },
    async (request) => ({ items: await service.listOwnTokens(ctx, actorOf(request)) }),
  );

  app.post(
    '/auth/tokens',
    {
      config: { permission: { all: ['tokens.own'] } },
      schema: {
        tags: ['tokens'],
        summary:
          "Create an API token for oneself, with one's own role and region, acting as oneself (the password is asked again); the token is shown once",
        body: CreateOwnTokenBody,
        response: { 201: CreatedToken, ...errors, 423: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request, reply) =>
      reply.status(201).send(await service.createOwnToken(ctx, actorOf(request), request.body)),
  );

  app.post(
    '/auth/tokens/:id/revoke',
    {
      config: { permission: { all: ['tokens.own'] } },
      schema: {
        tags: ['tokens'],
        summary: 'Revoke one of the own API tokens',
        params: IdParams,
        response: { 200: TokenView, ...errors, 404: { $ref: 'ErrorEnvelope#' } },
      },
    },
    async (request) => service.revokeOwnToken(ctx, actorOf(request), request.params.id),
  );

  // ---------- Audit ----------

  app.get(
    '/audit',
    {
      config: { permission: { all: ['audit.read'] } },
      schema: {
        tags: ['audit'],
        summary: 'Search the audit trail (audit administrator), newest first',
        querystring: AuditQuery,
        response: { 200: AuditList, ...errors },
      },
    },
    async (request) => searchAudit(ctx, actorOf(request), request.query),
  );

  app.get(
    '/audit/export',
    {
      config: { permission: { all: ['audit.export'] } },
      schema: {
        tags: ['audit'],
        summary: 'The matching audit entries as CSV (audit administrator)',
        querystring: AuditQuery,
        produces: ['text/csv'],
        response: { 200: { type: 'string' }, ...errors },
      },
    },
    async (request, reply) => {
      const csv = await exportAudit(ctx, actorOf(request), request.query);
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '');
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="audit-${stamp}.csv"`)
        .send(csv);
    },
  );

  app.get(
    '/audit/verify',
    {
      config: { permission: { all: ['audit.read'] } },
      schema: {
        tags: ['audit'],
        summary: 'Verify the hash chain of the audit trail (audit administrator)',
        response: { 200: AuditVerify, ...errors },
      },
    },
    async (request) => verifyForActor(ctx, actorOf(request)),
  );
}
