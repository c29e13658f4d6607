// The import use case (导入): a registry template file into households, persons, relations and
// facts. The file is read once, streaming; memory holds a batch, never the file:
//   1. stage: every row parsed, in a worker thread with a bounded heap (registry.parse-worker.ts);
//      a structural fault (FileRejected) refuses the file whole before anything is written; good
//      rows are copied (COPY) into an unlogged staging table, row errors beside them;
//   2. check: cross-row references and the importer's region are resolved in SQL over the whole
//      file and the registry; rows that fail are reported and not written;
//   3. write, set-based (registry.import-stage.ts): households, persons, household heads, then
//      relations and facts, each writing only what differs from what is stored; on PostgreSQL
//      two chunks at a time, each in its own transaction.
// Row errors do not stop the good rows; they come back in an error report (docs/DECISIONS.md).
// Re-importing the same file changes nothing: every write happens only when a value differs.
import { on } from 'node:events';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { Database } from '../../platform/db.ts';
import type { DB } from '../../platform/db.schema.ts';
import type { Message } from '../../platform/errors.ts';
import { today as currentDate } from '../../platform/dates.ts';
import { audit, hasPermission, recordRead, type Actor, type AuditActor } from '../access/index.ts';
import {
  ID_TAKEN_LIMIT,
  ID_TAKEN_WINDOW_MS,
  countIdTaken,
  idTakenLeft,
  minutesUntilFreed,
} from './registry.id-budget.ts';
import { readDivision } from '../regions/index.ts';
import { writeErrorReport, ERROR_REASON_HEADER, type ErrorReportRow } from './registry.errors-report.ts';
import type { ParseMessage, ParseWorkerData } from './registry.parse-worker.ts';
import { FileRejected, ROWS_PER_SHEET, sheetRow, type TableSource } from './registry.reader.ts';
import { readTemplateTable } from './registry.parse.ts';
import type { LocalizedMessage } from '../../platform/normalize.ts';
import { headerOf, rawText, type RowError } from './registry.template.ts';
import { reconcileFacts, type StoredFact } from './registry.rules.ts';
import type { ImportCounts, ImportKind } from './registry.tables.ts';
import * as stageSql from './registry.import-stage.ts';
import type { FactWrites, IdMatch, ImportStage, RowFlags } from './registry.import-stage.ts';
import { importCommitted } from './registry.import-events.ts';

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
  /** Rows per staging statement and per write transaction. */
  batchSize?: number;
  /** The parsing worker's old-generation heap in MB (default 192; tests make it small). */
  parseHeapMb?: number;
  /** The import's row in `imports`, named to the listeners of a committed import. */
  importId?: number;
  /** When given, milliseconds per step are added to it (bench/import prints them). */
  timings?: Record<string, number>;
}

export interface ImportOutcome {
  status: 'succeeded' | 'rejected';
  counts: ImportCounts;
  /** Why the file was refused whole. */
  message: Message | null;
  unknownHeaders: string[];
  errorReport: { xlsx: string; csv: string } | null;
}

/** Thrown inside a dry run's transaction to roll everything back. */
class DryRunRollback extends Error {}

const ZERO: ImportCounts = { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 };

/**
 * The region codes a file may name: every region in force in the database, and China's provinces,
 * prefectures and counties from the division data whether loaded or not. A county installation loads
 * its own villages only, while a child's 现居住地 may be a county far away (a child ledger stores
 * 广东省深圳市宝安区 as 440306), and its export must import back.
 */
