// A review of the registry's effective-dated model through the HTTP API (DOMAIN.md section 1, "Facts
// about a person are effective-dated periods [from, to), with a source and who recorded them, so that
// 'as of date D' questions have one answer and the history is kept"). What it found about links
// (person-to-person relations), each test failing before its fix:
// - a marriage dated into an ended marriage to a third person was taken: two spouses as of the days
//   both held (the one-spouse check looked at open links only);
// - the same link again (a care entrusted again, a remarriage of the two) dated before the earlier
//   one's end was taken: the link shown twice as of the days both held;
// - a link did not say who recorded it or when (facts do);
// - a person's move (hukou village, residence, household, relation to the head) overwrote the previous
//   values with nothing kept: the audit entry named the fields only. It now keeps from and to.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { apiCall, makeUser, signIn, type Client, type TestUser } from './support/access.ts';
import type { ErrorJson } from './support/errors.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let clerk: Client;
let clerkUser: TestUser;
let seq = 700;

interface Link {
  id: number;
  kind: string;
  personId: number;
  validFrom: string | null;
  validTo: string | null;
  source: string;
  recordedBy: number | null;
  recordedAt: string;
}

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang?: string) =>
  apiCall(t.app, clerk, method, url, payload, lang);

async function person(name: string, birthDate: string, sex: 1 | 2): Promise<number> {
  seq += 1;
  const r = await api('POST', '/persons', {
    name,
    idNumber: makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000),
    hukouRegionCode: V1,
  });
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

async function links(id: number, asOf?: string): Promise<Link[]> {
  const r = await api('GET', `/persons/${id}${asOf ? `?asOf=${asOf}` : ''}`);
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { relations: Link[] }).relations;
}

async function link(personId: number, body: Record<string, unknown>, lang?: string) {
  return api('POST', `/persons/${personId}/relations`, body, lang);
}

async function linked(personId: number, body: Record<string, unknown>): Promise<Link> {
  const r = await link(personId, body);
  assert.equal(r.statusCode, 201, r.body);
  const all = (r.json() as { relations: Link[] }).relations;
  const found = all.find(
    (l) => l.personId === body.relatedPersonId && l.kind === body.kind && l.validTo === null,
  );
  assert.ok(found, r.body);
  return found;
}

async function end(personId: number, linkId: number, to: string): Promise<void> {
  const r = await api('POST', `/persons/${personId}/relations/${linkId}/end`, { to });
  assert.equal(r.statusCode, 200, r.body);
}

