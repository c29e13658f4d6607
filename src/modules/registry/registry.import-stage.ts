// The staging tables of one registry import, and the set-based statements that move their rows into
// place. The file is read once: its good rows are staged (COPY, a few thousand per batch), its row
// errors kept beside them; cross-row references are then resolved in SQL over the whole file, and
// households, persons, heads and relations are written with INSERT ... SELECT / UPDATE ... FROM,
// each writing only what differs, so a re-import writes nothing. Memory holds one batch, never the
// file. The tables are unlogged scratch, named per import, dropped when the import ends (or, when
// its process was killed, by the next import: dropAbandonedStages).
import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../platform/db.ts';
import type { DB } from '../../platform/db.schema.ts';
import type { RegistryRecord, RowError } from './registry.template.ts';
import { diedBy } from './registry.repository.ts';
import { HOUSEHOLDLESS_PREFIX } from './registry.export.ts';
import {
  countyOf,
  factsOfRow,
  nameSpellings,
  reconcileFacts,
  type RowFacts,
  type StoredFact,
} from './registry.rules.ts';

type Db = Kysely<DB> | Transaction<DB>;

/** The names of one import's scratch tables. */
export interface ImportStage {
  /** The good rows of the file, typed; rows found wrong by the cross-row check are deleted. */
  rows: string;
  /** Every row error (parse and cross-row) by row number. */
  errors: string;
  /** Cross-row findings, one row per row that has any. */
  flags: string;
  /** Each written row's person (matched or new) and household. */
  persons: string;
  /** Rows where something was written for an existing person (a row number may repeat). */
  touched: string;
  /** The relations the rows name, resolved to person ids (after the persons are written). */
  refs: string;
  /** The registered persons the file's ID numbers matched, one row each, for the audit trail. */
  matched: string;
}

/** The stages of the imports running in this process, by suffix. */
const liveStages = new Set<string>();

/** The advisory lock (two-key form: this class and the suffix's first 32 bits) of a stage in use. */
const STAGE_LOCK_CLASS = 0x53544147;
const stageLockKey = (suffix: string) => Number.parseInt(suffix.slice(0, 8), 16) | 0;

/** Any table of an import's stage: the prefix and the stage's suffix. */
const STAGE_TABLE = /^import_(?:rows|errors|flags|persons|touched|refs|matched)_([0-9a-f]{12})$/;

/**
 * Runs an import with its stage: created before, dropped after, even when the work throws. While
 * it runs the stage is marked in use, in this process and, on PostgreSQL, by an advisory lock held
 * on a connection of its own (released by the server when the process dies), so that
 * dropAbandonedStages leaves it alone.
 */
export async function withStage<T>(database: Database, work: (stage: ImportStage) => Promise<T>): Promise<T> {
  const suffix = randomBytes(6).toString('hex');
  const run = async () => {
    liveStages.add(suffix);
    try {
      const stage = await createStage(database.db, suffix);
      try {
        return await work(stage);
      } finally {
        await dropStage(database.db, stage);
      }
    } finally {
      liveStages.delete(suffix);
    }
  };
  if (database.kind !== 'postgres') return run();
  return database.db.connection().execute(async (holder) => {
    await sql`SELECT pg_advisory_lock(${STAGE_LOCK_CLASS}::integer, ${stageLockKey(suffix)}::integer)`.execute(
      holder,
    );
    try {
      return await run();
    } finally {
      await sql`SELECT pg_advisory_unlock(${STAGE_LOCK_CLASS}::integer, ${stageLockKey(suffix)}::integer)`.execute(
        holder,
      );
    }
  });
}

/**
 * Drops the stage tables of imports that are no longer running: an import whose process was
 * killed leaves its (unlogged) stage behind. A stage is in use while its import runs in this
 * process or, on PostgreSQL, while another session holds its lock (see withStage); the embedded
 * database belongs to one process. Resolves with the number of stages dropped.
 */
export async function dropAbandonedStages(database: Database): Promise<number> {
  const r = await sql<{ name: string }>`SELECT c.relname AS name FROM pg_class c
    WHERE c.relkind = 'r' AND c.relnamespace = (SELECT n.oid FROM pg_namespace n WHERE n.nspname = current_schema())
      AND c.relname LIKE 'import\\_%'`.execute(database.db);
  const bySuffix = new Map<string, string[]>();
  for (const { name } of r.rows) {
    const suffix = STAGE_TABLE.exec(name)?.[1];
    if (!suffix || liveStages.has(suffix)) continue;
    bySuffix.set(suffix, [...(bySuffix.get(suffix) ?? []), name]);
  }
  if (!bySuffix.size) return 0;
  const drop = (db: Db, tables: string[]) =>
    sql`DROP TABLE IF EXISTS ${sql.join(tables.map((t) => sql.table(t)))}`.execute(db);
  if (database.kind !== 'postgres') {
    for (const tables of bySuffix.values()) await drop(database.db, tables);
    return bySuffix.size;
  }
  // Taking the stage's lock proves that no session holds it; it is held while the tables go.
  return database.db.connection().execute(async (conn) => {
    let dropped = 0;
    for (const [suffix, tables] of bySuffix) {
      const key = stageLockKey(suffix);
      const got = await sql<{
        free: boolean;
      }>`SELECT pg_try_advisory_lock(${STAGE_LOCK_CLASS}::integer, ${key}::integer) AS free`.execute(conn);
      if (!got.rows[0]?.free) continue;
      try {
        await drop(conn, tables);
        dropped += 1;
      } finally {
        await sql`SELECT pg_advisory_unlock(${STAGE_LOCK_CLASS}::integer, ${key}::integer)`.execute(conn);
      }
    }
    return dropped;
  });
}

export async function createStage(db: Db, suffix = randomBytes(6).toString('hex')): Promise<ImportStage> {
  const stage: ImportStage = {
    rows: `import_rows_${suffix}`,
    errors: `import_errors_${suffix}`,
    flags: `import_flags_${suffix}`,
    persons: `import_persons_${suffix}`,
    touched: `import_touched_${suffix}`,
    refs: `import_refs_${suffix}`,
    matched: `import_matched_${suffix}`,
  };
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.rows)} (
    row_number integer NOT NULL,
    id_number text COLLATE "C",
    no_id_reason text,
    county_code text COLLATE "C" NOT NULL,
    household_no text NOT NULL,
    name text NOT NULL,
    name_pinyin text COLLATE "C" NOT NULL,
    name_initials text COLLATE "C" NOT NULL,
    sex smallint NOT NULL,
    birth_date date NOT NULL,
    ethnicity text,
    phone text,
    hukou text COLLATE "C" NOT NULL,
    residence text COLLATE "C",
    relation_to_head text NOT NULL,
    income bigint,
    father text COLLATE "C",
    mother text COLLATE "C",
    spouse text COLLATE "C",
    carer text COLLATE "C",
    facts jsonb,
    states_facts boolean NOT NULL,
    new_facts jsonb
  )`.execute(db);
  // A refused row keeps its ID number when that cell was valid: a row naming it is told which row to
  // correct, not that the number is nowhere in the file.
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.errors)} (
    row_number integer PRIMARY KEY,
    errors jsonb NOT NULL,
    id_number text COLLATE "C"
  )`.execute(db);
  await sql`CREATE INDEX ON ${sql.table(stage.errors)} (id_number)`.execute(db);
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.flags)} (
    row_number integer PRIMARY KEY,
    hukou text NOT NULL,
    out_hukou boolean NOT NULL,
    out_person boolean NOT NULL,
    out_household boolean NOT NULL,
    missing smallint[],
    missing_rows integer[],
    heads integer[],
    old_head bigint,
    other_father bigint,
    other_mother bigint
  )`.execute(db);
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.persons)} (
    row_number integer PRIMARY KEY,
    person_id bigint NOT NULL,
    household_id bigint,
    inserted boolean NOT NULL
  )`.execute(db);
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.touched)} (row_number integer NOT NULL)`.execute(db);
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.refs)} (
    row_number integer NOT NULL,
    kind text NOT NULL,
    person_id bigint NOT NULL,
    related_person_id bigint NOT NULL
  )`.execute(db);
  await sql`CREATE UNLOGGED TABLE ${sql.table(stage.matched)} (
    person_id bigint PRIMARY KEY,
    region_code text NOT NULL,
    ref smallint NOT NULL,
    name_differs boolean NOT NULL
  )`.execute(db);
  return stage;
}

