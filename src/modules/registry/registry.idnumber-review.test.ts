// ID numbers and cells at their edges, session 7: an adversarial review of GB 11643-1999 handling
// (DOMAIN.md 1) and of how the registry template reads its cells (EXCHANGE.md). A rule per test,
// with the standard's example 11010519491231002X wherever it fits. The pure tests run once; the
// import tests at the end run on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { systemActor } from '../access/index.ts';
import { computeCheckCharacter, makeIdNumber, normalizeIdNumber } from './registry.idnumber.ts';
import type { IdNumberErrorCode } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { parseRegistryFile, type ParsedRow } from './registry.parse.ts';
import { checkHeaders, rowToRecord, TEMPLATE_HEADERS } from './registry.template.ts';

const TODAY = '2026-11-29';
const EXAMPLE = '11010519491231002X';
const V1 = '410225101200'; // 堌阳镇 城内村

function valid(raw: unknown, today = TODAY) {
  const r = normalizeIdNumber(raw, today);
  assert.equal(r.ok, true, `expected ${JSON.stringify(raw)} to be valid, got ${JSON.stringify(r)}`);
  if (!r.ok) throw new Error('unreachable');
  return r;
}

function rejected(raw: unknown, reason: IdNumberErrorCode, today = TODAY) {
  const r = normalizeIdNumber(raw, today);
  assert.equal(r.ok, false, `expected ${JSON.stringify(raw)} to be rejected, got ${JSON.stringify(r)}`);
  if (r.ok) throw new Error('unreachable');
  assert.equal(r.reason, reason, `${JSON.stringify(raw)}: ${r.message.en}`);
  assert.ok(r.message.zh.length > 0 && r.message.en.length > 0, 'both languages carry a message');
  return r;
}

/** An 18-digit number from its first 17 digits, with its check character. */
const withCheck = (first17: string) => first17 + computeCheckCharacter(first17);

/**
 * The first 18-digit number from `from` on (address 410225, sequence ending in 00) whose check
 * character is 0: a number ending in 000 that passes the check, as one in 11 Excel-damaged ones do.
 */
function passingWith000(from: string): { id: string; birthDate: string } {
  for (let day = new Date(`${from}T00:00:00Z`); ; day = new Date(day.getTime() + 86_400_000)) {
    const birthDate = day.toISOString().slice(0, 10);
    for (let lead = 0; lead <= 9; lead += 1) {
      const first17 = `410225${birthDate.replace(/-/g, '')}${lead}00`;
      if (computeCheckCharacter(first17) === '0') return { id: `${first17}0`, birthDate };
    }
  }
}

const ctx = { regionExists: (code: string) => code === V1, today: TODAY };

function row(cells: Record<string, unknown>) {
  return rowToRecord({ 户编号: 'H-1', 姓名: '王芳', 与户主关系: '户主', 户籍地代码: V1, ...cells }, ctx);
}

function csv(rows: Record<string, string>[]): string {
  const cell = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return (
    '\uFEFF' +
    [
      TEMPLATE_HEADERS.join(','),
      ...rows.map((r) => TEMPLATE_HEADERS.map((h) => cell(r[h] ?? '')).join(',')),
    ].join('\r\n') +
    '\r\n'
  );
}

/** The parsed rows by row number; they must come in the order of the file. */
async function parseCsv(rows: Record<string, string>[]): Promise<Map<number, ParsedRow>> {
  const out = new Map<number, ParsedRow>();
  const source = { buffer: Buffer.from(csv(rows)), filename: 'ledger.csv' };
  for await (const r of parseRegistryFile(source, { regionExists: ctx.regionExists, today: TODAY })) {
    assert.ok(r.rowNumber > Math.max(0, ...out.keys()), `row ${r.rowNumber} comes in order`);
    out.set(r.rowNumber, r);
  }
  return out;
}

const person = (householdNo: string, name: string, id: string): Record<string, string> => ({
  户编号: householdNo,
  姓名: name,
  公民身份号码: id,
  与户主关系: '户主',
  户籍地代码: V1,
});

// ---------------------------------------------------------------------------------------------

