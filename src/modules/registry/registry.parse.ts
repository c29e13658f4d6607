// A registry template file to records, row by row, streaming: the required-header check refuses a
// file whole; everything else is a row error the clerk can fix in the error report. Checks that need
// the database (a father's ID number that matches nobody) belong to the import job, which gets the
// references of each record from collectReferences.

import type { IsoDate } from '../../platform/dates.ts';
import { normalizeCell } from '../../platform/normalize.ts';
import type { LocalizedMessage } from '../../platform/normalize.ts';
import { FileRejected, isFormulaWithoutResult, readRows, readTable } from './registry.reader.ts';
import type { SheetInfo, Table, TableSource } from './registry.reader.ts';
import {
  checkHeaders,
  cleanHeader,
  headerOf,
  missingHeadersMessage,
  rawText,
  REQUIRED_HEADERS,
  rowToRecord,
  TEMPLATE_HEADERS,
} from './registry.template.ts';
import type { RegistryRecord, RowError } from './registry.template.ts';
import { IdNumberIndex } from './registry.id-index.ts';

export { collectReferences } from './registry.template.ts';

export interface ParsedRow {
  /** The row number as the clerk sees it in Excel (the header is row 1). */
  rowNumber: number;
  /** Null when the row has errors. */
  record: RegistryRecord | null;
  errors: RowError[];
  /** Every cell of the row as the file had it, keyed by header (for the error report). */
  raw: Record<string, string>;
}

export interface ParseOptions {
  regionExists: (code: string) => boolean;
  today: IsoDate;
  /** Called once, before the first row, with the file's headers and those not in the template. */
  onHeaders?: (info: { headers: string[]; unknown: string[] }) => void;
}

export interface OpenedRegistryFile {
  headers: string[];
  /** Columns that are not in the template: reported once, ignored. */
  unknownHeaders: string[];
  rows: AsyncIterable<ParsedRow>;
}

const TEMPLATE_HEADER_SET = new Set(TEMPLATE_HEADERS);

/** The table of a template file: a template column named twice refuses it, an unknown one may repeat. */
export function readTemplateTable(source: TableSource): Promise<Table> {
  return readTable(source, { mustBeUnique: (h) => TEMPLATE_HEADER_SET.has(h) });
}

function isEmptyCell(value: unknown): boolean {
  return !isFormulaWithoutResult(value) && normalizeCell(value) === null;
}

/**
 * A row that repeats the header row (ledgers pasted together from several sheets, each with its own
 * header): most of its filled template cells hold a template header, at least three of them. Null when
 * the row is data; else whether each such cell stands under its own header (a header row in the order
 * of row 1) or not (another sheet's order, whose rows below may be in that order too).
 */
export function repeatedHeaderRow(cells: Readonly<Record<string, unknown>>): { sameOrder: boolean } | null {
  let filled = 0;
  let named = 0;
  let misplaced = 0;
  for (const header of TEMPLATE_HEADERS) {
    const cell = cells[header];
    if (isEmptyCell(cell)) continue;
    filled += 1;
    const text = cleanHeader(normalizeCell(cell) ?? '');
    if (!TEMPLATE_HEADER_SET.has(text)) continue;
    named += 1;
    if (text !== header) misplaced += 1;
  }
  return named >= 3 && named * 2 > filled ? { sameOrder: misplaced === 0 } : null;
}

function repeatedHeaderError({ sameOrder }: { sameOrder: boolean }): RowError {
  return {
    column: null,
    value: '',
    reason: sameOrder
      ? {
          zh: '本行重复了第1行的列名（多个表粘贴在一起时常见），不是人员数据：请删除此行后重新导入',
          en: 'this row repeats the header row (as when sheets are pasted together); it is not a person: delete it and import again',
        }
      : {
          zh:
            '本行是列名行，但列的顺序与第1行不同（多个表粘贴在一起时常见），不是人员数据：请删除此行，' +
            '并核对其下从另一个表粘贴来的各行是否也按这个顺序排列、内容错列',
          en:
            'this row is a header row in a column order other than row 1 (as when sheets are pasted together); it is not a person: ' +
            'delete it, and check that the rows pasted below it are not in that order too, their values under the wrong headers',
        },
  };
}

/** A file with a header and no data row: most likely the blank template, sent by mistake. */
export function noRows(): FileRejected {
  return new FileRejected('NO_ROWS', {
    zh: '文件只有列名，没有数据行：请填写人员后再导入',
    en: 'the file has column headers but no data rows; fill in the persons and import again',
  });
}

/** Rows after an ID number ending in 000 read for Excel damage before the number is trusted. */
const SUSPECT_WINDOW = 1000;

