// Child ledger import, review 7: when each parent went away (父亲外出时间, 母亲外出时间, 外出务工时间,
// 外出年月 ...). Before, such a column was unknown and the migration started on the ledger's date
// (填报日期), so a parent away since 2019 looked like one who left last month: the groups that need 6
// months (left-behind elderly, left-behind woman) and the reasons were wrong. Now the ledger reads the
// date or the month (its first day), checks it, and the migration starts then; the registry template's
// 外出开始日期 takes the same month forms through the same parser. Runs on PGlite, or PostgreSQL with
// TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { addDays, addMonths, today, type IsoDate } from '../../platform/dates.ts';
import { excelSerialToDate } from '../../platform/normalize.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { unknownLedgerHeaders } from './registry.ledger.ts';
import { TEMPLATE_HEADERS, recordToRow, rowToRecord } from './registry.template.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
const NANZHANG = '410225102200'; // 南彰镇 南彰村

const { scratch, fileOf, parse, headersOf } = lankaoLedgerFiles('shouhu-ledger-migration-start-', TODAY);

const FATHER_BORN = '1988-02-03';
const father1 = makeIdNumber(LANKAO, FATHER_BORN, 13);
const mother1 = makeIdNumber(LANKAO, '1990-06-04', 14);
const childId = (i: number) => makeIdNumber(LANKAO, '2015-03-01', 100 + 2 * i + 1);

const HEADERS = [
  '姓名',
  '身份证号码',
  '户籍所在地',
  '父亲姓名',
  '父亲身份证号码',
  '父亲务工地点',
  '父亲外出时间',
];

/** A workbook of one child per value of 父亲外出时间 (kept as the cell's type: text, number, date). */
async function fatherStarts(values: readonly unknown[], workplace = '广东省东莞市'): Promise<string> {
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('Sheet1');
    sheet.addRow(HEADERS);
    values.forEach((v, i) =>
      sheet.addRow([
        `张小${i}`,
        childId(i),
        '南彰镇南彰村',
        '张大明',
        father1,
        workplace,
        v as ExcelJS.CellValue,
      ]),
    );
  });
  return fileOf(`starts-${values.length}-${Math.random().toString(36).slice(2)}.xlsx`, content);
}

