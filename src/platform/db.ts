// One database API over two engines: the embedded PGlite (PostgreSQL 18 compiled to WebAssembly,
// a data folder and no server) and a PostgreSQL server reached through DATABASE_URL. Both speak
// the same SQL; this file hides how rows are fetched and copied, and makes both return the same
// JavaScript types (dates as 'YYYY-MM-DD' strings, bigint counts as numbers).
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  CompiledQuery,
  Kysely,
  PostgresAdapter,
  PostgresDialect,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type Dialect,
  type Driver,
  type QueryResult,
} from 'kysely';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type { DB } from './db.schema.ts';

export type DbKind = 'pglite' | 'postgres';

export interface Database {
  kind: DbKind;
  db: Kysely<DB>;
  /**
   * Bulk-loads rows with COPY. Runs outside any Kysely transaction: callers copy into a
   * staging table and move rows into place inside a transaction.
   */
  copyRows(
    table: string,
    columns: string[],
    rows: Iterable<unknown[]> | AsyncIterable<unknown[]>,
  ): Promise<number>;
  /**
   * Bulk-loads text that is already CSV (COPY's csv format: an unquoted empty field is NULL), in
   * chunks of whole lines, as text or as UTF-8 bytes. Like copyRows, outside any Kysely transaction.
   */
  copyCsv(
    table: string,
    columns: string[],
    chunks: Iterable<string | Uint8Array> | AsyncIterable<string | Uint8Array>,
  ): Promise<void>;
  /** Runs a multi-statement SQL script atomically (all or nothing); used by migrations. */
  execScript(script: string): Promise<void>;
  close(): Promise<void>;
}

const OID = { int8: 20, numeric: 1700, date: 1082, jsonb: 3802 } as const;

const parseDate = (value: string) => value;
const parseInt8 = (value: string) => Number(value);
/**
 * A jsonb parameter: bytes are jsonb's binary form and go through as a binary parameter (PGlite's type
 * says a serializer returns a string, but its wire writer takes bytes as node-postgres does); anything
 * else as PGlite's own serializer does.
 */
const serializeJsonb = (value: unknown): string =>
  (value instanceof Uint8Array ? value : typeof value === 'string' ? value : JSON.stringify(value)) as string;

// ---------- PGlite driver: one session shared through a mutex ----------

class Mutex {
  #tail: Promise<void> = Promise.resolve();
  lock(): Promise<() => void> {
    let release!: () => void;
    const next = new Promise<void>((resolve) => (release = resolve));
    const ready = this.#tail.then(() => release);
    this.#tail = this.#tail.then(() => next);
    return ready;
  }
}

class PGliteConnection implements DatabaseConnection {
  readonly pglite: PGlite;
  constructor(pglite: PGlite) {
    this.pglite = pglite;
  }
  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.pglite.query<R>(query.sql, query.parameters as unknown[], {
      rowMode: 'object',
    });
    const affected = result.affectedRows;
    const command = query.sql.trimStart().slice(0, 6).toLowerCase();
    return {
      rows: result.rows,
      numAffectedRows:
        affected !== undefined && ['insert', 'update', 'delete', 'merge '].includes(command)
          ? BigInt(affected)
          : undefined,
    };
  }
  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('streaming queries are not supported on PGlite; read in key ranges instead');
  }
}

class PGliteDriver implements Driver {
  readonly #connection: PGliteConnection;
  readonly #mutex: Mutex;
  #release: (() => void) | null = null;
  constructor(pglite: PGlite, mutex: Mutex) {
    this.#connection = new PGliteConnection(pglite);
    this.#mutex = mutex;
  }
  async init() {}
  async acquireConnection(): Promise<DatabaseConnection> {
    this.#release = await this.#mutex.lock();
    return this.#connection;
  }
  async beginTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('begin'));
  }
  async commitTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('commit'));
  }
  async rollbackTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(CompiledQuery.raw('rollback'));
  }
  async releaseConnection() {
    const release = this.#release;
    this.#release = null;
    release?.();
  }
  async destroy() {}
}

function pgliteDialect(pglite: PGlite, mutex: Mutex): Dialect {
  return {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new PGliteDriver(pglite, mutex),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  };
}

// ---------- COPY ----------

function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text =
    value instanceof Date
      ? value.toISOString()
      : typeof value === 'object'
        ? JSON.stringify(value)
        : String(value);
  return '"' + text.replaceAll('"', '""') + '"';
}

function csvLine(row: unknown[]): string {
  return row.map(csvField).join(',') + '\n';
}