async function loadRegionCodes(db: Kysely<DB>): Promise<Set<string>> {
  const codes = new Set<string>();
  for await (const r of readDivision({ levels: 3 })) codes.add(r.code);
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

const REFERENCE_HEADERS: Record<number, string> = {
  1: headerOf('fatherIdNumber'),
  2: headerOf('motherIdNumber'),
  3: headerOf('spouseIdNumber'),
  4: headerOf('carerIdNumber'),
};

/**
 * The errors of a row that need the database or the rest of the file, from the check's findings.
 * The cells' values are filled in from the file when the report is written.
 */
function crossRowErrors(f: RowFlags, importer: Importer): RowError[] {
  const errors: RowError[] = [];
  const at = (column: string) => ({ column, value: '' });
  const relation = headerOf('relationToHead');
  if (f.out_hukou) {
    errors.push({
      ...at(headerOf('hukouRegionCode')),
      reason: {
        zh: `户籍地 ${f.hukou} 不在您的管辖范围（${importer.regionCode}）内`,
        en: `the hukou village ${f.hukou} is outside your region (${importer.regionCode})`,
      },
    });
    return errors;
  }
  if (f.out_person)
    errors.push({
      ...at(headerOf('idNumber')),
      reason: {
        zh: '此人已在您管辖范围以外的地区登记（户籍迁入须先办理迁移）',
        en: 'this person is registered in a region outside yours (a hukou transfer must come first)',
      },
    });
  if (f.out_household)
    errors.push({
      ...at(headerOf('householdNo')),
      reason: {
        zh: '本县该户编号属于您管辖范围以外的村',
        en: 'this household number belongs to a village outside your region',
      },
    });
  if (f.heads?.length)
    errors.push({
      ...at(relation),
      reason: {
        zh: `与第 ${f.heads.join('、')} 行同为本户（户编号相同）的户主：一户只有一位户主，请只保留一位“户主”，其他人改填与户主的关系后重新导入`,
        en: `row ${f.heads.join(', ')} of the same household is also 户主; a household has one head: keep one 户主 and give the others their relation to the head`,
      },
    });
  if (f.old_head !== null) {
    // A head registered outside the importer's region is not named (their file answers 404 to them).
    const shown = f.old_head_region?.startsWith(importer.regionCode) === true;
    const zhHead = shown ? `“${f.old_head_name ?? ''}”(#${f.old_head})` : '（户籍在您的管辖范围以外）';
    const enHead = shown ? `${f.old_head_name ?? ''} (#${f.old_head})` : 'registered outside your region';
    errors.push({
      ...at(relation),
      reason: {
        zh: `本户现有户主${zhHead}，本文件中没有其可导入的行：更换户主须在同一文件中写明原户主新的与户主关系（如 父亲、配偶），或在户信息中更换户主`,
        en: `the household's head is ${enHead}, who has no importable row in this file; to change the head, give the former head's new relation to the head in the same file, or change the head on the household`,
      },
    });
  }
  for (const [ref, id, name, region] of [
    [1, f.other_father, f.other_father_name, f.other_father_region],
    [2, f.other_mother, f.other_mother_name, f.other_mother_region],
  ] as const) {
    if (id === null) continue;
    const [zh, en] = ref === 1 ? ['生父', 'father'] : ['生母', 'mother'];
    // Named only to an importer whose region holds them, as the former head is.
    const shown = region?.startsWith(importer.regionCode) === true;
    const zhWho = shown ? `“${name ?? ''}”(#${id})` : '（户籍在您的管辖范围以外）';
    const enWho = shown ? `${name ?? ''}, #${id}` : 'registered outside your region';
    errors.push({
      ...at(REFERENCE_HEADERS[ref] ?? ''),
      reason: {
        zh: `此人已登记${zh}${zhWho}，与本行所填不是同一人：一人只有一位生父和一位生母，继父母或养父母请在人员档案中按相应类型登记`,
        en: `a biological ${en} is recorded for this person already (${enWho}), not the one in this row; a person has one biological father and one biological mother (record a step or adoptive parent with that type in the person's file)`,
      },
    });
  }
  (f.missing ?? []).forEach((ref, i) => {
    const row = f.missing_rows?.[i] ?? null;
    errors.push({
      ...at(REFERENCE_HEADERS[ref] ?? ''),
      reason:
        row === null
          ? {
              zh: '该公民身份号码既不在本文件中，也未在您管辖的地区登记（导入不能与管辖范围以外登记的人员建立关系）',
              en: 'no person with this ID number is in the file or registered in your region (an import cannot link to a person registered outside it)',
            }
          : {
              zh: `该公民身份号码所在的第 ${row} 行有错误、未导入：请先改正第 ${row} 行`,
              en: `the row with this ID number (row ${row}) has errors and was not imported; correct row ${row} first`,
            },
    });
  });
  return errors;
}

const REFERENCE_LABELS: Record<number, { zh: string; en: string }> = {
  1: { zh: '父亲', en: 'father' },
  2: { zh: '母亲', en: 'mother' },
  3: { zh: '配偶', en: 'spouse' },
  4: { zh: '委托照护人', en: 'entrusted carer' },
};

/**
 * The errors of the rows that name a link a clerk retracted as wrong (refuseRetractedLinks): on the
 * column that names it, with the day it was retracted. Only the link is refused; the rest of the row
 * is written. A clerk who finds the link right after all records it in the person's file (by hand, as
 * the retraction was), which the import then leaves as it is.
 */
function retractedLinkErrors(
  links: readonly stageSql.RetractedLink[],
): { rowNumber: number; errors: RowError[] }[] {
  const byRow = new Map<number, RowError[]>();
  for (const link of links) {
    const label = REFERENCE_LABELS[link.ref] ?? { zh: '', en: '' };
    const day = currentDate(new Date(link.retracted_at));
    const error: RowError = {
      column: REFERENCE_HEADERS[link.ref] ?? '',
      value: '',
      reason: {
        zh: `与该${label.zh}的关系已于 ${day} 作为误登记撤回，导入不再建立此关系（本行其他内容已照常导入）；如确为此人，请在人员档案中重新登记该关系`,
        en: `the link to this ${label.en} was retracted as wrong on ${day}; the import does not make it again (the rest of the row was imported as usual); if it is right after all, record it again in the person's file`,
      },
    };
    const list = byRow.get(link.row_number);
    if (list) list.push(error);
    else byRow.set(link.row_number, [error]);
  }
  return [...byRow].map(([rowNumber, errors]) => ({ rowNumber, errors }));
}

/** The columns whose ID number matched a registered person (IdMatch.ref). */
const MATCHED_COLUMNS: Record<number, string> = { 0: headerOf('idNumber'), ...REFERENCE_HEADERS };

/**
 * Audits each registered person the file's ID numbers matched (person.id_matched, one entry per person
 * and import, as the child ledger's are), for an importer who may not reveal ID numbers: to him a match
 * confirms a full ID number he may not see (a row counted as updated, an error naming the
 * registration), so each is on record (docs/DECISIONS.md "The ID mask"). Group-committed as reads are,
 * a page of matches at a time. Not for a caller who may reveal, nor for the server console (a re-import
 * of a million registered persons would write a million entries): their import's own entry stands.
 */
async function auditIdMatches(
  db: Kysely<DB>,
  stage: ImportStage,
  importer: Importer,
  options: ImportOptions & { dryRun: boolean },
): Promise<void> {
  const actor = importer.auditActor;
  const entry = (m: IdMatch) => ({
    action: 'person.id_matched',
    entityType: 'person',
    entityId: m.person_id,
    regionCode: m.region_code,
    details: {
      via: 'import',
      importId: options.importId ?? null,
      kind: options.kind ?? 'registry',
      dryRun: options.dryRun,
      column: MATCHED_COLUMNS[m.ref] ?? '',
      nameDiffers: m.name_differs,
    },
  });
  for (let after = 0; ;) {
    const page = await stageSql.idMatchesAfter(db, stage, after, 2000);
    const last = page[page.length - 1];
    if (!last) return;
    await Promise.all(page.map((m) => recordRead(db, actor, entry(m))));
    after = last.person_id;
  }
}

/** The importer whose imports draw on the ID-number budget: a user or token who may not reveal. */
function budgetedCaller(importer: Importer): Actor | null {
  const actor = importer.auditActor;
  return 'permissions' in actor && !hasPermission(actor, 'persons.reveal') ? actor : null;
}

const PROBE_COLUMNS: Record<number, string> = { 0: headerOf('idNumber'), ...REFERENCE_HEADERS };

/**
 * Counts the rows of a file that answer whether an ID number is registered (stageSql.idProbes: held
 * outside the importer's region, own or a relative's; or a near miss on a person of the region, by name
 * and birth date with another number, or the number with another name) against the caller's hourly
 * budget, shared with the API's refusals of a taken number (registry.id-budget.ts). Within it, they are
 * spent and the import runs as before. Over it, the file is refused whole before any row is answered
 * (no error report, no counts), a dry run too, and what was left of the budget is spent: the refusal
 * itself says the file has more such rows than were left. With nothing left, any file that gives an ID
 * number is refused, whatever its numbers, as the API refuses any ID number then (so the refusal says
 * nothing about them). One audit entry, counts only (person.id_number_taken.limited).
 */
async function spendIdBudget(
  db: Kysely<DB>,
  stage: ImportStage,
  importer: Importer,
  caller: Actor,
  options: ImportOptions & { dryRun: boolean },
): Promise<{ probes: stageSql.IdProbe[] } | { refused: ImportOutcome }> {
  const left = idTakenLeft(db, caller);
  const probes = left > 0 ? await stageSql.idProbes(db, stage, importer.regionCode, left) : [];
  const total = probes[0]?.total ?? 0;
  // Decided after the last await: the check and the spending together, so that two imports of one
  // caller at once cannot spend the same budget twice.
  const nowLeft = idTakenLeft(db, caller);
  if (total <= nowLeft && (nowLeft > 0 || !(await stageSql.anyIdNumber(db, stage)))) {
    countIdTaken(db, caller, total);
    return { probes };
  }
  // Refused with nothing left (whatever the numbers), or for more rows than were left.
  const exhausted = total <= nowLeft;
  countIdTaken(db, caller, ID_TAKEN_LIMIT);
  const minutes = minutesUntilFreed(db, caller);
  await recordRead(db, caller, {
    action: 'person.id_number_taken.limited',
    entityType: 'import',
    entityId: options.importId ?? null,
    regionCode: importer.regionCode,
    result: 'denied',
    details: {
      via: 'import',
      kind: options.kind ?? 'registry',
      dryRun: options.dryRun,
      rows: exhausted ? null : total,
      left: nowLeft,
      limit: ID_TAKEN_LIMIT,
      windowMinutes: ID_TAKEN_WINDOW_MS / 60_000,
    },
  });
  const message: Message = exhausted
    ? {
        zh: `一小时内已有 ${ID_TAKEN_LIMIT} 次因公民身份号码已登记为他人而被拒绝：约 ${minutes} 分钟内不能导入含公民身份号码的文件，本文件未导入（试运行也不例外）。请核对号码，含这些号码的导入请由县级民政部门（有权查看完整号码的人员）办理`,
        en: `${ID_TAKEN_LIMIT} refusals within an hour for ID numbers registered to others: no file with ID numbers can be imported for about ${minutes} minutes, and this file was not imported (a dry run neither). Check the numbers; an import with these numbers must be done by the county civil affairs staff, who may reveal ID numbers`,
      }
    : {
        zh: `本文件有 ${total} 行的公民身份号码已在您管辖范围以外登记，或与您辖区已登记人员的姓名、出生日期相同而号码不同（或号码相同而姓名不同），超过了您一小时内剩余的 ${nowLeft} 次：文件整体未导入（试运行也不例外），约 ${minutes} 分钟内不能导入含公民身份号码的文件。含这些号码的导入须由县级民政部门（有权查看完整号码的人员）办理`,
        en: `${total} rows of this file give ID numbers registered outside your region, or match a person registered in your region by name and birth date with another number (or by number with another name): more than the ${nowLeft} left to you within the hour. The file was not imported at all (a dry run neither), and no file with ID numbers can be imported for about ${minutes} minutes. An import with these numbers must be done by the county civil affairs staff, who may reveal ID numbers`,
      };
  return {
    refused: { status: 'rejected', counts: { ...ZERO }, message, unknownHeaders: [], errorReport: null },
  };
}

/**
 * Audits each row counted against the budget (spendIdBudget) as the API audits a refused number
 * (person.id_number_taken, denied, never the number): the person of the region it points at, or that
 * the holder is outside the region.
 */
async function auditIdProbes(
  db: Kysely<DB>,
  probes: readonly stageSql.IdProbe[],
  importer: Importer,
  caller: Actor,
  options: ImportOptions & { dryRun: boolean },
): Promise<void> {
  await Promise.all(
    probes.map((p) =>
      recordRead(db, caller, {
        action: 'person.id_number_taken',
        entityType: 'person',
        entityId: p.person_id,
        regionCode: p.region_code ?? importer.regionCode,
        result: 'denied',
        details: {
          via: 'import',
          importId: options.importId ?? null,
          kind: options.kind ?? 'registry',
          dryRun: options.dryRun,
          rowNumber: p.row_number,
          field: PROBE_COLUMNS[p.ref] ?? '',
          holder:
            p.probe === 'out' || p.probe === 'relative'
              ? 'outOfScope'
              : p.probe === 'name'
                ? 'inScope'
                : 'none',
          probe: p.probe,
        },
      }),
    ),
  );
}

/**
 * The parsing worker's heap: the reader, row validation and a batch or two of stage lines fit well
 * within it; a smaller young generation means less garbage between collections.
 */
const PARSE_LIMITS = { maxOldGenerationSizeMb: 192, maxYoungGenerationSizeMb: 32 };

/**
 * A workbook whose shared strings (Excel keeps every distinct text of the sheet in one table, read
 * before the rows) do not fit the parsing worker's heap: refused whole, before anything is written.
 */
const TOO_LARGE = new FileRejected('TOO_LARGE', {
  zh: '文件过大，无法读取：请将工作表另存为 CSV（UTF-8）或分成几个文件后再导入',
  en: 'the file is too large to read; save the worksheet as CSV (UTF-8) or split it into several files',
});

/**
 * Pass 1: every row of the file parsed (in a worker thread, registry.parse-worker.ts) and copied
 * into the stage, a batch at a time. Throws FileRejected for a refused file.
 */
async function stageFile(
  database: Database,
  stage: ImportStage,
  source: TableSource,
  options: { today: string; regions: Set<string>; batchSize: number; heapMb: number },
  progress: (done: number) => Promise<void>,
): Promise<{ rows: number; headers: string[]; unknownHeaders: string[]; copyMs: number }> {
  const { heapMb, ...parse } = options;
  const workerData: ParseWorkerData = { source, ...parse };
  const worker = new Worker(new URL('./registry.parse-worker.ts', import.meta.url), {
    workerData,
    resourceLimits: { ...PARSE_LIMITS, maxOldGenerationSizeMb: heapMb },
  });
  const file = { rows: 0, headers: [] as string[], unknownHeaders: [] as string[], copyMs: 0 };
  let reported = 0;
  try {
    // The iterator throws the worker's own failure (an 'error' event), out of memory included.
    for await (const [message] of on(worker, 'message', { close: ['exit'] }) as AsyncIterable<
      [ParseMessage]
    >) {
      switch (message.type) {
        case 'headers':
          file.headers = message.headers;
          file.unknownHeaders = message.unknown;
          break;
        case 'batch':
          {
            const start = performance.now();
            await stageSql.copyStageLines(database, stage, message);
            file.copyMs += performance.now() - start;
          }
          worker.postMessage('ack');
          file.rows = message.parsed;
          if (file.rows - reported >= 5000) {
            reported = file.rows;
            await progress(file.rows);
          }
          break;
        case 'rejected':
          throw new FileRejected(message.reason, message.message);
        case 'end':
          file.rows = message.parsed;
          {
            const start = performance.now();
            await stageSql.finishStage(database.db, stage);
            file.copyMs += performance.now() - start;
          }
          return file;
      }
    }
    throw new Error("the import's parsing worker stopped without finishing");
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ERR_WORKER_OUT_OF_MEMORY') throw TOO_LARGE;
    throw error;
  } finally {
    await worker.terminate();
  }
}

/**
 * The settings of the import's transactions on PostgreSQL. No JIT: the stage's statements are
 * planned before the registry tables' statistics catch up with the rows just written, the estimates
 * run into the millions and compiling took 0.3-0.5 s per statement, more than some statements ran.
 * More memory per sort and hash: the file's rows are sorted and hashed whole (the default 4 MB
 * spilled them to disk).
 */
async function tuneTransaction(trx: Transaction<DB>, kind: Database['kind']): Promise<void> {
  if (kind === 'postgres')
    await sql`SELECT set_config('jit', 'off', true), set_config('work_mem', '64MB', true)`.execute(trx);
}

/** Pass 2: rows that cannot be written get their errors and leave the stage. */
async function checkCrossRow(db: Kysely<DB>, stage: ImportStage, importer: Importer): Promise<void> {
  const flagged = await stageSql.flagCrossRowErrors(db, stage, importer.regionCode);
  if (!flagged) return;
  let after = 0;
  for (;;) {
    const page = await stageSql.flaggedRows(db, stage, after, 5000);
    const last = page[page.length - 1];
    if (!last) break;
    await stageSql.addErrors(
      db,
      stage,
      page.map((f) => ({ rowNumber: f.row_number, errors: crossRowErrors(f, importer) })),
    );
    after = last.row_number;
  }
  await stageSql.dropFlaggedRows(db, stage);
}

/**
 * Runs the work of every chunk, `concurrency` at a time, reporting how many are done. After a
 * failure no new chunk starts; it resolves or throws once every started chunk has finished.
 */
async function eachChunk<T>(
  chunks: readonly T[],
  concurrency: number,
  work: (chunk: T) => Promise<unknown>,
  done: (count: number) => Promise<void>,
): Promise<void> {
  let next = 0;
  let finished = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < chunks.length) {
      const chunk = chunks[next++] as T;
      try {
        await work(chunk);
      } catch (error) {
        failed = true;
        throw error;
      }
      finished += 1;
      await done(finished);
    }
  };
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(concurrency, chunks.length) }, lane));
  const failure = lanes.find((l) => l.status === 'rejected');
  if (failure) throw failure.reason;
}

