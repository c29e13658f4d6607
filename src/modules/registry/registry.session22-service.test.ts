// Session 22, the registry's service layer (testers' findings of session 21):
// - a merge's audit entry records what moved, by id (facts, links re-pointed or closed, retracted
//   links, the household place, the households headed), with no names or ID numbers;
// - a merge is refused (409, intoId, nothing written) when a link would begin after a death of the
//   other record, naming the date; the posthumous child's link to the father is taken;
// - the duplicate's retracted links show on the file of the person kept (retractedRelations);
// - a fact's end (`to`) after today is refused naming `to`, zh and en, on …/end and on a new fact;
// - a name given to the API holding a Private Use Area character is refused as the import refuses it.
// Runs on PGlite, or PostgreSQL with TEST_DATABASE_URL.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { createToken } from '../access/index.ts';
import { addDays, today } from '../../platform/dates.ts';

const V1 = '410225101200'; // 堌阳镇 城内村

let t: TestApp;
let county: string;

type Lang = 'zh' | 'en';
interface ErrorBody {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}
interface Detail {
  relations: { id: number; personId: number }[];
  retractedRelations: { id: number; personId: number; role: string; retractionReason: string }[];
  facts: { id: number; kind: string; from: string; to: string | null }[];
}

function call(method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown, lang: Lang = 'zh') {
  return t.app.inject({
    method,
    url: `/api/v1${url}`,
    headers: { authorization: `Bearer ${county}`, 'accept-language': lang },
    ...(payload !== undefined ? { payload: payload as Record<string, unknown> } : {}),
  });
}

async function created(url: string, payload: unknown): Promise<number> {
  const r = await call('POST', url, payload);
  assert.equal(r.statusCode, 201, r.body);
  return (r.json() as { id: number }).id;
}

function person(name: string, sex: 1 | 2, birthDate: string, extra: Record<string, unknown> = {}) {
  return created('/persons', { name, noIdReason: '未落户', sex, birthDate, hukouRegionCode: V1, ...extra });
}

/** A link recorded on `personId`; its id. */
async function link(personId: number, body: Record<string, unknown>): Promise<number> {
  const r = await call('POST', `/persons/${personId}/relations`, body);
  assert.equal(r.statusCode, 201, r.body);
  const row = await t.ctx.db
    .selectFrom('person_relations')
    .select('id')
    .where('person_id', '=', personId)
    .where('related_person_id', '=', body.relatedPersonId as number)
    .orderBy('id', 'desc')
    .executeTakeFirstOrThrow();
  return row.id;
}