export async function dropStage(db: Db, stage: ImportStage): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${sql.table(stage.rows)}, ${sql.table(stage.errors)}, ${sql.table(stage.flags)}, ${sql.table(stage.persons)}, ${sql.table(stage.touched)}, ${sql.table(stage.refs)}, ${sql.table(stage.matched)}`.execute(
    db,
  );
}

// ---------- staging the file ----------

/**
 * The facts to insert if the row's person is new: reconcileFacts against no stored facts, computed
 * while parsing so that a new person's facts are written by one INSERT ... SELECT (writeNewFacts).
 */
function newPersonFacts(facts: RowFacts, on: string): { kind: string; from: string; data: unknown }[] {
  const inserts: { kind: string; from: string; data: unknown }[] = [];
  for (const change of reconcileFacts([], facts, on))
    if (change.op === 'insert') inserts.push({ kind: change.kind, from: change.from, data: change.data });
  return inserts;
}

/** The stage's columns, in the order of its CSV lines. */
const ROW_COLUMNS = [
  'row_number',
  'id_number',
  'no_id_reason',
  'county_code',
  'household_no',
  'name',
  'name_pinyin',
  'name_initials',
  'sex',
  'birth_date',
  'ethnicity',
  'phone',
  'hukou',
  'residence',
  'relation_to_head',
  'income',
  'father',
  'mother',
  'spouse',
  'carer',
  'facts',
  'states_facts',
  'new_facts',
];

/** The longest cell value kept in a staged row error. */
const MAX_ERROR_VALUE = 200;

/** A CSV field for COPY: an unquoted empty field is NULL, anything else is quoted. */
function field(value: string | number | null): string {
  if (value === null) return '';
  if (typeof value === 'number') return String(value);
  return '"' + (value.includes('"') ? value.replaceAll('"', '""') : value) + '"';
}

/**
 * Turns parsed rows into the stage's COPY lines (good rows and row errors apart). Pure: it runs
 * in the import's parsing worker, so the main thread only copies text.
 */
export class StageLines {
  /** The import day: the facts of a person who is new are what reconcileFacts inserts on it. */
  readonly #on: string;
  // Each line is built flat (Array.join) and the batch joined once: a line built with `+` is a
  // chain of dozens of short strings that survives until the batch is posted, which the worker's
  // garbage collector then copies and marks (a third of its time before).
  #rows: string[] = [];
  #errors: string[] = [];

  constructor(on: string) {
    this.#on = on;
  }

  get count(): number {
    return this.#rows.length + this.#errors.length;
  }

  addRecord(rowNumber: number, r: RegistryRecord): void {
    const spelled = nameSpellings(r.name);
    const facts: RowFacts = factsOfRow(r);
    this.#rows.push(
      [
        field(rowNumber),
        field(r.idNumber),
        field(r.idNumber ? null : r.noIdReason),
        field(countyOf(r.hukouRegionCode)),
        field(r.householdNo),
        field(r.name),
        field(spelled.pinyin),
        field(spelled.initials),
        field(r.sex),
        field(r.birthDate),
        field(r.ethnicity),
        field(r.phone),
        field(r.hukouRegionCode),
        // Stored only where it differs from the hukou village, so an export imports back unchanged.
        field(r.residenceRegionCode === r.hukouRegionCode ? null : r.residenceRegionCode),
        field(r.relationToHead),
        field(r.householdAnnualIncomeFen),
        field(r.fatherIdNumber),
        field(r.motherIdNumber),
        field(r.spouseIdNumber),
        field(r.carerIdNumber),
        field(facts.facts.length || facts.ended.length ? JSON.stringify(facts) : null),
        facts.facts.length > 0 ? 't' : 'f',
        field(facts.facts.length ? JSON.stringify(newPersonFacts(facts, this.#on)) : null),
      ].join(','),
    );
  }

  addErrors(rowNumber: number, errors: readonly RowError[], idNumber: string | null = null): void {
    // A value is quoted in the reason; a cell of a million characters is cut (the report's cells
    // are read from the file again, whole), so one absurd row cannot fill the worker's heap.
    const cut = errors.map((e) =>
      e.value.length > MAX_ERROR_VALUE ? { ...e, value: e.value.slice(0, MAX_ERROR_VALUE) + '…' } : e,
    );
    this.#errors.push(field(rowNumber) + ',' + field(JSON.stringify(cut)) + ',' + field(idNumber));
  }

  /** The lines so far; starts a new batch. */
  take(): { rows: string; errors: string } {
    const lines = (list: string[]) => (list.length ? list.join('\n') + '\n' : '');
    const taken = { rows: lines(this.#rows), errors: lines(this.#errors) };
    this.#rows = [];
    this.#errors = [];
    return taken;
  }
}

/** Copies a batch of stage lines (from StageLines; the rows as UTF-8 bytes) into the stage. */
export async function copyStageLines(
  database: Pick<Database, 'copyCsv'>,
  stage: ImportStage,
  lines: { rows: Uint8Array; errors: string },
): Promise<void> {
  if (lines.rows.length) await database.copyCsv(stage.rows, ROW_COLUMNS, [lines.rows]);
  if (lines.errors)
    await database.copyCsv(stage.errors, ['row_number', 'errors', 'id_number'], [lines.errors]);
}

/** After the last batch: indexes and analyses the stage for the checks. */
export async function finishStage(db: Db, stage: ImportStage): Promise<void> {
  await sql`ALTER TABLE ${sql.table(stage.rows)} ADD PRIMARY KEY (row_number)`.execute(db);
  await sql`CREATE INDEX ON ${sql.table(stage.rows)} (id_number)`.execute(db);
  await sql`ANALYZE ${sql.table(stage.rows)}`.execute(db);
}

// ---------- ID numbers matched (the audit trail) ----------

/** A registered person the file's ID numbers matched (stageIdMatches). */
export interface IdMatch {
  person_id: number;
  region_code: string;
  /** The first column whose number matched: 0 the row's own, 1 father, 2 mother, 3 spouse, 4 carer. */
  ref: number;
  /** A row of the person's own (ref 0) gives another name than the registered one. */
  name_differs: boolean;
}

/**
 * Notes, once per person, every registered person (not merged) whose ID number a staged row gives, as
 * its own or as a father's, mother's, spouse's or carer's. Each such match confirms a full ID number to
 * the importer (a row counted as updated rather than inserted, an error naming the registration), so
 * each is audited (person.id_matched, docs/DECISIONS.md session 21). Read from the staged rows with hash
 * joins, before anything is written and outside the write's transaction, so that a dry run's matches
 * outlive its rollback. Rows refused while parsing have no number to match; every staged row is noted,
 * whatever the check later refuses.
 */
export async function stageIdMatches(db: Db, stage: ImportStage): Promise<void> {
  const rows = sql.table(stage.rows);
  await sql`INSERT INTO ${sql.table(stage.matched)} (person_id, region_code, ref, name_differs)
    SELECT m.person_id, min(m.region_code), min(m.ref), bool_or(m.name_differs)
    FROM (
      SELECT p.id AS person_id, p.hukou_region_code AS region_code, 0 AS ref, p.name <> s.name AS name_differs
      FROM ${rows} s JOIN persons p ON p.id_number = s.id_number AND p.merged_into IS NULL
      UNION ALL
      SELECT p.id, p.hukou_region_code, r.ref, false
      FROM (
        SELECT 1 AS ref, father AS id_number FROM ${rows} WHERE father IS NOT NULL
        UNION ALL SELECT 2, mother FROM ${rows} WHERE mother IS NOT NULL
        UNION ALL SELECT 3, spouse FROM ${rows} WHERE spouse IS NOT NULL
        UNION ALL SELECT 4, carer FROM ${rows} WHERE carer IS NOT NULL
      ) r JOIN persons p ON p.id_number = r.id_number AND p.merged_into IS NULL
    ) m
    GROUP BY m.person_id`.execute(db);
}

// ---------- ID numbers probed (the per-caller budget) ----------

/** A staged row that answers whether an ID number is registered (idProbes). */
export interface IdProbe {
  row_number: number;
  /**
   * out: the row's own number is registered outside the importer's region; relative: a father's,
   * mother's, spouse's or carer's is (and the row's person is not linked to them); near: the row's own
   * number is registered to nobody, while a person in the region has the row's name and birth date
   * (and another number); name: the row's own number is registered in the region under another name.
   */
  probe: 'out' | 'relative' | 'near' | 'name';
  /** The column: 0 the row's own number, 1 father, 2 mother, 3 spouse, 4 carer. */
  ref: number;
  /** The registered person within the region the row points at (near, name), else null. */
  person_id: number | null;
  region_code: string | null;
  /** All such rows of the file (the same on every row returned). */
  total: number;
}

/**
 * The staged rows (of a hukou in the importer's region: any other is refused whatever its number)
 * whose answer tells a caller who may not reveal ID numbers something about a registered number
 * (IdProbe), at most `limit` of them in row order, each with the count of all. One statement of
 * semi-joins on the persons' ID number and (name, birth date): no per-row query. A row is counted
 * once, under its first reason.
 */
export async function idProbes(
  db: Db,
  stage: ImportStage,
  regionCode: string,
  limit: number,
): Promise<IdProbe[]> {
  const rows = sql.table(stage.rows);
  const r = await sql<IdProbe>`WITH hit AS (
      SELECT s.row_number, 'out' AS probe, 0 AS ref, NULL::bigint AS person_id, NULL::text AS region_code, 1 AS rank
      FROM ${rows} s JOIN persons p ON p.id_number = s.id_number AND p.merged_into IS NULL
      WHERE starts_with(s.hukou, ${regionCode}) AND NOT starts_with(p.hukou_region_code, ${regionCode})
      UNION ALL
      SELECT s.row_number, 'name', 0, p.id, p.hukou_region_code, 2
      FROM ${rows} s JOIN persons p ON p.id_number = s.id_number AND p.merged_into IS NULL
      WHERE starts_with(s.hukou, ${regionCode}) AND starts_with(p.hukou_region_code, ${regionCode})
        AND p.name <> s.name
      UNION ALL
      SELECT s.row_number, 'near', 0, min(q.id), min(q.hukou_region_code), 3
      FROM ${rows} s JOIN persons q ON q.name = s.name AND q.birth_date = s.birth_date
        AND q.merged_into IS NULL AND q.id_number IS NOT NULL
        AND starts_with(q.hukou_region_code, ${regionCode})
      WHERE s.id_number IS NOT NULL AND starts_with(s.hukou, ${regionCode})
        AND NOT EXISTS (SELECT 1 FROM persons p WHERE p.id_number = s.id_number)
      GROUP BY s.row_number
      UNION ALL
      SELECT s.row_number, 'relative', r.ref, NULL, NULL, 4
      FROM ${rows} s
      CROSS JOIN LATERAL (VALUES (1, s.father), (2, s.mother), (3, s.spouse), (4, s.carer)) AS r (ref, id_number)
      JOIN persons p ON p.id_number = r.id_number AND p.merged_into IS NULL
      WHERE starts_with(s.hukou, ${regionCode}) AND NOT starts_with(p.hukou_region_code, ${regionCode})
        AND NOT EXISTS (
          SELECT 1 FROM persons me JOIN person_relations l ON l.person_id = me.id
          WHERE me.id_number = s.id_number AND l.related_person_id = p.id AND l.valid_to IS NULL)
        AND NOT EXISTS (
          SELECT 1 FROM persons me JOIN person_relations l ON l.related_person_id = me.id
          WHERE me.id_number = s.id_number AND l.person_id = p.id AND l.valid_to IS NULL)
    ), one AS (
      SELECT DISTINCT ON (row_number) row_number, probe, ref, person_id, region_code
      FROM hit ORDER BY row_number, rank, ref
    )
    SELECT row_number, probe, ref, person_id, region_code, count(*) OVER ()::int AS total
    FROM one ORDER BY row_number LIMIT ${limit}`.execute(db);
  return r.rows.map((p) => ({ ...p, person_id: p.person_id === null ? null : Number(p.person_id) }));
}

/** Whether any staged row gives an ID number, its own or a reference's. */
export async function anyIdNumber(db: Db, stage: ImportStage): Promise<boolean> {
  const r = await sql<{ any: boolean }>`SELECT EXISTS (
      SELECT 1 FROM ${sql.table(stage.rows)}
      WHERE id_number IS NOT NULL OR father IS NOT NULL OR mother IS NOT NULL OR spouse IS NOT NULL
        OR carer IS NOT NULL) AS any`.execute(db);
  return r.rows[0]?.any === true;
}

/** A page of the matches (stageIdMatches) after a person id, in id order. */
export async function idMatchesAfter(
  db: Db,
  stage: ImportStage,
  after: number,
  limit: number,
): Promise<IdMatch[]> {
  const r =
    await sql<IdMatch>`SELECT person_id, region_code, ref, name_differs FROM ${sql.table(stage.matched)}
    WHERE person_id > ${after} ORDER BY person_id LIMIT ${limit}`.execute(db);
  return r.rows.map((m) => ({ ...m, person_id: Number(m.person_id) }));
}

// ---------- the cross-row check ----------

export interface RowFlags {
  row_number: number;
  hukou: string;
  out_hukou: boolean;
  out_person: boolean;
  out_household: boolean;
  /** The references that match nobody: 1 father, 2 mother, 3 spouse, 4 carer. */
  missing: number[] | null;
  /** For each of `missing`, the row of this file that has the number but was refused (else null). */
  missing_rows: (number | null)[] | null;
  /** A 户主 row: the other rows of the file that name a 户主 of the same household. */
  heads: number[] | null;
  /** A 户主 row: the household's stored head, another person, whom no row of the file writes. */
  old_head: number | null;
  old_head_name: string | null;
  /** The current head's hukou village: their name is shown only to an importer whose region holds it. */
  old_head_region: string | null;
  /** The biological father (mother) recorded for the row's person, whom the row's 父亲 (母亲) is not. */
  other_father: number | null;
  other_father_name: string | null;
  other_father_region: string | null;
  other_mother: number | null;
  other_mother_name: string | null;
  other_mother_region: string | null;
}

/**
 * Finds, over the whole file and the registry, the staged rows that cannot be written: a hukou
 * village outside the importer's region, a person or household already registered outside it, an
 * ID number reference that matches no row to be written and no registered person. Resolves with
 * the number of such rows (read them with flaggedRows).
 */
export async function flagCrossRowErrors(db: Db, stage: ImportStage, regionCode: string): Promise<number> {
  const rows = sql.table(stage.rows);
  const flags = sql.table(stage.flags);
  // Every lookup below has an index behind it (the stage's row number and ID number, the
  // registry's unique keys), so no plan degrades to comparing every row with every row.
  await sql`INSERT INTO ${flags} (row_number, hukou, out_hukou, out_person, out_household)
    SELECT * FROM (
      SELECT s.row_number, s.hukou, NOT starts_with(s.hukou, ${regionCode}) AS out_hukou,
        starts_with(s.hukou, ${regionCode}) AND EXISTS (
          SELECT 1 FROM persons p
          WHERE p.id_number = s.id_number AND p.merged_into IS NULL
            AND NOT starts_with(p.hukou_region_code, ${regionCode})) AS out_person,
        starts_with(s.hukou, ${regionCode}) AND EXISTS (
          SELECT 1 FROM households h
          WHERE h.county_code = s.county_code AND h.household_no = s.household_no
            AND NOT starts_with(h.hukou_region_code, ${regionCode})) AS out_household
      FROM ${rows} s
    ) x
    WHERE out_hukou OR out_person OR out_household`.execute(db);
  // One household has one head: every 户主 row of a household that has several in the file is
  // refused, each naming the others (the file does not say which is right; docs/DECISIONS.md,
  // "Household heads: two in one file"). A hash join of the file's 户主 rows with themselves.
  await sql`INSERT INTO ${flags} (row_number, hukou, out_hukou, out_person, out_household, heads)
    SELECT s.row_number, min(s.hukou), false, false, false, array_agg(o.row_number ORDER BY o.row_number)
    FROM ${rows} s
    JOIN ${rows} o ON o.county_code = s.county_code AND o.household_no = s.household_no
      AND o.relation_to_head = '户主' AND o.row_number <> s.row_number
    WHERE s.relation_to_head = '户主'
    GROUP BY s.row_number
    ON CONFLICT (row_number) DO UPDATE SET heads = excluded.heads`.execute(db);
  // A head change by file needs the former head's row too (with their new relation), before the
  // references are checked so that rows naming a refused head are reported.
  await flagHeadChanges(db, stage);
  // A reference must match a row that will be written (in the region, not flagged above) or a person
  // registered in the importer's region. A link to a person registered outside it would show their name
  // and facts here and change their groups there (docs/DECISIONS.md "Imports link only within the
  // importer's region"): such a number is reported as one that matches nobody, unless the row's person
  // is linked to them already (a file exported here and imported back). A row whose hukou is outside the
  // region is not checked further. A number that a refused row of the file has is named with that row.
  await sql`INSERT INTO ${flags} (row_number, hukou, out_hukou, out_person, out_household, missing, missing_rows)
    SELECT s.row_number, min(s.hukou), false, false, false, array_agg(r.ref ORDER BY r.ref),
      array_agg(coalesce(
        (SELECT min(t.row_number) FROM ${rows} t WHERE t.id_number = r.id_number),
        (SELECT min(e.row_number) FROM ${sql.table(stage.errors)} e WHERE e.id_number = r.id_number)) ORDER BY r.ref)
    FROM ${rows} s
    CROSS JOIN LATERAL (VALUES (1, s.father), (2, s.mother), (3, s.spouse), (4, s.carer)) AS r (ref, id_number)
    WHERE r.id_number IS NOT NULL AND starts_with(s.hukou, ${regionCode})
      AND NOT EXISTS (
        SELECT 1 FROM ${rows} t
        WHERE t.id_number = r.id_number AND NOT EXISTS (SELECT 1 FROM ${flags} f WHERE f.row_number = t.row_number))
      AND NOT EXISTS (
        SELECT 1 FROM persons p
        WHERE p.id_number = r.id_number AND p.merged_into IS NULL
          AND (starts_with(p.hukou_region_code, ${regionCode})
            OR EXISTS (
              SELECT 1 FROM persons me JOIN person_relations l ON l.person_id = me.id
              WHERE me.id_number = s.id_number AND l.related_person_id = p.id AND l.valid_to IS NULL)
            OR EXISTS (
              SELECT 1 FROM persons me JOIN person_relations l ON l.related_person_id = me.id
              WHERE me.id_number = s.id_number AND l.person_id = p.id AND l.valid_to IS NULL)))
    GROUP BY s.row_number
    ON CONFLICT (row_number) DO UPDATE SET missing = excluded.missing, missing_rows = excluded.missing_rows`.execute(
    db,
  );
  // One biological father and one biological mother, as the API has it (docs/DECISIONS.md "Relations,
  // heads and dates that cannot be"): a row naming another father or mother than the one recorded for
  // its registered person is refused naming the recorded one (the file may mean a step or adoptive
  // parent, which the person's file records with its type). Hash joins of the rows with the links.
  // A row naming the parent whose link a clerk retracted as wrong is not refused whole here: its link is
  // refused on its own (refuseRetractedLinks), naming the retraction, and the rest of the row is written.
  const otherThan = (named: ReturnType<typeof sql.ref>) => sql`p.id_number IS DISTINCT FROM ${named}
    AND NOT EXISTS (
      SELECT 1 FROM person_relations_retracted rr JOIN persons q ON q.id = rr.related_person_id
      WHERE rr.person_id = me.id AND rr.kind = 'parent' AND q.id_number = ${named})`;
  await sql`INSERT INTO ${flags} (row_number, hukou, out_hukou, out_person, out_household, other_father, other_mother)
    SELECT s.row_number, min(s.hukou), false, false, false,
      min(p.id) FILTER (WHERE p.sex = 1 AND s.father IS NOT NULL AND ${otherThan(sql.ref('s.father'))}),
      min(p.id) FILTER (WHERE p.sex = 2 AND s.mother IS NOT NULL AND ${otherThan(sql.ref('s.mother'))})
    FROM ${rows} s
    JOIN persons me ON me.id_number = s.id_number AND me.merged_into IS NULL
    JOIN person_relations l ON l.person_id = me.id AND l.kind = 'parent' AND l.subtype = 'biological'
      AND l.valid_to IS NULL
    JOIN persons p ON p.id = l.related_person_id
    WHERE starts_with(s.hukou, ${regionCode}) AND (s.father IS NOT NULL OR s.mother IS NOT NULL)
      AND ((p.sex = 1 AND s.father IS NOT NULL AND ${otherThan(sql.ref('s.father'))})
        OR (p.sex = 2 AND s.mother IS NOT NULL AND ${otherThan(sql.ref('s.mother'))}))
    GROUP BY s.row_number
    ON CONFLICT (row_number) DO UPDATE
      SET other_father = excluded.other_father, other_mother = excluded.other_mother`.execute(db);
  // Again: a former head's row refused for a reference leaves the former head 户主.
  await flagHeadChanges(db, stage);
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${flags}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/**
 * A 户主 row of a registered household whose head is another person is a head change: accepted when
 * a row of the file that will be written (not flagged so far) is that former head, with their new
 * relation (or moving them to another household), else refused, since the former head would keep
 * 户主 beside the new one (docs/DECISIONS.md). A person is the row's as matchPersons finds them: by
 * ID number, or, for one registered without, by name and birth date in the household.
 */
async function flagHeadChanges(db: Db, stage: ImportStage): Promise<void> {
  const rows = sql.table(stage.rows);
  const flags = sql.table(stage.flags);
  await sql`INSERT INTO ${flags} (row_number, hukou, out_hukou, out_person, out_household, old_head)
    SELECT s.row_number, s.hukou, false, false, false, p.id
    FROM ${rows} s
    JOIN households h ON h.county_code = s.county_code AND h.household_no = s.household_no
    JOIN persons p ON p.id = h.head_person_id AND p.merged_into IS NULL
    WHERE s.relation_to_head = '户主'
      AND s.id_number IS DISTINCT FROM p.id_number
      AND NOT (p.id_number IS NULL AND s.name = p.name AND s.birth_date = p.birth_date)
      AND NOT EXISTS (
        SELECT 1 FROM ${rows} t
        WHERE t.id_number = p.id_number AND NOT EXISTS (SELECT 1 FROM ${flags} f WHERE f.row_number = t.row_number))
      AND NOT (p.id_number IS NULL AND EXISTS (
        SELECT 1 FROM ${rows} t
        WHERE t.county_code = h.county_code AND t.household_no = h.household_no AND t.name = p.name
          AND t.birth_date = p.birth_date
          AND NOT EXISTS (SELECT 1 FROM ${flags} f WHERE f.row_number = t.row_number)))
    ON CONFLICT (row_number) DO UPDATE SET old_head = excluded.old_head`.execute(db);
}

/** A page of flagged rows after a row number, in row order. */
export async function flaggedRows(
  db: Db,
  stage: ImportStage,
  after: number,
  limit: number,
): Promise<RowFlags[]> {
  const result = await sql<RowFlags>`SELECT f.row_number, f.hukou, f.out_hukou, f.out_person, f.out_household,
      f.missing, f.missing_rows, f.heads, f.old_head, p.name AS old_head_name,
      p.hukou_region_code AS old_head_region, f.other_father, pf.name AS other_father_name,
      pf.hukou_region_code AS other_father_region, f.other_mother, pm.name AS other_mother_name,
      pm.hukou_region_code AS other_mother_region
    FROM ${sql.table(stage.flags)} f LEFT JOIN persons p ON p.id = f.old_head
      LEFT JOIN persons pf ON pf.id = f.other_father LEFT JOIN persons pm ON pm.id = f.other_mother
    WHERE f.row_number > ${after} ORDER BY f.row_number LIMIT ${limit}`.execute(db);
  return result.rows;
}

export async function addErrors(
  db: Db,
  stage: ImportStage,
  rows: { rowNumber: number; errors: RowError[] }[],
): Promise<void> {
  if (!rows.length) return;
  await sql`INSERT INTO ${sql.table(stage.errors)} (row_number, errors)
    SELECT * FROM unnest(${rows.map((r) => r.rowNumber)}::integer[], ${rows.map((r) => JSON.stringify(r.errors))}::jsonb[])`.execute(
    db,
  );
}

/** Takes the flagged rows out of the stage: nothing of them is written. */
export async function dropFlaggedRows(db: Db, stage: ImportStage): Promise<void> {
  await sql`DELETE FROM ${sql.table(stage.rows)} s USING ${sql.table(stage.flags)} f
    WHERE s.row_number = f.row_number`.execute(db);
}

export async function countErrors(db: Db, stage: ImportStage): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(stage.errors)}`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** A page of row errors after a row number, in row order (for the error report). */
export async function errorsAfter(
  db: Db,
  stage: ImportStage,
  after: number,
  limit: number,
): Promise<{ row_number: number; errors: RowError[] }[]> {
  const r = await sql<{ row_number: number; errors: RowError[] }>`SELECT row_number, errors
    FROM ${sql.table(stage.errors)} WHERE row_number > ${after} ORDER BY row_number LIMIT ${limit}`.execute(
    db,
  );
  return r.rows;
}

