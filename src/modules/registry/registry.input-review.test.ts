// Input the API took that it should not have (input review, session 17): birth dates in years 0001-1899
// (an export that no longer imported back), C1 control characters (U+0080-U+009F) in any text, link
// dates before the births or ahead of today, numbers in a household's assets that JSON changes,
// fact texts without a length limit, and a person file as of a day still to come. Each is a 400 naming
// the field, in Chinese and English. Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { apiCall, makeUser, signIn, type Client } from '../../../test/support/access.ts';
import { fieldError } from '../../../test/support/errors.ts';
import { addDays, today, type IsoDate } from '../../platform/dates.ts';
import { DomainError } from '../../platform/errors.ts';
import { CONTROL_CHARACTER } from '../../platform/normalize.ts';
import { groupsOfPerson } from '../groups/index.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { rowToRecord, TEMPLATE_HEADERS } from './registry.template.ts';

const COUNTY = '410225';
const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let clerk: Client;
let household = 0;

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang?: string) =>
  apiCall(t.app, clerk, method, url, payload, lang);

/** A JSON body sent as written: numbers JavaScript cannot hold (1e400) reach the server as typed. */
const rawPost = (url: string, json: string, method: 'POST' | 'PATCH' = 'POST') =>
  t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { ...clerk.write, 'content-type': 'application/json' },
    payload: json,
  });

async function created(url: string, payload: unknown): Promise<{ id: number; version: number }> {
  const r = await api('POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return r.json() as { id: number; version: number };
}

let serial = 0;
async function person(name: string, sex: 1 | 2, birthDate: IsoDate): Promise<number> {
  serial += 1;
  const { id } = await created('/persons', {
    idNumber: makeIdNumber(COUNTY, birthDate, sex === 1 ? 2 * serial + 1 : 2 * serial),
    name,
    hukouRegionCode: V1,
    householdId: household,
    relationToHead: '其他',
  });
  return id;
}

const withoutId = (name: string, birthDate: string) => ({
  name,
  hukouRegionCode: V1,
  noIdReason: '未落户',
  sex: 1,
  birthDate,
});

async function count(table: 'persons' | 'households' | 'person_facts' | 'person_relations'): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(t.ctx.db);
  return r.rows[0]?.n ?? 0;
}

before(async () => {
  t = await createTestApp();
  await makeUser(t.ctx, 'ir.clerk', 'county_staff', COUNTY);
  const signed = await signIn(t.app, 'ir.clerk');
  assert.ok(signed.client);
  clerk = signed.client;
  household = (await created('/households', { householdNo: 'IR-001', hukouRegionCode: V1 })).id;
});
after(async () => t?.close());

/** A template row of a person without an ID number, as a county's file has it. */
const templateRow = (cells: Record<string, string>) =>
  Object.fromEntries(
    TEMPLATE_HEADERS.map((h) => [
      h,
      (
        {
          户编号: 'IR-T1',
          姓名: '模板人',
          无身份号码原因: '未落户',
          性别: '男',
          出生日期: '1990-01-01',
          与户主关系: '户主',
          户籍地代码: V1,
          ...cells,
        } as Record<string, string>
      )[h] ?? null,
    ]),
  );
const templateContext = { regionExists: () => true, today: today() };

