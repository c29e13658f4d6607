// Free text a clerk types about a household, its address and its declared assets, may hold an ID
// number or a phone ("户主身份证410225197001011234，电话13912345678"). Such numbers leave the server
// masked like the members' own fields, for every role and in every answer that shows the text (the
// household's file and the answers to its creation and change: no list or search shows the address);
// POST /households/{id}/reveal gives the whole text to roles with persons.reveal, audited; and a
// change that sends the masked text back (the household form shows what it read) never stores the
// stars over the real number. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from './support/db.ts';
import { createToken, type Role } from '../src/modules/access/index.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const V2 = '410225101201'; // 堌阳镇 任庄村

const HEAD_ID = '410225197001011234';
const HEAD_ID_MASKED = '4102*************4';
const PHONE = '13912345678';
const PHONE_MASKED = '139****5678';
const ADDRESS = `城内村3组，户主身份证${HEAD_ID}，电话${PHONE}`;
const ADDRESS_MASKED = `城内村3组，户主身份证${HEAD_ID_MASKED}，电话${PHONE_MASKED}`;
const CAR_PHONE = '0371-22334455';
const CAR_PHONE_MASKED = '037******4455';
const ASSETS = {
  住房: '砖混两间，2019年建',
  车辆: `三轮车一辆，借自邻居 ${CAR_PHONE}`,
  存款: 3000,
  证件: [`残疾证 ${HEAD_ID}41`],
};
const ASSETS_MASKED = {
  住房: '砖混两间，2019年建',
  车辆: `三轮车一辆，借自邻居 ${CAR_PHONE_MASKED}`,
  存款: 3000,
  证件: ['残疾证 4102***************1'],
};

type Who = 'county' | 'director' | 'otherDirector' | 'supervisor' | 'viewer';
let t: TestApp;
const tokens = {} as Record<Who, string>;
let householdId: number;

