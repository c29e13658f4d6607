// TOTP seeds at rest (sealed with SM4-CBC + HMAC-SM3 under the configured key) and the security
// administrator's reset of another user's two-factor enrolment.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hash as argonHash } from '@node-rs/argon2';
import * as OTPAuth from 'otpauth';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import {
  TEST_PASSWORD,
  awayFromPeriodEnd,
  makeUser,
  sessionFor,
  signIn,
  totpCode,
  type Client,
} from '../../../test/support/access.ts';
import { createContext } from '../../app.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logging.ts';
import {
  SECRET_KEY_FILE,
  SecretKeyError,
  secretKeyFor,
  secretKeyFromHex,
  seal,
  unseal,
} from '../../platform/secrets.ts';
import { startServer } from '../../server.ts';
import { accessCommands } from './access.cli.ts';
import { sealTotpSecrets } from './access.service.ts';

let t: TestApp;
let sys: Client;
let sec: Client;
let aud: Client;
let secId: number;

before(async () => {
  t = await createTestApp({ loginRateLimit: 1000 });
  const sysUser = await makeUser(t.ctx, 'sysadmin', 'system_admin', null, { totp: true });
  const secUser = await makeUser(t.ctx, 'secadmin', 'security_admin', null, { totp: true });
  const audUser = await makeUser(t.ctx, 'auditor', 'audit_admin', null, { totp: true });
  secId = secUser.id;
  sys = await sessionFor(t.ctx, sysUser.id);
  sec = await sessionFor(t.ctx, secUser.id);
  aud = await sessionFor(t.ctx, audUser.id);
});
after(async () => t.close());

function post(url: string, client: Client, payload?: object) {
  return t.app.inject({
    method: 'POST',
    url: `/api/v1${url}`,
    headers: client.write,
    ...(payload ? { payload } : {}),
  });
}

async function storedSecret(username: string): Promise<string | null> {
  const row = await t.ctx.db
    .selectFrom('users')
    .select('totp_secret')
    .where('username', '=', username)
    .executeTakeFirstOrThrow();
  return row.totp_secret;
}

/** Signs in, enrols TOTP through the API and returns the base32 seed the app was shown. */
async function enrol(username: string): Promise<string> {
  const client = (await signIn(t.app, username)).client!;
  const enroll = await post('/auth/2fa/enroll', client);
  assert.equal(enroll.statusCode, 200, enroll.body);
  const secret = (OTPAuth.URI.parse(enroll.json().otpauthUri) as OTPAuth.TOTP).secret.base32;
  const confirm = await post('/auth/2fa/confirm', client, {
    code: totpCode(secret),
    password: TEST_PASSWORD,
  });
  assert.equal(confirm.statusCode, 200, confirm.body);
  return secret;
}

