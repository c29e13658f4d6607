// The three administrators (三员分立), roles and scopes, API tokens, the audit search and export.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { TEST_PASSWORD, makeUser, sessionFor, signIn, type Client } from '../../../test/support/access.ts';
import { authenticateToken } from './access.service.ts';
import { signInCache } from './access.cache.ts';
import { requireAccess } from './access.policy.ts';

let t: TestApp;
let sys: Client;
let sec: Client;
let aud: Client;
let secId: number;
let villageA: string;
let villageB: string;
let township: string;

before(async () => {
  t = await createTestApp({ loginRateLimit: 1000 });
  // Administrators with TOTP enabled; their sessions are made directly (sign-in with TOTP is tested elsewhere).
  const sysUser = await makeUser(t.ctx, 'sysadmin', 'system_admin', null, { totp: true });
  const secUser = await makeUser(t.ctx, 'secadmin', 'security_admin', null, { totp: true });
  const audUser = await makeUser(t.ctx, 'auditor', 'audit_admin', null, { totp: true });
  secId = secUser.id;
  sys = await sessionFor(t.ctx, sysUser.id);
  sec = await sessionFor(t.ctx, secUser.id);
  aud = await sessionFor(t.ctx, audUser.id);
  const villages = await t.ctx.db
    .selectFrom('regions')
    .select(['code', 'parent_code'])
    .where('level', '=', 5)
    .where('rural', '=', true)
    .orderBy('code')
    .limit(2)
    .execute();
  villageA = villages[0]!.code;
  villageB = villages[1]!.code;
  township = villages[0]!.parent_code!;
});
after(async () => t.close());

