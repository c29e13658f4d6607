// Error reports and file checks, review 20 (a tester's ledger round, findings 2, 4, 5 and 7):
// - a child ledger's error report carried no 填报日期: a row fixed there and imported again was dated on
//   the import day, not on the ledger's date (finding 4);
// - a date typed as a plain number (42000 in a General cell) was read as its day, but the report wrote
//   "42000", and the fixed row was refused on that date (finding 5);
// - the template took a child as 委托照护人, which the API refuses (finding 2);
// - a masked export imported back failed every row with "只能包含数字…发现了：*" (finding 7).
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { templateCsv } from '../../../test/support/files.ts';
import { lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { maskIdNumber, maskPhone, normalizePhone } from '../../platform/normalize.ts';
import { systemActor } from '../access/index.ts';
import { ERROR_REASON_HEADER, writeErrorReport } from './registry.errors-report.ts';
import { makeIdNumber, normalizeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { parseRegistryFile } from './registry.parse.ts';
import { readRows } from './registry.reader.ts';
import { carerAgeProblem } from './registry.rules.ts';
import { MASKED_IN_FILE, rowToRecord, TEMPLATE_HEADERS } from './registry.template.ts';

const LANKAO = '410225';
const NANZHANG = '410225102200'; // 南彰镇南彰村
const TODAY = '2026-11-29';

const { scratch, fileOf } = lankaoLedgerFiles('shouhu-reports-review20-', TODAY);
const importer: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };
const FORMATS = ['xlsx', 'csv'] as const;

let t: TestApp;
before(async () => {
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => t?.close());

/** The report's cells, row by row, as text (the report is read as a file, title line included). */
async function reportRows(file: string): Promise<string[][]> {
  const out: string[][] = [];
  for await (const row of readRows(file)) out.push(row.values.map((v) => (v == null ? '' : String(v))));
  return out;
}

let fixes = 0;
/**
 * The report as a clerk fixes it: each cell equal to a key of `fixes` replaced by its value, saved in the
 * same format (a workbook through Excel's library, a CSV as text).
 */
async function fixReport(report: string, changes: Readonly<Record<string, string>>): Promise<string> {
  fixes += 1;
  const ext = path.extname(report);
  if (ext === '.csv') {
    let text = fs.readFileSync(report, 'utf8');
    for (const [from, to] of Object.entries(changes)) text = text.replaceAll(from, to);
    return fileOf(`fixed-${fixes}.csv`, text);
  }
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.readFile(report);
  workbook.eachSheet((sheet) =>
    sheet.eachRow((row) =>
      row.eachCell((cell) => {
        const to = typeof cell.value === 'string' ? changes[cell.value] : undefined;
        if (to !== undefined) cell.value = to;
      }),
    ),
  );
  return fileOf(`fixed-${fixes}.xlsx`, Buffer.from(await workbook.xlsx.writeBuffer()));
}

async function personByNumber(idNumber: string) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).executeTakeFirst();
}

// ---------------------------------------------------------------------------------------------
// Finding 4: the ledger's date

