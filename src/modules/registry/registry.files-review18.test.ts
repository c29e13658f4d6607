// Registry template files, review 18: what a file loses on its way through Excel is never taken for the
// person's data. A name whose rare character a GBK "CSV" save wrote as "?", a household number with
// Excel's text apostrophe, a character reference beyond Unicode or half a character in an .xlsx, a phone
// in a date-formatted cell, a date before Excel's fake 1900-02-29, and household numbers that Excel reads
// as dates or numbers when it opens the export: each is read as what the clerk meant, or is one clear
// error naming the column. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, templateCsv } from '../../../test/support/files.ts';
import { person as recordOf } from '../../../test/fixtures/registry/make-fixtures.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { parseRegistryFile, type ParsedRow } from './registry.parse.ts';
import { FileRejected } from './registry.reader.ts';
import { rowToRecord, type RegistryRecord } from './registry.template.ts';
import { csvField, writeRegistryRecords } from './registry.writer.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const TODAY = '2026-11-29';
const options = { regionExists: (code: string) => code === V1, today: TODAY };

let t: TestApp;
let dir = '';
let seq = 400;

function nextId(birthDate: string, sex: 1 | 2 = 1): string {
  seq += 1;
  return makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

let fileNo = 0;
function file(content: string | Buffer, ext = 'csv'): string {
  const name = path.join(dir, `f${++fileNo}.${ext}`);
  fs.writeFileSync(name, content);
  return name;
}

const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

async function runImport(source: string, dryRun = false) {
  return importRegistryFile(t.database, source, importer, {
    dryRun,
    today: TODAY,
    errorReportBase: path.join(dir, `report${++fileNo}`),
  });
}

async function succeeded(source: string, dryRun = false) {
  const outcome = await runImport(source, dryRun);
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return outcome;
}

async function personByNumber(idNumber: string) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).executeTakeFirst();
}

const person = (
  household: string,
  name: string,
  id: string,
  extra: Record<string, string> = {},
): Record<string, string> => ({
  户编号: household,
  姓名: name,
  公民身份号码: id,
  与户主关系: '户主',
  户籍地代码: V1,
  ...extra,
});

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-files-review18-'));
  t = await createTestApp();
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------
// A workbook written part by part (as registry.files-review.test.ts): exceljs cannot write these cells.

