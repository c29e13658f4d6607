// The child ledger import (留守儿童台账, EXCHANGE.md): one row per child, with the parents,
// grandparents and entrusted carer as columns. Each named person is matched by ID number, else by
// name + birth date within the county, else registered; the links between them and the parents'
// migration are recorded. Same guarantees as the template import: a refused file writes nothing
// (a first pass reads the whole file before any write), a dry run is rolled back, a re-import
// changes nothing.
import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { today as currentDate } from '../../platform/dates.ts';
import { audit } from '../access/index.ts';
import { writeErrorReport } from './registry.errors-report.ts';
import { loadCountyPlaces, parseLedgerFile, type LedgerPerson, type LedgerRow } from './registry.ledger.ts';
import { FileRejected, type TableSource } from './registry.reader.ts';
import type { RowError } from './registry.template.ts';
import { nameSpellings, reconcileFacts, type TemplateFact } from './registry.rules.ts';
import type { Importer, ImportOptions, ImportOutcome } from './registry.import.ts';
import * as repo from './registry.repository.ts';
import type { ImportCounts } from './registry.tables.ts';

const NO_ID = '台账未填身份号码';

class DryRunRollback extends Error {}

interface Found {
  id: number;
  created: boolean;
}

/** A person named in the ledger: by ID number, else name + birth date in the county, else new. */
async function findOrRegister(
  trx: Transaction<DB>,
  p: LedgerPerson & { sex?: 1 | 2 | null; phone?: string | null; ethnicity?: string | null },
  county: string,
  hukou: string,
  householdId: number | null,
  linkedTo?: { personId: number; kind: 'parent' | 'carer' },
): Promise<Found | null> {
  if (!p.name) return null;
  if (linkedTo && !p.idNumber) {
    // A parent or carer named without ID number or birth date is the one already linked by that name.
    const linked = await trx
      .selectFrom('person_relations as r')
      .innerJoin('persons as o', 'o.id', 'r.related_person_id')
      .select('o.id')
      .where('r.person_id', '=', linkedTo.personId)
      .where('r.kind', '=', linkedTo.kind)
      .where('r.valid_to', 'is', null)
      .where('o.name', '=', p.name)
      .executeTakeFirst();
    if (linked) return { id: linked.id, created: false };
  }
  if (p.idNumber) {
    const byId = await repo.findPersonByIdNumber(trx, p.idNumber);
    if (byId) return { id: byId.merged_into ?? byId.id, created: false };
  } else if (p.birthDate) {
    const byName = await trx
      .selectFrom('persons')
      .select(['id'])
      .where('name', '=', p.name)
      .where('birth_date', '=', p.birthDate)
      .where('merged_into', 'is', null)
      .where('hukou_region_code', '>=', county)
      .where('hukou_region_code', '<', county + '\uffff')
      .orderBy('id')
      .executeTakeFirst();
    if (byName) return { id: byName.id, created: false };
  } else if (!linkedTo) {
    return null;
  }
  const spelled = nameSpellings(p.name);
  const row = await repo.insertPerson(trx, {
    id_number: p.idNumber,
    no_id_reason: p.idNumber ? null : NO_ID,
    name: p.name,
    name_pinyin: spelled.pinyin,
    name_initials: spelled.initials,
    sex: p.sex ?? (p.idNumber ? ((Number(p.idNumber.charAt(16)) % 2 === 1 ? 1 : 2) as 1 | 2) : null),
    birth_date: p.birthDate,
    ethnicity: p.ethnicity ?? null,
    phone: p.phone ?? null,
    hukou_region_code: hukou,
    household_id: householdId,
  });
  return { id: row.id, created: true };
}

