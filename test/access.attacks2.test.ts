// A second adversarial review of region scoping and audit (DOMAIN.md section 6; session 5), beyond
// test/access.attacks.test.ts and the generated scope walk: users of every role at village,
// township, county, prefecture and province level, through the real HTTP app, bend region
// parameters, ids and cursors, send fields the schemas do not name, look for full ID numbers and
// phones wherever a person's data goes out (facts included), look inside the lists that a record
// carries (a household's members, a group's members), import a child ledger that names persons
// registered elsewhere, and check that every read of children's data and every refusal leaves an
// audit entry with the actor and the region.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestApp, type TestApp } from './support/db.ts';
import { apiCall, makeUser, signIn, type ApiMethod, type Client } from './support/access.ts';
import type { Role } from '../src/modules/access/index.ts';
import { insertPersonRow } from './support/registry-rows.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { loadRegions } from '../src/modules/regions/index.ts';

const V1 = '410225101200'; // 堌阳镇 城内村: the home village
const T1 = '410225101'; // 堌阳镇
const V3 = '410225102200'; // 南彰镇 南彰村: another township of the county
const FAR_COUNTY = '130123'; // 正定县 (河北): another province
let FAR = ''; // one of its villages

let t: TestApp;
let dataDir = '';
type Who =
  | 'director'
  | 'villageStaff'
  | 'supervisor'
  | 'townshipStaff'
  | 'county'
  | 'approver'
  | 'outsideCounty'
  | 'farTownship'
  | 'prefecture'
  | 'province'
  | 'prefectureGranted'
  | 'provinceGranted'
  | 'reporter';
const clients = {} as Record<Who, Client>;
const userIds = {} as Record<Who, number>;

/** Every role at its level: the home village, its township and county, the prefecture and province. */
const accounts: Record<Who, [username: string, role: Role, regionCode: string]> = {
  director: ['a2.director', 'village_child_director', V1],
  villageStaff: ['a2.village', 'village_staff', V1],
  supervisor: ['a2.supervisor', 'township_supervisor', T1],
  townshipStaff: ['a2.township', 'township_staff', T1],
  county: ['a2.county', 'county_staff', '410225'],
  approver: ['a2.approver', 'county_approver', '410225'],
  outsideCounty: ['a2.outside', 'county_staff', FAR_COUNTY],
  farTownship: ['a2.far', 'township_staff', '410225102'],
  prefecture: ['a2.prefecture', 'prefecture_viewer', '4102'],
  province: ['a2.province', 'province_viewer', '41'],
  prefectureGranted: ['a2.prefecture.granted', 'prefecture_viewer', '4102'],
  provinceGranted: ['a2.province.granted', 'province_viewer', '41'],
  reporter: ['a2.reporter', 'mandatory_reporter', V1],
};

type Method = ApiMethod;

function call(who: Who, method: Method, url: string, payload?: unknown, lang?: string) {
  return apiCall(t.app, clients[who], method, url, payload, lang);
}

async function created(who: Who, url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

const CHILD_ID = makeIdNumber('410225', '2016-05-05', 313);
const CHILD_PHONE = '13811115555';
const FATHER_ID = makeIdNumber('410225', '1986-01-01', 113);
const FATHER_CONTACT = '13766668888';
const FATHER_CERT = `${FATHER_ID}42`; // 残疾人证号: the ID number and the category and grade
const OUTSIDER_ID = makeIdNumber('410225', '1980-07-07', 517);
const OUTSIDER_NAME = '外乡赵保密';
const OUTSIDER_PHONE = '13933336666';
const OUTSIDER_HOUSEHOLD = 'ATK2-9999';
const FAR_NAME = '远省钱保密';

let child: { id: number; version: number };
let father: { id: number; version: number };
let household: { id: number };
let outsider: { id: number; version: number };
let outsiderHousehold: { id: number };
let farPerson = 0;

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-attacks2-'));
  t = await createTestApp({ dataDir });
  await loadRegions(t.database, { within: FAR_COUNTY });
  FAR = (
    await t.ctx.db
      .selectFrom('regions')
      .select('code')
      .where('level', '=', 5)
      .where('code', 'like', `${FAR_COUNTY}%`)
      .orderBy('code')
      .executeTakeFirstOrThrow()
  ).code;
  for (const [who, [username, role, region]] of Object.entries(accounts) as [Who, [string, Role, string]][]) {
    const user = await makeUser(t.ctx, username, role, region, { individualAccess: who.endsWith('Granted') });
    const { client } = await signIn(t.app, username);
    assert.ok(client, `${username} signs in`);
    clients[who] = client;
    userIds[who] = user.id;
  }

  household = await created('county', '/households', {
    householdNo: 'ATK2-0001',
    hukouRegionCode: V1,
    address: '城内村2号',
  });
  father = await created('county', '/persons', {
    idNumber: FATHER_ID,
    name: '钱父亲',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '户主',
  });
  child = await created('county', '/persons', {
    idNumber: CHILD_ID,
    name: '钱孩子',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '子',
    phone: CHILD_PHONE,
  });
  await created('county', `/persons/${father.id}/facts`, {
    kind: 'migration',
    from: '2025-03-01',
    data: { destination: '深圳', contact: FATHER_CONTACT },
  });
  await created('county', `/persons/${father.id}/facts`, {
    kind: 'disability',
    from: '2020-01-01',
    data: { category: 4, grade: 2, certificateNo: FATHER_CERT },
  });
  outsiderHousehold = await created('county', '/households', {
    householdNo: OUTSIDER_HOUSEHOLD,
    hukouRegionCode: V3,
    address: '南彰外乡9号',
  });
  outsider = await created('county', '/persons', {
    idNumber: OUTSIDER_ID,
    name: OUTSIDER_NAME,
    hukouRegionCode: V3,
    householdId: outsiderHousehold.id,
    relationToHead: '户主',
    phone: OUTSIDER_PHONE,
  });
  farPerson = await insertPersonRow(t.ctx.db, {
    name: FAR_NAME,
    sex: 2,
    birthDate: '1950-02-02',
    hukou: FAR,
  });
});