function call(method: 'GET' | 'POST' | 'PUT', url: string, client: Client, payload?: unknown) {
  return t.app.inject({
    method,
    url,
    headers: method === 'GET' ? client.headers : client.write,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
}

async function createAccount(username: string) {
  const created = await call('POST', '/api/v1/users', sys, { username, displayName: `测试 ${username}` });
  assert.equal(created.statusCode, 201, created.body);
  return created.json() as {
    user: { id: number; version: number; role: string | null };
    temporaryPassword: string;
  };
}

describe('accounts and roles', () => {
  test('the system administrator creates an account without a role; the security administrator assigns it', async () => {
    const { user, temporaryPassword } = await createAccount('director.a');
    assert.equal(user.role, null);
    assert.equal(
      (await signIn(t.app, 'director.a', temporaryPassword)).response.statusCode,
      403,
      'no role yet',
    );

    const assign = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'village_child_director',
      regionCode: villageA,
      version: user.version,
    });
    assert.equal(assign.statusCode, 200, assign.body);
    assert.equal(assign.json().role, 'village_child_director');

    const first = await signIn(t.app, 'director.a', temporaryPassword);
    assert.equal(first.response.statusCode, 200);
    assert.equal(
      first.response.json().limitedTo,
      'password_change',
      'the temporary password must be changed',
    );
    const audits = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'actor_username', 'details'])
      .where('entity_id', '=', String(user.id))
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audits.filter((a) => a.action.startsWith('user.')).map((a) => [a.action, a.actor_username]),
      [
        ['user.create', 'sysadmin'],
        ['user.role.assign', 'secadmin'],
      ],
    );
  });

  test('a role needs a region of its level that exists', async () => {
    const { user } = await createAccount('director.b');
    const wrongLevel = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'village_child_director',
      regionCode: township,
      version: user.version,
    });
    assert.equal(wrongLevel.statusCode, 400);
    const missing = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'village_child_director',
      regionCode: '410225999999',
      version: user.version,
    });
    assert.equal(missing.statusCode, 400);
    const province = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'province_viewer',
      regionCode: '41',
      individualAccess: true,
      version: user.version,
    });
    assert.equal(province.statusCode, 200);
    assert.equal(province.json().individualAccess, true);
  });

  test('a stale version gets 409 CONFLICT', async () => {
    const { user } = await createAccount('director.c');
    const ok = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'township_staff',
      regionCode: township,
      version: user.version,
    });
    assert.equal(ok.statusCode, 200);
    const stale = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'county_staff',
      regionCode: '410225',
      version: user.version,
    });
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().error.code, 'CONFLICT');
  });

  test('a role change signs the user out (a narrower scope takes effect at once)', async () => {
    const { user, temporaryPassword } = await createAccount('director.d');
    const assigned = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'county_staff',
      regionCode: '410225',
      version: user.version,
    });
    const client = (await signIn(t.app, 'director.d', temporaryPassword)).client!;
    assert.equal((await call('GET', '/api/v1/auth/me', client)).statusCode, 200);
    await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'village_staff',
      regionCode: villageA,
      version: assigned.json().version,
    });
    assert.equal((await call('GET', '/api/v1/auth/me', client)).statusCode, 401);
  });

  test('nobody changes their own role or scope, not even the security administrator', async () => {
    const me = (await call('GET', '/api/v1/auth/me', sec)).json();
    const row = await t.ctx.db
      .selectFrom('users')
      .select('version')
      .where('id', '=', secId)
      .executeTakeFirstOrThrow();
    const own = await call('PUT', `/api/v1/users/${me.user.id}/role`, sec, {
      role: 'county_staff',
      regionCode: '410225',
      version: row.version,
    });
    assert.equal(own.statusCode, 403);
  });

  test('administrator roles are never granted through the API', async () => {
    const { user } = await createAccount('wannabe.admin');
    for (const role of ['system_admin', 'security_admin', 'audit_admin']) {
      const r = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
        role,
        regionCode: null,
        version: user.version,
      });
      assert.equal(r.statusCode, 403, role);
    }
  });

  test('reset password forces a change, clears a lockout and signs the user out; disable and enable', async () => {
    const { user } = await createAccount('reset.a');
    const assigned = await call('PUT', `/api/v1/users/${user.id}/role`, sec, {
      role: 'county_staff',
      regionCode: '410225',
      version: user.version,
    });
    await sql`UPDATE users SET locked_until = now() + interval '1 hour' WHERE id = ${user.id}`.execute(
      t.ctx.db,
    );
    const reset = await call('POST', `/api/v1/users/${user.id}/reset-password`, sys);
    assert.equal(reset.statusCode, 200);
    const { temporaryPassword } = reset.json();
    const signed = await signIn(t.app, 'reset.a', temporaryPassword);
    assert.equal(signed.response.statusCode, 200);
    assert.equal(signed.response.json().limitedTo, 'password_change');

    const version = (
      await t.ctx.db.selectFrom('users').select('version').where('id', '=', user.id).executeTakeFirstOrThrow()
    ).version;
    assert.ok(version > assigned.json().version);
    const disabled = await call('POST', `/api/v1/users/${user.id}/disable`, sys, { version });
    assert.equal(disabled.statusCode, 200);
    assert.equal(disabled.json().disabled, true);
    assert.equal(
      (await call('GET', '/api/v1/auth/me', signed.client!)).statusCode,
      401,
      'disabling signs out',
    );
    assert.equal((await signIn(t.app, 'reset.a', temporaryPassword)).response.statusCode, 401);
    const enabled = await call('POST', `/api/v1/users/${user.id}/enable`, sys, {
      version: disabled.json().version,
    });
    assert.equal(enabled.statusCode, 200);
    assert.equal((await signIn(t.app, 'reset.a', temporaryPassword)).response.statusCode, 200);
  });

  test('the system administrator cannot reset or disable an administrator account', async () => {
    const target = await t.ctx.db
      .selectFrom('users')
      .select(['id', 'version'])
      .where('username', '=', 'auditor')
      .executeTakeFirstOrThrow();
    assert.equal((await call('POST', `/api/v1/users/${target.id}/reset-password`, sys)).statusCode, 403);
    assert.equal(
      (await call('POST', `/api/v1/users/${target.id}/disable`, sys, { version: target.version })).statusCode,
      403,
    );
  });
});

