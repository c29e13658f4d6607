// Policy edge cases of the group rules (session 14), judged against DOMAIN.md section 2 and its sources:
// - special-difficulty elderly (ELDERLY2022), "family-planning special family (only child dead or disabled)":
//   the ground was read only from a typed-in flag, so an elder whose only child on record had died was no
//   member although the registry held every fact the rule names (groups are derived, never typed in);
// - an empty nest (仅与配偶同住) recorded for an elder whose spouse has since died was still named "empty nest,
//   living with the spouse only": the elder lives alone from the death;
// - a liberty restriction "lasting 6 months or more" (MCA2019-62): the expected end is the term's last day as
//   a judgment states it (刑期自2026-03-01起至2026-08-31止 is a six-month sentence), which the rule read as the
//   first day free, so a six-month sentence did not count while it ran and did once its release was recorded;
// - an evaluation asked for a date still to come stored what has not happened (an elder turning 60 next
//   year entered today, with a worklist item, and none on the day).
// Each case on the pure rules, then end to end against what the batch or the API does.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../../../test/support/db.ts';
import { apiCall, signedInClients, type Client } from '../../../test/support/access.ts';
import {
  insertFactRow,
  insertParentLink,
  insertPersonRow,
  insertRelation,
  registryDatabaseFor,
} from '../../../test/support/registry-rows.ts';
import { fact, somebody } from '../../../test/support/group-subjects.ts';
import { addDays, today, type IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import { groupCommands } from './groups.cli.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import {
  changesOn,
  deFactoUnsupportedChild,
  evaluateGroups,
  formatReasons,
  membershipRuns,
  specialDifficultyElderly,
  type GroupCode,
  type GroupMembership,
  type GroupSubject,
  type ParentSnapshot,
  type RelativeSnapshot,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;
const VILLAGE = '410225100201';

const died = (on: IsoDate) => fact('death', on);
const disabled = (from: IsoDate, category: number, grade: number) =>
  fact('disability', from, null, { category, grade });

const member = (found: GroupMembership | null): GroupMembership => {
  assert.ok(found, 'expected a membership');
  return found;
};
const runs = (subject: GroupSubject, code: GroupCode, from: IsoDate, to: IsoDate) =>
  membershipRuns(subject, code, from, to, config).map((run) => [
    run.since,
    run.until,
    run.membership.subCategory ?? null,
  ]);

/** An elder born 1955-03-01 (60 on 2015-03-01) with these children and spouse. */
const elder = (
  children: RelativeSnapshot[],
  own: Fact[] = [],
  spouse: RelativeSnapshot | null = null,
): GroupSubject => ({
  person: somebody('王大娘', 2, '1955-03-01', own),
  parents: [],
  spouse,
  children,
});

describe('family-planning special family read from the children on record (ELDERLY2022)', () => {
  test('the only son died: a special-difficulty elder from his death, the son named in both languages', () => {
    const subject = elder([somebody('王一', 1, '1980-01-01', [died('2020-05-01')])]);
    assert.equal(specialDifficultyElderly(subject, '2020-04-30', config), null);
    const found = member(specialDifficultyElderly(subject, '2020-05-01', config));
    assert.equal(found.since, '2020-05-01');
    assert.equal(found.subCategory, 'family_planning_special');
    assert.equal(
      formatReasons(found, 'zh'),
      '年满60周岁(1955-03-01出生); 计划生育特殊家庭: 独生子王一死亡(2020-05-01)',
    );
    assert.equal(
      formatReasons(found, 'en'),
      'aged 60 or over (born 1955-03-01); family-planning special family: only son 王一 died on 2020-05-01',
    );
    // Not a left-behind elder: no living child.
    assert.deepEqual(
      evaluateGroups(subject, '2026-11-29', config).map((m) => m.code),
      ['special_difficulty_elderly'],
    );
  });

  test('a death before the 60th birthday counts from the birthday: out the day before, in on the day', () => {
    const subject: GroupSubject = {
      ...elder([somebody('李二', 2, '1990-01-01', [died('2010-06-01')])]),
      person: somebody('李大爷', 1, '1964-02-29'),
    };
    assert.equal(specialDifficultyElderly(subject, '2024-02-28', config), null);
    assert.equal(member(specialDifficultyElderly(subject, '2024-02-29', config)).since, '2024-02-29');
    assert.match(
      formatReasons(member(specialDifficultyElderly(subject, '2024-03-01', config)), 'zh'),
      /计划生育特殊家庭: 独生女李二死亡\(2010-06-01\)$/,
    );
  });

  test('the only child disabled grade 1-3 counts, grade 4 does not; a regraded disability keeps its stretch', () => {
    const withGrade = (grade: number) =>
      elder([somebody('王一', 1, '1980-01-01', [disabled('2018-01-01', 4, grade)])]);
    for (const grade of [1, 2, 3]) {
      const found = member(specialDifficultyElderly(withGrade(grade), '2026-11-29', config));
      assert.equal(found.since, '2018-01-01');
      assert.equal(found.subCategory, 'family_planning_special');
    }
    assert.equal(specialDifficultyElderly(withGrade(4), '2026-11-29', config), null);
    const found = member(specialDifficultyElderly(withGrade(3), '2026-11-29', config));
    assert.ok(found.reasons.some((r) => r.zh === '计划生育特殊家庭: 独生子王一残疾(肢体三级)自2018-01-01'));
    assert.ok(
      found.reasons.some(
        (r) =>
          r.en ===
          'family-planning special family: only son 王一 disabled (physical, grade 3) since 2018-01-01',
      ),
      formatReasons(found, 'en'),
    );
  });

  test('declared dead counts as a death; declared missing (alive in law) does not', () => {
    const dead = elder([somebody('王一', 1, '1980-01-01', [fact('declared_dead', '2021-03-01')])]);
    assert.equal(member(specialDifficultyElderly(dead, '2026-11-29', config)).since, '2021-03-01');
    const missing = elder([somebody('王一', 1, '1980-01-01', [fact('declared_missing', '2021-03-01')])]);
    assert.equal(specialDifficultyElderly(missing, '2026-11-29', config), null);
  });

  test('two children of whom one died are no only child; a child born since the death ends it on the birth', () => {
    const two = elder([
      somebody('王一', 1, '1980-01-01', [died('2020-05-01')]),
      somebody('王二', 2, '1983-01-01'),
    ]);
    assert.equal(specialDifficultyElderly(two, '2026-11-29', config), null);

    // An elder (born 1955) whose only child died in 2015 and who adopted a child born 2019 (未再生育或收养).
    const again = elder([
      somebody('王一', 1, '1980-01-01', [died('2015-05-01')]),
      somebody('王小', 2, '2019-04-01'),
    ]);
    assert.deepEqual(runs(again, 'special_difficulty_elderly', '2015-01-01', '2026-11-29'), [
      ['2015-05-01', '2019-04-01', 'family_planning_special'],
    ]);
    assert.ok(changesOn(again, '2019-04-01').some((c) => c.zh === '子女王小出生(2019-04-01)'));
  });

  test('no child on record is no family-planning special family (a missing record is not an only child lost)', () => {
    assert.equal(specialDifficultyElderly(elder([]), '2026-11-29', config), null);
  });

  test('the recorded status still counts on its own, and with a lost only child both are named, since the first', () => {
    const flagged = elder([], [fact('family_planning_special', '2016-01-01')]);
    assert.equal(member(specialDifficultyElderly(flagged, '2026-11-29', config)).since, '2016-01-01');
    const both = elder(
      [somebody('王一', 1, '1980-01-01', [died('2020-05-01')])],
      [fact('family_planning_special', '2021-01-01')],
    );
    const found = member(specialDifficultyElderly(both, '2026-11-29', config));
    assert.equal(found.since, '2020-05-01');
    assert.equal(found.subCategory, 'family_planning_special');
    assert.deepEqual(
      found.reasons.map((r) => r.zh),
      [
        '年满60周岁(1955-03-01出生)',
        '计划生育特殊家庭自2021-01-01',
        '计划生育特殊家庭: 独生子王一死亡(2020-05-01)',
      ],
    );
  });
});

describe('an empty nest whose spouse has died is an elder living alone', () => {
  const spouseOnly = fact('living_arrangement', '2010-01-01', null, { value: 'spouse_only' });
  const husband = (...facts: Fact[]) => somebody('王大爷', 1, '1953-01-01', facts);

  test('from the spouse’s death: alone, named with the record and the death; the membership goes on unbroken', () => {
    const subject = elder([], [spouseOnly], husband(died('2022-01-01')));
    const before = member(specialDifficultyElderly(subject, '2021-12-31', config));
    assert.equal(before.subCategory, 'empty_nest');
    const now = member(specialDifficultyElderly(subject, '2026-11-29', config));
    assert.equal(now.subCategory, 'alone');
    assert.equal(now.since, '2015-03-01');
    assert.equal(
      formatReasons(now, 'zh'),
      '年满60周岁(1955-03-01出生); 独居: 登记为仅与配偶同住自2010-01-01，配偶王大爷死亡(2022-01-01)',
    );
    assert.equal(
      formatReasons(now, 'en'),
      'aged 60 or over (born 1955-03-01); living alone: recorded as living with the spouse only since 2010-01-01, spouse 王大爷 died on 2022-01-01',
    );
    assert.deepEqual(runs(subject, 'special_difficulty_elderly', '2015-01-01', '2026-11-29'), [
      ['2015-03-01', '2026-11-29', 'alone'],
    ]);
  });

  test('a living spouse, or none on record: the empty nest as recorded', () => {
    for (const spouse of [husband(), null]) {
      const found = member(specialDifficultyElderly(elder([], [spouseOnly], spouse), '2026-11-29', config));
      assert.equal(found.subCategory, 'empty_nest');
      assert.match(formatReasons(found, 'zh'), /空巢\(仅与配偶同住\)自2010-01-01$/);
    }
  });

  test('a spouse declared missing by a court is not at home either', () => {
    const subject = elder([], [spouseOnly], husband(fact('declared_missing', '2023-06-01')));
    const found = member(specialDifficultyElderly(subject, '2026-11-29', config));
    assert.equal(found.subCategory, 'alone');
    assert.match(formatReasons(found, 'zh'), /配偶王大爷被宣告失踪\(2023-06-01\)$/);
  });
});

describe('a liberty restriction’s expected end is the term’s last day (自…起至…止)', () => {
  const parent = (name: string, sex: 1 | 2, ...facts: Fact[]): ParentSnapshot => ({
    ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts),
    parentType: 'biological',
  });
  const childWithMother = (...mother: Fact[]): GroupSubject => ({
    person: somebody('小明', 1, '2015-06-15'),
    parents: [parent('张三', 1, died('2020-01-01')), parent('李梅', 2, ...mother)],
    spouse: null,
    children: [],
  });
  const sentence = (from: IsoDate, expectedEnd: IsoDate, to: IsoDate | null = null) =>
    fact('liberty_restriction', from, to, { type: 'sentence', expectedEnd });

  test('a six-month sentence (2026-03-01 to 2026-08-31) counts from its first day, while it runs', () => {
    const found = member(
      deFactoUnsupportedChild(childWithMother(sentence('2026-03-01', '2026-08-31')), '2026-04-01', config),
    );
    assert.equal(found.since, '2026-03-01');
    assert.match(formatReasons(found, 'zh'), /母亲李梅服刑在押自2026-03-01\(预计2026-08-31结束\)$/);
  });

  test('the same term read from its release (the first day free) gives the same answer', () => {
    const released = childWithMother(sentence('2026-03-01', '2026-08-31', '2026-09-01'));
    assert.equal(member(deFactoUnsupportedChild(released, '2026-04-01', config)).since, '2026-03-01');
    assert.deepEqual(
      membershipRuns(released, 'de_facto_unsupported_child', '2026-01-01', '2026-11-29', config).map((r) => [
        r.since,
        r.until,
      ]),
      [['2026-03-01', '2026-09-01']],
    );
  });

  test('a term a day shorter (to 2026-08-30) is less than six months: counted only once it has lasted six', () => {
    const short = childWithMother(sentence('2026-03-01', '2026-08-30'));
    assert.equal(deFactoUnsupportedChild(short, '2026-04-01', config), null);
    assert.equal(deFactoUnsupportedChild(short, '2026-08-31', config), null);
    assert.equal(member(deFactoUnsupportedChild(short, '2026-09-01', config)).since, '2026-09-01');
  });
});