const relationCount = async () =>
  Number(
    (
      await t.ctx.db
        .selectFrom('person_relations')
        .select((e) => e.fn.countAll<number>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  );

before(async () => {
  t = await createTestApp();
  clerkUser = await makeUser(t.ctx, 'hist.clerk', 'county_staff', '410225');
  const signed = await signIn(t.app, 'hist.clerk');
  assert.ok(signed.client, signed.response.body);
  clerk = signed.client;
});

after(async () => t.close());

describe('one spouse on every day, ended marriages included', () => {
  test('a marriage dated into an ended marriage to a third person is a 409 in zh and en, from either end; from the day it ended it is taken', async () => {
    const man = await person('史建国', '1980-01-01', 1);
    const first = await person('韩秀兰', '1982-03-03', 2);
    const second = await person('冯丽娟', '1983-04-04', 2);
    const marriage = await linked(man, { relatedPersonId: first, kind: 'spouse', validFrom: '2010-01-01' });
    await end(man, marriage.id, '2020-01-01'); // the divorce
    const before = await relationCount();

    // Married again, dated 2015: he would have had two wives from 2015 to 2020.
    const zh = await link(man, { relatedPersonId: second, kind: 'spouse', validFrom: '2015-01-01' });
    assert.equal(zh.statusCode, 409, zh.body);
    const error = (zh.json() as ErrorJson).error;
    assert.equal(error.code, 'CONFLICT');
    assert.match(error.message, /本人已登记的婚姻关系 \[2010-01-01, 2020-01-01\).*2015-01-01.*2020-01-01/);
    const reversed = await link(
      second,
      { relatedPersonId: man, kind: 'spouse', validFrom: '2019-12-31' },
      'en',
    );
    assert.equal(reversed.statusCode, 409, reversed.body);
    assert.match(
      (reversed.json() as ErrorJson).error.message,
      /the related person has a marriage on record \[2010-01-01, 2020-01-01\) still in force on 2019-12-31/,
    );
    // The third person is not named: they may be registered outside the clerk's region.
    assert.doesNotMatch(zh.body + reversed.body, /韩秀兰/);
    // Dated before the first marriage and open, it would run over it as well.
    assert.equal(
      (await link(man, { relatedPersonId: second, kind: 'spouse', validFrom: '2009-01-01' })).statusCode,
      409,
    );
    assert.equal(await relationCount(), before);

    // The day the divorce took effect, or later: one wife on every day.
    const again = await linked(man, { relatedPersonId: second, kind: 'spouse', validFrom: '2020-01-01' });
    for (const [day, wife] of [
      ['2015-06-01', first],
      ['2019-12-31', first],
      ['2020-01-01', second],
    ] as const) {
      const spouses = (await links(man, day)).filter((l) => l.kind === 'spouse');
      assert.deepEqual(
        spouses.map((l) => l.personId),
        [wife],
        day,
      );
    }
    assert.equal(again.validFrom, '2020-01-01');
  });

  test('a widower: the late wife’s marriage in force when she died does not stop a later one', async () => {
    const man = await person('褚志强', '1960-05-05', 1);
    const late = await person('卫桂芳', '1962-06-06', 2);
    const next = await person('蒋玉梅', '1965-07-07', 2);
    const marriage = await linked(man, { relatedPersonId: late, kind: 'spouse', validFrom: '1985-01-01' });
    const died = await api('POST', `/persons/${late}/facts`, { kind: 'death', from: '2012-03-01' });
    assert.equal(died.statusCode, 201, died.body);
    // The link recorded as ended later than the death (the clerk closed it on the funeral's paperwork).
    await end(man, marriage.id, '2013-01-01');
    const r = await link(man, { relatedPersonId: next, kind: 'spouse', validFrom: '2012-10-01' });
    assert.equal(r.statusCode, 201, r.body);
  });
});

describe('a link holds once on a day', () => {
  test('a care entrusted again from a day the earlier entrustment still held is a 409 naming it; from its end it is a new link, the old one kept', async () => {
    const child = await person('沈小雨', '2015-03-03', 2);
    const grandma = await person('沈老太', '1955-01-01', 2);
    const care = await linked(child, { relatedPersonId: grandma, kind: 'carer', validFrom: '2020-01-01' });
    await end(child, care.id, '2022-01-01');
    const before = await relationCount();

    const overlapping = await link(child, {
      relatedPersonId: grandma,
      kind: 'carer',
      validFrom: '2021-01-01',
    });
    assert.equal(overlapping.statusCode, 409, overlapping.body);
    assert.match(
      (overlapping.json() as ErrorJson).error.message,
      new RegExp(`\\[2020-01-01, 2022-01-01\\) 的记录\\(#${care.id}\\).*2021-01-01.*最早从 2022-01-01 开始`),
    );
    const en = await link(child, { relatedPersonId: grandma, kind: 'carer', validFrom: '2019-01-01' }, 'en');
    assert.equal(en.statusCode, 409, en.body);
    assert.match((en.json() as ErrorJson).error.message, /one link holds once on a day/);
    assert.equal(await relationCount(), before);
    // As of a day in 2021 the grandmother is the child's carer once.
    assert.equal((await links(child, '2021-06-01')).filter((l) => l.kind === 'carer').length, 1);

    const renewed = await linked(child, { relatedPersonId: grandma, kind: 'carer', validFrom: '2022-01-01' });
    const all = (await links(child)).filter((l) => l.kind === 'carer');
    assert.deepEqual(
      all.map((l) => [l.id, l.validFrom, l.validTo]),
      [
        [care.id, '2020-01-01', '2022-01-01'],
        [renewed.id, '2022-01-01', null],
      ],
    );
  });

  test('the same two persons married again: dated into their own ended marriage, 409; after it, two periods', async () => {
    const man = await person('杨文涛', '1978-08-08', 1);
    const woman = await person('朱晓燕', '1980-09-09', 2);
    const first = await linked(woman, { relatedPersonId: man, kind: 'spouse', validFrom: '2005-01-01' });
    await end(man, first.id, '2015-01-01');
    // Linked from the other end: a spouse link is stored once, whichever file it was entered on.
    const r = await link(man, { relatedPersonId: woman, kind: 'spouse', validFrom: '2014-01-01' });
    assert.equal(r.statusCode, 409, r.body);
    const again = await linked(man, { relatedPersonId: woman, kind: 'spouse', validFrom: '2018-01-01' });
    for (const day of ['2010-01-01', '2019-01-01'])
      assert.equal((await links(woman, day)).filter((l) => l.kind === 'spouse').length, 1, day);
    assert.deepEqual(await links(woman, '2016-01-01').then((l) => l.filter((x) => x.kind === 'spouse')), []);
    assert.notEqual(again.id, first.id);
  });
});

describe('who recorded a link', () => {
  test('a link shows its source, the user who recorded it and when, as a fact does', async () => {
    const child = await person('秦朵朵', '2016-04-04', 2);
    const mother = await person('秦母', '1990-02-02', 2);
    const started = Date.now();
    const l = await linked(child, { relatedPersonId: mother, kind: 'parent', subtype: 'biological' });
    assert.equal(l.source, 'manual');
    assert.equal(l.recordedBy, clerkUser.id);
    assert.ok(Date.parse(l.recordedAt) >= started - 60_000, l.recordedAt);
    // The same on the other end's file.
    const seen = (await links(mother)).find((x) => x.id === l.id);
    assert.equal(seen?.recordedBy, clerkUser.id);
    assert.equal(seen?.recordedAt, l.recordedAt);
  });
});

describe('a move keeps the values it replaced', () => {
  test('PATCH /persons moving hukou, household and relation to the head: the audit entry keeps from and to, with who; nothing of the name or numbers', async () => {
    const hh = async (no: string, village: string) => {
      const r = await api('POST', '/households', { householdNo: no, hukouRegionCode: village });
      assert.equal(r.statusCode, 201, r.body);
      return (r.json() as { id: number }).id;
    };
    const V2 = '410225101201';
    const first = await hh('HIST-01', V1);
    const second = await hh('HIST-02', V2);
    seq += 1;
    const created = await api('POST', '/persons', {
      name: '许迁居',
      idNumber: makeIdNumber('410225', '1988-10-10', (seq * 2 + 1) % 1000),
      hukouRegionCode: V1,
      householdId: first,
      relationToHead: '子',
    });
    assert.equal(created.statusCode, 201, created.body);
    const { id, version } = created.json() as { id: number; version: number };
    const moved = await api('PATCH', `/persons/${id}`, {
      version,
      hukouRegionCode: V2,
      householdId: second,
      relationToHead: '女婿',
      name: '许新名',
      phone: '13912345678',
    });
    assert.equal(moved.statusCode, 200, moved.body);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select(['actor_user_id', 'at', 'details'])
      .where('action', '=', 'person.update')
      .where('entity_id', '=', String(id))
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    assert.equal(Number(entry.actor_user_id), clerkUser.id);
    assert.ok(entry.at instanceof Date || typeof entry.at === 'string');
    const details = entry.details as Record<string, unknown>;
    assert.deepEqual(details.hukouRegionCode, { from: V1, to: V2 });
    assert.deepEqual(details.householdId, { from: first, to: second });
    assert.deepEqual(details.relationToHead, { from: '子', to: '女婿' });
    // Unchanged values are not listed; the name and the phone are named as fields, never with values.
    assert.equal(details.residenceRegionCode, undefined);
    assert.deepEqual(
      (details.fields as string[]).sort(),
      ['hukouRegionCode', 'householdId', 'name', 'phone', 'relationToHead'].sort(),
    );
    assert.doesNotMatch(JSON.stringify(details), /许|139/);
  });
});
