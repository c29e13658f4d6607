// Registry files as county and township staff really produce them, beyond the first corpus
// (registry.ledger-corpus.test.ts): CSV in every encoding and line ending Excel and WPS write, cut
// short or mixed; workbooks with a hidden or an instructions sheet first, hidden rows, formulas,
// rich text, ISO date cells, styled blank rows and a far stray cell; ID numbers and dates in the
// forms clerks type; headers reordered, repeated or below a title; the wrong file type chosen; and
// files that must be refused whole. Every file goes through POST /api/v1/imports and the job, and
// the outcome is checked as EXCHANGE.md says: accepted, a row error naming the column and the
// reason (in the error report: the file's columns + 错误原因), or refused whole with nothing
// written; re-importing changes nothing. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { person } from '../../../test/fixtures/registry/make-fixtures.ts';
import { createToken } from '../access/index.ts';
import { computeCheckCharacter, makeIdNumber } from './registry.idnumber.ts';
import { readTable } from './registry.reader.ts';
import { countRegistry } from './registry.repository.ts';
import { recordToRow, TEMPLATE_HEADERS } from './registry.template.ts';

let t: TestApp;
let dir = '';
const tokens: Record<string, string> = {};

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-corpus2-'));
  t = await createTestApp({ dataDir: dir });
  for (const name of ['county', 'county2'])
    tokens[name] = (
      await createToken(t.ctx, null, { name, role: 'county_staff', regionCode: '410225' })
    ).token;
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// Through the API

interface ImportView {
  id: number;
  status: string;
  message: string | null;
  counts: { rows: number; inserted: number; updated: number; unchanged: number; errors: number };
  errorReport: { xlsx: string; csv: string } | null;
}

function multipart(fileName: string, content: Buffer) {
  const boundary = `----corpus${Date.now()}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  return {
    payload: Buffer.concat([head, content, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

function upload(fileName: string, content: Buffer, query = '', who = 'county') {
  const body = multipart(fileName, content);
  return t.app.inject({
    method: 'POST',
    url: `/api/v1/imports${query}`,
    headers: { ...body.headers, authorization: `Bearer ${tokens[who]}` },
    payload: body.payload,
  });
}

/** Uploads a file, runs the job and returns the import as GET /imports/{id} shows it. */
async function runImport(
  fileName: string,
  content: Buffer,
  options: { query?: string; who?: string; lang?: string } = {},
): Promise<ImportView> {
  const who = options.who ?? 'county';
  const r = await upload(fileName, content, options.query, who);
  assert.equal(r.statusCode, 202, r.body);
  await t.ctx.jobs.drain();
  const view = await t.app.inject({
    method: 'GET',
    url: `/api/v1/imports/${(r.json() as { id: number }).id}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': options.lang ?? 'zh-CN' },
  });
  assert.equal(view.statusCode, 200, view.body);
  return view.json();
}

/** The error report (.csv) of an import, read back with the import's own reader. */
async function errorReport(
  view: ImportView,
): Promise<{ headers: string[]; rows: Record<string, unknown>[] }> {
  assert.ok(view.errorReport, `no error report: ${JSON.stringify(view)}`);
  const r = await t.app.inject({
    method: 'GET',
    url: view.errorReport.csv,
    headers: { authorization: `Bearer ${tokens.county}` },
  });
  assert.equal(r.statusCode, 200, r.body);
  const table = await readTable({ buffer: r.rawPayload, filename: 'errors.csv' });
  const rows: Record<string, unknown>[] = [];
  for await (const row of table.rows) rows.push(row.cells);
  return { headers: table.headers, rows };
}

/**
 * Imports the same content as another user (the same user and file would return the same import):
 * every good row unchanged, the same rows in error, nothing written.
 */
async function assertReimportUnchanged(
  fileName: string,
  content: Buffer,
  rows: number,
  errors = 0,
): Promise<void> {
  const before = await countRegistry(t.ctx.db);
  const again = await runImport(fileName, content, { who: 'county2' });
  assert.equal(again.status, 'succeeded', JSON.stringify(again));
  assert.deepEqual(
    again.counts,
    { rows, inserted: 0, updated: 0, unchanged: rows - errors, errors },
    fileName,
  );
  assert.deepEqual(await countRegistry(t.ctx.db), before, fileName);
}

async function birthDatesOf(names: string[]): Promise<Record<string, string>> {
  const rows = await t.ctx.db
    .selectFrom('persons')
    .select(['name', 'birth_date'])
    .where('name', 'in', names)
    .execute();
  return Object.fromEntries(rows.map((r) => [r.name, String(r.birth_date)]));
}

// ---------------------------------------------------------------------------------------------
// Files