// ---------- households and persons ----------

/**
 * A row of a person registered without a household, under the 户编号 the export wrote for them
 * (HOUSEHOLDLESS_PREFIX and their own id; not as 户主): the person as they are, still without a
 * household, so that a region's export imported back into the installation it came from changes
 * nothing. Elsewhere no person has that id without a household, and the row makes the household.
 */
const householdlessSelf = (rows: ReturnType<typeof sql.table>) => sql`EXISTS (
    SELECT 1 FROM persons p
    WHERE p.id_number = s.id_number AND p.merged_into IS NULL AND p.household_id IS NULL
      AND s.household_no = ${HOUSEHOLDLESS_PREFIX} || p.id::text)
  AND s.relation_to_head <> '户主'
  AND NOT EXISTS (
    SELECT 1 FROM households h WHERE h.county_code = s.county_code AND h.household_no = s.household_no)
  AND NOT EXISTS (
    SELECT 1 FROM ${rows} o
    WHERE o.county_code = s.county_code AND o.household_no = s.household_no AND o.row_number <> s.row_number)`;

/** Households of the file that do not exist yet; a new one takes its head's hukou village. */
export async function insertHouseholds(db: Db, stage: ImportStage): Promise<void> {
  const rows = sql.table(stage.rows);
  await sql`INSERT INTO households (county_code, household_no, hukou_region_code)
    SELECT DISTINCT ON (s.county_code, s.household_no) s.county_code, s.household_no, s.hukou
    FROM ${rows} s
    WHERE NOT EXISTS (
      SELECT 1 FROM households h WHERE h.county_code = s.county_code AND h.household_no = s.household_no)
      AND NOT (s.household_no LIKE ${HOUSEHOLDLESS_PREFIX + '%'} AND ${householdlessSelf(rows)})
    ORDER BY s.county_code, s.household_no, s.relation_to_head = '户主' DESC, s.row_number`.execute(db);
}

