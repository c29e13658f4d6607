// An assessor's attacks (等保三级) on sign-in, lockout, the per-IP limit, passwords, sessions, TOTP,
// API tokens and the log, each through the HTTP API. What access.auth.test.ts, access.admin.test.ts
// and access.cache.test.ts already show is not repeated here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createHttpApp } from '../src/app.ts';
import { createToken } from '../src/modules/access/index.ts';
import { useRecoveryCode } from '../src/modules/access/access.service.ts';
import { signInCache } from '../src/modules/access/access.cache.ts';
import { normalizeRecoveryCode, passwordProblems, sha256Hex } from '../src/modules/access/access.rules.ts';
import type { App } from '../src/platform/http.ts';
import { createTestApp, type TestApp } from './support/db.ts';
import {
  TEST_PASSWORD,
  awayFromPeriodEnd,
  makeUser,
  sessionFor,
  signIn,
  totpCode,
  type Client,
} from './support/access.ts';

let t: TestApp;

before(async () => {
  // The configured defaults: 5 failures lock for 15 minutes.
  t = await createTestApp({ loginRateLimit: 1000 });
  assert.equal(t.ctx.config.lockoutAttempts, 5);
  assert.equal(t.ctx.config.lockoutMinutes, 15);
});
after(async () => t.close());

function login(app: App, payload: Record<string, string>, remoteAddress = '127.0.0.1') {
  return app.inject({ method: 'POST', url: '/api/v1/auth/login', remoteAddress, payload });
}

function get(url: string, client: Client | null) {
  return t.app.inject({ method: 'GET', url, headers: client?.headers ?? {} });
}

function answer(r: { statusCode: number; json(): unknown }) {
  const { error } = r.json() as { error: { code: string; message: string } };
  return `${r.statusCode} ${error.code} ${error.message}`;
}

