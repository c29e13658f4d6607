// Registry template files as counties' machines write them (files review): a Mac workbook in the 1904
// date system, custom date formats, rich text, inline strings, quote prefixes, numbers kept as text,
// booleans, shared formulas, a style without attributes; CSV in GB18030 with a 4-byte character,
// UTF-16 "Unicode text", semicolons, line breaks inside quotes, trailing empty columns and a header
// with a BOM and spaces. The .xlsx parts are written by hand (jszip): exceljs cannot write most of these.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import iconv from 'iconv-lite';
import JSZip from 'jszip';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { parseRegistryFile } from './registry.parse.ts';
import type { ParsedRow } from './registry.parse.ts';
import { FileRejected } from './registry.reader.ts';

const TODAY = '2026-11-29';
const V1 = '410225101200';
const options = { regionExists: (code: string) => code === V1, today: TODAY };

const H = [
  '户编号',
  '姓名',
  '公民身份号码',
  '与户主关系',
  '户籍地代码',
  '出生日期',
  '外出务工',
  '外出开始日期',
  '联系电话',
  '学校名称',
  '就学阶段',
];
const ID_2015 = makeIdNumber('410225', '2015-03-01', 111);
const ID_1985 = makeIdNumber('410225', '1985-06-30', 121);

// ---------------------------------------------------------------------------------------------
// A workbook written part by part

type Cell = string | { xml: string };

const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

function columnName(i: number): string {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
}

const RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

