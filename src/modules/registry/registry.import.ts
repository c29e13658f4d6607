// The import use case (导入): a registry template file into households, persons, relations and
// facts. It reads the file three times, streaming, so memory holds sets of keys, never the rows:
//   1. validate: every row parsed; a structural fault (FileRejected) refuses the file whole before
//      anything is written; the file's ID numbers and households are collected;
//   2. persons: rows without errors upsert households and persons in batches (one transaction each);
//   3. links: parent, spouse and carer relations and the facts, idempotently.
// Row errors do not stop the good rows; they come back in an error report (docs/DECISIONS.md).
// Re-importing the same file changes nothing: every write happens only when a value differs.
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { Message } from '../../platform/errors.ts';
import { today as currentDate } from '../../platform/dates.ts';
import { audit, type Actor, type AuditActor } from '../access/index.ts';
import { writeErrorReport, ERROR_REASON_HEADER } from './registry.errors-report.ts';
import { parseRegistryFile, collectReferences, type ParsedRow } from './registry.parse.ts';
import { FileRejected, type TableSource } from './registry.reader.ts';
import { headerOf, type RegistryRecord, type RowError } from './registry.template.ts';
import { countyOf, factsOfRow, nameSpellings, reconcileFacts, type StoredFact } from './registry.rules.ts';
import type { ImportCounts, ImportKind } from './registry.tables.ts';
import * as repo from './registry.repository.ts';

/** Who imports: the region whose subtree the rows must lie in, and who is recorded. */
export interface Importer {
  regionCode: string;
  userId: number | null;
  auditActor: Actor | AuditActor;
}

export interface ImportOptions {
  kind?: ImportKind;
  dryRun?: boolean;
  /** The import day: dates after it are in the future; undated facts start on it. */
  today?: string;
  /** Where to write the error report: `${errorReportBase}.xlsx` and `.csv`. None when omitted. */
  errorReportBase?: string;
  progress?: (done: number, total: number | null, message: string) => void | Promise<void>;
  batchSize?: number;
}

export interface ImportOutcome {
  status: 'succeeded' | 'rejected';
  counts: ImportCounts;
  /** Why the file was refused whole. */
  message: Message | null;
  unknownHeaders: string[];
  errorReport: { xlsx: string; csv: string } | null;
}

type RowStatus = 'inserted' | 'updated' | 'unchanged';

/** Thrown inside a dry run's transaction to roll everything back. */
class DryRunRollback extends Error {}

const ZERO: ImportCounts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 };