describe('lockout', () => {
  test('five failures from two addresses and in other spellings of the name lock the account for the configured 15 minutes', async () => {
    const user = await makeUser(t.ctx, 'lock.spread', 'county_staff', '410225');
    const tries = [
      ['10.0.0.1', 'lock.spread'],
      ['10.0.0.2', 'LOCK.SPREAD'],
      ['10.0.0.1', '  Lock.Spread  '],
      ['10.0.0.2', 'lock.spread'],
    ] as const;
    for (const [ip, name] of tries)
      assert.equal((await login(t.app, { username: name, password: 'Wrong-pass-11' }, ip)).statusCode, 401);
    const fifth = await login(t.app, { username: 'Lock.Spread', password: 'Wrong-pass-11' }, '10.0.0.3');
    assert.equal(fifth.statusCode, 423);
    // The right password, from a fresh address, is refused while the lock lasts.
    assert.equal(
      (await login(t.app, { username: 'lock.spread', password: TEST_PASSWORD }, '10.0.0.9')).statusCode,
      423,
    );
    const row = await sql<{ minutes: number }>`SELECT extract(epoch FROM locked_until - now()) / 60 AS minutes
      FROM users WHERE id = ${user.id}`.execute(t.ctx.db);
    const minutes = Number(row.rows[0]!.minutes);
    assert.ok(minutes > 14.9 && minutes <= 15, `locked for ${minutes} minutes`);
    // Still locked a minute before the end.
    await sql`UPDATE users SET locked_until = now() + interval '1 minute' WHERE id = ${user.id}`.execute(
      t.ctx.db,
    );
    assert.equal((await signIn(t.app, 'lock.spread')).response.statusCode, 423);
  });

  test('a burst of parallel guesses gets no more than the five attempts checked', async () => {
    const user = await makeUser(t.ctx, 'lock.burst', 'county_staff', '410225');
    const burst = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        login(t.app, { username: 'lock.burst', password: `Burst-guess-${i}` }, `10.30.0.${i}`),
      ),
    );
    const statuses = burst.map((r) => r.statusCode);
    assert.ok(
      statuses.every((s) => s === 401 || s === 423),
      statuses.join(),
    );
    const checked = await t.ctx.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'auth.login')
      .where('entity_id', '=', String(user.id))
      .execute();
    const wrong = checked.filter((c) => (c.details as { reason?: string }).reason === 'bad_password');
    // Exactly the five allowed guesses were checked (each answered 401, or 423 once the fifth had
    // locked the account); the other eleven were refused unchecked.
    assert.equal(wrong.length, 5, `${wrong.length} passwords were checked`);
    assert.ok(statuses.filter((s) => s === 401).length <= 4, statuses.join());
    assert.equal((await signIn(t.app, 'lock.burst')).response.statusCode, 423);
  });

  test('parallel guesses of the current password through a stolen session: five are checked', async () => {
    const user = await makeUser(t.ctx, 'lock.stolen', 'county_staff', '410225');
    const stolen = await sessionFor(t.ctx, user.id);
    const burst = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/change-password',
          headers: stolen.write,
          payload: { currentPassword: `Stolen-guess-${i}`, newPassword: 'Taken-over-pass-1' },
        }),
      ),
    );
    const statuses = burst.map((r) => r.statusCode);
    assert.ok(
      statuses.every((s) => s === 400 || s === 423 || s === 401),
      statuses.join(),
    );
    const checked = await t.ctx.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'auth.password.change')
      .where('entity_id', '=', String(user.id))
      .execute();
    const wrong = checked.filter((c) => (c.details as { reason?: string }).reason === 'bad_current_password');
    assert.equal(wrong.length, 5, `${wrong.length} guesses were checked`);
    assert.equal((await get('/api/v1/auth/me', stolen)).statusCode, 401, 'the lock ended the session');
    assert.equal((await signIn(t.app, 'lock.stolen')).response.statusCode, 423);
  });

  test('full-width letters are not another account, and count toward the same lock', async () => {
    await makeUser(t.ctx, 'lock.wide', 'county_staff', '410225');
    // ｌｏｃｋ．ｗｉｄｅ: the same name typed with a Chinese input method in full-width mode.
    const wide = 'ｌｏｃｋ．ｗｉｄｅ';
    const right = await login(t.app, { username: wide, password: TEST_PASSWORD });
    assert.equal(right.statusCode, 200, 'the full-width name is the account');
    for (let i = 0; i < 4; i++)
      assert.equal((await login(t.app, { username: wide, password: 'Wrong-pass-11' })).statusCode, 401);
    assert.equal((await login(t.app, { username: 'lock.wide', password: 'Wrong-pass-11' })).statusCode, 423);
  });

  test('an unknown name answers exactly like a known one at every attempt, also after a restart', async () => {
    await makeUser(t.ctx, 'lock.known', 'county_staff', '410225');
    const known: string[] = [];
    const unknown: string[] = [];
    for (let i = 0; i < 4; i++) {
      known.push(answer(await login(t.app, { username: 'lock.known', password: 'Wrong-pass-11' })));
      unknown.push(answer(await login(t.app, { username: 'lock.unknown', password: 'Wrong-pass-11' })));
    }
    // The server restarts (a deploy, a second process behind the balancer): a new app, no cache.
    const restarted = await createHttpApp(t.ctx, { serveWeb: false });
    await restarted.ready();
    try {
      signInCache(t.ctx).clear();
      for (let i = 0; i < 3; i++) {
        known.push(answer(await login(restarted, { username: 'lock.known', password: 'Wrong-pass-11' })));
        unknown.push(answer(await login(restarted, { username: 'lock.unknown', password: 'Wrong-pass-11' })));
      }
    } finally {
      await restarted.close();
    }
    assert.deepEqual(unknown, known);
    assert.match(known[4]!, /^423 ACCOUNT_LOCKED/);
    assert.match(known[0]!, /^401 UNAUTHENTICATED/);
    // Both locks run out after the configured time, and then both answer 401 again.
    await sql`UPDATE users SET locked_until = now() - interval '1 second' WHERE username = 'lock.known'`.execute(
      t.ctx.db,
    );
    await sql`UPDATE login_failures SET locked_until = now() - interval '1 second'`.execute(t.ctx.db);
    const wrong = { password: 'Wrong-pass-11' };
    assert.equal(
      answer(await login(t.app, { username: 'lock.unknown', ...wrong })),
      answer(await login(t.app, { username: 'lock.known', ...wrong })),
    );
    // Only a hash of the name is kept.
    const kept = await sql<{ row: string }>`SELECT login_failures::text AS row FROM login_failures`.execute(
      t.ctx.db,
    );
    assert.ok(kept.rows.length > 0);
    assert.ok(!kept.rows.some((r) => r.row.includes('lock.unknown')));
  });

  test('an unknown name is not answered much faster than a wrong password for a known one', async () => {
    await makeUser(t.ctx, 'timing.known', 'county_staff', '410225', { password: 'Timing-pass-77' });
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const knownTimes: number[] = [];
    const unknownTimes: number[] = [];
    // Interleaved, different wrong passwords, each from an address of its own; no lock in between.
    t.ctx.config.lockoutAttempts = 100;
    try {
      for (let i = 0; i < 9; i++) {
        let started = performance.now();
        await login(t.app, { username: 'timing.known', password: `Wrong-pass-${i}` }, `10.9.0.${i}`);
        knownTimes.push(performance.now() - started);
        started = performance.now();
        await login(t.app, { username: `timing.nobody${i}`, password: `Wrong-pass-${i}` }, `10.9.1.${i}`);
        unknownTimes.push(performance.now() - started);
      }
    } finally {
      t.ctx.config.lockoutAttempts = 5;
    }
    // The machine is shared: the fastest and the middle answers are compared, both must hold.
    const says = `unknown ${unknownTimes.map((x) => x.toFixed(0))} ms, known ${knownTimes.map((x) => x.toFixed(0))} ms`;
    assert.ok(Math.min(...unknownTimes) >= Math.min(...knownTimes) * 0.5, says);
    assert.ok(median(unknownTimes) >= median(knownTimes) * 0.5, says);
  });
});

