// Review of search, duplicates and merge through the HTTP API (issue 4, points 5 and 6), as a
// county and as a village user, for what registry.duplicates-review.test.ts does not cover: the ID
// tail typed with a lower-case x or with the initials, 吕/女 (lv, nv), pinyin of a transliterated
// name typed with its dot, phones with +86/0086/dashes, household numbers in another case or
// full-width, existence outside the scope, merges refused like a missing person, stale versions,
// both histories on the kept file, the audit entry, and odd input that must never be a 500.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken, type Role } from '../access/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const V2 = '410225101201'; // 堌阳镇 任庄村 (same township)
const V3 = '410225102200'; // another township of the county

let t: TestApp;
const tokens: Record<string, string> = {};

async function token(name: string, role: Role, regionCode: string | null): Promise<string> {
  return (await createToken(t.ctx, null, { name, role, regionCode, individualAccess: false })).token;
}

function call(who: string, method: 'GET' | 'POST', url: string, payload?: unknown) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': 'zh' },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function person(body: Record<string, unknown>): Promise<number> {
  const r = await call('county', 'POST', '/persons', body);
  assert.equal(r.statusCode, 201, r.body);
  return r.json().id;
}

async function found(query: string, who = 'county'): Promise<number[]> {
  const r = await call(who, 'GET', `/persons?${query}&limit=200`);
  assert.equal(r.statusCode, 200, `${query}: ${r.body}`);
  return (r.json().items as { id: number }[]).map((p) => p.id);
}
const q = (text: string, who = 'county') => found(`q=${encodeURIComponent(text)}`, who);

const fullWidth = (s: string) =>
  s.replace(/[0-9A-Za-z]/g, (c) => String.fromCharCode(c.charCodeAt(0) + 0xfee0));

/** An 18-digit number that ends in X (a check character of 10). */
function idEndingInX(birthDate: string): string {
  for (let seq = 1; seq < 999; seq += 2) {
    const id = makeIdNumber('410225', birthDate, seq);
    if (id.endsWith('X')) return id;
  }
  throw new Error('no X number');
}

before(async () => {
  t = await createTestApp();
  tokens.county = await token('county', 'county_staff', '410225');
  tokens.township = await token('township', 'township_staff', '410225101');
  tokens.village = await token('village', 'village_child_director', V1);
  tokens.village2 = await token('village2', 'village_staff', V2);
});

after(async () => {
  await t.close();
});

