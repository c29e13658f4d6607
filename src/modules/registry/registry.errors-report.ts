// The row-level error report of an import (错误报告): the rejected rows with their cells as the
// clerk wrote them, in the template's columns, plus a last column 错误原因 with every reason of the
// row. The clerk fixes the cells and imports the report itself; 错误原因 is then an unknown column,
// reported and ignored.

import { TEMPLATE_HEADERS } from './registry.template.ts';
import type { RowError } from './registry.template.ts';
import { openTableWriter } from './registry.writer.ts';
import type { TableFormat, TableTarget } from './registry.writer.ts';

export const ERROR_REASON_HEADER = '错误原因';

export interface ErrorReportRow {
  rowNumber: number;
  raw: Readonly<Record<string, string>>;
  errors: readonly RowError[];
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

/** Writes the rows that have errors (others are skipped); resolves with the number written. */
export async function writeErrorReport(
  target: TableTarget,
  rows: AsyncIterable<ErrorReportRow> | Iterable<ErrorReportRow>,
  options: ErrorReportOptions = {},
): Promise<number> {
  const headers = (options.headers ?? TEMPLATE_HEADERS).filter((h) => h !== ERROR_REASON_HEADER);
  const writer = openTableWriter(target, [...headers, ERROR_REASON_HEADER], {
    ...(options.format ? { format: options.format } : {}),
    sheetName: '错误报告',
    widths: { [ERROR_REASON_HEADER]: 80 },
  });
  for await (const row of rows) {
    if (row.errors.length === 0) continue;
    // The row's number in the imported file goes with its reasons (EXCHANGE.md: "every rejected row
    // comes back with its row number"), last, so that a reason still starts with its column, and so
    // that "与第 2 行…" in another row's reason can be followed.
    const where = options.lang === 'en' ? ` (row ${row.rowNumber})` : `（第 ${row.rowNumber} 行）`;
    await writer.writeRow([
      ...headers.map((h) => row.raw[h] ?? ''),
      describeErrors(row.errors, options.lang) + where,
    ]);
  }
  await writer.close();
  return writer.rowsWritten;
}
