// A review of the registry's HTTP API with the input clerks and clients really send: names and
// household numbers of spaces only, free text longer than the template holds, a liberty restriction
// expected to end before it began, a fact without a source, and JSON values that type coercion would
// give another meaning (0 or false for an id, true for a sex, false for an amount). Each is a 400
// naming the field in zh and en, never a 500, and nothing is written. Runs on PGlite, or PostgreSQL
// with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { createToken } from '../src/modules/access/index.ts';
import { makeIdNumber } from '../src/modules/registry/registry.idnumber.ts';
import { fieldError } from './support/errors.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let token = '';
let seq = 300;

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${token}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

function nextId(birthDate: string, sex: 1 | 2 = 1): string {
  seq += 1;
  return makeIdNumber('410225', birthDate, (sex === 1 ? seq * 2 + 1 : seq * 2) % 1000);
}

/** Both languages: the same field, a Chinese message in zh and an English one in en. */
async function refusedNaming(
  send: (lang: string) => Promise<{ statusCode: number; body: string; json(): unknown }>,
  path: string,
  zh: RegExp,
  en: RegExp,
): Promise<void> {
  const inZh = fieldError(await send('zh'));
  assert.equal(inZh.path, path);
  assert.match(inZh.message, zh);
  const inEn = fieldError(await send('en'));
  assert.equal(inEn.path, path);
  assert.match(inEn.message, en);
}

async function counts(): Promise<string> {
  const row = await t.ctx.db
    .selectNoFrom((eb) => [
      eb
        .selectFrom('persons')
        .select((e) => e.fn.countAll<number>().as('n'))
        .as('persons'),
      eb
        .selectFrom('households')
        .select((e) => e.fn.countAll<number>().as('n'))
        .as('households'),
      eb
        .selectFrom('person_facts')
        .select((e) => e.fn.countAll<number>().as('n'))
        .as('facts'),
    ])
    .executeTakeFirstOrThrow();
  return JSON.stringify(row);
}

async function person(name: string, birthDate: string, extra: Record<string, unknown> = {}) {
  const r = await call('POST', '/persons', {
    name,
    idNumber: nextId(birthDate),
    hukouRegionCode: V1,
    ...extra,
  });
  assert.equal(r.statusCode, 201, r.body);
  return r.json() as { id: number; version: number; householdId: number | null };
}

before(async () => {
  t = await createTestApp();
  token = (await createToken(t.ctx, null, { name: 'county', role: 'county_staff', regionCode: '410225' }))
    .token;
});

after(async () => {
  await t.close();
});

describe('required text that is blank', () => {
  test('a name of spaces (or full-width spaces) is a 400 naming "name", on create and on change, not a 500', async () => {
    const before = await counts();
    for (const name of ['   ', '\u3000\u3000', '\u200b'])
      await refusedNaming(
        (lang) =>
          call('POST', '/persons', { name, idNumber: nextId('1990-01-01'), hukouRegionCode: V1 }, lang),
        'name',
        /姓名不能为空/,
        /name must not be blank/,
      );
    assert.equal(await counts(), before);

    const p = await person('王五', '1990-01-01');
    await refusedNaming(
      (lang) => call('PATCH', `/persons/${p.id}`, { version: p.version, name: ' \u3000 ' }, lang),
      'name',
      /姓名不能为空/,
      /name must not be blank/,
    );
    const file = (await call('GET', `/persons/${p.id}`)).json() as { name: string; version: number };
    assert.equal(file.name, '王五');
    assert.equal(file.version, p.version);
  });

  test('a household number of spaces is a 400 naming "householdNo"; no household with an empty number is made', async () => {
    const before = await counts();
    await refusedNaming(
      (lang) => call('POST', '/households', { householdNo: ' \u3000 ', hukouRegionCode: V1 }, lang),
      'householdNo',
      /户编号不能为空/,
      /household number must not be blank/,
    );
    assert.equal(await counts(), before);
  });
});