describe('birth dates from 1900 to today, one rule for the API and the import', () => {
  test('a birth date in the years 0001-1899 is a 400 naming birthDate in zh and en; 1900-01-01 is taken', async () => {
    const before = await count('persons');
    for (const birthDate of ['0001-01-01', '0999-12-31', '1800-01-01', '1899-12-31']) {
      const zh = fieldError(await api('POST', '/persons', withoutId('公元人', birthDate)));
      assert.equal(zh.path, 'birthDate', birthDate);
      assert.equal(zh.message, `出生日期 ${birthDate} 早于1900年`);
      const en = fieldError(await api('POST', '/persons', withoutId('公元人', birthDate), 'en'));
      assert.equal(en.path, 'birthDate');
      assert.equal(en.message, `the birth date ${birthDate} is before 1900`);
    }
    assert.equal(await count('persons'), before, 'no person was written');
    const oldest = await api('POST', '/persons', withoutId('百廿老人', '1900-01-01'));
    assert.equal(oldest.statusCode, 201, oldest.body);
    // A correction to such a date is refused the same way.
    const { version } = oldest.json() as { version: number };
    const id = (oldest.json() as { id: number }).id;
    const patched = fieldError(await api('PATCH', `/persons/${id}`, { version, birthDate: '1899-12-31' }));
    assert.equal(patched.path, 'birthDate');
    const file = await api('GET', `/persons/${id}`);
    assert.equal((file.json() as { birthDate: string }).birthDate, '1900-01-01');
  });

  test('the template refuses the same dates with the same words, so what the API writes imports back', async () => {
    for (const birthDate of ['1000-01-01', '1800-01-01', '1899-12-31', addDays(today(), 1)]) {
      const api400 = fieldError(await api('POST', '/persons', withoutId('同一规则', birthDate)));
      const { record, errors } = rowToRecord(templateRow({ 出生日期: birthDate }), templateContext);
      assert.equal(record, null, birthDate);
      assert.deepEqual(
        errors.map((e) => [e.column, e.reason.zh]),
        [['出生日期', api400.message]],
        birthDate,
      );
    }
    const taken = rowToRecord(templateRow({ 出生日期: '1900-01-01' }), templateContext);
    assert.deepEqual(taken.errors, []);
    assert.equal(taken.record?.birthDate, '1900-01-01');
  });

  test('other dates a person’s file takes are not before 1900 either', async () => {
    const subject = await person('报案人', 1, '1960-01-01');
    const fact = fieldError(
      await api('POST', `/persons/${subject}/facts`, {
        kind: 'lost_contact',
        from: '2020-01-01',
        data: { policeReportDate: '0001-01-01' },
      }),
    );
    assert.equal(fact.path, 'data.policeReportDate');
    assert.match(fact.message, /0001-01-01 早于1900年/);
    const expected = fieldError(
      await api(
        'POST',
        `/persons/${subject}/facts`,
        { kind: 'migration', from: '2020-01-01', data: { expectedReturn: '1899-12-31' } },
        'en',
      ),
    );
    assert.equal(expected.path, 'data.expectedReturn');
    assert.match(expected.message, /before 1900/);
    // A person whose birth date is not known (a grandparent from a child ledger): a fact's start is
    // still not before 1900.
    const grandparent = await person('祖父', 1, '1940-01-01');
    await sql`UPDATE persons SET birth_date = NULL WHERE id = ${grandparent}`.execute(t.ctx.db);
    const start = fieldError(
      await api('POST', `/persons/${grandparent}/facts`, {
        kind: 'disability',
        from: '0001-01-01',
        data: { category: 4, grade: 2 },
      }),
    );
    assert.equal(start.path, 'from');
    assert.match(start.message, /早于1900年/);
  });
});

describe('a name holding a lost character (session 18)', () => {
  test('?, ？ or U+FFFD in a name is a 400 naming name; the template refuses the same row', async () => {
    for (const name of ['王?', '张？三', '李\uFFFD']) {
      const zh = fieldError(await api('POST', '/persons', withoutId(name, '2015-01-01')));
      assert.equal(zh.path, 'name', name);
      assert.match(zh.message, /姓名中不能含有/);
    }
    const ok = await api('POST', '/persons', withoutId('王𠈌', '2015-01-01'));
    assert.equal(ok.statusCode, 201, ok.body);
  });
});

