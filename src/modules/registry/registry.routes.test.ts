// The registry over HTTP: persons and households, version conflicts, scoping, masking and the
// audited reveal, search, facts, duplicates and merge. Runs on PGlite, or PostgreSQL with
// TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, verifyAuditChain, type Role } from '../access/index.ts';
import { loadRegions } from '../regions/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const V2 = '410225101201'; // 堌阳镇 任庄村
const V3 = '410225102200'; // another township

let t: TestApp;
const tokens: Record<string, string> = {};

async function token(
  name: string,
  role: Role,
  regionCode: string | null,
  individualAccess = false,
): Promise<string> {
  const created = await createToken(t.ctx, null, { name, role, regionCode, individualAccess });
  return created.token;
}

function call(who: string, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

const XIAOMING_ID = makeIdNumber('410225', '2015-03-02', 123);
const FATHER_ID = makeIdNumber('410225', '1985-06-01', 111);
let xiaoming: { id: number; version: number };
let father: { id: number };
let otherVillager: { id: number };
let householdId: number;

before(async () => {
  t = await createTestApp();
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.v1 = await token('v1', 'village_child_director', V1);
  tokens.v2 = await token('v2', 'village_child_director', V2);
  tokens.township = await token('township', 'township_staff', '410225101');
  tokens.prefecture = await token('prefecture', 'prefecture_viewer', '4102');
  tokens.granted = await token('granted', 'prefecture_viewer', '4102', true);
  // A prefecture of the same province with a grant of its own (郑州市, one county of it loaded).
  await loadRegions(t.database, { within: '410105' });
  tokens.grantedElsewhere = await token('granted-elsewhere', 'prefecture_viewer', '4101', true);

  const household = await call('county', 'POST', '/households', {
    householdNo: 'GY-0001',
    hukouRegionCode: V1,
    address: '堌阳镇城内村1号',
    annualIncomeFen: 1_200_000,
    bankAccount: '6228480012345678',
  });
  assert.equal(household.statusCode, 201, household.body);
  householdId = household.json().id;

  const f = await call('county', 'POST', '/persons', {
    idNumber: FATHER_ID,
    name: '张大明',
    hukouRegionCode: V1,
    householdId,
    relationToHead: '户主',
    phone: '13812345678',
  });
  assert.equal(f.statusCode, 201, f.body);
  father = f.json();
  const x = await call('county', 'POST', '/persons', {
    idNumber: XIAOMING_ID.toLowerCase(),
    name: '张晓明',
    hukouRegionCode: V1,
    householdId,
    relationToHead: '子',
    phone: '139 1234 5678',
  });
  assert.equal(x.statusCode, 201, x.body);
  xiaoming = x.json();
  const o = await call('county', 'POST', '/persons', {
    idNumber: makeIdNumber('410225', '2012-09-09', 222),
    name: '李小红',
    hukouRegionCode: V2,
  });
  assert.equal(o.statusCode, 201, o.body);
  otherVillager = o.json();
  const rel = await call('county', 'POST', `/persons/${xiaoming.id}/relations`, {
    relatedPersonId: father.id,
    kind: 'parent',
  });
  assert.equal(rel.statusCode, 201, rel.body);
  xiaoming.version = rel.json().version;
});

after(async () => {
  await t.close();
});

describe('persons: model and versions', () => {
  test('a person is stored with sex and birth date from the ID number and a normalised phone', async () => {
    const r = await call('county', 'GET', `/persons/${xiaoming.id}`);
    assert.equal(r.statusCode, 200, r.body);
    const p = r.json();
    assert.equal(p.sex, 1);
    assert.equal(p.birthDate, '2015-03-02');
    assert.equal(p.namePinyin, 'zhangxiaoming');
    assert.equal(p.householdNo, 'GY-0001');
    assert.equal(p.relations[0].role, 'parent');
    assert.equal(p.relations[0].name, '张大明');
    // No fact puts him in a care group (the groups' own tests cover the file's groups).
    assert.deepEqual(p.groups, []);
  });

  test('an update with a stale version is refused with 409 CONFLICT', async () => {
    const current = (await call('county', 'GET', `/persons/${xiaoming.id}`)).json();
    const ok = await call('county', 'PATCH', `/persons/${xiaoming.id}`, {
      version: current.version,
      ethnicity: '汉族',
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().version, current.version + 1);
    const stale = await call('county', 'PATCH', `/persons/${xiaoming.id}`, {
      version: current.version,
      ethnicity: '回族',
    });
    assert.equal(stale.statusCode, 409);
    assert.equal(stale.json().error.code, 'CONFLICT');
  });

  test('an invalid ID number is a 400 naming the field with the reason in the user’s language', async () => {
    const bad = makeIdNumber('410225', '2010-01-01', 333).slice(0, 17) + '0';
    const r = await call(
      'county',
      'POST',
      '/persons',
      { idNumber: bad, name: '王五', hukouRegionCode: V1 },
      'en',
    );
    assert.equal(r.statusCode, 400);
    const error = r.json().error;
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.equal(error.details[0].path, 'idNumber');
    assert.match(error.details[0].message, /check character/);
    const zh = await call('county', 'POST', '/persons', { idNumber: bad, name: '王五', hukouRegionCode: V1 });
    assert.match(zh.json().error.details[0].message, /校验码/);
  });

  test('one ID number is one person: registering it again is a conflict', async () => {
    const r = await call('county', 'POST', '/persons', {
      idNumber: XIAOMING_ID,
      name: '张晓明',
      hukouRegionCode: V3,
    });
    assert.equal(r.statusCode, 409);
  });

  test('a person without an ID number needs the reason', async () => {
    const r = await call('county', 'POST', '/persons', {
      name: '无名',
      hukouRegionCode: V1,
      sex: 2,
      birthDate: '2025-01-01',
    });
    assert.equal(r.statusCode, 400);
    assert.equal(r.json().error.details[0].path, 'idNumber');
  });

  test('a name is written as the import writes it: padding between characters dropped, the name dot unified', async () => {
    const r = await call('county', 'POST', '/persons', {
      idNumber: makeIdNumber('410225', '2013-04-05', 333),
      name: ' 张\u3000伟 ',
      hukouRegionCode: V1,
    });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal(r.json().name, '张伟');
    const edited = await call('county', 'PATCH', `/persons/${r.json().id}`, {
      version: r.json().version,
      name: '阿依古丽•买买提',
    });
    assert.equal(edited.statusCode, 200, edited.body);
    assert.equal(edited.json().name, '阿依古丽·买买提');
  });

  test('a household shows its members, their relations and income; the bank account is stored masked', async () => {
    const r = await call('v1', 'GET', `/households/${householdId}`);
    assert.equal(r.statusCode, 200, r.body);
    const h = r.json();
    assert.deepEqual(h.members.map((m: { name: string }) => m.name).sort(), ['张大明', '张晓明']);
    assert.equal(h.relations.length, 1);
    assert.equal(h.annualIncomeFen, 1_200_000);
    assert.equal(h.bankAccountMasked, '************5678');
    const stale = await call('county', 'PATCH', `/households/${householdId}`, {
      version: h.version + 5,
      address: 'x',
    });
    assert.equal(stale.statusCode, 409);
    const ok = await call('county', 'PATCH', `/households/${householdId}`, {
      version: h.version,
      headPersonId: father.id,
    });
    assert.equal(ok.statusCode, 200, ok.body);
    assert.equal(ok.json().headPersonId, father.id);
  });
});

describe('scoping', () => {
  test('a village director lists only the persons of the own village', async () => {
    const r = await call('v1', 'GET', '/persons');
    assert.equal(r.statusCode, 200);
    const villages = new Set(r.json().items.map((p: { hukouRegionCode: string }) => p.hukouRegionCode));
    assert.deepEqual([...villages], [V1]);
    const r2 = await call('v2', 'GET', '/persons');
    assert.deepEqual(
      r2.json().items.map((p: { id: number }) => p.id),
      [otherVillager.id],
    );
  });

  test('reading a person or household of another village answers 404', async () => {
    assert.equal((await call('v2', 'GET', `/persons/${xiaoming.id}`)).statusCode, 404);
    assert.equal((await call('v2', 'GET', `/households/${householdId}`)).statusCode, 404);
    assert.equal((await call('v1', 'GET', `/persons/${otherVillager.id}`)).statusCode, 404);
    const patch = await call('v2', 'PATCH', `/persons/${xiaoming.id}`, { version: 1, name: 'x' });
    assert.equal(patch.statusCode, 404);
  });

  test('creating a person outside the own region is refused', async () => {
    const r = await call('v1', 'POST', '/persons', {
      idNumber: makeIdNumber('410225', '2011-01-01', 444),
      name: '赵六',
      hukouRegionCode: V2,
    });
    assert.equal(r.statusCode, 403);
    assert.equal(r.json().error.details[0].path, 'hukouRegionCode');
  });

  test('viewers above the county get 403 unless granted individual access', async () => {
    assert.equal((await call('prefecture', 'GET', '/persons')).statusCode, 403);
    assert.equal((await call('prefecture', 'GET', `/persons/${xiaoming.id}`)).statusCode, 403);
    assert.equal((await call('prefecture', 'GET', `/households/${householdId}`)).statusCode, 403);
  });

  test('a viewer granted individual access reads persons in the region, masked, and changes nothing', async () => {
    const file = await call('granted', 'GET', `/persons/${xiaoming.id}`);
    assert.equal(file.statusCode, 200, file.body);
    assert.equal(file.json().idNumber, `${XIAOMING_ID.slice(0, 4)}${'*'.repeat(14)}`);
    const list = await call('granted', 'GET', `/persons?idNumber=${XIAOMING_ID}`);
    assert.deepEqual(
      list.json().items.map((p: { id: number }) => p.id),
      [xiaoming.id],
    );
    assert.equal((await call('granted', 'GET', `/households/${householdId}`)).statusCode, 200);
    // Read only: no reveal, no change, no export.
    assert.equal((await call('granted', 'POST', `/persons/${xiaoming.id}/reveal`)).statusCode, 403);
    const edit = await call('granted', 'PATCH', `/persons/${xiaoming.id}`, {
      version: xiaoming.version,
      name: '改名',
    });
    assert.equal(edit.statusCode, 403, edit.body);
    assert.equal(
      (await call('granted', 'GET', '/exports/registry?region=410225&format=csv')).statusCode,
      403,
    );
    // The grant reaches no further than the viewer's own region.
    assert.equal((await call('grantedElsewhere', 'GET', `/persons/${xiaoming.id}`)).statusCode, 404);
    assert.deepEqual((await call('grantedElsewhere', 'GET', '/persons')).json().items, []);
  });

  test('keyset pagination walks the scope by id', async () => {
    const first = await call('county', 'GET', '/persons?limit=2');
    const page1 = first.json();
    assert.equal(page1.items.length, 2);
    assert.ok(page1.nextCursor);
    const page2 = (await call('county', 'GET', `/persons?limit=2&cursor=${page1.nextCursor}`)).json();
    assert.ok(page2.items.every((p: { id: number }) => p.id > Number(page1.nextCursor)));
  });
});

describe('masking and the audited reveal', () => {
  test('the ID number and phone are masked in lists and files', async () => {
    const p = (await call('county', 'GET', `/persons/${xiaoming.id}`)).json();
    assert.equal(p.idNumber, `${XIAOMING_ID.slice(0, 4)}${'*'.repeat(14)}`);
    assert.equal(p.phone, '139****5678');
    const list = (await call('county', 'GET', `/persons?idNumber=${XIAOMING_ID}`)).json();
    assert.equal(list.items[0].idNumber, p.idNumber);
  });

  test('reading a person file is audited', async () => {
    await call('v1', 'GET', `/persons/${xiaoming.id}`);
    const rows = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.read' AND entity_id = ${String(xiaoming.id)}`.execute(
      t.ctx.db,
    );
    assert.ok((rows.rows[0]?.n ?? 0) >= 1);
  });

  test('a list is audited before it answers, and fails when its audit entry cannot be written', async () => {
    const r = await call('county', 'GET', `/persons?region=${V1}&q=${encodeURIComponent('张')}`);
    assert.equal(r.statusCode, 200, r.body);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'actor_username', 'region_code', 'details', 'request_id'])
      .orderBy('id', 'desc')
      .where('action', '=', 'person.search')
      .executeTakeFirstOrThrow();
    assert.deepEqual(entry, {
      action: 'person.search',
      actor_username: 'token:county',
      region_code: V1,
      details: { by: ['q', 'region'], limit: 50 },
      request_id: entry.request_id,
    });
    assert.ok(entry.request_id, 'the entry carries the request id');
    assert.equal((await verifyAuditChain(t.ctx.db)).ok, true);

    await sql`ALTER TABLE audit_log ADD CONSTRAINT refuse_search CHECK (action <> 'person.search') NOT VALID`.execute(
      t.ctx.db,
    );
    try {
      const refused = await call('county', 'GET', `/persons?region=${V1}`);
      assert.equal(refused.statusCode, 500);
      assert.equal(refused.json().items, undefined, 'no list leaves without its audit entry');
    } finally {
      await sql`ALTER TABLE audit_log DROP CONSTRAINT refuse_search`.execute(t.ctx.db);
    }
    assert.equal((await call('county', 'GET', `/persons?region=${V1}`)).statusCode, 200);
    assert.equal((await verifyAuditChain(t.ctx.db)).ok, true);
  });

  test('a role without persons.reveal cannot reveal; county staff can, and the reveal is audited', async () => {
    assert.equal((await call('v1', 'POST', `/persons/${xiaoming.id}/reveal`)).statusCode, 403);
    const r = await call('county', 'POST', `/persons/${xiaoming.id}/reveal`);
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), {
      id: xiaoming.id,
      idNumber: XIAOMING_ID,
      phone: '13912345678',
      birthCertNo: null,
      noIdReason: null,
      facts: [],
    });
    const rows = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.reveal' AND entity_id = ${String(xiaoming.id)}`.execute(
      t.ctx.db,
    );
    assert.equal(rows.rows[0]?.n, 1);
  });
});

