// "Export of every table to .xlsx" (issue 5): the monthly series and the list of the persons counted
// have workbooks of their own, beside the counts table's. Each is what the reader sees in JSON: the
// series with a viewer's suppressed cells as "<5" or "*", the list only for readers who may see
// persons, scoped and masked as the list is, every page of it, and each export audited.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import { insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { makeIdNumber } from '../registry/registry.idnumber.ts';
import { today, type IsoDate } from '../../platform/dates.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import { GROUP_CODES, GROUP_LABELS } from './groups.rules.ts';
import type { MemberList, MonthlySeries } from './groups.schemas.ts';

const COUNTY = '410225';
const VILLAGE_A = '410225101200';
const VILLAGE_B = '410225001213';

let t: TestApp;
let clients: Record<'county' | 'directorA' | 'province', Client>;

async function get(who: keyof typeof clients, url: string) {
  const response = await t.app.inject({ method: 'GET', url, headers: clients[who].headers });
  return { status: response.statusCode, response };
}

async function sheetRows(raw: Buffer): Promise<unknown[][]> {
  const workbook = new ExcelJS.Workbook();
  await workbook.xlsx.load(raw as unknown as ArrayBuffer);
  const sheet = workbook.worksheets[0];
  assert.ok(sheet);
  const rows: unknown[][] = [];
  sheet.eachRow((row) => rows.push((row.values as unknown[]).slice(1)));
  return rows;
}

async function audited(action: string): Promise<number> {
  const r = await sql<{
    n: number;
  }>`SELECT count(*)::int AS n FROM audit_log WHERE action = ${action}`.execute(t.ctx.db);
  return r.rows[0]?.n ?? 0;
}

/** A child whose parents both work away since `since`, with ID numbers. */
async function family(village: string, k: number, since: IsoDate): Promise<number> {
  const id = async (name: string, sex: 1 | 2, birthDate: string) => {
    const person = await insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village });
    await t.ctx.db
      .updateTable('persons')
      .set({
        id_number: makeIdNumber(COUNTY, birthDate as IsoDate, 100 + k * 4 + (sex === 1 ? 1 : 2)),
        no_id_reason: null,
      })
      .where('id', '=', person)
      .execute();
    return person;
  };
  const child = await id(`童${k}`, 1, '2016-05-01');
  const father = await id(`父${k}`, 1, '1985-02-01');
  const mother = await id(`母${k}`, 2, '1987-04-01');
  await insertParentLink(t.ctx.db, child, father);
  await insertParentLink(t.ctx.db, child, mother);
  for (const parent of [father, mother])
    await t.ctx.db
      .insertInto('person_facts')
      .values({
        person_id: parent,
        kind: 'migration',
        valid_from: since,
        valid_to: null,
        data: '{}',
        recorded_by: null,
      })
      .execute();
  return child;
}