describe('TOTP seeds at rest', () => {
  test('the stored column holds the SM4-sealed seed, never the base32 seed, and sign-in with TOTP works', async () => {
    await makeUser(t.ctx, 'sealed.a', 'county_staff', '410225');
    const secret = await enrol('sealed.a');
    const stored = (await storedSecret('sealed.a'))!;
    assert.match(stored, /^sm4\$1\$[0-9a-f]{8}\$/);
    assert.ok(!stored.includes(secret), 'the base32 seed is not in the column');
    assert.ok(!stored.toUpperCase().includes(secret.slice(0, 16)), 'not even part of it');
    const signedIn = await signIn(t.app, 'sealed.a', TEST_PASSWORD, { totpCode: totpCode(secret, 1) });
    assert.equal(signedIn.response.statusCode, 200, signedIn.response.body);
  });

  test('seal and unseal: the same key opens, another key is named, an altered value is refused', () => {
    const key = secretKeyFromHex('11'.repeat(32));
    const other = secretKeyFromHex('22'.repeat(32));
    const sealed = seal(key, 'totp', 'JBSWY3DPEHPK3PXP');
    assert.equal(unseal(key, 'totp', sealed), 'JBSWY3DPEHPK3PXP');
    assert.notEqual(seal(key, 'totp', 'JBSWY3DPEHPK3PXP'), sealed, 'a fresh IV each time');
    assert.throws(
      () => unseal(other, 'totp', sealed),
      (e: unknown) =>
        e instanceof SecretKeyError && e.message.includes(key.id) && e.message.includes(other.id),
    );
    const body = sealed.slice(15);
    const flipped = sealed.slice(0, 15) + (body[0] === 'A' ? 'B' : 'A') + body.slice(1);
    assert.throws(() => unseal(key, 'totp', flipped), /HMAC-SM3/);
    assert.throws(() => unseal(key, 'recovery', sealed), /HMAC-SM3/, 'bound to its purpose');
  });

  test('a seed stored in plain text before sealing is sealed at the next start and still signs in', async () => {
    const user = await makeUser(t.ctx, 'legacy.a', 'county_staff', '410225');
    const secret = new OTPAuth.Secret({ size: 20 }).base32;
    await t.ctx.db
      .updateTable('users')
      .set({ totp_secret: secret, totp_enabled: true })
      .where('id', '=', user.id)
      .execute();
    // Readable before the start pass (no lock-out in between)...
    await awayFromPeriodEnd();
    const before = await signIn(t.app, 'legacy.a', TEST_PASSWORD, { totpCode: totpCode(secret, -1) });
    assert.equal(before.response.statusCode, 200, before.response.body);
    const result = await sealTotpSecrets(t.ctx);
    assert.equal(result.sealed, 1);
    const stored = (await storedSecret('legacy.a'))!;
    assert.match(stored, /^sm4\$1\$/);
    assert.ok(!stored.includes(secret));
    assert.equal((await sealTotpSecrets(t.ctx)).sealed, 0, 'idempotent');
    const after = await signIn(t.app, 'legacy.a', TEST_PASSWORD, { totpCode: totpCode(secret) });
    assert.equal(after.response.statusCode, 200, after.response.body);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['details'])
      .where('action', '=', 'auth.2fa.secrets_sealed')
      .executeTakeFirstOrThrow();
    assert.equal((entry.details as { users: number }).users, 1);
  });

  test('a wrong key stops the start with a message naming SHOUHU_SECRET_KEY and both keys', async () => {
    const wrong = loadConfig({}, { runJobs: false, secretKey: 'ab'.repeat(32) });
    await assert.rejects(
      createContext(wrong, t.database, createLogger('silent')),
      (e: unknown) =>
        e instanceof SecretKeyError &&
        /SHOUHU_SECRET_KEY/.test(e.message) &&
        e.message.includes(secretKeyFor(wrong).id) &&
        e.message.includes(secretKeyFor(t.ctx.config).id),
    );
  });

  test('with DATABASE_URL the key is required: the server does not start without it', async () => {
    const config = loadConfig(
      { DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
      { runJobs: false, port: 0, secretKey: null },
    );
    await assert.rejects(
      startServer(config, { logger: createLogger('silent') }),
      /SHOUHU_SECRET_KEY is not set/,
    );
    assert.throws(
      () => loadConfig({ SHOUHU_SECRET_KEY: 'not-hex' }),
      /SHOUHU_SECRET_KEY must be 64 hex digits/,
    );
  });

  test('embedded, without SHOUHU_SECRET_KEY: one key file made in the data folder, mode 0600, reused', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-key-'));
    try {
      const first = secretKeyFor(loadConfig({}, { dataDir, secretKey: null, databaseUrl: null }));
      const file = path.join(dataDir, SECRET_KEY_FILE);
      assert.equal(fs.statSync(file).mode & 0o777, 0o600);
      const second = secretKeyFor(loadConfig({}, { dataDir, secretKey: null, databaseUrl: null }));
      assert.equal(second.id, first.id);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe("the security administrator resets another user's two-factor enrolment", () => {
  test('seed and recovery codes gone, sessions ended, audited; the user must enrol again at next sign-in', async () => {
    const user = await makeUser(t.ctx, 'reset.a', 'village_child_director', '410225101200');
    const secret = await enrol('reset.a');
    const live = (await signIn(t.app, 'reset.a', TEST_PASSWORD, { totpCode: totpCode(secret, 1) })).client!;
    const reset = await post(`/users/${user.id}/reset-2fa`, sec);
    assert.equal(reset.statusCode, 200, reset.body);
    assert.equal(reset.json().twoFactorEnabled, false);
    assert.equal(reset.json().twoFactorResetPending, true);

    const row = await t.ctx.db
      .selectFrom('users')
      .select(['totp_secret', 'totp_enabled', 'must_enroll_totp'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { totp_secret: null, totp_enabled: false, must_enroll_totp: true });
    const codes = await t.ctx.db
      .selectFrom('recovery_codes')
      .select('id')
      .where('user_id', '=', user.id)
      .execute();
    assert.equal(codes.length, 0);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: live.headers });
    assert.equal(me.statusCode, 401, 'the session that was open has ended');

    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['actor_user_id', 'entity_id', 'details'])
      .where('action', '=', 'user.2fa.reset')
      .executeTakeFirstOrThrow();
    assert.equal(entry.actor_user_id, secId);
    assert.equal(entry.entity_id, String(user.id));
    // The enrolment's session and the later one.
    assert.equal((entry.details as { sessionsRevoked: number }).sessionsRevoked, 2);
    assert.equal((entry.details as { codesDeleted: number }).codesDeleted, 10);

    // The old authenticator no longer counts; sign-in by password gives a session limited to enrolment.
    const next = await signIn(t.app, 'reset.a', TEST_PASSWORD, { totpCode: totpCode(secret, 2) });
    assert.equal(next.response.statusCode, 200, next.response.body);
    assert.equal(next.response.json().limitedTo, 'two_factor_enrollment');
    const persons = await t.app.inject({
      method: 'GET',
      url: '/api/v1/persons',
      headers: next.client!.headers,
    });
    assert.equal(persons.statusCode, 403);
    assert.equal(persons.json().error.code, 'TWO_FACTOR_ENROLLMENT_REQUIRED');
    // Enrolling again lifts the limitation and clears the pending flag.
    const secretAgain = await enrol('reset.a');
    assert.notEqual(secretAgain, secret);
    const full = await signIn(t.app, 'reset.a', TEST_PASSWORD, { totpCode: totpCode(secretAgain, 1) });
    assert.equal(full.response.json().limitedTo, null);
    const flag = await t.ctx.db
      .selectFrom('users')
      .select('must_enroll_totp')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.equal(flag.must_enroll_totp, false);
  });

  test('three-role separation: the system and audit administrators are refused; nothing changes', async () => {
    const user = await makeUser(t.ctx, 'reset.b', 'county_staff', '410225', { totp: true });
    for (const [who, client] of [
      ['system_admin', sys],
      ['audit_admin', aud],
    ] as const) {
      const refused = await post(`/users/${user.id}/reset-2fa`, client);
      assert.equal(refused.statusCode, 403, `${who}: ${refused.body}`);
      assert.equal(refused.json().error.code, 'FORBIDDEN');
    }
    const row = await t.ctx.db
      .selectFrom('users')
      .select(['totp_enabled', 'must_enroll_totp'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { totp_enabled: true, must_enroll_totp: false });
  });

  test('a business role and an API token are refused', async () => {
    const user = await makeUser(t.ctx, 'reset.c', 'county_staff', '410225', { totp: true });
    const staff = await makeUser(t.ctx, 'reset.staff', 'county_staff', '410225');
    const refused = await post(`/users/${user.id}/reset-2fa`, await sessionFor(t.ctx, staff.id));
    assert.equal(refused.statusCode, 403);
  });

  test('nobody resets their own enrolment here, administrator accounts only on the console', async () => {
    const own = await post(`/users/${secId}/reset-2fa`, sec);
    assert.equal(own.statusCode, 403, own.body);
    assert.match(own.json().error.message, /自己/);
    const admin = await makeUser(t.ctx, 'sysadmin2', 'system_admin', null, { totp: true });
    const refused = await post(`/users/${admin.id}/reset-2fa`, sec);
    assert.equal(refused.statusCode, 403);
    assert.match(refused.json().error.message, /控制台/);
  });

  test('an unknown user is 404; a user without an enrolment is 409 and nothing is forced', async () => {
    assert.equal((await post('/users/999999/reset-2fa', sec)).statusCode, 404);
    const plain = await makeUser(t.ctx, 'reset.d', 'county_staff', '410225');
    const conflict = await post(`/users/${plain.id}/reset-2fa`, sec);
    assert.equal(conflict.statusCode, 409, conflict.body);
    const row = await t.ctx.db
      .selectFrom('users')
      .select('must_enroll_totp')
      .where('id', '=', plain.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.must_enroll_totp, false);
  });

  test('on the console: `shouhu users reset-2fa` resets an administrator, audited as the console', async () => {
    const admin = await makeUser(t.ctx, 'auditor2', 'audit_admin', null, { totp: true });
    const live = await sessionFor(t.ctx, admin.id);
    const command = accessCommands.find((c) => c.path.join(' ') === 'users reset-2fa')!;
    const out: string[] = [];
    const err: string[] = [];
    const io = { print: (l: string) => out.push(l), error: (l: string) => err.push(l), progress: () => {} };
    const code = await command.run({ positionals: ['auditor2'], flags: {} }, t.ctx, io);
    assert.equal(code, 0, err.join('\n'));
    assert.match(out.join('\n'), /auditor2.*reset/);
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: live.headers });
    assert.equal(me.statusCode, 401);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['actor_kind', 'entity_id'])
      .where('action', '=', 'user.2fa.reset')
      .where('entity_id', '=', String(admin.id))
      .executeTakeFirstOrThrow();
    assert.equal(entry.actor_kind, 'system');
    const again = await command.run({ positionals: ['auditor2'], flags: {} }, t.ctx, io);
    assert.equal(again, 1, 'nothing left to reset');
    const unknown = await command.run({ positionals: ['nobody-here'], flags: {} }, t.ctx, io);
    assert.equal(unknown, 1);
  });
});

