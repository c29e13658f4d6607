// Care-group policy review (session 20), judged against DOMAIN.md's preamble ("every derived status the
// system shows must carry its reasons, naming the rule and the facts that triggered it") and section 2:
// - a period cut because a birth date was corrected kept the reasons of the old birth date, so a member
//   list showed "born 2010-03-01" in the birth-date column and "born 2011-03-01" in the reasons;
// - after a change of configuration, a special-difficulty ground quoted "rural left-behind elderly since
//   2024-07-01" while that membership itself starts on the day of the change;
// - English worklist texts said "a elderly with special difficulties" and "a orphan";
// - a member list of a past date showed the latest evaluation's high-age band (90-99 for a man of 81).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { signedInClients, type Client } from '../../../test/support/access.ts';
import {
  insertFactRow,
  insertParentLink,
  insertPersonRow,
  insertRelation,
} from '../../../test/support/registry-rows.ts';
import { addDays, addMonths, addYears, today, type IsoDate } from '../../platform/dates.ts';
import { evaluatePerson, evaluateRegion, leftText } from './groups.evaluate.ts';
import { GROUP_CODES, GROUP_LABELS, highAgeGroundsOn, type GroupCode } from './groups.rules.ts';

const COUNTY = '410225';
const CORRECTED = '410225001214'; // 老韩陵村: birth dates corrected
const CONFIGURED = '410225001213'; // a village whose configuration changes
const ARTICLES = '410225101200'; // worklist texts
const AGES = '410225101201'; // high-age member lists

let t: TestApp;
const clients: Record<string, Client> = {};

/** A day never a 29 February (a birth date that has a birthday every year). */
const plain = (day: IsoDate): IsoDate => (day.endsWith('-02-29') ? addDays(day, -1) : day);

const person = (name: string, sex: 1 | 2, birthDate: IsoDate, village: string) =>
  insertPersonRow(t.ctx.db, { name, sex, birthDate, hukou: village });

async function setBirthDate(personId: number, birthDate: IsoDate) {
  await sql`UPDATE persons SET birth_date = ${birthDate}::date WHERE id = ${personId}`.execute(t.ctx.db);
}

/** The periods of a person in a group, with their grounds (voided ones left out). */
async function periods(personId: number, group: GroupCode) {
  const rows = await sql<{
    since: string;
    until: string | null;
    sub_category: string | null;
    reasons: { zh: string[]; en: string[] };
  }>`
    SELECT since::text AS since, until::text AS until, sub_category, reasons FROM group_memberships
    WHERE person_id = ${personId} AND group_code = ${group} AND (until IS NULL OR until > since)
    ORDER BY since`.execute(t.ctx.db);
  return rows.rows;
}

async function worklist(personId: number, kind: string, group: GroupCode) {
  const rows = await sql<{ on_date: string; text_zh: string; text_en: string }>`
    SELECT on_date::text AS on_date, text_zh, text_en FROM worklist_items
    WHERE person_id = ${personId} AND kind = ${kind} AND group_code = ${group} ORDER BY id`.execute(t.ctx.db);
  return rows.rows;
}

interface MemberRow {
  personId: number;
  birthDate: string | null;
  since: string;
  subCategory: string | null;
  reasons: { zh: string[]; en: string[] };
}

async function memberOnList(village: string, group: GroupCode, asOf: IsoDate, personId: number) {
  const response = await t.app.inject({
    method: 'GET',
    url: `/api/v1/stats/groups/members?region=${village}&group=${group}&asOf=${asOf}`,
    headers: clients.county?.headers,
  });
  assert.equal(response.statusCode, 200, response.body);
  return (response.json() as { items: MemberRow[] }).items.find((item) => item.personId === personId);
}

const evaluate = (village: string) => evaluateRegion(t.ctx.db, { regionCode: village, asOf: today() });

before(async () => {
  t = await createTestApp();
  Object.assign(clients, await signedInClients(t, { county: ['county20', 'county_staff', COUNTY] }));
});

after(async () => {
  await t.close();
});

// ---------- 1. A period cut by a corrected birth date carries the corrected birth date ----------