after(async () => {
  await t.close();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

/** What of the other township (V3) and the other province a user must never see. */
function markersFor(who: Who): string[] {
  const scope = accounts[who][2];
  const v3 = V3.startsWith(scope)
    ? []
    : [OUTSIDER_NAME, OUTSIDER_ID, OUTSIDER_PHONE, OUTSIDER_HOUSEHOLD, '南彰外乡9号'];
  return [...v3, ...(FAR_COUNTY.startsWith(scope) ? [] : [FAR_NAME])];
}

function assertNoOutsider(body: string, what: string, who: Who = 'director'): void {
  for (const marker of markersFor(who))
    assert.ok(!body.includes(marker), `${what} shows ${marker}: ${body.slice(0, 300)}`);
}

function assertNot5xx(r: { statusCode: number; body: string }, what: string): void {
  assert.ok(r.statusCode < 500, `${what}: ${r.statusCode} ${r.body.slice(0, 300)}`);
}

describe('region parameters in odd forms, on every route that takes one', () => {
  const odd = () => [
    '41022',
    '4102251',
    '41022510',
    '410225102',
    '4102251 ',
    '410225102 ',
    '410225102\n',
    ' 410225101',
    '４１０２２５１０１',
    '%',
    '_',
    '41022510%',
    '4102251_1',
    '410225101%',
    V3,
    FAR,
    '',
    '0',
    '00',
    '9'.repeat(5000),
    '410225101200\u0000',
    '410225101200/../410225102',
  ];
  const ROUTES = [
    (r: string) => `/persons?region=${r}`,
    (r: string) => `/persons/duplicates?region=${r}`,
    (r: string) => `/exports/registry?region=${r}&format=csv`,
    (r: string) => `/worklist?region=${r}&status=all`,
    (r: string) => `/stats/groups?region=${r}`,
    (r: string) => `/stats/groups/monthly?region=${r}&from=2026-01&to=2026-02`,
    (r: string) => `/stats/groups/members?region=${r}&group=high_age_elderly`,
    (r: string) => `/stats/groups.xlsx?region=${r}`,
    (r: string) => `/groups/config?region=${r}`,
  ];

  test('odd regions never widen the scope, never show the other township, never answer 5xx', async () => {
    for (const who of ['director', 'supervisor', 'prefectureGranted'] as const)
      for (const route of ROUTES)
        for (const region of odd()) {
          const url = route(encodeURIComponent(region));
          const r = await call(who, 'GET', url);
          assertNot5xx(r, `${who} ${url}`);
          assert.ok([200, 400, 403, 404].includes(r.statusCode), `${who} ${url}: ${r.statusCode}`);
          assertNoOutsider(r.body, `${who} ${url}`, who);
          if (r.statusCode === 400) assert.match(r.body, /region/, `${who} ${url} names the field`);
        }
  });

  test('a region given twice is refused (400 naming region) on every route, not OR-ed', async () => {
    for (const route of ROUTES) {
      const url = `${route(V1)}&region=${V3}`;
      const r = await call('county', 'GET', url);
      assert.equal(r.statusCode, 400, `${url}: ${r.body.slice(0, 200)}`);
      assert.match(r.body, /region/);
    }
  });
});

describe('ids in paths and cursors', () => {
  test('ids in odd forms are 400 naming the id or 404, never 5xx, and never open another area', async () => {
    const forms = ['-1', '0', '0x10', '1e3', '1.5', '9007199254740993', '99999999999999999999', 'abc', '%20'];
    for (const form of forms)
      for (const [who, url] of [
        ['director', `/persons/${form}`],
        ['director', `/households/${form}`],
        ['county', `/imports/${form}`],
        ['county', `/imports/${form}/errors.csv`],
        ['director', `/groups/evaluations/${form}`],
      ] as [Who, string][]) {
        const r = await call(who, 'GET', url);
        assertNot5xx(r, url);
        assert.ok([400, 404].includes(r.statusCode), `${url}: ${r.statusCode} ${r.body}`);
        if (r.statusCode === 400) assert.match(r.body, /"path":"id"/, url);
      }
    // Leading zeros are the same id: the director's own child opens, the outsider does not.
    assert.equal((await call('director', 'GET', `/persons/000${child.id}`)).statusCode, 200);
    assert.equal((await call('director', 'GET', `/persons/000${outsider.id}`)).statusCode, 404);
  });

  test("another area's person, household, fact and worklist item answer exactly like ids that do not exist", async () => {
    const missing = 987654321;
    const factOfOutsider = await created('county', `/persons/${outsider.id}/facts`, {
      kind: 'schooling',
      from: '2020-09-01',
      data: { stage: 'primary' },
    });
    const item = await t.ctx.db
      .insertInto('worklist_items')
      .values({
        person_id: outsider.id,
        region_code: V3,
        kind: 'group_entered',
        group_code: 'high_age_elderly',
        on_date: '2026-01-01',
        text_zh: `新增: ${OUTSIDER_NAME}`,
        text_en: `New: ${OUTSIDER_NAME}`,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const person = outsider.id;
    const hh = outsiderHousehold.id;
    const fact = factOfOutsider.id;
    const work = Number(item.id);
    const cases: [Who, Method, (id: number) => string, number, unknown?][] = [
      ['supervisor', 'GET', (id) => `/persons/${id}`, person],
      ['supervisor', 'GET', (id) => `/households/${id}`, hh],
      ['supervisor', 'PATCH', (id) => `/persons/${id}`, person, { version: 1, name: '改名' }],
      ['supervisor', 'PATCH', (id) => `/households/${id}`, hh, { version: 1, address: '改' }],
      ['supervisor', 'POST', (id) => `/persons/${id}/facts`, person, { kind: 'death', from: '2026-01-01' }],
      ['supervisor', 'POST', (id) => `/persons/${id}/facts/${fact}/retract`, person, {}],
      ['supervisor', 'POST', (id) => `/persons/${id}/facts/${fact}/end`, person, { to: '2026-01-01' }],
      // A fact id of another person, under a person in scope.
      ['county', 'POST', (id) => `/persons/${child.id}/facts/${id}/end`, fact, { to: '2026-01-01' }],
      [
        'supervisor',
        'POST',
        (id) => `/persons/${id}/relations`,
        person,
        { relatedPersonId: child.id, kind: 'guardian' },
      ],
      ['townshipStaff', 'POST', (id) => `/persons/${id}/merge`, person, { intoId: child.id, version: 1 }],
      ['director', 'POST', (id) => `/worklist/${id}/acknowledge`, work],
      ['outsideCounty', 'POST', (id) => `/persons/${id}/reveal`, person],
      ['outsideCounty', 'GET', (id) => `/persons/${id}?asOf=2026-01-01`, person],
      // A person of another province, to a county and to a province viewer granted individual access.
      ['county', 'GET', (id) => `/persons/${id}`, farPerson],
      ['provinceGranted', 'GET', (id) => `/persons/${id}`, farPerson],
    ];
    // The control: the other province's own county staff opens that person.
    assert.equal((await call('outsideCounty', 'GET', `/persons/${farPerson}`)).statusCode, 200);
    for (const [who, method, url, probe, payload] of cases) {
      const outside = await call(who, method, url(probe), payload);
      const none = await call(who, method, url(missing), payload);
      assert.equal(outside.statusCode, 404, `${method} ${url(probe)}: ${outside.body}`);
      assert.equal(outside.statusCode, none.statusCode, `${method} ${url(probe)}`);
      assert.deepEqual(outside.json().error, none.json().error, `${method} ${url(probe)}`);
      assertNoOutsider(outside.body, `${method} ${url(probe)}`, who);
    }
    const row = await t.ctx.db
      .selectFrom('persons')
      .select(['name', 'version'])
      .where('id', '=', outsider.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.name, OUTSIDER_NAME);
  });

  test("cursors copied from another user's or another filter's list never widen the scope", async () => {
    // The county's pages hold V3's persons; their cursors given to the director list V1 only.
    const ids: string[] = [];
    for (let cursor: string | null = '0'; cursor !== null;) {
      const r = await call('county', 'GET', `/persons?limit=1&cursor=${cursor}`);
      assert.equal(r.statusCode, 200, r.body);
      cursor = r.json().nextCursor;
      if (cursor !== null) ids.push(cursor);
    }
    assert.ok(ids.length >= 2);
    for (const cursor of ['0', ...ids]) {
      for (const [who, url] of [
        ['director', `/persons?cursor=${cursor}&limit=200`],
        ['director', `/persons?cursor=${cursor}&q=${encodeURIComponent(OUTSIDER_NAME)}`],
        ['director', `/persons?cursor=${cursor}&region=${V3}`],
        ['director', `/worklist?cursor=${cursor}&status=all`],
        ['director', `/stats/groups/members?group=high_age_elderly&cursor=${cursor}`],
        ['supervisor', `/imports?cursor=${Number(cursor) + 1000}`],
      ] as [Who, string][]) {
        const r = await call(who, 'GET', url);
        assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
        assertNoOutsider(r.body, url, who);
      }
    }
  });

  test('forged or truncated cursors are 400 naming the cursor, never 5xx', async () => {
    const forged = [
      '',
      '-1',
      'abc',
      '1;drop',
      '１２',
      '0x1f',
      '1e5',
      '12.5',
      '9007199254740993',
      'eyJpZCI6MX0=',
    ];
    for (const cursor of forged)
      for (const [who, url] of [
        ['director', '/persons?cursor='],
        ['director', '/worklist?cursor='],
        ['director', '/stats/groups/members?group=orphan&cursor='],
        ['supervisor', '/imports?cursor='],
      ] as [Who, string][]) {
        const r = await call(who, 'GET', `${url}${encodeURIComponent(cursor)}`);
        assertNot5xx(r, `${url}${cursor}`);
        if (r.statusCode !== 200) {
          assert.equal(r.statusCode, 400, `${url}${cursor}: ${r.body}`);
          assert.match(r.body, /cursor/, `${url}${cursor}`);
        }
      }
  });
});

describe('mass assignment: fields the schemas do not name are refused, never applied', () => {
  async function snapshot() {
    const [persons, households, facts, relations] = await Promise.all([
      t.ctx.db.selectFrom('persons').selectAll().orderBy('id').execute(),
      t.ctx.db.selectFrom('households').selectAll().orderBy('id').execute(),
      t.ctx.db.selectFrom('person_facts').selectAll().orderBy('id').execute(),
      t.ctx.db.selectFrom('person_relations').selectAll().orderBy('id').execute(),
    ]);
    return JSON.stringify({ persons, households, facts, relations });
  }

  test('extra fields on every registry write: 400 naming the field, nothing written', async () => {
    const extras: Record<string, unknown> = {
      regionCode: V3,
      region_code: V3,
      id: 1,
      version: 99,
      recordedBy: userIds.county,
      recorded_by: userIds.county,
      createdAt: '2000-01-01T00:00:00Z',
      role: 'county_staff',
      demo: true,
      mergedInto: outsider.id,
      countyCode: '130123',
      idTail: '000000',
    };
    const current = (await call('director', 'GET', `/persons/${child.id}`)).json();
    const hh = (await call('director', 'GET', `/households/${household.id}`)).json();
    const writes: [Method, string, Record<string, unknown>][] = [
      [
        'POST',
        '/persons',
        { name: '新人', noIdReason: '未落户', sex: 1, birthDate: '2020-01-01', hukouRegionCode: V1 },
      ],
      ['PATCH', `/persons/${child.id}`, { version: current.version }],
      ['POST', '/households', { householdNo: 'ATK2-NEW', hukouRegionCode: V1 }],
      ['PATCH', `/households/${household.id}`, { version: hh.version }],
      [
        'POST',
        `/persons/${child.id}/facts`,
        { kind: 'schooling', from: '2024-09-01', data: { stage: 'primary' } },
      ],
      ['POST', `/persons/${child.id}/relations`, { relatedPersonId: father.id, kind: 'guardian' }],
    ];
    const before = await snapshot();
    for (const [method, url, body] of writes)
      for (const [key, value] of Object.entries(extras)) {
        if (method === 'PATCH' && key === 'version') continue; // the field every change carries
        const r = await call('director', method, url, { ...body, [key]: value });
        assert.equal(r.statusCode, 400, `${method} ${url} with ${key}: ${r.statusCode} ${r.body}`);
        assert.match(r.body, new RegExp(key), `${method} ${url} names ${key}: ${r.body}`);
      }
    // A prototype key in the raw JSON is refused whole (the JSON parser's protection), never merged.
    for (const [method, url, body] of writes)
      for (const poison of [
        `"__proto__":{"hukouRegionCode":"${V3}"}`,
        `"constructor":{"prototype":{"hukouRegionCode":"${V3}"}}`,
      ]) {
        const r = await t.app.inject({
          method,
          url: `/api/v1${url}`,
          headers: { ...clients.director.write, 'content-type': 'application/json' },
          payload: JSON.stringify(body).replace(/^\{/, `{${poison},`),
        });
        assert.equal(r.statusCode, 400, `${method} ${url} ${poison}: ${r.body}`);
        assertNoOutsider(r.body, `${method} ${url} ${poison}`);
      }
    assert.equal(await snapshot(), before);
  });

  test('fields a household change may not make (village, number, county) are refused', async () => {
    const hh = (await call('county', 'GET', `/households/${household.id}`)).json();
    for (const [key, value] of [
      ['hukouRegionCode', V3],
      ['householdNo', OUTSIDER_HOUSEHOLD],
      ['countyCode', '130123'],
    ] as const) {
      const r = await call('county', 'PATCH', `/households/${household.id}`, {
        version: hh.version,
        [key]: value,
      });
      assert.equal(r.statusCode, 400, `${key}: ${r.body}`);
      assert.match(r.body, new RegExp(key));
    }
    const row = await t.ctx.db
      .selectFrom('households')
      .select(['hukou_region_code', 'household_no', 'version'])
      .where('id', '=', household.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { hukou_region_code: V1, household_no: 'ATK2-0001', version: hh.version });
  });

  test('extra fields in a fact’s data, a configuration or an evaluation are refused', async () => {
    const cases: [Who, Method, string, unknown, RegExp][] = [
      [
        'director',
        'POST',
        `/persons/${child.id}/facts`,
        { kind: 'schooling', from: '2024-09-01', data: { stage: 'primary', personId: outsider.id } },
        /data\.personId/,
      ],
      ['county', 'PUT', '/groups/config', { config: {}, version: 0, region: V3 }, /region/],
      ['county', 'PUT', '/groups/config', { config: { regionCode: V3 }, version: 0 }, /regionCode/],
      ['county', 'POST', '/groups/evaluations', { region: '410225', regionCode: V3 }, /regionCode/],
    ];
    for (const [who, method, url, body, field] of cases) {
      const r = await call(who, method, url, body);
      assert.equal(r.statusCode, 400, `${url}: ${r.body}`);
      assert.match(r.body, field);
    }
  });

  test('unknown query parameters never widen a list', async () => {
    for (const url of [
      `/persons?scope=all&regionCode=41&all=true`,
      `/persons?region_code=${V3}`,
      `/worklist?regionCode=${V3}&scope=`,
      `/stats/groups/members?group=high_age_elderly&regionCode=${V3}`,
    ]) {
      const r = await call('director', 'GET', url);
      assertNot5xx(r, url);
      assertNoOutsider(r.body, url);
    }
  });
});

describe('searches tell nothing of persons outside the scope', () => {
  test("another township's ID number, phone, ID tail + name, pinyin or household number: the same empty answer as a number nobody has", async () => {
    const nobody = makeIdNumber('410225', '1980-07-07', 999);
    const empty = await call('supervisor', 'GET', `/persons?idNumber=${nobody}`);
    assert.equal(empty.statusCode, 200);
    for (const query of [
      `idNumber=${OUTSIDER_ID}`,
      `idNumber=${OUTSIDER_ID.toLowerCase()}`,
      `idNumber=${encodeURIComponent(OUTSIDER_ID.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))))}`,
      `q=${OUTSIDER_ID}`,
      `q=${OUTSIDER_PHONE}`,
      `q=${OUTSIDER_PHONE.slice(0, 7)}`,
      `q=${encodeURIComponent(`${OUTSIDER_ID.slice(-6)} ${OUTSIDER_NAME}`)}`,
      `q=${OUTSIDER_ID.slice(-6)}`,
      `q=waixiang`,
      `q=wxzbm`,
      `householdNo=${OUTSIDER_HOUSEHOLD}`,
      `q=${encodeURIComponent('外乡')}`,
    ]) {
      const r = await call('supervisor', 'GET', `/persons?${query}`);
      assert.equal(r.statusCode, 200, `${query}: ${r.body}`);
      assert.deepEqual(r.json(), empty.json(), query);
    }
  });

  test('registering or correcting with an outside household, head or relative answers like an id that does not exist', async () => {
    const current = (await call('director', 'GET', `/persons/${child.id}`)).json();
    const pairs: [Method, (id: number) => string, (id: number) => unknown, number][] = [
      [
        'PATCH',
        () => `/persons/${child.id}`,
        (id) => ({ version: current.version, householdId: id }),
        outsiderHousehold.id,
      ],
      [
        'POST',
        () => '/households',
        (id) => ({ householdNo: 'ATK2-H', hukouRegionCode: V1, headPersonId: id }),
        outsider.id,
      ],
      [
        'PATCH',
        () => `/households/${household.id}`,
        (id) => ({ version: 999, headPersonId: id }),
        outsider.id,
      ],
      [
        'POST',
        () => '/persons',
        (id) => ({
          name: '某',
          noIdReason: '未落户',
          sex: 1,
          birthDate: '2020-01-01',
          hukouRegionCode: V1,
          householdId: id,
        }),
        outsiderHousehold.id,
      ],
    ];
    for (const [method, url, body, probe] of pairs) {
      const outside = await call('director', method, url(probe), body(probe));
      const none = await call('director', method, url(987654321), body(987654321));
      assert.equal(
        outside.statusCode,
        none.statusCode,
        `${method} ${url(probe)}: ${outside.body} / ${none.body}`,
      );
      assert.deepEqual(outside.json().error, none.json().error, `${method} ${url(probe)}`);
      assertNoOutsider(outside.body, `${method} ${url(probe)}`);
    }
  });
});

describe('masking: no full ID number or phone wherever a person’s data goes out', () => {
  test("a fact's contact phone and disability certificate number are masked in the person file, for every role", async () => {
    for (const who of [
      'director',
      'villageStaff',
      'supervisor',
      'townshipStaff',
      'county',
      'approver',
      'provinceGranted',
    ] as const) {
      const r = await call(who, 'GET', `/persons/${father.id}`);
      assert.equal(r.statusCode, 200, `${who}: ${r.body}`);
      for (const full of [FATHER_ID, FATHER_CONTACT, FATHER_CERT])
        assert.ok(!r.body.includes(full), `${who} reads ${full} in the person file`);
      const facts = r.json().facts as { kind: string; data: Record<string, string> }[];
      const migration = facts.find((f) => f.kind === 'migration');
      const disability = facts.find((f) => f.kind === 'disability');
      assert.equal(migration?.data.contact, '137****8888', who);
      assert.equal(migration?.data.destination, '深圳', who);
      assert.equal(
        disability?.data.certificateNo,
        `${FATHER_CERT.slice(0, 4)}${'*'.repeat(15)}${FATHER_CERT.slice(-1)}`,
      );
      // The file as of a date masks the same.
      const asOf = await call(who, 'GET', `/persons/${father.id}?asOf=2026-01-01`);
      assert.ok(!asOf.body.includes(FATHER_CONTACT) && !asOf.body.includes(FATHER_CERT), who);
    }
  });

  test('numbers inside free text of a fact are masked too; the answer to the write masks them as well', async () => {
    const written = await call('county', 'POST', `/persons/${child.id}/facts`, {
      kind: 'serious_illness',
      from: '2025-01-01',
      data: { diagnosis: `母亲电话 ${CHILD_PHONE}，身份证 ${CHILD_ID}，住院号 2025` },
    });
    assert.equal(written.statusCode, 201, written.body);
    for (const r of [written, await call('director', 'GET', `/persons/${child.id}`)]) {
      assert.ok(!r.body.includes(CHILD_PHONE) && !r.body.includes(CHILD_ID), r.body);
      assert.ok(r.body.includes('住院号 2025'), 'short numbers stay');
    }
  });

  test('a role that may reveal gets the unmasked fact contacts from the reveal, audited; others are refused', async () => {
    const r = await call('county', 'POST', `/persons/${father.id}/reveal`);
    assert.equal(r.statusCode, 200, r.body);
    const revealed = r.json() as { idNumber: string; facts: { id: number; field: string; value: string }[] };
    assert.equal(revealed.idNumber, FATHER_ID);
    assert.deepEqual(revealed.facts.map((f) => [f.field, f.value]).sort(), [
      ['certificateNo', FATHER_CERT],
      ['contact', FATHER_CONTACT],
    ]);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['details', 'region_code', 'actor_user_id'])
      .where('action', '=', 'person.reveal')
      .where('entity_id', '=', String(father.id))
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(entry.region_code, V1);
    assert.equal(Number(entry.actor_user_id), userIds.county);
    assert.deepEqual((entry.details as { fields: string[] }).fields, ['idNumber', 'phone', 'facts']);
    for (const who of ['director', 'supervisor', 'townshipStaff', 'provinceGranted'] as const) {
      const refused = await call(who, 'POST', `/persons/${father.id}/reveal`);
      assert.equal(refused.statusCode, 403, who);
      assert.ok(!refused.body.includes(FATHER_CONTACT));
    }
  });

  test('household members, group members and worklist texts carry masked numbers only', async () => {
    const elder = await created('county', '/persons', {
      idNumber: makeIdNumber('410225', '1940-03-03', 215),
      name: '钱老人',
      hukouRegionCode: V1,
      householdId: household.id,
      relationToHead: '父亲',
      phone: '13855557777',
    });
    const elderId = makeIdNumber('410225', '1940-03-03', 215);
    for (const [who, url] of [
      ['director', `/households/${household.id}`],
      ['director', `/stats/groups/members?group=high_age_elderly`],
      ['director', `/worklist?status=all`],
      ['provinceGranted', `/stats/groups/members?group=high_age_elderly&region=${V1}`],
      ['director', `/persons?region=${V1}`],
    ] as [Who, string][]) {
      const r = await call(who, 'GET', url);
      assert.equal(r.statusCode, 200, `${url}: ${r.body}`);
      for (const full of [elderId, '13855557777', CHILD_ID, CHILD_PHONE, FATHER_ID])
        assert.ok(!r.body.includes(full), `${who} ${url} shows ${full}`);
    }
    assert.ok(elder.id > 0);
  });
});

describe('the lists a record carries are scoped like every list', () => {
  test("a household's members registered in another township are not shown to the household's township", async () => {
    // County staff (whose scope covers both townships) put a person of V3 into a V1 household.
    const mixed = await created('county', '/households', { householdNo: 'ATK2-MIX', hukouRegionCode: V1 });
    const inside = await created('county', '/persons', {
      name: '钱本村',
      noIdReason: '未落户',
      sex: 2,
      birthDate: '2019-01-01',
      hukouRegionCode: V1,
      householdId: mixed.id,
    });
    const away = await created('county', '/persons', {
      idNumber: makeIdNumber('410225', '1979-09-09', 719),
      name: OUTSIDER_NAME + '乙',
      hukouRegionCode: V3,
      householdId: mixed.id,
      phone: OUTSIDER_PHONE,
    });
    await created('county', `/persons/${inside.id}/relations`, {
      relatedPersonId: away.id,
      kind: 'guardian',
    });
    for (const who of ['director', 'supervisor', 'townshipStaff'] as const) {
      const r = await call(who, 'GET', `/households/${mixed.id}`);
      assert.equal(r.statusCode, 200, r.body);
      const detail = r.json() as { members: { id: number }[]; relations: { relatedPersonId: number }[] };
      assert.deepEqual(
        detail.members.map((m) => m.id),
        [inside.id],
        `${who} sees only the members in scope`,
      );
      assert.ok(!detail.relations.some((rel) => rel.relatedPersonId === away.id));
      assertNoOutsider(r.body, `${who} household`, who);
    }
    // The county sees both.
    const county = (await call('county', 'GET', `/households/${mixed.id}`)).json() as {
      members: { id: number }[];
    };
    assert.deepEqual(
      county.members.map((m) => m.id).sort((a, b) => a - b),
      [inside.id, away.id].sort((a, b) => a - b),
    );
  });

  test('the members of a group as of a past date leave out a person whose hukou has since left the scope', async () => {
    const elderId = makeIdNumber('410225', '1938-04-04', 417);
    const elder = await created('county', '/persons', {
      idNumber: elderId,
      name: '钱迁走',
      hukouRegionCode: V1,
    });
    await created('county', `/persons/${elder.id}/facts`, { kind: 'death', from: '2025-06-01' });
    const before = await call(
      'director',
      'GET',
      '/stats/groups/members?group=high_age_elderly&asOf=2025-01-01',
    );
    assert.ok(before.body.includes('钱迁走'), 'a member in the village while in scope');
    // The hukou is corrected to the other township: the person file is no longer the director's.
    const current = (await call('county', 'GET', `/persons/${elder.id}`)).json();
    const moved = await call('county', 'PATCH', `/persons/${elder.id}`, {
      version: current.version,
      hukouRegionCode: V3,
    });
    assert.equal(moved.statusCode, 200, moved.body);
    assert.equal((await call('director', 'GET', `/persons/${elder.id}`)).statusCode, 404);
    for (const who of ['director', 'supervisor'] as const)
      for (const url of [
        '/stats/groups/members?group=high_age_elderly&asOf=2025-01-01',
        `/stats/groups/members?group=high_age_elderly&asOf=2025-01-01&region=${V1}`,
      ]) {
        const r = await call(who, 'GET', url);
        assert.equal(r.statusCode, 200, r.body);
        assert.ok(!r.body.includes('钱迁走'), `${who} ${url} lists a person now outside the scope`);
        assert.ok(!r.body.includes(V3), `${who} ${url} shows the other township's village`);
      }
    // The county still finds the person, in the village where the period was counted.
    const county = await call(
      'county',
      'GET',
      `/stats/groups/members?group=high_age_elderly&asOf=2025-01-01&region=${V1}`,
    );
    assert.ok(county.body.includes('钱迁走'), county.body);
  });
});

describe('a child ledger import writes inside the importer’s region only', () => {
  /** Uploads a ledger CSV as `who` (a township of 南彰镇 in these tests) and waits for it. */
  async function importLedger(who: Who, name: string, rows: string[][], dryRun = false) {
    const boundary = `----ledger2${Date.now()}`;
    const csv = Buffer.from('\uFEFF' + rows.map((r) => r.join(',')).join('\r\n'));
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      csv,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await t.app.inject({
      method: 'POST',
      url: `/api/v1/imports?kind=ledger${dryRun ? '&dryRun=true' : ''}`,
      headers: { ...clients[who].write, 'content-type': `multipart/form-data; boundary=${boundary}` },
      payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    await t.ctx.jobs.drain();
    const done = await call(who, 'GET', `/imports/${r.json().id}`);
    assert.equal(done.statusCode, 200, done.body);
    return done.json() as {
      id: number;
      status: string;
      counts: { rows: number; inserted: number; updated: number; errors: number };
      errorReport: { csv: string } | null;
      review: { disagreements: { personId: number; name: string }[] } | null;
    };
  }

  async function written(personId: number) {
    const [facts, relations, person] = await Promise.all([
      t.ctx.db
        .selectFrom('person_facts')
        .selectAll()
        .where('person_id', '=', personId)
        .orderBy('id')
        .execute(),
      t.ctx.db
        .selectFrom('person_relations')
        .selectAll()
        .where((eb) => eb.or([eb('person_id', '=', personId), eb('related_person_id', '=', personId)]))
        .orderBy('id')
        .execute(),
      t.ctx.db.selectFrom('persons').selectAll().where('id', '=', personId).executeTakeFirstOrThrow(),
    ]);
    return JSON.stringify({ facts, relations, person });
  }

  const HEADERS = [
    '姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '就学情况',
    '父亲姓名', '父亲公民身份号码', '父亲务工地点', '母亲姓名', '母亲公民身份号码', '母亲务工地点',
    '一方外出另一方无监护能力', '无监护能力方', '无监护能力原因', '无监护能力开始日期',
  ]; // prettier-ignore

  test('a ledger row naming a child registered in another township by ID number writes nothing on that child', async () => {
    const before = await written(child.id);
    const result = await importLedger('farTownship', 'ledger-other-child.csv', [
      HEADERS,
      [
        '钱孩子',
        '男',
        '2016-05-05',
        CHILD_ID,
        '南彰镇南彰村',
        '初中',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ],
    ]);
    assert.equal(result.status, 'succeeded', JSON.stringify(result));
    assert.equal(result.counts.errors, 1, JSON.stringify(result));
    assert.equal(await written(child.id), before, 'no fact, link or change on the other township’s child');
    assert.ok(!(result.review?.disagreements ?? []).some((d) => d.personId === child.id));
    const report = await call('farTownship', 'GET', result.errorReport!.csv.replace('/api/v1', ''));
    assert.equal(report.statusCode, 200);
    assert.match(report.body, /管辖范围以外/);
  });

  test('a parent registered in another township is linked but gets no migration or death from the ledger: the row is refused', async () => {
    const before = await written(father.id);
    const newChild = makeIdNumber('410225', '2017-02-02', 522);
    const migrantFatherRow = [
      '孙小南',
      '女',
      '2017-02-02',
      newChild,
      '南彰镇南彰村',
      '小学',
      '钱父亲',
      FATHER_ID,
      '广州',
    ].concat(Array<string>(7).fill(''));
    const result = await importLedger('farTownship', 'ledger-other-parent.csv', [
      HEADERS,
      // The father (堌阳镇) migrant to 广州 and the mother dead: facts on persons outside 南彰镇.
      migrantFatherRow,
      [
        '孙小北',
        '男',
        '2018-03-03',
        makeIdNumber('410225', '2018-03-03', 531),
        '南彰镇南彰村',
        '',
        '钱父亲',
        FATHER_ID,
        '',
        '',
        '',
        '',
        '是',
        '父亲',
        '死亡',
        '2024-01-01',
      ],
    ]);
    assert.equal(result.status, 'succeeded', JSON.stringify(result));
    assert.equal(result.counts.errors, 2, JSON.stringify(result));
    assert.equal(await written(father.id), before, 'no fact on the father registered in 堌阳镇');
    const report = await call('farTownship', 'GET', result.errorReport!.csv.replace('/api/v1', ''));
    assert.match(report.body, /父亲/);
    assert.match(report.body, /管辖范围以外/);
    // In English too.
    const en = await call('farTownship', 'GET', `/imports/${result.id}`, undefined, 'en');
    assert.equal(en.statusCode, 200);
    // The father's own parents are about him too: linking them to him is a write on his record.
    const grand = await importLedger('farTownship', 'ledger-other-grandparent.csv', [
      [
        '姓名',
        '性别',
        '出生日期',
        '公民身份号码',
        '户籍所在地',
        '父亲姓名',
        '父亲公民身份号码',
        '祖父姓名',
        '祖父出生日期',
      ],
      [
        '孙小西',
        '男',
        '2019-05-05',
        makeIdNumber('410225', '2019-05-05', 551),
        '南彰镇南彰村',
        '钱父亲',
        FATHER_ID,
        '钱祖父',
        '1950-01-01',
      ],
    ]);
    assert.equal(grand.counts.errors, 1, JSON.stringify(grand));
    assert.equal(await written(father.id), before, 'no parent link added to the father registered in 堌阳镇');
    // A dry run says the same and writes nothing either.
    const dry = await importLedger(
      'farTownship',
      'ledger-other-parent-dry.csv',
      [HEADERS, migrantFatherRow],
      true,
    );
    assert.equal(dry.counts.errors, 1, JSON.stringify(dry));
    assert.equal(await written(father.id), before);
  });

  test('a parent of another township is not linked by the ledger, even with nothing to record; one linked already stays', async () => {
    // A child of 南彰镇 whose father, registered in 堌阳镇, the row states nothing about.
    const row = [
      '孙小东',
      '男',
      '2019-04-04',
      makeIdNumber('410225', '2019-04-04', 541),
      '南彰镇南彰村',
      '',
      '钱父亲',
      FATHER_ID,
    ].concat(Array<string>(8).fill(''));
    const result = await importLedger('farTownship', 'ledger-link-parent.csv', [HEADERS, row]);
    // A new link would show the father's name and facts here and change his groups there.
    assert.equal(result.counts.errors, 1, JSON.stringify(result));
    const report = await call('farTownship', 'GET', result.errorReport!.csv.replace('/api/v1', ''));
    assert.match(report.body, /父亲已在您管辖范围以外的地区登记，本次导入不能与其建立关系/);
    assert.ok(!report.body.includes('钱父亲已'), 'the report does not name him from the registry');
    const link = await t.ctx.db
      .selectFrom('person_relations as r')
      .innerJoin('persons as c', 'c.id', 'r.person_id')
      .select('r.id')
      .where('c.name', '=', '孙小东')
      .where('r.related_person_id', '=', father.id)
      .where('r.kind', '=', 'parent')
      .executeTakeFirst();
    assert.equal(link, undefined, 'no link to the father registered in 堌阳镇');
    // County staff, whose region holds both, link them; the township's same ledger then changes nothing.
    const county = await importLedger('county', 'ledger-link-parent-county.csv', [HEADERS, row]);
    assert.equal(county.counts.errors, 0, JSON.stringify(county));
    // The same rows under a title line: another file (the same file would return the first import).
    const again = await importLedger('farTownship', 'ledger-link-parent-again.csv', [
      ['南彰镇农村留守儿童信息台账'],
      HEADERS,
      row,
    ]);
    assert.equal(again.counts.errors, 0, JSON.stringify(again));
    assert.deepEqual([again.counts.inserted, again.counts.updated], [0, 0], JSON.stringify(again));
  });

  test('the same rows by county staff, whose region covers both townships, are written', async () => {
    const result = await importLedger('county', 'ledger-county.csv', [
      HEADERS,
      [
        '孙小南',
        '女',
        '2017-02-02',
        makeIdNumber('410225', '2017-02-02', 522),
        '南彰镇南彰村',
        '小学',
        '钱父亲',
        FATHER_ID,
        '广州',
        '',
        '',
        '',
        '',
        '',
        '',
        '',
      ],
    ]);
    assert.equal(result.counts.errors, 0, JSON.stringify(result));
    const migrations = await t.ctx.db
      .selectFrom('person_facts')
      .select('data')
      .where('person_id', '=', father.id)
      .where('kind', '=', 'migration')
      .where('retracted_at', 'is', null)
      .execute();
    assert.ok(migrations.some((m) => (m.data as { destination?: string }).destination === '广州'));
  });
});

describe('audit: every read of children’s data and every refusal leaves an entry with the actor and region', () => {
  async function lastId(): Promise<number> {
    const row = await t.ctx.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.max('id').as('id'))
      .executeTakeFirstOrThrow();
    return Number(row.id ?? 0);
  }

  async function entriesSince(id: number) {
    return t.ctx.db
      .selectFrom('audit_log')
      .select([
        'action',
        'actor_user_id',
        'actor_username',
        'actor_role',
        'region_code',
        'result',
        'entity_id',
        'details',
      ])
      .where('id', '>', id)
      .orderBy('id')
      .execute();
  }

  test('each read route writes its entry: who, which role, which region', async () => {
    const reads: [Who, string, string, string | null][] = [
      ['director', `/persons/${child.id}`, 'person.read', V1],
      ['director', `/persons/${child.id}?asOf=2026-01-01`, 'person.read', V1],
      ['supervisor', `/households/${household.id}`, 'household.read', V1],
      ['villageStaff', `/persons?q=${encodeURIComponent('钱')}`, 'person.search', V1],
      ['townshipStaff', `/persons?region=${V1}`, 'person.search', V1],
      ['supervisor', '/persons/duplicates', 'person.duplicates.read', T1],
      ['director', '/worklist?status=all', 'worklist.read', V1],
      ['approver', `/stats/groups/members?group=high_age_elderly&region=${V1}`, 'groups.members.read', V1],
      [
        'provinceGranted',
        `/stats/groups/members?group=high_age_elderly&region=${V1}`,
        'groups.members.read',
        V1,
      ],
      ['provinceGranted', `/persons/${child.id}`, 'person.read', V1],
      ['prefecture', `/stats/groups.xlsx?region=410225`, 'groups.stats.export', '410225'],
      ['director', `/exports/registry?region=${V1}&format=csv`, 'registry.export', V1],
    ];
    for (const [who, url, action, region] of reads) {
      const since = await lastId();
      const r = await call(who, 'GET', url);
      assert.equal(r.statusCode, 200, `${who} ${url}: ${r.body.slice(0, 200)}`);
      const entries = (await entriesSince(since)).filter((e) => e.action === action);
      assert.equal(entries.length, 1, `${who} ${url} wrote one ${action}`);
      const [entry] = entries;
      assert.equal(Number(entry?.actor_user_id), userIds[who], `${url}: the actor`);
      assert.equal(entry?.actor_role, accounts[who][1], `${url}: the role`);
      assert.equal(entry?.region_code, region, `${url}: the region`);
      assert.equal(entry?.result, 'ok');
    }
  });

  test('an error report download is audited; the refusal of another user’s report is audited as denied', async () => {
    const mine = await importErrorsOnce();
    const since = await lastId();
    const own = await call('townshipStaff', 'GET', `/imports/${mine}/errors.csv`);
    assert.equal(own.statusCode, 200, own.body);
    const refused = await call('supervisor', 'GET', `/imports/${mine}/errors.csv`);
    assert.equal(refused.statusCode, 403, refused.body);
    const entries = await entriesSince(since);
    assert.deepEqual(
      entries.map((e) => [e.action, Number(e.actor_user_id), e.result]),
      [
        ['import.errors.download', userIds.townshipStaff, 'ok'],
        ['access.denied', userIds.supervisor, 'denied'],
      ],
    );
    assert.equal(entries[0]?.region_code, T1);
  });

  test('a refused export of another region is audited as denied, like every refusal', async () => {
    for (const [who, region] of [
      ['director', '410225101201'],
      ['supervisor', '410225102'],
      ['county', FAR_COUNTY],
      ['prefectureGranted', '410225'],
    ] as [Who, string][]) {
      const since = await lastId();
      const r = await call(who, 'GET', `/exports/registry?region=${region}&format=csv`);
      assert.ok([403, 404].includes(r.statusCode), `${who} ${region}: ${r.statusCode}`);
      const denied = (await entriesSince(since)).filter((e) => e.action === 'access.denied');
      assert.equal(denied.length, 1, `${who}'s refused export of ${region} left no audit entry`);
      assert.equal(Number(denied[0]?.actor_user_id), userIds[who]);
      assert.equal(denied[0]?.result, 'denied');
    }
  });

  test('a child ledger import whose answer names children is an audited read when it is opened', async () => {
    const rows = [
      ['姓名', '性别', '出生日期', '公民身份号码', '户籍所在地', '父亲姓名', '父亲务工地点'],
      [
        '周小审',
        '男',
        '2015-06-06',
        makeIdNumber('410225', '2015-06-06', 611),
        '堌阳镇城内村',
        '周父',
        '北京',
      ],
    ];
    const boundary = `----review${Date.now()}`;
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="review.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      Buffer.from(rows.map((r) => r.join(',')).join('\r\n')),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const submitted = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports?kind=ledger',
      headers: {
        ...clients.townshipStaff.write,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      payload,
    });
    assert.equal(submitted.statusCode, 202, submitted.body);
    await t.ctx.jobs.drain();
    const id = submitted.json().id as number;
    for (const who of ['townshipStaff', 'supervisor', 'county'] as const) {
      const since = await lastId();
      const r = await call(who, 'GET', `/imports/${id}`);
      assert.equal(r.statusCode, 200, r.body);
      assert.ok(r.body.includes('周小审'), 'the review names the child');
      const entries = (await entriesSince(since)).filter((e) => e.action === 'import.review.read');
      assert.equal(entries.length, 1, `${who} opened an import naming children without an audit entry`);
      assert.equal(Number(entries[0]?.actor_user_id), userIds[who]);
      assert.equal(entries[0]?.region_code, T1);
      assert.equal(entries[0]?.entity_id, String(id));
    }
    // An import whose answer names nobody (no review) is not a read of personal data.
    const plain = await importErrorsOnce();
    const since = await lastId();
    await call('townshipStaff', 'GET', `/imports/${plain}`);
    assert.deepEqual(
      (await entriesSince(since)).map((e) => e.action),
      [],
    );
  });

  test('403 refusals of every kind are audited with the actor', async () => {
    const refusals: [Who, Method, string][] = [
      ['director', 'POST', `/persons/${child.id}/reveal`],
      ['prefecture', 'GET', `/persons/${child.id}`],
      ['prefecture', 'GET', '/stats/groups/members?group=orphan'],
      ['reporter', 'GET', '/persons'],
      ['director', 'GET', `/worklist?region=${V3}`],
      ['director', 'GET', `/stats/groups?region=${V3}`],
      ['director', 'PUT', '/groups/config'],
    ];
    for (const [who, method, url] of refusals) {
      const since = await lastId();
      const r = await call(who, method, url, method === 'PUT' ? { config: {}, version: 0 } : undefined);
      assert.equal(r.statusCode, 403, `${who} ${url}: ${r.body}`);
      const denied = (await entriesSince(since)).filter((e) => e.action === 'access.denied');
      assert.equal(denied.length, 1, `${who} ${url}`);
      assert.equal(Number(denied[0]?.actor_user_id), userIds[who]);
    }
  });
});

/** A registry template import by the township staff with one row error; resolves with its id. */
let errorsImport: Promise<number> | null = null;
function importErrorsOnce(): Promise<number> {
  errorsImport ??= (async () => {
    const good = makeIdNumber('410225', '2012-08-08', 813);
    const csv = [
      '户编号,姓名,公民身份号码,与户主关系,户籍地代码',
      `ATK2-IMP,吴好,${good},户主,${V1}`,
      `ATK2-IMP,吴坏,410225201208081234,子,${V1}`,
    ].join('\r\n');
    const boundary = `----tmpl${Date.now()}`;
    const payload = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="errors.csv"\r\nContent-Type: text/csv\r\n\r\n`,
      ),
      Buffer.from(csv),
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const r = await t.app.inject({
      method: 'POST',
      url: '/api/v1/imports',
      headers: {
        ...clients.townshipStaff.write,
        'content-type': `multipart/form-data; boundary=${boundary}`,
      },
      payload,
    });
    assert.equal(r.statusCode, 202, r.body);
    await t.ctx.jobs.drain();
    const done = (await call('townshipStaff', 'GET', `/imports/${r.json().id}`)).json();
    assert.ok(done.errorReport, JSON.stringify(done));
    return done.id as number;
  })();
  return errorsImport;
}