/**
 * Each staged row's person: by ID number; else (also for one who has a number now) the person
 * without one in the same household with the same name and birth date; else a new person, whose
 * id is drawn now so that the rows can be inserted in ranges. New ids follow the row order (PostgreSQL
 * evaluates nextval after the sort), so writePersons appends to the primary key and the heap in order.
 */
export async function matchPersons(db: Db, stage: ImportStage): Promise<void> {
  const rows = sql.table(stage.rows);
  const persons = sql.table(stage.persons);
  // A merged record is history and holds no ID number (the merge moves it to the person kept). One
  // written on it before such writes were refused (session 19) is released as the merge releases it
  // (releaseMergedIdNumber), so the row goes to a live person, never to the merged record. In the write
  // transaction: a dry run rolls it back.
  await sql`UPDATE persons p SET id_number = NULL, no_id_reason = 'merged:' || right(p.id_number, 6),
      version = p.version + 1, updated_at = now()
    FROM ${rows} s
    WHERE p.id_number = s.id_number AND p.merged_into IS NOT NULL`.execute(db);
  await sql`INSERT INTO ${persons} (row_number, person_id, household_id, inserted)
    SELECT s.row_number, p.id, NULL, false
    FROM ${rows} s JOIN persons p ON p.id_number = s.id_number AND p.merged_into IS NULL
    WHERE s.household_no LIKE ${HOUSEHOLDLESS_PREFIX + '%'} AND ${householdlessSelf(rows)}`.execute(db);
  await sql`INSERT INTO ${persons} (row_number, person_id, household_id, inserted)
    SELECT s.row_number, p.id, h.id, false
    FROM ${rows} s
    JOIN households h ON h.county_code = s.county_code AND h.household_no = s.household_no
    JOIN persons p ON p.id_number = s.id_number AND p.merged_into IS NULL
    WHERE NOT EXISTS (SELECT 1 FROM ${persons} x WHERE x.row_number = s.row_number)`.execute(db);
  // One person without an ID number goes to one row: the first that names them.
  await sql`INSERT INTO ${persons} (row_number, person_id, household_id, inserted)
    SELECT DISTINCT ON (m.person_id) m.row_number, m.person_id, m.household_id, false
    FROM (
      SELECT DISTINCT ON (s.row_number) s.row_number, p.id AS person_id, h.id AS household_id
      FROM ${rows} s
      JOIN households h ON h.county_code = s.county_code AND h.household_no = s.household_no
      JOIN persons p ON p.household_id = h.id AND p.name = s.name AND p.birth_date = s.birth_date
      WHERE p.id_number IS NULL AND p.merged_into IS NULL
        AND NOT EXISTS (SELECT 1 FROM ${persons} x WHERE x.row_number = s.row_number)
      ORDER BY s.row_number, p.id
    ) m
    ORDER BY m.person_id, m.row_number`.execute(db);
  await sql`INSERT INTO ${persons} (row_number, person_id, household_id, inserted)
    SELECT s.row_number, nextval(pg_get_serial_sequence('persons', 'id')), h.id, true
    FROM ${rows} s
    JOIN households h ON h.county_code = s.county_code AND h.household_no = s.household_no
    WHERE NOT EXISTS (SELECT 1 FROM ${persons} x WHERE x.row_number = s.row_number)
    ORDER BY s.row_number`.execute(db);
  await sql`ANALYZE ${persons}`.execute(db);
}