describe('a period judged again after a birth date is corrected names the birth date on record', () => {
  /** A child whose parents both work away over [from, to). */
  async function leftBehind(name: string, born: IsoDate, from: IsoDate, to: IsoDate | null = null) {
    const child = await person(name, 1, born, CORRECTED);
    for (const [suffix, sex, birth] of [
      ['父', 1, '1980-01-01'],
      ['母', 2, '1982-01-01'],
    ] as const) {
      const parent = await person(`${name}${suffix}`, sex, birth, CORRECTED);
      await insertParentLink(t.ctx.db, child, parent);
      await insertFactRow(t.ctx.db, parent, { kind: 'migration', from, to });
    }
    return child;
  }

  test('an open period ended by the correction (the registry’s re-evaluation): its reasons say the corrected birth date', async () => {
    // The child was recorded as turning 16 in three months; the corrected date made it 16 nine months ago.
    const corrected = plain(addDays(addYears(today(), -16), -270));
    const recorded = plain(addYears(corrected, 1));
    const sixteenth = addYears(corrected, 16);
    const away = plain(addYears(today(), -3));
    const child = await leftBehind('更正甲', recorded, away);
    await evaluate(CORRECTED);
    const [open] = await periods(child, 'left_behind_child');
    assert.ok(open?.reasons.zh.includes(`未满16周岁(${recorded}出生)`), JSON.stringify(open));

    await setBirthDate(child, corrected);
    await t.ctx.db.transaction().execute((trx) => evaluatePerson(trx, child, today()));

    const [closed, ...others] = await periods(child, 'left_behind_child');
    assert.deepEqual(others, []);
    assert.deepEqual([closed?.since, closed?.until], [away, sixteenth]);
    assert.ok(closed?.reasons.zh.includes(`未满16周岁(${corrected}出生)`), JSON.stringify(closed));
    assert.ok(closed?.reasons.en.includes(`under 16 (born ${corrected})`), JSON.stringify(closed));
    assert.ok(!JSON.stringify(closed?.reasons).includes(recorded), JSON.stringify(closed));

    // The member list of a day in the period: the birth date and the reasons agree.
    const row = await memberOnList(CORRECTED, 'left_behind_child', addYears(away, 1), child);
    assert.equal(row?.birthDate, corrected);
    assert.ok(row?.reasons.zh.includes(`未满16周岁(${corrected}出生)`), JSON.stringify(row));
    assert.ok(!JSON.stringify(row?.reasons).includes(recorded), JSON.stringify(row));

    // The exit item quotes what the period said before, as "was".
    const [left] = await worklist(child, 'group_left', 'left_behind_child');
    assert.equal(left?.on_date, sixteenth);
    assert.match(
      left?.text_en ?? '',
      new RegExp(`from ${sixteenth}.*\\(was: under 16 \\(born ${recorded}\\)`),
    );
  });

  test('a closed period shortened by the correction (a region evaluation): its reasons say the corrected birth date', async () => {
    const recorded = plain(addYears(today(), -15));
    const corrected = plain(addYears(today(), -18));
    const away = plain(addYears(today(), -4));
    const back = plain(addYears(today(), -1));
    const child = await leftBehind('更正乙', recorded, away, back);
    // The daily evaluation of a day the parents were away records the period up to their return.
    await evaluateRegion(t.ctx.db, { regionCode: CORRECTED, asOf: addDays(back, -10) });
    await evaluate(CORRECTED);
    const [recordedPeriod] = await periods(child, 'left_behind_child');
    assert.deepEqual([recordedPeriod?.since, recordedPeriod?.until], [away, back]);

    await setBirthDate(child, corrected);
    const counts = await evaluate(CORRECTED);
    assert.equal(counts.updated, 1);
    const [closed, ...others] = await periods(child, 'left_behind_child');
    assert.deepEqual(others, []);
    assert.deepEqual([closed?.since, closed?.until], [away, addYears(corrected, 16)]);
    assert.ok(closed?.reasons.zh.includes(`未满16周岁(${corrected}出生)`), JSON.stringify(closed));
    assert.ok(!JSON.stringify(closed?.reasons).includes(recorded), JSON.stringify(closed));
    // The next daily evaluation leaves it as it is.
    const again = await evaluate(CORRECTED);
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });
});

// ---------- 2. A quoted ground starts where the membership it names starts ----------

