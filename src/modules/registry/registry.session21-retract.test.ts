// Session 21 fixes of the registry probe (/tmp/probe/findings-registry.md):
// F4: a link recorded against the wrong person (two villagers of the same name) is retracted
//   (POST /persons/:id/relations/:relationId/retract): it is in force on no day, the file keeps it
//   under retractedRelations with who, when and why, the groups of both follow, and the true parent
//   can then be linked.
// F3: a closed spell recorded inside an open period of the same kind does not end the open one
//   (nobody recorded a return): 409 naming the open record and what to do.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { apiCall, lastAuditId, makeUser, signIn, type Client } from '../../../test/support/access.ts';
import { today, addDays, type IsoDate } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';

const COUNTY = '410225';
const V1 = '410225101200'; // 堌阳镇 城内村
const T2 = '410225102'; // another township

let t: TestApp;
let clerk: Client;
let other: Client;

interface Relation {
  id: number;
  kind: string;
  role: string;
  personId: number;
  subtype: string | null;
  validFrom: string | null;
  validTo: string | null;
}
interface RetractedRelation extends Relation {
  retractedAt: string;
  retractedBy: number | null;
  retractionReason: string;
}
interface Detail {
  relations: Relation[];
  retractedRelations: RetractedRelation[];
  facts: { id: number; kind: string; from: string; to: string | null; data: Record<string, unknown> }[];
  groups: { code: string; since: string; until: string | null; current: boolean }[];
}
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const api = (client: Client, method: 'GET' | 'POST', url: string, payload?: unknown, lang?: string) =>
  apiCall(t.app, client, method, url, payload, lang);