describe('three administrators, separated duties (三员分立)', () => {
  test("each administrator is refused the other two's work, and every refusal is audited", async () => {
    const { user } = await createAccount('sep.target');
    const attempts: [string, Client, () => Promise<{ statusCode: number }>][] = [
      [
        'system admin assigns a role',
        sys,
        () =>
          call('PUT', `/api/v1/users/${user.id}/role`, sys, {
            role: 'county_staff',
            regionCode: '410225',
            version: user.version,
          }),
      ],
      ['system admin lists tokens', sys, () => call('GET', '/api/v1/tokens', sys)],
      [
        'system admin creates a token',
        sys,
        () => call('POST', '/api/v1/tokens', sys, { name: 'x', role: 'county_staff', regionCode: '410225' }),
      ],
      ['system admin reads the audit trail', sys, () => call('GET', '/api/v1/audit', sys)],
      ['system admin exports the audit trail', sys, () => call('GET', '/api/v1/audit/export', sys)],
      [
        'security admin creates an account',
        sec,
        () => call('POST', '/api/v1/users', sec, { username: 'sep.x', displayName: 'x' }),
      ],
      [
        'security admin resets a password',
        sec,
        () => call('POST', `/api/v1/users/${user.id}/reset-password`, sec),
      ],
      ['security admin reads the audit trail', sec, () => call('GET', '/api/v1/audit', sec)],
      ['security admin exports the audit trail', sec, () => call('GET', '/api/v1/audit/export', sec)],
      [
        'audit admin creates an account',
        aud,
        () => call('POST', '/api/v1/users', aud, { username: 'sep.y', displayName: 'y' }),
      ],
      ['audit admin lists accounts', aud, () => call('GET', '/api/v1/users', aud)],
      [
        'audit admin assigns a role',
        aud,
        () =>
          call('PUT', `/api/v1/users/${user.id}/role`, aud, {
            role: 'county_staff',
            regionCode: '410225',
            version: user.version,
          }),
      ],
      [
        'audit admin creates a token',
        aud,
        () => call('POST', '/api/v1/tokens', aud, { name: 'x', role: 'county_staff', regionCode: '410225' }),
      ],
      ['audit admin revokes a token', aud, () => call('POST', '/api/v1/tokens/1/revoke', aud)],
    ];
    const before = await t.ctx.db
      .selectFrom('audit_log')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('action', '=', 'access.denied')
      .executeTakeFirstOrThrow();
    for (const [what, , attempt] of attempts) assert.equal((await attempt()).statusCode, 403, what);
    const afterCount = await t.ctx.db
      .selectFrom('audit_log')
      .select(sql<number>`count(*)::int`.as('n'))
      .where('action', '=', 'access.denied')
      .executeTakeFirstOrThrow();
    assert.equal(afterCount.n - before.n, attempts.length);
  });

  test('administrators hold no business permission', async () => {
    for (const client of [sys, sec, aud]) {
      const me = (await call('GET', '/api/v1/auth/me', client)).json();
      for (const p of ['persons.read', 'persons.reveal', 'stats.read', 'exports.run'])
        assert.ok(!me.permissions.includes(p), `${me.role} ${p}`);
    }
  });
});

describe('API tokens', () => {
  test('created once by its business user for himself, stored hashed, scoped to his role and region; the security administrator lists it', async () => {
    // A role with personal data: the security administrator may not hold its secret (三员分立).
    const refused = await call('POST', '/api/v1/tokens', sec, {
      name: 'village A export',
      role: 'village_child_director',
      regionCode: villageA,
      expiresInDays: 30,
    });
    assert.equal(refused.statusCode, 403, refused.body);
    const director = await makeUser(t.ctx, 'token.director.a', 'village_child_director', villageA);
    const directorClient = await sessionFor(t.ctx, director.id);
    const created = await call('POST', '/api/v1/auth/tokens', directorClient, {
      name: 'village A export',
      expiresInDays: 30,
      password: TEST_PASSWORD,
    });
    assert.equal(created.statusCode, 201, created.body);
    const { token, item } = created.json();
    assert.match(token, /^shu_[A-Za-z0-9_-]{43}$/);
    const listed = (await call('GET', '/api/v1/tokens', sec)).json().items;
    assert.ok(listed.some((x: { id: number }) => x.id === item.id));
    assert.ok(!JSON.stringify(listed).includes(token), 'the list never shows the token');
    const stored = await t.ctx.db
      .selectFrom('api_tokens')
      .select('token_hash')
      .where('id', '=', item.id)
      .executeTakeFirstOrThrow();
    assert.notEqual(stored.token_hash, token);

    const bearer = { authorization: `Bearer ${token}` };
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer });
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().regionCode, villageA);
    // Admin-only resources are refused; the scope check refuses another village's records.
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/users', headers: bearer })).statusCode,
      403,
    );
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/audit', headers: bearer })).statusCode,
      403,
    );
    const actor = (await authenticateToken(t.ctx, token, '127.0.0.1', null))!;
    assert.equal(actor.userId, director.id, 'the token acts as the director');
    assert.doesNotThrow(() =>
      requireAccess(actor, 'persons.read', { regionCode: villageA, individual: true }),
    );
    assert.throws(
      () => requireAccess(actor, 'persons.read', { regionCode: villageB, individual: true }),
      /may not/,
    );
    assert.throws(() => requireAccess(actor, 'persons.read', { regionCode: township }), /may not/);
  });

  test('tokens cannot hold administrator roles, and need a region of the role level', async () => {
    assert.equal(
      (await call('POST', '/api/v1/tokens', sec, { name: 'x', role: 'audit_admin', regionCode: null }))
        .statusCode,
      400,
    );
    assert.equal(
      (
        await call('POST', '/api/v1/tokens', sec, {
          name: 'x',
          role: 'prefecture_viewer',
          regionCode: villageA,
        })
      ).statusCode,
      400,
    );
  });

  test('revocation and expiry end a token', async () => {
    const created = (
      await call('POST', '/api/v1/tokens', sec, { name: 'short', role: 'national_viewer', regionCode: null })
    ).json();
    const bearer = { authorization: `Bearer ${created.token}` };
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/regions', headers: bearer })).statusCode,
      200,
    );
    const revoked = await call('POST', `/api/v1/tokens/${created.item.id}/revoke`, sec);
    assert.equal(revoked.statusCode, 200);
    assert.ok(revoked.json().revokedAt);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/regions', headers: bearer })).statusCode,
      401,
    );

    const other = (
      await call('POST', '/api/v1/tokens', sec, {
        name: 'expiring',
        role: 'national_viewer',
        regionCode: null,
      })
    ).json();
    const otherBearer = { authorization: `Bearer ${other.token}` };
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/regions', headers: otherBearer })).statusCode,
      200,
    );
    await sql`UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = ${other.item.id}`.execute(
      t.ctx.db,
    );
    // Written behind the service's back: seen once the cached sign-in is older than AUTH_CACHE_SECONDS.
    signInCache(t.ctx).clear();
    assert.equal(
      (await t.app.inject({ method: 'GET', url: '/api/v1/regions', headers: otherBearer })).statusCode,
      401,
    );

    const actions = await t.ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('entity_type', '=', 'api_token')
      .execute();
    assert.ok(actions.some((a) => a.action === 'token.create'));
    assert.ok(actions.some((a) => a.action === 'token.revoke'));
  });
});

