// Child ledger import, review 3: what a county's real ledger holds that the earlier corpora did not.
// Townships written without 镇/乡/街道 or with the old suffix; the ledger on the second sheet after an
// empty or instructions sheet; header hints in brackets (父母双方同时外出（是/否）) and 儿童姓名; 无, 不详,
// 暂无 in optional cells; √, ×, 有 with a trailing space; work places that say the parent is at home;
// 小学三年级; section titles merged across the row, subtotals and footers with a colon; formulas saved
// without their result. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import iconv from 'iconv-lite';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { scratchFolder } from '../../../test/support/files.ts';
import { csvOf, errorsOf, parseLedger, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { loadCountyPlaces, parseLedgerFile, resolveAddress } from './registry.ledger.ts';
import type { CountyPlaces, LedgerRow } from './registry.ledger.ts';
import { FileRejected } from './registry.reader.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
const NANZHANG = '410225102200'; // 南彰镇 南彰村
const GUYING_ZHANGZHUANG = '410225105235'; // 谷营镇 张庄村
const CHENZHAI_SHEQU = '410225001008'; // 兰阳街道 陈寨社区

let places: CountyPlaces;
const scratch = scratchFolder('shouhu-ledger-review3-');
const fileOf = scratch.fileOf;

before(async () => {
  places = await loadCountyPlaces(LANKAO);
  scratch.open();
});
after(() => scratch.close());

const resolve = (text: string) => resolveAddress(text, LANKAO, places.villages, places.upperNames);

const codeOf = (text: string) => {
  const r = resolve(text);
  return r.ok ? r.code : 'ambiguous' in r ? 'ambiguous' : 'unknown';
};

const parse = (file: string) => parseLedger(file, places, TODAY);

const child1 = makeIdNumber(LANKAO, '2015-03-01', 11);
const child2 = makeIdNumber(LANKAO, '2016-04-02', 13);
const child3 = makeIdNumber(LANKAO, '2017-05-03', 15);

describe('addresses as clerks write the township', () => {
  test('the township without 镇/乡/街道, with the old suffix (乡 made 镇) or as 街道办事处 resolves; the village alone stays ambiguous', () => {
    for (const text of [
      '南彰南彰村',
      '兰考县南彰南彰村委会',
      '河南省开封市兰考县南彰乡南彰村',
      '南彰镇、南彰村',
      '南彰镇-南彰村',
    ])
      assert.equal(codeOf(text), NANZHANG, text);
    assert.equal(codeOf('谷营张庄村'), GUYING_ZHANGZHUANG);
    assert.equal(codeOf('谷营乡张庄村3组'), GUYING_ZHANGZHUANG);
    for (const text of ['兰阳陈寨社区', '兰阳街道办事处陈寨社区', '兰阳街道办陈寨社区居委会'])
      assert.equal(codeOf(text), CHENZHAI_SHEQU, text);
    // 张庄村 is in four townships: without one it is reported with every candidate, never guessed.
    const r = resolve('兰考县张庄村');
    assert.ok(!r.ok && 'ambiguous' in r);
    assert.deepEqual(r.candidates.map((v) => `${v.townshipName}${v.name}`).sort(), [
      '东坝头镇张庄村',
      '堌阳镇张庄村',
      '小宋镇张庄村',
      '谷营镇张庄村',
    ]);
  });

  test('a looser township name does not make a village out of a wrong township, a township alone or another county', () => {
    // 孟寨乡 has no 张庄村, whichever way the township is written.
    assert.equal(codeOf('孟寨张庄村'), 'unknown');
    assert.equal(codeOf('孟寨镇张庄村'), 'unknown');
    assert.equal(codeOf('南彰镇张庄村'), 'unknown');
    assert.equal(codeOf('南彰乡'), 'unknown');
    assert.equal(codeOf('兰阳街道办事处'), 'unknown');
    assert.equal(codeOf('杞县南彰镇南彰村'), 'unknown');
    assert.equal(codeOf('河南省开封市杞县张庄村'), 'unknown');
  });
});

describe('the ledger’s sheet and column row', () => {
  const header = ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地'];
  const data = ['王小明', '男', '2015-03-01', child1, '南彰镇南彰村'];

  test('an empty first sheet or one of instructions: the ledger on the next visible sheet is read', async () => {
    const emptyFirst = await xlsx((wb) => {
      wb.addWorksheet('Sheet1');
      const hidden = wb.addWorksheet('下拉选项');
      hidden.state = 'hidden';
      hidden.addRow(['姓名', '出生日期']);
      const sheet = wb.addWorksheet('留守儿童台账');
      sheet.addRow(header);
      sheet.addRow(data);
    });
    const instructionsFirst = await xlsx((wb) => {
      const notes = wb.addWorksheet('填表说明');
      notes.addRow(['1、姓名：填写儿童姓名']);
      notes.addRow(['2、出生日期：如 2015-03-01']);
      const sheet = wb.addWorksheet('台账');
      sheet.addRow(['兰考县农村留守儿童基本情况登记表']);
      sheet.addRow(header);
      sheet.addRow(data);
    });
    for (const [name, content, rowNumber] of [
      ['empty-first.xlsx', emptyFirst, 2],
      ['instructions-first.xlsx', instructionsFirst, 3],
    ] as const) {
      const rows = await parse(fileOf(name, content));
      assert.deepEqual(
        rows.map((r) => [r.rowNumber, r.child.name, r.child.idNumber, r.addresses.hukouRegionCode]),
        [[rowNumber, '王小明', child1, NANZHANG]],
        name,
      );
      assert.deepEqual(errorsOf(rows[0]), [], name);
    }
  });

  test('no sheet with a column row: refused whole, naming every sheet looked at', async () => {
    const content = await xlsx((wb) => {
      wb.addWorksheet('填表说明').addRow(['请按说明填写']);
      wb.addWorksheet('Sheet2').addRow(['序号', '备注']);
    });
    await assert.rejects(parse(fileOf('no-header.xlsx', content)), (e: unknown) => {
      assert.ok(e instanceof FileRejected);
      assert.equal(e.reason, 'NO_HEADER');
      assert.equal(
        e.userMessage.zh,
        '在工作表“填表说明”、“Sheet2”的前 20 行中找不到列名行（应含“姓名”和“公民身份号码”或“出生日期”）',
      );
      return true;
    });
  });

  test('headers with hints in brackets, 儿童 in front and line breaks are the form’s columns, in an .xlsx and a GBK CSV', async () => {
    const headers = [
      '序号',
      '儿童\n姓名',
      '性别',
      '出生日期',
      '儿童身份证号',
      '户籍所在地（详细地址）',
      '父母双方同时外出（是/否）',
      '就学情况(未入园、幼儿园、小学、初中)',
      '备注（其他）',
    ];
    const row = ['1', '王小明', '男', '2015-03-01', child1, '南彰镇南彰村', '是', '小学', '无'];
    const book = await xlsx((wb) => {
      const sheet = wb.addWorksheet('台账');
      sheet.addRow(headers);
      sheet.addRow(row);
    });
    const gbk = iconv.encode(csvOf([headers, row]), 'gbk');
    for (const [name, content] of [
      ['hints.xlsx', book],
      ['hints.csv', gbk],
    ] as const) {
      const seen: string[][] = [];
      const rows: LedgerRow[] = [];
      for await (const r of parseLedgerFile(fileOf(name, content), {
        today: TODAY,
        places,
        onHeaders: (h) => seen.push(h),
      }))
        rows.push(r);
      assert.deepEqual(
        seen,
        [
          [
            '序号',
            '姓名',
            '性别',
            '出生日期',
            '公民身份号码',
            '户籍所在地',
            '父母双方同时外出',
            '就学情况',
            '备注(其他)',
          ],
        ],
        name,
      );
      assert.equal(rows.length, 1, name);
      assert.equal(rows[0]?.child.idNumber, child1, name);
      assert.equal(rows[0]?.declared.bothParentsOut, true, name);
      assert.equal(rows[0]?.child.schoolStage, 'primary', name);
      assert.equal(rows[0]?.addresses.hukouRegionCode, NANZHANG, name);
      assert.deepEqual(errorsOf(rows[0]), [], name);
    }
  });
});

describe('cells as a county fills them in', () => {
  const headers = [
    '姓名', '公民身份号码', '出生日期', '户籍所在地', '民族', '身体情况', '残疾类别及等级', '患病类型',
    '父亲姓名', '父亲出生日期', '父亲务工地点', '父亲联系电话', '母亲姓名', '母亲务工地点',
    '无监护能力方', '无监护能力原因', '有无委托监护人', '委托监护人姓名', '委托监护人电话',
    '委托监护人与儿童关系', '是否学校寄宿', '是否登记户口', '父母双方同时外出', '就学情况',
  ]; // prettier-ignore

  test('无, 不详, 暂无 and dashes in optional cells are empty: no person named 无, no date or phone error', async () => {
    const rows = await parse(
      fileOf(
        'none.csv',
        iconv.encode(
          csvOf([
            headers,
            [
              '王小明', '无', '2015-03-01', '南彰镇南彰村', '汉族', '健康', '无', '无',
              '无', '不详', '无', '暂无', '李　梅', '—',
              '无', '无', '无', '无', '无',
              '无', '不详', '/', '否', '不详',
            ],
          ]),
          'gbk',
        ),
      ),
    ); // prettier-ignore
    assert.equal(rows.length, 1);
    const row = rows[0]!;
    assert.deepEqual(errorsOf(row), []);
    assert.equal(row.child.idNumber, null);
    assert.equal(row.child.birthDate, '2015-03-01');
    assert.equal(row.child.disability, null);
    assert.equal(row.child.illness, null);
    assert.equal(row.child.schoolStage, null);
    assert.equal(row.father, null);
    assert.deepEqual(row.mother, {
      name: '李梅',
      birthDate: null,
      idNumber: null,
      workplace: null,
      phone: null,
    });
    assert.equal(row.carer, null);
    assert.equal(row.declared.unableParent, null);
    assert.equal(row.declared.unableReason, null);
    assert.equal(row.inability, null);
    // 有无委托监护人 asks 有/无: 无 is 否. 是否学校寄宿 不详 and 是否登记户口 / say nothing.
    assert.equal(row.declared.hasEntrustedCarer, false);
    assert.equal(row.child.boarding, null);
    assert.equal(row.child.hukouRegistered, null);
    assert.equal(row.declared.bothParentsOut, false);
  });

  test('无 stays as written where it can be the value: 民族 and the lists', async () => {
    const rows = await parse(
      fileOf(
        'kept.csv',
        Buffer.from(
          '\uFEFF' +
            csvOf([
              ['姓名', '出生日期', '户籍所在地', '民族', '救助帮扶情况'],
              ['王小明', '2015-03-01', '南彰镇南彰村', '无', '无'],
            ]),
        ),
      ),
    );
    assert.equal(rows[0]?.child.ethnicity, '无');
    assert.deepEqual(rows[0]?.declared.assistance, ['无']);
  });

  test('yes/no as √ ×, 有 with a trailing space, 没有; anything else is a row error naming the column', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('台账');
      sheet.addRow([
        '姓名',
        '出生日期',
        '户籍所在地',
        '是否学校寄宿',
        '有无委托监护人',
        '是否登记户口',
        '委托监护人姓名',
      ]);
      sheet.addRow(['甲', '2015-03-01', '南彰镇南彰村', '√', '有 ', '✔', '李奶奶']);
      sheet.addRow(['乙', '2016-04-02', '南彰镇南彰村', '×', '没有', ' 是', null]);
      sheet.addRow(['丙', '2017-05-03', '南彰镇南彰村', '好', null, '否', null]);
    });
    const rows = await parse(fileOf('marks.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [
        r.child.name,
        r.child.boarding,
        r.declared.hasEntrustedCarer,
        r.child.hukouRegistered,
      ]),
      [
        ['甲', true, true, true],
        ['乙', false, false, true],
        ['丙', null, null, false],
      ],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.deepEqual(errorsOf(rows[2]), [
      ['是否学校寄宿', '好', '“好”不是“是”或“否”（可填 是/否、Y/N、1/0）'],
    ]);
  });

  test('a work place that says the parent is at home, has no work or has died states no migration; a real one is kept', async () => {
    const rows = await parse(
      fileOf(
        'workplaces.csv',
        Buffer.from(
          csvOf([
            ['姓名', '出生日期', '户籍所在地', '父亲姓名', '父亲务工地点', '母亲姓名', '母亲务工地点'],
            ['甲', '2015-03-01', '南彰镇南彰村', '王大', '在家', '李大', '广东省深圳市'],
            ['乙', '2016-04-02', '南彰镇南彰村', '王二', '在家务农', '李二', '无'],
            ['丙', '2017-05-03', '南彰镇南彰村', '王三', '已故', '李三', '待业'],
          ]),
        ),
      ),
    );
    assert.deepEqual(
      rows.map((r) => [r.child.name, r.father?.workplace, r.mother?.workplace]),
      [
        ['甲', null, '广东省深圳市'],
        ['乙', null, null],
        ['丙', null, null],
      ],
    );
    assert.deepEqual(
      rows.map((r) => r.errors),
      [[], [], []],
    );
  });

  test('就学情况 with the year or class after the stage is that stage; a stage with other words is still a row error', async () => {
    const stages = ['小学三年级', '初中1年级', '幼儿园大班', '学前班', '小学毕业'];
    const rows = await parse(
      fileOf(
        'school.csv',
        Buffer.from(
          csvOf([
            ['姓名', '出生日期', '户籍所在地', '就学情况'],
            ...stages.map((s, i) => [`童${i}`, '2015-03-01', '南彰镇南彰村', s]),
          ]),
        ),
      ),
    );
    assert.deepEqual(
      rows.map((r) => r.child.schoolStage),
      ['primary', 'junior', 'preschool', 'preschool', null],
    );
    assert.deepEqual(errorsOf(rows[4]), [['就学情况', '小学毕业', '就学情况“小学毕业”无法识别']]);
  });
});

