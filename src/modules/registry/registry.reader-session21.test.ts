// The reader, session 21 (a tester's ledgers round, findings 1 and 3).
// 3: an .xlsx whose worksheet XML is cut short inside a zip that is itself whole (the sheet ends inside a
// row, or between two rows, and never closes) is a damaged file, refused whole before anything is
// written, for the registry template and the child ledger; so is a part whose inflated bytes do not
// match the CRC-32 or the length the zip's central directory gives.
// 1: a GBK/GB18030 CSV is read as GB18030-2022 reads it: the 24 two-byte codes that GB18030-2005 (and
// iconv-lite) map to the Private Use Area are their standard characters (FE51 is 𠂇 U+20087, as glibc's
// iconv writes it), so the same name in UTF-16 and in GB18030 is the same name; a name that still holds
// a Private Use Area character (any file, any encoding) is refused on its row.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, scratchFolder, templateCsv } from '../../../test/support/files.ts';
import { errorsOf, lankaoLedgerFiles, parseLedger } from '../../../test/support/ledger-files.ts';
import { lostCharacterInName } from '../../platform/normalize.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { FileRejected, readRows, readTable } from './registry.reader.ts';
import { countRegistry } from './registry.repository.ts';

const LANKAO = '410225';
const NANZHANG = '410225102200'; // 南彰村
const TODAY = '2026-11-29';

const files = scratchFolder('shouhu-reader-s21-');
// The county's places (for parseLedger) and a second scratch folder for the ledger files.
const ledgerFiles = lankaoLedgerFiles('shouhu-reader-s21-ledger-', TODAY);

let t: TestApp;
const importer: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

before(async () => {
  files.open();
  t = await createTestApp({ dataDir: files.path('data') });
});
after(async () => {
  await t?.close();
  files.close();
});

