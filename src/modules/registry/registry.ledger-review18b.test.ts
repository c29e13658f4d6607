// Child ledger, review 18b (a tester's real-ledger round, findings t1 3, 5 and 10):
// - 现居住地 naming no village of the county (广东省深圳市宝安区, 县城, 兰阳街道) was dropped: the child was
//   recorded as living in the hukou village and derived left-behind, without a word;
// - a township's short name alone (兰考县东坝头, 南彰) was taken for the village of that name;
// - footer lines without a colon under the data (2026年11月20日, （盖章）) were read as children.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { reasonsByName } from '../../../test/support/files.ts';
import { csvOf, errorsOf, lankaoLedgerFiles, xlsx } from '../../../test/support/ledger-files.ts';
import { systemActor } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { registryRecords } from './registry.export.ts';
import { writeRegistryRecords } from './registry.writer.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import { resolveAddress, resolveResidence } from './registry.ledger.ts';

const LANKAO = '410225';
const TODAY = '2026-11-29';
const NANZHANG = '410225102200'; // 南彰镇 南彰村
const SIZHAI = '410225102201'; // 南彰镇 司寨村

const { scratch, fileOf, parse, places } = lankaoLedgerFiles('shouhu-ledger-review18b-', TODAY);

const childId = (n: number) => makeIdNumber(LANKAO, `2016-0${1 + (n % 9)}-1${n % 10}`, 40 + n);

/** A ledger CSV of children of 南彰镇南彰村, one per 现居住地. */
async function residencesOf(texts: readonly string[]) {
  const file = fileOf(
    `residences-${texts.length}-${texts[0] ?? ''}.csv`,
    csvOf([
      ['姓名', '身份证号码', '户籍所在地', '现居住地'],
      ...texts.map((text, i) => [`张小${i}`, childId(i), '南彰镇南彰村', text]),
    ]),
  );
  return parse(file);
}

