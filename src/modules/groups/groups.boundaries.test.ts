// Edge cases of the group rules that groups.rules.test.ts does not cover: birthdays on the day (and on
// 29 February), facts that end on the as-of date or start after it, single and adoptive parents, a
// declaration of death that is revoked, the person's own death, overlapping facts of one kind, and the
// reasons' language. DOMAIN.md section 2.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import type { GroupsConfig } from './groups.config.ts';
import {
  changesOn,
  deFactoUnsupportedChild,
  evaluateGroups,
  explainLeftBehindChild,
  formatReasons,
  highAgeElderly,
  leftBehindChild,
  leftBehindElderly,
  membershipEndedOn,
  orphan,
  specialDifficultyElderly,
} from './groups.rules.ts';
import type {
  GroupMembership,
  GroupSubject,
  SubjectHistory,
  ParentSnapshot,
  ParentType,
  PersonSnapshot,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;
const withConfig = (changes: Partial<GroupsConfig>): GroupsConfig => ({
  ...DEFAULT_GROUPS_CONFIG,
  ...changes,
});

let sequence = 0;
function somebody(name: string, sex: 1 | 2, birthDate: IsoDate, facts: Fact[] = []): PersonSnapshot {
  sequence += 1;
  return { id: `p${sequence}`, name, sex, birthDate, ruralHukou: true, livesInHukouVillage: true, facts };
}
const parent = (name: string, sex: 1 | 2, parentType: ParentType, facts: Fact[]): ParentSnapshot => ({
  ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts),
  parentType,
});
const father = (...facts: Fact[]) => parent('张三', 1, 'biological', facts);
const mother = (...facts: Fact[]) => parent('李梅', 2, 'biological', facts);

function childOf(
  parents: ParentSnapshot[],
  birthDate: IsoDate = '2015-06-15',
  facts: Fact[] = [],
): GroupSubject {
  return { person: somebody('小明', 1, birthDate, facts), parents, spouse: null, children: [] };
}
function elder(birthDate: IsoDate, facts: Fact[] = [], children: PersonSnapshot[] = []): GroupSubject {
  return { person: somebody('孙大爷', 1, birthDate, facts), parents: [], spouse: null, children };
}

const migrated = (from: IsoDate, to: IsoDate | null = null): Fact => ({
  kind: 'migration',
  from,
  to,
  data: {},
});
const died = (date: IsoDate): Fact => ({ kind: 'death', from: date, to: null, data: {} });
const declaredDead = (from: IsoDate, to: IsoDate | null = null): Fact => ({
  kind: 'declared_dead',
  from,
  to,
  data: {},
});
const seriouslyIll = (from: IsoDate, to: IsoDate | null = null): Fact => ({
  kind: 'serious_illness',
  from,
  to,
  data: {},
});
const sentence = (from: IsoDate, expectedEnd: IsoDate | null, to: IsoDate | null = null): Fact => ({
  kind: 'liberty_restriction',
  from,
  to,
  data: { type: 'sentence', expectedEnd },
});
const living = (from: IsoDate): Fact => ({
  kind: 'living_arrangement',
  from,
  to: null,
  data: { value: 'alone' },
});

function member(membership: GroupMembership | null): GroupMembership {
  assert.ok(membership, 'expected a membership');
  return membership;
}
const codes = (subject: GroupSubject, asOf: IsoDate, cfg: GroupsConfig = config) =>
  evaluateGroups(subject, asOf, cfg).map((m) => m.code);

