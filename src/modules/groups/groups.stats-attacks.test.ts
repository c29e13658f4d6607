// The group statistics attacked the way a curious reader would, through HTTP: a viewer above the
// county differencing the tables, the series and groups that contain each other; a township
// supervisor and a village director asking for regions outside their own; names looked for in
// every answer a viewer gets; counts that must not move when a wrong fact is retracted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import type { MonthlySeries, StatsTable } from './groups.schemas.ts';
import { insertPersonRow } from '../../../test/support/registry-rows.ts';

const COUNTY = '410225';
const TOWNSHIP_A = '410225101';
const VILLAGE_A1 = '410225101200';
const VILLAGE_A2 = '410225101201';
const TOWNSHIP_B = '410225001';
const VILLAGE_B = '410225001213';

// The answers' shapes, from the API's own schemas.
type Stats = StatsTable;
type StatsRow = StatsTable['rows'][number];
type StatCell = StatsRow['counts'][string];
type Series = MonthlySeries;

let t: TestApp;
const clients: Record<string, Client> = {};

async function get<T>(who: string, url: string): Promise<{ status: number; body: T; text: string }> {
  const response = await t.app.inject({ method: 'GET', url, headers: clients[who]?.headers });
  return { status: response.statusCode, body: response.json() as T, text: response.body };
}

function person(name: string, birthDate: string, village: string, sex: 1 | 2 = 2): Promise<number> {
  return insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village, noIdReason: '未落户' });
}

async function member(personId: number, group: string, village: string, until: string | null = null) {
  await sql`INSERT INTO group_memberships (person_id, group_code, since, until, region_code)
    VALUES (${personId}, ${group}, '2025-01-01', ${until}::date, ${village})`.execute(t.ctx.db);
}

/** The region keys whose counts include a village: the prefecture (the viewer's top) down to it. */
const chain = (village: string) => [village.slice(0, 4), village.slice(0, 6), village.slice(0, 9), village];

/**
 * Every assignment of the groups' village counts that shows what the viewer saw, with the inclusion
 * (sub <= sup village by village) a reader who knows the rules assumes; for each group and region,
 * the values it can take. Villages without a count are taken as known zeros (a stronger reader).
 */
function readerValues(
  seen: Map<string, Map<string, StatCell>>,
  leaves: readonly string[],
  sub: string,
  sup: string,
  cap: number,
): Map<string, Set<number>> {
  const solutions = (group: string): number[][] => {
    const cells = seen.get(group) as Map<string, StatCell>;
    const out: number[][] = [];
    const fits = (values: number[], complete: boolean) =>
      [...cells].every(([key, cell]) => {
        const sum = leaves.reduce((s, leaf, i) => (chain(leaf).includes(key) ? s + (values[i] ?? 0) : s), 0);
        const [lo, hi] = !cell.suppressed
          ? [cell.value ?? 0, cell.value ?? 0]
          : cell.display === '<5'
            ? [0, 4]
            : [5, cap];
        return complete ? sum >= lo && sum <= hi : sum <= hi;
      });
    const walk = (values: number[]) => {
      if (values.length === leaves.length) {
        if (fits(values, true)) out.push(values);
        return;
      }
      for (let v = 0; v <= cap; v++) if (fits([...values, v], false)) walk([...values, v]);
    };
    walk([]);
    return out;
  };
  const possible = new Map<string, Set<number>>();
  const note = (group: string, values: number[]) => {
    for (const key of seen.get(group)?.keys() ?? []) {
      const sum = leaves.reduce((s, leaf, i) => (chain(leaf).includes(key) ? s + (values[i] ?? 0) : s), 0);
      let set = possible.get(`${group} ${key}`);
      if (!set) possible.set(`${group} ${key}`, (set = new Set()));
      set.add(sum);
    }
  };
  const subs = solutions(sub);
  for (const s of solutions(sup)) {
    const fitting = subs.filter((values) => values.every((v, i) => v <= (s[i] ?? 0)));
    if (!fitting.length) continue;
    note(sup, s);
    for (const values of fitting) note(sub, values);
  }
  return possible;
}