describe('end to end: the batch stores what the rules answer', () => {
  const database = registryDatabaseFor(VILLAGE);
  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });
  const evaluate = (asOf: IsoDate, worklist = false) =>
    evaluateRegion(database.db, { regionCode: '410225', asOf, worklist });
  const periodsOf = async (personId: number) =>
    (
      await sql<{ group_code: string; since: string; until: string | null; sub_category: string | null }>`
        SELECT group_code, since::text AS since, until::text AS until, sub_category FROM group_memberships
        WHERE person_id = ${personId} AND until IS DISTINCT FROM since ORDER BY group_code, since`.execute(
        database.db,
      )
    ).rows.map((r) => [r.group_code, r.since, r.until, r.sub_category]);

  test('an elder whose only son’s death is recorded: a special-difficulty period from the death, with a worklist item', async () => {
    const mother = await person('王大娘', 2, '1955-03-01');
    const son = await person('王一', 1, '1980-01-01');
    await insertParentLink(database.db, son, mother);
    await evaluate('2020-04-30');
    assert.deepEqual(await periodsOf(mother), []);
    await insertFactRow(database.db, son, { kind: 'death', from: '2020-05-01' });
    await evaluate('2020-06-01', true);
    assert.deepEqual(await periodsOf(mother), [
      ['special_difficulty_elderly', '2020-05-01', null, 'family_planning_special'],
    ]);
    const items = (
      await sql<{ text_zh: string }>`SELECT text_zh FROM worklist_items WHERE person_id = ${mother}`.execute(
        database.db,
      )
    ).rows.map((r) => r.text_zh);
    assert.equal(items.length, 1);
    assert.match(items[0]!, /计划生育特殊家庭: 独生子王一死亡\(2020-05-01\)/);
  });

  test('a widow recorded as living with her husband only: the period goes on, its sub-category alone from his death', async () => {
    const wife = await person('李大娘', 2, '1950-03-01');
    const husband = await person('李大爷', 1, '1948-01-01');
    await insertRelation(database.db, wife, husband, 'spouse', null);
    await insertFactRow(database.db, wife, {
      kind: 'living_arrangement',
      from: '2010-01-01',
      data: { value: 'spouse_only' },
    });
    await evaluate('2021-12-31');
    assert.deepEqual(await periodsOf(wife), [
      ['special_difficulty_elderly', '2010-03-01', null, 'empty_nest'],
    ]);
    await insertFactRow(database.db, husband, { kind: 'death', from: '2022-01-01' });
    await evaluate('2022-02-01');
    assert.deepEqual(await periodsOf(wife), [['special_difficulty_elderly', '2010-03-01', null, 'alone']]);
  });
});

