// The groups module through HTTP, as its users meet it: county staff evaluate and configure, the
// township supervisor reads his township's figures, the village director works the worklist, the
// prefecture viewer reads suppressed aggregates and no names.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import { insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { addDays, today } from '../../platform/dates.ts';
import { groupsDailyJob } from './groups.jobs.ts';
import { groupsOfPerson } from './groups.service.ts';
import type { StatsTable } from './groups.schemas.ts';

const TOWNSHIP_A = '410225101';
const VILLAGE_A = '410225101200';
const VILLAGE_A2 = '410225101201';
const TOWNSHIP_B = '410225001';
const VILLAGE_B = '410225001213';

// The answers' shapes, from the API's own schemas.
type Stats = StatsTable;
type StatsRow = StatsTable['rows'][number];
type StatCell = StatsRow['counts'][string];

let t: TestApp;
const clients: Record<string, Client> = {};
const ids: Record<string, number> = {};

async function person(
  key: string,
  name: string,
  sex: 1 | 2,
  birthDate: string,
  village: string,
): Promise<number> {
  const id = await insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village, noIdReason: '未落户' });
  ids[key] = id;
  return id;
}

async function migrant(personId: number, since: string): Promise<void> {
  await t.ctx.db
    .insertInto('person_facts')
    .values({
      person_id: personId,
      kind: 'migration',
      valid_from: since,
      valid_to: null,
      data: '{"destination":"广东省"}',
      recorded_by: null,
    })
    .execute();
}

const parentOf = (child: number, parent: number) => insertParentLink(t.ctx.db, child, parent);

/** A family whose parents both work away since 2025-03-01, with children born on 1 January of the years. */
async function family(prefix: string, village: string, childYears: number[]): Promise<void> {
  const father = await person(`${prefix}.father`, `${prefix}父`, 1, '1985-02-01', village);
  const mother = await person(`${prefix}.mother`, `${prefix}母`, 2, '1987-04-01', village);
  await migrant(father, '2025-03-01');
  await migrant(mother, '2025-03-01');
  for (const [i, year] of childYears.entries()) {
    const child = await person(`${prefix}.child${i}`, `${prefix}童${i}`, 1, `${year}-01-01`, village);
    await parentOf(child, father);
    await parentOf(child, mother);
  }
}

async function get<T>(who: string, url: string): Promise<{ status: number; body: T }> {
  const response = await t.app.inject({ method: 'GET', url, headers: clients[who]?.headers });
  return { status: response.statusCode, body: response.json() as T };
}

async function send<T>(
  who: string,
  method: 'POST' | 'PUT',
  url: string,
  payload?: Record<string, unknown>,
): Promise<{ status: number; body: T }> {
  const response = await t.app.inject({
    method,
    url,
    headers: clients[who]?.write,
    ...(payload === undefined ? {} : { payload }),
  });
  return { status: response.statusCode, body: response.json() as T };
}

async function evaluate(asOf: string): Promise<void> {
  const started = await send<{ jobId: number }>('county', 'POST', '/api/v1/groups/evaluations', {
    region: '410225',
    asOf,
  });
  assert.equal(started.status, 202);
  await t.ctx.jobs.drain();
  const job = await get<{ status: string; progress: { done: number; total: number } }>(
    'county',
    `/api/v1/groups/evaluations/${started.body.jobId}`,
  );
  assert.equal(job.body.status, 'succeeded');
  assert.equal(job.body.progress.done, job.body.progress.total);
}

const cell = (stats: Stats, region: string, group = 'left_behind_child') =>
  stats.rows.find((r) => r.regionCode === region)?.counts[group];

