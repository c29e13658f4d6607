// Links the law does not allow, session 12: a second spouse while a marriage to a living person is in
// force (Civil Code art. 1042) is a 409 for either end, and the divorce (ending the link) or the first
// spouse's death opens the way; an entrusted carer or a guardian under 18 (Minors Protection Law art.
// 22, Civil Code art. 27) is a 400 naming relatedPersonId, judged on the day the link starts. And
// what has happened is not dated ahead: a death, a declaration by a court, a police report of lost
// contact after today is a 400 naming `from` (the API) or its column (the template).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { apiCall, makeUser, signIn, type Client } from '../../../test/support/access.ts';
import { addDays, today, type IsoDate } from '../../platform/dates.ts';
import { makeIdNumber } from './registry.idnumber.ts';
import { rowToRecord, TEMPLATE_HEADERS } from './registry.template.ts';

const COUNTY = '410225';
const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let clerk: Client;
let household = 0;

const api = (method: 'GET' | 'POST', url: string, payload?: unknown, lang = 'zh-CN') =>
  apiCall(t.app, clerk, method, url, payload, lang);

async function created(url: string, payload: unknown): Promise<number> {
  const r = await api('POST', url, payload);
  assert.ok(r.statusCode < 300, `${url}: ${r.statusCode} ${r.body}`);
  return (r.json() as { id: number }).id;
}

let serial = 0;
async function person(name: string, sex: 1 | 2, birthDate: IsoDate): Promise<number> {
  serial += 1;
  return created('/persons', {
    idNumber: makeIdNumber(COUNTY, birthDate, sex === 1 ? 2 * serial + 1 : 2 * serial),
    name,
    hukouRegionCode: V1,
    householdId: household,
    relationToHead: '其他',
  });
}

const link = (personId: number, payload: Record<string, unknown>) =>
  api('POST', `/persons/${personId}/relations`, payload);

before(async () => {
  t = await createTestApp();
  await makeUser(t.ctx, 'rp.clerk', 'county_staff', COUNTY);
  const signed = await signIn(t.app, 'rp.clerk');
  assert.ok(signed.client);
  clerk = signed.client;
  household = await created('/households', { householdNo: 'RP-001', hukouRegionCode: V1 });
});
after(async () => t?.close());

describe('one spouse at a time', () => {
  test('a second spouse while the first lives is a 409 from either end; the divorce or the first spouse’s death opens the way', async () => {
    const husband = await person('赵一', 1, '1980-01-01');
    const wife = await person('钱二', 2, '1982-01-01');
    const other = await person('孙三', 2, '1983-01-01');
    const otherMan = await person('李四', 1, '1979-01-01');
    const r1 = await link(wife, { relatedPersonId: husband, kind: 'spouse', validFrom: '2005-05-01' });
    assert.equal(r1.statusCode, 201, r1.body);

    const second = await link(husband, { relatedPersonId: other, kind: 'spouse', validFrom: '2020-01-01' });
    assert.equal(second.statusCode, 409, second.body);
    assert.match(second.json().error.message, /本人已登记有在世的配偶.*民法典第一千零四十二条/);
    // Linked from the other end: the related person is the one already married.
    const reversed = await link(other, { relatedPersonId: husband, kind: 'spouse', validFrom: '2020-01-01' });
    assert.equal(reversed.statusCode, 409, reversed.body);
    assert.match(reversed.json().error.message, /对方已登记有在世的配偶/);
    const english = await apiCall(
      t.app,
      clerk,
      'POST',
      `/persons/${otherMan}/relations`,
      {
        relatedPersonId: wife,
        kind: 'spouse',
      },
      'en',
    );
    assert.equal(english.statusCode, 409, english.body);
    assert.match(english.json().error.message, /the related person has a living spouse on record/);

    // The divorce: the link ends, and he may marry again.
    const detail = await api('GET', `/persons/${husband}`);
    const spouseLink = (detail.json() as { relations: { id: number; kind: string }[] }).relations.find(
      (r) => r.kind === 'spouse',
    );
    assert.ok(spouseLink);
    const ended = await api('POST', `/persons/${husband}/relations/${spouseLink.id}/end`, {
      to: addDays(today(), -30),
    });
    assert.equal(ended.statusCode, 200, ended.body);
    const remarried = await link(husband, { relatedPersonId: other, kind: 'spouse' });
    assert.equal(remarried.statusCode, 201, remarried.body);

    // A widow: her late husband's link stays open, and she may remarry.
    const widow = await person('周五', 2, '1970-01-01');
    const late = await person('吴六', 1, '1968-01-01');
    const next = await person('郑七', 1, '1969-01-01');
    assert.equal(
      (await link(widow, { relatedPersonId: late, kind: 'spouse', validFrom: '1992-01-01' })).statusCode,
      201,
    );
    const died = await api('POST', `/persons/${late}/facts`, { kind: 'death', from: '2021-03-01' });
    assert.equal(died.statusCode, 201, died.body);
    const again = await link(widow, { relatedPersonId: next, kind: 'spouse', validFrom: '2023-06-01' });
    assert.equal(again.statusCode, 201, again.body);
    // Before the death she was married: a marriage dated then is refused.
    const before = await person('王八', 1, '1969-02-02');
    const early = await link(before, { relatedPersonId: widow, kind: 'spouse', validFrom: '2020-01-01' });
    assert.equal(early.statusCode, 409, early.body);
  });
});

