// The audit trail (审计日志): every module calls audit() INSIDE the transaction of the change it
// records, so a change and its audit entry commit or roll back together. The table is append-only
// (triggers refuse UPDATE, DELETE and TRUNCATE) and hash-chained: each entry's hash covers the
// previous entry's hash and the canonical JSON of the entry, so `shouhu audit verify` finds an
// entry that was edited, inserted or deleted behind the triggers' back. Reads, which have no
// transaction of their own, use recordRead(): the same entries, group-committed in one statement.
import { createHash, getHashes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { redactObject } from '../../platform/redact.ts';
import type { Actor } from './access.policy.ts';

/** SM3 (GB/T 32905, the national standard hash) when this Node.js/OpenSSL has it, else SHA-256. */
export const AUDIT_HASH_ALG: 'sm3' | 'sha256' = getHashes().includes('sm3') ? 'sm3' : 'sha256';
export const GENESIS_HASH = '0'.repeat(64);

export type AuditResult = 'ok' | 'denied' | 'error';

export interface AuditEntry {
  /** What happened, as module.verb: 'auth.login', 'user.create', 'person.reveal' ... */
  action: string;
  entityType?: string | null;
  entityId?: string | number | null;
  regionCode?: string | null;
  result?: AuditResult;
  /** Facts about the action. Never personal data: no names, ID numbers or phones (they are redacted anyway). */
  details?: Record<string, unknown>;
}

/** Who acted: a signed-in user, an API token, the server console, or nobody yet (a failed sign-in). */
export interface AuditActor {
  kind: Actor['kind'] | 'system' | 'anonymous';
  userId: number | null;
  tokenId: number | null;
  username: string;
  role: string | null;
  ip: string | null;
  requestId?: string | null;
}

/** The actor for work started on the server console (CLI commands, the demo set-up). */
export function systemActor(command: string): AuditActor {
  return { kind: 'system', userId: null, tokenId: null, username: `cli:${command}`, role: null, ip: null };
}

export function anonymousActor(ip: string | null, requestId: string | null, username = ''): AuditActor {
  return { kind: 'anonymous', userId: null, tokenId: null, username, role: null, ip, requestId };
}

type Db = Kysely<DB> | Transaction<DB>;

/** JSON with object keys sorted at every depth: the same entry always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

export interface AuditRow {
  id: number;
  at: Date;
  actor_kind: string;
  actor_user_id: number | null;
  actor_token_id: number | null;
  actor_username: string | null;
  actor_role: string | null;
  ip: string | null;
  request_id: string | null;
  action: string;
  entity_type: string | null;
  entity_id: string | null;
  region_code: string | null;
  result: string;
  details: unknown;
  hash_alg: string;
  prev_hash: string;
  hash: string;
}

/** The hash of an entry: H(prev_hash + "\n" + canonical JSON of every other column). */
export function entryHash(row: Omit<AuditRow, 'hash'>): string {
  const body = canonicalJson({
    id: row.id,
    at: new Date(row.at).toISOString(),
    actorKind: row.actor_kind,
    actorUserId: row.actor_user_id,
    actorTokenId: row.actor_token_id,
    actorUsername: row.actor_username,
    actorRole: row.actor_role,
    ip: row.ip,
    requestId: row.request_id,
    action: row.action,
    entityType: row.entity_type,
    entityId: row.entity_id,
    regionCode: row.region_code,
    result: row.result,
    details: row.details,
    hashAlg: row.hash_alg,
  });
  return createHash(row.hash_alg).update(`${row.prev_hash}\n${body}`).digest('hex');
}

function cleanDetails(details: Record<string, unknown> | undefined): Record<string, unknown> {
  // Redaction is the safety net, not the rule: callers must not pass personal data at all.
  const redacted = redactObject(details ?? {});
  return JSON.parse(
    JSON.stringify(redacted, (_k, v: unknown) => (typeof v === 'string' ? v.replaceAll('\u0000', '') : v)),
  ) as Record<string, unknown>;
}

type UnchainedRow = Omit<AuditRow, 'id' | 'prev_hash' | 'hash'>;

function unchainedRow(actor: AuditActor, entry: AuditEntry): UnchainedRow {
  return {
    at: new Date(),
    actor_kind: actor.kind,
    actor_user_id: actor.userId,
    actor_token_id: actor.tokenId,
    actor_username: actor.username ? actor.username.slice(0, 100) : null,
    actor_role: actor.role,
    ip: actor.ip,
    request_id: actor.requestId ?? null,
    action: entry.action,
    entity_type: entry.entityType ?? null,
    entity_id: entry.entityId === undefined || entry.entityId === null ? null : String(entry.entityId),
    region_code: entry.regionCode ?? null,
    result: entry.result ?? 'ok',
    details: cleanDetails(entry.details),
    hash_alg: AUDIT_HASH_ALG,
  };
}

/** Links entries onto the chain after `head`: consecutive ids, each hash over its predecessor's. */
function chain(rows: UnchainedRow[], head: ChainHead, firstId = head.lastId + 1): AuditRow[] {
  let prevHash = head.lastHash;
  return rows.map((row, i) => {
    const linked = { ...row, id: firstId + i, prev_hash: prevHash };
    prevHash = entryHash(linked);
    return { ...linked, hash: prevHash };
  });
}

interface ChainHead {
  lastId: number;
  lastHash: string;
}

async function lockHead(trx: Transaction<DB>): Promise<ChainHead> {
  const head = await sql<{ last_id: number; last_hash: string }>`
    SELECT last_id, last_hash FROM audit_chain_head WHERE id = 1 FOR UPDATE`.execute(trx);
  const row = head.rows[0];
  if (!row) throw new Error('audit_chain_head is missing its row');
  return { lastId: Number(row.last_id), lastHash: row.last_hash };
}

async function insertRows(trx: Transaction<DB>, rows: AuditRow[]): Promise<void> {
  await trx
    .insertInto('audit_log')
    .values(
      rows.map((row) => ({
        ...row,
        actor_kind: row.actor_kind as AuditActor['kind'],
        result: row.result as AuditResult,
        details: JSON.stringify(row.details),
      })),
    )
    .execute();
  const last = rows[rows.length - 1]!;
  await sql`UPDATE audit_chain_head SET last_id = ${last.id}, last_hash = ${last.hash} WHERE id = 1`.execute(
    trx,
  );
}

async function append(trx: Transaction<DB>, actor: AuditActor, entry: AuditEntry): Promise<number> {
  // The chain head's row lock serialises writers until commit, so entries chain in id order even
  // with many concurrent transactions; a rolled-back transaction rolls the head back with it. The
  // id comes from the sequence (a rolled-back entry leaves a gap), but never below the head's: the
  // read-audit writer numbers its entries from the head without the sequence.
  const head = await lockHead(trx);
  const next = await sql<{ id: number }>`
    SELECT greatest(nextval('audit_log_id_seq'), ${head.lastId + 1}::bigint) AS id`.execute(trx);
  const [row] = chain([unchainedRow(actor, entry)], head, Number(next.rows[0]!.id));
  await insertRows(trx, [row!]);
  return row!.id;
}

/**
 * Appends an entry to the audit trail. Pass the transaction of the change being recorded; given
 * the plain database handle, the entry is written in a transaction of its own.
 */
export async function audit(db: Db, actor: AuditActor | Actor, entry: AuditEntry): Promise<number> {
  const who = toAuditActor(actor);
  if (db.isTransaction) return append(db as Transaction<DB>, who, entry);
  return db.transaction().execute((trx) => append(trx, who, entry));
}

export function toAuditActor(actor: AuditActor | Actor): AuditActor {
  if ('permissions' in actor) {
    return {
      kind: actor.kind,
      userId: actor.userId,
      tokenId: actor.tokenId,
      username: actor.username,
      role: actor.role,
      ip: actor.ip,
      requestId: actor.requestId ?? null,
    };
  }
  return actor;
}

/** "Revealed an ID number / phone": call in the transaction that reads the unmasked value. */
export async function recordReveal(
  db: Db,
  actor: Actor,
  target: {
    entityType?: string;
    entityId: string | number;
    regionCode: string | null;
    field: 'idNumber' | 'phone' | string;
  },
): Promise<number> {
  return audit(db, actor, {
    action: 'person.reveal',
    entityType: target.entityType ?? 'person',
    entityId: target.entityId,
    regionCode: target.regionCode,
    details: { field: target.field },
  });
}

// ---------- Reads: one statement per batch of entries ----------

/**
 * Appends chained rows in one call of `audit_append_reads` (migration 0106), provided the head is
 * still `head` (compare-and-set on the head row: when a writer got there first, nothing is
 * written). Committed without waiting for the disk flush, like every read's entry.
 */
async function appendIfHead(db: Kysely<DB>, head: ChainHead, rows: AuditRow[]): Promise<boolean> {
  const last = rows[rows.length - 1]!;
  const entries = JSON.stringify(rows.map((row) => ({ ...row, at: row.at.toISOString() })));
  const result = await sql<{ written: number }>`
    SELECT audit_append_reads(${head.lastId}, ${head.lastHash}, ${last.id}, ${last.hash}, ${entries}::jsonb)
      AS written`.execute(db);
  const written = Number(result.rows[0]?.written ?? 0);
  if (written === rows.length) return true;
  if (written !== 0) throw new Error(`audit: wrote ${written} of ${rows.length} chained entries`);
  return false;
}

async function readHead(db: Kysely<DB>): Promise<ChainHead> {
  const row = (
    await sql<{ last_id: number; last_hash: string }>`
      SELECT last_id, last_hash FROM audit_chain_head WHERE id = 1`.execute(db)
  ).rows[0];
  if (!row) throw new Error('audit_chain_head is missing its row');
  return { lastId: Number(row.last_id), lastHash: row.last_hash };
}

interface PendingEntry {
  row: UnchainedRow;
  resolve: (id: number) => void;
  reject: (error: unknown) => void;
}

const MAX_BATCH = 500;
const OPTIMISTIC_ATTEMPTS = 3;

/**
 * The read-audit entries of one database handle, group-committed: one statement is in flight at a
 * time, and the entries that arrive meanwhile go together in the next one. The writer remembers
 * the chain head it last wrote, so a batch is one round trip (no transaction, no lock wait, no
 * sequence); when another writer moved the head (a change's transaction, another server process)
 * the call writes nothing, and the batch is chained again onto the head read afresh. After a few
 * lost races the batch takes the head's row lock like a change does.
 */
class ReadAuditWriter {
  readonly #db: Kysely<DB>;
  #head: ChainHead | null = null;
  #queue: PendingEntry[] = [];
  #draining = false;

  constructor(db: Kysely<DB>) {
    this.#db = db;
  }

  append(row: UnchainedRow): Promise<number> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ row, resolve, reject });
      if (!this.#draining) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#draining = true;
    try {
      while (this.#queue.length) {
        const batch = this.#queue.splice(0, MAX_BATCH);
        try {
          const ids = await this.#write(batch.map((p) => p.row));
          batch.forEach((p, i) => p.resolve(ids[i]!));
        } catch (error) {
          this.#head = null;
          for (const p of batch) p.reject(error);
        }
      }
    } finally {
      this.#draining = false;
    }
  }

  async #write(rows: UnchainedRow[]): Promise<number[]> {
    for (let attempt = 0; attempt < OPTIMISTIC_ATTEMPTS; attempt++) {
      const head = this.#head ?? (await readHead(this.#db));
      const linked = chain(rows, head);
      if (await appendIfHead(this.#db, head, linked)) return this.#wrote(linked);
      this.#head = null;
    }
    const linked = await this.#db.transaction().execute(async (trx) => {
      await sql`SET LOCAL synchronous_commit = off`.execute(trx);
      const linked = chain(rows, await lockHead(trx));
      await insertRows(trx, linked);
      return linked;
    });
    return this.#wrote(linked);
  }

  #wrote(linked: AuditRow[]): number[] {
    const last = linked[linked.length - 1]!;
    this.#head = { lastId: last.id, lastHash: last.hash };
    return linked.map((row) => row.id);
  }
}

