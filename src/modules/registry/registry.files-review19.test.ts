// Registry template files, review 19: a workbook kept as one sheet per village, and a worksheet whose
// XML numbers a row twice. Every visible sheet with the template's header in row 1 is imported (an
// instructions sheet, an empty one and a hidden one are passed over); a later sheet whose header is
// broken refuses the file whole, naming it; the error report names each row's sheet, and imports back.
// A row number met twice is a damaged file, refused whole, never an internal error. Runs on PGlite, or
// PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import JSZip from 'jszip';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName, templateCsv } from '../../../test/support/files.ts';
import { createToken, systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { FileRejected, readRows, readTable } from './registry.reader.ts';
import { countRegistry } from './registry.repository.ts';

const NANZHANG = '410225102200'; // 南彰村
const SIZHAI = '410225102201';
const HOUZHAI = '410225102202';
const TODAY = '2026-11-29';

let t: TestApp;
let dir = '';
let token = '';
let seq = 500;

function nextId(birthDate: string, sex: 1 | 2 = 1): string {
  seq += 1;
  return makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

let fileNo = 0;
function file(content: string | Buffer | Uint8Array, ext = 'xlsx'): string {
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

async function personByNumber(idNumber: string) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).executeTakeFirst();
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-files-review19-'));
  t = await createTestApp({ dataDir: dir });
  token = (await createToken(t.ctx, null, { name: 'county', role: 'county_staff', regionCode: '410225' }))
    .token;
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const H = [
  '户编号',
  '姓名',
  '公民身份号码',
  '性别',
  '与户主关系',
  '户籍地代码',
  '父亲身份号码',
  '母亲身份号码',
];

type Row = Record<string, string>;

/** A family of three in a village: father (户主), mother, son with both parents' numbers. */
function family(household: string, village: string, n: number): Row[] {
  const father = nextId('1985-03-01');
  const mother = nextId('1987-04-01', 2);
  return [
    { 户编号: household, 姓名: `父${n}`, 公民身份号码: father, 与户主关系: '户主', 户籍地代码: village },
    { 户编号: household, 姓名: `母${n}`, 公民身份号码: mother, 与户主关系: '配偶', 户籍地代码: village },
    {
      户编号: household,
      姓名: `子${n}`,
      公民身份号码: nextId('2016-05-01'),
      与户主关系: '子',
      户籍地代码: village,
      父亲身份号码: father,
      母亲身份号码: mother,
    },
  ];
}

interface SheetSpec {
  name: string;
  rows?: unknown[][];
  state?: 'hidden';
  merge?: string;
}

/** A workbook of several sheets, written by exceljs as Excel would save it. */
async function workbookOf(sheets: SheetSpec[]): Promise<Buffer> {
  const wb = new ExcelJS.Workbook();
  for (const s of sheets) {
    const ws = wb.addWorksheet(s.name, s.state ? { state: s.state } : {});
    for (const r of s.rows ?? []) ws.addRow(r);
    if (s.merge) ws.mergeCells(s.merge);
  }
  return Buffer.from(await wb.xlsx.writeBuffer());
}

const templateSheet = (name: string, rows: Row[], headers: readonly string[] = H): SheetSpec => ({
  name,
  rows: [[...headers], ...rows.map((r) => headers.map((h) => r[h] ?? ''))],
});

// ---------------------------------------------------------------------------------------------

describe('1: a template workbook with one sheet per village', () => {
  test('every visible sheet with the header in row 1 is read; instructions, empty and hidden sheets are not; dry run, import and re-import agree', async () => {
    const nanzhang = [...family('R19-NZ1', NANZHANG, 1), ...family('R19-NZ2', NANZHANG, 2)];
    const sizhai = family('R19-SZ1', SIZHAI, 3);
    const houzhai = family('R19-HZ1', HOUZHAI, 4);
    // A child on 侯寨村's sheet whose parents are on 南彰村's: linked across sheets.
    const [father, mother] = nanzhang;
    houzhai.push({
      户编号: 'R19-HZ1',
      姓名: '外孙5',
      公民身份号码: nextId('2018-06-01', 2),
      与户主关系: '其他',
      户籍地代码: HOUZHAI,
      父亲身份号码: father?.公民身份号码 ?? '',
      母亲身份号码: mother?.公民身份号码 ?? '',
    });
    const hidden = family('R19-HID', NANZHANG, 6);
    const content = await workbookOf([
      templateSheet('南彰村', nanzhang),
      // Instructions with a merged title, as counties write them.
      { name: '填表说明', rows: [['填表说明'], ['1. 公民身份号码请设置为文本格式']], merge: 'A1:D1' },
      // Columns in another order on this sheet.
      templateSheet('司寨村', sizhai, [...H].reverse()),
      { name: 'Sheet4' },
      templateSheet('侯寨村', houzhai),
      { ...templateSheet('旧表', hidden), state: 'hidden' },
    ]);
    const source = file(content);
    const before = await countRegistry(t.ctx.db);
    const dry = await runImport(source, true);
    assert.equal(dry.status, 'succeeded', JSON.stringify(dry.message));
    // Before: rows 6, inserted 6 (南彰村 only), and the import said "succeeded".
    assert.deepEqual(dry.counts, { rows: 13, inserted: 13, updated: 0, unchanged: 0, errors: 0 });
    assert.deepEqual(await countRegistry(t.ctx.db), before);

    const real = await runImport(source);
    assert.deepEqual(real.counts, dry.counts);
    for (const r of [...nanzhang, ...sizhai, ...houzhai]) {
      const p = await personByNumber(r.公民身份号码 ?? '');
      assert.equal(p?.name, r.姓名, r.姓名);
      assert.equal(p?.hukou_region_code, r.户籍地代码, r.姓名);
    }
    for (const r of hidden) assert.equal(await personByNumber(r.公民身份号码 ?? ''), undefined, r.姓名);
    const grandchild = await personByNumber(houzhai[3]?.公民身份号码 ?? '');
    const parents = await t.ctx.db
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', (j) =>
        j.on((eb) =>
          eb.or([
            eb.and([
              eb('r.person_id', '=', grandchild?.id ?? -1),
              eb('p.id', '=', eb.ref('r.related_person_id')),
            ]),
            eb.and([
              eb('r.related_person_id', '=', grandchild?.id ?? -1),
              eb('p.id', '=', eb.ref('r.person_id')),
            ]),
          ]),
        ),
      )
      .select('p.name')
      .where('r.kind', '=', 'parent')
      .orderBy('p.name')
      .execute();
    assert.deepEqual(
      parents.map((p) => p.name),
      ['母1', '父1'].sort(),
    );

    const again = await runImport(source);
    assert.deepEqual(again.counts, { rows: 13, inserted: 0, updated: 0, unchanged: 13, errors: 0 });
  });

  test('rows with errors on several sheets: the report names each row’s sheet and its row there, and imports back once corrected', async () => {
    const head = nextId('1970-01-01');
    const wrongSex = nextId('1972-02-02'); // a man's number, written 女 below
    const nz: Row[] = [
      { 户编号: 'R19-E1', 姓名: '甲户主', 公民身份号码: head, 与户主关系: '户主', 户籍地代码: NANZHANG },
      {
        户编号: 'R19-E1',
        姓名: '乙性别',
        公民身份号码: wrongSex,
        性别: '女',
        与户主关系: '兄弟姐妹',
        户籍地代码: NANZHANG,
      },
      {
        户编号: 'R19-E2',
        姓名: '丙户主',
        公民身份号码: nextId('1975-03-03'),
        与户主关系: '户主',
        户籍地代码: NANZHANG,
      },
    ];
    const sz: Row[] = [
      // 甲户主 entered again on the second sheet.
      { 户编号: 'R19-E1', 姓名: '甲重复', 公民身份号码: head, 与户主关系: '户主', 户籍地代码: NANZHANG },
      // A child of 乙性别, whose row has an error.
      {
        户编号: 'R19-E1',
        姓名: '丁子女',
        公民身份号码: nextId('2012-04-04'),
        与户主关系: '其他',
        户籍地代码: NANZHANG,
        父亲身份号码: wrongSex,
      },
      // A second head of 丙户主's household.
      {
        户编号: 'R19-E2',
        姓名: '戊户主',
        公民身份号码: nextId('1976-05-05'),
        与户主关系: '户主',
        户籍地代码: NANZHANG,
      },
    ];
    const content = await workbookOf([templateSheet('南彰村', nz), templateSheet('司寨村', sz)]);
    const source = file(content);
    const dry = await runImport(source, true);
    const outcome = await runImport(source);
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.deepEqual(outcome.counts, dry.counts);
    assert.deepEqual(outcome.counts, { rows: 6, inserted: 1, updated: 0, unchanged: 0, errors: 5 });
    const heads =
      '（户编号相同）的户主：一户只有一位户主，请只保留一位“户主”，其他人改填与户主的关系后重新导入';
    assert.deepEqual(await reasonsByName(outcome.errorReport?.csv), {
      乙性别: '性别：工作表“南彰村”：性别“女”与公民身份号码不一致（号码为男性）（第 3 行）',
      丙户主: `与户主关系：工作表“南彰村”：与工作表“司寨村”第 4 行同为本户${heads}（第 4 行）`,
      甲重复:
        '公民身份号码：工作表“司寨村”：公民身份号码与工作表“南彰村”第 2 行重复：同一人在文件中只能出现一次（第 2 行）',
      丁子女:
        '父亲身份号码：工作表“司寨村”：该公民身份号码所在的工作表“南彰村”第 3 行有错误、未导入：请先改正工作表“南彰村”第 3 行（第 3 行）',
      戊户主: `与户主关系：工作表“司寨村”：与工作表“南彰村”第 4 行同为本户${heads}（第 4 行）`,
    });
    assert.equal((await personByNumber(head))?.name, '甲户主');

    // The report (both sheets' rows on one sheet, with 错误原因) corrected and imported as it is.
    const report = await readTable(outcome.errorReport?.xlsx ?? '');
    assert.equal(report.sheetsRead.length, 1);
    const corrected: Row[] = [];
    for await (const { cells } of report.rows) {
      const row: Row = {};
      for (const h of report.headers) row[h] = cells[h] == null ? '' : String(cells[h] as string);
      if (row.姓名 === '甲重复') continue;
      if (row.姓名 === '乙性别') row.性别 = '男';
      if (row.姓名 === '戊户主') row.与户主关系 = '配偶';
      corrected.push(row);
    }
    const back = await runImport(file('\uFEFF' + templateCsv(corrected, report.headers), 'csv'));
    assert.deepEqual(back.counts, { rows: 4, inserted: 4, updated: 0, unchanged: 0, errors: 0 });
  });

  test('a later sheet whose header is broken refuses the file whole, naming the sheet; nothing is written', async () => {
    const good = templateSheet('南彰村', family('R19-B1', NANZHANG, 7));
    const rows = family('R19-B2', SIZHAI, 8);
    const cases: [string, SheetSpec, RegExp, RegExp][] = [
      [
        'a required column missing',
        templateSheet(
          '司寨村',
          rows,
          H.filter((h) => h !== '户籍地代码'),
        ),
        /^工作表“司寨村”缺少必填列：户籍地代码。/,
        /^the worksheet "司寨村" lacks required columns: 户籍地代码\./,
      ],
      [
        'a title above the header',
        { name: '司寨村', rows: [['司寨村人员登记表'], ...(templateSheet('司寨村', rows).rows ?? [])] },
        /^工作表“司寨村”的列名在第2行：各工作表的列名都须在第1行/,
        /^the headers of the worksheet "司寨村" are in row 2/,
      ],
      [
        'merged cells',
        { ...templateSheet('司寨村', rows), merge: 'B3:B4' },
        /^工作表“司寨村”中有合并单元格（B3:B4）/,
        /^the worksheet "司寨村" has merged cells/,
      ],
      [
        'a column named twice',
        templateSheet('司寨村', rows, [...H, '姓名']),
        /^工作表“司寨村”列名重复：姓名/,
        /^duplicate column headers of the worksheet "司寨村": 姓名/,
      ],
    ];
    for (const [what, broken, zh, en] of cases) {
      const before = await countRegistry(t.ctx.db);
      const outcome = await runImport(file(await workbookOf([good, broken])));
      assert.equal(outcome.status, 'rejected', `${what}: ${JSON.stringify(outcome)}`);
      assert.match(outcome.message?.zh ?? '', zh, what);
      assert.match(outcome.message?.en ?? '', en, what);
      assert.deepEqual(await countRegistry(t.ctx.db), before, what);
    }
    // The first sheet's own messages are as they were: it is the template (EXCHANGE.md "first sheet").
    const first = await runImport(
      file(await workbookOf([{ name: '填表说明', rows: [['请按说明填写']] }, good])),
    );
    assert.equal(first.status, 'rejected');
    assert.match(first.message?.zh ?? '', /缺少必填列.*读取的是第一个工作表“填表说明”/);
  });
});

// ---------------------------------------------------------------------------------------------
// A worksheet written part by part: exceljs numbers its rows itself.

const RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const escapeXml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** Rows as <row r="…"> elements (r omitted when null), cells as inline strings in columns A, B, … */
function sheetXml(rows: [string | null, string[]][]): string {
  const body = rows
    .map(
      ([r, cells]) =>
        `<row${r === null ? '' : ` r="${r}"`}>${cells
          .map(
            (c, i) =>
              `<c r="${String.fromCharCode(65 + i)}${r ?? ''}" t="inlineStr"><is><t>${escapeXml(c)}</t></is></c>`,
          )
          .join('')}</row>`,
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="${MAIN}"><sheetData>${body}</sheetData></worksheet>`;
}

async function workbookXml(sheets: { name: string; xml: string }[]): Promise<Uint8Array> {
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
    `<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="${MAIN}" xmlns:r="${RELS}"><sheets>${sheets
      .map((s, i) => `<sheet name="${s.name}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`)
      .join('')}</sheets></workbook>`,
  );
  zip.file(
    'xl/_rels/workbook.xml.rels',
    `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${sheets
      .map(
        (_, i) =>
          `<Relationship Id="rId${i + 1}" Type="${RELS}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`,
      )
      .join('')}</Relationships>`,
  );
  sheets.forEach((s, i) => zip.file(`xl/worksheets/sheet${i + 1}.xml`, s.xml));
  return zip.generateAsync({ type: 'uint8array', compression: 'DEFLATE' });
}

const cellsOf = (r: Row) => H.map((h) => r[h] ?? '');

describe('2: a row number met twice in a worksheet', () => {
  test('two <row r="3"> refuse the file as damaged, naming the sheet and the row; nothing is written, on any sheet', async () => {
    const [a, b, c] = family('R19-D1', NANZHANG, 9);
    const rows = (second: string): [string | null, string[]][] => [
      ['1', H],
      ['2', cellsOf(a ?? {})],
      ['3', cellsOf(b ?? {})],
      [second, cellsOf(c ?? {})],
    ];
    const before = await countRegistry(t.ctx.db);
    // Before: "could not create unique index …_pkey", an internal error.
    const outcome = await runImport(file(await workbookXml([{ name: '登记表', xml: sheetXml(rows('3')) }])));
    assert.equal(outcome.status, 'rejected');
    assert.equal(
      outcome.message?.zh,
      '工作表“登记表”的第 3 行在文件中出现了两次：文件已损坏（多半是生成它的程序出了错），无法确定哪一行是对的。请在 Excel 或 WPS 中打开、核对该行并重新保存后导入',
    );
    assert.match(
      outcome.message?.en ?? '',
      /^row 3 of the worksheet "登记表" appears twice in the file: the file is damaged/,
    );
    assert.deepEqual(await countRegistry(t.ctx.db), before);

    // On a village's sheet after the first, in a dry run too.
    const [d, e] = family('R19-D2', SIZHAI, 10);
    const second = await workbookXml([
      { name: '南彰村', xml: sheetXml(rows('4')) },
      {
        name: '司寨村',
        xml: sheetXml([
          ['1', H],
          ['5', cellsOf(d ?? {})],
          ['5', cellsOf(e ?? {})],
        ]),
      },
    ]);
    const dry = await runImport(file(second), true);
    assert.equal(dry.status, 'rejected');
    assert.match(dry.message?.zh ?? '', /^工作表“司寨村”的第 5 行在文件中出现了两次/);
    assert.deepEqual(await countRegistry(t.ctx.db), before);

    // A row without r after r="3" is row 4: a later r="4" is the same row again.
    const implicit = await runImport(
      file(
        await workbookXml([
          {
            name: '登记表',
            xml: sheetXml([...rows('4').slice(0, 3), [null, cellsOf(c ?? {})], ['4', cellsOf(c ?? {})]]),
          },
        ]),
      ),
    );
    assert.match(implicit.message?.zh ?? '', /^工作表“登记表”的第 4 行在文件中出现了两次/);
  });

  test('a row number that is none (abc, 0, beyond Excel’s last row) is a damaged file too; rows out of order are still read', async () => {
    const [a, b] = family('R19-D3', NANZHANG, 11);
    for (const bad of ['abc', '0', '-2', '2.5', '1048577']) {
      await assert.rejects(
        async () => {
          for await (const _ of readRows({
            buffer: await workbookXml([
              {
                name: '登记表',
                xml: sheetXml([
                  ['1', H],
                  [bad, cellsOf(a ?? {})],
                ]),
              },
            ]),
            filename: 'f.xlsx',
          }));
        },
        (error: unknown) => {
          assert.ok(error instanceof FileRejected, bad);
          assert.equal(error.reason, 'CORRUPT', bad);
          assert.equal(
            error.userMessage.zh,
            `工作表“登记表”中有一行的行号“${bad}”无效（行号应为 1 至 1048576 的整数）：文件已损坏，可能是生成它的程序出了错。请在 Excel 或 WPS 中打开并重新保存后导入`,
          );
          return true;
        },
      );
    }
    const outOfOrder = await runImport(
      file(
        await workbookXml([
          {
            name: '登记表',
            xml: sheetXml([
              ['1', H],
              ['3', cellsOf(b ?? {})],
              ['2', cellsOf(a ?? {})],
            ]),
          },
        ]),
      ),
    );
    assert.equal(outOfOrder.status, 'succeeded', JSON.stringify(outOfOrder.message));
    assert.deepEqual(outOfOrder.counts, { rows: 2, inserted: 2, updated: 0, unchanged: 0, errors: 0 });
  });

  test('through the API the upload is refused at once with the reason: no retries, no “请稍后重新上传”', async () => {
    const [a, b] = family('R19-D4', NANZHANG, 12);
    const content = Buffer.from(
      await workbookXml([
        {
          name: 'Sheet1',
          xml: sheetXml([
            ['1', H],
            ['2', cellsOf(a ?? {})],
            ['2', cellsOf(b ?? {})],
          ]),
        },
      ]),
    );
    const boundary = '----review19';
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="dup.xlsx"\r\nContent-Type: application/octet-stream\r\n\r\n`,
      ),
      content,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const headers = { authorization: `Bearer ${token}` };
    const posted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports?dryRun=true',
      headers: { ...headers, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    assert.equal(posted.statusCode, 202, posted.body);
    await t.ctx.jobs.drain();
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/v1/imports/${(posted.json() as { id: number }).id}`,
      headers: { ...headers, 'accept-language': 'zh-CN' },
    });
    const body = view.json() as { status: string; message: string | null };
    assert.equal(body.status, 'rejected', view.body);
    assert.match(body.message ?? '', /^工作表“Sheet1”的第 2 行在文件中出现了两次/);
  });
});