describe('the per-address limit', () => {
  test('many names from one address are refused; X-Forwarded-For does not make another address', async () => {
    t.ctx.config.loginRateLimit = 5;
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 8; i++) {
        const r = await t.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: '10.20.0.1',
          headers: { 'x-forwarded-for': `198.51.100.${i}` },
          payload: { username: `spray.user${i}`, password: 'Spring-2026-ok' },
        });
        statuses.push(r.statusCode);
      }
      assert.deepEqual(statuses.slice(0, 5), [401, 401, 401, 401, 401]);
      assert.deepEqual(statuses.slice(5), [429, 429, 429]);
      // The audit trail records the connection's address, not the claimed one.
      const ips = await t.ctx.db
        .selectFrom('audit_log')
        .select('ip')
        .where('action', '=', 'auth.login')
        .where('ip', 'like', '198.51.100.%')
        .execute();
      assert.equal(ips.length, 0);
    } finally {
      t.ctx.config.loginRateLimit = 1000;
    }
  });

  test('new IPv6 addresses of one /64 for every attempt share one limit', async () => {
    t.ctx.config.loginRateLimit = 3;
    try {
      const statuses: number[] = [];
      for (let i = 1; i <= 5; i++) {
        const r = await login(
          t.app,
          { username: `v6.user${i}`, password: 'Wrong-pass-11' },
          `2001:db8:77:1::${i}`,
        );
        statuses.push(r.statusCode);
      }
      assert.deepEqual(statuses, [401, 401, 401, 429, 429]);
      const other = await login(
        t.app,
        { username: 'v6.other', password: 'Wrong-pass-11' },
        '2001:db8:77:2::1',
      );
      assert.equal(other.statusCode, 401, 'another /64 is another subscriber');
    } finally {
      t.ctx.config.loginRateLimit = 1000;
    }
  });

  test('behind a trusted proxy the forwarded address is the client: one client is limited, another is not', async () => {
    const proxied = await createTestApp({ loginRateLimit: 3, trustProxy: true });
    try {
      const from = (client: string) =>
        proxied.app.inject({
          method: 'POST',
          url: '/api/v1/auth/login',
          remoteAddress: '10.0.0.254',
          headers: { 'x-forwarded-for': client },
          payload: { username: 'nobody.proxy', password: 'Wrong-pass-11' },
        });
      for (let i = 0; i < 3; i++) assert.equal((await from('203.0.113.7')).statusCode, 401);
      assert.equal((await from('203.0.113.7')).statusCode, 429);
      assert.equal((await from('203.0.113.8')).statusCode, 401);
    } finally {
      await proxied.close();
    }
  });
});