describe('facts as the template holds them', () => {
  test('a destination, school or diagnosis longer than its template column (100) is a 400 naming it; 100 is fine', async () => {
    const p = await person('赵六', '1985-01-01');
    const long = '郑'.repeat(101);
    const cases = [
      { kind: 'migration', field: 'destination', extra: {} },
      { kind: 'schooling', field: 'school', extra: { stage: 'none' } },
      { kind: 'serious_illness', field: 'diagnosis', extra: {} },
    ];
    const before = await counts();
    for (const c of cases)
      await refusedNaming(
        (lang) =>
          call(
            'POST',
            `/persons/${p.id}/facts`,
            { kind: c.kind, from: '2020-01-01', data: { ...c.extra, [c.field]: long } },
            lang,
          ),
        `data.${c.field}`,
        /长度不能超过 100/,
        /at most 100 characters/,
      );
    assert.equal(await counts(), before);
    for (const c of cases) {
      const r = await call('POST', `/persons/${p.id}/facts`, {
        kind: c.kind,
        from: '2020-01-01',
        data: { ...c.extra, [c.field]: long.slice(1) },
      });
      assert.equal(r.statusCode, 201, r.body);
    }
  });

  test('a liberty restriction expected to end before it began is a 400 naming data.expectedEnd', async () => {
    const p = await person('钱七', '1980-01-01');
    const before = await counts();
    await refusedNaming(
      (lang) =>
        call(
          'POST',
          `/persons/${p.id}/facts`,
          {
            kind: 'liberty_restriction',
            from: '2024-03-01',
            data: { type: 'sentence', expectedEnd: '2024-02-29' },
          },
          lang,
        ),
      'data.expectedEnd',
      /早于开始日期 2024-03-01/,
      /before the start 2024-03-01/,
    );
    assert.equal(await counts(), before);
    const r = await call('POST', `/persons/${p.id}/facts`, {
      kind: 'liberty_restriction',
      from: '2024-03-01',
      data: { type: 'sentence', expectedEnd: '2027-03-01' },
    });
    assert.equal(r.statusCode, 201, r.body);
  });

  test('a fact keeps its source: a blank one is a 400 naming "source"; left out it is manual', async () => {
    const p = await person('孙八', '1980-01-01');
    const before = await counts();
    for (const source of ['', '   '])
      await refusedNaming(
        (lang) =>
          call(
            'POST',
            `/persons/${p.id}/facts`,
            { kind: 'serious_illness', from: '2020-01-01', source },
            lang,
          ),
        'source',
        /来源不能为空/,
        /source must not be blank/,
      );
    assert.equal(await counts(), before);
    const r = await call('POST', `/persons/${p.id}/facts`, { kind: 'serious_illness', from: '2020-01-01' });
    assert.equal(r.statusCode, 201, r.body);
    assert.equal((r.json() as { source: string }).source, 'manual');
  });
});

describe('JSON values that type coercion would give another meaning', () => {
  test('householdId 0 or false does not take a person out of the household: a 400 naming householdId', async () => {
    const h = await call('POST', '/households', { householdNo: 'REVIEW-1', hukouRegionCode: V1 });
    assert.equal(h.statusCode, 201, h.body);
    const householdId = (h.json() as { id: number }).id;
    const head = await person('李九', '1970-01-01', { householdId, relationToHead: '户主' });
    for (const value of [0, false])
      await refusedNaming(
        (lang) => call('PATCH', `/persons/${head.id}`, { version: head.version, householdId: value }, lang),
        'householdId',
        /不能小于 1|类型应为/,
        /at least 1|must be integer/,
      );
    const file = (await call('GET', `/persons/${head.id}`)).json() as {
      householdId: number;
      version: number;
    };
    assert.equal(file.householdId, householdId);
    assert.equal(file.version, head.version);
    const household = (await call('GET', `/households/${householdId}`)).json() as { headPersonId: number };
    assert.equal(household.headPersonId, head.id);
    // null still says "no household", as the schema allows.
    const r = await call('PATCH', `/persons/${head.id}`, { version: head.version, householdId: null });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((r.json() as { householdId: number | null }).householdId, null);
  });

  test('sex true is not 1 (male), and an income of false is not 0 fen: 400 naming the field', async () => {
    const before = await counts();
    await refusedNaming(
      (lang) =>
        call(
          'POST',
          '/persons',
          { name: '周十', noIdReason: '未落户', sex: true, birthDate: '2020-01-01', hukouRegionCode: V1 },
          lang,
        ),
      'sex',
      /类型应为/,
      /must be number/,
    );
    await refusedNaming(
      (lang) =>
        call(
          'POST',
          '/households',
          { householdNo: 'REVIEW-2', hukouRegionCode: V1, annualIncomeFen: false },
          lang,
        ),
      'annualIncomeFen',
      /类型应为 integer/,
      /must be integer/,
    );
    assert.equal(await counts(), before);
    const h = await call('POST', '/households', {
      householdNo: 'REVIEW-3',
      hukouRegionCode: V1,
      annualIncomeFen: 120_000,
    });
    assert.equal(h.statusCode, 201, h.body);
    const { id, version } = h.json() as { id: number; version: number };
    fieldError(await call('PATCH', `/households/${id}`, { version, annualIncomeFen: false }));
    const after = (await call('GET', `/households/${id}`)).json() as {
      annualIncomeFen: number;
      version: number;
    };
    assert.equal(after.annualIncomeFen, 120_000);
    assert.equal(after.version, version);
  });
});