/** Text cells as inline strings; `{xml}` cells as written (their r attribute added). */
async function workbook(
  rows: Cell[][],
  o: { date1904?: boolean; numFmts?: string; cellXfs?: string; sharedStrings?: string[] } = {},
): Promise<Uint8Array> {
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
    `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="${RELS}"><workbookPr${o.date1904 ? ' date1904="1"' : ''} defaultThemeVersion="124226"/><sheets><sheet name="登记表" sheetId="1" r:id="rId1"/></sheets></workbook>`,
  );
  zip.file(
    'xl/_rels/workbook.xml.rels',
    `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${RELS}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="${RELS}/styles" Target="styles.xml"/><Relationship Id="rId3" Type="${RELS}/sharedStrings" Target="sharedStrings.xml"/></Relationships>`,
  );
  zip.file(
    'xl/styles.xml',
    `<?xml version="1.0" encoding="UTF-8"?><styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${o.numFmts ?? ''}<fonts count="1"><font/></fonts><fills count="1"><fill/></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0"/></cellStyleXfs><cellXfs>${o.cellXfs ?? '<xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'}</cellXfs></styleSheet>`,
  );
  zip.file(
    'xl/sharedStrings.xml',
    `<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${(o.sharedStrings ?? []).join('')}</sst>`,
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

async function parsed(
  buffer: Uint8Array,
  filename: string,
): Promise<{ rows: ParsedRow[]; unknown: string[] }> {
  const rows: ParsedRow[] = [];
  let unknown: string[] = [];
  for await (const row of parseRegistryFile(
    { buffer, filename },
    { ...options, onHeaders: (h) => (unknown = h.unknown) },
  ))
    rows.push(row);
  return { rows, unknown };
}

const errorsOf = (rows: ParsedRow[]) =>
  rows.flatMap((r) => r.errors.map((e) => `${r.rowNumber} ${e.column ?? ''} ${e.value}: ${e.reason.zh}`));

// ---------------------------------------------------------------------------------------------

describe('.xlsx cells as Excel, WPS and a Mac write them', () => {
  // 2015-03-01 is serial 42064 in the 1900 date system and 40602 in the 1904 one; 2019-07-15 is 42199
  // in the 1904 one (43661 - 1462); 1988-08-10 is 30903 in the 1904 one.
  const macRow = (birth: Cell, since: Cell): Cell[] => [
    'H1',
    '王小',
    ID_2015,
    '户主',
    V1,
    birth,
    '是',
    since,
  ];

  test('a Mac workbook (date1904) with date cells: the dates as shown, not four years off', async () => {
    const buffer = await workbook(
      [H, macRow({ xml: '<c s="1"><v>40602</v></c>' }, { xml: '<c s="1"><v>42199.75</v></c>' })],
      { date1904: true },
    );
    const { rows } = await parsed(buffer, 'mac.xlsx');
    assert.deepEqual(errorsOf(rows), []);
    assert.equal(rows[0]?.record?.birthDate, '2015-03-01');
    assert.equal(rows[0]?.record?.migrationSince, '2019-07-15');
  });

  test('date cells with custom formats (年月日, a long date with a locale tag), in both date systems', async () => {
    const numFmts =
      '<numFmts count="2"><numFmt numFmtId="176" formatCode="yyyy&quot;年&quot;m&quot;月&quot;d&quot;日&quot;;@"/><numFmt numFmtId="177" formatCode="[$-F800]dddd, mmmm dd, yyyy"/></numFmts>';
    const cellXfs = '<xf numFmtId="0"/><xf numFmtId="176" applyNumberFormat="1"/><xf numFmtId="177"/>';
    for (const [date1904, birth, since] of [
      [false, 42064, 43661],
      [true, 40602, 42199],
    ] as const) {
      const buffer = await workbook(
        [H, macRow({ xml: `<c s="1"><v>${birth}</v></c>` }, { xml: `<c s="2"><v>${since}</v></c>` })],
        { date1904, numFmts, cellXfs },
      );
      const { rows } = await parsed(buffer, 'custom.xlsx');
      assert.deepEqual(errorsOf(rows), [], `date1904=${date1904}`);
      assert.equal(rows[0]?.record?.birthDate, '2015-03-01');
      assert.equal(rows[0]?.record?.migrationSince, '2019-07-15');
    }
  });

  test('a style written <xf/> (no attributes) still counts: the date style after it is not shifted', async () => {
    const buffer = await workbook(
      [H, macRow({ xml: '<c s="1"><v>40602</v></c>' }, { xml: '<c s="1"><v>42199</v></c>' })],
      { date1904: true, cellXfs: '<xf/><xf numFmtId="14"/>' },
    );
    const { rows } = await parsed(buffer, 'bare-xf.xlsx');
    assert.deepEqual(errorsOf(rows), []);
    assert.equal(rows[0]?.record?.migrationSince, '2019-07-15');
  });

  test('dates as text: 2015/3/1, 2015年3月1日, 2015.03.01', async () => {
    const buffer = await workbook([
      H,
      ['H1', '王小', ID_2015, '户主', V1, '2015/3/1', '是', '2015年3月1日'],
      ['H2', '李大', ID_1985, '户主', V1, '1985.06.30', '是', '2015.03.01'],
    ]);
    const { rows } = await parsed(buffer, 'text-dates.xlsx');
    assert.deepEqual(errorsOf(rows), []);
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.record?.birthDate, r.record?.migrationSince]),
      [
        [2, '2015-03-01', '2015-03-01'],
        [3, '1985-06-30', '2015-03-01'],
      ],
    );
  });

  test('rich text, inline strings, quote prefixes, numbers as text, booleans and shared formulas', async () => {
    const buffer = await workbook(
      [
        H,
        [
          { xml: '<c t="s"><v>0</v></c>' },
          // Rich text with a phonetic guide (left out).
          { xml: '<c t="s"><v>1</v></c>' },
          // Text with a quote prefix (the apostrophe is not in the cell's text).
          { xml: '<c t="s" s="2"><v>2</v></c>' },
          '户主',
          { xml: '<c t="s" s="2"><v>3</v></c>' },
          '',
          { xml: '<c t="b"><v>1</v></c>' },
          {
            xml: '<c t="str"><f t="shared" ref="H2:H3" si="0">TEXT(F2,"yyyy-mm-dd")</f><v>2020-05-01</v></c>',
          },
          { xml: '<c t="s" s="2"><v>4</v></c>' },
        ],
        [
          'H2',
          // Inline rich text, with an empty run written self-closing (WPS, LibreOffice).
          {
            xml: '<c t="inlineStr"><is><r><t xml:space="preserve"/></r><r><t>李</t></r><r><rPr><b/></rPr><t xml:space="preserve">大 </t></r></is></c>',
          },
          ID_1985,
          '户主',
          { xml: `<c><v>${V1}</v></c>` },
          '',
          // TRUE as 1 (a FALSE with a start date would be a row error: the date needs 外出务工 是).
          { xml: '<c t="b"><v>1</v></c>' },
          { xml: '<c t="str"><f t="shared" si="0"/><v>2020-06-01</v></c>' },
          { xml: '<c><v>13800138000</v></c>' },
        ],
      ],
      {
        cellXfs: '<xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="49" quotePrefix="1"/>',
        sharedStrings: [
          '<si><t>H1</t></si>',
          '<si><r><t>王</t></r><r><rPr><color rgb="FFFF0000"/></rPr><t>小</t></r><rPh sb="0" eb="1"><t>wang</t></rPh></si>',
          `<si><t>${ID_2015}</t></si>`,
          `<si><t>${V1}</t></si>`,
          '<si><t>13800138000</t></si>',
        ],
      },
    );
    const { rows } = await parsed(buffer, 'cells.xlsx');
    assert.deepEqual(errorsOf(rows), []);
    assert.deepEqual(
      rows.map((r) => [
        r.record?.name,
        r.record?.idNumber,
        r.record?.hukouRegionCode,
        r.record?.migrant,
        r.record?.migrationSince,
        r.record?.phone,
      ]),
      [
        ['王小', ID_2015, V1, true, '2020-05-01', '13800138000'],
        ['李大', ID_1985, V1, true, '2020-06-01', '13800138000'],
      ],
    );
  });

  test('a shared formula without a cached result is a row error on its column', async () => {
    const buffer = await workbook([H, macRow('', { xml: '<c t="str"><f t="shared" si="0"/></c>' })]);
    const { rows } = await parsed(buffer, 'no-result.xlsx');
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.record, null);
    assert.deepEqual(
      rows[0]?.errors.map((e) => [e.column, e.reason.zh]),
      [['外出开始日期', '公式没有计算结果（请在 Excel 中打开并保存文件，或把公式改为数值）']],
    );
  });
});