/** A chunk's fact changes: the pure reconciliation against the stored facts. */
function reconcileChunk(
  rows: stageSql.FactRow[],
  stored: (StoredFact & { person_id: number })[],
  on: string,
): FactWrites {
  const byPerson = new Map<number, StoredFact[]>();
  for (const f of stored) {
    const list = byPerson.get(f.person_id);
    if (list) list.push(f);
    else byPerson.set(f.person_id, [f]);
  }
  const w: FactWrites = { inserts: [], closes: [], retracts: [], rowsChanged: [] };
  for (const row of rows) {
    const changes = reconcileFacts(byPerson.get(row.person_id) ?? [], row.facts, on);
    if (changes.length && !row.inserted) w.rowsChanged.push(row.row_number);
    for (const change of changes) {
      switch (change.op) {
        case 'insert':
          w.inserts.push({
            personId: row.person_id,
            kind: change.kind,
            from: change.from,
            data: JSON.stringify(change.data),
          });
          break;
        case 'close':
          w.closes.push({ id: change.id, to: change.to });
          break;
        case 'retract':
          w.retracts.push(change.id);
          break;
      }
    }
  }
  return w;
}

/**
 * A reason of a row read from a workbook of several worksheets (one per village), whose row numbers
 * repeat from sheet to sheet: it starts with the row's sheet (工作表“司寨村”：…, as the child ledger's
 * report), and a row it names is given by its own number, with its sheet when that is another one
 * (与工作表“南彰村”第 4 行重复). The rows are named by their numbers in the table (ROWS_PER_SHEET),
 * written as 第 N 行 / row N by the parsing and the cross-row check.
 */