describe('15-digit old numbers', () => {
  test('the sequence codes 996-999 of a centenarian upgrade with 18: born before 1900, refused so', () => {
    for (const seq of ['996', '997', '998', '999']) {
      const r = rejected(`410225890101${seq}`, 'BIRTH_BEFORE_1900');
      assert.match(r.message.zh, new RegExp(`顺序码 ${seq}.*百岁.*1889-01-01`));
      assert.match(r.message.en, /centenarians.*1889-01-01/);
    }
    // The 18-digit form of the same number says the same.
    rejected(withCheck('41022518890101997'), 'BIRTH_BEFORE_1900');
  });

  test('any other sequence code upgrades with 19', () => {
    const r = valid('410225890101995');
    assert.equal(r.birthDate, '1989-01-01');
    assert.equal(r.value, withCheck('41022519890101995'));
    assert.equal(valid('110105491231002').value, EXAMPLE);
  });

  test("the sex of an old number is its 15th digit's parity", () => {
    assert.equal(valid('110105491231001').sex, 1);
    assert.equal(valid('110105491231002').sex, 2);
    assert.equal(valid('110105491231013').sex, 1);
  });

  test('a birth date that is no date in 19xx names the six digits as written', () => {
    const r = rejected('410225000229002', 'BAD_BIRTH_DATE'); // 1900 is not a leap year
    assert.match(r.message.zh, /000229.*19000229/);
    assert.match(r.message.en, /000229 \(that is 19000229\).*15-digit/);
    assert.equal(valid('410225960229002').birthDate, '1996-02-29');
    rejected('410225001301002', 'BAD_BIRTH_DATE');
  });

  test('a float of 15 digits with nothing after the point has lost nothing', () => {
    assert.equal(valid('110105491231002.0').value, EXAMPLE);
    assert.equal(valid('１１０１０５４９１２３１００２.００').value, EXAMPLE);
    // 18 digits before the point are beyond what a float keeps.
    assert.equal(rejected('410225201501011234.0', 'EXCEL_FLOAT').excelDamaged, true);
    rejected('110105491231002.5', 'EXCEL_FLOAT');
  });
});

describe('birth dates', () => {
  test('29 February: 1900 is not a leap year, 2000 and 2024 are, 2023 is not', () => {
    rejected(withCheck('41022519000229002'), 'BAD_BIRTH_DATE');
    assert.equal(valid(withCheck('41022520000229002')).birthDate, '2000-02-29');
    assert.equal(valid(withCheck('41022520240229002')).birthDate, '2024-02-29');
    rejected(withCheck('41022520230229002'), 'BAD_BIRTH_DATE');
  });

  test('month 00 or 13, day 00, 31 April or 32 January are no dates', () => {
    for (const mmdd of ['0015', '1315', '0100', '0431', '0132'])
      rejected(withCheck(`4102252000${mmdd}002`), 'BAD_BIRTH_DATE');
  });

  test('born today is accepted, tomorrow is in the future, 1899-12-31 before 1900', () => {
    assert.equal(valid(makeIdNumber('410225', TODAY, 2)).birthDate, TODAY);
    const r = rejected(withCheck('41022520261130002'), 'FUTURE_BIRTH_DATE');
    assert.match(r.message.en, /2026-11-30.*after today \(2026-11-29\)/);
    rejected(withCheck('41022518991231002'), 'BIRTH_BEFORE_1900');
    assert.equal(valid(withCheck('41022519000101002')).birthDate, '1900-01-01');
  });

  test('a child born today reads into a record, sex and birth date from the number', () => {
    const out = row({ 公民身份号码: makeIdNumber('410225', TODAY, 1), 与户主关系: '子', 户编号: 'H-2' });
    assert.deepEqual(out.errors, []);
    assert.equal(out.record?.birthDate, TODAY);
    assert.equal(out.record?.sex, 1);
  });
});

