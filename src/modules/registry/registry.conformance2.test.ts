// A second, adversarial review of the registry against DOMAIN.md section 1 and EXCHANGE.md, with
// what real users send: ID numbers with spaces and full-width characters through the API, 15-digit
// numbers of the last century, 29 February, abolished counties in the address code; relations that
// cannot be (one's own parent, a parent younger than the child, two biological mothers, a spouse
// under the legal marriage age, a cycle); facts before birth or after death; stale versions on every
// versioned route; household heads; template headers in another order, padded or with full-width
// brackets; the date forms clerks type; an export imported back unchanged with formula-looking text
// neutralised; and the error envelope in zh and en. Runs on PGlite, or PostgreSQL with
// TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import ExcelJS from 'exceljs';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken } from '../access/index.ts';
import { parseDate } from '../../platform/normalize.ts';
import { computeCheckCharacter, makeIdNumber } from './registry.idnumber.ts';
import { readTable } from './registry.reader.ts';
import { TEMPLATE_HEADERS, recordToRow, rowToRecord } from './registry.template.ts';
import { person as templatePerson } from '../../../test/fixtures/registry/make-fixtures.ts';
import { fieldError, type ErrorJson } from '../../../test/support/errors.ts';

const V1 = '410225101200'; // 堌阳镇 城内村
const V2 = '410225101201'; // 堌阳镇 任庄村: the round trip's own village

let t: TestApp;
let dir = '';
const tokens: Record<string, string> = {};
let seq = 500;

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang = 'zh', who = 'county') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${tokens[who]}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

function nextId(birthDate: string, sex: 1 | 2 = 1, county = '410225'): string {
  seq += 1;
  const n = sex === 1 ? seq * 2 + 1 : seq * 2;
  return makeIdNumber(county, birthDate, n % 1000);
}

async function person(
  name: string,
  birthDate: string,
  sex: 1 | 2 = 1,
  extra: Record<string, unknown> = {},
): Promise<number> {
  const r = await call('POST', '/persons', {
    name,
    idNumber: nextId(birthDate, sex),
    hukouRegionCode: V1,
    ...extra,
  });
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

function errorCode(r: { statusCode: number; body: string; json(): unknown }, status: number): string {
  assert.equal(r.statusCode, status, r.body);
  return (r.json() as ErrorJson).error.code;
}

async function reveal(id: number): Promise<string | null> {
  const r = await call('POST', `/persons/${id}/reveal`);
  assert.equal(r.statusCode, 200, r.body);
  return (r.json() as { idNumber: string | null }).idNumber;
}

async function relationCount(id: number): Promise<number> {
  const r = await call('GET', `/persons/${id}`);
  return (r.json() as { relations: unknown[] }).relations.length;
}

async function factCount(id: number): Promise<number> {
  const r = await call('GET', `/persons/${id}`);
  return (r.json() as { facts: unknown[] }).facts.length;
}

before(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-conf2-'));
  t = await createTestApp({ dataDir: dir });
  for (const name of ['county', 'county2'])
    tokens[name] = (
      await createToken(t.ctx, null, { name, role: 'county_staff', regionCode: '410225' })
    ).token;
});