async function writeRow(
  trx: Transaction<DB>,
  row: LedgerRow,
  county: string,
  importer: Importer,
  on: string,
): Promise<'inserted' | 'updated' | 'unchanged'> {
  const hukou = row.addresses.hukouRegionCode!;
  let changed = false;
  const child = row.child;
  const existingChild = child.idNumber ? await repo.findPersonByIdNumber(trx, child.idNumber) : undefined;
  let householdId = existingChild?.household_id ?? null;
  if (householdId === null) {
    // The ledger has no household number: the child's household is named after the child.
    const householdNo = `台账-${child.idNumber ?? `${child.name}-${child.birthDate}`}`;
    const household = await repo.findHouseholdByNo(trx, county, householdNo);
    householdId = household
      ? household.id
      : (
          await repo.insertHousehold(trx, {
            county_code: county,
            household_no: householdNo,
            hukou_region_code: hukou,
            assets: '{}',
          })
        ).id;
  }
  const childFound = await findOrRegister(
    trx,
    { ...child, sex: child.sex, ethnicity: child.ethnicity },
    county,
    hukou,
    householdId,
  );
  if (!childFound) return 'unchanged';
  if (childFound.created) {
    await trx
      .updateTable('persons')
      .set({ relation_to_head: '户主' })
      .where('id', '=', childFound.id)
      .execute();
    await trx
      .updateTable('households')
      .set({ head_person_id: childFound.id })
      .where('id', '=', householdId)
      .where('head_person_id', 'is', null)
      .execute();
  }
  const link = async (personId: number, relatedId: number, kind: 'parent' | 'carer') => {
    if (personId === relatedId) return;
    const added = await repo.ensureRelation(trx, {
      person_id: personId,
      related_person_id: relatedId,
      kind,
      subtype: kind === 'parent' ? 'biological' : null,
      source: 'ledger',
      recorded_by: importer.userId,
    });
    if (added) changed = true;
  };
  const facts = async (personId: number, wanted: TemplateFact[]) => {
    const stored = await repo.listActiveFacts(trx, [personId]);
    for (const change of reconcileFacts(stored, { facts: wanted, ended: [] }, on)) {
      changed = true;
      if (change.op === 'insert')
        await repo.insertFact(trx, {
          person_id: personId,
          kind: change.kind,
          valid_from: change.from,
          data: JSON.stringify(change.data),
          source: 'ledger',
          recorded_by: importer.userId,
        });
      else if (change.op === 'close')
        await trx
          .updateTable('person_facts')
          .set({ valid_to: change.to })
          .where('id', '=', change.id)
          .execute();
      else await repo.retractFact(trx, change.id, personId, importer.userId, 'superseded by ledger import');
    }
  };
  const parents: Record<'father' | 'mother', number | null> = { father: null, mother: null };
  for (const which of ['father', 'mother'] as const) {
    const p = row[which];
    if (!p) continue;
    const found = await findOrRegister(
      trx,
      { ...p, sex: which === 'father' ? 1 : 2 },
      county,
      hukou,
      householdId,
      { personId: childFound.id, kind: 'parent' },
    );
    if (!found) continue;
    if (found.created) changed = true;
    parents[which] = found.id;
    await link(childFound.id, found.id, 'parent');
    // The ledger gives a work place but no start: migration is recorded from the import day and
    // compared by destination only, so a re-import on another day changes nothing.
    if (p.workplace)
      await facts(found.id, [
        { kind: 'migration', mode: 'state', from: null, data: { destination: p.workplace } },
      ]);
  }
  for (const g of row.grandparents) {
    const parentId = g.role.startsWith('paternal') ? parents.father : parents.mother;
    const found = await findOrRegister(
      trx,
      { ...g, sex: g.role.endsWith('father') ? 1 : 2 },
      county,
      hukou,
      null,
      parentId !== null ? { personId: parentId, kind: 'parent' } : undefined,
    );
    if (!found) continue;
    if (found.created) changed = true;
    if (parentId !== null) await link(parentId, found.id, 'parent');
  }
  if (row.carer) {
    const found = await findOrRegister(trx, row.carer, county, hukou, null, {
      personId: childFound.id,
      kind: 'carer',
    });
    if (found) {
      if (found.created) changed = true;
      await link(childFound.id, found.id, 'carer');
    }
  }
  const childFacts: TemplateFact[] = [];
  if (child.disability)
    childFacts.push({
      kind: 'disability',
      mode: 'state',
      from: null,
      data: { category: child.disability.category, grade: child.disability.grade },
    });
  if (child.schoolStage)
    childFacts.push({ kind: 'schooling', mode: 'state', from: null, data: { stage: child.schoolStage } });
  if (child.health === 'ill')
    childFacts.push({ kind: 'serious_illness', mode: 'flag', from: null, data: {} });
  if (childFacts.length) await facts(childFound.id, childFacts);
  return childFound.created ? 'inserted' : changed ? 'updated' : 'unchanged';
}