describe('what Excel and keyboards do to a number', () => {
  test('numbers and floats: digits lost, refused with that reason', () => {
    for (const raw of [Number('410225201501011234'), '4.10225E+17', '4.10225e+17', '410225201501011234.0']) {
      const r = rejected(raw, 'EXCEL_FLOAT');
      assert.equal(r.excelDamaged, true);
      assert.match(r.message.zh, /Excel.*丢失.*文本/);
    }
  });

  test('18 characters ending in 000 with a wrong check character are marked as Excel damage', () => {
    const r = rejected('110105194912310000', 'BAD_CHECK_CHARACTER');
    assert.equal(r.excelDamaged, true);
    assert.match(r.message.zh, /000 结尾.*Excel/);
    assert.equal(rejected('110105194912310021', 'BAD_CHECK_CHARACTER').excelDamaged, undefined);
  });

  test('direction marks and the soft hyphen around or inside a number are dropped', () => {
    // Windows puts U+202D ... U+202C around a number copied from some programs.
    assert.equal(valid(`\u202D${EXAMPLE}\u202C`).value, EXAMPLE);
    assert.equal(valid(`\u200E110105\u00AD19491231002X\u200F`).value, EXAMPLE);
    assert.equal(valid(`\u206611010519491231002X\u2069`).value, EXAMPLE);
  });

  test('white space, zero-width characters and a BOM anywhere in the cell are dropped', () => {
    assert.equal(valid(`${EXAMPLE}\u3000`).value, EXAMPLE);
    assert.equal(valid(`110105\u200B19491231\uFEFF002X`).value, EXAMPLE);
    assert.equal(valid(`110105\u00A01949 1231\t002X\n`).value, EXAMPLE);
  });

  test('a minus sign or any dash between the digits groups them', () => {
    for (const dash of ['\u2212', '\u2012', '\u2015', '\uFE63', '\uFE58', '－', '-'])
      assert.equal(
        valid(`110105${dash}19491231${dash}002X`).value,
        EXAMPLE,
        `dash U+${dash.charCodeAt(0).toString(16)}`,
      );
  });

  test("a leading apostrophe, straight or as a Chinese input method's curly quote, is not part of it", () => {
    for (const mark of ["'", '‘', '’', '`', '＇']) assert.equal(valid(`${mark}${EXAMPLE}`).value, EXAMPLE);
    rejected(`1101051949‘1231002X`, 'BAD_CHARACTERS');
  });

  test('x, full-width Ｘ, the Cyrillic and Greek lookalikes and × are the check character X', () => {
    for (const x of ['x', 'Ｘ', 'ｘ', '\u0425', '\u0445', '\u03A7', '\u03C7', '\u00D7'])
      assert.equal(valid(`11010519491231002${x}`).value, EXAMPLE, `U+${x.charCodeAt(0).toString(16)}`);
    // Read as X they are still checked: only last, and only where the check character is X.
    rejected('1101051949123100\u04252', 'BAD_CHARACTERS');
    rejected('41022520080101123\u0425', 'BAD_CHECK_CHARACTER');
  });

  test('a character the clerk cannot see is named by its code point', () => {
    const r = rejected(`${EXAMPLE.slice(0, 10)}\u0007${EXAMPLE.slice(10)}`, 'BAD_CHARACTERS');
    assert.match(r.message.zh, /U\+0007/);
    assert.match(r.message.en, /U\+0007/);
    assert.match(rejected('11010519491231002Y', 'BAD_CHARACTERS').message.en, /found: Y$/);
  });
});

describe('the address code', () => {
  test('a code that is no county (retired, renamed or never one) still makes a valid number', () => {
    // GB 11643: the county where the number was first issued; codes of merged counties stay valid.
    const id = withCheck('41999919800101002');
    assert.equal(valid(id).value, id);
    const out = row({ 公民身份号码: id });
    assert.deepEqual(out.errors, []);
    assert.equal(out.record?.idNumber, id);
  });

  test('only a leading 0 is refused: no province code starts with it', () => {
    rejected(withCheck('01010519491231002'), 'BAD_ADDRESS_CODE');
  });
});

