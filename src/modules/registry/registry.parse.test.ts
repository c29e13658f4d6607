// The bad-file corpus (test/fixtures/registry/make-fixtures.ts): each case with its expected outcome.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { readDivision } from '../regions/index.ts';
import { collectReferences, openRegistryFile, parseRegistryFile } from './registry.parse.ts';
import type { ParsedRow } from './registry.parse.ts';
import { FileRejected } from './registry.reader.ts';
import ExcelJS from 'exceljs';
import {
  household,
  makeFixtures,
  person,
  templateCsv,
  TODAY,
} from '../../../test/fixtures/registry/make-fixtures.ts';
import { recordToRow, TEMPLATE_HEADERS } from './registry.template.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { FixtureCase } from '../../../test/fixtures/registry/make-fixtures.ts';

let dir = '';
let cases: FixtureCase[] = [];
const regions = new Set<string>();
const options = { regionExists: (code: string) => regions.has(code), today: TODAY };

async function parseAll(file: string): Promise<ParsedRow[]> {
  const rows: ParsedRow[] = [];
  for await (const row of parseRegistryFile(file, options)) rows.push(row);
  return rows;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-registry-parse-'));
  cases = await makeFixtures(dir);
  for await (const r of readDivision({ within: '410225' })) regions.add(r.code);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the bad-file corpus', () => {
  test('every case has the expected outcome', async () => {
    assert.ok(cases.length >= 15);
    for (const c of cases) {
      const expected = c.expected;
      if ('rejected' in expected) {
        await assert.rejects(parseAll(c.file), (error: unknown) => {
          assert.ok(error instanceof FileRejected, `${c.name}: ${String(error)}`);
          assert.equal(error.reason, expected.rejected, c.name);
          assert.equal(error.code, 'FILE_REJECTED');
          for (const s of expected.messageIncludes ?? [])
            assert.ok(error.userMessage.zh.includes(s), `${c.name}: ${s}`);
          return true;
        });
        continue;
      }
      let unknown: string[] = [];
      const rows: ParsedRow[] = [];
      for await (const row of parseRegistryFile(c.file, {
        ...options,
        onHeaders: (h) => (unknown = h.unknown),
      })) {
        rows.push(row);
      }
      const got = Object.fromEntries(rows.map((r) => [r.rowNumber, r.errors.map((e) => e.column ?? '')]));
      assert.deepEqual(got, Object.fromEntries(Object.entries(expected.rows)), `${c.name} (${c.about})`);
      for (const row of rows)
        assert.equal(row.record === null, row.errors.length > 0, `${c.name} row ${row.rowNumber}`);
      for (const [rowNumber, reason] of Object.entries(expected.reasons ?? {})) {
        const row = rows.find((r) => r.rowNumber === Number(rowNumber));
        assert.ok(
          row?.errors.some((e) => e.reason.zh.includes(reason)),
          `${c.name} row ${rowNumber}: expected "${reason}" in ${JSON.stringify(row?.errors)}`,
        );
      }
      assert.deepEqual(unknown, expected.unknownHeaders ?? [], c.name);
    }
  });

  test('GBK, UTF-8 and UTF-8-with-BOM files give identical records, equal to what was written', async () => {
    const [bom, plain, gbk] = await Promise.all(
      ['utf8-bom.csv', 'utf8.csv', 'gbk.csv'].map((f) => parseAll(path.join(dir, f))),
    );
    assert.deepEqual(plain, bom);
    assert.deepEqual(gbk, bom);
    assert.deepEqual(
      bom?.map((r) => r.record),
      household(),
    );
  });

  test('an error row keeps the cells as the clerk wrote them', async () => {
    const rows = await parseAll(path.join(dir, 'bad-ids.xlsx'));
    assert.equal(rows[0]?.raw['公民身份号码'], '410225198001020100');
    assert.equal(rows[1]?.raw['公民身份号码'], '4.10225E+17');
    assert.equal(rows[0]?.raw['姓名'], '张伟');
  });

  test('openRegistryFile reports the headers before any row, and unknown columns once', async () => {
    const opened = await openRegistryFile(path.join(dir, 'blank-rows.xlsx'), options);
    assert.deepEqual(opened.unknownHeaders, ['备注']);
    assert.ok(opened.headers.includes('户编号'));
    let n = 0;
    for await (const _ of opened.rows) n++;
    assert.equal(n, 2);
  });

  test('a row error names the first row of a duplicate and leaves the first row valid', async () => {
    const rows = await parseAll(path.join(dir, 'conflicts.csv'));
    assert.notEqual(rows[0]?.record, null);
    assert.match(rows[3]?.errors[0]?.reason.en ?? '', /repeats row 2/);
  });
});