function onSheets(reason: LocalizedMessage, rowNumber: number, sheets: readonly string[]): LocalizedMessage {
  const own = sheetRow(rowNumber).sheet;
  const name = (sheet: number) => sheets[sheet] ?? '';
  const rowsOf = (list: string, separator: string) => list.split(separator).map((n) => sheetRow(Number(n)));
  const zh = reason.zh.replace(/第 (\d+(?:、\d+)*) 行/g, (_, list: string) => {
    const rows = rowsOf(list, '、');
    if (rows.every((r) => r.sheet === own)) return `第 ${rows.map((r) => r.row).join('、')} 行`;
    return rows.map((r) => `${r.sheet === own ? '' : `工作表“${name(r.sheet)}”`}第 ${r.row} 行`).join('、');
  });
  const en = reason.en.replace(/\brow (\d+(?:, \d+)*)/g, (_, list: string) => {
    const rows = rowsOf(list, ', ');
    if (rows.every((r) => r.sheet === own)) return `row ${rows.map((r) => r.row).join(', ')}`;
    return rows
      .map((r) => `row ${r.row}${r.sheet === own ? '' : ` of the worksheet "${name(r.sheet)}"`}`)
      .join(', ');
  });
  return { zh: `工作表“${name(own)}”：${zh}`, en: `worksheet "${name(own)}": ${en}` };
}

