// Session 21 (findings-registry F2, F6): nothing about a link begins after either person's death (a
// dead adopter, carer, guardian or spouse; a death dated before a link on record; a dead person moved
// into a household or made its head), the posthumous child excepted; and a fact's data takes no
// field from the object prototype, its refusal naming the kind in Chinese.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { apiCall, makeUser, signIn, type Client } from '../../../test/support/access.ts';
import { addDays, today, type IsoDate } from '../../platform/dates.ts';

const COUNTY = '410225';
const V1 = '410225101200';

let t: TestApp;
let clerk: Client;
let household: number;

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang?: string) =>
  apiCall(t.app, clerk, method, url, payload, lang);

async function created(url: string, payload: unknown): Promise<number> {
  const r = await api('POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return (r.json() as { id: number }).id;
}

const person = (name: string, sex: 1 | 2, birthDate: IsoDate, householdId: number | null = null) =>
  created('/persons', {
    name,
    sex,
    birthDate,
    noIdReason: '未落户',
    hukouRegionCode: V1,
    ...(householdId === null ? {} : { householdId, relationToHead: '子' }),
  });

const died = (id: number, from: IsoDate) => created(`/persons/${id}/facts`, { kind: 'death', from });

interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

/** The refusal names the field, with the date of death, in zh and in en. */
async function refused(
  method: 'POST' | 'PATCH',
  url: string,
  body: unknown,
  status: number,
  field: string | null,
  death: string,
): Promise<void> {
  for (const lang of ['zh', 'en']) {
    const r = await api(method, url, body, lang);
    assert.equal(r.statusCode, status, `${url} ${JSON.stringify(body)}: ${r.body}`);
    const error = (r.json() as ErrorBody).error;
    const text =
      field === null ? error.message : (error.details?.find((d) => d.path === field)?.message ?? '');
    assert.ok(text, `${lang}: names ${field}: ${r.body}`);
    assert.ok(text.includes(death), `${lang}: names ${death}: ${r.body}`);
    assert.match(text, lang === 'zh' ? /死亡|去世/ : /death/, r.body);
  }
}

before(async () => {
  t = await createTestApp();
  await makeUser(t.ctx, 's21l.clerk', 'county_staff', COUNTY);
  const s = await signIn(t.app, 's21l.clerk');
  assert.ok(s.client);
  clerk = s.client;
  household = await created('/households', { householdNo: 'S21L-001', hukouRegionCode: V1 });
});

after(async () => {
  await t.close();
});

describe('links after a death', () => {
  test('an adoptive parent, a carer, a guardian, a spouse dead before the link starts: 400 naming the field and the death', async () => {
    const child = await person('孤童', 1, '2016-01-01');
    const adopter = await person('养父', 1, '1970-01-01');
    const grandpa = await person('死爷', 1, '1950-01-01');
    const widow = await person('寡妇', 2, '1960-01-01');
    await died(adopter, '2024-01-01');
    await died(grandpa, '2024-05-01');
    const url = `/persons/${child}/relations`;
    await refused(
      'POST',
      url,
      { relatedPersonId: adopter, kind: 'parent', subtype: 'adoptive', validFrom: '2025-01-01' },
      400,
      'validFrom',
      '2024-01-01',
    );
    await refused(
      'POST',
      url,
      { relatedPersonId: grandpa, kind: 'carer', validFrom: '2025-01-01' },
      400,
      'validFrom',
      '2024-05-01',
    );
    await refused(
      'POST',
      url,
      { relatedPersonId: grandpa, kind: 'carer', validFrom: '2024-03-01', entrustmentFormDate: '2025-01-01' },
      400,
      'entrustmentFormDate',
      '2024-05-01',
    );
    await refused(
      'POST',
      url,
      {
        relatedPersonId: grandpa,
        kind: 'carer',
        validFrom: '2024-03-01',
        carerFitnessCheckedOn: '2025-01-01',
      },
      400,
      'carerFitnessCheckedOn',
      '2024-05-01',
    );
    // A guardian without a start is taken from today.
    await refused(
      'POST',
      url,
      { relatedPersonId: grandpa, kind: 'guardian' },
      400,
      'relatedPersonId',
      '2024-05-01',
    );
    await refused(
      'POST',
      `/persons/${widow}/relations`,
      { relatedPersonId: grandpa, kind: 'spouse', validFrom: '2025-06-01' },
      400,
      'validFrom',
      '2024-05-01',
    );
    // The link of the child's own death: a dead child is adopted by nobody either.
    const dead = await person('亡童', 2, '2015-01-01');
    await died(dead, '2020-01-01');
    const mom = await person('养母', 2, '1972-01-01');
    await refused(
      'POST',
      `/persons/${dead}/relations`,
      { relatedPersonId: mom, kind: 'parent', subtype: 'adoptive', validFrom: '2021-01-01' },
      400,
      'validFrom',
      '2020-01-01',
    );
    // Before the death, and a widow's marriage with no date, are history: taken.
    await created(url, {
      relatedPersonId: grandpa,
      kind: 'carer',
      validFrom: '2024-03-01',
      entrustmentFormDate: '2024-03-01',
    });
    await created(`/persons/${widow}/relations`, { relatedPersonId: grandpa, kind: 'spouse' });
    await created(url, {
      relatedPersonId: adopter,
      kind: 'parent',
      subtype: 'adoptive',
      validFrom: '2024-01-01',
    });
  });

  test('a posthumous child: the father died before the birth the biological link starts on', async () => {
    const father = await person('遗父', 1, '1990-01-01');
    await died(father, '2019-10-01');
    const child = await person('遗腹子', 2, '2020-03-01');
    await created(`/persons/${child}/relations`, {
      relatedPersonId: father,
      kind: 'parent',
      subtype: 'biological',
      validFrom: '2020-03-01',
    });
    // Years before the birth is no posthumous child; a later start than the birth is no birth.
    const early = await person('早父', 1, '1980-01-01');
    await died(early, '2015-01-01');
    const other = await person('晚子', 1, '2020-03-01');
    await refused(
      'POST',
      `/persons/${other}/relations`,
      { relatedPersonId: early, kind: 'parent', subtype: 'biological', validFrom: '2020-03-01' },
      400,
      'validFrom',
      '2015-01-01',
    );
    await refused(
      'POST',
      `/persons/${other}/relations`,
      { relatedPersonId: father, kind: 'parent', subtype: 'biological', validFrom: '2021-01-01' },
      400,
      'validFrom',
      '2019-10-01',
    );
    // A death recorded after the posthumous child's link: taken.
    const f2 = await person('遗父二', 1, '1990-01-01');
    const c2 = await person('遗腹女', 2, '2021-05-01');
    await created(`/persons/${c2}/relations`, {
      relatedPersonId: f2,
      kind: 'parent',
      subtype: 'biological',
      validFrom: '2021-05-01',
    });
    await died(f2, '2021-01-01');
  });

  test('a death dated before a link on record (its start or its form): 409 naming the link and the date', async () => {
    const child = await person('托童', 1, '2017-01-01');
    const carer = await person('托爷', 1, '1955-01-01');
    await created(`/persons/${child}/relations`, {
      relatedPersonId: carer,
      kind: 'carer',
      validFrom: '2025-03-01',
      entrustmentFormDate: '2025-03-01',
    });
    await refused(
      'POST',
      `/persons/${carer}/facts`,
      { kind: 'death', from: '2024-01-01' },
      409,
      null,
      '2025-03-01',
    );
    const r = await api('POST', `/persons/${carer}/facts`, { kind: 'death', from: '2024-01-01' }, 'zh');
    assert.match((r.json() as ErrorBody).error.message, /2024-01-01/);
    // On or after the start: taken.
    await died(carer, '2025-03-01');
  });

  test('a dead person is moved into no household and made head of none: 400 naming the field and the death', async () => {
    const ghost = await person('亡人', 1, '1950-01-01');
    const death = addDays(today(), -400);
    await died(ghost, death);
    const version = async (id: number) =>
      ((await api('GET', `/persons/${id}`)).json() as { version: number }).version;
    await refused(
      'PATCH',
      `/persons/${ghost}`,
      { householdId: household, relationToHead: '户主', version: await version(ghost) },
      400,
      'householdId',
      death,
    );
    const member = await person('亡成员', 2, '1952-01-01', household);
    await died(member, death);
    await refused(
      'PATCH',
      `/persons/${member}`,
      { relationToHead: '户主', version: await version(member) },
      400,
      'relationToHead',
      death,
    );
    const hv = ((await api('GET', `/households/${household}`)).json() as { version: number }).version;
    await refused(
      'PATCH',
      `/households/${household}`,
      { headPersonId: member, version: hv },
      400,
      'headPersonId',
      death,
    );
  });
});

describe('fact data fields', () => {
  test('constructor, toString and hasOwnProperty are unknown fields; the zh refusal names the kind in Chinese', async () => {
    const p = await person('字段', 1, '1990-01-01');
    for (const key of ['constructor', 'toString', 'hasOwnProperty']) {
      const r = await api('POST', `/persons/${p}/facts`, {
        kind: 'migration',
        from: '2025-01-01',
        data: { destination: 'a', [key]: 1 },
      });
      assert.equal(r.statusCode, 400, `${key}: ${r.body}`);
      assert.ok(
        (r.json() as ErrorBody).error.details?.some((d) => d.path === `data.${key}`),
        r.body,
      );
    }
    const zh = await api(
      'POST',
      `/persons/${p}/facts`,
      { kind: 'disability', from: '2025-03-01', data: { destination: 'x' } },
      'zh',
    );
    assert.equal(zh.statusCode, 400, zh.body);
    const named = (zh.json() as ErrorBody).error.details?.find((d) => d.path === 'data.destination');
    assert.ok(named, zh.body);
    assert.match(named.message, /^残疾记录不含字段 destination/);
  });
});
