// Session 21, attacks on access (findings-access F2): the security administrator minted an API token
// with a business role (county_approver) and used its secret himself: the county approver's full
// read, reveal and unmasked export for a year, filed under `token:<a name he chose>` (三员分立
// broken, DOMAIN.md section 6). Now a token of a role with personal data is created only by the
// business user who will use it, for himself (POST /auth/tokens, his own role and region, his
// password asked again); it acts as him in the audit trail and ends with his account or role. The
// security administrator lists and revokes such tokens and issues only tokens without personal data.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import { TEST_PASSWORD, makeUser, sessionFor, type Client } from './support/access.ts';
import { createToken } from '../src/modules/access/index.ts';
import { newApiToken, sha256Hex } from '../src/modules/access/access.rules.ts';
import { MIGRATIONS_DIR } from '../src/platform/migrate.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const COUNTY = '410225';
const VILLAGE = '410225101200';

let t: TestApp;
let sec: Client;
let sys: Client;
let secId: number;

function call(method: 'GET' | 'POST' | 'PUT', url: string, client: Client | string, payload?: unknown) {
  const headers =
    typeof client === 'string'
      ? { authorization: `Bearer ${client}` }
      : method === 'GET'
        ? client.headers
        : client.write;
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers,
    ...(payload !== undefined ? { payload: payload as object } : {}),
  });
}

async function tokenCount(): Promise<number> {
  const r = await t.ctx.db
    .selectFrom('api_tokens')
    .select(sql<number>`count(*)::int`.as('n'))
    .executeTakeFirstOrThrow();
  return r.n;
}

before(async () => {
  t = await createTestApp({ loginRateLimit: 1000 });
  const secUser = await makeUser(t.ctx, 's21.sec', 'security_admin', null, { totp: true });
  secId = secUser.id;
  sec = await sessionFor(t.ctx, secUser.id);
  sys = await sessionFor(t.ctx, (await makeUser(t.ctx, 's21.sys', 'system_admin', null, { totp: true })).id);
});
after(async () => t.close());

