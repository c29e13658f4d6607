// Child ledger import, review 4: what real ledgers hold that reviews 1-3 did not. Autonomous areas by
// their short names (黔南州, 长阳县, 广西); 行政村 after the
// village's name; the parents' 务工地点 titled 外出务工地点, 务工地址, 打工地点; the carer titled
// 受委托监护人; 身体状况, 是否寄宿; dates as eight digits (20150301, as text or as a number) and with a
// time of day; 男性/女性; two phone numbers in one cell; 身体情况 良好/一般/有病 and 就学情况 初一/五年级/在读;
// 监护类型 良好/祖辈监护 and 是否登记户口 已登记; a parent working within the county (兰考县城,
// 南彰镇, 本县), which is no migration (DOMAIN.md section 1: migration is work away from the hukou
// county). Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { scratchFolder } from '../../../test/support/files.ts';
import { csvOf, errorsOf, parseLedger, xlsx } from '../../../test/support/ledger-files.ts';
import { parseDate } from '../../platform/normalize.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { loadCountyPlaces, resolveAddress, workplaceInCounty } from './registry.ledger.ts';
import type { CountyPlaces } from './registry.ledger.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
const NANZHANG = '410225102200'; // 南彰镇 南彰村
const SIZHAI = '410225102201'; // 南彰镇 司寨村

let places: CountyPlaces;
const scratch = scratchFolder('shouhu-ledger-review4-');
const fileOf = scratch.fileOf;

before(async () => {
  places = await loadCountyPlaces(LANKAO);
  scratch.open();
});
after(() => scratch.close());

const codeOf = (text: string) => {
  const r = resolveAddress(text, LANKAO, places.villages, places.upperNames);
  return r.ok ? r.code : 'ambiguous' in r ? 'ambiguous' : 'unknown';
};

const parse = (file: string) => parseLedger(file, places, TODAY);

const child1 = makeIdNumber(LANKAO, '2015-03-01', 11);
const child2 = makeIdNumber(LANKAO, '2016-04-02', 12);
const child3 = makeIdNumber(LANKAO, '2017-05-03', 15);
const father1 = makeIdNumber(LANKAO, '1988-02-03', 13);

describe('addresses', () => {
  test('行政村 after the village’s name is the village; a 自然村 of that name is not guessed', () => {
    assert.equal(codeOf('南彰镇南彰行政村'), NANZHANG);
    assert.equal(codeOf('兰考县南彰镇司寨行政村3组'), SIZHAI);
    assert.equal(codeOf('南彰镇南彰自然村'), 'unknown');
  });
});

describe('autonomous areas as addresses write them', () => {
  test('黔南州 and 黔南 for 黔南布依族苗族自治州, 长阳县 and 长阳 for 长阳土家族自治县, 广西 for 广西壮族自治区', async () => {
    const qiannan = await loadCountyPlaces('522727'); // 贵州省 黔南布依族苗族自治州 平塘县
    const lazhuan = '522727100212'; // 平舟镇 拉全村村民委员会
    for (const text of [
      '贵州省黔南布依族苗族自治州平塘县平舟镇拉全村',
      '黔南州平塘县平舟镇拉全村',
      '贵州黔南平塘平舟镇拉全村',
      '贵州省黔南州平塘县平舟镇拉全村民委员会',
    ]) {
      const r = resolveAddress(text, '522727', qiannan.villages, qiannan.upperNames);
      assert.deepEqual(r, { ok: true, code: lazhuan }, text);
    }
    const changyang = await loadCountyPlaces('420528'); // 湖北省 宜昌市 长阳土家族自治县
    for (const text of [
      '宜昌长阳县高家堰镇魏家洲村',
      '长阳高家堰魏家洲村',
      '湖北省宜昌市长阳土家族自治县高家堰镇魏家洲村',
    ])
      assert.deepEqual(
        resolveAddress(text, '420528', changyang.villages, changyang.upperNames),
        { ok: true, code: '420528102201' },
        text,
      );
    assert.equal(workplaceInCounty('长阳县城', changyang), true);
    assert.equal(workplaceInCounty('宜昌市区', changyang), false);
    const binyang = await loadCountyPlaces('450126'); // 广西壮族自治区 南宁市 宾阳县
    assert.deepEqual(
      resolveAddress('广西宾阳县黎塘镇仁爱社区', '450126', binyang.villages, binyang.upperNames),
      {
        ok: true,
        code: '450126101002',
      },
    );
  });
});