async function row(id: number) {
  return t.ctx.db.selectFrom('persons').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

async function file(id: number): Promise<Detail> {
  const r = await call('GET', `/persons/${id}`);
  assert.equal(r.statusCode, 200, r.body);
  return r.json() as Detail;
}

async function mergeInto(id: number, intoId: number, lang: Lang = 'zh') {
  return call('POST', `/persons/${id}/merge`, { intoId, version: (await row(id)).version }, lang);
}

async function mergeEntries(id: number) {
  return t.ctx.db
    .selectFrom('audit_log')
    .select(['details'])
    .where('action', '=', 'person.merge')
    .where('entity_id', '=', String(id))
    .where('result', '=', 'ok')
    .execute();
}

function refusal(r: { statusCode: number; body: string; json(): unknown }): string {
  assert.equal(r.statusCode, 409, r.body);
  const error = (r.json() as ErrorBody).error;
  assert.equal(error.code, 'CONFLICT');
  assert.deepEqual(error.details, [{ path: 'intoId', message: error.message }]);
  return error.message;
}

function fieldError(r: { statusCode: number; body: string; json(): unknown }, path: string): string {
  assert.equal(r.statusCode, 400, r.body);
  const error = (r.json() as ErrorBody).error;
  assert.equal(error.code, 'VALIDATION_FAILED');
  const detail = error.details?.find((d) => d.path === path);
  assert.ok(detail, r.body);
  return detail.message;
}

before(async () => {
  t = await createTestApp();
  county = (await createToken(t.ctx, null, { name: 's22', role: 'county_staff', regionCode: '410225' }))
    .token;
});
after(async () => {
  await t?.close();
});

describe('a merge records what moved and shows the duplicate’s retracted links', () => {
  test('the person.merge entry names the facts, links, retracted links and household by id', async () => {
    const household = await created('/households', { householdNo: 'S22-M1', hukouRegionCode: V1 });
    const kept = await person('孟庆山', 1, '1980-03-03');
    const duplicate = await person('孟庆山', 1, '1980-03-03', {
      householdId: household,
      relationToHead: '户主',
      phone: '13812345678',
    });
    const father = await person('孟父', 1, '1950-01-01');
    const wife = await person('孟妻', 2, '1982-05-05');
    const stranger = await person('孟某', 2, '1981-01-01');
    const migration = await created(`/persons/${duplicate}/facts`, {
      kind: 'migration',
      from: '2024-02-01',
      data: { destination: '郑州' },
    });
    const wrongFact = await created(`/persons/${duplicate}/facts`, {
      kind: 'serious_illness',
      from: '2023-01-01',
    });
    assert.equal(
      (await call('POST', `/persons/${duplicate}/facts/${wrongFact}/retract`, { reason: '录错' })).statusCode,
      200,
    );
    await link(kept, { relatedPersonId: father, kind: 'parent' });
    const fatherCopy = await link(duplicate, { relatedPersonId: father, kind: 'parent' });
    const wrongLink = await link(duplicate, {
      relatedPersonId: stranger,
      kind: 'spouse',
      validFrom: '2004-01-01',
    });
    const retracted = await call('POST', `/persons/${duplicate}/relations/${wrongLink}/retract`, {
      reason: '同名录错',
    });
    assert.equal(retracted.statusCode, 200, retracted.body);
    const marriage = await link(duplicate, {
      relatedPersonId: wife,
      kind: 'spouse',
      validFrom: '2005-10-01',
    });

    const r = await mergeInto(duplicate, kept);
    assert.equal(r.statusCode, 200, r.body);
    const entries = await mergeEntries(duplicate);
    assert.equal(entries.length, 1);
    const details = entries[0]?.details as Record<string, unknown>;
    assert.deepEqual(
      details.factsMoved,
      [migration, wrongFact].sort((a, b) => a - b),
    );
    assert.deepEqual(details.relationsMoved, [marriage]);
    const closed = details.relationsClosed as {
      relationId: number;
      validTo: { from: unknown; to: string };
    }[];
    assert.equal(closed.length, 1);
    assert.equal(closed[0]?.relationId, fatherCopy);
    assert.equal(closed[0]?.validTo.from, null);
    assert.match(closed[0]?.validTo.to ?? '', /^\d{4}-\d{2}-\d{2}$/);
    assert.deepEqual(details.retractedRelationsMoved, [wrongLink]);
    assert.deepEqual(details.fields, ['phone', 'householdId', 'relationToHead']);
    assert.deepEqual(details.householdId, { from: null, to: household });
    assert.deepEqual(details.relationToHead, { from: null, to: '户主' });
    assert.deepEqual(details.headOf, [
      { householdId: household, headPersonId: { from: duplicate, to: kept } },
    ]);
    // No names, no phone, no ID number in the entry.
    const text = JSON.stringify(details);
    for (const secret of ['孟', '13812345678', '12345678']) assert.ok(!text.includes(secret), text);

    // The duplicate's retracted link is on the file of the person kept, with the other end and the reason.
    const keptFile = await file(kept);
    const shown = keptFile.retractedRelations.find((l) => l.id === wrongLink);
    assert.ok(shown, JSON.stringify(keptFile.retractedRelations));
    assert.equal(shown.personId, stranger);
    assert.equal(shown.role, 'spouse');
    assert.equal(shown.retractionReason, '同名录错');
    // The other end's file still shows it, now with the person kept at this end.
    const strangerFile = await file(stranger);
    assert.equal(strangerFile.retractedRelations.find((l) => l.id === wrongLink)?.personId, kept);
  });

  test('a retracted link between the two records stays as it was, shown on the file of the person kept', async () => {
    const kept = await person('齐国华', 1, '1979-07-07');
    const duplicate = await person('齐国华', 1, '1979-07-07');
    const child = await person('齐小', 1, '2010-01-01');
    const wrong = await link(duplicate, { relatedPersonId: kept, kind: 'guardian', validFrom: '2020-01-01' });
    const r = await call('POST', `/persons/${duplicate}/relations/${wrong}/retract`, { reason: '同一人' });
    assert.equal(r.statusCode, 200, r.body);
    await link(child, { relatedPersonId: duplicate, kind: 'parent' });
    assert.equal((await mergeInto(duplicate, kept)).statusCode, 200);
    const stored = await t.ctx.db
      .selectFrom('person_relations_retracted')
      .select(['person_id', 'related_person_id'])
      .where('id', '=', wrong)
      .executeTakeFirstOrThrow();
    assert.deepEqual(stored, { person_id: duplicate, related_person_id: kept });
    assert.ok((await file(kept)).retractedRelations.some((l) => l.id === wrong));
    assert.equal((await mergeEntries(duplicate))[0]?.details.retractedRelationsMoved, undefined);
  });
});

describe('retracted links of records merged before session 22', () => {
  test('still on the duplicate (an earlier merge), they show on the file of the person kept, by its side', async () => {
    const kept = await person('柏春生', 1, '1970-10-10');
    const duplicate = await person('柏春生', 1, '1970-10-10');
    const child = await person('柏小', 2, '2012-12-12');
    const stranger = await person('柏某', 2, '1972-01-01');
    const asParent = await link(child, { relatedPersonId: duplicate, kind: 'parent' });
    const asSpouse = await link(duplicate, {
      relatedPersonId: stranger,
      kind: 'spouse',
      validFrom: '2000-01-01',
    });
    for (const [owner, id] of [
      [child, asParent],
      [duplicate, asSpouse],
    ] as const) {
      const r = await call('POST', `/persons/${owner}/relations/${id}/retract`, { reason: '录错' });
      assert.equal(r.statusCode, 200, r.body);
    }
    assert.equal((await mergeInto(duplicate, kept)).statusCode, 200);
    // As a merge before session 22 left them: on the duplicate.
    await t.ctx.db
      .updateTable('person_relations_retracted')
      .set({ related_person_id: duplicate })
      .where('id', '=', asParent)
      .execute();
    await t.ctx.db
      .updateTable('person_relations_retracted')
      .set({ person_id: duplicate })
      .where('id', '=', asSpouse)
      .execute();
    const shown = (await file(kept)).retractedRelations.map((l) => ({
      id: l.id,
      personId: l.personId,
      role: l.role,
    }));
    assert.deepEqual(shown, [
      { id: asParent, personId: child, role: 'child' },
      { id: asSpouse, personId: stranger, role: 'spouse' },
    ]);
    // The child's file is unchanged: the link's other end is the merged record, as stored.
    assert.equal((await file(child)).retractedRelations.find((l) => l.id === asParent)?.personId, duplicate);
  });
});

describe('a merge does not let a link begin after a death', () => {
  test('the kept person died; the duplicate’s marriage starts later: 409 naming both dates, nothing written', async () => {
    const kept = await person('卫长林', 1, '1960-02-02');
    const duplicate = await person('卫长林', 1, '1960-02-02');
    const wife = await person('卫妻', 2, '1965-01-01');
    const death = await created(`/persons/${kept}/facts`, { kind: 'death', from: '2020-01-01' });
    const marriage = await link(duplicate, {
      relatedPersonId: wife,
      kind: 'spouse',
      validFrom: '2021-05-01',
    });
    const before = await row(duplicate);
    const message = refusal(await mergeInto(duplicate, kept));
    assert.equal(
      message,
      `无法合并：保留人员“卫长林”(#${kept})死亡的日期为 2020-01-01（记录 #${death}），而被合并人员“卫长林”(#${duplicate})与“卫妻”(#${wife})的婚姻关系 #${marriage} 的开始日期为 2021-05-01，晚于该日期：合并后这将是去世后才建立的关系（人去世后不能再建立关系）；请先核对该关系或该死亡记录（结束或撤回有误的一方），再合并`,
    );
    const en = refusal(await mergeInto(duplicate, kept, 'en'));
    assert.match(en, /died on 2020-01-01/);
    assert.match(en, /start of the spouse link #\d+ .* is 2021-05-01, after it/);
    assert.deepEqual(await row(duplicate), before);
    const moved = await t.ctx.db
      .selectFrom('person_relations')
      .select('person_id')
      .where('id', '=', marriage)
      .executeTakeFirstOrThrow();
    assert.equal(moved.person_id, duplicate);
    assert.equal((await mergeEntries(duplicate)).length, 0);
  });

  test('the duplicate died; the kept person’s carer form is dated later: 409 naming the form’s date', async () => {
    const kept = await person('蒋玉兰', 2, '1958-04-04');
    const duplicate = await person('蒋玉兰', 2, '1958-04-04');
    const child = await person('蒋小', 1, '2015-06-06');
    await created(`/persons/${duplicate}/facts`, { kind: 'death', from: '2022-03-01' });
    await link(child, {
      relatedPersonId: kept,
      kind: 'carer',
      validFrom: '2021-01-01',
      entrustmentFormDate: '2023-02-02',
    });
    const message = refusal(await mergeInto(duplicate, kept));
    assert.match(message, /被合并人员“蒋玉兰”\(#\d+\)死亡的日期为 2022-03-01/);
    assert.match(message, /委托监护确认书日期为 2023-02-02，晚于该日期/);
    assert.equal((await row(duplicate)).merged_into, null);
  });

  test('links starting before the death, and the posthumous child’s link to the father, merge', async () => {
    const kept = await person('韦德明', 1, '1975-01-01');
    const duplicate = await person('韦德明', 1, '1975-01-01');
    const wife = await person('韦妻', 2, '1977-01-01');
    const baby = await person('韦遗腹', 2, '2020-06-01');
    await created(`/persons/${kept}/facts`, { kind: 'death', from: '2020-01-01' });
    await link(duplicate, { relatedPersonId: wife, kind: 'spouse', validFrom: '2018-01-01' });
    await link(baby, { relatedPersonId: duplicate, kind: 'parent', validFrom: '2020-06-01' });
    const r = await mergeInto(duplicate, kept);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal((await row(duplicate)).merged_into, kept);
  });
});

describe('a fact is not ended ahead of today', () => {
  test('…/end with to after today: 400 naming to, zh and en; today is taken', async () => {
    const p = await person('封秀英', 2, '1985-08-08');
    const fact = await created(`/persons/${p}/facts`, {
      kind: 'migration',
      from: '2024-01-01',
      data: { destination: '上海' },
    });
    const zh = fieldError(await call('POST', `/persons/${p}/facts/${fact}/end`, { to: '2080-01-01' }), 'to');
    assert.equal(
      zh,
      `结束日期 2080-01-01 晚于今天（${today()}）：结束日期是该事实不再成立的第一天，只能登记已经发生的结束；预计的结束（刑期届满、预计返乡）请填在预计结束日期（expectedEnd）或预计返乡日期（expectedReturn）中，到时再结束`,
    );
    const tomorrow = addDays(today(), 1);
    const en = fieldError(
      await call('POST', `/persons/${p}/facts/${fact}/end`, { to: tomorrow }, 'en'),
      'to',
    );
    assert.match(en, new RegExp(`^the end ${tomorrow} is after today \\(${today()}\\)`));
    assert.equal((await file(p)).facts.find((f) => f.id === fact)?.to, null);
    const ended = await call('POST', `/persons/${p}/facts/${fact}/end`, { to: today() });
    assert.equal(ended.statusCode, 200, ended.body);
  });

  test('a new fact with its own end after today: 400 naming to; the expected end goes in the data', async () => {
    const p = await person('尤建国', 1, '1983-09-09');
    const facts = async () => (await file(p)).facts.length;
    const before = await facts();
    const message = fieldError(
      await call('POST', `/persons/${p}/facts`, {
        kind: 'liberty_restriction',
        from: '2024-05-01',
        to: '2080-01-01',
        data: { type: 'sentence' },
      }),
      'to',
    );
    assert.match(message, /^结束日期 2080-01-01 晚于今天/);
    assert.equal(await facts(), before);
    const planned = await call('POST', `/persons/${p}/facts`, {
      kind: 'liberty_restriction',
      from: '2024-05-01',
      data: { type: 'sentence', expectedEnd: '2080-01-01' },
    });
    assert.equal(planned.statusCode, 201, planned.body);
  });
});

describe('a name with a Private Use Area character is refused by the API', () => {
  const pua = '王\uE000明';
  const words = (code: string) =>
    `姓名中有私用区字符 ${code}：它不是标准汉字，没有统一的字形，换一台电脑多显示为空白、方框或别的字。请删去这个字，用输入法（生僻字或手写输入）重新输入`;

  test('POST /persons: 400 naming name, zh and en, nothing written', async () => {
    const count = async () =>
      Number(
        (
          await t.ctx.db
            .selectFrom('persons')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    const body = { name: pua, noIdReason: '未落户', sex: 1, birthDate: '1990-01-01', hukouRegionCode: V1 };
    assert.equal(fieldError(await call('POST', '/persons', body), 'name'), words('U+E000'));
    const en = fieldError(await call('POST', '/persons', { ...body, name: '李\u{F0001}' }, 'en'), 'name');
    assert.match(en, /^the name holds the private-use character U\+F0001: /);
    assert.equal(await count(), before);
  });

  test('PATCH /persons/{id} name: 400; a name stored before is no lock on other edits', async () => {
    const p = await person('王明', 1, '1990-01-01');
    const version = (await row(p)).version;
    assert.equal(
      fieldError(await call('PATCH', `/persons/${p}`, { version, name: pua }), 'name'),
      words('U+E000'),
    );
    assert.equal((await row(p)).name, '王明');
    // A name written before this check (through the API of session 21) stays editable otherwise.
    await t.ctx.db.updateTable('persons').set({ name: pua }).where('id', '=', p).execute();
    const phone = await call('PATCH', `/persons/${p}`, { version, phone: '13900001111' });
    assert.equal(phone.statusCode, 200, phone.body);
  });
});
