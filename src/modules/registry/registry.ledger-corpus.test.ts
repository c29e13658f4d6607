// Child ledgers as counties really keep them (留守儿童台账): the survey form's two-row header with the
// person groups merged above their columns, siblings sharing their parents' cells merged down, other
// titles for the ID number column, padded names, a totals row and a child entered twice.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import iconv from 'iconv-lite';
import { makeIdNumber } from './registry.idnumber.ts';
import { loadCountyPlaces, parseLedgerFile } from './registry.ledger.ts';
import type { CountyPlaces, LedgerRow } from './registry.ledger.ts';
import { FileRejected, readRows } from './registry.reader.ts';
import { TODAY } from '../../../test/fixtures/registry/make-fixtures.ts';

const NANZHANG = '410225102200';
let places: CountyPlaces;
let dir = '';

before(async () => {
  places = await loadCountyPlaces('410225');
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-ledger-corpus-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function parse(file: string): Promise<LedgerRow[]> {
  const rows: LedgerRow[] = [];
  for await (const row of parseLedgerFile(file, { today: TODAY, places })) rows.push(row);
  return rows;
}

const csvLine = (cells: readonly string[]) =>
  cells.map((c) => (/[",\r\n]/.test(c) ? `"${c.replace(/"/g, '""')}"` : c)).join(',');

const child1 = makeIdNumber('410225', '2015-03-04', 51);
const child2 = makeIdNumber('410225', '2018-07-08', 52);
const father = makeIdNumber('410225', '1984-01-02', 53);
const mother = makeIdNumber('410225', '1986-01-02', 54);
const carer = makeIdNumber('410225', '1955-01-02', 55);

/** The survey form: title, 填报单位/日期, a two-row header, two siblings whose family cells are merged. */
async function surveyForm(file: string): Promise<void> {
  const workbook = new ExcelJS.Workbook();
  const sheet = workbook.addWorksheet('留守儿童');
  sheet.addRow(['兰考县农村留守儿童基本情况登记表']);
  sheet.mergeCells('A1:T1');
  sheet.addRow([
    '填报单位：南彰镇',
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    null,
    '填报日期：2026年11月1日',
  ]);
  sheet.addRow([
    '序号', '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '就学情况',
    '父亲情况', null, null, null, '母亲情况', null, null, null, '委托监护人情况', null, null, null, '监护类型',
  ]); // prettier-ignore
  sheet.addRow([
    null, null, null, null, null, null, null, '姓名', '公民身份号码', '务工地点', '联系电话',
    '姓名', '身份证号码', '务工地点', '联系电话', '姓名', '联系电话', '身份证号', '与儿童关系', null,
  ]); // prettier-ignore
  for (const col of ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'T']) sheet.mergeCells(`${col}3:${col}4`);
  sheet.mergeCells('H3:K3');
  sheet.mergeCells('L3:O3');
  sheet.mergeCells('P3:S3');
  sheet.addRow([
    1, '李大宝', '男', '2015-03-04', child1, '南彰镇南彰村', '小学', '李建设', father, '广东省深圳市',
    '+86 138 1234 5678', '张红', mother, '浙江省杭州市', '13912345678', '李　爷爷', '137 1234 5678', carer,
    '祖父', '监护情况一般',
  ]); // prettier-ignore
  sheet.addRow([
    2,
    '李小宝',
    '女',
    '2018-07-08',
    child2,
    null,
    '幼儿园',
    ...Array<null>(12).fill(null),
    '监护情况一般',
  ]);
  for (const col of ['F', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'Q', 'R', 'S'])
    sheet.mergeCells(`${col}5:${col}6`);
  sheet.addRow(['合计', '2人']);
  sheet.addRow(['填表人：张三', null, null, null, '审核人：李四']);
  workbook.addWorksheet('说明').addRow(['第二张表不导入']);
  await workbook.xlsx.writeFile(file);
}

describe('the survey form as counties fill it in', () => {
  test('the two-row header names each person’s columns; merged family cells serve both siblings', async () => {
    const file = path.join(dir, 'survey.xlsx');
    await surveyForm(file);
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.name, r.child.idNumber, r.addresses.hukouRegionCode, r.errors]),
      [
        [5, '李大宝', child1, NANZHANG, []],
        [6, '李小宝', child2, NANZHANG, []],
      ],
    );
    for (const r of rows) {
      assert.deepEqual(
        [r.father?.name, r.father?.idNumber, r.father?.workplace, r.father?.phone],
        ['李建设', father, '广东省深圳市', '13812345678'],
      );
      assert.deepEqual(
        [r.mother?.name, r.mother?.idNumber, r.mother?.phone],
        ['张红', mother, '13912345678'],
      );
      assert.deepEqual(
        [r.carer?.name, r.carer?.idNumber, r.carer?.phone, r.carer?.relationToChild],
        ['李爷爷', carer, '13712345678', '祖父'],
      );
      assert.equal(r.ledgerDate, '2026-11-01');
    }
  });

  test('a CSV with the person groups written once above their labels', async () => {
    const file = path.join(dir, 'two-row.csv');
    const text = [
      csvLine(['', '儿童基本情况', '', '', '', '父亲情况', '', '', '母亲情况', '', '']),
      csvLine(['序号', '姓名', '出生日期', '身份证号码', '户籍所在地', '姓名', '身份证号码', '务工地点', '姓名', '出生日期', '务工地点']),
      csvLine(['1', '李大宝', '2015-03-04', child1, '南彰镇南彰村', '李建设', father, '广东省深圳市', '张红', '1986-01-02', '浙江省杭州市']),
    ].join('\r\n'); // prettier-ignore
    fs.writeFileSync(file, text);
    const [row, ...rest] = await parse(file);
    assert.equal(rest.length, 0);
    assert.deepEqual(row?.errors, []);
    assert.deepEqual(
      [row?.child.name, row?.child.idNumber, row?.father?.name, row?.father?.idNumber, row?.mother?.name],
      ['李大宝', child1, '李建设', father, '张红'],
    );
    assert.deepEqual([row?.mother?.birthDate, row?.mother?.workplace], ['1986-01-02', '浙江省杭州市']);
  });

  test('labels repeated with no group to tell whose they are refuse the file', async () => {
    const file = path.join(dir, 'ambiguous.csv');
    fs.writeFileSync(
      file,
      [
        csvLine(['姓名', '公民身份号码', '户籍所在地', '姓名', '公民身份号码']),
        csvLine(['李大宝', child1, '南彰镇南彰村', '李建设', father]),
      ].join('\r\n'),
    );
    await assert.rejects(parse(file), (error: unknown) => {
      assert.ok(error instanceof FileRejected);
      assert.equal(error.reason, 'DUPLICATE_HEADERS');
      assert.match(error.userMessage.zh, /姓名、公民身份号码/);
      return true;
    });
  });
});

describe('a GBK ledger with one header row', () => {
  test('身份证号码 titles, padded names, a child entered twice, totals and signatures', async () => {
    const headers = [
      '序号', '姓名', '性别', '出生日期', '身份证号码', '户籍所在地', '父亲姓名', '父亲身份证号码', '父亲务工地点',
      '母亲姓名', '母亲身份证号', '委托监护人姓名', '委托监护人联系电话',
    ]; // prettier-ignore
    const text = [
      '兰考县农村留守儿童基本情况登记表',
      csvLine(['填报单位：南彰镇', '', '', '填报日期：2026年11月1日']),
      csvLine(headers),
      csvLine(['1', '李　大宝', '男', '2015.3.4', child1, '南彰镇南彰村', '李建设', father, '广东省深圳市', '张红', mother, '李爷爷', '137 1234 5678']),
      csvLine(['2', '李大宝', '男', '2015年3月4日', `${child1.slice(0, 6)} ${child1.slice(6)}`, '南彰镇南彰村', '李建设', '', '广东省深圳市', '', '', '', '']),
      csvLine(['合计', '2人']),
      csvLine(['', '填表人：张三', '', '审核人：李四']),
    ].join('\r\n') + '\r\n'; // prettier-ignore
    const file = path.join(dir, 'gbk.csv');
    fs.writeFileSync(file, iconv.encode(text, 'gbk'));
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => r.rowNumber),
      [4, 5],
    );
    const [first, second] = rows as [LedgerRow, LedgerRow];
    assert.deepEqual(first.errors, []);
    assert.deepEqual(
      [
        first.child.name,
        first.child.idNumber,
        first.father?.idNumber,
        first.mother?.idNumber,
        first.carer?.phone,
      ],
      ['李大宝', child1, father, mother, '13712345678'],
    );
    assert.deepEqual(
      second.errors.map((e) => [e.column, e.reason.zh]),
      [['公民身份号码', '公民身份号码与第 4 行重复：同一儿童在台账中只能出现一次']],
    );
  });
});

describe('readRows with merged cells allowed', () => {
  test('each cell of a merged range reads the range’s value; the template still refuses merges', async () => {
    const file = path.join(dir, 'merged.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Sheet1');
    sheet.addRow(['a', 'b', 'c']);
    sheet.addRow(['x', 'y', null]);
    sheet.addRow([null, null, 'z']);
    sheet.mergeCells('A2:A3');
    sheet.mergeCells('B2:C2');
    await workbook.xlsx.writeFile(file);
    const rows: unknown[][] = [];
    for await (const r of readRows(file, { allowMerges: true })) rows.push(r.values);
    assert.deepEqual(rows, [
      ['a', 'b', 'c'],
      ['x', 'y', 'y'],
      ['x', null, 'z'],
    ]);
    await assert.rejects(
      (async () => {
        for await (const r of readRows(file)) void r;
      })(),
      (error: unknown) => error instanceof FileRejected && error.reason === 'MERGED_CELLS',
    );
  });
});