describe('C1 control characters are refused as the C0 ones are', () => {
  test('the guard matches U+0080-U+009F and nothing after them', () => {
    for (let c = 0x80; c <= 0x9f; c++)
      assert.ok(CONTROL_CHARACTER.test(String.fromCharCode(c)), c.toString(16));
    for (const c of ['\u00a0', '\u00a9', '张', 'é']) assert.ok(!CONTROL_CHARACTER.test(c), c);
  });

  test('a household number, a name, an address, a fact source and assets with C1 characters are a 400 naming the field', async () => {
    const households = await count('households');
    const persons = await count('persons');
    const facts = await count('person_facts');
    const subject = await person('来源人', 1, '1970-01-01');
    const cases: [string, unknown, string][] = [
      ['/households', { householdNo: '\u0085\u0085', hukouRegionCode: V1 }, 'householdNo'],
      ['/households', { householdNo: 'IR-C1', hukouRegionCode: V1, address: '\u0085\u0086' }, 'address'],
      [
        '/households',
        { householdNo: 'IR-C2', hukouRegionCode: V1, assets: { 住房: '\u0085' } },
        'assets.住房',
      ],
      ['/persons', withoutId('张\u0085三', '2000-01-01'), 'name'],
      [
        `/persons/${subject}/facts`,
        { kind: 'serious_illness', from: '2023-09-01', source: '\u0085\u009f' },
        'source',
      ],
    ];
    for (const [url, payload, path] of cases) {
      const zh = fieldError(await api('POST', url, payload));
      assert.equal(zh.path, path, url);
      assert.match(zh.message, /控制字符/);
      const en = fieldError(await api('POST', url, payload, 'en'));
      assert.equal(en.path, path);
      assert.match(en.message, /control character/);
    }
    assert.equal(await count('households'), households);
    assert.equal(await count('persons'), persons + 1);
    assert.equal(await count('person_facts'), facts);
  });

  test('a new password padded with C1 characters is refused and the password stays', async () => {
    await makeUser(t.ctx, 'ir.pw', 'county_staff', COUNTY);
    const { client } = await signIn(t.app, 'ir.pw');
    assert.ok(client);
    const r = await apiCall(t.app, client, 'POST', '/auth/change-password', {
      currentPassword: 'Correct-Horse-42',
      newPassword: `Aa1!${'\u0085'.repeat(7)}Zz9#`,
    });
    const detail = fieldError(r);
    assert.equal(detail.path, 'newPassword');
    assert.ok((await signIn(t.app, 'ir.pw')).client, 'the old password still signs in');
  });

  test('a template cell with a C1 character is a row error naming its column', () => {
    const { record, errors } = rowToRecord(templateRow({ 姓名: '测试\u0085三' }), templateContext);
    assert.equal(record, null);
    assert.deepEqual(
      errors.map((e) => e.column),
      ['姓名'],
    );
    assert.match(errors[0]?.reason.zh ?? '', /控制字符/);
    // The error report shows where it was, without the character itself.
    assert.equal(errors[0]?.value, '测试\uFFFD三');
  });
});

