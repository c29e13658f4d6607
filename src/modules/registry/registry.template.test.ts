import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  TEMPLATE_COLUMNS,
  TEMPLATE_HEADERS,
  checkHeaders,
  formatFenAsYuan,
  parseYuanToFen,
  recordToCells,
  recordToRow,
  rowToRecord,
} from './registry.template.ts';
import type { RegistryRecord } from './registry.template.ts';
import { household, person, NANZHANG } from '../../../test/fixtures/registry/make-fixtures.ts';

const ctx = { regionExists: (code: string) => code.startsWith('410225'), today: '2026-11-29' };

function parse(cells: Record<string, unknown>) {
  return rowToRecord(cells, ctx);
}

function errorColumns(cells: Record<string, unknown>): (string | null)[] {
  return parse(cells).errors.map((e) => e.column);
}

describe('the template columns', () => {
  test('34 columns with the EXCHANGE.md headers, in order, and the four required ones', () => {
    assert.equal(TEMPLATE_COLUMNS.length, 34);
    assert.equal(TEMPLATE_HEADERS[0], '户编号');
    assert.equal(TEMPLATE_HEADERS.at(-1), '家庭年收入(元)');
    assert.deepEqual(checkHeaders([]).missing, [
      '户编号',
      '姓名',
      '公民身份号码',
      '与户主关系',
      '户籍地代码',
    ]);
  });

  test('recordToCells writes the cells in the order of the columns', () => {
    const r = household()[0]!;
    const row = recordToRow(r);
    assert.deepEqual(Object.keys(row), [...TEMPLATE_HEADERS]);
    assert.deepEqual(
      recordToCells(r),
      TEMPLATE_HEADERS.map((h) => row[h]),
    );
  });

  test('headers are matched after trimming; unknown ones are listed', () => {
    const check = checkHeaders([
      ' 户编号 ',
      '姓名',
      '公民身份号码',
      '与户主关系',
      '户籍地代码\u200b',
      '备注',
    ]);
    assert.deepEqual(check, { missing: [], unknown: ['备注'] });
  });
});