/**
 * Rows [from, to): new persons inserted; existing ones updated where a value differs.
 * Every chunked statement names its range on each stage table it joins (x and s), and writeRelations
 * on the links it compares with: given on one side only, the planner hashed the whole stage, or all
 * current links, once per chunk (fifty times in a million-row import).
 */
export async function writePersons(db: Db, stage: ImportStage, from: number, to: number): Promise<void> {
  // A relation to the head not on record (a parent a child ledger registered) is exported as 其他, the
  // template's word for any other: 其他 in the file leaves it unrecorded, so the export imports back
  // unchanged.
  const keptRelation = sql`CASE WHEN p.relation_to_head IS NULL AND s.relation_to_head = '其他' THEN NULL
    ELSE s.relation_to_head END`;
  const rows = sql.table(stage.rows);
  const persons = sql.table(stage.persons);
  await sql`INSERT INTO persons (id, id_number, no_id_reason, name, name_pinyin, name_initials, sex, birth_date,
      ethnicity, phone, hukou_region_code, residence_region_code, household_id, relation_to_head)
    SELECT x.person_id, s.id_number, s.no_id_reason, s.name, s.name_pinyin, s.name_initials, s.sex, s.birth_date,
      s.ethnicity, s.phone, s.hukou, s.residence, x.household_id, s.relation_to_head
    FROM ${persons} x JOIN ${rows} s ON s.row_number = x.row_number
    WHERE x.inserted AND x.row_number >= ${from} AND x.row_number < ${to}
      AND s.row_number >= ${from} AND s.row_number < ${to}
    ORDER BY x.row_number`.execute(db);
  await sql`WITH changed AS (
      UPDATE persons p SET id_number = s.id_number, no_id_reason = s.no_id_reason, name = s.name,
        name_pinyin = s.name_pinyin, name_initials = s.name_initials, sex = s.sex, birth_date = s.birth_date,
        ethnicity = s.ethnicity, phone = s.phone, hukou_region_code = s.hukou, residence_region_code = s.residence,
        household_id = x.household_id, relation_to_head = ${keptRelation}, version = p.version + 1,
        updated_at = now()
      FROM ${persons} x JOIN ${rows} s ON s.row_number = x.row_number
      WHERE p.id = x.person_id AND NOT x.inserted AND x.row_number >= ${from} AND x.row_number < ${to}
        AND s.row_number >= ${from} AND s.row_number < ${to}
        AND (p.id_number, p.no_id_reason, p.name, p.sex, p.birth_date, p.ethnicity, p.phone, p.hukou_region_code,
          p.residence_region_code, p.household_id, p.relation_to_head)
          IS DISTINCT FROM (s.id_number, s.no_id_reason, s.name, s.sex, s.birth_date, s.ethnicity, s.phone, s.hukou,
          s.residence, x.household_id, ${keptRelation})
      RETURNING x.row_number
    )
    INSERT INTO ${sql.table(stage.touched)} (row_number) SELECT row_number FROM changed`.execute(db);
}

