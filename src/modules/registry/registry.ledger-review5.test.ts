// Child ledger import, review 5: what township ledgers typed in Excel/WPS hold that reviews 1-4 did not.
// 出生年月 columns with 2015.3 (text, or the number Excel makes of it), 2015年3月, 201503; 公民身份证号码,
// 联系方式 and (父亲)姓名 as titles; a parent's 务工地点 that gives the parent's state (服刑, 离异, 在家务工);
// yes/no as ● ☑ ✔️; phones with whose they are (13812345678(父亲)); 监护人 columns for the carer, and a
// parent named there; a workbook with a summary sheet and one sheet per village. Runs on PGlite, or
// PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
const NANZHANG = '410225102200'; // 南彰镇 南彰村
const SIZHAI = '410225102201'; // 南彰镇 司寨村

const { scratch, fileOf, parse } = lankaoLedgerFiles('shouhu-ledger-review5-', TODAY);

const child1 = makeIdNumber(LANKAO, '2015-03-01', 11);
const child2 = makeIdNumber(LANKAO, '2016-10-02', 12);
const child3 = makeIdNumber(LANKAO, '2017-05-03', 15);
const father1 = makeIdNumber(LANKAO, '1988-02-03', 13);

describe('出生年月: a birth date to the month', () => {
  test('2015.3 as text or as a number, 2015年3月 and 201503 are the ID number’s date; another month is a row error; no day without an ID number is an error for the child only; a number 1960 is a year, never a day of 1905', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow([
        '姓名', '出生年月', '公民身份证号码', '户籍所在地', '父亲姓名', '父亲出生年月', '父亲公民身份号码',
        '母亲姓名', '母亲出生年月', '祖父姓名', '祖父出生年月',
      ]); // prettier-ignore
      sheet.addRow([
        '甲',
        2015.3,
        child1,
        '南彰镇南彰村',
        '张大明',
        '1988年2月',
        father1,
        '李红',
        1990.6,
        '张老汉',
        1960,
      ]);
      sheet.addRow(['乙', 2016.1, child2, '南彰镇南彰村', null, null, null, null, null, null, null]);
      sheet.addRow(['丙', '201705', child3, '南彰镇南彰村', null, null, null, null, null, null, null]);
      sheet.addRow(['丁', '2015.4', makeIdNumber(LANKAO, '2015-05-09', 17), '南彰镇南彰村']);
      sheet.addRow(['戊', '2015年3月', null, '南彰镇南彰村']);
    });
    const rows = await parse(fileOf('months.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [r.child.name, r.child.birthDate]),
      [
        ['甲', '2015-03-01'],
        ['乙', '2016-10-02'],
        ['丙', '2017-05-03'],
        ['丁', '2015-05-09'],
        ['戊', null],
      ],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.equal(rows[0]?.father?.birthDate, '1988-02-03');
    // The mother and the grandfather have no ID number: the day is not guessed, nor 1905 read.
    assert.equal(rows[0]?.mother?.name, '李红');
    assert.equal(rows[0]?.mother?.birthDate, null);
    assert.deepEqual(
      rows[0]?.grandparents.map((g) => [g.name, g.birthDate]),
      [['张老汉', null]],
    );
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.deepEqual(errorsOf(rows[2]), []);
    assert.deepEqual(errorsOf(rows[3]), [
      ['出生日期', '2015.4', '出生日期“2015.4”与公民身份号码不一致（号码为 2015-05-09）'],
    ]);
    assert.deepEqual(errorsOf(rows[4]), [
      [
        '出生日期',
        '2015年3月',
        '出生日期“2015年3月”只写到年月（或年），没有公民身份号码时须写明年月日（如 2015-03-01）',
      ],
    ]);
  });
});