describe('birthdays: the day before is in, the birthday itself is out (under) or in (at least)', () => {
  const bothAway = () => [father(migrated('2020-03-01')), mother(migrated('2020-03-01'))];

  test('a left-behind child born on 29 February turns 16 on 29 February (16 years on is always a leap year)', () => {
    const subject = childOf(bothAway(), '2012-02-29');
    assert.ok(leftBehindChild(subject, '2028-02-28', config));
    assert.equal(leftBehindChild(subject, '2028-02-29', config), null);
  });

  test('born on 29 February, 18 in a common year: a minor on 27 February, of age on 28 February', () => {
    const unsupported = childOf(
      [father(died('2015-01-01')), mother(seriouslyIll('2016-01-01'))],
      '2008-02-29',
    );
    assert.ok(deFactoUnsupportedChild(unsupported, '2026-02-27', config));
    assert.equal(deFactoUnsupportedChild(unsupported, '2026-02-28', config), null);
    const orphaned = childOf([father(died('2015-01-01')), mother(died('2016-01-01'))], '2008-02-29');
    assert.ok(orphan(orphaned, '2026-02-27', config));
    assert.equal(orphan(orphaned, '2026-02-28', config), null);
    assert.deepEqual(codes(orphaned, '2026-03-01'), []);
  });

  test('high-age band 90-99 for a 29 February birthday begins on 28 February of the common year', () => {
    const subject = elder('1936-02-29');
    assert.equal(member(highAgeElderly(subject, '2026-02-27', config)).subCategory, '80-89');
    const ninety = member(highAgeElderly(subject, '2026-02-28', config));
    assert.equal(ninety.subCategory, '90-99');
    assert.equal(ninety.since, '2016-02-29');
    assert.match(formatReasons(ninety, 'zh'), /90-99岁年龄段自2026-02-28/);
  });

  test('80th birthday: out the day before, in on the day, since the day', () => {
    const subject = elder('1946-03-01');
    assert.equal(highAgeElderly(subject, '2026-02-28', config), null);
    assert.equal(member(highAgeElderly(subject, '2026-03-01', config)).since, '2026-03-01');
  });

  test('an elderly threshold configured at 65 or 70 moves the entry to that birthday, 29 February included', () => {
    const alone = [living('2000-01-01')];
    const at65 = withConfig({ elderlyMinAge: 65 });
    const sixtyFive = elder('1961-11-29', alone);
    assert.equal(specialDifficultyElderly(sixtyFive, '2026-11-28', at65), null);
    assert.equal(member(specialDifficultyElderly(sixtyFive, '2026-11-29', at65)).since, '2026-11-29');
    assert.ok(specialDifficultyElderly(sixtyFive, '2026-11-28', config), 'at the default 60 already in');

    const at70 = withConfig({ elderlyMinAge: 70 });
    const seventy = elder('1956-02-29', alone);
    assert.equal(specialDifficultyElderly(seventy, '2026-02-27', at70), null);
    const entered = member(specialDifficultyElderly(seventy, '2026-02-28', at70));
    assert.equal(entered.since, '2026-02-28');
    assert.match(formatReasons(entered, 'zh'), /^年满70周岁\(1956-02-29出生\)/);
  });

  test('a left-behind elder on the 60th birthday with a child migrant long enough', () => {
    const subject = elder('1966-02-28', [], [somebody('孙建国', 1, '1990-01-01', [migrated('2020-01-01')])]);
    assert.equal(leftBehindElderly(subject, '2026-02-27', config), null);
    assert.equal(member(leftBehindElderly(subject, '2026-02-28', config)).since, '2026-02-28');
  });
});

describe('periods are half-open [from, to)', () => {
  test('a migration that ends on the as-of date no longer counts; one that ends the day after still does', () => {
    const endsToday = childOf([father(migrated('2025-03-01', '2026-11-29')), mother(migrated('2025-03-01'))]);
    assert.equal(leftBehindChild(endsToday, '2026-11-29', config), null);
    assert.ok(leftBehindChild(endsToday, '2026-11-28', config));
    const endsTomorrow = childOf([
      father(migrated('2025-03-01', '2026-11-30')),
      mother(migrated('2025-03-01')),
    ]);
    assert.equal(member(leftBehindChild(endsTomorrow, '2026-11-29', config)).since, '2025-03-01');
  });

  test('a migration that starts after the as-of date does not count yet, and counts from its first day', () => {
    const subject = childOf([father(migrated('2026-12-01')), mother(migrated('2025-03-01'))]);
    assert.equal(leftBehindChild(subject, '2026-11-30', config), null);
    assert.equal(member(leftBehindChild(subject, '2026-12-01', config)).since, '2026-12-01');
  });

  test('a serious illness of the other parent that ends on the as-of date: de facto unsupported until the day before', () => {
    const subject = childOf([father(died('2020-01-10')), mother(seriouslyIll('2023-04-02', '2026-11-29'))]);
    assert.ok(deFactoUnsupportedChild(subject, '2026-11-28', config));
    assert.equal(deFactoUnsupportedChild(subject, '2026-11-29', config), null);
  });

  test('a sentence that ends (release) on the as-of date stops counting that day', () => {
    const subject = childOf([
      father(died('2020-01-10')),
      mother(sentence('2024-01-15', '2029-01-14', '2026-11-29')),
    ]);
    assert.equal(member(deFactoUnsupportedChild(subject, '2026-11-28', config)).since, '2024-01-15');
    assert.equal(deFactoUnsupportedChild(subject, '2026-11-29', config), null);
  });

  test('overlapping migration records of one parent join into one stretch from the first', () => {
    const subject = childOf([
      father(migrated('2024-01-01', '2025-06-01'), migrated('2025-03-01')),
      mother(migrated('2023-01-01')),
    ]);
    assert.equal(member(leftBehindChild(subject, '2026-11-29', config)).since, '2024-01-01');
  });

  test('overlapping sentences: the second, recorded while the first runs, keeps the first start', () => {
    const subject = childOf([
      father(died('2020-01-10')),
      mother(sentence('2024-01-15', '2025-01-14', '2025-01-15'), sentence('2024-06-01', '2030-01-01')),
    ]);
    assert.equal(member(deFactoUnsupportedChild(subject, '2026-11-29', config)).since, '2024-01-15');
  });
});

