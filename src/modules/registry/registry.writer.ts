// Streaming writers for the registry template: .xlsx through exceljs's WorkbookWriter and .csv in
// UTF-8 with a BOM (so Excel opens it as UTF-8). Every cell is written as text, and every column is
// formatted as text (@), so that Excel never turns an ID number, a phone number or a region code
// into a float. Memory stays bounded: rows are committed as they are written.

import fs from 'node:fs';
import path from 'node:path';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import ExcelJS from 'exceljs';
import { FREE_TEXT_HEADERS, TEMPLATE_HEADERS, recordToCells } from './registry.template.ts';
import type { RegistryRecord } from './registry.template.ts';

export type TableFormat = 'csv' | 'xlsx';

/** A file path (format from its extension unless given) or a stream (format required). */
export type TableTarget = string | Writable;

export interface TableWriter {
  /** Writes one row of text cells, in header order; resolves when the stream can take more. */
  writeRow(cells: readonly string[]): Promise<void>;
  /** Finishes the file. */
  close(): Promise<void>;
  readonly rowsWritten: number;
}

export interface TableWriterOptions {
  format?: TableFormat;
  /** Worksheet name for .xlsx. */
  sheetName?: string;
  /** Column widths in characters for .xlsx, by header; default from the header length. */
  widths?: Readonly<Record<string, number>>;
}

export function formatOf(target: TableTarget, format?: TableFormat): TableFormat {
  if (format) return format;
  if (typeof target !== 'string') throw new TypeError('a format is needed to write to a stream');
  const ext = path.extname(target).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.xlsx') return 'xlsx';
  throw new TypeError(`cannot write ${ext || 'a file without extension'}; use .csv or .xlsx`);
}

// A digit string this long, or one with a leading zero, is shown by Excel as a float or loses the
// zero when the CSV is opened by double-click; ="..." keeps it text. The reader strips the wrapper.
const EXCEL_NUMERIC = /^(?:\d{12,}|0\d+)$/;
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]|^\s|\s$/;

// Text that Excel (a Chinese one too) reads from a CSV as something else: a number (100, 2026.1, 1E5,
// 1,234, 5%, ¥5, (5)), a date (3-12 and 3/12 are 12 March, 1-2-3 is 2001-02-03, 2026.1.2, 3月12日,
// Mar-12), a time (12:30), a fraction (1 1/2) or a truth value (true becomes TRUE). Saved back, the cell
// is another value: a household 3-12 would come back as 3月12日.
const NUMBER_OR_DATE = [
  /^[+-]?[¥￥$]?\(?(?:\d+|\d{1,3}(?:,\d{3})+)?(?:\.\d*)?\)?(?:e[+-]?\d+)?%?$/i,
  /^\d{1,4}[-/.]\d{1,4}(?:[-/.]\d{1,4})?(?: \d{1,2}:\d{1,2}(?::\d{1,2})?)?$/,
  /^(?:\d{1,4} ?年 ?)?\d{1,2} ?月(?: ?\d{1,2} ?日)?$/,
  /^(?:\d{1,2}[-/ ])?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?(?:[-/ ]\d{1,4})?$/i,
  /^\d{1,2}:\d{1,2}(?::\d{1,2}(?:\.\d+)?)?(?: ?[ap]\.?m?\.?)?$/i,
  /^\d+ \d+\/\d+$/,
];

function excelConverts(value: string): boolean {
  const s = value.trim();
  return /^(?:true|false)$/i.test(s) || (/\d/.test(s) && NUMBER_OR_DATE.some((form) => form.test(s)));
}

/**
 * How a column's cells are kept from Excel's conversions: `true` keeps long digit strings and leading
 * zeros (an ID number, a code); 'text' keeps every cell Excel would read as a number or a date (a
 * column of free text, such as 户编号: 3-12 stays 3-12); `false` none (a header row).
 */
export type CsvProtection = boolean | 'text';

/**
 * One CSV field: quoted when it holds a delimiter, quote, line break or edge white space. Cells Excel
 * would turn into numbers are kept as text as `protect` says; formulas never run.
 */
export function csvField(value: string, protect: CsvProtection = true): string {
  if (value === '') return value;
  if (protect !== false && EXCEL_NUMERIC.test(value)) return `="${value}"`;
  const keepText = protect === 'text' && excelConverts(value);
  if (keepText && !NEEDS_QUOTES.test(value)) return `="${value}"`;
  // Text a spreadsheet would run as a formula (CSV injection: a name typed as =HYPERLINK(...) by
  // one user runs on the machine of whoever opens the export) is written as the string formula
  // ="...", which shows the text as it is and which the reader unwraps, so a round trip keeps it.
  // Header cells too: an error report repeats the uploaded file's own column names, unknown ones
  // included, and it is opened by someone else (a county clerk who may reveal). The same keeps a
  // free-text cell that Excel would read as a number or a date.
  if (keepText || FORMULA_START.test(value)) value = `="${value.replace(/"/g, '""')}"`;
  if (NEEDS_QUOTES.test(value)) return `"${value.replace(/"/g, '""')}"`;
  return value;
}