describe('现居住地 is kept as the place it names (parsed)', () => {
  test('同上 and its kin are the hukou village; a village, a township, the county and places elsewhere keep their codes', async () => {
    const expected: [string, string | null][] = [
      ['同上', null],
      ['（同上）', null],
      ['同户籍地', null],
      ['同户籍所在地', null],
      ['与户籍地一致', null],
      ['户籍地', null],
      ['本村', null],
      ['本户', null],
      ['南彰村', NANZHANG],
      ['南彰镇司寨村3组', SIZHAI],
      ['兰阳街道', '410225001'],
      ['南彰镇', '410225102'],
      ['兰考县南彰镇', '410225102'],
      ['南彰', '410225102'],
      ['县城', LANKAO],
      ['兰考县城', LANKAO],
      ['兰考县', LANKAO],
      ['本县', LANKAO],
      ['广东省深圳市宝安区', '440306'],
      ['广东省深圳市宝安区西乡街道', '440306'],
      ['广东省深圳市', '4403'],
      ['广东省', '44'],
      ['广东', '44'],
      ['深圳', '4403'],
      ['北京市朝阳区', '110105'],
      ['开封市祥符区', '410212'],
    ];
    const rows = await residencesOf(expected.map(([text]) => text));
    assert.deepEqual(
      rows.map((r) => [r.raw['现居住地'], r.addresses.residenceRegionCode, errorsOf(r)]),
      expected.map(([text, code]) => [text, code, []]),
    );
  });

  test('a residence that names no place, or several, is a row error on 现居住地, never the hukou village', async () => {
    const rows = await residencesOf([
      '外地',
      '外省',
      '朝阳区',
      '河北省深圳市',
      '兰考县幸福村',
      '孟寨',
      '东营',
    ]);
    assert.deepEqual(
      rows.map((r) => r.addresses.residenceRegionCode),
      [null, null, null, null, null, null, null],
    );
    assert.deepEqual(
      rows.map((r) => errorsOf(r)),
      [
        [
          [
            '现居住地',
            '外地',
            '现居住地“外地”不是能识别的地点：请写明本县（兰考县）的乡镇和村（居），或外地的省、市、县（如 广东省深圳市宝安区）；与户籍地相同请填“同上”',
          ],
        ],
        [
          [
            '现居住地',
            '外省',
            '现居住地“外省”不是能识别的地点：请写明本县（兰考县）的乡镇和村（居），或外地的省、市、县（如 广东省深圳市宝安区）；与户籍地相同请填“同上”',
          ],
        ],
        [
          [
            '现居住地',
            '朝阳区',
            '现居住地“朝阳区”对应多个地方（北京市朝阳区、吉林省长春市朝阳区），请写明省、市、县或乡镇、村',
          ],
        ],
        [
          [
            '现居住地',
            '河北省深圳市',
            '现居住地“河北省深圳市”中的“深圳市”（广东省深圳市）不在河北省，请核对',
          ],
        ],
        [['现居住地', '兰考县幸福村', '地址“兰考县幸福村”在本县找不到对应的村（居）']],
        // The township 孟寨乡, or the 孟寨村 of two other townships.
        [
          [
            '现居住地',
            '孟寨',
            '现居住地“孟寨”对应多个地方（孟寨乡、堌阳镇孟寨村、仪封镇孟寨村），请写明省、市、县或乡镇、村',
          ],
        ],
        // 仪封镇东营村, or the city in 山东.
        [
          [
            '现居住地',
            '东营',
            '现居住地“东营”对应多个地方（仪封镇东营村、山东省东营市），请写明省、市、县或乡镇、村',
          ],
        ],
      ],
    );
    assert.equal(
      rows[0]?.errors[0]?.reason.en,
      'the residence (现居住地) "外地" names no place that can be resolved: write the township and village in the county (兰考县), or the province, city and county elsewhere (e.g. 广东省深圳市宝安区); write 同上 when it is the hukou address',
    );
  });

  test('resolveResidence on its own: a bare county name is resolved when unique, the county town without a township of that name is the county', () => {
    const code = (text: string) => {
      const r = resolveResidence(text, places());
      return r.ok ? r.code : r.message.zh;
    };
    assert.equal(code('宝安'), '440306');
    assert.equal(code('上海浦东'), '310115');
    assert.equal(code('浙江省杭州市萧山区'), '330109');
    // 兰考县 has no 城关镇: the county town.
    assert.equal(code('兰考县城关镇'), LANKAO);
    assert.equal(code('南彰镇政府'), '410225102');
    assert.match(code('鼓楼区') ?? '', /^现居住地“鼓楼区”对应多个地方（江苏省南京市鼓楼区、/);
  });
});