function call(who: Who, method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': 'zh' },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function stored(id: number): Promise<{ address: string | null; assets: unknown; version: number }> {
  return t.ctx.db
    .selectFrom('households')
    .select(['address', 'assets', 'version'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

function assertNoWholeNumber(body: string, what: string): void {
  for (const whole of [HEAD_ID, PHONE, CAR_PHONE])
    assert.ok(!body.includes(whole), `${what}: ${whole} whole`);
}

before(async () => {
  t = await createTestApp();
  const roles: Record<Who, [Role, string, boolean]> = {
    county: ['county_staff', '410225', false],
    director: ['village_child_director', V1, false],
    otherDirector: ['village_child_director', V2, false],
    supervisor: ['township_supervisor', '410225101', false],
    viewer: ['prefecture_viewer', '4102', true],
  };
  for (const [who, [role, regionCode, individualAccess]] of Object.entries(roles) as [
    Who,
    [Role, string, boolean],
  ][])
    tokens[who] = (
      await createToken(t.ctx, null, { name: `ft-${who}`, role, regionCode, individualAccess })
    ).token;
  const created = await call('county', 'POST', '/households', {
    householdNo: 'FT-0001',
    hukouRegionCode: V1,
    address: ADDRESS,
    assets: ASSETS,
  });
  assert.equal(created.statusCode, 201, created.body);
  householdId = created.json().id;
});

after(async () => {
  await t.close();
});

describe('a household’s address and assets are read with the numbers in them masked', () => {
  test('a viewer, a village director and a township supervisor (no persons.reveal) read them masked', async () => {
    for (const who of ['viewer', 'director', 'supervisor'] as const) {
      const r = await call(who, 'GET', `/households/${householdId}`);
      assert.equal(r.statusCode, 200, `${who}: ${r.body}`);
      assert.equal(r.json().address, ADDRESS_MASKED, who);
      assert.deepEqual(r.json().assets, ASSETS_MASKED, who);
      assertNoWholeNumber(r.body, who);
    }
  });

  test('county staff read them masked too, as every ID number and phone; the answers to a creation and a change are masked', async () => {
    const file = await call('county', 'GET', `/households/${householdId}`);
    assert.equal(file.json().address, ADDRESS_MASKED);
    const created = await call('county', 'POST', '/households', {
      householdNo: 'FT-0002',
      hukouRegionCode: V1,
      address: `任意地址 ${PHONE}`,
      assets: { 联系: PHONE },
    });
    assert.equal(created.statusCode, 201, created.body);
    assert.equal(created.json().address, `任意地址 ${PHONE_MASKED}`);
    assert.deepEqual(created.json().assets, { 联系: PHONE_MASKED });
    const changed = await call('county', 'PATCH', `/households/${created.json().id}`, {
      version: created.json().version,
      address: `新址 ${HEAD_ID}`,
    });
    assert.equal(changed.statusCode, 200, changed.body);
    assert.equal(changed.json().address, `新址 ${HEAD_ID_MASKED}`);
    assertNoWholeNumber(changed.body, 'the answer to a change');
    // Short numbers and dates are no phone or ID number: a real address reads as typed.
    const plain = await call('county', 'POST', '/households', {
      householdNo: 'FT-0003',
      hukouRegionCode: V1,
      address: '城内村12组108号，2020-05-01迁入',
    });
    assert.equal(plain.json().address, '城内村12组108号，2020-05-01迁入');
  });
});

describe('POST /households/{id}/reveal', () => {
  test('gives county staff (persons.reveal) the whole address and assets, audited', async () => {
    const before = await t.ctx.db
      .selectFrom('audit_log')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('action', '=', 'household.reveal')
      .executeTakeFirstOrThrow();
    const r = await call('county', 'POST', `/households/${householdId}/reveal`);
    assert.equal(r.statusCode, 200, r.body);
    assert.deepEqual(r.json(), { id: householdId, address: ADDRESS, assets: ASSETS });
    const entries = await t.ctx.db
      .selectFrom('audit_log')
      .select(['entity_type', 'entity_id', 'region_code', 'details'])
      .where('action', '=', 'household.reveal')
      .execute();
    assert.equal(entries.length, Number(before.n) + 1);
    const entry = entries.at(-1)!;
    assert.equal(entry.entity_type, 'household');
    assert.equal(String(entry.entity_id), String(householdId));
    assert.equal(entry.region_code, V1);
    assert.ok(!JSON.stringify(entry.details).includes(PHONE), 'the audit entry holds no number');
  });

  test('is refused to roles without persons.reveal (403), in scope or not, and answers 404 for no such household', async () => {
    for (const who of ['viewer', 'director', 'supervisor'] as const) {
      const r = await call(who, 'POST', `/households/${householdId}/reveal`);
      assert.equal(r.statusCode, 403, `${who}: ${r.body}`);
      assertNoWholeNumber(r.body, who);
    }
    // A role without the permission is refused before the record is looked up: 403 for every id,
    // in scope or not, so the answer tells nothing of which exist.
    const other = await call('otherDirector', 'POST', `/households/${householdId}/reveal`);
    assert.equal(other.statusCode, 403, other.body);
    assert.equal((await call('county', 'POST', '/households/999999/reveal')).statusCode, 404);
  });
});

describe('a change never stores the masked text over the real one', () => {
  test('the masked address and assets sent back unchanged (the whole record, as the form sends assets) keep the stored numbers', async () => {
    const read = (await call('director', 'GET', `/households/${householdId}`)).json();
    const r = await call('director', 'PATCH', `/households/${householdId}`, {
      version: read.version,
      address: read.address,
      assets: { ...read.assets, 存款: 5000 },
      annualIncomeFen: 1200000,
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().address, ADDRESS_MASKED);
    const row = await stored(householdId);
    assert.equal(row.address, ADDRESS);
    assert.deepEqual(row.assets, { ...ASSETS, 存款: 5000 });
  });

  test('an edit around a masked number keeps the number whole', async () => {
    const read = (await call('director', 'GET', `/households/${householdId}`)).json();
    const r = await call('director', 'PATCH', `/households/${householdId}`, {
      version: read.version,
      address: read.address.replace('3组', '4组'),
      assets: { ...read.assets, 车辆: `${read.assets.车辆}（已归还）`, 证件: read.assets.证件 },
    });
    assert.equal(r.statusCode, 200, r.body);
    const row = await stored(householdId);
    assert.equal(row.address, ADDRESS.replace('3组', '4组'));
    assert.deepEqual(row.assets, {
      ...ASSETS,
      存款: 5000,
      车辆: `${ASSETS.车辆}（已归还）`,
    });
  });

  test('a masked number the stored text does not hold is refused at its field, nothing stored', async () => {
    const read = (await call('director', 'GET', `/households/${householdId}`)).json();
    const before = await stored(householdId);
    const address = await call('director', 'PATCH', `/households/${householdId}`, {
      version: read.version,
      address: read.address.replace(PHONE_MASKED, '139****0000'),
    });
    assert.equal(address.statusCode, 400, address.body);
    assert.equal(address.json().error.details[0].path, 'address');
    const assets = await call('director', 'PATCH', `/households/${householdId}`, {
      version: read.version,
      assets: { ...read.assets, 联系人: PHONE_MASKED.replace('5678', '1111') },
    });
    assert.equal(assets.statusCode, 400, assets.body);
    assert.equal(assets.json().error.details[0].path, 'assets.联系人');
    // Digits typed against a masked number would join it into a longer run, which masking shows with
    // more of its first digits (1391… for 139…): an oracle for the hidden ones, refused.
    for (const attack of [`${PHONE_MASKED} 0000`, `${PHONE_MASKED}0000`, `0000-${PHONE_MASKED}`]) {
      const oracle = await call('director', 'PATCH', `/households/${householdId}`, {
        version: read.version,
        address: read.address.replace(PHONE_MASKED, attack),
      });
      assert.equal(oracle.statusCode, 400, `${attack}: ${oracle.body}`);
      assert.equal(oracle.json().error.details[0].path, 'address');
    }
    assert.deepEqual(await stored(householdId), before);
    // A new household has no number to keep: a masked one is refused.
    const created = await call('director', 'POST', '/households', {
      householdNo: 'FT-0004',
      hukouRegionCode: V1,
      address: ADDRESS_MASKED,
    });
    assert.equal(created.statusCode, 400, created.body);
    assert.equal(created.json().error.details[0].path, 'address');
  });

  test('county staff who revealed the text may save it whole, or type a new number', async () => {
    const read = (await call('county', 'GET', `/households/${householdId}`)).json();
    const whole = (await call('county', 'POST', `/households/${householdId}/reveal`)).json();
    const r = await call('county', 'PATCH', `/households/${householdId}`, {
      version: read.version,
      address: whole.address.replace(PHONE, '13800001111'),
    });
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.json().address, ADDRESS_MASKED.replace('3组', '4组').replace(PHONE_MASKED, '138****1111'));
    assert.equal(
      (await stored(householdId)).address,
      ADDRESS.replace('3组', '4组').replace(PHONE, '13800001111'),
    );
  });
});

describe('a fact’s source, free text a client may send, is masked like its data', () => {
  test('a village director reads it masked; the person reveal gives it whole', async () => {
    const person = await call('county', 'POST', '/persons', {
      name: '来源童',
      noIdReason: '未落户',
      sex: 1,
      birthDate: '2016-06-06',
      hukouRegionCode: V1,
    });
    assert.equal(person.statusCode, 201, person.body);
    const id = person.json().id;
    const fact = await call('county', 'POST', `/persons/${id}/facts`, {
      kind: 'migration',
      from: '2026-01-01',
      data: { destination: '上海市' },
      source: `村委核实 ${PHONE}`,
    });
    assert.equal(fact.statusCode, 201, fact.body);
    assert.equal(fact.json().source, `村委核实 ${PHONE_MASKED}`);
    const file = await call('director', 'GET', `/persons/${id}`);
    assert.equal(file.json().facts[0].source, `村委核实 ${PHONE_MASKED}`);
    assertNoWholeNumber(file.body, 'the person file');
    const revealed = await call('county', 'POST', `/persons/${id}/reveal`);
    assert.deepEqual(revealed.json().facts, [
      { id: fact.json().id, field: 'source', value: `村委核实 ${PHONE}` },
    ]);
    assert.equal((await call('director', 'POST', `/persons/${id}/reveal`)).statusCode, 403);
  });
});

describe('a child without an ID number: the birth certificate number and the reason typed', () => {
  const CERT = 'Q410123456';
  const CERT_MASKED = 'Q*****3456';
  // As stored: the cell normalisation writes full-width punctuation half-width.
  const REASON = `未落户,出生证明${CERT},联系人${PHONE}`;

  test('are read masked by every role, in the file and the export; the reveal gives them whole, audited', async () => {
    const household = await call('county', 'POST', '/households', {
      householdNo: 'FT-CERT',
      hukouRegionCode: V1,
    });
    assert.equal(household.statusCode, 201, household.body);
    const person = await call('county', 'POST', '/persons', {
      householdId: household.json().id,
      relationToHead: '户主',
      name: '无证童',
      noIdReason: REASON,
      birthCertNo: CERT,
      sex: 2,
      birthDate: '2024-02-02',
      hukouRegionCode: V1,
    });
    assert.equal(person.statusCode, 201, person.body);
    const id = person.json().id as number;
    assert.equal(person.json().birthCertNo, CERT_MASKED);
    for (const who of ['county', 'director', 'supervisor'] as const) {
      const file = await call(who, 'GET', `/persons/${id}`);
      assert.equal(file.statusCode, 200, file.body);
      assert.equal(file.json().birthCertNo, CERT_MASKED, who);
      assert.equal(file.json().noIdReason, `未落户,出生证明${CERT_MASKED},联系人${PHONE_MASKED}`, who);
      assert.ok(!file.body.includes(CERT) && !file.body.includes(PHONE), who);
    }
    // An export for a role that may not reveal is masked like the file.
    const exported = await call('supervisor', 'GET', `/exports/registry?region=${V1}&format=csv`);
    assert.equal(exported.statusCode, 200, exported.body);
    assert.ok(exported.body.includes('无证童'));
    assert.ok(!exported.body.includes(CERT) && !exported.body.includes(PHONE), 'the masked export');

    const revealed = await call('county', 'POST', `/persons/${id}/reveal`);
    assert.equal(revealed.statusCode, 200, revealed.body);
    assert.equal(revealed.json().birthCertNo, CERT);
    assert.equal(revealed.json().noIdReason, REASON);
    const entry = await t.ctx.db
      .selectFrom('audit_log')
      .select('details')
      .where('action', '=', 'person.reveal')
      .where('entity_id', '=', String(id))
      .executeTakeFirstOrThrow();
    assert.deepEqual((entry.details as { fields: string[] }).fields, [
      'idNumber',
      'phone',
      'birthCertNo',
      'noIdReason',
    ]);
    assert.equal((await call('director', 'POST', `/persons/${id}/reveal`)).statusCode, 403);
  });

  test('a change sending them back masked keeps the stored numbers; stars the stored text does not explain are refused', async () => {
    const person = await call('county', 'POST', '/persons', {
      name: '无证童二',
      noIdReason: REASON,
      birthCertNo: CERT,
      sex: 1,
      birthDate: '2024-03-03',
      hukouRegionCode: V1,
    });
    const id = person.json().id as number;
    const read = (await call('director', 'GET', `/persons/${id}`)).json();
    const edited = await call('director', 'PATCH', `/persons/${id}`, {
      version: read.version,
      noIdReason: read.noIdReason.replace('未落户', '未落户(正在办理)'),
      birthCertNo: read.birthCertNo,
    });
    assert.equal(edited.statusCode, 200, edited.body);
    const row = await t.ctx.db
      .selectFrom('persons')
      .select(['no_id_reason', 'birth_cert_no', 'version'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(row.birth_cert_no, CERT);
    assert.equal(row.no_id_reason, REASON.replace('未落户', '未落户(正在办理)'));

    for (const [field, value] of [
      ['birthCertNo', 'Q*****9999'],
      ['noIdReason', `联系人138****0000`],
    ] as const) {
      const refused = await call('director', 'PATCH', `/persons/${id}`, {
        version: row.version,
        [field]: value,
      });
      assert.equal(refused.statusCode, 400, refused.body);
      assert.equal(refused.json().error.details[0].path, field);
    }
    const after = await t.ctx.db
      .selectFrom('persons')
      .select(['no_id_reason', 'birth_cert_no', 'version'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(after, row, 'nothing written');
  });
});