describe('collectReferences', () => {
  test('lists the persons a record points at by ID number, with their columns', () => {
    const [father, mother, daughter] = household();
    assert.deepEqual(collectReferences(daughter!), [
      { relation: 'father', column: '父亲身份号码', idNumber: father!.idNumber },
      { relation: 'mother', column: '母亲身份号码', idNumber: mother!.idNumber },
    ]);
    assert.deepEqual(
      collectReferences(father!).map((r) => r.relation),
      ['spouse'],
    );
  });
});

describe('county ledgers as clerks keep them', () => {
  test('a header wrapped inside its cell (Alt+Enter) is the same column, in CSV and in .xlsx', async () => {
    const wrap = (h: string) =>
      h === '公民身份号码' ? '公民身份\n号码' : h === '与户主关系' ? ' 与户主\r\n关系　' : h;
    const rows = household().map(recordToRow);
    // The rows keyed by the wrapped headers, as the file has them.
    const wrapped = rows.map((r) => Object.fromEntries(TEMPLATE_HEADERS.map((h) => [wrap(h), r[h] ?? ''])));
    const csv = path.join(dir, 'wrapped-header.csv');
    fs.writeFileSync(csv, templateCsv(wrapped, TEMPLATE_HEADERS.map(wrap)));
    const xlsx = path.join(dir, 'wrapped-header.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Sheet1');
    sheet.addRow(TEMPLATE_HEADERS.map((h) => (h === '户籍地代码' ? '户籍地\n代码' : h)));
    for (const r of rows) sheet.addRow(TEMPLATE_HEADERS.map((h) => r[h] || null));
    await workbook.xlsx.writeFile(xlsx);
    for (const file of [csv, xlsx]) {
      const parsed = await parseAll(file);
      assert.deepEqual(
        parsed.map((r) => [r.rowNumber, r.errors.length, r.record?.idNumber]),
        rows.map((r, i) => [i + 2, 0, r['公民身份号码']]),
        file,
      );
    }
  });

  test('names: padding spaces dropped, the middle dot unified, so the same person is found once', async () => {
    const rows = [
      person({ name: '张\u3000伟', idNumber: null, noIdReason: '未落户' }),
      person({ name: '张伟', idNumber: null, noIdReason: '未落户', relationToHead: '子' }),
      person({ name: '阿依古丽•买买提', sex: 2, birthDate: '1990-03-04' }),
    ].map(recordToRow);
    const file = path.join(dir, 'names.csv');
    fs.writeFileSync(file, templateCsv(rows));
    const parsed = await parseAll(file);
    assert.equal(parsed[0]?.record?.name, '张伟');
    assert.deepEqual(
      parsed[1]?.errors.map((e) => [e.column, e.reason.zh]),
      [['姓名', '与第 2 行为同一户、同姓名、同出生日期的人：同一人在文件中只能出现一次']],
    );
    assert.equal(parsed[2]?.record?.name, '阿依古丽·买买提');
  });

  test('a 15-digit ID number in a numeric cell and one written with dashes are accepted', async () => {
    const man = person({ birthDate: '1980-02-08' });
    const woman = person({ name: '李芳', sex: 2, birthDate: '1982-05-06', relationToHead: '配偶' });
    const file = path.join(dir, 'id-forms.xlsx');
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('Sheet1');
    sheet.addRow([...TEMPLATE_HEADERS]);
    const idAt = TEMPLATE_HEADERS.indexOf('公民身份号码');
    const manRow = TEMPLATE_HEADERS.map((h) => recordToRow(man)[h] || null) as unknown[];
    manRow[idAt] = 410225800208011; // 15 digits: 410225 800208 011
    const womanRow = TEMPLATE_HEADERS.map((h) => recordToRow(woman)[h] || null) as unknown[];
    const id = woman.idNumber ?? '';
    womanRow[idAt] = `${id.slice(0, 6)}-${id.slice(6, 14)}-${id.slice(14)}`;
    sheet.addRow(manRow);
    sheet.addRow(womanRow);
    await workbook.xlsx.writeFile(file);
    const parsed = await parseAll(file);
    assert.deepEqual(
      parsed.map((r) => [r.errors.map((e) => e.reason.en), r.record?.idNumber]),
      [
        [[], makeIdNumber('410225', '1980-02-08', '011')],
        [[], id],
      ],
    );
  });
});