describe('parents', () => {
  test('a child whose only recorded parent is migrant is not left behind by this rule, and the answer says why', () => {
    const subject = childOf([mother(migrated('2025-03-01'))]);
    assert.equal(leftBehindChild(subject, '2026-11-29', config), null);
    const answers = explainLeftBehindChild(subject, '2026-11-29', config);
    assert.equal(answers.leftBehindChild.holds, false);
    assert.ok(answers.leftBehindChild.reasons.some((r) => r.zh === '未登记父亲'));
  });

  test('a declaration of death that is revoked: an orphan while it stood, a migrant parent after', () => {
    const subject = childOf([
      father(died('2019-05-05')),
      mother(declaredDead('2022-01-01', '2026-01-01'), migrated('2026-01-01')),
    ]);
    assert.ok(orphan(subject, '2025-12-31', config));
    assert.equal(orphan(subject, '2026-01-01', config), null);
    const after = member(leftBehindChild(subject, '2026-01-01', config));
    assert.match(formatReasons(after, 'zh'), /母亲李梅外出务工自2026-01-01; 父亲张三死亡\(2019-05-05\)/);
  });
});

describe('the person', () => {
  test('every group ends on the death date: a member the day before, in none on the day', () => {
    const child = childOf([father(migrated('2025-03-01')), mother(migrated('2025-03-01'))], '2015-06-15', [
      died('2026-11-29'),
    ]);
    assert.deepEqual(codes(child, '2026-11-28'), ['left_behind_child']);
    assert.deepEqual(codes(child, '2026-11-29'), []);
  });

  test('reasons are given in Chinese and in English, the Chinese naming the facts with their dates', () => {
    const subject = childOf([father(died('2020-01-10')), mother(seriouslyIll('2023-04-02'))]);
    const membership = member(deFactoUnsupportedChild(subject, '2026-11-29', config));
    for (const reason of membership.reasons) {
      assert.match(reason.zh, /[\u4e00-\u9fff]/);
      assert.doesNotMatch(reason.zh, /\b(since|under|father|mother)\b/);
      assert.match(reason.en, /^[\x20-\x7e\u4e00-\u9fff]+$/);
    }
    assert.equal(
      formatReasons(membership, 'zh'),
      '未满18周岁(2015-06-15出生); 父亲张三死亡(2020-01-10); 母亲李梅患重病自2023-04-02',
    );
  });

  test('a membership ends the day after the last day it held: on the death date, on the day of return', () => {
    const bothAway = () => [father(migrated('2025-03-01')), mother(migrated('2025-03-01'))];
    const dead = childOf(bothAway(), '2015-06-15', [died('2026-02-10')]);
    assert.equal(
      membershipEndedOn(dead, 'left_behind_child', '2025-03-01', '2026-03-05', config),
      '2026-02-10',
    );
    const home = childOf([father(migrated('2025-03-01', '2026-04-01')), mother(migrated('2025-03-01'))]);
    assert.equal(
      membershipEndedOn(home, 'left_behind_child', '2025-03-01', '2026-05-01', config),
      '2026-04-01',
    );
    // Never held since the stored start (the migration was an error): no end, the period never was.
    const never = childOf([father(), mother(migrated('2025-03-01'))]);
    assert.equal(membershipEndedOn(never, 'left_behind_child', '2025-03-01', '2026-05-01', config), null);
  });

  test('a move away (hukou and residence have no history) ends the membership on the day it is seen', () => {
    const moved: GroupSubject = {
      ...childOf([father(migrated('2025-03-01')), mother(migrated('2025-03-01'))]),
    };
    const away = { ...moved, person: { ...moved.person, livesInHukouVillage: false } };
    assert.equal(leftBehindChild(away, '2026-05-01', config), null);
    assert.equal(
      membershipEndedOn(away, 'left_behind_child', '2025-03-01', '2026-05-01', config),
      '2026-05-01',
    );
  });
});

