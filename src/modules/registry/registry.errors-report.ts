// The row-level error report of an import (错误报告): the rejected rows with their cells as the
// clerk wrote them, in the template's columns, plus a last column 错误原因 with every reason of the
// row. The clerk fixes the cells and imports the report itself; 错误原因 is then an unknown column,
// reported and ignored. A cell the import read reads back the same from the report (a date typed as
// a plain number is written as the day it was read as); a child ledger's report carries the ledger's
// 填报日期 above its columns, so that the rows fixed there are dated as the ledger's own.

import type { IsoDate } from '../../platform/dates.ts';
import { excelSerialToDate } from '../../platform/normalize.ts';
import { LEDGER_EXTRA_HEADERS, LEDGER_HEADERS } from './registry.ledger.ts';
import { DATE_HEADERS, TEMPLATE_HEADERS, templateCellReadBack } from './registry.template.ts';
import type { RowError } from './registry.template.ts';
import { openTableWriter } from './registry.writer.ts';
import type { TableFormat, TableTarget, TableWriter } from './registry.writer.ts';

export const ERROR_REASON_HEADER = '错误原因';

export interface ErrorReportRow {
  rowNumber: number;
  raw: Readonly<Record<string, string>>;
  errors: readonly RowError[];
  /**
   * A child ledger's row (present on each, null when the ledger has none; absent on the template's):
   * the ledger's date (填报日期) of its file or worksheet, which dates the facts the row states. The
   * report writes it above its columns, where the ledger reader finds it.
   */
  ledgerDate?: IsoDate | null;
}

export interface ErrorReportOptions {
  format?: TableFormat;
  /** The columns to write; the template's by default (pass the file's own headers to keep its order). */
  headers?: readonly string[];
  lang?: 'zh' | 'en';
}

/** All reasons of a row, each naming its column: "性别：性别“男”与公民身份号码不一致…; 户籍地代码：…". */
export function describeErrors(errors: readonly RowError[], lang: 'zh' | 'en' = 'zh'): string {
  return errors
    .map((e) => (e.column ? `${e.column}${lang === 'zh' ? '：' : ': '}${e.reason[lang]}` : e.reason[lang]))
    .join('; ');
}

/**
 * The columns of dates, the template's and the child ledger's: a plain number typed there (a General
 * cell, 42000) is read as an Excel serial, the day Excel would show once the cell is made a date.
 */
const DATE_COLUMNS: ReadonlySet<string> = new Set([
  ...DATE_HEADERS,
  ...[...LEDGER_HEADERS, ...LEDGER_EXTRA_HEADERS].filter((h) => /(?:日期|外出时间)$/.test(h)),
]);

/**
 * A number both importers read as an Excel serial in a date column. Left out: 1900-2099 (a year, or
 * 2015.3 a month, in the ledger's birth and 外出时间 columns) and six or more digits (201503 a month,
 * 20150301 a date, in the ledger), which the text form reads the same; 60, the 1900-02-29 that never was.
 */
const SERIAL = /^(\d{1,5})(?:\.\d+)?$/;

/**
 * The cell as the report writes it: as the clerk wrote it, except a date column's plain number that the
 * import read as a day (an Excel serial in a General cell, 42000 = 2014-12-27). Written as the number's
 * text, it would come back as text, which no importer reads as a date, and the fixed row would be refused
 * on a cell the import took. Not when the import refused the text itself (its reason quotes “42000”):
 * the clerk typed it as text, and sees it as typed. Likewise the other way round: a template cell outside
 * the date columns that the import read from a date cell as its number (templateCellReadBack).
 */
function readBack(row: ErrorReportRow, header: string): string {
  const text = row.raw[header] ?? '';
  const errors = row.errors;
  if (!DATE_COLUMNS.has(header)) {
    // A template row's cell the import read from a date cell as its number (the ledger's rows carry
    // their ledgerDate, null or a day).
    const taken = !('ledgerDate' in row) && !errors.some((e) => e.column === header);
    return (taken ? templateCellReadBack(header, text) : null) ?? text;
  }
  const serial = SERIAL.exec(text.trim());
  const day = Number(serial?.[1] ?? NaN);
  if (!serial || (day >= 1900 && day < 2100)) return text;
  const date = excelSerialToDate(Number(text.trim()));
  if (date === null) return text;
  const refusedAsText = errors.some((e) => e.column === header && e.reason.zh.includes(`“${text.trim()}”`));
  return refusedAsText ? text : date;
}

