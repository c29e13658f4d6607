// Streaming readers for the spreadsheets counties send: .xlsx (first worksheet) and .csv in UTF-8
// (with or without BOM) or GBK/GB18030, detected, never asked. Memory stays bounded by one row (plus
// the workbook's shared strings, which Excel keeps in one table). A file with a structural fault is
// refused whole with a FileRejected error before any row is yielded.

import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { DomainError } from '../../platform/errors.ts';
import type { Message } from '../../platform/errors.ts';
import { normalizeCell, unwrapCell } from '../../platform/normalize.ts';
import { cleanHeader } from './registry.template.ts';

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
  | 'BAD_ENCODING';

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
  rows: AsyncIterable<TableRow>;
}

export interface ReadOptions {
  /** The child ledger's title rows are merged across the sheet; the registry template allows none. */
  allowMerges?: boolean;
}

const MAX_FIELD_CHARS = 1 << 20;
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
    throw new FileRejected('CORRUPT', { zh: '文件不存在或无法读取', en: 'the file does not exist or cannot be read' });
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
    stream: (start = 0, end = size - 1) => fs.createReadStream(source, { start, end, highWaterMark: 256 * 1024 }),
  };
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
export async function* readRows(source: TableSource, options: ReadOptions = {}): AsyncGenerator<PositionalRow> {
  const kind = fileKind(source);
  const bytes = await openBytes(source);
  if (bytes.size === 0) throw EMPTY_FILE;
  if (kind === 'csv') yield* readCsvRows(bytes);
  else yield* readXlsxRows(bytes, options);
}

function isBlank(values: readonly unknown[]): boolean {
  return values.every((v) => !isFormulaWithoutResult(v) && normalizeCell(v) === null);
}

/**
 * A table whose header is row 1: header names trimmed; blank rows skipped. Duplicate headers or a
 * missing header row refuse the file.
 */
export async function readTable(source: TableSource, options: ReadOptions = {}): Promise<Table> {
  const iterator = readRows(source, options);
  const first = await iterator.next();
  if (first.done || first.value.rowNumber !== 1) {
    await iterator.return(undefined);
    throw new FileRejected('NO_HEADER', {
      zh: '第1行应为列名（表头），但第1行是空的',
      en: 'row 1 must hold the column headers, but it is empty',
    });
  }
  const headers = first.value.values.map((v) => cleanHeader(normalizeCell(v) ?? ''));
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const h of headers) {
    if (h === '') continue;
    if (seen.has(h)) duplicates.add(h);
    seen.add(h);
  }
  if (duplicates.size > 0) {
    await iterator.return(undefined);
    const list = [...duplicates];
    throw new FileRejected('DUPLICATE_HEADERS', {
      zh: `列名重复：${list.join('、')}。每一列只能出现一次`,
      en: `duplicate column headers: ${list.join(', ')}; each column may appear only once`,
    });
  }
  async function* rows(): AsyncGenerator<TableRow> {
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        const cells: Record<string, unknown> = {};
        next.value.values.forEach((v, i) => {
          const h = headers[i];
          if (h) cells[h] = v;
        });
        yield { rowNumber: next.value.rowNumber, cells };
      }
    } finally {
      await iterator.return(undefined);
    }
  }
  return { headers: headers.filter((h) => h !== ''), rows: rows() };
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

