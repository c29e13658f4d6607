// Child ledger import, review 2: addresses in counties that share their name with the prefecture
// (安阳县 in 安阳市) or whose townships the division data names with the county in front (濮阳县文留镇);
// re-importing a ledger without 填报日期 on later days; values the database cannot store (NUL, BEL,
// a note pasted into a name); the checks the template makes on parents, birth dates and the inability;
// unknown columns reported; the carer who is a grandparent of the same row. Runs on PGlite, or
// PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, systemActor } from '../access/index.ts';
import { loadRegions } from '../regions/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import type { Importer } from './registry.import.ts';
import { importLedgerFile } from './registry.import-ledger.ts';
import {
  LEDGER_NAME_MAX,
  LEDGER_TEXT_MAX,
  loadCountyPlaces,
  resolveAddress,
  type CountyPlaces,
} from './registry.ledger.ts';
import { readTable } from './registry.reader.ts';
import { multipartFile } from '../../../test/support/upload.ts';

const LANKAO = '410225';
const ANYANG_COUNTY = '410522'; // 安阳县, in 安阳市
const PUYANG_COUNTY = '410928'; // 濮阳县, in 濮阳市: townships named 濮阳县文留镇 in the division data
const LUANCHUAN = '410324'; // 栾川县: the township 栾川乡
const MIYUN = '110118'; // 密云区: the township 密云镇
const NANWU = '410522106232'; // 安阳县 白璧镇 南务村民委员会
const WENLIU = '410928102201'; // 濮阳县 濮阳县文留镇 文留村委会

const places = new Map<string, CountyPlaces>();
const resolveIn = (county: string, text: string) => {
  const p = places.get(county);
  assert.ok(p, county);
  return resolveAddress(text, county, p.villages, p.upperNames);
};
const resolvedCode = (county: string, text: string) => {
  const r = resolveIn(county, text);
  return r.ok ? r.code : 'ambiguous' in r ? 'ambiguous' : 'unknown';
};

before(async () => {
  for (const county of [ANYANG_COUNTY, PUYANG_COUNTY, LUANCHUAN, MIYUN, '430121'])
    places.set(county, await loadCountyPlaces(county));
});

describe('addresses where a county, township or village shares a name with the level above', () => {
  test('安阳县 in 安阳市: the county named, with or without province and prefecture, resolves; 安阳 is not taken off before 县', () => {
    for (const text of [
      '河南省安阳市安阳县白璧镇南务村',
      '安阳市安阳县南务村',
      '安阳县白璧镇南务村',
      '安阳县南务村',
      '白璧镇南务村委会',
      '南务村',
    ])
      assert.equal(resolvedCode(ANYANG_COUNTY, text), NANWU, text);
    // 新乡县, 长沙县 ... the same: 长沙县 in 长沙市.
    assert.equal(resolvedCode('430121', '长沙县黄花镇黄花路社区'), '430121105001');
    assert.equal(resolvedCode('430121', '湖南省长沙市长沙县黄花镇黄花路社区'), '430121105001');
  });

  test('ambiguous and unknown addresses naming 安阳县 stay reported, never guessed', () => {
    const twice = resolveIn(ANYANG_COUNTY, '安阳县北庄村');
    assert.ok(!twice.ok && 'ambiguous' in twice);
    assert.deepEqual(twice.candidates.map((v) => v.townshipName).sort(), ['许家沟乡', '辛村镇'].sort());
    assert.equal(resolvedCode(ANYANG_COUNTY, '安阳县幸福村'), 'unknown');
    assert.equal(resolvedCode(ANYANG_COUNTY, '安阳县'), 'unknown');
    assert.equal(resolvedCode(ANYANG_COUNTY, '安阳县白璧镇'), 'unknown');
  });

  test('濮阳县, whose townships the division data names 濮阳县文留镇: the township with or without the county', () => {
    for (const text of [
      '濮阳县文留镇文留村',
      '文留镇文留村',
      '濮阳县文留村',
      '河南省濮阳市濮阳县文留镇文留村委会',
      '濮阳文留镇文留村',
    ])
      assert.equal(resolvedCode(PUYANG_COUNTY, text), WENLIU, text);
    assert.equal(resolvedCode(PUYANG_COUNTY, '濮阳县文留镇'), 'unknown');
  });

  test('a township that starts with the county’s name (栾川乡, 密云镇), and villages the data names with county and township in front', () => {
    // 栾川乡罗庄社区居民委员会 and 栾川县栾川乡七里坪社区居民委员会, as the division data writes them.
    assert.equal(resolvedCode(LUANCHUAN, '栾川乡罗庄社区'), '410324200001');
    assert.equal(resolvedCode(LUANCHUAN, '栾川县栾川乡罗庄社区'), '410324200001');
    assert.equal(resolvedCode(LUANCHUAN, '栾川乡七里坪社区'), '410324200002');
    assert.equal(resolvedCode(LUANCHUAN, '七里坪社区居委会'), '410324200002');
    assert.equal(resolvedCode(MIYUN, '密云镇季庄村'), '110118100200');
    assert.equal(resolvedCode(MIYUN, '北京市密云区密云镇季庄村委会'), '110118100200');
    assert.equal(resolvedCode(MIYUN, '密云区季庄村'), '110118100200');
    // A township alone names no village, not even its own residents' committee (太师屯镇居民委员会).
    assert.equal(resolvedCode(MIYUN, '密云镇'), 'unknown');
    assert.equal(resolvedCode(MIYUN, '太师屯镇'), 'unknown');
    assert.notEqual(resolvedCode(MIYUN, '太师屯镇居委会'), 'unknown');
  });

  test('every village of these counties resolves from its full address and from township + village', () => {
    for (const [county, p] of places) {
      const [province, prefecture, countyName] = p.upperNames;
      for (const v of p.villages) {
        const full = `${province}${prefecture}${countyName}${v.townshipName}${v.name}`;
        assert.equal(resolvedCode(county, full), v.code, full);
        assert.equal(resolvedCode(county, `${v.townshipName}${v.name}`), v.code, v.name);
      }
    }
  });
});