const LEDGER_HEADER = ['姓名', '性别', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲务工地点', '父母双方同时外出', '有无委托监护人', '委托监护人姓名', '委托监护人公民身份号码', '委托监护人与儿童关系', '监护类型', '出生日期']; // prettier-ignore

let ledgers = 0;
/** A ledger workbook: a title row 填报日期 (when given) above the columns, then the rows. */
async function ledgerFile(date: string | null, rows: readonly (string | number)[][]): Promise<string> {
  const content = await xlsx((wb) => {
    const sheet = wb.addWorksheet('台账');
    sheet.addRow(['兰考县农村留守儿童信息台账']);
    if (date) {
      const [y, m, d] = date.split('-').map(Number);
      sheet.addRow([`填报单位：南彰镇`, '', '', `填报日期：${y}年${m}月${d}日`]);
    }
    sheet.addRow(LEDGER_HEADER);
    for (const r of rows) sheet.addRow(r);
  });
  ledgers += 1;
  return fileOf(`ledger-${ledgers}.xlsx`, content);
}

async function importLedger(file: string) {
  ledgers += 1;
  const outcome = await importLedgerFile(t.ctx.db, file, importer, {
    today: TODAY,
    errorReportBase: scratch.path(`ledger-${ledgers}-errors`),
  });
  assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
  return outcome;
}

/** The child's ledger declaration (from) and carer link (checked on), as recorded. */
async function datesOfChild(idNumber: string) {
  const person = await personByNumber(idNumber);
  assert.ok(person, `${idNumber} is registered`);
  const declarations = await t.ctx.db
    .selectFrom('person_facts')
    .select('valid_from')
    .where('person_id', '=', person.id)
    .where('kind', '=', 'ledger_declaration')
    .where('retracted_at', 'is', null)
    .execute();
  const carers = await t.ctx.db
    .selectFrom('person_relations')
    .select('carer_fitness_checked_on')
    .where('person_id', '=', person.id)
    .where('kind', '=', 'carer')
    .execute();
  return {
    declaredFrom: declarations.map((d) => d.valid_from),
    carerCheckedOn: carers.map((c) => c.carer_fitness_checked_on),
  };
}

describe('a child ledger’s error report carries the ledger’s 填报日期 (finding 4)', () => {
  let seq = 600;
  const childRow = (name: string, id: string, village: string) => {
    seq += 2;
    return [
      name, '女', id, village, `${name.slice(0, 1)}建国`, makeIdNumber(LANKAO, '1985-02-03', seq + 1),
      '广东省东莞市', `李${name.slice(1)}`, '浙江省杭州市', '是', '是', `${name.slice(0, 1)}德福`,
      makeIdNumber(LANKAO, '1955-04-05', seq + 3), '祖父', '监护情况一般', '',
    ]; // prettier-ignore
  };

  for (const format of FORMATS)
    test(`${format}: the row fixed in the report and imported again is dated 2026-03-01, as the ledger’s rows`, async () => {
      const good = makeIdNumber(LANKAO, '2017-03-04', format === 'csv' ? 502 : 512);
      const bad = makeIdNumber(LANKAO, '2018-05-06', format === 'csv' ? 522 : 532);
      const name = format === 'csv' ? '赵小红' : '钱小红';
      const file = await ledgerFile('2026-03-01', [
        childRow(`${name.slice(0, 1)}小明`, good, '南彰镇南彰村'),
        childRow(name, bad, '南彰镇无此村'),
      ]);
      const first = await importLedger(file);
      assert.deepEqual([first.counts.inserted, first.counts.errors], [1, 1]);
      assert.deepEqual(await datesOfChild(good), {
        declaredFrom: ['2026-03-01'],
        carerCheckedOn: ['2026-03-01'],
      });
      assert.ok(first.errorReport);
      const report = first.errorReport[format];
      // The first line is the ledger's date, the columns below it.
      const lines = await reportRows(report);
      assert.equal(lines[0]?.[0], '填报日期：2026-03-01');
      assert.equal(lines[1]?.[0], '姓名');
      assert.equal(lines[1]?.at(-1), ERROR_REASON_HEADER);
      assert.equal(lines[2]?.[0], name);

      const again = await importLedger(await fixReport(report, { 南彰镇无此村: '南彰镇南彰村' }));
      assert.deepEqual([again.counts.inserted, again.counts.errors], [1, 0], JSON.stringify(again.counts));
      assert.deepEqual(await datesOfChild(bad), {
        declaredFrom: ['2026-03-01'],
        carerCheckedOn: ['2026-03-01'],
      });
    });

  test('a ledger without 填报日期: the report starts with its columns, as before', async () => {
    const file = await ledgerFile(null, [
      childRow('孙小红', makeIdNumber(LANKAO, '2018-07-08', 542), '无此村'),
    ]);
    const outcome = await importLedger(file);
    assert.ok(outcome.errorReport);
    for (const format of FORMATS) {
      const lines = await reportRows(outcome.errorReport[format]);
      assert.equal(lines[0]?.[0], '姓名');
      assert.equal(lines[1]?.[0], '孙小红');
    }
  });

  test('rows of sheets dated apart: the report has the first row’s date, another row names its own', async () => {
    const report = scratch.path('two-dates.csv');
    const reason = [{ column: '户籍所在地', value: 'x', reason: { zh: '无法识别', en: 'not known' } }];
    const written = await writeErrorReport(
      report,
      [
        { rowNumber: 4, raw: { 姓名: '甲' }, errors: reason, ledgerDate: '2026-03-01' },
        { rowNumber: 4, raw: { 姓名: '乙' }, errors: reason, ledgerDate: '2026-04-01' },
      ],
      { headers: ['姓名'] },
    );
    assert.equal(written, 2);
    const lines = await reportRows(report);
    assert.equal(lines[0]?.[0], '填报日期：2026-03-01');
    assert.doesNotMatch(lines[2]?.[1] ?? '', /填报日期为/);
    assert.match(lines[3]?.[1] ?? '', /本行所在工作表填报日期为 2026-04-01，与第 1 行的不同/);
  });
});

// ---------------------------------------------------------------------------------------------
// Finding 5: a date typed as a plain number

describe('a date the import read from a plain number reads back the same from the report (finding 5)', () => {
  for (const format of FORMATS)
    test(`template, ${format} report: 出生日期 42000 in a General cell is written 2014-12-27; the fixed row imports`, async () => {
      const household = `R20-${format}`;
      const name = format === 'csv' ? '丙一' : '丙二';
      const content = await xlsx((wb) => {
        const sheet = wb.addWorksheet('人员登记');
        sheet.addRow(['户编号', '姓名', '公民身份号码', '无身份号码原因', '性别', '出生日期', '与户主关系', '户籍地代码', '联系电话']); // prettier-ignore
        sheet.addRow([household, name, '', '未落户', '男', 42000, '户主', NANZHANG, '123']);
      });
      const first = await importRegistryFile(t.database, fileOf(`k-${format}.xlsx`, content), importer, {
        today: TODAY,
        errorReportBase: scratch.path(`k-${format}-errors`),
      });
      assert.deepEqual([first.counts.inserted, first.counts.errors], [0, 1]);
      assert.ok(first.errorReport);
      const report = first.errorReport[format];
      const [header = [], row = []] = await reportRows(report);
      assert.equal(row[header.indexOf('出生日期')], '2014-12-27');
      assert.match(row[header.indexOf(ERROR_REASON_HEADER)] ?? '', /^联系电话：/);

      const again = await importRegistryFile(
        t.database,
        await fixReport(report, { '123': '13812345678' }),
        importer,
        { today: TODAY, errorReportBase: scratch.path(`k-${format}-again`) },
      );
      assert.deepEqual([again.counts.inserted, again.counts.errors], [1, 0], JSON.stringify(again.counts));
      const person = await t.ctx.db
        .selectFrom('persons')
        .select(['birth_date'])
        .where('name', '=', name)
        .executeTakeFirstOrThrow();
      assert.equal(person.birth_date, '2014-12-27');
    });

  for (const format of FORMATS)
    test(`child ledger, ${format} report: 出生日期 42001 is written 2014-12-28 beside the ID number’s error; fixed, the row imports`, async () => {
      const id = makeIdNumber(LANKAO, '2014-12-28', format === 'csv' ? 552 : 562);
      const wrong = `${id.slice(0, 17)}${id.endsWith('0') ? '1' : '0'}`;
      const name = format === 'csv' ? '丁三' : '丁四';
      const file = await ledgerFile('2026-03-01', [
        [name, '女', wrong, '南彰镇南彰村', '', '', '', '', '', '', '', '', '', '', '', 42001],
      ]);
      const first = await importLedger(file);
      assert.deepEqual([first.counts.inserted, first.counts.errors], [0, 1]);
      assert.ok(first.errorReport);
      const report = first.errorReport[format];
      const [, header = [], row = []] = await reportRows(report);
      assert.equal(row[header.indexOf('出生日期')], '2014-12-28');
      assert.match(row[header.indexOf(ERROR_REASON_HEADER)] ?? '', /^公民身份号码：/);

      const again = await importLedger(await fixReport(report, { [wrong]: id }));
      assert.deepEqual([again.counts.inserted, again.counts.errors], [1, 0], JSON.stringify(again.counts));
      assert.equal((await personByNumber(id))?.birth_date, '2014-12-28');
    });

  test('template: 性别 1 in a cell formatted as a date (read as 男) is written 1, not 1900-01-01; the fixed row imports', async () => {
    const id = makeIdNumber(LANKAO, '1980-03-04', 591);
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('人员登记');
      sheet.addRow(['户编号', '姓名', '公民身份号码', '性别', '与户主关系', '户籍地代码', '联系电话']);
      const row = sheet.addRow(['R20-S', '丙四', id, 1, '户主', NANZHANG, '123']);
      row.getCell(4).numFmt = 'yyyy-mm-dd';
    });
    const first = await importRegistryFile(t.database, fileOf('sex-as-day.xlsx', content), importer, {
      today: TODAY,
      errorReportBase: scratch.path('sex-as-day-errors'),
    });
    assert.deepEqual([first.counts.inserted, first.counts.errors], [0, 1]);
    assert.ok(first.errorReport);
    for (const format of FORMATS) {
      const [header = [], row = []] = await reportRows(first.errorReport[format]);
      assert.equal(row[header.indexOf('性别')], '1', format);
    }
    const again = await importRegistryFile(
      t.database,
      await fixReport(first.errorReport.xlsx, { '123': '13812345678' }),
      importer,
      { today: TODAY },
    );
    assert.deepEqual([again.counts.inserted, again.counts.errors], [1, 0], JSON.stringify(again.counts));
    assert.equal((await personByNumber(id))?.sex, 1);
  });

  test('a date typed as the text “42000” is refused and written as typed', async () => {
    const file = fileOf(
      'text-date.csv',
      templateCsv([
        { 户编号: 'R20-T', 姓名: '丙三', 无身份号码原因: '未落户', 性别: '男', 出生日期: '42000', 与户主关系: '户主', 户籍地代码: NANZHANG }, // prettier-ignore
      ]),
    );
    const rows = [];
    for await (const r of parseRegistryFile(file, { regionExists: () => true, today: TODAY })) rows.push(r);
    assert.match(rows[0]?.errors.map((e) => e.reason.zh).join() ?? '', /无法识别的日期“42000”/);
    const report = scratch.path('text-date-report.csv');
    await writeErrorReport(report, rows);
    const [header = [], row = []] = await reportRows(report);
    assert.equal(row[header.indexOf('出生日期')], '42000');
  });

  test('a date cell, a year in a ledger’s birth column and a number outside any date stay as written', async () => {
    const report = scratch.path('kept.csv');
    const errors = [{ column: '姓名', value: '', reason: { zh: '姓名不能为空', en: 'name is required' } }];
    await writeErrorReport(
      report,
      [{ rowNumber: 2, raw: { 出生日期: '2015', 父亲出生日期: '2015-03-01', 联系电话: '42000', 外出开始日期: '2019.3' }, errors }], // prettier-ignore
      { headers: ['出生日期', '父亲出生日期', '联系电话', '外出开始日期'] },
    );
    const [, row = []] = await reportRows(report);
    assert.deepEqual(row.slice(0, 4), ['2015', '2015-03-01', '42000', '2019.3']);
  });
});

