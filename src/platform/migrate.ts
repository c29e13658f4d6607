// Forward-only migrations: numbered SQL files in /migrations, applied in order, each in its own
// transaction, recorded with a checksum. An applied file that was edited afterwards stops the
// start: history is changed by a new migration, never by rewriting an old one.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import type { Database } from './db.ts';

export const MIGRATIONS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface MigrationFile {
  name: string;
  sql: string;
  checksum: string;
}

export function readMigrations(dir = MIGRATIONS_DIR): MigrationFile[] {
  return fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f))
    .sort()
    .map((name) => {
      const text = fs.readFileSync(path.join(dir, name), 'utf8');
      return { name, sql: text, checksum: createHash('sha256').update(text).digest('hex') };
    });
}

export async function migrate(database: Database, log: (line: string) => void = () => {}): Promise<string[]> {
  const { db } = database;
  await sql`CREATE TABLE IF NOT EXISTS schema_migrations (
    name text PRIMARY KEY,
    checksum text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`.execute(db);
  const applied = new Map(
    (
      await sql<{ name: string; checksum: string }>`SELECT name, checksum FROM schema_migrations`.execute(db)
    ).rows.map((r) => [r.name, r.checksum]),
  );
  const done: string[] = [];
  for (const file of readMigrations()) {
    const previous = applied.get(file.name);
    if (previous !== undefined) {
      if (previous !== file.checksum)
        throw new Error(
          `migration ${file.name} was changed after it was applied; add a new migration instead`,
        );
      continue;
    }
    // Names and checksums are [a-z0-9_.] and hex, so inlining them in the script is safe.
    await database.execScript(
      `${file.sql}\n;INSERT INTO schema_migrations (name, checksum) VALUES ('${file.name}', '${file.checksum}');`,
    );
    log(`migrated ${file.name}`);
    done.push(file.name);
  }
  return done;
}

export async function pendingMigrations(database: Database): Promise<string[]> {
  const exists = await sql<{ t: string | null }>`SELECT to_regclass('schema_migrations')::text AS t`.execute(
    database.db,
  );
  if (!exists.rows[0]?.t) return readMigrations().map((m) => m.name);
  const applied = new Set(
    (await sql<{ name: string }>`SELECT name FROM schema_migrations`.execute(database.db)).rows.map(
      (r) => r.name,
    ),
  );
  return readMigrations()
    .map((m) => m.name)
    .filter((n) => !applied.has(n));
}
