// Files for the child-ledger tests: workbooks built with exceljs, CSV text, and a ledger file parsed
// row by row with its errors as [column, value, reason]. Scratch folders: test/support/files.ts.
import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import type { IsoDate } from '../../src/platform/dates.ts';
import {
  loadCountyPlaces,
  parseLedgerFile,
  type CountyPlaces,
  type LedgerRow,
} from '../../src/modules/registry/registry.ledger.ts';
import { scratchFolder } from './files.ts';

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

/** The column names the ledger reads from the file, as the import reports them. */
export async function ledgerHeadersOf(file: string, places: CountyPlaces, today: IsoDate): Promise<string[]> {
  let headers: string[] = [];
  for await (const row of parseLedgerFile(file, { today, places, onHeaders: (h) => (headers = h) })) void row;
  return headers;
}

export const errorsOf = (row: LedgerRow | undefined) =>
  row?.errors.map((e) => [e.column, e.value, e.reason.zh]);

/**
 * What a child-ledger test file of 兰考县 sets up: the county's places, read before its tests; a scratch
 * folder for its files (opened and removed with the file's tests); and reading a ledger on `today`.
 */
export function lankaoLedgerFiles(prefix: string, today: IsoDate) {
  const scratch = scratchFolder(prefix);
  let places: CountyPlaces | null = null;
  before(async () => {
    places = await loadCountyPlaces('410225');
    scratch.open();
  });
  after(() => scratch.close());
  const loaded = (): CountyPlaces => {
    assert.ok(places, 'the county is read before the tests');
    return places;
  };
  return {
    scratch,
    fileOf: scratch.fileOf,
    places: loaded,
    parse: (file: string) => parseLedger(file, loaded(), today),
    /** The column names the ledger reads, as the import reports them. */
    headersOf: (file: string) => ledgerHeadersOf(file, loaded(), today),
  };
}