describe('after a change of configuration, a special-difficulty ground quotes the left-behind membership’s start', () => {
  const change = plain(addDays(today(), -30));

  before(async () => {
    await t.ctx.db
      .insertInto('group_config')
      .values({
        region_code: CONFIGURED,
        valid_from: change,
        valid_to: null,
        // Elderly from 50 (was 60), left behind after 3 months of migration (was 6).
        config: JSON.stringify({ elderlyMinAge: 50, leftBehindElderlyMinMigrationMonths: 3 }),
        version: 1,
        changed_by: null,
      })
      .execute();
  });

  async function elder(name: string, born: IsoDate, sonAwayFrom: IsoDate, alone?: IsoDate) {
    const id = await person(name, 1, born, CONFIGURED);
    const son = await person(`${name}子`, 1, '1990-05-05', CONFIGURED);
    await insertParentLink(t.ctx.db, son, id);
    await insertFactRow(t.ctx.db, son, { kind: 'migration', from: sonAwayFrom });
    if (alone)
      await insertFactRow(t.ctx.db, id, {
        kind: 'living_arrangement',
        from: alone,
        data: { value: 'alone' },
      });
    return id;
  }

  test('an elder of 55 counted from the change: both periods and the quote start on it', async () => {
    const away = plain(addYears(today(), -3));
    const id = await elder('配置甲', plain(addYears(today(), -55)), away);
    await evaluate(CONFIGURED);
    const [leftBehind] = await periods(id, 'left_behind_elderly');
    const [special] = await periods(id, 'special_difficulty_elderly');
    assert.equal(leftBehind?.since, change);
    assert.equal(special?.since, change);
    assert.ok(
      special?.reasons.zh.some((r) => r.startsWith(`农村留守老年人(自${change}): `)),
      JSON.stringify(special?.reasons),
    );
    assert.ok(
      special?.reasons.en.some((r) => r.startsWith(`rural left-behind elderly since ${change}: `)),
      JSON.stringify(special?.reasons),
    );
    // The worklist says the same start in both items.
    const [entered] = await worklist(id, 'group_entered', 'special_difficulty_elderly');
    assert.match(
      entered?.text_en ?? '',
      new RegExp(`since ${change}; .*rural left-behind elderly since ${change}:`),
    );
    // Not the start the new rule alone gives (three months after the son left).
    assert.ok(!(entered?.text_en ?? '').includes(`elderly since ${addMonths(away, 3)}`), entered?.text_en);
    const again = await evaluate(CONFIGURED);
    assert.deepEqual([again.entered, again.left, again.updated], [0, 0, 0]);
  });

  test('an elder living alone for years, left behind only under the new rule: the quote starts on the change', async () => {
    // The son has been away four months: left behind after three under the new rule, not six under the old.
    const away = plain(addMonths(change, -4));
    const id = await elder('配置乙', '1950-06-06', away, '2010-01-01');
    await evaluate(CONFIGURED);
    const [leftBehind] = await periods(id, 'left_behind_elderly');
    const [special] = await periods(id, 'special_difficulty_elderly');
    assert.equal(leftBehind?.since, change);
    assert.equal(special?.since, '2010-06-06', 'the special difficulty (living alone) runs on');
    assert.equal(special?.sub_category, 'alone,left_behind');
    const quotes = special?.reasons.zh.filter((r) => r.startsWith('农村留守老年人(自')) ?? [];
    assert.deepEqual(
      quotes.map((r) => r.slice(0, '农村留守老年人(自'.length + 11)),
      [`农村留守老年人(自${change})`],
    );
  });
});

// ---------- 3. An exit's English names every group with the right article ----------

describe('an exit’s English text reads with each group’s label', () => {
  const expected: Record<GroupCode, string> = {
    left_behind_child: 'a rural left-behind child',
    de_facto_unsupported_child: 'a de facto unsupported child',
    orphan: 'an orphan',
    distressed_child: 'a child in distress',
    left_behind_elderly: 'a rural left-behind elderly',
    left_behind_woman: 'a rural left-behind woman',
    high_age_elderly: 'a high-age elderly',
    disabled_elderly: 'a disabled elderly',
    special_difficulty_elderly: 'an elderly with special difficulties',
  };

  test('every group, an ended period and a corrected one', () => {
    assert.deepEqual(Object.keys(expected).sort(), [...GROUP_CODES].sort());
    const was = { zh: ['原因'], en: ['reason'] };
    for (const code of GROUP_CODES) {
      assert.ok(expected[code].endsWith(GROUP_LABELS[code].en), code);
      const ended = leftText('某人', code, '2026-01-01', was, '2020-01-01');
      assert.equal(ended.text_en, `No longer ${expected[code]}: 某人, from 2026-01-01 (was: reason)`);
      const corrected = leftText('某人', code, null, was, '2020-01-01');
      assert.match(corrected.text_en, new RegExp(`^Corrected: 某人 was not ${expected[code]}; `));
    }
  });

  test('a second son at home all along: the corrections say “an elderly with special difficulties”', async () => {
    const elder = await person('冠词老', 1, '1950-03-03', ARTICLES);
    const away = await person('冠词甲', 1, '1978-01-01', ARTICLES);
    await insertParentLink(t.ctx.db, away, elder);
    await insertFactRow(t.ctx.db, away, { kind: 'migration', from: '2022-01-01' });
    await evaluate(ARTICLES);
    assert.equal((await periods(elder, 'special_difficulty_elderly')).length, 1);

    const home = await person('冠词乙', 1, '1980-01-01', ARTICLES);
    await insertRelation(t.ctx.db, home, elder, 'parent', 'biological');
    await evaluate(ARTICLES);
    assert.deepEqual(await periods(elder, 'special_difficulty_elderly'), []);
    const [special] = await worklist(elder, 'group_left', 'special_difficulty_elderly');
    assert.match(special?.text_en ?? '', /^Corrected: 冠词老 was not an elderly with special difficulties; /);
    const [leftBehind] = await worklist(elder, 'group_left', 'left_behind_elderly');
    assert.match(leftBehind?.text_en ?? '', /^Corrected: 冠词老 was not a rural left-behind elderly; /);
  });
});