type Cell = string | { xml: string };

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function columnName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** Text cells as inline strings; `{xml}` cells as written (their r attribute added). Style 1 is a date. */
async function workbook(rows: Cell[][], o: { sharedStrings?: string[] } = {}): Promise<Uint8Array> {
  const zip = new JSZip();
  zip.file(
    '[Content_Types].xml',
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/></Types>',
  );
  zip.file(
    '_rels/.rels',
    `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${RELS}/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
  );
  zip.file(
    'xl/workbook.xml',
    `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${RELS}"><workbookPr defaultThemeVersion="124226"/><sheets><sheet name="登记表" sheetId="1" r:id="rId1"/></sheets></workbook>`,
  );
  zip.file(
    'xl/_rels/workbook.xml.rels',
    `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${RELS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${RELS}/styles" Target="styles.xml"/><Relationship Id="rId3" Type="${RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
  );
  zip.file(
    'xl/styles.xml',
    `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><numFmts count="1"><numFmt numFmtId="176" formatCode="yyyy/m/d"/></numFmts><fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs><xf numFmtId="0"/><xf numFmtId="176" applyNumberFormat="1"/></cellXfs></styleSheet>`,
  );
  zip.file(
    'xl/sharedStrings.xml',
    `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${(o.sharedStrings ?? []).map((s) => `<si><t>${s}</t></si>`).join('')}</sst>`,
  );
  const sheetData = rows
    .map(
      (cells, r) =>
        `<row r="${r + 1}">${cells
          .map((c, i) => {
            const ref = `${columnName(i)}${r + 1}`;
            if (typeof c !== 'string') return c.xml.replace('<c', `<c r="${ref}"`);
            return c === '' ? '' : `<c r="${ref}" t="inlineStr"><is><t>${escapeXml(c)}</t></is></c>`;
          })
          .join('')}</row>`,
    )
    .join('');
  zip.file(
    'xl/worksheets/sheet1.xml',
    `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>${sheetData}</sheetData></worksheet>`,
  );
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

/** A number cell in the date format yyyy/m/d: what format painting leaves on a row or a column. */
const dateCell = (n: number): Cell => ({ xml: `<c s="1"><v>${n}</v></c>` });
const numberCell = (n: number): Cell => ({ xml: `<c><v>${n}</v></c>` });
const sharedCell = (index: number): Cell => ({ xml: `<c t="s"><v>${index}</v></c>` });
/** Text as the .xlsx holds it, XML escapes and references as written. */
const inlineXml = (xml: string): Cell => ({ xml: `<c t="inlineStr"><is><t>${xml}</t></is></c>` });

async function parsed(buffer: Uint8Array, filename = 'f.xlsx'): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const row of parseRegistryFile({ buffer, filename }, options)) rows.push(row);
  return rows;
}

const errorsOf = (row: ParsedRow | undefined) => (row?.errors ?? []).map((e) => [e.column, e.reason.zh]);

// ---------------------------------------------------------------------------------------------

const LOST_ZH =
  '姓名中的“?”通常是文件另存为 GBK 编码（Excel 的“CSV（逗号分隔）”）时丢失的生僻字：请把原表另存为“CSV UTF-8”或 .xlsx 后重新导入，或把“?”改为正确的字';

describe('1: a name whose character a GBK save lost (“?”) is a row error, never stored', () => {
  test('re-importing the village after Excel saved it as GBK “CSV” keeps 王𠈌; the row says why', async () => {
    const rare = nextId('1985-03-15');
    const other = nextId('1987-04-01', 2);
    const first = await succeeded(
      file(
        '\uFEFF' +
          templateCsv([
            person('R18-N1', '王𠈌', rare),
            person('R18-N1', '李芳', other, { 与户主关系: '配偶', 联系电话: '13812345678' }),
          ]),
      ),
    );
    assert.equal(first.counts.inserted, 2);
    // What Chinese Excel writes for 𠈌 (no GBK code) when it saves "CSV (逗号分隔)": a question mark.
    // 李芳's new phone is a real edit and still lands.
    const gbk = iconv.encode(
      templateCsv([
        person('R18-N1', '王?', rare),
        person('R18-N1', '李芳', other, { 与户主关系: '配偶', 联系电话: '13912345678' }),
        person('R18-N2', '张？三', nextId('1990-01-01')),
      ]),
      'gbk',
    );
    const outcome = await succeeded(file(gbk));
    assert.equal(outcome.counts.errors, 2);
    assert.equal(outcome.counts.updated, 1);
    assert.deepEqual(await reasonsByName(outcome.errorReport?.csv), {
      '王?': `姓名：${LOST_ZH}（第 2 行）`,
      '张？三': `姓名：${LOST_ZH}（第 4 行）`,
    });
    assert.equal((await personByNumber(rare))?.name, '王𠈌');
    assert.equal((await personByNumber(other))?.phone, '13912345678');
  });

  test('the full-width ？ and U+FFFD too; the reason in English names the column', () => {
    for (const name of ['王？明', '王\uFFFD明', '?']) {
      const out = rowToRecord(person('R18-N3', name, nextId('1980-01-01')), options);
      assert.equal(out.record, null, name);
      assert.deepEqual(
        out.errors.map((e) => e.column),
        ['姓名'],
        name,
      );
      assert.match(out.errors[0]?.reason.en ?? '', /^the ".+" in the name is usually a rare character lost/);
    }
    assert.ok(rowToRecord(person('R18-N3', '王𠈌明', nextId('1980-01-02')), options).record);
  });
});

// ---------------------------------------------------------------------------------------------

describe('2: Excel’s text apostrophe before a 户编号 is not part of the household number', () => {
  test("'R18-AP and ‘R18-AP are household R18-AP: the persons stay in it", async () => {
    const head = nextId('1985-03-15');
    const child = nextId('2015-07-20', 2);
    const rows = (no: string) => [
      person(no, '测AP甲', head),
      person(no, '测AP乙', child, { 与户主关系: '女', 父亲身份号码: head }),
    ];
    assert.equal((await succeeded(file(templateCsv(rows('R18-AP'))))).counts.inserted, 2);
    for (const written of ["'R18-AP", '\u2018R18-AP', '\u2019R18-AP', '＇R18-AP']) {
      const outcome = await succeeded(file(templateCsv(rows(written))));
      assert.equal(outcome.counts.unchanged, 2, written);
      assert.equal(outcome.counts.errors, 0, written);
    }
    const households = await t.ctx.db
      .selectFrom('households')
      .select('household_no')
      .where('household_no', 'like', '%R18-AP%')
      .execute();
    assert.deepEqual(
      households.map((h) => h.household_no),
      ['R18-AP'],
    );
    // An apostrophe alone leaves nothing: the household number is required.
    const lone = rowToRecord(person("'", '测AP丙', nextId('1986-01-01')), options);
    assert.deepEqual(
      lone.errors.map((e) => [e.column, e.reason.zh]),
      [['户编号', '户编号不能为空']],
    );
  });
});

// ---------------------------------------------------------------------------------------------

const H = ['户编号', '姓名', '公民身份号码', '与户主关系', '户籍地代码'];

describe('3: character references an .xlsx cannot hold', () => {
  const ID = makeIdNumber('410225', '1985-06-30', 121);

  test('a reference beyond U+10FFFF refuses the file, naming the cell; never an internal error', async () => {
    for (const [where, cell, sharedStrings] of [
      ['shared', sharedCell(0), ['王&#x110000;明']],
      ['inline', inlineXml('王&#1114112;明'), []],
    ] as const) {
      const buffer = await workbook([H, ['R18-X1', cell, ID, '户主', V1]], {
        sharedStrings: [...sharedStrings],
      });
      await assert.rejects(parsed(buffer), (e: unknown) => {
        assert.ok(e instanceof FileRejected, where);
        assert.equal(e.reason, 'CORRUPT', where);
        assert.match(e.userMessage.zh, /单元格 B2 /, where);
        assert.match(e.userMessage.zh, /超出 Unicode 字符范围/, where);
        assert.match(e.userMessage.en, /cell B2 /, where);
        return true;
      });
    }
    // A shared string no cell uses is no reason to refuse the file.
    const unused = await workbook([H, ['R18-X2', '王明', ID, '户主', V1]], {
      sharedStrings: ['王&#x110000;明'],
    });
    assert.deepEqual(errorsOf((await parsed(unused))[0]), []);
    // Through the import: refused with the message, nothing written.
    const outcome = await runImport(
      file(Buffer.from(await workbook([H, ['R18-X3', inlineXml('王&#x110000;明'), ID, '户主', V1]])), 'xlsx'),
    );
    assert.equal(outcome.status, 'rejected');
    assert.match(outcome.message?.zh ?? '', /单元格 B2 中有无法识别的字符“&#x110000;”/);
    assert.equal(await personByNumber(ID), undefined);
  });

  test('half a character (_xD800_, &#xD800;) is a row error on its column, never stored as “�”', async () => {
    const buffer = await workbook(
      [
        H,
        ['R18-S1', inlineXml('王_xD800_明'), nextId('1980-02-01'), '户主', V1],
        ['R18-S2', sharedCell(0), nextId('1980-02-02'), '户主', V1],
        [inlineXml('R18-S3_xDC00_'), '王明', nextId('1980-02-03'), '户主', V1],
        // Both halves of 𠈌 (U+2020C) escaped one by one: one whole character.
        ['R18-S4', inlineXml('王_xD840__xDE0C_'), nextId('1980-02-04'), '户主', V1],
      ],
      { sharedStrings: ['王&#xD800;明'] },
    );
    const rows = await parsed(buffer);
    const half =
      '含有半个字符（多为用 LEFT、MID 等公式截断了生僻字，或其他程序写错了文件），请改为完整的字后重新录入';
    assert.deepEqual(errorsOf(rows[0]), [['姓名', half]]);
    assert.deepEqual(errorsOf(rows[1]), [['姓名', half]]);
    assert.deepEqual(errorsOf(rows[2]), [['户编号', half]]);
    assert.equal(rows[0]?.record, null);
    // The error report shows where the half character was.
    assert.equal(rows[0]?.raw['姓名'], '王\uFFFD明');
    assert.equal(rows[3]?.record?.name, '王𠈌');
  });
});

// ---------------------------------------------------------------------------------------------

const H4 = [...H, '性别', '出生日期', '联系电话', '家庭年收入(元)'];

describe('4: a number in a date-formatted cell is read as the number where the column is no date', () => {
  test('a phone beyond Excel’s dates is the phone; an income is its amount; 性别 1 is 男', async () => {
    const ID = makeIdNumber('410225', '1985-06-30', 131);
    const rows = await parsed(
      await workbook([
        H4,
        ['R18-D1', '测D甲', ID, '户主', V1, dateCell(1), '', dateCell(13512345678), dateCell(30000)],
        ['R18-D2', '测D乙', nextId('1981-01-01'), '户主', V1, '', '', '', dateCell(3000000)],
      ]),
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.equal(rows[0]?.record?.phone, '13512345678');
    assert.equal(rows[0]?.record?.householdAnnualIncomeFen, 3_000_000);
    assert.equal(rows[0]?.record?.sex, 1);
    // Beyond 9999-12-31 it is a number in any column: no year 10113.
    assert.equal(rows[1]?.record?.householdAnnualIncomeFen, 300_000_000);
  });

  test('in a date column the number beyond Excel’s dates is no date; in 户编号 a date cell is refused', async () => {
    const rows = await parsed(
      await workbook([
        H4,
        ['R18-D3', '测D丙', nextId('1982-01-01'), '户主', V1, '', dateCell(13512345678)],
        [dateCell(46093), '测D丁', nextId('1983-01-01'), '户主', V1],
      ]),
    );
    assert.deepEqual(errorsOf(rows[0]), [
      [
        '出生日期',
        '数字 13512345678 不是有效的 Excel 日期；可用的日期格式：2026-11-29、2026/11/29、2026.11.29、2026年11月29日，或 Excel 日期单元格',
      ],
    ]);
    assert.deepEqual(errorsOf(rows[1]), [
      [
        '户编号',
        '户编号被 Excel 当成了日期（显示为 2026-03-12）：请把该列设置为“文本”格式后按原样重新录入户编号',
      ],
    ]);
  });

  test('re-importing a row whose phone cell was format-painted as a date keeps the stored phone', async () => {
    const ID = nextId('1984-05-05');
    await succeeded(file(templateCsv([person('R18-D5', '测D戊', ID, { 联系电话: '13512345678' })])));
    const outcome = await succeeded(
      file(
        Buffer.from(await workbook([H4, ['R18-D5', '测D戊', ID, '户主', V1, '', '', dateCell(13512345678)]])),
        'xlsx',
      ),
    );
    assert.equal(outcome.counts.unchanged, 1);
    assert.equal((await personByNumber(ID))?.phone, '13512345678');
  });
});

// ---------------------------------------------------------------------------------------------

describe('5: Excel 1900 date serials before 1 March 1900', () => {
  test('serial 15 is 1900-01-15, 59 is 1900-02-28, 61 is 1900-03-01; 60 is the day that never was', async () => {
    const born = (d: string) => makeIdNumber('410225', d, 141);
    const rows = await parsed(
      await workbook([
        H4,
        ['R18-E1', '测E甲', born('1900-01-15'), '户主', V1, '', dateCell(15)],
        ['R18-E2', '测E乙', born('1900-02-28'), '户主', V1, '', dateCell(59)],
        ['R18-E3', '测E丙', born('1900-03-01'), '户主', V1, '', dateCell(61)],
        ['R18-E4', '测E丁', nextId('1986-01-01'), '户主', V1, '', dateCell(60)],
        ['R18-E5', '测E戊', born('1986-01-01'), '户主', V1, '', numberCell(31413)],
      ]),
    );
    assert.deepEqual(
      rows.slice(0, 3).map((r) => [r.record?.birthDate, errorsOf(r)]),
      [
        ['1900-01-15', []],
        ['1900-02-28', []],
        ['1900-03-01', []],
      ],
    );
    assert.deepEqual(errorsOf(rows[3]), [['出生日期', 'Excel 日期序号 60 对应并不存在的 1900年2月29日']]);
    assert.equal(rows[4]?.record?.birthDate, '1986-01-01');
  });
});

// ---------------------------------------------------------------------------------------------

describe('6: the CSV export keeps household numbers Excel would read as dates or numbers', () => {
  const numbers = [
    '3-12',
    '1-2-3',
    '2026.1',
    '1E5',
    '100',
    '3/12',
    '3月12日',
    '12:30',
    'TRUE',
    '1,234',
    '007',
  ];

  test('every text cell Excel would convert is written ="..."; dates, phones and amounts stay bare', async () => {
    for (const no of numbers)
      assert.equal(csvField(no, 'text'), /,/.test(no) ? `"=""${no}"""` : `="${no}"`, no);
    for (const kept of ['R18-3', '三组12户', '41022510120000A', 'A-1-2'])
      assert.equal(csvField(kept, 'text'), kept);
    const records: RegistryRecord[] = numbers.map((householdNo, i) =>
      recordOf({
        householdNo,
        name: `测户${i}`,
        idNumber: makeIdNumber('410225', '1980-01-02', 151 + i * 2),
        hukouRegionCode: V1,
        residenceRegionCode: V1,
        migrant: true,
        migrationSince: '2024-03-01',
        householdAnnualIncomeFen: 1_200_050,
      }),
    );
    const exported = path.join(dir, 'export.csv');
    await writeRegistryRecords(exported, records);
    const lines = fs.readFileSync(exported, 'utf8').split('\r\n');
    assert.ok(lines[1]?.startsWith('="3-12",测户0,'), lines[1]);
    assert.ok(lines[2]?.startsWith('="1-2-3",'), lines[2]);
    assert.ok(lines[10]?.startsWith('"=""1,234""",'), lines[10]);
    // Excel reads these back as the same value: kept as they were.
    assert.ok(lines[1]?.includes(',1980-01-02,'), lines[1]);
    assert.ok(lines[1]?.includes(',13812345678,'), lines[1]);
    assert.ok(lines[1]?.includes(',2024-03-01,'), lines[1]);
    assert.ok(lines[1]?.endsWith(',12000.50'), lines[1]);
    // And the export imports back unchanged.
    const back: (RegistryRecord | null)[] = [];
    for await (const row of parseRegistryFile(exported, options)) back.push(row.record);
    assert.deepEqual(back, records);
  });
});
