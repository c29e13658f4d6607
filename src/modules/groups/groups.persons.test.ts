// Care groups where the registry's users meet them: the person file shows each group with its reasons,
// since-date, band and past periods; person lists carry each person's groups as tags and filter by
// group, scoped in SQL like the list. And every registry change that can move a person into or out of
// a group (a new person, a corrected birth date, a move of residence or hukou, a new link, a merge)
// re-evaluates in the same transaction. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { addDays, addYears, today } from '../../platform/dates.ts';
import { createToken, type Role } from '../access/index.ts';
import { makeIdNumber } from '../registry/registry.idnumber.ts';

const VILLAGE_A = '410225101200'; // 堌阳镇 城内村
const VILLAGE_A2 = '410225101201'; // 堌阳镇 任庄村
const ELSEWHERE = '410225001213'; // another township

interface GroupView {
  code: string;
  name: string;
  subCategory: string | null;
  since: string;
  until: string | null;
  current: boolean;
  reasons: string[];
}
interface PersonFile {
  id: number;
  version: number;
  mergedInto: number | null;
  groups: GroupView[];
  facts: { kind: string }[];
}
interface ListItem {
  id: number;
  name: string;
  groups: { code: string; name: string; subCategory: string | null }[];
}

let t: TestApp;
const tokens: Record<string, string> = {};
const TODAY = today();
const CHILD_BIRTH = addYears(TODAY, -10);

async function call(
  who: string,
  method: 'GET' | 'POST' | 'PATCH',
  url: string,
  payload?: Record<string, unknown>,
  lang = 'zh',
) {
  const response = await t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload } : {}),
  });
  return {
    status: response.statusCode,
    body: response.json() as Record<string, unknown>,
    raw: response.body,
  };
}

async function register(fields: Record<string, unknown>): Promise<PersonFile> {
  const r = await call('county', 'POST', '/persons', { noIdReason: '未落户', ...fields });
  assert.equal(r.status, 201, r.raw);
  return r.body as unknown as PersonFile;
}

async function file(id: number, lang = 'zh', who = 'county'): Promise<PersonFile> {
  const r = await call(who, 'GET', `/persons/${id}`, undefined, lang);
  assert.equal(r.status, 200, r.raw);
  return r.body as unknown as PersonFile;
}

async function migrates(id: number, from: string): Promise<void> {
  const r = await call('county', 'POST', `/persons/${id}/facts`, {
    kind: 'migration',
    from,
    data: { destination: '广东省' },
  });
  assert.equal(r.status, 201, r.raw);
}

async function linkParent(child: number, parent: number): Promise<void> {
  const r = await call('county', 'POST', `/persons/${child}/relations`, {
    relatedPersonId: parent,
    kind: 'parent',
  });
  assert.equal(r.status, 201, r.raw);
}

/** Parents who both work away since 2025-03-01 and a child of ten, all in `village`. */
async function family(
  prefix: string,
  village: string,
): Promise<{ father: number; mother: number; child: number }> {
  const father = await register({
    name: `${prefix}父`,
    sex: 1,
    birthDate: '1985-02-01',
    hukouRegionCode: village,
  });
  const mother = await register({
    name: `${prefix}母`,
    sex: 2,
    birthDate: '1987-04-01',
    hukouRegionCode: village,
  });
  await migrates(father.id, '2025-03-01');
  await migrates(mother.id, '2025-03-01');
  const child = await register({
    name: `${prefix}童`,
    sex: 1,
    birthDate: CHILD_BIRTH,
    hukouRegionCode: village,
  });
  await linkParent(child.id, father.id);
  await linkParent(child.id, mother.id);
  return { father: father.id, mother: mother.id, child: child.id };
}

async function list(who: string, query: string, lang = 'zh'): Promise<ListItem[]> {
  const r = await call(who, 'GET', `/persons?limit=200&${query}`, undefined, lang);
  assert.equal(r.status, 200, r.raw);
  return r.body.items as ListItem[];
}

const openPeriods = async (personId: number) =>
  (
    await sql<{ group_code: string }>`SELECT group_code FROM group_memberships
      WHERE person_id = ${personId} AND until IS NULL ORDER BY group_code`.execute(t.ctx.db)
  ).rows.map((r) => r.group_code);