/**
 * The head's row names the household head, sets its hukou village and carries the declared income.
 * A household has one 户主 row by then (the check refused a household's several). Only households
 * where one of these differs.
 */
export async function writeHeads(db: Db, stage: ImportStage): Promise<void> {
  // A head the file moved to another household no longer heads the one they left (the head is one
  // of the members); that household has no head until a row or a clerk names one. Only persons the
  // file changed can have moved (writePersons marked their rows).
  await sql`UPDATE households h SET head_person_id = NULL, version = h.version + 1, updated_at = now()
    FROM ${sql.table(stage.touched)} t JOIN ${sql.table(stage.persons)} x ON x.row_number = t.row_number
      JOIN persons p ON p.id = x.person_id
    WHERE h.head_person_id = x.person_id AND p.household_id IS DISTINCT FROM h.id`.execute(db);
  await sql`WITH heads AS (
      SELECT DISTINCT ON (x.household_id) x.household_id, x.person_id, x.row_number, s.income, s.hukou
      FROM ${sql.table(stage.persons)} x JOIN ${sql.table(stage.rows)} s ON s.row_number = x.row_number
      WHERE s.relation_to_head = '户主'
      ORDER BY x.household_id, x.row_number DESC
    ), changed AS (
      UPDATE households h SET head_person_id = y.person_id,
        annual_income_fen = coalesce(y.income, h.annual_income_fen), hukou_region_code = y.hukou,
        version = h.version + 1, updated_at = now()
      FROM heads y
      WHERE h.id = y.household_id AND (h.head_person_id IS DISTINCT FROM y.person_id
        OR (y.income IS NOT NULL AND h.annual_income_fen IS DISTINCT FROM y.income)
        OR h.hukou_region_code <> y.hukou)
      RETURNING y.row_number
    )
    INSERT INTO ${sql.table(stage.touched)} (row_number) SELECT row_number FROM changed`.execute(db);
}

// ---------- relations and facts ----------

/**
 * Resolves every relation the staged rows name (father, mother, spouse, carer by ID number) to
 * person ids, once for the whole file, after the persons are written: a number that a staged row
 * carries is that row's person (a hash join of the stage with itself); any other is looked up in
 * `persons`. The same ids as looking every number up in `persons` (each staged row's person has
 * the row's number by then), without an index probe into the registry per reference.
 * A spouse relation is stored once, smaller id first.
 */
export async function resolveRelations(
  db: Db,
  stage: ImportStage,
): Promise<{ first: number; last: number } | null> {
  const rows = sql.table(stage.rows);
  const persons = sql.table(stage.persons);
  const refs = sql.table(stage.refs);
  // One row per reference (four simple scans estimate far better than a VALUES list per row).
  const named = sql`SELECT x.row_number, x.person_id, w.kind, w.id_number
    FROM ${persons} x JOIN (
      SELECT row_number, 'parent' AS kind, father AS id_number FROM ${rows} WHERE father IS NOT NULL
      UNION ALL SELECT row_number, 'parent', mother FROM ${rows} WHERE mother IS NOT NULL
      UNION ALL SELECT row_number, 'spouse', spouse FROM ${rows} WHERE spouse IS NOT NULL
      UNION ALL SELECT row_number, 'carer', carer FROM ${rows} WHERE carer IS NOT NULL
    ) w ON w.row_number = x.row_number`;
  const insert = (
    target: ReturnType<typeof sql>,
  ) => sql`INSERT INTO ${refs} (row_number, kind, person_id, related_person_id)
    SELECT n.row_number, n.kind,
      CASE WHEN n.kind = 'spouse' THEN least(n.person_id, t.id) ELSE n.person_id END,
      CASE WHEN n.kind = 'spouse' THEN greatest(n.person_id, t.id) ELSE t.id END
    FROM (${named}) n
    ${target}
    WHERE t.id <> n.person_id`;
  await insert(sql`JOIN (SELECT f.id_number, y.person_id AS id FROM ${rows} f JOIN ${persons} y ON y.row_number = f.row_number
      WHERE f.id_number IS NOT NULL) t ON t.id_number = n.id_number`).execute(db);
  await insert(sql`JOIN persons t ON t.id_number = n.id_number AND t.merged_into IS NULL
    AND NOT EXISTS (SELECT 1 FROM ${rows} f WHERE f.id_number = n.id_number)`).execute(db);
  await sql`CREATE INDEX ON ${refs} (person_id)`.execute(db);
  await sql`ANALYZE ${refs}`.execute(db);
  const r = await sql<{ first: number | null; last: number | null }>`
    SELECT min(person_id) AS first, max(person_id) AS last FROM ${refs}`.execute(db);
  const row = r.rows[0];
  return row?.first != null && row.last != null ? { first: row.first, last: row.last } : null;
}

