// Streaming readers for the spreadsheets counties send: .xlsx (first visible worksheet) and .csv in UTF-8
// (with or without BOM) or GBK/GB18030, detected, never asked. Memory stays bounded by one row (plus
// the workbook's shared strings, which Excel keeps in one table). A file with a structural fault is
// refused whole with a FileRejected error: before any row is yielded, or, for a part of an .xlsx cut
// short or damaged (its XML never ends, its bytes fail the zip's CRC-32), when its end is read; the
// importers read the whole file before they write anything.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import iconv from 'iconv-lite';
import { DomainError } from '../../platform/errors.ts';
import type { Message } from '../../platform/errors.ts';
import { EXCEL_MAX_SERIAL, excelSerialDate, normalizeCell } from '../../platform/normalize.ts';
import { checkHeaders, cleanHeader, TEMPLATE_HEADERS } from './registry.template.ts';

export type FileRejectedReason =
  | 'EMPTY_FILE'
  | 'UNSUPPORTED_TYPE'
  | 'OLD_XLS'
  | 'NOT_XLSX'
  | 'CORRUPT'
  | 'NO_WORKSHEET'
  | 'NO_HEADER'
  | 'DUPLICATE_HEADERS'
  | 'MERGED_CELLS'
  | 'MISSING_HEADERS'
  | 'MALFORMED_CSV'
  | 'BAD_ENCODING'
  | 'NOT_CSV'
  | 'PASSWORD_PROTECTED'
  | 'NO_ROWS'
  | 'TOO_LARGE';

/** A file refused whole (结构错误): nothing of it is imported. */
export class FileRejected extends DomainError {
  readonly reason: FileRejectedReason;
  constructor(reason: FileRejectedReason, message: Message) {
    super('FILE_REJECTED', message);
    this.name = 'FileRejected';
    this.reason = reason;
  }
}

/** A file on disk, or an upload held in memory with the name it came with. */
export type TableSource = string | { buffer: Uint8Array; filename: string };

/** A formula cell saved without its calculated value: a row error for the template. */
export interface FormulaWithoutResult {
  formulaWithoutResult: string;
}

export function isFormulaWithoutResult(value: unknown): value is FormulaWithoutResult {
  return value !== null && typeof value === 'object' && 'formulaWithoutResult' in value;
}

/** One non-blank row: cells by position (0 = column A), exceljs wrappers unwrapped. */
export interface PositionalRow {
  rowNumber: number;
  values: unknown[];
}

export interface TableRow {
  rowNumber: number;
  cells: Record<string, unknown>;
}

export interface Table {
  headers: string[];
  /** The first worksheet read (.xlsx), with the number of worksheets in the workbook; null for a CSV. */
  sheet: SheetInfo | null;
  /**
   * The worksheets read, in order (.xlsx; none for a CSV): the first, and every later one with the
   * template's header in row 1. A row of the n-th (from 0) is numbered n × ROWS_PER_SHEET + its row.
   */
  sheetsRead: string[];
  rows: AsyncIterable<TableRow>;
  /** Releases the file when the rows will not be read (breaking out of a for-await does it too). */
  close(): Promise<void>;
}

export interface ReadOptions {
  /**
   * The child ledger's title rows are merged across the sheet, and siblings' rows share their parents'
   * cells merged down: merged cells are allowed and each cell of a range reads the range's value (what
   * a person sees). The registry template allows none.
   */
  allowMerges?: boolean;
  /**
   * The most memory (estimated) that the workbook's shared strings may take: Excel keeps every
   * distinct text of a workbook in one table that is read whole before the first row, so a few MB of
   * zip can hold hundreds of MB of it. Beyond this the file is refused (TOO_LARGE). Default: no
   * limit (the registry import parses in a worker thread whose heap is bounded).
   */
  maxSharedStringBytes?: number;
  /** Told which worksheet is read, before the first row (.xlsx only). */
  onSheet?: (sheet: SheetInfo) => void;
  /**
   * Which of the worksheets a clerk sees to read, 0 (the first) by default: the child ledger looks
   * past an empty or instructions sheet for the one holding its column row (SheetInfo.visible says
   * how many there are). Beyond the last one the file is refused (NO_WORKSHEET).
   */
  worksheet?: number;
  /**
   * Read the hidden worksheet at `worksheet` (0: the first hidden one, SheetInfo.hidden) instead of a
   * visible one: the child ledger looks into the sheets it passes over for rows it would leave out.
   */
  hiddenWorksheet?: boolean;
}

export interface SheetInfo {
  name: string;
  /** Worksheets in the workbook, hidden ones included. */
  count: number;
  /** Visible worksheets (chart sheets and hidden ones left out), in the workbook's order. */
  visible: number;
  /** The names of the hidden worksheets (hidden or very hidden; chart sheets left out), in order. */
  hidden?: string[];
}

export interface ReadTableOptions extends ReadOptions {
  /**
   * Whether a header may not appear twice (default: none may). The registry template refuses a
   * template column named twice but ignores unknown columns, repeated or not.
   */
  mustBeUnique?: (header: string) => boolean;
  /**
   * Whether the later visible worksheets with the registry template's header in row 1 are read after
   * the first (.xlsx; default: they are). A township keeps one sheet per village.
   */
  laterSheets?: boolean;
}

const MAX_FIELD_CHARS = 1 << 20;

/**
 * A copy of a string that no longer points into the text it was cut from. V8 represents a slice of 13
 * or more characters as a view on its parent: an ID number kept from a CSV line would keep the whole
 * 64 KiB decoded chunk alive, and a million of them the whole file.
 */
export function detach(s: string): string {
  return s.length < 13 ? s : (' ' + s).slice(1);
}
const DETECT_BYTES = 64 * 1024;

function sourceName(source: TableSource): string {
  return typeof source === 'string' ? source : source.filename;
}

export function fileKind(source: TableSource): 'csv' | 'xlsx' {
  const ext = path.extname(sourceName(source)).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.xlsx') return 'xlsx';
  if (ext === '.xls' || ext === '.et') {
    throw new FileRejected('OLD_XLS', {
      zh: '不支持旧版 .xls 文件，请在 Excel 中“另存为” .xlsx 或 CSV 后再导入',
      en: 'old .xls files are not supported; save the file as .xlsx or CSV in Excel and import again',
    });
  }
  throw new FileRejected('UNSUPPORTED_TYPE', {
    zh: `不支持的文件类型“${ext || '无扩展名'}”，请上传 .xlsx 或 .csv 文件`,
    en: `unsupported file type "${ext || 'no extension'}"; upload an .xlsx or .csv file`,
  });
}

// ---------------------------------------------------------------------------------------------
// Random access to the bytes (for the zip directory) and streams over them.

interface Bytes {
  size: number;
  read(position: number, length: number): Promise<Buffer>;
  stream(start?: number, endInclusive?: number): Readable;
}

async function openBytes(source: TableSource): Promise<Bytes> {
  if (typeof source !== 'string') {
    const buf = Buffer.from(source.buffer.buffer, source.buffer.byteOffset, source.buffer.byteLength);
    return {
      size: buf.length,
      read: (position, length) => Promise.resolve(buf.subarray(position, position + length)),
      stream: (start = 0, end = buf.length - 1) => Readable.from([buf.subarray(start, end + 1)]),
    };
  }
  let size: number;
  try {
    size = (await fs.promises.stat(source)).size;
  } catch {
    throw new FileRejected('CORRUPT', {
      zh: '文件不存在或无法读取',
      en: 'the file does not exist or cannot be read',
    });
  }
  return {
    size,
    async read(position, length) {
      const fh = await fs.promises.open(source, 'r');
      try {
        const buf = Buffer.alloc(Math.max(0, Math.min(length, size - position)));
        await fh.read(buf, 0, buf.length, position);
        return buf;
      } finally {
        await fh.close();
      }
    },
    stream: (start = 0, end = size - 1) =>
      fs.createReadStream(source, { start, end, highWaterMark: 256 * 1024 }),
  };
}

/** The OLE2 compound file of an old .xls (or .et, .doc). */
function isOle2(head: Buffer): boolean {
  return head.length >= 8 && head.readUInt32BE(0) === 0xd0cf11e0 && head.readUInt32BE(4) === 0xa1b11ae1;
}

const ENCRYPTED_PACKAGE = Buffer.from('EncryptedPackage', 'utf16le');

/**
 * An .xlsx saved with an open password is not a zip but an OLE2 compound file holding the encrypted
 * workbook as a stream named EncryptedPackage (ECMA-376 part 2, both Excel and WPS): its name is in
 * the compound file's directory, whose first sectors are read here.
 */
