// Session 22 (findings-access, finding 2): a business user's own API token (POST /auth/tokens, it
// acts as him) kept working after the remedies for a stolen password or session: an administrator's
// password reset, the owner's own password change, the security administrator's two-factor reset,
// and "sign out everywhere". Each now revokes the account's own tokens in the same transaction,
// audited token.revoke with the reason; the tokens the security administrator issued to systems (no
// personal data, belonging to no one) stay. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { TEST_PASSWORD, makeUser, sessionFor, type Client } from '../../../test/support/access.ts';
import { resetPasswordOnConsole, resetTwoFactorOnConsole } from './access.service.ts';

const COUNTY = '410225';

let t: TestApp;
let sys: Client;
let sec: Client;
let sysId: number;
let secId: number;

function call(method: 'GET' | 'POST', url: string, client: Client | string, payload?: unknown) {
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

/** The user's own token, made as he would (his password asked again), and checked to work. */
async function ownToken(client: Client, name: string): Promise<{ token: string; id: number }> {
  const r = await call('POST', '/auth/tokens', client, { name, password: TEST_PASSWORD });
  assert.equal(r.statusCode, 201, r.body);
  const made = { token: r.json().token as string, id: r.json().item.id as number };
  assert.equal((await call('GET', '/persons?limit=1', made.token)).statusCode, 200);
  return made;
}

/** The token no longer works, is revoked in the table, and its token.revoke entry names owner and reason. */
async function assertRevoked(
  token: { token: string; id: number },
  owner: number,
  reason: string,
  actorUserId: number | null,
): Promise<void> {
  const persons = await call('GET', '/persons?limit=1', token.token);
  assert.equal(persons.statusCode, 401, `the token still reads persons: ${persons.body}`);
  const row = await t.ctx.db
    .selectFrom('api_tokens')
    .select('revoked_at')
    .where('id', '=', token.id)
    .executeTakeFirstOrThrow();
  assert.ok(row.revoked_at, 'the token is revoked, not only refused');
  const entries = await t.ctx.db
    .selectFrom('audit_log')
    .select(['actor_user_id', 'details', 'region_code'])
    .where('action', '=', 'token.revoke')
    .where('entity_type', '=', 'api_token')
    .where('entity_id', '=', String(token.id))
    .execute();
  assert.equal(entries.length, 1, 'one token.revoke entry');
  assert.deepEqual(entries[0]!.details, { owner, reason });
  assert.equal(entries[0]!.actor_user_id, actorUserId);
  assert.equal(entries[0]!.region_code, COUNTY);
}

before(async () => {
  t = await createTestApp({ loginRateLimit: 1000 });
  const sysUser = await makeUser(t.ctx, 's22.sys', 'system_admin', null, { totp: true });
  const secUser = await makeUser(t.ctx, 's22.sec', 'security_admin', null, { totp: true });
  sysId = sysUser.id;
  secId = secUser.id;
  sys = await sessionFor(t.ctx, sysId);
  sec = await sessionFor(t.ctx, secId);
});
after(async () => t.close());

describe("what ends a business user's own API token", () => {
  test("(a) an administrator's password reset revokes the account's own tokens", async () => {
    const user = await makeUser(t.ctx, 's22.reset', 'county_staff', COUNTY);
    const bystander = await makeUser(t.ctx, 's22.bystander', 'county_staff', COUNTY);
    const token = await ownToken(await sessionFor(t.ctx, user.id), '脚本');
    const other = await ownToken(await sessionFor(t.ctx, bystander.id), '别人的');

    const reset = await call('POST', `/users/${user.id}/reset-password`, sys);
    assert.equal(reset.statusCode, 200, reset.body);
    await assertRevoked(token, user.id, 'password reset', sysId);
    // Only his: another user's token is untouched.
    assert.equal((await call('GET', '/persons?limit=1', other.token)).statusCode, 200);
  });

  test('(b) the owner’s own password change revokes his tokens; his session stays', async () => {
    const user = await makeUser(t.ctx, 's22.change', 'county_staff', COUNTY);
    const client = await sessionFor(t.ctx, user.id);
    const token = await ownToken(client, '旧密码时建的');

    const changed = await call('POST', '/auth/change-password', client, {
      currentPassword: TEST_PASSWORD,
      newPassword: 'Another-Horse-77',
    });
    assert.equal(changed.statusCode, 200, changed.body);
    await assertRevoked(token, user.id, 'password changed', user.id);
    assert.equal((await call('GET', '/auth/me', client)).statusCode, 200, 'the changing session goes on');
  });

  test("(c) the security administrator's two-factor reset revokes the account's own tokens", async () => {
    const user = await makeUser(t.ctx, 's22.twofactor', 'county_staff', COUNTY, { totp: true });
    const token = await ownToken(await sessionFor(t.ctx, user.id), '手机丢了');

    const reset = await call('POST', `/users/${user.id}/reset-2fa`, sec);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(reset.json().twoFactorResetPending, true);
    await assertRevoked(token, user.id, 'two-factor reset', secId);
  });

  test('(d) sign out everywhere revokes the own tokens and says how many; issued system tokens stay', async () => {
    const user = await makeUser(t.ctx, 's22.logoutall', 'county_staff', COUNTY);
    const client = await sessionFor(t.ctx, user.id);
    const first = await ownToken(client, '一');
    const second = await ownToken(client, '二');
    const gone = await ownToken(client, '已吊销');
    assert.equal((await call('POST', `/auth/tokens/${gone.id}/revoke`, client)).statusCode, 200);

    const all = await call('POST', '/auth/logout-all', client);
    assert.equal(all.statusCode, 200, all.body);
    assert.deepEqual(all.json(), { revokedSessions: 1, revokedTokens: 2 });
    await assertRevoked(first, user.id, 'signed out everywhere', user.id);
    await assertRevoked(second, user.id, 'signed out everywhere', user.id);

    // The security administrator's own "sign out everywhere" leaves the tokens he issued to systems:
    // they reach no personal data and are nobody's own credential.
    const secClient = await sessionFor(t.ctx, secId);
    const issued = await call('POST', '/tokens', secClient, {
      name: '统计接口',
      role: 'national_viewer',
      regionCode: null,
    });
    assert.equal(issued.statusCode, 201, issued.body);
    const secAll = await call('POST', '/auth/logout-all', secClient);
    assert.equal(secAll.statusCode, 200, secAll.body);
    assert.equal(secAll.json().revokedTokens, 0);
    assert.equal((await call('GET', '/auth/me', issued.json().token as string)).statusCode, 200);
  });

  test("the console's resets do the same for a business account, and leave an administrator's issued tokens", async () => {
    const user = await makeUser(t.ctx, 's22.console', 'county_staff', COUNTY);
    const client = await sessionFor(t.ctx, user.id);
    const first = await ownToken(client, '控制台重置密码');
    await resetPasswordOnConsole(t.ctx, user.username);
    await assertRevoked(first, user.id, 'password reset', null);

    const lostPhone = await makeUser(t.ctx, 's22.console2', 'county_staff', COUNTY, { totp: true });
    const second = await ownToken(await sessionFor(t.ctx, lostPhone.id), '控制台重置双因素');
    await resetTwoFactorOnConsole(t.ctx, lostPhone.username);
    await assertRevoked(second, lostPhone.id, 'two-factor reset', null);

    const admin = await makeUser(t.ctx, 's22.sec2', 'security_admin', null, { totp: true });
    const issued = await call('POST', '/tokens', await sessionFor(t.ctx, admin.id), {
      name: '报表系统',
      role: 'province_viewer',
      regionCode: '41',
    });
    assert.equal(issued.statusCode, 201, issued.body);
    await resetPasswordOnConsole(t.ctx, admin.username);
    await resetTwoFactorOnConsole(t.ctx, admin.username);
    assert.equal((await call('GET', '/auth/me', issued.json().token as string)).statusCode, 200);
  });
});
