// The database handle survives losing a connection: on PostgreSQL a connection that the server ends
// while it is idle in the pool (an administrator, a restart, a dropped database) is replaced, and
// the process goes on. On PGlite (one in-process connection) the same sequence of queries runs.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import pg from 'pg';
import { openTestDatabase } from '../../test/support/db.ts';

test('a connection ended while idle in the pool is replaced, and the process goes on', async () => {
  const database = await openTestDatabase();
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.message);
  process.on('warning', onWarning);
  try {
    const pid = async () =>
      (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(database.db)).rows[0]!.pid;
    const before = await pid();
    if (database.kind === 'postgres') {
      // Another session ends the pool's idle connection, as an administrator would.
      const admin = new pg.Client({ connectionString: database.url ?? '' });
      await admin.connect();
      try {
        const ended = await admin.query<{ ok: boolean }>('SELECT pg_terminate_backend($1) AS ok', [before]);
        assert.equal(ended.rows[0]?.ok, true);
      } finally {
        await admin.end();
      }
      // The pool hears of it (its 'error' event) before the next query asks for a connection.
      for (let i = 0; i < 50 && !warnings.length; i++) await new Promise((r) => setTimeout(r, 20));
      assert.match(warnings.join('\n'), /idle PostgreSQL connection was closed/);
      assert.notEqual(await pid(), before);
    } else {
      assert.equal(await pid(), before);
    }
    const one = await sql<{ n: number }>`SELECT 1 AS n`.execute(database.db);
    assert.equal(one.rows[0]?.n, 1);
  } finally {
    process.off('warning', onWarning);
    await database.close();
  }
});

test('PGlite creates WAL segments without zero-filling them; a server keeps its own setting', async () => {
  const database = await openTestDatabase();
  try {
    const row = (
      await sql<{ setting: string; overridden: boolean }>`
        SELECT setting, setting <> reset_val AS overridden FROM pg_settings WHERE name = 'wal_init_zero'`.execute(
        database.db,
      )
    ).rows[0];
    if (database.kind === 'pglite') assert.equal(row?.setting, 'off');
    // On a server the session does not change what its administrator configured.
    else assert.equal(row?.overridden, false);
  } finally {
    await database.close();
  }
});