describe('groups over HTTP', () => {
  before(async () => {
    t = await createTestApp();
    Object.assign(
      clients,
      await signedInClients(t, {
        county: ['county1', 'county_staff', '410225'],
        town: ['town1', 'township_supervisor', TOWNSHIP_A],
        director: ['director1', 'village_child_director', VILLAGE_A],
        viewer: ['viewer1', 'prefecture_viewer', '4102'],
      }),
    );
    await family('A', VILLAGE_A, [2012, 2013, 2014, 2015, 2016, 2017]);
    await family('B', VILLAGE_B, [2016, 2018]);
    await person('elder', '孤老', 2, '1940-05-05', VILLAGE_A2);
  });
  after(async () => {
    await t.close();
  });

  test('entering a group opens a period and a worklist item; evaluating again changes nothing', async () => {
    await evaluate('2026-03-01');
    const stats = await get<Stats>('county', '/api/v1/stats/groups?region=410225&asOf=2026-03-01');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.suppressed, false);
    assert.equal(cell(stats.body, TOWNSHIP_A)?.value, 6);
    assert.equal(cell(stats.body, TOWNSHIP_B)?.value, 2);
    assert.equal(stats.body.total.counts.left_behind_child?.value, 8);
    assert.equal(cell(stats.body, TOWNSHIP_A, 'high_age_elderly')?.value, 1);

    const worklist = await get<{ items: { kind: string; groupCode: string; text: { zh: string } }[] }>(
      'county',
      '/api/v1/worklist?limit=100',
    );
    const entered = worklist.body.items.filter(
      (i) => i.kind === 'group_entered' && i.groupCode === 'left_behind_child',
    );
    assert.equal(entered.length, 8);
    assert.ok(
      entered.some(
        (i) =>
          i.text.zh.startsWith('新增农村留守儿童: A童0, 自 2025-03-01') &&
          i.text.zh.includes('父亲A父外出务工自2025-03-01'),
      ),
      entered.map((i) => i.text.zh).join('\n'),
    );

    const before = await t.ctx.db.selectFrom('group_memberships').selectAll().orderBy('id').execute();
    const items = await t.ctx.db.selectFrom('worklist_items').select('id').execute();
    await evaluate('2026-03-01');
    assert.deepEqual(
      await t.ctx.db.selectFrom('group_memberships').selectAll().orderBy('id').execute(),
      before,
    );
    assert.equal((await t.ctx.db.selectFrom('worklist_items').select('id').execute()).length, items.length);
  });

  test('leaving a group closes the period on the day the facts say and tells the worklist; history stays', async () => {
    // Family B's father comes home on 2026-04-01; the change is evaluated a month later, and the period
    // ends on the day of return, not on the day of the evaluation.
    await t.ctx.db
      .updateTable('person_facts')
      .set({ valid_to: '2026-04-01' })
      .where('person_id', '=', ids['B.father'] as number)
      .execute();
    await evaluate('2026-05-01');
    const periods = await t.ctx.db
      .selectFrom('group_memberships')
      .select(['since', 'until'])
      .where('person_id', '=', ids['B.child0'] as number)
      .where('group_code', '=', 'left_behind_child')
      .execute();
    assert.deepEqual(periods, [{ since: '2025-03-01', until: '2026-04-01' }]);
    const left = await t.ctx.db
      .selectFrom('worklist_items')
      .selectAll()
      .where('kind', '=', 'group_left')
      .execute();
    assert.equal(left.filter((i) => i.group_code === 'left_behind_child').length, 2);
    assert.match(left[0]?.text_zh ?? '', /^不再属于农村留守儿童: B童/);

    const then = await get<Stats>('county', '/api/v1/stats/groups?region=410225&asOf=2026-03-01');
    assert.equal(cell(then.body, TOWNSHIP_B)?.value, 2);
    const now = await get<Stats>('county', '/api/v1/stats/groups?region=410225&asOf=2026-05-01');
    assert.equal(cell(now.body, TOWNSHIP_B)?.value, 0);

    const monthly = await get<{ months: { month: string; counts: Record<string, StatCell> }[] }>(
      'county',
      '/api/v1/stats/groups/monthly?region=410225&from=2026-02&to=2026-05',
    );
    assert.equal(monthly.status, 200);
    assert.deepEqual(
      monthly.body.months.map((m) => [m.month, m.counts.left_behind_child?.value]),
      [
        ['2026-02', 8],
        ['2026-03', 8],
        // The two children of family B were no longer left behind from 2026-04-01.
        ['2026-04', 6],
        ['2026-05', 6],
      ],
    );
  });

  test("a township supervisor's figures cover his township only", async () => {
    const own = await get<Stats>('town', '/api/v1/stats/groups?asOf=2026-03-01');
    assert.equal(own.status, 200);
    assert.equal(own.body.region.code, TOWNSHIP_A);
    assert.equal(own.body.total.counts.left_behind_child?.value, 6);
    assert.equal(cell(own.body, VILLAGE_A)?.value, 6);
    assert.equal((await get('town', '/api/v1/stats/groups?region=410225&asOf=2026-03-01')).status, 403);
    assert.equal((await get('town', `/api/v1/stats/groups?region=${TOWNSHIP_B}`)).status, 403);
    const members = await get<{
      items: { name: string; hukouRegionCode: string; idNumberMasked: string | null }[];
    }>('town', '/api/v1/stats/groups/members?group=left_behind_child&asOf=2026-03-01');
    assert.equal(members.status, 200);
    assert.equal(members.body.items.length, 6);
    assert.ok(members.body.items.every((m) => m.hukouRegionCode.startsWith(TOWNSHIP_A)));
    const paged = await get<{ items: unknown[]; nextCursor: string }>(
      'town',
      '/api/v1/stats/groups/members?group=left_behind_child&asOf=2026-03-01&limit=4',
    );
    assert.equal(paged.body.items.length, 4);
    const rest = await get<{ items: unknown[]; nextCursor: string | null }>(
      'town',
      `/api/v1/stats/groups/members?group=left_behind_child&asOf=2026-03-01&limit=4&cursor=${paged.body.nextCursor}`,
    );
    assert.equal(rest.body.items.length, 2);
    assert.equal(rest.body.nextCursor, null);
  });

  test('a viewer gets counts with small cells suppressed so that none can be recovered, and no names', async () => {
    const stats = await get<Stats>('viewer', '/api/v1/stats/groups?region=410225&asOf=2026-03-01');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.suppressed, true);
    const small = cell(stats.body, TOWNSHIP_B);
    assert.deepEqual(small, { value: null, suppressed: true, display: '<5' });
    for (const group of Object.keys(stats.body.total.counts)) {
      const column = [...stats.body.rows.map((r) => r.counts[group]), stats.body.total.counts[group]];
      const hidden = column.filter((c) => c?.suppressed).length;
      assert.notEqual(hidden, 1, `${group}: a single hidden cell equals the total minus the shown cells`);
      // No shown number is below the threshold.
      assert.ok(column.every((c) => c?.suppressed || c?.value === 0 || (c?.value ?? 0) >= 5));
    }
    // The total, shown, and the other township's cell, hidden, leave the small cell 1..3.
    assert.equal(stats.body.total.counts.left_behind_child?.value, 8);
    assert.equal(cell(stats.body, TOWNSHIP_A)?.suppressed, true);

    const members = await get<{ error: { code: string } }>(
      'viewer',
      '/api/v1/stats/groups/members?region=410225&group=left_behind_child',
    );
    assert.equal(members.status, 403);
    assert.equal((await get('viewer', '/api/v1/worklist')).status, 403);
    assert.equal((await get('viewer', '/api/v1/stats/groups?region=41')).status, 403);

    const xlsx = await t.app.inject({
      method: 'GET',
      url: '/api/v1/stats/groups.xlsx?region=410225&asOf=2026-03-01',
      headers: clients.viewer?.headers,
    });
    assert.equal(xlsx.statusCode, 200);
    assert.equal(xlsx.rawPayload.subarray(0, 2).toString(), 'PK');
    const ExcelJS = (await import('exceljs')).default;
    const book = new ExcelJS.Workbook();
    await book.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    const values = book.worksheets[0]?.getSheetValues().flat().map(String) ?? [];
    assert.ok(values.includes('<5'));
    assert.ok(!values.some((v) => /[AB]童\d/.test(v)), 'no names in the export');
  });

  test('the village director works his own worklist', async () => {
    const page = await get<{ items: { id: number; regionCode: string }[] }>(
      'director',
      '/api/v1/worklist?limit=100',
    );
    assert.equal(page.status, 200);
    assert.ok(page.body.items.length >= 6);
    assert.ok(page.body.items.every((i) => i.regionCode === VILLAGE_A));
    const first = page.body.items[0] as { id: number };
    const ack = await send<{ acknowledgedAt: string | null }>(
      'director',
      'POST',
      `/api/v1/worklist/${first.id}/acknowledge`,
    );
    assert.equal(ack.status, 200);
    assert.ok(ack.body.acknowledgedAt);
    const open = await get<{ items: { id: number }[] }>('director', '/api/v1/worklist?limit=100');
    assert.ok(!open.body.items.some((i) => i.id === first.id));
    const other = await t.ctx.db
      .selectFrom('worklist_items')
      .select('id')
      .where('region_code', '=', VILLAGE_B)
      .executeTakeFirstOrThrow();
    assert.equal((await send('director', 'POST', `/api/v1/worklist/${other.id}/acknowledge`)).status, 404);
  });

  test('changing the configuration is versioned, validated, scoped and re-evaluates the region', async () => {
    const initial = await get<{ version: number; effective: { leftBehindChildUnderAge: number } }>(
      'county',
      '/api/v1/groups/config?region=410225',
    );
    assert.equal(initial.status, 200);
    assert.equal(initial.body.version, 0);
    assert.equal(initial.body.effective.leftBehindChildUnderAge, 16);

    const bad = await send<{ error: { code: string; details: { path: string }[] } }>(
      'county',
      'PUT',
      '/api/v1/groups/config?region=410225',
      {
        config: { leftBehindChildUnderAge: -1, highAgeBandStarts: [90, 80] },
        version: 0,
      },
    );
    assert.equal(bad.status, 400);
    assert.ok(bad.body.error.details.some((d) => d.path.includes('leftBehindChildUnderAge')));
    const unordered = await send<{ error: { details: { path: string }[] } }>(
      'county',
      'PUT',
      '/api/v1/groups/config?region=410225',
      {
        config: { highAgeBandStarts: [90, 80] },
        version: 0,
      },
    );
    assert.equal(unordered.status, 400);
    assert.deepEqual(
      unordered.body.error.details.map((d) => d.path),
      ['config.highAgeBandStarts'],
    );
    assert.equal(
      (
        await send('town', 'PUT', `/api/v1/groups/config?region=${TOWNSHIP_A}`, {
          config: { leftBehindChildUnderAge: 12 },
          version: 0,
        })
      ).status,
      403,
    );

    // Under 12 instead of 16: of family A's children (born 2012..2017) those 12 or older today leave.
    const changed = await send<{
      version: number;
      evaluationJobId: number;
      effective: { leftBehindChildUnderAge: number };
    }>('county', 'PUT', '/api/v1/groups/config?region=410225', {
      config: { leftBehindChildUnderAge: 12 },
      version: 0,
    });
    assert.equal(changed.status, 200);
    assert.equal(changed.body.version, 1);
    assert.equal(changed.body.effective.leftBehindChildUnderAge, 12);
    assert.ok(changed.body.evaluationJobId > 0);
    const stale = await send<{ error: { code: string } }>(
      'county',
      'PUT',
      '/api/v1/groups/config?region=410225',
      {
        config: { leftBehindChildUnderAge: 14 },
        version: 0,
      },
    );
    assert.equal(stale.status, 409);
    assert.equal(stale.body.error.code, 'CONFLICT');

    await t.ctx.jobs.drain();
    const asOf = today();
    const expected = [2012, 2013, 2014, 2015, 2016, 2017].filter((y) => `${y + 12}-01-01` > asOf).length;
    const stats = await get<Stats>('county', `/api/v1/stats/groups?region=410225&asOf=${asOf}`);
    assert.equal(cell(stats.body, TOWNSHIP_A)?.value, expected);
    const township = await get<{ effective: { leftBehindChildUnderAge: number } }>(
      'town',
      `/api/v1/groups/config?region=${TOWNSHIP_A}`,
    );
    assert.equal(township.body.effective.leftBehindChildUnderAge, 12);
  });

  test('the daily evaluation catches up with today and schedules itself for tomorrow, once', async () => {
    const daily = groupsDailyJob(t.ctx);
    await t.ctx.jobs.enqueue(daily, { date: '2026-05-02' }, { idempotencyKey: 'groups.daily:2026-05-02' });
    await t.ctx.jobs.drain();
    const jobs = await t.ctx.db
      .selectFrom('jobs')
      .select(['idempotency_key', 'status', 'run_after'])
      .where('name', '=', 'groups.daily')
      .orderBy('id')
      .execute();
    const tomorrow = addDays(today(), 1);
    assert.deepEqual(
      jobs.map((j) => [j.idempotency_key, j.status]),
      [
        ['groups.daily:2026-05-02', 'succeeded'],
        [`groups.daily:${today()}`, 'succeeded'],
        [`groups.daily:${tomorrow}`, 'queued'],
      ],
    );
    assert.ok((jobs[2]?.run_after.getTime() ?? 0) > Date.now());
    // Scheduling again (another server starting) adds nothing.
    await t.ctx.jobs.enqueue(daily, { date: tomorrow }, { idempotencyKey: `groups.daily:${tomorrow}` });
    assert.equal(
      (await t.ctx.db.selectFrom('jobs').select('id').where('name', '=', 'groups.daily').execute()).length,
      3,
    );
  });

  test("a fact recorded through the registry moves the relatives' groups in the same transaction", async () => {
    const father = await person('C.father', 'C父', 1, '1986-02-01', VILLAGE_A2);
    const mother = await person('C.mother', 'C母', 2, '1988-04-01', VILLAGE_A2);
    const child = await person('C.child', 'C童', 2, '2019-06-01', VILLAGE_A2);
    await parentOf(child, father);
    await parentOf(child, mother);
    await migrant(father, '2025-01-01');
    const recorded = await send('county', 'POST', `/api/v1/persons/${mother}/facts`, {
      kind: 'migration',
      from: '2026-02-01',
      data: { destination: '浙江省' },
    });
    assert.equal(recorded.status, 201);
    const groups = await groupsOfPerson(t.ctx.db, child);
    assert.deepEqual(
      groups.map((g) => [g.code, g.since]),
      [['left_behind_child', '2026-02-01']],
    );
    assert.ok(groups[0]?.reasons.zh.some((r) => r.includes('母亲C母外出务工自2026-02-01')));
    const item = await t.ctx.db
      .selectFrom('worklist_items')
      .select('text_zh')
      .where('person_id', '=', child)
      .executeTakeFirstOrThrow();
    assert.match(item.text_zh, /^新增农村留守儿童: C童, 自 2026-02-01/);
  });
});
