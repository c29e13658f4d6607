// The groups module's queries. Evaluation reads the registry in a few set-based queries per batch of
// persons and writes its changes back in one statement per kind of change (one jsonb parameter of all
// the rows), so a batch costs the same handful of round trips whatever its size.
import { sql, type Kysely, type RawBuilder, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { IsoDate } from '../../platform/dates.ts';
import { dayField, parseRecordLines } from '../../platform/record-text.ts';
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

/**
 * `column` is none of `ids`. For a dense batch: outside its id range, or one of the few ids in the range
 * that are not in it. `column <> ALL(batch)` gives the same answer, but the planner estimates its
 * selectivity element by element: 5,000 ids cost about 13 ms of planning per batch on PGlite, more than
 * the rest of the batch's read.
 */
function idNotIn(column: string, ids: readonly number[]): RawBuilder<boolean> {
  const lo = ids.reduce((a, b) => Math.min(a, b), Infinity);
  const hi = ids.reduce((a, b) => Math.max(a, b), -Infinity);
  if (ids.length >= 8 && hi - lo + 1 <= ids.length * 4) {
    const gaps = gapsIn(ids, lo, hi);
    if (gaps)
      return gaps.length
        ? sql<boolean>`(${sql.ref(column)} NOT BETWEEN ${lo} AND ${hi} OR ${sql.ref(column)} = ANY(${idArray(gaps)}))`
        : sql<boolean>`${sql.ref(column)} NOT BETWEEN ${lo} AND ${hi}`;
  }
  return sql<boolean>`${sql.ref(column)} <> ALL(${idArray(ids)})`;
}
const MAX_GAPS = 256;

/** The ids in [lo, hi] that are not in `ids`; null when there are more than MAX_GAPS. */
function gapsIn(ids: readonly number[], lo: number, hi: number): number[] | null {
  const gaps: number[] = [];
  let ascending = true;
  for (let i = 1; i < ids.length && ascending; i++) ascending = (ids[i - 1] as number) <= (ids[i] as number);
  if (ascending) {
    // A batch of the keyset walk comes in id order: the gaps are between neighbours.
    let next = lo;
    for (const id of ids) {
      for (; next < id; next++) if (gaps.push(next) > MAX_GAPS) return null;
      next = id + 1;
    }
    return gaps;
  }
  const inBatch = new Set(ids);
  for (let id = lo; id <= hi; id++) if (!inBatch.has(id) && gaps.push(id) > MAX_GAPS) return null;
  return gaps;
}

function keepIn<T>(rows: T[], ids: readonly number[], ...keys: ((row: T) => number)[]): T[] {
  const set = new Set(ids);
  return rows.filter((row) => keys.some((key) => set.has(key(row))));
}

/**
 * The rows as one jsonb parameter in jsonb's binary form (a version byte, then the UTF-8 text): both
 * drivers pass bytes through as they are, where a text parameter of a batch's rows (about 400 kB) is
 * measured and encoded character by character in JavaScript first (PGlite's wire protocol).
 */
function jsonRows(rows: readonly unknown[]): RawBuilder<unknown> {
  return sql`${encodeJsonb(rows)}::jsonb`;
}
const JSONB_BINARY_VERSION = 1;

function encodeJsonb(value: unknown): Buffer {
  const text = JSON.stringify(value);
  // Not from the shared pool: the planning worker transfers these bytes to the main thread.
  const bytes = Buffer.allocUnsafeSlow(1 + Buffer.byteLength(text));
  bytes[0] = JSONB_BINARY_VERSION;
  bytes.write(text, 1);
  return bytes;
}

/**
 * Rows of a writer below, encoded ahead (encodeRows) where they were planned: the evaluation's planning
 * worker hands them over as bytes, so the main thread neither copies nor serialises them.
 */
export interface EncodedRows {
  readonly encoded: Uint8Array;
  readonly count: number;
}

/** The parameter of a writer's rows, shaped as the writer's statement reads them; null for no rows. */
function rowsParam<T>(
  rows: readonly T[] | EncodedRows,
  shape: (rows: readonly T[]) => unknown[],
): RawBuilder<unknown> | null {
  if ('encoded' in rows) {
    const { encoded, count } = rows;
    return count ? sql`${Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength)}::jsonb` : null;
  }
  return rows.length ? sql`${encodeJsonb(shape(rows))}::jsonb` : null;
}

const asObjects = <T>(rows: readonly T[]): unknown[] => [...rows];

/** Each row as an array, not an object: no key repeated 5,000 times (insertMembershipPeriods). */
const insertTuples = (rows: readonly NewMembership[]): unknown[] =>
  rows.map((r) => [
    r.person_id,
    r.group_code,
    r.sub_category,
    r.since,
    r.until ?? null,
    r.reasons,
    r.region_code,
  ]);

const updateTuples = (rows: readonly MembershipUpdate[]): unknown[] =>
  rows.map((r) => [r.id, r.sub_category, r.since, r.until, r.reasons, r.region_code]);

/** A batch's writes, encoded for the writers below (see EncodedRows). */
export const encodeRows = {
  inserts: (rows: readonly NewMembership[]): EncodedRows => encoded(insertTuples(rows)),
  updates: (rows: readonly MembershipUpdate[]): EncodedRows => encoded(updateTuples(rows)),
  redates: (rows: readonly MembershipRedate[]): EncodedRows => encoded(asObjects(rows)),
  worklist: (rows: readonly NewWorklistItem[]): EncodedRows => encoded(asObjects(rows)),
};

function encoded(rows: unknown[]): EncodedRows {
  return { encoded: encodeJsonb(rows), count: rows.length };
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

/** A batch of persons as read: their ids, and their records as text for parsePersons (in any thread). */
export interface PersonsRead {
  ids: number[];
  /** One record a line (personRecord), in id order. */
  text: string;
}

/** The next batch of persons in a subtree after `afterId`, in id order (keyset: never OFFSET). */
export async function nextPersons(
  db: Db,
  range: [string, string],
  afterId: number,
  limit: number,
): Promise<PersonsRead> {
  // One text of records instead of a row per person: decoding rows field by field costs the driver (and
  // PGlite's wire protocol in WebAssembly) several times what the query itself costs, and PostgreSQL
  // writes record text for less than JSON (platform/record-text.ts). The ids come apart, so the thread
  // that only reads and writes the batch need not parse the records.
  const result = await sql<{ t: string | null; ids: string | null }>`
    SELECT string_agg(${personRecord('x')}::text, E'\n' ORDER BY x.id) AS t,
      string_agg(x.id::text, ',' ORDER BY x.id) AS ids FROM (
      SELECT p.id, p.name, p.sex, p.birth_date, p.hukou_region_code, p.residence_region_code, p.merged_into, r.rural
      FROM persons p LEFT JOIN regions r ON r.code = p.hukou_region_code
      WHERE p.hukou_region_code >= ${range[0]} AND p.hukou_region_code < ${range[1]} AND p.id > ${afterId}
      ORDER BY p.id LIMIT ${limit}) x`.execute(db);
  const row = result.rows[0];
  return { ids: row?.ids ? row.ids.split(',').map(Number) : [], text: row?.t ?? '' };
}

/**
 * A person as a row value (read back by fromPersonFields), from a row `alias` of PersonRecord columns.
 * The birth date as a day number: record text would write it in the session's DateStyle.
 */
function personRecord(alias: string): RawBuilder<unknown> {
  const c = (name: string) => sql.ref(`${alias}.${name}`);
  return sql`ROW(${c('id')}, ${c('name')}, ${c('sex')}, ${c('birth_date')} - DATE '1970-01-01',
    ${c('hukou_region_code')}, ${c('residence_region_code')}, ${c('merged_into')}, ${c('rural')})`;
}

function fromPersonFields(f: (string | null)[]): PersonRecord {
  const sex = f[2];
  return {
    id: Number(f[0]),
    name: f[1] ?? '',
    sex: sex === '1' ? 1 : sex === '2' ? 2 : null,
    birth_date: dayField(f[3]),
    hukou_region_code: f[4] ?? '',
    residence_region_code: f[5] ?? null,
    merged_into: f[6] === null || f[6] === undefined ? null : Number(f[6]),
    rural: f[7] === 't' ? true : f[7] === 'f' ? false : null,
  };
}

/** The records of nextPersons' text (or the relatives' of readBatchContext). */
export function parsePersons(text: string): PersonRecord[] {
  return parseRecordLines(text).map(fromPersonFields);
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

/**
 * The persons a template import changed, from what the registry's own columns record: facts and links
 * written by an import (source 'import') since `since`, facts retracted since then (superseded by the
 * file), and persons inserted or updated since then, with their hukou in one of the subtrees `ranges`.
 * A stored fact only closed by the file carries no stamp, but a close can only end a stretch, which the
 * evaluation of the import day ends itself. Changes by others in the meantime are found too, which costs
 * a little work and changes nothing. In id order.
 */
export async function personsChangedByImportSince(
  db: Db,
  since: Date,
  ranges: readonly [string, string][],
): Promise<number[]> {
  if (!ranges.length) return [];
  const inRanges = sql.join(
    ranges.map(([from, to]) => sql`(p.hukou_region_code >= ${from} AND p.hukou_region_code < ${to})`),
    sql` OR `,
  );
  const result = await sql<{ id: string }>`
    WITH changed AS (
      SELECT person_id AS id FROM person_facts WHERE source = 'import' AND recorded_at >= ${since}
      UNION SELECT person_id FROM person_facts WHERE retracted_at >= ${since}
      UNION SELECT person_id FROM person_relations WHERE source = 'import' AND recorded_at >= ${since}
      UNION SELECT related_person_id FROM person_relations WHERE source = 'import' AND recorded_at >= ${since}
      UNION SELECT id FROM persons WHERE updated_at >= ${since} OR created_at >= ${since}
    )
    SELECT p.id FROM changed c JOIN persons p ON p.id = c.id
    WHERE p.merged_into IS NULL AND (${inRanges})
    ORDER BY p.id`.execute(db);
  return result.rows.map((row) => Number(row.id));
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
  /**
   * For a parent link: the child's adoptive parents in force whom the parent (related_person_id) has
   * married by the as-of date, divorced since or not (a step-parent adoption: that birth parent stays a
   * legal parent; marriedAdopters). Empty for nearly every link.
   */
  married_adopters: number[];
}

const relationInForce = (alias: string, asOf: IsoDate) =>
  sql`(${sql.ref(alias + '.valid_from')} IS NULL OR ${sql.ref(alias + '.valid_from')} <= ${asOf}::date)
    AND (${sql.ref(alias + '.valid_to')} IS NULL OR ${sql.ref(alias + '.valid_to')} > ${asOf}::date)`;

/** A spouse link `alias` between the persons `one` and `other` (columns), stored either way round. */
const marriedPair = (alias: string, one: string, other: string) =>
  sql`${sql.ref(alias + '.kind')} = 'spouse' AND (
    (${sql.ref(alias + '.person_id')} = ${sql.ref(one)} AND ${sql.ref(alias + '.related_person_id')} = ${sql.ref(other)})
    OR (${sql.ref(alias + '.person_id')} = ${sql.ref(other)} AND ${sql.ref(alias + '.related_person_id')} = ${sql.ref(one)}))`;

/** Parent and spouse links in force on `asOf` that touch any of the persons, either way round. */
export async function loadRelations(
  db: Db,
  ids: readonly number[],
  asOf: IsoDate,
): Promise<RelationRecord[]> {
  if (!ids.length) return [];
  const result = await sql<Omit<RelationRecord, 'married_adopters'> & { married_adopters: string | null }>`
    SELECT r.person_id, r.related_person_id, r.kind, r.subtype,
      (r.kind = 'parent' AND EXISTS (
        SELECT 1 FROM person_relations a
        WHERE a.person_id = r.person_id AND a.kind = 'parent' AND a.subtype = 'adoptive'
          AND ${relationInForce('a', asOf)})) AS child_has_adoptive,
      CASE WHEN r.kind = 'parent' THEN (
        SELECT string_agg(a.related_person_id::text, ',') FROM person_relations a
        WHERE a.person_id = r.person_id AND a.kind = 'parent' AND a.subtype = 'adoptive'
          AND ${relationInForce('a', asOf)} AND EXISTS (
            SELECT 1 FROM person_relations s WHERE ${marriedPair('s', 'r.related_person_id', 'a.related_person_id')}
              AND (s.valid_from IS NULL OR s.valid_from <= ${asOf}::date)))
      END AS married_adopters
    FROM person_relations r
    WHERE r.kind IN ('parent', 'spouse') AND ${relationInForce('r', asOf)}
      AND (${idIn('r.person_id', ids)} OR ${idIn('r.related_person_id', ids)})`.execute(db);
  const rows = result.rows.map((r) => ({
    ...r,
    person_id: Number(r.person_id),
    related_person_id: Number(r.related_person_id),
    married_adopters: r.married_adopters ? r.married_adopters.split(',').map(Number) : [],
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

/**
 * A parent or spouse link with its validity, as the evaluation of a batch reads it: every link, in force on
 * the as-of date or not (a marriage that ended, an adoption from a later day), so that each day is judged
 * with the links of that day.
 */
export interface DatedRelation extends RelationRecord {
  valid_from: string | null;
  valid_to: string | null;
  /**
   * For a parent link: each adoptive parent link of the child (person_id). `child_has_adoptive` and
   * `married_adopters` say what holds on the as-of date.
   */
  adoptions: Adoption[];
}

/** An adoptive parent link of a child, with the adopter's marriages to the birth parent it is read for. */
export interface Adoption {
  /** The adoptive parent link's validity [from, to). */
  from: string | null;
  to: string | null;
  adopter: number;
  /** The validity [from, to) of each spouse link between the adopter and the link's parent. */
  marriages: [string | null, string | null][];
}

const inForceOn = (from: string | null, to: string | null, day: string) =>
  (from === null || from <= day) && (to === null || to > day);

/**
 * The adopters in force on `day` whom the link's parent has married by `day` (a step-parent adoption):
 * the birth parent stays a legal parent, and a later divorce does not end that (a divorce ends the
 * marriage, not a parent's relation to the child).
 */
export function marriedAdopters(adoptions: readonly Adoption[], day: string): number[] {
  const out: number[] = [];
  for (const a of adoptions)
    if (inForceOn(a.from, a.to, day) && a.marriages.some(([from]) => from === null || from <= day))
      out.push(a.adopter);
  return out;
}

/** A stored period that is not open (`until` set, more than zero days). */
export interface ClosedMembership {
  id: number;
  person_id: number;
  group_code: string;
  since: string;
  until: string;
  /** Read only for a period that ends after the as-of date (one a later evaluation closed); else null. */
  sub_category: string | null;
  reasons: GroupReasonsJson | null;
  region_code: string | null;
}

/** What a batch's evaluation reads besides its persons (the facts: of the kinds asked for). */
export interface BatchContext {
  /** Parent and spouse links touching the batch, whatever their validity. */
  links: DatedRelation[];
  /** The records of persons linked to the batch but not in it. */
  relatives: PersonRecord[];
  /** Every fact not retracted of the batch and its relatives, in (person, id) order. */
  facts: FactRecord[];
  open: MembershipRecord[];
  /** The batch's closed periods that hold on some day (periods voided by a merge are left out). */
  closed: ClosedMembership[];
  /** Changes whenever any period of the batch's persons is written (membershipsFingerprint). */
  fingerprint: string;
}

/**
 * Everything a batch needs besides its persons, in one round trip (a JSON document and two texts of
 * records): the parent and spouse links that touch the batch (either way round, in force on the as-of
 * date or not), the linked persons outside the batch, the facts of both, and the batch's periods. The
 * single-person path uses this too.
 */
export async function loadBatchContext(
  db: Db,
  ids: readonly number[],
  asOf: IsoDate,
  factKinds: readonly string[],
): Promise<BatchContext> {
  return parseBatchContext(await readBatchContext(db, ids, asOf, factKinds), ids, asOf);
}

/** loadBatchContext's read as text (parseBatchContext reads it, in any thread). */
export interface BatchContextRead {
  /** The facts, periods and fingerprint: one JSON document. */
  json: string;
  /** The parent and spouse links: one record a line (see batchContextQuery). */
  relations: string;
  /** The linked persons outside the batch: one record a line (parsePersons). */
  relatives: string;
}

const NO_CONTEXT: BatchContextRead = { json: '{}', relations: '', relatives: '' };

/** loadBatchContext's read: the document and records as text. */
export async function readBatchContext(
  db: Db,
  ids: readonly number[],
  asOf: IsoDate,
  factKinds: readonly string[],
): Promise<BatchContextRead> {
  if (!ids.length) return NO_CONTEXT;
  const row = (await batchContextQuery(ids, asOf, factKinds).execute(db)).rows[0];
  return row ? { json: row.j, relations: row.relations ?? '', relatives: row.relatives ?? '' } : NO_CONTEXT;
}

/** The batch context from what readBatchContext read for the same ids and date. */
export function parseBatchContext(
  read: BatchContextRead,
  ids: readonly number[],
  asOf: IsoDate,
): BatchContext {
  if (!ids.length) return { links: [], relatives: [], facts: [], open: [], closed: [], fingerprint: '' };
  type FactArray = [number, string, string, string | null, Record<string, unknown>];
  const doc = JSON.parse(read.json) as {
    facts: FactArray[];
    relativeFacts: FactArray[];
    open: MembershipRecord[];
    closed: ClosedMembership[];
    fingerprint: string;
  };
  const inBatch = new Set(ids);
  const mine = (row: { person_id: number }) => inBatch.has(row.person_id);
  const fact = (a: FactArray): FactRecord => ({
    person_id: a[0],
    kind: a[1],
    valid_from: a[2],
    valid_to: a[3],
    data: a[4],
  });
  // A range read of a dense batch also finds the few persons in the range outside it: dropped here, as
  // keepIn does for the row-by-row reads. The relatives are outside the batch by construction.
  const links: DatedRelation[] = [];
  // (person, related person, kind, subtype, from and to as day numbers, the child's adoptions as JSON:
  // [from, to, adopter, [[from, to] of each marriage of the adopter and the parent] or null])
  type AdoptionArray = [string | null, string | null, number, [string | null, string | null][] | null];
  for (const f of parseRecordLines(read.relations)) {
    const person_id = Number(f[0]);
    const related_person_id = Number(f[1]);
    if (!inBatch.has(person_id) && !inBatch.has(related_person_id)) continue;
    const adoptions: Adoption[] = f[6]
      ? (JSON.parse(f[6]) as AdoptionArray[]).map(([from, to, adopter, marriages]) => ({
          from,
          to,
          adopter: Number(adopter),
          marriages: marriages ?? [],
        }))
      : [];
    links.push({
      person_id,
      related_person_id,
      kind: f[2] as DatedRelation['kind'],
      subtype: (f[3] ?? null) as DatedRelation['subtype'],
      valid_from: dayField(f[4]),
      valid_to: dayField(f[5]),
      adoptions,
      child_has_adoptive: adoptions.some((a) => inForceOn(a.from, a.to, asOf)),
      married_adopters: marriedAdopters(adoptions, asOf),
    });
  }
  const facts: FactRecord[] = [];
  for (const a of doc.facts) if (inBatch.has(a[0])) facts.push(fact(a));
  for (const a of doc.relativeFacts) facts.push(fact(a));
  return {
    links,
    relatives: parsePersons(read.relatives),
    facts,
    open: doc.open.filter(mine),
    closed: doc.closed.filter(mine),
    fingerprint: doc.fingerprint,
  };
}

/**
 * A digest of the periods of the persons, over the same rows the batch read reads (a dense batch's id
 * range: a few persons of other counties too): how many, the sum of their ids (ids only grow, so a row
 * deleted and another inserted change it) and of their row versions (xmin: every update writes a new
 * one); then the sum of the persons' stamps (stampPersons: a registry change's re-evaluation that
 * wrote no period). Equal on two reads when no such period was written and no such change committed
 * in between. Read with the batch, and again once the batch holds the period writers' lock
 * (lockMembershipWrites) before it writes.
 */
const digest = sql<string>`count(*) || ':' || coalesce(sum(id), 0) || ':' || coalesce(sum(version::bigint), 0)`;

function stampsQuery(ids: readonly number[]): RawBuilder<string> {
  return sql<string>`(SELECT coalesce(sum(stamp), 0)::text FROM group_person_stamps
    WHERE ${idIn('person_id', ids)})`;
}

function fingerprintQuery(ids: readonly number[]): RawBuilder<string> {
  return sql<string>`(SELECT ${digest} FROM (SELECT id, xmin::text AS version FROM group_memberships
    WHERE ${idIn('person_id', ids)}) p) || ':' || ${stampsQuery(ids)}`;
}

/**
 * Moves the persons' stamps (see the fingerprint above): a registry change's re-evaluation does it for
 * everyone it re-evaluated, holding the period writers' lock until it commits.
 */
export async function stampPersons(trx: Transaction<DB>, ids: readonly number[]): Promise<void> {
  if (!ids.length) return;
  await sql`INSERT INTO group_person_stamps AS s (person_id, stamp)
    SELECT DISTINCT unnest(${idArray(ids)}), 1
    ON CONFLICT (person_id) DO UPDATE SET stamp = s.stamp + 1`.execute(trx);
}

export async function membershipsFingerprint(db: Db, ids: readonly number[]): Promise<string> {
  if (!ids.length) return '';
  const result = await sql<{ f: string }>`SELECT ${fingerprintQuery(ids)} AS f`.execute(db);
  return result.rows[0]?.f ?? '';
}

/**
 * Waits for, then holds until commit, the lock every writer of periods takes (the count triggers of
 * migration 0310 take it at their first write): from here no other transaction writes periods, so what
 * this one read of them stays true until it commits.
 */
export async function lockMembershipWrites(trx: Transaction<DB>): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(310)`.execute(trx);
}

/** loadBatchContext's query: one row, the JSON document and the links and relatives as record text. */
export function batchContextQuery(
  ids: readonly number[],
  asOf: IsoDate,
  factKinds: readonly string[],
): RawBuilder<{ j: string; relations: string | null; relatives: string | null }> {
  const kinds = sql`${'{' + factKinds.join(',') + '}'}::text[]`;
  return sql<{ j: string; relations: string | null; relatives: string | null }>`
    WITH rel AS MATERIALIZED (
      SELECT r.person_id, r.related_person_id, r.kind, r.subtype, r.valid_from, r.valid_to,
        CASE WHEN r.kind = 'parent' AND EXISTS (
          SELECT 1 FROM person_relations a
          WHERE a.person_id = r.person_id AND a.kind = 'parent' AND a.subtype = 'adoptive') THEN (
          SELECT json_agg(json_build_array(a.valid_from, a.valid_to, a.related_person_id, (
            SELECT json_agg(json_build_array(s.valid_from, s.valid_to)) FROM person_relations s
            WHERE ${marriedPair('s', 'r.related_person_id', 'a.related_person_id')})))
          FROM person_relations a
          WHERE a.person_id = r.person_id AND a.kind = 'parent' AND a.subtype = 'adoptive')
        END AS adoptions
      FROM person_relations r
      WHERE r.kind IN ('parent', 'spouse')
        AND (${idIn('r.person_id', ids)} OR ${idIn('r.related_person_id', ids)})),
    rids AS MATERIALIZED (
      SELECT DISTINCT x.id FROM (SELECT person_id AS id FROM rel UNION ALL SELECT related_person_id FROM rel) x
      WHERE ${idNotIn('x.id', ids)}),
    facts AS (
      SELECT person_id, id, kind, valid_from, valid_to, data FROM person_facts
      WHERE ${idIn('person_id', ids)} AND retracted_at IS NULL AND kind = ANY(${kinds})),
    relative_facts AS (
      SELECT person_id, id, kind, valid_from, valid_to, data FROM person_facts
      WHERE person_id = ANY(ARRAY(SELECT id FROM rids)) AND retracted_at IS NULL AND kind = ANY(${kinds})),
    periods AS MATERIALIZED (
      SELECT id, person_id, group_code, sub_category, since, until, reasons, region_code, xmin::text AS version
      FROM group_memberships WHERE ${idIn('person_id', ids)})
    SELECT
      (SELECT string_agg(ROW(person_id, related_person_id, kind, subtype, valid_from - DATE '1970-01-01',
        valid_to - DATE '1970-01-01', adoptions)::text, E'\n') FROM rel) AS relations,
      (SELECT string_agg(${personRecord('x')}::text, E'\n') FROM (
        SELECT p.id, p.name, p.sex, p.birth_date, p.hukou_region_code, p.residence_region_code, p.merged_into, g.rural
        FROM persons p LEFT JOIN regions g ON g.code = p.hukou_region_code
        WHERE p.id = ANY(ARRAY(SELECT id FROM rids))) x) AS relatives,
      json_build_object(
      'facts', (SELECT coalesce(json_agg(json_build_array(person_id, kind, valid_from, valid_to, data)
        ORDER BY person_id, id), '[]') FROM facts),
      'relativeFacts', (SELECT coalesce(json_agg(json_build_array(person_id, kind, valid_from, valid_to, data)
        ORDER BY person_id, id), '[]') FROM relative_facts),
      'open', (SELECT coalesce(json_agg(m), '[]') FROM (
        SELECT id, person_id, group_code, sub_category, since, until, reasons, region_code
        FROM periods WHERE until IS NULL) m),
      'closed', (SELECT coalesce(json_agg(c), '[]') FROM (
        SELECT id, person_id, group_code, since, until,
          CASE WHEN until > ${asOf}::date THEN sub_category END AS sub_category,
          CASE WHEN until > ${asOf}::date THEN reasons END AS reasons,
          CASE WHEN until > ${asOf}::date THEN region_code END AS region_code
        FROM periods WHERE until > since) c),
      'fingerprint', (SELECT ${digest} FROM periods) || ':' || ${stampsQuery(ids)})::text AS j`;
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

export interface NewMembership {
  person_id: number;
  group_code: string;
  sub_category: string | null;
  since: string;
  /** Null: open. Set for a stretch that has already ended (recorded late, or found as of a past date). */
  until?: string | null;
  reasons: GroupReasonsJson;
  region_code: string;
}

/**
 * Writes new periods as they are, a plain insert: the evaluation has planned the cut-backs and removals
 * of the stored periods they would overlap (it read them all, and holds lockMembershipWrites).
 */
export async function insertMembershipPeriods(
  trx: Transaction<DB>,
  rows: readonly NewMembership[] | EncodedRows,
): Promise<void> {
  const param = rowsParam(rows, insertTuples);
  if (!param) return;
  // Rows as arrays (insertTuples); `e->5` hands the reasons on as jsonb (jsonb_to_recordset turns a
  // jsonb field into text and parses it again).
  await sql`
    INSERT INTO group_memberships (person_id, group_code, sub_category, since, until, reasons, region_code)
    SELECT (e->>0)::bigint, e->>1, e->>2, (e->>3)::date, (e->>4)::date, e->5, e->>6
    FROM jsonb_array_elements(${param}) e`.execute(trx);
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
  until: string | null;
  reasons: GroupReasonsJson;
  region_code: string;
}

/** Rewrites periods whole (dates, grounds and region). */
export async function updateMemberships(
  trx: Transaction<DB>,
  rows: readonly MembershipUpdate[] | EncodedRows,
): Promise<void> {
  const param = rowsParam(rows, updateTuples);
  if (!param) return;
  // As insertMembershipPeriods: arrays, the reasons passed on as jsonb.
  await sql`
    UPDATE group_memberships g SET sub_category = x.sub_category, since = x.since, until = x.until,
      reasons = x.reasons, region_code = x.region_code, evaluated_at = now()
    FROM (SELECT (e->>0)::bigint AS id, e->>1 AS sub_category, (e->>2)::date AS since, (e->>3)::date AS until,
        e->4 AS reasons, e->>5 AS region_code
      FROM jsonb_array_elements(${param}) e) x
    WHERE g.id = x.id`.execute(trx);
}

/** New dates for periods, their grounds kept (cut back to where a newer one starts, or judged again). */
export interface MembershipRedate {
  id: number;
  since: IsoDate;
  until: IsoDate;
}

export async function redateMemberships(
  trx: Transaction<DB>,
  rows: readonly MembershipRedate[] | EncodedRows,
): Promise<void> {
  const param = rowsParam(rows, asObjects);
  if (!param) return;
  await sql`
    UPDATE group_memberships g SET since = x.since, until = x.until, evaluated_at = now()
    FROM jsonb_to_recordset(${param}) AS x(id bigint, since date, until date)
    WHERE g.id = x.id`.execute(trx);
}

/** Removes periods that never held (the facts behind them were retracted or corrected away). */
export async function voidMemberships(trx: Transaction<DB>, ids: readonly number[]): Promise<void> {
  if (!ids.length) return;
  await sql`DELETE FROM group_memberships WHERE id = ANY(${idArray(ids)})`.execute(trx);
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
  rows: readonly NewWorklistItem[] | EncodedRows,
): Promise<void> {
  const param = rowsParam(rows, asObjects);
  if (!param) return;
  await sql`
    INSERT INTO worklist_items (person_id, region_code, kind, group_code, on_date, text_zh, text_en)
    SELECT person_id, region_code, kind, group_code, on_date, text_zh, text_en
    FROM jsonb_to_recordset(${param})
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

// ---------- Counts ----------

export interface RegionCount {
  /** The period's region as stored (a village, or a coarser code when the village is unknown). */
  region_code: string;
  group_code: string;
  n: number;
}

/** Counts per (region as stored, group) on each date, by scanning the periods (the reference). */
export async function periodCountsOn(
  db: Db,
  range: [string, string],
  dates: readonly IsoDate[],
): Promise<Map<IsoDate, RegionCount[]>> {
  const result = await sql<RegionCount & { d: string }>`
    SELECT m.d::text AS d, gm.region_code, gm.group_code, count(*)::int AS n
    FROM unnest(${'{' + dates.join(',') + '}'}::date[]) AS m(d)
    JOIN group_memberships gm ON gm.since <= m.d AND (gm.until IS NULL OR gm.until > m.d)
    WHERE gm.region_code >= ${range[0]} AND gm.region_code < ${range[1]}
    GROUP BY 1, 2, 3`.execute(db);
  const out = new Map<IsoDate, RegionCount[]>(dates.map((d) => [d, []]));
  for (const row of result.rows)
    out.get(row.d)?.push({ region_code: row.region_code, group_code: row.group_code, n: Number(row.n) });
  return out;
}

/** The most index entries a probe counts before it stops. */
const PROBE_ROWS = 50_000;

/**
 * Counts per (region as stored, group) on each date from the count tables (migration 0310), equal to
 * periodCountsOn. The count on D is open - sum(deltas after D), which reads few rows for recent dates,
 * or sum(deltas up to D), fewer for old ones. A probe counts the tail up to PROBE_ROWS index entries;
 * only when the tail is that long does a second probe see whether the head is shorter. The first probe
 * rides in the statement that reads the tail (one round trip for a recent date). The database sums
 * the deltas per series and date bucket (width_bucket: how many of the dates come before the delta's
 * day), so a call returns at most one row per series and date, however many deltas it reads, in
 * (region, group) order. With `codeLength`, regions are summed to their first codeLength characters
 * (codes shorter than that stay as they are): a table without suppression needs only its children.
 */
export async function deltaCountsOn(
  db: Db,
  range: [string, string],
  dates: readonly IsoDate[],
  side?: 'tail' | 'head',
  probeRows = PROBE_ROWS,
  codeLength?: number,
): Promise<Map<IsoDate, RegionCount[]>> {
  const sorted = [...new Set(dates)].sort();
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const out = new Map<IsoDate, RegionCount[]>(dates.map((d) => [d, []]));
  if (first === undefined || last === undefined) return out;
  const dateArray = sql`${'{' + sorted.join(',') + '}'}::date[]`;
  type Row = { region_code: string; group_code: string; b: number; n: number };
  const region =
    codeLength === undefined
      ? sql`region_code`
      : sql`CASE WHEN length(region_code) >= ${codeLength} THEN left(region_code, ${codeLength}) ELSE region_code END`;
  const read = (use: 'tail' | 'head', probed: boolean) =>
    sql<Row>`
    ${probed ? sql`WITH t AS (SELECT count(*)::int AS n FROM (SELECT 1 FROM group_count_deltas WHERE on_date > ${first}::date LIMIT ${probeRows}) x) ` : sql``}
    ${
      use === 'tail'
        ? sql`SELECT ${region} AS region_code, group_code, -1 AS b, sum(open)::int AS n FROM group_count_open
            WHERE region_code >= ${range[0]} AND region_code < ${range[1]}
              ${probed ? sql`AND (SELECT n FROM t) < ${probeRows}` : sql``}
            GROUP BY 1, 2
            UNION ALL `
        : sql``
    }
    SELECT ${region} AS region_code, group_code, width_bucket(on_date - 1, ${dateArray}) AS b,
      sum(delta)::int AS n
    FROM group_count_deltas
    WHERE ${use === 'tail' ? sql`on_date > ${first}::date` : sql`on_date <= ${last}::date`}
      AND region_code >= ${range[0]} AND region_code < ${range[1]}
      ${probed ? sql`AND (SELECT n FROM t) < ${probeRows}` : sql``}
    GROUP BY 1, 2, 3
    ${probed ? sql`UNION ALL SELECT '', '', -2, n FROM t WHERE n >= ${probeRows}` : sql``}
    ORDER BY 1, 2, 3`.execute(db);
  // b: the number of sorted dates before the delta's day (b = -1: the open count of the series; b =
  // -2: the tail is PROBE_ROWS long or more, nothing else was read).
  let use = side ?? 'tail';
  let rows = await read(use, side === undefined);
  if (side === undefined && rows.rows[0]?.b === -2) {
    const head = await sql<{ n: number }>`SELECT count(*)::int AS n FROM (SELECT 1 FROM group_count_deltas
      WHERE on_date <= ${last}::date LIMIT ${probeRows}) t`.execute(db);
    use = Number(head.rows[0]?.n ?? 0) >= probeRows ? 'tail' : 'head';
    rows = await read(use, false);
  }
  // Per series, one running value per date: counts[series][i] is the count on sorted[i].
  const counts = new Map<string, number[]>();
  const steps = new Map<string, number[]>();
  for (const row of rows.rows) {
    const key = row.region_code + ' ' + row.group_code;
    let line = counts.get(key);
    if (!line) counts.set(key, (line = sorted.map(() => 0)));
    const n = Number(row.n);
    const b = Number(row.b);
    if (b < 0) {
      line.fill(n);
      continue;
    }
    let step = steps.get(key);
    if (!step) steps.set(key, (step = new Array<number>(sorted.length + 1).fill(0)));
    // A delta on day x counts for the dates >= x (head) or is taken off the dates < x (tail): add it
    // at the first such date (index b) and carry it along in one pass per series afterwards.
    if (use === 'head') step[b] = (step[b] ?? 0) + n;
    else {
      // Taken off the dates 0..b-1: a step of -n at 0 and +n at b.
      step[0] = (step[0] ?? 0) - n;
      step[b] = (step[b] ?? 0) + n;
    }
  }
  for (const [key, step] of steps) {
    const line = counts.get(key) as number[];
    let running = 0;
    for (let i = 0; i < sorted.length; i++) {
      running += step[i] ?? 0;
      line[i] = (line[i] ?? 0) + running;
    }
  }
  const index = new Map(sorted.map((d, i) => [d, i]));
  for (const [key, line] of counts) {
    const space = key.indexOf(' ');
    const region_code = key.slice(0, space);
    const group_code = key.slice(space + 1);
    for (const d of out.keys()) {
      const n = line[index.get(d) as number] ?? 0;
      if (n !== 0) out.get(d)?.push({ region_code, group_code, n });
    }
  }
  return out;
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

/**
 * Per region, the last day on or before `asOf` on which its configuration changed (a row began or ended).
 * An evaluation does not judge days before it by the configuration in force on `asOf`.
 */
export async function configChangesUpTo(
  db: Db,
  asOf: IsoDate,
): Promise<{ region_code: string; changed_on: string }[]> {
  const result = await sql<{ region_code: string; changed_on: string }>`
    SELECT region_code, max(d)::text AS changed_on FROM (
      SELECT region_code, valid_from AS d FROM group_config WHERE valid_from <= ${asOf}::date
      UNION ALL
      SELECT region_code, valid_to FROM group_config WHERE valid_to <= ${asOf}::date) c
    GROUP BY region_code`.execute(db);
  return result.rows;
}

/** Every configuration row in force on any day from `first` to `last` (a series reads them once). */
export async function configsInForceBetween(db: Db, first: IsoDate, last: IsoDate): Promise<ConfigRecord[]> {
  const result = await sql<ConfigRecord>`
    SELECT id, region_code, valid_from, valid_to, config, version, changed_by, changed_at FROM group_config
    WHERE valid_from <= ${last}::date AND (valid_to IS NULL OR valid_to > ${first}::date)
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

// ---------- Merges ----------

/**
 * A duplicate merged into another person is the same human. Its periods move to the person kept,
 * except where the kept person has a period of the same group overlapping it: that one of the
 * duplicate is voided (cut to no days, until = since, kept with its reasons for the record), so no
 * date counts the human twice. Periods voided before are left alone.
 */
export async function moveMembershipsOnMerge(
  trx: Transaction<DB>,
  duplicateId: number,
  keptId: number,
): Promise<void> {
  // The writers' lock before the first row: an evaluation's batch holds it while it writes these rows,
  // and a merge that locked them first and then waited for it (in the count trigger) would deadlock.
  await lockMembershipWrites(trx);
  await sql`
    WITH moved AS (
      UPDATE group_memberships d SET person_id = ${keptId}, evaluated_at = now()
      WHERE d.person_id = ${duplicateId} AND (d.until IS NULL OR d.until > d.since)
        AND NOT EXISTS (
          SELECT 1 FROM group_memberships k
          WHERE k.person_id = ${keptId} AND k.group_code = d.group_code
            AND (k.until IS NULL OR k.until > k.since)
            AND k.since < coalesce(d.until, 'infinity'::date) AND d.since < coalesce(k.until, 'infinity'::date))
      RETURNING d.id)
    UPDATE group_memberships SET until = since, evaluated_at = now()
    WHERE person_id = ${duplicateId} AND (until IS NULL OR until > since)
      AND id NOT IN (SELECT id FROM moved)`.execute(trx);
}

/**
 * A merge's worklist: the duplicate's open items are the same human's and move to the person kept
 * (into the kept person's village, whose staff now follow them), except an item the kept person
 * already has open for the same group and change, which is closed as answered by that one (no
 * acknowledging user: the merge closed it). Acknowledged items stay with the duplicate's history.
 */
export async function moveWorklistOnMerge(
  trx: Transaction<DB>,
  duplicateId: number,
  keptId: number,
): Promise<void> {
  await sql`
    WITH answered AS (
      UPDATE worklist_items d SET acknowledged_at = now()
      WHERE d.person_id = ${duplicateId} AND d.acknowledged_at IS NULL
        AND EXISTS (
          SELECT 1 FROM worklist_items k
          WHERE k.person_id = ${keptId} AND k.acknowledged_at IS NULL
            AND k.kind = d.kind AND k.group_code = d.group_code)
      RETURNING d.id)
    UPDATE worklist_items w SET person_id = ${keptId},
      region_code = (SELECT hukou_region_code FROM persons WHERE id = ${keptId})
    WHERE w.person_id = ${duplicateId} AND w.acknowledged_at IS NULL
      AND w.id NOT IN (SELECT id FROM answered)`.execute(trx);
}