describe('search', () => {
  const names = async (who: string, q: string) =>
    (await call(who, 'GET', `/persons?q=${encodeURIComponent(q)}`))
      .json()
      .items.map((p: { name: string }) => p.name);

  test('by the last six characters of the ID number with the name', async () => {
    assert.deepEqual(await names('county', `${XIAOMING_ID.slice(-6)} 张晓明`), ['张晓明']);
    assert.deepEqual(await names('county', `${XIAOMING_ID.slice(-6)} 李小红`), []);
  });
  test('by the Chinese name, exact or prefix', async () => {
    assert.deepEqual(await names('county', '张晓明'), ['张晓明']);
    assert.deepEqual((await names('county', '张')).sort(), ['张大明', '张晓明']);
  });
  test('by full pinyin and by initials: zxm finds 张晓明', async () => {
    assert.deepEqual(await names('county', 'zxm'), ['张晓明']);
    assert.deepEqual(await names('county', 'zhangxiaoming'), ['张晓明']);
    assert.deepEqual(await names('county', 'ZhangXiao'), ['张晓明']);
  });
  test('by phone, whole or its first digits, through the phone index', async () => {
    assert.deepEqual(await names('county', '13912345678'), ['张晓明']);
    assert.deepEqual(await names('county', '1391234'), ['张晓明']);
    // The prefix can be served by the index (it is in pattern order): with sequential scans priced
    // out, the plan reads persons_phone; a plain index of the database's collation cannot serve LIKE.
    const plan = await t.ctx.db.transaction().execute(async (trx) => {
      await sql`SET LOCAL enable_seqscan = off`.execute(trx);
      const rows = await sql<{
        'QUERY PLAN': string;
      }>`EXPLAIN SELECT id FROM persons WHERE phone LIKE '1391234%'`.execute(trx);
      return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
    });
    assert.match(plan, /Index Cond: \(\(phone ~>=~ '1391234'::text\)/, plan);
  });
  test('by full ID number, household number and region', async () => {
    assert.deepEqual(await names('county', XIAOMING_ID), ['张晓明']);
    const byHousehold = (await call('county', 'GET', '/persons?householdNo=GY-0001')).json().items.length;
    assert.equal(byHousehold, 2);
    const byRegion = (await call('county', 'GET', `/persons?region=${V2}`)).json().items;
    assert.deepEqual(
      byRegion.map((p: { id: number }) => p.id),
      [otherVillager.id],
    );
  });
  test('search never leaves the scope', async () => {
    assert.deepEqual(await names('v2', 'zxm'), []);
    assert.deepEqual(await names('v2', XIAOMING_ID), []);
  });
});

describe('facts', () => {
  test('a fact is validated per kind, listed in the timeline, and a retraction keeps the history', async () => {
    const bad = await call('county', 'POST', `/persons/${father.id}/facts`, {
      kind: 'liberty_restriction',
      from: '2024-01-01',
      data: { type: 'jail' },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().error.details[0].path, 'data.type');
    const added = await call('county', 'POST', `/persons/${father.id}/facts`, {
      kind: 'migration',
      from: '2024-03-01',
      data: { destination: '广东省东莞市' },
    });
    assert.equal(added.statusCode, 201, added.body);
    const factId = added.json().id;
    const migrants = (await call('county', 'GET', '/persons?fact=migration')).json().items;
    assert.deepEqual(
      migrants.map((p: { id: number }) => p.id),
      [father.id],
    );
    const retracted = await call('county', 'POST', `/persons/${father.id}/facts/${factId}/retract`, {
      reason: '录入错误',
    });
    assert.equal(retracted.statusCode, 200, retracted.body);
    assert.ok(retracted.json().retractedAt);
    const again = await call('county', 'POST', `/persons/${father.id}/facts/${factId}/retract`, {});
    assert.equal(again.statusCode, 409);
    const file = (await call('county', 'GET', `/persons/${father.id}`)).json();
    assert.equal(file.facts.length, 1);
    assert.equal(file.facts[0].retractionReason, '录入错误');
    assert.equal((await call('county', 'GET', '/persons?fact=migration')).json().items.length, 0);
  });
});

describe('duplicates and merge', () => {
  test('persons without ID number with the same name and birth date in a township are listed, and merge keeps both histories', async () => {
    const a = await call('township', 'POST', '/persons', {
      name: '王小丫',
      noIdReason: '未落户',
      sex: 2,
      birthDate: '2024-05-05',
      hukouRegionCode: V1,
    });
    const b = await call('township', 'POST', '/persons', {
      name: '王小丫',
      noIdReason: '未落户',
      sex: 2,
      birthDate: '2024-05-05',
      hukouRegionCode: V2,
    });
    const c = await call('township', 'POST', '/persons', {
      name: '汪小丫',
      noIdReason: '未落户',
      sex: 2,
      birthDate: '2024-05-05',
      hukouRegionCode: V2,
    });
    assert.equal(a.statusCode, 201, a.body);
    const [ida, idb, idc] = [a.json().id, b.json().id, c.json().id];
    const list = (await call('township', 'GET', '/persons/duplicates')).json().items;
    const byName = list.find((g: { reason: string }) => g.reason === 'same_name_birth_township');
    assert.deepEqual(
      byName.persons.map((p: { id: number }) => p.id),
      [ida, idb],
    );
    const byPinyin = list.find((g: { reason: string }) => g.reason === 'same_pinyin_birth');
    assert.deepEqual(
      byPinyin.persons.map((p: { id: number }) => p.id),
      [ida, idb, idc],
    );
    // A village director sees only the own village: no pair there.
    assert.deepEqual((await call('v1', 'GET', '/persons/duplicates')).json().items, []);

    const fact = await call('township', 'POST', `/persons/${idb}/facts`, {
      kind: 'schooling',
      from: '2027-09-01',
      data: { stage: 'preschool' },
    });
    assert.equal(fact.statusCode, 201, fact.body);
    await call('township', 'POST', `/persons/${idb}/relations`, {
      relatedPersonId: father.id,
      kind: 'carer',
      entrustmentFormDate: '2025-01-01',
    });
    const stale = await call('township', 'POST', `/persons/${idb}/merge`, { intoId: ida, version: 99 });
    assert.equal(stale.statusCode, 409);
    assert.equal(
      (await call('v1', 'POST', `/persons/${idb}/merge`, { intoId: ida, version: 2 })).statusCode,
      403,
    );
    const current = (await call('township', 'GET', `/persons/${idb}`)).json();
    const merged = await call('township', 'POST', `/persons/${idb}/merge`, {
      intoId: ida,
      version: current.version,
    });
    assert.equal(merged.statusCode, 200, merged.body);
    const kept = merged.json();
    assert.equal(kept.facts.length, 1);
    assert.equal(kept.facts[0].kind, 'schooling');
    assert.equal(kept.relations[0].role, 'carer');
    const old = (await call('township', 'GET', `/persons/${idb}`)).json();
    assert.equal(old.mergedInto, ida);
    const audited = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.merge' AND entity_id = ${String(idb)}`.execute(
      t.ctx.db,
    );
    assert.equal(audited.rows[0]?.n, 1);
    // The merged row no longer shows in lists or duplicate groups.
    const after = (await call('township', 'GET', '/persons/duplicates')).json().items;
    assert.equal(
      after.some((g: { persons: { id: number }[] }) => g.persons.some((p) => p.id === idb)),
      false,
    );
  });
});