describe('columns and cells as township clerks type them', () => {
  test('公民身份证号码, 联系方式, (父亲)姓名 and 监护人 columns are the form’s; yes/no as ● ☑ ✔️; a phone with whose it is', async () => {
    const file = fileOf(
      'titles.csv',
      csvOf([
        ['姓名', '公民身份证号码', '户籍所在地', '（父亲）姓名', '父亲联系方式', '母亲姓名', '母亲联系方式', '监护人姓名', '与儿童关系', '监护人联系方式', '父母双方同时外出', '是否学校寄宿', '有无委托监护人'],
        ['甲', child1, '南彰镇南彰村3组', '张大明', '13812345678（父亲）', '李红', '0371—12345678', '张老汉', '爷爷', '手机：13700000000', '●', '☑', '✔️'],
        ['乙', child2, '南彰镇南彰村', '王强', '父13812345678 母13912345678', '赵丽', '13812345678、不详', '王老太、王老汉', '祖父母', '', '□', '', ''],
      ]), // prettier-ignore
    );
    const rows = await parse(file);
    assert.equal(rows[0]?.father?.name, '张大明');
    assert.equal(rows[0]?.father?.phone, '13812345678');
    assert.equal(rows[0]?.mother?.phone, '0371-12345678');
    assert.deepEqual(
      [rows[0]?.carer?.name, rows[0]?.carer?.relationToChild, rows[0]?.carer?.phone],
      ['张老汉', '爷爷', '13700000000'],
    );
    assert.deepEqual(
      [rows[0]?.declared.bothParentsOut, rows[0]?.child.boarding, rows[0]?.declared.hasEntrustedCarer],
      [true, true, true],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.equal(rows[1]?.father?.phone, '13812345678');
    // Two carers in one cell: the form holds one, the first named.
    assert.equal(rows[1]?.carer?.name, '王老太');
    assert.deepEqual(
      errorsOf(rows[1])?.map((e) => [e[0], e[1]]),
      [
        ['母亲联系电话', '13812345678、不详'],
        ['父母双方同时外出', '□'],
      ],
    );
  });

  test('a parent named as the 监护人 is no entrusted carer: the parent’s columns are filled from it when empty; another name is a row error', async () => {
    const file = fileOf(
      'guardian-parent.csv',
      csvOf([
        ['姓名', '公民身份号码', '户籍所在地', '父亲姓名', '母亲姓名', '母亲务工地点', '监护人', '监护人与儿童关系', '监护人电话'],
        ['甲', child1, '南彰镇南彰村', '张大明', '李红', '广东东莞', '张大明', '父子', '13812345678'],
        ['乙', child2, '南彰镇南彰村', '', '赵丽', '浙江义乌', '王强', '父亲', '13912345678'],
        ['丙', child3, '南彰镇南彰村', '刘军', '', '', '孙某', '父亲', ''],
      ]), // prettier-ignore
    );
    const rows = await parse(file);
    assert.equal(rows[0]?.carer, null);
    assert.equal(rows[0]?.father?.name, '张大明');
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.equal(rows[1]?.carer, null);
    assert.deepEqual([rows[1]?.father?.name, rows[1]?.father?.phone], ['王强', '13912345678']);
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.deepEqual(
      errorsOf(rows[2])?.map((e) => e[0]),
      ['委托监护人与儿童关系'],
    );
  });

  test('a 务工地点 giving the parent’s state (服刑, 离异, 已去世, 在家务工, 重残) records no migration; 外出务工(省外) and 乡内 are read as before/within', async () => {
    const headers = ['姓名', '公民身份号码', '户籍所在地', '父亲姓名', '父亲务工地点'];
    const cases: [string, string | null][] = [
      ['服刑', null],
      ['监狱服刑', null],
      ['离异', null],
      ['改嫁', null],
      ['已去世', null],
      ['死亡（2018年）', null],
      ['失联', null],
      ['下落不明', null],
      ['重残', null],
      ['在家务工', null],
      ['务农（在家）', null],
      ['乡内', null],
      ['外出务工（省外）', '外出务工(省外)'],
      ['广东省深圳市', '广东省深圳市'],
    ];
    const file = fileOf(
      'states.csv',
      csvOf([
        headers,
        ...cases.map(([w], i) => [
          `儿${i}`,
          makeIdNumber(LANKAO, '2015-03-01', 21 + 2 * i),
          '南彰镇南彰村',
          '张大明',
          w,
        ]),
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.raw['父亲务工地点'], r.father?.workplace ?? null]),
      cases,
    );
    for (const r of rows) assert.deepEqual(errorsOf(r), []);
  });
});

describe('a workbook with a summary sheet and one sheet per village (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  test('every village’s sheet is read; the summary is passed over; errors and duplicates name their sheet; a re-import changes nothing', async () => {
    const header = [
      '序号',
      '姓名',
      '出生年月',
      '身份证号码',
      '户籍所在地',
      '父亲姓名',
      '父亲务工地点',
      '母亲姓名',
      '母亲务工地点',
    ];
    const content = await xlsx((wb) => {
      const summary = wb.addWorksheet('汇总');
      summary.addRow(['南彰镇农村留守儿童汇总表']);
      summary.addRow(['村名', '留守儿童人数']);
      summary.addRow(['南彰村', 1]);
      summary.addRow(['司寨村', 2]);
      const nanzhang = wb.addWorksheet('南彰村');
      nanzhang.addRow(['南彰镇南彰村农村留守儿童台账']);
      nanzhang.addRow(['填报日期：2026年11月1日']);
      nanzhang.addRow(header);
      nanzhang.addRow([
        1,
        '张小明',
        2015.3,
        child1,
        '南彰镇南彰村3组',
        '张大明',
        '广东深圳',
        '李红',
        '浙江宁波',
      ]);
      nanzhang.addRow(['合计', '1人']);
      const sizhai = wb.addWorksheet('司寨村');
      sizhai.addRow(header);
      sizhai.addRow([1, '王小红', '2016.10', child2, '南彰镇司寨村', '王强', '北京', '赵丽', '上海']);
      sizhai.addRow([
        2,
        '张小明',
        '2015.3',
        child1,
        '南彰镇司寨村',
        '张大明',
        '广东深圳',
        '李红',
        '浙江宁波',
      ]);
      sizhai.addRow([3, '刘某', '2017.5', child3, '南彰镇无此村', '刘军', '江苏', '孙丽', '江苏']);
    });
    const file = fileOf('villages.xlsx', content);
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.deepEqual(outcome.counts, { rows: 4, inserted: 2, updated: 0, unchanged: 0, errors: 2 });
    const children = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'hukou_region_code', 'birth_date'])
      .where('id_number', 'in', [child1, child2, child3])
      .orderBy('name')
      .execute();
    assert.deepEqual(
      children.map((c) => [c.name, c.hukou_region_code, String(c.birth_date).slice(0, 10)]),
      [
        ['张小明', NANZHANG, '2015-03-01'],
        ['王小红', SIZHAI, '2016-10-02'],
      ],
    );
    const check = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY, dryRun: true });
    assert.deepEqual(check.counts, { rows: 4, inserted: 0, updated: 0, unchanged: 2, errors: 2 });
    const again = await importLedgerFile(t.ctx.db, file, lankao, {
      today: TODAY,
      errorReportBase: scratch.path('villages-errors'),
    });
    assert.deepEqual(again.counts, { rows: 4, inserted: 0, updated: 0, unchanged: 2, errors: 2 });
    assert.ok(again.errorReport);
    const report = fs.readFileSync(again.errorReport.csv, 'utf8');
    assert.match(report, /工作表“司寨村”：公民身份号码与工作表“南彰村”第 4 行重复/);
    assert.match(report, /工作表“司寨村”：地址“南彰镇无此村”在本县找不到对应的村/);
  });

  test('the error rows of a several-sheet workbook say which sheet', async () => {
    const header = ['姓名', '公民身份号码', '户籍所在地'];
    const content = await xlsx((wb) => {
      wb.addWorksheet('南彰村').addRow(header).worksheet.addRow(['甲', child1, '南彰镇南彰村']);
      wb.addWorksheet('司寨村').addRow(header).worksheet.addRow(['甲', child1, '南彰镇司寨村']);
    });
    const rows = await parse(fileOf('dup.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [r.sheet, r.rowNumber]),
      [
        ['南彰村', 2],
        ['司寨村', 2],
      ],
    );
    assert.deepEqual(errorsOf(rows[1]), [
      ['公民身份号码', child1, '公民身份号码与工作表“南彰村”第 2 行重复：同一儿童在台账中只能出现一次'],
    ]);
  });
});
