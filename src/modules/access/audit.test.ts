import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestDatabase } from '../../../test/support/db.ts';
import type { Database } from '../../platform/db.ts';
import type { AppContext } from '../../platform/context.ts';
import { loadConfig } from '../../platform/config.ts';
import { createLogger } from '../../platform/logging.ts';
import { JobQueue } from '../../platform/jobs.ts';
import { accessCommands } from './access.cli.ts';
import {
  AUDIT_HASH_ALG,
  audit,
  canonicalJson,
  entryHash,
  recordRead,
  systemActor,
  verifyAuditChain,
} from './audit.ts';
import { parseArgs } from '../../cli/command.ts';
import { maskForActor, revealForActor } from './access.masking.ts';
import { ROLE_PERMISSIONS, type Actor, type Role } from './access.policy.ts';

function actorOf(role: Role, regionCode: string): Actor {
  return {
    kind: 'user',
    userId: 7,
    tokenId: null,
    username: `${role}.user`,
    role,
    regionCode,
    permissions: new Set(ROLE_PERMISSIONS[role]),
    individualAccess: false,
    ip: '10.0.0.1',
    sessionId: null,
  };
}

const actor = systemActor('test');

async function runVerify(ctx: AppContext): Promise<{ code: number; out: string[]; err: string[] }> {
  const command = accessCommands.find((c) => c.path.join(' ') === 'audit verify')!;
  const out: string[] = [];
  const err: string[] = [];
  const code = await command.run(parseArgs([]), ctx, {
    print: (l) => out.push(l),
    error: (l) => err.push(l),
    progress: () => {},
  });
  return { code, out, err };
}

/** Tampering as a database superuser would: with the append-only triggers switched off. */
async function tamper(database: Database, statement: string): Promise<void> {
  await database.execScript(
    `ALTER TABLE audit_log DISABLE TRIGGER USER; ${statement}; ALTER TABLE audit_log ENABLE TRIGGER USER;`,
  );
}

