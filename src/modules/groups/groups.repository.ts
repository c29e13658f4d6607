// The groups module's queries. Evaluation reads the registry in a few set-based queries per batch of
// persons and writes its changes back in one statement per kind of change (jsonb_to_recordset), so a
// batch costs the same handful of round trips whatever its size.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { GroupReasonsJson, WorklistKind } from './groups.tables.ts';

export type Db = Kysely<DB> | Transaction<DB>;

/** A bigint[] parameter that both engines accept (an array literal cast, not a driver array). */
export function idArray(ids: readonly number[]): RawBuilder<number[]> {
  return sql<number[]>`${'{' + ids.join(',') + '}'}::bigint[]`;
}

/**
 * `column` is one of `ids`. A batch from the keyset walk is usually a dense run of ids: then a range
 * (an index range scan) is far cheaper than matching a long array, and the caller drops the few rows
 * of persons in the range but outside the batch (keepIn). A sparse or small set uses the array.
 */
function idIn(column: string, ids: readonly number[]): RawBuilder<boolean> {
  const lo = ids.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = ids.reduce((a, b) => Math.max(a, b), -Infinity);
  if (ids.length >= 8 && hi - lo + 1 <= ids.length * 4)
    return sql<boolean>`${sql.ref(column)} BETWEEN ${lo} AND ${hi}`;
  return sql<boolean>`${sql.ref(column)} = ANY(${idArray(ids)})`;
}

function keepIn<T>(rows: T[], ids: readonly number[], ...keys: ((row: T) => number)[]): T[] {
  const set = new Set(ids);
  return rows.filter((row) => keys.some((key) => set.has(key(row))));
}

function jsonRows(rows: readonly unknown[]): RawBuilder<unknown> {
  return sql`${JSON.stringify(rows)}::jsonb`;
}

/** The half-open range of codes in a region's subtree; '' is the whole country. */
export function codeRange(regionCode: string): [string, string] {
  return [regionCode, regionCode + '\uffff'];
}

// ---------- Reading the registry ----------

export interface PersonRecord {
  id: number;
  name: string;
  sex: 1 | 2 | null;
  birth_date: string | null;
  hukou_region_code: string;
  residence_region_code: string | null;
  merged_into: number | null;
  rural: boolean | null;
}

/** The next batch of persons in a subtree after `afterId`, in id order (keyset: never OFFSET). */
export async function nextPersons(
  db: Db,
  range: [string, string],
  afterId: number,
  limit: number,
): Promise<PersonRecord[]> {
  const result = await sql<PersonRecord>`
    SELECT p.id, p.name, p.sex, p.birth_date, p.hukou_region_code, p.residence_region_code, p.merged_into, r.rural
    FROM persons p LEFT JOIN regions r ON r.code = p.hukou_region_code
    WHERE p.hukou_region_code >= ${range[0]} AND p.hukou_region_code < ${range[1]} AND p.id > ${afterId}
    ORDER BY p.id LIMIT ${limit}`.execute(db);
  return result.rows.map(toPersonRecord);
}

function toPersonRecord(r: PersonRecord): PersonRecord {
  return { ...r, id: Number(r.id), merged_into: r.merged_into === null ? null : Number(r.merged_into) };
}