describe('API tokens and the three administrators (三员分立)', () => {
  test('the security administrator gets no token of a role with personal data; one without is still his to issue', async () => {
    const before = await tokenCount();
    for (const body of [
      { name: '报表接口', role: 'county_approver', regionCode: COUNTY, expiresInDays: 366 },
      { name: 'x', role: 'county_staff', regionCode: COUNTY },
      { name: 'x', role: 'village_child_director', regionCode: VILLAGE },
      { name: 'x', role: 'mandatory_reporter', regionCode: null },
      { name: 'x', role: 'prefecture_viewer', regionCode: '4102', individualAccess: true },
    ]) {
      const r = await call('POST', '/tokens', sec, body);
      assert.equal(r.statusCode, 403, `${body.role}: ${r.body}`);
      const error = r.json().error as { details: { path: string; message: string }[]; message: string };
      assert.equal(error.details[0]?.path, 'role');
      assert.match(error.message, /本人/);
    }
    assert.equal(await tokenCount(), before, 'nothing stored');
    const denied = await t.ctx.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'access.denied')
      .where('actor_user_id', '=', secId)
      .execute();
    assert.equal(denied.length, 5, 'each refusal is audited');

    // Aggregates only: a reporting system's viewer token is still his to issue, and works.
    const viewer = await call('POST', '/tokens', sec, {
      name: '统计',
      role: 'national_viewer',
      regionCode: null,
    });
    assert.equal(viewer.statusCode, 201, viewer.body);
    const me = await call('GET', '/auth/me', viewer.json().token as string);
    assert.equal(me.statusCode, 200);
    assert.equal(me.json().user.username, 'token:统计');
  });

  test('a business token an administrator made before this rule no longer works', async () => {
    const secret = newApiToken();
    await t.ctx.db
      .insertInto('api_tokens')
      .values({
        name: '报表接口',
        token_hash: sha256Hex(secret),
        token_prefix: secret.slice(0, 10),
        role: 'county_approver',
        region_code: COUNTY,
        individual_access: false,
        expires_at: sql<Date>`now() + interval '366 days'`,
        created_by: secId,
      })
      .execute();
    assert.equal((await call('GET', '/regions', secret)).statusCode, 401);
    assert.equal((await call('GET', '/persons', secret)).statusCode, 401);

    // The migration revokes such tokens, and only those: a console token and an issued viewer token stay.
    const consoleToken = await createToken(t.ctx, null, {
      name: '控制台',
      role: 'county_staff',
      regionCode: COUNTY,
    });
    const viewer = await call('POST', '/tokens', sec, {
      name: '统计2',
      role: 'province_viewer',
      regionCode: '41',
    });
    assert.equal(viewer.statusCode, 201, viewer.body);
    const migration = fs.readFileSync(
      path.join(MIGRATIONS_DIR, '0108_access_admin_business_tokens.sql'),
      'utf8',
    );
    await sql.raw(migration).execute(t.ctx.db);
    const rows = await t.ctx.db.selectFrom('api_tokens').select(['id', 'name', 'revoked_at']).execute();
    const revoked = (name: string) => rows.find((r) => r.name === name)?.revoked_at != null;
    assert.equal(revoked('报表接口'), true);
    assert.equal(revoked('控制台'), false);
    assert.equal(revoked('统计2'), false);
    assert.equal((await call('GET', '/persons', consoleToken.token)).statusCode, 200);
  });

  test('a business user creates a token for himself: his role and region, his password asked again, and it acts as him', async () => {
    const approver = await makeUser(t.ctx, 's21.approver', 'county_approver', COUNTY);
    const client = await sessionFor(t.ctx, approver.id);

    const wrong = await call('POST', '/auth/tokens', client, {
      name: '报表接口',
      password: 'Not-The-Password-1',
    });
    assert.equal(wrong.statusCode, 400, wrong.body);
    assert.equal(wrong.json().error.details[0].path, 'password');
    // No wider role or region can be asked for.
    const wider = await call('POST', '/auth/tokens', client, {
      name: '报表接口',
      password: TEST_PASSWORD,
      role: 'national_viewer',
      regionCode: null,
    });
    assert.equal(wider.statusCode, 400, wider.body);

    const created = await call('POST', '/auth/tokens', client, {
      name: '报表接口',
      expiresInDays: 30,
      password: TEST_PASSWORD,
    });
    assert.equal(created.statusCode, 201, created.body);
    const { token, item } = created.json() as {
      token: string;
      item: { id: number; role: string; regionCode: string; createdBy: number };
    };
    assert.equal(item.role, 'county_approver');
    assert.equal(item.regionCode, COUNTY);
    assert.equal(item.createdBy, approver.id);
    const creation = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'token.create')
      .where('entity_id', '=', String(item.id))
      .executeTakeFirstOrThrow();
    assert.equal(creation.actor_user_id, approver.id);

    // It works as the approver: his writes and reveals are on record under his name, through this token.
    const person = await call('POST', '/persons', token, {
      name: '令牌建',
      idNumber: makeIdNumber(COUNTY, '2012-03-04', 11),
      hukouRegionCode: VILLAGE,
    });
    assert.equal(person.statusCode, 201, person.body);
    const reveal = await call('POST', `/persons/${person.json().id as number}/reveal`, token);
    assert.equal(reveal.statusCode, 200, reveal.body);
    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('actor_token_id', '=', item.id)
      .execute();
    assert.ok(entries.some((e) => e.action === 'person.reveal'));
    for (const e of entries) {
      assert.equal(e.actor_kind, 'token');
      assert.equal(e.actor_user_id, approver.id);
      assert.equal(e.actor_username, 's21.approver');
    }

    // A token cannot make more tokens; the own list shows it, never the secret.
    assert.equal(
      (await call('POST', '/auth/tokens', token, { name: 'x', password: TEST_PASSWORD })).statusCode,
      403,
    );
    const own = await call('GET', '/auth/tokens', client);
    assert.equal(own.statusCode, 200);
    assert.deepEqual(
      (own.json().items as { id: number }[]).map((i) => i.id),
      [item.id],
    );
    assert.ok(!own.body.includes(token));

    // The security administrator sees it and may revoke it; another user cannot.
    const listed = await call('GET', '/tokens', sec);
    assert.ok((listed.json().items as { id: number; createdBy: number }[]).some((i) => i.id === item.id));
    assert.ok(!listed.body.includes(token));
    const other = await sessionFor(t.ctx, (await makeUser(t.ctx, 's21.other', 'county_staff', COUNTY)).id);
    assert.equal((await call('POST', `/auth/tokens/${item.id}/revoke`, other)).statusCode, 404);
    assert.equal((await call('GET', '/regions', token)).statusCode, 200);
    assert.equal((await call('POST', `/tokens/${item.id}/revoke`, sec)).statusCode, 200);
    assert.equal((await call('GET', '/regions', token)).statusCode, 401);
  });

  test("the owner's token ends with his role, his account, or his own revocation", async () => {
    const staff = await makeUser(t.ctx, 's21.staff', 'county_staff', COUNTY);
    const client = await sessionFor(t.ctx, staff.id);
    const make = async (name: string) => {
      const r = await call('POST', '/auth/tokens', client, { name, password: TEST_PASSWORD });
      assert.equal(r.statusCode, 201, r.body);
      return r.json() as { token: string; item: { id: number } };
    };

    const own = await make('自己吊销');
    assert.equal((await call('GET', '/persons', own.token)).statusCode, 200);
    const revoked = await call('POST', `/auth/tokens/${own.item.id}/revoke`, client);
    assert.equal(revoked.statusCode, 200, revoked.body);
    assert.equal((await call('GET', '/persons', own.token)).statusCode, 401);

    // A narrower role: the token (served from memory a moment ago) stops at once.
    const moved = await make('换角色');
    assert.equal((await call('GET', '/persons', moved.token)).statusCode, 200);
    const version = (
      await t.ctx.db
        .selectFrom('users')
        .select('version')
        .where('id', '=', staff.id)
        .executeTakeFirstOrThrow()
    ).version;
    const assign = await call('PUT', `/users/${staff.id}/role`, sec, {
      role: 'village_staff',
      regionCode: VILLAGE,
      version,
    });
    assert.equal(assign.statusCode, 200, assign.body);
    assert.equal((await call('GET', '/persons', moved.token)).statusCode, 401);
    // Revoked with the change (a queued import of the token stops too), and said so in the trail.
    const movedRow = await t.ctx.db
      .selectFrom('api_tokens')
      .select('revoked_at')
      .where('id', '=', moved.item.id)
      .executeTakeFirstOrThrow();
    assert.ok(movedRow.revoked_at, 'the token of the old role is revoked');
    const movedEntry = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'token.revoke')
      .where('entity_id', '=', String(moved.item.id))
      .executeTakeFirstOrThrow();
    assert.deepEqual(movedEntry.details, { owner: staff.id, reason: 'role changed' });

    // A disabled account: its token stops too.
    const clerk = await makeUser(t.ctx, 's21.clerk', 'township_staff', '410225101');
    const clerkClient = await sessionFor(t.ctx, clerk.id);
    const clerkToken = await call('POST', '/auth/tokens', clerkClient, {
      name: '乡镇',
      password: TEST_PASSWORD,
    });
    assert.equal(clerkToken.statusCode, 201, clerkToken.body);
    const bearer = clerkToken.json().token as string;
    assert.equal((await call('GET', '/persons', bearer)).statusCode, 200);
    const disabled = await call('POST', `/users/${clerk.id}/disable`, sys, { version: 1 });
    assert.equal(disabled.statusCode, 200, disabled.body);
    assert.equal((await call('GET', '/persons', bearer)).statusCode, 401);
    const clerkRow = await t.ctx.db
      .selectFrom('api_tokens')
      .select('revoked_at')
      .where('id', '=', clerkToken.json().item.id as number)
      .executeTakeFirstOrThrow();
    assert.ok(clerkRow.revoked_at, 'the token of the disabled account is revoked');
    const refused = await t.ctx.db
      .selectFrom('audit_log')
      .select('action')
      .where('action', '=', 'auth.token.refused')
      .where('entity_id', '=', String(clerkToken.json().item.id))
      .execute();
    assert.equal(refused.length, 1, 'the refused token is on record');
  });

  test('administrators have no tokens of their own', async () => {
    for (const client of [sec, sys]) {
      assert.equal((await call('GET', '/auth/tokens', client)).statusCode, 403);
      assert.equal(
        (await call('POST', '/auth/tokens', client, { name: 'x', password: TEST_PASSWORD })).statusCode,
        403,
      );
    }
  });
});
