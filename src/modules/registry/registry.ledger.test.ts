import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { makeIdNumber } from './registry.idnumber.ts';
import { findLedgerHeader, loadCountyPlaces, parseLedgerFile, resolveAddress } from './registry.ledger.ts';
import type { CountyPlaces, LedgerRow } from './registry.ledger.ts';
import { FileRejected } from './registry.reader.ts';
import { makeFixtures, TODAY } from '../../../test/fixtures/registry/make-fixtures.ts';

const LANKAO = '410225';
let places: CountyPlaces;
let dir = '';

before(async () => {
  places = await loadCountyPlaces(LANKAO);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-ledger-'));
  await makeFixtures(dir);
});

after(() => fs.rmSync(dir, { recursive: true, force: true }));

const resolve = (text: string) => resolveAddress(text, LANKAO, places.villages, places.upperNames);

describe('resolveAddress on the real villages of 兰考县', () => {
  test('the county is loaded with its names', () => {
    assert.deepEqual(places.upperNames, ['河南省', '开封市', '兰考县']);
    assert.ok(places.villages.length > 400);
  });

  test('three address styles resolve to 南彰镇南彰村', () => {
    for (const text of [
      '河南省兰考县南彰镇南彰村',
      '南彰镇南彰村委会',
      '兰考县南彰村',
      '开封市兰考县南彰镇南彰村民委员会',
      ' 南彰村 ',
    ]) {
      assert.deepEqual(resolve(text), { ok: true, code: '410225102200' }, text);
    }
  });

  test('张庄村 is in four townships: ambiguous without one, resolved with it', () => {
    const r = resolve('兰考县张庄村');
    assert.ok(!r.ok && 'ambiguous' in r);
    assert.deepEqual(
      r.candidates.map((v) => v.townshipName).sort(),
      ['东坝头镇', '堌阳镇', '小宋镇', '谷营镇'].sort(),
    );
    assert.deepEqual(resolve('堌阳镇张庄村'), { ok: true, code: '410225101215' });
    assert.deepEqual(resolve('河南省兰考县谷营镇张庄村委会3组'), { ok: true, code: '410225105235' });
  });

  test('a village that does not exist, or not in the named township, is unknown', () => {
    assert.deepEqual(resolve('兰考县幸福村'), { ok: false, unknown: true });
    assert.deepEqual(resolve('南彰镇张庄村'), { ok: false, unknown: true });
    assert.deepEqual(resolve('兰考县'), { ok: false, unknown: true });
  });

  test('the exact form wins over a bare name; a bare name matching 村 and 社区 is ambiguous', () => {
    // 陈寨: 陈寨社区 (兰阳街道) and 陈寨村 (三义寨乡).
    assert.deepEqual(resolve('陈寨村'), { ok: true, code: '410225201253' });
    assert.deepEqual(resolve('陈寨社区'), { ok: true, code: '410225001008' });
    const bare = resolve('陈寨');
    assert.ok(!bare.ok && 'ambiguous' in bare && bare.candidates.length === 2);
  });

  test('a village of another county is not found', () => {
    assert.deepEqual(resolve('河南省兰考县南彰镇南彰村'.replace('南彰村', '城关村')), {
      ok: false,
      unknown: true,
    });
  });
});

