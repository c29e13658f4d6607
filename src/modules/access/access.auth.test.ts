// Sign-in, sessions, CSRF, TOTP and passwords through the HTTP API.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import * as OTPAuth from 'otpauth';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signInCache } from './access.cache.ts';
import {
  TEST_PASSWORD,
  makeUser,
  sessionFor,
  signIn,
  totpCode,
  clientFromLogin,
  type Client,
} from '../../../test/support/access.ts';

let t: TestApp;

before(async () => {
  t = await createTestApp({ loginRateLimit: 1000, lockoutAttempts: 3, lockoutMinutes: 15 });
  const village = await t.ctx.db
    .selectFrom('regions')
    .select('code')
    .where('level', '=', 5)
    .orderBy('code')
    .executeTakeFirstOrThrow();
  assert.ok(village.code.startsWith('410225'));
});
after(async () => t.close());

/**
 * These tests move a session through time by writing the database directly, behind the service's
 * back (as another server process would): the cached sign-in sees that only after
 * AUTH_CACHE_SECONDS, which clearing the cache stands in for.
 */
function afterCacheTtl(): void {
  signInCache(t.ctx).clear();
}

async function get(url: string, client: Client | null) {
  return t.app.inject({ method: 'GET', url, headers: client?.headers ?? {} });
}

async function auditActions(
  username: string,
): Promise<{ action: string; result: string; details: unknown }[]> {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['action', 'result', 'details'])
    .where('actor_username', '=', username)
    .orderBy('id')
    .execute();
}

