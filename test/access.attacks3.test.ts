// A third adversarial review of access (DOMAIN.md section 6; session 6), beyond
// test/access.attacks.test.ts, test/access.attacks2.test.ts and the generated scope walk (which puts
// the other area in another township or province): the director of one village against the
// village next door in the same township, every id-addressed route walked by an insider who
// increments ids (and whether that walk leaves a trace in the audit trail), the worklist's
// acknowledgement as a way to read an item again, values smuggled into the query string of a write,
// viewers above the county asking statistics with odd parameters, and accounts and tokens that
// have ended.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from './support/db.ts';
import { lastAuditId as lastAuditIdOf, makeUser, sessionFor, signIn, type Client } from './support/access.ts';
import { insertPersonRow } from './support/registry-rows.ts';
import { createToken, type Role } from '../src/modules/access/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { today } from '../src/platform/dates.ts';

const V1 = '410225101200'; // 堌阳镇 城内村: village A
const V2 = '410225101201'; // 堌阳镇 任庄村: village B, same township
const T1 = '410225101'; // 堌阳镇
const FAR_COUNTY = '130123'; // 正定县 (河北): another province

let t: TestApp;
type Who = 'directorA' | 'directorB' | 'staffA' | 'supervisor' | 'townshipStaff' | 'county' | 'prefecture';
const clients = {} as Record<Who, Client>;
const userIds = {} as Record<Who, number>;
const accounts: Record<Who, [username: string, role: Role, regionCode: string]> = {
  directorA: ['a3.director.a', 'village_child_director', V1],
  directorB: ['a3.director.b', 'village_child_director', V2],
  staffA: ['a3.staff.a', 'village_staff', V1],
  supervisor: ['a3.supervisor', 'township_supervisor', T1],
  townshipStaff: ['a3.township', 'township_staff', T1],
  county: ['a3.county', 'county_staff', '410225'],
  prefecture: ['a3.prefecture', 'prefecture_viewer', '4102'],
};

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT';

