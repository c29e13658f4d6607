// The group statistics at their edges, as a county civil-affairs bureau uses them, through HTTP on an
// evaluated county: dates (29 February, month ends, before any period, malformed), the monthly series
// (across a year and February, a series asked backwards or for a century), regions at every level
// (a village, a township of one village, the county, a prefecture, a province, the country, unknown
// and foreign codes, a region without persons), consistency (children against the region, series
// against tables, a hukou that moves), the drill-down list of persons, the .xlsx export and the
// dashboard's words for groups, sub-categories and counts (web/src/groups/labels.ts).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { makeUser, signIn, signedInClients, type Client } from '../../../test/support/access.ts';
import { insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { loadRegions } from '../regions/index.ts';
import { today, type IsoDate } from '../../platform/dates.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import { GROUP_CODES, GROUP_LABELS } from './groups.rules.ts';
import type { MemberList, MonthlySeries, StatsTable } from './groups.schemas.ts';

const COUNTY = '410225';
const OTHER_COUNTY = '410223';
const TOWNSHIP_A = '410225101';
const VILLAGE_A1 = '410225101200';
const VILLAGE_A2 = '410225101201';
const TOWNSHIP_B = '410225001';
const VILLAGE_B = '410225001213';
/** A township (a state farm) with a single village, and one without any person. */
const FARM = '410225401';
const FARM_VILLAGE = '410225401598';
const EMPTY_TOWNSHIP = '410225402';

type StatCell = StatsTable['total']['counts'][string];
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

// The dashboard's words (web/src/groups/labels.ts) are loaded at run time, not imported: the server's
// type check has no DOM library.
type Lang = 'zh' | 'en';
interface WebLabels {
  GROUP_NAMES: Record<string, { zh: string; en: string }>;
  SUB_CATEGORY_NAMES: Record<string, { zh: string; en: string }>;
  groupName(code: string, lang: Lang): string;
  subCategoryName(subCategory: string, lang: Lang): string;
  countText(cell: StatCell | undefined, lang: Lang): string;
}
const loadWebLabels = async () =>
  (await import(new URL('../../../web/src/groups/labels.ts', import.meta.url).href)) as WebLabels;

let t: TestApp;
const clients: Record<string, Client> = {};

async function get<T>(who: string, url: string, lang = 'zh') {
  const response = await t.app.inject({
    method: 'GET',
    url,
    headers: { ...clients[who]?.headers, 'accept-language': lang },
  });
  const json = (response.headers['content-type'] ?? '').includes('json');
  return {
    status: response.statusCode,
    body: (json ? response.json() : null) as T,
    raw: response.rawPayload,
  };
}

const stats = (who: string, region: string, asOf: string) =>
  get<StatsTable>(who, `/api/v1/stats/groups?region=${region}&asOf=${asOf}`);
const series = (who: string, region: string, from: string, to: string, lang = 'zh') =>
  get<MonthlySeries & ErrorBody>(
    who,
    `/api/v1/stats/groups/monthly?region=${region}&from=${from}&to=${to}`,
    lang,
  );

const person = (name: string, sex: 1 | 2, birthDate: string, village: string) =>
  insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village, noIdReason: '未落户' });

async function fact(personId: number, kind: string, from: IsoDate, to: IsoDate | null = null, data = {}) {
  await t.ctx.db
    .insertInto('person_facts')
    .values({
      person_id: personId,
      kind,
      valid_from: from,
      valid_to: to,
      data: JSON.stringify(data),
      recorded_by: null,
    })
    .execute();
}

let families = 0;
/**
 * Parents who work away over each of the stretches, `children` children and, with `grandfather`, the
 * father's father (left-behind elderly and special-difficulty elderly while every child is away).
 */
