// A review of three features as a county civil-affairs bureau uses them, through HTTP: the group
// configuration per region and period (versions, periods, overrides, invalid values, the region a
// change re-evaluates), the worklist (once per entry or exit, until acknowledged, by whom, paged) and
// the statistics (as of a date, month ends, small cells for viewers above the county).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import { insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { addDays, daysInMonth, today, type IsoDate } from '../../platform/dates.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import type { MonthlySeries, StatsTable } from './groups.schemas.ts';

const COUNTY = '410225';
const TOWNSHIP_A = '410225101';
const VILLAGE_A1 = '410225101200';
const VILLAGE_A2 = '410225101201';
const TOWNSHIP_B = '410225001';
const VILLAGE_B = '410225001213';

type StatCell = StatsTable['total']['counts'][string];
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}
interface ConfigAnswer {
  version: number;
  effective: Record<string, unknown>;
  own: { version: number; validFrom: string; validTo: string | null; config: Record<string, unknown> } | null;
}
interface Item {
  id: number;
  personId: number;
  regionCode: string;
  kind: string;
  groupCode: string;
  onDate: string;
  text: { zh: string; en: string };
  acknowledgedAt: string | null;
  acknowledgedBy: number | null;
}

let t: TestApp;
const clients: Record<string, Client> = {};

async function get<T>(who: string, url: string, lang = 'zh'): Promise<{ status: number; body: T }> {
  const response = await t.app.inject({
    method: 'GET',
    url,
    headers: { ...clients[who]?.headers, 'accept-language': lang },
  });
  return { status: response.statusCode, body: response.json() as T };
}

async function send<T>(
  who: string,
  method: 'POST' | 'PUT',
  url: string,
  payload?: unknown,
  lang = 'zh',
): Promise<{ status: number; body: T }> {
  const response = await t.app.inject({
    method,
    url,
    headers: { ...clients[who]?.write, 'accept-language': lang },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: response.statusCode, body: response.json() as T };
}

const person = (name: string, sex: 1 | 2, birthDate: string, village: string) =>
  insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village, noIdReason: '未落户' });

