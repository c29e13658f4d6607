import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { csvField, openTableWriter, writeRegistryRecords } from './registry.writer.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';
import { household } from '../../../test/fixtures/registry/make-fixtures.ts';

let dir = '';
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-writer-'));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('the registry writer', () => {
  test('.xlsx: ID numbers, phones and codes are text cells in text-formatted columns', async () => {
    const file = path.join(dir, 'export.xlsx');
    assert.equal(await writeRegistryRecords(file, household()), 3);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.readFile(file);
    const sheet = workbook.worksheets[0]!;
    assert.deepEqual((sheet.getRow(1).values as unknown[]).slice(1), [...TEMPLATE_HEADERS]);
    for (const header of ['公民身份号码', '户籍地代码', '联系电话', '户编号']) {
      const cell = sheet.getRow(2).getCell(TEMPLATE_HEADERS.indexOf(header) + 1);
      assert.equal(cell.type, ExcelJS.ValueType.String, header);
      assert.equal(cell.numFmt, '@', header);
    }
    assert.equal(sheet.getRow(2).getCell(3).value, household()[0]?.idNumber);
  });

  test('.csv: UTF-8 BOM, CRLF, quoting, long digit strings kept as text for Excel', async () => {
    const file = path.join(dir, 'export.csv');
    await writeRegistryRecords(file, household());
    const bytes = fs.readFileSync(file);
    assert.deepEqual([...bytes.subarray(0, 3)], [0xef, 0xbb, 0xbf]);
    const lines = bytes.toString('utf8').slice(1).split('\r\n');
    assert.equal(lines[0], TEMPLATE_HEADERS.join(','));
    // 41022519800102011X ends in X: Excel keeps it text anyway; the all-digit codes get ="...".
    assert.ok(lines[1]?.startsWith('="41022500000001",张伟,41022519800102011X,'));
    assert.ok(lines[1]?.includes(',="410225102200",="410225102200",13812345678,'));
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
    assert.equal(csvField('13812345678'), '13812345678');
    assert.equal(csvField('0371'), '="0371"');
  });

  test('writes to a stream with an explicit format; refuses an unknown extension', async () => {
    const file = path.join(dir, 'stream.csv');
    const out = fs.createWriteStream(file);
    const writer = openTableWriter(out, ['a'], { format: 'csv' });
    await writer.writeRow(['1']);
    await writer.close();
    await new Promise((resolve) => out.end(resolve));
    assert.equal(fs.readFileSync(file, 'utf8'), '\uFEFFa\r\n1\r\n');
    assert.throws(() => openTableWriter(path.join(dir, 'x.txt'), ['a']), TypeError);
  });
});