describe('sign-in', () => {
  test('a user signs in, gets an HttpOnly strict session cookie and a readable CSRF cookie, and /auth/me', async () => {
    await makeUser(t.ctx, 'county.a', 'county_staff', '410225');
    const { response, client } = await signIn(t.app, 'County.A');
    assert.equal(response.statusCode, 200);
    const session = response.cookies.find((c) => c.name === 'shouhu_session')!;
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(session.path, '/');
    assert.equal(session.value.length, 43, '256 bits, base64url');
    const csrf = response.cookies.find((c) => c.name === 'shouhu_csrf')!;
    assert.notEqual(csrf.httpOnly, true);
    const me = await get('/api/v1/auth/me', client);
    assert.equal(me.statusCode, 200);
    const body = me.json();
    assert.equal(body.role, 'county_staff');
    assert.equal(body.regionName, '兰考县');
    assert.ok(body.permissions.includes('persons.reveal'));
    assert.equal(body.limitedTo, null);
    // The session id is stored hashed, never as given.
    const stored = await t.ctx.db.selectFrom('sessions').select('id').execute();
    assert.ok(!stored.some((s) => s.id === session.value));
    const audits = await auditActions('county.a');
    assert.deepEqual(audits.at(-1)?.action, 'auth.login');
    assert.deepEqual(audits.at(-1)?.result, 'ok');
  });

  test('secure cookies when configured', async () => {
    t.ctx.config.secureCookies = true;
    try {
      await makeUser(t.ctx, 'secure.a', 'county_staff', '410225');
      const { response } = await signIn(t.app, 'secure.a');
      assert.ok(response.cookies.every((c) => c.secure === true));
    } finally {
      t.ctx.config.secureCookies = false;
    }
  });

  test('a wrong password and an unknown user get the same answer, and both are audited', async () => {
    await makeUser(t.ctx, 'county.b', 'county_staff', '410225');
    const wrong = await signIn(t.app, 'county.b', 'Wrong-password-1');
    const unknown = await signIn(t.app, 'nobody.here', 'Wrong-password-1');
    assert.equal(wrong.response.statusCode, 401);
    assert.equal(unknown.response.statusCode, 401);
    assert.deepEqual(wrong.response.json(), unknown.response.json());
    const failed = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'result', 'details'])
      .where('action', '=', 'auth.login')
      .where('result', '=', 'denied')
      .execute();
    assert.ok(failed.some((f) => (f.details as { reason?: string }).reason === 'bad_password'));
    assert.ok(failed.some((f) => (f.details as { reason?: string }).reason === 'unknown_user'));
  });

  test('lockout after the configured failures, also with the right password, and its expiry', async () => {
    const user = await makeUser(t.ctx, 'county.c', 'county_staff', '410225');
    assert.equal((await signIn(t.app, 'county.c', 'Wrong-password-1')).response.statusCode, 401);
    assert.equal((await signIn(t.app, 'county.c', 'Wrong-password-2')).response.statusCode, 401);
    const third = await signIn(t.app, 'county.c', 'Wrong-password-3');
    assert.equal(third.response.statusCode, 423);
    assert.equal(third.response.json().error.code, 'ACCOUNT_LOCKED');
    const right = await signIn(t.app, 'county.c');
    assert.equal(right.response.statusCode, 423, 'locked even with the right password');
    // An unknown username locks the same way, so the answer does not tell whether an account exists.
    for (let i = 0; i < 2; i++)
      assert.equal((await signIn(t.app, 'ghost.user', 'Wrong-password-1')).response.statusCode, 401);
    assert.equal((await signIn(t.app, 'ghost.user', 'Wrong-password-1')).response.statusCode, 423);
    assert.equal((await signIn(t.app, 'ghost.user', 'Wrong-password-1')).response.statusCode, 423);
    // The lock runs out.
    await sql`UPDATE users SET locked_until = now() - interval '1 second' WHERE id = ${user.id}`.execute(
      t.ctx.db,
    );
    assert.equal((await signIn(t.app, 'county.c')).response.statusCode, 200);
  });

  test('an unknown username costs an argon2 verification too', async () => {
    const { hashPassword, verifyPassword } = await import('./access.service.ts');
    const hash = await hashPassword('Some-password-1');
    // The fastest of several alternating tries: a busy machine only ever adds time to a try, so the
    // minimum is the work itself, where a median can catch one path in a quiet moment and the other
    // in a busy one.
    const fastest = (xs: number[]) => Math.min(...xs);
    const verifyTimes: number[] = [];
    const unknownTimes: number[] = [];
    for (let i = 0; i < 7; i++) {
      let started = performance.now();
      await verifyPassword(hash, 'Wrong-password-9');
      verifyTimes.push(performance.now() - started);
      started = performance.now();
      await signIn(t.app, `nobody.t${i}`, 'Wrong-password-9');
      unknownTimes.push(performance.now() - started);
    }
    assert.ok(
      fastest(unknownTimes) >= fastest(verifyTimes) * 0.8,
      `unknown user ${fastest(unknownTimes).toFixed(1)} ms, one argon2 verification ${fastest(verifyTimes).toFixed(1)} ms`,
    );
  });

  test('too many sign-in requests from one address: 429', async () => {
    t.ctx.config.loginRateLimit = 3;
    try {
      const from = (ip: string) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: ip,
          payload: { username: 'nobody.rate', password: 'Wrong-password-1' },
        });
      for (let i = 0; i < 3; i++) assert.notEqual((await from('10.1.1.1')).statusCode, 429);
      const limited = await from('10.1.1.1');
      assert.equal(limited.statusCode, 429);
      assert.equal(limited.json().error.code, 'RATE_LIMITED');
      assert.notEqual((await from('10.1.1.2')).statusCode, 429);
    } finally {
      t.ctx.config.loginRateLimit = 1000;
    }
  });

  test('a disabled account cannot sign in', async () => {
    const user = await makeUser(t.ctx, 'county.d', 'county_staff', '410225');
    await t.ctx.db.updateTable('users').set({ disabled: true }).where('id', '=', user.id).execute();
    assert.equal((await signIn(t.app, 'county.d')).response.statusCode, 401);
  });

  test('an account without a role cannot sign in yet', async () => {
    await makeUser(t.ctx, 'norole.a', null, null);
    const { response } = await signIn(t.app, 'norole.a');
    assert.equal(response.statusCode, 403);
  });
});