describe('parseLedgerFile', () => {
  async function rowsOf(file: string, withPlaces = true): Promise<LedgerRow[]> {
    const rows: LedgerRow[] = [];
    for await (const r of parseLedgerFile(file, { today: TODAY, ...(withPlaces ? { places } : {}) }))
      rows.push(r);
    return rows;
  }

  test('title and signature rows are skipped; one row per child with parents and grandparents', async () => {
    const rows = await rowsOf(path.join(dir, 'ledger.xlsx'));
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.name]),
      [
        [4, '王小明'],
        [5, '王小红'],
        [6, '李小军'],
        [7, '陈小花'],
        [8, '周小刚'],
      ],
    );
    const first = rows[0]!;
    assert.equal(first.child.sex, 1);
    assert.equal(first.child.birthDate, '2016-05-01');
    assert.equal(first.child.idNumber, makeIdNumber('410225', '2016-05-01', 21));
    assert.equal(first.child.schoolStage, 'primary');
    assert.deepEqual(first.father, {
      name: '王建国',
      birthDate: null,
      idNumber: null,
      workplace: '广东省深圳市',
      phone: null,
    });
    assert.equal(first.mother?.workplace, '浙江省杭州市');
    assert.deepEqual(first.grandparents, [
      { role: 'paternal_grandmother', name: '赵桂兰', birthDate: '1955-03-04', idNumber: null },
    ]);
    assert.equal(first.declared.bothParentsOut, true);
    assert.equal(first.declared.guardianshipType, 'fair');
    assert.equal(first.carer, null);
  });

  test('addresses in three styles resolve; the ambiguous and the unknown village are row errors', async () => {
    const rows = await rowsOf(path.join(dir, 'ledger.xlsx'));
    assert.deepEqual(
      rows.slice(0, 3).map((r) => [r.addresses.hukouRegionCode, r.errors]),
      [
        ['410225102200', []],
        ['410225102200', []],
        ['410225102200', []],
      ],
    );
    const ambiguous = rows[3]!;
    assert.equal(ambiguous.addresses.hukouRegionCode, null);
    assert.deepEqual(
      ambiguous.errors.map((e) => e.column),
      ['户籍所在地', '现居住地'],
    );
    assert.match(ambiguous.errors[0]!.reason.zh, /对应多个村.*堌阳镇张庄村/);
    const unknown = rows[4]!;
    assert.deepEqual(
      unknown.errors.map((e) => e.column),
      ['户籍所在地'],
    );
    assert.match(unknown.errors[0]!.reason.zh, /找不到/);
  });

  test('without a county the addresses stay text', async () => {
    const rows = await rowsOf(path.join(dir, 'ledger.xlsx'), false);
    assert.equal(rows[0]?.addresses.hukou, '河南省兰考县南彰镇南彰村');
    assert.equal(rows[0]?.addresses.hukouRegionCode, null);
    assert.deepEqual(rows[3]?.errors, []);
  });

  test('the column row is found under a title block; a file without one is refused', async () => {
    assert.equal(
      findLedgerHeader([['农村留守儿童基本情况登记表'], ['填报单位：'], ['序号', '姓名', '出生日期']]),
      2,
    );
    const file = path.join(dir, 'not-a-ledger.xlsx');
    const workbook = new ExcelJS.Workbook();
    workbook.addWorksheet('x').addRow(['a', 'b']);
    await workbook.xlsx.writeFile(file);
    await assert.rejects(rowsOf(file), (e) => e instanceof FileRejected && e.reason === 'NO_HEADER');
  });

  test('values of the form: disability, yes/no, carer, unable parent, lists', async () => {
    const file = path.join(dir, 'ledger-values.csv');
    const headers = [
      '姓名',
      '性别',
      '出生日期',
      '身体情况',
      '残疾类别及等级',
      '有无委托监护人',
      '委托监护人姓名',
      '委托监护人电话',
      '委托监护人与儿童关系',
      '一方外出另一方无监护能力',
      '无监护能力方',
      '家庭经济来源',
      '救助帮扶情况',
      '就学情况',
      '监护类型',
    ];
    const row = [
      '孙小梅',
      '女',
      '2015/3/4',
      '残疾',
      '肢体二级',
      '有',
      '孙大爷',
      '13912345678',
      '祖父',
      '是',
      '母亲',
      '务工收入、种植收入',
      '低保',
      '辍学',
      '父或母无监护能力',
    ];
    fs.writeFileSync(file, '\uFEFF' + [headers, row, ['填表人：张三']].map((r) => r.join(',')).join('\r\n'));
    const [r] = await rowsOf(file);
    assert.ok(r);
    assert.deepEqual(r.errors, []);
    assert.equal(r.child.health, 'disabled');
    assert.deepEqual(r.child.disability, { category: 4, grade: 2 });
    assert.equal(r.child.droppedOut, true);
    assert.deepEqual(r.carer, {
      name: '孙大爷',
      birthDate: null,
      idNumber: null,
      phone: '13912345678',
      relationToChild: '祖父',
    });
    assert.equal(r.declared.hasEntrustedCarer, true);
    assert.equal(r.declared.oneOutOtherUnable, true);
    assert.equal(r.declared.unableParent, 'mother');
    assert.equal(r.declared.guardianshipType, 'parent_unable');
    assert.deepEqual(r.declared.incomeSources, ['务工收入', '种植收入']);
    assert.deepEqual(r.declared.assistance, ['低保']);
  });
});