after(async () => {
  await t.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------

describe('ID numbers as users type them into the API', () => {
  test('full-width digits, spaces and a lower-case x are normalised on create and in the search', async () => {
    const id = makeIdNumber('410225', '2010-05-06', 337);
    const typed = id
      .replace(/X$/, 'x')
      .replace(/\d/g, (d) => String.fromCharCode(d.charCodeAt(0) + 0xfee0))
      .replace(/^(.{6})(.{8})/, '$1\u3000$2 ');
    const r = await call('POST', '/persons', { name: '全角号', idNumber: ` ${typed} `, hukouRegionCode: V1 });
    assert.equal(r.statusCode, 201, r.body);
    const pid = (r.json() as { id: number }).id;
    assert.equal(await reveal(pid), id);
    const found = await call('GET', `/persons?idNumber=${encodeURIComponent(typed)}`);
    assert.deepEqual(
      (found.json() as { items: { id: number }[] }).items.map((p) => p.id),
      [pid],
    );
  });

  test('a 15-digit number of a person born in 1980 is upgraded with its check character; the 18-digit form is the same person', async () => {
    const r = await call('POST', '/persons', {
      name: '旧号码',
      idNumber: '410225800101123',
      hukouRegionCode: V1,
    });
    assert.equal(r.statusCode, 201, r.body);
    const body = r.json() as { id: number; birthDate: string; sex: number };
    assert.equal(body.birthDate, '1980-01-01');
    assert.equal(body.sex, 1);
    const upgraded = `41022519800101123${computeCheckCharacter('41022519800101123')}`;
    assert.equal(await reveal(body.id), upgraded);
    const again = await call('POST', '/persons', { name: '旧号码', idNumber: upgraded, hukouRegionCode: V1 });
    assert.equal(errorCode(again, 409), 'CONFLICT');
    const found = await call('GET', '/persons?idNumber=410225800101123');
    assert.deepEqual(
      (found.json() as { items: { id: number }[] }).items.map((p) => p.id),
      [body.id],
    );
  });

  test('29 February: 1996 and 2008 exist, 1900 (15 digits) and 2009 do not, said in zh and en', async () => {
    const leap15 = await call('POST', '/persons', {
      name: '闰日旧',
      idNumber: '410225960229124',
      hukouRegionCode: V1,
    });
    assert.equal(leap15.statusCode, 201, leap15.body);
    assert.equal((leap15.json() as { birthDate: string }).birthDate, '1996-02-29');
    assert.equal((leap15.json() as { sex: number }).sex, 2);
    const leap18 = await call('POST', '/persons', {
      name: '闰日新',
      idNumber: makeIdNumber('410225', '2008-02-29', 131),
      hukouRegionCode: V1,
    });
    assert.equal(leap18.statusCode, 201, leap18.body);
    const y1900 = fieldError(
      await call('POST', '/persons', { name: '无此日', idNumber: '410225000229123', hukouRegionCode: V1 }),
    );
    assert.equal(y1900.path, 'idNumber');
    assert.match(y1900.message, /19000229.*不是有效日期/);
    const first17 = '41022520090229131';
    const y2009 = fieldError(
      await call(
        'POST',
        '/persons',
        { name: '无此日', idNumber: first17 + computeCheckCharacter(first17), hukouRegionCode: V1 },
        'en',
      ),
    );
    assert.equal(y2009.path, 'idNumber');
    assert.match(y2009.message, /20090229 in the ID number is not a calendar date/);
  });

  test('an address code of an abolished county (110103 崇文区, 2010) is accepted, and residence is not derived from it', async () => {
    const r = await call('POST', '/persons', {
      name: '崇文人',
      idNumber: makeIdNumber('110103', '1975-03-04', 215),
      hukouRegionCode: V1,
    });
    assert.equal(r.statusCode, 201, r.body);
    const p = r.json() as { hukouRegionCode: string; residenceRegionCode: string | null };
    assert.equal(p.hukouRegionCode, V1);
    assert.equal(p.residenceRegionCode, null);
  });

  test('a number Excel made a float is refused saying so, in zh and en', async () => {
    const zh = fieldError(
      await call('POST', '/persons', { name: '浮点', idNumber: '4.10225E+17', hukouRegionCode: V1 }),
    );
    assert.equal(zh.path, 'idNumber');
    assert.match(zh.message, /Excel/);
    assert.match(zh.message, /丢失/);
    const en = fieldError(
      await call(
        'POST',
        '/persons',
        { name: '浮点', idNumber: '410225200801011000.0', hukouRegionCode: V1 },
        'en',
      ),
    );
    assert.match(en.message, /lost/);
  });
});

// ---------------------------------------------------------------------------------------------

describe('relations that cannot be', () => {
  test('a person as their own parent is a field error on relatedPersonId', async () => {
    const a = await person('自为父', '1980-02-02');
    const r = fieldError(
      await call('POST', `/persons/${a}/relations`, { relatedPersonId: a, kind: 'parent' }),
    );
    assert.equal(r.path, 'relatedPersonId');
    assert.equal(await relationCount(a), 0);
  });

  test('a parent born after the child is refused in zh and en, whatever the subtype; nothing is written', async () => {
    const child = await person('早生子', '1990-01-01');
    const young = await person('晚生父', '1995-01-01');
    const zh = fieldError(
      await call('POST', `/persons/${child}/relations`, { relatedPersonId: young, kind: 'parent' }),
    );
    assert.equal(zh.path, 'relatedPersonId');
    assert.match(zh.message, /1995-01-01/);
    const en = fieldError(
      await call(
        'POST',
        `/persons/${child}/relations`,
        { relatedPersonId: young, kind: 'parent', subtype: 'adoptive' },
        'en',
      ),
    );
    assert.match(en.message, /born/);
    const twin = await person('同日生', '1990-01-01');
    fieldError(await call('POST', `/persons/${child}/relations`, { relatedPersonId: twin, kind: 'parent' }));
    assert.equal(await relationCount(child), 0);
  });

  test('a cycle through three generations is refused', async () => {
    const a = await person('甲祖', '1950-01-01');
    const b = await person('乙父', '1975-01-01');
    const c = await person('丙孙', '2000-01-01');
    assert.equal(
      (await call('POST', `/persons/${b}/relations`, { relatedPersonId: a, kind: 'parent' })).statusCode,
      201,
    );
    assert.equal(
      (await call('POST', `/persons/${c}/relations`, { relatedPersonId: b, kind: 'parent' })).statusCode,
      201,
    );
    const cycle = await call('POST', `/persons/${a}/relations`, { relatedPersonId: c, kind: 'parent' });
    assert.equal(cycle.statusCode, 400, cycle.body);
    assert.equal(await relationCount(a), 1);
  });

  test('two biological mothers (or fathers) are refused with 409 naming the one recorded; an adoptive one is fine', async () => {
    const child = await person('两母子', '2012-06-06');
    const mother = await person('生母', '1988-01-01', 2);
    const other = await person('另一生母', '1989-01-01', 2);
    const father = await person('生父', '1986-01-01', 1);
    const otherFather = await person('另一生父', '1985-01-01', 1);
    const link = (related: number, extra: Record<string, unknown> = {}, lang = 'zh') =>
      call(
        'POST',
        `/persons/${child}/relations`,
        { relatedPersonId: related, kind: 'parent', ...extra },
        lang,
      );
    assert.equal((await link(mother)).statusCode, 201);
    assert.equal((await link(father)).statusCode, 201);
    const second = await link(other);
    assert.equal(errorCode(second, 409), 'CONFLICT');
    assert.match(second.body, /生母/);
    const secondEn = await link(otherFather, { subtype: 'biological' }, 'en');
    assert.equal(errorCode(secondEn, 409), 'CONFLICT');
    assert.match((secondEn.json() as ErrorJson).error.message, /biological father/);
    assert.equal((await link(other, { subtype: 'adoptive' })).statusCode, 201);
    assert.equal(await relationCount(child), 3);
  });

  test('a spouse under the legal marriage age (Civil Code art. 1047: man 22, woman 20) is refused; at the age it is fine', async () => {
    const man = await person('夫', '2000-03-01', 1);
    const girl = await person('少女', '2008-03-01', 2);
    const r = fieldError(
      await call('POST', `/persons/${man}/relations`, { relatedPersonId: girl, kind: 'spouse' }),
    );
    assert.equal(r.path, 'relatedPersonId');
    assert.match(r.message, /20/);
    const woman = await person('妻', '1990-03-01', 2);
    const boy = await person('少男', '2010-03-01', 1);
    const en = fieldError(
      await call('POST', `/persons/${woman}/relations`, { relatedPersonId: boy, kind: 'spouse' }, 'en'),
    );
    assert.match(en.message, /22/);
    // On the date the marriage began: a woman who turned 20 on 2024-05-05, married that day.
    const bride = await person('新娘', '2004-05-05', 2);
    const early = fieldError(
      await call('POST', `/persons/${man}/relations`, {
        relatedPersonId: bride,
        kind: 'spouse',
        validFrom: '2024-05-04',
      }),
    );
    assert.equal(early.path, 'relatedPersonId');
    const onTime = await call('POST', `/persons/${man}/relations`, {
      relatedPersonId: bride,
      kind: 'spouse',
      validFrom: '2024-05-05',
    });
    assert.equal(onTime.statusCode, 201, onTime.body);
  });
});

// ---------------------------------------------------------------------------------------------

describe('facts and the life they belong to', () => {
  test('a fact that starts before the birth is a field error on "from" in zh and en; a death too', async () => {
    const id = await person('未生', '2015-07-01');
    const zh = fieldError(
      await call('POST', `/persons/${id}/facts`, {
        kind: 'disability',
        from: '2015-06-30',
        data: { category: 4, grade: 2 },
      }),
    );
    assert.equal(zh.path, 'from');
    assert.match(zh.message, /2015-07-01/);
    const en = fieldError(
      await call('POST', `/persons/${id}/facts`, { kind: 'death', from: '2014-01-01' }, 'en'),
    );
    assert.equal(en.path, 'from');
    assert.match(en.message, /birth/);
    assert.equal(await factCount(id), 0);
    // On the birth day itself is fine.
    assert.equal(
      (
        await call('POST', `/persons/${id}/facts`, {
          kind: 'disability',
          from: '2015-07-01',
          data: { category: 4, grade: 2 },
        })
      ).statusCode,
      201,
    );
  });

  test('a death dated before a recorded fact began is refused with 409 naming that fact', async () => {
    const id = await person('后死', '1960-01-01');
    const away = await call('POST', `/persons/${id}/facts`, {
      kind: 'migration',
      from: '2025-03-01',
      data: { destination: '广东省' },
    });
    assert.equal(away.statusCode, 201, away.body);
    const death = await call('POST', `/persons/${id}/facts`, { kind: 'death', from: '2025-01-01' });
    assert.equal(errorCode(death, 409), 'CONFLICT');
    assert.match(death.body, new RegExp(`#${(away.json() as { id: number }).id}`));
    assert.equal(await factCount(id), 1);
    // A death on or after the start of every fact is recorded.
    assert.equal(
      (await call('POST', `/persons/${id}/facts`, { kind: 'death', from: '2025-03-01' })).statusCode,
      201,
    );
  });

  test('a closed period covering a recorded one of the same kind is refused; the end must be after the start', async () => {
    const id = await person('覆盖', '1970-01-01');
    assert.equal(
      (
        await call('POST', `/persons/${id}/facts`, {
          kind: 'serious_illness',
          from: '2021-01-01',
          to: '2021-06-01',
        })
      ).statusCode,
      201,
    );
    const cover = await call('POST', `/persons/${id}/facts`, {
      kind: 'serious_illness',
      from: '2020-01-01',
      to: '2022-01-01',
    });
    assert.equal(errorCode(cover, 409), 'CONFLICT');
    const same = fieldError(
      await call('POST', `/persons/${id}/facts`, {
        kind: 'lost_contact',
        from: '2024-01-01',
        to: '2024-01-01',
        data: { policeReportDate: '2024-01-02' },
      }),
    );
    assert.equal(same.path, 'to');
  });

  test('API dates are ISO 8601 only: 2026/2/3 and 20260203 are field errors naming the field', async () => {
    const id = await person('日期', '1980-01-01');
    for (const from of ['2026/2/3', '20260203', '2026-2-3'])
      assert.equal(
        fieldError(await call('POST', `/persons/${id}/facts`, { kind: 'serious_illness', from })).path,
        'from',
      );
    const birth = fieldError(
      await call('POST', '/persons', {
        name: '无号',
        noIdReason: '未落户',
        sex: 1,
        birthDate: '2023-02-29',
        hukouRegionCode: V1,
      }),
    );
    assert.equal(birth.path, 'birthDate');
  });
});

// ---------------------------------------------------------------------------------------------

describe('a stale version gets 409 CONFLICT on every versioned route, in zh and en, and changes nothing', () => {
  test('PATCH /persons/{id}, PATCH /households/{id}, POST /persons/{id}/merge', async () => {
    const h = await call('POST', '/households', { householdNo: 'C2-STALE', hukouRegionCode: V1 });
    assert.equal(h.statusCode, 201, h.body);
    const household = h.json() as { id: number; version: number };
    const a = await call('POST', '/persons', {
      name: '陈旧甲',
      noIdReason: '未落户',
      sex: 1,
      birthDate: '2019-01-01',
      hukouRegionCode: V1,
    });
    const b = await call('POST', '/persons', {
      name: '陈旧甲',
      noIdReason: '未落户',
      sex: 1,
      birthDate: '2019-01-01',
      hukouRegionCode: V1,
    });
    const pa = a.json() as { id: number; version: number };
    const pb = b.json() as { id: number; version: number };
    const cases: [string, ReturnType<typeof call>][] = [];
    for (const lang of ['zh', 'en']) {
      cases.push([
        `person ${lang}`,
        call('PATCH', `/persons/${pa.id}`, { version: pa.version + 1, ethnicity: '回族' }, lang),
      ]);
      cases.push([
        `household ${lang}`,
        call(
          'PATCH',
          `/households/${household.id}`,
          { version: household.version + 1, address: '新址' },
          lang,
        ),
      ]);
      cases.push([
        `merge ${lang}`,
        call('POST', `/persons/${pb.id}/merge`, { intoId: pa.id, version: pb.version + 1 }, lang),
      ]);
    }
    for (const [name, pending] of cases) {
      const r = await pending;
      assert.equal(r.statusCode, 409, `${name}: ${r.body}`);
      const body = r.json() as ErrorJson;
      assert.deepEqual(Object.keys(body), ['error']);
      assert.equal(body.error.code, 'CONFLICT');
      if (name.endsWith('zh')) assert.match(body.error.message, /[\u4e00-\u9fff]/);
      else assert.match(body.error.message, /^[\x20-\x7e]+$/);
    }
    const after = (await call('GET', `/persons/${pa.id}`)).json() as {
      version: number;
      ethnicity: string | null;
    };
    assert.deepEqual([after.version, after.ethnicity], [pa.version, null]);
    const hAfter = (await call('GET', `/households/${household.id}`)).json() as {
      version: number;
      address: string | null;
    };
    assert.deepEqual([hAfter.version, hAfter.address], [household.version, null]);
    const bAfter = (await call('GET', `/persons/${pb.id}`)).json() as { mergedInto: number | null };
    assert.equal(bAfter.mergedInto, null);
  });
});

// ---------------------------------------------------------------------------------------------

describe('household heads and relations to the head', () => {
  test('the head of a household must be one of its members', async () => {
    const h = (await call('POST', '/households', { householdNo: 'C2-HEAD', hukouRegionCode: V1 })).json() as {
      id: number;
      version: number;
    };
    const member = await person('户内人', '1970-01-01', 1, { householdId: h.id, relationToHead: '子' });
    const outsider = await person('户外人', '1971-01-01');
    const r = fieldError(
      await call('PATCH', `/households/${h.id}`, { version: h.version, headPersonId: outsider }),
    );
    assert.equal(r.path, 'headPersonId');
    const created = fieldError(
      await call('POST', '/households', {
        householdNo: 'C2-HEAD2',
        hukouRegionCode: V1,
        headPersonId: member,
      }),
    );
    assert.equal(created.path, 'headPersonId');
    const ok = await call('PATCH', `/households/${h.id}`, { version: h.version, headPersonId: member });
    assert.equal(ok.statusCode, 200, ok.body);
  });

  test('a household has one head: the first 户主 becomes its head, a second is refused with 409 in zh and en', async () => {
    const h = (await call('POST', '/households', { householdNo: 'C2-TWO', hukouRegionCode: V1 })).json() as {
      id: number;
    };
    const first = await person('头一个', '1960-01-01', 1, { householdId: h.id, relationToHead: '户主' });
    const household = (await call('GET', `/households/${h.id}`)).json() as { headPersonId: number | null };
    assert.equal(household.headPersonId, first);
    const second = await call('POST', '/persons', {
      name: '第二个',
      idNumber: nextId('1962-01-01'),
      hukouRegionCode: V1,
      householdId: h.id,
      relationToHead: '户主',
    });
    assert.equal(errorCode(second, 409), 'CONFLICT');
    assert.match(second.body, /头一个/);
    const member = await person('第二个', '1962-01-01', 1, { householdId: h.id, relationToHead: '配偶' });
    const current = (await call('GET', `/persons/${member}`)).json() as { version: number };
    const patched = await call(
      'PATCH',
      `/persons/${member}`,
      { version: current.version, relationToHead: '户主' },
      'en',
    );
    assert.equal(errorCode(patched, 409), 'CONFLICT');
    assert.match((patched.json() as ErrorJson).error.message, /one head/);
    const members = (await call('GET', `/households/${h.id}`)).json() as {
      headPersonId: number;
      members: { relationToHead: string }[];
    };
    assert.equal(members.headPersonId, first);
    assert.deepEqual(members.members.map((m) => m.relationToHead).sort(), ['户主', '配偶'].sort());
  });

  test('a head moved to another household on the web no longer heads the one they left', async () => {
    const home = (
      await call('POST', '/households', { householdNo: 'C2-LEFT', hukouRegionCode: V1 })
    ).json() as {
      id: number;
    };
    const other = (
      await call('POST', '/households', { householdNo: 'C2-NEW', hukouRegionCode: V1 })
    ).json() as {
      id: number;
    };
    const head = await person('搬走的', '1958-01-01', 1, { householdId: home.id, relationToHead: '户主' });
    const stays = await person('留下的', '1960-01-01', 2, { householdId: home.id, relationToHead: '配偶' });
    assert.equal(
      ((await call('GET', `/households/${home.id}`)).json() as { headPersonId: number }).headPersonId,
      head,
    );
    const current = (await call('GET', `/persons/${head}`)).json() as { version: number };
    const moved = await call('PATCH', `/persons/${head}`, {
      version: current.version,
      householdId: other.id,
      relationToHead: '户主',
    });
    assert.equal(moved.statusCode, 200, moved.body);
    const left = (await call('GET', `/households/${home.id}`)).json() as {
      headPersonId: number | null;
      members: { id: number }[];
    };
    assert.equal(left.headPersonId, null);
    assert.deepEqual(
      left.members.map((m) => m.id),
      [stays],
    );
    assert.equal(
      ((await call('GET', `/households/${other.id}`)).json() as { headPersonId: number }).headPersonId,
      head,
    );
  });

  test('the relation to the head is a GB/T 4761 name, as the template requires, so an export imports back', async () => {
    const zh = fieldError(
      await call('POST', '/persons', {
        name: '关系',
        idNumber: nextId('1990-01-01'),
        hukouRegionCode: V1,
        relationToHead: '朋友',
      }),
    );
    assert.equal(zh.path, 'relationToHead');
    const ok = await call('POST', '/persons', {
      name: '关系',
      idNumber: nextId('1990-01-01'),
      hukouRegionCode: V1,
      relationToHead: ' 配偶 ',
    });
    assert.equal(ok.statusCode, 201, ok.body);
    assert.equal((ok.json() as { relationToHead: string }).relationToHead, '配偶');
  });
});

// ---------------------------------------------------------------------------------------------

function csv(rows: string[][]): Buffer {
  const field = (v: string) => (/[",\r\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  return Buffer.from(rows.map((r) => r.map(field).join(',')).join('\r\n') + '\r\n', 'utf8');
}

function multipart(fileName: string, content: Buffer) {
  const boundary = `----conf2${Date.now()}${seq++}`;
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${fileName}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
  );
  return {
    payload: Buffer.concat([head, content, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
  };
}

interface ImportJson {
  id: number;
  status: string;
  message: string | null;
  counts: { rows: number; inserted: number; updated: number; unchanged: number; errors: number };
}

async function runImport(fileName: string, content: Buffer, who = 'county'): Promise<ImportJson> {
  const body = multipart(fileName, content);
  const r = await t.app.inject({
    method: 'POST',
    url: '/api/v1/imports',
    headers: { ...body.headers, authorization: `Bearer ${tokens[who]}` },
    payload: body.payload,
  });
  assert.equal(r.statusCode, 202, r.body);
  await t.ctx.jobs.drain();
  const view = await call('GET', `/imports/${(r.json() as { id: number }).id}`, undefined, 'zh', who);
  return view.json() as ImportJson;
}

describe('the template as counties fill it', () => {
  test('columns in another order, headers padded with spaces and written with full-width brackets', async () => {
    const head = templatePerson({
      householdNo: 'C2-ORDER',
      birthDate: '1970-04-04',
      hukouRegionCode: V1,
      residenceRegionCode: V1,
    });
    const row = recordToRow({ ...head, householdAnnualIncomeFen: 1_234_550 });
    const headers = [...TEMPLATE_HEADERS].reverse();
    const written = headers.map((h) =>
      h === '家庭年收入(元)'
        ? ' 家庭年收入（元） '
        : h === '姓名'
          ? '姓 名'
          : h === '户编号'
            ? '\u3000户编号'
            : h,
    );
    const view = await runImport('order.csv', csv([written, headers.map((h) => row[h] ?? '')]));
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual([view.counts.inserted, view.counts.errors], [1, 0], JSON.stringify(view));
    const found = (await call('GET', '/persons?householdNo=C2-ORDER')).json() as {
      items: { householdId: number }[];
    };
    const household = (await call('GET', `/households/${found.items[0]?.householdId}`)).json() as {
      annualIncomeFen: number;
    };
    assert.equal(household.annualIncomeFen, 1_234_550);
  });

  test('dates as clerks write them: 2026/2/3, 2026.2.3, 2026年2月3日 and an Excel serial are read; 20260203 is refused naming the accepted forms', () => {
    for (const v of ['2026/2/3', '2026.2.3', '2026年2月3日', '２０２６-０２-０３', 46056])
      assert.deepEqual(parseDate(v), { ok: true, value: '2026-02-03' }, String(v));
    // Not one of EXCHANGE.md's forms (registry.ledger-corpus2.test.ts keeps it a row error).
    for (const v of ['20260203', 20260203]) {
      const r = parseDate(v);
      assert.equal(r.ok, false, String(v));
      assert.match(r.ok ? '' : r.message.zh, /20260203.*2026年11月29日/, String(v));
      assert.match(r.ok ? '' : r.message.en, /20260203.*2026\/11\/29/, String(v));
    }
  });

  const ctx = { regionExists: (code: string) => code.startsWith('410225'), today: '2026-11-29' };
  const rowOf = (overrides: Parameters<typeof templatePerson>[0], cells: Record<string, string> = {}) => ({
    ...recordToRow(templatePerson(overrides)),
    ...cells,
  });
  const errorsOf = (cells: Record<string, string>) =>
    rowToRecord(cells, ctx).errors.map((e) => ({ column: e.column, zh: e.reason.zh, en: e.reason.en }));

  test('a father whose ID number is a woman’s, or a mother whose is a man’s, is a row error on that column', () => {
    const father = errorsOf(
      rowOf({ birthDate: '2012-01-01' }, { 父亲身份号码: makeIdNumber('410225', '1985-01-01', 12) }),
    );
    assert.deepEqual(
      father.map((e) => e.column),
      ['父亲身份号码'],
    );
    assert.match(father[0]?.zh ?? '', /女性/);
    const mother = errorsOf(
      rowOf({ birthDate: '2012-01-01' }, { 母亲身份号码: makeIdNumber('410225', '1985-01-01', 11) }),
    );
    assert.deepEqual(
      mother.map((e) => e.column),
      ['母亲身份号码'],
    );
    assert.match(mother[0]?.en ?? '', /man/);
  });

  test('a parent whose ID number says born after the child is a row error on that column', () => {
    const e = errorsOf(
      rowOf({ birthDate: '1990-01-01' }, { 父亲身份号码: makeIdNumber('410225', '1995-01-01', 11) }),
    );
    assert.deepEqual(
      e.map((x) => x.column),
      ['父亲身份号码'],
    );
    assert.match(e[0]?.zh ?? '', /1995-01-01/);
  });

  test('a spouse under the legal marriage age, on either side, is a row error on 配偶身份号码', () => {
    const young = errorsOf(
      rowOf({ birthDate: '1990-01-01' }, { 配偶身份号码: makeIdNumber('410225', '2008-01-01', 12) }),
    );
    assert.deepEqual(
      young.map((x) => x.column),
      ['配偶身份号码'],
    );
    const self = errorsOf(
      rowOf({ birthDate: '2006-01-01' }, { 配偶身份号码: makeIdNumber('410225', '1990-01-01', 12) }),
    );
    assert.deepEqual(
      self.map((x) => x.column),
      ['配偶身份号码'],
    );
    assert.deepEqual(
      errorsOf(
        rowOf({ birthDate: '2004-01-01' }, { 配偶身份号码: makeIdNumber('410225', '2006-01-01', 12) }),
      ),
      [],
    );
  });

  test('a dated column before the birth date is a row error on that column', () => {
    const e = errorsOf(
      rowOf(
        { birthDate: '2000-01-01' },
        { 外出务工: '是', 外出开始日期: '1999-12-31', 死亡日期: '1999-01-01' },
      ),
    );
    assert.deepEqual(e.map((x) => x.column).sort(), ['外出开始日期', '死亡日期'].sort());
  });
});

// ---------------------------------------------------------------------------------------------

describe('an export imports back unchanged, with text that would run as a formula neutralised', () => {
  const ids: Record<string, number> = {};

  before(async () => {
    const h = await call('POST', '/households', {
      householdNo: '0012-"甲",乙',
      hukouRegionCode: V2,
      annualIncomeFen: 1_000_050,
    });
    assert.equal(h.statusCode, 201, h.body);
    const householdId = (h.json() as { id: number }).id;
    const add = async (key: string, body: Record<string, unknown>) => {
      const r = await call('POST', '/persons', { hukouRegionCode: V2, householdId, ...body });
      assert.equal(r.statusCode, 201, `${key}: ${r.body}`);
      ids[key] = (r.json() as { id: number }).id;
    };
    await add('head', {
      name: '=HYPERLINK("http://x","点我")',
      idNumber: makeIdNumber('410225', '1980-02-29', 11),
      relationToHead: '户主',
      ethnicity: '+汉族',
      phone: '0371-12345678-12',
      residenceRegionCode: '410225101',
    });
    await add('wife', {
      name: 'O\'Brien "Mary", Jr',
      idNumber: makeIdNumber('410225', '1982-03-03', 22),
      relationToHead: '配偶',
      ethnicity: '-',
      phone: '13800001111',
    });
    await add('carer', {
      name: '@外婆',
      idNumber: makeIdNumber('410225', '1950-01-01', 32),
      relationToHead: '其他',
    });
    await add('child', {
      name: '小,"孩"',
      noIdReason: '=未落户',
      sex: 2,
      birthDate: '2020-02-29',
      relationToHead: '女',
    });
    const link = async (from: string, to: string, kind: string) => {
      const r = await call('POST', `/persons/${ids[from]}/relations`, { relatedPersonId: ids[to], kind });
      assert.equal(r.statusCode, 201, r.body);
    };
    await link('child', 'head', 'parent');
    await link('child', 'wife', 'parent');
    await link('head', 'wife', 'spouse');
    await link('child', 'carer', 'carer');
    const fact = async (who: string, body: Record<string, unknown>) => {
      const r = await call('POST', `/persons/${ids[who]}/facts`, body);
      assert.equal(r.statusCode, 201, r.body);
    };
    await fact('head', {
      kind: 'migration',
      from: '2024-02-29',
      data: { destination: '=广东,"东莞"\n长安镇' },
    });
    await fact('wife', { kind: 'disability', from: '2020-01-01', data: { category: 5, grade: 2 } });
    await fact('wife', { kind: 'serious_illness', from: '2021-01-01' });
    await fact('wife', {
      kind: 'liberty_restriction',
      from: '2022-01-01',
      data: { type: 'sentence', expectedEnd: '2027-01-01' },
    });
    await fact('carer', {
      kind: 'lost_contact',
      from: '2023-01-01',
      data: { policeReportDate: '2023-01-01' },
    });
    await fact('carer', { kind: 'guardianship_revoked', from: '2023-02-01' });
    await fact('carer', { kind: 'deported', from: '2023-03-01' });
    await fact('carer', { kind: 'self_care', from: '2023-04-01', data: { level: 'moderate' } });
    await fact('carer', { kind: 'living_arrangement', from: '2023-04-01', data: { value: 'alone' } });
    await fact('carer', { kind: 'declared_missing', from: '2024-01-01' });
    await fact('carer', { kind: 'death', from: '2025-01-01' });
    await fact('child', {
      kind: 'schooling',
      from: '2025-09-01',
      data: { stage: 'preschool', school: '-城关"幼儿园",东' },
    });
  });

  test('the CSV export: every formula-looking cell is written as a string formula; re-import is unchanged', async () => {
    const r = await call('GET', `/exports/registry?region=${V2}&format=csv`);
    assert.equal(r.statusCode, 200, r.body);
    const text = r.rawPayload.toString('utf8');
    const table = await readTable({ buffer: r.rawPayload, filename: 'export.csv' });
    const rows: Record<string, unknown>[] = [];
    for await (const row of table.rows) rows.push(row.cells);
    assert.equal(rows.length, 4);
    const byName = new Map(rows.map((row) => [row['姓名'], row]));
    assert.ok(byName.has('=HYPERLINK("http://x","点我")'), JSON.stringify([...byName.keys()]));
    assert.equal(byName.get('小,"孩"')?.['无身份号码原因'], '=未落户');
    assert.equal(byName.get('=HYPERLINK("http://x","点我")')?.['户编号'], '0012-"甲",乙');
    // No raw field of the file starts with = + - @ unless it is the ="..." wrapper.
    for (const field of text.replace(/^\uFEFF/, '').split(/,|\r\n/))
      if (/^"?[=+\-@]/.test(field)) assert.match(field, /^"?="/, `unprotected field: ${field}`);
    const view = await runImport('export.csv', r.rawPayload, 'county2');
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(
      view.counts,
      { rows: 4, inserted: 0, updated: 0, unchanged: 4, errors: 0 },
      JSON.stringify(view),
    );
  });

  test('the .xlsx export: every cell is text, never a formula; re-import is unchanged', async () => {
    const r = await call('GET', `/exports/registry?region=${V2}&format=xlsx`);
    assert.equal(r.statusCode, 200, r.body);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(r.rawPayload as unknown as ArrayBuffer);
    const sheet = workbook.worksheets[0];
    assert.ok(sheet);
    let formulas = 0;
    sheet.eachRow((row) =>
      row.eachCell((cell) => {
        if (cell.type === ExcelJS.ValueType.Formula) formulas += 1;
      }),
    );
    assert.equal(formulas, 0);
    const view = await runImport('export.xlsx', r.rawPayload, 'county2');
    assert.equal(view.status, 'succeeded', JSON.stringify(view));
    assert.deepEqual(
      view.counts,
      { rows: 4, inserted: 0, updated: 0, unchanged: 4, errors: 0 },
      JSON.stringify(view),
    );
  });
});

// ---------------------------------------------------------------------------------------------

describe('the error envelope is exactly EXCHANGE.md’s, in zh and en', () => {
  test('400, 404 and 409 carry error.code, error.message and (for fields) details [{path, message}] only', async () => {
    for (const lang of ['zh', 'en', 'en-US,en;q=0.9', 'zh-CN']) {
      const bad = await call('POST', '/persons', { name: '', hukouRegionCode: 'x' }, lang);
      assert.equal(bad.statusCode, 400);
      const body = bad.json() as ErrorJson;
      assert.deepEqual(Object.keys(body), ['error']);
      assert.deepEqual(Object.keys(body.error).sort(), ['code', 'details', 'message']);
      for (const d of body.error.details ?? []) {
        assert.deepEqual(Object.keys(d).sort(), ['message', 'path']);
        assert.doesNotMatch(d.path, /^\//);
        if (lang.startsWith('zh')) assert.match(d.message, /[\u4e00-\u9fff]/);
        else assert.doesNotMatch(d.message, /[\u4e00-\u9fff]/);
      }
      const missing = await call('GET', '/persons/999999999', undefined, lang);
      assert.equal(missing.statusCode, 404);
      const nf = missing.json() as ErrorJson;
      assert.deepEqual(Object.keys(nf.error).sort(), ['code', 'message']);
      assert.equal(nf.error.code, 'NOT_FOUND');
      if (lang.startsWith('zh')) assert.match(nf.error.message, /[\u4e00-\u9fff]/);
      else assert.match(nf.error.message, /^[\x20-\x7e]+$/);
    }
  });
});