describe('sex and birth date against the ID number', () => {
  test('性别 as 男/女/1/2/M/F agrees or is reported on its column', () => {
    for (const [given, agrees] of [
      ['女', true],
      ['2', true],
      ['F', true],
      [2, true],
      ['男', false],
      ['1', false],
      ['M', false],
      [1, false],
    ] as const) {
      const out = row({ 公民身份号码: EXAMPLE, 性别: given });
      assert.deepEqual(
        out.errors.map((e) => e.column),
        agrees ? [] : ['性别'],
        `性别 ${given}`,
      );
      if (!agrees) assert.match(out.errors[0]?.reason.zh ?? '', /与公民身份号码不一致.*女性/);
    }
  });

  test("a 15-digit number's 15th digit gives the sex the 性别 column must agree with", () => {
    assert.deepEqual(row({ 公民身份号码: '110105491231002', 性别: '女' }).errors, []);
    assert.deepEqual(
      row({ 公民身份号码: '110105491231002', 性别: '男' }).errors.map((e) => e.column),
      ['性别'],
    );
    assert.equal(row({ 公民身份号码: '110105491231001' }).record?.sex, 1);
  });

  test('a birth date that disagrees with the number is reported; the same date in any form agrees', () => {
    for (const given of ['1949-12-31', '1949/12/31', '1949年12月31日', new Date(Date.UTC(1949, 11, 31))])
      assert.deepEqual(row({ 公民身份号码: EXAMPLE, 出生日期: given }).errors, [], String(given));
    const out = row({ 公民身份号码: '110105491231002', 出生日期: '2049-12-31' });
    assert.ok(out.errors.some((e) => e.column === '出生日期' && /1949-12-31/.test(e.reason.zh)));
  });
});

describe('cells that look filled and are not', () => {
  test('an ID cell holding only an apostrophe is empty: 无身份号码原因 is enough', () => {
    const out = row({ 公民身份号码: "'", 无身份号码原因: '未落户', 性别: '女', 出生日期: '2020-01-01' });
    assert.deepEqual(out.errors, []);
    assert.equal(out.record?.idNumber, null);
    const without = row({ 公民身份号码: "'", 性别: '女', 出生日期: '2020-01-01' });
    assert.deepEqual(
      without.errors.map((e) => e.column),
      ['公民身份号码'],
    );
    assert.match(without.errors[0]?.reason.zh ?? '', /无身份号码原因/);
  });

  test('无, 暂无, 不详 or a dash for an ID number is an empty cell: 无身份号码原因 is then enough', () => {
    for (const none of ['无', '暂无', '不详', '-', '—', '／', '--']) {
      const out = row({ 公民身份号码: none, 无身份号码原因: '未落户', 性别: '女', 出生日期: '2020-01-01' });
      assert.deepEqual(out.errors, [], none);
      assert.equal(out.record?.idNumber, null);
      const without = row({ 公民身份号码: none, 性别: '女', 出生日期: '2020-01-01' });
      assert.deepEqual(
        without.errors.map((e) => [e.column, e.value]),
        [['公民身份号码', none]],
      );
      assert.match(without.errors[0]?.reason.zh ?? '', /无身份号码原因/);
    }
  });

  test('“none” in an optional column that cannot hold it is empty; in a text column it stays text', () => {
    const own = makeIdNumber('410225', '1990-03-03', 21);
    const out = row({
      公民身份号码: own,
      父亲身份号码: '无',
      母亲身份号码: '不详',
      配偶身份号码: '/',
      委托照护人身份号码: '—',
      联系电话: '暂无',
      现居住地代码: '-',
      外出务工: '无',
      残疾类别: '无',
      重病: '-',
      人身自由状况: '无',
      死亡日期: '/',
      就学阶段: '无',
      '家庭年收入(元)': '无',
      民族: '-',
      学校名称: '无',
    });
    assert.deepEqual(out.errors, []);
    const r = out.record as unknown as Record<string, unknown>;
    for (const key of [
      'fatherIdNumber',
      'motherIdNumber',
      'spouseIdNumber',
      'carerIdNumber',
      'phone',
      'migrant',
      'disability',
      'seriousIllness',
      'liberty',
      'deathDate',
      'schoolStage',
      'householdAnnualIncomeFen',
    ])
      assert.equal(r[key], null, key);
    // No residence given: the hukou village, as for an empty cell.
    assert.equal(r.residenceRegionCode, V1);
    assert.equal(r.ethnicity, '-');
    assert.equal(r.school, '无');
    // A required column keeps its check, and a marker inside a value is no marker.
    assert.deepEqual(
      row({ 公民身份号码: own, 户籍地代码: '无' }).errors.map((e) => e.column),
      ['户籍地代码'],
    );
    assert.deepEqual(
      row({ 公民身份号码: own, 父亲身份号码: '无此人' }).errors.map((e) => e.column),
      ['父亲身份号码'],
    );
  });

  test('an ID cell holding only direction marks is empty', () => {
    const out = row({
      公民身份号码: '\u202D\u202C',
      无身份号码原因: '未落户',
      性别: '女',
      出生日期: '2020-01-01',
    });
    assert.deepEqual(out.errors, []);
  });

  test('a header with a direction mark or soft hyphen is the template header', () => {
    const headers = TEMPLATE_HEADERS.map((h) =>
      h === '公民身份号码' ? '\u202D公民身份\u00AD号码\u202C' : h,
    );
    assert.deepEqual(checkHeaders(headers), { missing: [], unknown: [] });
  });
});