describe('password policy', () => {
  test('exactly ten characters pass, nine do not; characters are counted, not UTF-16 units', () => {
    assert.deepEqual(passwordProblems('Abcdefgh1!', 'someone'), []);
    assert.equal(passwordProblems('Abcdefg1!', 'someone').length, 1);
    // Nine characters, one of them outside the BMP (two UTF-16 units), is still nine.
    assert.equal(passwordProblems('Abcdef1!𠀀', 'someone').length, 1);
  });

  test('classes by Unicode category: accented letters have a case; Chinese characters count as symbols', () => {
    // Upper, lower and digit, in letters outside ASCII.
    assert.deepEqual(passwordProblems('Éééééééé12', 'someone'), []);
    assert.deepEqual(passwordProblems('ÄÖÜäöüßab3', 'someone'), []);
    // Only lower case and digits, one of them full-width: two classes.
    assert.equal(passwordProblems('éééééééé１２', 'someone').length, 1);
    // A Chinese character is neither letter case nor digit: the "other characters" class, like a symbol.
    assert.deepEqual(passwordProblems('守护儿童abcd12', 'someone'), []);
    assert.equal(passwordProblems('守护儿童守护儿童守护', 'someone').length, 1, 'one class only');
  });

  test('the username inside the password in another case or in full-width letters is refused', () => {
    assert.equal(passwordProblems('xxCOUNTY.Axx-12', 'county.a').length, 1);
    assert.equal(passwordProblems('ｃｏｕｎｔｙ．ａ-Ab12', 'county.a').length, 1);
  });
});

describe('sessions', () => {
  test('a session id in the URL is never a session', async () => {
    const user = await makeUser(t.ctx, 'url.session', 'county_staff', '410225');
    const client = await sessionFor(t.ctx, user.id);
    const raw = client.cookie.split(';')[0]!.split('=')[1]!;
    for (const url of [
      `/api/v1/auth/me?shouhu_session=${raw}`,
      `/api/v1/auth/me;shouhu_session=${raw}`,
      `/api/v1/auth/me?session=${raw}&sid=${raw}`,
    ]) {
      const r = await get(url, null);
      assert.ok(r.statusCode === 401 || r.statusCode === 404, `${url}: ${r.statusCode}`);
      assert.ok(!r.body.includes('url.session'));
    }
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 200);
  });

  test('behind a trusted TLS proxy the cookies are Secure without SECURE_COOKIES', async () => {
    const proxied = await createTestApp({ trustProxy: true });
    try {
      await makeUser(proxied.ctx, 'tls.user', 'county_staff', '410225');
      const payload = { username: 'tls.user', password: TEST_PASSWORD };
      const https = await proxied.app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        headers: { 'x-forwarded-proto': 'https' },
        payload,
      });
      assert.equal(https.statusCode, 200);
      const names = https.cookies.map((c) => c.name).sort();
      assert.deepEqual(names, ['shouhu_csrf', 'shouhu_session']);
      for (const c of https.cookies) {
        assert.equal(c.secure, true, `${c.name} is Secure`);
        assert.equal(c.sameSite, 'Strict');
      }
      const out = await proxied.app.inject({
        method: 'POST',
        url: '/api/v1/auth/logout',
        headers: {
          'x-forwarded-proto': 'https',
          cookie: https.headers['set-cookie']!.toString().match(/shouhu_session=[^;]+/)![0],
          'x-shouhu-csrf': https.cookies.find((c) => c.name === 'shouhu_csrf')!.value,
        },
      });
      assert.equal(out.statusCode, 200);
      assert.ok(
        out.cookies.every((c) => c.secure === true),
        'cleared with the same flags',
      );
      // Plain HTTP (a health check on the inside) keeps working without Secure.
      const http = await proxied.app.inject({ method: 'POST', url: '/api/v1/auth/login', payload });
      assert.ok(http.cookies.every((c) => c.secure !== true));
    } finally {
      await proxied.close();
    }
  });

  test('a disabled account’s session ends, also when it was disabled by another process', async () => {
    const user = await makeUser(t.ctx, 'disabled.behind', 'county_staff', '410225');
    const client = (await signIn(t.app, 'disabled.behind')).client!;
    await t.ctx.db.updateTable('users').set({ disabled: true }).where('id', '=', user.id).execute();
    signInCache(t.ctx).clear();
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 401);
  });
});