describe('importing child ledgers (database)', () => {
  let t: TestApp;
  let dir = '';
  let token = '';
  const lankao: Importer = { regionCode: LANKAO, userId: null, auditActor: systemActor('test') };

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-ledger-review2-'));
    t = await createTestApp({ dataDir: path.join(dir, 'data') });
    await loadRegions(t.database, { within: ANYANG_COUNTY });
    token = (await createToken(t.ctx, null, { name: 'clerk', role: 'county_staff', regionCode: LANKAO }))
      .token;
  });
  after(async () => {
    await t?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const csvCell = (s: string) => (/[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s);
  /** A ledger CSV (UTF-8 with BOM), optionally with the title block that gives 填报日期. */
  function ledgerCsv(rows: readonly Record<string, string>[], title: string | null = null): Buffer {
    const headers = [...new Set(rows.flatMap((r) => Object.keys(r)))];
    const lines = [
      ...(title ? ['农村留守儿童基本情况登记表', `填报单位：兰考县民政局,填报日期：${title}`] : []),
      headers.map(csvCell).join(','),
      ...rows.map((r) => headers.map((h) => csvCell(r[h] ?? '')).join(',')),
    ];
    return Buffer.from('\uFEFF' + lines.join('\r\n') + '\r\n');
  }

  let files = 0;
  /** Imports a ledger file; resolves with the outcome and the error report's rows. */
  async function importLedger(
    content: Buffer,
    options: { today?: string; importer?: Importer; ext?: 'csv' | 'xlsx' } = {},
  ) {
    files += 1;
    const file = path.join(dir, `ledger-${files}.${options.ext ?? 'csv'}`);
    fs.writeFileSync(file, content);
    const outcome = await importLedgerFile(t.ctx.db, file, options.importer ?? lankao, {
      today: options.today ?? '2026-11-29',
      errorReportBase: path.join(dir, `errors-${files}`),
    });
    const errors: Record<string, string>[] = [];
    if (outcome.errorReport) {
      // The report is read back as a clerk would open it to fix the rows.
      const table = await readTable(outcome.errorReport.csv);
      for await (const row of table.rows) {
        const cells = row.cells as Record<string, string>;
        // Each row's reasons end with its row number (（第 5 行）): the tests compare the reasons.
        errors.push({ ...cells, 错误原因: (cells['错误原因'] ?? '').replace(/（第 \d+ 行）$/, '') });
      }
    }
    return { outcome, errors };
  }

  const personsNamed = (name: string) =>
    t.ctx.db.selectFrom('persons').selectAll().where('name', '=', name).orderBy('id').execute();

  test('a 安阳县 ledger: the addresses naming the county import; an ambiguous and an unknown village are reported on their rows', async () => {
    const anyang: Importer = { regionCode: ANYANG_COUNTY, userId: null, auditActor: systemActor('test') };
    const addresses = [
      '河南省安阳市安阳县白璧镇南务村',
      '安阳县白璧镇南务村',
      '安阳县南务村',
      '白璧镇南务村委会',
      '安阳市安阳县南务村',
      '安阳县北庄村',
      '安阳县幸福村',
    ];
    const rows = addresses.map((address, i) => {
      const birth = `2015-05-0${i + 1}`;
      return {
        姓名: `安阳孩子${'甲乙丙丁戊己庚'[i]}`,
        性别: '男',
        出生日期: birth,
        公民身份号码: makeIdNumber(ANYANG_COUNTY, birth, 21),
        户籍所在地: address,
      };
    });
    const { outcome, errors } = await importLedger(ledgerCsv(rows), { importer: anyang });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    assert.deepEqual(outcome.counts, { rows: 7, inserted: 5, updated: 0, unchanged: 0, errors: 2 });
    for (const r of rows.slice(0, 5))
      assert.equal((await personsNamed(r.姓名))[0]?.hukou_region_code, NANWU, r.户籍所在地);
    assert.deepEqual(
      errors.map((e) => [e['姓名'], e['错误原因']]),
      [
        [
          '安阳孩子己',
          '户籍所在地：地址“安阳县北庄村”对应多个村（辛村镇北庄村民委员会、许家沟乡北庄村民委员会），请写明乡镇',
        ],
        ['安阳孩子庚', '户籍所在地：地址“安阳县幸福村”在本县找不到对应的村（居）'],
      ],
    );
  });

  test('the same ledger without 填报日期 imported again on later days changes nothing: the carer link and an undated inability stay', async () => {
    const child = makeIdNumber(LANKAO, '2015-06-01', 61);
    const row = (assessment: string) => ({
      姓名: '宋小明',
      性别: '男',
      出生日期: '2015-06-01',
      公民身份号码: child,
      户籍所在地: '南彰镇南彰村',
      父亲姓名: '宋建国',
      父亲出生日期: '1985-06-07',
      母亲姓名: '黄芳',
      母亲出生日期: '1987-02-02',
      母亲务工地点: '浙江省杭州市',
      一方外出另一方无监护能力: '是',
      无监护能力方: '父亲',
      无监护能力原因: '服刑在押',
      有无委托监护人: '是',
      委托监护人姓名: '宋大爷',
      委托监护人公民身份号码: makeIdNumber(LANKAO, '1958-01-01', 61),
      委托监护人与儿童关系: '祖父',
      监护类型: assessment,
    });
    const snapshot = async () => ({
      relations: await t.ctx.db
        .selectFrom('person_relations as r')
        .innerJoin('persons as p', 'p.id', 'r.person_id')
        .select(['r.id', 'r.kind', 'r.valid_from', 'r.valid_to', 'r.carer_fitness_checked_on', 'r.carer_fit'])
        .where('p.id_number', '=', child)
        .orderBy('r.id')
        .execute(),
      facts: await t.ctx.db
        .selectFrom('person_facts')
        .select(['id', 'kind', 'valid_from', 'valid_to', 'retracted_at'])
        .orderBy('id')
        .execute(),
    });
    const content = ledgerCsv([row('监护情况一般')]);
    const first = await importLedger(content, { today: '2026-11-20' });
    assert.deepEqual(first.outcome.counts, { rows: 1, inserted: 1, updated: 0, unchanged: 0, errors: 0 });
    const before = await snapshot();
    assert.deepEqual(
      before.relations
        .filter((r) => r.kind === 'carer')
        .map((r) => [r.carer_fitness_checked_on, r.carer_fit]),
      [['2026-11-20', true]],
    );
    for (const day of ['2026-11-20', '2026-11-25', '2026-12-10']) {
      const again = await importLedger(content, { today: day });
      assert.deepEqual(
        again.outcome.counts,
        { rows: 1, inserted: 0, updated: 0, unchanged: 1, errors: 0 },
        day,
      );
      assert.deepEqual(await snapshot(), before, day);
    }
    // A changed assessment is still news: the link in force ends and a new one is checked that day.
    const changed = await importLedger(ledgerCsv([row('受委托监护人监护能力不足')]), { today: '2026-12-15' });
    assert.deepEqual(changed.outcome.counts, { rows: 1, inserted: 0, updated: 1, unchanged: 0, errors: 0 });
    assert.deepEqual(
      (await snapshot()).relations
        .filter((r) => r.kind === 'carer')
        .map((r) => [r.valid_from, r.valid_to, r.carer_fitness_checked_on, r.carer_fit]),
      [
        [null, '2026-12-15', '2026-11-20', true],
        ['2026-12-15', null, '2026-12-15', false],
      ],
    );
  });

  test('NUL, BEL and values longer than any name or address are row errors naming the column; the other rows import', async () => {
    const good = (name: string, birth: string, n: number) => ({
      姓名: name,
      性别: '男',
      出生日期: birth,
      公民身份号码: makeIdNumber(LANKAO, birth, n),
      户籍所在地: '南彰镇南彰村',
      父亲姓名: '',
      父亲务工地点: '',
    });
    const note = Array.from({ length: 1000 }, (_, i) =>
      String.fromCharCode(0x4e00 + ((i * 7919) % 20000)),
    ).join('');
    const longestName = '阿'.repeat(LEDGER_NAME_MAX);
    // A workbook: Excel writes a NUL as _x0000_ and a BEL as _x0007_.
    const workbook = new ExcelJS.Workbook();
    const sheet = workbook.addWorksheet('台账');
    const rows = [
      good('孔小一', '2015-01-01', 71),
      { ...good('孔_x0000_小二', '2015-01-02', 73) },
      { ...good('孔小三', '2015-01-03', 75), 父亲姓名: '孔_x0007_四', 父亲务工地点: '深圳' },
      { ...good('孔小四', '2015-01-04', 77), 父亲姓名: note, 父亲务工地点: '深圳' },
      { ...good(longestName + '阿', '2015-01-05', 79) },
      { ...good('孔小六', '2015-01-06', 81), 户籍所在地: '南彰镇南彰村' + '号'.repeat(LEDGER_TEXT_MAX) },
      { ...good(longestName, '2015-01-07', 83), 父亲姓名: '孔老七', 父亲务工地点: '深圳' },
    ];
    const headers = Object.keys(rows[0] ?? {});
    sheet.addRow(headers);
    for (const r of rows) sheet.addRow(headers.map((h) => r[h as keyof typeof r]));
    const xlsx = Buffer.from(await workbook.xlsx.writeBuffer());
    const { outcome, errors } = await importLedger(xlsx, { ext: 'xlsx' });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    assert.deepEqual(outcome.counts, { rows: 7, inserted: 2, updated: 0, unchanged: 0, errors: 5 });
    assert.deepEqual(
      errors.map((e) => [e['姓名']?.slice(0, 6), e['错误原因']]),
      [
        ['孔\uFFFD小二', '姓名：含有不可见的控制字符（如 NUL、响铃符），请删除后重新录入'],
        ['孔小三', '父亲姓名：含有不可见的控制字符（如 NUL、响铃符），请删除后重新录入'],
        ['孔小四', `父亲姓名：内容过长：最多 ${LEDGER_NAME_MAX} 个字，本格有 1000 个字`],
        ['阿阿阿阿阿阿', `姓名：内容过长：最多 ${LEDGER_NAME_MAX} 个字，本格有 ${LEDGER_NAME_MAX + 1} 个字`],
        ['孔小六', `户籍所在地：内容过长：最多 ${LEDGER_TEXT_MAX} 个字，本格有 ${6 + LEDGER_TEXT_MAX} 个字`],
      ],
    );
    // The report shows U+FFFD where a control character was, for the clerk to delete.
    assert.equal(errors[1]?.['父亲姓名'], '孔\uFFFD四');
    assert.deepEqual(
      (await personsNamed(longestName)).map((p) => p.name.length),
      [LEDGER_NAME_MAX],
    );
    assert.equal((await personsNamed('孔老七')).length, 1);
    const stored = await t.ctx.db.selectFrom('persons').select('name').execute();
    // eslint-disable-next-line no-control-regex
    assert.ok(stored.every((p) => !/[\u0000-\u0008\u000E-\u001F\u007F]/.test(p.name)));

    // A CSV: a BEL in a name, and a NUL beyond the first 64 KB the reader checks for binary content.
    const csv = ledgerCsv([
      { ...good('孔小八', '2015-01-08', 85), 备注: 'x'.repeat(70_000) },
      { ...good('孔\u0007小九', '2015-01-09', 87), 备注: '' },
      { ...good('孔小十', '2015-01-10', 89), 父亲姓名: '孔\u0000十', 父亲务工地点: '深圳', 备注: '' },
    ]);
    const fromCsv = await importLedger(csv);
    assert.equal(fromCsv.outcome.status, 'succeeded', JSON.stringify(fromCsv.outcome));
    assert.deepEqual(fromCsv.outcome.counts, { rows: 3, inserted: 1, updated: 0, unchanged: 0, errors: 2 });
    assert.deepEqual(
      fromCsv.errors.map((e) => [e['姓名'], e['父亲姓名'], e['错误原因']]),
      [
        ['孔\uFFFD小九', '', '姓名：含有不可见的控制字符（如 NUL、响铃符），请删除后重新录入'],
        ['孔小十', '孔\uFFFD十', '父亲姓名：含有不可见的控制字符（如 NUL、响铃符），请删除后重新录入'],
      ],
    );
  });

  test('the checks the template makes: parents’ sex and birth dates, the child’s birth date without ID number, the inability’s start', async () => {
    const child = (name: string, birth: string, n: number, extra: Record<string, string>) => ({
      姓名: name,
      性别: n % 2 === 1 ? '男' : '女',
      出生日期: birth,
      公民身份号码: makeIdNumber(LANKAO, birth, n),
      户籍所在地: '南彰镇南彰村',
      ...extra,
    });
    const rows = [
      child('钟小一', '2015-05-01', 91, {
        父亲姓名: '钟大',
        父亲出生日期: '2019-06-07',
        父亲务工地点: '深圳',
      }),
      { 姓名: '钟小二', 性别: '女', 出生日期: '2031-02-03', 户籍所在地: '南彰镇南彰村' },
      { 姓名: '钟小三', 性别: '女', 出生日期: '1850-02-03', 户籍所在地: '南彰镇南彰村' },
      child('钟小四', '2014-05-01', 93, {
        父亲姓名: '钟四',
        父亲出生日期: '1985-01-01',
        母亲姓名: '林四',
        母亲务工地点: '上海',
        无监护能力方: '父亲',
        无监护能力原因: '服刑在押',
        无监护能力开始日期: '1970-01-01',
      }),
      child('钟小五', '2013-05-01', 95, {
        父亲姓名: '钟五',
        父亲出生日期: '1984-01-01',
        母亲姓名: '林五',
        母亲务工地点: '上海',
        无监护能力方: '父亲',
        无监护能力原因: '服刑在押',
        无监护能力开始日期: '2030-01-01',
      }),
      child('钟小六', '2012-05-01', 97, {
        母亲姓名: '林六',
        母亲公民身份号码: makeIdNumber(LANKAO, '1985-03-03', 11),
        母亲务工地点: '上海',
      }),
      child('钟小七', '2012-06-01', 99, {
        父亲姓名: '钟七',
        父亲公民身份号码: makeIdNumber(LANKAO, '1984-03-03', 12),
        父亲务工地点: '上海',
      }),
      child('钟小八', '2016-05-01', 101, {
        父亲姓名: '钟八',
        父亲出生日期: '1980-01-01',
        父亲公民身份号码: makeIdNumber(LANKAO, '1982-03-03', 31),
        父亲务工地点: '北京',
      }),
    ];
    const before = await t.ctx.db.selectFrom('persons').select('id').execute();
    const { outcome, errors } = await importLedger(ledgerCsv(rows), { today: '2026-11-29' });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome));
    assert.deepEqual(outcome.counts, { rows: 8, inserted: 0, updated: 0, unchanged: 0, errors: 8 });
    assert.deepEqual(
      errors.map((e) => [e['姓名'], e['错误原因']]),
      [
        ['钟小一', '父亲出生日期：父母“钟大”的出生日期 2019-06-07 不早于子女的出生日期 2015-05-01'],
        ['钟小二', '出生日期：出生日期 2031-02-03 晚于今天（2026-11-29）'],
        ['钟小三', '出生日期：出生日期 1850-02-03 早于1900年'],
        ['钟小四', '无监护能力开始日期：无监护能力开始日期 1970-01-01 早于父亲的出生日期 1985-01-01'],
        ['钟小五', '无监护能力开始日期：无监护能力开始日期 2030-01-01 晚于今天（2026-11-29）'],
        ['钟小六', '母亲公民身份号码：母亲公民身份号码是男性的号码（第17位为奇数），请核对'],
        ['钟小七', '父亲公民身份号码：父亲公民身份号码是女性的号码（第17位为偶数），请核对'],
        ['钟小八', '父亲出生日期：出生日期 1980-01-01 与公民身份号码不一致（号码为 1982-03-03）'],
      ],
    );
    assert.deepEqual(await t.ctx.db.selectFrom('persons').select('id').execute(), before);
  });

  test('unknown columns are ignored and reported, by the import and on the import job', async () => {
    const rows = [
      {
        姓名: '冯小明',
        性别: '男',
        出生年月: '2015-07-01',
        公民身份号码: makeIdNumber(LANKAO, '2015-07-01', 111),
        户籍所在地: '南彰镇南彰村',
        父亲姓名: '冯建国',
        父亲出生日期: '1985-06-07',
        父亲务工地址: '广东省深圳市',
        母亲姓名: '冯芳',
        母亲出生日期: '1987-01-01',
        母亲外出务工地点: '浙江省杭州市',
        父母双方同时外出: '是',
        兴趣爱好: '画画',
        备注说明: '无',
      },
    ];
    const content = ledgerCsv(rows);
    const { outcome } = await importLedger(content);
    assert.equal(outcome.status, 'succeeded');
    // 父亲务工地址 and 母亲外出务工地点 are the form's 务工地点 under other names (review 4), and
    // 出生年月 its 出生日期 (review 5).
    assert.deepEqual(outcome.unknownHeaders, ['兴趣爱好', '备注说明']);
    // Through the API, the job's message says so as it does for the registry template.
    const { payload, contentType } = multipartFile('columns.csv', content);
    const posted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports?kind=ledger',
      headers: { 'content-type': contentType, authorization: `Bearer ${token}` },
      payload,
    });
    assert.equal(posted.statusCode, 202, posted.body);
    await t.ctx.jobs.drain();
    const view = await t.app.inject({
      method: 'GET',
      url: `/api/v1/imports/${(posted.json() as { id: number }).id}`,
      headers: { authorization: `Bearer ${token}`, 'accept-language': 'zh-CN' },
    });
    const job = view.json() as { status: string; message: string | null };
    assert.equal(job.status, 'succeeded', view.body);
    // The ledger has no 填报日期, which the message says first (session 21), then the columns ignored.
    assert.match(job.message ?? '', /^台账未写填报日期，按导入日期（\d{4}-\d{2}-\d{2}）记录/);
    assert.match(job.message ?? '', /；已忽略未知列：兴趣爱好、备注说明$/);
  });

  test('the carer who is the grandmother of the same row (same name, 与儿童关系 祖母) is one person', async () => {
    const base = (name: string, birth: string, n: number) => ({
      姓名: name,
      性别: '男',
      出生日期: birth,
      公民身份号码: makeIdNumber(LANKAO, birth, n),
      户籍所在地: '南彰镇南彰村',
      父亲姓名: '',
      父亲出生日期: '',
      父亲务工地点: '',
      有无委托监护人: '是',
      委托监护人姓名: '',
      委托监护人公民身份号码: '',
      委托监护人与儿童关系: '',
      监护类型: '监护情况一般',
      祖母姓名: '',
      祖母出生日期: '',
    });
    const rows = [
      {
        ...base('严小一', '2015-08-01', 121),
        父亲姓名: '严建国',
        父亲出生日期: '1985-06-07',
        父亲务工地点: '深圳',
        委托监护人姓名: '严桂兰',
        委托监护人与儿童关系: '祖母',
        祖母姓名: '严桂兰',
        祖母出生日期: '1955-03-04',
      },
      // Given by ID number as the carer: the grandmother has that number.
      {
        ...base('严小二', '2015-08-02', 123),
        父亲姓名: '严建军',
        父亲出生日期: '1986-06-07',
        父亲务工地点: '深圳',
        委托监护人姓名: '严秀英',
        委托监护人公民身份号码: makeIdNumber(LANKAO, '1956-04-05', 124),
        委托监护人与儿童关系: '奶奶',
        祖母姓名: '严秀英',
        祖母出生日期: '1956-04-05',
      },
      // The same name, but the carer is the maternal grandmother: not the paternal one.
      {
        ...base('严小三', '2015-08-03', 125),
        父亲姓名: '严建民',
        父亲出生日期: '1984-06-07',
        父亲务工地点: '深圳',
        委托监护人姓名: '严春花',
        委托监护人与儿童关系: '外祖母',
        祖母姓名: '严春花',
        祖母出生日期: '1954-03-04',
      },
      // 与儿童关系 祖母, yet a man's ID number.
      {
        ...base('严小四', '2015-08-04', 127),
        委托监护人姓名: '严某',
        委托监护人公民身份号码: makeIdNumber(LANKAO, '1950-01-01', 11),
        委托监护人与儿童关系: '祖母',
      },
    ];
    const { outcome, errors } = await importLedger(ledgerCsv(rows));
    assert.deepEqual(outcome.counts, { rows: 4, inserted: 3, updated: 0, unchanged: 0, errors: 1 });
    assert.deepEqual(
      errors.map((e) => [e['姓名'], e['错误原因']]),
      [
        [
          '严小四',
          '委托监护人公民身份号码：委托监护人与儿童关系为祖母，但其公民身份号码是男性的号码，请核对',
        ],
      ],
    );
    const linksOf = async (childName: string) => {
      const [childRow] = await personsNamed(childName);
      assert.ok(childRow);
      const carer = await t.ctx.db
        .selectFrom('person_relations')
        .select('related_person_id')
        .where('person_id', '=', childRow.id)
        .where('kind', '=', 'carer')
        .executeTakeFirstOrThrow();
      const grandmother = await t.ctx.db
        .selectFrom('person_relations as toFather')
        .innerJoin(
          'person_relations as toGrandmother',
          'toGrandmother.person_id',
          'toFather.related_person_id',
        )
        .innerJoin('persons as g', 'g.id', 'toGrandmother.related_person_id')
        .select(['g.id', 'g.sex', 'g.birth_date', 'g.id_number'])
        .where('toFather.person_id', '=', childRow.id)
        .where('toFather.kind', '=', 'parent')
        .where('toGrandmother.kind', '=', 'parent')
        .executeTakeFirstOrThrow();
      return { carer: carer.related_person_id, grandmother };
    };
    const first = await linksOf('严小一');
    assert.equal(first.carer, first.grandmother.id);
    assert.equal((await personsNamed('严桂兰')).length, 1);
    const second = await linksOf('严小二');
    assert.equal(second.carer, second.grandmother.id);
    assert.deepEqual(
      [second.grandmother.sex, second.grandmother.birth_date, second.grandmother.id_number],
      [2, '1956-04-05', makeIdNumber(LANKAO, '1956-04-05', 124)],
    );
    const third = await linksOf('严小三');
    assert.notEqual(third.carer, third.grandmother.id);
    // Imported again, the file changes nothing.
    const again = await importLedger(ledgerCsv(rows));
    assert.deepEqual(again.outcome.counts, { rows: 4, inserted: 0, updated: 0, unchanged: 3, errors: 1 });
  });
});
