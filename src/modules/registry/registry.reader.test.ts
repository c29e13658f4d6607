import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { detectEncoding, FileRejected, parseCsv, readRows, readTable } from './registry.reader.ts';

async function records(chunks: string[]): Promise<string[][]> {
  async function* source() {
    yield* chunks;
  }
  const out: string[][] = [];
  for await (const r of parseCsv(source())) out.push(r);
  return out;
}

async function tableOf(buffer: Uint8Array, filename = 'f.csv') {
  const table = await readTable({ buffer, filename });
  const rows = [];
  for await (const row of table.rows) rows.push(row);
  return { headers: table.headers, rows };
}

describe('the CSV parser', () => {
  test('quotes, escaped quotes, embedded newlines, CRLF, LF and CR', async () => {
    const text = 'a,b,c\r\n"x, y","say ""hi""","line1\r\nline2"\n1,,3\r4,5,6';
    assert.deepEqual(await records([text]), [
      ['a', 'b', 'c'],
      ['x, y', 'say "hi"', 'line1\r\nline2'],
      ['1', '', '3'],
      ['4', '5', '6'],
    ]);
  });

  test('the same records whatever the chunk boundaries', async () => {
    const text = 'h1,h2\r\n"a""b","c\nd"\r\ne,f\r\n';
    const whole = await records([text]);
    for (let cut = 1; cut < text.length; cut++) {
      assert.deepEqual(await records([text.slice(0, cut), text.slice(cut)]), whole, `cut at ${cut}`);
    }
    assert.deepEqual(await records([...text]), whole);
  });

  test('tab-separated text (Excel "Unicode text") is read too', async () => {
    assert.deepEqual(await records(['a\tb\r\n1\t2\r\n']), [
      ['a', 'b'],
      ['1', '2'],
    ]);
  });

  test('an unclosed quote refuses the file', async () => {
    await assert.rejects(
      records(['a,b\r\n"x,y\r\n']),
      (e) => e instanceof FileRejected && e.reason === 'MALFORMED_CSV',
    );
  });
});

describe('encodings', () => {
  test('strict UTF-8 is UTF-8, anything else GB18030', () => {
    assert.equal(detectEncoding(Buffer.from('\uFEFF姓名,户编号', 'utf8')), 'utf-8');
    assert.equal(detectEncoding(Buffer.from('姓名,户编号', 'utf8')), 'utf-8');
    assert.equal(detectEncoding(iconv.encode('姓名,户编号', 'gbk')), 'gb18030');
    // A multi-byte character cut at the end of the sample is still UTF-8.
    assert.equal(detectEncoding(Buffer.from('姓名', 'utf8').subarray(0, 4)), 'utf-8');
  });

  test('a GBK file larger than the 64 KiB sample decodes across chunk boundaries', async () => {
    const line = '张伟,兰考县南彰镇南彰村,"备注，含逗号"\r\n';
    const text = '姓名,地址,备注\r\n' + line.repeat(5000);
    const { headers, rows } = await tableOf(iconv.encode(text, 'gb18030'));
    assert.deepEqual(headers, ['姓名', '地址', '备注']);
    assert.equal(rows.length, 5000);
    assert.deepEqual(rows[4999]?.cells, { 姓名: '张伟', 地址: '兰考县南彰镇南彰村', 备注: '备注，含逗号' });
    assert.equal(rows[4999]?.rowNumber, 5001);
  });

  test('="..." that keeps long numbers as text in Excel is unwrapped', async () => {
    const { rows } = await tableOf(Buffer.from('a,b\r\n="410225198001020011",="0371"\r\n'));
    assert.deepEqual(rows[0]?.cells, { a: '410225198001020011', b: '0371' });
  });
});

describe('structural faults', () => {
  test('duplicate headers refuse the file', async () => {
    await assert.rejects(
      tableOf(Buffer.from('姓名,姓名\r\n1,2\r\n')),
      (e) =>
        e instanceof FileRejected && e.reason === 'DUPLICATE_HEADERS' && e.userMessage.zh.includes('姓名'),
    );
  });

  test('an old .xls (OLE2) renamed .xlsx is named as such', async () => {
    const ole = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0]);
    await assert.rejects(
      readRows({ buffer: ole, filename: 'x.xlsx' }).next(),
      (e) => e instanceof FileRejected && e.reason === 'OLD_XLS',
    );
  });

  test('a zip that is not a workbook, and a truncated one, are refused', async () => {
    const zipHeaderOnly = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(100)]);
    await assert.rejects(
      readRows({ buffer: zipHeaderOnly, filename: 'x.xlsx' }).next(),
      (e) => e instanceof FileRejected && e.reason === 'CORRUPT',
    );
  });

  test('a missing file is refused, not a crash', async () => {
    await assert.rejects(readRows('/nonexistent/registry.csv').next(), (e) => e instanceof FileRejected);
  });
});

describe('.xlsx', () => {
  test('Chinese text survives zip chunk boundaries, in shared and inline strings, with types kept', async () => {
    const { default: ExcelJS } = await import('exceljs');
    const names = Array.from({ length: 4000 }, (_, i) => `张${'伟芳娜敏静丽'.repeat(1 + (i % 5))}${i}`);
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('人员');
    sheet.addRow(['姓名', '数字', '日期', '是否', '公式']);
    // Some rows longer than a zip chunk, so that a row spans several chunks.
    names[7] = '长'.repeat(100_000);
    names[8] = '备注'.repeat(70_000);
    names.forEach((n, i) => {
      const row = sheet.addRow([
        n,
        i,
        new Date(Date.UTC(2020, 0, 1 + (i % 300))),
        i % 2 === 0,
        { formula: 'A1', result: `结果${i}` },
      ]);
      row.getCell(3).numFmt = 'yyyy"年"m"月"d"日"';
    });
    const buffer = Buffer.from(await workbook.xlsx.writeBuffer());
    const table = await readTable({ buffer, filename: '人员.xlsx' });
    assert.deepEqual(table.headers, ['姓名', '数字', '日期', '是否', '公式']);
    let i = 0;
    for await (const row of table.rows) {
      assert.equal(row.rowNumber, i + 2);
      assert.equal(row.cells['姓名'], names[i]);
      assert.equal(row.cells['数字'], i);
      assert.deepEqual(row.cells['日期'], new Date(Date.UTC(2020, 0, 1 + (i % 300))));
      assert.equal(row.cells['是否'], i % 2 === 0);
      assert.equal(row.cells['公式'], `结果${i}`);
      i++;
    }
    assert.equal(i, names.length);
  });
});