describe('rows that are not children', () => {
  test('section titles merged across the row, subtotals, totals and footers with a colon are skipped', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('台账');
      sheet.addRow(['序号', '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名']);
      sheet.addRow(['一、南彰镇']);
      sheet.mergeCells('A2:G2');
      sheet.addRow([1, '王小明', '男', '2015-03-01', child1, '南彰镇南彰村', '王大']);
      sheet.addRow(['南彰镇小计', null, '1人']);
      sheet.addRow(['二、谷营镇']);
      sheet.mergeCells('A5:G5');
      sheet.addRow([2, '王小红', '男', '2016-04-02', child2, '谷营镇张庄村', '王二']);
      sheet.addRow([]);
      sheet.addRow(['合计：2人']);
      sheet.addRow(['分管领导（签字）：', null, null, '制表日期：2026.11.1']);
      sheet.addRow([null, '日期：2026年11月1日']);
      sheet.addRow([null, '经办人：张三', null, '村干部签名：']);
    });
    const rows = await parse(fileOf('footers.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.name, r.addresses.hukouRegionCode, r.errors.length]),
      [
        [3, '王小明', NANZHANG, 0],
        [6, '王小红', GUYING_ZHANGZHUANG, 0],
      ],
    );
  });

  test('formulas: a cached result is the value; without one the column is a row error, except in 序号', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('台账');
      sheet.addRow(['序号', '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地']);
      sheet.addRow([
        { formula: 'ROW()-1', result: 1 },
        '王小明',
        { formula: 'IF(MOD(MID(E2,17,1),2),"男","女")', result: '男' },
        { formula: 'TEXT(MID(E2,7,8),"0000-00-00")', result: '2015-03-01' },
        child1,
        '南彰镇南彰村',
      ]);
      sheet.addRow([
        { formula: 'ROW()-1' },
        '王小红',
        { formula: 'IF(MOD(MID(E3,17,1),2),"男","女")' },
        { formula: 'TEXT(MID(E3,7,8),"0000-00-00")' },
        child3,
        '南彰镇南彰村',
      ]);
    });
    const rows = await parse(fileOf('formulas.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.sex, r.child.birthDate]),
      [
        [2, 1, '2015-03-01'],
        // Without its result the cell is empty; the birth date then comes from the ID number.
        [3, null, '2017-05-03'],
      ],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    const message = '公式没有计算结果（请在 Excel 中打开并保存文件，或把公式改为数值）';
    assert.deepEqual(errorsOf(rows[1]), [
      ['性别', '=IF(MOD(MID(E3,17,1),2),"男","女")', message],
      ['出生日期', '=TEXT(MID(E3,7,8),"0000-00-00")', message],
    ]);
  });
});