describe('columns as counties title them', () => {
  test('a two-row header with 外出务工地点 under 父亲情况 and 受委托监护人情况 with 住址: the form’s columns', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['兰考县南彰镇农村留守儿童基本情况登记表']);
      sheet.mergeCells('A1:N1');
      sheet.addRow([
        '填报单位（盖章）：南彰镇人民政府',
        null,
        null,
        null,
        null,
        null,
        '填报日期：2026年11月1日',
      ]);
      sheet.addRow([
        '序号', '儿童基本情况', null, null, null, '父亲情况', null, null, '母亲情况', null,
        '受委托监护人情况', null, null, '身体状况',
      ]); // prettier-ignore
      sheet.addRow([
        null, '姓名', '出生日期', '身份证号码', '户籍地址', '姓名', '外出务工地点', '联系电话', '姓名',
        '打工地点', '姓名', '联系电话', '住址', null,
      ]); // prettier-ignore
      sheet.mergeCells('B3:E3');
      sheet.mergeCells('F3:H3');
      sheet.mergeCells('I3:J3');
      sheet.mergeCells('K3:M3');
      sheet.mergeCells('A3:A4');
      sheet.mergeCells('N3:N4');
      sheet.addRow([
        1, '张小明', '2015.3.1', child1, '南彰镇南彰行政村', '张大明', '广东省深圳市', '13812345678',
        '李红', '浙江宁波', '张老汉', '13700000000', '南彰镇南彰村5组', '健康',
      ]); // prettier-ignore
      sheet.addRow(['填表人：张三', null, null, null, '审核人：李四']);
    });
    const rows = await parse(fileOf('two-row.xlsx', content));
    assert.equal(rows.length, 1);
    const row = rows[0];
    assert.deepEqual(errorsOf(row), []);
    assert.equal(row?.addresses.hukouRegionCode, NANZHANG);
    assert.equal(row?.father?.workplace, '广东省深圳市');
    assert.equal(row?.mother?.workplace, '浙江宁波');
    assert.equal(row?.carer?.name, '张老汉');
    assert.equal(row?.carer?.phone, '13700000000');
    assert.equal(row?.addresses.carer, '南彰镇南彰村5组');
    assert.equal(row?.child.health, 'healthy');
  });

  test('one-row headers: 父亲务工地址, 母亲外出地点, 受托监护人姓名, 健康状况, 是否寄宿 are read as the form’s', async () => {
    const file = fileOf(
      'aliases.csv',
      csvOf([
        ['姓名', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲务工地址', '母亲姓名', '母亲外出地点', '受托监护人姓名', '健康状况', '是否寄宿'],
        ['王小红', '2016-04-02', child2, '南彰镇司寨村', '王强', '北京', '赵丽', '上海', '王奶奶', '健康', '是'],
      ]), // prettier-ignore
    );
    const [row] = await parse(file);
    assert.deepEqual(errorsOf(row), []);
    assert.equal(row?.father?.workplace, '北京');
    assert.equal(row?.mother?.workplace, '上海');
    assert.equal(row?.carer?.name, '王奶奶');
    assert.equal(row?.child.health, 'healthy');
    assert.equal(row?.child.boarding, true);
  });
});