async function isEncryptedWorkbook(bytes: Bytes): Promise<boolean> {
  const header = await bytes.read(0, 512);
  if (header.length < 512) return false;
  const shift = header.readUInt16LE(0x1e);
  if (shift !== 9 && shift !== 12) return false;
  const firstDirectorySector = header.readUInt32LE(0x30);
  const sectorSize = 1 << shift;
  const directory = await bytes.read((firstDirectorySector + 1) * sectorSize, 4 * sectorSize);
  return directory.includes(ENCRYPTED_PACKAGE);
}

function oldXls(namedAs: string): FileRejected {
  return new FileRejected('OLD_XLS', {
    zh: `这是旧版 .xls 文件（只是扩展名改成了 ${namedAs}），请在 Excel 中“另存为” .xlsx 后再导入`,
    en: `this is an old .xls file renamed to ${namedAs}; save it as .xlsx in Excel and import again`,
  });
}

const EMPTY_FILE = new FileRejected('EMPTY_FILE', {
  zh: '文件是空的（0 字节）',
  en: 'the file is empty (0 bytes)',
});

// ---------------------------------------------------------------------------------------------
// Positional rows

/**
 * The non-blank rows of a .csv or .xlsx file by position. Throws FileRejected (on the first
 * iteration step) for a file that cannot be read as a table.
 */
export async function* readRows(
  source: TableSource,
  options: ReadOptions = {},
): AsyncGenerator<PositionalRow> {
  yield* rowSource(source, options).rows(
    options.worksheet ?? 0,
    options.allowMerges ? 'fill' : 'refuse',
    options.onSheet,
    options.hiddenWorksheet,
  );
}

function isBlank(values: readonly unknown[]): boolean {
  return values.every((v) => !isFormulaWithoutResult(v) && normalizeCell(v) === null);
}

/**
 * Excel's last row. In a table read from several worksheets the n-th sheet read (from 0) numbers its
 * rows from n × ROWS_PER_SHEET: the first sheet's rows keep their own numbers, and a row's number
 * stays unique in the file (the import stages rows by it). sheetRow gives the sheet and its row back.
 */
export const ROWS_PER_SHEET = 1_048_576;

/** Sheets a table may read: their row numbers stay within a 32-bit integer (the import's stage). */
const MAX_SHEETS_READ = Math.floor(0x7fffffff / ROWS_PER_SHEET);

/** The sheet read (0: the first) and its own row, of a table's row number (ROWS_PER_SHEET). */
export function sheetRow(rowNumber: number): { sheet: number; row: number } {
  const sheet = Math.max(0, Math.floor((rowNumber - 1) / ROWS_PER_SHEET));
  return { sheet, row: rowNumber - sheet * ROWS_PER_SHEET };
}

const TEMPLATE_HEADER_SET = new Set(TEMPLATE_HEADERS);
/** Template column names a row holds at least to be taken for a header row (as parse's repeatedHeaderRow). */
const HEADER_MIN_COLUMNS = 3;
/** Rows of a later worksheet looked at for a header row (a title above it is refused, as on the first). */
const HEADER_SEARCH_ROWS = 20;

/** A header row's names, cleaned; a repeated name that may repeat is blanked (its first column is read). */
function headerNames(
  values: readonly unknown[],
  mustBeUnique: (header: string) => boolean,
  sheetName: string | null,
): string[] {
  const headers = values.map((v) => cleanHeader(normalizeCell(v) ?? ''));
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  headers.forEach((h, i) => {
    if (h === '') return;
    if (seen.has(h)) {
      if (mustBeUnique(h)) duplicates.add(h);
      // A repeated column that may repeat is read from its first occurrence only.
      headers[i] = '';
    }
    seen.add(h);
  });
  if (duplicates.size > 0) {
    const list = [...duplicates];
    const where =
      sheetName === null
        ? { zh: '', en: '' }
        : { zh: `工作表“${sheetName}”`, en: ` of the worksheet "${sheetName}"` };
    throw new FileRejected('DUPLICATE_HEADERS', {
      zh: `${where.zh}列名重复：${list.join('、')}。每一列只能出现一次`,
      en: `duplicate column headers${where.en}: ${list.join(', ')}; each column may appear only once`,
    });
  }
  return headers;
}

/**
 * A later worksheet's header row, when it has one: the first of its first rows that holds at least
 * HEADER_MIN_COLUMNS of the template's column names. Merged cells are not looked at here (an
 * instructions sheet often has them); a sheet that is read is checked for them when it is.
 */
async function templateHeaderRow(
  source: RowSource,
  ordinal: number,
): Promise<{ name: string; rowNumber: number; values: unknown[] } | null> {
  let name = '';
  const rows = source.rows(ordinal, 'ignore', (sheet) => (name = sheet.name));
  try {
    for await (const row of rows) {
      if (row.rowNumber > HEADER_SEARCH_ROWS) break;
      const named = row.values.filter((v) => TEMPLATE_HEADER_SET.has(cleanHeader(normalizeCell(v) ?? '')));
      if (named.length >= HEADER_MIN_COLUMNS) return { name, ...row };
    }
  } finally {
    await rows.return(undefined);
  }
  return null;
}

/** One worksheet of a table: its name (null for a CSV), its visible ordinal, its header by position. */
interface TablePart {
  name: string | null;
  ordinal: number;
  headers: string[];
}

/**
 * The worksheets after the first to read with it: every visible one with the registry template's
 * header in row 1 (a township keeps one sheet per village). One without a header row (填表说明, an
 * empty Sheet2) is passed over. A header that is broken (a title above it, a required column
 * missing, a column named twice, merged cells) refuses the file whole, naming the sheet, as the
 * first sheet's would.
 */
async function laterSheets(
  source: RowSource,
  visible: number,
  merges: Merges,
  mustBeUnique: (header: string) => boolean,
): Promise<TablePart[]> {
  const parts: TablePart[] = [];
  for (let ordinal = 1; ordinal < visible; ordinal++) {
    const found = await templateHeaderRow(source, ordinal);
    if (!found) continue;
    const { name, rowNumber } = found;
    if (rowNumber !== 1) {
      throw new FileRejected('NO_HEADER', {
        zh: `工作表“${name}”的列名在第${rowNumber}行：各工作表的列名都须在第1行，请删除其上方的 ${rowNumber - 1} 行标题后重新导入`,
        en: `the headers of the worksheet "${name}" are in row ${rowNumber}: every worksheet's headers must be in row 1; delete the ${rowNumber - 1} title row(s) above them and import again`,
      });
    }
    const headers = headerNames(found.values, mustBeUnique, name);
    const { missing } = checkHeaders(headers);
    if (missing.length > 0) {
      throw new FileRejected('MISSING_HEADERS', {
        zh: `工作表“${name}”缺少必填列：${missing.join('、')}。工作簿中第1行有登记表列名的每个工作表都会导入：请补齐这些列，或把该工作表移出本文件后重新导入。`,
        en: `the worksheet "${name}" lacks required columns: ${missing.join(', ')}. Every worksheet whose row 1 holds the template's headers is imported: add them, or move the worksheet out of this file, and import again.`,
      });
    }
    if (parts.length + 1 >= MAX_SHEETS_READ) {
      throw new FileRejected('TOO_LARGE', {
        zh: `工作簿中有登记表列名的工作表超过 ${MAX_SHEETS_READ} 个：请分成几个文件后再导入`,
        en: `more than ${MAX_SHEETS_READ} worksheets of the workbook hold the template's headers; split it into several files`,
      });
    }
    // Opened once before any row is read, so that merged cells refuse the file before a row is staged.
    const check = source.rows(ordinal, merges);
    try {
      await check.next();
    } finally {
      await check.return(undefined);
    }
    parts.push({ name, ordinal, headers });
  }
  return parts;
}

/**
 * A table whose header is row 1: header names trimmed; blank rows skipped. A header that must be
 * unique named twice, or a missing header row, refuses the file. A header repeated that may be
 * (an unknown column) keeps its first column.
 *
 * In a workbook, every later visible worksheet with the registry template's header in row 1 is read
 * after the first (laterSheets), each by its own header; `headers` are those of all of them, the
 * first sheet's first. Their rows are numbered by ROWS_PER_SHEET.
 */
