// Session 7 review of the group evaluation, on real rows and through the service (HTTP) as a county
// uses it:
//   - a configuration dated in the past judges only its own days: a wider one (the left-behind age
//     raised to 18) counts a child from its start, not back over the months the previous rule had
//     already ended the child's period, and continues a period it meets;
//   - a person whose hukou moves takes the open worklist items to the new village (the registry's
//     change of the person, a template import), in the transaction of the change; acknowledged items
//     stay with the old village as its history;
//   - an exit item says why the person left, not only why they had entered.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import { insertParentLink, insertPersonRow } from '../../../test/support/registry-rows.ts';
import { addDays, today, type IsoDate } from '../../platform/dates.ts';
import { createToken } from '../access/index.ts';
import { makeIdNumber } from '../registry/registry.idnumber.ts';
import { TEMPLATE_HEADERS } from '../registry/registry.template.ts';
import { evaluateRegion } from './groups.evaluate.ts';

const COUNTY = '410225';
const VILLAGE_A1 = '410225101200';
const VILLAGE_A2 = '410225101201';
const VILLAGE_B = '410225001213';
const COMMUNITY = '410225001001'; // 城中社区, not rural

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
let dir: string;
const clients: Record<string, Client> = {};

async function call<T>(
  who: string,
  method: 'GET' | 'POST' | 'PUT' | 'PATCH',
  url: string,
  payload?: unknown,
): Promise<{ status: number; body: T }> {
  const client = clients[who];
  const response = await t.app.inject({
    method,
    url,
    headers: { ...(method === 'GET' ? client?.headers : client?.write), 'accept-language': 'zh' },
    ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
  });
  return { status: response.statusCode, body: response.json() as T };
}

const person = (name: string, sex: 1 | 2, birthDate: string, village: string) =>
  insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village, noIdReason: '未落户' });

async function fact(personId: number, kind: string, from: IsoDate, to: IsoDate | null = null) {
  await t.ctx.db
    .insertInto('person_facts')
    .values({ person_id: personId, kind, valid_from: from, valid_to: to, data: '{}', recorded_by: null })
    .execute();
}

/** A child whose parents both work away since `since`. */
async function family(name: string, village: string, birthDate: string, since: IsoDate): Promise<number> {
  const child = await person(name, 1, birthDate, village);
  const father = await person(`${name}父`, 1, '1985-02-01', village);
  const mother = await person(`${name}母`, 2, '1987-04-01', village);
  await insertParentLink(t.ctx.db, child, father);
  await insertParentLink(t.ctx.db, child, mother);
  await fact(father, 'migration', since);
  await fact(mother, 'migration', since);
  return child;
}

async function reset(): Promise<void> {
  for (const table of [
    'worklist_items',
    'group_memberships',
    'person_facts',
    'person_relations',
    'persons',
    'households',
    'group_config',
    'jobs',
  ])
    await sql`DELETE FROM ${sql.table(table)}`.execute(t.ctx.db);
}

/** The periods of a person (voided ones, of no days, left out). */
async function periods(personId: number) {
  const rows = await sql<{ group_code: string; since: string; until: string | null }>`
    SELECT group_code, since::text AS since, until::text AS until FROM group_memberships
    WHERE person_id = ${personId} AND (until IS NULL OR until > since) ORDER BY group_code, since`.execute(
    t.ctx.db,
  );
  return rows.rows.map((r) => [r.group_code, r.since, r.until]);
}

async function reasonsOn(personId: number, group: string, on: IsoDate) {
  const row = await sql<{ reasons: { zh: string[]; en: string[] } }>`
    SELECT reasons FROM group_memberships WHERE person_id = ${personId} AND group_code = ${group}
      AND since <= ${on}::date AND (until IS NULL OR until > ${on}::date)`.execute(t.ctx.db);
  return row.rows[0]?.reasons ?? null;
}

async function worklistRows(personId: number) {
  const rows = await sql<{
    kind: string;
    on_date: string;
    region_code: string;
    text_zh: string;
    text_en: string;
  }>`
    SELECT kind, on_date::text AS on_date, region_code, text_zh, text_en FROM worklist_items
    WHERE person_id = ${personId} ORDER BY id`.execute(t.ctx.db);
  return rows.rows;
}