describe('search', () => {
  const X_ID = idEndingInX('1990-05-05');
  const TAIL = X_ID.slice(-6);
  const ids: Record<string, number> = {};
  let householdId = 0;

  before(async () => {
    const hh = await call('county', 'POST', '/households', { householdNo: 'HB-0012', hukouRegionCode: V1 });
    assert.equal(hh.statusCode, 201, hh.body);
    householdId = hh.json().id;
    ids.zxm = await person({
      idNumber: X_ID,
      name: '张晓明',
      hukouRegionCode: V1,
      phone: '13812345678',
      householdId,
      relationToHead: '户主',
    });
    ids.zxm2 = await person({
      idNumber: makeIdNumber('410225', '1991-01-05', 19),
      name: '张晓明',
      hukouRegionCode: V2,
      phone: '0371-12345678',
    });
    ids.nv = await person({
      idNumber: makeIdNumber('410225', '1991-01-01', 11),
      name: '女娲',
      hukouRegionCode: V1,
    });
    ids.lv = await person({
      idNumber: makeIdNumber('410225', '1991-01-02', 13),
      name: '吕女',
      hukouRegionCode: V1,
    });
    ids.ay = await person({
      idNumber: makeIdNumber('410225', '1991-01-03', 15),
      name: '阿依古丽·买买提',
      hukouRegionCode: V1,
    });
    ids.shan = await person({
      idNumber: makeIdNumber('410225', '1991-01-04', 17),
      name: '单雄信',
      hukouRegionCode: V1,
    });
    ids.qiu = await person({
      noIdReason: '未落户',
      name: '仇小',
      sex: 1,
      birthDate: '2020-01-01',
      hukouRegionCode: V1,
    });
    ids.wue = await person({
      idNumber: makeIdNumber('410225', '1960-02-02', 22),
      name: '吴娥',
      hukouRegionCode: V1,
    });
    ids.yi = await person({
      idNumber: makeIdNumber('410225', '1961-02-02', 23),
      name: '易',
      hukouRegionCode: V1,
    });
  });

  test('a whole full pinyin shorter than four letters finds the name (wue is 吴娥, yi is 易); a prefix of it does not', async () => {
    for (const [text, id] of [
      ['wue', ids.wue],
      ['Wu E', ids.wue],
      ['we', ids.wue],
      ['yi', ids.yi],
    ] as const) {
      assert.deepEqual(await q(text), [id], text);
      assert.deepEqual(await q(text, 'village2'), [], `village2 ${text}`);
    }
    assert.deepEqual(await q('wu'), [], 'a prefix shorter than four letters matches no name');
  });

  test('the full ID number ending in x, in lower case, with spaces or full-width, as q or idNumber, county and village alike', async () => {
    for (const who of ['county', 'village']) {
      for (const text of [
        X_ID,
        X_ID.toLowerCase(),
        ` ${X_ID.slice(0, 6)} ${X_ID.slice(6, 14)} ${X_ID.slice(14).toLowerCase()} `,
        fullWidth(X_ID.toLowerCase()),
      ]) {
        assert.deepEqual(await q(text, who), [ids.zxm], `${who} q=${text}`);
        assert.deepEqual(
          await found(`idNumber=${encodeURIComponent(text)}`, who),
          [ids.zxm],
          `${who} ${text}`,
        );
      }
    }
  });

  test('the tail with a lower-case x, before or after the name, spaced or not; with pinyin or the initials', async () => {
    const tail = TAIL.toLowerCase();
    assert.ok(tail.endsWith('x'));
    for (const text of [
      `${tail} 张晓明`,
      `张晓明 ${tail}`,
      `${tail}张晓明`,
      `张晓明${tail}`,
      `${fullWidth(tail)} 张晓明`,
      `${tail} zhangxiaoming`,
      `Zhang Xiao Ming ${tail}`,
      `${tail} zxm`,
      `ZXM ${tail}`,
    ]) {
      assert.deepEqual(await q(text), [ids.zxm], text);
      assert.deepEqual(await q(text, 'village'), [ids.zxm], `village ${text}`);
      assert.deepEqual(await q(text, 'village2'), [], `village2 ${text}`);
    }
    // The initials match whole, as a query of initials alone does; a wrong tail finds nobody.
    assert.deepEqual(await q(`${tail} zx`), []);
    assert.deepEqual(await q(`00000x 张晓明`), []);
  });

  test('吕 and 女 as lv and nv (or ü), initials, spaces and capitals; 单 仇 as shan qiu', async () => {
    for (const [text, id] of [
      ['nvwa', ids.nv],
      ['nüwa', ids.nv],
      ['NW', ids.nv],
      ['lvnv', ids.lv],
      ['lv nv', ids.lv],
      ['Lü Nü', ids.lv],
      ['ln', ids.lv],
      ['shanxiongxin', ids.shan],
      ['Shan Xiong Xin', ids.shan],
      ['SXX', ids.shan],
      ['qiuxiao', ids.qiu],
      ['qx', ids.qiu],
    ] as const) {
      assert.deepEqual(await q(text), [id], text);
      assert.deepEqual(await q(text, 'village'), [id], `village ${text}`);
      assert.deepEqual(await q(text, 'village2'), [], `village2 ${text}`);
    }
  });

  test('a name with a middle dot: with, without or halved; its pinyin with a dot, a space or none', async () => {
    for (const text of [
      '阿依古丽·买买提',
      '阿依古丽•买买提',
      '阿依古丽买买提',
      '阿依古丽',
      'ayiguli·maimaiti',
      'ayiguli.maimaiti',
      'Ayiguli Maimaiti',
      'ayiguli',
      'ayglmmt',
    ])
      assert.deepEqual(await q(text, 'village'), [ids.ay], text);
  });

  test('a phone typed with +86, 0086, spaces or dashes; a landline with +86; never outside the scope', async () => {
    for (const text of [
      '+86 138 1234 5678',
      '+86-138-1234-5678',
      '138-1234-5678',
      '0086 13812345678',
      '１３８１２３４５６７８',
    ])
      for (const who of ['county', 'village'])
        assert.deepEqual(await q(text, who), [ids.zxm], `${who} ${text}`);
    for (const text of ['0371 12345678', '+86 371 1234 5678', '037112345678']) {
      assert.deepEqual(await q(text), [ids.zxm2], text);
      assert.deepEqual(await q(text, 'village2'), [ids.zxm2], text);
      assert.deepEqual(await q(text, 'village'), [], text);
    }
  });

  test('a household number in another case, full-width or padded; never outside the scope', async () => {
    for (const no of ['HB-0012', 'hb-0012', 'Hb-0012', fullWidth('hb-0012'), ' HB-0012 ']) {
      assert.deepEqual(await found(`householdNo=${encodeURIComponent(no)}`), [ids.zxm], no);
      assert.deepEqual(await found(`householdNo=${encodeURIComponent(no)}`, 'village'), [ids.zxm], no);
      assert.deepEqual(await found(`householdNo=${encodeURIComponent(no)}`, 'village2'), [], no);
    }
    assert.deepEqual(await found('householdNo=HB-001'), []);
    assert.deepEqual(await found('householdNo=HB_0012'), []);
  });

  test('a full ID number outside the scope answers exactly as a number nobody has; so do region and name', async () => {
    const nobody = makeIdNumber('410225', '1990-05-05', 999);
    for (const query of [`idNumber=${X_ID}`, `q=${X_ID}`, `q=${X_ID.toLowerCase()}`]) {
      const outside = await call('village2', 'GET', `/persons?${query}`);
      const missing = await call('village2', 'GET', `/persons?${query.replace(/=.*/, '=')}${nobody}`);
      assert.equal(outside.statusCode, 200);
      assert.equal(outside.body, missing.body, query);
      assert.deepEqual(outside.json(), { items: [], nextCursor: null });
    }
    assert.deepEqual(await found(`region=${V1}`, 'village2'), []);
    assert.deepEqual(await q('张晓明', 'village2'), [ids.zxm2]);
    assert.deepEqual(await q('zxm', 'village'), [ids.zxm]);
    assert.deepEqual(
      (await q('zxm')).sort((a, b) => a - b),
      [ids.zxm, ids.zxm2],
    );
  });

  test('odd input answers 200 with nothing or 400 naming the field, never a 500', async () => {
    for (const text of [
      '😀',
      '·',
      '··',
      '.',
      'x',
      '-',
      '----',
      '+',
      '+86',
      '()',
      '12345',
      '123456x',
      "'",
      '"',
      ';--',
      'é',
      'ǜ',
      'ㄓ',
      '\t',
    ])
      assert.deepEqual(await q(text), [], JSON.stringify(text));
    for (const query of [
      'q=%00',
      'householdNo=%00',
      'idNumber=%01',
      'region=4102251012',
      'cursor=-1',
      'limit=201',
      'householdNo=',
      'q=%ED%A0%80',
    ]) {
      const r = await call('county', 'GET', `/persons?${query}`);
      assert.ok([200, 400].includes(r.statusCode), `${query}: ${r.statusCode} ${r.body}`);
      if (r.statusCode === 400) assert.equal(r.json().error.code, 'VALIDATION_FAILED', query);
    }
  });
});