export async function readTable(source: TableSource, options: ReadTableOptions = {}): Promise<Table> {
  let sheet: SheetInfo | null = null;
  const files = rowSource(source, options);
  const merges: Merges = options.allowMerges ? 'fill' : 'refuse';
  const iterator = files.rows(0, merges, (s) => {
    sheet = s;
    options.onSheet?.(s);
  });
  const first = await iterator.next();
  if (first.done || first.value.rowNumber !== 1) {
    await iterator.return(undefined);
    throw new FileRejected('NO_HEADER', {
      zh: '第1行应为列名（表头），但第1行是空的',
      en: 'row 1 must hold the column headers, but it is empty',
    });
  }
  const mustBeUnique = options.mustBeUnique ?? (() => true);
  const parts: TablePart[] = [];
  try {
    const read = sheet as SheetInfo | null;
    const headers = headerNames(first.value.values, mustBeUnique, null);
    parts.push({ name: read?.name ?? null, ordinal: 0, headers });
    // The template is the first sheet (EXCHANGE.md): when it is not (填表说明 first), the file is
    // refused for the first sheet's headers, naming it, and no later sheet stands in for it.
    const template = checkHeaders(headers).missing.length === 0;
    if (read && read.visible > 1 && template && options.laterSheets !== false)
      parts.push(...(await laterSheets(files, read.visible, merges, mustBeUnique)));
  } catch (error) {
    await iterator.return(undefined);
    throw error;
  }
  let reading: AsyncGenerator<PositionalRow> = iterator;
  async function* rows(): AsyncGenerator<TableRow> {
    try {
      for (const [index, part] of parts.entries()) {
        if (index > 0) reading = files.rows(part.ordinal, merges);
        try {
          for (;;) {
            const next = await reading.next();
            if (next.done) break;
            // A later sheet's header row (the first sheet's was read above).
            if (index > 0 && next.value.rowNumber === 1) continue;
            const cells: Record<string, unknown> = {};
            next.value.values.forEach((v, i) => {
              const h = part.headers[i];
              if (h) cells[h] = v;
            });
            yield { rowNumber: index * ROWS_PER_SHEET + next.value.rowNumber, cells };
          }
        } finally {
          await reading.return(undefined);
        }
      }
    } finally {
      await iterator.return(undefined);
    }
  }
  const generator = rows();
  const headers: string[] = [];
  for (const part of parts)
    for (const h of part.headers) if (h !== '' && !headers.includes(h)) headers.push(h);
  return {
    headers,
    sheet,
    sheetsRead: parts.flatMap((p) => (p.name === null ? [] : [p.name])),
    rows: generator,
    close: async () => {
      await generator.return(undefined);
      await reading.return(undefined);
      await iterator.return(undefined);
    },
  };
}

// ---------------------------------------------------------------------------------------------
// CSV

type Encoding = 'utf-8' | 'gb18030' | 'utf-16le' | 'utf-16be';

/** UTF-8 when the first 64 KiB decode strictly as UTF-8 (with or without BOM), else GB18030. */
export function detectEncoding(head: Uint8Array): Encoding {
  if (head[0] === 0xff && head[1] === 0xfe) return 'utf-16le';
  if (head[0] === 0xfe && head[1] === 0xff) return 'utf-16be';
  try {
    // stream: true lets a character cut at the 64 KiB boundary pass.
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return 'utf-8';
  } catch {
    return 'gb18030';
  }
}

const ENCODING_NAMES: Record<Encoding, string> = {
  'utf-8': 'UTF-8',
  gb18030: 'GBK/GB18030',
  'utf-16le': 'UTF-16',
  'utf-16be': 'UTF-16',
};

function badEncoding(encoding: Encoding, where: 'middle' | 'end'): FileRejected {
  const name = ENCODING_NAMES[encoding];
  return where === 'end'
    ? new FileRejected('BAD_ENCODING', {
        zh: `文件是 ${name} 编码，但结尾处的字符不完整：文件可能被截断。请在 Excel 中重新另存为 CSV（UTF-8）后再导入`,
        en: `the file is in ${name} but its last character is incomplete (the file may be cut short); save it again as CSV (UTF-8)`,
      })
    : new FileRejected('BAD_ENCODING', {
        zh: `文件前部是 ${name} 编码，后部却不是：文件编码混杂，请在 Excel 中重新另存为 CSV（UTF-8）`,
        en: `the file starts in ${name} but later bytes are not ${name}; save it again as CSV (UTF-8)`,
      });
}

/**
 * A .csv whose bytes are not text: a workbook or an old .xls renamed, or another binary file (a NUL
 * byte does not occur in CSV text outside UTF-16, which starts with its byte order mark).
 */
function notCsv(head: Buffer, encoding: Encoding): FileRejected | null {
  if (head.length >= 4 && head.readUInt32LE(0) === ZIP_LOCAL) {
    return new FileRejected('NOT_CSV', {
      zh: '文件扩展名是 .csv，内容却是 Excel 工作簿（.xlsx）：请把扩展名改回 .xlsx，或在 Excel 中另存为 CSV 后再导入',
      en: 'the file is named .csv but holds an Excel workbook (.xlsx); name it .xlsx, or save it as CSV in Excel',
    });
  }
  if (isOle2(head)) return oldXls('.csv');
  if (encoding !== 'utf-16le' && encoding !== 'utf-16be' && head.includes(0)) {
    return new FileRejected('NOT_CSV', {
      zh: '文件不是文本格式的 CSV（含有二进制内容），可能是改了扩展名的其他文件；“Unicode 文本”请在 Excel 中改为另存为“CSV UTF-8”',
      en: 'the file is not CSV text (it holds binary content) and may be another file renamed; save it from Excel as "CSV UTF-8"',
    });
  }
  return null;
}

/**
 * The 24 characters that GB18030-2005 (and iconv-lite's table) maps to the Private Use Area and
 * GB18030-2022 to their standard code points, by the PUA code point iconv-lite decodes: ten vertical
 * punctuation forms (A6D9-A6DF, A6EC, A6ED, A6F3 → U+FE10-FE19), eight CJK ideographs (FE59 FE61 FE66
 * FE67 FE6D FE7E FE90 FEA0 → U+9FB4-9FBB), and six of CJK Extension B (FE51 FE52 FE53 FE6C FE76 FE91)
 * that a GB18030-2022 encoder such as glibc's iconv writes at these two-byte codes. Checked against
 * glibc 2.36 iconv, the WHATWG gb18030 index (the 18 in the BMP) and the published 2005-to-2022 table.
 * Decoded as GB18030-2022 does, a name typed with one of them (王𠂇) is the person's name, not a code
 * point no font shows that flips the name on record at each import of another encoding.
 */
const GB18030_2022_FROM_PUA: ReadonlyMap<string, string> = new Map(
  (
    [
      [0xe78d, 0xfe10], // A6D9
      [0xe78e, 0xfe12], // A6DA
      [0xe78f, 0xfe11], // A6DB
      [0xe790, 0xfe13], // A6DC
      [0xe791, 0xfe14], // A6DD
      [0xe792, 0xfe15], // A6DE
      [0xe793, 0xfe16], // A6DF
      [0xe794, 0xfe17], // A6EC
      [0xe795, 0xfe18], // A6ED
      [0xe796, 0xfe19], // A6F3
      [0xe816, 0x20087], // FE51 𠂇
      [0xe817, 0x20089], // FE52 𠂉
      [0xe818, 0x200cc], // FE53 𠃌
      [0xe81e, 0x9fb4], // FE59 龴
      [0xe826, 0x9fb5], // FE61 龵
      [0xe82b, 0x9fb6], // FE66 龶
      [0xe82c, 0x9fb7], // FE67 龷
      [0xe831, 0x215d7], // FE6C 𡗗
      [0xe832, 0x9fb8], // FE6D 龸
      [0xe83b, 0x2298f], // FE76 𢦏
      [0xe843, 0x9fb9], // FE7E 龹
      [0xe854, 0x9fba], // FE90 龺
      [0xe855, 0x241fe], // FE91 𤇾
      [0xe864, 0x9fbb], // FEA0 龻
    ] as const
  ).map(([pua, standard]) => [String.fromCharCode(pua), String.fromCodePoint(standard)]),
);
const GB18030_2005_PUA =
  /[\uE78D-\uE796\uE816-\uE818\uE81E\uE826\uE82B\uE82C\uE831\uE832\uE83B\uE843\uE854\uE855\uE864]/g;

/** GBK/GB18030 text as GB18030-2022 reads it (GB18030_2022_FROM_PUA). */
function asGb18030of2022(text: string): string {
  return text.replace(GB18030_2005_PUA, (c) => GB18030_2022_FROM_PUA.get(c) ?? c);
}

interface Decoding {
  encoding?: Encoding;
  /** Bytes that are not GB18030 were met (and came out as U+FFFD) in the text yielded so far. */
  replaced?: boolean;
}