describe('one person, one number, in one file', () => {
  test('the 15-digit and 18-digit forms of one number are one person: the later row repeats', async () => {
    const rows = await parseCsv([
      person('H-1', '王芳', EXAMPLE),
      person('H-2', '王芳', '110105491231002'),
      person('H-3', '王芳', ' 110105-491231-002 '),
    ]);
    assert.ok(rows.get(2)?.record);
    for (const n of [3, 4]) {
      assert.equal(rows.get(n)?.record, null);
      assert.match(rows.get(n)?.errors[0]?.reason.zh ?? '', /与第 2 行重复/);
    }
  });

  test('once the file shows Excel damage, numbers ending in 000 are refused, before and after it', async () => {
    const early = passingWith000('1980-01-01');
    const later = passingWith000('1990-01-01');
    assert.equal(valid(early.id).value, early.id, 'passes the check by itself');
    const rows = await parseCsv([
      person('H-1', '甲', makeIdNumber('410225', '1970-01-01', 11)),
      person('H-2', '乙', early.id),
      person('H-3', '丙', '410225197501011000'), // damaged: its check character fails
      person('H-4', '丁', later.id),
      person('H-5', '戊', makeIdNumber('410225', '1970-02-02', 11)),
    ]);
    assert.deepEqual(
      [...rows.keys()].sort((a, b) => a - b),
      [2, 3, 4, 5, 6],
    );
    assert.ok(rows.get(2)?.record);
    assert.ok(rows.get(6)?.record);
    assert.equal(rows.get(4)?.record, null);
    for (const n of [3, 5]) {
      const r = rows.get(n);
      assert.equal(r?.record, null, `row ${n}`);
      assert.deepEqual(
        r?.errors.map((e) => e.column),
        ['公民身份号码'],
      );
      assert.match(r?.errors[0]?.reason.zh ?? '', /000 结尾.*第 4 行.*Excel.*碰巧/);
      assert.match(r?.errors[0]?.reason.en ?? '', /row 4 .*by chance/);
      assert.equal(r?.errors[0]?.value, n === 3 ? early.id : later.id);
    }
  });

  test('an Excel float in the file marks the damage too', async () => {
    const early = passingWith000('1981-01-01');
    const rows = await parseCsv([person('H-1', '乙', early.id), person('H-2', '丙', '4.10225E+17')]);
    assert.equal(rows.get(2)?.record, null);
    assert.match(rows.get(2)?.errors[0]?.reason.zh ?? '', /第 3 行/);
  });

  test("a parent's, spouse's or carer's number is suspect too, and its damage marks the file", async () => {
    const mum = passingWith000('1960-01-01');
    const child = makeIdNumber('410225', '1990-05-05', 11);
    // Damage shown in the main column: the mother's number ending in 000 two rows up is refused.
    const rows = await parseCsv([
      { ...person('H-1', '乙', child), 母亲身份号码: mum.id },
      person('H-2', '丙', '4.10225E+17'),
    ]);
    assert.equal(rows.get(2)?.record, null);
    assert.deepEqual(
      rows.get(2)?.errors.map((e) => [e.column, e.value]),
      [['母亲身份号码', mum.id]],
    );
    assert.match(rows.get(2)?.errors[0]?.reason.zh ?? '', /000 结尾.*第 3 行.*Excel/);
    // Damage shown in a father's column marks a person's own number ending in 000.
    const own = passingWith000('1985-01-01');
    const marked = await parseCsv([
      person('H-1', '丁', own.id),
      { ...person('H-2', '戊', makeIdNumber('410225', '1999-09-09', 11)), 父亲身份号码: '4.10225E+17' },
    ]);
    assert.deepEqual(
      marked.get(2)?.errors.map((e) => e.column),
      ['公民身份号码'],
    );
    assert.match(marked.get(2)?.errors[0]?.reason.zh ?? '', /第 3 行/);
    assert.deepEqual(
      marked.get(3)?.errors.map((e) => e.column),
      ['父亲身份号码'],
    );
    // Without damage in the file, the mother's number is a number like any other.
    const clean = await parseCsv([{ ...person('H-1', '乙', child), 母亲身份号码: mum.id }]);
    assert.equal(clean.get(2)?.record?.motherIdNumber, mum.id);
  });

  test('damage 1,000 rows after a number ending in 000 no longer reaches it', async () => {
    const real = passingWith000('1983-01-01');
    const day = (i: number) => new Date(Date.UTC(1970, 0, 1 + i)).toISOString().slice(0, 10);
    const others = Array.from({ length: 1001 }, (_, i) =>
      person(`H-${i + 2}`, '丙', makeIdNumber('410225', day(i), 11)),
    );
    const rows = await parseCsv([
      person('H-1', '乙', real.id),
      ...others,
      person('H-X', '丁', '4.10225E+17'),
    ]);
    assert.equal(rows.size, 1003);
    assert.equal(rows.get(2)?.record?.idNumber, real.id);
    assert.equal(rows.get(1004)?.errors[0]?.reason.en.includes('Excel'), true);
  });

  test('without damage in the file, a real number ending in 000 is a person like any other', async () => {
    const real = passingWith000('1982-01-01');
    const rows = await parseCsv([
      person('H-1', '乙', real.id),
      person('H-2', '丙', makeIdNumber('410225', '1970-01-01', 11)),
    ]);
    assert.equal(rows.get(2)?.record?.idNumber, real.id);
    assert.equal(rows.get(2)?.record?.birthDate, real.birthDate);
    assert.ok(rows.get(3)?.record);
  });
});