const readWriters = new WeakMap<Kysely<DB>, ReadAuditWriter>();

/**
 * Audits a read (a search, a list, an opened file): resolves once the entry is committed, so a
 * response is never sent before its audit entry exists, and rejects (failing the request) when it
 * cannot be written. Given a transaction, the entry is written inside it like any other; given the
 * database handle, concurrent reads are group-committed in one statement without waiting for the
 * disk flush (a read changes nothing; see DECISIONS.md "Reads are audited without waiting for the
 * disk").
 */
export async function recordRead(db: Db, actor: Actor | AuditActor, entry: AuditEntry): Promise<number> {
  if (db.isTransaction) return audit(db, actor, entry);
  const root = db as Kysely<DB>;
  let writer = readWriters.get(root);
  if (!writer) {
    writer = new ReadAuditWriter(root);
    readWriters.set(root, writer);
  }
  return writer.append(unchainedRow(toAuditActor(actor), entry));
}

/** "Opened a child's file", "read a protection case": reads of sensitive records are audited too. */
export async function auditRead(
  db: Db,
  actor: Actor,
  target: {
    entityType: string;
    entityId: string | number;
    regionCode: string | null;
    details?: Record<string, unknown>;
  },
): Promise<number> {
  return recordRead(db, actor, {
    action: `${target.entityType}.read`,
    entityType: target.entityType,
    entityId: target.entityId,
    regionCode: target.regionCode,
    ...(target.details ? { details: target.details } : {}),
  });
}