describe('audit trail', () => {
  let database: Database;
  let ctx: AppContext;

  before(async () => {
    database = await openTestDatabase();
    ctx = {
      config: loadConfig({}, { runJobs: false }),
      database,
      db: database.db,
      jobs: new JobQueue(database.db),
      logger: createLogger('silent'),
    };
  });
  after(async () => database.close());

  test('canonical JSON sorts keys at every depth', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } }),
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });

  test('uses SM3 when Node.js has it', () => {
    assert.equal(AUDIT_HASH_ALG, 'sm3');
  });

  test('entries chain and verify; personal data in details is redacted', async () => {
    for (let i = 0; i < 5; i++) {
      await audit(ctx.db, actor, {
        action: 'test.write',
        entityType: 'thing',
        entityId: i,
        details: { n: i },
      });
    }
    await audit(ctx.db, actor, {
      action: 'test.pii',
      details: { note: 'id 41022520080101123X phone 13812345678', password: 'x' },
    });
    const last = await ctx.db
      .selectFrom('audit_log')
      .select('details')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual(last.details, { note: 'id [ID] phone [PHONE]', password: '[REDACTED]' });
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.ok, true);
    assert.equal(report.count, 6);
    const cli = await runVerify(ctx);
    assert.equal(cli.code, 0);
    assert.match(cli.out[0]!, /^OK: 6 audit entries/);
  });

  test('an entry written in a rolled-back transaction disappears with it, and the chain stays whole', async () => {
    await assert.rejects(
      ctx.db.transaction().execute(async (trx) => {
        await audit(trx, actor, { action: 'test.rolled_back' });
        throw new Error('the change failed');
      }),
    );
    await audit(ctx.db, actor, { action: 'test.after_rollback' });
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.ok, true);
    assert.equal(report.count, 7);
  });

  test('concurrent writers still form one chain', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        ctx.db.transaction().execute(async (trx) => {
          await audit(trx, actor, { action: 'test.concurrent', entityId: i });
          await audit(trx, actor, { action: 'test.concurrent.second', entityId: i });
        }),
      ),
    );
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.count, 47);
  });

  test('reads are group-committed into the same chain, between changes and a rollback', async () => {
    const reader = { ...actorOf('county_staff', '410225'), requestId: 'req-read' };
    const before = (await verifyAuditChain(ctx.db)).count;
    const reads = Array.from({ length: 40 }, (_, i) =>
      recordRead(ctx.db, reader, {
        action: 'test.read',
        entityType: 'person',
        entityId: null,
        regionCode: '410225',
        details: { by: ['region'], results: i },
      }),
    );
    const changes = Array.from({ length: 5 }, (_, i) =>
      ctx.db.transaction().execute((trx) => audit(trx, actor, { action: 'test.change', entityId: i })),
    );
    const rolledBack = ctx.db.transaction().execute(async (trx) => {
      await audit(trx, actor, { action: 'test.rolled_back' });
      throw new Error('the change failed');
    });
    const [ids] = await Promise.all([Promise.all(reads), Promise.all(changes), assert.rejects(rolledBack)]);
    assert.equal(new Set(ids).size, 40);
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.count, before + 45);
    // The 40 reads arrived together: they were written by a few statements, not one each.
    const statements = await sql<{ n: number }>`
      SELECT count(DISTINCT xmin::text)::int AS n FROM audit_log WHERE action = 'test.read'`.execute(ctx.db);
    assert.ok(statements.rows[0]!.n < 10, `${statements.rows[0]!.n} statements for 40 reads`);
    // Each entry is the same as audit() would write.
    const row = await ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .where('id', '=', ids[7]!)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      {
        kind: row.actor_kind,
        user: row.actor_user_id,
        name: row.actor_username,
        role: row.actor_role,
        ip: row.ip,
        requestId: row.request_id,
        action: row.action,
        entity: [row.entity_type, row.entity_id, row.region_code],
        result: row.result,
        details: row.details,
        alg: row.hash_alg,
      },
      {
        kind: 'user',
        user: 7,
        name: 'county_staff.user',
        role: 'county_staff',
        ip: '10.0.0.1',
        requestId: 'req-read',
        action: 'test.read',
        entity: ['person', null, '410225'],
        result: 'ok',
        details: { by: ['region'], results: 7 },
        alg: AUDIT_HASH_ALG,
      },
    );
  });

  test('two writers on one database (two server processes) keep one chain', async () => {
    const other = ctx.db.withoutPlugins(); // another handle: its own reads writer and remembered head
    assert.notEqual(other, ctx.db);
    const reader = actorOf('county_staff', '410225');
    const before = (await verifyAuditChain(ctx.db)).count;
    for (let round = 0; round < 3; round++) {
      await Promise.all([
        ...Array.from({ length: 5 }, (_, i) =>
          recordRead(ctx.db, reader, { action: 'test.read.a', entityId: i }),
        ),
        ...Array.from({ length: 5 }, (_, i) =>
          recordRead(other, reader, { action: 'test.read.b', entityId: i }),
        ),
        audit(ctx.db, actor, { action: 'test.change', entityId: round }),
      ]);
    }
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.count, before + 33);
  });

  test('a read whose entry cannot be written fails, and the chain stays whole', async () => {
    const reader = actorOf('county_staff', '410225');
    await recordRead(ctx.db, reader, { action: 'test.read' }); // the writer knows the head
    await sql`ALTER TABLE audit_log ADD CONSTRAINT refuse_test CHECK (action <> 'test.refused') NOT VALID`.execute(
      ctx.db,
    );
    try {
      await assert.rejects(recordRead(ctx.db, reader, { action: 'test.refused' }), /refuse_test/);
    } finally {
      await sql`ALTER TABLE audit_log DROP CONSTRAINT refuse_test`.execute(ctx.db);
    }
    const id = await recordRead(ctx.db, reader, { action: 'test.read.after' });
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.ok, true, report.problem?.message);
    assert.equal(report.lastId, id);
    const refused = await ctx.db
      .selectFrom('audit_log')
      .select('id')
      .where('action', '=', 'test.refused')
      .execute();
    assert.equal(refused.length, 0);
  });

  test('masking for every role; a reveal needs persons.reveal in scope and is audited in the transaction', async () => {
    const county = actorOf('county_staff', '410225');
    const director = actorOf('village_child_director', '410225100201');
    assert.equal(maskForActor(county, '41022520080101123X', 'idNumber'), '4102**************');
    assert.equal(maskForActor(director, '13812345678', 'phone'), '138****5678');
    assert.equal(maskForActor(director, null, 'phone'), null);
    const before = (await verifyAuditChain(ctx.db)).count;
    const value = await ctx.db
      .transaction()
      .execute((trx) =>
        revealForActor(
          trx,
          county,
          { entityId: 42, regionCode: '410225100201', field: 'idNumber' },
          '41022520080101123X',
        ),
      );
    assert.equal(value, '41022520080101123X');
    await assert.rejects(
      revealForActor(ctx.db, director, { entityId: 42, regionCode: '410225100201', field: 'idNumber' }, 'x'),
      /may not/,
      'a child director has no persons.reveal',
    );
    await assert.rejects(
      revealForActor(ctx.db, county, { entityId: 43, regionCode: '410226100201', field: 'phone' }, 'x'),
      /may not/,
      'another county',
    );
    const last = await ctx.db
      .selectFrom('audit_log')
      .selectAll()
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(last.action, 'person.reveal');
    assert.equal(last.entity_id, '42');
    assert.deepEqual(last.details, { field: 'idNumber' });
    assert.equal((await verifyAuditChain(ctx.db)).count, before + 1);
  });

  test('UPDATE, DELETE and TRUNCATE are refused', async () => {
    await assert.rejects(sql`UPDATE audit_log SET action = 'x' WHERE id = 1`.execute(ctx.db), /append-only/);
    await assert.rejects(sql`DELETE FROM audit_log WHERE id = 1`.execute(ctx.db), /append-only/);
    await assert.rejects(sql`TRUNCATE audit_log`.execute(ctx.db), /append-only/);
    await assert.rejects(sql`DELETE FROM audit_chain_head`.execute(ctx.db), /append-only/);
    assert.equal((await verifyAuditChain(ctx.db)).ok, true);
  });

  test('verify finds an edited entry, then a deleted one', async () => {
    const ids = (await ctx.db.selectFrom('audit_log').select('id').orderBy('id').execute()).map((r) => r.id);
    const third = ids[2]!;
    await tamper(database, `UPDATE audit_log SET details = '{"n": 99}'::jsonb WHERE id = ${third}`);
    let cli = await runVerify(ctx);
    assert.equal(cli.code, 1);
    assert.match(cli.err[0]!, new RegExp(`entry ${third} was altered`));
    await tamper(database, `UPDATE audit_log SET details = '{"n": 2}'::jsonb WHERE id = ${third}`);
    assert.equal((await verifyAuditChain(ctx.db)).ok, true, 'restoring the content restores the chain');

    const fifth = ids[4]!;
    await tamper(database, `DELETE FROM audit_log WHERE id = ${fifth}`);
    cli = await runVerify(ctx);
    assert.equal(cli.code, 1);
    assert.match(cli.err[0]!, new RegExp(`entries between ${ids[3]} and ${ids[5]} were deleted`));
    const report = await verifyAuditChain(ctx.db);
    assert.equal(report.problem?.kind, 'deleted');
    assert.equal(report.count, 4);
  });

  test('verify finds an inserted entry and deleted newest entries', async () => {
    const other = await openTestDatabase();
    try {
      await audit(other.db, actor, { action: 'test.write', entityId: 1 });
      await audit(other.db, actor, { action: 'test.write', entityId: 2 });
      // A rolled-back transaction leaves a gap in the ids; a forger fills it.
      await assert.rejects(
        other.db.transaction().execute(async (trx) => {
          await audit(trx, actor, { action: 'test.rolled_back' });
          throw new Error('rolled back');
        }),
      );
      await audit(other.db, actor, { action: 'test.write', entityId: 3 });
      await audit(other.db, actor, { action: 'test.write', entityId: 4 });
      const rows = await other.db.selectFrom('audit_log').selectAll().orderBy('id').execute();
      const second = rows[1]!;
      assert.equal(rows[2]!.id, second.id + 2, 'a gap after the second entry');
      // The forged entry even carries a correct hash over the second entry's hash.
      const forged = { ...second, id: second.id + 1, action: 'test.forged', prev_hash: second.hash };
      await other.db
        .insertInto('audit_log')
        .values({ ...forged, details: JSON.stringify(forged.details), hash: entryHash(forged) })
        .execute();
      let report = await verifyAuditChain(other.db);
      assert.equal(report.problem?.kind, 'inserted', report.problem?.message);
      assert.equal(report.problem?.id, second.id + 1);

      await other.execScript(`ALTER TABLE audit_log DISABLE TRIGGER USER;
        DELETE FROM audit_log WHERE id = ${second.id + 1};
        DELETE FROM audit_log WHERE id = (SELECT max(id) FROM audit_log);
        ALTER TABLE audit_log ENABLE TRIGGER USER;`);
      report = await verifyAuditChain(other.db);
      assert.equal(report.problem?.kind, 'deleted');
      assert.match(report.problem?.message ?? '', /newest entries were deleted/);
    } finally {
      await other.close();
    }
  });
});