describe('importing such a ledger (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  test('a workbook with an instructions sheet first: 无 names nobody, 在家 and 无 record no migration, a township without 镇 places the child; a re-import changes nothing', async () => {
    const content = await xlsx((wb) => {
      wb.addWorksheet('填表说明').addRow(['父母在家的，务工地点填“在家”']);
      const sheet = wb.addWorksheet('留守儿童');
      sheet.addRow(['填报单位：南彰镇', null, null, '填报日期：2026年11月1日']);
      sheet.addRow([
        '序号', '儿童姓名', '出生日期', '儿童身份证号', '户籍所在地（详细地址）', '父亲姓名',
        '父亲务工地点', '母亲姓名', '母亲务工地点', '有无委托监护人', '委托监护人姓名',
      ]); // prettier-ignore
      sheet.addRow([
        1,
        '赵小明',
        '2015-03-01',
        child1,
        '南彰南彰村',
        '赵大',
        '在家',
        '钱红',
        '广东省深圳市',
        '无',
        '无',
      ]);
      sheet.addRow([2, '赵小红', '2016-04-02', child2, '谷营乡张庄村', '无', '无', '孙兰', '无', '无', '—']);
      sheet.addRow(['合计：2人']);
      sheet.addRow([null, '日期：2026年11月1日']);
    });
    const file = fileOf('import.xlsx', content);
    const first = await importLedgerFile(t.ctx.db, file, lankao, {
      today: TODAY,
      errorReportBase: scratch.path('import-errors'),
    });
    assert.equal(first.status, 'succeeded', JSON.stringify(first.message));
    assert.deepEqual(first.counts, { rows: 2, inserted: 2, updated: 0, unchanged: 0, errors: 0 });
    assert.deepEqual(first.unknownHeaders, []);
    assert.equal(first.errorReport, null);

    const persons = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'hukou_region_code'])
      .orderBy('name')
      .execute();
    assert.deepEqual(
      persons.map((p) => [p.name, p.hukou_region_code]),
      [
        ['孙兰', GUYING_ZHANGZHUANG],
        ['赵大', NANZHANG],
        ['赵小明', NANZHANG],
        ['赵小红', GUYING_ZHANGZHUANG],
        ['钱红', NANZHANG],
      ].sort((a, b) => (a[0]! < b[0]! ? -1 : 1)),
    );
    const migrations = await t.ctx.db
      .selectFrom('person_facts as f')
      .innerJoin('persons as p', 'p.id', 'f.person_id')
      .select(['p.name', 'f.valid_from', 'f.data'])
      .where('f.kind', '=', 'migration')
      .where('f.retracted_at', 'is', null)
      .execute();
    assert.deepEqual(migrations, [
      { name: '钱红', valid_from: '2026-11-01', data: { destination: '广东省深圳市' } },
    ]);
    const carers = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where('kind', '=', 'carer')
      .execute();
    assert.equal(carers.length, 0);

    const again = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.deepEqual(again.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 0 });
  });
});
