// Session 19, attacks on access (tester-access findings 1-3): a merged record takes no writes and the
// template import never matches it; a person's edit does not change a household outside the editor's
// region; a number registered outside the caller's region says so instead of sending the clerk to a
// search that finds nobody. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, systemActor, type Role } from '../access/index.ts';
import { loadRegions } from '../regions/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { importRegistryFile, type Importer } from './registry.import.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';

const V1 = '410225101200'; // 堌阳镇 城内村: the director's village
const V3 = '410225102200'; // another township of the county
const TODAY = '2026-11-29';

let t: TestApp;
let dir: string;
let otherCountyVillage: string;
const tokens: Record<string, string> = {};

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

async function token(name: string, role: Role, regionCode: string): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode, individualAccess: false })).token;
}

function call(who: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function person(
  body: Record<string, unknown>,
  who = 'county',
): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', '/persons', body);
  assert.equal(r.statusCode, 201, r.body);
  return r.json();
}

async function household(householdNo: string, hukouRegionCode: string): Promise<number> {
  const r = await call('county', 'POST', '/households', { householdNo, hukouRegionCode });
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function row(id: number) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function householdRow(id: number) {
  return t.ctx.db.selectFrom('households').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function merge(id: number, intoId: number, who = 'county') {
  return call(who, 'POST', `/persons/${id}/merge`, { intoId, version: (await row(id)).version });
}

/** Two records of one elder without an ID number, the first merged into the second (`kept`: its own fields). */
async function mergedPair(
  name: string,
  extra: Record<string, unknown> = {},
  keptExtra: Record<string, unknown> = {},
) {
  const body = { name, noIdReason: '未登记', sex: 1, birthDate: '1950-05-05', hukouRegionCode: V1, ...extra };
  const dup = await person(body);
  const kept = await person({ ...body, ...keptExtra });
  const r = await merge(dup.id, kept.id);
  assert.equal(r.statusCode, 200, r.body);
  return { dup: dup.id, kept: kept.id };
}

function csv(rows: Record<string, string>[]): string {
  return (
    '\uFEFF' +
    [TEMPLATE_HEADERS.join(','), ...rows.map((r) => TEMPLATE_HEADERS.map((h) => r[h] ?? '').join(','))].join(
      '\r\n',
    ) +
    '\r\n'
  );
}

let fileNo = 0;
function file(rows: Record<string, string>[]): string {
  const name = path.join(dir, `f${++fileNo}.csv`);
  fs.writeFileSync(name, csv(rows));
  return name;
}

const countyImporter: Importer = { regionCode: '410225', userId: null, auditActor: systemActor('test') };

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-s19-access-'));
  t = await createTestApp();
  await loadRegions(t.database, { within: '410221' });
  const village = await sql<{ code: string }>`SELECT code FROM regions
    WHERE code LIKE '410221%' AND level = 5 ORDER BY code LIMIT 1`.execute(t.ctx.db);
  otherCountyVillage = village.rows[0]?.code as string;
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.otherCounty = await token('other-county', 'county_staff', '410221');
  tokens.township = await token('township', 'township_staff', '410225101');
  tokens.otherTownship = await token('other-township', 'township_staff', '410225102');
  tokens.director = await token('director', 'village_child_director', V1);
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('a merged record takes no writes', () => {
  test('facts, retraction, end, an ID number, a household and links on the merged record: 409 naming the person kept, nothing written', async () => {
    const { dup, kept } = await mergedPair('合并老人', { phone: '13800000001' });
    const before = await row(dup);
    const factsBefore = await t.ctx.db
      .selectFrom('person_facts')
      .select('id')
      .where('person_id', 'in', [dup, kept])
      .execute();
    const fact = await call('county', 'POST', `/persons/${kept}/facts`, {
      kind: 'living_arrangement',
      from: '2026-01-01',
      data: { value: 'alone' },
    });
    assert.equal(fact.statusCode, 201, fact.body);
    const factId = (fact.json() as { id: number }).id;
    const h = await household('S19-M1', V1);
    const child = await person({
      name: '合并孙',
      idNumber: makeIdNumber('410225', '2016-03-03', 41),
      hukouRegionCode: V1,
    });

    const refused = [
      await call('director', 'POST', `/persons/${dup}/facts`, {
        kind: 'living_arrangement',
        from: '2026-01-01',
        data: { value: 'alone' },
      }),
      await call('county', 'POST', `/persons/${dup}/facts/${factId}/retract`, { reason: '录错' }),
      await call('county', 'POST', `/persons/${dup}/facts/${factId}/end`, { to: '2026-02-01' }),
      await call('county', 'PATCH', `/persons/${dup}`, {
        version: before.version,
        idNumber: makeIdNumber('410225', '1950-05-05', 101),
        noIdReason: null,
      }),
      await call('county', 'PATCH', `/persons/${dup}`, {
        version: before.version,
        householdId: h,
        relationToHead: '户主',
      }),
      await call('county', 'POST', `/persons/${dup}/relations`, {
        relatedPersonId: child.id,
        kind: 'spouse',
        validFrom: '2026-01-01',
      }),
    ];
    for (const r of refused) {
      assert.equal(r.statusCode, 409, r.body);
      const body = r.json() as ErrorBody;
      assert.equal(body.error.code, 'CONFLICT');
      assert.match(body.error.message, new RegExp(`已合并至 #${kept}`));
    }
    const en = await call(
      'county',
      'POST',
      `/persons/${dup}/facts`,
      { kind: 'living_arrangement', from: '2026-01-01', data: { value: 'alone' } },
      'en',
    );
    assert.equal(en.statusCode, 409, en.body);
    assert.match((en.json() as ErrorBody).error.message, new RegExp(`merged into #${kept}`));

    // A merged record named in a body: the field is named with the person kept.
    const carer = await call('county', 'POST', `/persons/${child.id}/relations`, {
      relatedPersonId: dup,
      kind: 'carer',
      validFrom: '2026-01-01',
    });
    assert.equal(carer.statusCode, 409, carer.body);
    const detail = (carer.json() as ErrorBody).error.details?.[0];
    assert.equal(detail?.path, 'relatedPersonId');
    assert.match(detail?.message ?? '', new RegExp(`#${kept}`));
    const headed = await call('county', 'PATCH', `/households/${h}`, {
      version: (await householdRow(h)).version,
      headPersonId: dup,
    });
    assert.equal(headed.statusCode, 409, headed.body);
    assert.equal((headed.json() as ErrorBody).error.details?.[0]?.path, 'headPersonId');
    const created = await call('county', 'POST', '/households', {
      householdNo: 'S19-M2',
      hukouRegionCode: V1,
      headPersonId: dup,
    });
    assert.equal(created.statusCode, 409, created.body);

    // Nothing was written: the merged row, its facts, links, the households.
    const after = await row(dup);
    assert.equal(after.version, before.version);
    assert.equal(after.id_number, null);
    assert.equal(after.household_id, null);
    const factsAfter = await t.ctx.db
      .selectFrom('person_facts')
      .select(['id', 'person_id', 'valid_to', 'retracted_at'])
      .where('person_id', 'in', [dup, kept])
      .execute();
    assert.equal(factsAfter.length, factsBefore.length + 1);
    assert.ok(
      factsAfter.every((f) => f.person_id === kept && f.valid_to === null && f.retracted_at === null),
    );
    const links = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where((eb) => eb.or([eb('person_id', '=', dup), eb('related_person_id', '=', dup)]))
      .execute();
    assert.deepEqual(links, []);
    assert.equal((await householdRow(h)).head_person_id, null);
    assert.equal(
      (await t.ctx.db.selectFrom('households').select('id').where('household_no', '=', 'S19-M2').execute())
        .length,
      0,
    );

    // The merged record's file still opens (history), showing the person kept; its reveal is a read too.
    const file = await call('county', 'GET', `/persons/${dup}`);
    assert.equal(file.statusCode, 200, file.body);
    assert.equal((file.json() as { mergedInto: number }).mergedInto, kept);
    const reveal = await call('county', 'POST', `/persons/${dup}/reveal`);
    assert.equal(reveal.statusCode, 200, reveal.body);
  });

  test('the template import never matches a merged record by a number written on it before: the number goes to the person kept', async () => {
    const h = await household('S19-IMP', V1);
    const { dup, kept } = await mergedPair('导入老人', {}, { householdId: h, relationToHead: '户主' });
    assert.equal((await householdRow(h)).head_person_id, kept);
    // A registry written before merged records were closed to writes: a number on the merged record.
    const id = makeIdNumber('410225', '1950-05-05', 151);
    await t.ctx.db
      .updateTable('persons')
      .set({ id_number: id, no_id_reason: null })
      .where('id', '=', dup)
      .execute();
    const rows = [
      {
        户编号: 'S19-IMP',
        姓名: '导入老人',
        公民身份号码: id,
        与户主关系: '户主',
        户籍地代码: V1,
        居住状况: '与配偶同住',
      },
    ];
    // A dry run changes nothing, the merged record's number included.
    const dry = await importRegistryFile(t.ctx.database, file(rows), countyImporter, {
      today: TODAY,
      dryRun: true,
    });
    assert.equal(dry.status, 'succeeded');
    assert.equal((await row(dup)).id_number, id);

    const outcome = await importRegistryFile(t.ctx.database, file(rows), countyImporter, { today: TODAY });
    assert.equal(outcome.status, 'succeeded', JSON.stringify(outcome.message));
    assert.equal(outcome.counts.errors, 0);
    assert.equal(outcome.counts.inserted, 0);
    assert.equal(outcome.counts.updated, 1);
    // The row is the person kept (same name and birth date in the household, no number yet).
    assert.equal((await row(kept)).id_number, id);
    const merged = await row(dup);
    assert.equal(merged.id_number, null);
    assert.equal(merged.no_id_reason, `merged:${id.slice(-6)}`);
    const living = await t.ctx.db
      .selectFrom('person_facts')
      .select(['person_id', 'data'])
      .where('person_id', 'in', [dup, kept])
      .where('kind', '=', 'living_arrangement')
      .execute();
    assert.deepEqual(
      living.map((f) => [f.person_id, (f.data as { value: string }).value]),
      [[kept, 'spouse_only']],
    );
    assert.equal((await householdRow(h)).head_person_id, kept);
  });

  test('a number left on a merged record is released when the API registers it, audited in that record’s region', async () => {
    const { dup } = await mergedPair('登记老人');
    const id = makeIdNumber('410225', '1950-05-05', 171);
    await t.ctx.db
      .updateTable('persons')
      .set({ id_number: id, no_id_reason: null })
      .where('id', '=', dup)
      .execute();
    const created = await call('county', 'POST', '/persons', {
      name: '登记老人',
      idNumber: id,
      hukouRegionCode: V1,
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal((await row(dup)).id_number, null);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['region_code', 'details'])
      .where('action', '=', 'person.update')
      .where('entity_id', '=', String(dup))
      .executeTakeFirstOrThrow();
    assert.equal(entry.region_code, V1);
    assert.deepEqual((entry.details as { fields: string[] }).fields, ['idNumber']);
    assert.doesNotMatch(JSON.stringify(entry.details), new RegExp(id.slice(-6)));
  });
});

describe('a person’s edit does not change a household outside the editor’s region', () => {
  test('the director makes a villager head of a household of another township, or takes them out of it: 403 naming the field, nothing written', async () => {
    const h = await household('S19-OUT-1', V3);
    const p = await person(
      { name: '测试丁', idNumber: makeIdNumber('410225', '1985-06-06', 211), hukouRegionCode: V1 },
      'director',
    );
    const placed = await call('county', 'PATCH', `/persons/${p.id}`, {
      version: (await row(p.id)).version,
      householdId: h,
      relationToHead: '子',
    });
    assert.equal(placed.statusCode, 200, placed.body);
    assert.equal((await call('director', 'GET', `/households/${h}`)).statusCode, 404);

    const before = await householdRow(h);
    const personBefore = await row(p.id);
    const head = await call('director', 'PATCH', `/persons/${p.id}`, {
      version: personBefore.version,
      relationToHead: '户主',
    });
    assert.equal(head.statusCode, 403, head.body);
    const body = head.json() as ErrorBody;
    assert.equal(body.error.code, 'FORBIDDEN');
    assert.equal(body.error.details?.[0]?.path, 'relationToHead');
    assert.match(body.error.message, /管辖范围以外/);
    const after = await householdRow(h);
    assert.equal(after.head_person_id, null);
    assert.equal(after.version, before.version);
    assert.equal((await row(p.id)).relation_to_head, '子');
    assert.equal((await row(p.id)).version, personBefore.version);

    // County staff, whose region holds both, make them the head; the director cannot take it away.
    const byCounty = await call('county', 'PATCH', `/persons/${p.id}`, {
      version: personBefore.version,
      relationToHead: '户主',
    });
    assert.equal(byCounty.statusCode, 200, byCounty.body);
    assert.equal((await householdRow(h)).head_person_id, p.id);
    const headed = await householdRow(h);
    const headedPerson = await row(p.id);
    const leave = await call(
      'director',
      'PATCH',
      `/persons/${p.id}`,
      { version: headedPerson.version, householdId: null },
      'en',
    );
    assert.equal(leave.statusCode, 403, leave.body);
    const leaveBody = leave.json() as ErrorBody;
    assert.equal(leaveBody.error.details?.[0]?.path, 'householdId');
    assert.match(leaveBody.error.message, /outside your region/);
    assert.equal((await householdRow(h)).head_person_id, p.id);
    assert.equal((await householdRow(h)).version, headed.version);
    assert.equal((await row(p.id)).household_id, h);
    assert.equal((await row(p.id)).version, headedPerson.version);

    // An edit that leaves the household alone still goes through.
    const phone = await call('director', 'PATCH', `/persons/${p.id}`, {
      version: headedPerson.version,
      phone: '13900000002',
    });
    assert.equal(phone.statusCode, 200, phone.body);
  });

  test('a merge whose merged record heads a household of another township is refused; nothing is merged', async () => {
    const h = await household('S19-OUT-2', V3);
    const body = {
      name: '合并户主',
      noIdReason: '未登记',
      sex: 1,
      birthDate: '1960-07-07',
      hukouRegionCode: V1,
    };
    const dup = await person({ ...body, householdId: h, relationToHead: '户主' });
    const kept = await person(body);
    assert.equal((await householdRow(h)).head_person_id, dup.id);
    const r = await merge(dup.id, kept.id, 'township');
    assert.equal(r.statusCode, 403, r.body);
    assert.equal((r.json() as ErrorBody).error.details?.[0]?.path, 'intoId');
    assert.equal((await row(dup.id)).merged_into, null);
    assert.equal((await householdRow(h)).head_person_id, dup.id);
  });
});

describe('an ID number registered outside the caller’s region', () => {
  test('says so, in Chinese and English, naming nothing of the holder; within the region it names the person to look up', async () => {
    const id = makeIdNumber('410225', '2018-02-02', 124);
    const holder = await person({ name: '李小花', idNumber: id, hukouRegionCode: V1 }, 'director');
    const registerElsewhere = (who: string, hukouRegionCode: string, lang = 'zh') =>
      call(who, 'POST', '/persons', { name: '李小花', idNumber: id, hukouRegionCode }, lang);

    for (const [who, village] of [
      ['otherCounty', otherCountyVillage],
      ['otherTownship', V3],
    ] as const) {
      const zh = await registerElsewhere(who, village);
      assert.equal(zh.statusCode, 409, zh.body);
      const body = zh.json() as ErrorBody;
      assert.equal(body.error.code, 'CONFLICT');
      assert.match(body.error.message, /已在您管辖范围以外的地区登记/);
      assert.doesNotMatch(body.error.message, /请先查找/);
      assert.doesNotMatch(body.error.message, new RegExp(`#${holder.id}|${V1}|李小花`));
      assert.equal(body.error.details?.[0]?.path, 'idNumber');
      const en = await registerElsewhere(who, village, 'en');
      assert.match((en.json() as ErrorBody).error.message, /registered in a region outside yours/);
      assert.doesNotMatch((en.json() as ErrorBody).error.message, /search/);
    }

    // A number given to a person of one's own by PATCH: the same answer.
    const own = await person(
      {
        name: '杞县人',
        noIdReason: '未登记',
        sex: 2,
        birthDate: '2018-02-02',
        hukouRegionCode: otherCountyVillage,
      },
      'otherCounty',
    );
    const patched = await call('otherCounty', 'PATCH', `/persons/${own.id}`, {
      version: own.version,
      idNumber: id,
      noIdReason: null,
    });
    assert.equal(patched.statusCode, 409, patched.body);
    assert.match((patched.json() as ErrorBody).error.message, /管辖范围以外/);

    // Within the region the holder is found by a search: the message names them.
    const inScope = await registerElsewhere('county', V1);
    assert.equal(inScope.statusCode, 409, inScope.body);
    assert.match((inScope.json() as ErrorBody).error.message, new RegExp(`#${holder.id}.*请先查找该人员`));
    assert.equal((await row(holder.id)).hukou_region_code, V1);
  });
});