export async function countPersons(db: Db, range: [string, string]): Promise<number> {
  const row = await db
    .selectFrom('persons')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('hukou_region_code', '>=', range[0])
    .where('hukou_region_code', '<', range[1])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

export async function loadPersons(db: Db, ids: readonly number[]): Promise<PersonRecord[]> {
  if (!ids.length) return [];
  const result = await sql<PersonRecord>`
    SELECT p.id, p.name, p.sex, p.birth_date, p.hukou_region_code, p.residence_region_code, p.merged_into, r.rural
    FROM persons p LEFT JOIN regions r ON r.code = p.hukou_region_code
    WHERE ${idIn('p.id', ids)}`.execute(db);
  return keepIn(result.rows.map(toPersonRecord), ids, (r) => r.id);
}

export interface RelationRecord {
  person_id: number;
  related_person_id: number;
  kind: 'parent' | 'spouse';
  subtype: 'biological' | 'adoptive' | 'step' | null;
  /** For a parent link: the child (person_id) has an adoptive parent in force. */
  child_has_adoptive: boolean;
}

const relationInForce = (alias: string, asOf: IsoDate) =>
  sql`(${sql.ref(alias + '.valid_from')} IS NULL OR ${sql.ref(alias + '.valid_from')} <= ${asOf}::date)
    AND (${sql.ref(alias + '.valid_to')} IS NULL OR ${sql.ref(alias + '.valid_to')} > ${asOf}::date)`;

/** Parent and spouse links in force on `asOf` that touch any of the persons, either way round. */
export async function loadRelations(
  db: Db,
  ids: readonly number[],
  asOf: IsoDate,
): Promise<RelationRecord[]> {
  if (!ids.length) return [];
  const result = await sql<RelationRecord>`
    SELECT r.person_id, r.related_person_id, r.kind, r.subtype,
      (r.kind = 'parent' AND EXISTS (
        SELECT 1 FROM person_relations a
        WHERE a.person_id = r.person_id AND a.kind = 'parent' AND a.subtype = 'adoptive'
          AND ${relationInForce('a', asOf)})) AS child_has_adoptive
    FROM person_relations r
    WHERE r.kind IN ('parent', 'spouse') AND ${relationInForce('r', asOf)}
      AND (${idIn('r.person_id', ids)} OR ${idIn('r.related_person_id', ids)})`.execute(db);
  const rows = result.rows.map((r) => ({
    ...r,
    person_id: Number(r.person_id),
    related_person_id: Number(r.related_person_id),
  }));
  return keepIn(
    rows,
    ids,
    (r) => r.person_id,
    (r) => r.related_person_id,
  );
}

export interface FactRecord {
  person_id: number;
  kind: string;
  valid_from: string;
  valid_to: string | null;
  data: Record<string, unknown>;
}

/** Every fact not retracted, of every kind, for the persons (ordered for stable reasons). */
export async function loadFacts(db: Db, ids: readonly number[]): Promise<FactRecord[]> {
  if (!ids.length) return [];
  const result = await sql<FactRecord>`
    SELECT person_id, kind, valid_from, valid_to, data FROM person_facts
    WHERE ${idIn('person_id', ids)} AND retracted_at IS NULL
    ORDER BY person_id, id`.execute(db);
  return keepIn(
    result.rows.map((r) => ({ ...r, person_id: Number(r.person_id) })),
    ids,
    (r) => r.person_id,
  );
}

// ---------- Memberships ----------

export interface MembershipRecord {
  id: number;
  person_id: number;
  group_code: string;
  sub_category: string | null;
  since: string;
  until: string | null;
  reasons: GroupReasonsJson;
  region_code: string;
}

export async function loadOpenMemberships(db: Db, ids: readonly number[]): Promise<MembershipRecord[]> {
  if (!ids.length) return [];
  const result = await sql<MembershipRecord>`
    SELECT id, person_id, group_code, sub_category, since, until, reasons, region_code
    FROM group_memberships WHERE ${idIn('person_id', ids)} AND until IS NULL`.execute(db);
  return keepIn(
    result.rows.map((r) => ({ ...r, id: Number(r.id), person_id: Number(r.person_id) })),
    ids,
    (r) => r.person_id,
  );
}

export interface NewMembership {
  person_id: number;
  group_code: string;
  sub_category: string | null;
  since: string;
  reasons: GroupReasonsJson;
  region_code: string;
}

/**
 * Opens periods. A closed period of the same person and group that the new one overlaps (a fact
 * corrected backwards in time) is cut back to where the new one starts, so periods never overlap and
 * a month-end count never counts a person twice.
 */
export async function insertMemberships(trx: Transaction<DB>, rows: readonly NewMembership[]): Promise<void> {
  if (!rows.length) return;
  // One statement: the deleted, the cut back and the inserted rows are disjoint.
  await sql`
    WITH n AS (
      SELECT * FROM jsonb_to_recordset(${jsonRows(rows)})
        AS x(person_id bigint, group_code text, sub_category text, since date, reasons jsonb, region_code text)),
    covered AS (
      DELETE FROM group_memberships g USING n
      WHERE g.person_id = n.person_id AND g.group_code = n.group_code AND g.until IS NOT NULL AND g.since >= n.since),
    overlapped AS (
      UPDATE group_memberships g SET until = n.since FROM n
      WHERE g.person_id = n.person_id AND g.group_code = n.group_code AND g.until IS NOT NULL
        AND g.until > n.since AND g.since < n.since)
    INSERT INTO group_memberships (person_id, group_code, sub_category, since, until, reasons, region_code)
    SELECT person_id, group_code, sub_category, since, NULL, reasons, region_code FROM n`.execute(trx);
}

export interface MembershipUpdate {
  id: number;
  sub_category: string | null;
  since: string;
  reasons: GroupReasonsJson;
  region_code: string;
}

export async function updateMemberships(
  trx: Transaction<DB>,
  rows: readonly MembershipUpdate[],
): Promise<void> {
  if (!rows.length) return;
  await sql`
    UPDATE group_memberships g SET sub_category = x.sub_category, since = x.since, reasons = x.reasons,
      region_code = x.region_code, evaluated_at = now()
    FROM jsonb_to_recordset(${jsonRows(rows)})
      AS x(id bigint, sub_category text, since date, reasons jsonb, region_code text)
    WHERE g.id = x.id`.execute(trx);
}

export async function closeMemberships(
  trx: Transaction<DB>,
  ids: readonly number[],
  until: IsoDate,
): Promise<void> {
  if (!ids.length) return;
  await sql`
    UPDATE group_memberships SET until = ${until}::date, evaluated_at = now()
    WHERE id = ANY(${idArray(ids)}) AND until IS NULL`.execute(trx);
}

export interface NewWorklistItem {
  person_id: number;
  region_code: string;
  kind: WorklistKind;
  group_code: string;
  on_date: string;
  text_zh: string;
  text_en: string;
}

export async function insertWorklistItems(
  trx: Transaction<DB>,
  rows: readonly NewWorklistItem[],
): Promise<void> {
  if (!rows.length) return;
  await sql`
    INSERT INTO worklist_items (person_id, region_code, kind, group_code, on_date, text_zh, text_en)
    SELECT person_id, region_code, kind, group_code, on_date, text_zh, text_en
    FROM jsonb_to_recordset(${jsonRows(rows)})
      AS x(person_id bigint, region_code text, kind text, group_code text, on_date date, text_zh text, text_en text)
    ORDER BY person_id, group_code`.execute(trx);
}

/** The memberships in force on `asOf`, for one person (the person file). */
export async function membershipsOn(db: Db, personId: number, asOf: IsoDate): Promise<MembershipRecord[]> {
  const result = await sql<MembershipRecord>`
    SELECT id, person_id, group_code, sub_category, since, until, reasons, region_code
    FROM group_memberships
    WHERE person_id = ${personId} AND since <= ${asOf}::date AND (until IS NULL OR until > ${asOf}::date)
    ORDER BY group_code`.execute(db);
  return result.rows.map((r) => ({ ...r, id: Number(r.id), person_id: Number(r.person_id) }));
}

export async function allMembershipsOf(db: Db, personIds: readonly number[]): Promise<MembershipRecord[]> {
  if (!personIds.length) return [];
  const result = await sql<MembershipRecord>`
    SELECT id, person_id, group_code, sub_category, since, until, reasons, region_code
    FROM group_memberships WHERE person_id = ANY(${idArray(personIds)})
    ORDER BY person_id, group_code, since`.execute(db);
  return result.rows.map((r) => ({ ...r, id: Number(r.id), person_id: Number(r.person_id) }));
}

// ---------- Configuration ----------

export interface ConfigRecord {
  id: number;
  region_code: string;
  valid_from: string;
  valid_to: string | null;
  config: Record<string, unknown>;
  version: number;
  changed_by: number | null;
  changed_at: Date;
}

/** Every region's configuration row in force on `asOf` (a few hundred at most). */
export async function configsInForce(db: Db, asOf: IsoDate): Promise<ConfigRecord[]> {
  const result = await sql<ConfigRecord>`
    SELECT id, region_code, valid_from, valid_to, config, version, changed_by, changed_at FROM group_config
    WHERE valid_from <= ${asOf}::date AND (valid_to IS NULL OR valid_to > ${asOf}::date)
    ORDER BY length(region_code), region_code`.execute(db);
  return result.rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** The newest row of a region (the one a change must name the version of). */
export async function latestConfig(
  db: Db,
  regionCode: string,
  forUpdate = false,
): Promise<ConfigRecord | undefined> {
  const result = await sql<ConfigRecord>`
    SELECT id, region_code, valid_from, valid_to, config, version, changed_by, changed_at FROM group_config
    WHERE region_code = ${regionCode} ORDER BY version DESC LIMIT 1 ${forUpdate ? sql`FOR UPDATE` : sql``}`.execute(
    db,
  );
  const row = result.rows[0];
  return row ? { ...row, id: Number(row.id) } : undefined;
}

export async function configHistory(db: Db, regionCode: string): Promise<ConfigRecord[]> {
  const result = await sql<ConfigRecord>`
    SELECT id, region_code, valid_from, valid_to, config, version, changed_by, changed_at FROM group_config
    WHERE region_code = ${regionCode} ORDER BY version DESC`.execute(db);
  return result.rows.map((r) => ({ ...r, id: Number(r.id) }));
}
