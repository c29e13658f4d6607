// Attacks found in review (session 10): an import that links a made-up family member to a person
// registered elsewhere, to read their name and facts and to rewrite their care groups; and a household
// head change that names and rewrites a head registered outside the caller's region.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from './support/db.ts';
import { makeUser, signIn, type Client } from './support/access.ts';
import type { Role } from '../src/modules/access/index.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { writeRegistryRecords } from '../src/modules/registry/registry.writer.ts';
import type { RegistryRecord } from '../src/modules/registry/registry.template.ts';
import { person as templatePerson } from './fixtures/registry/make-fixtures.ts';
import { multipartFile } from './support/upload.ts';

const V1 = '410225101200'; // 堌阳镇
const T1 = '410225101';
const V3 = '410225102200'; // 南彰镇
const T3 = '410225102';
const FAR_COUNTY = '130123'; // 正定县, Hebei

let t: TestApp;
let far = '';
const clients: Record<string, Client> = {};

async function call(who: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: object) {
  const client = clients[who] as Client;
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: method === 'GET' ? client.headers : client.write,
    ...(payload !== undefined ? { payload } : {}),
  });
}

async function created(who: string, url: string, payload: object): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

/** A template row: make-fixtures' person with the fields these tests set, no phone or ethnicity. */
const record = (r: Partial<RegistryRecord>): RegistryRecord =>
  templatePerson({
    ethnicity: null,
    phone: null,
    migrant: null,
    relationToHead: '其他',
    ...(r.hukouRegionCode ? { residenceRegionCode: r.hukouRegionCode } : {}),
    ...r,
  });

async function csvOf(records: RegistryRecord[]): Promise<Buffer> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(Buffer.from(c)));
  const done = new Promise((resolve) => out.on('end', resolve));
  await writeRegistryRecords(out, records, { format: 'csv' });
  if (!out.writableEnded) out.end();
  await done;
  return Buffer.concat(chunks);
}

async function importFile(who: string, name: string, content: Buffer) {
  const { payload, contentType } = multipartFile(name, content);
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/imports',
    headers: { ...(clients[who] as Client).write, 'content-type': contentType },
    payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  await t.ctx.jobs.drain();
  const done = await call(who, 'GET', `/imports/${r.json().id}`);
  return done.json() as {
    status: string;
    counts: { inserted: number; errors: number; unchanged: number };
    errorReport: { csv: string } | null;
  };
}

const groupsOf = (personId: number) =>
  t.ctx.db
    .selectFrom('group_memberships')
    .select(['group_code', 'since', 'until'])
    .where('person_id', '=', personId)
    .orderBy('group_code')
    .execute();

before(async () => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'attacks4-'));
  t = await createTestApp({ dataDir });
  await loadRegions(t.database, { within: FAR_COUNTY });
  const village = await t.ctx.db
    .selectFrom('regions')
    .select('code')
    .where('level', '=', 5)
    .where('code', 'like', `${FAR_COUNTY}%`)
    .where('rural', '=', true)
    .orderBy('code')
    .executeTakeFirstOrThrow();
  far = village.code;
  const accounts: Record<string, [Role, string]> = {
    county: ['county_staff', '410225'],
    farCounty: ['county_staff', FAR_COUNTY],
    township: ['township_staff', T3],
    director: ['village_child_director', V1],
  };
  for (const [who, [role, region]] of Object.entries(accounts)) {
    await makeUser(t.ctx, `a4.${who.toLowerCase()}`, role, region);
    const { client } = await signIn(t.app, `a4.${who.toLowerCase()}`);
    assert.ok(client);
    clients[who] = client;
  }
});
after(async () => t.close());