describe('.csv text as Excel and WPS save it', () => {
  const line = (cells: string[], sep = ',') => cells.join(sep);
  const records = (sep = ',') => [
    line(H, sep),
    line(['H1', '𠮷田', ID_2015, '户主', V1, '2015-03-01', '否', '', '', '"城关\r\n小学"', '小学'], sep),
    line(['H2', '李大', ID_1985, '户主', V1, '1985/6/30', '是', '2020年5月1日', '', '', ''], sep),
  ];
  const body = (sep = ',') => records(sep).join('\r\n') + '\r\n';
  const expected = [
    [2, 'H1', '𠮷田', '2015-03-01', null, '城关 小学'],
    [3, 'H2', '李大', '1985-06-30', '2020-05-01', null],
  ];
  const summary = (rows: ParsedRow[]) =>
    rows.map((r) => [
      r.rowNumber,
      r.record?.householdNo,
      r.record?.name,
      r.record?.birthDate,
      r.record?.migrationSince,
      r.record?.school,
    ]);

  test('GB18030 with a 4-byte character (𠮷) and a line break inside a quoted cell', async () => {
    const buffer = iconv.encode(body(), 'gb18030');
    // 𠮷 is outside GBK: four bytes in GB18030.
    const jiLength = iconv.encode('𠮷', 'gb18030').length;
    assert.equal(jiLength, 4);
    assert.ok(buffer.includes(iconv.encode('𠮷', 'gb18030')));
    const { rows } = await parsed(buffer, 'gb18030.csv');
    assert.deepEqual(errorsOf(rows), []);
    assert.deepEqual(summary(rows), expected);
  });

  test('UTF-16 "Unicode text" (tab-separated, with its byte order mark) is read, little- and big-endian', async () => {
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), iconv.encode(body('\t'), 'utf16le')]);
    const be = Buffer.concat([Buffer.from([0xfe, 0xff]), iconv.encode(body('\t'), 'utf16-be')]);
    for (const buffer of [le, be]) {
      const { rows } = await parsed(buffer, 'unicode.csv');
      assert.deepEqual(errorsOf(rows), []);
      assert.deepEqual(summary(rows), expected);
    }
  });

  test('UTF-16 without a byte order mark is refused whole, saying how to save it', async () => {
    await assert.rejects(parsed(iconv.encode(body('\t'), 'utf16le'), 'unicode.csv'), (error: unknown) => {
      assert.ok(error instanceof FileRejected);
      assert.equal(error.reason, 'NOT_CSV');
      assert.match(error.userMessage.zh, /CSV UTF-8/);
      return true;
    });
  });

  test('semicolon-separated CSV (Excel with a European list separator) is read like commas', async () => {
    // A comma inside a cell of a semicolon file is text.
    const text = body(';').replace('"城关\r\n小学"', '"城关,小学"');
    const { rows, unknown } = await parsed(Buffer.from(text, 'utf8'), 'semicolon.csv');
    assert.deepEqual(errorsOf(rows), []);
    assert.deepEqual(unknown, []);
    assert.deepEqual(summary(rows), [[2, 'H1', '𠮷田', '2015-03-01', null, '城关,小学'], expected[1]]);
  });

  test('trailing empty columns, and a header with a BOM and spaces around the names', async () => {
    const [, ...rest] = records();
    const padded = H.map((h) => ` ${h}\u3000`).join(',');
    const text = '\uFEFF' + [padded, ...rest].map((l) => l + ',,,').join('\r\n') + '\r\n';
    const { rows, unknown } = await parsed(Buffer.from(text, 'utf8'), 'trailing.csv');
    assert.deepEqual(errorsOf(rows), []);
    assert.deepEqual(unknown, []);
    assert.deepEqual(summary(rows), expected);
  });
});