describe('the columns that say when a parent went away', () => {
  test('父亲外出时间, 母亲外出务工时间, 父亲外出年月, 父亲外出务工开始时间 and 外出时间 under 父亲情况 are read; the carer’s, a grandparent’s and 外出年限 stay unknown', async () => {
    const flat = fileOf(
      'flat.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲务工地点', '父亲外出年月', '母亲姓名', '母亲务工地点', '母亲外出务工时间', '委托监护人姓名', '委托监护人外出时间', '祖父姓名', '祖父外出时间', '外出年限'], // prettier-ignore
        ['张小明', childId(0), '南彰镇南彰村', '张大明', '广东省东莞市', '2019年3月', '李红', '浙江省宁波市', '2021.5', '张奶奶', '2018年1月', '张爷爷', '2000年', '3年'], // prettier-ignore
      ]),
    );
    const headers = await headersOf(flat);
    assert.ok(headers.includes('父亲外出时间') && headers.includes('母亲外出时间'), headers.join('|'));
    assert.deepEqual(unknownLedgerHeaders(headers), ['委托监护人外出时间', '祖父外出时间', '外出年限']);
    const [row] = await parse(flat);
    assert.deepEqual(errorsOf(row), []);
    assert.deepEqual(
      [row?.father?.migrationSince, row?.father?.migrationSinceMonth],
      ['2019-03-01', '2019-03'],
    );
    assert.deepEqual(
      [row?.mother?.migrationSince, row?.mother?.migrationSinceMonth],
      ['2021-05-01', '2021-05'],
    );

    const other = fileOf(
      'other-titles.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲务工地点', '父亲外出务工开始时间', '母亲姓名', '母亲务工地点', '母亲外出日期'], // prettier-ignore
        ['张小明', childId(0), '南彰镇南彰村', '张大明', '广东省东莞市', '2019-03-15', '李红', '浙江省宁波市', '2020年7月'], // prettier-ignore
      ]),
    );
    assert.deepEqual(unknownLedgerHeaders(await headersOf(other)), []);
    const [r2] = await parse(other);
    assert.deepEqual(
      [r2?.father?.migrationSince, r2?.father?.migrationSinceMonth ?? null, r2?.mother?.migrationSince],
      ['2019-03-15', null, '2020-07-01'],
    );

    // 外出时间 under 父亲情况 and 外出务工时间 under 母亲情况 (review 6 named them, and reported them unknown).
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['姓名', '身份证号码', '户籍所在地', '父亲情况', '', '', '母亲情况', '', '']);
      sheet.addRow(['', '', '', '姓名', '务工地点', '外出时间', '姓名', '务工地点', '外出务工时间']);
      for (const c of ['A', 'B', 'C']) sheet.mergeCells(`${c}1:${c}2`);
      sheet.mergeCells('D1:F1');
      sheet.mergeCells('G1:I1');
      sheet.addRow(['张小明', childId(0), '南彰镇南彰村', '张大明', '广东省东莞市', '2020年3月', '李红', '浙江省宁波市', '2021.5']); // prettier-ignore
    });
    const twoRows = fileOf('two-rows.xlsx', content);
    assert.deepEqual(unknownLedgerHeaders(await headersOf(twoRows)), []);
    const [r3] = await parse(twoRows);
    assert.deepEqual(errorsOf(r3), []);
    assert.deepEqual([r3?.father?.migrationSince, r3?.mother?.migrationSince], ['2020-03-01', '2021-05-01']);
  });

  test('a month in any of the clerks’ forms reads as its first day, a date as that day; an empty cell keeps the ledger’s date', async () => {
    const accepted: [unknown, IsoDate | null, string | null][] = [
      ['2019年3月', '2019-03-01', '2019-03'],
      ['2019年03月', '2019-03-01', '2019-03'],
      ['2019年3月份', '2019-03-01', '2019-03'],
      ['2019-03', '2019-03-01', '2019-03'],
      ['2019/3', '2019-03-01', '2019-03'],
      ['2019.3', '2019-03-01', '2019-03'],
      ['2019.10', '2019-10-01', '2019-10'],
      // Excel made 2019.3 typed into a cell the number 2019.3: March, never the serial day of 1905.
      [2019.3, '2019-03-01', '2019-03'],
      [2019.11, '2019-11-01', '2019-11'],
      ['201903', '2019-03-01', '2019-03'],
      [201903, '2019-03-01', '2019-03'],
      ['2019-03-15', '2019-03-15', null],
      ['2019年3月15日', '2019-03-15', null],
      ['2019/3/15', '2019-03-15', null],
      ['20190315', '2019-03-15', null],
      [20190315, '2019-03-15', null],
      [new Date(Date.UTC(2019, 2, 15)), '2019-03-15', null],
      [43539, excelSerialToDate(43539), null],
      ['', null, null],
      ['无', null, null],
      ['—', null, null],
    ];
    assert.equal(excelSerialToDate(43539), '2019-03-15');
    const rows = await parse(await fatherStarts(accepted.map(([v]) => v)));
    assert.equal(rows.length, accepted.length);
    accepted.forEach(([value, date, month], i) => {
      const row = rows[i];
      assert.deepEqual(errorsOf(row), [], String(value));
      assert.deepEqual(
        [
          row?.father?.migrationSince ?? null,
          row?.father?.migrationSinceMonth ?? null,
          row?.father?.workplace,
        ],
        [date, month, '广东省东莞市'],
        String(value),
      );
    });
  });

  test('a year alone, a time away, 2019.1 as a number, a month that does not exist and an unknown form are row errors naming 父亲外出时间', async () => {
    const refused: [unknown, RegExp, RegExp][] = [
      ['2019', /只写到年/, /the year only/],
      [2019, /只写到年/, /the year only/],
      ['2019年', /只写到年/, /the year only/],
      [2019.1, /2019年1月，也可能是 2019年10月/, /January or October 2019/],
      ['3年', /是外出了多久，不是从何时外出/, /how long, not since when/],
      ['半年', /是外出了多久/, /how long/],
      ['8个月', /是外出了多久/, /how long/],
      ['2019.13', /月份 13 不存在/, /no month 13/],
      ['2019-02-30', /不是日历上存在的日期/, /not a calendar date/],
      ['19年3月', /无法识别的时间“19年3月”.*2019年3月/, /not a date or month in a recognised form/],
      ['2019年3月至今', /无法识别的时间/, /recognised form/],
    ];
    const rows = await parse(await fatherStarts(refused.map(([v]) => v)));
    refused.forEach(([value, zh, en], i) => {
      const errors = rows[i]?.errors ?? [];
      assert.equal(errors.length, 1, `${String(value)}: ${JSON.stringify(errors)}`);
      assert.equal(errors[0]?.column, '父亲外出时间');
      assert.match(errors[0]?.reason.zh ?? '', /^父亲外出时间：/);
      assert.match(errors[0]?.reason.zh ?? '', zh, String(value));
      assert.match(errors[0]?.reason.en ?? '', en, String(value));
      assert.equal(rows[i]?.father?.migrationSince, undefined);
    });
  });

  test('a start in the future, before the parent’s birth or before the parent turned 16 is a row error (a month compared as a month)', async () => {
    // The father was born on 1988-02-03 (his ID number), 16 on 2004-02-03; today is 2026-11-29.
    const cases: [string, IsoDate | null, RegExp | null, RegExp | null][] = [
      ['2026年11月', '2026-11-01', null, null],
      ['2026-11-29', '2026-11-29', null, null],
      ['2026年12月', null, /父亲外出时间 2026-12 晚于今天（2026-11-29）/, /in the future/],
      ['2026-11-30', null, /父亲外出时间 2026-11-30 晚于今天/, /in the future/],
      ['1987年5月', null, /父亲外出时间 1987-05 早于父亲的出生日期 1988-02-03/, /before the father's birth/],
      ['1988年2月', null, /时父亲未满16周岁（2004-02-03 满16周岁）/, /under 16/],
      ['2003年6月', null, /父亲外出时间 2003-06 时父亲未满16周岁/, /the father was under 16/],
      ['2004-02-02', null, /父亲外出时间 2004-02-02 时父亲未满16周岁/, /turned 16 on 2004-02-03/],
      ['2004-02-03', '2004-02-03', null, null],
      // He turned 16 within that month: the month is taken, read as its first day.
      ['2004年2月', '2004-02-01', null, null],
    ];
    const rows = await parse(await fatherStarts(cases.map(([v]) => v)));
    cases.forEach(([value, date, zh, en], i) => {
      const row = rows[i];
      if (zh === null || en === null) {
        assert.deepEqual(errorsOf(row), [], value);
        assert.equal(row?.father?.migrationSince, date, value);
        return;
      }
      assert.deepEqual(
        row?.errors.map((e) => e.column),
        ['父亲外出时间'],
        value,
      );
      assert.match(row?.errors[0]?.reason.zh ?? '', zh, value);
      assert.match(row?.errors[0]?.reason.en ?? '', en, value);
    });

    // The mother, given her birth date by 出生日期 and no ID number.
    const mother = fileOf(
      'mother-16.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '母亲姓名', '母亲出生日期', '母亲务工地点', '母亲外出时间'],
        ['张小明', childId(0), '南彰镇南彰村', '李红', '1995-08-20', '浙江省宁波市', '2011.7'],
        ['张小亮', childId(1), '南彰镇南彰村', '李红', '1995-08-20', '浙江省宁波市', '2011.8'],
      ]),
    );
    const [young, sixteen] = await parse(mother);
    assert.deepEqual(errorsOf(young), [
      ['母亲外出时间', '2011.7', '母亲外出时间 2011-07 时母亲未满16周岁（2011-08-20 满16周岁），请核对'],
    ]);
    assert.equal(
      young?.errors[0]?.reason.en,
      'the mother was under 16 at the migration start 2011-07 (turned 16 on 2011-08-20); check it',
    );
    // 2011.8 is the month she turned 16: taken, read as its first day.
    assert.deepEqual(errorsOf(sixteen), []);
    assert.equal(sixteen?.mother?.migrationSince, '2011-08-01');
  });

  test('a parent not away with 外出时间 filled: no work place is a row error; a work place at home or in the county records no migration and no error', async () => {
    const file = fileOf(
      'not-away.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲身份证号码', '父亲务工地点', '父亲外出时间', '父母双方同时外出'], // prettier-ignore
        ['张小一', childId(1), '南彰镇南彰村', '张大明', father1, '', '2019年3月', '是'],
        ['张小二', childId(2), '南彰镇南彰村', '张大明', father1, '在家', '2019年3月', '否'],
        ['张小三', childId(3), '南彰镇南彰村', '张大明', father1, '兰考县城', '2019年3月', '否'],
        ['张小四', childId(4), '南彰镇南彰村', '张大明', father1, '已去世', '2019年3月', '否'],
        ['张小五', childId(5), '南彰镇南彰村', '张大明', father1, '广东省东莞市', '2019年3月', '否'],
        ['张小六', childId(6), '南彰镇南彰村', '', '', '', '2019年3月', ''],
        ['张小七', childId(7), '南彰镇南彰村', '张大明', father1, '在家', '2030年1月', '否'],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(errorsOf(rows[0]), [
      [
        '父亲外出时间',
        '2019年3月',
        '填写了父亲外出时间，但未填写父亲务工地点：请填写外出务工的地点，或删去外出时间',
      ],
    ]);
    assert.equal(
      rows[0]?.errors[0]?.reason.en,
      'a migration start is given for the father but no work place (父亲务工地点): give the place, or clear the start',
    );
    for (const row of rows.slice(1, 4)) {
      assert.deepEqual(errorsOf(row), [], row.child.name ?? '');
      assert.deepEqual(
        [row.father?.workplace, row.father?.migrationSince ?? null],
        [null, null],
        row.child.name ?? '',
      );
    }
    // One parent away (父母双方同时外出=否 answers for both): his start is read.
    assert.deepEqual(errorsOf(rows[4]), []);
    assert.equal(rows[4]?.father?.migrationSince, '2019-03-01');
    // No father at all, and a date: the same error, on the date's column.
    assert.deepEqual(
      rows[5]?.errors.map((e) => e.column),
      ['父亲外出时间'],
    );
    // A date is still checked where it is not used.
    assert.match(rows[6]?.errors[0]?.reason.zh ?? '', /晚于今天/);
  });

  test('a ledger without a work place column: 外出时间 alone says the parent went away, to a place not named', async () => {
    const file = fileOf(
      'no-workplace-column.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲身份证号码', '父亲外出时间'],
        ['张小一', childId(1), '南彰镇南彰村', '张大明', father1, '2019年3月'],
        ['张小二', childId(2), '南彰镇南彰村', '张大明', father1, ''],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(
      [rows[0]?.father?.workplace ?? null, rows[0]?.father?.migrationSince],
      [null, '2019-03-01'],
    );
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.equal(rows[1]?.father?.migrationSince, undefined, 'no date, no migration read');
  });

  test('the registry template’s 外出开始日期 takes the same months through the same parser; eight and six digits stay the ledger’s', () => {
    const ctx = { regionExists: () => true, today: TODAY };
    const cells = (since: unknown) =>
      Object.fromEntries(
        TEMPLATE_HEADERS.map((h) => [
          h,
          (
            {
              户编号: 'MS-1',
              姓名: '周外出',
              公民身份号码: father1,
              与户主关系: '户主',
              户籍地代码: NANZHANG,
              外出务工: '是',
              外出务工地: '广东省东莞市',
              外出开始日期: since,
            } as Record<string, unknown>
          )[h] ?? null,
        ]),
      );
    for (const [value, date] of [
      ['2019-03', '2019-03-01'],
      ['2019年3月', '2019-03-01'],
      ['2019/3', '2019-03-01'],
      ['2019.3', '2019-03-01'],
      [2019.3, '2019-03-01'],
      ['2019-03-15', '2019-03-15'],
      ['2019年3月15日', '2019-03-15'],
    ] as const) {
      const { record, errors } = rowToRecord(cells(value), ctx);
      assert.deepEqual(errors, [], String(value));
      assert.equal(record?.migrationSince, date, String(value));
      // The export writes the day, which imports back as the same day.
      if (!record) throw new Error(String(value));
      const again = rowToRecord(recordToRow(record), ctx);
      assert.equal(again.record?.migrationSince, date);
    }
    for (const [value, zh] of [
      ['201903', /无法识别的时间“201903”/],
      [201903, /无法识别的时间“201903”/],
      ['20190315', /无法识别的时间“20190315”/],
      ['2019', /只写到年/],
      [2019.1, /2019年1月，也可能是 2019年10月/],
      ['3年', /是外出了多久/],
    ] as const) {
      const { record, errors } = rowToRecord(cells(value), ctx);
      assert.equal(record, null, String(value));
      assert.deepEqual(
        errors.map((e) => e.column),
        ['外出开始日期'],
        String(value),
      );
      assert.match(errors[0]?.reason.zh ?? '', zh, String(value));
    }
  });
});

