// Scratch files for tests: a folder of numbered files, and the registry template as CSV text.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ERROR_REASON_HEADER } from '../../src/modules/registry/registry.errors-report.ts';
import { readRows } from '../../src/modules/registry/registry.reader.ts';
import { TEMPLATE_HEADERS } from '../../src/modules/registry/registry.template.ts';

/** A scratch folder (made by `open`, removed by `close`) whose files are numbered in write order. */
export function scratchFolder(prefix: string) {
  let dir = '';
  let files = 0;
  return {
    open: () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    },
    close: () => fs.rmSync(dir, { recursive: true, force: true }),
    path: (name: string) => path.join(dir, name),
    /** Writes the content as a new file (`<n>-<name>`) and returns its path. */
    fileOf: (name: string, content: Buffer | string): string => {
      files += 1;
      const file = path.join(dir, `${files}-${name}`);
      fs.writeFileSync(file, content);
      return file;
    },
  };
}

const csvCell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * The registry template as CSV: the header row (the template's, or the given headers), then each row's
 * cells by header (missing ones empty; a cell with a comma, a quote or a line break quoted).
 */
export const templateCsv = (
  rows: readonly Record<string, string>[],
  headers: readonly string[] = TEMPLATE_HEADERS,
): string =>
  [headers.join(','), ...rows.map((row) => headers.map((h) => csvCell(row[h] ?? '')).join(','))].join(
    '\r\n',
  ) + '\r\n';

/**
 * An import's error report (its .csv): each refused row's 错误原因 by the row's 姓名. The columns are the
 * row holding 错误原因: a child ledger's report has its 填报日期 line above them.
 */
export async function reasonsByName(csvPath: string | undefined): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  if (!csvPath) return out;
  let headers: string[] | null = null;
  for await (const row of readRows(csvPath)) {
    const cells = row.values.map((v) => (v == null ? '' : String(v as string)));
    if (headers === null) {
      if (cells.includes(ERROR_REASON_HEADER)) headers = cells;
      continue;
    }
    const columns = headers;
    const cell = (h: string) => cells[columns.indexOf(h)] ?? '';
    out[cell('姓名')] = cell(ERROR_REASON_HEADER);
  }
  return out;
}