function call(who: Who, method: Method, url: string, payload?: unknown) {
  const client = clients[who];
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: method === 'GET' ? client.headers : client.write,
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(who: Who, url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

// Village B's family: what village A's director must never see or change.
const B_CHILD_ID = makeIdNumber('410225', '2015-04-04', 335);
const B_CHILD_NAME = '任邻村孩';
const B_PHONE = '13877779999';
const B_HOUSEHOLD = 'ATK3-B001';
const B_ADDRESS = '任庄村7号';
const A_CHILD_ID = makeIdNumber('410225', '2016-06-06', 337);

let childA: { id: number; version: number };
let householdA: { id: number };
let childB: { id: number; version: number };
let householdB: { id: number; version: number };
let factB = 0;
let itemB = 0;
let itemA = 0;
let importA = 0;

before(async () => {
  t = await createTestApp();
  await loadRegions(t.database, { within: FAR_COUNTY });
  for (const [who, [username, role, region]] of Object.entries(accounts) as [Who, [string, Role, string]][]) {
    const user = await makeUser(t.ctx, username, role, region);
    const { client } = await signIn(t.app, username);
    assert.ok(client, `${username} signs in`);
    clients[who] = client;
    userIds[who] = user.id;
  }
  householdA = await created('county', '/households', { householdNo: 'ATK3-A001', hukouRegionCode: V1 });
  childA = await created('county', '/persons', {
    idNumber: A_CHILD_ID,
    name: '城内孩',
    hukouRegionCode: V1,
    householdId: householdA.id,
    relationToHead: '户主',
  });
  householdB = await created('county', '/households', {
    householdNo: B_HOUSEHOLD,
    hukouRegionCode: V2,
    address: B_ADDRESS,
  });
  childB = await created('county', '/persons', {
    idNumber: B_CHILD_ID,
    name: B_CHILD_NAME,
    hukouRegionCode: V2,
    householdId: householdB.id,
    relationToHead: '户主',
    phone: B_PHONE,
  });
  factB = (
    await created('county', `/persons/${childB.id}/facts`, {
      kind: 'schooling',
      from: '2021-09-01',
      data: { stage: 'primary' },
    })
  ).id;
  const item = (regionCode: string, personId: number, name: string) =>
    t.ctx.db
      .insertInto('worklist_items')
      .values({
        person_id: personId,
        region_code: regionCode,
        kind: 'group_entered',
        group_code: 'left_behind_child',
        on_date: '2026-01-01',
        text_zh: `新增: ${name}`,
        text_en: `New: ${name}`,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
  itemB = Number((await item(V2, childB.id, B_CHILD_NAME)).id);
  itemA = Number((await item(V1, childA.id, '城内孩')).id);
  importA = Number(
    (
      await t.ctx.db
        .insertInto('imports')
        .values({
          idempotency_key: `${'0'.repeat(64)}:u${userIds.supervisor}:run:registry:csv`,
          file_name: 'a.csv',
          stored_path: '/nonexistent/a.csv',
          sha256: '0'.repeat(64),
          kind: 'registry',
          dry_run: false,
          created_by: userIds.supervisor,
          region_code: T1,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
    ).id,
  );
});

after(async () => {
  await t.close();
});

const B_MARKERS = [B_CHILD_NAME, B_CHILD_ID, B_PHONE, B_HOUSEHOLD, B_ADDRESS];

function assertNoB(body: string, what: string): void {
  for (const marker of B_MARKERS)
    assert.ok(!body.includes(marker), `${what} shows ${marker}: ${body.slice(0, 300)}`);
}

async function snapshotB(): Promise<string> {
  const [persons, households, facts, relations, worklist] = await Promise.all([
    t.ctx.db.selectFrom('persons').selectAll().where('hukou_region_code', '=', V2).orderBy('id').execute(),
    t.ctx.db.selectFrom('households').selectAll().where('hukou_region_code', '=', V2).execute(),
    t.ctx.db.selectFrom('person_facts').selectAll().where('person_id', '=', childB.id).execute(),
    t.ctx.db
      .selectFrom('person_relations')
      .selectAll()
      .where((eb) => eb.or([eb('person_id', '=', childB.id), eb('related_person_id', '=', childB.id)]))
      .execute(),
    t.ctx.db.selectFrom('worklist_items').selectAll().where('region_code', '=', V2).execute(),
  ]);
  return JSON.stringify({ persons, households, facts, relations, worklist });
}

const lastAuditId = () => lastAuditIdOf(t.ctx);

async function auditSince(id: number) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['action', 'actor_user_id', 'result', 'entity_type', 'entity_id', 'region_code', 'details'])
    .where('id', '>', id)
    .orderBy('id')
    .execute();
}

describe('the director of village A against village B of the same township', () => {
  test("B's person, household, facts and worklist item answer like ids that do not exist; nothing of B changes", async () => {
    const before = await snapshotB();
    const missing = 987654321;
    const cases: [Method, (id: number) => string, number, unknown?][] = [
      ['GET', (id) => `/persons/${id}`, childB.id],
      ['GET', (id) => `/persons/${id}?asOf=2025-01-01`, childB.id],
      ['GET', (id) => `/households/${id}`, householdB.id],
      ['PATCH', (id) => `/persons/${id}`, childB.id, { version: childB.version, name: '改名' }],
      ['PATCH', (id) => `/households/${id}`, householdB.id, { version: householdB.version, address: '改' }],
      ['POST', (id) => `/persons/${id}/facts`, childB.id, { kind: 'death', from: '2026-01-01' }],
      ['POST', (id) => `/persons/${id}/facts/${factB}/retract`, childB.id, { reason: '错' }],
      ['POST', (id) => `/persons/${id}/facts/${factB}/end`, childB.id, { to: '2026-01-01' }],
      ['POST', (id) => `/persons/${childA.id}/facts/${id}/end`, factB, { to: '2026-01-01' }],
      ['POST', (id) => `/persons/${id}/reveal`, childB.id],
      ['POST', (id) => `/worklist/${id}/acknowledge`, itemB],
      // Linking A's child to B's person: the related id is a body field (400 naming it).
      [
        'POST',
        () => `/persons/${childA.id}/relations`,
        childB.id,
        { relatedPersonId: childB.id, kind: 'guardian' },
      ],
    ];
    for (const [method, url, probe, payload] of cases) {
      const body =
        payload && typeof payload === 'object' && 'relatedPersonId' in payload
          ? (id: number) => ({ ...payload, relatedPersonId: id })
          : () => payload;
      const outside = await call('directorA', method, url(probe), body(probe));
      const none = await call('directorA', method, url(missing), body(missing));
      assert.ok([400, 403, 404].includes(outside.statusCode), `${method} ${url(probe)}: ${outside.body}`);
      assert.equal(outside.statusCode, none.statusCode, `${method} ${url(probe)}: ${outside.body}`);
      assert.deepEqual(outside.json().error, none.json().error, `${method} ${url(probe)}`);
      assertNoB(outside.body, `${method} ${url(probe)}`);
    }
    assert.equal(await snapshotB(), before);
  });

  test("B's region on every route that takes one: refused or empty, never B's persons", async () => {
    for (const url of [
      `/worklist?region=${V2}&status=all`,
      `/stats/groups?region=${V2}`,
      `/stats/groups.xlsx?region=${V2}`,
      `/stats/groups/monthly?region=${V2}&from=2026-01&to=2026-02`,
      `/stats/groups/members?region=${V2}&group=left_behind_child`,
      `/groups/config?region=${V2}`,
      `/exports/registry?region=${V2}&format=csv`,
    ]) {
      const r = await call('directorA', 'GET', url);
      assert.equal(r.statusCode, 403, `${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      assertNoB(r.body, url);
    }
    for (const url of [
      `/persons?region=${V2}`,
      `/persons/duplicates?region=${V2}`,
      `/persons?householdNo=${B_HOUSEHOLD}`,
      `/persons?group=left_behind_child&region=${V2}`,
    ]) {
      const r = await call('directorA', 'GET', url);
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      assertNoB(r.body, url);
    }
  });

  test("searching for B's child by ID number, ID tail + name, pinyin, initials or phone gives the empty answer", async () => {
    const empty = await call('directorA', 'GET', `/persons?q=${makeIdNumber('410225', '2015-04-04', 999)}`);
    assert.deepEqual(empty.json().items, []);
    for (const q of [
      B_CHILD_ID,
      `${B_CHILD_ID.slice(-6)} ${B_CHILD_NAME}`,
      `${B_CHILD_ID.slice(-6)} renlincunhai`,
      B_CHILD_ID.slice(-6),
      'renlincunhai',
      'renlin',
      'rlch',
      B_PHONE,
      B_PHONE.slice(0, 7),
      B_CHILD_NAME.slice(0, 2),
    ]) {
      const r = await call('directorA', 'GET', `/persons?q=${encodeURIComponent(q)}`);
      assert.equal(r.statusCode, 200, `${q}: ${r.body}`);
      assert.deepEqual(r.json(), empty.json(), q);
    }
    // The control: B's own director finds the child by the same words.
    const own = await call(
      'directorB',
      'GET',
      `/persons?q=${encodeURIComponent(`${B_CHILD_ID.slice(-6)} ${B_CHILD_NAME}`)}`,
    );
    assert.deepEqual(
      own.json().items.map((p: { id: number }) => p.id),
      [childB.id],
    );
  });
});

describe('ids walked by an insider leave a trace', () => {
  test('a 404 for a record out of scope is audited, exactly like a 404 for an id that does not exist', async () => {
    const missing = 987654321;
    const probes: [Who, Method, (id: number) => string, number, unknown?][] = [
      ['directorA', 'GET', (id) => `/persons/${id}`, childB.id],
      ['directorA', 'GET', (id) => `/households/${id}`, householdB.id],
      ['directorA', 'PATCH', (id) => `/persons/${id}`, childB.id, { version: 1, name: '改' }],
      ['directorA', 'POST', (id) => `/worklist/${id}/acknowledge`, itemB],
      ['directorA', 'POST', (id) => `/persons/${id}/facts`, childB.id, { kind: 'death', from: '2026-01-01' }],
      ['county', 'GET', (id) => `/imports/${id}`, importA],
    ];
    // The county sees T1's import: the probe for it is by another county's staff.
    const far = await makeUser(t.ctx, 'a3.far.county', 'county_staff', FAR_COUNTY);
    const farClient = await sessionFor(t.ctx, far.id);
    for (const [who, method, url, probe, payload] of probes) {
      const client = who === 'county' ? farClient : clients[who];
      const actorId = who === 'county' ? far.id : userIds[who];
      for (const id of [probe, missing]) {
        const since = await lastAuditId();
        const r = await t.app.inject({
          method,
          url: `/api/v1${url(id)}`,
          headers: method === 'GET' ? client.headers : client.write,
          ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
        });
        assert.equal(r.statusCode, 404, `${method} ${url(id)}: ${r.body}`);
        const entries = (await auditSince(since)).filter((e) => e.action === 'access.not_found');
        assert.equal(entries.length, 1, `${method} ${url(id)} left no audit entry`);
        const [entry] = entries;
        assert.equal(Number(entry?.actor_user_id), actorId);
        assert.equal(entry?.result, 'denied');
        assert.equal(entry?.entity_type, 'route');
        assert.match(entry?.entity_id ?? '', new RegExp(`^${method} /api/v1/`));
        assert.equal(String((entry?.details as { params?: { id?: unknown } }).params?.id), String(id));
      }
    }
  });
});

describe('the worklist', () => {
  test('acknowledging an item shows its text naming the person: audited every time, also when it was acknowledged already', async () => {
    for (const who of ['directorA', 'staffA'] as const) {
      const since = await lastAuditId();
      const r = await call(who, 'POST', `/worklist/${itemA}/acknowledge`);
      assert.equal(r.statusCode, 200, r.body);
      assert.match(r.json().text.zh, /城内孩/);
      const entries = (await auditSince(since)).filter(
        (e) => e.entity_type === 'worklist_item' && e.entity_id === String(itemA),
      );
      assert.equal(entries.length, 1, `${who}'s acknowledgement left no audit entry`);
      assert.equal(Number(entries[0]?.actor_user_id), userIds[who]);
      assert.equal(entries[0]?.region_code, V1);
    }
  });

  test("B's item cannot be acknowledged by A's director, before or after B's director has", async () => {
    for (const step of ['before', 'after']) {
      if (step === 'after')
        assert.equal((await call('directorB', 'POST', `/worklist/${itemB}/acknowledge`)).statusCode, 200);
      const r = await call('directorA', 'POST', `/worklist/${itemB}/acknowledge`);
      assert.equal(r.statusCode, 404, `${step}: ${r.body}`);
      assertNoB(r.body, step);
    }
    const row = await t.ctx.db
      .selectFrom('worklist_items')
      .select('acknowledged_by')
      .where('id', '=', itemB)
      .executeTakeFirstOrThrow();
    assert.equal(Number(row.acknowledged_by), userIds.directorB);
  });
});

describe('values smuggled into the query string of a write', () => {
  test('a region, version, recorder or id in the query string never replaces the body or the path', async () => {
    const before = await snapshotB();
    const current = (await call('directorA', 'GET', `/persons/${childA.id}`)).json();
    const smuggled = `hukouRegionCode=${V2}&region=${V2}&regionCode=${V2}&version=1&recorded_by=${userIds.county}&id=${childB.id}&personId=${childB.id}`;
    const writes: [Method, string, unknown][] = [
      [
        'POST',
        `/persons?${smuggled}`,
        { name: '新孩', noIdReason: '未落户', sex: 1, birthDate: '2020-01-01', hukouRegionCode: V1 },
      ],
      ['PATCH', `/persons/${childA.id}?${smuggled}`, { version: current.version, name: '城内孩' }],
      ['POST', `/households?${smuggled}`, { householdNo: 'ATK3-A002', hukouRegionCode: V1 }],
      [
        'POST',
        `/persons/${childA.id}/facts?${smuggled}`,
        { kind: 'schooling', from: '2024-09-01', data: { stage: 'primary' } },
      ],
    ];
    for (const [method, url, body] of writes) {
      const r = await call('directorA', method, url, body);
      assert.ok(r.statusCode < 300 || r.statusCode === 400, `${method} ${url}: ${r.statusCode} ${r.body}`);
      assertNoB(r.body, url);
      if (r.statusCode < 300) {
        const answer = r.json() as { hukouRegionCode?: string; recordedBy?: number | null };
        if (answer.hukouRegionCode !== undefined) assert.equal(answer.hukouRegionCode, V1, url);
        if (answer.recordedBy !== undefined) assert.equal(answer.recordedBy, userIds.directorA, url);
      }
    }
    assert.equal(await snapshotB(), before);
    // A county clerk's configuration goes to the region in the query only; a region in the body is refused.
    const config = await call('county', 'PUT', `/groups/config?region=${FAR_COUNTY}`, {
      config: {},
      version: 0,
    });
    assert.equal(config.statusCode, 403, config.body);
    // An evaluation takes its region in the body: one in the query is refused, naming it, and queues
    // nothing (before session 14 it was ignored and the clerk's own county evaluated).
    const jobsBefore = await t.ctx.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    const evaluation = await call('county', 'POST', `/groups/evaluations?region=${FAR_COUNTY}`, {});
    assert.equal(evaluation.statusCode, 400, evaluation.body);
    assert.deepEqual(
      (evaluation.json().error.details as { path: string }[]).map((d) => d.path),
      ['region'],
    );
    const jobsAfter = await t.ctx.db
      .selectFrom('jobs')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(Number(jobsAfter.n), Number(jobsBefore.n), 'no evaluation was queued');
  });
});

describe('a viewer above the county, statistics with odd parameters', () => {
  before(async () => {
    // Three elderly persons of one village: a count under the threshold (5) everywhere.
    for (const [i, name] of ['高龄甲', '高龄乙', '高龄丙'].entries()) {
      const id = await insertPersonRow(t.ctx.db, { name, sex: 1, birthDate: `1930-0${i + 1}-01`, hukou: V1 });
      assert.ok(id > 0);
    }
    const r = await call('county', 'POST', '/groups/evaluations', { region: '410225' });
    assert.equal(r.statusCode, 202, r.body);
    await t.ctx.jobs.drain();
    const plain = (await call('county', 'GET', `/stats/groups?region=${V1}`)).json();
    assert.equal(plain.total.counts.high_age_elderly.value, 3, 'the county sees the real count');
  });

  test('a village code, a township code, past and future dates, the xlsx: no count under the threshold is shown', async () => {
    const urls: string[] = [];
    for (const region of [V1, T1, '410225', '4102'])
      for (const asOf of ['', '&asOf=2020-01-01', `&asOf=${today()}`])
        urls.push(`/stats/groups?region=${region}${asOf}`);
    // A day still to come has no count to show (groups.stats.ts dateOrToday).
    const future = await call('prefecture', 'GET', `/stats/groups?region=${V1}&asOf=2099-12-31`);
    assert.equal(future.statusCode, 400, future.body);
    assert.ok(!future.body.includes('高龄'));
    for (const url of urls) {
      const r = await call('prefecture', 'GET', url);
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      const table = r.json() as {
        threshold: number;
        rows: { counts: Record<string, { value: number | null; suppressed: boolean; display: string }> }[];
        total: { counts: Record<string, { value: number | null; suppressed: boolean; display: string }> };
      };
      for (const row of [...table.rows, table.total])
        for (const [group, cell] of Object.entries(row.counts)) {
          if (cell.value !== null)
            assert.ok(cell.value === 0 || cell.value >= table.threshold, `${url} ${group}: ${cell.value}`);
          if (cell.suppressed) assert.equal(cell.value, null, `${url} ${group}`);
        }
      for (const name of ['高龄甲', '高龄乙', '高龄丙']) assert.ok(!r.body.includes(name));
    }
    const monthly = await call(
      'prefecture',
      'GET',
      `/stats/groups/monthly?region=${V1}&from=2025-01&to=${today().slice(0, 7)}`,
    );
    assert.equal(monthly.statusCode, 200, monthly.body);
    for (const m of monthly.json().months as { counts: Record<string, { value: number | null }> }[])
      assert.ok(
        Object.values(m.counts).every((c) => c.value === null || c.value === 0 || c.value >= 5),
        JSON.stringify(m),
      );
    const xlsx = await call('prefecture', 'GET', `/stats/groups.xlsx?region=${V1}`);
    assert.equal(xlsx.statusCode, 200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.rawPayload as unknown as ArrayBuffer);
    workbook.worksheets[0]?.eachRow((row) =>
      row.eachCell((cell) => {
        if (typeof cell.value === 'number')
          assert.ok(cell.value === 0 || cell.value >= 5, `xlsx: ${cell.value}`);
      }),
    );
  });

  test('region codes that are empty, malformed, of another province or in look-alike digits: 400 or 403, never a table', async () => {
    for (const region of [
      '',
      ' ',
      '4102 ',
      '41O2',
      '４１０２',
      '٤١٠٢',
      '13',
      '1301',
      '130123',
      '410225101200x',
      '4102%',
      '41022',
    ]) {
      const r = await call('prefecture', 'GET', `/stats/groups?region=${encodeURIComponent(region)}`);
      assert.ok(
        [400, 403, 404].includes(r.statusCode),
        `${JSON.stringify(region)}: ${r.statusCode} ${r.body.slice(0, 200)}`,
      );
      if (r.statusCode === 400) assert.match(r.body, /region/);
    }
  });

  test('no route gives the viewer a name, a person file or a list of persons', async () => {
    const since = await lastAuditId();
    for (const url of [
      `/persons?region=${V1}`,
      `/persons/${childA.id}`,
      `/households/${householdA.id}`,
      `/persons/duplicates`,
      `/worklist?region=${V1}`,
      `/stats/groups/members?region=${V1}&group=high_age_elderly`,
      `/exports/registry?region=${V1}&format=csv`,
      `/imports`,
      `/imports/${importA}`,
      `/groups/config?region=${V1}`,
    ]) {
      const r = await call('prefecture', 'GET', url);
      assert.equal(r.statusCode, 403, `${url}: ${r.statusCode} ${r.body.slice(0, 200)}`);
      for (const name of ['高龄甲', '城内孩']) assert.ok(!r.body.includes(name), url);
    }
    const denied = (await auditSince(since)).filter((e) => e.action === 'access.denied');
    assert.equal(denied.length, 10, 'every refusal is audited');
  });
});

describe('accounts and tokens that have ended', () => {
  test('a revoked token and a disabled account’s session are refused at once, for reads and writes', async () => {
    const { token, item } = await createToken(t.ctx, null, {
      name: 'a3 ending',
      role: 'village_child_director',
      regionCode: V1,
      expiresInDays: 1,
    });
    const bearer = { authorization: `Bearer ${token}` };
    const read = () => t.app.inject({ method: 'GET', url: `/api/v1/persons/${childA.id}`, headers: bearer });
    assert.equal((await read()).statusCode, 200);
    const security = await makeUser(t.ctx, 'a3.security', 'security_admin', null, { totp: true });
    const admin = await sessionFor(t.ctx, security.id);
    const revoked = await t.app.inject({
      method: 'POST',
      url: `/api/v1/tokens/${item.id}/revoke`,
      headers: admin.write,
    });
    assert.ok(revoked.statusCode < 300, revoked.body);
    assert.equal((await read()).statusCode, 401, 'the revoked token still reads');

    // A disabled account's session, for a write as well as a read.
    const user = await makeUser(t.ctx, 'a3.leaving', 'village_child_director', V1);
    const session = await sessionFor(t.ctx, user.id);
    assert.equal(
      (await t.app.inject({ method: 'GET', url: `/api/v1/persons/${childA.id}`, headers: session.headers }))
        .statusCode,
      200,
    );
    const system = await makeUser(t.ctx, 'a3.system', 'system_admin', null, { totp: true });
    const sys = await sessionFor(t.ctx, system.id);
    const disabled = await t.app.inject({
      method: 'POST',
      url: `/api/v1/users/${user.id}/disable`,
      headers: sys.write,
      payload: { version: 1 },
    });
    assert.ok(disabled.statusCode < 300, disabled.body);
    for (const [method, url, payload] of [
      ['GET', `/persons/${childA.id}`, undefined],
      ['POST', '/households', { householdNo: 'ATK3-GONE', hukouRegionCode: V1 }],
    ] as [Method, string, unknown][]) {
      const r = await t.app.inject({
        method,
        url: `/api/v1${url}`,
        headers: method === 'GET' ? session.headers : session.write,
        ...(payload ? { payload: payload as Record<string, unknown> } : {}),
      });
      assert.equal(r.statusCode, 401, `${method} ${url} by a disabled account: ${r.body}`);
    }
    const none = await t.ctx.db
      .selectFrom('households')
      .select('id')
      .where('household_no', '=', 'ATK3-GONE')
      .execute();
    assert.deepEqual(none, []);
  });
});