// ---------------------------------------------------------------------------------------------
// Finding 2: a child as 委托照护人

describe('the template’s 委托照护人 is an adult, as through the API (finding 2)', () => {
  const ctx = { regionExists: () => true, today: TODAY };
  const row = (carer: string) => ({
    户编号: 'R20-C',
    姓名: '甲小',
    公民身份号码: makeIdNumber(LANKAO, '2012-01-01', 571),
    与户主关系: '户主',
    户籍地代码: NANZHANG,
    委托照护人身份号码: carer,
  });

  test('a carer of 12 is refused on 委托照护人身份号码 with the API’s message; one of 18 is taken', () => {
    const child = makeIdNumber(LANKAO, '2014-01-01', 573);
    const refused = rowToRecord(row(child), ctx);
    const expected = carerAgeProblem({ sex: 1, birthDate: '2014-01-01' }, TODAY, 'carer');
    assert.ok(expected);
    assert.deepEqual(
      refused.errors.map((e) => [e.column, e.reason]),
      [['委托照护人身份号码', expected]],
    );
    assert.match(expected.zh, /委托照护人在 2026-11-29 为 12 周岁：委托照护人须为年满 18 周岁/);
    const adult = makeIdNumber(LANKAO, '2008-11-29', 575);
    assert.deepEqual(rowToRecord(row(adult), ctx).errors, []);
    const notYet = makeIdNumber(LANKAO, '2008-11-30', 577);
    assert.equal(rowToRecord(row(notYet), ctx).errors[0]?.column, '委托照护人身份号码');
  });

  test('imported, the row is refused and no carer link is written', async () => {
    const carer = makeIdNumber(LANKAO, '2014-01-01', 579);
    const child = makeIdNumber(LANKAO, '2012-01-01', 581);
    const file = fileOf(
      'young-carer.csv',
      templateCsv([
        { 户编号: 'R20-E1', 姓名: '甲小', 公民身份号码: child, 与户主关系: '户主', 户籍地代码: NANZHANG, 委托照护人身份号码: carer }, // prettier-ignore
        { 户编号: 'R20-E2', 姓名: '乙小', 公民身份号码: carer, 与户主关系: '户主', 户籍地代码: NANZHANG },
      ]),
    );
    const outcome = await importRegistryFile(t.database, file, importer, { today: TODAY });
    assert.deepEqual([outcome.counts.inserted, outcome.counts.errors], [1, 1]);
    assert.equal(await personByNumber(child), undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// Finding 7: a masked export imported back

describe('a masked number in a file says it is one (finding 7)', () => {
  const id = makeIdNumber(LANKAO, '1961-09-17', 15);
  const spouse = makeIdNumber(LANKAO, '1965-06-02', 12);

  test('the ID number’s and the phone’s checks name a masked number, in the mask of now and of before', () => {
    for (const masked of [maskIdNumber(id), '4102**********0014', '410225********0014']) {
      const r = normalizeIdNumber(masked, TODAY);
      assert.equal(r.ok ? null : r.reason, 'MASKED', masked);
    }
    // A single star among the digits is a typing slip, reported as the character it is.
    const slip = normalizeIdNumber(`${id.slice(0, 10)}*${id.slice(11)}`, TODAY);
    assert.equal(slip.ok ? null : slip.reason, 'BAD_CHARACTERS');
    for (const masked of [maskPhone('19312345118'), maskPhone('0371-12345678'), '193 **** 5118']) {
      const r = normalizePhone(masked);
      assert.ok(!r.ok && r.masked, masked);
      assert.match(r.ok ? '' : r.message.zh, /掩码号码/);
    }
    assert.ok(!normalizePhone('193*5118').ok && !('masked' in normalizePhone('193*5118')));
  });

  test('a masked export’s row: every number column names the masked number, and nothing else', () => {
    const row = {
      户编号: 'R20-M',
      姓名: '武凯刚',
      公民身份号码: maskIdNumber(id),
      性别: '男',
      出生日期: '1961-09-17',
      与户主关系: '户主',
      户籍地代码: NANZHANG,
      联系电话: maskPhone('19312345118'),
      父亲身份号码: maskIdNumber(makeIdNumber(LANKAO, '1930-01-01', 11)),
      母亲身份号码: maskIdNumber(makeIdNumber(LANKAO, '1932-01-01', 12)),
      配偶身份号码: maskIdNumber(spouse),
      委托照护人身份号码: '4102**********0014',
    };
    const { errors } = rowToRecord(row, { regionExists: () => true, today: TODAY });
    assert.deepEqual(
      errors.map((e) => [e.column, e.reason]),
      ['公民身份号码', '联系电话', '父亲身份号码', '母亲身份号码', '配偶身份号码', '委托照护人身份号码'].map(
        (c) => [c, MASKED_IN_FILE],
      ),
    );
    assert.match(MASKED_IN_FILE.zh, /^这是导出文件中的掩码号码（含 \*），不能导入：掩码文件仅供查阅/);
  });

  test('a masked export imported (dry run): each row is reported as masked, nothing is written', async () => {
    const file = fileOf(
      'masked.csv',
      templateCsv(
        [
          { 户编号: 'R20-M', 姓名: '武凯刚', 公民身份号码: maskIdNumber(id), 性别: '男', 出生日期: '1961-09-17', 与户主关系: '户主', 户籍地代码: NANZHANG, 联系电话: maskPhone('19312345118'), 配偶身份号码: maskIdNumber(spouse) }, // prettier-ignore
          { 户编号: 'R20-M', 姓名: '徐华琪', 公民身份号码: maskIdNumber(spouse), 性别: '女', 出生日期: '1965-06-02', 与户主关系: '配偶', 户籍地代码: NANZHANG, 配偶身份号码: maskIdNumber(id) }, // prettier-ignore
        ],
        TEMPLATE_HEADERS,
      ),
    );
    const outcome = await importRegistryFile(t.database, file, importer, {
      today: TODAY,
      dryRun: true,
      errorReportBase: scratch.path('masked-errors'),
    });
    assert.deepEqual([outcome.counts.inserted, outcome.counts.errors], [0, 2]);
    assert.ok(outcome.errorReport);
    const [header = [], ...rows] = await reportRows(outcome.errorReport.csv);
    for (const r of rows) {
      const reason = r[header.indexOf(ERROR_REASON_HEADER)] ?? '';
      assert.match(reason, /^公民身份号码：这是导出文件中的掩码号码/);
      assert.doesNotMatch(reason, /发现了/);
    }
  });
});
