// A fifth adversarial review of access (DOMAIN.md section 6), beyond access.attacks*.test.ts, the
// scope walk and the statistics attacks: what a failed import or evaluation tells the user who opens
// it (the server's own error text, naming tables, constraints and paths, must not go out), a viewer
// above the county who was granted individual access (DOMAIN.md: "individual records only if
// granted") trying everything beyond reading persons in his own region, that grant withdrawn while
// he is signed in, and a county that lowers a village's small-cell threshold (the statistics
// configuration) so that a viewer might read a small township through its only village.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import {
  apiCall,
  lastAuditId as lastAuditIdOf,
  makeUser,
  sessionFor,
  signIn,
  type ApiMethod,
  type Client,
} from './support/access.ts';
import { insertPersonRow } from './support/registry-rows.ts';
import type { Role } from '../src/modules/access/index.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const T1 = '410225101'; // 堌阳镇
const COUNTY = '410225';
const FAR_COUNTY = '130123'; // 正定县 (河北)
const FAR_VILLAGE = '130123001001';
/** The demo county's township with a single village: the township's count is the village's. */
const TOWNSHIP_S = '410225401';
const VILLAGE_S = '410225401598';

type Who = 'supervisor' | 'townshipStaff' | 'county' | 'farCounty' | 'viewer' | 'security';
const accounts: Record<Exclude<Who, 'security'>, [username: string, role: Role, regionCode: string]> = {
  supervisor: ['a5.supervisor', 'township_supervisor', T1],
  townshipStaff: ['a5.township', 'township_staff', T1],
  county: ['a5.county', 'county_staff', COUNTY],
  farCounty: ['a5.far', 'county_staff', FAR_COUNTY],
  viewer: ['a5.viewer', 'prefecture_viewer', '4102'],
};

let t: TestApp;
const clients = {} as Record<Who, Client>;
const userIds = {} as Record<Who, number>;

type Method = ApiMethod;

function call(who: Who, method: Method, url: string, payload?: unknown, lang?: 'en') {
  return apiCall(t.app, clients[who], method, url, payload, lang);
}

async function created(who: Who, url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

const lastAuditId = () => lastAuditIdOf(t.ctx);

async function auditSince(id: number) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['action', 'actor_user_id', 'result', 'entity_id', 'region_code'])
    .where('id', '>', id)
    .orderBy('id')
    .execute();
}

const A_CHILD_ID = makeIdNumber(COUNTY, '2015-01-01', 11);
const A_PHONE = '13811112222';
const FAR_CHILD_ID = makeIdNumber(FAR_COUNTY, '2014-01-01', 13);
const FAR_CHILD_NAME = '远县孩';
let childA: { id: number; version: number };
let householdA: { id: number };
let farChild: { id: number };
let farHousehold: { id: number };

before(async () => {
  t = await createTestApp();
  await loadRegions(t.database, { within: FAR_COUNTY });
  for (const [who, [username, role, region]] of Object.entries(accounts) as [
    Exclude<Who, 'security'>,
    [string, Role, string],
  ][]) {
    const user = await makeUser(t.ctx, username, role, region, { individualAccess: who === 'viewer' });
    const { client } = await signIn(t.app, username);
    assert.ok(client, `${username} signs in`);
    clients[who] = client;
    userIds[who] = user.id;
  }
  const security = await makeUser(t.ctx, 'a5.security', 'security_admin', null, { totp: true });
  clients.security = await sessionFor(t.ctx, security.id);
  userIds.security = security.id;

  householdA = await created('county', '/households', { householdNo: 'A5-A001', hukouRegionCode: V1 });
  childA = await created('county', '/persons', {
    idNumber: A_CHILD_ID,
    name: '城内孩',
    hukouRegionCode: V1,
    householdId: householdA.id,
    relationToHead: '户主',
    phone: A_PHONE,
  });
  farHousehold = await created('farCounty', '/households', {
    householdNo: 'A5-F001',
    hukouRegionCode: FAR_VILLAGE,
  });
  farChild = await created('farCounty', '/persons', {
    idNumber: FAR_CHILD_ID,
    name: FAR_CHILD_NAME,
    hukouRegionCode: FAR_VILLAGE,
    householdId: farHousehold.id,
    relationToHead: '户主',
  });
});