describe('duplicates and merge', () => {
  type Group = { reason: string; persons: { id: number }[] };
  const child = (name: string, birthDate: string, hukouRegionCode: string) =>
    person({ name, noIdReason: '未落户', sex: 2, birthDate, hukouRegionCode });
  const groupsWith = async (who: string, ids: number[]) =>
    ((await call(who, 'GET', '/persons/duplicates?limit=500')).json().items as Group[])
      .map((g) => ({ reason: g.reason, ids: g.persons.map((p) => p.id).filter((id) => ids.includes(id)) }))
      .filter((g) => g.ids.length > 1);
  const versionOf = async (id: number) =>
    (await call('county', 'GET', `/persons/${id}`)).json().version as number;
  const rows = (ids: number[]) =>
    t.ctx.db.selectFrom('persons').selectAll().where('id', 'in', ids).orderBy('id').execute();

  test('listed within a township and for a village only its own; across townships not; merged ones no longer', async () => {
    const a = await child('曾小雪', '2021-02-02', V1);
    const b = await child('曾小雪', '2021-02-02', V1);
    const c = await child('曾小雪', '2021-02-02', V2);
    const d = await child('曾小雪', '2021-02-02', V3);
    assert.deepEqual(await groupsWith('county', [a, b, c, d]), [
      { reason: 'same_name_birth_township', ids: [a, b, c] },
    ]);
    assert.deepEqual(await groupsWith('village', [a, b, c, d]), [
      { reason: 'same_name_birth_township', ids: [a, b] },
    ]);
    assert.deepEqual(await groupsWith('village2', [a, b, c, d]), []);
    const merged = await call('township', 'POST', `/persons/${b}/merge`, {
      intoId: a,
      version: await versionOf(b),
    });
    assert.equal(merged.statusCode, 200, merged.body);
    assert.deepEqual(await groupsWith('county', [a, b, c, d]), [
      { reason: 'same_name_birth_township', ids: [a, c] },
    ]);
    assert.equal(
      (await call('township', 'POST', `/persons/${c}/merge`, { intoId: a, version: await versionOf(c) }))
        .statusCode,
      200,
    );
    assert.deepEqual(await groupsWith('county', [a, b, c, d]), []);
    const audited = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log
      WHERE action = 'person.duplicates.read' AND actor_role = 'village_child_director'`.execute(t.ctx.db);
    assert.equal(audited.rows[0]?.n, 1);
  });

  test('a merge into a person outside the scope is refused exactly as into nobody; the duplicate outside is a 404', async () => {
    const inside = await child('吕小童', '2019-03-03', V1);
    const outside = await child('吕小童', '2019-03-03', V3);
    const before = await rows([inside, outside]);
    const into = await call('township', 'POST', `/persons/${inside}/merge`, {
      intoId: outside,
      version: await versionOf(inside),
    });
    const nobody = await call('township', 'POST', `/persons/${inside}/merge`, {
      intoId: 9_000_000_000,
      version: await versionOf(inside),
    });
    assert.equal(into.statusCode, 400, into.body);
    assert.equal(into.body, nobody.body);
    assert.equal(into.json().error.details[0].path, 'intoId');
    const from = await call('township', 'POST', `/persons/${outside}/merge`, {
      intoId: inside,
      version: await versionOf(outside),
    });
    const fromNobody = await call('township', 'POST', `/persons/9000000000/merge`, {
      intoId: inside,
      version: 1,
    });
    assert.equal(from.statusCode, 404, from.body);
    assert.equal(from.body, fromNobody.body);
    assert.doesNotMatch(into.body + from.body, /吕小童/);
    // A village director may not merge at all.
    const village = await call('village', 'POST', `/persons/${inside}/merge`, {
      intoId: outside,
      version: 1,
    });
    assert.equal(village.statusCode, 403, village.body);
    assert.deepEqual(await rows([inside, outside]), before);
    const refusedAudit = await sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log
      WHERE action = 'person.merge' AND entity_id IN (${String(inside)}, ${String(outside)}) AND result = 'ok'`.execute(
      t.ctx.db,
    );
    assert.equal(refusedAudit.rows[0]?.n, 0);
  });

  test('a stale version is a 409 and changes nothing; the right one merges', async () => {
    const a = await child('区小燕', '2018-04-04', V1);
    const b = await child('区小燕', '2018-04-04', V2);
    const version = await versionOf(b);
    const edit = await call('county', 'POST', `/persons/${b}/facts`, {
      kind: 'schooling',
      from: '2024-09-01',
      data: { stage: 'primary' },
    });
    assert.equal(edit.statusCode, 201, edit.body);
    const fresh = await versionOf(b);
    const stale = version === fresh ? version - 1 || version + 1 : version;
    const before = await rows([a, b]);
    const r = await call('county', 'POST', `/persons/${b}/merge`, {
      intoId: a,
      version: stale === fresh ? fresh + 1 : stale,
    });
    assert.equal(r.statusCode, 409, r.body);
    assert.equal(r.json().error.code, 'CONFLICT');
    assert.deepEqual(await rows([a, b]), before);
    const ok = await call('county', 'POST', `/persons/${b}/merge`, { intoId: a, version: fresh });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('after a merge the kept file shows both histories and links, the group is counted once, and the merge is audited', async () => {
    const father = await person({
      name: '单父',
      sex: 1,
      birthDate: '1984-03-03',
      hukouRegionCode: V1,
      noIdReason: '未落户',
    });
    const mother = await person({
      name: '单母',
      sex: 2,
      birthDate: '1986-03-03',
      hukouRegionCode: V1,
      noIdReason: '未落户',
    });
    for (const p of [father, mother]) {
      const m = await call('county', 'POST', `/persons/${p}/facts`, {
        kind: 'migration',
        from: '2025-03-01',
        data: { destination: '广东省' },
      });
      assert.equal(m.statusCode, 201, m.body);
    }
    const kept = await child('单小童', '2016-06-06', V1);
    const dup = await child('单小童', '2016-06-06', V2);
    for (const [c, p] of [
      [kept, father],
      [dup, mother],
      [dup, father],
    ] as const) {
      const link = await call('county', 'POST', `/persons/${c}/relations`, {
        relatedPersonId: p,
        kind: 'parent',
      });
      assert.equal(link.statusCode, 201, link.body);
    }
    const keptFact = await call('county', 'POST', `/persons/${kept}/facts`, {
      kind: 'schooling',
      from: '2022-09-01',
      data: { stage: 'primary' },
    });
    const dupFact = await call('county', 'POST', `/persons/${dup}/facts`, {
      kind: 'disability',
      from: '2023-01-01',
      data: { category: 4, grade: 2 },
    });
    assert.equal(keptFact.statusCode, 201, keptFact.body);
    assert.equal(dupFact.statusCode, 201, dupFact.body);
    const held = async (id: number) =>
      (
        await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships WHERE person_id = ${id}
        AND group_code = 'left_behind_child' AND until IS NULL`.execute(t.ctx.db)
      ).rows[0]?.n;
    assert.equal(await held(dup), 1);

    const merged = await call('county', 'POST', `/persons/${dup}/merge`, {
      intoId: kept,
      version: await versionOf(dup),
    });
    assert.equal(merged.statusCode, 200, merged.body);
    const file = merged.json();
    assert.equal(file.id, kept);
    assert.deepEqual(
      (file.facts as { id: number; kind: string }[]).map((f) => f.id).sort((x, y) => x - y),
      [keptFact.json().id, dupFact.json().id],
    );
    const related = (file.relations as { personId: number; role: string }[])
      .filter((r) => r.role === 'parent')
      .map((r) => r.personId)
      .sort((x, y) => x - y);
    assert.deepEqual(related, [father, mother]);
    assert.deepEqual(
      (file.groups as { code: string; current: boolean }[])
        .filter((g) => g.current)
        .map((g) => g.code)
        .sort(),
      // Left behind (the parents of both records work away) and distressed (the duplicate's disability).
      ['distressed_child', 'left_behind_child'],
    );
    assert.equal(await held(dup), 0);
    for (const day of ['2025-03-01', '2025-12-31']) {
      const counted = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
        WHERE person_id IN (${kept}, ${dup}) AND group_code = 'left_behind_child'
          AND since <= ${day}::date AND (until IS NULL OR until > ${day}::date)`.execute(t.ctx.db);
      assert.equal(counted.rows[0]?.n, 1, `counted once on ${day}`);
    }
    const dupFile = (await call('county', 'GET', `/persons/${dup}`)).json();
    assert.equal(dupFile.mergedInto, kept);
    const audit = await sql<{
      actor_kind: string;
      actor_role: string;
      entity_type: string;
      region_code: string;
      result: string;
      details: { intoId: number };
    }>`
      SELECT actor_kind, actor_role, entity_type, region_code, result, details FROM audit_log
      WHERE action = 'person.merge' AND entity_id = ${String(dup)}`.execute(t.ctx.db);
    assert.equal(audit.rows.length, 1);
    assert.equal(audit.rows[0]?.actor_kind, 'token');
    assert.equal(audit.rows[0]?.actor_role, 'county_staff');
    assert.equal(audit.rows[0]?.entity_type, 'person');
    assert.equal(audit.rows[0]?.region_code, V2);
    assert.equal(audit.rows[0]?.result, 'ok');
    assert.equal(Number(audit.rows[0]?.details.intoId), kept);
    assert.doesNotMatch(JSON.stringify(audit.rows[0]?.details), /单小童/);
  });
});