describe('cells as systems and clerks write them', () => {
  test('eight-digit dates (text or number) and dates with a time of day are dates; 20150231 is still an error', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['姓名', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲出生日期']);
      sheet.addRow(['甲', '20150301', child1, '南彰镇南彰村', '张大明', 19880203]);
      sheet.addRow(['乙', '2016-04-02 00:00:00', child2, '南彰镇南彰村', null, null]);
      sheet.addRow(['丙', '20170231', child3, '南彰镇南彰村', null, null]);
    });
    const rows = await parse(fileOf('dates.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [r.child.name, r.child.birthDate, r.father?.birthDate ?? null]),
      [
        ['甲', '2015-03-01', '1988-02-03'],
        ['乙', '2016-04-02', null],
        ['丙', '2017-05-03', null],
      ],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.deepEqual(
      errorsOf(rows[2])?.map((e) => e[0]),
      ['出生日期'],
    );
    // The registry template keeps its five forms (EXCHANGE.md): eight digits are refused there.
    assert.equal(parseDate('20150301').ok, false);
  });

  test('男性/女性 is the sex; 男人 is still a row error naming the column', async () => {
    const file = fileOf(
      'sex.csv',
      csvOf([
        ['姓名', '性别', '公民身份号码', '户籍所在地'],
        ['甲', '男性', child1, '南彰镇南彰村'],
        ['乙', '女性', child2, '南彰镇南彰村'],
        ['丙', '男人', child3, '南彰镇南彰村'],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => r.child.sex),
      [1, 2, null],
    );
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.deepEqual(errorsOf(rows[1]), []);
    assert.deepEqual(
      errorsOf(rows[2])?.map((e) => e[0]),
      ['性别'],
    );
  });

  test('two phone numbers in one cell keep the first; a cell with a number and a word is a row error', async () => {
    const file = fileOf(
      'phones.csv',
      csvOf([
        ['姓名', '公民身份号码', '户籍所在地', '父亲姓名', '父亲联系电话', '母亲姓名', '母亲联系电话'],
        [
          '甲',
          child1,
          '南彰镇南彰村',
          '张大明',
          '13812345678/13912345678',
          '李红',
          '13612345678 0371-23456789',
        ],
        ['乙', child2, '南彰镇南彰村', '王强', '13812345678、不详', '赵丽', '0371 23456789'],
      ]),
    );
    const rows = await parse(file);
    assert.equal(rows[0]?.father?.phone, '13812345678');
    assert.equal(rows[0]?.mother?.phone, '13612345678');
    assert.deepEqual(errorsOf(rows[0]), []);
    assert.equal(rows[1]?.mother?.phone, '0371-23456789');
    assert.deepEqual(
      errorsOf(rows[1])?.map((e) => e[0]),
      ['父亲联系电话'],
    );
  });

  test('身体情况 as counties write it: 良好, 正常, 一般, 无病 are healthy; a named disability or illness is that; 较差 is a row error', async () => {
    const cells = [
      '良好',
      '正常',
      '一般',
      '无病',
      '无重大疾病',
      '智力残疾',
      '肢体残疾二级',
      '有病',
      '先天性心脏病',
      '较差',
    ];
    const file = fileOf(
      'health.csv',
      csvOf([
        ['姓名', '公民身份号码', '户籍所在地', '身体情况'],
        ...cells.map((c, i) => [`童${i}`, makeIdNumber(LANKAO, '2015-03-01', 21 + 2 * i), '南彰镇南彰村', c]),
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.child.health, r.child.disability, r.errors.map((e) => e.column)]),
      [
        ['healthy', null, []],
        ['healthy', null, []],
        ['healthy', null, []],
        ['healthy', null, []],
        ['healthy', null, []],
        ['disabled', null, []],
        ['disabled', { category: 4, grade: 2 }, []],
        ['ill', null, []],
        ['ill', null, []],
        [null, null, ['身体情况']],
      ],
    );
  });

  test('就学情况 as counties write it: the year alone, 在读 after the stage, other words for a stage; 在读 alone records no stage; 打工 is a row error', async () => {
    const cells = [
      '初一',
      '五年级',
      '高三',
      '大班',
      '小学在读',
      '学龄前',
      '未上学',
      '职高',
      '中专',
      '失学',
      '在读',
      '打工',
    ];
    const file = fileOf(
      'school.csv',
      csvOf([
        ['姓名', '公民身份号码', '户籍所在地', '就学情况'],
        ...cells.map((c, i) => [`童${i}`, makeIdNumber(LANKAO, '2012-03-01', 21 + 2 * i), '南彰镇南彰村', c]),
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.child.schoolStage, r.child.droppedOut, r.errors.map((e) => e.column)]),
      [
        ['junior', false, []],
        ['primary', false, []],
        ['senior', false, []],
        ['preschool', false, []],
        ['primary', false, []],
        ['preschool', false, []],
        ['none', false, []],
        ['vocational', false, []],
        ['vocational', false, []],
        ['none', true, []],
        [null, false, []],
        [null, false, ['就学情况']],
      ],
    );
  });

  test('监护类型 良好/一般 alone or after 监护情况 are the form’s answers; 祖辈监护 names who, no assessment; 差 is a row error. 是否登记户口 已登记/未落户', async () => {
    const cells: [string, string][] = [
      ['良好', '已登记'],
      ['监护情况良好', '已落户'],
      ['一般', '未登记'],
      ['监护情况较好', '无户口'],
      ['祖辈监护', '是'],
      ['差', '否'],
    ];
    const file = fileOf(
      'guardianship.csv',
      csvOf([
        ['姓名', '公民身份号码', '户籍所在地', '监护类型', '是否登记户口'],
        ...cells.map(([g, h], i) => [
          `童${i}`,
          makeIdNumber(LANKAO, '2015-03-01', 21 + 2 * i),
          '南彰镇南彰村',
          g,
          h,
        ]),
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.declared.guardianshipType, r.child.hukouRegistered, r.errors.map((e) => e.column)]),
      [
        ['good', true, []],
        ['good', true, []],
        ['fair', false, []],
        ['good', false, []],
        [null, true, []],
        [null, false, ['监护类型']],
      ],
    );
  });

  test('a work place within the county is no migration; the province’s other places and beyond are', () => {
    for (const within of [
      '兰考县城',
      '兰考',
      '县城',
      '本县南彰镇',
      '南彰镇',
      '河南省开封市兰考县城关',
      '考城镇',
    ])
      assert.equal(workplaceInCounty(within, places), true, within);
    for (const away of ['开封市', '开封市祥符区', '郑州', '广东省深圳市', '兰州', '北京', '兰考县外', '外省'])
      assert.equal(workplaceInCounty(away, places), false, away);
  });
});

describe('importing such a ledger (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  test('a father working in the county seat records no migration: the child is not left-behind and the ledger’s 是 is listed as a disagreement', async () => {
    const file = fileOf(
      'county-seat.csv',
      csvOf([
        ['姓名', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲公民身份号码', '父亲外出务工地点', '母亲姓名', '母亲务工地点', '父母双方同时外出'],
        ['张小明', '20150301', child1, '南彰镇南彰行政村', '张大明', father1, '兰考县城', '李红', '广东省深圳市', '是'],
      ]), // prettier-ignore
    );
    const outcome = await importLedgerFile(t.ctx.db, file, lankao, { today: TODAY });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.deepEqual(outcome.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    const migrations = await t.ctx.db
      .selectFrom('person_facts as f')
      .innerJoin('persons as p', 'p.id', 'f.person_id')
      .select(['p.name', 'f.data'])
      .where('f.kind', '=', 'migration')
      .where('f.retracted_at', 'is', null)
      .execute();
    assert.deepEqual(migrations, [{ name: '李红', data: { destination: '广东省深圳市' } }]);
    const child = await t.ctx.db
      .selectFrom('persons')
      .select(['id', 'hukou_region_code'])
      .where('id_number', '=', child1)
      .executeTakeFirstOrThrow();
    assert.equal(child.hukou_region_code, NANZHANG);
    const groups = await t.ctx.db
      .selectFrom('group_memberships')
      .select('group_code')
      .where('person_id', '=', child.id)
      .where('until', 'is', null)
      .execute();
    assert.deepEqual(groups, []);
    assert.deepEqual(
      outcome.review?.disagreements.map((d) => [d.rowNumber, d.question, d.declared, d.derived]),
      [
        [2, 'left_behind_child', '是', '否'],
        [2, 'both_parents_migrant', '是', '否'],
      ],
    );
  });
});
