// A registry template file to records, row by row, streaming: the required-header check refuses a
// file whole; everything else is a row error the clerk can fix in the error report. Checks that need
// the database (a father's ID number that matches nobody) belong to the import job, which gets the
// references of each record from collectReferences.

import type { IsoDate } from '../../platform/dates.ts';
import { FileRejected, readTable } from './registry.reader.ts';
import type { TableSource } from './registry.reader.ts';
import { checkHeaders, headerOf, missingHeadersMessage, rawText, rowToRecord } from './registry.template.ts';
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

/**
 * Opens a registry template file: reads and checks the header (throws FileRejected for a file
 * that cannot be imported at all) and returns the rows to stream.
 */
export async function openRegistryFile(
  source: TableSource,
  options: ParseOptions,
): Promise<OpenedRegistryFile> {
  const table = await readTable(source);
  const { missing, unknown } = checkHeaders(table.headers);
  if (missing.length > 0) {
    // Stop reading the file: nothing of it will be imported.
    await table.close();
    throw new FileRejected('MISSING_HEADERS', missingHeadersMessage(missing));
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
    for await (const { rowNumber, cells } of table.rows) {
      const { record, errors } = rowToRecord(cells, ctx);
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
      yield {
        rowNumber,
        record: errors.length > 0 ? null : record,
        errors,
        get raw() {
          return rawOf();
        },
      };
    }
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
