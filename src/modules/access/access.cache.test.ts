// The in-memory cache of resolved sign-ins: every change through the API holds from the very next
// request, the TTL bounds what another process's change takes, and the timeouts are checked on
// every hit.
import { after, before, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import {
  TEST_PASSWORD,
  makeUser,
  sessionFor,
  signIn,
  totpCode,
  type Client,
} from '../../../test/support/access.ts';
import { SignInCache, signInCache } from './access.cache.ts';
import { sha256Hex } from './access.rules.ts';

describe('SignInCache', () => {
  test('an entry lives for the TTL', () => {
    const cache = new SignInCache<string>(1000);
    cache.put('a', 'x', { userId: 1, tokenId: null }, cache.generation(), 0);
    assert.equal(cache.get('a', 999), 'x');
    assert.equal(cache.get('a', 1000), undefined);
    assert.equal(cache.size, 0);
  });

  test('bounded: the oldest entry makes room', () => {
    const cache = new SignInCache<string>(60_000, 3);
    for (const key of ['a', 'b', 'c', 'd'])
      cache.put(key, key, { userId: 1, tokenId: null }, cache.generation());
    assert.equal(cache.size, 3);
    assert.equal(cache.get('a'), undefined);
    assert.equal(cache.get('d'), 'd');
  });

  test("forgetting a user drops all of the user's entries and nobody else's", () => {
    const cache = new SignInCache<string>(60_000);
    cache.put('s:1', 'one', { userId: 1, tokenId: null }, cache.generation());
    cache.put('s:2', 'two', { userId: 1, tokenId: null }, cache.generation());
    cache.put('s:3', 'other', { userId: 2, tokenId: null }, cache.generation());
    cache.put('t:1', 'token', { userId: null, tokenId: 1 }, cache.generation());
    cache.forget({ userId: 1 });
    assert.deepEqual(
      ['s:1', 's:2', 's:3', 't:1'].map((k) => cache.get(k) ?? null),
      [null, null, 'other', 'token'],
    );
    cache.forget({ tokenId: 1 });
    assert.equal(cache.get('t:1'), undefined);
  });

  test('a lookup that started before a change is not stored after it', () => {
    const cache = new SignInCache<string>(60_000);
    const generation = cache.generation(); // a request starts reading the database ...
    cache.forget({ userId: 1 }); // ... a change commits and forgets the user ...
    cache.put('s:1', 'before the change', { userId: 1, tokenId: null }, generation); // ... the read ends
    assert.equal(cache.get('s:1'), undefined);
  });

  test('a TTL of 0 caches nothing', () => {
    const cache = new SignInCache<string>(0);
    cache.put('a', 'x', { userId: 1, tokenId: null }, cache.generation());
    assert.equal(cache.size, 0);
  });
});

let t: TestApp;
let sec: Client;
let sys: Client;
let village: string;

before(async () => {
  t = await createTestApp({ loginRateLimit: 1000 });
  sec = await sessionFor(
    t.ctx,
    (await makeUser(t.ctx, 'cache.sec', 'security_admin', null, { totp: true })).id,
  );
  sys = await sessionFor(
    t.ctx,
    (await makeUser(t.ctx, 'cache.sys', 'system_admin', null, { totp: true })).id,
  );
  village = (
    await t.ctx.db
      .selectFrom('regions')
      .select('code')
      .where('level', '=', 5)
      .orderBy('code')
      .executeTakeFirstOrThrow()
  ).code;
});
after(async () => t.close());

function call(app: TestApp, method: 'GET' | 'POST' | 'PUT', url: string, client: Client, payload?: object) {
  return app.app.inject({
    method,
    url,
    headers: method === 'GET' ? client.headers : client.write,
    ...(payload ? { payload } : {}),
  });
}

const me = (client: Client, app = t) => call(app, 'GET', '/api/v1/auth/me', client);

/** The cache entry of a cookie client's session, if the cache holds one. */
function cachedSession(client: Client, app = t): unknown {
  const raw = /shouhu_session=([^;]+)/.exec(client.cookie)![1]!;
  return signInCache(app.ctx).get(`s:${sha256Hex(raw)}`);
}

async function signedIn(username: string, role: Parameters<typeof makeUser>[2] = 'county_staff') {
  const user = await makeUser(t.ctx, username, role, role === null ? null : '410225');
  const { client } = await signIn(t.app, username);
  assert.ok(client);
  assert.equal((await me(client)).statusCode, 200);
  assert.ok(cachedSession(client), 'the session is served from memory');
  return { user, client };
}

async function versionOf(id: number): Promise<number> {
  return (await t.ctx.db.selectFrom('users').select('version').where('id', '=', id).executeTakeFirstOrThrow())
    .version;
}

describe('a change through the API holds from the very next request', () => {
  test('logout and logout everywhere', async () => {
    const { client: one } = await signedIn('cache.logout');
    const two = (await signIn(t.app, 'cache.logout')).client!;
    const three = (await signIn(t.app, 'cache.logout')).client!;
    assert.equal((await me(two)).statusCode, 200);
    assert.equal((await call(t, 'POST', '/api/v1/auth/logout', one)).statusCode, 200);
    assert.equal((await me(one)).statusCode, 401);
    assert.equal((await me(two)).statusCode, 200);
    assert.equal((await call(t, 'POST', '/api/v1/auth/logout-all', three)).statusCode, 200);
    assert.equal((await me(two)).statusCode, 401);
    assert.equal((await me(three)).statusCode, 401);
  });

  test('disabling the account', async () => {
    const { user, client } = await signedIn('cache.disable');
    const res = await call(t, 'POST', `/api/v1/users/${user.id}/disable`, sys, {
      version: await versionOf(user.id),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await me(client)).statusCode, 401);
  });

  test('a role and scope change', async () => {
    const { user, client } = await signedIn('cache.role');
    assert.equal((await me(client)).json().role, 'county_staff');
    const res = await call(t, 'PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'village_staff',
      regionCode: village,
      version: await versionOf(user.id),
    });
    assert.equal(res.statusCode, 200, res.body);
    assert.equal((await me(client)).statusCode, 401);
    const again = (await signIn(t.app, 'cache.role')).client!;
    assert.deepEqual(
      { role: (await me(again)).json().role, regionCode: (await me(again)).json().regionCode },
      { role: 'village_staff', regionCode: village },
    );
  });

  test('a password reset', async () => {
    const { user, client } = await signedIn('cache.reset');
    assert.equal((await call(t, 'POST', `/api/v1/users/${user.id}/reset-password`, sys)).statusCode, 200);
    assert.equal((await me(client)).statusCode, 401);
  });

  test('a password change ends the other sessions and lifts this one’s limitation at once', async () => {
    const user = await makeUser(t.ctx, 'cache.change', 'county_staff', '410225', { mustChange: true });
    const { client } = await signIn(t.app, 'cache.change', user.password);
    const other = (await signIn(t.app, 'cache.change', user.password)).client!;
    assert.equal((await me(other)).statusCode, 200);
    const limited = await call(t, 'GET', '/api/v1/regions', client!);
    assert.equal(limited.statusCode, 403);
    assert.equal(limited.json().error.code, 'PASSWORD_CHANGE_REQUIRED');
    const changed = await call(t, 'POST', '/api/v1/auth/change-password', client!, {
      currentPassword: user.password,
      newPassword: 'Another-Horse-77',
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal((await call(t, 'GET', '/api/v1/regions', client!)).statusCode, 200);
    assert.equal((await me(other)).statusCode, 401);
  });

  test('confirming TOTP lifts the enrolment limitation of the same session at once', async () => {
    await makeUser(t.ctx, 'cache.admin', 'audit_admin', null);
    const { client } = await signIn(t.app, 'cache.admin');
    const limited = await call(t, 'GET', '/api/v1/audit', client!);
    assert.equal(limited.json().error.code, 'TWO_FACTOR_ENROLLMENT_REQUIRED');
    const enrolled = await call(t, 'POST', '/api/v1/auth/2fa/enroll', client!);
    assert.equal(enrolled.statusCode, 200, enrolled.body);
    const confirmed = await call(t, 'POST', '/api/v1/auth/2fa/confirm', client!, {
      code: totpCode(enrolled.json().secret),
      password: TEST_PASSWORD,
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    assert.equal((await call(t, 'GET', '/api/v1/audit', client!)).statusCode, 200);
  });

  test("an administrator's reset of the user's TOTP", async () => {
    const user = await makeUser(t.ctx, 'cache.totp', 'county_staff', '410225', { totp: true });
    const client = await sessionFor(t.ctx, user.id);
    assert.equal((await me(client)).statusCode, 200);
    assert.ok(cachedSession(client));
    const reset = await call(t, 'POST', `/api/v1/users/${user.id}/reset-2fa`, sec);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal((await me(client)).statusCode, 401);
  });

  test('revoking an API token', async () => {
    const created = await call(t, 'POST', '/api/v1/tokens', sec, {
      name: 'cache',
      role: 'national_viewer',
      regionCode: null,
    });
    assert.equal(created.statusCode, 201, created.body);
    const bearer = { authorization: `Bearer ${created.json().token}` };
    assert.equal((await t.app.inject({ url: '/api/v1/regions', headers: bearer })).statusCode, 200);
    assert.ok(
      signInCache(t.ctx).get(`t:${sha256Hex(created.json().token)}`),
      'the token is served from memory',
    );
    const revoked = await call(t, 'POST', `/api/v1/tokens/${created.json().item.id}/revoke`, sec);
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await t.app.inject({ url: '/api/v1/regions', headers: bearer })).statusCode, 401);
  });
});

describe('time on a cached sign-in', () => {
  // Date is mocked to move the clock; the database is moved with it by writing the same times.
  let long: TestApp;
  before(async () => {
    // A TTL far longer than the timeouts: only the deadlines checked on each hit can end these.
    long = await createTestApp({ authCacheSeconds: 7 * 24 * 3600, sessionIdleMinutes: 30 });
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
  });
  after(async () => {
    mock.timers.reset();
    await long.close();
  });

  async function longSession(username: string): Promise<{ id: number; client: Client }> {
    const user = await makeUser(long.ctx, username, 'county_staff', '410225');
    const client = await sessionFor(long.ctx, user.id);
    assert.equal((await me(client, long)).statusCode, 200);
    assert.ok(cachedSession(client, long));
    return { id: user.id, client };
  }

  test('the idle timeout ends a cached session', async () => {
    const { id, client } = await longSession('time.idle');
    mock.timers.tick(31 * 60_000);
    await sql`UPDATE sessions SET last_seen_at = now() - interval '31 minutes' WHERE user_id = ${id}`.execute(
      long.ctx.db,
    );
    assert.equal((await me(client, long)).statusCode, 401);
  });

  test('the absolute timeout ends a cached session that is in use', async () => {
    const { id, client } = await longSession('time.absolute');
    mock.timers.tick(long.ctx.config.sessionAbsoluteHours * 3_600_000 + 60_000);
    await sql`UPDATE sessions SET created_at = now() - make_interval(hours => ${long.ctx.config.sessionAbsoluteHours}) - interval '1 minute'
      WHERE user_id = ${id}`.execute(long.ctx.db);
    assert.equal((await me(client, long)).statusCode, 401);
  });

  test('an expired token is refused', async () => {
    const user = await makeUser(long.ctx, 'time.sec', 'security_admin', null, { totp: true });
    const admin = await sessionFor(long.ctx, user.id);
    const created = await call(long, 'POST', '/api/v1/tokens', admin, {
      name: 'expiring',
      role: 'national_viewer',
      regionCode: null,
      expiresInDays: 1,
    });
    const bearer = { authorization: `Bearer ${created.json().token}` };
    assert.equal((await long.app.inject({ url: '/api/v1/regions', headers: bearer })).statusCode, 200);
    mock.timers.tick(24 * 3_600_000 + 60_000);
    await sql`UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE id = ${created.json().item.id}`.execute(
      long.ctx.db,
    );
    assert.equal((await long.app.inject({ url: '/api/v1/regions', headers: bearer })).statusCode, 401);
  });

  test('last_seen_at is renewed by cached requests, at most every 10 seconds', async () => {
    const { id, client } = await longSession('time.touch');
    const rewind = () =>
      sql`UPDATE sessions SET last_seen_at = now() - interval '20 minutes' WHERE user_id = ${id}`.execute(
        long.ctx.db,
      );
    const fresh = async () =>
      (
        await long.ctx.db
          .selectFrom('sessions')
          .select(sql<boolean>`last_seen_at > now() - interval '1 minute'`.as('fresh'))
          .where('user_id', '=', id)
          .executeTakeFirstOrThrow()
      ).fresh;
    await rewind();
    mock.timers.tick(5_000);
    assert.equal((await me(client, long)).statusCode, 200);
    assert.equal(await fresh(), false, 'no write within 10 s of the last one');
    mock.timers.tick(6_000);
    assert.equal((await me(client, long)).statusCode, 200);
    assert.equal(await fresh(), true, 'renewed once 10 s have passed');
  });
});

describe('a change behind the service’s back (another server process)', () => {
  test('is seen once the cached sign-in is older than AUTH_CACHE_SECONDS', async () => {
    const { user, client } = await signedIn('cache.elsewhere');
    mock.timers.enable({ apis: ['Date'], now: Date.now() });
    try {
      await sql`UPDATE sessions SET revoked_at = now() WHERE user_id = ${user.id}`.execute(t.ctx.db);
      assert.equal((await me(client)).statusCode, 200, 'still cached within the TTL');
      mock.timers.tick(t.ctx.config.authCacheSeconds * 1000);
      assert.equal((await me(client)).statusCode, 401);
    } finally {
      mock.timers.reset();
    }
  });
});