// ---------- Verification ----------

export type ChainProblem =
  | { kind: 'altered'; id: number; message: string }
  | { kind: 'inserted'; id: number; message: string }
  | { kind: 'deleted'; id: number | null; afterId: number | null; message: string };

export interface ChainReport {
  ok: boolean;
  count: number;
  lastId: number | null;
  lastHash: string;
  problem: ChainProblem | null;
}

/** The entry's hash recomputed; null when its recorded algorithm is none this Node.js knows (edited). */
function recomputedHash(row: AuditRow): string | null {
  try {
    return entryHash(row);
  } catch {
    return null;
  }
}

/**
 * Walks the whole chain in id order (in key ranges) and reports the first break. The server keeps
 * writing meanwhile: when the chain head has moved past the last entry read, the walk goes on to
 * the entries written since (a head and its entries commit together, so they are there to read).
 */
export async function verifyAuditChain(db: Kysely<DB>, batch = 2000): Promise<ChainReport> {
  let expectedPrev = GENESIS_HASH;
  let previous: { id: number; prevHash: string } | null = null;
  let count = 0;
  let after = 0;
  for (;;) {
    const rows = (
      await sql<AuditRow>`SELECT * FROM audit_log WHERE id > ${after} ORDER BY id LIMIT ${batch}`.execute(db)
    ).rows;
    if (!rows.length) {
      const head = (
        await sql<{
          last_id: number;
          last_hash: string;
        }>`SELECT last_id, last_hash FROM audit_chain_head WHERE id = 1`.execute(db)
      ).rows[0];
      if (head && head.last_hash === expectedPrev) break;
      if (head && Number(head.last_id) > after) {
        const more = await sql`SELECT 1 FROM audit_log WHERE id > ${after} LIMIT 1`.execute(db);
        if (more.rows.length) continue;
      }
      return report(false, count, previous?.id ?? null, expectedPrev, {
        kind: 'deleted',
        id: null,
        afterId: previous?.id ?? null,
        message: `the newest entries were deleted: the chain ends at ${previous?.id ?? 'the start'} but the head records entry ${head?.last_id ?? '?'}`,
      });
    }
    for (const row of rows) {
      if (recomputedHash(row) !== row.hash) {
        return report(false, count, previous?.id ?? null, expectedPrev, {
          kind: 'altered',
          id: row.id,
          message: `entry ${row.id} was altered: its content does not match its hash`,
        });
      }
      if (row.prev_hash !== expectedPrev) {
        // The entry links to the hash before its predecessor: the predecessor was slipped in.
        if (previous && row.prev_hash === previous.prevHash) {
          return report(false, count, previous.id, expectedPrev, {
            kind: 'inserted',
            id: previous.id,
            message: `entry ${previous.id} was inserted: entry ${row.id} does not link to it`,
          });
        }
        return report(false, count, previous?.id ?? null, expectedPrev, {
          kind: 'deleted',
          id: row.id,
          afterId: previous?.id ?? null,
          message: previous
            ? `entries between ${previous.id} and ${row.id} were deleted: entry ${row.id} does not link to entry ${previous.id}`
            : `entries before ${row.id} were deleted: entry ${row.id} does not link to the start of the chain`,
        });
      }
      previous = { id: row.id, prevHash: row.prev_hash };
      expectedPrev = row.hash;
      count += 1;
      after = row.id;
    }
  }
  return report(true, count, previous?.id ?? null, expectedPrev, null);
}

function report(
  ok: boolean,
  count: number,
  lastId: number | null,
  lastHash: string,
  problem: ChainProblem | null,
): ChainReport {
  return { ok, count, lastId, lastHash, problem };
}
