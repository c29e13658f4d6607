import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { RegionLevel } from './regions.tables.ts';

export interface RegionRow {
  code: string;
  name: string;
  level: RegionLevel;
  parent_code: string | null;
  rural: boolean | null;
  valid_from: string;
  valid_to: string | null;
}

const columns = ['code', 'name', 'level', 'parent_code', 'rural', 'valid_from', 'valid_to'] as const;

/** The half-open code range of a region's subtree: every descendant's code starts with the code. */
export function subtreeRange(code: string): [string, string] {
  return [code, code + '\uffff'];
}

export async function findRegion(db: Kysely<DB>, code: string): Promise<RegionRow | undefined> {
  return db.selectFrom('regions').select(columns).where('code', '=', code).executeTakeFirst();
}

export async function findRegions(db: Kysely<DB>, codes: string[]): Promise<RegionRow[]> {
  if (!codes.length) return [];
  return db.selectFrom('regions').select(columns).where('code', 'in', codes).execute();
}

export async function listChildren(
  db: Kysely<DB>,
  parentCode: string,
): Promise<(RegionRow & { child_count: number })[]> {
  return db
    .selectFrom('regions as r')
    .select(columns.map((c) => `r.${c}` as const))
    .select((eb) =>
      eb
        .selectFrom('regions as c')
        .select(eb.fn.countAll<number>().as('n'))
        .whereRef('c.parent_code', '=', 'r.code')
        .where('c.valid_to', 'is', null)
        .as('child_count'),
    )
    .where('r.parent_code', '=', parentCode)
    .where('r.valid_to', 'is', null)
    .orderBy('r.code')
    .execute() as Promise<(RegionRow & { child_count: number })[]>;
}

export async function countChildren(db: Kysely<DB>, code: string): Promise<number> {
  const row = await db
    .selectFrom('regions')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('parent_code', '=', code)
    .where('valid_to', 'is', null)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function listRoots(db: Kysely<DB>): Promise<(RegionRow & { child_count: number })[]> {
  const rows = await db
    .selectFrom('regions')
    .select(columns)
    .where('level', '=', 1)
    .where('valid_to', 'is', null)
    .orderBy('code')
    .execute();
  return Promise.all(rows.map(async (r) => ({ ...r, child_count: await countChildren(db, r.code) })));
}

/** Name search, optionally within a subtree; shallower levels first. */
export async function searchByName(
  db: Kysely<DB>,
  text: string,
  within: string | null,
  limit: number,
): Promise<RegionRow[]> {
  let query = db
    .selectFrom('regions')
    .select(columns)
    .where('name', 'like', `%${text.replace(/[\\%_]/g, (c) => '\\' + c)}%`)
    .where('valid_to', 'is', null);
  if (within) {
    const [from, to] = subtreeRange(within);
    query = query.where('code', '>=', from).where('code', '<', to);
  }
  return query.orderBy('level').orderBy('code').limit(limit).execute();
}

/** Moves one staged load into regions: insert new codes, update changed ones, reopen revived ones. */
export async function applyStagedLoad(
  trx: Transaction<DB>,
  loadId: string,
  validFrom: string,
): Promise<{ inserted: number; updated: number }> {
  const result = await sql<{ inserted: number; touched: number }>`
    WITH up AS (
    INSERT INTO regions (code, name, level, parent_code, rural, valid_from, valid_to)
    SELECT s.code, s.name,
      CASE length(s.code) WHEN 2 THEN 1 WHEN 4 THEN 2 WHEN 6 THEN 3 WHEN 9 THEN 4 ELSE 5 END,
      s.parent_code,
      CASE WHEN length(s.code) = 12 THEN substr(s.code, 10, 3)::int BETWEEN 200 AND 399 END,
      ${validFrom}::date, NULL
    FROM regions_staging s
    WHERE s.load_id = ${loadId}
    ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent_code = excluded.parent_code,
      rural = excluded.rural, valid_to = NULL
    WHERE regions.name IS DISTINCT FROM excluded.name
       OR regions.parent_code IS DISTINCT FROM excluded.parent_code
       OR regions.valid_to IS NOT NULL
    RETURNING (xmax = 0) AS inserted)
    SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) AS touched FROM up`.execute(trx);
  const row = result.rows[0] ?? { inserted: 0, touched: 0 };
  return { inserted: Number(row.inserted), updated: Number(row.touched) - Number(row.inserted) };
}

/** Closes (never deletes) regions inside the loaded scope that the new data no longer has. */
export async function closeMissing(
  trx: Transaction<DB>,
  loadId: string,
  within: string | null,
  validTo: string,
): Promise<number> {
  const range = within ? subtreeRange(within) : null;
  const result = await sql`
    UPDATE regions r SET valid_to = ${validTo}::date
    WHERE r.valid_to IS NULL
      ${range ? sql`AND r.code >= ${range[0]} AND r.code < ${range[1]}` : sql``}
      AND NOT EXISTS (SELECT 1 FROM regions_staging s WHERE s.load_id = ${loadId} AND s.code = r.code)`.execute(
    trx,
  );
  return Number(result.numAffectedRows ?? 0);
}

export async function clearStaging(db: Kysely<DB>, loadId: string): Promise<void> {
  await db.deleteFrom('regions_staging').where('load_id', '=', loadId).execute();
}

export async function countByLevel(db: Kysely<DB>): Promise<Record<number, number>> {
  const rows = await db
    .selectFrom('regions')
    .select(['level', (eb) => eb.fn.countAll<number>().as('n')])
    .where('valid_to', 'is', null)
    .groupBy('level')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.level, Number(r.n)]));
}