describe('carers and guardians are adults', () => {
  test('an entrusted carer or a guardian under 18 on the day the link starts is a 400 naming relatedPersonId; at 18 it is taken', async () => {
    const child = await person('冯小', 1, '2015-03-01');
    const sibling = await person('冯姐', 2, addDays(today(), -(17 * 365)));
    const cousin = await person('冯哥', 1, '2000-01-01');
    for (const kind of ['carer', 'guardian'] as const) {
      const r = await link(child, { relatedPersonId: sibling, kind });
      assert.equal(r.statusCode, 400, r.body);
      const error = r.json().error as { details: { path: string; message: string }[] };
      assert.equal(error.details[0]?.path, 'relatedPersonId');
      assert.match(error.details[0]?.message ?? '', /须为年满 18 周岁的完全民事行为能力人/);
    }
    // The cousin turned 18 on 2018-01-01: a carer link from 2018-01-01 is taken, one from the day before is not.
    const dayBefore = await link(child, { relatedPersonId: cousin, kind: 'carer', validFrom: '2017-12-31' });
    assert.equal(dayBefore.statusCode, 400, dayBefore.body);
    const onBirthday = await link(child, { relatedPersonId: cousin, kind: 'carer', validFrom: '2018-01-01' });
    assert.equal(onBirthday.statusCode, 201, onBirthday.body);
  });
});

describe('events are not dated ahead', () => {
  test('a death, a declaration or lost contact after today is a 400 naming from; today is taken', async () => {
    const tomorrow = addDays(today(), 1);
    for (const kind of ['death', 'declared_missing', 'declared_dead', 'lost_contact']) {
      const subject = await person(`未来${kind}`, 1, '1960-01-01');
      const data = kind === 'lost_contact' ? { policeReportDate: today() } : {};
      const r = await api('POST', `/persons/${subject}/facts`, { kind, from: tomorrow, data });
      assert.equal(r.statusCode, 400, `${kind}: ${r.body}`);
      assert.equal(r.json().error.details[0]?.path, 'from');
    }
    const subject = await person('今日', 1, '1960-01-01');
    const r = await api('POST', `/persons/${subject}/facts`, { kind: 'death', from: today() });
    assert.equal(r.statusCode, 201, r.body);
  });

  test('a lost contact reported to the police after today is a 400 naming data.policeReportDate; a report today is taken', async () => {
    const subject = await person('报案未来', 1, '1985-01-01');
    const ahead = await api('POST', `/persons/${subject}/facts`, {
      kind: 'lost_contact',
      from: addDays(today(), -30),
      data: { policeReportDate: addDays(today(), 1) },
    });
    assert.equal(ahead.statusCode, 400, ahead.body);
    const detail = ahead.json().error.details[0] as { path: string; message: string };
    assert.equal(detail.path, 'data.policeReportDate');
    assert.match(detail.message, /报案日期 .* 晚于今天/);
    const onTime = await api('POST', `/persons/${subject}/facts`, {
      kind: 'lost_contact',
      from: addDays(today(), -30),
      data: { policeReportDate: today() },
    });
    assert.equal(onTime.statusCode, 201, onTime.body);
  });

  test('the template: 死亡日期, 宣告失踪日期 and 失联开始日期 after the import day are row errors; 外出开始日期 ahead is a plan and is taken', () => {
    const cells = (extra: Record<string, string>) =>
      Object.fromEntries(
        TEMPLATE_HEADERS.map((h) => [
          h,
          (
            {
              户编号: 'RP-9',
              姓名: '周未来',
              公民身份号码: makeIdNumber(COUNTY, '1960-01-01', 91),
              与户主关系: '户主',
              户籍地代码: V1,
              ...extra,
            } as Record<string, string>
          )[h] ?? null,
        ]),
      );
    const ctx = { regionExists: () => true, today: '2026-11-29' };
    for (const column of ['死亡日期', '宣告失踪日期', '失联开始日期']) {
      const { record, errors } = rowToRecord(cells({ [column]: '2026-11-30' }), ctx);
      assert.equal(record, null, column);
      assert.deepEqual(
        errors.map((e) => e.column),
        [column],
      );
    }
    assert.equal(rowToRecord(cells({ 死亡日期: '2026-11-29' }), ctx).errors.length, 0);
    const planned = rowToRecord(cells({ 外出务工: '是', 外出开始日期: '2026-12-15' }), ctx);
    assert.deepEqual(planned.errors, []);
  });
});