describe('group statistics under attack', () => {
  const names: string[] = [];
  before(async () => {
    t = await createTestApp();
    Object.assign(
      clients,
      await signedInClients(t, {
        county: ['county1', 'county_staff', COUNTY],
        town: ['town1', 'township_supervisor', TOWNSHIP_A],
        director: ['director1', 'village_child_director', VILLAGE_A1],
        viewer: ['viewer1', 'prefecture_viewer', '4102'],
      }),
    );
    // Special-difficulty elderly: 5 and 5 in township A's villages, 3 in township B's village; of
    // them left-behind elderly: 2, 2 and 3 (every left-behind elderly is a special-difficulty one).
    for (const [village, special, leftBehind] of [
      [VILLAGE_A1, 5, 2],
      [VILLAGE_A2, 5, 2],
      [VILLAGE_B, 3, 3],
    ] as const)
      for (let i = 0; i < special; i++) {
        const name = `老人${village.slice(-3)}-${i}`;
        names.push(name);
        const id = await person(name, '1950-03-03', village);
        await member(id, 'special_difficulty_elderly', village);
        if (i < leftBehind) await member(id, 'left_behind_elderly', village);
      }
    // Left-behind children: 6 in village A1, one of whom leaves the group on 2026-03-16; 2 in B.
    for (let i = 0; i < 8; i++) {
      const village = i < 6 ? VILLAGE_A1 : VILLAGE_B;
      const name = `留守童${i}`;
      names.push(name);
      const id = await person(name, '2016-01-01', village);
      await member(id, 'left_behind_child', village, i === 0 ? '2026-03-16' : null);
    }
  });
  after(async () => {
    await t.close();
  });

  test('a group that contains another gives no small count away (left-behind elderly within special difficulty)', async () => {
    const asOf = '2026-06-30';
    const tables: Stats[] = [];
    for (const region of ['4102', COUNTY, TOWNSHIP_A, TOWNSHIP_B, VILLAGE_A1, VILLAGE_A2, VILLAGE_B]) {
      const table = await get<Stats>('viewer', `/api/v1/stats/groups?region=${region}&asOf=${asOf}`);
      assert.equal(table.status, 200, region);
      assert.equal(table.body.suppressed, true);
      tables.push(table.body);
    }
    // What the viewer saw of each region, and the same in every table it appears in.
    const seen = new Map<string, Map<string, StatCell>>();
    for (const group of ['special_difficulty_elderly', 'left_behind_elderly']) {
      const cells = new Map<string, StatCell>();
      for (const table of tables)
        for (const row of [...table.rows, table.total]) {
          const cell = row.counts[group] as StatCell;
          const before = cells.get(row.regionCode);
          if (before) assert.deepEqual(cell, before, `${group} ${row.regionCode} shown the same everywhere`);
          cells.set(row.regionCode, cell);
        }
      seen.set(
        group,
        new Map(
          [...cells].filter(([key]) =>
            [VILLAGE_A1, VILLAGE_A2, VILLAGE_B].some((v) => chain(v).includes(key)),
          ),
        ),
      );
    }
    // Township B's 3 is small in both groups and must stay so.
    assert.equal(seen.get('left_behind_elderly')?.get(TOWNSHIP_B)?.display, '<5');
    assert.equal(seen.get('special_difficulty_elderly')?.get(TOWNSHIP_B)?.display, '<5');
    const possible = readerValues(
      seen,
      [VILLAGE_A1, VILLAGE_A2, VILLAGE_B],
      'left_behind_elderly',
      'special_difficulty_elderly',
      18,
    );
    for (const [group, cells] of seen)
      for (const [key, cell] of cells)
        if (cell.suppressed)
          assert.ok(
            (possible.get(`${group} ${key}`)?.size ?? 0) >= 2,
            `${group} ${key} (${cell.display}) is worked out as ${[...(possible.get(`${group} ${key}`) ?? [])]}`,
          );
  });

  test('a region asked at two levels and in overlapping series shows the same; a day apart each date holds', async () => {
    const county = await get<Stats>('viewer', `/api/v1/stats/groups?region=${COUNTY}&asOf=2026-03-31`);
    const township = await get<Stats>('viewer', `/api/v1/stats/groups?region=${TOWNSHIP_A}&asOf=2026-03-31`);
    const inCounty = county.body.rows.find((r) => r.regionCode === TOWNSHIP_A);
    assert.deepEqual(township.body.total.counts, inCounty?.counts);
    const early = await get<Series>(
      'viewer',
      `/api/v1/stats/groups/monthly?region=${TOWNSHIP_A}&from=2026-01&to=2026-03`,
    );
    const late = await get<Series>(
      'viewer',
      `/api/v1/stats/groups/monthly?region=${TOWNSHIP_A}&from=2026-02&to=2026-05`,
    );
    assert.equal(early.status, 200);
    assert.deepEqual(early.body.months.slice(1), late.body.months.slice(0, 2));
    assert.deepEqual(early.body.months[2]?.counts, township.body.total.counts);
    // Village A1 goes from 6 to 5 left-behind children on 2026-03-16; B has 2. The day before and the
    // day of, each date's county table keeps B's small count open on its own: the total is shown with
    // township A hidden, or both are hidden.
    for (const asOf of ['2026-03-15', '2026-03-16']) {
      const table = await get<Stats>('viewer', `/api/v1/stats/groups?region=${COUNTY}&asOf=${asOf}`);
      const b = table.body.rows.find((r) => r.regionCode === TOWNSHIP_B)?.counts.left_behind_child;
      const a = table.body.rows.find((r) => r.regionCode === TOWNSHIP_A)?.counts.left_behind_child;
      assert.equal(b?.display, '<5', asOf);
      assert.ok(a?.suppressed || table.body.total.counts.left_behind_child?.suppressed, asOf);
    }
  });

  test('a viewer gets no names, ids or member lists from any statistics route', async () => {
    const answers = [
      await get('viewer', `/api/v1/stats/groups?region=${COUNTY}&asOf=2026-06-30`),
      await get('viewer', `/api/v1/stats/groups?region=${VILLAGE_A1}&asOf=2026-06-30`),
      await get('viewer', `/api/v1/stats/groups/monthly?region=${COUNTY}&from=2026-01&to=2026-06`),
    ];
    for (const answer of answers) {
      assert.equal(answer.status, 200);
      for (const name of names) assert.ok(!answer.text.includes(name), name);
      assert.ok(!/personId|idNumber/.test(answer.text));
    }
    for (const url of [
      `/api/v1/stats/groups/members?region=${COUNTY}&group=left_behind_child`,
      `/api/v1/stats/groups/members?region=${VILLAGE_A1}&group=special_difficulty_elderly`,
      `/api/v1/stats/groups/members?group=left_behind_child`,
      '/api/v1/worklist',
    ])
      assert.equal((await get('viewer', url)).status, 403, url);
    assert.equal((await get('viewer', '/api/v1/stats/groups?region=41')).status, 403);
    assert.equal(
      (await get('viewer', '/api/v1/stats/groups/monthly?region=41&from=2026-01&to=2026-02')).status,
      403,
    );
    assert.equal((await get('viewer', '/api/v1/stats/groups.xlsx?region=41')).status, 403);
  });

  test('a township supervisor and a village director get nothing outside their own region', async () => {
    const own = await get<Stats>('town', '/api/v1/stats/groups?asOf=2026-06-30');
    assert.equal(own.body.region.code, TOWNSHIP_A);
    assert.equal(own.body.suppressed, false);
    assert.equal(own.body.total.counts.special_difficulty_elderly?.value, 10);
    for (const region of [COUNTY, TOWNSHIP_B, VILLAGE_B, '4102', '41'])
      for (const path of ['/stats/groups', '/stats/groups.xlsx', '/stats/groups/members'])
        assert.equal(
          (
            await get(
              'town',
              `/api/v1${path}?region=${region}${path.endsWith('/members') ? '&group=left_behind_child' : ''}`,
            )
          ).status,
          403,
          `${path} ${region}`,
        );
    assert.equal(
      (await get('town', `/api/v1/stats/groups/monthly?region=${TOWNSHIP_B}&from=2026-01&to=2026-02`)).status,
      403,
    );
    // A prefix of a code, wildcards and padding are not region codes: 400 naming the field.
    for (const region of ['41022510', '4102251%25', '410225101*', '410225101%20', '_10225101', ''])
      for (const path of ['/stats/groups', '/stats/groups/members']) {
        const answer = await get<{ error: { details?: { path: string }[] } }>(
          'town',
          `/api/v1${path}?region=${region}&group=left_behind_child`,
        );
        assert.equal(answer.status, 400, `${path} ${region}`);
        assert.ok(answer.text.includes('region'), `${path} ${region}: ${answer.text}`);
      }
    const members = await get<{ items: { hukouRegionCode: string }[] }>(
      'town',
      '/api/v1/stats/groups/members?group=special_difficulty_elderly&asOf=2026-06-30',
    );
    assert.equal(members.body.items.length, 10);
    assert.ok(members.body.items.every((m) => m.hukouRegionCode.startsWith(TOWNSHIP_A)));

    const director = await get<Stats>('director', '/api/v1/stats/groups?asOf=2026-06-30');
    assert.equal(director.body.region.code, VILLAGE_A1);
    assert.equal(director.body.total.counts.special_difficulty_elderly?.value, 5);
    assert.deepEqual(director.body.rows, []);
    for (const region of [VILLAGE_A2, TOWNSHIP_A, VILLAGE_B])
      assert.equal((await get('director', `/api/v1/stats/groups?region=${region}`)).status, 403, region);
  });

  test('a wrong fact recorded and retracted leaves every count as it was', async () => {
    const father = await person('错父', '1985-01-01', VILLAGE_A2, 1);
    const mother = await person('错母', '1987-01-01', VILLAGE_A2);
    const child = await person('错童', '2018-05-05', VILLAGE_A2);
    for (const parent of [father, mother])
      await sql`INSERT INTO person_relations (person_id, related_person_id, kind, subtype)
        VALUES (${child}, ${parent}, 'parent', 'biological')`.execute(t.ctx.db);
    await sql`INSERT INTO person_facts (person_id, kind, valid_from, data)
      VALUES (${father}, 'migration', '2025-06-01', '{"destination":"广东省"}')`.execute(t.ctx.db);
    const dates = ['2025-12-31', '2026-03-31', '2026-06-30'];
    const countsOn = async () =>
      Promise.all(
        dates.map(
          async (d) => (await get<Stats>('county', `/api/v1/stats/groups?region=${COUNTY}&asOf=${d}`)).body,
        ),
      );
    const before = await countsOn();
    // The mother recorded as migrant by mistake: the child becomes left-behind, then the fact is retracted.
    const recorded = await t.app.inject({
      method: 'POST',
      url: `/api/v1/persons/${mother}/facts`,
      headers: clients.county?.write,
      payload: { kind: 'migration', from: '2025-09-01', data: { destination: '浙江省' } },
    });
    assert.equal(recorded.statusCode, 201, recorded.body);
    const during = await countsOn();
    assert.equal(
      (during[1]?.total.counts.left_behind_child?.value ?? 0) -
        (before[1]?.total.counts.left_behind_child?.value ?? 0),
      1,
    );
    const factId = (recorded.json() as { id: number }).id;
    const retracted = await t.app.inject({
      method: 'POST',
      url: `/api/v1/persons/${mother}/facts/${factId}/retract`,
      headers: clients.county?.write,
      payload: { reason: '录入错误' },
    });
    assert.equal(retracted.statusCode, 200, retracted.body);
    assert.deepEqual(await countsOn(), before);
  });
});