describe('TOTP', () => {
  test("the previous period's code signs in once; the one before that does not", async () => {
    const user = await makeUser(t.ctx, 'totp.window', 'county_staff', '410225', { totp: true });
    const code = (steps: number) => totpCode(user.totpSecret!, steps);
    await awayFromPeriodEnd();
    const tooOld = await signIn(t.app, 'totp.window', TEST_PASSWORD, { totpCode: code(-2) });
    assert.equal(tooOld.response.statusCode, 401);
    const previous = code(-1);
    assert.equal(
      (await signIn(t.app, 'totp.window', TEST_PASSWORD, { totpCode: previous })).response.statusCode,
      200,
    );
    assert.equal(
      (await signIn(t.app, 'totp.window', TEST_PASSWORD, { totpCode: previous })).response.statusCode,
      401,
      'replayed',
    );
  });

  test("enrolment is not confirmed with a code of another user's authenticator", async () => {
    const other = await makeUser(t.ctx, 'totp.other', 'county_staff', '410225', { totp: true });
    const user = await makeUser(t.ctx, 'totp.self', 'county_staff', '410225');
    const client = await sessionFor(t.ctx, user.id);
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/enroll',
      headers: client.write,
    });
    assert.equal(enroll.statusCode, 200);
    const ownSecret: string = enroll.json().secret;
    const foreign = totpCode(other.totpSecret!);
    // Skip the 1 in 10^6 case where both authenticators show the same code.
    if (
      foreign !== totpCode(ownSecret) &&
      foreign !== totpCode(ownSecret, 1) &&
      foreign !== totpCode(ownSecret, -1)
    ) {
      const confirm = await t.app.inject({
        method: 'POST',
        url: '/api/v1/auth/2fa/confirm',
        headers: client.write,
        payload: { code: foreign, password: TEST_PASSWORD },
      });
      assert.equal(confirm.statusCode, 400);
    }
    const row = await t.ctx.db
      .selectFrom('users')
      .select('totp_enabled')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.totp_enabled, false);
  });
});

describe('recovery codes', () => {
  test('a code used by a sign-in that has not committed yet cannot be used by a second one', async () => {
    const user = await makeUser(t.ctx, 'recovery.race', 'county_staff', '410225', { totp: true });
    const code = 'abcd-efgh-jkmn-pqrs';
    await t.ctx.db
      .insertInto('recovery_codes')
      .values({ user_id: user.id, code_hash: sha256Hex(normalizeRecoveryCode(code)), used_at: null })
      .execute();
    if (t.database.url) {
      // PostgreSQL: the second use waits for the first one's row lock, then must see the code used.
      let second: Promise<boolean> | null = null;
      await t.ctx.db.transaction().execute(async (trx) => {
        assert.equal(await useRecoveryCode(trx, user.id, code), true);
        second = useRecoveryCode(t.ctx.db, user.id, code);
        await new Promise((r) => setTimeout(r, 300));
      });
      assert.equal(await second!, false, 'the same code twice');
    } else {
      // PGlite has one connection: the uses are sequential.
      assert.equal(await useRecoveryCode(t.ctx.db, user.id, code), true);
      assert.equal(await useRecoveryCode(t.ctx.db, user.id, code), false);
    }
    const used = await t.ctx.db
      .selectFrom('recovery_codes')
      .select('used_at')
      .where('user_id', '=', user.id)
      .execute();
    assert.equal(used.filter((u) => u.used_at !== null).length, 1);
  });
});