/** Imports a child ledger for an importer of a county or below. */
export async function importLedgerFile(
  db: Kysely<DB>,
  source: TableSource,
  importer: Importer,
  options: ImportOptions = {},
): Promise<ImportOutcome> {
  const on = options.today ?? currentDate();
  const report = options.progress ?? (() => {});
  const county = importer.regionCode.slice(0, 6);
  const places = await loadCountyPlaces(county);
  const parse = () => parseLedgerFile(source, { today: on, places });
  const counts: ImportCounts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 };
  const errorRows: { rowNumber: number; raw: Record<string, string>; errors: RowError[] }[] = [];
  let headers: string[] = [];
  try {
    for await (const row of parse()) {
      counts.rows += 1;
      if (!headers.length) headers = Object.keys(row.raw);
    }
  } catch (error) {
    if (error instanceof FileRejected)
      return {
        status: 'rejected',
        counts,
        message: error.userMessage,
        unknownHeaders: [],
        errorReport: null,
      };
    throw error;
  }
  const rowErrors = (row: LedgerRow): RowError[] => {
    const errors = [...row.errors];
    const hukou = row.addresses.hukouRegionCode;
    if (!errors.length && !hukou)
      errors.push({
        column: '户籍所在地',
        value: row.raw['户籍所在地'] ?? '',
        reason: { zh: '户籍所在地为空或无法识别', en: 'the hukou address is empty or not recognised' },
      });
    else if (hukou && !hukou.startsWith(importer.regionCode))
      errors.push({
        column: '户籍所在地',
        value: row.raw['户籍所在地'] ?? '',
        reason: {
          zh: `户籍地不在您的管辖范围（${importer.regionCode}）内`,
          en: `the hukou village is outside your region (${importer.regionCode})`,
        },
      });
    if (!errors.length && !row.child.idNumber && !row.child.birthDate)
      errors.push({
        column: '公民身份号码',
        value: '',
        reason: {
          zh: '没有公民身份号码时必须填写出生日期',
          en: 'the birth date is required when there is no ID number',
        },
      });
    return errors;
  };
  const work = async (inTx: <T>(fn: (trx: Transaction<DB>) => Promise<T>) => Promise<T>) => {
    let done = 0;
    for await (const row of parse()) {
      done += 1;
      const errors = rowErrors(row);
      if (errors.length) {
        errorRows.push({ rowNumber: row.rowNumber, raw: row.raw, errors });
        continue;
      }
      const status = await inTx((trx) => writeRow(trx, row, county, importer, on));
      counts[status] += 1;
      if (!options.dryRun && done % 200 === 0) await report(done, counts.rows, 'writing');
    }
    counts.errors = errorRows.length;
  };
  if (options.dryRun) {
    try {
      await db.transaction().execute(async (outer) => {
        await work((fn) => fn(outer));
        throw new DryRunRollback();
      });
    } catch (error) {
      if (!(error instanceof DryRunRollback)) throw error;
    }
  } else {
    await work((fn) => db.transaction().execute(fn));
  }
  await audit(db, importer.auditActor, {
    action: options.dryRun ? 'registry.import.dry_run' : 'registry.import',
    entityType: 'import',
    regionCode: importer.regionCode,
    details: { ...counts, kind: 'ledger' },
  });
  let errorReport: ImportOutcome['errorReport'] = null;
  if (options.errorReportBase && errorRows.length) {
    errorReport = { xlsx: `${options.errorReportBase}.xlsx`, csv: `${options.errorReportBase}.csv` };
    await writeErrorReport(errorReport.xlsx, errorRows, { headers });
    await writeErrorReport(errorReport.csv, errorRows, { headers });
  }
  await report(counts.rows, counts.rows, 'done');
  return { status: 'succeeded', counts, message: null, unknownHeaders: [], errorReport };
}