describe('现居住地 in the import (database)', () => {
  let t: TestApp;
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };
  const HEADER = ['序号', '姓名', '性别', '身份证号码', '户籍所在地', '现居住地', '父亲姓名', '父亲身份证号码', '父亲务工地点', '母亲姓名', '母亲身份证号码', '母亲务工地点', '父母双方同时外出']; // prettier-ignore
  const kids = {
    shenzhen: makeIdNumber(LANKAO, '2016-04-05', 61),
    home: makeIdNumber(LANKAO, '2016-05-06', 63),
    away: makeIdNumber(LANKAO, '2016-06-07', 65),
    town: makeIdNumber(LANKAO, '2016-07-08', 67),
    township: makeIdNumber(LANKAO, '2016-08-09', 69),
  };
  /** A child of 南彰镇南彰村 whose parents both work in 深圳, living where `residence` says. */
  const row = (n: number, name: string, id: string, hukou: string, residence: string) => [
    n,
    name,
    '男',
    id,
    hukou,
    residence,
    `${name}父`,
    makeIdNumber(LANKAO, `198${n}-01-02`, 31),
    '广东省深圳市',
    `${name}母`,
    makeIdNumber(LANKAO, `198${n}-03-04`, 32),
    '广东省深圳市',
    '是',
  ];
  async function ledger(name: string, rows: (string | number)[][]) {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['兰考县南彰镇农村留守儿童台账']);
      sheet.addRow([`填报日期：${TODAY}`]);
      sheet.addRow(HEADER);
      for (const r of rows) sheet.addRow(r);
    });
    return fileOf(name, content);
  }
  const firstLedger = () =>
    ledger('first.xlsx', [
      row(1, '王深圳', kids.shenzhen, '南彰镇南彰村', '广东省深圳市宝安区'),
      row(2, '王同上', kids.home, '南彰镇南彰村', '同上'),
      row(3, '王外地', kids.away, '南彰镇南彰村', '外地'),
      row(4, '王县城', kids.town, '南彰镇南彰村', '兰考县城'),
      // A township's short name is no village: not placed in 东坝头村.
      row(5, '王东坝', kids.township, '兰考县东坝头', '同上'),
    ]);

  before(async () => {
    t = await createTestApp({ dataDir: scratch.path('data') });
  });
  after(async () => t?.close());

  const person = (idNumber: string) =>
    t.ctx.db
      .selectFrom('persons')
      .select(['id', 'hukou_region_code', 'residence_region_code'])
      .where('id_number', '=', idNumber)
      .executeTakeFirst();
  async function openGroups(idNumber: string): Promise<string[]> {
    const p = await person(idNumber);
    assert.ok(p, idNumber);
    const rows = await t.ctx.db
      .selectFrom('group_memberships')
      .select('group_code')
      .where('person_id', '=', p.id)
      .where('until', 'is', null)
      .orderBy('group_code')
      .execute();
    return rows.map((r) => r.group_code);
  }

  test('both parents in 深圳: the child living there is no left-behind child, the one at home (同上) is; 外地 and a township for the hukou are refused on their rows; the same file again changes nothing', async () => {
    const outcome = await importLedgerFile(t.ctx.db, await firstLedger(), lankao, {
      today: TODAY,
      errorReportBase: scratch.path('first-errors'),
    });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.deepEqual(outcome.counts, { rows: 5, inserted: 3, updated: 0, unchanged: 0, errors: 2 });
    const reasons = await reasonsByName(outcome.errorReport?.csv);
    assert.deepEqual(Object.keys(reasons).sort(), ['王东坝', '王外地']);
    assert.match(reasons['王外地'] ?? '', /^现居住地[：:]现居住地“外地”不是能识别的地点/);
    assert.match(
      reasons['王东坝'] ?? '',
      /^户籍所在地[：:]户籍所在地“兰考县东坝头”是乡镇（东坝头镇）的名称，没有写明村（居）/,
    );
    assert.equal(await person(kids.away), undefined, 'the row with 外地 is not written');
    assert.equal(await person(kids.township), undefined, 'nobody is placed in 东坝头村');

    assert.deepEqual(
      [await person(kids.shenzhen), await person(kids.home), await person(kids.town)].map((p) => [
        p?.hukou_region_code,
        p?.residence_region_code,
      ]),
      [
        [NANZHANG, '440306'],
        [NANZHANG, null],
        [NANZHANG, LANKAO],
      ],
    );
    assert.deepEqual(await openGroups(kids.shenzhen), []);
    assert.deepEqual(await openGroups(kids.home), ['left_behind_child']);
    assert.deepEqual(await openGroups(kids.town), []);
    // The review says why the rules do not call the child in 深圳 left-behind.
    const shenzhen = outcome.review?.disagreements.find(
      (d) => d.name === '王深圳' && d.question === 'left_behind_child',
    );
    assert.ok(shenzhen, JSON.stringify(outcome.review));
    assert.ok(shenzhen.reasons.zh.includes('不在户籍所在村居住'), shenzhen.reasons.zh.join('; '));

    const again = await importLedgerFile(t.ctx.db, await firstLedger(), lankao, { today: TODAY });
    assert.deepEqual(again.counts, { rows: 5, inserted: 0, updated: 0, unchanged: 3, errors: 2 });
  });

  test('the village exported and imported back changes nothing, a residence in 深圳 (a county not loaded) included', async () => {
    const records = [];
    for await (const r of registryRecords(t.ctx.db, NANZHANG, TODAY)) records.push(r);
    assert.ok(
      records.some((r) => r.residenceRegionCode === '440306'),
      'the export writes the residence in 深圳',
    );
    const exported = scratch.path('nanzhang-export.csv');
    await writeRegistryRecords(exported, records);
    const back = await importRegistryFile(t.ctx.database, exported, lankao, {
      today: TODAY,
      dryRun: true,
      errorReportBase: scratch.path('nanzhang-back-errors'),
    });
    assert.equal(back.status, 'succeeded', JSON.stringify(back.message));
    assert.deepEqual(
      { ...back.counts, rows: 0 },
      { rows: 0, inserted: 0, updated: 0, unchanged: records.length, errors: 0 },
      JSON.stringify(await reasonsByName(back.errorReport?.csv)),
    );
  });

  test('a registered child’s residence follows a later ledger; a more precise residence on record stays', async () => {
    const later = async (file: string, shenzhen: string, home: string) =>
      importLedgerFile(
        t.ctx.db,
        await ledger(file, [
          row(1, '王深圳', kids.shenzhen, '南彰镇南彰村', shenzhen),
          row(2, '王同上', kids.home, '南彰镇南彰村', home),
        ]),
        lankao,
        { today: TODAY },
      );
    // 深圳市 names less than 440306 on record (宝安区 is in it): kept. The child at home moves to 深圳.
    const moved = await later('moved.xlsx', '广东省深圳市', '深圳');
    assert.deepEqual(moved.counts, { rows: 2, inserted: 0, updated: 1, unchanged: 1, errors: 0 });
    assert.equal((await person(kids.shenzhen))?.residence_region_code, '440306');
    assert.equal((await person(kids.home))?.residence_region_code, '4403');
    assert.deepEqual(await openGroups(kids.home), []);
    // Back home: the hukou village again, and left-behind again. 空 (empty) says nothing: kept.
    const back = await later('back.xlsx', '', '同户籍地');
    assert.deepEqual(back.counts, { rows: 2, inserted: 0, updated: 1, unchanged: 1, errors: 0 });
    assert.equal((await person(kids.home))?.residence_region_code, null);
    assert.equal((await person(kids.shenzhen))?.residence_region_code, '440306');
    assert.deepEqual(await openGroups(kids.home), ['left_behind_child']);
  });
});