describe('the monthly series and the list of persons as workbooks', () => {
  before(async () => {
    t = await createTestApp();
    clients = await signedInClients(t, {
      county: ['sx.county', 'county_staff', COUNTY],
      directorA: ['sx.director', 'village_child_director', VILLAGE_A],
      province: ['sx.province', 'province_viewer', '41'],
    });
    // Seven children in village A (left behind from different months), two in village B.
    for (let k = 0; k < 7; k++) await family(VILLAGE_A, k, `2025-0${k + 1}-10` as IsoDate);
    for (let k = 7; k < 9; k++) await family(VILLAGE_B, k, '2025-03-10');
    await evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf: today() });
  });
  after(async () => {
    await t.close();
  });

  test('the monthly series workbook has the JSON series, a viewer\'s small counts as "<5"', async () => {
    for (const who of ['county', 'province'] as const) {
      const url = `region=${COUNTY}&from=2025-01&to=2025-08`;
      const json = (await get(who, `/api/v1/stats/groups/monthly?${url}`)).response.json() as MonthlySeries;
      const before = await audited('groups.stats.export');
      const file = await get(who, `/api/v1/stats/groups/monthly.xlsx?${url}`);
      assert.equal(file.status, 200);
      assert.equal(await audited('groups.stats.export'), before + 1);
      const rows = await sheetRows(file.response.rawPayload);
      assert.deepEqual(rows[1], ['月份', '月末日期', ...GROUP_CODES.map((g) => GROUP_LABELS[g].zh)]);
      const months = rows.slice(2, 2 + json.months.length);
      assert.deepEqual(
        months,
        json.months.map((m) => [
          m.month,
          m.monthEnd,
          ...GROUP_CODES.map((g) => {
            const cell = m.counts[g];
            return cell === undefined ? 0 : cell.suppressed ? cell.display : cell.value;
          }),
        ]),
      );
      const lbc = 2 + GROUP_CODES.indexOf('left_behind_child');
      // Village A's children from January to July, village B's two from March.
      const counted = [1, 2, 3, 4, 5, 6, 7, 8].map((m) => Math.min(m, 7) + (m >= 3 ? 2 : 0));
      if (who === 'county')
        assert.deepEqual(
          months.map((m) => m[lbc]),
          counted,
        );
      else assert.deepEqual(months.map((m) => m[lbc]).slice(0, 2), ['<5', '<5']);
    }
  });

  test('the list workbook holds every person the list pages through, masked, for staff and for a director of his village only', async () => {
    const all: MemberList['items'] = [];
    for (let cursor: string | null = ''; cursor !== null;) {
      const page = (
        await get(
          'county',
          `/api/v1/stats/groups/members?region=${COUNTY}&group=left_behind_child&limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        )
      ).response.json() as MemberList;
      all.push(...page.items);
      cursor = page.nextCursor;
    }
    assert.equal(all.length, 9);
    const before = await audited('groups.members.export');
    const file = await get(
      'county',
      `/api/v1/stats/groups/members.xlsx?region=${COUNTY}&group=left_behind_child`,
    );
    assert.equal(file.status, 200);
    assert.equal(await audited('groups.members.export'), before + 1);
    const rows = await sheetRows(file.response.rawPayload);
    const people = rows.slice(2);
    assert.deepEqual(
      people.map((r) => [r[0], r[1], r[2], r[6]]),
      all.map((m) => [m.personId, m.name, m.idNumberMasked, m.since]),
    );
    assert.ok(
      people.every((r) => typeof r[2] === 'string' && r[2].includes('*')),
      'ID numbers are masked',
    );
    assert.ok(
      people.every((r) => String(r[8]).includes('外出务工')),
      'the reasons are written',
    );

    // A village director: his village's children, and 403 for the county or the other village.
    const mine = await get(
      'directorA',
      `/api/v1/stats/groups/members.xlsx?region=${VILLAGE_A}&group=left_behind_child`,
    );
    assert.equal(mine.status, 200);
    assert.equal((await sheetRows(mine.response.rawPayload)).length - 2, 7);
    assert.equal(
      (await get('directorA', `/api/v1/stats/groups/members.xlsx?region=${COUNTY}&group=left_behind_child`))
        .status,
      403,
    );
    assert.equal(
      (
        await get(
          'directorA',
          `/api/v1/stats/groups/members.xlsx?region=${VILLAGE_B}&group=left_behind_child`,
        )
      ).status,
      403,
    );
  });

  test('a viewer gets no list workbook, and a bad group or date is 400 naming the field', async () => {
    const viewer = await get(
      'province',
      `/api/v1/stats/groups/members.xlsx?region=${COUNTY}&group=left_behind_child`,
    );
    assert.equal(viewer.status, 403);
    const group = await get('county', `/api/v1/stats/groups/members.xlsx?region=${COUNTY}&group=nobody`);
    assert.equal(group.status, 400);
    assert.match(group.response.body, /group/);
    const date = await get(
      'county',
      `/api/v1/stats/groups/members.xlsx?region=${COUNTY}&group=orphan&asOf=2026-02-30`,
    );
    assert.equal(date.status, 400);
    assert.match(date.response.body, /asOf/);
  });
});
