// Template cells the database cannot store as written (session 10 review): a text longer than the
// column holds (a 1,000-character name overflowed the name index and failed the whole import, leaving
// its households written without persons) and control characters (a NUL from an .xlsx's _x0000_, a
// BEL) are row errors naming the column; the file's other rows are imported.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { rowToRecord, TEMPLATE_HEADERS } from './registry.template.ts';

const TODAY = '2026-11-29';
const V1 = '410225101200';
const ctx = { regionExists: (code: string) => code === V1, today: TODAY };

const base = (cells: Record<string, string>) => ({
  户编号: 'H-1',
  姓名: '王芳',
  公民身份号码: makeIdNumber('410225', '1990-01-01', 122),
  与户主关系: '户主',
  户籍地代码: V1,
  ...cells,
});

/** Distinct characters, as a real long text would have (a repeated one compresses in the index). */
const longText = (n: number) =>
  Array.from({ length: n }, (_, i) => String.fromCharCode(0x4e00 + i * 7)).join('');

function reasonsFor(cells: Record<string, string>, column: string): string[] {
  const out = rowToRecord(base(cells), ctx);
  return out.errors.filter((e) => e.column === column).map((e) => e.reason.zh);
}

describe('a cell longer than its column holds', () => {
  test('姓名 holds 50 characters, as the API; 51 is a row error naming the limit and the length', () => {
    assert.deepEqual(reasonsFor({ 姓名: longText(50) }, '姓名'), []);
    assert.deepEqual(reasonsFor({ 姓名: longText(51) }, '姓名'), ['内容过长：最多 50 个字，本格有 51 个字']);
    // Characters, not UTF-16 units: a name of 50 characters outside the BMP (𠮷) fits.
    assert.deepEqual(reasonsFor({ 姓名: '𠮷'.repeat(50) }, '姓名'), []);
  });

  test('each free-text column has its limit', () => {
    const limits: [string, number][] = [
      ['户编号', 40],
      ['无身份号码原因', 100],
      ['民族', 20],
      ['外出务工地', 100],
      ['学校名称', 100],
    ];
    for (const [column, limit] of limits) {
      assert.deepEqual(reasonsFor({ [column]: longText(limit) }, column), [], `${column} ${limit}`);
      assert.match(
        reasonsFor({ [column]: longText(limit + 1) }, column).join(''),
        new RegExp(`最多 ${limit} 个字`),
        column,
      );
    }
  });
});

describe('control characters', () => {
  test('a NUL or a BEL in a text cell is a row error; the error keeps the cell with U+FFFD in its place', () => {
    for (const [column, value] of [
      ['姓名', '王\u0000芳'],
      ['姓名', '王\u0007芳'],
      ['学校名称', '城关\u001b小学'],
      ['民族', '汉\u007f族'],
    ] as const) {
      const out = rowToRecord(base({ [column]: value }), ctx);
      const error = out.errors.find((e) => e.column === column);
      assert.ok(error, `${column} ${JSON.stringify(value)}`);
      assert.match(error.reason.zh, /控制字符/);
      assert.match(error.reason.en, /control character/);
      assert.equal(error.value, [...value].map((c) => (c < ' ' || c === '\u007f' ? '\uFFFD' : c)).join(''));
      assert.equal(out.record, null);
    }
  });

  test('a tab or a line break inside a cell is white space, not an error', () => {
    const out = rowToRecord(base({ 学校名称: '城关\t小学\r\n分校', 就学阶段: '小学' }), ctx);
    assert.deepEqual(out.errors, []);
    assert.equal(out.record?.school, '城关 小学 分校');
  });
});

describe('the import of a file with such cells', () => {
  let t: TestApp;
  let dir = '';
  const importer: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-cells-review-'));
    t = await createTestApp();
  });
  after(async () => {
    await t.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const counted = async () =>
    (
      await sql<{ households: number; persons: number }>`
        SELECT (SELECT count(*)::int FROM households) AS households,
          (SELECT count(*)::int FROM persons) AS persons`.execute(t.ctx.db)
    ).rows[0];

  const rows = [
    base({ 户编号: 'C-1', 姓名: '李好人', 公民身份号码: makeIdNumber('410225', '1981-03-04', 111) }),
    base({ 户编号: 'C-2', 姓名: longText(1000), 公民身份号码: makeIdNumber('410225', '1982-03-04', 131) }),
    base({ 户编号: 'C-3', 姓名: '王\u0007三', 公民身份号码: makeIdNumber('410225', '1983-03-04', 151) }),
  ];
  // How an .xlsx holds a NUL in a cell's text (a CSV with a NUL byte is refused whole as binary).
  const nulRow = base({
    户编号: 'C-4',
    姓名: '赵_x0000_四',
    公民身份号码: makeIdNumber('410225', '1984-03-04', 171),
  });

  async function expectOneWritten(file: string, errors: number) {
    const before = await counted();
    const outcome = await importRegistryFile(t.database, file, importer, {
      today: TODAY,
      errorReportBase: path.join(dir, path.basename(file) + '-errors'),
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.equal(outcome.counts.errors, errors, JSON.stringify(outcome.counts));
    const after = await counted();
    // The refused rows' households are not written either.
    assert.deepEqual(after, {
      households: (before?.households ?? 0) + outcome.counts.inserted,
      persons: (before?.persons ?? 0) + outcome.counts.inserted,
    });
    const report = fs.readFileSync(path.join(dir, path.basename(file) + '-errors.csv'), 'utf8');
    assert.match(report, /内容过长：最多 50 个字，本格有 1000 个字/);
    assert.equal((report.match(/控制字符/g) ?? []).length, errors - 1);
    assert.ok(
      !report.includes('\u0000') && !report.includes('\u0007'),
      'the report holds no control character',
    );
    return outcome;
  }

  test('CSV: the good row is written, the two others are reported on their rows', async () => {
    const file = path.join(dir, 'cells.csv');
    const line = (r: Record<string, string>) => TEMPLATE_HEADERS.map((h) => r[h] ?? '').join(',');
    fs.writeFileSync(file, '\uFEFF' + [TEMPLATE_HEADERS.join(','), ...rows.map(line)].join('\r\n') + '\r\n');
    const outcome = await expectOneWritten(file, 2);
    assert.equal(outcome.counts.inserted, 1);
  });

  test('xlsx: a NUL written by Excel as _x0000_ is refused the same way', async () => {
    const file = path.join(dir, 'cells.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('登记表');
    sheet.addRow([...TEMPLATE_HEADERS]);
    // The BEL as Excel holds it too (exceljs would drop a raw control character when writing).
    const xlsxRows = [...rows, nulRow].map((r) => ({ ...r, 姓名: r.姓名.replace('\u0007', '_x0007_') }));
    // Another good person than the CSV's (who is registered now).
    xlsxRows[0] = base({
      户编号: 'C-1',
      姓名: '周好人',
      公民身份号码: makeIdNumber('410225', '1985-05-05', 191),
    });
    for (const [i, r] of xlsxRows.entries())
      sheet.addRow(TEMPLATE_HEADERS.map((h) => (h === '户编号' ? `X-${i}` : (r[h as keyof typeof r] ?? ''))));
    await workbook.xlsx.writeFile(file);
    // What Excel writes for a NUL in a cell's text.
    const written = await new ExcelJS.Workbook().xlsx.readFile(file);
    assert.ok(String(written.getWorksheet('登记表')?.getCell('B5').value).includes('\u0000'));
    const outcome = await expectOneWritten(file, 3);
    assert.equal(outcome.counts.inserted, 1);
  });
});