/** A link a row names that a clerk retracted as wrong (refuseRetractedLinks). */
export interface RetractedLink {
  row_number: number;
  /** The column that names it: 1 father, 2 mother, 3 spouse, 4 carer. */
  ref: number;
  /** When it was retracted (the latest retraction of the same link). */
  retracted_at: Date | string;
}

/**
 * Takes out of the resolved relations (resolveRelations) every link a clerk retracted as wrong
 * (person_relations_retracted: the same two persons, the same kind; a spouse link either way round)
 * and that is not in force again (a clerk who re-linked them stands): a file that made the wrong link
 * would otherwise make it again at every import. The rest of the row is written as usual; the links
 * taken out are returned for the row's errors. Driven from the retracted links (a few, each a clerk's
 * act) with equality joins on the relations' person index: no per-row look-up.
 */
export async function refuseRetractedLinks(db: Db, stage: ImportStage): Promise<RetractedLink[]> {
  const refs = sql.table(stage.refs);
  const r = await sql<RetractedLink>`WITH hit AS (
      SELECT w.row_number, w.kind, w.person_id, w.related_person_id, max(k.retracted_at) AS retracted_at
      FROM (
        SELECT rr.person_id, rr.related_person_id, rr.kind, rr.retracted_at FROM person_relations_retracted rr
        UNION ALL
        SELECT rr.related_person_id, rr.person_id, rr.kind, rr.retracted_at FROM person_relations_retracted rr
        WHERE rr.kind = 'spouse'
      ) k
      JOIN ${refs} w ON w.person_id = k.person_id AND w.related_person_id = k.related_person_id AND w.kind = k.kind
      WHERE NOT EXISTS (
        SELECT 1 FROM person_relations l
        WHERE l.person_id = w.person_id AND l.related_person_id = w.related_person_id AND l.kind = w.kind
          AND l.valid_to IS NULL)
      GROUP BY w.row_number, w.kind, w.person_id, w.related_person_id
    ), gone AS (
      DELETE FROM ${refs} w USING hit h
      WHERE w.row_number = h.row_number AND w.kind = h.kind AND w.person_id = h.person_id
        AND w.related_person_id = h.related_person_id
      RETURNING w.row_number
    )
    SELECT h.row_number,
      CASE h.kind WHEN 'spouse' THEN 3 WHEN 'carer' THEN 4
        ELSE CASE WHEN q.id_number = s.father THEN 1 ELSE 2 END END AS ref,
      h.retracted_at
    FROM hit h
    JOIN ${sql.table(stage.persons)} x ON x.row_number = h.row_number
    JOIN ${sql.table(stage.rows)} s ON s.row_number = h.row_number
    JOIN persons q ON q.id = CASE WHEN h.related_person_id = x.person_id THEN h.person_id ELSE h.related_person_id END
    WHERE h.row_number IN (SELECT row_number FROM gone)
    ORDER BY h.row_number, 2`.execute(db);
  return r.rows;
}

/**
 * The relations stored under persons [from, to) (resolveRelations), where no current one exists.
 * Every row that names a relation falls in the same range; the first of them adds it.
 */
export async function writeRelations(
  db: Db,
  stage: ImportStage,
  from: number,
  to: number,
  recordedBy: number | null,
): Promise<void> {
  await sql`WITH fresh AS (
      SELECT DISTINCT ON (w.person_id, w.related_person_id, w.kind) w.*
      FROM ${sql.table(stage.refs)} w
      WHERE w.person_id >= ${from} AND w.person_id < ${to} AND NOT EXISTS (
        SELECT 1 FROM person_relations r
        WHERE r.person_id = w.person_id AND r.related_person_id = w.related_person_id AND r.kind = w.kind
          AND r.valid_to IS NULL AND r.person_id >= ${from} AND r.person_id < ${to})
      ORDER BY w.person_id, w.related_person_id, w.kind, w.row_number
    ), added AS (
      INSERT INTO person_relations (person_id, related_person_id, kind, subtype, source, recorded_by)
      SELECT person_id, related_person_id, kind, CASE WHEN kind = 'parent' THEN 'biological' END, 'import',
        ${recordedBy}::bigint
      FROM fresh
    )
    INSERT INTO ${sql.table(stage.touched)} (row_number) SELECT row_number FROM fresh`.execute(db);
}

/**
 * A row that names a spouse other than the one on record: the marriage on record to a third person
 * who is alive ends on the import day (one spouse at a time, Civil Code art. 1042; the file is the
 * county's word that the person is now married to the one it names). The link is kept with its end.
 * A link to a spouse who has died stays as the registry keeps it (the survivor's remarriage); a link the
 * file names itself (on any row) stays; one that starts on or after the import day is left alone (it
 * cannot end before it starts). The rows that end a link are marked changed.
 */
export async function endFormerSpouses(db: Db, stage: ImportStage, on: string): Promise<void> {
  const refs = sql.table(stage.refs);
  // Only persons registered before this import can have a marriage on record to someone else: a
  // person the import inserted has the links it names only. Each side of a link is its own equality
  // join (an OR of the two made the planner probe the links' indexes once per registered person:
  // 16 s of a million-row re-import), and the registered persons are a plain UNION that the
  // planner estimates from the stage's statistics.
  await sql`WITH named AS (
      SELECT DISTINCT row_number, person_id, related_person_id FROM ${refs} WHERE kind = 'spouse'
    ), registered AS (
      SELECT g.row_number, g.person_id
      FROM (SELECT row_number, person_id FROM named UNION SELECT row_number, related_person_id FROM named) g
      WHERE NOT EXISTS (
        SELECT 1 FROM ${sql.table(stage.persons)} x WHERE x.person_id = g.person_id AND x.inserted)
    ), links AS (
      SELECT l.id, l.person_id, l.related_person_id, l.related_person_id AS other, g.row_number
      FROM registered g
      JOIN person_relations l ON l.person_id = g.person_id AND l.kind = 'spouse' AND l.valid_to IS NULL
      WHERE l.valid_from IS NULL OR l.valid_from < ${on}::date
      UNION ALL
      SELECT l.id, l.person_id, l.related_person_id, l.person_id AS other, g.row_number
      FROM registered g
      JOIN person_relations l ON l.related_person_id = g.person_id AND l.kind = 'spouse' AND l.valid_to IS NULL
      WHERE l.valid_from IS NULL OR l.valid_from < ${on}::date
    ), ended AS (
      UPDATE person_relations r SET valid_to = ${on}::date
      FROM (
        SELECT DISTINCT ON (k.id) k.id, k.row_number
        FROM links k
        WHERE NOT EXISTS (
            SELECT 1 FROM named m WHERE m.person_id = k.person_id AND m.related_person_id = k.related_person_id)
          AND NOT ${diedBy(sql`k.other`, on)}
        ORDER BY k.id, k.row_number
      ) x
      WHERE r.id = x.id
      RETURNING x.row_number
    )
    INSERT INTO ${sql.table(stage.touched)} (row_number) SELECT row_number FROM ended`.execute(db);
}

export interface FactRow {
  row_number: number;
  person_id: number;
  inserted: boolean;
  facts: RowFacts;
}

/**
 * Rows [from, to): the facts of new persons, computed while parsing (StageLines): a new person
 * has no stored facts, so these are exactly what reconcileFacts would insert.
 */
