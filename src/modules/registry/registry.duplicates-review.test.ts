// Adversarial review of duplicates, merge, search and re-import (issue 4, points 4-6; DOMAIN.md
// section 1), as clerks meet them: one ID number written four ways, the same child in two
// counties' files, homophones and transliterated names, merges that would leave two answers for a
// day or a household headed by a stranger, searches with spaces, full-width characters, ü and SQL
// wildcards, and files imported again, after a web edit, or cut short. Runs on PGlite, or
// PostgreSQL with TEST_DATABASE_URL.
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
import { countRegistry } from './registry.repository.ts';
import { TEMPLATE_HEADERS } from './registry.template.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const V2 = '410225101201'; // 堌阳镇 任庄村 (same township)
const V3 = '410225102200'; // another township of the county
const TODAY = '2026-11-29';

let t: TestApp;
let dir: string;
let otherCountyVillage: string;
const tokens: Record<string, string> = {};

async function token(name: string, role: Role, regionCode: string | null): Promise<string> {
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

interface Created {
  id: number;
  version: number;
}

async function person(body: Record<string, unknown>, who = 'county'): Promise<Created> {
  const r = await call(who, 'POST', '/persons', body);
  assert.equal(r.statusCode, 201, r.body);
  return r.json();
}

async function household(householdNo: string, hukouRegionCode: string): Promise<number> {
  const r = await call('county', 'POST', '/households', { householdNo, hukouRegionCode });
  assert.equal(r.statusCode, 201, r.body);
  return r.json().id;
}

async function versionOf(id: number): Promise<number> {
  return (await call('county', 'GET', `/persons/${id}`)).json().version;
}

const fullWidth = (s: string) =>
  s.replace(/[0-9A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));
/** The legacy 15-digit form of an 18-digit number of the 1900s: no century, no check character. */
const fifteen = (id: string) => id.slice(0, 6) + id.slice(8, 17);

function csv(rows: Record<string, string>[]): string {
  return (
    '\uFEFF' +
    [
      TEMPLATE_HEADERS.join(','),
      ...rows.map((row) => TEMPLATE_HEADERS.map((h) => row[h] ?? '').join(',')),
    ].join('\r\n') +
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

async function personRow(idNumber: string) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).execute();
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-dup-review-'));
  t = await createTestApp();
  await loadRegions(t.database, { within: '410221' });
  const village = await sql<{ code: string }>`SELECT code FROM regions
    WHERE code LIKE '410221%' AND level = 5 ORDER BY code LIMIT 1`.execute(t.ctx.db);
  otherCountyVillage = village.rows[0]?.code as string;
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.otherCounty = await token('other-county', 'county_staff', '410221');
  tokens.township = await token('township', 'township_staff', '410225101');
  tokens.otherTownship = await token('other-township', 'township_staff', '410225102');
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('one ID number is one person', () => {
  const ID = makeIdNumber('410225', '1975-04-03', 317);
  test('the 15-digit form, a lower-case x and full-width digits of a registered number are the same person', async () => {
    const xId = makeIdNumber('410225', '1968-12-20', 456);
    const first = await person({ idNumber: ID, name: '刘一', hukouRegionCode: V1 });
    for (const variant of [fifteen(ID), ` ${ID.slice(0, 6)} ${ID.slice(6)} `, fullWidth(ID)]) {
      const again = await call('county', 'POST', '/persons', {
        idNumber: variant,
        name: '刘一',
        hukouRegionCode: V2,
      });
      assert.equal(again.statusCode, 409, `${variant}: ${again.body}`);
      assert.equal(again.json().error.code, 'CONFLICT');
    }
    // In another county too: the number is unique across the whole registry.
    const elsewhere = await call('otherCounty', 'POST', '/persons', {
      idNumber: fifteen(ID),
      name: '刘一',
      hukouRegionCode: otherCountyVillage,
    });
    assert.equal(elsewhere.statusCode, 409, elsewhere.body);
    if (xId.endsWith('X')) {
      await person({ idNumber: xId, name: '刘二', hukouRegionCode: V1 });
      const lower = await call('county', 'POST', '/persons', {
        idNumber: xId.toLowerCase(),
        name: '刘二',
        hukouRegionCode: V1,
      });
      assert.equal(lower.statusCode, 409, lower.body);
    }
    assert.equal((await personRow(ID)).length, 1);
    assert.equal((await personRow(ID))[0]?.id, first.id);
  });

  test('a person registered in one county arrives in the other county’s file (15-digit form): the row is refused, nobody is doubled', async () => {
    const before = await countRegistry(t.ctx.db);
    const outcome = await importRegistryFile(
      t.ctx.database,
      file([
        {
          户编号: 'B-1',
          姓名: '刘一',
          公民身份号码: fifteen(ID),
          与户主关系: '户主',
          户籍地代码: otherCountyVillage,
        },
      ]),
      { regionCode: '410221', userId: null, auditActor: systemActor('test') },
      { today: TODAY },
    );
    assert.equal(outcome.status, 'succeeded');
    assert.equal(outcome.counts.errors, 1);
    assert.equal(outcome.counts.inserted, 0);
    assert.deepEqual(await countRegistry(t.ctx.db), before);
    assert.equal((await personRow(ID))[0]?.hukou_region_code, V1);
  });

  test('the same person twice in one file, once in the 15-digit form, is written once', async () => {
    const id = makeIdNumber('410225', '1980-02-29', 515);
    const outcome = await importRegistryFile(
      t.ctx.database,
      file([
        { 户编号: 'D-1', 姓名: '何三', 公民身份号码: id, 与户主关系: '户主', 户籍地代码: V1 },
        {
          户编号: 'D-2',
          姓名: '何三',
          公民身份号码: fifteen(id).toLowerCase(),
          与户主关系: '户主',
          户籍地代码: V1,
        },
      ]),
      countyImporter,
      { today: TODAY },
    );
    assert.equal(outcome.counts.errors, 1);
    assert.equal((await personRow(id)).length, 1);
  });

  test('a child registered without a number on the web receives it from the county file, not a second record', async () => {
    const householdId = await household('W-1', V1);
    const father = makeIdNumber('410225', '1979-03-03', 331);
    await person({
      idNumber: father,
      name: '孟大',
      hukouRegionCode: V1,
      householdId,
      relationToHead: '户主',
    });
    const child = await person({
      name: '孟小',
      noIdReason: '未落户',
      sex: 1,
      birthDate: '2021-06-06',
      hukouRegionCode: V1,
      householdId,
      relationToHead: '子',
    });
    const childId = makeIdNumber('410225', '2021-06-06', 337);
    const outcome = await importRegistryFile(
      t.ctx.database,
      file([
        { 户编号: 'W-1', 姓名: '孟大', 公民身份号码: father, 与户主关系: '户主', 户籍地代码: V1 },
        {
          户编号: 'W-1',
          姓名: '孟小',
          公民身份号码: childId,
          与户主关系: '子',
          户籍地代码: V1,
          父亲身份号码: father,
        },
      ]),
      countyImporter,
      { today: TODAY },
    );
    assert.equal(outcome.counts.inserted, 0, JSON.stringify(outcome.counts));
    const rows = await personRow(childId);
    assert.equal(rows.length, 1);
    assert.equal(rows[0]?.id, child.id);
  });
});

describe('possible duplicates without an ID number', () => {
  const groupsOf = async (who: string, ids: number[]) => {
    const items = (await call(who, 'GET', '/persons/duplicates?limit=500')).json().items as {
      reason: string;
      persons: { id: number }[];
    }[];
    return items
      .map((g) => ({ reason: g.reason, ids: g.persons.map((p) => p.id).filter((id) => ids.includes(id)) }))
      .filter((g) => g.ids.length > 1);
  };
  const child = (name: string, hukouRegionCode: string, birthDate: string) =>
    person({ name, noIdReason: '未落户', sex: 1, birthDate, hukouRegionCode });

  test('homophones and traditional characters in two villages of one township are listed by their pinyin', async () => {
    const a = await child('张晓明', V1, '2023-01-11');
    const b = await child('章晓明', V2, '2023-01-11');
    const c = await child('張曉明', V2, '2023-01-11');
    assert.deepEqual(await groupsOf('township', [a.id, b.id, c.id]), [
      { reason: 'same_pinyin_birth', ids: [a.id, b.id, c.id] },
    ]);
  });

  test('a transliterated name written with another dot or with spaces is the same name', async () => {
    const a = await child('阿卜杜·热合曼', V1, '2022-02-12');
    const b = await child('阿卜杜•热合曼', V2, '2022-02-12');
    const c = await child('阿卜杜 . 热合曼', V1, '2022-02-12');
    const d = await child('阿卜杜热合曼', V2, '2022-02-12');
    const groups = await groupsOf('township', [a.id, b.id, c.id, d.id]);
    assert.deepEqual(
      groups.find((g) => g.reason === 'same_name_birth_township'),
      { reason: 'same_name_birth_township', ids: [a.id, b.id, c.id] },
    );
    assert.deepEqual(
      groups.find((g) => g.reason === 'same_pinyin_birth'),
      { reason: 'same_pinyin_birth', ids: [a.id, b.id, c.id, d.id] },
    );
  });

  test('the same name or pinyin and birth date in two townships is not a possible duplicate', async () => {
    const a = await child('吴小龙', V1, '2021-03-13');
    const b = await child('吴小龙', V3, '2021-03-13');
    const c = await child('伍小龙', V3, '2021-03-13');
    assert.deepEqual(await groupsOf('county', [a.id, b.id]), []);
    assert.deepEqual(await groupsOf('county', [a.id, c.id]), []);
    // Within the other township the homophone pair is listed.
    assert.deepEqual(await groupsOf('county', [b.id, c.id]), [
      { reason: 'same_pinyin_birth', ids: [b.id, c.id] },
    ]);
  });
});

describe('merge', () => {
  const child = (
    name: string,
    birthDate: string,
    hukouRegionCode = V1,
    extra: Record<string, unknown> = {},
  ) => person({ name, noIdReason: '未落户', sex: 2, birthDate, hukouRegionCode, ...extra });
  const merge = async (id: number, intoId: number, who = 'county', lang = 'zh') =>
    call(who, 'POST', `/persons/${id}/merge`, { intoId, version: await versionOf(id) }, lang);
  const addFact = async (id: number, body: Record<string, unknown>) => {
    const r = await call('county', 'POST', `/persons/${id}/facts`, body);
    assert.equal(r.statusCode, 201, r.body);
    return r.json().id as number;
  };
  const snapshot = async (ids: number[]) => ({
    persons: await t.ctx.db.selectFrom('persons').selectAll().where('id', 'in', ids).orderBy('id').execute(),
    facts: await t.ctx.db
      .selectFrom('person_facts')
      .selectAll()
      .where('person_id', 'in', ids)
      .orderBy('id')
      .execute(),
  });

  test('into oneself, twice, into a merged person, or across the scope: refused, nothing changes', async () => {
    const a = await child('钱小一', '2020-01-01');
    const b = await child('钱小一', '2020-01-01', V2);
    const c = await child('钱小一', '2020-01-01', V3);
    const self = await merge(a.id, a.id);
    assert.equal(self.statusCode, 400);
    assert.equal(self.json().error.details[0].path, 'intoId');
    const across = await merge(b.id, c.id, 'township');
    assert.ok([400, 404].includes(across.statusCode), across.body);
    const before = await snapshot([a.id, b.id, c.id]);
    assert.equal((await merge(b.id, a.id)).statusCode, 200);
    const mid = await snapshot([a.id, b.id, c.id]);
    const twice = await call('county', 'POST', `/persons/${b.id}/merge`, {
      intoId: a.id,
      version: await versionOf(b.id),
    });
    assert.equal(twice.statusCode, 409, twice.body);
    const into = await merge(c.id, b.id);
    assert.equal(into.statusCode, 409, into.body);
    assert.deepEqual(await snapshot([a.id, b.id, c.id]), mid);
    assert.notDeepEqual(before, mid);
  });

  test('a merged person leaves lists, search, household members, duplicates and the export', async () => {
    const householdId = await household('M-1', V1);
    const a = await child('孙小梅', '2019-09-09', V1, { householdId, relationToHead: '户主' });
    const b = await child('孙小梅', '2019-09-09', V1, { householdId, relationToHead: '女' });
    assert.equal((await merge(b.id, a.id)).statusCode, 200);
    const ids = (r: { json(): { items: { id: number }[] } }) => r.json().items.map((p) => p.id);
    assert.deepEqual(ids(await call('county', 'GET', `/persons?q=${encodeURIComponent('孙小梅')}`)), [a.id]);
    assert.deepEqual(ids(await call('county', 'GET', '/persons?q=sxm')), [a.id]);
    assert.deepEqual(ids(await call('county', 'GET', '/persons?householdNo=M-1')), [a.id]);
    const members = (await call('county', 'GET', `/households/${householdId}`)).json().members as {
      id: number;
    }[];
    assert.deepEqual(
      members.map((m) => m.id),
      [a.id],
    );
    const exported = await call('county', 'GET', `/exports/registry?region=${V1}&format=csv`);
    assert.equal(exported.statusCode, 200);
    assert.equal(exported.body.split('孙小梅').length - 1, 1);
  });

  test('both histories stay and every day has one answer: an open earlier fact ends when the later begins, a copy is retracted', async () => {
    const a = await child('周小雨', '2018-05-05');
    const b = await child('周小雨', '2018-05-05', V2);
    // The same school recorded on both records (the child entered twice) ...
    const keptSchool = await addFact(a.id, {
      kind: 'schooling',
      from: '2024-09-01',
      data: { stage: 'primary' },
    });
    const copy = await addFact(b.id, { kind: 'schooling', from: '2024-09-01', data: { stage: 'primary' } });
    // ... and a migration of the child's own on each, open, begun on different days.
    const earlier = await addFact(a.id, {
      kind: 'migration',
      from: '2025-01-01',
      data: { destination: '郑州' },
    });
    const later = await addFact(b.id, {
      kind: 'migration',
      from: '2025-06-01',
      data: { destination: '广州' },
    });
    const merged = await merge(b.id, a.id);
    assert.equal(merged.statusCode, 200, merged.body);
    const facts = await t.ctx.db
      .selectFrom('person_facts')
      .select(['id', 'kind', 'valid_from', 'valid_to', 'retracted_at', 'retraction_reason'])
      .where('person_id', '=', a.id)
      .orderBy('id')
      .execute();
    // Nothing is deleted: all four rows are on the person kept.
    assert.deepEqual(
      facts.map((f) => f.id),
      [keptSchool, copy, earlier, later],
    );
    const byId = new Map(facts.map((f) => [f.id, f]));
    assert.equal(byId.get(keptSchool)?.retracted_at, null);
    assert.notEqual(byId.get(copy)?.retracted_at, null);
    assert.match(String(byId.get(copy)?.retraction_reason), new RegExp(`#${keptSchool}`));
    assert.equal(byId.get(earlier)?.valid_to, '2025-06-01');
    assert.equal(byId.get(later)?.valid_to, null);
    // As of any day, one answer per kind.
    for (const on of ['2024-09-01', '2025-03-01', '2025-06-01', TODAY]) {
      const file = (await call('county', 'GET', `/persons/${a.id}?asOf=${on}`)).json();
      const current = (file.factsAsOf ?? file.facts).filter(
        (f: { kind: string; from: string; to: string | null; retractedAt: string | null }) =>
          f.retractedAt == null && f.from <= on && (f.to === null || f.to > on),
      );
      const kinds = current.map((f: { kind: string }) => f.kind);
      assert.equal(new Set(kinds).size, kinds.length, `${on}: ${kinds.join(',')}`);
    }
    const audited = await sql<{ details: Record<string, unknown> }>`SELECT details FROM audit_log
      WHERE action = 'person.merge' AND entity_id = ${String(b.id)}`.execute(t.ctx.db);
    assert.equal(audited.rows.length, 1);
  });

  test('two different deaths, or facts that overlap otherwise, are a 409 naming the fact; nothing is merged', async () => {
    const a = await child('郑小花', '2015-05-05');
    const b = await child('郑小花', '2015-05-05', V2);
    await addFact(a.id, {
      kind: 'disability',
      from: '2020-01-01',
      to: '2023-01-01',
      data: { category: 4, grade: 2 },
    });
    const other = await addFact(b.id, {
      kind: 'disability',
      from: '2021-01-01',
      to: '2022-01-01',
      data: { category: 5, grade: 1 },
    });
    const before = await snapshot([a.id, b.id]);
    for (const lang of ['zh', 'en']) {
      const refused = await merge(b.id, a.id, 'county', lang);
      assert.equal(refused.statusCode, 409, refused.body);
      assert.match(refused.json().error.message, new RegExp(`#${other}|#\\d+`));
    }
    assert.deepEqual(await snapshot([a.id, b.id]), before);
    const c = await child('郑小草', '2015-05-05');
    const d = await child('郑小草', '2015-05-05', V2);
    await addFact(c.id, { kind: 'death', from: '2024-01-01' });
    await addFact(d.id, { kind: 'death', from: '2024-02-02' });
    const deaths = await merge(d.id, c.id);
    assert.equal(deaths.statusCode, 409, deaths.body);
  });

  test('an ID number moves to the person kept only when it agrees with their birth date and sex', async () => {
    const a = await child('冯小兰', '2016-06-06');
    const wrong = await person({
      idNumber: makeIdNumber('410225', '2016-06-07', 222),
      name: '冯小兰',
      hukouRegionCode: V1,
    });
    const before = await snapshot([a.id, wrong.id]);
    const refused = await merge(wrong.id, a.id);
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json().error.details[0].path, 'intoId');
    assert.deepEqual(await snapshot([a.id, wrong.id]), before);
    const right = await person({
      idNumber: makeIdNumber('410225', '2016-06-06', 224),
      name: '冯小兰',
      hukouRegionCode: V2,
    });
    const ok = await merge(right.id, a.id);
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('a household head merged into a person of another household does not leave the household headed by a stranger', async () => {
    const h1 = await household('M-2', V1);
    const h2 = await household('M-3', V1);
    const kept = await child('陈小军', '2000-01-01', V1, { householdId: h1, relationToHead: '子' });
    const dup = await child('陈小军', '2000-01-01', V1, { householdId: h2, relationToHead: '户主' });
    await t.ctx.db.updateTable('households').set({ head_person_id: dup.id }).where('id', '=', h2).execute();
    assert.equal((await merge(dup.id, kept.id)).statusCode, 200);
    const head = await t.ctx.db
      .selectFrom('households')
      .select('head_person_id')
      .where('id', '=', h2)
      .executeTakeFirstOrThrow();
    const keptRow = await t.ctx.db
      .selectFrom('persons')
      .select('household_id')
      .where('id', '=', kept.id)
      .executeTakeFirstOrThrow();
    assert.ok(
      head.head_person_id === null || keptRow.household_id === h2,
      `household ${h2} is headed by ${head.head_person_id}, who lives in household ${keptRow.household_id}`,
    );
  });

  test('two clerks merging a pair each into the other: one wins, the other gets 409, never a 500', async () => {
    const a = await child('褚小丽', '2017-07-07');
    const b = await child('褚小丽', '2017-07-07', V2);
    const [va, vb] = [await versionOf(a.id), await versionOf(b.id)];
    const results = await Promise.all([
      call('county', 'POST', `/persons/${a.id}/merge`, { intoId: b.id, version: va }),
      call('county', 'POST', `/persons/${b.id}/merge`, { intoId: a.id, version: vb }),
    ]);
    assert.deepEqual(
      results.map((r) => r.statusCode).sort(),
      [200, 409],
      results.map((r) => r.body).join('\n'),
    );
    const rows = await t.ctx.db
      .selectFrom('persons')
      .select(['id', 'merged_into'])
      .where('id', 'in', [a.id, b.id])
      .execute();
    assert.equal(rows.filter((r) => r.merged_into !== null).length, 1);
  });
});

describe('search', () => {
  const ID = makeIdNumber('410225', '1962-10-10', 418);
  let ids: Record<string, number> = {};
  const found = async (q: string, who = 'county') => {
    const r = await call(who, 'GET', `/persons?q=${encodeURIComponent(q)}&limit=200`);
    assert.equal(r.statusCode, 200, `${q}: ${r.body}`);
    return (r.json().items as { id: number }[]).map((p) => p.id);
  };

  before(async () => {
    ids = {};
    const make = async (key: string, body: Record<string, unknown>) => {
      ids[key] = (await person(body)).id;
    };
    await make('huang', { idNumber: ID, name: '黄秀英', hukouRegionCode: V1, phone: '13700001111' });
    await make('zeng', {
      idNumber: makeIdNumber('410225', '1970-01-02', 111),
      name: '曾小红',
      hukouRegionCode: V1,
    });
    await make('shan', {
      idNumber: makeIdNumber('410225', '1970-01-03', 113),
      name: '单田芳',
      hukouRegionCode: V1,
    });
    await make('qiu', {
      idNumber: makeIdNumber('410225', '1970-01-04', 115),
      name: '仇小明',
      hukouRegionCode: V1,
    });
    await make('ou', {
      idNumber: makeIdNumber('410225', '1970-01-05', 117),
      name: '区小红',
      hukouRegionCode: V1,
    });
    await make('lv', {
      idNumber: makeIdNumber('410225', '1970-01-06', 119),
      name: '吕小雨',
      hukouRegionCode: V1,
    });
    await make('uyghur', {
      idNumber: makeIdNumber('410225', '1970-01-07', 121),
      name: '买买提·艾力',
      hukouRegionCode: V1,
    });
    await make('percent', {
      idNumber: makeIdNumber('410225', '1970-01-08', 123),
      name: '百%分',
      hukouRegionCode: V3,
    });
  });

  test('the full ID number with spaces, a lower-case x, full-width or in the 15-digit form', async () => {
    for (const q of [
      ID,
      `${ID.slice(0, 6)} ${ID.slice(6, 14)} ${ID.slice(14)}`,
      fifteen(ID),
      fullWidth(ID),
      ID.toLowerCase(),
    ])
      assert.deepEqual(await found(q), [ids.huang], q);
    const byParam = await call('county', 'GET', `/persons?idNumber=${encodeURIComponent(fifteen(ID))}`);
    assert.deepEqual(
      byParam.json().items.map((p: { id: number }) => p.id),
      [ids.huang],
    );
  });

  test('the last six characters with the name, in either order, spaced or not, full-width', async () => {
    const tail = ID.slice(-6);
    for (const q of [
      `${tail} 黄秀英`,
      `黄秀英 ${tail}`,
      `黄秀英${tail}`,
      `${fullWidth(tail)} 黄秀英`,
      `${tail} huangxiuying`,
    ])
      assert.deepEqual(await found(q), [ids.huang], q);
    assert.deepEqual(await found(`${tail} 黄秀`), []);
  });

  test('full pinyin with or without spaces, ü as v or ü, initials, and the surname readings of 曾 单 仇 区', async () => {
    assert.deepEqual(await found('huang xiu ying'), [ids.huang]);
    assert.deepEqual(await found('HuangXiuying'), [ids.huang]);
    assert.deepEqual(await found('hxy'), [ids.huang]);
    assert.deepEqual(await found('lvxiaoyu'), [ids.lv]);
    assert.deepEqual(await found('lüxiaoyu'), [ids.lv]);
    assert.deepEqual(await found('zengxiaohong'), [ids.zeng]);
    assert.deepEqual(await found('shantianfang'), [ids.shan]);
    assert.deepEqual(await found('qiuxiaoming'), [ids.qiu]);
    assert.deepEqual(await found('ouxiaohong'), [ids.ou]);
    assert.deepEqual(await found('oxh'), [ids.ou]);
  });

  test('a transliterated name with or without its dot, with another dot or with spaces', async () => {
    for (const q of ['买买提·艾力', '买买提•艾力', '买买提．艾力', '买买提 艾力', '买买提艾力', '买买提'])
      assert.deepEqual(await found(q), [ids.uyghur], q);
  });

  test('phone and a Chinese name; empty, blank, one-character and very long queries', async () => {
    assert.deepEqual(await found('137 0000 1111'), [ids.huang]);
    assert.deepEqual(await found('黄秀英'), [ids.huang]);
    assert.ok((await found('黄')).includes(ids.huang as number));
    assert.deepEqual(await found('   '), []);
    const empty = await call('county', 'GET', '/persons?q=');
    assert.equal(empty.statusCode, 400);
    assert.equal(empty.json().error.details[0].path, 'q');
    const long = await call('county', 'GET', `/persons?q=${encodeURIComponent('黄'.repeat(61))}`);
    assert.equal(long.statusCode, 400, long.body);
  });

  test('%, _ and backslashes are literal, never wildcards; the scope holds', async () => {
    for (const q of ['%', '_', '\\', '%%', '黄%', '黄_', '黄\\', "黄'", '1%', '137%'])
      assert.deepEqual(await found(q), [], q);
    assert.deepEqual(await found('百%分'), [ids.percent]);
    assert.deepEqual(await found('百%'), [ids.percent]);
    assert.deepEqual(await found('百%分', 'township'), []);
    assert.deepEqual(await found('黄秀英', 'otherTownship'), []);
    assert.deepEqual(await found(ID, 'otherTownship'), []);
  });
});

describe('re-import', () => {
  const HEAD = makeIdNumber('410225', '1960-08-08', 611);
  const SON = makeIdNumber('410225', '1988-08-08', 613);
  const rows = (extra: Record<string, string> = {}): Record<string, string>[] => [
    {
      户编号: 'R-1',
      姓名: '蒋大山',
      公民身份号码: HEAD,
      与户主关系: '户主',
      户籍地代码: V1,
      联系电话: '13600001111',
      '家庭年收入(元)': '20000',
    },
    {
      户编号: 'R-1',
      姓名: '蒋小山',
      公民身份号码: SON,
      与户主关系: '子',
      户籍地代码: V1,
      父亲身份号码: HEAD,
      外出务工: '是',
      外出务工地: '苏州',
      外出开始日期: '2024-03-01',
      ...extra,
    },
  ];
  const auditCount = async () =>
    (await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`.execute(t.ctx.db)).rows[0]?.n ?? 0;
  const versions = async () =>
    (await t.ctx.db.selectFrom('persons').select(['id', 'version']).orderBy('id').execute()).concat(
      (await t.ctx.db.selectFrom('households').select(['id', 'version']).orderBy('id').execute()).map(
        (h) => ({
          id: -h.id,
          version: h.version,
        }),
      ),
    );

  test('the same file again: no counts, versions, rows or audit entries beyond the import’s own', async () => {
    const name = file(rows());
    const first = await importRegistryFile(t.ctx.database, name, countyImporter, { today: TODAY });
    assert.equal(first.counts.inserted, 2, JSON.stringify(first.counts));
    const [count, v, audits] = [await countRegistry(t.ctx.db), await versions(), await auditCount()];
    const again = await importRegistryFile(t.ctx.database, name, countyImporter, { today: TODAY });
    assert.deepEqual(again.counts, { rows: 2, inserted: 0, updated: 0, unchanged: 2, errors: 0 });
    assert.deepEqual(await countRegistry(t.ctx.db), count);
    assert.deepEqual(await versions(), v);
    assert.equal(await auditCount(), audits + 1);
  });

  test('after an edit on the web page the file’s value is written again and counted as one change', async () => {
    const son = (await personRow(SON))[0] as { id: number; version: number };
    const edited = await call('county', 'PATCH', `/persons/${son.id}`, {
      phone: '13911112222',
      version: son.version,
    });
    assert.equal(edited.statusCode, 200, edited.body);
    const again = await importRegistryFile(t.ctx.database, file(rows()), countyImporter, { today: TODAY });
    assert.deepEqual(again.counts, { rows: 2, inserted: 0, updated: 1, unchanged: 1, errors: 0 });
  });

  test('a row that moves the head to another household: the old household is no longer headed by a non-member', async () => {
    const moved = rows();
    const outcome = await importRegistryFile(
      t.ctx.database,
      file([
        { ...(moved[0] as Record<string, string>), 户编号: 'R-2' },
        { ...(moved[1] as Record<string, string>) },
      ]),
      countyImporter,
      { today: TODAY },
    );
    assert.equal(outcome.counts.errors, 0, JSON.stringify(outcome.counts));
    const head = (await personRow(HEAD))[0] as { id: number; household_id: number };
    const households = await t.ctx.db
      .selectFrom('households')
      .select(['id', 'household_no', 'head_person_id'])
      .where('household_no', 'in', ['R-1', 'R-2'])
      .orderBy('household_no')
      .execute();
    const r1 = households.find((h) => h.household_no === 'R-1');
    const r2 = households.find((h) => h.household_no === 'R-2');
    assert.equal(head.household_id, r2?.id);
    assert.equal(r2?.head_person_id, head.id);
    assert.notEqual(r1?.head_person_id, head.id);
  });

  test('an import cut short after the persons are written is completed by running it again, nothing doubled', async () => {
    const wife = makeIdNumber('410225', '1990-09-09', 624);
    const name = file([
      {
        户编号: 'R-3',
        姓名: '沈大',
        公民身份号码: makeIdNumber('410225', '1989-09-09', 613),
        与户主关系: '户主',
        户籍地代码: V1,
      },
      {
        户编号: 'R-3',
        姓名: '韩小',
        公民身份号码: wife,
        与户主关系: '配偶',
        户籍地代码: V1,
        配偶身份号码: makeIdNumber('410225', '1989-09-09', 613),
      },
    ]);
    await sql`CREATE FUNCTION review_fail() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'cut short'; END $$`.execute(t.ctx.db);
    await sql`CREATE TRIGGER review_fail BEFORE INSERT ON person_relations FOR EACH ROW EXECUTE FUNCTION review_fail()`.execute(
      t.ctx.db,
    );
    try {
      await assert.rejects(
        importRegistryFile(t.ctx.database, name, countyImporter, { today: TODAY }),
        /cut short/,
      );
    } finally {
      await sql`DROP TRIGGER review_fail ON person_relations`.execute(t.ctx.db);
      await sql`DROP FUNCTION review_fail()`.execute(t.ctx.db);
    }
    const again = await importRegistryFile(t.ctx.database, name, countyImporter, { today: TODAY });
    assert.equal(again.counts.errors, 0);
    assert.equal((await personRow(wife)).length, 1);
    const spouse = await sql<{ n: number }>`SELECT count(*)::int AS n FROM person_relations r
      JOIN persons p ON p.id IN (r.person_id, r.related_person_id) WHERE r.kind = 'spouse' AND p.id_number = ${wife}`.execute(
      t.ctx.db,
    );
    assert.equal(spouse.rows[0]?.n, 1);
    const left = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM pg_class WHERE relname LIKE 'import\\_%'`.execute(t.ctx.db);
    assert.equal(left.rows[0]?.n, 0);
  });
});