describe('API tokens', () => {
  test('a token cannot create, list or revoke tokens, nor change its own or anyone’s role', async () => {
    const { token, item } = await createToken(t.ctx, null, {
      name: 'feed',
      role: 'county_staff',
      regionCode: '410225',
    });
    const headers = { authorization: `Bearer ${token}` };
    const calls = [
      {
        method: 'POST',
        url: '/api/v1/tokens',
        payload: { name: 'more', role: 'county_staff', regionCode: '410225' },
      },
      { method: 'GET', url: '/api/v1/tokens' },
      { method: 'POST', url: `/api/v1/tokens/${item.id}/revoke` },
      {
        method: 'PUT',
        url: '/api/v1/users/1/role',
        payload: { role: 'county_staff', regionCode: '410225', version: 1 },
      },
    ] as const;
    for (const c of calls) {
      const r = await t.app.inject({ ...c, headers });
      assert.equal(r.statusCode, 403, `${c.method} ${c.url}: ${r.body}`);
    }
    assert.equal(
      (await t.ctx.db
        .selectFrom('api_tokens')
        .select('id')
        .execute()
        .then((r) => r.length)) > 0,
      true,
    );
    const stored = await t.ctx.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', item.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.role, 'county_staff');
    assert.equal(stored.revoked_at, null);
  });

  test('signing out everywhere ends sessions, not the API tokens the user created (revoked on their own)', async () => {
    const sec = await makeUser(t.ctx, 'tok.creator', 'security_admin', null, { totp: true });
    const client = await sessionFor(t.ctx, sec.id);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: client.write,
      payload: { name: 'nightly feed', role: 'national_viewer', regionCode: null },
    });
    const bearer = { authorization: `Bearer ${created.json().token as string}` };
    const out = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: client.write });
    assert.equal(out.statusCode, 200);
    assert.equal((await get('/api/v1/auth/me', client)).statusCode, 401);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode,
      200,
    );
    // A token cannot sign itself out everywhere either: it has no session.
    const tokenOut = await t.app.inject({ method: 'POST', url: '/api/v1/auth/logout-all', headers: bearer });
    assert.equal(tokenOut.statusCode, 403);
  });

  test('the token is in no later answer and the row holds only its hash; it ends at its expiry time', async () => {
    const sec = await makeUser(t.ctx, 'tok.sec', 'security_admin', null, { totp: true });
    const client = await sessionFor(t.ctx, sec.id);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: client.write,
      payload: { name: 'exchange', role: 'national_viewer', regionCode: null, expiresInDays: 1 },
    });
    assert.equal(created.statusCode, 201);
    const token: string = created.json().token;
    const list = await get('/api/v1/tokens', client);
    assert.ok(!list.body.includes(token));
    assert.ok(!list.body.includes(token.slice(0, 20)), 'not even a long prefix');
    const row = await t.ctx.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('id', '=', created.json().item.id)
      .executeTakeFirstOrThrow();
    assert.ok(!Object.values(row).some((v) => typeof v === 'string' && v.includes(token.slice(4, 24))));
    assert.match(row.token_hash, /^[0-9a-f]{64}$/);
    const bearer = { authorization: `Bearer ${token}` };
    // Two seconds before its end it works; at its end it does not, cached or not.
    await sql`UPDATE api_tokens SET expires_at = now() + interval '2 seconds' WHERE id = ${row.id}`.execute(
      t.ctx.db,
    );
    signInCache(t.ctx).clear();
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode,
      200,
    );
    await new Promise((r) => setTimeout(r, 2100));
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode,
      401,
    );
  });
});