describe('link dates that cannot be', () => {
  test('a carer link before the child’s birth, a form dated ahead or before the births, a check in year 0001: each a 400 naming its field', async () => {
    const child = await person('童年', 2, '2018-01-01');
    const carer = await person('照护人', 2, '1960-01-01');
    const links = await count('person_relations');
    const carerLink = (extra: Record<string, unknown>, lang?: string) =>
      api('POST', `/persons/${child}/relations`, { relatedPersonId: carer, kind: 'carer', ...extra }, lang);

    const start = fieldError(await carerLink({ validFrom: '1950-01-01' }));
    assert.equal(start.path, 'validFrom');
    assert.equal(start.message, '关系开始日期 1950-01-01 早于“童年”的出生日期 2018-01-01');
    const startEn = fieldError(await carerLink({ validFrom: '1950-01-01' }, 'en'));
    assert.equal(
      startEn.message,
      'the start of the link 1950-01-01 is before the birth of 童年 on 2018-01-01',
    );

    const ahead = fieldError(await carerLink({ validFrom: '2019-01-01', entrustmentFormDate: '2099-01-01' }));
    assert.equal(ahead.path, 'entrustmentFormDate');
    assert.match(ahead.message, /晚于今天/);
    const unborn = fieldError(
      await carerLink({ validFrom: '2019-01-01', entrustmentFormDate: '2017-06-01' }),
    );
    assert.equal(unborn.path, 'entrustmentFormDate');
    assert.match(unborn.message, /早于“童年”的出生日期 2018-01-01/);

    const check = fieldError(
      await carerLink({ validFrom: '2019-01-01', carerFitnessCheckedOn: '0001-01-01', carerFit: true }, 'en'),
    );
    assert.equal(check.path, 'carerFitnessCheckedOn');
    assert.match(check.message, /before the birth of 照护人 on 1960-01-01/);
    const checkAhead = fieldError(
      await carerLink({
        validFrom: '2019-01-01',
        carerFitnessCheckedOn: addDays(today(), 1),
        carerFit: true,
      }),
    );
    assert.equal(checkAhead.path, 'carerFitnessCheckedOn');
    assert.equal(await count('person_relations'), links, 'no link was written');

    // Possible dates are taken: a form signed before the care began, a check today.
    const ok = await carerLink({
      validFrom: '2019-01-01',
      entrustmentFormDate: '2018-12-20',
      carerFitnessCheckedOn: today(),
      carerFit: true,
    });
    assert.equal(ok.statusCode, 201, ok.body);
    const shown = (
      ok.json() as { relations: { kind: string; validFrom: string; entrustmentFormDate: string }[] }
    ).relations.find((r) => r.kind === 'carer');
    assert.deepEqual([shown?.validFrom, shown?.entrustmentFormDate], ['2019-01-01', '2018-12-20']);
  });

  test('a spouse or adoptive link starting before a birth is refused; so is the end of a link without a start on or before a birth', async () => {
    const wife = await person('妻子', 2, '1990-05-05');
    const husband = await person('丈夫', 1, '1988-03-03');
    const spouse = fieldError(
      await api('POST', `/persons/${wife}/relations`, {
        relatedPersonId: husband,
        kind: 'spouse',
        validFrom: '1980-01-01',
      }),
    );
    assert.equal(spouse.path, 'validFrom');
    // The later of the two births is the one named.
    assert.match(spouse.message, /早于“妻子”的出生日期 1990-05-05/);
    const adopted = await person('养子', 1, '2016-06-06');
    const adoptive = fieldError(
      await api('POST', `/persons/${adopted}/relations`, {
        relatedPersonId: husband,
        kind: 'parent',
        subtype: 'adoptive',
        validFrom: '2016-06-05',
      }),
    );
    assert.equal(adoptive.path, 'validFrom');
    assert.match(adoptive.message, /早于“养子”的出生日期 2016-06-06/);

    const ward = await person('被监护人', 1, '2012-02-02');
    const guardian = await person('监护人', 1, '1970-01-01');
    const linked = await api('POST', `/persons/${ward}/relations`, {
      relatedPersonId: guardian,
      kind: 'guardian',
    });
    assert.equal(linked.statusCode, 201, linked.body);
    const relationId = (linked.json() as { relations: { id: number; kind: string }[] }).relations.find(
      (r) => r.kind === 'guardian',
    )?.id;
    assert.ok(relationId);
    for (const to of ['0001-01-01', '2012-02-02']) {
      const end = fieldError(await api('POST', `/persons/${ward}/relations/${relationId}/end`, { to }));
      assert.equal(end.path, 'to', to);
      assert.match(end.message, /本人的出生日期 2012-02-02/);
    }
    const ended = await api('POST', `/persons/${ward}/relations/${relationId}/end`, { to: '2012-02-03' });
    assert.equal(ended.statusCode, 200, ended.body);
  });
});

