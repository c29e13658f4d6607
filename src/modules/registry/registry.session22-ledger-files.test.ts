// Session 22, real-looking ledgers (findings-ledgers):
// - a child's row with an empty 姓名, or with a colon in 姓名 and no 序号, was skipped without a word
//   (taken for a blank line, or for a signature line): it is refused on 姓名, or read;
// - the sheets the import passes over (no column row, hidden) are named in its message, with the rows
//   holding ID numbers;
// - a phone number in 务工地点 (外出务工地 in the template) is refused, never the destination;
// - a 委托监护人 under 18 is refused on the ledger's row, as the API and the template refuse one.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName } from '../../../test/support/files.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { rowToRecord } from './registry.template.ts';

const LANKAO = '410225';
const TODAY = '2026-12-02';
const { scratch, fileOf, parse } = lankaoLedgerFiles('shouhu-ledger-s22-files-', TODAY);

let t: TestApp;
const county: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

before(async () => {
  t = await createTestApp({ dataDir: scratch.path('data') });
});
after(async () => t?.close());

const HEADER = ['序号', '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点', '父母双方同时外出']; // prettier-ignore

let serial = 0;
const idOf = (birth: string, sex: 1 | 2) => {
  serial += 1;
  return makeIdNumber(LANKAO, birth, 500 + serial * 2 + (sex === 1 ? 1 : 0));
};

/** A child's row: the child, both parents away in 北京 unless the places are given. */
function childRow(
  no: string,
  name: string,
  birth: string,
  places: { father?: string; mother?: string } = {},
): string[] {
  return [
    no,
    name,
    '男',
    birth,
    idOf(birth, 1),
    '南彰镇南庄村',
    `${name}父`,
    idOf('1986-02-01', 1),
    places.father ?? '北京',
    `${name}母`,
    idOf('1988-02-01', 2),
    places.mother ?? '北京',
    '是',
  ];
}