const CSV_BATCH_ROWS = 512;

function csvWriter(target: TableTarget, headers: readonly string[]): TableWriter {
  const out: Writable =
    typeof target === 'string' ? fs.createWriteStream(target, { highWaterMark: 1 << 20 }) : target;
  let pending: string[] = ['\uFEFF' + headers.map((h) => csvField(h, false)).join(',') + '\r\n'];
  // The template's free-text columns, in an export as in an error report (which repeats the file's
  // cells): each keeps what Excel would read as a number or a date. The other columns hold values Excel
  // reads back the same (a date, an amount, a phone) or that the long-digit rule keeps.
  const protection: CsvProtection[] = headers.map((h) => (FREE_TEXT_HEADERS.has(h) ? 'text' : true));
  let rowsWritten = 0;
  let failed: Error | null = null;
  out.on('error', (e: Error) => {
    failed = e;
  });
  async function flush(): Promise<void> {
    if (failed) throw failed;
    if (pending.length === 0) return;
    const chunk = pending.join('');
    pending = [];
    if (!out.write(chunk)) await once(out, 'drain');
  }
  return {
    get rowsWritten() {
      return rowsWritten;
    },
    async writeRow(cells) {
      pending.push(cells.map((c, i) => csvField(c, protection[i])).join(',') + '\r\n');
      rowsWritten += 1;
      if (pending.length >= CSV_BATCH_ROWS) await flush();
    },
    async close() {
      await flush();
      if (typeof target === 'string') {
        out.end();
        await once(out, 'finish');
      }
      if (failed) throw failed;
    },
  };
}

function xlsxWriter(
  target: TableTarget,
  headers: readonly string[],
  options: TableWriterOptions,
): TableWriter {
  const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({
    ...(typeof target === 'string' ? { filename: target } : { stream: target }),
    useSharedStrings: false,
    useStyles: true,
  });
  const sheet = workbook.addWorksheet(options.sheetName ?? 'Sheet1', {
    views: [{ state: 'frozen', ySplit: 1 }],
  });
  // Text format on the whole column keeps numbers a clerk types later as text too.
  sheet.columns = headers.map((h) => ({
    width: options.widths?.[h] ?? Math.max(10, h.length * 2 + 2),
    style: { numFmt: '@' },
  }));
  const header = sheet.addRow([...headers]);
  header.font = { bold: true };
  header.commit();
  let rowsWritten = 0;
  return {
    get rowsWritten() {
      return rowsWritten;
    },
    async writeRow(cells) {
      sheet.addRow(cells.map((c) => (c === '' ? null : c))).commit();
      rowsWritten += 1;
      // Let the zip stream drain now and then so memory stays flat.
      if (rowsWritten % 2000 === 0) await new Promise((resolve) => setImmediate(resolve));
    },
    async close() {
      sheet.commit();
      await workbook.commit();
    },
  };
}

/** A streaming writer of text rows under the given headers. */
export function openTableWriter(
  target: TableTarget,
  headers: readonly string[],
  options: TableWriterOptions = {},
): TableWriter {
  return formatOf(target, options.format) === 'csv'
    ? csvWriter(target, headers)
    : xlsxWriter(target, headers, options);
}

const TEMPLATE_WIDTHS: Record<string, number> = {
  户编号: 18,
  公民身份号码: 22,
  户籍地代码: 16,
  现居住地代码: 16,
  父亲身份号码: 22,
  母亲身份号码: 22,
  配偶身份号码: 22,
  委托照护人身份号码: 22,
  联系电话: 16,
};

export interface WriteRecordsOptions {
  format?: TableFormat;
  /** Called every `progressEvery` rows (default 10,000) and at the end, with the rows written. */
  onProgress?: (rowsWritten: number) => void;
  progressEvery?: number;
}

/** Writes records in the registry template, streaming; resolves with the number of rows. */
export async function writeRegistryRecords(
  target: TableTarget,
  records: AsyncIterable<RegistryRecord> | Iterable<RegistryRecord>,
  options: WriteRecordsOptions = {},
): Promise<number> {
  const writer = openTableWriter(target, TEMPLATE_HEADERS, {
    ...(options.format ? { format: options.format } : {}),
    sheetName: '人员登记',
    widths: TEMPLATE_WIDTHS,
  });
  const every = options.progressEvery ?? 10_000;
  for await (const record of records) {
    await writer.writeRow(recordToCells(record));
    if (options.onProgress && writer.rowsWritten % every === 0) options.onProgress(writer.rowsWritten);
  }
  await writer.close();
  options.onProgress?.(writer.rowsWritten);
  return writer.rowsWritten;
}