export async function writeNewFacts(
  db: Db,
  stage: ImportStage,
  from: number,
  to: number,
  recordedBy: number | null,
): Promise<void> {
  await sql`INSERT INTO person_facts (person_id, kind, valid_from, data, source, recorded_by)
    SELECT x.person_id, f.value->>'kind', (f.value->>'from')::date, f.value->'data', 'import', ${recordedBy}::bigint
    FROM ${sql.table(stage.persons)} x
    JOIN ${sql.table(stage.rows)} s ON s.row_number = x.row_number
    CROSS JOIN LATERAL jsonb_array_elements(s.new_facts) WITH ORDINALITY AS f (value, n)
    WHERE x.inserted AND x.row_number >= ${from} AND x.row_number < ${to}
      AND s.row_number >= ${from} AND s.row_number < ${to} AND s.new_facts IS NOT NULL
    ORDER BY x.row_number, f.n`.execute(db);
}

/**
 * Rows [from, to) of persons already registered whose facts may change something: rows that
 * state facts, and rows that end some (外出务工=否). New persons' facts are written by writeNewFacts.
 */
export async function factRows(db: Db, stage: ImportStage, from: number, to: number): Promise<FactRow[]> {
  const r = await sql<FactRow>`SELECT x.row_number, x.person_id, x.inserted, s.facts
    FROM ${sql.table(stage.persons)} x JOIN ${sql.table(stage.rows)} s ON s.row_number = x.row_number
    WHERE x.row_number >= ${from} AND x.row_number < ${to}
      AND s.row_number >= ${from} AND s.row_number < ${to} AND s.facts IS NOT NULL AND NOT x.inserted
    ORDER BY x.row_number`.execute(db);
  return r.rows;
}

/** The facts in force or to come (not retracted) of these persons. */
export async function storedFacts(
  db: Db,
  personIds: number[],
): Promise<(StoredFact & { person_id: number })[]> {
  if (!personIds.length) return [];
  const r = await sql<
    StoredFact & { person_id: number }
  >`SELECT id, person_id, kind, valid_from, valid_to, data
    FROM person_facts WHERE person_id = ANY(${personIds}::bigint[]) AND retracted_at IS NULL ORDER BY id`.execute(
    db,
  );
  return r.rows;
}

export interface FactWrites {
  inserts: { personId: number; kind: string; from: string; data: string }[];
  closes: { id: number; to: string }[];
  retracts: number[];
  rowsChanged: number[];
}

/**
 * Writes a chunk's fact changes, set-based, and marks the rows where something changed. A fact
 * closed on the start of a fact inserted here for the same person and kind (a new destination, the
 * next school stage) is ended by it (ended_by_fact_id), in the same statement as the insert: an API
 * retraction of the new fact reopens it. A close with no such insert is an end the file states
 * (外出务工=否), and a fact that already had an end of its own keeps none: no retraction reopens those.
 */
export async function writeFacts(
  db: Db,
  stage: ImportStage,
  w: FactWrites,
  recordedBy: number | null,
): Promise<void> {
  const inserted = sql`INSERT INTO person_facts (person_id, kind, valid_from, data, source, recorded_by)
      SELECT person_id, kind, valid_from, data, 'import', ${recordedBy}::bigint
      FROM unnest(${w.inserts.map((f) => f.personId)}::bigint[], ${w.inserts.map((f) => f.kind)}::text[],
        ${w.inserts.map((f) => f.from)}::date[], ${w.inserts.map((f) => f.data)}::jsonb[])
        AS f (person_id, kind, valid_from, data)`;
  const closes = sql`unnest(${w.closes.map((c) => c.id)}::bigint[], ${w.closes.map((c) => c.to)}::date[])
        AS c (id, valid_to)`;
  if (w.inserts.length && w.closes.length)
    await sql`WITH ins AS (${inserted} RETURNING id, person_id, kind, valid_from)
      UPDATE person_facts f SET valid_to = c.valid_to,
        ended_by_fact_id = CASE WHEN f.valid_to IS NULL OR f.ended_by_fact_id IS NOT NULL THEN c.by END
      FROM (SELECT DISTINCT ON (c.id) c.id, c.valid_to, ins.id AS by
        FROM ${closes}
        JOIN person_facts p ON p.id = c.id
        LEFT JOIN ins ON ins.person_id = p.person_id AND ins.kind = p.kind AND ins.valid_from = c.valid_to
        ORDER BY c.id, ins.id) AS c
      WHERE f.id = c.id`.execute(db);
  else if (w.inserts.length) await inserted.execute(db);
  else if (w.closes.length)
    await sql`UPDATE person_facts f SET valid_to = c.valid_to, ended_by_fact_id = NULL
      FROM ${closes} WHERE f.id = c.id`.execute(db);
  if (w.retracts.length)
    await sql`UPDATE person_facts SET retracted_at = now(), retracted_by = ${recordedBy}::bigint,
        retraction_reason = 'superseded by import'
      WHERE id = ANY(${w.retracts}::bigint[]) AND retracted_at IS NULL`.execute(db);
  if (w.rowsChanged.length)
    await sql`INSERT INTO ${sql.table(stage.touched)} (row_number)
      SELECT * FROM unnest(${w.rowsChanged}::integer[])`.execute(db);
}

// ---------- the planner's statistics ----------

/** The registry's tables that an import writes. */
const WRITTEN_TABLES = ['households', 'persons', 'person_relations', 'person_facts'] as const;

/** Below this many persons a plan made on out-of-date statistics costs little. */
const STATISTICS_FLOOR = 1000;

/**
 * ANALYZE of the tables an import writes, when the planner's picture of them is out of date: when
 * the registry holds more persons (`atLeast`: those the file matched) than its statistics know of,
 * or when the import changed (`changed`) more than a tenth of what they know, autovacuum's own rule,
 * which on a server acts up to a minute later and on the embedded database never. A plan made on
 * the statistics of an empty registry joined a re-import's 100,000 spouse links by nested loops: the
 * relations step of a 200,000-row re-import run right after the first load took 175 s instead of 4 s
 * (docs/PERFORMANCE.md, bench/import). Returns whether the tables were analysed.
 */
export async function refreshStatistics(db: Db, atLeast: number, changed: number): Promise<boolean> {
  if (Math.max(atLeast, changed) < STATISTICS_FLOOR) return false;
  const r = await sql<{ known: number }>`SELECT greatest(reltuples, 0)::float8 AS known
    FROM pg_class WHERE oid = 'persons'::regclass`.execute(db);
  const known = Number(r.rows[0]?.known ?? 0);
  if (atLeast <= known && changed <= known * 0.1) return false;
  for (const table of WRITTEN_TABLES) await sql`ANALYZE ${sql.table(table)}`.execute(db);
  return true;
}

/** Persons of the file that were registered before it (matchPersons). */
export async function matchedCount(db: Db, stage: ImportStage): Promise<number> {
  const r = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM ${sql.table(stage.persons)} WHERE NOT inserted`.execute(db);
  return r.rows[0]?.n ?? 0;
}

/** Rows written, and of them new persons and existing ones where something changed. */
export async function writtenCounts(
  db: Db,
  stage: ImportStage,
): Promise<{ written: number; inserted: number; updated: number }> {
  const persons = sql.table(stage.persons);
  const r = await sql<{ written: number; inserted: number; updated: number }>`SELECT
      (SELECT count(*) FROM ${persons})::int AS written,
      (SELECT count(*) FROM ${persons} WHERE inserted)::int AS inserted,
      (SELECT count(DISTINCT t.row_number) FROM ${sql.table(stage.touched)} t
        JOIN ${persons} x ON x.row_number = t.row_number WHERE NOT x.inserted)::int AS updated`.execute(db);
  return r.rows[0] ?? { written: 0, inserted: 0, updated: 0 };
}