describe('no child row is dropped without a word', () => {
  test('a row with an empty 姓名 is refused on 姓名; a name with a note and a colon is read; the signature lines are skipped', async () => {
    const twin = childRow('', '常二（注：双胞胎）', '2016-02-02');
    const unnamed = childRow('3', '', '2016-02-03');
    const file = fileOf(
      'dropped.csv',
      csvOf([
        ['填报单位：南彰镇人民政府', '', '', '', '填报日期：2026-11-20'],
        HEADER,
        childRow('1', '常一', '2016-02-01'),
        twin,
        unnamed,
        childRow('4', '常四', '2016-02-04'),
        // A line numbered in advance and left blank is no child.
        ['5'],
        ['合计', '4人'],
        ['填表人：王会计', '', '审核人：李主任', '', '联系电话：0371-26123456'],
        ['分管领导（签字）：', '', '', '制表日期：2026.11.1'],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.name, r.child.idNumber]),
      [
        [3, '常一', rows[0]?.child.idNumber],
        [4, '常二(注:双胞胎)', twin[4]],
        [5, null, unnamed[4]],
        [6, '常四', rows[3]?.child.idNumber],
      ],
    );
    assert.deepEqual(errorsOf(rows[2]), [['姓名', '', '姓名不能为空']]);
    assert.deepEqual(errorsOf(rows[1]), []);
  });

  test('the import counts and reports the row without a name', async () => {
    const file = fileOf(
      'dropped-import.csv',
      csvOf([
        ['填报日期：2026-11-20'],
        HEADER,
        childRow('1', '严一', '2016-03-01'),
        childRow('', '严二（注：双胞胎）', '2016-03-02'),
        childRow('3', '', '2016-03-03'),
        ['填表人：王会计', '', '审核人：李主任'],
      ]),
    );
    const outcome = await importLedgerFile(t.ctx.db, file, county, {
      today: TODAY,
      dryRun: true,
      errorReportBase: scratch.path('dropped-errors'),
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.deepEqual(
      { rows: outcome.counts.rows, inserted: outcome.counts.inserted, errors: outcome.counts.errors },
      { rows: 3, inserted: 2, errors: 1 },
    );
    const reasons = await reasonsByName(outcome.errorReport?.csv);
    assert.match(reasons[''] ?? '', /姓名不能为空/);
  });
});

describe('the sheets the ledger import passes over are named', () => {
  test('a continuation sheet without a column row and a hidden sheet, with the rows holding ID numbers', async () => {
    const content = await xlsx((wb) => {
      const first = wb.addWorksheet('南彰村');
      first.addRow(['填报日期：2026-11-20']);
      first.addRow(HEADER);
      first.addRow(childRow('1', '续童一', '2015-04-01'));
      const continued = wb.addWorksheet('Sheet2');
      continued.addRow(childRow('2', '续童二', '2015-04-02'));
      continued.addRow(childRow('3', '续童三', '2015-04-03'));
      const old = wb.addWorksheet('旧表', { state: 'hidden' });
      old.addRow(['农村留守儿童基本情况登记表']);
      old.addRow(HEADER);
      old.addRow(childRow('1', '旧孩子', '2014-01-01'));
      // An empty sheet is not named.
      wb.addWorksheet('Sheet4');
    });
    const outcome = await importLedgerFile(t.ctx.db, fileOf('sheets.xlsx', content), county, {
      today: TODAY,
      dryRun: true,
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.equal(outcome.counts.rows, 1);
    assert.match(outcome.message?.zh ?? '', /工作表“Sheet2”没有列名行，未导入，其中 2 行有公民身份号码/);
    assert.match(outcome.message?.zh ?? '', /工作表“旧表”已隐藏，未导入，其中 1 行有公民身份号码/);
    assert.match(
      outcome.message?.en ?? '',
      /the worksheet "Sheet2" has no column row and was not imported; 2 of its rows hold ID numbers/,
    );
    assert.match(
      outcome.message?.en ?? '',
      /the worksheet "旧表" is hidden and was not imported; 1 of its rows hold ID numbers/,
    );
    assert.doesNotMatch(outcome.message?.zh ?? '', /Sheet4/);
  });
});

describe('a phone number is no work place', () => {
  test('务工地点 holding only a phone, labelled or not, or a place with a phone, is refused naming the column', async () => {
    const file = fileOf(
      'phones.csv',
      csvOf([
        ['填报日期：2026-11-20'],
        HEADER,
        childRow('1', '张浩然', '2016-05-01', { mother: '13812340002' }),
        childRow('2', '赵一鸣', '2016-05-02', { father: '电话13912345678' }),
        childRow('3', '钱一', '2016-05-03', { father: '北京 13912345678' }),
        childRow('4', '孙一', '2016-05-04', { father: '北京市朝阳区' }),
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(errorsOf(rows[0]), [
      [
        '母亲务工地点',
        '13812340002',
        '母亲务工地点填写的是电话号码，不是务工地点：请填写外出务工的地点，电话填在“母亲联系电话”',
      ],
    ]);
    assert.equal(rows[0]?.mother?.workplace ?? null, null);
    assert.deepEqual(
      errorsOf(rows[1])?.map((e) => e[0]),
      ['父亲务工地点'],
    );
    assert.equal(rows[1]?.father?.workplace ?? null, null);
    assert.deepEqual(errorsOf(rows[2]), [
      [
        '父亲务工地点',
        '北京 13912345678',
        '父亲务工地点中含有电话号码：务工地点只填地点，电话填在“父亲联系电话”',
      ],
    ]);
    assert.deepEqual(errorsOf(rows[3]), []);
    assert.equal(rows[3]?.father?.workplace, '北京市朝阳区');
  });

  test('the template’s 外出务工地 likewise', () => {
    const ctx = { regionExists: (code: string) => code === '410225101200', today: TODAY };
    const reasons = (destination: string) =>
      rowToRecord(
        {
          户编号: 'H-1',
          姓名: '王芳',
          公民身份号码: makeIdNumber(LANKAO, '1990-01-01', 122),
          与户主关系: '户主',
          户籍地代码: '410225101200',
          外出务工: '是',
          外出开始日期: '2026-01-01',
          外出务工地: destination,
        },
        ctx,
      ).errors.map((e) => [e.column, e.reason.zh]);
    assert.deepEqual(reasons('13912345678'), [
      ['外出务工地', '外出务工地填写的是电话号码，不是务工地点：请填写外出务工的地点，电话填在“联系电话”'],
    ]);
    assert.deepEqual(reasons('手机：139 1234 5678').length, 1);
    assert.deepEqual(reasons('广东省深圳市'), []);
  });
});

describe('an entrusted carer under 18 is refused, as the API refuses one', () => {
  test('a 16-year-old 委托监护人 is a row error on 委托监护人公民身份号码 with the API’s message; an adult is taken', async () => {
    const header = [...HEADER, '委托监护人姓名', '委托监护人公民身份号码', '委托监护人与儿童关系'];
    const minor = makeIdNumber(LANKAO, '2010-01-01', 835);
    const adult = makeIdNumber(LANKAO, '1960-01-01', 835);
    const file = fileOf(
      'carer.csv',
      csvOf([
        ['填报日期：2026-11-20'],
        header,
        [...childRow('1', '柳童', '2015-09-01'), '柳明远', minor, '哥哥'],
        [...childRow('2', '柳二', '2015-09-02'), '柳大山', adult, '伯父'],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(errorsOf(rows[0]), [
      [
        '委托监护人公民身份号码',
        minor,
        `“柳明远”在 ${TODAY} 为 16 周岁：委托照护人须为年满 18 周岁的完全民事行为能力人（未成年人保护法第二十二条、民法典第二十七条）`,
      ],
    ]);
    assert.deepEqual(errorsOf(rows[1]), []);
  });
});