/** The decoded text of a CSV file; `detected` is filled in as the chunks come out. */
async function* decode(bytes: AsyncIterable<Buffer>, detected: Decoding = {}): AsyncGenerator<string> {
  const head: Buffer[] = [];
  let headLength = 0;
  const iterator = bytes[Symbol.asyncIterator]();
  let done = false;
  while (headLength < DETECT_BYTES) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    head.push(next.value);
    headLength += next.value.length;
  }
  const first = Buffer.concat(head);
  const encoding = detectEncoding(first.subarray(0, DETECT_BYTES));
  const refused = notCsv(first.subarray(0, DETECT_BYTES), encoding);
  if (refused) throw refused;
  detected.encoding = encoding;
  let write: (chunk: Buffer) => string;
  let end: () => string;
  if (encoding === 'gb18030') {
    // Bytes that are not GB18030 come out as U+FFFD; readCsvRows refuses the file at that row.
    const decoder = iconv.getDecoder('gb18030');
    const flag = (text: string) => {
      if (text.includes('\uFFFD')) detected.replaced = true;
      return asGb18030of2022(text);
    };
    write = (c) => flag(decoder.write(c));
    end = () => flag(decoder.end() ?? '');
  } else {
    const decoder = new TextDecoder(encoding, { fatal: true });
    write = (c) => {
      try {
        return decoder.decode(c, { stream: true });
      } catch {
        throw badEncoding(encoding, 'middle');
      }
    };
    end = () => {
      try {
        return decoder.decode();
      } catch {
        throw badEncoding(encoding, 'end');
      }
    };
  }
  yield write(first);
  if (!done) {
    for (;;) {
      const next = await iterator.next();
      if (next.done) break;
      yield write(next.value);
    }
  }
  const tail = end();
  if (tail) yield tail;
}

const QUOTE = 34;
const COMMA = 44;
const SEMICOLON = 59;
const TAB = 9;
const LF = 10;
const CR = 13;

const DELIMITER_SEARCH_LINES = 50;

/**
 * The delimiter, from the first line that has one: a comma, else a tab, else a semicolon. A ledger's
 * title line (兰考县农村留守儿童台账, 填报单位：…) written without trailing delimiters, as tools other
 * than Excel save a cell merged across the row, says nothing; the column row below it does.
 */
function delimiterOf(text: string): number {
  const lines = text.split(/\r\n|\r|\n/, DELIMITER_SEARCH_LINES);
  // The last piece may be a line cut off by the chunk's end: still read, as the first line always was.
  for (const line of lines) {
    if (line.includes(',')) return COMMA;
    if (line.includes('\t')) return TAB;
    if (line.includes(';')) return SEMICOLON;
  }
  return COMMA;
}

/**
 * Records of RFC 4180 CSV from text chunks: quoted fields with "" escapes, embedded newlines, CRLF,
 * LF or CR line ends. A file saved by Excel as "Unicode text" is tab-separated: the delimiter is a
 * tab when the first line with a delimiter (delimiterOf) has tabs and no commas. Excel in a locale whose list separator is the
 * semicolon (a clerk's computer set to a European region) writes "CSV" with semicolons: the
 * delimiter is a semicolon when that line has semicolons and neither commas nor tabs.
 */
export async function* parseCsv(chunks: AsyncIterable<string>): AsyncGenerator<string[]> {
  const START = 0;
  const UNQUOTED = 1;
  const QUOTED = 2;
  const QUOTE_SEEN = 3;
  let state = START;
  let field = '';
  let record: string[] = [];
  let skipLf = false;
  let delimiter = -1;
  for await (const s of chunks) {
    if (delimiter < 0) delimiter = delimiterOf(s);
    let start = 0;
    const n = s.length;
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i);
      if (skipLf) {
        skipLf = false;
        if (c === LF) {
          start = i + 1;
          continue;
        }
      }
      if (state === START) {
        if (c === QUOTE) {
          state = QUOTED;
          start = i + 1;
          continue;
        }
        state = UNQUOTED;
        start = i;
      }
      switch (state) {
        case UNQUOTED:
          if (c === delimiter) {
            record.push(detach(field + s.slice(start, i)));
            field = '';
            state = START;
          } else if (c === LF || c === CR) {
            record.push(detach(field + s.slice(start, i)));
            field = '';
            state = START;
            skipLf = c === CR;
            yield record;
            record = [];
          }
          break;
        case QUOTED:
          if (c === QUOTE) {
            field += s.slice(start, i);
            state = QUOTE_SEEN;
          }
          break;
        case QUOTE_SEEN:
          if (c === QUOTE) {
            field += '"';
            state = QUOTED;
            start = i + 1;
          } else if (c === delimiter) {
            record.push(detach(field));
            field = '';
            state = START;
          } else if (c === LF || c === CR) {
            record.push(detach(field));
            field = '';
            state = START;
            skipLf = c === CR;
            yield record;
            record = [];
          } else {
            // Text after a closing quote ("a"b): kept as written, as Excel does.
            state = UNQUOTED;
            start = i;
          }
          break;
        default:
          break;
      }
    }
    if (state === UNQUOTED || state === QUOTED) field += s.slice(start);
    if (field.length > MAX_FIELD_CHARS) {
      throw new FileRejected('MALFORMED_CSV', {
        zh: 'CSV 文件格式错误：某个单元格超过 100 万个字符，多半是引号没有成对出现',
        en: 'malformed CSV: a cell exceeds one million characters, most likely an unclosed quote',
      });
    }
  }
  if (state === QUOTED) {
    throw new FileRejected('MALFORMED_CSV', {
      zh: 'CSV 文件格式错误：文件结尾处有未闭合的引号',
      en: 'malformed CSV: a quote is still open at the end of the file',
    });
  }
  if (state !== START || record.length > 0) {
    record.push(detach(field));
    yield record;
  }
}

// ="410225200801011234" is how a CSV keeps a long number as text when Excel opens it, and
// ="=SUM(1)" how the export keeps text that would run as a formula ("" inside stands for ").
const EXCEL_TEXT = /^="(.*)"$/s;

function unwrapExcelText(field: string): string {
  const m = EXCEL_TEXT.exec(field);
  return m ? (m[1] ?? '').replaceAll('""', '"') : field;
}