describe('importing 外出时间 (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };
  // Groups are evaluated as of the machine's day when an import changes someone.
  const now = today();
  const ledgerDay = addDays(now, -10);
  const [ly, lm, ld] = ledgerDay.split('-').map(Number) as [number, number, number];
  const child = makeIdNumber(LANKAO, '2015-03-01', 301);

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  /** A ledger dated ten days ago: one child, the father, the mother and the paternal grandfather. */
  const ledger = (name: string, fatherSince: unknown, motherSince: unknown) =>
    xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow([`填报日期：${ly}年${lm}月${ld}日`]);
      sheet.addRow(['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲身份证号码', '父亲务工地点', '父亲外出时间', '母亲姓名', '母亲身份证号码', '母亲务工地点', '母亲外出时间', '祖父姓名', '祖父出生日期']); // prettier-ignore
      sheet.addRow(['张小明', child, '南彰镇南彰村', '张大明', father1, '广东省东莞市', fatherSince as ExcelJS.CellValue, '李红', mother1, '浙江省宁波市', motherSince as ExcelJS.CellValue, '张老汉', '1950-05-05']); // prettier-ignore
    }).then((content) => fileOf(name, content));

  const personId = async (idNumber: string) =>
    (
      await t.ctx.db
        .selectFrom('persons')
        .select('id')
        .where('id_number', '=', idNumber)
        .executeTakeFirstOrThrow()
    ).id;
  const grandfatherId = async () =>
    (await t.ctx.db.selectFrom('persons').select('id').where('name', '=', '张老汉').executeTakeFirstOrThrow())
      .id;
  const migrations = async (id: number) =>
    t.ctx.db
      .selectFrom('person_facts')
      .select(['id', 'valid_from', 'valid_to', 'data', 'source', 'retracted_at'])
      .where('person_id', '=', id)
      .where('kind', '=', 'migration')
      .orderBy('id')
      .execute();
  const openGroup = async (id: number, group: string) =>
    t.ctx.db
      .selectFrom('group_memberships')
      .select(['since', 'reasons'])
      .where('person_id', '=', id)
      .where('group_code', '=', group)
      .where('until', 'is', null)
      .executeTakeFirst();
  const everything = async () => ({
    facts: await t.ctx.db
      .selectFrom('person_facts')
      .select(['id', 'kind', 'valid_from', 'valid_to', 'source', 'retracted_at'])
      .orderBy('id')
      .execute(),
    memberships: await t.ctx.db
      .selectFrom('group_memberships')
      .select(['id', 'person_id', 'group_code', 'since', 'until', 'reasons'])
      .orderBy('id')
      .execute(),
  });

  test('the migration starts when the parent went away: the grandfather is left-behind elderly from 6 months after; the same file again changes nothing; an earlier start corrects the record', async () => {
    // 1. No 外出时间 given: the migrations start on the ledger's date, as before.
    const first = await importLedgerFile(t.ctx.db, await ledger('none.xlsx', null, null), lankao, {
      today: now,
    });
    assert.equal(first.status, 'succeeded', JSON.stringify(first.message));
    assert.deepEqual(first.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    const father = await personId(father1);
    const mother = await personId(mother1);
    const grandfather = await grandfatherId();
    const childPerson = await personId(child);
    assert.deepEqual(
      (await migrations(father)).map((f) => [f.valid_from, f.valid_to, f.source, f.retracted_at]),
      [[ledgerDay, null, 'ledger', null]],
    );
    // The father has been away ten days: his father is no left-behind elder.
    assert.equal(await openGroup(grandfather, 'left_behind_elderly'), undefined);
    assert.equal((await openGroup(childPerson, 'left_behind_child'))?.since, ledgerDay);

    // 2. The ledger gives 外出时间: the father left in March 2019 (a month), the mother on 2021-05-10.
    const file = await ledger('dated.xlsx', '2019年3月', '2021-05-10');
    const second = await importLedgerFile(t.ctx.db, file, lankao, { today: now });
    assert.deepEqual(second.counts, { rows: 1, inserted: 0, updated: 1, unchanged: 0, errors: 0 });
    assert.deepEqual(second.unknownHeaders, []);
    const fatherFacts = await migrations(father);
    // The record from the ledger's date is retracted (its start moved back), the new one starts in March.
    assert.deepEqual(
      fatherFacts.map((f) => [f.valid_from, f.valid_to, f.retracted_at === null]),
      [
        [ledgerDay, null, false],
        ['2019-03-01', null, true],
      ],
    );
    assert.deepEqual(fatherFacts[1]?.data, { destination: '广东省东莞市' });
    assert.equal(
      fatherFacts[1]?.source,
      'ledger: 父亲外出时间只写到月（2019-03），按当月1日计 / month only (2019-03), read as its 1st',
    );
    const motherFacts = (await migrations(mother)).filter((f) => f.retracted_at === null);
    assert.deepEqual(
      motherFacts.map((f) => [f.valid_from, f.source]),
      [['2021-05-10', 'ledger']],
    );
    // 60 since 2010, his only child away 6 months from 2019-09-01: a left-behind elder since then.
    const elder = await openGroup(grandfather, 'left_behind_elderly');
    assert.equal(elder?.since, addMonths('2019-03-01', 6));
    assert.ok(
      elder?.reasons.zh.some((r) => r.includes('张大明外出务工自2019-03-01')),
      JSON.stringify(elder?.reasons),
    );
    // The child is left behind since both parents were away.
    const leftBehind = await openGroup(childPerson, 'left_behind_child');
    assert.equal(leftBehind?.since, '2021-05-10');
    assert.ok(
      leftBehind?.reasons.zh.some((r) => r.includes('外出务工自2019-03-01')) &&
        leftBehind.reasons.zh.some((r) => r.includes('外出务工自2021-05-10')),
      JSON.stringify(leftBehind?.reasons),
    );

    // 3. The same file again: nothing changes.
    const before = await everything();
    const third = await importLedgerFile(t.ctx.db, file, lankao, { today: now });
    assert.deepEqual(third.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
    assert.deepEqual(await everything(), before);
    // The same month written otherwise (2019.3 as a number, 201903) is the same start: nothing changes.
    for (const [name, since] of [
      ['number.xlsx', 2019.3],
      ['digits.xlsx', '201903'],
    ] as const) {
      const same = await importLedgerFile(t.ctx.db, await ledger(name, since, '2021-05-10'), lankao, {
        today: now,
      });
      assert.deepEqual(same.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 }, name);
    }
    assert.deepEqual(await everything(), before);

    // 4. A corrected, earlier start (the day is now known): the record is corrected, as the template
    // corrects its 外出开始日期; the grandfather's membership starts 6 months after it.
    const corrected = await importLedgerFile(
      t.ctx.db,
      await ledger('corrected.xlsx', '2018-07-15', '2021-05-10'),
      lankao,
      { today: now },
    );
    assert.deepEqual(corrected.counts, { rows: 1, inserted: 0, updated: 1, unchanged: 0, errors: 0 });
    assert.deepEqual(
      (await migrations(father)).map((f) => [f.valid_from, f.valid_to, f.source, f.retracted_at === null]),
      [
        [ledgerDay, null, 'ledger', false],
        [
          '2019-03-01',
          null,
          'ledger: 父亲外出时间只写到月（2019-03），按当月1日计 / month only (2019-03), read as its 1st',
          false,
        ],
        ['2018-07-15', null, 'ledger', true],
      ],
    );
    assert.equal((await openGroup(grandfather, 'left_behind_elderly'))?.since, '2019-01-15');
    const correctedAgain = await importLedgerFile(
      t.ctx.db,
      await ledger('corrected-again.xlsx', '2018-07-15', '2021-05-10'),
      lankao,
      { today: now },
    );
    assert.deepEqual(correctedAgain.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
  });

  test('a ledger without a work place column records the migration from 外出时间 with no destination', async () => {
    const kid = makeIdNumber(LANKAO, '2016-04-04', 503);
    const dad = makeIdNumber(LANKAO, '1986-01-01', 511);
    const file = fileOf(
      'no-workplace-db.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲身份证号码', '父亲外出时间'],
        ['王小宝', kid, '南彰镇南彰村', '王大宝', dad, '2020年6月'],
      ]),
    );
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, { today: now });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.equal(outcome.counts.errors, 0);
    const facts = await migrations(await personId(dad));
    assert.deepEqual(
      facts.map((f) => [f.valid_from, f.valid_to, f.data, f.retracted_at]),
      [['2020-06-01', null, {}, null]],
    );
    // The same file again changes nothing.
    const again = await importLedgerFile(t.ctx.db, file, lankao, { today: now });
    assert.equal(again.counts.unchanged, 1, JSON.stringify(again.counts));
    assert.equal((await migrations(await personId(dad))).length, 1);
  });

  test('a row whose 外出时间 is refused writes nothing and comes back with its column; the other rows import', async () => {
    const other = makeIdNumber(LANKAO, '2016-04-04', 303);
    const otherFather = makeIdNumber(LANKAO, '1985-01-01', 305);
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['姓名', '身份证号码', '户籍所在地', '父亲姓名', '父亲身份证号码', '父亲务工地点', '父亲外出时间']); // prettier-ignore
      sheet.addRow(['王小一', other, '南彰镇南彰村', '王大一', otherFather, '江苏省苏州市', '2099年1月']);
      sheet.addRow(['王小二', makeIdNumber(LANKAO, '2017-05-05', 307), '南彰镇南彰村', '王大二', makeIdNumber(LANKAO, '1986-02-02', 309), '江苏省苏州市', '2017.8']); // prettier-ignore
    });
    const outcome = await importLedgerFile(t.ctx.db, fileOf('mixed.xlsx', content), lankao, {
      today: now,
      errorReportBase: scratch.path('mixed-errors'),
    });
    assert.deepEqual(outcome.counts, { rows: 2, inserted: 1, updated: 0, unchanged: 0, errors: 1 });
    assert.equal(
      await t.ctx.db.selectFrom('persons').select('id').where('id_number', '=', other).executeTakeFirst(),
      undefined,
    );
    const second = await personId(makeIdNumber(LANKAO, '1986-02-02', 309));
    assert.deepEqual(
      (await migrations(second)).map((f) => [f.valid_from, f.retracted_at]),
      [['2017-08-01', null]],
    );
    assert.ok(outcome.errorReport, 'an error report is written');
  });
});