describe('what changed on the day a membership ended (changesOn, for the exit worklist item)', () => {
  test('the 16th birthday: the child turned 16 that day, not the day before or after', () => {
    const child = childOf([father(migrated('2020-01-01')), mother(migrated('2020-01-01'))], '2010-05-01');
    assert.deepEqual(changesOn(child, '2026-05-01'), [
      { zh: '年满16周岁(2026-05-01)', en: 'turned 16 on 2026-05-01' },
    ]);
    assert.deepEqual(changesOn(child, '2026-04-30'), []);
    assert.deepEqual(changesOn(child, '2026-05-02'), []);
  });

  test("a parent's return ends the migration that day; a parent's death is named with its date", () => {
    const dad = father(migrated('2025-03-01', '2026-10-01'));
    const mum = mother(migrated('2025-03-01'), died('2026-10-01'));
    const texts = changesOn(childOf([dad, mum]), '2026-10-01');
    assert.deepEqual(
      texts.map((t) => t.zh),
      ['父亲张三外出务工于2026-10-01结束', '母亲李梅死亡(2026-10-01)'],
    );
    assert.deepEqual(
      texts.map((t) => t.en),
      ['father 张三: migration for work ended on 2026-10-01', 'mother 李梅: death on 2026-10-01'],
    );
  });

  test("the person's own facts are named as the person's: a child who left with a parent", () => {
    const child = childOf([father(migrated('2025-03-01')), mother(migrated('2025-03-01'))], '2015-06-15', [
      migrated('2026-09-01'),
    ]);
    assert.deepEqual(changesOn(child, '2026-09-01'), [
      { zh: '本人外出务工自2026-09-01起', en: 'the person: migration for work from 2026-09-01' },
    ]);
  });

  test('an elder whose child came home: the child is named as a child, a spouse as a spouse', () => {
    const son = somebody('孙强', 1, '1980-01-01', [migrated('2024-01-01', '2026-07-01')]);
    const wife = somebody('王芳', 2, '1958-01-01', [seriouslyIll('2026-07-01')]);
    const subject: GroupSubject = { ...elder('1955-03-01', [], [son]), spouse: wife };
    assert.deepEqual(
      changesOn(subject, '2026-07-01').map((t) => t.zh),
      ['配偶王芳重病自2026-07-01起', '子女孙强外出务工于2026-07-01结束'],
    );
  });

  test('links that begin or end that day are named, and their facts are not read as changes', () => {
    const birth = father(migrated('2025-03-01'));
    const adoptive = parent('赵六', 1, 'adoptive', [migrated('2026-03-01')]);
    const before = childOf([birth, mother(migrated('2025-03-01'))]);
    const after: GroupSubject = { ...before, parents: [adoptive, ...before.parents.slice(1)] };
    const history: SubjectHistory = {
      changes: ['2026-03-01'],
      on: (day) => (day < '2026-03-01' ? before : after),
    };
    assert.deepEqual(
      changesOn(history, '2026-03-01').map((t) => t.zh),
      ['与养父赵六的关系自2026-03-01起生效', '与父亲张三的关系于2026-03-01终止'],
    );
  });

  test("a child's birth is named: an elder's only child until then was away", () => {
    const son = somebody('孙强', 1, '1980-01-01', [migrated('2024-01-01')]);
    const baby = somebody('孙小宝', 2, '2026-09-09');
    const subject = elder('1955-03-01', [], [son, baby]);
    assert.deepEqual(changesOn(subject, '2026-09-09'), [
      { zh: '子女孙小宝出生(2026-09-09)', en: 'child 孙小宝 born on 2026-09-09' },
    ]);
  });

  test('nothing that the rules read changed: no reason is made up', () => {
    const child = childOf([father(migrated('2025-03-01')), mother(migrated('2025-03-01'))]);
    assert.deepEqual(changesOn(child, '2026-08-08'), []);
  });
});