async function fact(personId: number, kind: string, from: IsoDate, to: IsoDate | null = null) {
  const row = await t.ctx.db
    .insertInto('person_facts')
    .values({ person_id: personId, kind, valid_from: from, valid_to: to, data: '{}', recorded_by: null })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/** A child whose parents both work away since `since` (until `until`). */
async function family(
  name: string,
  village: string,
  birthDate: string,
  since: IsoDate,
  until: IsoDate | null = null,
): Promise<number> {
  const child = await person(name, 1, birthDate, village);
  const father = await person(`${name}父`, 1, '1985-02-01', village);
  const mother = await person(`${name}母`, 2, '1987-04-01', village);
  await insertParentLink(t.ctx.db, child, father);
  await insertParentLink(t.ctx.db, child, mother);
  await fact(father, 'migration', since, until);
  await fact(mother, 'migration', since, until);
  return child;
}

async function reset(): Promise<void> {
  for (const table of [
    'worklist_items',
    'group_memberships',
    'person_facts',
    'person_relations',
    'persons',
    'group_config',
    'jobs',
  ])
    await sql`DELETE FROM ${sql.table(table)}`.execute(t.ctx.db);
}

async function periods(personId: number) {
  const rows = await sql<{ group_code: string; since: string; until: string | null }>`
    SELECT group_code, since::text AS since, until::text AS until FROM group_memberships
    WHERE person_id = ${personId} AND (until IS NULL OR until > since) ORDER BY group_code, since`.execute(
    t.ctx.db,
  );
  return rows.rows.map((r) => [r.group_code, r.since, r.until]);
}

async function configRows(region: string) {
  const rows = await sql<{ version: number; valid_from: string; valid_to: string | null; config: unknown }>`
    SELECT version, valid_from::text AS valid_from, valid_to::text AS valid_to, config FROM group_config
    WHERE region_code = ${region} ORDER BY version`.execute(t.ctx.db);
  return rows.rows;
}

const putConfig = (who: string, region: string, body: unknown, lang = 'zh') =>
  send<ConfigAnswer & ErrorBody>(who, 'PUT', `/api/v1/groups/config?region=${region}`, body, lang);

describe('group features as a county bureau uses them', () => {
  before(async () => {
    t = await createTestApp();
    Object.assign(
      clients,
      await signedInClients(t, {
        county: ['fr.county', 'county_staff', COUNTY],
        town: ['fr.town', 'township_supervisor', TOWNSHIP_A],
        directorA: ['fr.director.a', 'village_child_director', VILLAGE_A1],
        directorB: ['fr.director.b', 'village_child_director', VILLAGE_B],
        viewer: ['fr.viewer', 'prefecture_viewer', '4102'],
      }),
    );
  });
  after(async () => {
    await t.close();
  });

  describe('configuration', () => {
    before(reset);

    test('every change is a new version and every version is kept; a stale version is a 409 CONFLICT', async () => {
      const first = await putConfig('county', COUNTY, {
        config: { leftBehindChildUnderAge: 14 },
        version: 0,
      });
      assert.equal(first.status, 200);
      assert.equal(first.body.version, 1);
      // A correction made the same day.
      const second = await putConfig('county', COUNTY, {
        config: { leftBehindChildUnderAge: 15 },
        version: 1,
      });
      assert.equal(second.status, 200);
      assert.equal(second.body.version, 2);
      assert.equal(second.body.effective.leftBehindChildUnderAge, 15);
      const stale = await putConfig(
        'county',
        COUNTY,
        { config: { leftBehindChildUnderAge: 13 }, version: 1 },
        'en',
      );
      assert.equal(stale.status, 409);
      assert.equal(stale.body.error.code, 'CONFLICT');
      assert.match(stale.body.error.message, /version 2/);
      // Both versions are on record with what they said.
      const rows = await configRows(COUNTY);
      assert.deepEqual(
        rows.map((r) => [r.version, r.config]),
        [
          [1, { leftBehindChildUnderAge: 14 }],
          [2, { leftBehindChildUnderAge: 15 }],
        ],
      );
      await t.ctx.jobs.drain();
    });

    test('periods meet without gap or overlap; a start before the current one is refused naming validFrom', async () => {
      const region = TOWNSHIP_B;
      const a = await putConfig('county', region, {
        config: { elderlyMinAge: 65 },
        version: 0,
        validFrom: '2026-01-01',
      });
      assert.equal(a.status, 200);
      const b = await putConfig('county', region, {
        config: { elderlyMinAge: 70 },
        version: 1,
        validFrom: '2027-01-01',
      });
      assert.equal(b.status, 200);
      assert.deepEqual(
        (await configRows(region)).map((r) => [r.version, r.valid_from, r.valid_to]),
        [
          [1, '2026-01-01', '2027-01-01'],
          [2, '2027-01-01', null],
        ],
      );
      const on = async (asOf: string) =>
        (await get<ConfigAnswer>('county', `/api/v1/groups/config?region=${VILLAGE_B}&asOf=${asOf}`)).body
          .effective.elderlyMinAge;
      assert.equal(await on('2025-12-31'), 60);
      assert.equal(await on('2026-01-01'), 65);
      assert.equal(await on('2026-12-31'), 65);
      assert.equal(await on('2027-01-01'), 70);
      const before = await putConfig(
        'county',
        region,
        { config: { elderlyMinAge: 62 }, version: 2, validFrom: '2026-06-01' },
        'en',
      );
      assert.equal(before.status, 400);
      assert.deepEqual(
        before.body.error.details?.map((d) => d.path),
        ['validFrom'],
      );
      assert.equal((await configRows(region)).length, 2);
      await t.ctx.jobs.drain();
    });

    test('a township override sits under the county: each key from the most specific region', async () => {
      await reset();
      const county = await putConfig('county', COUNTY, {
        config: { leftBehindChildUnderAge: 14, minorUnderAge: 17 },
        version: 0,
      });
      assert.equal(county.status, 200);
      const town = await putConfig('county', TOWNSHIP_A, {
        config: { leftBehindChildUnderAge: 15 },
        version: 0,
      });
      assert.equal(town.status, 200);
      const effective = async (region: string) =>
        (await get<ConfigAnswer>('county', `/api/v1/groups/config?region=${region}`)).body.effective;
      assert.equal((await effective(VILLAGE_A1)).leftBehindChildUnderAge, 15);
      assert.equal((await effective(VILLAGE_A1)).minorUnderAge, 17);
      assert.equal((await effective(VILLAGE_B)).leftBehindChildUnderAge, 14);
      // The county changes its own value later: the township keeps its override of it.
      assert.equal(
        (await putConfig('county', COUNTY, { config: { leftBehindChildUnderAge: 13 }, version: 1 })).status,
        200,
      );
      assert.equal((await effective(VILLAGE_A1)).leftBehindChildUnderAge, 15);
      assert.equal((await effective(VILLAGE_B)).leftBehindChildUnderAge, 13);
      // The township's supervisor may read but not change it.
      assert.equal(
        (await putConfig('town', TOWNSHIP_A, { config: { leftBehindChildUnderAge: 12 }, version: 1 })).status,
        403,
      );
      await t.ctx.jobs.drain();
    });

    const badValues: [string, Record<string, unknown>][] = [
      ['a negative age', { leftBehindChildUnderAge: -1 }],
      ['an age band with min above max', { leftBehindWomanAgeRange: { minAge: 60, maxAge: 20 } }],
      ['months as words', { leftBehindElderlyMinMigrationMonths: '六个月' }],
      ['months as text', { leftBehindElderlyMinMigrationMonths: '6' }],
      ['a yes for an age', { minorUnderAge: true }],
      ['a fractional month', { lostContactMinMonths: 5.5 }],
      ['an unknown key', { leftBehindChildAge: 16 }],
      ['a null age', { elderlyMinAge: null }],
      ['a single band for a list', { highAgeBandStarts: 80 }],
      ['a band start as text', { highAgeBandStarts: [80, '90'] }],
      ['an age range bound as text', { leftBehindWomanAgeRange: { minAge: '20', maxAge: 59 } }],
    ];
    for (const [what, config] of badValues)
      test(`${what} is refused naming the field, in Chinese and in English, and changes nothing`, async () => {
        const key = Object.keys(config)[0] as string;
        const versionBefore = (
          await get<ConfigAnswer>('county', `/api/v1/groups/config?region=${VILLAGE_A2}`)
        ).body.version;
        for (const lang of ['zh', 'en']) {
          const answer = await putConfig('county', VILLAGE_A2, { config, version: versionBefore }, lang);
          assert.equal(answer.status, 400, `${what} (${lang}): ${JSON.stringify(answer.body)}`);
          assert.equal(answer.body.error.code, 'VALIDATION_FAILED');
          const detail = answer.body.error.details?.find((d) => d.path.startsWith(`config.${key}`));
          assert.ok(detail, `${what}: ${JSON.stringify(answer.body.error.details)}`);
          assert.match(detail.path, new RegExp(`^config\\.${key}`));
          if (lang === 'zh') assert.match(detail.message, /[\u4e00-\u9fff]/);
          else assert.doesNotMatch(detail.message, /[\u4e00-\u9fff]/);
        }
        assert.equal(
          (await get<ConfigAnswer>('county', `/api/v1/groups/config?region=${VILLAGE_A2}`)).body.version,
          versionBefore,
        );
      });

    test('a change re-evaluates the region it applies to and no other, from its valid_from', async () => {
      await reset();
      // Born 2013-06-01: 13 today. Parents away since 2025-03-01.
      const inA = await family('甲童', VILLAGE_A1, '2013-06-01', '2025-03-01');
      const inB = await family('乙童', VILLAGE_B, '2013-06-01', '2025-03-01');
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      assert.deepEqual(await periods(inA), [['left_behind_child', '2025-03-01', null]]);
      const items = async () =>
        (await sql<{ n: number }>`SELECT count(*)::int AS n FROM worklist_items`.execute(t.ctx.db)).rows[0]
          ?.n;
      const itemsBefore = await items();
      // Township A narrows to under 12 from 2026-09-01.
      const changed = await putConfig('county', TOWNSHIP_A, {
        config: { leftBehindChildUnderAge: 12 },
        version: 0,
        validFrom: '2026-09-01',
      });
      assert.equal(changed.status, 200);
      await t.ctx.jobs.drain();
      assert.deepEqual(await periods(inA), [['left_behind_child', '2025-03-01', '2026-09-01']]);
      assert.deepEqual(await periods(inB), [['left_behind_child', '2025-03-01', null]]);
      // One exit item, for the child of township A.
      assert.equal(await items(), (itemsBefore ?? 0) + 1);
    });

    test('a change dated in the future changes nothing until its day, then ends the period on it', async () => {
      await reset();
      const child = await family('丙童', VILLAGE_A1, '2013-06-01', '2025-03-01');
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      const changed = await putConfig('county', COUNTY, {
        config: { leftBehindChildUnderAge: 12 },
        version: 0,
        validFrom: '2027-02-01',
      });
      assert.equal(changed.status, 200);
      assert.equal(changed.body.effective.leftBehindChildUnderAge, 16);
      await t.ctx.jobs.drain();
      assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', null]]);
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: '2027-02-01' });
      assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2027-02-01']]);
    });
  });

  describe('worklist', () => {
    let child = 0;
    const list = (who: string, query = '') =>
      get<{ items: Item[]; nextCursor: string | null }>(who, `/api/v1/worklist?limit=500${query}`);
    const itemsOf = async (who: string, personId: number, query = '') =>
      (await list(who, query)).body.items.filter((i) => i.personId === personId);

    before(async () => {
      await reset();
      child = await family('张三', VILLAGE_A1, '2015-06-15', '2026-03-01');
    });

    test('an entry appears once on the village list with the reasons, and re-evaluations add none', async () => {
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: '2026-04-01' });
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: '2026-04-01' });
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: '2026-03-15' });
      await evaluateRegion(t.ctx.db, { regionCode: TOWNSHIP_A, asOf: today() });
      // Two evaluations at once (a daily job and a county's request).
      await Promise.all([
        evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() }),
        evaluateRegion(t.ctx.db, { regionCode: VILLAGE_A1, asOf: today() }),
      ]);
      const items = await itemsOf('directorA', child);
      assert.equal(items.length, 1);
      const [item] = items as [Item];
      assert.equal(item.kind, 'group_entered');
      assert.equal(item.regionCode, VILLAGE_A1);
      assert.equal(item.onDate, '2026-03-01');
      assert.match(item.text.zh, /^新增农村留守儿童: 张三, 自 2026-03-01, /);
      assert.match(item.text.zh, /父亲张三父外出务工自2026-03-01/);
      assert.match(item.text.zh, /母亲张三母外出务工自2026-03-01/);
      assert.match(item.text.en, /^New rural left-behind child: 张三, since 2026-03-01; /);
      // The township sees it too; the other village does not.
      assert.equal((await itemsOf('town', child)).length, 1);
      assert.equal((await itemsOf('directorB', child)).length, 0);
    });

    test('an item stays until acknowledged, by an authorised user of its region only', async () => {
      const [item] = (await itemsOf('directorA', child)) as [Item];
      // Another village's director and a viewer above the county cannot acknowledge it.
      assert.equal((await send('directorB', 'POST', `/api/v1/worklist/${item.id}/acknowledge`)).status, 404);
      assert.equal((await send('viewer', 'POST', `/api/v1/worklist/${item.id}/acknowledge`)).status, 403);
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      assert.equal((await itemsOf('directorA', child)).length, 1);
      const ack = await send<Item>('town', 'POST', `/api/v1/worklist/${item.id}/acknowledge`);
      assert.equal(ack.status, 200);
      assert.ok(ack.body.acknowledgedAt);
      const by = ack.body.acknowledgedBy;
      // A second acknowledgement changes nothing.
      const again = await send<Item>('directorA', 'POST', `/api/v1/worklist/${item.id}/acknowledge`);
      assert.equal(again.status, 200);
      assert.equal(again.body.acknowledgedBy, by);
      assert.equal((await itemsOf('directorA', child)).length, 0);
      assert.equal((await itemsOf('directorA', child, '&status=acknowledged')).length, 1);
      // Re-evaluating does not bring it back.
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      assert.equal((await itemsOf('directorA', child, '&status=all')).length, 1);
    });

    test('an exit appears once, with the day, what changed that day and the reasons it had', async () => {
      // The father came home on 2026-10-01 (recorded late).
      await sql`UPDATE person_facts SET valid_to = '2026-10-01' WHERE kind = 'migration'
        AND person_id IN (SELECT related_person_id FROM person_relations WHERE person_id = ${child})
        AND person_id IN (SELECT id FROM persons WHERE sex = 1)`.execute(t.ctx.db);
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      assert.deepEqual(await periods(child), [['left_behind_child', '2026-03-01', '2026-10-01']]);
      const exits = (await itemsOf('directorA', child)).filter((i) => i.kind === 'group_left');
      assert.equal(exits.length, 1);
      assert.equal(exits[0]?.onDate, '2026-10-01');
      assert.match(
        exits[0]?.text.zh ?? '',
        /^不再属于农村留守儿童: 张三, 自 2026-10-01, 父亲张三父外出务工于2026-10-01结束 \(原因为: .*父亲张三父外出务工自2026-03-01/,
      );
    });

    test('the list pages by cursor: every item once, in order, the last page without a cursor', async () => {
      for (let i = 0; i < 5; i++) await family(`页${i}`, VILLAGE_A2, '2016-01-01', '2026-05-01');
      await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
      const all = (await list('town', '&status=all')).body.items.map((i) => i.id);
      assert.ok(all.length >= 7);
      const seen: number[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const page: { status: number; body: { items: Item[]; nextCursor: string | null } } = await get(
          'town',
          `/api/v1/worklist?status=all&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        );
        assert.equal(page.status, 200);
        assert.ok(page.body.items.length <= 2);
        seen.push(...page.body.items.map((i) => i.id));
        cursor = page.body.nextCursor;
        pages += 1;
      } while (cursor !== null && pages < 50);
      assert.deepEqual(seen, all);
      assert.equal(new Set(seen).size, seen.length);
      assert.equal(pages, Math.ceil(all.length / 2));
      const bad = await get<ErrorBody>('town', '/api/v1/worklist?cursor=abc', 'en');
      assert.equal(bad.status, 400);
      assert.equal(bad.body.error.details?.[0]?.path, 'cursor');
    });
  });

  describe('statistics', () => {
    const stats = (who: string, region: string, asOf: string) =>
      get<StatsTable>(who, `/api/v1/stats/groups?region=${region}&asOf=${asOf}`);
    const series = (who: string, region: string, from: string, to: string) =>
      get<MonthlySeries>(who, `/api/v1/stats/groups/monthly?region=${region}&from=${from}&to=${to}`);
    const value = (c: StatCell | undefined) => c?.value;
    let n = 0;
    async function member(village: string, group: string, since: string, until: string | null) {
      const id = await person(`统计${n++}`, 2, '2015-01-01', village);
      await sql`INSERT INTO group_memberships (person_id, group_code, since, until, region_code)
        VALUES (${id}, ${group}, ${since}::date, ${until}::date, ${village})`.execute(t.ctx.db);
    }
    /** The count of a region as a scan of the periods would give it. */
    async function scan(region: string, group: string, asOf: string): Promise<number> {
      const rows = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
        WHERE group_code = ${group} AND region_code LIKE ${region + '%'}
          AND since <= ${asOf}::date AND (until IS NULL OR until > ${asOf}::date)`.execute(t.ctx.db);
      return rows.rows[0]?.n ?? 0;
    }

    before(async () => {
      await reset();
      await member(VILLAGE_A1, 'left_behind_child', '2026-03-01', '2026-10-01');
      await member(VILLAGE_A1, 'left_behind_child', '2025-12-31', '2026-01-01');
      await member(VILLAGE_A2, 'left_behind_child', '2024-02-29', '2026-03-01');
      for (let i = 0; i < 7; i++) await member(VILLAGE_B, 'left_behind_child', '2025-01-01', null);
      await member(VILLAGE_B, 'orphan', '2026-02-01', '2026-02-28');
    });

    test('the day a period starts counts, the day it ends does not, in the region and its child rows', async () => {
      const expect = async (asOf: string, a1: number, a2: number) => {
        const county = await stats('county', COUNTY, asOf);
        assert.equal(county.status, 200);
        const row = county.body.rows.find((r) => r.regionCode === TOWNSHIP_A);
        assert.equal(value(row?.counts.left_behind_child), a1 + a2, asOf);
        const town = await stats('county', TOWNSHIP_A, asOf);
        assert.equal(
          value(town.body.rows.find((r) => r.regionCode === VILLAGE_A1)?.counts.left_behind_child),
          a1,
        );
        assert.equal(
          value(town.body.rows.find((r) => r.regionCode === VILLAGE_A2)?.counts.left_behind_child),
          a2,
        );
        assert.equal(value(town.body.total.counts.left_behind_child), a1 + a2);
      };
      await expect('2024-02-28', 0, 0);
      await expect('2024-02-29', 0, 1);
      await expect('2025-12-30', 0, 1);
      await expect('2025-12-31', 1, 1);
      await expect('2026-01-01', 0, 1);
      await expect('2026-02-28', 0, 1);
      await expect('2026-03-01', 1, 0);
      await expect('2026-09-30', 1, 0);
      await expect('2026-10-01', 0, 0);
    });

    test('every cell equals a scan of the periods, on every boundary day', async () => {
      const days = ['2024-02-29', '2025-01-01', '2025-12-31', '2026-01-01', '2026-02-01', '2026-02-27'];
      days.push('2026-02-28', '2026-03-01', '2026-10-01', today());
      for (const asOf of days) {
        const county = (await stats('county', COUNTY, asOf)).body;
        for (const row of county.rows)
          for (const group of ['left_behind_child', 'orphan'])
            assert.equal(
              value(row.counts[group]),
              await scan(row.regionCode, group, asOf),
              `${row.regionCode} ${asOf}`,
            );
        for (const group of ['left_behind_child', 'orphan'])
          assert.equal(value(county.total.counts[group]), await scan(COUNTY, group, asOf));
      }
    });

    test('month ends: February, a leap February, a series across the year, each equal to that day’s table', async () => {
      const answer = await series('county', TOWNSHIP_A, '2025-11', '2026-03');
      assert.equal(answer.status, 200);
      assert.deepEqual(
        answer.body.months.map((m) => [m.month, m.monthEnd]),
        [
          ['2025-11', '2025-11-30'],
          ['2025-12', '2025-12-31'],
          ['2026-01', '2026-01-31'],
          ['2026-02', '2026-02-28'],
          ['2026-03', '2026-03-31'],
        ],
      );
      for (const month of answer.body.months) {
        const table = (await stats('county', TOWNSHIP_A, month.monthEnd)).body;
        assert.equal(value(month.counts.left_behind_child), value(table.total.counts.left_behind_child));
      }
      assert.deepEqual(
        answer.body.months.map((m) => value(m.counts.left_behind_child)),
        [1, 2, 1, 1, 1],
      );
      const leap = await series('county', COUNTY, '2024-02', '2024-02');
      assert.equal(leap.body.months[0]?.monthEnd, '2024-02-29');
      assert.equal(value(leap.body.months[0]?.counts.left_behind_child), 1);
      // The orphan's period ends on 28 February: not counted at February's end.
      const feb = await series('county', COUNTY, '2026-02', '2026-02');
      assert.equal(value(feb.body.months[0]?.counts.orphan), 0);
    });

    test('no count for a day still to come: tomorrow is refused, the current month is counted as of today', async () => {
      const day = today();
      const tomorrow = addDays(day, 1);
      // A month that has not begun even in the browser furthest ahead of the server.
      const next = addDays(day, 40).slice(0, 7);
      const current = day.slice(0, 7);
      const monthEnd = `${current}-${String(daysInMonth(Number(day.slice(0, 4)), Number(day.slice(5, 7)))).padStart(2, '0')}`;
      // Today is China's on the server (dates.ts), so a browser in China is never a day ahead of it.
      const present = await get<StatsTable>('county', `/api/v1/stats/groups?region=${COUNTY}&asOf=${day}`);
      assert.equal(present.status, 200);
      for (const ahead of [tomorrow, addDays(day, 2)]) {
        const future = await get<ErrorBody>(
          'county',
          `/api/v1/stats/groups?region=${COUNTY}&asOf=${ahead}`,
          'en',
        );
        assert.equal(future.status, 400, ahead);
        assert.equal(future.body.error.details?.[0]?.path, 'asOf');
      }
      const futureMonth = await get<ErrorBody>(
        'county',
        `/api/v1/stats/groups/monthly?region=${COUNTY}&from=${current}&to=${next}`,
        'en',
      );
      assert.equal(futureMonth.status, 400);
      assert.equal(futureMonth.body.error.details?.[0]?.path, 'to');
      const now = await series('county', COUNTY, current, current);
      assert.equal(now.status, 200);
      const end = monthEnd < day ? monthEnd : day;
      assert.equal(now.body.months[0]?.monthEnd, end);
      assert.equal(
        value(now.body.months[0]?.counts.left_behind_child),
        value((await stats('county', COUNTY, end)).body.total.counts.left_behind_child),
      );
    });

    test('a viewer sees the same suppressed cells in the table, the series and the workbook, township or county first', async () => {
      const asOf = '2026-03-31';
      const town = (await stats('viewer', TOWNSHIP_A, asOf)).body;
      const county = (await stats('viewer', COUNTY, asOf)).body;
      assert.equal(county.suppressed, true);
      const townCell = county.rows.find((r) => r.regionCode === TOWNSHIP_A)?.counts.left_behind_child;
      assert.deepEqual(town.total.counts.left_behind_child, townCell);
      assert.equal(townCell?.display, '<5');
      // Township B holds 7: shown alone it would give township A's count away (county - B).
      const totalCell = county.total.counts.left_behind_child;
      const bCell = county.rows.find((r) => r.regionCode === TOWNSHIP_B)?.counts.left_behind_child;
      assert.ok(totalCell?.suppressed || bCell?.suppressed, JSON.stringify({ totalCell, bCell }));
      const month = (await series('viewer', TOWNSHIP_A, '2026-03', '2026-03')).body.months[0];
      assert.deepEqual(month?.counts.left_behind_child, townCell);
      const countyMonth = (await series('viewer', COUNTY, '2026-03', '2026-03')).body.months[0];
      assert.deepEqual(countyMonth?.counts.left_behind_child, totalCell);
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/stats/groups.xlsx?region=${COUNTY}&asOf=${asOf}`,
        headers: clients.viewer?.headers,
      });
      assert.equal(response.statusCode, 200);
      const workbook = new ExcelJS.Workbook();
      await workbook.xlsx.load(response.rawPayload as unknown as ArrayBuffer);
      const sheet = workbook.worksheets[0] as ExcelJS.Worksheet;
      const column = 3 + county.groups.findIndex((g) => g.code === 'left_behind_child');
      const shown = new Map<string, string>();
      sheet.eachRow((row, i) => {
        if (i > 2) shown.set(String(row.getCell(1).value), String(row.getCell(column).value));
      });
      for (const row of [...county.rows, county.total])
        assert.equal(shown.get(row.regionCode), row.counts.left_behind_child?.display, row.regionCode);
    });
  });
});