/** The rows with errors, each with its cells as the file has them, in file order. */
async function* errorReportRows(
  db: Kysely<DB>,
  stage: ImportStage,
  source: TableSource,
): AsyncGenerator<ErrorReportRow> {
  let page = await stageSql.errorsAfter(db, stage, 0, 2000);
  let i = 0;
  /** The next row with errors at or after this row number; null when there is none. */
  const nextAt = async (rowNumber: number) => {
    for (;;) {
      const next = page[i];
      if (next && next.row_number >= rowNumber) return next;
      if (next) i += 1;
      else {
        const last = page[page.length - 1];
        if (!last) return null;
        page = await stageSql.errorsAfter(db, stage, last.row_number, 2000);
        i = 0;
      }
    }
  };
  const table = await readTemplateTable(source);
  // A workbook read from several sheets: each row is named with its sheet and its own row number.
  const sheets = table.sheetsRead.length > 1 ? table.sheetsRead : null;
  try {
    for await (const { rowNumber, cells } of table.rows) {
      const next = await nextAt(rowNumber);
      if (!next) return;
      if (next.row_number !== rowNumber) continue;
      i += 1;
      const raw: Record<string, string> = {};
      for (const h of table.headers) raw[h] = rawText(cells[h]);
      yield {
        rowNumber: sheets ? sheetRow(rowNumber).row : rowNumber,
        raw,
        errors: next.errors.map((e) => ({
          ...e,
          value: e.value || (e.column ? (raw[e.column] ?? '') : ''),
          reason: sheets ? onSheets(e.reason, rowNumber, sheets) : e.reason,
        })),
      };
    }
  } finally {
    await table.close();
  }
}