describe('a township’s short name alone names no village', () => {
  test('兰考县东坝头, 东坝头, 南彰, 兰考县南彰 match no village; a village named after its township, or with 村, still does', () => {
    const resolve = (text: string) => resolveAddress(text, LANKAO, places().villages, places().upperNames);
    for (const text of ['兰考县东坝头', '东坝头', '南彰', '兰考县南彰', '河南省开封市兰考县南彰'])
      assert.deepEqual(resolve(text), { ok: false, unknown: true }, text);
    for (const [text, code] of [
      ['南彰镇南彰', NANZHANG],
      ['南彰村', NANZHANG],
      ['兰考县南彰村委会', NANZHANG],
      ['南彰3组', NANZHANG],
      ['东坝头镇东坝头', '410225106202'],
      ['东坝头村', '410225106202'],
      ['谷营镇张庄', '410225105235'],
    ] as const)
      assert.deepEqual(resolve(text), { ok: true, code }, text);
  });

  test('as 户籍所在地 (or 村（居）) it is a row error saying it is a township; as 现居住地 it is the township', async () => {
    const file = fileOf(
      'townships.csv',
      csvOf([
        ['姓名', '身份证号码', '户籍所在地', '现居住地'],
        ['李东东', childId(1), '兰考县东坝头', '同上'],
        ['李南南', childId(2), '南彰', '南彰'],
        ['李孟孟', childId(3), '孟寨', ''],
        ['李镇镇', childId(4), '南彰镇', ''],
        ['李村村', childId(5), '南彰镇南彰村', '东坝头'],
      ]),
    );
    const rows = await parse(file);
    assert.deepEqual(
      rows.map((r) => [r.addresses.hukouRegionCode, r.addresses.residenceRegionCode]),
      [
        [null, null],
        [null, null],
        [null, null],
        [null, null],
        [NANZHANG, '410225106'],
      ],
    );
    assert.deepEqual(
      rows.map((r) => errorsOf(r)),
      [
        [
          [
            '户籍所在地',
            '兰考县东坝头',
            '户籍所在地“兰考县东坝头”是乡镇（东坝头镇）的名称，没有写明村（居）：请写明村，如“东坝头镇××村”；名为“东坝头”的村有东坝头镇东坝头村',
          ],
        ],
        [
          [
            '户籍所在地',
            '南彰',
            '户籍所在地“南彰”是乡镇（南彰镇）的名称，没有写明村（居）：请写明村，如“南彰镇××村”；名为“南彰”的村有南彰镇南彰村',
          ],
        ],
        [
          [
            '户籍所在地',
            '孟寨',
            '户籍所在地“孟寨”是乡镇（孟寨乡）的名称，没有写明村（居）：请写明村，如“孟寨乡××村”；名为“孟寨”的村有堌阳镇孟寨村、仪封镇孟寨村、孟寨乡孟寨村',
          ],
        ],
        [
          [
            '户籍所在地',
            '南彰镇',
            '户籍所在地“南彰镇”是乡镇（南彰镇）的名称，没有写明村（居）：请写明村，如“南彰镇××村”',
          ],
        ],
        [],
      ],
    );
    assert.equal(
      rows[1]?.errors[0]?.reason.en,
      '户籍所在地 "南彰" names the township 南彰镇, not a village: write the village (南彰镇…村); villages of that name: 南彰镇南彰村',
    );
    // The village in its own column, without the township: the same.
    const parts = fileOf(
      'parts.csv',
      csvOf([
        ['姓名', '身份证号码', '乡镇', '村'],
        ['李东东', childId(1), '', '东坝头'],
        ['李东西', childId(2), '东坝头镇', '东坝头'],
      ]),
    );
    const [alone, withTownship] = await parse(parts);
    assert.deepEqual(errorsOf(alone)?.[0]?.slice(0, 2), ['村（居）', '东坝头']);
    assert.match(errorsOf(alone)?.[0]?.[2] ?? '', /^村（居）“东坝头”是乡镇（东坝头镇）的名称/);
    assert.deepEqual([withTownship?.addresses.hukouRegionCode, errorsOf(withTownship)], ['410225106202', []]);
  });
});