describe('sessions', () => {
  test('idle timeout', async () => {
    const user = await makeUser(t.ctx, 'idle.a', 'county_staff', '410225');
    const { client } = await signIn(t.app, 'idle.a');
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 200);
    await sql`UPDATE sessions SET last_seen_at = now() - make_interval(mins => ${t.ctx.config.sessionIdleMinutes + 1})
      WHERE user_id = ${user.id}`.execute(t.ctx.db);
    afterCacheTtl();
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 401);
  });

  test('activity keeps a session alive; the absolute timeout ends it anyway', async () => {
    const user = await makeUser(t.ctx, 'absolute.a', 'county_staff', '410225');
    const { client } = await signIn(t.app, 'absolute.a');
    await sql`UPDATE sessions SET last_seen_at = now() - make_interval(mins => ${t.ctx.config.sessionIdleMinutes - 1})
      WHERE user_id = ${user.id}`.execute(t.ctx.db);
    afterCacheTtl();
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 200);
    const seen = await t.ctx.db
      .selectFrom('sessions')
      .select(sql<boolean>`last_seen_at > now() - interval '1 minute'`.as('fresh'))
      .where('user_id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.equal(seen.fresh, true, 'the request renewed last_seen_at');
    await sql`UPDATE sessions SET created_at = now() - make_interval(hours => ${t.ctx.config.sessionAbsoluteHours}) - interval '1 minute'
      WHERE user_id = ${user.id}`.execute(t.ctx.db);
    afterCacheTtl();
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 401);
  });

  test('logout ends the session; logout-all ends every session of the user', async () => {
    await makeUser(t.ctx, 'logout.a', 'county_staff', '410225');
    const one = (await signIn(t.app, 'logout.a')).client!;
    const two = (await signIn(t.app, 'logout.a')).client!;
    const three = (await signIn(t.app, 'logout.a')).client!;
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: one.write });
    assert.equal(out.statusCode, 200);
    assert.ok(out.cookies.some((c) => c.name === 'shouhu_session' && c.value === ''));
    assert.equal((await get('/api/v1/auth/me', one)).statusCode, 401);
    assert.equal((await get('/api/v1/auth/me', two)).statusCode, 200);
    const all = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: two.write });
    assert.equal(all.statusCode, 200);
    assert.equal(all.json().revokedSessions, 2);
    assert.equal((await get('/api/v1/auth/me', two)).statusCode, 401);
    assert.equal((await get('/api/v1/auth/me', three)).statusCode, 401);
    const actions = (await auditActions('logout.a')).map((a) => a.action);
    assert.ok(actions.includes('auth.logout'));
    assert.ok(actions.includes('auth.logout_all'));
  });

  test('a forged or garbage cookie is not a session', async () => {
    const forged = { cookie: 'shouhu_session=' + 'A'.repeat(43) };
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: forged })).statusCode,
      401,
    );
    const garbage = { cookie: "shouhu_session=' OR 1=1 --" };
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: garbage })).statusCode,
      401,
    );
  });
});

describe('CSRF', () => {
  test('a cookie-authenticated POST without the CSRF header, or with a wrong one, is refused and audited', async () => {
    await makeUser(t.ctx, 'csrf.a', 'county_staff', '410225');
    const client = (await signIn(t.app, 'csrf.a')).client!;
    const missing = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: client.headers,
    });
    assert.equal(missing.statusCode, 403);
    assert.equal(missing.json().error.code, 'CSRF_FAILED');
    const wrong = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { ...client.headers, 'x-shouhu-csrf': 'x'.repeat(43) },
    });
    assert.equal(wrong.json().error.code, 'CSRF_FAILED');
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 200, 'still signed in');
    const denied = (await auditActions('csrf.a')).filter((a) => a.action === 'access.denied');
    assert.equal(denied.length, 2);
    assert.deepEqual(denied[0]!.details, { code: 'CSRF_FAILED', params: {}, query: {} });
    const ok = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: client.write });
    assert.equal(ok.statusCode, 200);
  });

  test('a bearer token needs no CSRF header', async () => {
    const created = await t.app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: 'Bearer nonsense-token-value-123' },
    });
    assert.equal(created.statusCode, 401);
    const { createToken } = await import('./access.service.ts');
    const { token } = await createToken(t.ctx, null, {
      name: 'csrf test',
      role: 'county_staff',
      regionCode: '410225',
    });
    const logout = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(logout.statusCode, 200);
  });
});