// ---------------------------------------------------------------------------------------------
// Through the import, on the database.

describe('the import: one number in its two forms is one person', () => {
  let t: TestApp;
  let dir = '';
  let fileNo = 0;
  const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-idnumber-review-'));
    t = await createTestApp();
  });

  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function importRows(rows: Record<string, string>[]) {
    const file = path.join(dir, `f${++fileNo}.csv`);
    fs.writeFileSync(file, csv(rows));
    const outcome = await importRegistryFile(t.database, file, importer, { today: TODAY });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    return outcome;
  }

  const personsWith = (ids: string[]) =>
    t.ctx.db
      .selectFrom('persons')
      .select(['id_number', 'birth_date', 'sex'])
      .where('id_number', 'in', ids)
      .execute();

  test('imported as 18 digits, then as 15: the second import finds the person, writes nothing new', async () => {
    const first = await importRows([{ ...person('IDR-1', '王芳', EXAMPLE), 性别: '女' }]);
    assert.equal(first.counts.inserted, 1);
    const second = await importRows([{ ...person('IDR-1', '王芳', '110105491231002'), 性别: '女' }]);
    assert.deepEqual(second.counts, { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 });
    const stored = await personsWith([EXAMPLE, '110105491231002']);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]?.id_number, EXAMPLE);
  });

  test('imported as 15 digits first: stored as the upgraded 18, and the 18 matches it', async () => {
    const old = '410225780315021';
    const upgraded = withCheck('41022519780315021');
    const first = await importRows([person('IDR-2', '李强', old)]);
    assert.equal(first.counts.inserted, 1);
    const second = await importRows([person('IDR-2', '李强', upgraded)]);
    assert.equal(second.counts.unchanged, 1);
    const stored = await personsWith([old, upgraded]);
    assert.deepEqual(
      stored.map((p) => p.id_number),
      [upgraded],
    );
    assert.equal(String(stored[0]?.sex), '1');
  });

  test("a centenarian's old number is a row error, not a person born in 1989", async () => {
    const outcome = await importRows([person('IDR-3', '赵老', '410225890101997')]);
    assert.equal(outcome.counts.errors, 1);
    assert.equal(outcome.counts.inserted, 0);
    assert.equal((await personsWith([withCheck('41022519890101997')])).length, 0);
  });
});