/** A county change of the group configuration from `validFrom`, then the evaluation job it queues. */
async function changeConfig(config: Record<string, unknown>, validFrom: IsoDate, version = 0) {
  const answer = await call<{ version: number }>('county', 'PUT', `/api/v1/groups/config?region=${COUNTY}`, {
    config,
    version,
    validFrom,
  });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  await t.ctx.jobs.drain();
}

/** A birth date whose 16th birthday is `daysAgo` days before today (never a 29 February). */
function bornSixteenYearsBefore(daysAgo: number): { born: IsoDate; sixteenth: IsoDate } {
  let sixteenth = addDays(today(), -daysAgo);
  if (sixteenth.endsWith('-02-29')) sixteenth = addDays(sixteenth, -1);
  return { born: `${Number(sixteenth.slice(0, 4)) - 16}${sixteenth.slice(4)}`, sixteenth };
}

const evaluate = (asOf: IsoDate) => evaluateRegion(t.ctx.db, { regionCode: COUNTY, asOf });

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-session7-'));
  t = await createTestApp({ dataDir: dir });
  Object.assign(
    clients,
    await signedInClients(t, {
      county: ['s7.county', 'county_staff', COUNTY],
      directorA1: ['s7.director.a1', 'village_child_director', VILLAGE_A1],
      directorA2: ['s7.director.a2', 'village_child_director', VILLAGE_A2],
      directorB: ['s7.director.b', 'village_child_director', VILLAGE_B],
    }),
  );
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a configuration dated in the past judges its own days only', () => {
  beforeEach(reset);

  test('a wider age set from after a child’s 16th birthday keeps the closed period and counts the child again from its start', async () => {
    const { born, sixteenth } = bornSixteenYearsBefore(120);
    const child = await family('小红', VILLAGE_A1, born, '2020-03-01');
    // The daily evaluations of the time: left behind until the 16th birthday.
    await evaluate(addDays(sixteenth, -30));
    await evaluate(addDays(sixteenth, 1));
    assert.deepEqual(await periods(child), [['left_behind_child', '2020-03-01', sixteenth]]);
    // Later the county counts children under 18, from a day two months after that birthday.
    const change = addDays(today(), -60);
    await changeConfig({ leftBehindChildUnderAge: 18 }, change);
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2020-03-01', sixteenth],
      ['left_behind_child', change, null],
    ]);
    const reasons = await reasonsOn(child, 'left_behind_child', today());
    assert.ok(reasons, 'the new period has its reasons');
    assert.ok(reasons.zh.includes(`未满18周岁(${born}出生)`), JSON.stringify(reasons));
    assert.ok(reasons.zh.includes(`依本地区自 ${change} 起施行的配置`), JSON.stringify(reasons));
    assert.ok(reasons.en.includes(`under the region's configuration in force from ${change}`));
    const entered = (await worklistRows(child)).filter((i) => i.kind === 'group_entered');
    assert.deepEqual(
      entered.map((i) => i.on_date),
      [change],
    );
    assert.match(entered[0]?.text_zh ?? '', new RegExp(`自 ${change}, .*依本地区自 ${change} 起施行的配置`));
    // The days between the birthday and the change count under neither rule.
    assert.equal(await reasonsOn(child, 'left_behind_child', addDays(change, -1)), null);
    // The daily evaluation changes nothing after that.
    const again = await evaluate(today());
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
    assert.equal((await worklistRows(child)).length, entered.length);
  });

  test('a wider age set from before the 16th birthday continues the period the previous rule had closed', async () => {
    const { born, sixteenth } = bornSixteenYearsBefore(120);
    const child = await family('小刚', VILLAGE_A1, born, '2020-03-01');
    await evaluate(addDays(sixteenth, -60));
    await evaluate(addDays(sixteenth, 1));
    assert.deepEqual(await periods(child), [['left_behind_child', '2020-03-01', sixteenth]]);
    await changeConfig({ leftBehindChildUnderAge: 18 }, addDays(sixteenth, -30));
    assert.deepEqual(await periods(child), [['left_behind_child', '2020-03-01', null]]);
    const reasons = await reasonsOn(child, 'left_behind_child', today());
    assert.ok(reasons?.zh.includes(`未满18周岁(${born}出生)`), JSON.stringify(reasons));
    assert.ok(!reasons?.zh.some((r) => r.startsWith('依本地区')), JSON.stringify(reasons));
    const again = await evaluate(today());
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });

  test('a first evaluation after a wider change judges the days before it by the configuration of then', async () => {
    const { born } = bornSixteenYearsBefore(120);
    const after = await family('小丽', VILLAGE_A1, born, '2020-03-01');
    // Nothing stored before: the change (after the birthday) starts the period.
    const change = addDays(today(), -60);
    await changeConfig({ leftBehindChildUnderAge: 18 }, change);
    assert.deepEqual(await periods(after), [['left_behind_child', change, null]]);
    const again = await evaluate(today());
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });

  test('a first evaluation after a wider change from before the birthday counts from the departure', async () => {
    const { born, sixteenth } = bornSixteenYearsBefore(120);
    const child = await family('小军', VILLAGE_A1, born, '2020-03-01');
    await changeConfig({ leftBehindChildUnderAge: 18 }, addDays(sixteenth, -30));
    assert.deepEqual(await periods(child), [['left_behind_child', '2020-03-01', null]]);
  });

  test('two changes: each one’s days are judged by it', async () => {
    // Under 16 until the birthday 200 days ago; under 18 from 150 days ago; under 16 again from 100 days
    // ago; under 18 again from 50 days ago. Counted: to the birthday, the first wider stretch, the last.
    const { born, sixteenth } = bornSixteenYearsBefore(200);
    const child = await family('小芳', VILLAGE_A1, born, '2020-03-01');
    await evaluate(addDays(sixteenth, -30));
    await evaluate(addDays(sixteenth, 1));
    const days = [150, 100, 50].map((n) => addDays(today(), -n)) as [IsoDate, IsoDate, IsoDate];
    await changeConfig({ leftBehindChildUnderAge: 18 }, days[0], 0);
    await changeConfig({ leftBehindChildUnderAge: 16 }, days[1], 1);
    await changeConfig({ leftBehindChildUnderAge: 18 }, days[2], 2);
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2020-03-01', sixteenth],
      ['left_behind_child', days[0], days[1]],
      ['left_behind_child', days[2], null],
    ]);
    const again = await evaluate(today());
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });
});