/** The title line of a ledger's report: the ledger reader reads the date from it (ledgerDateOf). */
const LEDGER_DATE_LABEL = '填报日期：';
const KEEP_TITLE_NOTE = '改正后可直接导入本文件：请保留第 1 行，导入的情况按其日期记录';

function otherDate(row: ErrorReportRow, title: IsoDate | null, lang: 'zh' | 'en' | undefined): string {
  const own = row.ledgerDate ?? null;
  if (row.ledgerDate === undefined || own === title) return '';
  const [zh, en] =
    own === null ? ['没有填报日期', 'has no 填报日期'] : [`填报日期为 ${own}`, `is dated ${own}`];
  return lang === 'en'
    ? `; the worksheet of this row ${en}, not ${title ?? 'none'} as line 1: import it in a ledger of its own date`
    : `；本行所在工作表${zh}，与第 1 行的不同：请放到同一日期的台账中导入`;
}

/**
 * The report's writer. A ledger's report (`title`, the ledger's date) starts with the line
 * 填报日期：<date> where a ledger has its title rows, above the column row: the writer's first row, the
 * columns its first row of cells.
 */
async function openReport(
  target: TableTarget,
  columns: readonly string[],
  title: IsoDate | null,
  format: TableFormat | undefined,
): Promise<TableWriter> {
  const common = { ...(format ? { format } : {}), sheetName: '错误报告' };
  if (title === null)
    return openTableWriter(target, columns, { ...common, widths: { [ERROR_REASON_HEADER]: 80 } });
  const dateLine = `${LEDGER_DATE_LABEL}${title}`;
  const last = columns.length - 1;
  const titleRow = columns.map((_, i) => (i === 0 ? dateLine : i === last ? KEEP_TITLE_NOTE : ''));
  const writer = openTableWriter(target, titleRow, {
    ...common,
    widths: { [dateLine]: 12, [KEEP_TITLE_NOTE]: 80 },
  });
  await writer.writeRow(columns);
  return writer;
}

/**
 * Writes the rows that have errors (others are skipped); resolves with the number written. Rows of a
 * child ledger (with `ledgerDate`) are written under a first line 填报日期：<the first row's date>; a row
 * of another date (a workbook whose village sheets are dated apart) says so in its reasons.
 */
export async function writeErrorReport(
  target: TableTarget,
  rows: AsyncIterable<ErrorReportRow> | Iterable<ErrorReportRow>,
  options: ErrorReportOptions = {},
): Promise<number> {
  const headers = (options.headers ?? TEMPLATE_HEADERS).filter((h) => h !== ERROR_REASON_HEADER);
  const columns = [...headers, ERROR_REASON_HEADER];
  let writer: TableWriter | null = null;
  let title: IsoDate | null = null;
  for await (const row of rows) {
    if (row.errors.length === 0) continue;
    if (writer === null) {
      title = row.ledgerDate ?? null;
      writer = await openReport(target, columns, title, options.format);
    }
    // The row's number in the imported file goes with its reasons (EXCHANGE.md: "every rejected row
    // comes back with its row number"), last, so that a reason still starts with its column, and so
    // that "与第 2 行…" in another row's reason can be followed.
    const where = options.lang === 'en' ? ` (row ${row.rowNumber})` : `（第 ${row.rowNumber} 行）`;
    await writer.writeRow([
      ...headers.map((h) => readBack(row, h)),
      describeErrors(row.errors, options.lang) + otherDate(row, title, options.lang) + where,
    ]);
  }
  writer ??= await openReport(target, columns, null, options.format);
  await writer.close();
  return writer.rowsWritten - (title === null ? 0 : 1);
}
