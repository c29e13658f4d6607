// Counties other than the demo county 兰考县: the registry and the care groups end to end for
// 平塘县 (522727; 贵州省 黔南布依族苗族自治州, an autonomous prefecture; townships such as
// 卡蒲毛南族乡) and 阿瓦提县 (652928; 新疆维吾尔自治区 阿克苏地区; Uyghur place names), each in a
// database of its own holding only that county's regions: a generated county imported, exported and
// imported back unchanged; the groups evaluated and counted for the county and a township; a child
// ledger whose text addresses name the county's places in three styles, with exactly its ambiguous
// and unknown addresses reported; and a township's user kept out of another township's persons.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import { bearer } from './support/auth.ts';
import { loadRegions, readDivision } from '../src/modules/regions/index.ts';
import { systemActor } from '../src/modules/access/index.ts';
import { importLedgerFile, importRegistryFile, type Importer } from '../src/modules/registry/index.ts';
import { evaluateRegion, GROUP_CODES } from '../src/modules/groups/index.ts';
import { generateCounty, writeGeneratedTemplate } from '../src/modules/registry/registry.generator.ts';
import { countRegistry } from '../src/modules/registry/registry.repository.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { today } from '../src/platform/dates.ts';
import {
  loadCountyPlaces,
  resolveAddress,
  type CountyPlaces,
} from '../src/modules/registry/registry.ledger.ts';

const PERSONS = 3000;

interface LedgerChild {
  name: string;
  father: string;
  mother: string;
  /** The text in 户籍所在地. */
  address: string;
  /** The village it names; null for the rows that must be reported. */
  expected: string | null;
}

interface County {
  code: string;
  name: string;
  /** Province, prefecture and county, as the division data names them. */
  upperNames: [string, string, string];
  townships: number;
  seed: number;
  /** Two villages that share a name in different townships, if the county has such a name. */
  sharedVillageName: { name: string; codes: string[] } | null;
  ledger: LedgerChild[];
  /** The addresses that match more than one village and that match none. */
  ambiguous: string | null;
  unknown: string;
}

const COUNTIES: County[] = [
  {
    code: '522727',
    name: '平塘县',
    upperNames: ['贵州省', '黔南布依族苗族自治州', '平塘县'],
    townships: 11,
    seed: 522727,
    // Every village name of 平塘县 is its own (checked against the division data below).
    sharedVillageName: null,
    ledger: [
      // province + prefecture + county + township + village
      {
        name: '罗小芬',
        father: '罗正权',
        mother: '韦金花',
        address: '贵州省黔南布依族苗族自治州平塘县平舟镇拉全村',
        expected: '522727100212',
      },
      // the prefecture as addresses shorten it, 黔南州
      {
        name: '王小勇',
        father: '王国富',
        mother: '杨秀英',
        address: '贵州省黔南州平塘县克度镇航龙村',
        expected: '522727104212',
      },
      // township + village
      {
        name: '莫小兰',
        father: '莫志明',
        mother: '石玉梅',
        address: '牙舟镇白沙村委会',
        expected: '522727101213',
      },
      // an ethnic township's full name + village
      {
        name: '吴小军',
        father: '吴德光',
        mother: '蒙春兰',
        address: '卡蒲毛南族乡亮寨村村民委员会',
        expected: '522727200203',
      },
      // county + village; 甲茶村 of 甲茶镇 (the village, not the township)
      {
        name: '陆小燕',
        father: '陆文华',
        mother: '岑桂芳',
        address: '平塘县甲茶村',
        expected: '522727106213',
      },
      // unknown: no 桃源村 in 平塘县
      { name: '黄小刚', father: '黄明亮', mother: '潘丽娟', address: '平塘县桃源村', expected: null },
    ],
    ambiguous: null,
    unknown: '平塘县桃源村',
  },
  {
    code: '652928',
    name: '阿瓦提县',
    upperNames: ['新疆维吾尔自治区', '阿克苏地区', '阿瓦提县'],
    townships: 10,
    seed: 652928,
    sharedVillageName: { name: '英买力村', codes: ['652928203216', '652928204204'] },
    ledger: [
      {
        name: '阿依古丽·买买提',
        father: '买买提·吐尔逊',
        mother: '古丽娜尔·艾力',
        // 柯坪村 is in two townships too: the township decides
        address: '新疆维吾尔自治区阿克苏地区阿瓦提县乌鲁却勒镇柯坪村',
        expected: '652928101202',
      },
      {
        name: '艾克拜尔·阿不都',
        father: '阿不都热合曼·吾斯曼',
        mother: '帕提古丽·热合曼',
        // 新疆 for 新疆维吾尔自治区; 拜什艾日克 is also a 社区 of 乌鲁却勒镇
        address: '新疆阿克苏地区阿瓦提县拜什艾日克镇玉斯屯克墩克什拉克村',
        expected: '652928102204',
      },
      // township + village: 库吾尔尕村 is in two townships, the township decides
      {
        name: '努尔艾力·吐尔洪',
        father: '吐尔洪·艾买提',
        mother: '阿米娜·买买提',
        address: '塔木托格拉克镇库吾尔尕村委会',
        expected: '652928103212',
      },
      // county + village
      {
        name: '热依拉·阿卜杜拉',
        father: '阿卜杜拉·玉素甫',
        mother: '布维热木·卡德尔',
        address: '阿瓦提县拉依当村',
        expected: '652928101210',
      },
      // ambiguous: 英买力村 of 多浪乡 and of 巴格托格拉克乡
      {
        name: '米热古丽·艾则孜',
        father: '艾则孜·库尔班',
        mother: '祖丽皮亚·沙吾提',
        address: '阿瓦提县英买力村',
        expected: null,
      },
      // unknown: no 东风村 in 阿瓦提镇
      {
        name: '伊力亚尔·如则',
        father: '如则·托合提',
        mother: '萨尼亚·依明',
        address: '阿瓦提镇东风村',
        expected: null,
      },
    ],
    ambiguous: '阿瓦提县英买力村',
    unknown: '阿瓦提镇东风村',
  },
];