const openItems = async (personId: number) =>
  (
    await sql<{ item: string }>`SELECT kind || ' ' || group_code AS item FROM worklist_items
      WHERE person_id = ${personId} AND acknowledged_at IS NULL ORDER BY 1`.execute(t.ctx.db)
  ).rows.map((r) => r.item);

let a: { father: number; mother: number; child: number };
let b: { father: number; mother: number; child: number };
let elder: PersonFile;

before(async () => {
  t = await createTestApp();
  const make = async (name: string, role: Role, region: string) =>
    (tokens[name] = (await createToken(t.ctx, null, { name, role, regionCode: region })).token);
  await make('county', 'county_staff', '410225');
  await make('director', 'village_child_director', VILLAGE_A);
  await make('township', 'township_staff', '410225101');
  a = await family('甲', VILLAGE_A);
  b = await family('乙', VILLAGE_A2);
  // Registering a person announces it too: an elder of 85 is high-age at once, in the 80-89 band.
  elder = await register({
    name: '丙老',
    sex: 2,
    birthDate: addYears(TODAY, -85),
    hukouRegionCode: VILLAGE_A,
  });
});

after(async () => {
  await t.close();
});

describe('the person file shows the groups with their reasons', () => {
  test('a left-behind child: the group, since when, and the reasons naming the facts, in the request language', async () => {
    const zh = await file(a.child);
    assert.equal(zh.groups.length, 1);
    const group = zh.groups[0]!;
    assert.equal(group.code, 'left_behind_child');
    assert.equal(group.name, '农村留守儿童');
    assert.equal(group.since, '2025-03-01');
    assert.equal(group.until, null);
    assert.equal(group.current, true);
    assert.ok(
      group.reasons.some((r) => r.includes('父亲甲父外出务工自2025-03-01')),
      group.reasons.join(' | '),
    );
    assert.ok(group.reasons.some((r) => r.includes('母亲甲母外出务工自2025-03-01')));
    const en = await file(a.child, 'en');
    assert.equal(en.groups[0]?.name, 'rural left-behind child');
    assert.ok(en.groups[0]?.reasons.some((r) => /father/i.test(r) && r.includes('2025-03-01')));
    assert.ok(en.groups[0]?.reasons.every((r) => !/[\u4e00-\u9fff]{2}外出/.test(r)));
  });

  test('a newly registered elder of 85 shows the high-age group with its band', async () => {
    const view = await file(elder.id);
    const high = view.groups.find((g) => g.code === 'high_age_elderly');
    assert.ok(high, JSON.stringify(view.groups));
    assert.equal(high.subCategory, '80-89');
    assert.equal(high.since, addYears(addYears(TODAY, -85), 80));
    assert.ok(high.reasons.some((r) => r.includes('80-89')));
    // The answer to the registration already showed it.
    assert.deepEqual(
      elder.groups.map((g) => g.code),
      view.groups.map((g) => g.code),
    );
  });
});