after(async () => {
  await t.close();
});

/** Words of a database or file error that must never reach a user. */
const SERVER_TEXT = [/constraint/i, /relation "/i, /ENOENT/, /\/var\//, /persons_id_number/, /stack/i];

function assertNoServerText(body: string, what: string): void {
  for (const pattern of SERVER_TEXT) assert.ok(!pattern.test(body), `${what} shows ${pattern}: ${body}`);
}

describe('a failure tells the user what to do, never the server’s error text', () => {
  test('a failed import shows a message naming the import, in zh and en, to everyone in scope; the row keeps the cause', async () => {
    const causes = [
      'duplicate key value violates unique constraint "persons_id_number_key"',
      "ENOENT: no such file or directory, open '/var/lib/shouhu/imports/7.csv'",
    ];
    for (const [i, cause] of causes.entries()) {
      const row = await t.ctx.db
        .insertInto('imports')
        .values({
          idempotency_key: `${String(i).repeat(64)}:u${userIds.supervisor}:run:registry:csv`,
          file_name: `failed-${i}.csv`,
          stored_path: `/var/lib/shouhu/imports/${i}.csv`,
          sha256: String(i).repeat(64),
          kind: 'registry',
          dry_run: false,
          created_by: userIds.supervisor,
          region_code: T1,
          // What the import job writes when an unexpected error stops it (registry.jobs.ts).
          status: 'failed',
          message: cause,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      const id = Number(row.id);
      for (const who of ['supervisor', 'townshipStaff', 'county'] as const) {
        const zh = await call(who, 'GET', `/imports/${id}`);
        assert.equal(zh.statusCode, 200, zh.body);
        assertNoServerText(zh.body, `${who} import ${id}`);
        assert.equal(zh.json().status, 'failed');
        assert.equal(
          zh.json().message,
          `导入因系统内部错误未能完成 (导入编号 ${id})，请稍后重新上传；如仍失败，请联系系统管理员`,
        );
        const en = await call(who, 'GET', `/imports/${id}`, undefined, 'en');
        assertNoServerText(en.body, `${who} import ${id} (en)`);
        assert.match(
          en.json().message,
          new RegExp(`^The import stopped on an internal error \\(import ${id}\\)`),
        );
      }
      // The operator still finds the cause where the job wrote it.
      const stored = await t.ctx.db
        .selectFrom('imports')
        .select('message')
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      assert.equal(stored.message, cause);
    }
  });

  test("an import's own messages still reach the user in the language asked", async () => {
    const row = await t.ctx.db
      .insertInto('imports')
      .values({
        idempotency_key: `${'9'.repeat(64)}:u${userIds.supervisor}:run:registry:csv`,
        file_name: 'unknown-columns.csv',
        stored_path: '/nonexistent/u.csv',
        sha256: '9'.repeat(64),
        kind: 'registry',
        dry_run: false,
        created_by: userIds.supervisor,
        region_code: T1,
        status: 'succeeded',
        message: JSON.stringify({ zh: '已忽略未知列：备注', en: 'unknown columns ignored: 备注' }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    assert.equal(
      (await call('supervisor', 'GET', `/imports/${row.id}`)).json().message,
      '已忽略未知列：备注',
    );
    assert.equal(
      (await call('supervisor', 'GET', `/imports/${row.id}`, undefined, 'en')).json().message,
      'unknown columns ignored: 备注',
    );
  });

  test("a failed evaluation's status says what to do; another county's job answers like one that does not exist", async () => {
    const cause = 'relation "group_memberships" does not exist';
    const job = await t.ctx.db
      .insertInto('jobs')
      .values({
        name: 'groups.evaluate',
        payload: JSON.stringify({ regionCode: T1, asOf: '2026-01-01' }),
        status: 'failed',
        error: cause,
        region_code: T1,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const zh = await call('supervisor', 'GET', `/groups/evaluations/${job.id}`);
    assert.equal(zh.statusCode, 200, zh.body);
    assertNoServerText(zh.body, 'evaluation');
    assert.equal(zh.json().status, 'failed');
    assert.equal(zh.json().error, '评估因系统内部错误未能完成，请稍后重新发起；如仍失败，请联系系统管理员');
    const en = await call('supervisor', 'GET', `/groups/evaluations/${job.id}`, undefined, 'en');
    assertNoServerText(en.body, 'evaluation (en)');
    assert.match(en.json().error, /^The evaluation stopped on an internal error/);

    const mark = await lastAuditId();
    const far = await call('farCounty', 'GET', `/groups/evaluations/${job.id}`);
    const none = await call('farCounty', 'GET', `/groups/evaluations/${Number(job.id) + 1000}`);
    assert.equal(far.statusCode, 404);
    assert.equal(far.body, none.body);
    const entries = await auditSince(mark);
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor_user_id === null ? null : Number(e.actor_user_id), e.result]),
      [
        ['access.not_found', userIds.farCounty, 'denied'],
        ['access.not_found', userIds.farCounty, 'denied'],
      ],
    );
    const stored = await t.ctx.db
      .selectFrom('jobs')
      .select('error')
      .where('id', '=', job.id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.error, cause);
  });
});

describe('a prefecture viewer granted individual access', () => {
  test('reads persons and households of his prefecture masked, each read audited; another province answers like nothing', async () => {
    const mark = await lastAuditId();
    const person = await call('viewer', 'GET', `/persons/${childA.id}`);
    assert.equal(person.statusCode, 200, person.body);
    assert.ok(!person.body.includes(A_CHILD_ID) && !person.body.includes(A_PHONE), person.body);
    assert.equal(person.json().idNumber, maskedId(A_CHILD_ID));
    const household = await call('viewer', 'GET', `/households/${householdA.id}`);
    assert.equal(household.statusCode, 200);
    assert.ok(!household.body.includes(A_CHILD_ID) && !household.body.includes(A_PHONE));
    const entries = await auditSince(mark);
    assert.deepEqual(
      entries.map((e) => [e.action, Number(e.actor_user_id), String(e.entity_id), e.region_code]),
      [
        ['person.read', userIds.viewer, String(childA.id), V1],
        ['household.read', userIds.viewer, String(householdA.id), V1],
      ],
    );

    const farPerson = await call('viewer', 'GET', `/persons/${farChild.id}`);
    const noPerson = await call('viewer', 'GET', `/persons/${farChild.id + 1000}`);
    assert.equal(farPerson.statusCode, 404);
    assert.equal(farPerson.body, noPerson.body);
    const farHh = await call('viewer', 'GET', `/households/${farHousehold.id}`);
    const noHh = await call('viewer', 'GET', `/households/${farHousehold.id + 1000}`);
    assert.equal(farHh.statusCode, 404);
    assert.equal(farHh.body, noHh.body);
    for (const url of [
      `/persons?idNumber=${FAR_CHILD_ID}`,
      `/persons?q=${encodeURIComponent(FAR_CHILD_ID.slice(-4) + FAR_CHILD_NAME)}`,
      `/persons?q=${encodeURIComponent(FAR_CHILD_NAME)}`,
      `/persons?region=${FAR_COUNTY}`,
      `/persons?region=13`,
    ]) {
      const r = await call('viewer', 'GET', url);
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      assert.deepEqual(r.json(), { items: [], nextCursor: null }, url);
    }
  });

  test('may not reveal, write, export, import, merge, configure, evaluate or read the worklist; nothing changes', async () => {
    const before = await t.ctx.db
      .selectFrom('persons')
      .select(['version', 'name'])
      .where('id', '=', childA.id)
      .executeTakeFirstOrThrow();
    const factsBefore = await t.ctx.db
      .selectFrom('person_facts')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const attempts: [Method, string, unknown?][] = [
      ['POST', `/persons/${childA.id}/reveal`],
      ['PATCH', `/persons/${childA.id}`, { version: before.version, name: '改名' }],
      [
        'POST',
        `/persons/${childA.id}/facts`,
        { kind: 'schooling', from: '2021-09-01', data: { stage: 'primary' } },
      ],
      [
        'POST',
        '/persons',
        { idNumber: makeIdNumber(COUNTY, '2016-02-02', 21), name: '新孩', hukouRegionCode: V1 },
      ],
      ['POST', `/persons/${childA.id}/merge`, { intoId: childA.id, version: before.version }],
      ['GET', `/exports/registry?region=${COUNTY}&format=csv`],
      ['GET', `/exports/registry?region=${V1}&format=xlsx`],
      ['GET', '/imports'],
      ['GET', '/worklist'],
      ['PUT', `/groups/config?region=${COUNTY}`, { version: 0, config: { smallCellThreshold: 3 } }],
      ['POST', '/groups/evaluations', { region: COUNTY }],
      ['GET', `/stats/groups/members?group=orphan&region=${FAR_COUNTY}`],
      ['GET', `/stats/groups/members.xlsx?group=orphan&region=${FAR_COUNTY}`],
    ];
    for (const [method, url, payload] of attempts) {
      const r = await call('viewer', method, url, payload);
      assert.equal(r.statusCode, 403, `${method} ${url}: ${r.statusCode} ${r.body}`);
      assert.equal(r.json().error.code, 'FORBIDDEN', url);
      assert.ok(!r.body.includes(A_CHILD_ID) && !r.body.includes(FAR_CHILD_NAME), url);
    }
    const afterRow = await t.ctx.db
      .selectFrom('persons')
      .select(['version', 'name'])
      .where('id', '=', childA.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(afterRow, before);
    const factsAfter = await t.ctx.db
      .selectFrom('person_facts')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(factsAfter.n), Number(factsBefore.n));
    assert.equal(
      (await t.ctx.db.selectFrom('group_config').selectAll().execute()).filter(
        (c) => c.region_code === COUNTY,
      ).length,
      0,
    );
    // The counts table stays suppressed for him: the grant adds persons, not unsuppressed tables.
    const table = await call('viewer', 'GET', `/stats/groups?region=${COUNTY}`);
    assert.equal(table.statusCode, 200);
    assert.equal(table.json().suppressed, true);
  });

  test('the grant withdrawn while he is signed in: the next request is refused, and a new sign-in reads no person', async () => {
    const viewer = clients.viewer;
    assert.equal((await call('viewer', 'GET', `/persons/${childA.id}`)).statusCode, 200);
    const user = await t.ctx.db
      .selectFrom('users')
      .select('version')
      .where('id', '=', userIds.viewer)
      .executeTakeFirstOrThrow();
    const withdrawn = await call('security', 'PUT', `/users/${userIds.viewer}/role`, {
      role: 'prefecture_viewer',
      regionCode: '4102',
      individualAccess: false,
      version: user.version,
    });
    assert.equal(withdrawn.statusCode, 200, withdrawn.body);
    const stale = await t.app.inject({
      method: 'GET',
      url: `/api/v1/persons/${childA.id}`,
      headers: viewer.headers,
    });
    assert.equal(stale.statusCode, 401);
    assert.ok(!stale.body.includes('城内孩'));
    const { client } = await signIn(t.app, accounts.viewer[0]);
    assert.ok(client);
    clients.viewer = client;
    for (const url of [`/persons/${childA.id}`, '/persons', `/households/${householdA.id}`]) {
      const r = await call('viewer', 'GET', url);
      assert.equal(r.statusCode, 403, `${url}: ${r.body}`);
      assert.ok(!r.body.includes('城内孩'));
    }
    const grant = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', '=', 'user.role.assign')
      .where('entity_id', '=', String(userIds.viewer))
      .executeTakeFirstOrThrow();
    assert.equal((grant.details as { sessionsRevoked: number }).sessionsRevoked, 1);
  });
});

describe("a county's lower small-cell threshold for one village", () => {
  test('a township whose only village shows from 3 on is still no more than "<5" to a viewer: the village is hidden with it', async () => {
    for (let i = 0; i < 4; i++) {
      const id = await insertPersonRow(t.ctx.db, {
        name: `孤儿${i}`,
        sex: 2,
        birthDate: '2016-01-01',
        hukou: VILLAGE_S,
        noIdReason: '未落户',
      });
      await sql`INSERT INTO group_memberships (person_id, group_code, since, until, region_code)
        VALUES (${id}, 'orphan', '2025-01-01', NULL, ${VILLAGE_S})`.execute(t.ctx.db);
    }
    const put = await call('county', 'PUT', `/groups/config?region=${VILLAGE_S}`, {
      version: 0,
      config: { smallCellThreshold: 3 },
      validFrom: '2026-01-01',
    });
    assert.equal(put.statusCode, 200, put.body);
    const date = '2026-06-30';
    const cell = async (region: string, row: string) => {
      const r = await call('viewer', 'GET', `/stats/groups?region=${region}&asOf=${date}`);
      assert.equal(r.statusCode, 200, r.body);
      const body = r.json();
      const line =
        row === region ? body.total : body.rows.find((x: { regionCode: string }) => x.regionCode === row);
      return { threshold: body.threshold as number, orphan: line.counts.orphan };
    };
    // The village table's own threshold is 3, so 4 would show there; the township's is 5.
    const village = await cell(VILLAGE_S, VILLAGE_S);
    assert.equal(village.threshold, 3);
    assert.deepEqual(village.orphan, { value: null, suppressed: true, display: '*' });
    assert.deepEqual((await cell(TOWNSHIP_S, VILLAGE_S)).orphan, village.orphan);
    const township = await cell(TOWNSHIP_S, TOWNSHIP_S);
    assert.equal(township.threshold, 5);
    assert.deepEqual(township.orphan, { value: null, suppressed: true, display: '<5' });
    assert.deepEqual((await cell(COUNTY, TOWNSHIP_S)).orphan, township.orphan);
    // What the reader knows: township = village, township 0..4, village at least 3: 3 or 4, not pinned.
    const possible = [0, 1, 2, 3, 4].filter((n) => n >= village.threshold);
    assert.deepEqual(possible, [3, 4]);
    // The month-end series shows the village as its tables do.
    const series = await call(
      'viewer',
      'GET',
      `/stats/groups/monthly?region=${VILLAGE_S}&from=2026-06&to=2026-06`,
    );
    assert.equal(series.statusCode, 200);
    assert.deepEqual(series.json().months[0].counts.orphan, village.orphan);
    // Control: the county's staff see the count.
    const staff = await call('county', 'GET', `/stats/groups?region=${TOWNSHIP_S}&asOf=${date}`);
    assert.equal(staff.json().total.counts.orphan.value, 4);
  });
});

/** The first four characters only: nothing of the birth date, sequence or check character. */
function maskedId(id: string): string {
  return `${id.slice(0, 4)}${'*'.repeat(14)}`;
}

describe('reads of the statistics leave a trace', () => {
  test('the counts table and the monthly series are audited for staff and viewers, naming the region and the date', async () => {
    const since = await lastAuditId();
    const table = await call('supervisor', 'GET', `/stats/groups?region=${T1}&asOf=2026-06-30`);
    assert.equal(table.statusCode, 200, table.body);
    const series = await call('viewer', 'GET', '/stats/groups/monthly?region=4102&from=2026-01&to=2026-03');
    assert.equal(series.statusCode, 200, series.body);
    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'actor_user_id', 'entity_id', 'region_code', 'details'])
      .where('id', '>', since)
      .where('action', 'like', 'groups.stats%')
      .orderBy('id')
      .execute();
    assert.deepEqual(
      entries.map((e) => [e.action, e.actor_user_id, e.entity_id, e.region_code]),
      [
        ['groups.stats.read', userIds.supervisor, T1, T1],
        ['groups.stats.monthly.read', userIds.viewer, '4102', '4102'],
      ],
    );
    const details = entries.map((e) => (typeof e.details === 'string' ? JSON.parse(e.details) : e.details));
    assert.deepEqual(details, [
      { asOf: '2026-06-30', suppressed: false },
      { from: '2026-01', to: '2026-03', suppressed: true },
    ]);
  });
});