describe('an import links only to persons registered in the importer’s region', () => {
  const PRISONER = '远省服刑人';
  const ELDER = '远省留守老人';
  const prisonerId = makeIdNumber(FAR_COUNTY, '1985-03-03', 171);
  const elderId = makeIdNumber(FAR_COUNTY, '1950-05-05', 191);
  let elder: { id: number };

  before(async () => {
    const h = await created('farCounty', '/households', { householdNo: 'FAR-1', hukouRegionCode: far });
    const prisoner = await created('farCounty', '/persons', {
      idNumber: prisonerId,
      name: PRISONER,
      hukouRegionCode: far,
      householdId: h.id,
      relationToHead: '户主',
    });
    await created('farCounty', `/persons/${prisoner.id}/facts`, {
      kind: 'liberty_restriction',
      from: '2024-01-01',
      data: { type: 'sentence' },
    });
    // An elder whose only child has worked away since 2023: left behind.
    const h2 = await created('farCounty', '/households', { householdNo: 'FAR-2', hukouRegionCode: far });
    elder = await created('farCounty', '/persons', {
      idNumber: elderId,
      name: ELDER,
      hukouRegionCode: far,
      householdId: h2.id,
      relationToHead: '户主',
    });
    const son = await created('farCounty', '/persons', {
      idNumber: makeIdNumber(FAR_COUNTY, '1978-02-02', 211),
      name: '远省儿子',
      hukouRegionCode: far,
      householdId: h2.id,
      relationToHead: '子',
    });
    await created('farCounty', `/persons/${son.id}/facts`, {
      kind: 'migration',
      from: '2023-01-01',
      data: { destination: '北京' },
    });
    await created('farCounty', `/persons/${son.id}/relations`, { relatedPersonId: elder.id, kind: 'parent' });
    await t.ctx.jobs.drain();
  });

  test('a made-up child naming a person of another province as father, and a made-up son of an elder there, are refused on their rows', async () => {
    const elderBefore = await groupsOf(elder.id);
    assert.ok(elderBefore.some((g) => g.group_code === 'left_behind_elderly' && g.until === null));
    const relationsBefore = await t.ctx.db
      .selectFrom('person_relations')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    const motherId = makeIdNumber('410225', '1988-04-04', 222);
    const file = await csvOf([
      record({
        householdNo: 'ATK-9',
        name: '假母亲',
        idNumber: motherId,
        sex: 2,
        birthDate: '1988-04-04',
        hukouRegionCode: V3,
        relationToHead: '户主',
        deathDate: '2023-01-01',
      }),
      record({
        householdNo: 'ATK-9',
        name: '假孩子',
        idNumber: makeIdNumber('410225', '2018-06-06', 313),
        sex: 1,
        birthDate: '2018-06-06',
        hukouRegionCode: V3,
        relationToHead: '子',
        fatherIdNumber: prisonerId,
        motherIdNumber: motherId,
      }),
      record({
        householdNo: 'ATK-9',
        name: '假儿子',
        idNumber: makeIdNumber('410225', '1980-07-07', 333),
        sex: 1,
        birthDate: '1980-07-07',
        hukouRegionCode: V3,
        relationToHead: '兄弟姐妹',
        fatherIdNumber: elderId,
      }),
    ]);
    const result = await importFile('township', 'made-up.csv', file);
    assert.equal(result.status, 'succeeded', JSON.stringify(result));
    assert.equal(result.counts.errors, 2, JSON.stringify(result));
    assert.equal(result.counts.inserted, 1, 'the made-up mother, who names nobody, is written');
    const report = await call(
      'township',
      'GET',
      (result.errorReport as { csv: string }).csv.replace('/api/v1', ''),
    );
    assert.equal(report.statusCode, 200);
    assert.match(report.body, /也未在您管辖的地区登记/);
    // The same answer as for a number that matches nobody: nothing says the person exists elsewhere.
    assert.ok(!report.body.includes(PRISONER) && !report.body.includes(ELDER), 'no name from the registry');
    const relationsAfter = await t.ctx.db
      .selectFrom('person_relations')
      .select(sql<number>`count(*)::int`.as('n'))
      .executeTakeFirstOrThrow();
    assert.equal(relationsAfter.n, relationsBefore.n, 'no link made');
    await t.ctx.jobs.drain();
    assert.deepEqual(await groupsOf(elder.id), elderBefore, 'the elder’s groups in Hebei are untouched');
    // Nothing of the prisoner reaches the township: no person of that name in its search.
    const search = await call('township', 'GET', `/persons?q=${encodeURIComponent(PRISONER)}`);
    assert.equal(search.statusCode, 200);
    assert.ok(!search.body.includes(PRISONER));
  });

  test('an existing link to a person outside stays: the file exported and imported back changes nothing', async () => {
    // A link made by someone whose region holds both (here written directly, as a county of a
    // province-wide deployment could have made it before).
    const child = await created('county', '/persons', {
      idNumber: makeIdNumber('410225', '2017-03-03', 414),
      name: '跨省孩子',
      hukouRegionCode: V3,
    });
    const prisoner = await t.ctx.db
      .selectFrom('persons')
      .select('id')
      .where('id_number', '=', prisonerId)
      .executeTakeFirstOrThrow();
    await t.ctx.db
      .insertInto('person_relations')
      .values({ person_id: child.id, related_person_id: prisoner.id, kind: 'parent', subtype: 'biological' })
      .execute();
    const file = await csvOf([
      record({
        householdNo: 'ATK-10',
        name: '跨省孩子',
        idNumber: makeIdNumber('410225', '2017-03-03', 414),
        sex: 2,
        birthDate: '2017-03-03',
        hukouRegionCode: V3,
        relationToHead: '户主',
        fatherIdNumber: prisonerId,
      }),
    ]);
    const result = await importFile('township', 'existing-link.csv', file);
    const why = result.errorReport
      ? (await call('township', 'GET', result.errorReport.csv.replace('/api/v1', ''))).body
      : '';
    assert.equal(result.counts.errors, 0, why);
  });
});

