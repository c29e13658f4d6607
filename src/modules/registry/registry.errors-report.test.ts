import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDivision } from '../regions/index.ts';
import { describeErrors, ERROR_REASON_HEADER, writeErrorReport } from './registry.errors-report.ts';
import { openRegistryFile, parseRegistryFile } from './registry.parse.ts';
import type { ParsedRow } from './registry.parse.ts';
import { readTable } from './registry.reader.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';
import { makeFixtures, TODAY } from '../../../test/fixtures/registry/make-fixtures.ts';

let dir = '';
const regions = new Set<string>();
const options = { regionExists: (code: string) => regions.has(code), today: TODAY };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-error-report-'));
  await makeFixtures(dir);
  for await (const r of readDivision({ within: '410225' })) regions.add(r.code);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

async function parsed(file: string): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const r of parseRegistryFile(file, options)) rows.push(r);
  return rows;
}

describe('the error report', () => {
  test('describeErrors names each column and joins the reasons with "; "', () => {
    const text = describeErrors([
      { column: '性别', value: '男', reason: { zh: '性别不一致', en: 'sex disagrees' } },
      { column: null, value: '', reason: { zh: '整行错误', en: 'row error' } },
    ]);
    assert.equal(text, '性别：性别不一致; 整行错误');
  });

  for (const format of ['xlsx', 'csv'] as const) {
    test(`${format}: only the rejected rows, their cells as written, plus 错误原因`, async () => {
      const rows = await parsed(path.join(dir, 'bad-ids.xlsx'));
      const report = path.join(dir, `report.${format}`);
      assert.equal(await writeErrorReport(report, rows), 5);
      const table = await readTable(report);
      assert.deepEqual(table.headers, [...TEMPLATE_HEADERS, ERROR_REASON_HEADER]);
      const back = [];
      for await (const r of table.rows) back.push(r.cells);
      assert.equal(back.length, 5);
      // Kept as text: the float as Excel showed it, not re-read as a number.
      assert.equal(back[0]?.['公民身份号码'], '410225198001020100');
      assert.equal(back[1]?.['公民身份号码'], '4.10225E+17');
      assert.match(String(back[2]?.[ERROR_REASON_HEADER]), /^公民身份号码：公民身份号码校验码错误/);
      // Each reason ends with the row's number in the imported file.
      const numbers = back.map((r) => /（第 (\d+) 行）$/.exec(String(r[ERROR_REASON_HEADER]))?.[1]);
      assert.deepEqual(
        numbers,
        rows.filter((r) => r.errors.length > 0).map((r) => String(r.rowNumber)),
      );
      assert.equal(back[0]?.['姓名'], '张伟');
    });
  }

  test('a CSV report starts with a UTF-8 BOM so that Excel opens it', async () => {
    const report = path.join(dir, 'bom.csv');
    await writeErrorReport(report, await parsed(path.join(dir, 'conflicts.csv')));
    const bytes = fs.readFileSync(report);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
  });

  test('the clerk fixes the report and imports it: 错误原因 is only reported as unknown', async () => {
    const rows = await parsed(path.join(dir, 'conflicts.csv'));
    const report = path.join(dir, 'fix-me.xlsx');
    await writeErrorReport(report, rows);
    const opened = await openRegistryFile(report, options);
    assert.deepEqual(opened.unknownHeaders, [ERROR_REASON_HEADER]);
    const again = [];
    for await (const r of opened.rows) again.push(r);
    // The same three errors come back, row numbers now those of the report.
    assert.deepEqual(
      again.map((r) => [r.rowNumber, r.errors.map((e) => e.column)]),
      [
        [2, ['性别']],
        [3, ['出生日期']],
        [4, []],
      ],
    );
  });
});