/**
 * The staged rows' number ranges, one per worksheet read: the rows of a workbook's later sheets are
 * numbered from a multiple of ROWS_PER_SHEET, and chunks over the gaps between would each be an
 * empty transaction. (A query on the stage; registry.import-stage.ts is its place.)
 */
async function stagedRanges(db: Kysely<DB>, stage: ImportStage): Promise<{ first: number; last: number }[]> {
  const r = await sql<{ first: number; last: number }>`
    SELECT min(row_number) AS first, max(row_number) AS last FROM ${sql.table(stage.rows)}
    GROUP BY (row_number - 1) / ${ROWS_PER_SHEET} ORDER BY 1`.execute(db);
  return r.rows.map((row) => ({ first: Number(row.first), last: Number(row.last) }));
}

// ---------- the use case ----------

/**
 * Imports a registry template file for an importer. Never throws for a bad file: a refused file
 * comes back with status 'rejected' and nothing written; row errors are counted and reported.
 */
export async function importRegistryFile(
  database: Database,
  source: TableSource,
  importer: Importer,
  options: ImportOptions = {},
): Promise<ImportOutcome> {
  const on = options.today ?? currentDate();
  const dryRun = options.dryRun ?? false;
  const batchSize = options.batchSize ?? 5000;
  const report = options.progress ?? (() => {});
  const db = database.db;
  let mark = performance.now();
  /** Adds the time since the last step to this step's timing. */
  const step = (name: string) => {
    const now = performance.now();
    if (options.timings) options.timings[name] = (options.timings[name] ?? 0) + (now - mark);
    mark = now;
  };
  const regions = await loadRegionCodes(db);
  // The stages of earlier imports whose process was killed go first.
  await stageSql.dropAbandonedStages(database);
  return stageSql.withStage(database, async (stage): Promise<ImportOutcome> => {
    let file: Awaited<ReturnType<typeof stageFile>>;
    try {
      await report(0, null, 'validating');
      const heapMb = options.parseHeapMb ?? PARSE_LIMITS.maxOldGenerationSizeMb;
      file = await stageFile(database, stage, source, { today: on, regions, batchSize, heapMb }, (done) =>
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
    step('stage');
    if (options.timings) options.timings['stage: of which COPY and indexing'] = file.copyMs;
    // A caller who may reveal ID numbers, and the server console, learn nothing from a match that they
    // may not see: the import's own audit entry stands for them (docs/DECISIONS.md, session 22).
    const caller = budgetedCaller(importer);
    if (!caller) return checkAndWrite(stage, file);
    // Anyone else: the rows that answer whether a number is registered are counted against the
    // caller's hourly budget (registry.id-budget.ts), and a file over it is refused whole.
    const spent = await spendIdBudget(db, stage, importer, caller, { ...options, dryRun });
    step('ID numbers probed');
    if ('refused' in spent) return spent.refused;
    await stageSql.stageIdMatches(db, stage);
    step('ID numbers matched');
    try {
      return await checkAndWrite(stage, file);
    } finally {
      // Audited after the rows are written or, in a dry run, rolled back; also when the run fails.
      await auditIdProbes(db, spent.probes, importer, caller, { ...options, dryRun });
      await auditIdMatches(db, stage, importer, { ...options, dryRun });
      step('ID numbers matched');
    }
  });

  async function checkAndWrite(
    stage: ImportStage,
    file: Awaited<ReturnType<typeof stageFile>>,
  ): Promise<ImportOutcome> {
    await db.transaction().execute(async (trx) => {
      await tuneTransaction(trx, database.kind);
      await checkCrossRow(trx, stage, importer);
    });
    step('check');
    const errors = await stageSql.countErrors(db, stage);
    const total = file.rows * 2;
    const counts: ImportCounts = { ...ZERO, rows: file.rows, errors };

    // Real imports commit step by step (every step writes only what is missing, so a run cut
    // short and run again completes the import); a dry run does the same work in one transaction
    // that is rolled back, so its counts are exactly what the import would do.
    const run = async (
      work: (inTx: <T>(fn: (trx: Transaction<DB>) => Promise<T>) => Promise<T>) => Promise<void>,
    ) => {
      if (!dryRun)
        return work((fn) =>
          db.transaction().execute(async (trx) => {
            await tuneTransaction(trx, database.kind);
            return fn(trx);
          }),
        );
      try {
        await db.transaction().execute(async (outer) => {
          await tuneTransaction(outer, database.kind);
          await work((fn) => fn(outer));
          throw new DryRunRollback();
        });
      } catch (error) {
        if (!(error instanceof DryRunRollback)) throw error;
      }
    };
    // In a dry run the one transaction holds the embedded database's only connection: progress is
    // reported between the passes only. The second half of the progress is the writing, in steps.
    const progress = async (share: number, message: string) => {
      if (!dryRun) await report(file.rows + Math.round(file.rows * share), total, message);
    };

    // On PostgreSQL two chunks are written at a time, each in its own transaction (the database
    // has a second core; chunks touch different persons). A dry run is one transaction; PGlite
    // has one connection.
    const concurrency = dryRun || database.kind !== 'postgres' ? 1 : 2;
    let refusedLinks: stageSql.RetractedLink[] = [];
    await run(async (inTx) => {
      const ranges = await inTx((trx) => stagedRanges(trx, stage));
      const chunks: [number, number][] = [];
      for (const range of ranges)
        for (let from = range.first; from <= range.last; from += batchSize * 4)
          chunks.push([from, Math.min(from + batchSize * 4, range.last + 1)]);
      await inTx(async (trx) => {
        await stageSql.insertHouseholds(trx, stage);
        await stageSql.matchPersons(trx, stage);
      });
      step('households, match');
      // The file names more registered persons than the planner knows of (a re-import right after a
      // first load): the statistics are brought up to date before the steps that join the registry.
      await inTx(async (trx) => stageSql.refreshStatistics(trx, await stageSql.matchedCount(trx, stage), 0));
      step('statistics');
      await progress(0.05, 'writing persons');
      await eachChunk(
        chunks,
        concurrency,
        ([from, to]) => inTx((trx) => stageSql.writePersons(trx, stage, from, to)),
        (done) => progress(0.05 + (0.45 * done) / chunks.length, 'writing persons'),
      );
      step('persons');
      await inTx((trx) => stageSql.writeHeads(trx, stage));
      step('heads');
      // Relations in ranges of the person they are stored under: a relation that two rows name
      // (a couple) falls in one range, so ranges can be written side by side.
      const people = await inTx((trx) => stageSql.resolveRelations(trx, stage));
      const personChunks: [number, number][] = [];
      if (people) {
        const width = Math.ceil((people.last + 1 - people.first) / Math.max(1, chunks.length));
        for (let from = people.first; from <= people.last; from += width)
          personChunks.push([from, Math.min(from + width, people.last + 1)]);
      }
      // A link a clerk retracted as wrong is not made again; its row is told so (after the run: a dry
      // run's stage is rolled back with it).
      refusedLinks = await inTx((trx) => stageSql.refuseRetractedLinks(trx, stage));
      // Such a row is written and reported: counted as written and as a row with errors.
      counts.errors += new Set(refusedLinks.map((l) => l.row_number)).size;
      step('relations: resolved');
      await eachChunk(
        personChunks,
        concurrency,
        ([from, to]) => inTx((trx) => stageSql.writeRelations(trx, stage, from, to, importer.userId)),
        (done) => progress(0.5 + (0.25 * done) / personChunks.length, 'linking relations and facts'),
      );
      await inTx((trx) => stageSql.endFormerSpouses(trx, stage, on));
      step('relations');
      await eachChunk(
        chunks,
        concurrency,
        ([from, to]) =>
          inTx(async (trx) => {
            await stageSql.writeNewFacts(trx, stage, from, to, importer.userId);
            const rows = await stageSql.factRows(trx, stage, from, to);
            const stored = await stageSql.storedFacts(
              trx,
              rows.map((r) => r.person_id),
            );
            await stageSql.writeFacts(trx, stage, reconcileChunk(rows, stored, on), importer.userId);
          }),
        (done) => progress(0.75 + (0.25 * done) / chunks.length, 'linking relations and facts'),
      );
      step('facts');

      const written = await inTx((trx) => stageSql.writtenCounts(trx, stage));
      counts.inserted = written.inserted;
      counts.updated = written.updated;
      counts.unchanged = written.written - written.inserted - written.updated;
      // A large import leaves the statistics current for the next one and for every search.
      if (!dryRun)
        await inTx((trx) => stageSql.refreshStatistics(trx, 0, written.inserted + written.updated));
      step('statistics');
      if (!dryRun)
        await inTx(async (trx) => {
          await audit(trx, importer.auditActor, {
            action: 'registry.import',
            entityType: 'import',
            // The import's id ties the run to its submission (registry.import.submit) and its file.
            entityId: options.importId ?? null,
            regionCode: importer.regionCode,
            details: { ...counts, kind: options.kind ?? 'registry' },
          });
          // The care groups of the changed persons' villages are re-evaluated (registry.import-events.ts).
          await importCommitted(trx, stage, {
            importId: options.importId ?? null,
            importerRegionCode: importer.regionCode,
            userId: importer.userId,
            asOf: on,
          });
        });
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

    await stageSql.addErrors(db, stage, retractedLinkErrors(refusedLinks));

    let errorReport: ImportOutcome['errorReport'] = null;
    if (options.errorReportBase && counts.errors > 0) {
      const headers = file.headers.filter((h) => h !== ERROR_REASON_HEADER);
      errorReport = { xlsx: `${options.errorReportBase}.xlsx`, csv: `${options.errorReportBase}.csv` };
      await writeErrorReport(errorReport.xlsx, errorReportRows(db, stage, source), { headers });
      await writeErrorReport(errorReport.csv, errorReportRows(db, stage, source), { headers });
    }
    step('counts, audit, report');
    await report(total, total, 'done');
    return {
      status: 'succeeded',
      counts,
      message: null,
      unknownHeaders: file.unknownHeaders,
      errorReport,
    };
  }
}