describe('open worklist items follow the person’s hukou', () => {
  beforeEach(reset);

  const listed = async (who: string, personId: number, status = 'open') => {
    const answer = await call<{ items: Item[] }>(who, 'GET', `/api/v1/worklist?limit=500&status=${status}`);
    assert.equal(answer.status, 200);
    return answer.body.items.filter((i) => i.personId === personId);
  };

  test('a hukou moved on the web moves the open items to the new village; acknowledged ones stay', async () => {
    const child = await family('小燕', VILLAGE_A1, '2016-05-01', '2024-03-01');
    await t.ctx.db
      .insertInto('person_facts')
      .values({
        person_id: child,
        kind: 'disability',
        valid_from: '2024-06-01',
        valid_to: null,
        data: JSON.stringify({ category: 1, grade: 2 }),
        recorded_by: null,
      })
      .execute();
    await evaluate(today());
    const raised = await listed('directorA1', child);
    assert.deepEqual(raised.map((i) => i.groupCode).sort(), ['distressed_child', 'left_behind_child']);
    const seen = raised.find((i) => i.groupCode === 'left_behind_child') as Item;
    const ack = await call<Item>('directorA1', 'POST', `/api/v1/worklist/${seen.id}/acknowledge`);
    assert.equal(ack.status, 200);

    const file = await call<{ version: number }>('county', 'GET', `/api/v1/persons/${child}`);
    assert.equal(file.status, 200);
    const moved = await call('county', 'PATCH', `/api/v1/persons/${child}`, {
      version: file.body.version,
      hukouRegionCode: VILLAGE_A2,
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));

    // The old village's director is no longer told; the new one is.
    assert.deepEqual(await listed('directorA1', child), []);
    const told = await listed('directorA2', child);
    assert.deepEqual(
      told.map((i) => [i.groupCode, i.kind, i.regionCode]),
      [['distressed_child', 'group_entered', VILLAGE_A2]],
    );
    assert.deepEqual(await listed('directorB', child), []);
    // The acknowledged item is the old village's history, unchanged.
    const history = await listed('directorA1', child, 'acknowledged');
    assert.deepEqual(history, [ack.body]);
    assert.deepEqual(await listed('directorA2', child, 'acknowledged'), []);
    // The new village's director can acknowledge it; the old one cannot reach it any more.
    const item = told[0] as Item;
    assert.equal((await call('directorA1', 'POST', `/api/v1/worklist/${item.id}/acknowledge`)).status, 404);
    assert.equal((await call('directorA2', 'POST', `/api/v1/worklist/${item.id}/acknowledge`)).status, 200);
  });

  test('an exit found when the hukou moves is raised in the new village', async () => {
    const child = await family('小亮', VILLAGE_A1, '2016-05-01', '2024-03-01');
    await evaluate(today());
    const file = await call<{ version: number }>('county', 'GET', `/api/v1/persons/${child}`);
    // To a town community (not rural): no longer a left-behind child.
    const moved = await call('county', 'PATCH', `/api/v1/persons/${child}`, {
      version: file.body.version,
      hukouRegionCode: COMMUNITY,
    });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    const items = await worklistRows(child);
    assert.deepEqual(
      items.map((i) => [i.kind, i.region_code]),
      [
        ['group_entered', COMMUNITY],
        ['group_left', COMMUNITY],
      ],
    );
    assert.deepEqual(await listed('directorA1', child), []);
  });

  test('a template import that moves a person moves the open items with the import', async () => {
    const token = (
      await createToken(t.ctx, null, { name: 's7.import', role: 'county_staff', regionCode: COUNTY })
    ).token;
    const father = makeIdNumber(COUNTY, '1985-03-02', 611);
    const mother = makeIdNumber(COUNTY, '1987-06-09', 622);
    const kid = makeIdNumber(COUNTY, '2016-09-01', 631);
    const rows = (childVillage: string) => [
      {
        户编号: 'S7-1',
        姓名: '王父',
        公民身份号码: father,
        与户主关系: '户主',
        户籍地代码: VILLAGE_A1,
        外出务工: '是',
        外出务工地: '广东省深圳市',
        外出开始日期: '2025-01-01',
      },
      {
        户编号: 'S7-1',
        姓名: '王母',
        公民身份号码: mother,
        与户主关系: '配偶',
        户籍地代码: VILLAGE_A1,
        外出务工: '是',
        外出务工地: '广东省深圳市',
        外出开始日期: '2025-01-01',
      },
      {
        户编号: 'S7-1',
        姓名: '王小宝',
        公民身份号码: kid,
        与户主关系: '子',
        户籍地代码: childVillage,
        父亲身份号码: father,
        母亲身份号码: mother,
      },
    ];
    const importRows = async (name: string, data: Record<string, string | undefined>[]) => {
      const file = path.join(dir, name);
      const line = (row: Record<string, string | undefined>) =>
        TEMPLATE_HEADERS.map((h) => row[h] ?? '').join(',');
      fs.writeFileSync(
        file,
        '\uFEFF' + [TEMPLATE_HEADERS.join(','), ...data.map(line)].join('\r\n') + '\r\n',
      );
      const boundary = `----s7${Date.now()}`;
      const payload = Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n\r\n`,
        ),
        fs.readFileSync(file),
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]);
      const submitted = await t.app.inject({
        method: 'POST',
        url: '/api/v1/imports',
        headers: {
          'content-type': `multipart/form-data; boundary=${boundary}`,
          authorization: `Bearer ${token}`,
        },
        payload,
      });
      assert.equal(submitted.statusCode, 202, submitted.body);
      const id = (submitted.json() as { id: number }).id;
      await t.ctx.jobs.drain();
      const row = await t.ctx.db
        .selectFrom('imports')
        .selectAll()
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(row.status, 'succeeded', row.message ?? '');
    };
    await importRows('s7-a1.csv', rows(VILLAGE_A1));
    const child = Number(
      (
        await t.ctx.db
          .selectFrom('persons')
          .select('id')
          .where('id_number', '=', kid)
          .executeTakeFirstOrThrow()
      ).id,
    );
    assert.equal((await listed('directorA1', child)).length, 1);
    await importRows('s7-a2.csv', rows(VILLAGE_A2));
    assert.deepEqual(await listed('directorA1', child), []);
    assert.deepEqual(
      (await listed('directorA2', child)).map((i) => [i.groupCode, i.kind]),
      [['left_behind_child', 'group_entered']],
    );
    // To a town community: the evaluation the import queued raises the exit there too.
    await importRows('s7-community.csv', rows(COMMUNITY));
    assert.deepEqual(await listed('directorA2', child), []);
    assert.deepEqual(
      (await worklistRows(child)).map((i) => [i.kind, i.region_code]),
      [
        ['group_entered', COMMUNITY],
        ['group_left', COMMUNITY],
      ],
    );
  });
});