describe('person lists: tags and the group filter', () => {
  test('each listed person carries the groups held today as tags', async () => {
    const items = await list('county', `region=${VILLAGE_A}`, 'en');
    const child = items.find((p) => p.id === a.child);
    assert.deepEqual(child?.groups, [
      { code: 'left_behind_child', name: 'rural left-behind child', subCategory: null },
    ]);
    assert.deepEqual(items.find((p) => p.id === a.father)?.groups, []);
    assert.equal(items.find((p) => p.id === elder.id)?.groups[0]?.subCategory, '80-89');
  });

  test('filtering by group lists the members only; several groups (repeated or comma-separated) list either', async () => {
    const children = await list('county', 'group=left_behind_child');
    assert.deepEqual(
      children.map((p) => p.id),
      [a.child, b.child],
    );
    const repeated = await list('county', 'group=left_behind_child&group=high_age_elderly');
    const comma = await list('county', 'group=left_behind_child,high_age_elderly');
    assert.deepEqual(
      repeated.map((p) => p.id),
      [a.child, b.child, elder.id],
    );
    assert.deepEqual(
      comma.map((p) => p.id),
      repeated.map((p) => p.id),
    );
    // Pages follow the cursor: one member per page.
    const first = await call('county', 'GET', '/persons?group=left_behind_child&limit=1');
    const firstPage = first.body as { items: ListItem[]; nextCursor: string };
    assert.deepEqual(
      firstPage.items.map((p) => p.id),
      [a.child],
    );
    const second = await call(
      'county',
      'GET',
      `/persons?group=left_behind_child&limit=1&cursor=${firstPage.nextCursor}`,
    );
    assert.deepEqual(
      (second.body as { items: ListItem[] }).items.map((p) => p.id),
      [b.child],
    );
    // The filter combines with the others (here a name).
    assert.deepEqual(
      (await list('county', `group=left_behind_child&q=${encodeURIComponent('乙童')}`)).map((p) => p.id),
      [b.child],
    );
  });

  test("a village director filtering by group sees her own village's members only", async () => {
    assert.deepEqual(
      (await list('director', 'group=left_behind_child')).map((p) => p.id),
      [a.child],
    );
    // Naming another village does not widen the scope.
    assert.deepEqual(await list('director', `group=left_behind_child&region=${VILLAGE_A2}`), []);
    // The township staff member sees both villages of the township.
    assert.deepEqual(
      (await list('township', 'group=left_behind_child')).map((p) => p.id),
      [a.child, b.child],
    );
  });

  test('an unknown group is a 400 naming the field, in Chinese and English', async () => {
    const zh = await call('county', 'GET', '/persons?group=left_behind_kid');
    assert.equal(zh.status, 400);
    const error = zh.body.error as { code: string; details: { path: string; message: string }[] };
    assert.equal(error.code, 'VALIDATION_FAILED');
    assert.equal(error.details[0]?.path, 'group');
    assert.match(error.details[0]!.message, /未知的关爱对象类别“left_behind_kid”/);
    const en = await call('county', 'GET', '/persons?group=left_behind_child,nobody', undefined, 'en');
    assert.equal(en.status, 400);
    const enError = en.body.error as { details: { path: string; message: string }[] };
    assert.equal(enError.details[0]?.path, 'group');
    assert.match(enError.details[0]!.message, /unknown care group "nobody"; one of left_behind_child/);
    const tooLong = await call('county', 'GET', `/persons?group=${'x'.repeat(301)}`);
    assert.equal(tooLong.status, 400);
    assert.equal((tooLong.body.error as { details: { path: string }[] }).details[0]?.path, 'group.0');
  });
});

