// Ending a link on a date (POST /persons/:id/relations/:relationId/end): a divorce, an entrusted care
// or a guardianship that ended. The link is kept with its end, the file as of an earlier date still
// shows it, the groups of both persons follow (a woman whose migrant husband divorced her is no longer
// a left-behind woman from that day), it is audited, and every wrong request names the field and why.
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
  validFrom: string | null;
  validTo: string | null;
}

const api = (client: Client, method: 'GET' | 'POST', url: string, payload?: unknown) =>
  apiCall(t.app, client, method, url, payload);

async function created(url: string, payload: unknown): Promise<number> {
  const r = await api(clerk, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return (r.json() as { id: number }).id;
}

let serial = 0;
async function person(name: string, sex: 1 | 2, birthDate: IsoDate, householdId: number): Promise<number> {
  serial += 1;
  return created('/persons', {
    idNumber: makeIdNumber(COUNTY, birthDate, sex === 1 ? 2 * serial + 1 : 2 * serial),
    name,
    hukouRegionCode: V1,
    householdId,
    relationToHead: serial % 2 ? '户主' : '配偶',
  });
}

async function relationsOf(id: number, asOf?: IsoDate): Promise<Relation[]> {
  const r = await api(clerk, 'GET', `/persons/${id}${asOf ? `?asOf=${asOf}` : ''}`);
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { relations: Relation[] }).relations;
}

const periods = (personId: number, group: string) =>
  t.ctx.db
    .selectFrom('group_memberships')
    .select(['since', 'until'])
    .where('person_id', '=', personId)
    .where('group_code', '=', group)
    .orderBy('since')
    .execute();

const TODAY = today();
const DIVORCED = addDays(TODAY, -10);
let wife: number;
let husband: number;
let spouseLink: number;

before(async () => {
  t = await createTestApp();
  await makeUser(t.ctx, 're.clerk', 'county_staff', COUNTY);
  await makeUser(t.ctx, 're.other', 'township_staff', T2);
  const a = await signIn(t.app, 're.clerk');
  const b = await signIn(t.app, 're.other');
  assert.ok(a.client && b.client);
  clerk = a.client;
  other = b.client;

  const household = await created('/households', { householdNo: 'RE-001', hukouRegionCode: V1 });
  husband = await person('王大军', 1, '1985-04-02', household);
  wife = await person('李春梅', 2, '1987-09-15', household);
  await created(`/persons/${wife}/relations`, {
    relatedPersonId: husband,
    kind: 'spouse',
    validFrom: '2010-05-01',
  });
  // He has worked away for three years: she is a left-behind woman.
  await created(`/persons/${husband}/facts`, {
    kind: 'migration',
    from: addDays(TODAY, -3 * 365),
    data: { destination: '广东省东莞市' },
  });
  const link = (await relationsOf(wife)).find((r) => r.kind === 'spouse');
  assert.ok(link);
  spouseLink = link.id;
  assert.equal((await periods(wife, 'left_behind_woman')).length, 1);
});

after(async () => {
  await t.close();
});