async function family(
  village: string,
  stretches: [IsoDate, IsoDate | null][],
  children = 1,
  grandfather = false,
): Promise<number[]> {
  const k = families++;
  const father = await person(`父${k}`, 1, '1985-02-01', village);
  const mother = await person(`母${k}`, 2, '1987-04-01', village);
  for (const [from, to] of stretches) {
    await fact(father, 'migration', from, to, { destination: '广东省' });
    await fact(mother, 'migration', from, to, { destination: '广东省' });
  }
  const ids: number[] = [];
  for (let i = 0; i < children; i++) {
    const child = await person(`童${k}-${i}`, 1, `201${i + 3}-05-01`, village);
    await insertParentLink(t.ctx.db, child, father);
    await insertParentLink(t.ctx.db, child, mother);
    ids.push(child);
  }
  if (grandfather) {
    const elder = await person(`爷${k}`, 1, '1950-01-01', village);
    await insertParentLink(t.ctx.db, father, elder);
    ids.push(elder);
  }
  return ids;
}

/** The count of a region as a scan of the periods gives it. */
async function scan(region: string, group: string, asOf: string): Promise<number> {
  const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
    WHERE group_code = ${group} AND region_code LIKE ${region + '%'}
      AND since <= ${asOf}::date AND (until IS NULL OR until > ${asOf}::date)`.execute(t.ctx.db);
  return rows.rows[0]?.n ?? 0;
}

const value = (cell: StatCell | undefined) => cell?.value;

/** Past dates evaluated (closed periods on record), then today. */
const EVALUATED: IsoDate[] = ['2025-03-31', '2025-09-30', '2026-02-28'];
/** Dates the consistency checks read: leap day, month ends of 28, 30 and 31 days, first days. */
const DATES: IsoDate[] = [
  '2024-02-29',
  '2024-03-01',
  '2024-06-30',
  '2025-01-01',
  '2025-02-28',
  '2025-03-31',
  '2025-07-01',
  '2025-12-31',
  '2026-01-01',
  '2026-02-28',
  '2026-04-30',
];

const sub = { distressed: 0, elder: 0 };

describe('group statistics at their edges', () => {
  before(async () => {
    t = await createTestApp();
    await loadRegions(t.database, { within: OTHER_COUNTY });
    Object.assign(
      clients,
      await signedInClients(t, {
        county: ['sr.county', 'county_staff', COUNTY],
        otherCounty: ['sr.county2', 'county_staff', OTHER_COUNTY],
        town: ['sr.town', 'township_supervisor', TOWNSHIP_A],
        directorA1: ['sr.director', 'village_child_director', VILLAGE_A1],
        prefecture: ['sr.prefecture', 'prefecture_viewer', '4102'],
        province: ['sr.province', 'province_viewer', '41'],
      }),
    );
    await makeUser(t.ctx, 'sr.national', 'national_viewer', null);
    const national = await signIn(t.app, 'sr.national');
    assert.ok(national.client);
    clients.national = national.client;

    // Left-behind children from 29 February 2024 (two of them, and their grandfather); parents away
    // over 2025 only; parents away from the last day of 2025; a township B family of each kind.
    await family(VILLAGE_A1, [['2024-02-29', null]], 2, true);
    await family(VILLAGE_A1, [['2025-01-01', '2025-07-01']], 1);
    await family(VILLAGE_A1, [['2025-12-31', null]], 1, true);
    await family(VILLAGE_A2, [['2024-06-30', null]], 3, true);
    await family(VILLAGE_A2, [['2024-11-30', '2026-01-01']], 1);
    for (let i = 0; i < 6; i++)
      await family(
        VILLAGE_B,
        [[`2025-0${i + 1}-15` as IsoDate, i === 2 ? '2026-01-31' : null]],
        1,
        i % 2 === 0,
      );
    // A child in distress on two grounds (family poverty, own disability).
    sub.distressed = await person('困童', 2, '2014-03-03', VILLAGE_A2);
    await fact(sub.distressed, 'assistance', '2024-01-01', null, { program: 'dibao' });
    await fact(sub.distressed, 'disability', '2024-01-01', null, { category: 1, grade: 2 });
    // An elder of 86 living alone in a family-planning special family: special difficulty, high age.
    sub.elder = await person('独居老人', 2, '1940-03-01', VILLAGE_B);
    await fact(sub.elder, 'living_arrangement', '2023-01-01', null, { value: 'alone' });
    await fact(sub.elder, 'family_planning_special', '2023-01-01');
    for (const asOf of [...EVALUATED, today()]) await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf });
    // The farm's one village: a period written by hand (its code is no rural village).
    const farmer = await person('场童', 1, '2015-01-01', FARM_VILLAGE);
    await sql`INSERT INTO group_memberships (person_id, group_code, since, until, region_code)
      VALUES (${farmer}, 'orphan', '2025-01-01', NULL, ${FARM_VILLAGE})`.execute(t.ctx.db);
  });
  after(async () => {
    await t.close();
  });

  test('dates: 29 February, first and last days, a date before any period; malformed dates are 400 on asOf in zh and en', async () => {
    for (const asOf of DATES) {
      const table = await stats('county', COUNTY, asOf);
      assert.equal(table.status, 200, asOf);
      assert.equal(table.body.asOf, asOf);
      for (const group of GROUP_CODES)
        assert.equal(
          value(table.body.total.counts[group]),
          await scan(COUNTY, group, asOf),
          `${group} ${asOf}`,
        );
    }
    // The leap day is the first day of the earliest periods.
    assert.equal(value((await stats('county', COUNTY, '2024-02-28')).body.total.counts.left_behind_child), 0);
    assert.equal(value((await stats('county', COUNTY, '2024-02-29')).body.total.counts.left_behind_child), 2);
    const early = await stats('county', COUNTY, '1900-01-01');
    assert.equal(early.status, 200);
    assert.ok(Object.values(early.body.total.counts).every((cell) => cell.value === 0));

    const routes = [
      (d: string) => `/api/v1/stats/groups?region=${COUNTY}&asOf=${d}`,
      (d: string) => `/api/v1/stats/groups.xlsx?region=${COUNTY}&asOf=${d}`,
      (d: string) => `/api/v1/stats/groups/members?region=${VILLAGE_A1}&group=left_behind_child&asOf=${d}`,
    ];
    for (const bad of [
      '2026-02-30',
      '2025-02-29',
      '2026-13-01',
      '',
      '20260101',
      '2026/01/01',
      '2026-1-1',
      '0000-01-01',
    ])
      for (const route of routes)
        for (const lang of ['zh', 'en']) {
          const answer = await get<ErrorBody>('county', route(encodeURIComponent(bad)), lang);
          assert.equal(answer.status, 400, `${route(bad)} ${lang}`);
          assert.equal(answer.body.error.code, 'VALIDATION_FAILED');
          assert.deepEqual(
            answer.body.error.details?.map((d) => d.path),
            ['asOf'],
          );
          assert.ok(answer.body.error.details?.[0]?.message, 'a reason');
          if (lang === 'zh') assert.match(answer.body.error.message, /[\u4e00-\u9fff]/);
        }
  });

  test('the monthly series: across a year and February, 30- and 31-day month ends, each the table of that day; backwards or a century is 400 on to', async () => {
    const answer = await series('county', COUNTY, '2023-11', '2026-06');
    assert.equal(answer.status, 200);
    const ends = answer.body.months.map((m) => m.monthEnd);
    assert.deepEqual(ends.slice(0, 5), [
      '2023-11-30',
      '2023-12-31',
      '2024-01-31',
      '2024-02-29',
      '2024-03-31',
    ]);
    assert.ok(ends.includes('2025-02-28') && ends.includes('2025-04-30') && ends.includes('2026-02-28'));
    assert.equal(answer.body.months.length, 32);
    for (const month of answer.body.months) {
      const table = await stats('county', COUNTY, month.monthEnd);
      assert.deepEqual(month.counts, table.body.total.counts, month.month);
    }
    // A township's series against its own table, for a township supervisor.
    const town = await series('town', TOWNSHIP_A, '2025-12', '2026-02');
    for (const month of town.body.months)
      assert.deepEqual(month.counts, (await stats('town', TOWNSHIP_A, month.monthEnd)).body.total.counts);

    const backwards = await series('county', COUNTY, '2026-03', '2026-01', 'en');
    assert.equal(backwards.status, 400);
    assert.equal(backwards.body.error.details?.[0]?.path, 'to');
    assert.match(backwards.body.error.details?.[0]?.message ?? '', /before from/);
    const century = await series('county', COUNTY, '1926-01', '2026-01');
    assert.equal(century.status, 400);
    assert.equal(century.body.error.details?.[0]?.path, 'to');
    assert.match(century.body.error.details?.[0]?.message ?? '', /240/);
    // The longest series allowed is served, for staff and for a viewer (one read for every month end).
    const longest = await series('county', COUNTY, '2006-01', '2025-12');
    assert.equal(longest.status, 200);
    assert.equal(longest.body.months.length, 240);
    assert.equal((await series('prefecture', COUNTY, '2006-01', '2025-12')).body.months.length, 240);
    for (const [from, to] of [
      ['2026-00', '2026-01'],
      ['2026-1', '2026-02'],
      ['0000-01', '0001-01'],
    ]) {
      const bad = await series('county', COUNTY, from as string, to as string);
      assert.equal(bad.status, 400, `${from} ${to}`);
      assert.equal(bad.body.error.details?.[0]?.path, 'from');
    }
  });

  test('regions: every level a role may ask, zeros where nobody lives, 404 for a code not in the division, 403 audited for another county', async () => {
    const asOf = '2026-02-28';
    const village = await stats('county', VILLAGE_A1, asOf);
    assert.equal(village.status, 200);
    assert.deepEqual(village.body.rows, []);
    assert.equal(village.body.region.name, '城内村');
    const farm = await stats('county', FARM, asOf);
    assert.deepEqual(
      farm.body.rows.map((r) => r.regionCode),
      [FARM_VILLAGE],
    );
    assert.deepEqual(farm.body.rows[0]?.counts, farm.body.total.counts);
    assert.equal(value(farm.body.total.counts.orphan), 1);
    const empty = await stats('county', EMPTY_TOWNSHIP, asOf);
    assert.equal(empty.status, 200);
    assert.ok(Object.values(empty.body.total.counts).every((cell) => cell.value === 0));
    assert.ok(empty.body.rows.every((row) => Object.values(row.counts).every((cell) => cell.value === 0)));

    // Viewers: the prefecture, the province and the country, each from the level of its scope.
    for (const [who, regions] of [
      ['prefecture', ['4102', COUNTY, FARM, VILLAGE_B]],
      ['province', ['41', '4102', COUNTY]],
      ['national', ['', '41', '4102', COUNTY]],
    ] as const)
      for (const region of regions) {
        const answer = await get<StatsTable>(
          who,
          `/api/v1/stats/groups?${region ? `region=${region}&` : ''}asOf=${asOf}`,
        );
        assert.equal(answer.status, 200, `${who} ${region}`);
        assert.equal(answer.body.region.code, region);
        assert.equal(answer.body.suppressed, true);
      }
    const country = await get<StatsTable>('national', `/api/v1/stats/groups?asOf=${asOf}`);
    assert.equal(country.body.region.name, '全国');
    assert.ok(country.body.rows.some((row) => row.regionCode === '41' && row.regionName === '河南省'));
    assert.equal((await stats('prefecture', '41', asOf)).status, 403);
    assert.equal((await stats('county', '4102', asOf)).status, 403);

    for (const code of ['410225999', '419999', '999999999999', '410225101999']) {
      const missing = await get<ErrorBody>('county', `/api/v1/stats/groups?region=${code}&asOf=${asOf}`);
      assert.equal(missing.status, 404, code);
      assert.ok(missing.body.error.message.includes(code), missing.body.error.message);
    }
    const before = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log
      WHERE action = 'access.denied' AND actor_username = 'sr.county'`.execute(t.ctx.db);
    for (const path of ['/stats/groups', '/stats/groups.xlsx', '/stats/groups/members'])
      assert.equal(
        (
          await get(
            'county',
            `/api/v1${path}?region=${OTHER_COUNTY}&asOf=${asOf}${path.endsWith('/members') ? '&group=orphan' : ''}`,
          )
        ).status,
        403,
        path,
      );
    assert.equal(
      (await get('otherCounty', `/api/v1/stats/groups/monthly?region=${COUNTY}&from=2026-01&to=2026-02`))
        .status,
      403,
    );
    const denied = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log
      WHERE action = 'access.denied' AND actor_username = 'sr.county' AND result = 'denied'`.execute(
      t.ctx.db,
    );
    assert.equal((denied.rows[0]?.n ?? 0) - (before.rows[0]?.n ?? 0), 3);
  });

  test('children add up to the region for staff, in every group on every date, at the county and its townships', async () => {
    for (const asOf of [...DATES, today()])
      for (const region of [COUNTY, TOWNSHIP_A, TOWNSHIP_B, FARM]) {
        const table = (await stats('county', region, asOf)).body;
        for (const group of GROUP_CODES) {
          const sum = table.rows.reduce((s, row) => s + (row.counts[group]?.value ?? 0), 0);
          assert.equal(sum, value(table.total.counts[group]), `${region} ${group} ${asOf}`);
          assert.equal(
            value(table.total.counts[group]),
            await scan(region, group, asOf),
            `${region} ${group}`,
          );
        }
      }
    // Something to add up: the past evaluations left closed periods, and the groups nest.
    const closed = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
      WHERE until IS NOT NULL AND until > since`.execute(t.ctx.db);
    assert.ok((closed.rows[0]?.n ?? 0) >= 3);
    const county = (await stats('county', COUNTY, '2026-02-28')).body;
    assert.ok((value(county.total.counts.left_behind_child) ?? 0) >= 10);
    assert.ok((value(county.total.counts.left_behind_elderly) ?? 0) >= 3);
  });

  test('a hukou that moves: closed periods stay counted where they were, the open one follows; nobody is counted twice', async () => {
    const [child] = await family(VILLAGE_A1, [
      ['2024-03-01', '2024-09-01'],
      ['2025-05-01', null],
    ]);
    for (const asOf of ['2024-06-30', today()])
      await evaluateRegion(t.ctx.db, { regionCode: VILLAGE_A1, asOf });
    const where = async (asOf: string) => {
      const rows = await sql<{ region_code: string }>`SELECT region_code FROM group_memberships
        WHERE person_id = ${child as number} AND group_code = 'left_behind_child'
          AND since <= ${asOf}::date AND (until IS NULL OR until > ${asOf}::date)`.execute(t.ctx.db);
      return rows.rows.map((r) => r.region_code);
    };
    assert.deepEqual(await where('2024-06-30'), [VILLAGE_A1]);
    assert.deepEqual(await where('2026-02-28'), [VILLAGE_A1]);
    const dates = ['2024-06-30', '2026-02-28'];
    const before = await Promise.all(dates.map(async (d) => (await stats('county', COUNTY, d)).body));

    const file = await get<{ version: number }>('county', `/api/v1/persons/${child}`);
    const moved = await t.app.inject({
      method: 'PATCH',
      url: `/api/v1/persons/${child}`,
      headers: clients.county?.write,
      payload: { version: file.body.version, hukouRegionCode: VILLAGE_B },
    });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.deepEqual(await where('2024-06-30'), [VILLAGE_A1]);
    assert.deepEqual(await where('2026-02-28'), [VILLAGE_B]);
    for (const [i, asOf] of dates.entries()) {
      const after = (await stats('county', COUNTY, asOf)).body;
      // The county's total is the same: the child is counted once, in one place.
      assert.deepEqual(after.total.counts, before[i]?.total.counts, asOf);
      const lbc = (table: StatsTable | undefined, code: string) =>
        value(table?.rows.find((r) => r.regionCode === code)?.counts.left_behind_child) ?? 0;
      const shift = asOf === '2024-06-30' ? 0 : 1;
      assert.equal(lbc(after, TOWNSHIP_A), lbc(before[i], TOWNSHIP_A) - shift, asOf);
      assert.equal(lbc(after, TOWNSHIP_B), lbc(before[i], TOWNSHIP_B) + shift, asOf);
    }
  });

  test('the drill-down list: pages by a stable cursor, lists exactly who is counted on the date, a village director his village only', async () => {
    const listAll = async (who: string, region: string, group: string, asOf: string) => {
      const ids: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const answer: { status: number; body: MemberList } = await get<MemberList>(
          who,
          `/api/v1/stats/groups/members?region=${region}&group=${group}&asOf=${asOf}&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(answer.status, 200);
        assert.ok(answer.body.items.length <= 2);
        ids.push(...answer.body.items.map((m) => m.personId));
        cursor = answer.body.nextCursor;
        pages += 1;
      } while (cursor && pages < 100);
      return ids;
    };
    for (const asOf of ['2024-06-30', '2025-03-31', '2026-02-28'])
      for (const region of [VILLAGE_A1, VILLAGE_A2, VILLAGE_B, TOWNSHIP_A])
        for (const group of ['left_behind_child', 'left_behind_elderly', 'special_difficulty_elderly']) {
          const ids = await listAll('county', region, group, asOf);
          assert.equal(new Set(ids).size, ids.length, 'each person once');
          assert.deepEqual(
            ids,
            [...ids].sort((a, b) => a - b),
            'in cursor order',
          );
          const counted = value((await stats('county', region, asOf)).body.total.counts[group]);
          assert.equal(ids.length, counted, `${region} ${group} ${asOf}`);
          const periods = await sql<{ person_id: number }>`SELECT person_id FROM group_memberships
            WHERE group_code = ${group} AND region_code LIKE ${region + '%'}
              AND since <= ${asOf}::date AND (until IS NULL OR until > ${asOf}::date) ORDER BY person_id`.execute(
            t.ctx.db,
          );
          assert.deepEqual(
            ids,
            periods.rows.map((r) => Number(r.person_id)),
          );
        }
    // A cursor taken from one page gives the same next page when asked again.
    const first = await get<MemberList>(
      'county',
      `/api/v1/stats/groups/members?region=${TOWNSHIP_A}&group=left_behind_child&asOf=2026-02-28&limit=2`,
    );
    const cursor = first.body.nextCursor;
    assert.ok(cursor);
    const again = async () =>
      (
        await get<MemberList>(
          'county',
          `/api/v1/stats/groups/members?region=${TOWNSHIP_A}&group=left_behind_child&asOf=2026-02-28&limit=2&cursor=${cursor}`,
        )
      ).body;
    assert.deepEqual(await again(), await again());

    const own = await get<MemberList>(
      'directorA1',
      '/api/v1/stats/groups/members?group=left_behind_child&asOf=2026-02-28',
    );
    assert.equal(own.status, 200);
    assert.ok(own.body.items.length > 0);
    assert.ok(own.body.items.every((m) => m.hukouRegionCode === VILLAGE_A1));
    assert.equal(
      own.body.items.length,
      value((await stats('directorA1', VILLAGE_A1, '2026-02-28')).body.total.counts.left_behind_child),
    );
    for (const region of [VILLAGE_A2, TOWNSHIP_A, COUNTY, VILLAGE_B])
      assert.equal(
        (await get('directorA1', `/api/v1/stats/groups/members?region=${region}&group=left_behind_child`))
          .status,
        403,
        region,
      );
    for (const who of ['prefecture', 'province', 'national'])
      assert.equal(
        (await get(who, `/api/v1/stats/groups/members?region=${VILLAGE_A1}&group=left_behind_child`)).status,
        403,
      );
  });

  test('the .xlsx export: the JSON’s numbers under Chinese headers, region names, the date in the title', async () => {
    for (const [who, region, asOf] of [
      ['county', COUNTY, '2026-02-28'],
      ['county', TOWNSHIP_A, '2024-02-29'],
      ['county', VILLAGE_A2, '2025-12-31'],
      ['town', TOWNSHIP_A, '2026-02-28'],
      ['prefecture', COUNTY, '2026-02-28'],
      ['province', '41', '2026-02-28'],
    ] as const) {
      const table = (await stats(who, region, asOf)).body;
      const file = await get(who, `/api/v1/stats/groups.xlsx?region=${region}&asOf=${asOf}`);
      assert.equal(file.status, 200);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(file.raw as unknown as ArrayBuffer);
      const sheet = workbook.worksheets[0] as ExcelJS.Worksheet;
      const lines: ExcelJS.CellValue[][] = [];
      sheet.eachRow((row) => lines.push((row.values as ExcelJS.CellValue[]).slice(1)));
      const title = String(lines[0]?.[0]);
      assert.ok(title.includes(asOf) && title.includes(table.region.name), title);
      assert.deepEqual(lines[1], ['地区代码', '地区', ...GROUP_CODES.map((code) => GROUP_LABELS[code].zh)]);
      const expected = [...table.rows, { ...table.total, regionName: `合计 ${table.total.regionName}` }].map(
        (row) => [
          row.regionCode,
          row.regionName,
          ...GROUP_CODES.map((code) => {
            const cell = row.counts[code] as StatCell;
            return cell.suppressed ? cell.display : cell.value;
          }),
        ],
      );
      assert.deepEqual(lines.slice(2, 2 + expected.length), expected, `${who} ${region}`);
      // Names, not only codes: every row's name is the region's own.
      for (const row of table.rows) assert.notEqual(row.regionName, row.regionCode);
      assert.equal(lines.length, expected.length + 2 + (table.suppressed ? 1 : 0));
    }
  });

  test('the dashboard’s words: every group named in zh and en, every sub-category the rules write in words, counts with grouped digits', async () => {
    const webLabels = await loadWebLabels();
    for (const code of GROUP_CODES)
      for (const lang of ['zh', 'en'] as const) {
        assert.equal(webLabels.GROUP_NAMES[code]?.[lang], GROUP_LABELS[code][lang], `${code} ${lang}`);
        assert.equal(webLabels.groupName(code, lang), GROUP_LABELS[code][lang]);
      }
    // Each ground the rules can list (their category types) has both words.
    const rules = await readFile(new URL('./groups.rules.ts', import.meta.url), 'utf8');
    const categories = [
      ...rules.matchAll(/export type (?:DistressedChildCategory|SpecialDifficultyCategory) =([^;]+);/g),
    ].flatMap((m) => [...(m[1] ?? '').matchAll(/'([a-z_]+)'/g)].map((c) => c[1] as string));
    assert.ok(categories.length >= 8, categories.join());
    for (const category of categories)
      for (const lang of ['zh', 'en'] as const)
        assert.ok(webLabels.SUB_CATEGORY_NAMES[category]?.[lang], `${category} ${lang}`);
    // The sub-categories of real members, as the member list sends them, shown without a code.
    const written = await sql<{ sub_category: string }>`SELECT DISTINCT sub_category FROM group_memberships
      WHERE sub_category IS NOT NULL`.execute(t.ctx.db);
    const subs = written.rows.map((r) => r.sub_category);
    assert.ok(subs.includes('poverty,disability'), subs.join(' | '));
    assert.ok(subs.includes('alone,family_planning_special'), subs.join(' | '));
    assert.ok(
      subs.some((s) => /^\d+-\d+$/.test(s)),
      subs.join(' | '),
    );
    const listed = await get<MemberList>(
      'county',
      `/api/v1/stats/groups/members?region=${VILLAGE_A2}&group=distressed_child`,
    );
    assert.equal(listed.body.items[0]?.subCategory, 'poverty,disability');
    for (const subCategory of subs) {
      const zh = webLabels.subCategoryName(subCategory, 'zh');
      const en = webLabels.subCategoryName(subCategory, 'en');
      assert.doesNotMatch(zh, /[a-z_]/, `${subCategory}: ${zh}`);
      assert.doesNotMatch(en, /_/, `${subCategory}: ${en}`);
    }
    assert.equal(webLabels.subCategoryName('poverty,disability', 'zh'), '家庭经济困难、自身残疾');
    assert.equal(webLabels.subCategoryName('80-89', 'zh'), '80-89岁');
    assert.equal(webLabels.subCategoryName('100+', 'en'), 'aged 100 and over');

    // Counts: digits grouped in both languages; "<5" and "*" as the server shows them.
    const cell = (v: number | null, display: string, suppressed = false) => ({
      value: v,
      display,
      suppressed,
    });
    assert.equal(webLabels.countText(cell(12345, '12345'), 'zh'), '12,345');
    assert.equal(webLabels.countText(cell(12345, '12345'), 'en'), '12,345');
    assert.equal(webLabels.countText(cell(0, '0'), 'zh'), '0');
    assert.equal(webLabels.countText(cell(null, '<5', true), 'zh'), '<5');
    assert.equal(webLabels.countText(cell(null, '*', true), 'en'), '*');
    assert.equal(webLabels.countText(undefined, 'en'), '0');
    // The dashboard's table cells, as a county sees them.
    const county = (await stats('county', COUNTY, '2026-02-28')).body;
    for (const row of county.rows)
      for (const code of GROUP_CODES)
        assert.equal(
          webLabels.countText(row.counts[code], 'zh'),
          (row.counts[code]?.value ?? 0).toLocaleString('zh-CN'),
        );
  });
});
