// Child ledger and template files, review 6: what real county files hold that reviews 1-5 did not.
// A two-row header with columns the form lacks under the parents (外出时间, 文化程度); a CSV whose title
// line was saved without trailing delimiters (semicolon or tab files); a household number column
// formatted 000000 in Excel. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { parseRegistryFile, type ParsedRow } from './registry.parse.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
const NANZHANG = '410225102200'; // 南彰镇 南彰村

const { scratch, fileOf, parse, headersOf } = lankaoLedgerFiles('shouhu-ledger-review6-', TODAY);

const child1 = makeIdNumber(LANKAO, '2015-03-01', 11);
const child2 = makeIdNumber(LANKAO, '2016-10-02', 12);
const father1 = makeIdNumber(LANKAO, '1988-02-03', 13);
const mother1 = makeIdNumber(LANKAO, '1990-06-04', 14);

/** The survey form's two header rows with 外出时间 under each parent, the child's columns merged down. */
const twoRowHeader = (sheet: ExcelJS.Worksheet, merged: boolean) => {
  sheet.addRow([
    '序号',
    '姓名',
    '性别',
    '身份证号码',
    '户籍所在地',
    '父亲情况',
    '',
    '',
    '',
    '母亲情况',
    '',
    '',
    '',
  ]);
  sheet.addRow(['', '', '', '', '', '姓名', '身份证号码', '务工地点', '外出时间', '姓名', '身份证号码', '务工地点', '外出时间']); // prettier-ignore
  if (merged) {
    for (const c of ['A', 'B', 'C', 'D', 'E']) sheet.mergeCells(`${c}1:${c}2`);
    sheet.mergeCells('F1:I1');
    sheet.mergeCells('J1:M1');
  }
};
const twoRowData = [1, '张小明', '男', child1, '南彰镇南彰村', '张大明', father1, '广东省东莞市', '2020年3月', '李红', mother1, '浙江省宁波市', '2021.5']; // prettier-ignore

describe('a two-row header with columns the form lacks under the parents', () => {
  for (const merged of [true, false]) {
    test(`外出时间 under 父亲情况/母亲情况 (${merged ? 'child’s columns merged down both rows' : 'no merges'}): the parents are read, the labels are no child, the extra columns are reported`, async () => {
      const content = await xlsx((wb) => {
        const sheet = wb.addWorksheet('Sheet1');
        twoRowHeader(sheet, merged);
        sheet.addRow(twoRowData);
      });
      const file = fileOf(`two-row-${merged}.xlsx`, content);
      const rows = await parse(file);
      // Before: the label row was read as a child named 姓名 (with merges), and the parents' columns
      // were the unknown columns 父亲情况 and 母亲情况, their cells dropped.
      assert.deepEqual(
        rows.map((r) => [r.rowNumber, r.child.name]),
        [[3, '张小明']],
      );
      assert.deepEqual(errorsOf(rows[0]), []);
      assert.deepEqual(
        [rows[0]?.father?.name, rows[0]?.father?.idNumber, rows[0]?.father?.workplace],
        ['张大明', father1, '广东省东莞市'],
      );
      assert.deepEqual(
        [rows[0]?.mother?.name, rows[0]?.mother?.idNumber, rows[0]?.mother?.workplace],
        ['李红', mother1, '浙江省宁波市'],
      );
      const headers = await headersOf(file);
      assert.ok(headers.includes('父亲外出时间') && headers.includes('母亲外出时间'), headers.join('|'));
      assert.ok(!headers.includes('父亲情况'), headers.join('|'));
    });
  }

  test('a group row above the column row whose labels do not repeat (儿童姓名 … under 儿童基本情况, 姓名 … under 父亲情况): the father’s columns', async () => {
    const file = fileOf(
      'group-above.csv',
      csvOf([
        ['儿童基本情况', '', '', '父亲情况', '', '', ''],
        ['儿童姓名', '儿童身份证号', '户籍所在地', '姓名', '身份证号码', '务工地点', '文化程度'],
        ['张小明', child1, '南彰镇南彰村', '张大明', father1, '广东深圳', '初中'],
      ]),
    );
    // Before: the lower row alone was the column row, with 姓名 and 公民身份号码 twice: refused whole.
    const rows = await parse(file);
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(
      [rows[0]?.child.name, rows[0]?.father?.name, rows[0]?.father?.idNumber, rows[0]?.father?.workplace],
      ['张小明', '张大明', father1, '广东深圳'],
    );
    assert.deepEqual(await headersOf(file), [
      '姓名',
      '公民身份号码',
      '户籍所在地',
      '父亲姓名',
      '父亲公民身份号码',
      '父亲务工地点',
      '父亲文化程度',
    ]);
  });

  test('a first data row without digits under a one-row header is still a child, not a header', async () => {
    const file = fileOf(
      'no-digits.csv',
      csvOf([
        ['姓名', '出生日期', '户籍所在地', '父亲姓名', '父亲务工地点'],
        ['张小明', '', '南彰镇南彰村', '张大明', '外地'],
        ['王小红', '2016-10-02', '南彰镇南彰村', '王强', '北京'],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => r.child.name),
      ['张小明', '王小红'],
    );
  });
});

describe('a CSV whose title line has no delimiter', () => {
  const lines = (sep: string) =>
    [
      '兰考县南彰镇农村留守儿童信息台账',
      `填报单位：南彰镇${sep}${sep}填报日期：2026年11月1日`,
      ['序号', '姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲务工地点'].join(sep),
      ['1', '阿卜杜·热合曼', child1, '南彰镇南彰村', '𬌗大明', '广东深圳'].join(sep),
    ].join('\r\n') + '\r\n';

  for (const [name, sep] of [
    ['semicolons', ';'],
    ['tabs', '\t'],
  ] as const) {
    test(`${name}: the delimiter is the column row’s, not a comma guessed from the title (GB18030)`, async () => {
      const rows = await parse(fileOf(`title-${name}.csv`, iconv.encode(lines(sep), 'gb18030')));
      // Before: every line read as one column and the file was refused, "no column row in the first 20 rows".
      assert.deepEqual(
        rows.map((r) => [r.rowNumber, r.child.name, r.child.idNumber, r.father?.name, r.father?.workplace]),
        [[4, '阿卜杜·热合曼', child1, '𬌗大明', '广东深圳']],
      );
      assert.deepEqual(errorsOf(rows[0]), []);
    });
  }
});

describe('a household number column formatted 000000 in Excel', () => {
  const H = ['户编号', '姓名', '公民身份号码', '与户主关系', '户籍地代码'];
  const options = { regionExists: (code: string) => code === NANZHANG, today: TODAY };

  async function parsedTemplate(buffer: Buffer): Promise<ParsedRow[]> {
    const rows: ParsedRow[] = [];
    for await (const row of parseRegistryFile({ buffer, filename: 'padded.xlsx' }, options)) rows.push(row);
    return rows;
  }

  test('the number 1001 shown as 001001 is the household 001001; an ID number in a 0 format is still refused as a number', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(H);
      sheet.addRow([1001, '王一', child1, '户主', NANZHANG]);
      sheet.addRow([1002, '王二', Number(child2.slice(0, 15) + '000'), '户主', NANZHANG]);
      sheet.getColumn(1).numFmt = '000000';
      sheet.getColumn(3).numFmt = '0';
    });
    const rows = await parsedTemplate(content);
    // Before: 1001, while Excel shows 001001 and a file typed as text names the household 001001.
    assert.deepEqual(
      rows.map((r) => r.record?.householdNo ?? r.errors.map((e) => e.column).join()),
      ['001001', '公民身份号码'],
    );
    assert.match(rows[1]?.errors[0]?.reason.zh ?? '', /数字|丢失/);
  });
});