let seq = 300;
function nextId(birthDate: string, sex: 1 | 2 = 1): string {
  seq += 1;
  return makeIdNumber(LANKAO, birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

let reports = 0;
async function importTemplate(source: string) {
  reports += 1;
  return importRegistryFile(t.database, source, importer, {
    today: TODAY,
    errorReportBase: files.path(`report-${reports}`),
  });
}

async function importLedger(source: string) {
  reports += 1;
  return importLedgerFile(t.ctx.db, source, importer, {
    today: TODAY,
    errorReportBase: files.path(`ledger-report-${reports}`),
  });
}

async function nameOf(idNumber: string): Promise<string | undefined> {
  const p = await t.ctx.db
    .selectFrom('persons')
    .select('name')
    .where('id_number', '=', idNumber)
    .executeTakeFirst();
  return p?.name;
}

const H = ['户编号', '姓名', '公民身份号码', '与户主关系', '户籍地代码'];

/** `n` households of one person each (户主), as template rows by H. */
function heads(prefix: string, n: number): Record<string, string>[] {
  return Array.from({ length: n }, (_, i) => ({
    户编号: `${prefix}-${i + 1}`,
    姓名: `测${prefix}${i + 1}`,
    公民身份号码: nextId('1980-01-01'),
    与户主关系: '户主',
    户籍地代码: NANZHANG,
  }));
}

/** A template workbook (one sheet 登记表, header H), written by exceljs as Excel would save it. */
async function templateWorkbook(rows: readonly Record<string, string>[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  const ws = wb.addWorksheet('登记表');
  ws.addRow(H);
  for (const r of rows) ws.addRow(H.map((h) => r[h] ?? ''));
  return Buffer.from(await wb.xlsx.writeBuffer());
}

/** The workbook with one part's text replaced (`change` of its text), zipped again whole. */
async function rewritePart(
  workbook: Buffer,
  part: string,
  change: (xml: string) => string,
  compression: 'DEFLATE' | 'STORE' = 'DEFLATE',
): Promise<Buffer> {
  const zip = await JSZip.loadAsync(workbook);
  const xml = await zip.file(part)?.async('string');
  assert.ok(xml !== undefined, part);
  zip.file(part, change(xml));
  return zip.generateAsync({ type: 'nodebuffer', compression });
}

/** The part's XML cut at `fraction` of its length (inside an element, as `head -c` cuts it). */
const cutAt = (fraction: number) => (xml: string) => xml.slice(0, Math.floor(xml.length * fraction));

async function readAll(source: { buffer: Uint8Array; filename: string } | string): Promise<number> {
  let n = 0;
  for await (const row of readRows(source)) if (row) n += 1;
  return n;
}

/** Asserts that reading the file refuses it as damaged (CORRUPT), with the message matching `zh`. */
async function refusedAsDamaged(buffer: Buffer, zh: RegExp): Promise<void> {
  await assert.rejects(readAll({ buffer, filename: 'f.xlsx' }), (e: unknown) => {
    assert.ok(e instanceof FileRejected);
    assert.equal(e.reason, 'CORRUPT');
    assert.match(e.userMessage.zh, zh);
    return true;
  });
}

// ---------------------------------------------------------------------------------------------

describe('3: a worksheet cut short inside a whole zip', () => {
  test('the registry template is refused whole, naming the sheet and the last row read; nothing is written', async () => {
    const rows = heads('S21-CUT', 60);
    const whole = await templateWorkbook(rows);
    // As the tester cut it: the first 60 % of the sheet's XML, zipped again (the sheet ends inside a row).
    const cut = await rewritePart(whole, 'xl/worksheets/sheet1.xml', cutAt(0.6));
    const before = await countRegistry(t.ctx.db);
    const outcome = await importTemplate(files.fileOf('sheetcut.xlsx', cut));
    assert.equal(outcome.status, 'rejected');
    assert.match(
      outcome.message?.zh ?? '',
      /^工作表“登记表”的内容在第 \d+ 行之后中断：文件已损坏（不完整），其后的行无法读取，整个文件未导入。/,
    );
    assert.match(
      outcome.message?.en ?? '',
      /^the worksheet "登记表" breaks off after row \d+: the file is damaged/,
    );
    assert.deepEqual(await countRegistry(t.ctx.db), before);
    assert.equal(await nameOf(rows[0]?.公民身份号码 ?? ''), undefined);

    // The whole file imports every row.
    const imported = await importTemplate(files.fileOf('whole.xlsx', whole));
    assert.equal(imported.status, 'succeeded');
    assert.equal(imported.counts.inserted, 60);
  });

  test('cut between two rows, or with only the closing tags missing, is refused too; the row named is the last one read', async () => {
    const whole = await templateWorkbook(heads('S21-CUT2', 10));
    // Right after row 6 closes: no element is left open, but the sheet never closes.
    const afterRow6 = await rewritePart(whole, 'xl/worksheets/sheet1.xml', (xml) => {
      const end = xml.indexOf('</row>', xml.indexOf('<row r="6"')) + '</row>'.length;
      return xml.slice(0, end);
    });
    await refusedAsDamaged(afterRow6, /^工作表“登记表”的内容在第 6 行之后中断/);
    // Every row there, </sheetData> too, but </worksheet> missing.
    const noRootEnd = await rewritePart(whole, 'xl/worksheets/sheet1.xml', (xml) =>
      xml.replace(/<\/worksheet>\s*$/, ''),
    );
    await refusedAsDamaged(noRootEnd, /^工作表“登记表”的内容在第 11 行之后中断/);
    // Cut inside the first row: nothing was read.
    const inFirstRow = await rewritePart(whole, 'xl/worksheets/sheet1.xml', (xml) =>
      xml.slice(0, xml.indexOf('<row r="1"') + 12),
    );
    await refusedAsDamaged(inFirstRow, /^工作表“登记表”的内容不完整：文件已损坏/);
    // readTable (the template's reader) says the same.
    await assert.rejects(
      (async () => {
        const table = await readTable({ buffer: afterRow6, filename: 'f.xlsx' });
        for await (const row of table.rows) void row;
      })(),
      (e: unknown) => e instanceof FileRejected && e.reason === 'CORRUPT',
    );
  });

  test('shared strings, the workbook part and its relationships cut short refuse the file too', async () => {
    const whole = await templateWorkbook(heads('S21-CUT3', 10));
    for (const part of ['xl/sharedStrings.xml', 'xl/workbook.xml', 'xl/_rels/workbook.xml.rels']) {
      const cut = await rewritePart(whole, part, cutAt(0.7));
      await refusedAsDamaged(cut, /^文件已损坏，无法作为 \.xlsx 读取/);
    }
    // Shared strings cut right after an </si>: no string is left open, but the table never closes.
    const afterSi = await rewritePart(whole, 'xl/sharedStrings.xml', (xml) =>
      xml.slice(0, xml.lastIndexOf('</si>') + '</si>'.length),
    );
    await refusedAsDamaged(afterSi, /^文件已损坏，无法作为 \.xlsx 读取/);
  });

  test('a part that ends whole is read, white space and a comment after its root element included', async () => {
    const rows = heads('S21-OK', 5);
    const whole = await templateWorkbook(rows);
    assert.equal(await readAll({ buffer: whole, filename: 'f.xlsx' }), 6);
    const trailing = await rewritePart(
      whole,
      'xl/worksheets/sheet1.xml',
      (xml) => `${xml}\r\n<!-- saved by a tool -->\r\n${' '.repeat(5000)}\n`,
    );
    assert.equal(await readAll({ buffer: trailing, filename: 'f.xlsx' }), 6);
  });

  test('a child ledger cut short is refused whole; nothing is written', async () => {
    const HEADER = ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点', '父母双方同时外出']; // prettier-ignore
    const wb = new ExcelJS.Workbook();
    const ws = wb.addWorksheet('台账');
    ws.addRow(['填报日期：2026年5月10日']);
    ws.addRow(HEADER);
    const children: string[] = [];
    for (let i = 0; i < 30; i++) {
      const child = nextId('2016-05-05', 2);
      children.push(child);
      ws.addRow([
        `孩${i + 1}`,
        '女',
        '2016-05-05',
        child,
        '南彰镇南彰村',
        `父${i + 1}`,
        nextId('1986-01-01'),
        '广东省深圳市',
        `母${i + 1}`,
        nextId('1988-01-01', 2),
        '广东省深圳市',
        '是',
      ]);
    }
    const whole = Buffer.from(await wb.xlsx.writeBuffer());
    const cut = await rewritePart(whole, 'xl/worksheets/sheet1.xml', cutAt(0.6));
    const before = await countRegistry(t.ctx.db);
    const outcome = await importLedger(files.fileOf('ledger-cut.xlsx', cut));
    assert.equal(outcome.status, 'rejected');
    assert.match(outcome.message?.zh ?? '', /^工作表“台账”的内容在第 \d+ 行之后中断：文件已损坏/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
    assert.equal(await nameOf(children[0] ?? ''), undefined);
  });
});

// ---------------------------------------------------------------------------------------------

/** The central directory record of `name` in a zip: its offset in the buffer. */
function centralRecord(zip: Buffer, name: string): number {
  for (let p = zip.indexOf('PK\x01\x02'); p >= 0; p = zip.indexOf('PK\x01\x02', p + 4)) {
    const nameLength = zip.readUInt16LE(p + 28);
    if (zip.toString('utf8', p + 46, p + 46 + nameLength) === name) return p;
  }
  throw new Error(`no ${name} in the zip`);
}

describe('3: a part whose bytes do not match the zip’s CRC-32 or length', () => {
  test('a byte changed in a stored part refuses the file; the file as written reads', async () => {
    const rows = heads('S21-CRC', 5);
    const id = rows[2]?.公民身份号码 ?? '';
    // Stored (not deflated), so that a byte changed in the zip is a byte changed in the part.
    const stored = await rewritePart(await templateWorkbook(rows), 'xl/workbook.xml', (x) => x, 'STORE');
    assert.equal(await readAll({ buffer: stored, filename: 'f.xlsx' }), 6);
    const at = stored.indexOf(id);
    assert.ok(at > 0, 'the ID number is stored as written');
    const damaged = Buffer.from(stored);
    // The last digit of an ID number, one off: read as it is, a person would be written under another number.
    damaged[at + 16] = (damaged[at + 16] ?? 0x30) === 0x39 ? 0x30 : (damaged[at + 16] ?? 0x30) + 1;
    await refusedAsDamaged(damaged, /^文件已损坏，无法作为 \.xlsx 读取/);
  });

  test('an inflated length other than the central directory’s refuses the file', async () => {
    const whole = await templateWorkbook(heads('S21-LEN', 5));
    const damaged = Buffer.from(whole);
    const record = centralRecord(damaged, 'xl/worksheets/sheet1.xml');
    damaged.writeUInt32LE(damaged.readUInt32LE(record + 24) + 1, record + 24);
    await refusedAsDamaged(damaged, /^文件已损坏，无法作为 \.xlsx 读取/);
  });
});

// ---------------------------------------------------------------------------------------------

/** The 24 two-byte codes with the characters GB18030-2022 gives them (GB 18030-2022, Unicode 15). */
const GB18030_2022: readonly [string, number][] = [
  ['A6D9', 0xfe10],
  ['A6DA', 0xfe12],
  ['A6DB', 0xfe11],
  ['A6DC', 0xfe13],
  ['A6DD', 0xfe14],
  ['A6DE', 0xfe15],
  ['A6DF', 0xfe16],
  ['A6EC', 0xfe17],
  ['A6ED', 0xfe18],
  ['A6F3', 0xfe19],
  ['FE59', 0x9fb4],
  ['FE61', 0x9fb5],
  ['FE66', 0x9fb6],
  ['FE67', 0x9fb7],
  ['FE6D', 0x9fb8],
  ['FE7E', 0x9fb9],
  ['FE90', 0x9fba],
  ['FEA0', 0x9fbb],
  ['FE51', 0x20087],
  ['FE52', 0x20089],
  ['FE53', 0x200cc],
  ['FE6C', 0x215d7],
  ['FE76', 0x2298f],
  ['FE91', 0x241fe],
];

const gb = (text: string) => iconv.encode(text, 'gb18030');
const utf16 = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);

describe('1: GB18030 read as GB18030-2022', () => {
  test('each of the 24 two-byte codes GB18030-2022 moved out of the Private Use Area reads as its character', async () => {
    const bytes = Buffer.concat([
      gb('编码,字\r\n'),
      ...GB18030_2022.map(([code]) =>
        Buffer.concat([gb(`${code},王`), Buffer.from(code, 'hex'), gb('\r\n')]),
      ),
    ]);
    const read: [string, number][] = [];
    for await (const row of readRows({ buffer: bytes, filename: 'gb.csv' })) {
      if (row.rowNumber === 1) continue;
      const [code, name] = row.values as string[];
      read.push([code ?? '', [...(name ?? '')][1]?.codePointAt(0) ?? 0]);
    }
    assert.deepEqual(read, GB18030_2022);
  });

  test('王𠂇 from a GB18030-2022 encoder (FE51) is the name that UTF-16 and a GB18030-2005 encoder write: re-imports change nothing', async () => {
    const id = nextId('2018-02-02', 2);
    const rows = (name: string) => templateCsv([{ 户编号: 'S21-GB', 姓名: name, 公民身份号码: id, 与户主关系: '户主', 户籍地代码: NANZHANG }], H); // prettier-ignore
    // The name's 𠂇 as glibc's iconv -t GB18030 writes it: FE51 (a GB18030-2005 encoder writes 95 32 90 31).
    const [before, after] = rows('王\u0000').split('\u0000');
    const of2022 = Buffer.concat([gb(before ?? ''), Buffer.from([0xfe, 0x51]), gb(after ?? '')]);
    const of2005 = gb(rows('王𠂇'));
    assert.ok(of2005.includes(Buffer.from([0x95, 0x32, 0x90, 0x31])));

    const first = await importTemplate(files.fileOf('t2-gb.csv', of2022));
    assert.deepEqual(first.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    assert.equal(await nameOf(id), '王𠂇');
    for (const [name, content] of [
      ['t2-u16.csv', utf16(rows('王𠂇'))],
      ['t2-gb.csv', of2022],
      ['t2-gb2005.csv', of2005],
    ] as const) {
      const again = await importTemplate(files.fileOf(name, content));
      assert.deepEqual(again.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 }, name);
    }
    assert.equal(await nameOf(id), '王𠂇');
  });

  test('a child ledger in GB18030 reads the names as GB18030-2022 too', async () => {
    const child = nextId('2016-03-03');
    const father = nextId('1985-01-01');
    const text = ['姓名,性别,出生日期,公民身份号码,户籍所在地,父亲姓名,父亲公民身份号码,父亲务工地点', `王①,男,2016-03-03,${child},南彰镇南彰村,王②,${father},广东省深圳市`].join('\r\n') + '\r\n'; // prettier-ignore
    const [a, b, c] = text.split(/[①②]/);
    const bytes = Buffer.concat([gb(a ?? ''), Buffer.from('FE53', 'hex'), gb(b ?? ''), Buffer.from('FE59', 'hex'), gb(c ?? '')]); // prettier-ignore
    const [row] = await parseLedger(ledgerFiles.fileOf('ledger-gb.csv', bytes), ledgerFiles.places(), TODAY);
    assert.deepEqual(errorsOf(row), []);
    assert.equal(row?.child.name, '王𠃌');
    assert.equal(row?.father?.name, '王龴');
  });
});

describe('1: a name holding a Private Use Area character is refused on its row', () => {
  test('lostCharacterInName names the character; a name without one passes', () => {
    for (const [name, code] of [
      ['王\uE816', 'U+E816'],
      ['\uF8F5明', 'U+F8F5'],
      ['李\u{F0001}', 'U+F0001'],
      ['李\u{10FFFD}', 'U+10FFFD'],
    ] as const) {
      const message = lostCharacterInName(name);
      assert.match(message?.zh ?? '', new RegExp(`^姓名中有私用区字符 ${code.replace('+', '\\+')}：`), name);
      assert.match(message?.en ?? '', new RegExp(`private-use character ${code.replace('+', '\\+')}`), name);
    }
    for (const name of ['王𠂇', '王龴', '阿依古丽·买买提', '王䶮'])
      assert.equal(lostCharacterInName(name), null);
  });

  test('the registry template: UTF-8 CSV and .xlsx rows with one are refused, the others imported', async () => {
    const [a, b] = heads('S21-PUA', 2);
    const rows = [
      { ...a, 姓名: '王\uE816' },
      { ...b, 姓名: '王明' },
    ] as Record<string, string>[];
    for (const [name, content] of [
      ['pua.csv', templateCsv(rows, H)],
      ['pua.xlsx', await templateWorkbook(rows)],
    ] as const) {
      const outcome = await importTemplate(files.fileOf(name, content));
      assert.equal(outcome.status, 'succeeded', name);
      assert.equal(outcome.counts.errors, 1, name);
      const reasons = await reasonsByName(outcome.errorReport?.csv);
      assert.match(reasons['王\uE816'] ?? '', /^姓名：姓名中有私用区字符 U\+E816：/, name);
    }
    assert.equal(await nameOf(a?.公民身份号码 ?? ''), undefined);
    assert.equal(await nameOf(b?.公民身份号码 ?? ''), '王明');
  });

  test('the child ledger: the child’s and a parent’s name are checked', async () => {
    const text = ['姓名,性别,出生日期,公民身份号码,户籍所在地,父亲姓名,父亲公民身份号码,父亲务工地点', `张\uE000,男,2016-03-03,${nextId('2016-03-03')},南彰镇南彰村,张\uE83B,${nextId('1985-01-01')},广东省深圳市`].join('\r\n') + '\r\n'; // prettier-ignore
    const [row] = await parseLedger(ledgerFiles.fileOf('ledger-pua.csv', text), ledgerFiles.places(), TODAY);
    const errors = errorsOf(row) ?? [];
    assert.deepEqual(
      errors.map(([column]) => column),
      ['姓名', '父亲姓名'],
    );
    assert.match(String(errors[0]?.[2]), /^姓名中有私用区字符 U\+E000：/);
    assert.match(String(errors[1]?.[2]), /^姓名中有私用区字符 U\+E83B：/);
  });
});