async function* decode(bytes: AsyncIterable<Buffer>): AsyncGenerator<string> {
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
  let write: (chunk: Buffer) => string;
  let end: () => string;
  if (encoding === 'gb18030') {
    const decoder = iconv.getDecoder('gb18030');
    write = (c) => decoder.write(c);
    end = () => decoder.end() ?? '';
  } else {
    const decoder = new TextDecoder(encoding, { fatal: true });
    write = (c) => {
      try {
        return decoder.decode(c, { stream: true });
      } catch {
        throw new FileRejected('BAD_ENCODING', {
          zh: '文件前部是 UTF-8 编码，后部却不是：文件编码混杂，请在 Excel 中重新另存为 CSV（UTF-8）',
          en: 'the file starts in UTF-8 but later bytes are not UTF-8; save it again as CSV (UTF-8)',
        });
      }
    };
    end = () => decoder.decode();
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
const TAB = 9;
const LF = 10;
const CR = 13;

/**
 * Records of RFC 4180 CSV from text chunks: quoted fields with "" escapes, embedded newlines, CRLF,
 * LF or CR line ends. A file saved by Excel as "Unicode text" is tab-separated: the delimiter is a
 * tab when the first line has tabs and no commas.
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
    if (delimiter < 0) {
      const firstLine = s.slice(0, s.search(/[\r\n]/) >>> 0);
      delimiter = firstLine.includes('\t') && !firstLine.includes(',') ? TAB : COMMA;
    }
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
            record.push(field + s.slice(start, i));
            field = '';
            state = START;
          } else if (c === LF || c === CR) {
            record.push(field + s.slice(start, i));
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
            record.push(field);
            field = '';
            state = START;
          } else if (c === LF || c === CR) {
            record.push(field);
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
    record.push(field);
    yield record;
  }
}

// ="410225200801011234" is how a CSV keeps a long number as text when Excel opens it.
const EXCEL_TEXT = /^="(.*)"$/s;

function unwrapExcelText(field: string): string {
  const m = EXCEL_TEXT.exec(field);
  return m ? (m[1] ?? '') : field;
}

async function* readCsvRows(bytes: Bytes): AsyncGenerator<PositionalRow> {
  const stream = bytes.stream();
  try {
    let rowNumber = 0;
    for await (const record of parseCsv(decode(stream as AsyncIterable<Buffer>))) {
      rowNumber += 1;
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
  localHeaderOffset: number;
}

async function readZipDirectory(bytes: Bytes): Promise<ZipEntry[]> {
  const corrupt = new FileRejected('CORRUPT', {
    zh: '文件已损坏，无法作为 .xlsx 读取；请在 Excel 中打开后重新保存',
    en: 'the file is damaged and cannot be read as .xlsx; open it in Excel and save it again',
  });
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
      compressedSize: dir.readUInt32LE(p + 20),
      localHeaderOffset: dir.readUInt32LE(p + 42),
    });
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

const MERGE_CELL = /<(?:\w+:)?mergeCell\b[^>]*?\bref="([^"]+)"/g;

/** The merged ranges (A1:B2) of one worksheet, read from the zip without loading the sheet. */
async function mergedRanges(bytes: Bytes, entries: ZipEntry[], sheetPath: string, limit = 5): Promise<string[]> {
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

function xlsxCellValue(value: unknown): unknown {
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const v = value as Record<string, unknown>;
    if (('formula' in v || 'sharedFormula' in v) && v['result'] === undefined) {
      return { formulaWithoutResult: String(v['formula'] ?? v['sharedFormula'] ?? '') } satisfies FormulaWithoutResult;
    }
  }
  return unwrapCell(value);
}

async function* readXlsxRows(bytes: Bytes, options: ReadOptions): AsyncGenerator<PositionalRow> {
  const magic = await bytes.read(0, 8);
  if (magic.length >= 8 && magic.readUInt32BE(0) === 0xd0cf11e0 && magic.readUInt32BE(4) === 0xa1b11ae1) {
    throw new FileRejected('OLD_XLS', {
      zh: '这是旧版 .xls 文件（只是扩展名改成了 .xlsx），请在 Excel 中“另存为” .xlsx 后再导入',
      en: 'this is an old .xls file renamed to .xlsx; save it as .xlsx in Excel and import again',
    });
  }
  if (magic.length < 4 || magic.readUInt32LE(0) !== ZIP_LOCAL) {
    throw new FileRejected('NOT_XLSX', {
      zh: '文件不是 Excel 工作簿（.xlsx 文件应为 zip 格式），可能是改了扩展名的其他文件',
      en: 'the file is not an Excel workbook (an .xlsx file is a zip archive); it may be another file renamed',
    });
  }
  const entries = await readZipDirectory(bytes);
  const input = bytes.stream();
  const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, {
    worksheets: 'emit',
    sharedStrings: 'cache',
    styles: 'cache',
    hyperlinks: 'ignore',
    entries: 'ignore',
  });
  let sawSheet = false;
  try {
    for await (const sheet of reader) {
      sawSheet = true;
      const id = (sheet as unknown as { id: number | string }).id;
      if (!options.allowMerges) {
        const merges = await mergedRanges(bytes, entries, `xl/worksheets/sheet${id}.xml`);
        if (merges.length > 0) {
          throw new FileRejected('MERGED_CELLS', {
            zh: `工作表中有合并单元格（${merges.join('、')}）。请取消合并，每个单元格只填一个值后重新导入`,
            en: `the worksheet has merged cells (${merges.join(', ')}); unmerge them so each cell holds one value, and import again`,
          });
        }
      }
      for await (const row of sheet) {
        const values: unknown[] = [];
        row.eachCell({ includeEmpty: false }, (cell, col) => {
          values[col - 1] = xlsxCellValue(cell.value);
        });
        for (let i = 0; i < values.length; i++) if (!(i in values)) values[i] = null;
        if (isBlank(values)) continue;
        yield { rowNumber: row.number, values };
      }
      break;
    }
  } catch (error) {
    if (error instanceof DomainError) throw error;
    throw new FileRejected('CORRUPT', {
      zh: `文件已损坏，无法作为 .xlsx 读取（${error instanceof Error ? error.message : String(error)}）`,
      en: `the file is damaged and cannot be read as .xlsx (${error instanceof Error ? error.message : String(error)})`,
    });
  } finally {
    input.destroy();
  }
  if (!sawSheet) {
    throw new FileRejected('NO_WORKSHEET', { zh: '工作簿中没有工作表', en: 'the workbook has no worksheet' });
  }
}