/** Rows read to find a header row below a title, or a child ledger's column row. */
const HEADER_SEARCH_ROWS = 20;

/**
 * Why the template's required headers are not in row 1, as far as the file tells: which worksheet
 * was read when the workbook has several, where the header row is when a title stands above it,
 * and that the file is a child ledger when it looks like one.
 */
async function whyHeadersMissing(
  source: TableSource,
  missing: string[],
  sheet: SheetInfo | null,
): Promise<LocalizedMessage> {
  const base = missingHeadersMessage(missing);
  const parts = { zh: [base.zh], en: [base.en] };
  if (sheet && sheet.count > 1) {
    parts.zh.push(`（读取的是第一个工作表“${sheet.name}”：登记表须放在第一个工作表。）`);
    parts.en.push(
      `(The first worksheet, "${sheet.name}", was read: the registry must be the first worksheet.)`,
    );
  }
  let headerRow: number | null = null;
  let ledger = false;
  const rows = readRows(source);
  try {
    // The file was read up to its header once already; a fault found now only loses the hint.
    for await (const { rowNumber, values } of rows) {
      if (rowNumber > HEADER_SEARCH_ROWS) break;
      const cells = new Set(values.map((v) => cleanHeader(normalizeCell(v) ?? '')));
      if (rowNumber > 1 && REQUIRED_HEADERS.every((h) => cells.has(h))) {
        headerRow = rowNumber;
        break;
      }
      // The child ledger's column row: 姓名 with the address as text, no household number.
      if (cells.has('姓名') && cells.has('户籍所在地') && !cells.has('户编号')) ledger = true;
    }
  } catch (error) {
    if (!(error instanceof FileRejected)) throw error;
  } finally {
    await rows.return(undefined);
  }
  if (headerRow !== null) {
    parts.zh.push(
      `本文件的列名在第${headerRow}行：列名须在第1行，请删除上方的 ${headerRow - 1} 行标题后重新导入。`,
    );
    parts.en.push(
      `The headers of this file are in row ${headerRow}: they must be in row 1; delete the ${headerRow - 1} title row(s) above them and import again.`,
    );
  } else if (ledger) {
    parts.zh.push('这像是留守儿童台账：请在“文件类型”中选择“留守儿童台账”（命令行：--kind ledger）。');
    parts.en.push(
      'This looks like a child ledger: choose the file type 留守儿童台账 (command line: --kind ledger).',
    );
  }
  return { zh: parts.zh.join(''), en: parts.en.join(' ') };
}

/**
 * Opens a registry template file: reads and checks the header (throws FileRejected for a file
 * that cannot be imported at all) and returns the rows to stream.
 */