describe('passwords', () => {
  test('a forced password change: only change-password, me and logout until done', async () => {
    const user = await makeUser(t.ctx, 'first.a', 'county_staff', '410225', { mustChange: true });
    const { response, client } = await signIn(t.app, 'first.a');
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().limitedTo, 'password_change');
    const regions = await get('/api/v1/regions', client);
    assert.equal(regions.statusCode, 403);
    assert.equal(regions.json().error.code, 'PASSWORD_CHANGE_REQUIRED');
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 200);
    const change = (newPassword: string, currentPassword = TEST_PASSWORD) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: client!.write,
        payload: { currentPassword, newPassword },
      });

    const weak = await change('short');
    assert.equal(weak.statusCode, 400);
    assert.equal(weak.json().error.code, 'VALIDATION_FAILED');
    assert.ok(weak.json().error.details.length >= 2);
    assert.equal((await change('first.a-Strong-1')).statusCode, 400, 'contains the username');
    assert.equal((await change(TEST_PASSWORD)).statusCode, 400, 'the current password is in the history');
    assert.equal(
      (await change('New-password-1', 'Not-the-current-1')).statusCode,
      400,
      'wrong current password',
    );
    assert.equal((await change('New-password-1')).statusCode, 200);
    assert.equal((await get('/api/v1/regions', client)).statusCode, 200);
    assert.equal((await get('/api/v1/auth/me', client)).json().mustChangePassword, false);

    // None of the last five passwords.
    const again = (next: string, current: string) =>
      t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: client!.write,
        payload: { currentPassword: current, newPassword: next },
      });
    assert.equal((await again(TEST_PASSWORD, 'New-password-1')).statusCode, 400);
    let current = 'New-password-1';
    for (let i = 2; i <= 5; i++) {
      assert.equal((await again(`New-password-${i}`, current)).statusCode, 200);
      current = `New-password-${i}`;
    }
    assert.equal((await again('New-password-1', current)).statusCode, 400, 'still among the last five');
    assert.equal((await again(TEST_PASSWORD, current)).statusCode, 200, 'six passwords ago is allowed again');
    const history = await t.ctx.db
      .selectFrom('password_history')
      .select('password_hash')
      .where('user_id', '=', user.id)
      .execute();
    assert.equal(history.length, 5);
    assert.ok(history.every((h) => h.password_hash.startsWith('$argon2id$')));
  });

  test('guessing the current password through change-password locks the account and ends its sessions', async () => {
    await makeUser(t.ctx, 'guess.a', 'county_staff', '410225');
    const client = (await signIn(t.app, 'guess.a')).client!;
    for (let i = 1; i <= t.ctx.config.lockoutAttempts; i++) {
      const r = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/change-password',
        headers: client.write,
        payload: { currentPassword: `Guess-number-${i}`, newPassword: 'Whatever-pass-1' },
      });
      assert.equal(r.statusCode, 400);
    }
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 401);
    assert.equal((await signIn(t.app, 'guess.a')).response.statusCode, 423);
  });

  test('changing the password signs out the other sessions', async () => {
    await makeUser(t.ctx, 'change.b', 'county_staff', '410225');
    const here = (await signIn(t.app, 'change.b')).client!;
    const elsewhere = (await signIn(t.app, 'change.b')).client!;
    const change = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: here.write,
      payload: { currentPassword: TEST_PASSWORD, newPassword: 'Another-pass-7' },
    });
    assert.equal(change.statusCode, 200);
    assert.equal((await get('/api/v1/auth/me', here)).statusCode, 200);
    assert.equal((await get('/api/v1/auth/me', elsewhere)).statusCode, 401);
  });
});