describe('ending a link', () => {
  test('a divorce ends the spouse link on its day, from either end; the earlier file still shows it; the groups follow; audited', async () => {
    const auditBefore = await lastAuditId(t.ctx);
    // The link is stored under one of them; the clerk ends it from the husband's file.
    const r = await api(clerk, 'POST', `/persons/${husband}/relations/${spouseLink}/end`, { to: DIVORCED });
    assert.equal(r.statusCode, 200, r.body);
    const shown = (r.json() as { relations: Relation[] }).relations.find((x) => x.id === spouseLink);
    assert.equal(shown?.validTo, DIVORCED);

    // As of the day before the divorce the file shows the marriage in force; from the divorce on it does not.
    const before = await relationsOf(wife, addDays(DIVORCED, -1));
    assert.deepEqual(
      before.filter((x) => x.kind === 'spouse').map((x) => [x.personId, x.validFrom]),
      [[husband, '2010-05-01']],
    );
    assert.deepEqual(
      (await relationsOf(wife, DIVORCED)).filter((x) => x.kind === 'spouse' && x.validTo === null),
      [],
    );

    // Her period as a left-behind woman ends on the day of the divorce.
    const woman = await periods(wife, 'left_behind_woman');
    assert.equal(woman.length, 1);
    assert.equal(woman[0]?.until, DIVORCED);

    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select(['action', 'entity_id', 'region_code', 'details'])
      .where('id', '>', auditBefore)
      .where('action', '=', 'person.relation.end')
      .execute();
    assert.equal(entries.length, 1);
    assert.equal(entries[0]?.entity_id, String(husband));
    assert.equal(entries[0]?.region_code, V1);
  });

  test('a link ended already, or ended before it began, in the future, or on no real date, is refused naming the field', async () => {
    const again = await api(clerk, 'POST', `/persons/${wife}/relations/${spouseLink}/end`, { to: TODAY });
    assert.equal(again.statusCode, 409, again.body);
    assert.match(again.body, new RegExp(`已于 ${DIVORCED} 结束`));

    const household = await created('/households', { householdNo: 'RE-002', hukouRegionCode: V1 });
    const child = await person('王小宝', 1, '2016-02-01', household);
    const grandma = await person('张桂兰', 2, '1955-01-01', household);
    await created(`/persons/${child}/relations`, {
      relatedPersonId: grandma,
      kind: 'carer',
      validFrom: '2020-03-01',
      entrustmentFormDate: '2020-03-01',
    });
    const carer = (await relationsOf(child)).find((x) => x.kind === 'carer');
    assert.ok(carer);
    const cases: [unknown, number, string, RegExp][] = [
      [{ to: '2020-03-01' }, 400, 'to', /结束日期必须晚于关系开始日期 2020-03-01/],
      [{ to: addDays(TODAY, 1) }, 400, 'to', /结束日期不能晚于今天/],
      [{ to: '2025-02-30' }, 400, 'to', /日期/],
      [{}, 400, 'to', /./],
    ];
    for (const [body, status, field, reason] of cases) {
      const r = await api(clerk, 'POST', `/persons/${child}/relations/${carer.id}/end`, body);
      assert.equal(r.statusCode, status, `${JSON.stringify(body)}: ${r.body}`);
      const error = (r.json() as { error: { code: string; details?: { path: string; message: string }[] } })
        .error;
      assert.equal(error.code, 'VALIDATION_FAILED', r.body);
      const named = error.details?.find((d) => d.path === field);
      assert.ok(named, `${JSON.stringify(body)} names ${field}: ${r.body}`);
      assert.match(named.message, reason);
    }
    // The entrusted care ends; it may be entrusted again later (a new link, the old one kept).
    const ended = await api(clerk, 'POST', `/persons/${child}/relations/${carer.id}/end`, { to: TODAY });
    assert.equal(ended.statusCode, 200, ended.body);
    await created(`/persons/${child}/relations`, {
      relatedPersonId: grandma,
      kind: 'carer',
      validFrom: TODAY,
    });
    const carers = (await relationsOf(child)).filter((x) => x.kind === 'carer');
    assert.deepEqual(carers.map((x) => [x.validFrom, x.validTo]).sort(), [
      ['2020-03-01', TODAY],
      [TODAY, null],
    ]);
  });

  test('a biological parent link does not end; a link of another person, or a person out of scope, is not found', async () => {
    const household = await created('/households', { householdNo: 'RE-003', hukouRegionCode: V1 });
    const child = await person('赵小雨', 2, '2017-06-01', household);
    const father = await person('赵大山', 1, '1988-01-01', household);
    await created(`/persons/${child}/relations`, { relatedPersonId: father, kind: 'parent' });
    const parent = (await relationsOf(child)).find((x) => x.kind === 'parent');
    assert.ok(parent);
    const r = await api(clerk, 'POST', `/persons/${child}/relations/${parent.id}/end`, { to: TODAY });
    assert.equal(r.statusCode, 400, r.body);
    assert.match(r.body, /亲生父母关系不会结束/);

    // The link exists, but not on this person's file.
    const wrong = await api(clerk, 'POST', `/persons/${wife}/relations/${parent.id}/end`, { to: TODAY });
    assert.equal(wrong.statusCode, 404, wrong.body);
    // A township clerk of another township cannot end it, and cannot tell it exists.
    const outside = await api(other, 'POST', `/persons/${child}/relations/${parent.id}/end`, { to: TODAY });
    assert.equal(outside.statusCode, 404, outside.body);
    assert.deepEqual(
      (await relationsOf(child)).filter((x) => x.kind === 'parent').map((x) => x.validTo),
      [null],
    );
  });
});
