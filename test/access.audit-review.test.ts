// A review of accounts, sign-in and the audit trail. What access.auth, access.admin,
// access.cache, access.totp, audit.test.ts and the attack files already show is not repeated here.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql, type KyselyPlugin } from 'kysely';
import { audit, systemActor, verifyAuditChain } from '../src/modules/access/audit.ts';
import { exportAudit } from '../src/modules/access/audit.search.ts';
import {
  login,
  LoginGuard,
  resetPasswordOnConsole,
  resetTwoFactorOnConsole,
} from '../src/modules/access/access.service.ts';
import { DomainError } from '../src/platform/errors.ts';
import { createTestApp, openTestDatabase, type TestApp, type TestDatabase } from './support/db.ts';
import { TEST_PASSWORD, apiCall, makeUser, sessionFor, signIn, totpCode } from './support/access.ts';

const actor = systemActor('test');

/** Runs `action` once, after the first query whose result passes `when` (the query is done). */
function afterResult(when: (rows: readonly unknown[]) => boolean, action: () => Promise<void>): KyselyPlugin {
  let done = false;
  return {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      if (!done && when(args.result.rows)) {
        done = true;
        await action();
      }
      return args.result;
    },
  };
}

describe('audit verification while the server keeps writing', () => {
  let database: TestDatabase;
  before(async () => {
    database = await openTestDatabase();
  });
  after(async () => database.close());

  test('an entry committed while the chain is being verified is no "deleted newest entries"', async () => {
    for (let i = 0; i < 5; i++) await audit(database.db, actor, { action: 'test.write', entityId: i });
    // The verifier has read the last entries and found no more; before it reads the chain head, a
    // request elsewhere writes its entry (every read of the registry does, all day long).
    const verifier = database.db.withPlugin(
      afterResult(
        (rows) => rows.length === 0,
        async () => {
          await audit(database.db, actor, { action: 'test.write.meanwhile' });
        },
      ),
    );
    const report = await verifyAuditChain(verifier);
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.problem, null);
    assert.ok(report.count >= 5);
    // Nothing was tampered with: a quiet verification agrees.
    const quiet = await verifyAuditChain(database.db);
    assert.equal(quiet.ok, true);
    assert.equal(quiet.count, 6);
  });

  test('an entry whose hash algorithm was edited is reported as altered, not a crash', async () => {
    const other = await openTestDatabase();
    try {
      for (let i = 0; i < 3; i++) await audit(other.db, actor, { action: 'test.write', entityId: i });
      const second = (await other.db.selectFrom('audit_log').select('id').orderBy('id').execute())[1]!.id;
      await other.execScript(`ALTER TABLE audit_log DISABLE TRIGGER USER;
        UPDATE audit_log SET hash_alg = 'no-such-hash' WHERE id = ${second};
        ALTER TABLE audit_log ENABLE TRIGGER USER;`);
      const report = await verifyAuditChain(other.db);
      assert.equal(report.ok, false);
      assert.equal(report.problem?.kind, 'altered');
      assert.equal(report.problem?.id, second);
      assert.equal(report.count, 1);
    } finally {
      await other.close();
    }
  });
});

describe('the audit export', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp();
  });
  after(async () => t.close());

  test('more entries than one export holds: refused with a message in zh and en, never a file cut short', async () => {
    const auditor = await makeUser(t.ctx, 'export.auditor', 'audit_admin', null, { totp: true });
    const client = await sessionFor(t.ctx, auditor.id);
    for (let i = 0; i < 4; i++) await audit(t.ctx.db, actor, { action: 'test.export', entityId: i });
    const me = (await apiCall(t.app, client, 'GET', '/auth/me')).json() as { user: { id: number } };
    assert.equal(me.user.id, auditor.id);
    const signedIn = {
      kind: 'user' as const,
      userId: auditor.id,
      tokenId: null,
      username: auditor.username,
      role: 'audit_admin' as const,
      regionCode: '',
      permissions: new Set(['audit.read', 'audit.export'] as const),
      individualAccess: false,
      ip: '127.0.0.1',
      sessionId: null,
    };
    // Four entries match; an export that holds three refuses rather than leave the newest out.
    await assert.rejects(exportAudit(t.ctx, signedIn, { action: 'test.export' }, 3), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'VALIDATION_FAILED');
      assert.match(error.userMessage.zh, /超过 3 条/);
      assert.match(error.userMessage.en, /More than 3 audit entries/);
      return true;
    });
    const refused = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'audit.export')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(refused.result, 'denied', 'the refused export is audited');
    assert.equal(refused.actor_username, auditor.username);
    // Four fit in an export of four, oldest first.
    const csv = await exportAudit(t.ctx, signedIn, { action: 'test.export' }, 4);
    assert.equal(csv.trim().split('\r\n').length, 5);
    // Through HTTP the default limit holds everything here.
    const r = await apiCall(t.app, client, 'GET', '/audit/export?action=test.export');
    assert.equal(r.statusCode, 200);
    assert.equal(r.body.trim().split('\r\n').length, 5);
  });
});

describe('a sign-in that overlaps a password reset', () => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp({ loginRateLimit: 1000 });
  });
  after(async () => t.close());

  test('the old password checked while the reset commits gives no session that outlives the reset', async () => {
    const user = await makeUser(t.ctx, 'reset.race', 'county_staff', '410225');
    // The account was read with its old password hash; the administrator's reset commits while the
    // old password is being checked against it.
    const db = t.ctx.db.withPlugin(
      afterResult(
        (rows) => (rows[0] as { username?: string } | undefined)?.username === user.username,
        async () => {
          await resetPasswordOnConsole(t.ctx, user.username);
        },
      ),
    );
    const attempt = login(
      { ...t.ctx, db },
      new LoginGuard(),
      { username: user.username, password: TEST_PASSWORD },
      { ip: '10.9.9.9', requestId: 'reset-race-1' },
    );
    await assert.rejects(attempt, (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'UNAUTHENTICATED');
      return true;
    });
    const live = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sessions
      WHERE user_id = ${user.id} AND revoked_at IS NULL`.execute(t.ctx.db);
    assert.equal(live.rows[0]!.n, 0, 'no live session with the password the reset replaced');
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('request_id', '=', 'reset-race-1')
      .executeTakeFirstOrThrow();
    assert.equal(entry.result, 'denied');
    // The old password no longer signs in at all, as before.
    assert.equal((await signIn(t.app, user.username)).response.statusCode, 401);
  });

  test('a TOTP code checked while the two-factor reset commits gives no session either', async () => {
    const user = await makeUser(t.ctx, 'totp.race', 'county_staff', '410225', { totp: true });
    const db = t.ctx.db.withPlugin(
      afterResult(
        (rows) => (rows[0] as { username?: string } | undefined)?.username === user.username,
        async () => {
          await resetTwoFactorOnConsole(t.ctx, user.username);
        },
      ),
    );
    await assert.rejects(
      login(
        { ...t.ctx, db },
        new LoginGuard(),
        { username: user.username, password: TEST_PASSWORD, totpCode: totpCode(user.totpSecret!) },
        { ip: '10.9.9.9', requestId: 'totp-race-1' },
      ),
      (error: unknown) => error instanceof DomainError && error.code === 'UNAUTHENTICATED',
    );
    const live = await sql<{ n: number }>`SELECT count(*)::int AS n FROM sessions
      WHERE user_id = ${user.id} AND revoked_at IS NULL`.execute(t.ctx.db);
    assert.equal(live.rows[0]!.n, 0, 'no live session from the seed the reset deleted');
  });
});
