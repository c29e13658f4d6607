import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { UsersTable } from './access.tables.ts';

type Db = Kysely<DB> | Transaction<DB>;
export type UserRow = Selectable<UsersTable>;

export async function findUserByUsername(db: Db, username: string): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('username', '=', username).executeTakeFirst();
}

export async function findUserById(db: Db, id: number): Promise<UserRow | undefined> {
  return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function lockUserRow(trx: Transaction<DB>, id: number): Promise<UserRow | undefined> {
  return trx.selectFrom('users').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
}

export async function regionExists(db: Db, code: string): Promise<boolean> {
  const row = await db
    .selectFrom('regions')
    .select('code')
    .where('code', '=', code)
    .where('valid_to', 'is', null)
    .executeTakeFirst();
  return row !== undefined;
}

export async function regionName(db: Db, code: string | null): Promise<string | null> {
  if (!code) return null;
  const row = await db.selectFrom('regions').select('name').where('code', '=', code).executeTakeFirst();
  return row?.name ?? null;
}

export async function recentPasswordHashes(db: Db, userId: number, n: number): Promise<string[]> {
  const rows = await db
    .selectFrom('password_history')
    .select('password_hash')
    .where('user_id', '=', userId)
    .orderBy('id', 'desc')
    .limit(n)
    .execute();
  return rows.map((r) => r.password_hash);
}

/** Records a new password hash and keeps only the newest `keep`. */
export async function pushPasswordHistory(
  trx: Transaction<DB>,
  userId: number,
  hash: string,
  keep: number,
): Promise<void> {
  await trx.insertInto('password_history').values({ user_id: userId, password_hash: hash }).execute();
  await sql`DELETE FROM password_history WHERE user_id = ${userId} AND id NOT IN (
    SELECT id FROM password_history WHERE user_id = ${userId} ORDER BY id DESC LIMIT ${keep})`.execute(trx);
}

// ---------- Failed sign-ins of unknown usernames ----------

/** True while the unknown username is locked (the database's clock, like users.locked_until). */
export async function unknownNameLocked(db: Db, nameHash: string): Promise<boolean> {
  const row = await db
    .selectFrom('login_failures')
    .select('name_hash')
    .where('name_hash', '=', nameHash)
    .where('locked_until', '>', sql<Date>`now()`)
    .executeTakeFirst();
  return row !== undefined;
}

/**
 * Counts a failure of an unknown username exactly as recordFailure counts one of an account: at
 * `attempts` failures the count restarts and the name locks for `minutes`. True when it now locks.
 */
export async function recordUnknownNameFailure(
  db: Db,
  nameHash: string,
  attempts: number,
  minutes: number,
): Promise<boolean> {
  const result = await sql<{ locks: boolean }>`
    INSERT INTO login_failures AS f (name_hash, failed_attempts, locked_until, last_failed_at)
    VALUES (${nameHash},
      CASE WHEN ${attempts} > 0 AND 1 >= ${attempts} THEN 0 ELSE 1 END,
      CASE WHEN ${attempts} > 0 AND 1 >= ${attempts} THEN now() + make_interval(mins => ${minutes}) END,
      now())
    ON CONFLICT (name_hash) DO UPDATE SET
      failed_attempts = CASE WHEN ${attempts} > 0 AND f.failed_attempts + 1 >= ${attempts} THEN 0
        ELSE f.failed_attempts + 1 END,
      locked_until = CASE WHEN ${attempts} > 0 AND f.failed_attempts + 1 >= ${attempts}
        THEN now() + make_interval(mins => ${minutes}) ELSE f.locked_until END,
      last_failed_at = now()
    WHERE f.locked_until IS NULL OR f.locked_until <= now()
    RETURNING coalesce(locked_until > now(), false) AS locks`.execute(db);
  // No row: a concurrent failure locked the name meanwhile, and a locked name counts nothing.
  const row = result.rows[0];
  return row === undefined || row.locks;
}

// ---------- Sessions ----------

export interface SessionUserRow extends UserRow {
  session_id: string;
  csrf_token: string;
  last_seen_at: Date;
  session_created_at: Date;
  /** The database's now() for this lookup: deadlines are kept relative to it, whatever our clock says. */
  checked_at: Date;
}

/** A live session (not revoked, not idle too long, not past its absolute lifetime) with its user. */
export async function findLiveSession(
  db: Db,
  idHash: string,
  idleMinutes: number,
  absoluteHours: number,
): Promise<SessionUserRow | undefined> {
  const rows = await sql<SessionUserRow>`
    SELECT u.*, s.id AS session_id, s.csrf_token, s.last_seen_at, s.created_at AS session_created_at,
      now() AS checked_at
    FROM sessions s JOIN users u ON u.id = s.user_id
    WHERE s.id = ${idHash}
      AND s.revoked_at IS NULL
      AND s.last_seen_at > now() - make_interval(mins => ${idleMinutes})
      AND s.created_at > now() - make_interval(hours => ${absoluteHours})
      AND NOT u.disabled`.execute(db);
  return rows.rows[0];
}

/** Removes the user's sessions that can no longer be used (the audit trail keeps the history). */
export async function deleteDeadSessions(
  db: Db,
  userId: number,
  idleMinutes: number,
  absoluteHours: number,
): Promise<void> {
  await sql`DELETE FROM sessions WHERE user_id = ${userId} AND (revoked_at IS NOT NULL
    OR last_seen_at < now() - make_interval(mins => ${idleMinutes})
    OR created_at < now() - make_interval(hours => ${absoluteHours}))`.execute(db);
}

export async function touchSession(db: Db, idHash: string): Promise<void> {
  await sql`UPDATE sessions SET last_seen_at = now() WHERE id = ${idHash} AND last_seen_at < now() - interval '10 seconds'`.execute(
    db,
  );
}

export async function revokeSession(db: Db, idHash: string): Promise<void> {
  await db
    .updateTable('sessions')
    .set({ revoked_at: sql<Date>`now()` })
    .where('id', '=', idHash)
    .where('revoked_at', 'is', null)
    .execute();
}

/** Revokes every live session of the user, except `keep` when given. Returns how many. */
export async function revokeUserSessions(
  db: Db,
  userId: number,
  keep: string | null = null,
): Promise<number> {
  let query = db
    .updateTable('sessions')
    .set({ revoked_at: sql<Date>`now()` })
    .where('user_id', '=', userId)
    .where('revoked_at', 'is', null);
  if (keep) query = query.where('id', '!=', keep);
  const result = await query.executeTakeFirst();
  return Number(result.numUpdatedRows ?? 0);
}

// ---------- API tokens ----------

export async function findLiveToken(db: Db, tokenHash: string) {
  return db
    .selectFrom('api_tokens')
    .selectAll()
    .where('token_hash', '=', tokenHash)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

/**
 * The account that created a token, as it stands now: the owner of a business user's own token, or
 * the administrator who issued one without personal data (null for a token made on the console).
 */
const TOKEN_CREATOR_COLUMNS = [
  'c.username as creator_username',
  'c.role as creator_role',
  'c.region_code as creator_region_code',
  'c.individual_access as creator_individual_access',
  'c.disabled as creator_disabled',
  'c.demo as creator_demo',
] as const;

/** A live token with the database's now() and its creator, for authentication. */
export async function findLiveTokenForAuth(db: Db, tokenHash: string) {
  return db
    .selectFrom('api_tokens as t')
    .leftJoin('users as c', 'c.id', 't.created_by')
    .select([
      't.id',
      't.name',
      't.role',
      't.region_code',
      't.individual_access',
      't.expires_at',
      't.last_used_at',
      't.created_by',
    ])
    .select(TOKEN_CREATOR_COLUMNS)
    .select(sql<Date>`now()`.as('checked_at'))
    .where('t.token_hash', '=', tokenHash)
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

/** A token that can still be used, by id, with its creator (a long download asks again while it runs). */
export async function findLiveTokenById(db: Db, id: number) {
  return db
    .selectFrom('api_tokens as t')
    .leftJoin('users as c', 'c.id', 't.created_by')
    .select(['t.id', 't.name', 't.role', 't.region_code', 't.individual_access', 't.created_by'])
    .select(TOKEN_CREATOR_COLUMNS)
    .where('t.id', '=', id)
    .where('t.revoked_at', 'is', null)
    .where('t.expires_at', '>', sql<Date>`now()`)
    .executeTakeFirst();
}

/**
 * Revokes the live tokens a business user created for himself (all, or those no longer of the given
 * role, region and grant); returns them for the audit entries.
 */
export async function revokeOwnTokens(
  trx: Transaction<DB>,
  userId: number,
  keep?: { role: string; regionCode: string | null; individualAccess: boolean },
): Promise<{ id: number; region_code: string | null }[]> {
  let query = trx
    .updateTable('api_tokens')
    .set({ revoked_at: sql<Date>`now()` })
    .where('created_by', '=', userId)
    .where('revoked_at', 'is', null)
    .where('expires_at', '>', sql<Date>`now()`);
  if (keep)
    query = query.where((eb) =>
      eb.or([
        eb('role', '!=', keep.role),
        eb(sql<string>`coalesce(region_code, '')`, '!=', keep.regionCode ?? ''),
        eb('individual_access', '!=', keep.individualAccess),
      ]),
    );
  return query.returning(['id', 'region_code']).execute();
}

export async function touchToken(db: Db, id: number): Promise<void> {
  await sql`UPDATE api_tokens SET last_used_at = now()
    WHERE id = ${id} AND (last_used_at IS NULL OR last_used_at < now() - interval '1 minute')`.execute(db);
}