export async function openRegistryFile(
  source: TableSource,
  options: ParseOptions,
): Promise<OpenedRegistryFile> {
  const table = await readTemplateTable(source);
  const { missing, unknown } = checkHeaders(table.headers);
  if (missing.length > 0) {
    // Stop reading the file: nothing of it will be imported.
    await table.close();
    throw new FileRejected('MISSING_HEADERS', await whyHeadersMissing(source, missing, table.sheet));
  }
  const ctx = { regionExists: options.regionExists, today: options.today };
  async function* rows(): AsyncGenerator<ParsedRow> {
    // Within the file each person appears once: by ID number, or for a person without one by
    // household + name + birth date (the same key the import upserts by).
    // ID numbers are kept packed (a million of them in 24 MB); persons without one are few.
    const firstRowById = new IdNumberIndex();
    const firstRowByNoIdKey = new Map<string, number>();
    const idHeader = headerOf('idNumber');
    const headers = table.headers;
    let yielded = 0;
    // Excel keeps 15 significant digits: an 18-digit number typed into a number cell ends in 000,
    // and its check character still matches by chance once in 11. Once a row of the file shows that
    // damage, an 18-digit number ending in 000 cannot be trusted either: it is refused with that
    // reason. A row with such a number waits, with the rows after it (in order), until damage shows
    // or SUSPECT_WINDOW more rows have come without it; real numbers end in 000 once in about 1,100.
    // The same holds for the father's, mother's, spouse's and carer's numbers: Excel damages a column, and
    // whichever ID column of the file shows it, every number ending in 000 is suspect.
    let damagedRow: number | null = null;
    const pending: { row: ParsedRow; ends000: string[] }[] = [];
    const suspect = (row: ParsedRow, damaged: number, columns: readonly string[]): ParsedRow => ({
      rowNumber: row.rowNumber,
      record: null,
      errors: [
        ...row.errors,
        ...columns.map((column) => ({
          column,
          value: row.raw[column] ?? '',
          reason: {
            zh:
              `号码以 000 结尾，而本文件第 ${damaged} 行的身份号码已被 Excel 存成数字、丢失了后几位：` +
              '此号码的校验码可能只是碰巧相符。请把该列设置为“文本”格式，按证件重新录入完整号码后再导入',
            en:
              `the number ends in 000 and an ID number on row ${damaged} of this file was stored by Excel as a ` +
              "number and lost its last digits: this one's check character may match by chance. Format the " +
              'column as Text, enter the full numbers from the ID cards again and import once more',
          },
        })),
      ],
      raw: row.raw,
    });
    const marked = (row: ParsedRow, damaged: number, columns: readonly string[]) =>
      columns.length ? suspect(row, damaged, columns) : row;
    for await (const { rowNumber, cells } of table.rows) {
      // A row with nothing in any template column (a form's pre-numbered 序号, a note in a column
      // of its own) is not a person: skipped like a blank row.
      if (TEMPLATE_HEADERS.every((h) => isEmptyCell(cells[h]))) continue;
      yielded += 1;
      // A header row again among the data is one row error saying so, not a reason for every cell.
      const header = repeatedHeaderRow(cells);
      const { record, errors, id, referenceDamaged, referencesEnding000 } =
        header === null
          ? rowToRecord(cells, ctx)
          : {
              record: null,
              errors: [repeatedHeaderError(header)],
              id: null,
              referenceDamaged: false,
              referencesEnding000: [],
            };
      // The cells as written are needed for rows with errors only: computed when first read.
      let raw: Record<string, string> | null = null;
      const rawOf = () => {
        if (raw) return raw;
        raw = {};
        for (const h of headers) raw[h] = rawText(cells[h]);
        return raw;
      };
      if (record) {
        const noIdKey = record.idNumber
          ? ''
          : `${record.householdNo}\u0000${record.name}\u0000${record.birthDate}`;
        const first = record.idNumber ? firstRowById.get(record.idNumber) : firstRowByNoIdKey.get(noIdKey);
        if (first === undefined) {
          if (record.idNumber) firstRowById.set(record.idNumber, rowNumber);
          else firstRowByNoIdKey.set(noIdKey, rowNumber);
        } else {
          errors.push(
            record.idNumber
              ? {
                  column: idHeader,
                  value: rawOf()[idHeader] ?? '',
                  reason: {
                    zh: `公民身份号码与第 ${first} 行重复：同一人在文件中只能出现一次`,
                    en: `the ID number repeats row ${first}; a person may appear only once in a file`,
                  },
                }
              : {
                  column: headerOf('name'),
                  value: rawOf()[headerOf('name')] ?? '',
                  reason: {
                    zh: `与第 ${first} 行为同一户、同姓名、同出生日期的人：同一人在文件中只能出现一次`,
                    en: `same household, name and birth date as row ${first}; a person may appear only once in a file`,
                  },
                },
          );
        }
      }
      const row: ParsedRow = {
        rowNumber,
        record: errors.length > 0 ? null : record,
        errors,
        get raw() {
          return rawOf();
        },
      };
      const ends000 = [
        ...(id?.ok === true && !id.upgradedFrom15 && id.value.endsWith('000') ? [idHeader] : []),
        ...referencesEnding000,
      ];
      if (damagedRow === null && ((id !== null && !id.ok && id.excelDamaged === true) || referenceDamaged)) {
        damagedRow = rowNumber;
        for (const p of pending.splice(0)) yield marked(p.row, rowNumber, p.ends000);
      }
      if (damagedRow !== null) {
        yield marked(row, damagedRow, ends000);
        continue;
      }
      if (ends000.length > 0 || pending.length > 0) pending.push({ row, ends000 });
      else yield row;
      // The rows no number ending in 000 waits for any more.
      while (pending.length > 0 && (!pending[0]?.ends000.length || pending.length > SUSPECT_WINDOW)) {
        const p = pending.shift();
        if (p) yield p.row;
      }
    }
    for (const p of pending) yield p.row;
    if (yielded === 0) throw noRows();
  }
  return { headers: table.headers, unknownHeaders: unknown, rows: rows() };
}

/**
 * The rows of a registry template file, each a record or its errors. A structural fault (not a
 * spreadsheet, merged cells, missing required headers) throws FileRejected before the first row.
 */
export async function* parseRegistryFile(
  source: TableSource,
  options: ParseOptions,
): AsyncGenerator<ParsedRow> {
  const opened = await openRegistryFile(source, options);
  options.onHeaders?.({ headers: opened.headers, unknown: opened.unknownHeaders });
  yield* opened.rows;
}
