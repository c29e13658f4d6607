// Files for the child-ledger tests: a scratch folder of numbered files, workbooks built with exceljs,
// CSV text, and a ledger file parsed row by row with its errors as [column, value, reason].
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { IsoDate } from '../../src/platform/dates.ts';
import {
  parseLedgerFile,
  type CountyPlaces,
  type LedgerRow,
} from '../../src/modules/registry/registry.ledger.ts';

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

export async function xlsx(build: (workbook: ExcelJS.Workbook) => void): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  build(workbook);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
/** CSV text of the rows, cells quoted where they need it, CRLF line ends. */
export const csvOf = (rows: readonly (readonly string[])[]) =>
  rows.map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';

export async function parseLedger(file: string, places: CountyPlaces, today: IsoDate): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for await (const row of parseLedgerFile(file, { today, places })) rows.push(row);
  return rows;
}

export const errorsOf = (row: LedgerRow | undefined) =>
  row?.errors.map((e) => [e.column, e.value, e.reason.zh]);