/** The county's villages from the division data: code, name and township code. */
async function villagesOf(county: string): Promise<{ code: string; name: string }[]> {
  const out: { code: string; name: string }[] = [];
  for await (const r of readDivision({ within: county })) if (r.code.length === 12) out.push(r);
  return out;
}

/** A village's name without its committee's suffix: 新舟村村民委员会 and 新舟村 are both 新舟村. */
const baseName = (name: string) =>
  name.replace(/村?(村民委员会|村委会)$/, '村').replace(/(社区)?(居民委员会|居委会)$/, '社区');

for (const county of COUNTIES) {
  describe(`${county.name} (${county.code}) end to end`, () => {
    let t: TestApp;
    let dir = '';
    let generated = '';
    const on = today();
    const importer: Importer = { regionCode: county.code, userId: null, auditActor: systemActor('test') };
    let countyHeaders: Record<string, string>;

    before(async () => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), `shouhu-county-${county.code}-`));
      t = await createTestApp({ dataDir: path.join(dir, 'data') }, { regions: false });
      await loadRegions(t.database, { within: county.code });
      countyHeaders = await bearer(t, 'county_staff', county.code);
      generated = path.join(dir, 'county.csv');
      await writeGeneratedTemplate(generated, {
        countyCode: county.code,
        persons: PERSONS,
        seed: county.seed,
        asOf: on,
      });
    });
    after(async () => {
      await t?.close();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    const get = (url: string, headers = countyHeaders) =>
      t.app.inject({ method: 'GET', url: `/api/v1${url}`, headers });

    test('only this county’s regions are loaded, under their real names', async () => {
      const region = (await get(`/regions/${county.code}`)).json() as {
        name: string;
        path: { name: string }[];
        childCount: number;
      };
      assert.deepEqual([...region.path.map((p) => p.name), region.name], county.upperNames);
      assert.equal(region.childCount, county.townships);
      const other = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM regions
        WHERE code NOT LIKE ${county.code + '%'} AND ${county.code} NOT LIKE code || '%'`.execute(t.ctx.db);
      assert.equal(other.rows[0]?.n, 0);
      const loaded = await sql<{
        n: number;
      }>`SELECT count(*)::int AS n FROM regions WHERE length(code) = 12`.execute(t.ctx.db);
      assert.equal(loaded.rows[0]?.n, (await villagesOf(county.code)).length);
    });

    test('a generated county imports whole, and its export imports back unchanged', async () => {
      const records = [];
      for await (const r of generateCounty({
        countyCode: county.code,
        persons: PERSONS,
        seed: county.seed,
        asOf: on,
      }))
        records.push(r);
      const first = await importRegistryFile(t.database, generated, importer, { today: on });
      assert.equal(first.status, 'succeeded', JSON.stringify(first.message));
      assert.deepEqual(first.counts, {
        rows: PERSONS,
        inserted: PERSONS,
        updated: 0,
        unchanged: 0,
        errors: 0,
      });
      const counts = await countRegistry(t.ctx.db);
      assert.equal(counts.persons, PERSONS);
      assert.equal(counts.households, new Set(records.map((r) => r.householdNo)).size);
      assert.ok(counts.relations > PERSONS / 3, `relations ${counts.relations}`);
      assert.ok(counts.facts > PERSONS / 20, `facts ${counts.facts}`);
      const outside = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM persons
        WHERE hukou_region_code NOT LIKE ${county.code + '%'} OR id_number NOT LIKE ${county.code + '%'}`.execute(
        t.ctx.db,
      );
      assert.equal(outside.rows[0]?.n, 0);

      for (const format of ['csv', 'xlsx'] as const) {
        const exported = await get(`/exports/registry?region=${county.code}&format=${format}`);
        assert.equal(exported.statusCode, 200, exported.body.slice(0, 300));
        const file = path.join(dir, `export.${format}`);
        fs.writeFileSync(file, exported.rawPayload);
        const again = await importRegistryFile(t.database, file, importer, { today: on });
        assert.equal(again.status, 'succeeded', JSON.stringify(again.message));
        assert.deepEqual(
          again.counts,
          { rows: PERSONS, inserted: 0, updated: 0, unchanged: PERSONS, errors: 0 },
          format,
        );
        assert.deepEqual(await countRegistry(t.ctx.db), counts, format);
      }
    });

    test('groups: members within the county; the county’s and a township’s statistics agree with them', async () => {
      const evaluated = await evaluateRegion(t.ctx.db, { regionCode: county.code, asOf: on });
      assert.equal(evaluated.persons, PERSONS);
      assert.ok(evaluated.entered > 0);

      const members = await sql<{ group_code: string; n: number; outside: number }>`
        SELECT m.group_code, count(*)::int AS n,
          count(*) FILTER (WHERE m.region_code NOT LIKE ${county.code + '%'}
            OR p.hukou_region_code NOT LIKE ${county.code + '%'})::int AS outside
        FROM group_memberships m JOIN persons p ON p.id = m.person_id
        WHERE m.since <= ${on} AND (m.until IS NULL OR m.until > ${on})
        GROUP BY m.group_code`.execute(t.ctx.db);
      const byGroup = new Map(members.rows.map((r) => [r.group_code, r]));
      for (const group of ['left_behind_child', 'left_behind_elderly', 'left_behind_woman'])
        assert.ok((byGroup.get(group)?.n ?? 0) > 0, `${group} is empty`);
      assert.deepEqual(
        members.rows.filter((r) => r.outside > 0),
        [],
      );

      type Cell = { value: number | null };
      type Stats = {
        rows: { regionCode: string; counts: Record<string, Cell> }[];
        total: { regionCode: string; counts: Record<string, Cell> };
      };
      const stats = await get(`/stats/groups?region=${county.code}&asOf=${on}`);
      assert.equal(stats.statusCode, 200, stats.body);
      const table = stats.json() as Stats;
      assert.equal(table.rows.length, county.townships);
      for (const group of GROUP_CODES) {
        assert.equal(table.total.counts[group]?.value, byGroup.get(group)?.n ?? 0, group);
        assert.equal(
          table.rows.reduce((s, r) => s + (r.counts[group]?.value ?? 0), 0),
          table.total.counts[group]?.value,
          group,
        );
      }
      const township = table.rows.toSorted(
        (a, b) => (b.counts.left_behind_child?.value ?? 0) - (a.counts.left_behind_child?.value ?? 0),
      )[0];
      assert.ok(township && township.regionCode.startsWith(county.code) && township.regionCode.length === 9);
      const ofTownship = await get(`/stats/groups?region=${township.regionCode}&asOf=${on}`);
      assert.equal(ofTownship.statusCode, 200, ofTownship.body);
      const villages = ofTownship.json() as Stats;
      assert.ok(villages.rows.length > 0);
      assert.ok(
        villages.rows.every(
          (r) => r.regionCode.startsWith(township.regionCode) && r.regionCode.length === 12,
        ),
      );
      for (const group of GROUP_CODES) {
        assert.equal(villages.total.counts[group]?.value, township.counts[group]?.value, group);
        assert.equal(
          villages.rows.reduce((s, r) => s + (r.counts[group]?.value ?? 0), 0),
          villages.total.counts[group]?.value,
          group,
        );
      }
      assert.ok((villages.total.counts.left_behind_child?.value ?? 0) > 0);
    });

    test('a child ledger with the county’s text addresses: exactly the ambiguous and the unknown rows reported', async () => {
      // The division data decides whether the county has a village name shared by two townships.
      const villages = await villagesOf(county.code);
      const byName = Map.groupBy(villages, (v) => baseName(v.name));
      const shared = [...byName].filter(([, vs]) => new Set(vs.map((v) => v.code.slice(0, 9))).size > 1);
      if (county.sharedVillageName === null) assert.deepEqual(shared, []);
      else
        assert.deepEqual(
          shared.find(([name]) => name === county.sharedVillageName?.name)?.[1].map((v) => v.code),
          county.sharedVillageName.codes,
        );

      const rows = county.ledger;
      const reported = [county.ambiguous, county.unknown].filter((a) => a !== null);
      assert.deepEqual(
        rows.filter((r) => r.expected === null).map((r) => r.address),
        reported,
      );

      const headers = ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲出生日期', '父亲务工地点', '母亲姓名', '母亲出生日期', '母亲务工地点', '父母双方同时外出']; // prettier-ignore
      const lines = [['农村留守儿童基本情况登记表'], headers];
      // The children are found by their ID numbers afterwards: a generated person may bear the same
      // name (阿依古丽·买买提 is a common Uyghur name).
      const idNumbers: string[] = [];
      rows.forEach((r, i) => {
        const birth = `2016-0${(i % 9) + 1}-1${i % 10}`;
        const sex = i % 2 === 0 ? 2 : 1;
        idNumbers.push(makeIdNumber(county.code, birth, 900 + i * 2 + (sex === 1 ? 1 : 0)));
        lines.push([
          r.name,
          sex === 1 ? '男' : '女',
          birth,
          idNumbers[i] ?? '',
          r.address,
          r.father,
          '1986-03-04',
          '广东省东莞市',
          r.mother,
          '1988-05-06',
          '浙江省宁波市',
          '是',
        ]);
      });
      lines.push(['填表人：', '', '审核人：']);
      const file = path.join(dir, 'ledger.csv');
      fs.writeFileSync(file, '\uFEFF' + lines.map((l) => l.join(',')).join('\r\n'));

      const before = await countRegistry(t.ctx.db);
      const outcome = await importLedgerFile(t.ctx.db, file, importer, {
        today: on,
        errorReportBase: path.join(dir, 'ledger-errors'),
      });
      assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
      const good = rows.filter((r) => r.expected !== null);
      assert.deepEqual(outcome.counts, {
        rows: rows.length,
        inserted: good.length,
        updated: 0,
        unchanged: 0,
        errors: reported.length,
      });
      // Each good row: the child and both parents, new persons of the county.
      assert.equal((await countRegistry(t.ctx.db)).persons, before.persons + 3 * good.length);

      // Exactly the ambiguous and the unknown address, each on its row (header on line 2: data from 3).
      assert.ok(outcome.errorReport);
      const report = fs
        .readFileSync(outcome.errorReport.csv, 'utf8')
        .replace(/^\uFEFF/, '')
        .trim()
        .split(/\r?\n/);
      assert.equal(report.length, 1 + reported.length, report.join('\n'));
      for (const address of reported) {
        const i = rows.findIndex((r) => r.address === address);
        const line = report.find((l) => l.includes(rows[i]!.name));
        assert.ok(line, address);
        assert.match(line, address === county.ambiguous ? /对应多个村/ : /找不到对应的村/);
        assert.ok(line.includes(`第 ${i + 3} 行`), line);
      }
      if (county.sharedVillageName) {
        const line = report.find((l) => l.includes('对应多个村')) ?? '';
        assert.match(line, /多浪乡英买力村/);
        assert.match(line, /巴格托格拉克乡英买力村/);
      }

      // Each good row's child lives in the village its address names, and is a left-behind child.
      for (const r of good) {
        const child = await t.ctx.db
          .selectFrom('persons')
          .select(['id', 'hukou_region_code'])
          .where('id_number', '=', idNumbers[rows.indexOf(r)] ?? '')
          .executeTakeFirstOrThrow();
        assert.equal(child.hukou_region_code, r.expected, r.address);
        const groups = await t.ctx.db
          .selectFrom('group_memberships')
          .select('group_code')
          .where('person_id', '=', child.id)
          .where('until', 'is', null)
          .execute();
        assert.deepEqual(
          groups.map((g) => g.group_code),
          ['left_behind_child'],
          r.name,
        );
      }
      for (const r of rows.filter((x) => x.expected === null))
        assert.equal(
          await t.ctx.db
            .selectFrom('persons')
            .select('id')
            .where('id_number', '=', idNumbers[rows.indexOf(r)] ?? '')
            .executeTakeFirst(),
          undefined,
        );
    });

    test('a township’s user reads its own township’s persons and not another township’s (404)', async () => {
      const [own, other] = await sql<{ township: string; id: number }>`
        SELECT DISTINCT ON (substr(hukou_region_code, 1, 9)) substr(hukou_region_code, 1, 9) AS township, id
        FROM persons ORDER BY substr(hukou_region_code, 1, 9), id`
        .execute(t.ctx.db)
        .then((r) => r.rows);
      assert.ok(own && other && own.township !== other.township);
      const township = await bearer(t, 'township_staff', own.township);
      assert.equal((await get(`/persons/${own.id}`, township)).statusCode, 200);
      const refused = await get(`/persons/${other.id}`, township);
      assert.equal(refused.statusCode, 404, refused.body);
      assert.equal((refused.json() as { error: { code: string } }).error.code, 'NOT_FOUND');
      const mine = (await get(`/persons?region=${own.township}&limit=50`, township)).json() as {
        items: { hukouRegionCode: string }[];
      };
      assert.ok(mine.items.length > 0);
      assert.ok(mine.items.every((p) => p.hukouRegionCode.startsWith(own.township)));
      const listed = await get(`/persons?region=${other.township}`, township);
      // A list of the other township finds nobody (an empty list or a refusal, as the scope decides).
      assert.ok([200, 403, 404].includes(listed.statusCode), listed.body);
      if (listed.statusCode === 200) assert.deepEqual((listed.json() as { items: unknown[] }).items, []);
    });
  });
}

// Addresses of these counties that a clerk writes and that name exactly one place: a 社区 the division
// data writes in full (英买力社区居委会) beside two 英买力村, and an ethnic township by its short name.
describe('addresses the division data writes in full, ethnic townships by their short names', () => {
  test('a 社区 written as the division data writes it in full (英买力社区居委会) beside two 英买力村; an ethnic township by its short name (卡蒲乡 for 卡蒲毛南族乡)', async () => {
    const awati = await loadCountyPlaces('652928');
    const pingtang = await loadCountyPlaces('522727');
    const resolve = (places: CountyPlaces, text: string) =>
      resolveAddress(text, places.countyCode, places.villages, places.upperNames);
    assert.deepEqual(resolve(awati, '阿瓦提县英买力社区'), { ok: true, code: '652928101001' });
    assert.deepEqual(resolve(pingtang, '平塘县卡蒲乡亮寨村'), { ok: true, code: '522727200203' });
    assert.equal(resolve(pingtang, '平塘县卡蒲场河村').ok, true);
    // The two 英买力村 stay ambiguous without their township.
    const village = resolve(awati, '阿瓦提县英买力村');
    assert.ok(!village.ok && 'ambiguous' in village);
  });
});