describe('a household head registered outside the caller’s region', () => {
  const OUTSIDER = '外乡户主保密';
  let household: { id: number };
  let outsider: { id: number };
  let insider: { id: number };

  before(async () => {
    household = await created('county', '/households', { householdNo: 'P-0001', hukouRegionCode: V1 });
    outsider = await created('county', '/persons', {
      idNumber: makeIdNumber('410225', '1970-01-01', 111),
      name: OUTSIDER,
      hukouRegionCode: V3,
      householdId: household.id,
      relationToHead: '户主',
    });
    insider = await created('county', '/persons', {
      idNumber: makeIdNumber('410225', '1995-01-01', 131),
      name: '本村成员',
      hukouRegionCode: V1,
      householdId: household.id,
      relationToHead: '子',
    });
  });

  const outsiderRow = () =>
    t.ctx.db
      .selectFrom('persons')
      .select(['relation_to_head', 'version'])
      .where('id', '=', outsider.id)
      .executeTakeFirstOrThrow();

  test('is neither named nor rewritten by a head change, with or without the former head’s relation', async () => {
    const before = await outsiderRow();
    for (const extra of [{}, { formerHeadRelationToHead: '父亲' }]) {
      const h = (await call('director', 'GET', `/households/${household.id}`)).json();
      const r = await call('director', 'PATCH', `/households/${household.id}`, {
        version: h.version,
        headPersonId: insider.id,
        ...extra,
      });
      assert.equal(r.statusCode, 400, r.body);
      assert.ok(!r.body.includes(OUTSIDER), r.body);
      assert.match(r.json().error.details[0].message, /户籍在您的管辖范围以外/);
      assert.equal(r.json().error.details[0].path, 'headPersonId');
    }
    assert.deepEqual(await outsiderRow(), before, 'the outsider’s record is unchanged');
    // The county, whose region holds both, changes the head.
    const h = (await call('county', 'GET', `/households/${household.id}`)).json();
    const r = await call('county', 'PATCH', `/households/${household.id}`, {
      version: h.version,
      headPersonId: insider.id,
      formerHeadRelationToHead: '父亲',
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await outsiderRow()).relation_to_head, '父亲');
    // Back again for the next test.
    const h2 = (await call('county', 'GET', `/households/${household.id}`)).json();
    const back = await call('county', 'PATCH', `/households/${household.id}`, {
      version: h2.version,
      headPersonId: outsider.id,
      formerHeadRelationToHead: '子',
    });
    assert.equal(back.statusCode, 200, back.body);
  });

  test('is not named when another member is registered as 户主', async () => {
    const r = await call('director', 'POST', '/persons', {
      idNumber: makeIdNumber('410225', '1990-01-01', 151),
      name: '新户主',
      hukouRegionCode: V1,
      householdId: household.id,
      relationToHead: '户主',
    });
    assert.equal(r.statusCode, 409, r.body);
    assert.ok(!r.body.includes(OUTSIDER), r.body);
    assert.match(r.body, /户籍在您的管辖范围以外/);
    // The county sees the name.
    const county = await call('county', 'POST', '/persons', {
      idNumber: makeIdNumber('410225', '1990-01-01', 151),
      name: '新户主',
      hukouRegionCode: V1,
      householdId: household.id,
      relationToHead: '户主',
    });
    assert.equal(county.statusCode, 409, county.body);
    assert.ok(county.body.includes(OUTSIDER));
  });

  test('is not named by a template import that would change the head', async () => {
    const file = await csvOf([
      record({
        householdNo: 'P-0001',
        name: '本村成员',
        idNumber: makeIdNumber('410225', '1995-01-01', 131),
        sex: 1,
        birthDate: '1995-01-01',
        hukouRegionCode: V1,
        relationToHead: '户主',
      }),
    ]);
    const township = await makeUser(t.ctx, 'a4.township1', 'township_staff', T1);
    const { client } = await signIn(t.app, township.username);
    assert.ok(client);
    clients.township1 = client;
    const result = await importFile('township1', 'head-change.csv', file);
    assert.equal(result.counts.errors, 1, JSON.stringify(result));
    const report = await call(
      'township1',
      'GET',
      (result.errorReport as { csv: string }).csv.replace('/api/v1', ''),
    );
    assert.match(report.body, /本户现有户主（户籍在您的管辖范围以外）/);
    assert.ok(!report.body.includes(OUTSIDER));
  });
});