describe('an evaluation is of a day that has come', () => {
  let t: TestApp;
  let county: Client;
  before(async () => {
    t = await createTestApp();
    ({ county } = await signedInClients(t, { county: ['county14', 'county_staff', '410225'] }));
  });
  after(async () => {
    await t.close();
  });
  const jobs = async () =>
    Number(
      (
        await sql<{ n: string }>`SELECT count(*) AS n FROM jobs WHERE name = 'groups.evaluate'`.execute(
          t.ctx.db,
        )
      ).rows[0]?.n,
    );

  test('a date after today is refused naming asOf, in Chinese and English, and queues nothing; today is taken', async () => {
    const tomorrow = addDays(today(), 1);
    const before = await jobs();
    for (const [lang, pattern] of [
      ['zh', /不能晚于今天/],
      ['en', /must not be after today/],
    ] as const) {
      const refused = await apiCall(
        t.app,
        county,
        'POST',
        '/groups/evaluations',
        { region: '410225', asOf: tomorrow },
        lang,
      );
      assert.equal(refused.statusCode, 400, refused.body);
      const error = refused.json<{
        error: { code: string; details?: { path?: string; message?: string }[] };
      }>().error;
      assert.equal(error.code, 'VALIDATION_FAILED');
      assert.equal(error.details?.[0]?.path, 'asOf');
      assert.match(error.details?.[0]?.message ?? '', pattern);
    }
    assert.equal(await jobs(), before);
    const taken = await apiCall(t.app, county, 'POST', '/groups/evaluations', {
      region: '410225',
      asOf: today(),
    });
    assert.equal(taken.statusCode, 202, taken.body);
    assert.equal(await jobs(), before + 1);
  });

  test('the command line refuses --as-of after today and evaluates nothing', async () => {
    const command = groupCommands.find((c) => c.path.join(' ') === 'groups evaluate');
    assert.ok(command);
    const errors: string[] = [];
    const printed: string[] = [];
    const io = {
      print: (l: string) => printed.push(l),
      error: (l: string) => errors.push(l),
      progress: () => {},
    };
    const code = await command.run(
      { positionals: [], flags: { region: '410225', 'as-of': addDays(today(), 30) } },
      t.ctx,
      io,
    );
    assert.equal(code, 2);
    assert.match(errors.join('\n'), /--as-of must not be after today/);
    assert.deepEqual(printed, []);
  });
});
