// A registry change between a region evaluation's read of a batch and its write. The batch is planned
// from the read (in the planning worker) and written later; the registry change re-evaluates its
// person and relatives in its own transaction, often writing no period (a father recorded home before
// his child's first period was written). The batch must still notice before it writes: the change
// holds the period writers' lock from before its read to its commit, and stamps the persons it
// re-evaluated, which the batch's fingerprint sums.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { loadRegions } from '../regions/index.ts';
import { evaluatePerson } from './groups.evaluate.ts';
import * as repo from './groups.repository.ts';
import { RULE_FACT_KINDS } from './groups.rules.ts';

const VILLAGE = '410225101200';
const AS_OF = '2026-11-29';

describe('a registry change between a batch read and its write', () => {
  let database: TestDatabase;
  let child: number;
  let father: number;

  before(async () => {
    database = await openTestDatabase();
    await loadRegions(database, { within: '410225' });
    child = await insertPersonRow(database.db, {
      name: '张小明',
      sex: 1,
      birthDate: '2016-05-01',
      hukou: VILLAGE,
    });
    father = await insertPersonRow(database.db, {
      name: '张大明',
      sex: 1,
      birthDate: '1986-03-01',
      hukou: VILLAGE,
    });
    const mother = await insertPersonRow(database.db, {
      name: '李秀英',
      sex: 2,
      birthDate: '1988-07-01',
      hukou: VILLAGE,
    });
    await insertParentLink(database.db, child, father);
    await insertParentLink(database.db, child, mother);
  });
  after(async () => {
    await database.close();
  });

  test("a re-evaluation that writes no period still moves the batch's fingerprint", async () => {
    // The batch read, as evaluateRegion makes it (the child, no period anywhere).
    const read = repo.parseBatchContext(
      await repo.readBatchContext(database.db, [child], AS_OF, RULE_FACT_KINDS),
      [child],
      AS_OF,
    );
    assert.equal(read.fingerprint, await repo.membershipsFingerprint(database.db, [child]));
    // The father's record changes (nothing that puts anyone in a group): his re-evaluation writes no
    // period, for him or for the child.
    const counts = await database.db.transaction().execute((trx) => evaluatePerson(trx, father, AS_OF));
    assert.equal(counts.entered + counts.left + counts.updated, 0);
    const periods = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships`.execute(
      database.db,
    );
    assert.equal(periods.rows[0]?.n, 0);
    assert.notEqual(await repo.membershipsFingerprint(database.db, [child]), read.fingerprint);
  });

  test("a re-evaluation holds the period writers' lock until it commits, whether it writes or not", async () => {
    const held = await database.db.transaction().execute(async (trx) => {
      await evaluatePerson(trx, father, AS_OF);
      const locks = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND objid = 310 AND granted AND pid = pg_backend_pid()`.execute(trx);
      return locks.rows[0]?.n ?? 0;
    });
    assert.equal(held, 1);
  });
});