async function* readCsvRows(bytes: Bytes): AsyncGenerator<PositionalRow> {
  const stream = bytes.stream();
  const detected: Decoding = {};
  try {
    let rowNumber = 0;
    for await (const record of parseCsv(decode(stream as AsyncIterable<Buffer>, detected))) {
      rowNumber += 1;
      if (detected.replaced && record.some((field) => field.includes('\uFFFD'))) {
        throw new FileRejected('BAD_ENCODING', {
          zh: `第 ${rowNumber} 行有不是 GBK/GB18030 编码的字节：文件编码混杂或已损坏，请在 Excel 中重新另存为 CSV（UTF-8）`,
          en: `row ${rowNumber} holds bytes that are not GBK/GB18030: the file mixes encodings or is damaged; save it again as CSV (UTF-8)`,
        });
      }
      if (isBlank(record)) continue;
      yield { rowNumber, values: record.map(unwrapExcelText) };
    }
  } finally {
    stream.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// XLSX

const ZIP_LOCAL = 0x04034b50;
const ZIP_CENTRAL = 0x02014b50;
const ZIP_END = 0x06054b50;

interface ZipEntry {
  name: string;
  method: number;
  compressedSize: number;
  /** What the central directory says the part inflates to: its length and CRC-32 (entryText checks both). */
  size: number;
  crc32: number;
  localHeaderOffset: number;
}

/** A ZIP64 entry's sizes in the central directory (their true values are in an extra field). */
const ZIP64_SIZE = 0xffffffff;

function corruptFile(): FileRejected {
  return new FileRejected('CORRUPT', {
    zh: '文件已损坏，无法作为 .xlsx 读取；请在 Excel 中打开后重新保存',
    en: 'the file is damaged and cannot be read as .xlsx; open it in Excel and save it again',
  });
}

async function readZipDirectory(bytes: Bytes): Promise<ZipEntry[]> {
  const corrupt = corruptFile();
  const tailLength = Math.min(bytes.size, 65535 + 22);
  const tail = await bytes.read(bytes.size - tailLength, tailLength);
  let end = -1;
  for (let i = tail.length - 22; i >= 0; i--) {
    if (tail.readUInt32LE(i) === ZIP_END) {
      end = i;
      break;
    }
  }
  if (end < 0) throw corrupt;
  const count = tail.readUInt16LE(end + 10);
  const size = tail.readUInt32LE(end + 12);
  const offset = tail.readUInt32LE(end + 16);
  if (offset + size > bytes.size) throw corrupt;
  const dir = await bytes.read(offset, size);
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let k = 0; k < count && p + 46 <= dir.length; k++) {
    if (dir.readUInt32LE(p) !== ZIP_CENTRAL) throw corrupt;
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    entries.push({
      name: dir.toString('utf8', p + 46, p + 46 + nameLength),
      method: dir.readUInt16LE(p + 10),
      crc32: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const MERGE_CELL = /<(?:\w+:)?mergeCell\b[^>]*?\bref="([^"]+)"/g;

/** The merged ranges (A1:B2) of one worksheet, read from the zip without loading the sheet. */
async function mergedRanges(
  bytes: Bytes,
  entries: ZipEntry[],
  sheetPath: string,
  limit = 5,
): Promise<string[]> {
  const entry = entries.find((e) => e.name === sheetPath);
  if (!entry || entry.compressedSize === 0) return [];
  const local = await bytes.read(entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== ZIP_LOCAL) return [];
  const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  const raw = bytes.stream(dataStart, dataStart + entry.compressedSize - 1);
  const inflated = entry.method === 8 ? raw.pipe(zlib.createInflateRaw()) : raw;
  const found: string[] = [];
  let carry = '';
  try {
    for await (const chunk of inflated as AsyncIterable<Buffer>) {
      const text = carry + chunk.toString('latin1');
      MERGE_CELL.lastIndex = 0;
      for (let m = MERGE_CELL.exec(text); m; m = MERGE_CELL.exec(text)) {
        if (m[1] && !found.includes(m[1])) found.push(m[1]);
        if (found.length >= limit) return found;
      }
      carry = text.slice(-256);
    }
  } catch {
    return found;
  } finally {
    raw.destroy();
    inflated.destroy();
  }
  return found;
}

const MAX_FILLED_MERGES = 100_000;

interface CellRange {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

/** A1:B2 as rows (1-based) and columns (0-based). */
function parseRange(ref: string): CellRange | null {
  const m = /^([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?$/.exec(ref.replace(/\$/g, ''));
  if (!m) return null;
  const left = columnIndex(m[1]);
  const right = columnIndex(m[3] ?? m[1]);
  if (left === null || right === null) return null;
  const top = Number(m[2]);
  const bottom = Number(m[4] ?? m[2]);
  return {
    top: Math.min(top, bottom),
    left: Math.min(left, right),
    bottom: Math.max(top, bottom),
    right: Math.max(left, right),
  };
}

/**
 * Copies the value of each merged range's top-left cell into the range's other cells as the rows
 * stream past (rows come in order, so the top-left value is seen before the cells that repeat it).
 */
class MergeFill {
  private readonly byTop = new Map<number, CellRange[]>();
  private active: { range: CellRange; value: unknown }[] = [];
  constructor(ranges: readonly CellRange[]) {
    for (const r of ranges) {
      const list = this.byTop.get(r.top) ?? [];
      list.push(r);
      this.byTop.set(r.top, list);
    }
  }
  apply(rowNumber: number, values: unknown[]): void {
    if (this.byTop.size === 0 && this.active.length === 0) return;
    this.active = this.active.filter((a) => a.range.bottom >= rowNumber);
    for (const [top, ranges] of this.byTop) {
      // A range whose top row is blank (never yielded) still starts there, with no value.
      if (top > rowNumber) continue;
      for (const range of ranges) {
        const value = top === rowNumber ? (values[range.left] ?? null) : null;
        if (range.bottom >= rowNumber) this.active.push({ range, value });
      }
      this.byTop.delete(top);
    }
    for (const { range, value } of this.active) {
      if (value === null || rowNumber < range.top) continue;
      for (let c = range.left; c <= range.right; c++) {
        if (rowNumber === range.top && c === range.left) continue;
        values[c] = value;
      }
    }
  }
}

// exceljs's streaming WorkbookReader decodes each zip chunk on its own and garbles a Chinese character
// that straddles two chunks (its parse-sax calls TextDecoder.decode without {stream: true}). The sheet,
// the shared strings and the styles are therefore read here, with one streaming decoder per entry.

/**
 * The text of a part, streamed. Read to its end, the part's inflated length and CRC-32 are checked
 * against the central directory's: bytes damaged on the way refuse the file (CORRUPT), as a zip cut
 * short does, instead of being read as whatever they inflate to.
 */
async function* entryText(bytes: Bytes, entry: ZipEntry): AsyncGenerator<string> {
  const local = await bytes.read(entry.localHeaderOffset, 30);
  if (local.length < 30 || local.readUInt32LE(0) !== ZIP_LOCAL) throw corruptFile();
  const dataStart = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
  if (entry.compressedSize === 0) {
    if (entry.size !== 0 && entry.size !== ZIP64_SIZE) throw corruptFile();
    return;
  }
  const raw = bytes.stream(dataStart, dataStart + entry.compressedSize - 1);
  const inflated = entry.method === 8 ? raw.pipe(zlib.createInflateRaw()) : raw;
  const decoder = new TextDecoder('utf-8');
  let size = 0;
  let crc = 0;
  try {
    for await (const chunk of inflated as AsyncIterable<Buffer>) {
      size += chunk.length;
      crc = zlib.crc32(chunk, crc);
      yield decoder.decode(chunk, { stream: true });
    }
    if ((entry.size !== ZIP64_SIZE && size !== entry.size) || crc !== entry.crc32) throw corruptFile();
    const tail = decoder.decode();
    if (tail) yield tail;
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw corruptFile();
  } finally {
    raw.destroy();
    inflated.destroy();
  }
}

/**
 * A part read whole. Given its root element, a part with text that does not end by closing it (cut
 * short inside a zip that is itself whole) refuses the file; an empty part is left to the caller.
 */
async function entryWhole(bytes: Bytes, entry: ZipEntry | undefined, root?: string): Promise<string> {
  if (!entry) return '';
  let text = '';
  for await (const chunk of entryText(bytes, entry)) text += chunk;
  if (root !== undefined && text.trim() !== '' && !closesRoot(text.trimEnd().slice(-MAX_TAIL_CHARS), root))
    throw corruptFile();
  return text;
}

/** Characters of a part's end kept to see its root element close (closesRoot). */
const MAX_TAIL_CHARS = 1024;

/**
 * Whether XML ends by closing its root element `root` (any namespace prefix), or by the root written
 * empty, with only white space, comments and processing instructions after it. A part that does not
 * was cut short: what is missing cannot be told.
 */
function closesRoot(tail: string, root: string): boolean {
  const end = tail.replace(/(?:\s|<!--[\s\S]*?-->|<\?[\s\S]*?\?>)*$/, '');
  return new RegExp(`(?:</(?:\\w+:)?${root}\\s*|<(?:\\w+:)?${root}\\b[^<>]*/)>$`).test(end);
}

/**
 * Elements named `tag` (any namespace prefix) from streamed XML, each as its full text. The XML must
 * end whole: an element still open at its end, or a root element (`root`) that never closes, is a
 * part cut short, refused with `cutShort()` (the rows before the cut are never all the rows).
 */
async function* elements(
  chunks: AsyncIterable<string>,
  tag: string,
  root: string,
  cutShort: () => FileRejected = corruptFile,
): AsyncGenerator<string> {
  const open = new RegExp(`<(?:\\w+:)?${tag}[\\s>/]`, 'g');
  const close = new RegExp(`</(?:\\w+:)?${tag}>|<(?:\\w+:)?${tag}(?:\\s[^>]*)?/>`, 'g');
  let buffer = '';
  let incomplete = false;
  // The part's last characters, white space at the end of a chunk kept as one space until more follows.
  let tail = '';
  let space = '';
  for await (const chunk of chunks) {
    const text = chunk.trimEnd();
    if (text !== '') {
      tail = (text.length >= MAX_TAIL_CHARS ? text : tail + space + text).slice(-MAX_TAIL_CHARS);
      space = '';
    }
    if (text.length < chunk.length) space = ' ';
    buffer += chunk;
    let consumed = 0;
    incomplete = false;
    for (;;) {
      open.lastIndex = consumed;
      const o = open.exec(buffer);
      if (!o) break;
      close.lastIndex = o.index;
      const c = close.exec(buffer);
      if (!c) {
        consumed = o.index;
        incomplete = true;
        break;
      }
      yield buffer.slice(o.index, c.index + c[0].length);
      consumed = c.index + c[0].length;
    }
    // Keep an element still open; otherwise only a tail that may hold the start of the next tag.
    buffer = incomplete ? buffer.slice(consumed) : buffer.slice(Math.max(consumed, buffer.length - 64));
    if (buffer.length > MAX_FIELD_CHARS * 4) throw corruptFile();
  }
  if (incomplete || !closesRoot(tail, root)) throw cutShort();
}

const ENTITY = /&(?:#x([0-9a-f]+)|#(\d+)|(amp|lt|gt|quot|apos));|_x([0-9A-F]{4})_/gi;
const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/**
 * A character reference to no character (&#x110000;, beyond U+10FFFF): not well-formed XML, and nothing
 * a cell can be read as. Which cell holds it is filled in where the cell is read (`cell`).
 */
class UnmappableReference extends Error {
  readonly reference: string;
  cell: string | null = null;
  constructor(reference: string) {
    super(`character reference beyond Unicode: ${reference}`);
    this.reference = reference;
  }
}

function unmappableReference(e: UnmappableReference): FileRejected {
  const where =
    e.cell === null ? { zh: '文件中', en: 'the file' } : { zh: `单元格 ${e.cell} 中`, en: `cell ${e.cell}` };
  return new FileRejected('CORRUPT', {
    zh: `${where.zh}有无法识别的字符“${e.reference}”（超出 Unicode 字符范围）：文件不符合 .xlsx 格式，可能是生成它的程序出了错。请在 Excel 或 WPS 中改正该单元格并保存后重新导入`,
    en: `${where.en} holds the character reference "${e.reference}", which is beyond Unicode: the file is not valid .xlsx (the program that wrote it may be at fault); correct the cell in Excel or WPS, save and import again`,
  });
}

function codePoint(n: number, reference: string): string {
  if (!(n <= 0x10ffff)) throw new UnmappableReference(reference);
  // A surrogate (&#xD800;, _xD800_) is kept as it is: with its other half it is one character, and
  // alone it is half of one, which the template refuses in its column (HALF_CHARACTER).
  return String.fromCodePoint(n);
}

function xmlText(s: string): string {
  return s.replace(ENTITY, (reference: string, hex?: string, dec?: string, name?: string, ooxml?: string) => {
    if (hex) return codePoint(parseInt(hex, 16), reference);
    if (dec) return codePoint(Number(dec), reference);
    if (name) return NAMED[name.toLowerCase()] ?? '';
    return String.fromCharCode(parseInt(ooxml ?? '0', 16));
  });
}

function attribute(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m ? xmlText(m[1] ?? '') : undefined;
}

/** The text of <t> runs, phonetic guides (<rPh>) left out. */
function runText(xml: string): string {
  const withoutPhonetic = xml.replace(/<(?:\w+:)?rPh\b[\s\S]*?<\/(?:\w+:)?rPh>/g, '');
  let text = '';
  // An empty run written self-closing (<t xml:space="preserve"/>) is no opening tag.
  for (const m of withoutPhonetic.matchAll(/<(?:\w+:)?t(?:\s[^>]*)?(?<!\/)>([\s\S]*?)<\/(?:\w+:)?t>/g))
    text += m[1] ?? '';
  return xmlText(text);
}

const BUILTIN_DATE_FORMATS = new Set([
  14, 15, 16, 17, 18, 19, 20, 21, 22, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 45, 46, 47, 50, 51, 52, 53, 54,
  55, 56, 57, 58,
]);

function isDateFormat(code: string): boolean {
  const bare = code
    .replace(/\[[^\]]*]/g, '')
    .replace(/"[^"]*"/g, '')
    .replace(/\\./g, '');
  return /[ymdhs]/i.test(bare);
}

interface CellStyles {
  /** Which cell style indexes (s="...") format a number as a date. */
  date: boolean[];
  /** The width a style pads a whole number to with leading zeros (000000: 1001 shows as 001001), or 0. */
  zeroPadded: number[];
}

/** The number formats of the cell style indexes (s="...") that change what a number reads as. */
function cellStyles(stylesXml: string): CellStyles {
  const custom = new Map<number, string>();
  for (const m of stylesXml.matchAll(/<(?:\w+:)?numFmt\s[^>]*>/g)) {
    const id = Number(attribute(m[0], 'numFmtId'));
    custom.set(id, attribute(m[0], 'formatCode') ?? '');
  }
  const xfs = /<(?:\w+:)?cellXfs\b[\s\S]*?<\/(?:\w+:)?cellXfs>/.exec(stylesXml)?.[0] ?? '';
  const styles: CellStyles = { date: [], zeroPadded: [] };
  // <xf/> without attributes is a style too: skipping it would shift every later style index.
  for (const m of xfs.matchAll(/<(?:\w+:)?xf\b[^>]*>/g)) {
    const id = Number(attribute(m[0], 'numFmtId') ?? 0);
    const code = custom.get(id);
    styles.date.push(code !== undefined ? isDateFormat(code) : BUILTIN_DATE_FORMATS.has(id));
    // A column of household numbers or codes formatted 000000 keeps its leading zeros only on screen.
    const positive = code?.split(';')[0] ?? '';
    styles.zeroPadded.push(/^0{2,}$/.test(positive) ? positive.length : 0);
  }
  return styles;
}

/** Column 0 as A, 26 as AA. */
function columnLetters(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

function columnIndex(ref: string | undefined): number | null {
  const m = ref ? /^([A-Z]+)/.exec(ref) : null;
  if (!m?.[1]) return null;
  let n = 0;
  for (const ch of m[1]) n = n * 26 + (ch.charCodeAt(0) - 64);
  return n - 1;
}

const DAY_MS = 86_400_000;
const DAY_SECONDS = 86_400;

/**
 * What a number in a date-formatted cell reads as: its day (excelSerialDate, which keeps the
 * number), or the number itself where Excel shows no day: beyond 9999-12-31 (a phone number in a cell
 * format painting made a date: Excel shows ########), before day 0, and serial 60 of the 1900 system,
 * the 1900-02-29 that Excel counts but that never was (parseDate says so).
 */
function excelDate(serial: number, date1904: boolean): Date | number {
  // As a day of the 1900 system (the 1904 system's day 0, 1904-01-01, is its day 1462), to the second:
  // a serial computed in floating point a hair below midnight is that midnight, as Excel shows it.
  const day = Math.round((date1904 ? serial + 1462 : serial) * DAY_SECONDS) / DAY_SECONDS;
  if (day < (date1904 ? 1462 : 0) || day >= EXCEL_MAX_SERIAL + 1) return serial;
  if (!date1904 && day >= 60 && day < 61) return serial;
  // 25569 days from 1899-12-30 to 1970-01-01: right from 1900-03-01 (day 61) on, where Excel's fake
  // 29 February is behind; before it the count is one day shorter (day 1 is 1900-01-01), as in
  // excelSerialToDate.
  const offset = day < 60 ? 25568 : 25569;
  return excelSerialDate(Math.round((day - offset) * DAY_MS), serial);
}

interface SheetContext {
  sharedStrings: string[];
  /** Shared strings (by index) holding a reference to no character: refused if a cell uses one. */
  unmappable: Map<number, string>;
  styles: CellStyles;
  date1904: boolean;
}

function cellValue(cellXml: string, ctx: SheetContext): unknown {
  const open = /^<(?:\w+:)?c\b[^>]*>/.exec(cellXml)?.[0] ?? cellXml;
  const type = attribute(open, 't') ?? 'n';
  const style = Number(attribute(open, 's') ?? 0);
  const formula = /<(?:\w+:)?f\b([^>]*?)(?:\/>|>([\s\S]*?)<\/(?:\w+:)?f>)/.exec(cellXml);
  const v = /<(?:\w+:)?v(?:\s[^>]*)?>([\s\S]*?)<\/(?:\w+:)?v>/.exec(cellXml);
  if (type === 'inlineStr') {
    const is = /<(?:\w+:)?is\b[\s\S]*?<\/(?:\w+:)?is>/.exec(cellXml);
    return is ? runText(is[0]) : null;
  }
  if (!v) {
    return formula
      ? ({ formulaWithoutResult: xmlText(formula[2] ?? '') } satisfies FormulaWithoutResult)
      : null;
  }
  const text = xmlText(v[1] ?? '');
  switch (type) {
    case 's': {
      const unmappable = ctx.unmappable.get(Number(text));
      if (unmappable !== undefined) throw new UnmappableReference(unmappable);
      return ctx.sharedStrings[Number(text)] ?? null;
    }
    case 'str':
      return text;
    case 'b':
      return text === '1';
    case 'e':
      return text;
    case 'd': {
      // An ISO 8601 date (2015-03-01T00:00:00, often without a zone): the calendar date as written,
      // never shifted by the server's time zone.
      const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
      return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]))) : text;
    }
    default: {
      const n = Number(text);
      if (text === '' || !Number.isFinite(n)) return text;
      if (ctx.styles.date[style]) return excelDate(n, ctx.date1904);
      // What Excel shows: a whole number in a 000000 format with its leading zeros, as text. A number
      // as long as the format or longer is left a number (an ID number's lost digits stay visible).
      const width = ctx.styles.zeroPadded[style] ?? 0;
      const digits = String(n);
      if (width > digits.length && Number.isSafeInteger(n) && n >= 0) return digits.padStart(width, '0');
      return n;
    }
  }
}

/** A part of the package by name: part names are case-insensitive (ECMA-376 part 2, OPC). */
function findEntry(entries: ZipEntry[], name: string): ZipEntry | undefined {
  const lower = name.toLowerCase();
  return entries.find((e) => e.name === name) ?? entries.find((e) => e.name.toLowerCase() === lower);
}

/** The workbook's relationships (xl/_rels/workbook.xml.rels) by id: the part's path and type. */
function relationshipsOf(relsXml: string): Map<string, { path: string; type: string }> {
  const relationships = new Map<string, { path: string; type: string }>();
  for (const m of relsXml.matchAll(/<(?:\w+:)?Relationship\s[^>]*>/g)) {
    const target = attribute(m[0], 'Target') ?? '';
    relationships.set(attribute(m[0], 'Id') ?? '', {
      path: target.startsWith('/') ? target.slice(1) : path.posix.normalize(`xl/${target}`),
      type: attribute(m[0], 'Type') ?? '',
    });
  }
  return relationships;
}

/**
 * The worksheet to read: the first one a clerk sees, in the workbook's order, that is a worksheet
 * (a hidden first sheet usually holds the lists of a template's drop-downs; a chart sheet has no
 * cells), with its name, from workbook.xml and its relationships.
 */
function firstSheet(
  workbookXml: string,
  relationships: Map<string, { path: string; type: string }>,
  entries: ZipEntry[],
  ordinal = 0,
  hiddenOne = false,
): { path: string; info: SheetInfo } | null {
  const sheets = [...workbookXml.matchAll(/<(?:\w+:)?sheet\s[^>]*>/g)].map((m) => {
    const rid = /\s(?:\w+:)?id="([^"]+)"/.exec(m[0])?.[1] ?? '';
    const rel = relationships.get(rid);
    return {
      name: attribute(m[0], 'name') ?? '',
      hidden: ['hidden', 'veryHidden'].includes(attribute(m[0], 'state') ?? ''),
      path: rel ? (findEntry(entries, rel.path)?.name ?? null) : null,
      worksheet: rel ? rel.type === '' || rel.type.endsWith('/worksheet') : false,
    };
  });
  const count = sheets.length;
  const visible = sheets.filter((s) => s.path && s.worksheet && !s.hidden);
  const hiddenSheets = sheets.filter((s) => s.path && s.worksheet && s.hidden);
  const hidden = hiddenSheets.map((s) => s.name);
  if (hiddenOne) {
    const nth = hiddenSheets[ordinal];
    return nth?.path
      ? { path: nth.path, info: { name: nth.name, count, visible: visible.length, hidden } }
      : null;
  }
  if (ordinal > 0) {
    const nth = visible[ordinal];
    return nth?.path
      ? { path: nth.path, info: { name: nth.name, count, visible: visible.length, hidden } }
      : null;
  }
  const chosen = visible[0] ?? sheets.find((s) => s.path && s.worksheet);
  if (chosen?.path)
    return { path: chosen.path, info: { name: chosen.name, count, visible: visible.length, hidden } };
  const paths = entries
    .map((e) => e.name)
    .filter((n) => /^xl\/worksheets\/sheet\d+\.xml$/.test(n))
    .sort((a, b) => Number(/\d+/.exec(a)?.[0]) - Number(/\d+/.exec(b)?.[0]));
  return paths[0]
    ? {
        path: paths[0],
        info: { name: sheets[0]?.name ?? '', count: Math.max(count, paths.length), visible: 1 },
      }
    : null;
}

/** An .xlsx opened once: its parts, and its styles and shared strings read when the first row is. */
interface Workbook {
  bytes: Bytes;
  entries: ZipEntry[];
  workbookXml: string;
  relationships: Map<string, { path: string; type: string }>;
  context(): Promise<SheetContext>;
}

async function openWorkbook(bytes: Bytes, options: ReadOptions): Promise<Workbook> {
  const magic = await bytes.read(0, 8);
  if (isOle2(magic)) {
    if (await isEncryptedWorkbook(bytes)) {
      throw new FileRejected('PASSWORD_PROTECTED', {
        zh: '工作簿设置了打开密码（已加密），无法读取：请在 Excel 中依次点“文件 → 信息 → 保护工作簿 → 用密码进行加密”，清空密码并保存后再导入',
        en: 'the workbook is protected by a password (encrypted) and cannot be read; in Excel remove it (File > Info > Protect Workbook > Encrypt with Password), save and import again',
      });
    }
    throw oldXls('.xlsx');
  }
  if (magic.length < 4 || magic.readUInt32LE(0) !== ZIP_LOCAL) {
    throw new FileRejected('NOT_XLSX', {
      zh: '文件不是 Excel 工作簿（.xlsx 文件应为 zip 格式），可能是改了扩展名的其他文件',
      en: 'the file is not an Excel workbook (an .xlsx file is a zip archive); it may be another file renamed',
    });
  }
  const entries = await readZipDirectory(bytes);
  const entry = (name: string) => findEntry(entries, name);
  const workbookEntry = entry('xl/workbook.xml');
  if (!workbookEntry) {
    throw new FileRejected('NOT_XLSX', {
      zh: '文件是 zip 压缩包，但不是 Excel 工作簿（可能是 Word 文档等其他文件改了扩展名）',
      en: 'the file is a zip archive but not an Excel workbook (perhaps a Word document or another file renamed)',
    });
  }
  const workbookXml = await entryWhole(bytes, workbookEntry, 'workbook');
  if (!workbookXml) throw corruptFile();
  const relationships = relationshipsOf(
    await entryWhole(bytes, entry('xl/_rels/workbook.xml.rels'), 'Relationships'),
  );
  /** The workbook's part of a type (its styles, its shared strings), where its relationship says. */
  const part = (type: string, usual: string) => {
    const rel = [...relationships.values()].find((r) => r.type.endsWith(`/${type}`));
    return (rel && entry(rel.path)) ?? entry(usual);
  };
  let context: Promise<SheetContext> | null = null;
  const readContext = async (): Promise<SheetContext> => {
    const workbookPr = /<(?:\w+:)?workbookPr\b[^>]*>/.exec(workbookXml)?.[0] ?? '';
    const ctx: SheetContext = {
      sharedStrings: [],
      unmappable: new Map(),
      styles: cellStyles(await entryWhole(bytes, part('styles', 'xl/styles.xml'), 'styleSheet')),
      date1904: ['1', 'true'].includes(attribute(workbookPr, 'date1904') ?? ''),
    };
    const sharedEntry = part('sharedStrings', 'xl/sharedStrings.xml');
    if (sharedEntry) {
      const limit = options.maxSharedStringBytes ?? Infinity;
      let size = 0;
      for await (const si of elements(entryText(bytes, sharedEntry), 'si', 'sst')) {
        let text: string;
        try {
          text = detach(runText(si));
        } catch (error) {
          if (!(error instanceof UnmappableReference)) throw error;
          ctx.unmappable.set(ctx.sharedStrings.length, error.reference);
          text = '';
        }
        // Two bytes a character and the string's own header: what V8 holds at most.
        size += 2 * text.length + 32;
        if (size > limit) {
          throw new FileRejected('TOO_LARGE', {
            zh: '工作簿中的文字过多，无法读取：请将工作表另存为 CSV（UTF-8）或分成几个文件后再导入',
            en: 'the workbook holds too much text to read; save the worksheet as CSV (UTF-8) or split it into several files',
          });
        }
        ctx.sharedStrings.push(text);
      }
    }
    return ctx;
  };
  return {
    bytes,
    entries,
    workbookXml,
    relationships,
    context: () => (context ??= readContext()),
  };
}

interface Worksheet {
  entry: ZipEntry;
  info: SheetInfo;
}

/** The visible (or hidden) worksheet at this ordinal (0: the first a clerk sees), null beyond the last. */
function worksheetAt(workbook: Workbook, ordinal: number, hidden = false): Worksheet | null {
  const sheet = firstSheet(workbook.workbookXml, workbook.relationships, workbook.entries, ordinal, hidden);
  const entry = sheet ? findEntry(workbook.entries, sheet.path) : undefined;
  return sheet && entry ? { entry, info: sheet.info } : null;
}

/**
 * What merged cells do: refuse the file (the registry template), fill each cell of a range with its
 * value (the child ledger), or nothing (a sheet only looked at for its header row).
 */
type Merges = 'refuse' | 'fill' | 'ignore';

/**
 * The worksheet named in a message: only when it is not the first, whose messages have always
 * meant it (a workbook of one sheet is the usual file).
 */
function sheetNamed(sheet: Worksheet, ordinal: number): { zh: string; en: string } {
  return ordinal > 0
    ? { zh: `工作表“${sheet.info.name}”中`, en: ` "${sheet.info.name}"` }
    : { zh: '工作表中', en: '' };
}

async function mergesOf(
  workbook: Workbook,
  sheet: Worksheet,
  ordinal: number,
  merges: Merges,
): Promise<MergeFill | null> {
  if (merges === 'ignore') return null;
  if (merges === 'fill') {
    const ranges = await mergedRanges(workbook.bytes, workbook.entries, sheet.entry.name, MAX_FILLED_MERGES);
    return new MergeFill(ranges.map(parseRange).filter((r): r is CellRange => r !== null));
  }
  const found = await mergedRanges(workbook.bytes, workbook.entries, sheet.entry.name);
  if (found.length > 0) {
    const where = sheetNamed(sheet, ordinal);
    throw new FileRejected('MERGED_CELLS', {
      zh: `${where.zh}有合并单元格（${found.join('、')}）。请取消合并，每个单元格只填一个值后重新导入`,
      en: `the worksheet${where.en} has merged cells (${found.join(', ')}); unmerge them so each cell holds one value, and import again`,
    });
  }
  return null;
}

/**
 * Row numbers that an .xlsx cannot hold: not a whole number from 1 to Excel's last row, or one that
 * an earlier <row> of the sheet already had (a file pasted together by a program, or a program's
 * fault). Which of two rows numbered alike is meant cannot be told, and the rows' numbers are what
 * every report names: the file is refused, never read with a row lost or doubled.
 */
function damagedRowNumber(sheetName: string, written: string, twice: boolean): FileRejected {
  return new FileRejected('CORRUPT', {
    zh: twice
      ? `工作表“${sheetName}”的第 ${written} 行在文件中出现了两次：文件已损坏（多半是生成它的程序出了错），无法确定哪一行是对的。请在 Excel 或 WPS 中打开、核对该行并重新保存后导入`
      : `工作表“${sheetName}”中有一行的行号“${written}”无效（行号应为 1 至 ${ROWS_PER_SHEET} 的整数）：文件已损坏，可能是生成它的程序出了错。请在 Excel 或 WPS 中打开并重新保存后导入`,
    en: twice
      ? `row ${written} of the worksheet "${sheetName}" appears twice in the file: the file is damaged (most likely by the program that wrote it) and which row is right cannot be told; open it in Excel or WPS, check the row, save and import again`
      : `a row of the worksheet "${sheetName}" is numbered "${written}", which is no row number (1 to ${ROWS_PER_SHEET}): the file is damaged, perhaps by the program that wrote it; open it in Excel or WPS, save and import again`,
  });
}

/**
 * A worksheet whose XML ends before the sheet does (a row left open, the sheet never closed): the
 * zip around it is whole, so only the XML tells that the rows after `lastRow` are missing. Excel
 * refuses such a file too (发现不可读取的内容); reading the rows before the cut would lose the rest
 * without a word.
 */
function sheetCutShort(sheetName: string, lastRow: number): FileRejected {
  return new FileRejected('CORRUPT', {
    zh:
      lastRow > 0
        ? `工作表“${sheetName}”的内容在第 ${lastRow} 行之后中断：文件已损坏（不完整），其后的行无法读取，整个文件未导入。请找到完整的原文件，或在 Excel 或 WPS 中打开、核对数据并重新保存后导入`
        : `工作表“${sheetName}”的内容不完整：文件已损坏，无法读取，整个文件未导入。请找到完整的原文件，或在 Excel 或 WPS 中打开、核对数据并重新保存后导入`,
    en:
      lastRow > 0
        ? `the worksheet "${sheetName}" breaks off after row ${lastRow}: the file is damaged (incomplete) and the rows after it cannot be read; nothing of the file was imported. Find the whole original, or open it in Excel or WPS, check the data, save and import again`
        : `the worksheet "${sheetName}" is incomplete: the file is damaged and cannot be read; nothing of the file was imported. Find the whole original, or open it in Excel or WPS, check the data, save and import again`,
  });
}

/** The non-blank rows of one worksheet, in the file's order. */
async function* worksheetRows(
  workbook: Workbook,
  sheet: Worksheet,
  fill: MergeFill | null,
): AsyncGenerator<PositionalRow> {
  const ctx = await workbook.context();
  // One bit per row number Excel allows (128 KiB): rows out of order are read, a number met twice is not.
  const seen = new Uint8Array((ROWS_PER_SHEET >> 3) + 1);
  let previous = 0;
  const cutShort = () => sheetCutShort(sheet.info.name, previous);
  for await (const rowXml of elements(entryText(workbook.bytes, sheet.entry), 'row', 'worksheet', cutShort)) {
    const open = /^<(?:\w+:)?row\b[^>]*>/.exec(rowXml)?.[0] ?? '';
    const written = attribute(open, 'r')?.trim() || null;
    const rowNumber = written === null ? previous + 1 : Number(written);
    if (!Number.isInteger(rowNumber) || rowNumber < 1 || rowNumber > ROWS_PER_SHEET)
      throw damagedRowNumber(sheet.info.name, written ?? String(rowNumber), false);
    const bit = 1 << (rowNumber & 7);
    if ((seen[rowNumber >> 3] ?? 0) & bit) throw damagedRowNumber(sheet.info.name, String(rowNumber), true);
    seen[rowNumber >> 3] = (seen[rowNumber >> 3] ?? 0) | bit;
    previous = rowNumber;
    const values: unknown[] = [];
    let next = 0;
    for (const m of rowXml.matchAll(/<(?:\w+:)?c\b(?:[^>]*\/>|[^>]*>[\s\S]*?<\/(?:\w+:)?c>)/g)) {
      const ref = attribute(/^<[^>]*>/.exec(m[0])?.[0] ?? '', 'r');
      const col = columnIndex(ref) ?? next;
      let value: unknown;
      try {
        value = cellValue(m[0], ctx);
      } catch (error) {
        if (error instanceof UnmappableReference) error.cell = ref ?? `${columnLetters(col)}${rowNumber}`;
        throw error;
      }
      values[col] = typeof value === 'string' ? detach(value) : value;
      next = col + 1;
    }
    fill?.apply(rowNumber, values);
    for (let i = 0; i < values.length; i++) if (!(i in values)) values[i] = null;
    if (isBlank(values)) continue;
    yield { rowNumber, values };
  }
}

/** The rows of one table of a file: a CSV's, or an .xlsx worksheet's by its visible ordinal. */
interface RowSource {
  rows(
    ordinal: number,
    merges: Merges,
    onSheet?: (sheet: SheetInfo) => void,
    hidden?: boolean,
  ): AsyncGenerator<PositionalRow>;
}

/** A file opened for its tables; an .xlsx is opened once, however many of its sheets are read. */
function rowSource(source: TableSource, options: ReadOptions): RowSource {
  const kind = fileKind(source);
  let opened: Promise<{ bytes: Bytes; workbook: Workbook | null }> | null = null;
  const open = async () => {
    const bytes = await openBytes(source);
    if (bytes.size === 0) throw EMPTY_FILE;
    return { bytes, workbook: kind === 'xlsx' ? await openWorkbook(bytes, options) : null };
  };
  return {
    async *rows(ordinal, merges, onSheet, hidden = false) {
      try {
        const { bytes, workbook } = await (opened ??= open());
        if (!workbook) {
          yield* readCsvRows(bytes);
          return;
        }
        const sheet = worksheetAt(workbook, ordinal, hidden);
        if (!sheet) {
          throw new FileRejected('NO_WORKSHEET', {
            zh: '工作簿中没有工作表',
            en: 'the workbook has no worksheet',
          });
        }
        onSheet?.(sheet.info);
        const fill = await mergesOf(workbook, sheet, ordinal, merges);
        yield* worksheetRows(workbook, sheet, fill);
      } catch (error) {
        if (error instanceof UnmappableReference) throw unmappableReference(error);
        throw error;
      }
    },
  };
}