describe('audit search and export', () => {
  test('the audit administrator searches by actor, action, region and time, pages, and exports CSV', async () => {
    const byActor = await call('GET', '/api/v1/audit?actor=secadmin&action=user.role.assign', aud);
    assert.equal(byActor.statusCode, 200);
    const items = byActor.json().items as { actorUsername: string; action: string; id: number }[];
    assert.ok(items.length >= 3);
    assert.ok(items.every((i) => i.actorUsername === 'secadmin' && i.action === 'user.role.assign'));
    assert.ok(items[0]!.id > items[1]!.id, 'newest first');

    const byPrefix = (await call('GET', '/api/v1/audit?action=auth.&limit=500', aud)).json().items as {
      action: string;
    }[];
    assert.ok(byPrefix.length > 0 && byPrefix.every((i) => i.action.startsWith('auth.')));

    const byRegion = (await call('GET', `/api/v1/audit?region=${township}`, aud)).json().items as {
      regionCode: string;
    }[];
    assert.ok(byRegion.length > 0 && byRegion.every((i) => i.regionCode.startsWith(township)));

    const future = new Date(Date.now() + 3600_000).toISOString();
    assert.equal(
      (await call('GET', `/api/v1/audit?from=${encodeURIComponent(future)}`, aud)).json().items.length,
      0,
    );

    const page1 = (await call('GET', '/api/v1/audit?limit=2', aud)).json();
    assert.equal(page1.items.length, 2);
    const page2 = (await call('GET', `/api/v1/audit?limit=2&cursor=${page1.nextCursor}`, aud)).json();
    assert.ok(page2.items[0].id < page1.items[1].id);

    const csv = await call('GET', '/api/v1/audit/export?action=user.', aud);
    assert.equal(csv.statusCode, 200);
    assert.match(String(csv.headers['content-type']), /^text\/csv/);
    assert.match(String(csv.headers['content-disposition']), /attachment; filename="audit-/);
    const lines = csv.body
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n');
    assert.equal(
      lines[0],
      'id,at,actorKind,actorUsername,actorRole,ip,requestId,action,entityType,entityId,regionCode,result,details',
    );
    assert.ok(lines.length > 3);

    const reads = await t.ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('actor_username', '=', 'auditor')
      .execute();
    assert.ok(reads.some((r) => r.action === 'audit.search'));
    assert.ok(
      reads.some((r) => r.action === 'audit.export'),
      'reading the trail is audited too',
    );

    const verify = await call('GET', '/api/v1/audit/verify', aud);
    assert.equal(verify.json().ok, true);
  });
});