describe('registry changes re-evaluate in the same transaction', () => {
  test('correcting a birth date moves a child out of left_behind_child; the past period stays in the file, ending on the corrected 16th birthday', async () => {
    const before = await file(a.child);
    const patched = await call('county', 'PATCH', `/persons/${a.child}`, {
      version: before.version,
      birthDate: '2009-06-01',
    });
    assert.equal(patched.status, 200, patched.raw);
    // The answer to the change already shows the outcome.
    const groups = (patched.body as unknown as PersonFile).groups;
    assert.deepEqual(
      groups.map((g) => [g.code, g.current, g.since, g.until]),
      [['left_behind_child', false, '2025-03-01', '2025-06-01']],
    );
    assert.deepEqual(await openPeriods(a.child), []);
    assert.deepEqual(
      (await list('director', 'group=left_behind_child')).map((p) => p.id),
      [],
    );
    const left = await sql<{ text_zh: string }>`SELECT text_zh FROM worklist_items
      WHERE person_id = ${a.child} AND kind = 'group_left'`.execute(t.ctx.db);
    assert.match(left.rows[0]?.text_zh ?? '', /^不再属于农村留守儿童: 甲童/);
    // Corrected back: a member again, since the departure.
    const again = await call('county', 'PATCH', `/persons/${a.child}`, {
      version: (patched.body as unknown as PersonFile).version,
      birthDate: CHILD_BIRTH,
    });
    assert.equal(again.status, 200, again.raw);
    assert.deepEqual(await openPeriods(a.child), ['left_behind_child']);
  });

  test('living away from the hukou village ends the membership; a move of hukou moves it to the new village', async () => {
    let view = await file(b.child);
    const away = await call('county', 'PATCH', `/persons/${b.child}`, {
      version: view.version,
      residenceRegionCode: ELSEWHERE,
    });
    assert.equal(away.status, 200, away.raw);
    assert.deepEqual(await openPeriods(b.child), []);
    view = away.body as unknown as PersonFile;
    const home = await call('county', 'PATCH', `/persons/${b.child}`, {
      version: view.version,
      residenceRegionCode: null,
    });
    assert.equal(home.status, 200, home.raw);
    assert.deepEqual(await openPeriods(b.child), ['left_behind_child']);
    assert.deepEqual(
      (await list('director', 'group=left_behind_child')).map((p) => p.id),
      [a.child],
    );
    // The child's hukou moves into the director's village: the membership's region follows, and so
    // does the director's list.
    view = home.body as unknown as PersonFile;
    const moved = await call('county', 'PATCH', `/persons/${b.child}`, {
      version: view.version,
      hukouRegionCode: VILLAGE_A,
    });
    assert.equal(moved.status, 200, moved.raw);
    const region = await sql<{ region_code: string }>`SELECT region_code FROM group_memberships
      WHERE person_id = ${b.child} AND until IS NULL`.execute(t.ctx.db);
    assert.deepEqual(
      region.rows.map((r) => r.region_code),
      [VILLAGE_A],
    );
    assert.deepEqual(
      (await list('director', 'group=left_behind_child')).map((p) => p.id),
      [a.child, b.child],
    );
  });

  test('a new parent link makes a child left behind at once', async () => {
    const father = await register({
      name: '丁父',
      sex: 1,
      birthDate: '1984-01-01',
      hukouRegionCode: VILLAGE_A2,
    });
    const mother = await register({
      name: '丁母',
      sex: 2,
      birthDate: '1986-01-01',
      hukouRegionCode: VILLAGE_A2,
    });
    const child = await register({
      name: '丁童',
      sex: 2,
      birthDate: CHILD_BIRTH,
      hukouRegionCode: VILLAGE_A2,
    });
    await migrates(father.id, '2025-06-01');
    await migrates(mother.id, '2025-07-01');
    await linkParent(child.id, father.id);
    assert.deepEqual(await openPeriods(child.id), []);
    await linkParent(child.id, mother.id);
    const view = await file(child.id);
    assert.deepEqual(
      view.groups.map((g) => [g.code, g.since]),
      [['left_behind_child', '2025-07-01']],
    );
  });

  test('a merge moves the facts onto the person kept and the relatives’ groups follow', async () => {
    // The mother was registered twice: once with her ID number and linked to the child, once
    // without, holding the migration record. The child is not left behind until they are merged.
    const father = await register({
      name: '戊父',
      sex: 1,
      birthDate: '1984-03-03',
      hukouRegionCode: VILLAGE_A,
    });
    await migrates(father.id, '2025-01-01');
    const kept = await register({
      name: '戊母',
      idNumber: makeIdNumber('410225', '1988-08-08', 412),
      hukouRegionCode: VILLAGE_A,
    });
    const duplicate = await register({
      name: '戊母',
      sex: 2,
      birthDate: '1988-08-08',
      hukouRegionCode: VILLAGE_A,
    });
    await migrates(duplicate.id, '2025-05-01');
    const child = await register({
      name: '戊童',
      sex: 1,
      birthDate: CHILD_BIRTH,
      hukouRegionCode: VILLAGE_A,
    });
    await linkParent(child.id, father.id);
    await linkParent(child.id, kept.id);
    assert.deepEqual(await openPeriods(child.id), []);
    const merged = await call('county', 'POST', `/persons/${duplicate.id}/merge`, {
      intoId: kept.id,
      version: (await file(duplicate.id)).version,
    });
    assert.equal(merged.status, 200, merged.raw);
    assert.deepEqual(
      (merged.body as unknown as PersonFile).facts.map((f) => f.kind),
      ['migration'],
    );
    const view = await file(child.id);
    assert.deepEqual(
      view.groups.map((g) => [g.code, g.since, g.current]),
      [['left_behind_child', '2025-05-01', true]],
    );
    assert.ok(view.groups[0]?.reasons.some((r) => r.includes('母亲戊母外出务工自2025-05-01')));
  });

  test('a merge of a child registered twice: the kept person holds the group, the merged-away one holds none, and no date counts the child twice', async () => {
    const father = await register({
      name: '己父',
      sex: 1,
      birthDate: '1983-03-03',
      hukouRegionCode: VILLAGE_A,
    });
    const mother = await register({
      name: '己母',
      sex: 2,
      birthDate: '1985-05-05',
      hukouRegionCode: VILLAGE_A,
    });
    await migrates(father.id, '2025-02-01');
    await migrates(mother.id, '2025-04-01');
    // The record linked to the parents (a member) and the one with the ID number (not linked).
    const duplicate = await register({
      name: '己童',
      sex: 2,
      birthDate: CHILD_BIRTH,
      hukouRegionCode: VILLAGE_A,
    });
    await linkParent(duplicate.id, father.id);
    await linkParent(duplicate.id, mother.id);
    const kept = await register({
      name: '己童',
      idNumber: makeIdNumber('410225', CHILD_BIRTH, 582),
      hukouRegionCode: VILLAGE_A,
    });
    assert.deepEqual(await openPeriods(duplicate.id), ['left_behind_child']);
    assert.deepEqual(await openPeriods(kept.id), []);
    assert.deepEqual(await openItems(duplicate.id), ['group_entered left_behind_child']);

    const merged = await call('county', 'POST', `/persons/${duplicate.id}/merge`, {
      intoId: kept.id,
      version: (await file(duplicate.id)).version,
    });
    assert.equal(merged.status, 200, merged.raw);
    const keptView = merged.body as unknown as PersonFile;
    assert.deepEqual(
      keptView.groups.map((g) => [g.code, g.since, g.current]),
      [['left_behind_child', '2025-04-01', true]],
    );
    assert.deepEqual(await openPeriods(duplicate.id), []);
    assert.equal((await file(duplicate.id)).mergedInto, kept.id);
    // The director's open item moved with the period: one item for the human, on the kept file.
    assert.deepEqual(await openItems(duplicate.id), []);
    assert.deepEqual(await openItems(kept.id), ['group_entered left_behind_child']);
    // On any date, the human is counted once.
    for (const day of ['2025-04-01', '2026-01-31', TODAY, addDays(TODAY, -1)]) {
      const counted = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
        WHERE person_id IN (${duplicate.id}, ${kept.id}) AND group_code = 'left_behind_child'
          AND since <= ${day}::date AND (until IS NULL OR until > ${day}::date)`.execute(t.ctx.db);
      assert.equal(counted.rows[0]?.n, 1, `counted once on ${day}`);
    }
    // The lists show the kept person, not the merged-away one.
    const ids = (await list('director', 'group=left_behind_child')).map((p) => p.id);
    assert.ok(ids.includes(kept.id));
    assert.ok(!ids.includes(duplicate.id));
  });

  test('a merge where both records held the group keeps one period, the duplicate’s is voided', async () => {
    const father = await register({
      name: '庚父',
      sex: 1,
      birthDate: '1983-03-03',
      hukouRegionCode: VILLAGE_A,
    });
    const mother = await register({
      name: '庚母',
      sex: 2,
      birthDate: '1985-05-05',
      hukouRegionCode: VILLAGE_A,
    });
    await migrates(father.id, '2025-02-01');
    await migrates(mother.id, '2025-02-01');
    const first = await register({
      name: '庚童',
      sex: 1,
      birthDate: CHILD_BIRTH,
      hukouRegionCode: VILLAGE_A,
    });
    const second = await register({
      name: '庚童',
      sex: 1,
      birthDate: CHILD_BIRTH,
      hukouRegionCode: VILLAGE_A,
    });
    for (const child of [first.id, second.id]) {
      await linkParent(child, father.id);
      await linkParent(child, mother.id);
    }
    assert.deepEqual(await openPeriods(first.id), ['left_behind_child']);
    assert.deepEqual(await openPeriods(second.id), ['left_behind_child']);
    assert.deepEqual(await openItems(second.id), ['group_entered left_behind_child']);
    const merged = await call('county', 'POST', `/persons/${second.id}/merge`, {
      intoId: first.id,
      version: (await file(second.id)).version,
    });
    assert.equal(merged.status, 200, merged.raw);
    assert.deepEqual(await openPeriods(second.id), []);
    assert.deepEqual(await openPeriods(first.id), ['left_behind_child']);
    // Both records had told the director; one open item is left, the duplicate's is closed.
    assert.deepEqual(await openItems(first.id), ['group_entered left_behind_child']);
    assert.deepEqual(await openItems(second.id), []);
    const counted = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships
      WHERE person_id IN (${first.id}, ${second.id}) AND since <= '2026-01-01'::date
        AND (until IS NULL OR until > '2026-01-01'::date)`.execute(t.ctx.db);
    assert.equal(counted.rows[0]?.n, 1);
  });
});