// ---------- 4. A member list of a past date shows that date's high-age band ----------

describe('the high-age member list of a date shows the band of that date', () => {
  let elder: number;

  before(async () => {
    elder = await person('范雨', 1, '1931-01-25', AGES);
    // From 2020 the village counts a band from 85.
    await t.ctx.db
      .insertInto('group_config')
      .values({
        region_code: AGES,
        valid_from: '2020-01-01',
        valid_to: null,
        config: JSON.stringify({ highAgeBandStarts: [80, 85, 90, 100] }),
        version: 1,
        changed_by: null,
      })
      .execute();
    await evaluate(AGES);
  });

  test('aged 81 on 2012-06-01: 80-89 since the 80th birthday, the other reasons as stored', async () => {
    const [period] = await periods(elder, 'high_age_elderly');
    assert.equal(period?.since, '2011-01-25');
    assert.notEqual(period?.sub_category, '80-89', 'the period holds the latest band');
    const row = await memberOnList(AGES, 'high_age_elderly', '2012-06-01', elder);
    assert.equal(row?.subCategory, '80-89');
    assert.deepEqual(row?.reasons, {
      zh: ['年满80周岁(1931-01-25出生)', '80-89岁年龄段自2011-01-25'],
      en: ['aged 80 or over (born 1931-01-25)', 'age band 80-89 since 2011-01-25'],
    });
  });

  test('each date by the bands in force on it: 85-89 under the village’s bands of 2020, 90-99 in 2022', async () => {
    const in2020 = await memberOnList(AGES, 'high_age_elderly', '2020-06-01', elder);
    assert.equal(in2020?.subCategory, '85-89');
    assert.ok(in2020?.reasons.en.includes('age band 85-89 since 2016-01-25'), JSON.stringify(in2020));
    const in2019 = await memberOnList(AGES, 'high_age_elderly', '2019-06-01', elder);
    assert.equal(in2019?.subCategory, '80-89');
    const in2022 = await memberOnList(AGES, 'high_age_elderly', '2022-06-01', elder);
    assert.equal(in2022?.subCategory, '90-99');
    assert.deepEqual(in2022?.reasons.zh, ['年满80周岁(1931-01-25出生)', '90-99岁年龄段自2021-01-25']);
  });

  test('the person file of a date shows the same band as the member list of that date', async () => {
    for (const [asOf, band] of [
      ['2012-06-01', '80-89'],
      ['2020-06-01', '85-89'],
      ['2022-06-01', '90-99'],
    ] as const) {
      const response = await t.app.inject({
        method: 'GET',
        url: `/api/v1/persons/${elder}?asOf=${asOf}`,
        headers: clients.county?.headers,
      });
      assert.equal(response.statusCode, 200, response.body);
      const groups = (
        response.json() as {
          groups: { code: string; subCategory: string | null; reasons: { zh: string[] } }[];
        }
      ).groups;
      const highAge = groups.find((g) => g.code === 'high_age_elderly');
      assert.equal(highAge?.subCategory, band, `${asOf}: ${JSON.stringify(groups)}`);
      const listed = await memberOnList(AGES, 'high_age_elderly', asOf, elder);
      assert.deepEqual(highAge?.reasons, listed?.reasons.zh, asOf);
    }
  });

  test('the rule: the band reason replaced wherever it stands, nothing when no band is named', () => {
    const stored = {
      zh: ['年满80周岁(1931-01-25出生)', '90-99岁年龄段自2021-01-25', '依本地区自 2020-01-01 起施行的配置'],
      en: [
        'aged 80 or over (born 1931-01-25)',
        'age band 90-99 since 2021-01-25',
        "under the region's configuration in force from 2020-01-01",
      ],
    };
    assert.deepEqual(highAgeGroundsOn('1931-01-25', '2031-01-25', [80, 90, 100], stored), {
      subCategory: '100+',
      reasons: {
        zh: [stored.zh[0], '100+岁年龄段自2031-01-25', stored.zh[2]],
        en: [stored.en[0], 'age band 100+ since 2031-01-25', stored.en[2]],
      },
    });
    assert.equal(highAgeGroundsOn('1931-01-25', '2031-01-24', [80, 90, 100], stored)?.subCategory, '90-99');
    assert.equal(highAgeGroundsOn('1931-01-25', '2010-06-01', [80, 90, 100], stored), null);
    assert.equal(highAgeGroundsOn('1931-01-25', '2012-06-01', [80], { zh: ['x'], en: ['x'] }), null);
  });
});