describe('logs', () => {
  test('no password, TOTP code, recovery code, temporary password or token in the log of these requests', async () => {
    const user = await makeUser(t.ctx, 'log.totp', 'county_staff', '410225', {
      password: 'Logged-Pass-5150',
    });
    const client = await sessionFor(t.ctx, user.id);
    const from = t.logs.length;
    const secrets: string[] = ['Logged-Pass-5150', 'Changed-Pass-6160', 'Typed-As-Name-7170'];
    const enroll = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/enroll',
      headers: client.write,
    });
    const secret: string = enroll.json().secret;
    secrets.push(secret);
    const confirmCode = totpCode(secret);
    const confirm = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/2fa/confirm',
      headers: client.write,
      payload: { code: confirmCode, password: 'Logged-Pass-5150' },
    });
    const codes: string[] = confirm.json().recoveryCodes;
    secrets.push(...codes);
    const loginCode = totpCode(secret, 1);
    const signed = await signIn(t.app, 'log.totp', 'Logged-Pass-5150', { totpCode: loginCode });
    assert.equal(signed.response.statusCode, 200);
    await signIn(t.app, 'log.totp', 'Logged-Pass-5150', { recoveryCode: codes[0]! });
    // A bad code in the wrong shape (refused by the schema) and a password typed into the name field.
    await signIn(t.app, 'log.totp', 'Logged-Pass-5150', { totpCode: '12345x' });
    await signIn(t.app, 'Typed-As-Name-7170', 'Logged-Pass-5150');
    await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/change-password',
      headers: signed.client!.write,
      payload: { currentPassword: 'Logged-Pass-5150', newPassword: 'Changed-Pass-6160' },
    });
    const sec = await makeUser(t.ctx, 'log.sec', 'security_admin', null, { totp: true });
    const secClient = await sessionFor(t.ctx, sec.id);
    const tok = await t.app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: secClient.write,
      payload: { name: 'logged', role: 'national_viewer', regionCode: null },
    });
    secrets.push(tok.json().token);
    // A business user's own token: the password asked again and the token it answers.
    const own = await t.app.inject({
      method: 'POST',
      url: '/api/v1/auth/tokens',
      headers: signed.client!.write,
      payload: { name: 'own logged', password: 'Changed-Pass-6160' },
    });
    assert.equal(own.statusCode, 201, own.body);
    secrets.push(own.json().token);
    const sys = await makeUser(t.ctx, 'log.sys', 'system_admin', null, { totp: true });
    const sysClient = await sessionFor(t.ctx, sys.id);
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/users',
      headers: sysClient.write,
      payload: { username: 'log.new', displayName: '新用户' },
    });
    secrets.push(created.json().temporaryPassword);
    const captured = t.logs.slice(from).join('\n');
    assert.ok(captured.includes('/api/v1/auth/login'), 'the requests were logged');
    for (const s of secrets) assert.ok(!captured.includes(s), `the log contains ${s.slice(0, 4)}…`);
    for (const c of [confirmCode, loginCode])
      assert.ok(!new RegExp(`(?<![0-9])${c}(?![0-9])`).test(captured), 'a TOTP code in the log');
    // The audit trail does not keep a password typed into the name field either.
    const audited = await t.ctx.db
      .selectFrom('audit_log')
      .select(sql<string>`details::text`.as('d'))
      .execute();
    assert.ok(!audited.some((a) => a.d?.includes('Typed-As-Name-7170')));
    const names = await t.ctx.db.selectFrom('audit_log').select('actor_username').execute();
    assert.ok(!names.some((n) => n.actor_username?.includes('typed-as-name')));
  });
});