describe('two-factor authentication (TOTP)', () => {
  test('enrol with the QR code, confirm, then sign in with a code or a single-use recovery code', async () => {
    await makeUser(t.ctx, 'totp.a', 'county_staff', '410225');
    const client = (await signIn(t.app, 'totp.a')).client!;
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/enroll',
      headers: client.write,
    });
    assert.equal(enroll.statusCode, 200);
    const { otpauthUri, qrCodeDataUrl } = enroll.json();
    assert.match(qrCodeDataUrl, /^data:image\/png;base64,/);
    const parsed = OTPAuth.URI.parse(otpauthUri) as OTPAuth.TOTP;
    assert.equal(parsed.label, 'totp.a');
    const secret = parsed.secret.base32;

    const bad = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/confirm',
      headers: client.write,
      payload: { code: '000000' === totpCode(secret) ? '111111' : '000000', password: TEST_PASSWORD },
    });
    assert.equal(bad.statusCode, 400);
    const confirm = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/confirm',
      headers: client.write,
      payload: { code: totpCode(secret), password: TEST_PASSWORD },
    });
    assert.equal(confirm.statusCode, 200);
    const codes: string[] = confirm.json().recoveryCodes;
    assert.equal(codes.length, 10);

    const noCode = await signIn(t.app, 'totp.a');
    assert.equal(noCode.response.statusCode, 401);
    assert.equal(noCode.response.json().error.code, 'TWO_FACTOR_REQUIRED');
    const wrongCode = await signIn(t.app, 'totp.a', TEST_PASSWORD, {
      totpCode: '123456' === totpCode(secret, 1) ? '654321' : '123456',
    });
    assert.equal(wrongCode.response.statusCode, 401);
    assert.equal(wrongCode.response.json().error.code, 'UNAUTHENTICATED');
    // The confirming code's step is used; the next step's code (one step of drift) is accepted once.
    // The same code both times: computed again, it could be the next period's after a boundary.
    const nextCode = totpCode(secret, 1);
    const withCode = await signIn(t.app, 'totp.a', TEST_PASSWORD, { totpCode: nextCode });
    assert.equal(withCode.response.statusCode, 200);
    const replay = await signIn(t.app, 'totp.a', TEST_PASSWORD, { totpCode: nextCode });
    assert.equal(replay.response.statusCode, 401, 'a code works once');

    const withRecovery = await signIn(t.app, 'totp.a', TEST_PASSWORD, {
      recoveryCode: codes[0]!.toUpperCase(),
    });
    assert.equal(withRecovery.response.statusCode, 200);
    const reused = await signIn(t.app, 'totp.a', TEST_PASSWORD, { recoveryCode: codes[0]! });
    assert.equal(reused.response.statusCode, 401);
    const stored = await t.ctx.db.selectFrom('recovery_codes').select('code_hash').execute();
    assert.ok(!stored.some((s) => codes.includes(s.code_hash)), 'recovery codes are stored hashed');
  });

  test('an administrator without TOTP gets a session limited to enrolment', async () => {
    await makeUser(t.ctx, 'secadmin.e', 'security_admin', null);
    const { response, client } = await signIn(t.app, 'secadmin.e');
    assert.equal(response.statusCode, 200);
    assert.equal(response.json().limitedTo, 'two_factor_enrollment');
    assert.equal(response.json().twoFactorRequired, true);
    const tokens = await get('/api/v1/tokens', client);
    assert.equal(tokens.statusCode, 403);
    assert.equal(tokens.json().error.code, 'TWO_FACTOR_ENROLLMENT_REQUIRED');
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/enroll',
      headers: client!.write,
    });
    const secret = (OTPAuth.URI.parse(enroll.json().otpauthUri) as OTPAuth.TOTP).secret.base32;
    const confirm = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/confirm',
      headers: client!.write,
      payload: { code: totpCode(secret), password: TEST_PASSWORD },
    });
    assert.equal(confirm.statusCode, 200);
    assert.equal((await get('/api/v1/tokens', client)).statusCode, 200);
    // From now on the administrator's sign-in needs the code.
    assert.equal((await signIn(t.app, 'secadmin.e')).response.json().error.code, 'TWO_FACTOR_REQUIRED');
    const full = await signIn(t.app, 'secadmin.e', TEST_PASSWORD, { totpCode: totpCode(secret, 1) });
    assert.equal(full.response.json().limitedTo, null);
  });

  test('in demo mode administrators may work without TOTP', async () => {
    const admin = await makeUser(t.ctx, 'auditor.demo', 'audit_admin', null);
    t.ctx.config.demoMode = true;
    try {
      const client = await sessionFor(t.ctx, admin.id);
      assert.equal((await get('/api/v1/audit?limit=1', client)).statusCode, 200);
    } finally {
      t.ctx.config.demoMode = false;
    }
    const client = await sessionFor(t.ctx, admin.id);
    assert.equal((await get('/api/v1/audit?limit=1', client)).statusCode, 403);
  });
});

describe('logs', () => {
  test('no password, session, token, ID number or phone reaches the log', async () => {
    await makeUser(t.ctx, 'logs.a', 'county_staff', '410225', { password: 'Secret-Pass-0427' });
    const before = t.logs.length;
    const { response } = await signIn(t.app, 'logs.a', 'Secret-Pass-0427');
    const session = clientFromLogin(response);
    await signIn(t.app, 'logs.a', 'Wrong-Pass-0427');
    const { createToken } = await import('./access.service.ts');
    const { token } = await createToken(t.ctx, null, {
      name: 'logs',
      role: 'county_staff',
      regionCode: '410225',
    });
    await t.app.inject({
      method: 'GET',
      url: '/api/v1/regions/search?q=41022520080101123X&within=410225&phone=13812345678',
      headers: { authorization: `Bearer ${token}` },
    });
    await t.app.inject({ method: 'GET', url: '/api/v1/regions/410225', headers: session.headers });
    const captured = t.logs.slice(before).join('\n');
    assert.ok(captured.length > 0, 'requests were logged');
    for (const secret of [
      'Secret-Pass-0427',
      'Wrong-Pass-0427',
      token,
      session.cookie.split('=')[1]!.split(';')[0]!,
      session.csrf,
      '41022520080101123X',
      '13812345678',
    ])
      assert.ok(!captured.includes(secret), `the log contains ${secret.slice(0, 6)}…`);
  });
});