describe('rowToRecord and recordToRow', () => {
  test('every kind of value survives the round trip', () => {
    const records: RegistryRecord[] = [
      ...household(),
      person({
        name: '赵四',
        idNumber: null,
        noIdReason: '未落户',
        // Born before every date of the row: a date before the birth is a row error.
        birthDate: '2006-01-05',
        relationToHead: '孙子',
        residenceRegionCode: '410225',
        phone: '0371-12345678-123',
        liberty: { type: 'drug_rehabilitation', since: '2025-02-03', until: '2027-02-03' },
        lostContactSince: '2024-01-01',
        guardianshipRevoked: true,
        deported: false,
        deathDate: '2026-10-01',
        declaredMissingDate: '2026-09-01',
        schoolStage: 'none',
        livingArrangement: 'with_grandchildren',
        selfCare: 'severe',
        seriousIllness: true,
        householdAnnualIncomeFen: 5,
      }),
    ];
    for (const r of records) {
      const back = parse(recordToRow(r));
      assert.deepEqual(back.errors, []);
      assert.deepEqual(back.record, r);
    }
  });

  test('sex, birth date and the empty residence come from the ID number and the hukou', () => {
    const row = recordToRow(person());
    const r = parse({ ...row, 性别: '', 出生日期: '', 现居住地代码: '' });
    assert.equal(r.record?.sex, 1);
    assert.equal(r.record?.birthDate, '1980-01-02');
    assert.equal(r.record?.residenceRegionCode, NANZHANG);
  });

  test('full-width digits, spaces and a lower-case x are normalised', () => {
    const r = person({ birthDate: '1990-03-07' });
    const row = recordToRow(r);
    const id = (r.idNumber ?? '').replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0));
    const back = parse({ ...row, 公民身份号码: ` ${id.toLowerCase()} `, 姓名: ' 张伟 ' });
    assert.deepEqual(back.record, r);
  });

  test('an ID number is required unless a reason is given; then sex and birth date are', () => {
    const row = recordToRow(person());
    assert.deepEqual(errorColumns({ ...row, 公民身份号码: '' }), ['公民身份号码']);
    assert.deepEqual(
      errorColumns({ ...row, 公民身份号码: '', 无身份号码原因: '未落户', 性别: '', 出生日期: '' }),
      ['性别', '出生日期'],
    );
  });

  test('conditional columns: migration start, disability grade, liberty start', () => {
    const row = recordToRow(person());
    assert.deepEqual(errorColumns({ ...row, 外出务工: '是' }), ['外出开始日期']);
    assert.deepEqual(errorColumns({ ...row, 残疾类别: '肢体' }), ['残疾等级']);
    assert.deepEqual(errorColumns({ ...row, 残疾等级: '二级' }), ['残疾类别']);
    assert.deepEqual(errorColumns({ ...row, 人身自由状况: '服刑在押' }), ['人身自由限制开始日期']);
    assert.equal(parse({ ...row, 残疾类别: '4', 残疾等级: '2' }).record?.disability?.category, 4);
  });

  test('every error of a row is listed, each naming its column and the value', () => {
    const row = recordToRow(person());
    const r = parse({ ...row, 性别: '未知', 联系电话: '12345', 就学阶段: '博士', 与户主关系: '朋友' });
    assert.deepEqual(
      r.errors.map((e) => [e.column, e.value]),
      [
        ['性别', '未知'],
        ['与户主关系', '朋友'],
        ['联系电话', '12345'],
        ['就学阶段', '博士'],
      ],
    );
    assert.equal(r.record, null);
    for (const e of r.errors) assert.ok(e.reason.zh && e.reason.en);
  });

  test('a birth date in the future and a reference to oneself are errors', () => {
    const r = person();
    const row = recordToRow(r);
    assert.deepEqual(errorColumns({ ...row, 配偶身份号码: r.idNumber }), ['配偶身份号码']);
    const child = recordToRow(person({ idNumber: null, noIdReason: '未落户' }));
    assert.deepEqual(errorColumns({ ...child, 出生日期: '2027-01-01' }), ['出生日期']);
  });
});

describe('money as integer fen', () => {
  test('decimal strings are split, never computed in floating point', () => {
    assert.deepEqual(parseYuanToFen('12000'), { ok: true, value: 1_200_000 });
    assert.deepEqual(parseYuanToFen('12,000.50'), { ok: true, value: 1_200_050 });
    assert.deepEqual(parseYuanToFen('0.07'), { ok: true, value: 7 });
    assert.deepEqual(parseYuanToFen('1.1'), { ok: true, value: 110 });
    assert.deepEqual(parseYuanToFen(4567.89), { ok: true, value: 456_789 });
    assert.deepEqual(parseYuanToFen('８０００元'), { ok: true, value: 800_000 });
    assert.deepEqual(parseYuanToFen(''), { ok: true, value: null });
    for (const bad of ['12.345', '-5', '1,00', 'abc', '12 000.5.1'])
      assert.equal(parseYuanToFen(bad).ok, false, bad);
  });

  test('fen is written back as yuan', () => {
    assert.equal(formatFenAsYuan(1_200_000), '12000');
    assert.equal(formatFenAsYuan(1_200_050), '12000.50');
    assert.equal(formatFenAsYuan(7), '0.07');
  });
});

describe('numbers Excel has rounded', () => {
  test('a household number stored as a float is an error; a small one is fine', () => {
    const row = recordToRow(person());
    assert.deepEqual(errorColumns({ ...row, 户编号: 4.10225000000001e17 }), ['户编号']);
    assert.equal(parse({ ...row, 户编号: 12345 }).record?.householdNo, '12345');
  });
});
