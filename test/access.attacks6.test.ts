// A sixth adversarial review of access (DOMAIN.md section 6: "ID numbers and phones are masked unless
// the user's role may reveal them"), beyond access.attacks*.test.ts and the scope walk: masked values
// read back by a role that may not reveal them, within its own village. The search by a phone's first
// digits answered which prefix a masked phone has, one digit at a time; a fact's retraction reason, free
// text a clerk types, went out whole; numbers typed with a space either side of the dash, or with dots,
// slipped past the masking of a fact's text.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { apiCall, signedInClients, type ApiMethod, type Client } from './support/access.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const T1 = '410225101'; // 堌阳镇
const COUNTY = '410225';

type Who = 'director' | 'supervisor' | 'county';

let t: TestApp;
let clients: Record<Who, Client>;

function call(who: Who, method: ApiMethod, url: string, payload?: unknown) {
  return apiCall(t.app, clients[who], method, url, payload);
}

async function created(who: Who, url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await call(who, 'POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json();
}

const CHILD_ID = makeIdNumber(COUNTY, '2015-05-05', 601);
const CHILD_PHONE = '13855556666'; // shown as 138****6666
const FATHER_ID = makeIdNumber(COUNTY, '1985-03-03', 603);
let child: { id: number; version: number };
let father: { id: number; version: number };

before(async () => {
  t = await createTestApp();
  clients = await signedInClients(t, {
    director: ['a6.director', 'village_child_director', V1],
    supervisor: ['a6.supervisor', 'township_supervisor', T1],
    county: ['a6.county', 'county_staff', COUNTY],
  });
  const household = await created('county', '/households', { householdNo: 'ATK6-001', hukouRegionCode: V1 });
  father = await created('county', '/persons', {
    idNumber: FATHER_ID,
    name: '城内父',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '户主',
  });
  child = await created('county', '/persons', {
    idNumber: CHILD_ID,
    name: '城内童',
    hukouRegionCode: V1,
    householdId: household.id,
    relationToHead: '子',
    phone: CHILD_PHONE,
  });
});

after(async () => {
  await t.close();
});

async function foundIds(who: Who, q: string): Promise<number[]> {
  const r = await call(who, 'GET', `/persons?q=${encodeURIComponent(q)}`);
  assert.equal(r.statusCode, 200, `${who} q=${q}: ${r.body}`);
  return (r.json().items as { id: number }[]).map((p) => p.id);
}

describe('a masked phone is not read back through searches by its first digits', () => {
  test('to a village director or township supervisor no prefix answers which digits are hidden; the whole number still finds the person', async () => {
    for (const who of ['director', 'supervisor'] as const) {
      // The role may not see the number: the file shows it masked and the reveal is refused.
      const file = await call(who, 'GET', `/persons/${child.id}`);
      assert.equal(file.json().phone, '138****6666', who);
      assert.equal((await call(who, 'POST', `/persons/${child.id}/reveal`)).statusCode, 403, who);
      // 1380 ... 1389: the one that lists the child would be the first hidden digit, and so on for
      // the next three (40 searches for the whole number).
      const telling: string[] = [];
      for (let digit = 0; digit <= 9; digit++) {
        const prefix = `138${digit}`;
        if ((await foundIds(who, prefix)).includes(child.id)) telling.push(prefix);
      }
      assert.deepEqual(telling, [], `${who}: a prefix search tells the hidden digits`);
      for (const length of [5, 7, 10])
        assert.ok(
          !(await foundIds(who, CHILD_PHONE.slice(0, length))).includes(child.id),
          `${who}: ${length} first digits find the child`,
        );
      // The number a clerk holds still finds the person, and the list shows it masked.
      const whole = await call(who, 'GET', `/persons?q=${CHILD_PHONE}`);
      assert.deepEqual(
        (whole.json().items as { id: number }[]).map((p) => p.id),
        [child.id],
        who,
      );
      assert.ok(!whole.body.includes(CHILD_PHONE), who);
    }
  });

  test('county staff, who may reveal the number, keep the search by its first digits', async () => {
    assert.ok((await foundIds('county', CHILD_PHONE.slice(0, 7))).includes(child.id));
    assert.ok((await foundIds('county', CHILD_PHONE.slice(0, 4))).includes(child.id));
  });
});

describe('free text typed about a fact is masked like the fact’s data', () => {
  test('a retraction reason naming the right certificate number and a phone: masked in the answer and the file, whole in the reveal', async () => {
    const rightCertificate = `${FATHER_ID}21`;
    const phone = '13955557777';
    const fact = await created('county', `/persons/${father.id}/facts`, {
      kind: 'disability',
      from: '2020-01-01',
      data: { category: 4, grade: 2, certificateNo: `${FATHER_ID}12` },
    });
    const reason = `残疾证号录错，应为 ${rightCertificate}；核实电话 ${phone}`;
    const retracted = await call('county', 'POST', `/persons/${father.id}/facts/${fact.id}/retract`, {
      reason,
    });
    assert.equal(retracted.statusCode, 200, retracted.body);
    const file = await call('director', 'GET', `/persons/${father.id}`);
    assert.equal(file.statusCode, 200, file.body);
    for (const [what, body] of [
      ['the answer to the retraction', retracted.body],
      ["the director's person file", file.body],
    ] as const) {
      assert.ok(!body.includes(FATHER_ID), `${what} shows the ID number: ${body}`);
      assert.ok(!body.includes(phone), `${what} shows the phone: ${body}`);
    }
    const shown = (file.json().facts as { id: number; retractionReason: string | null }[]).find(
      (f) => f.id === fact.id,
    );
    assert.equal(
      shown?.retractionReason,
      `残疾证号录错，应为 ${rightCertificate.slice(0, 4)}${'*'.repeat(15)}${rightCertificate.slice(-1)}；核实电话 139****7777`,
    );
    // A role that may reveal reads it whole through the reveal (audited there); others are refused.
    const revealed = await call('county', 'POST', `/persons/${father.id}/reveal`);
    assert.equal(revealed.statusCode, 200, revealed.body);
    assert.deepEqual(
      (revealed.json().facts as { id: number; field: string; value: string }[]).filter(
        (f) => f.id === fact.id,
      ),
      [
        { id: fact.id, field: 'certificateNo', value: `${FATHER_ID}12` },
        { id: fact.id, field: 'retractionReason', value: reason },
      ],
    );
    assert.equal((await call('director', 'POST', `/persons/${father.id}/reveal`)).statusCode, 403);
  });

  test('a phone typed with a space either side of the dash, or with dots, is masked; dates and short numbers stay', async () => {
    await created('county', `/persons/${father.id}/facts`, {
      kind: 'migration',
      from: '2024-02-01',
      data: { destination: '广东省东莞市', contact: '138 - 5555 - 8888' },
    });
    await created('county', `/persons/${father.id}/facts`, {
      kind: 'serious_illness',
      from: '2025-01-01',
      data: { diagnosis: '家属电话 139.5555.9999，2026.01.05 复查，床号 12' },
    });
    const file = await call('director', 'GET', `/persons/${father.id}`);
    assert.equal(file.statusCode, 200, file.body);
    const facts = file.json().facts as { kind: string; data: Record<string, string> }[];
    assert.equal(facts.find((f) => f.kind === 'migration')?.data.contact, '138**********8888');
    assert.equal(
      facts.find((f) => f.kind === 'serious_illness')?.data.diagnosis,
      '家属电话 139******9999,2026.01.05 复查,床号 12',
    );
  });
});