async function* csvChunks(rows: Iterable<unknown[]> | AsyncIterable<unknown[]>, counter: { n: number }) {
  let buffer: string[] = [];
  for await (const row of rows) {
    buffer.push(csvLine(row));
    counter.n += 1;
    if (buffer.length >= 5000) {
      yield buffer.join('');
      buffer = [];
    }
  }
  if (buffer.length) yield buffer.join('');
}

function quoteIdent(name: string): string {
  if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`unsafe identifier ${name}`);
  return `"${name}"`;
}

function copySql(table: string, columns: string[], source: string): string {
  return `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${source} WITH (FORMAT csv)`;
}

// ---------- Opening ----------

/** The embedded database in `dataDir`, or an in-memory one when `dataDir` is null (tests). */
export async function openPglite(dataDir: string | null): Promise<Database> {
  if (dataDir) fs.mkdirSync(path.dirname(path.resolve(dataDir)), { recursive: true });
  const pglite = await PGlite.create(dataDir ?? undefined, {
    parsers: { [OID.date]: parseDate, [OID.int8]: parseInt8 },
    // A jsonb parameter given as bytes is jsonb's binary form (groups.repository's jsonRows): passed
    // through, as node-postgres does, instead of being serialised as a JSON object.
    serializers: { [OID.jsonb]: serializeJsonb },
  });
  // New WAL segments are not zero-filled. PGlite's in-memory file system grows a file by copying it into
  // a buffer an eighth larger, so writing a 16 MB segment of zeros copied it about twenty times: a write
  // that crossed into a new segment took 60-160 ms longer (docs/DECISIONS.md "PGlite: WAL segments not
  // zero-filled"). The setting lasts for the session, which on PGlite is the database's only one.
  await pglite.exec('SET wal_init_zero = off');
  const mutex = new Mutex();
  const db = new Kysely<DB>({ dialect: pgliteDialect(pglite, mutex) });
  const copyCsv: Database['copyCsv'] = async (table, columns, chunks) => {
    const release = await mutex.lock();
    try {
      // PGlite copies from a Blob; large inputs go in slices so memory stays bounded.
      let parts: (string | Uint8Array)[] = [];
      let size = 0;
      const flush = async () => {
        if (!parts.length) return;
        await pglite.query(copySql(table, columns, `'/dev/blob'`), [], { blob: new Blob(parts) });
        parts = [];
        size = 0;
      };
      for await (const chunk of chunks) {
        parts.push(chunk);
        size += chunk.length;
        if (size > 32 * 1024 * 1024) await flush();
      }
      await flush();
    } finally {
      release();
    }
  };
  return {
    kind: 'pglite',
    db,
    async copyRows(table, columns, rows) {
      const counter = { n: 0 };
      await copyCsv(table, columns, csvChunks(rows, counter));
      return counter.n;
    },
    copyCsv,
    async execScript(script) {
      const release = await mutex.lock();
      try {
        await pglite.exec(`BEGIN;\n${script}\n;COMMIT;`);
      } catch (error) {
        await pglite.exec('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        release();
      }
    },
    async close() {
      await db.destroy();
      await pglite.close();
    },
  };
}

export async function openPostgres(url: string, poolSize = 10): Promise<Database> {
  const typeParsers = {
    getTypeParser: ((oid: number, format?: string) => {
      if (oid === OID.date) return parseDate;
      if (oid === OID.int8) return parseInt8;
      return pg.types.getTypeParser(oid, format as 'text');
    }) as typeof pg.types.getTypeParser,
  };
  const pool = new pg.Pool({ connectionString: url, max: poolSize, types: typeParsers });
  // A connection that dies while idle in the pool (the server restarted, an administrator ended it,
  // its database was dropped) is removed by the pool, and the next query opens a new one. Without a
  // listener the pool's 'error' event would end the whole process.
  pool.on('error', (error) => {
    process.emitWarning(`an idle PostgreSQL connection was closed: ${error.message}`, 'ShouhuDatabase');
  });
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  const copyCsv: Database['copyCsv'] = async (table, columns, chunks) => {
    const client = await pool.connect();
    try {
      const stream = client.query(copyFrom(copySql(table, columns, 'STDIN')));
      await pipeline(Readable.from(chunks), stream);
    } finally {
      client.release();
    }
  };
  return {
    kind: 'postgres',
    db,
    async copyRows(table, columns, rows) {
      const counter = { n: 0 };
      await copyCsv(table, columns, csvChunks(rows, counter));
      return counter.n;
    },
    copyCsv,
    async execScript(script) {
      const client = await pool.connect();
      try {
        await client.query(`BEGIN;\n${script}\n;COMMIT;`);
      } catch (error) {
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
    async close() {
      await db.destroy();
    },
  };
}