async function created(url: string, payload: unknown): Promise<number> {
  const r = await api(clerk, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return (r.json() as { id: number }).id;
}

async function file(id: number, asOf?: IsoDate): Promise<Detail> {
  const r = await api(clerk, 'GET', `/persons/${id}${asOf ? `?asOf=${asOf}` : ''}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as Detail;
}

let serial = 0;
async function person(name: string, sex: 1 | 2, birthDate: IsoDate, householdId: number): Promise<number> {
  serial += 1;
  return created('/persons', {
    idNumber: makeIdNumber(COUNTY, birthDate, sex === 1 ? 2 * serial + 1 : 2 * serial),
    name,
    hukouRegionCode: V1,
    householdId,
    relationToHead: serial === 1 ? '户主' : '其他',
  });
}

const leftBehindNow = async (id: number) =>
  (await file(id)).groups.some((g) => g.code === 'left_behind_child' && g.current);

const TODAY = today();
let household: number;

before(async () => {
  t = await createTestApp();
  await makeUser(t.ctx, 'rr.clerk', 'county_staff', COUNTY);
  await makeUser(t.ctx, 'rr.other', 'township_staff', T2);
  const a = await signIn(t.app, 'rr.clerk');
  const b = await signIn(t.app, 'rr.other');
  assert.ok(a.client && b.client);
  clerk = a.client;
  other = b.client;
  household = await created('/households', { householdNo: 'RR-001', hukouRegionCode: V1 });
});

after(async () => {
  await t.close();
});

describe('F4: retracting a link recorded against the wrong person', () => {
  test('the wrong biological father is retracted: in force on no day, kept with who/when/why, the groups follow, the true father can be linked; audited', async () => {
    const child = await person('错童', 2, '2019-09-09', household);
    const wrongFather = await person('王强', 1, '1988-01-01', household);
    const trueFather = await person('王强', 1, '1990-01-01', household);
    const mother = await person('错母', 2, '1990-05-05', household);
    for (const parent of [wrongFather, mother])
      await created(`/persons/${parent}/facts`, {
        kind: 'migration',
        from: '2023-01-01',
        data: { destination: '广东省东莞市' },
      });
    await created(`/persons/${child}/relations`, { relatedPersonId: mother, kind: 'parent' });
    await created(`/persons/${child}/relations`, { relatedPersonId: wrongFather, kind: 'parent' });
    const wrong = (await file(child)).relations.find((r) => r.personId === wrongFather);
    assert.ok(wrong);
    assert.equal(await leftBehindNow(child), true, 'both parents away: a left-behind child');

    // Before: the true father is refused (one biological father).
    const refused = await api(clerk, 'POST', `/persons/${child}/relations`, {
      relatedPersonId: trueFather,
      kind: 'parent',
    });
    assert.equal(refused.statusCode, 409, refused.body);

    const auditBefore = await lastAuditId(t.ctx);
    const reason = '误登记为同名的另一人（身份证号 410225198801010011 为另一王强）';
    const r = await api(clerk, 'POST', `/persons/${child}/relations/${wrong.id}/retract`, { reason });
    assert.equal(r.statusCode, 200, r.body);
    const answered = r.json() as Detail;
    assert.equal(
      answered.relations.some((x) => x.id === wrong.id),
      false,
    );
    const kept = answered.retractedRelations.find((x) => x.id === wrong.id);
    assert.ok(kept, r.body);
    assert.equal(kept.personId, wrongFather);
    assert.equal(kept.kind, 'parent');
    assert.equal(kept.role, 'parent');
    assert.equal(kept.subtype, 'biological');
    assert.equal(typeof kept.retractedBy, 'number');
    assert.ok(Date.parse(kept.retractedAt) > 0);
    // The reason is kept, a number in it masked as the file shows free text.
    assert.match(kept.retractionReason, /^误登记为同名的另一人/);
    assert.doesNotMatch(kept.retractionReason, /410225198801010011/);

    // The wrong father's file shows it from his end too (as the child he never had).
    const his = await file(wrongFather);
    assert.equal(
      his.relations.some((x) => x.id === wrong.id),
      false,
    );
    assert.equal(his.retractedRelations.find((x) => x.id === wrong.id)?.role, 'child');

    // In force on no day: the file as of a past date does not show it.
    const past = await file(child, '2024-01-01');
    assert.equal(
      past.relations.some((x) => x.id === wrong.id),
      false,
    );
    assert.deepEqual(past.retractedRelations, []);
    // Moved out of person_relations, into person_relations_retracted.
    const stored = await t.ctx.db
      .selectFrom('person_relations')
      .select('id')
      .where('id', '=', wrong.id)
      .execute();
    assert.deepEqual(stored, []);
    const moved = await t.ctx.db
      .selectFrom('person_relations_retracted')
      .select(['person_id', 'related_person_id', 'retraction_reason'])
      .where('id', '=', wrong.id)
      .executeTakeFirstOrThrow();
    assert.equal(Number(moved.person_id), child);
    assert.equal(Number(moved.related_person_id), wrongFather);
    assert.equal(moved.retraction_reason, reason);

    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'entity_id', 'region_code', 'details'])
      .where('id', '>', auditBefore)
      .where('action', '=', 'person.relation.retract')
      .execute();
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.entity_id, String(child));
    assert.equal(entries[0]?.region_code, V1);
    const details = entries[0]?.details as { relationId: number; reason?: string; reasonLength: number };
    assert.equal(details.relationId, wrong.id);
    // The reason stays with the retracted link; the audit administrator reads its length only.
    assert.equal(details.reason, undefined);
    assert.equal(details.reasonLength, [...reason.trim()].length);
    assert.doesNotMatch(JSON.stringify(details), /410225198801010011|误登记/);

    // The true father (at home) is linked now; the child is no longer left behind.
    await created(`/persons/${child}/relations`, { relatedPersonId: trueFather, kind: 'parent' });
    const now = await file(child);
    assert.deepEqual(
      now.relations
        .filter((x) => x.kind === 'parent')
        .map((x) => x.personId)
        .sort((a, b) => a - b),
      [trueFather, mother].sort((a, b) => a - b),
    );
    assert.equal(await leftBehindNow(child), false, 'the father is at home');
  });

  test('a spouse link typed against the wrong person is retracted from the other end; the right spouse can be linked', async () => {
    const woman = await person('李春梅', 2, '1987-09-15', household);
    const wrongMan = await person('张伟', 1, '1985-04-02', household);
    const rightMan = await person('张伟', 1, '1986-04-02', household);
    await created(`/persons/${woman}/relations`, {
      relatedPersonId: wrongMan,
      kind: 'spouse',
      validFrom: '2010-05-01',
    });
    const link = (await file(woman)).relations.find((x) => x.kind === 'spouse');
    assert.ok(link);
    const r = await api(clerk, 'POST', `/persons/${wrongMan}/relations/${link.id}/retract`, {
      reason: '配偶登记错人',
    });
    assert.equal(r.statusCode, 200, r.body);
    const hers = await file(woman);
    assert.deepEqual(
      hers.relations.filter((x) => x.kind === 'spouse'),
      [],
    );
    assert.deepEqual(
      hers.retractedRelations.map((x) => [x.id, x.personId, x.validFrom, x.retractionReason]),
      [[link.id, wrongMan, '2010-05-01', '配偶登记错人']],
    );
    // As of a day in the marriage, no spouse.
    assert.deepEqual(
      (await file(woman, '2015-01-01')).relations.filter((x) => x.kind === 'spouse'),
      [],
    );
    await created(`/persons/${woman}/relations`, {
      relatedPersonId: rightMan,
      kind: 'spouse',
      validFrom: '2010-05-01',
    });
    assert.deepEqual(
      (await file(woman)).relations.filter((x) => x.kind === 'spouse').map((x) => x.personId),
      [rightMan],
    );
  });

  test('refusals: no or blank reason names reason (zh/en); retracted twice 409; a link of another person or out of scope 404', async () => {
    const child = await person('赵小雨', 2, '2017-06-01', household);
    const grandma = await person('张桂兰', 2, '1955-01-01', household);
    const someone = await person('路人', 1, '1970-01-01', household);
    await created(`/persons/${child}/relations`, {
      relatedPersonId: grandma,
      kind: 'carer',
      validFrom: '2020-03-01',
    });
    const carer = (await file(child)).relations.find((x) => x.kind === 'carer');
    assert.ok(carer);
    const url = `/persons/${child}/relations/${carer.id}/retract`;
    const cases: [unknown, string, RegExp][] = [
      [{}, 'reason', /./],
      [{ reason: '' }, 'reason', /./],
      [{ reason: ' \u3000 ' }, 'reason', /撤回原因/],
      [{ reason: 'x'.repeat(501) }, 'reason', /./],
      [{ reason: 'ok', extra: 1 }, 'extra', /./],
    ];
    for (const [body, field, message] of cases) {
      const r = await api(clerk, 'POST', url, body);
      assert.equal(r.statusCode, 400, `${JSON.stringify(body)}: ${r.body}`);
      const error = (r.json() as ErrorBody).error;
      assert.equal(error.code, 'VALIDATION_FAILED', r.body);
      const named = error.details?.find((d) => d.path === field || d.path.endsWith(`/${field}`));
      assert.ok(named, `${JSON.stringify(body)} names ${field}: ${r.body}`);
      assert.match(named.message, message);
    }
    const en = await api(clerk, 'POST', url, { reason: '   ' }, 'en');
    assert.equal(en.statusCode, 400, en.body);
    assert.match(en.body, /say why the link is wrong/);

    // The link exists, but not on this person's file; a clerk of another township cannot see it.
    const wrongFile = await api(clerk, 'POST', `/persons/${someone}/relations/${carer.id}/retract`, {
      reason: '错',
    });
    assert.equal(wrongFile.statusCode, 404, wrongFile.body);
    const outside = await api(other, 'POST', url, { reason: '错' });
    assert.equal(outside.statusCode, 404, outside.body);
    const missing = await api(clerk, 'POST', `/persons/${child}/relations/99999999/retract`, {
      reason: '错',
    });
    assert.equal(missing.statusCode, 404, missing.body);
    assert.equal(
      (await file(child)).relations.some((x) => x.id === carer.id),
      true,
    );

    const done = await api(clerk, 'POST', url, { reason: '照护人登记错人' });
    assert.equal(done.statusCode, 200, done.body);
    const again = await api(clerk, 'POST', url, { reason: '照护人登记错人' });
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.body, /已被撤回/);
  });
});

describe('F3: a closed spell inside an open period', () => {
  test('is refused (409 naming the open record and what to do); the open period stays open; an open new fact still ends it', async () => {
    const father = await person('留父', 1, '1985-03-03', household);
    await created(`/persons/${father}/facts`, {
      kind: 'migration',
      from: '2024-03-01',
      data: { destination: '广州' },
    });
    const open = (await file(father)).facts.find((f) => f.kind === 'migration');
    assert.ok(open);
    const r = await api(clerk, 'POST', `/persons/${father}/facts`, {
      kind: 'migration',
      from: '2025-01-01',
      to: '2025-07-01',
      data: { destination: '深圳' },
    });
    assert.equal(r.statusCode, 409, r.body);
    const error = (r.json() as ErrorBody).error;
    assert.match(error.message, new RegExp(`#${open.id}`));
    assert.match(error.message, /2024-03-01 起未结束/);
    assert.match(error.message, /请先结束该记录/);
    const en = await api(
      clerk,
      'POST',
      `/persons/${father}/facts`,
      { kind: 'migration', from: '2025-01-01', to: '2025-07-01', data: { destination: '深圳' } },
      'en',
    );
    assert.equal(en.statusCode, 409, en.body);
    assert.match(en.body, /is open since 2024-03-01.*end that record first.*open end/);
    // Nothing changed: 广州 is still open, no 深圳.
    assert.deepEqual(
      (await file(father)).facts.filter((f) => f.kind === 'migration').map((f) => [f.from, f.to]),
      [['2024-03-01', null]],
    );
    // An open new fact carries the answer on: it ends the earlier one at its start.
    const from = addDays(TODAY, -30);
    await created(`/persons/${father}/facts`, {
      kind: 'migration',
      from,
      data: { destination: '深圳' },
    });
    assert.deepEqual(
      (await file(father)).facts
        .filter((f) => f.kind === 'migration')
        .map((f) => [f.from, f.to])
        .sort(),
      [
        ['2024-03-01', from],
        [from, null],
      ],
    );
  });
});