describe('footer lines without a colon under the data', () => {
  test('a date or a seal line alone on its row is skipped; a row with anything else in it is still a child', async () => {
    const content = await xlsx((wb) => {
      const sheet = wb.addWorksheet('Sheet1');
      sheet.addRow(['兰考县南彰镇农村留守儿童台账']);
      sheet.addRow([
        '序号',
        '姓名',
        '性别',
        '出生日期',
        '公民身份号码',
        '户籍所在地',
        '父亲姓名',
        '父亲务工地点',
      ]);
      sheet.addRow([1, '郑南一', '男', '2016-03-13', childId(1), '南彰镇南彰村', '郑大一', '广州市']);
      for (const line of [
        '2026年11月20日',
        '2026.11.20',
        '2026-11-20',
        '二〇二六年十一月二十日',
        '年  月  日',
        '（盖章）',
        '村委会盖章',
        '村（居）委会（盖章）',
        '南彰镇人民政府（章）',
        '负责人签字',
      ])
        sheet.addRow(['', line]);
      // A date cell, and a seal and a date on one row.
      sheet.addRow(['', new Date(Date.UTC(2026, 10, 20))]);
      sheet.addRow(['', '（盖章）', '', '', '', '', '', '2026年11月20日']);
      // A child with nothing but a name is still read (and reported by the import), as is a row whose
      // 姓名 holds a date but whose other columns are filled.
      sheet.addRow([2, '郑南二']);
      sheet.addRow([3, '2026年11月20日', '男', '', '', '南彰镇南彰村']);
    });
    const rows = await parse(fileOf('footer.xlsx', content));
    assert.deepEqual(
      rows.map((r) => [r.rowNumber, r.child.name]),
      [
        [3, '郑南一'],
        [16, '郑南二'],
        [17, '2026年11月20日'],
      ],
    );
  });
});