describe('numbers and texts stored as sent', () => {
  test('a household’s assets with a number JSON cannot keep is a 400 naming the value’s path', async () => {
    const households = await count('households');
    const cases: [string, string][] = [
      ['{"存款":123456789012345678901234567890}', 'assets.存款'],
      ['{"x":1e400}', 'assets.x'],
      ['{"车辆":[{"价值":-9007199254740993}]}', 'assets.车辆.0.价值'],
    ];
    for (const [assets, path] of cases) {
      const r = await rawPost(
        '/households',
        `{"householdNo":"IR-N","hukouRegionCode":"${V1}","assets":${assets}}`,
      );
      const detail = fieldError(r);
      assert.equal(detail.path, path, assets);
      assert.match(detail.message, /9007199254740991/);
    }
    assert.equal(await count('households'), households);

    // Safe numbers, fractions and texts are stored as sent; a change is checked the same way.
    const r = await rawPost(
      '/households',
      `{"householdNo":"IR-N","hukouRegionCode":"${V1}","assets":{"存款":9007199254740991,"面积":85.5,"号":"123456789012345678901234567890"}}`,
    );
    assert.equal(r.statusCode, 201, r.body);
    const { id, version } = r.json() as { id: number; version: number };
    const stored = await t.ctx.db
      .selectFrom('households')
      .select('assets')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored.assets, {
      存款: 9007199254740991,
      面积: 85.5,
      号: '123456789012345678901234567890',
    });
    const patch = await rawPost(`/households/${id}`, `{"version":${version},"assets":{"x":-1e400}}`, 'PATCH');
    assert.equal(fieldError(patch).path, 'assets.x');
  });

  test('a migrant’s contact, a disability certificate number and the ledger declaration’s texts have limits', async () => {
    const subject = await person('长文本', 1, '1980-01-01');
    const facts = await count('person_facts');
    const cases: [string, string, number][] = [
      ['migration', 'contact', 100],
      ['disability', 'certificateNo', 40],
      ['ledger_declaration', 'unableReason', 200],
      ['ledger_declaration', 'incomeSources', 200],
      ['ledger_declaration', 'assistance', 200],
    ];
    const required: Record<string, Record<string, unknown>> = {
      migration: {},
      disability: { category: 4, grade: 2 },
      ledger_declaration: { leftBehindChild: true },
    };
    for (const [kind, field, limit] of cases) {
      const data = { ...required[kind], [field]: 'x'.repeat(limit + 1) };
      const zh = fieldError(
        await api('POST', `/persons/${subject}/facts`, { kind, from: '2020-01-01', data }),
      );
      assert.equal(zh.path, `data.${field}`);
      assert.equal(zh.message, `长度不能超过 ${limit}`);
      const en = fieldError(
        await api('POST', `/persons/${subject}/facts`, { kind, from: '2020-01-01', data }, 'en'),
      );
      assert.equal(en.message, `must have at most ${limit} characters`);
    }
    const huge = await api('POST', `/persons/${subject}/facts`, {
      kind: 'migration',
      from: '2020-01-01',
      data: { contact: 'x'.repeat(200_000) },
    });
    assert.equal(fieldError(huge).path, 'data.contact');
    assert.equal(await count('person_facts'), facts);
    // At the limit the text is taken.
    const atLimit = await api('POST', `/persons/${subject}/facts`, {
      kind: 'migration',
      from: '2020-01-01',
      data: { contact: '微'.repeat(100) },
    });
    assert.equal(atLimit.statusCode, 201, atLimit.body);
  });
});

describe('the person file as of a day still to come', () => {
  test('asOf after today is a 400 naming asOf in the user’s language; today answers', async () => {
    const subject = await person('未来档案', 1, '2010-12-02');
    const reads = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.read'`
      .execute(t.ctx.db)
      .then((r) => r.rows[0]?.n ?? 0);
    const tomorrow = addDays(today(), 1);
    for (const asOf of [tomorrow, addDays(today(), 2), '2030-01-01', '9999-12-31']) {
      const zh = fieldError(await api('GET', `/persons/${subject}?asOf=${asOf}`));
      assert.equal(zh.path, 'asOf', asOf);
      assert.equal(zh.message, `不能晚于 ${today()}（尚未到来的日期没有结果）`);
      const en = fieldError(await api('GET', `/persons/${subject}?asOf=${asOf}`, undefined, 'en'));
      assert.equal(en.message, `must not be after ${today()} (a day still to come has no answer yet)`);
    }
    const after = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'person.read'`
      .execute(t.ctx.db)
      .then((r) => r.rows[0]?.n ?? 0);
    assert.equal(after, reads, 'a refused read is not audited as a read');
    for (const asOf of [today(), '2020-01-01']) {
      const r = await api('GET', `/persons/${subject}?asOf=${asOf}`);
      assert.equal(r.statusCode, 200, `${asOf}: ${r.body}`);
    }
  });

  test('the groups module’s read of a person’s groups refuses the same days', async () => {
    const subject = await person('组别', 2, '2015-01-01');
    await assert.rejects(groupsOfPerson(t.ctx.db, subject, addDays(today(), 1)), (error: unknown) => {
      assert.ok(error instanceof DomainError);
      assert.equal(error.code, 'VALIDATION_FAILED');
      assert.equal(error.details[0]?.path, 'asOf');
      return true;
    });
    assert.deepEqual(await groupsOfPerson(t.ctx.db, subject, today()), []);
  });
});