function householdKey(record: { hukouRegionCode: string; householdNo: string }): string {
  return `${countyOf(record.hukouRegionCode)}\u0000${record.householdNo}`;
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

async function loadRegionCodes(db: Kysely<DB>): Promise<Set<string>> {
  const codes = new Set<string>();
  let after = '';
  for (;;) {
    const rows = await db
      .selectFrom('regions')
      .select('code')
      .where('code', '>', after)
      .where('valid_to', 'is', null)
      .orderBy('code')
      .limit(50_000)
      .execute();
    for (const r of rows) codes.add(r.code);
    const last = rows[rows.length - 1];
    if (!last) return codes;
    after = last.code;
  }
}

/** What pass 1 learns about the file, and what the database already holds of it. */
interface Validation {
  rows: number;
  unknownHeaders: string[];
  headers: string[];
  /** ID numbers of the rows that will be written, with their household key. */
  fileIds: Map<string, string>;
  /** Existing persons by ID number (of the file's rows and their references). */
  existingById: Map<string, { id: number; hukou_region_code: string }>;
  /** Existing households of the file by county + number. */
  existingHouseholds: Map<string, { id: number; hukou_region_code: string }>;
}

const outOfScope = (code: string, importer: Importer) => !code.startsWith(importer.regionCode);

/** The errors of a row that need the database or the rest of the file (pass 1 knows both). */
function crossRowErrors(
  record: RegistryRecord,
  raw: Record<string, string>,
  v: Validation,
  importer: Importer,
): RowError[] {
  const errors: RowError[] = [];
  const at = (key: Parameters<typeof headerOf>[0]) => ({
    column: headerOf(key),
    value: raw[headerOf(key)] ?? '',
  });
  if (outOfScope(record.hukouRegionCode, importer)) {
    errors.push({
      ...at('hukouRegionCode'),
      reason: {
        zh: `户籍地 ${record.hukouRegionCode} 不在您的管辖范围（${importer.regionCode}）内`,
        en: `the hukou village ${record.hukouRegionCode} is outside your region (${importer.regionCode})`,
      },
    });
    return errors;
  }
  const existing = record.idNumber ? v.existingById.get(record.idNumber) : undefined;
  if (existing && outOfScope(existing.hukou_region_code, importer)) {
    errors.push({
      ...at('idNumber'),
      reason: {
        zh: '此人已在您管辖范围以外的地区登记（户籍迁入须先办理迁移）',
        en: 'this person is registered in a region outside yours (a hukou transfer must come first)',
      },
    });
  }
  const household = v.existingHouseholds.get(householdKey(record));
  if (household && outOfScope(household.hukou_region_code, importer)) {
    errors.push({
      ...at('householdNo'),
      reason: {
        zh: '本县该户编号属于您管辖范围以外的村',
        en: 'this household number belongs to a village outside your region',
      },
    });
  }
  for (const ref of collectReferences(record)) {
    if (!v.fileIds.has(ref.idNumber) && !v.existingById.has(ref.idNumber)) {
      errors.push({
        column: ref.column,
        value: raw[ref.column] ?? ref.idNumber,
        reason: {
          zh: '该公民身份号码既不在本文件中，也未在系统中登记',
          en: 'no person with this ID number is in the file or in the registry',
        },
      });
    }
  }
  return errors;
}

async function validate(
  db: Kysely<DB>,
  importer: Importer,
  parse: () => AsyncGenerator<ParsedRow>,
  onHeaders: { headers: string[]; unknown: string[] },
  progress: (done: number) => Promise<void>,
): Promise<Validation> {
  const fileIds = new Map<string, string>();
  const referenced = new Set<string>();
  const households = new Set<string>();
  let rows = 0;
  for await (const row of parse()) {
    rows += 1;
    if (rows % 2000 === 0) await progress(rows);
    const r = row.record;
    if (!r) continue;
    if (outOfScope(r.hukouRegionCode, importer)) continue;
    households.add(householdKey(r));
    if (r.idNumber) fileIds.set(r.idNumber, householdKey(r));
    for (const ref of collectReferences(r)) referenced.add(ref.idNumber);
  }
  const existingById = new Map<string, { id: number; hukou_region_code: string }>();
  const wanted = [...new Set([...fileIds.keys(), ...referenced])];
  for (const part of chunks(wanted, 1000)) {
    const found = await db
      .selectFrom('persons')
      .select(['id', 'id_number', 'hukou_region_code'])
      .where('id_number', 'in', part)
      .execute();
    for (const p of found)
      if (p.id_number) existingById.set(p.id_number, { id: p.id, hukou_region_code: p.hukou_region_code });
  }
  const existingHouseholds = new Map<string, { id: number; hukou_region_code: string }>();
  const byCounty = new Map<string, string[]>();
  for (const key of households) {
    const [county = '', no = ''] = key.split('\u0000');
    byCounty.set(county, [...(byCounty.get(county) ?? []), no]);
  }
  for (const [county, numbers] of byCounty) {
    for (const part of chunks(numbers, 1000)) {
      const found = await db
        .selectFrom('households')
        .select(['id', 'household_no', 'hukou_region_code'])
        .where('county_code', '=', county)
        .where('household_no', 'in', part)
        .execute();
      for (const h of found)
        existingHouseholds.set(`${county}\u0000${h.household_no}`, {
          id: h.id,
          hukou_region_code: h.hukou_region_code,
        });
    }
  }
  // A row whose person or household lies outside the importer's region is not written; nobody
  // may then point at it.
  for (const [id, key] of fileIds) {
    const person = existingById.get(id);
    const household = existingHouseholds.get(key);
    if (
      (person && outOfScope(person.hukou_region_code, importer)) ||
      (household && outOfScope(household.hukou_region_code, importer))
    )
      fileIds.delete(id);
  }
  return {
    rows,
    unknownHeaders: onHeaders.unknown,
    headers: onHeaders.headers,
    fileIds,
    existingById,
    existingHouseholds,
  };
}

// ---------- pass 2: households and persons ----------

interface PersonValues {
  id_number: string | null;
  no_id_reason: string | null;
  name: string;
  name_pinyin: string;
  name_initials: string;
  sex: 1 | 2;
  birth_date: string;
  ethnicity: string | null;
  phone: string | null;
  hukou_region_code: string;
  residence_region_code: string | null;
  household_id: number;
  relation_to_head: string;
}

const COMPARED: (keyof PersonValues)[] = [
  'id_number',
  'no_id_reason',
  'name',
  'sex',
  'birth_date',
  'ethnicity',
  'phone',
  'hukou_region_code',
  'residence_region_code',
  'household_id',
  'relation_to_head',
];

function personValues(r: RegistryRecord, householdId: number): PersonValues {
  const spelled = nameSpellings(r.name);
  return {
    id_number: r.idNumber,
    no_id_reason: r.idNumber ? null : r.noIdReason,
    name: r.name,
    name_pinyin: spelled.pinyin,
    name_initials: spelled.initials,
    sex: r.sex,
    birth_date: r.birthDate,
    ethnicity: r.ethnicity,
    phone: r.phone,
    hukou_region_code: r.hukouRegionCode,
    // Stored only where it differs from the hukou village, so an export imports back unchanged.
    residence_region_code: r.residenceRegionCode === r.hukouRegionCode ? null : r.residenceRegionCode,
    household_id: householdId,
    relation_to_head: r.relationToHead,
  };
}

interface BatchRow {
  rowNumber: number;
  record: RegistryRecord;
}

/**
 * Households and persons of one batch, set-based: a few queries find what exists, new rows go in
 * one INSERT each, and only rows whose values differ are updated.
 */
async function writePersons(
  trx: Transaction<DB>,
  rows: BatchRow[],
  households: Map<string, number>,
): Promise<Map<number, { personId: number; status: RowStatus }>> {
  // Households: known ones from the cache or the table, new ones inserted together.
  const missing = new Map<string, RegistryRecord>();
  for (const { record } of rows)
    if (!households.has(householdKey(record))) missing.set(householdKey(record), record);
  const byCounty = new Map<string, string[]>();
  for (const r of missing.values())
    byCounty.set(countyOf(r.hukouRegionCode), [
      ...(byCounty.get(countyOf(r.hukouRegionCode)) ?? []),
      r.householdNo,
    ]);
  for (const [county, numbers] of byCounty) {
    const found = await trx
      .selectFrom('households')
      .select(['id', 'household_no'])
      .where('county_code', '=', county)
      .where('household_no', 'in', numbers)
      .execute();
    for (const h of found) {
      households.set(`${county}\u0000${h.household_no}`, h.id);
      missing.delete(`${county}\u0000${h.household_no}`);
    }
  }
  const createdHouseholds = new Set<number>();
  if (missing.size) {
    const inserted = await trx
      .insertInto('households')
      .values(
        [...missing.values()].map((r) => ({
          county_code: countyOf(r.hukouRegionCode),
          household_no: r.householdNo,
          hukou_region_code: r.hukouRegionCode,
          assets: '{}',
        })),
      )
      .returning(['id', 'county_code', 'household_no'])
      .execute();
    for (const h of inserted) {
      households.set(`${h.county_code}\u0000${h.household_no}`, h.id);
      createdHouseholds.add(h.id);
    }
  }

  // Persons: by ID number, else (also for one who has a number now) by household + name + birth date.
  const numbers = rows.map((r) => r.record.idNumber).filter((n): n is string => n !== null);
  const byNumber = new Map<string, repo.PersonRow>();
  if (numbers.length)
    for (const p of await trx.selectFrom('persons').selectAll().where('id_number', 'in', numbers).execute())
      byNumber.set(p.id_number!, p);
  const householdIds = [...new Set(rows.map((r) => households.get(householdKey(r.record))!))];
  const byKey = new Map<string, repo.PersonRow>();
  const keyOf = (householdId: number, name: string, birthDate: string | null) =>
    `${householdId}\u0000${name}\u0000${birthDate}`;
  for (const p of await trx
    .selectFrom('persons')
    .selectAll()
    .where('household_id', 'in', householdIds)
    .where('id_number', 'is', null)
    .where('merged_into', 'is', null)
    .orderBy('id', 'desc')
    .execute())
    byKey.set(keyOf(p.household_id!, p.name, p.birth_date), p);

  const result = new Map<number, { personId: number; status: RowStatus }>();
  const toInsert: { rowNumber: number; values: PersonValues }[] = [];
  for (const { rowNumber, record } of rows) {
    const householdId = households.get(householdKey(record))!;
    const values = personValues(record, householdId);
    const key = keyOf(householdId, record.name, record.birthDate);
    const existing = (record.idNumber ? byNumber.get(record.idNumber) : undefined) ?? byKey.get(key);
    if (!existing) {
      toInsert.push({ rowNumber, values });
      continue;
    }
    byKey.delete(key);
    const changed = COMPARED.some((k) => (existing[k] ?? null) !== (values[k] ?? null));
    if (changed)
      await trx
        .updateTable('persons')
        .set({ ...values, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
        .where('id', '=', existing.id)
        .execute();
    result.set(rowNumber, {
      personId: existing.id,
      status: changed || createdHouseholds.has(householdId) ? 'updated' : 'unchanged',
    });
  }
  if (toInsert.length) {
    const inserted = await trx
      .insertInto('persons')
      .values(toInsert.map((r) => r.values))
      .returning(['id', 'id_number', 'household_id', 'name', 'birth_date'])
      .execute();
    // Matched back by key: RETURNING promises no order. Within a file both keys are unique.
    const idOf = new Map(
      inserted.map((p) => [p.id_number ?? keyOf(p.household_id!, p.name, p.birth_date), p.id]),
    );
    for (const r of toInsert) {
      const id = idOf.get(
        r.values.id_number ?? keyOf(r.values.household_id, r.values.name, r.values.birth_date),
      );
      if (id !== undefined) result.set(r.rowNumber, { personId: id, status: 'inserted' });
    }
  }

  // The head's row names the household head and carries the declared income.
  const heads = rows.filter((r) => r.record.relationToHead === '户主');
  if (heads.length) {
    const current = new Map(
      (
        await trx
          .selectFrom('households')
          .select(['id', 'head_person_id', 'annual_income_fen', 'hukou_region_code'])
          .where(
            'id',
            'in',
            heads.map((r) => households.get(householdKey(r.record))!),
          )
          .execute()
      ).map((h) => [h.id, h]),
    );
    for (const { rowNumber, record } of heads) {
      const householdId = households.get(householdKey(record))!;
      const h = current.get(householdId);
      const person = result.get(rowNumber)!;
      if (!h) continue;
      const patch: { head_person_id?: number; annual_income_fen?: number; hukou_region_code?: string } = {};
      if (h.head_person_id !== person.personId) patch.head_person_id = person.personId;
      if (record.householdAnnualIncomeFen !== null && h.annual_income_fen !== record.householdAnnualIncomeFen)
        patch.annual_income_fen = record.householdAnnualIncomeFen;
      if (h.hukou_region_code !== record.hukouRegionCode) patch.hukou_region_code = record.hukouRegionCode;
      if (Object.keys(patch).length === 0) continue;
      await trx
        .updateTable('households')
        .set({ ...patch, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
        .where('id', '=', householdId)
        .execute();
      if (person.status === 'unchanged') person.status = 'updated';
    }
  }
  return result;
}

// ---------- pass 3: relations and facts ----------

/** Relations and facts of one batch; resolves with the rows where something changed. */
async function writeLinks(
  trx: Transaction<DB>,
  rows: (BatchRow & { personId: number })[],
  importer: Importer,
  on: string,
): Promise<Set<number>> {
  const changedRows = new Set<number>();
  const numbers = [
    ...new Set(rows.flatMap((row) => collectReferences(row.record).map((ref) => ref.idNumber))),
  ];
  const idsByNumber = new Map<string, number>();
  if (numbers.length) {
    const found = await trx
      .selectFrom('persons')
      .select(['id', 'id_number'])
      .where('id_number', 'in', numbers)
      .execute();
    for (const p of found) if (p.id_number) idsByNumber.set(p.id_number, p.id);
  }
  const personIds = rows.map((row) => row.personId);

  // Relations: the current ones of these persons, and the missing ones inserted together.
  const existing = new Set(
    (
      await trx
        .selectFrom('person_relations')
        .select(['person_id', 'related_person_id', 'kind'])
        .where((eb) => eb.or([eb('person_id', 'in', personIds), eb('related_person_id', 'in', personIds)]))
        .where('valid_to', 'is', null)
        .execute()
    ).map((r) => `${r.person_id}|${r.related_person_id}|${r.kind}`),
  );
  const wanted: {
    rowNumber: number;
    person_id: number;
    related_person_id: number;
    kind: 'parent' | 'spouse' | 'carer';
  }[] = [];
  for (const row of rows) {
    const want = (number: string | null, kind: 'parent' | 'spouse' | 'carer') => {
      const related = number ? idsByNumber.get(number) : undefined;
      if (related === undefined || related === row.personId) return;
      let [a, b] = [row.personId, related];
      if (kind === 'spouse' && a > b) [a, b] = [b, a];
      const key = `${a}|${b}|${kind}`;
      if (existing.has(key)) return;
      existing.add(key);
      wanted.push({ rowNumber: row.rowNumber, person_id: a, related_person_id: b, kind });
    };
    want(row.record.fatherIdNumber, 'parent');
    want(row.record.motherIdNumber, 'parent');
    want(row.record.spouseIdNumber, 'spouse');
    want(row.record.carerIdNumber, 'carer');
  }
  if (wanted.length) {
    await trx
      .insertInto('person_relations')
      .values(
        wanted.map((w) => ({
          person_id: w.person_id,
          related_person_id: w.related_person_id,
          kind: w.kind,
          subtype: w.kind === 'parent' ? ('biological' as const) : null,
          source: 'import',
          recorded_by: importer.userId,
        })),
      )
      .execute();
    for (const w of wanted) changedRows.add(w.rowNumber);
  }

  // Facts: reconciled against the stored ones, new facts inserted together.
  const factsByPerson = new Map<number, StoredFact[]>();
  for (const f of await repo.listActiveFacts(trx, personIds))
    factsByPerson.set(f.person_id, [...(factsByPerson.get(f.person_id) ?? []), f]);
  const inserts: {
    person_id: number;
    kind: string;
    valid_from: string;
    valid_to: null;
    data: string;
    source: string;
    recorded_by: number | null;
  }[] = [];
  for (const row of rows) {
    for (const change of reconcileFacts(factsByPerson.get(row.personId) ?? [], factsOfRow(row.record), on)) {
      changedRows.add(row.rowNumber);
      switch (change.op) {
        case 'insert':
          inserts.push({
            person_id: row.personId,
            kind: change.kind,
            valid_from: change.from,
            valid_to: null,
            data: JSON.stringify(change.data),
            source: 'import',
            recorded_by: importer.userId,
          });
          break;
        case 'close':
          await trx
            .updateTable('person_facts')
            .set({ valid_to: change.to })
            .where('id', '=', change.id)
            .execute();
          break;
        case 'retract':
          await repo.retractFact(trx, change.id, row.personId, importer.userId, 'superseded by import');
          break;
      }
    }
  }
  if (inserts.length) await trx.insertInto('person_facts').values(inserts).execute();
  return changedRows;
}

// ---------- the use case ----------

/**
 * Imports a registry template file for an importer. Never throws for a bad file: a refused file
 * comes back with status 'rejected' and nothing written; row errors are counted and reported.
 */
export async function importRegistryFile(
  db: Kysely<DB>,
  source: TableSource,
  importer: Importer,
  options: ImportOptions = {},
): Promise<ImportOutcome> {
  const on = options.today ?? currentDate();
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? 500;
  const report = options.progress ?? (() => {});
  const regions = await loadRegionCodes(db);
  const headerInfo = { headers: [] as string[], unknown: [] as string[] };
  const parse = () =>
    parseRegistryFile(source, {
      regionExists: (code) => regions.has(code),
      today: on,
      onHeaders: (info) => {
        headerInfo.headers = info.headers;
        headerInfo.unknown = info.unknown;
      },
    });

  let validation: Validation;
  try {
    await report(0, null, 'validating');
    validation = await validate(db, importer, parse, headerInfo, (done) =>
      Promise.resolve(report(done, null, 'validating')),
    );
  } catch (error) {
    if (error instanceof FileRejected)
      return {
        status: 'rejected',
        counts: { ...ZERO },
        message: error.userMessage,
        unknownHeaders: [],
        errorReport: null,
      };
    throw error;
  }
  const total = validation.rows * 2;
  const counts: ImportCounts = { ...ZERO, rows: validation.rows };
  const statusByRow = new Map<number, RowStatus>();
  const personByRow = new Map<number, number>();
  const errorRows: { rowNumber: number; raw: Record<string, string>; errors: RowError[] }[] = [];

  // Real imports commit batch by batch; a dry run does the same work in one transaction that is
  // rolled back, so its counts are exactly what the import would do.
  const run = async (
    work: (inTx: <T>(fn: (trx: Transaction<DB>) => Promise<T>) => Promise<T>) => Promise<void>,
  ) => {
    if (!dryRun) return work((fn) => db.transaction().execute(fn));
    try {
      await db.transaction().execute(async (outer) => {
        await work((fn) => fn(outer));
        throw new DryRunRollback();
      });
    } catch (error) {
      if (!(error instanceof DryRunRollback)) throw error;
    }
  };
  // In a dry run the one transaction holds the embedded database's only connection: progress is
  // reported between the passes only.
  const progress = async (done: number, message: string) => {
    if (!dryRun) await report(done, total, message);
  };

  await run(async (inTx) => {
    // Pass 2: households and persons.
    const households = new Map<string, number>();
    let batch: ParsedRow[] = [];
    let done = 0;
    const flushPersons = async () => {
      if (!batch.length) return;
      const rows = batch;
      batch = [];
      const written = await inTx((trx) =>
        writePersons(
          trx,
          rows.map((row) => ({ rowNumber: row.rowNumber, record: row.record! })),
          households,
        ),
      );
      for (const [rowNumber, w] of written) {
        personByRow.set(rowNumber, w.personId);
        statusByRow.set(rowNumber, w.status);
      }
      done += rows.length;
      await progress(done, 'writing persons');
    };
    for await (const row of parse()) {
      const errors = row.record ? crossRowErrors(row.record, row.raw, validation, importer) : row.errors;
      if (!row.record || errors.length) {
        errorRows.push({ rowNumber: row.rowNumber, raw: row.raw, errors });
        done += 1;
        continue;
      }
      batch.push(row);
      if (batch.length >= batchSize) await flushPersons();
    }
    await flushPersons();

    // Pass 3: relations and facts, once every person of the file exists.
    let links: ParsedRow[] = [];
    const flushLinks = async () => {
      if (!links.length) return;
      const rows = links;
      links = [];
      const changed = await inTx((trx) =>
        writeLinks(
          trx,
          rows.map((row) => ({
            rowNumber: row.rowNumber,
            record: row.record!,
            personId: personByRow.get(row.rowNumber)!,
          })),
          importer,
          on,
        ),
      );
      for (const rowNumber of changed)
        if (statusByRow.get(rowNumber) === 'unchanged') statusByRow.set(rowNumber, 'updated');
      done += rows.length;
      await progress(done, 'linking relations and facts');
    };
    for await (const row of parse()) {
      if (!personByRow.has(row.rowNumber) || !row.record) {
        done += 1;
        continue;
      }
      links.push(row);
      if (links.length >= batchSize) await flushLinks();
    }
    await flushLinks();

    for (const status of statusByRow.values()) counts[status] += 1;
    counts.errors = errorRows.length;
    if (!dryRun)
      await inTx((trx) =>
        audit(trx, importer.auditActor, {
          action: 'registry.import',
          entityType: 'import',
          regionCode: importer.regionCode,
          details: { ...counts, kind: options.kind ?? 'registry' },
        }),
      );
  });
  if (dryRun) {
    // The audit entry of a dry run is written after the rollback.
    await audit(db, importer.auditActor, {
      action: 'registry.import.dry_run',
      entityType: 'import',
      regionCode: importer.regionCode,
      details: { ...counts, kind: options.kind ?? 'registry' },
    });
  }

  let errorReport: ImportOutcome['errorReport'] = null;
  if (options.errorReportBase && errorRows.length) {
    const headers = validation.headers.filter((h) => h !== ERROR_REASON_HEADER);
    errorReport = { xlsx: `${options.errorReportBase}.xlsx`, csv: `${options.errorReportBase}.csv` };
    await writeErrorReport(errorReport.xlsx, errorRows, { headers });
    await writeErrorReport(errorReport.csv, errorRows, { headers });
  }
  await report(total, total, 'done');
  return {
    status: 'succeeded',
    counts,
    message: null,
    unknownHeaders: validation.unknownHeaders,
    errorReport,
  };
}