describe('enrolment asks for the password again', () => {
  test('a session alone cannot bind an authenticator: no or a wrong password is refused on the field, counted and audited', async () => {
    const user = await makeUser(t.ctx, 'stolen.a', 'village_child_director', '410225101200');
    // The thief holds the owner's session cookie, not the password.
    const client = await sessionFor(t.ctx, user.id);
    const enroll = await post('/auth/2fa/enroll', client);
    assert.equal(enroll.statusCode, 200, enroll.body);
    const secret = (OTPAuth.URI.parse(enroll.json().otpauthUri) as OTPAuth.TOTP).secret.base32;

    const withoutPassword = await post('/auth/2fa/confirm', client, { code: totpCode(secret) });
    assert.equal(withoutPassword.statusCode, 400);
    assert.equal(withoutPassword.json().error.code, 'VALIDATION_FAILED');
    assert.ok(
      (withoutPassword.json().error.details as { path: string }[]).some((d) => d.path === 'password'),
      withoutPassword.body,
    );
    const wrong = await post('/auth/2fa/confirm', client, { code: totpCode(secret), password: 'Guess-1234' });
    assert.equal(wrong.statusCode, 400);
    assert.deepEqual(
      (wrong.json().error.details as { path: string; message: string }[]).map((d) => [d.path, d.message]),
      [['password', '当前密码不正确']],
    );
    const row = await t.ctx.db
      .selectFrom('users')
      .select(['totp_enabled', 'failed_attempts'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { totp_enabled: false, failed_attempts: 1 }, 'counted like a failed sign-in');
    const codes = await t.ctx.db
      .selectFrom('recovery_codes')
      .select('id')
      .where('user_id', '=', user.id)
      .execute();
    assert.equal(codes.length, 0, 'no recovery codes handed out');
    const denied = await t.ctx.db
      .selectFrom('audit_log')
      .select(['result', 'details'])
      .where('action', '=', 'auth.2fa.confirm')
      .where('entity_id', '=', String(user.id))
      .execute();
    assert.deepEqual(
      denied.map((d) => [d.result, (d.details as { reason?: string } | null)?.reason]),
      [['denied', 'bad_current_password']],
    );

    // The owner, with the password, binds the authenticator. The failure stays counted until the next
    // successful sign-in, as with a password change.
    const confirm = await post('/auth/2fa/confirm', client, {
      code: totpCode(secret),
      password: TEST_PASSWORD,
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    const after = await t.ctx.db
      .selectFrom('users')
      .select(['totp_enabled', 'failed_attempts'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(after, { totp_enabled: true, failed_attempts: 1 });
  });

  test('guessing the password through the enrolment locks the account and ends its sessions', async () => {
    const user = await makeUser(t.ctx, 'stolen.b', 'village_child_director', '410225101200');
    const client = await sessionFor(t.ctx, user.id);
    const enroll = await post('/auth/2fa/enroll', client);
    const secret = (OTPAuth.URI.parse(enroll.json().otpauthUri) as OTPAuth.TOTP).secret.base32;
    const statuses: number[] = [];
    for (let i = 0; i < t.ctx.config.lockoutAttempts; i++) {
      const guess = await post('/auth/2fa/confirm', client, {
        code: totpCode(secret),
        password: `Guess-${i}-x`,
      });
      statuses.push(guess.statusCode);
    }
    assert.ok(
      statuses.every((s) => s === 400 || s === 401 || s === 423),
      statuses.join(),
    );
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: client.headers });
    assert.equal(me.statusCode, 401, 'the stolen session has ended');
    const row = await t.ctx.db
      .selectFrom('users')
      .select(['totp_enabled'])
      .select((eb) => eb('locked_until', '>', new Date()).as('locked'))
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { totp_enabled: false, locked: true });
  });

  /** An account with two sessions (the owner's, a thief's); the owner has started enrolling. */
  async function enrollingWithTwoSessions(username: string) {
    const user = await makeUser(t.ctx, username, 'village_child_director', '410225101200');
    const owner = await sessionFor(t.ctx, user.id);
    const thief = await sessionFor(t.ctx, user.id);
    const enroll = await post('/auth/2fa/enroll', owner);
    const secret = (OTPAuth.URI.parse(enroll.json().otpauthUri) as OTPAuth.TOTP).secret.base32;
    return { user, owner, thief, secret, sealedOwner: await storedSecret(username) };
  }

  test('a second session restarting the enrolment while the owner confirms cannot switch its own seed on', async () => {
    const { user, owner, thief, secret, sealedOwner } = await enrollingWithTwoSessions('stolen.c');
    // The thief's enrolment lands while the owner's password is being checked: the confirmation has
    // read the account and reserved its attempt (failed_attempts 1) and argon2 is running, made slow
    // here (many passes) so that the window is wide.
    await t.ctx.db
      .updateTable('users')
      .set({ password_hash: await argonHash(TEST_PASSWORD, { timeCost: 60 }) })
      .where('id', '=', user.id)
      .execute();
    const confirming = post('/auth/2fa/confirm', owner, { code: totpCode(secret), password: TEST_PASSWORD });
    const attempts = () =>
      t.ctx.db
        .selectFrom('users')
        .select('failed_attempts')
        .where('id', '=', user.id)
        .executeTakeFirstOrThrow();
    while ((await attempts()).failed_attempts === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const restarted = await post('/auth/2fa/enroll', thief);
    const confirmed = await confirming;
    assert.equal(restarted.statusCode, 200, 'the restart landed first: the race this test is about');
    assert.notEqual(await storedSecret('stolen.c'), sealedOwner);
    assert.equal(confirmed.statusCode, 409, confirmed.body);
    assert.equal(confirmed.json().error.code, 'CONFLICT');
    assert.match(confirmed.json().error.message, /重新开始绑定/);
    const row = await t.ctx.db
      .selectFrom('users')
      .select(['totp_enabled'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { totp_enabled: false }, "the thief's seed is not switched on");
    const codes = await t.ctx.db
      .selectFrom('recovery_codes')
      .select('id')
      .where('user_id', '=', user.id)
      .execute();
    assert.equal(codes.length, 0, 'no recovery codes handed out');
  });

  test('once the owner has confirmed, another session cannot restart the enrolment', async () => {
    const { owner, thief, secret, sealedOwner } = await enrollingWithTwoSessions('stolen.d');
    const confirm = await post('/auth/2fa/confirm', owner, {
      code: totpCode(secret),
      password: TEST_PASSWORD,
    });
    assert.equal(confirm.statusCode, 200, confirm.body);
    const restarted = await post('/auth/2fa/enroll', thief);
    assert.equal(restarted.statusCode, 409, restarted.body);
    assert.equal(await storedSecret('stolen.d'), sealedOwner, "the owner's seed stays");
  });
});