describe('a village code Excel saved in scientific notation', () => {
  test('4.10225E+11 in 户籍地代码 of a CSV says Excel lost the digits, not only that 12 digits are needed', async () => {
    const text = [
      '户编号,姓名,公民身份号码,与户主关系,户籍地代码',
      `H1,王一,${child1},户主,4.10225E+11`,
    ].join('\r\n');
    const rows: ParsedRow[] = [];
    for await (const row of parseRegistryFile(
      { buffer: Buffer.from(text, 'utf8'), filename: 'codes.csv' },
      { regionExists: (code: string) => code === NANZHANG, today: TODAY },
    ))
      rows.push(row);
    assert.deepEqual(
      rows[0]?.errors.map((e) => [e.column, e.value]),
      [['户籍地代码', '4.10225E+11']],
    );
    assert.match(rows[0]?.errors[0]?.reason.zh ?? '', /科学计数法，后几位已经丢失/);
    assert.match(rows[0]?.errors[0]?.reason.en ?? '', /scientific notation/);
  });
});

describe('importing a ledger with a two-row header and 外出时间 (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  test('the parents are registered and linked, their migrations recorded; the same file again changes nothing', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      twoRowHeader(sheet, true);
      sheet.addRow(twoRowData);
    });
    const file = fileOf('two-row-import.xlsx', content);
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.equal(outcome.counts.errors, 0);
    assert.equal(outcome.counts.rows, 1);
    const child = await t.ctx.db
      .selectFrom('persons')
      .select(['id', 'hukou_region_code'])
      .where('id_number', '=', child1)
      .executeTakeFirstOrThrow();
    assert.equal(child.hukou_region_code, NANZHANG);
    const parents = await t.ctx.db
      .selectFrom('person_relations as r')
      .innerJoin('persons as p', 'p.id', 'r.related_person_id')
      .select(['p.id', 'p.id_number'])
      .where('r.person_id', '=', child.id)
      .where('r.kind', '=', 'parent')
      .orderBy('p.id_number')
      .execute();
    assert.deepEqual(
      parents.map((p) => p.id_number),
      [father1, mother1].sort(),
    );
    const migrations = await t.ctx.db
      .selectFrom('person_facts')
      .select(['person_id'])
      .where('kind', '=', 'migration')
      .where(
        'person_id',
        'in',
        parents.map((p) => p.id),
      )
      .execute();
    assert.equal(migrations.length, 2);
    const again = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.deepEqual(again.counts, { ...outcome.counts, inserted: 0, updated: 0, unchanged: 1 });
  });
});