describe('end to end: a Mac workbook and a semicolon CSV imported twice', () => {
  let t: TestApp;
  let dir = '';
  const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-files-review-'));
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('imported with the dates as Excel shows them, a wrong one reported; the same file again changes nothing', async () => {
    const id2 = makeIdNumber('410225', '1988-08-08', 151);
    const mac = path.join(dir, 'mac.xlsx');
    fs.writeFileSync(
      mac,
      await workbook(
        [
          H,
          [
            'M1',
            '陈一',
            ID_2015,
            '户主',
            V1,
            { xml: '<c s="1"><v>40602</v></c>' },
            '是',
            { xml: '<c s="1"><v>42199</v></c>' },
          ],
          // 出生日期 two days off the ID number: a row error naming the date as Excel shows it.
          ['M2', '陈二', id2, '户主', V1, { xml: '<c s="1"><v>30903</v></c>' }],
        ],
        { date1904: true },
      ),
    );
    const semicolon = path.join(dir, 'semicolon.csv');
    fs.writeFileSync(
      semicolon,
      iconv.encode(
        [H.join(';'), ['S1', '𠮷田', ID_1985, '户主', V1, '1985.06.30', '否'].join(';')].join('\r\n'),
        'gb18030',
      ),
    );
    const run = (file: string) =>
      importRegistryFile(t.database, file, importer, {
        today: TODAY,
        errorReportBase: path.join(dir, path.basename(file) + '-errors'),
      });
    const first = await run(mac);
    assert.equal(first.status, 'succeeded', JSON.stringify(first.message));
    assert.deepEqual(first.counts, { rows: 2, inserted: 1, updated: 0, unchanged: 0, errors: 1 });
    const report = fs.readFileSync(path.join(dir, 'mac.xlsx-errors.csv'), 'utf8');
    assert.match(report, /1988-08-10/);
    assert.match(report, /M2/);
    const person = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'birth_date'])
      .where('id_number', '=', ID_2015)
      .executeTakeFirstOrThrow();
    assert.equal(person.name, '陈一');
    assert.equal(String(person.birth_date).slice(0, 10), '2015-03-01');
    const again = await run(mac);
    assert.deepEqual(again.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 1, errors: 1 });

    const csv = await run(semicolon);
    assert.equal(csv.status, 'succeeded', JSON.stringify(csv.message));
    assert.deepEqual(csv.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    assert.deepEqual((await run(semicolon)).counts, {
      rows: 1,
      inserted: 0,
      updated: 0,
      unchanged: 1,
      errors: 0,
    });
  });
});