/** A father working away, his wife at home and their daughter: distinct persons for each year. */
function family(householdNo: string, year: number): Record<string, string>[] {
  const father = person({
    householdNo,
    name: `张建${year}`,
    birthDate: `${year}-01-02`,
    migrant: true,
    migrationDestination: '广东省深圳市',
    migrationSince: '2024-03-01',
  });
  const mother = person({
    householdNo,
    name: `李芳${year}`,
    sex: 2,
    birthDate: `${year + 2}-05-06`,
    relationToHead: '配偶',
    spouseIdNumber: father.idNumber,
    phone: null,
  });
  father.spouseIdNumber = mother.idNumber;
  const daughter = person({
    householdNo,
    name: `张欣${year}`,
    sex: 2,
    birthDate: `${year + 30}-09-10`,
    relationToHead: '女',
    fatherIdNumber: father.idNumber,
    motherIdNumber: mother.idNumber,
    phone: null,
    migrant: null,
    schoolStage: 'primary',
  });
  return [father, mother, daughter].map(recordToRow);
}

function csvLine(cells: readonly string[], delimiter = ','): string {
  return cells.map((c) => (/[",\r\n\t]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(delimiter);
}

function csvText(
  rows: readonly Record<string, string>[],
  headers = TEMPLATE_HEADERS,
  delimiter = ',',
): string {
  return (
    [
      csvLine(headers, delimiter),
      ...rows.map((r) =>
        csvLine(
          headers.map((h) => r[h] ?? ''),
          delimiter,
        ),
      ),
    ].join('\r\n') + '\r\n'
  );
}

function templateRow(r: Record<string, string>): (string | null)[] {
  return TEMPLATE_HEADERS.map((h) => r[h] || null);
}

async function xlsxOf(build: (workbook: ExcelJS.Workbook) => void): Promise<Buffer> {
  const workbook = new ExcelJS.Workbook();
  build(workbook);
  return Buffer.from(await workbook.xlsx.writeBuffer());
}

/** A zip archive (deflated entries), for workbooks that exceljs does not write. */
function zip(entries: Record<string, string>): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.from(content, 'utf8');
    const deflated = zlib.deflateRawSync(data);
    const nameBytes = Buffer.from(name, 'utf8');
    const crc = zlib.crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(0x0800, 6);
    local.writeUInt16LE(8, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(deflated.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(deflated.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, deflated);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + deflated.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(centrals.length / 2, 8);
  end.writeUInt16LE(centrals.length / 2, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

const MAIN_NS =
  'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"';

/** A one-sheet workbook from the sheet's XML (and optionally its styles and shared strings). */
function handmadeXlsx(sheet: string, extra: { styles?: string; sharedStrings?: string } = {}): Buffer {
  return zip({
    'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8"?><workbook ${MAIN_NS}><sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels':
      '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
    'xl/worksheets/sheet1.xml': `<?xml version="1.0" encoding="UTF-8"?><worksheet ${MAIN_NS}>${sheet}</worksheet>`,
    ...(extra.styles ? { 'xl/styles.xml': extra.styles } : {}),
    ...(extra.sharedStrings ? { 'xl/sharedStrings.xml': extra.sharedStrings } : {}),
  });
}

function columnName(index: number): string {
  let s = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26))
    s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A sheet row: text as inline strings, {xml} as a cell's own attributes and content. */
function rowXml(r: number, cells: readonly (string | null | { xml: string })[]): string {
  const cell = (c: string | { xml: string }, i: number) =>
    typeof c === 'string'
      ? `<c r="${columnName(i)}${r}" t="inlineStr"><is><t>${xmlEscape(c)}</t></is></c>`
      : `<c r="${columnName(i)}${r}"${c.xml}</c>`;
  return `<row r="${r}">${cells.map((c, i) => (c === null ? '' : cell(c, i))).join('')}</row>`;
}

/** An 18-character ID number that ends in X (the check character), for the lower-case x case. */
function idEndingInX(birthDate: string): string {
  for (let seq = 1; seq < 999; seq++) {
    const first17 = makeIdNumber('410225', birthDate, seq).slice(0, 17);
    if (computeCheckCharacter(first17) === 'X') return `${first17}X`;
  }
  throw new Error('no sequence gives X');
}

const fullWidth = (s: string) => s.replace(/[0-9X]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

// ---------------------------------------------------------------------------------------------

describe('CSV as Excel, WPS and other systems save it', () => {
  test('GBK with CRLF and a trailing empty line, GB18030, UTF-8 with BOM and CRLF, old Mac CR line ends and Excel "Unicode text" (UTF-16, tabs) are one household; a re-import in any changes nothing', async () => {
    const rows = family('CSV-1', 1971);
    const text = csvText(rows);
    const first = await runImport('utf8.csv', Buffer.from(text));
    assert.equal(first.status, 'succeeded', JSON.stringify(first));
    assert.deepEqual(first.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
    const tabs = csvText(rows, TEMPLATE_HEADERS, '\t');
    const variants: [string, Buffer][] = [
      ['gbk-crlf.csv', iconv.encode(text + '\r\n', 'gbk')],
      ['gb18030.csv', iconv.encode(text, 'gb18030')],
      ['bom-crlf.csv', Buffer.from('\uFEFF' + text)],
      ['mac-cr.csv', iconv.encode(text.replace(/\r\n/g, '\r'), 'gbk')],
      ['unicode-text.csv', Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(tabs, 'utf16le')])],
    ];
    for (const [name, content] of variants) await assertReimportUnchanged(name, content, 3);
  });

  test('a file cut short inside its last character is refused whole, naming the encoding, not a failed job', async () => {
    const before = await countRegistry(t.ctx.db);
    const text = csvText(family('CSV-2', 1972)) + '备注';
    const utf8 = Buffer.from(text);
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    for (const [name, content, encoding] of [
      ['cut-utf8.csv', utf8.subarray(0, utf8.length - 1), 'UTF-8'],
      ['cut-utf16.csv', utf16.subarray(0, utf16.length - 1), 'UTF-16'],
    ] as const) {
      const view = await runImport(name, content);
      assert.equal(view.status, 'rejected', `${name}: ${JSON.stringify(view)}`);
      assert.match(view.message ?? '', new RegExp(`${encoding} 编码.*截断`), name);
      assert.equal(view.errorReport, null);
    }
    const en = await runImport('cut-utf8-en.csv', utf8.subarray(0, utf8.length - 2), { lang: 'en' });
    assert.match(en.message ?? '', /cut short/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('bytes that are not GBK inside a GBK file refuse it at their row instead of storing U+FFFD in a name', async () => {
    const before = await countRegistry(t.ctx.db);
    const rows = family('CSV-3', 1973);
    const good = iconv.encode(csvText(rows.slice(0, 1)), 'gbk');
    // The second person's name with a lead byte followed by a byte no GBK character has.
    const broken = iconv.encode(csvText(rows.slice(1)).split('\r\n')[1] ?? '', 'gbk');
    const at = broken.indexOf(iconv.encode('李', 'gbk'));
    broken[at + 1] = 0x7f;
    const view = await runImport('mixed.csv', Buffer.concat([good, broken, Buffer.from('\r\n')]));
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /第 3 行.*GBK/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });
});

describe('.xlsx as Excel and WPS save it', () => {
  test('the first visible worksheet is read past a hidden sheet of drop-down lists; hidden rows and columns, a frozen header, formulas with cached values, rich text and 3,000 styled blank rows import like plain cells', async () => {
    const rows = family('XLSX-1', 1974);
    const [father, mother, daughter] = rows as [Record<string, string>, ...Record<string, string>[]];
    const content = await xlsxOf((workbook) => {
      const lists = workbook.addWorksheet('字典', { state: 'hidden' });
      lists.addRow(['男', '女']);
      const sheet = workbook.addWorksheet('人员', { views: [{ state: 'frozen', ySplit: 1, xSplit: 2 }] });
      sheet.addRow([...TEMPLATE_HEADERS]);
      for (const r of rows) sheet.addRow(templateRow(r));
      const col = (h: string) => TEMPLATE_HEADERS.indexOf(h) + 1;
      sheet.getRow(3).hidden = true;
      sheet.getColumn(col('民族')).hidden = true;
      sheet.getRow(2).getCell(col('姓名')).value = {
        richText: [
          { text: (father['姓名'] ?? '').slice(0, 1), font: { bold: true } },
          { text: (father['姓名'] ?? '').slice(1) },
        ],
      };
      sheet.getRow(3).getCell(col('公民身份号码')).value = {
        formula: `TRIM(" ${mother?.['公民身份号码']} ")`,
        result: mother?.['公民身份号码'] ?? '',
      };
      sheet.getRow(4).getCell(col('姓名')).value = {
        formula: 'CONCATENATE("张","欣")',
        result: daughter?.['姓名'] ?? '',
      };
      for (let r = 5; r < 3005; r++) {
        const row = sheet.getRow(r);
        for (let c = 1; c <= TEMPLATE_HEADERS.length; c++) {
          row.getCell(c).border = { bottom: { style: 'thin' } };
          row.getCell(c).numFmt = '@';
        }
      }
    });
    const view = await runImport('hidden-first.xlsx', content);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
    await assertReimportUnchanged('hidden-first.xlsx', content, 3);
  });

  test('a chart sheet before the data is passed over like a hidden sheet: the first worksheet is read', async () => {
    const rows = family('XLSX-4', 1983);
    const worksheet = `<?xml version="1.0" encoding="UTF-8"?><worksheet ${MAIN_NS}><sheetData>${rowXml(1, [...TEMPLATE_HEADERS])}${rows.map((r, i) => rowXml(i + 2, templateRow(r))).join('')}</sheetData></worksheet>`;
    const relType = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
    const content = zip({
      'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8"?><workbook ${MAIN_NS}><sheets><sheet name="图表" sheetId="1" r:id="rId1"/><sheet name="人员" sheetId="2" r:id="rId2"/></sheets></workbook>`,
      'xl/_rels/workbook.xml.rels': `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${relType}/chartsheet" Target="chartsheets/sheet1.xml"/><Relationship Id="rId2" Type="${relType}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`,
      'xl/chartsheets/sheet1.xml': `<?xml version="1.0" encoding="UTF-8"?><chartsheet ${MAIN_NS}><drawing r:id="rId1"/></chartsheet>`,
      'xl/worksheets/sheet1.xml': worksheet,
    });
    const view = await runImport('chart-first.xlsx', content);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
  });

  test('the shared strings are found where the workbook’s relationships point, in any letter case', async () => {
    const rows = family('XLSX-5', 1985);
    const strings: string[] = [];
    const shared = (text: string) => {
      strings.push(`<si><t>${xmlEscape(text)}</t></si>`);
      return { xml: ` t="s"><v>${strings.length - 1}</v>` };
    };
    const sheetRows = [rowXml(1, TEMPLATE_HEADERS.map(shared))];
    rows.forEach((r, i) =>
      sheetRows.push(
        rowXml(
          i + 2,
          TEMPLATE_HEADERS.map((h) => (r[h] ? shared(r[h]) : null)),
        ),
      ),
    );
    const relType = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
    const content = zip({
      'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8"?><workbook ${MAIN_NS}><sheets><sheet name="人员" sheetId="1" r:id="rId1"/></sheets></workbook>`,
      'xl/_rels/workbook.xml.rels': `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${relType}/worksheet" Target="Worksheets/Sheet1.xml"/><Relationship Id="rId2" Type="${relType}/sharedStrings" Target="SharedStrings.xml"/></Relationships>`,
      'xl/worksheets/sheet1.xml': `<?xml version="1.0" encoding="UTF-8"?><worksheet ${MAIN_NS}><sheetData>${sheetRows.join('')}</sheetData></worksheet>`,
      'xl/SharedStrings.xml': `<?xml version="1.0" encoding="UTF-8"?><sst ${MAIN_NS}>${strings.join('')}</sst>`,
    });
    const view = await runImport('cased.xlsx', content);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
  });

  test('an instructions sheet before the data: refused whole, and the message names the sheet that was read', async () => {
    const before = await countRegistry(t.ctx.db);
    const content = await xlsxOf((workbook) => {
      workbook.addWorksheet('填表说明').addRow(['1. 公民身份号码请设置为文本格式']);
      const sheet = workbook.addWorksheet('人员');
      sheet.addRow([...TEMPLATE_HEADERS]);
      for (const r of family('XLSX-2', 1975)) sheet.addRow(templateRow(r));
    });
    const view = await runImport('instructions-first.xlsx', content);
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /缺少必填列.*第一个工作表“填表说明”/);
    const en = await runImport('instructions-first.xlsx', content, { who: 'county2', lang: 'en' });
    assert.match(en.message ?? '', /first worksheet, "填表说明"/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('dates as Excel serials, ISO date cells in a server east of UTC, 2015.3.1, 2015/03/01, 2015年3月1日 and 2015-3-1 are 1 March 2015; 20150301 is a row error naming 出生日期', async () => {
    const base = recordToRow(
      person({ idNumber: null, noIdReason: '未落户', relationToHead: '户主', phone: null }),
    );
    const forms: [string, string | { xml: string }][] = [
      ['日期格', { xml: ' s="1"><v>42064</v>' }],
      ['常规数', { xml: '><v>42064</v>' }],
      ['日期型', { xml: ' t="d"><v>2015-03-01T00:00:00</v>' }],
      ['点号', '2015.3.1'],
      ['斜杠', '2015/03/01'],
      ['中文', '2015年3月1日'],
      ['短横', '2015-3-1'],
      ['八位', '20150301'],
    ];
    const names = forms.map(([n]) => `王${n}`);
    const sheet =
      '<sheetData>' +
      rowXml(1, [...TEMPLATE_HEADERS]) +
      forms
        .map(([form, value], i) =>
          rowXml(
            i + 2,
            TEMPLATE_HEADERS.map((h) =>
              h === '出生日期'
                ? value
                : h === '户编号'
                  ? `DATE-${i}`
                  : h === '姓名'
                    ? `王${form}`
                    : h === '性别'
                      ? '男'
                      : base[h] || null,
            ),
          ),
        )
        .join('') +
      '</sheetData>';
    const styles = `<styleSheet ${MAIN_NS}><cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14"/></cellXfs></styleSheet>`;
    const content = handmadeXlsx(sheet, { styles });
    const tz = process.env.TZ;
    process.env.TZ = 'Asia/Shanghai';
    let view: ImportView;
    try {
      view = await runImport('dates.xlsx', content);
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 8, inserted: 7, updated: 0, unchanged: 0, errors: 1 });
    const stored = await birthDatesOf(names);
    assert.deepEqual(
      stored,
      Object.fromEntries(names.filter((n) => n !== '王八位').map((n) => [n, '2015-03-01'])),
    );
    const report = await errorReport(view);
    assert.deepEqual(report.headers, [...TEMPLATE_HEADERS, '错误原因']);
    assert.equal(report.rows.length, 1);
    assert.equal(report.rows[0]?.['姓名'], '王八位');
    assert.equal(report.rows[0]?.['出生日期'], '20150301');
    assert.match(String(report.rows[0]?.['错误原因']), /^出生日期：无法识别的日期“20150301”/);
  });

  test('a sheet that declares A1:XFD1048576 with one stray cell in its last cell imports its rows and skips the stray one', async () => {
    const rows = family('XLSX-3', 1976);
    const sheet =
      '<dimension ref="A1:XFD1048576"/><sheetData>' +
      rowXml(1, [...TEMPLATE_HEADERS]) +
      rows.map((r, i) => rowXml(i + 2, templateRow(r))).join('') +
      '<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>核对人：王五</t></is></c></row></sheetData>';
    const content = handmadeXlsx(sheet);
    const view = await runImport('far-cell.xlsx', content);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
    await assertReimportUnchanged('far-cell.xlsx', content, 3);
  });
});

describe('formula error values', () => {
  test('#N/A from a VLOOKUP that found nothing and #REF! are row errors naming their column, in a workbook, a CSV and a ledger, never a person named #N/A', async () => {
    const [father, mother, daughter] = family('ERR-1', 1984) as [
      Record<string, string>,
      Record<string, string>,
      Record<string, string>,
    ];
    const col = (h: string) => TEMPLATE_HEADERS.indexOf(h) + 1;
    const workbook = await xlsxOf((w) => {
      const sheet = w.addWorksheet('人员');
      sheet.addRow([...TEMPLATE_HEADERS]);
      for (const r of [father, mother]) sheet.addRow(templateRow(r));
      sheet.getRow(2).getCell(col('姓名')).value = {
        formula: 'VLOOKUP(C2,名单!A:B,2,FALSE)',
        result: { error: '#N/A' },
      };
      sheet.getRow(3).getCell(col('民族')).value = { formula: '#REF!', result: { error: '#REF!' } };
    });
    const fromWorkbook = await runImport('vlookup.xlsx', workbook);
    assert.equal(fromWorkbook.status, 'succeeded', JSON.stringify(fromWorkbook));
    assert.deepEqual(fromWorkbook.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 0, errors: 2 });
    const report = await errorReport(fromWorkbook);
    assert.deepEqual(
      report.rows.map((r) => [r['姓名'], r['民族'], r['错误原因']]),
      [
        [
          '#N/A',
          '汉族',
          '姓名：单元格是 Excel 错误值 #N/A（公式出错，如 VLOOKUP 没有找到），请改为正确的值（第 2 行）',
        ],
        [
          mother['姓名'],
          '#REF!',
          '民族：单元格是 Excel 错误值 #REF!（公式出错，如 VLOOKUP 没有找到），请改为正确的值（第 3 行）',
        ],
      ],
    );
    const fromCsv = await runImport('vlookup.csv', Buffer.from(csvText([{ ...daughter, 姓名: '#N/A' }])));
    assert.deepEqual(fromCsv.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 0, errors: 1 });
    const ledger = await runImport(
      'vlookup-ledger.csv',
      Buffer.from(
        [
          csvLine(['姓名', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名']),
          csvLine(['#N/A', '2015-03-04', makeIdNumber('410225', '2015-03-04', 71), '南彰镇南彰村', '#N/A']),
        ].join('\r\n'),
      ),
      { query: '?kind=ledger' },
    );
    assert.equal(ledger.status, 'succeeded', JSON.stringify(ledger));
    assert.deepEqual(ledger.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 0, errors: 1 });
    const ledgerReport = await errorReport(ledger);
    assert.match(
      String(ledgerReport.rows[0]?.['错误原因']),
      /姓名：单元格是 Excel 错误值 #N\/A.*父亲姓名：单元格是/,
    );
    const named = await t.ctx.db.selectFrom('persons').select('id').where('name', '=', '#N/A').execute();
    assert.deepEqual(named, []);
  });
});

describe('ID numbers as clerks type them', () => {
  test('inner spaces, full-width digits, a lower-case x, a leading apostrophe or tab are the same number; scientific notation is a row error naming 公民身份号码 and the lost digits', async () => {
    const id = (birthDate: string) => makeIdNumber('410225', birthDate, 37);
    const withX = idEndingInX('1992-02-03');
    const cases: [string, string, string | number][] = [
      [
        '空格',
        id('1990-01-01'),
        `${id('1990-01-01').slice(0, 6)} ${id('1990-01-01').slice(6, 14)} ${id('1990-01-01').slice(14)}`,
      ],
      ['全角', id('1990-01-02'), fullWidth(id('1990-01-02'))],
      ['小写', withX, withX.toLowerCase()],
      ['撇号', id('1990-01-03'), `'${id('1990-01-03')}`],
      ['制表', id('1990-01-04'), `\t${id('1990-01-04')}`],
      ['科学', '', '4.10225E+17'],
      ['数字', '', Number(id('1990-01-05'))],
    ];
    const content = await xlsxOf((workbook) => {
      const sheet = workbook.addWorksheet('人员');
      sheet.addRow([...TEMPLATE_HEADERS]);
      cases.forEach(([tag, canonical, written], i) => {
        const r = recordToRow(
          person({
            householdNo: `ID-${i}`,
            name: `赵${tag}`,
            idNumber: canonical || id('1990-01-06'),
            birthDate: canonical
              ? `${canonical.slice(6, 10)}-${canonical.slice(10, 12)}-${canonical.slice(12, 14)}`
              : '1990-01-06',
            sex: canonical && Number(canonical[16]) % 2 === 0 ? 2 : 1,
            phone: null,
          }),
        );
        sheet.addRow(TEMPLATE_HEADERS.map((h) => (h === '公民身份号码' ? written : r[h] || null)));
      });
    });
    const view = await runImport('ids.xlsx', content);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 7, inserted: 5, updated: 0, unchanged: 0, errors: 2 });
    const stored = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'id_number'])
      .where('name', 'like', '赵%')
      .orderBy('name')
      .execute();
    assert.deepEqual(
      Object.fromEntries(stored.map((p) => [p.name, p.id_number])),
      Object.fromEntries(cases.filter(([, c]) => c).map(([tag, c]) => [`赵${tag}`, c])),
    );
    const report = await errorReport(view);
    assert.deepEqual(
      report.rows.map((r) => r['姓名']),
      ['赵科学', '赵数字'],
    );
    for (const r of report.rows)
      assert.match(String(r['错误原因']), /^公民身份号码：公民身份号码被 Excel 存成了数字/);
    await assertReimportUnchanged('ids.xlsx', content, 7, 2);
  });
});

describe('headers', () => {
  test('columns in another order, an unknown column twice and a pre-numbered 序号 beyond the data: the persons import, the unknown columns are reported', async () => {
    const rows = family('HDR-1', 1977);
    const headers = ['序号', ...[...TEMPLATE_HEADERS].reverse(), '备注', '备注'];
    const lines = [csvLine(headers)];
    rows.forEach((r, i) =>
      lines.push(
        csvLine([String(i + 1), ...[...TEMPLATE_HEADERS].reverse().map((h) => r[h] ?? ''), '', '核对']),
      ),
    );
    // The blank form was numbered down to 20 before it was filled in.
    for (let n = rows.length + 1; n <= 20; n++)
      lines.push(csvLine([String(n), ...headers.slice(1).map(() => '')]));
    const content = iconv.encode(lines.join('\r\n') + '\r\n', 'gbk');
    const view = await runImport('numbered.csv', content);
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(view.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
    assert.equal(view.message, '已忽略未知列：序号、备注');
    await assertReimportUnchanged('numbered.csv', content, 3);
  });

  test('a template column named twice still refuses the file', async () => {
    const headers = [...TEMPLATE_HEADERS, '姓名'];
    const view = await runImport(
      'twice.csv',
      Buffer.from(csvLine(headers) + '\r\n' + csvLine(headers.map(() => '1'))),
    );
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /列名重复：姓名/);
  });

  test('a title row above the header: refused whole, the message says in which row the header is', async () => {
    const before = await countRegistry(t.ctx.db);
    const content = Buffer.from('\uFEFF兰考县户籍人口登记表\r\n' + csvText(family('HDR-2', 1978)));
    const view = await runImport('title.csv', content);
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /列名在第2行.*删除上方的 1 行标题/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('other names for a column are not headers (EXCHANGE.md matches them exactly): 身份证号码 refuses the file naming 公民身份号码', async () => {
    const headers = TEMPLATE_HEADERS.map((h) => (h === '公民身份号码' ? '身份证号码' : h));
    const rows = family('HDR-3', 1979).map((r) => ({ ...r, 身份证号码: r['公民身份号码'] ?? '' }));
    const view = await runImport('synonym.csv', Buffer.from(csvText(rows, headers)));
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /缺少必填列：公民身份号码。/);
  });

  test('a ledger that titles the addresses 户口所在地 and 现住址 imports its children', async () => {
    const child = makeIdNumber('410225', '2016-05-06', 81);
    const content = iconv.encode(
      [
        csvLine([
          '序号',
          '姓名',
          '性别',
          '出生日期',
          '身份证号',
          '户口所在地',
          '现住址',
          '父亲姓名',
          '父亲务工地点',
        ]),
        csvLine([
          '1',
          '周小宝',
          '男',
          '2016.5.6',
          child,
          '南彰镇南彰村',
          '南彰镇南彰村',
          '周建设',
          '广东省深圳市',
        ]),
      ].join('\r\n') + '\r\n',
      'gbk',
    );
    const view = await runImport('户口所在地.csv', content, { query: '?kind=ledger' });
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.equal(view.counts.errors, 0, JSON.stringify(view));
    assert.equal(view.counts.inserted, 1, JSON.stringify(view));
    const stored = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'hukou_region_code'])
      .where('id_number', '=', child)
      .execute();
    assert.deepEqual(stored, [{ name: '周小宝', hukou_region_code: '410225102200' }]);
  });

  test('a child ledger sent as the registry template and the template sent as a ledger are refused whole and named', async () => {
    const before = await countRegistry(t.ctx.db);
    const child = makeIdNumber('410225', '2015-03-04', 61);
    const ledger = iconv.encode(
      [
        '兰考县农村留守儿童基本情况登记表',
        csvLine(['填报单位：南彰镇', '', '', '填报日期：2026年11月1日']),
        csvLine(['序号', '姓名', '性别', '出生日期', '身份证号码', '户籍所在地']),
        csvLine(['1', '李大宝', '男', '2015-03-04', child, '南彰镇南彰村']),
      ].join('\r\n'),
      'gbk',
    );
    const asRegistry = await runImport('ledger.csv', ledger);
    assert.equal(asRegistry.status, 'rejected', JSON.stringify(asRegistry));
    assert.match(asRegistry.message ?? '', /这像是留守儿童台账.*选择“留守儿童台账”/);
    const asLedger = await runImport('template.csv', Buffer.from(csvText(family('HDR-4', 1980))), {
      query: '?kind=ledger',
    });
    assert.equal(asLedger.status, 'rejected', JSON.stringify(asLedger));
    assert.match(asLedger.message ?? '', /缺少“户籍所在地”列.*选择“户籍人口模板”/);
    assert.deepEqual(asLedger.counts.errors, 0);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });
});

describe('files refused whole, with nothing written', () => {
  const png = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
  const ole2 = Buffer.concat([
    Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]),
    Buffer.alloc(504),
  ]);

  test('empty, header-only, binary, renamed and truncated files each get their reason', async () => {
    const header = csvText([]);
    const workbook = await xlsxOf((w) => w.addWorksheet('人员').addRow([...TEMPLATE_HEADERS]));
    const numberedOnly = await xlsxOf((w) => {
      const sheet = w.addWorksheet('人员');
      sheet.addRow(['序号', ...TEMPLATE_HEADERS]);
      for (let n = 1; n <= 50; n++) sheet.addRow([n]);
    });
    const full = await xlsxOf((w) => {
      const sheet = w.addWorksheet('人员');
      sheet.addRow([...TEMPLATE_HEADERS]);
      for (const r of family('BAD-1', 1981)) sheet.addRow(templateRow(r));
    });
    const cases: [string, Buffer, RegExp, string?][] = [
      ['empty.csv', Buffer.alloc(0), /0 字节/],
      ['empty.xlsx', Buffer.alloc(0), /0 字节/],
      ['header-only.csv', Buffer.from('\uFEFF' + header), /只有列名，没有数据行/],
      ['header-only.xlsx', workbook, /只有列名，没有数据行/],
      ['numbered-only.xlsx', numberedOnly, /只有列名，没有数据行/],
      ['photo.xlsx', png, /不是 Excel 工作簿/],
      ['report.xlsx', zip({ 'word/document.xml': '<w:document/>' }), /zip 压缩包，但不是 Excel 工作簿/],
      ['cut.xlsx', full.subarray(0, full.length - 200), /已损坏/],
      ['photo.csv', png, /不是文本格式的 CSV/],
      ['workbook.csv', full, /扩展名是 \.csv，内容却是 Excel 工作簿/],
      ['old.csv', ole2, /旧版 \.xls 文件/],
      [
        'ledger-header-only.csv',
        Buffer.from(csvLine(['姓名', '出生日期', '户籍所在地'])),
        /台账只有列名/,
        '?kind=ledger',
      ],
    ];
    const before = await countRegistry(t.ctx.db);
    for (const [name, content, reason, query] of cases) {
      const view = await runImport(name, content, query ? { query } : {});
      assert.equal(view.status, 'rejected', `${name}: ${JSON.stringify(view)}`);
      assert.match(view.message ?? '', reason, name);
      assert.deepEqual(view.counts, { rows: 0, inserted: 0, updated: 0, unchanged: 0, errors: 0 }, name);
      assert.equal(view.errorReport, null, name);
    }
    const en = await runImport('header-only.csv', Buffer.from(header), { who: 'county2', lang: 'en' });
    assert.match(en.message ?? '', /no data rows/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });

  test('a workbook saved with an open password is told apart from an old .xls, with the way to remove it', async () => {
    // [MS-CFB]: a compound file's header, then its first directory sector with the streams of an
    // encrypted workbook (ECMA-376 part 2: EncryptionInfo, EncryptedPackage).
    const header = Buffer.alloc(512);
    ole2.copy(header, 0, 0, 8);
    header.writeUInt16LE(0x3e, 0x18);
    header.writeUInt16LE(3, 0x1a);
    header.writeUInt16LE(0xfffe, 0x1c);
    header.writeUInt16LE(9, 0x1e);
    header.writeUInt16LE(6, 0x20);
    header.writeUInt32LE(0, 0x30);
    const directory = Buffer.alloc(512);
    ['Root Entry', 'EncryptionInfo', 'EncryptedPackage'].forEach((name, i) => {
      directory.write(name, i * 128, 'utf16le');
      directory.writeUInt16LE((name.length + 1) * 2, i * 128 + 64);
    });
    const encrypted = Buffer.concat([header, directory, Buffer.alloc(4096, 0x5a)]);
    const view = await runImport('加密.xlsx', encrypted);
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /打开密码.*用密码进行加密/);
    const en = await runImport('加密.xlsx', encrypted, { who: 'county2', lang: 'en' });
    assert.match(en.message ?? '', /protected by a password/);
  });

  test('a CSV named .xlsx is refused as not a workbook; the same bytes renamed .csv and sent again import', async () => {
    const content = Buffer.from('\uFEFF' + csvText(family('BAD-2', 1982)));
    const misnamed = await runImport('登记表.xlsx', content);
    assert.equal(misnamed.status, 'rejected', JSON.stringify(misnamed));
    assert.match(misnamed.message ?? '', /改了扩展名/);
    const renamed = await runImport('登记表.csv', content);
    assert.notEqual(renamed.id, misnamed.id);
    assert.equal(renamed.status, 'succeeded', JSON.stringify(renamed));
    assert.deepEqual(renamed.counts, { rows: 3, inserted: 3, updated: 0, unchanged: 0, errors: 0 });
  });

  test('an old .xls is refused at upload with the way out (save as .xlsx), and nothing is queued', async () => {
    const listed = async () =>
      (
        await t.app.inject({
          method: 'GET',
          url: '/api/v1/imports?limit=100',
          headers: { authorization: `Bearer ${tokens.county}` },
        })
      ).json().items.length as number;
    const before = await listed();
    for (const name of ['登记表.xls', '登记表.et']) {
      const r = await upload(name, ole2);
      assert.equal(r.statusCode, 422, r.body);
      assert.equal(r.json().error.code, 'FILE_REJECTED');
      assert.match(r.json().error.message, /另存为” \.xlsx/);
    }
    assert.equal(await listed(), before);
  });

  test('a ledger workbook whose shared strings inflate to hundreds of MB is refused as too large, not read into the server', async () => {
    const before = await countRegistry(t.ctx.db);
    const strings: string[] = [];
    for (let i = 0; i < 3000; i++) strings.push(`<si><t>${i}${'x'.repeat(30_000)}</t></si>`);
    const content = handmadeXlsx(
      '<sheetData>' +
        rowXml(1, ['姓名', '出生日期', '户籍所在地']) +
        rowXml(2, ['李大宝', '2015-03-04', '南彰镇南彰村']) +
        '</sheetData>',
      { sharedStrings: `<sst ${MAIN_NS} count="3000" uniqueCount="3000">${strings.join('')}</sst>` },
    );
    assert.ok(content.length < 2_000_000, `the bomb is small: ${content.length} bytes`);
    const view = await runImport('bomb.xlsx', content, { query: '?kind=ledger' });
    assert.equal(view.status, 'rejected', JSON.stringify(view));
    assert.match(view.message ?? '', /文字过多/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
  });
});
