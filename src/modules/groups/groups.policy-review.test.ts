// A policy review of the group rules against DOMAIN.md section 2, clause by clause, with the cases a county
// civil-affairs clerk checks: boundaries, each parent type and state, the groups that exclude or include
// each other, the reasons' facts and dates, and configuration honoured in every rule.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import type { IsoDate } from '../../platform/dates.ts';
import type {
  DisabilityCategory,
  DisabilityGrade,
  Fact,
  LibertyRestrictionType,
  SelfCareLevel,
} from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { somebody, withConfig } from '../../../test/support/group-subjects.ts';
import type { GroupsConfig } from './groups.config.ts';
import {
  deFactoUnsupportedChild,
  disabledElderly,
  distressedChild,
  evaluateGroups,
  explainLeftBehindChild,
  formatReasons,
  highAgeElderly,
  leftBehindChild,
  leftBehindElderly,
  leftBehindWoman,
  orphan,
  specialDifficultyElderly,
} from './groups.rules.ts';
import type {
  GroupMembership,
  GroupSubject,
  ParentSnapshot,
  ParentType,
  PersonSnapshot,
} from './groups.rules.ts';

const AS_OF = '2026-11-29';
const config = DEFAULT_GROUPS_CONFIG;

const parent = (name: string, sex: 1 | 2, parentType: ParentType, facts: Fact[]): ParentSnapshot => ({
  ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts),
  parentType,
});
const father = (...facts: Fact[]) => parent('张三', 1, 'biological', facts);
const mother = (...facts: Fact[]) => parent('李梅', 2, 'biological', facts);
const adoptiveFather = (...facts: Fact[]) => parent('王强', 1, 'adoptive', facts);
const adoptiveMother = (...facts: Fact[]) => parent('赵芳', 2, 'adoptive', facts);
const stepMother = (...facts: Fact[]) => parent('孙继', 2, 'step', facts);

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
function wife(birthDate: IsoDate, husband: PersonSnapshot, facts: Fact[] = []): GroupSubject {
  return { person: somebody('周丽', 2, birthDate, facts), parents: [], spouse: husband, children: [] };
}
const husband = (...facts: Fact[]) => somebody('吴刚', 1, '1988-01-01', facts);
const son = (...facts: Fact[]) => somebody('孙强', 1, '1980-01-01', facts);

const migrated = (from: IsoDate, to: IsoDate | null = null): Fact => ({
  kind: 'migration',
  from,
  to,
  data: {},
});
const died = (date: IsoDate): Fact => ({ kind: 'death', from: date, to: null, data: {} });
const declaredMissing = (date: IsoDate): Fact => ({
  kind: 'declared_missing',
  from: date,
  to: null,
  data: {},
});
const declaredDead = (date: IsoDate): Fact => ({ kind: 'declared_dead', from: date, to: null, data: {} });
const lostContact = (from: IsoDate, policeReportDate: IsoDate): Fact => ({
  kind: 'lost_contact',
  from,
  to: null,
  data: { policeReportDate },
});
const restricted = (
  type: LibertyRestrictionType,
  from: IsoDate,
  expectedEnd: IsoDate | null = null,
  to: IsoDate | null = null,
): Fact => ({ kind: 'liberty_restriction', from, to, data: { type, expectedEnd } });
const disabled = (category: DisabilityCategory, grade: DisabilityGrade, from: IsoDate): Fact => ({
  kind: 'disability',
  from,
  to: null,
  data: { category, grade },
});
const seriouslyIll = (from: IsoDate): Fact => ({ kind: 'serious_illness', from, to: null, data: {} });
const revoked = (from: IsoDate): Fact => ({ kind: 'guardianship_revoked', from, to: null, data: {} });
const deported = (from: IsoDate): Fact => ({ kind: 'deported', from, to: null, data: {} });
const selfCare = (level: SelfCareLevel, from: IsoDate): Fact => ({
  kind: 'self_care',
  from,
  to: null,
  data: { level },
});

function member(membership: GroupMembership | null): GroupMembership {
  assert.ok(membership, 'expected a membership');
  return membership;
}
const zh = (membership: GroupMembership | null) => formatReasons(member(membership), 'zh');
const codes = (subject: GroupSubject, asOf: IsoDate = AS_OF, cfg: GroupsConfig = config) =>
  evaluateGroups(subject, asOf, cfg).map((m) => m.code);

describe('left_behind_child: the other parent unable to act as guardian, each way', () => {
  test('one parent dead and the other migrant: left behind (not de facto unsupported, not an orphan)', () => {
    const subject = childOf([father(died('2021-03-04')), mother(migrated('2024-05-06'))]);
    const found = member(leftBehindChild(subject, AS_OF, config));
    assert.equal(found.since, '2024-05-06');
    assert.match(zh(found), /母亲李梅外出务工自2024-05-06/);
    assert.match(zh(found), /父亲张三死亡\(2021-03-04\)/);
    assert.deepEqual(codes(subject), ['left_behind_child']);
  });

  test('one parent declared missing or declared dead and the other migrant: left behind', () => {
    for (const gone of [declaredMissing('2022-01-01'), declaredDead('2022-01-01')]) {
      const subject = childOf([father(gone), mother(migrated('2024-05-06'))]);
      assert.equal(member(leftBehindChild(subject, AS_OF, config)).since, '2024-05-06');
    }
  });

  test('the other parent in compulsory drug rehabilitation: left behind from the first day (default 0 months)', () => {
    const subject = childOf([
      father(restricted('drug_rehabilitation', '2026-11-20')),
      mother(migrated('2024-05-06')),
    ]);
    const found = member(leftBehindChild(subject, AS_OF, config));
    assert.equal(found.since, '2026-11-20');
    assert.match(zh(found), /父亲张三强制隔离戒毒自2026-11-20/);
  });

  test('the other parent lost contact counts from the police report, not from the day contact was lost', () => {
    const subject = childOf([
      father(lostContact('2026-06-01', '2026-07-15')),
      mother(migrated('2024-05-06')),
    ]);
    const found = member(leftBehindChild(subject, AS_OF, config));
    assert.equal(found.since, '2026-07-15');
    assert.match(zh(found), /报警日期2026-07-15/);
  });

  test('a step-mother at home does not stop a child with a dead mother and a migrant father being left behind', () => {
    const subject = childOf([father(migrated('2024-05-06')), mother(died('2020-01-01')), stepMother()]);
    assert.ok(leftBehindChild(subject, AS_OF, config));
  });

  test('a configured age of 14 is honoured by the rule and by the ledger answers', () => {
    const subject = childOf([father(migrated('2024-05-06')), mother(migrated('2024-05-06'))], '2012-11-29');
    const fourteen = withConfig({ leftBehindChildUnderAge: 14 });
    assert.ok(leftBehindChild(subject, '2026-11-28', fourteen));
    assert.equal(leftBehindChild(subject, '2026-11-29', fourteen), null);
    const answers = explainLeftBehindChild(subject, '2026-11-29', fourteen);
    assert.equal(answers.leftBehindChild.holds, false);
    assert.match(answers.leftBehindChild.reasons.map((r) => r.zh).join('; '), /已满14周岁\(2012-11-29出生\)/);
  });
});

describe('de_facto_unsupported_child: the eight states and their durations', () => {
  test('both parents guardianship revoked, or both deported: de facto unsupported (MCA2020-125)', () => {
    assert.ok(
      deFactoUnsupportedChild(
        childOf([father(revoked('2024-01-01')), mother(revoked('2024-02-01'))]),
        AS_OF,
        config,
      ),
    );
    assert.ok(
      deFactoUnsupportedChild(
        childOf([father(deported('2024-01-01')), mother(deported('2024-02-01'))]),
        AS_OF,
        config,
      ),
    );
  });

  test('lost contact: 6 months from the police report, not from the day contact was lost', () => {
    const subject = childOf([father(died('2020-01-01')), mother(lostContact('2025-01-01', '2025-03-01'))]);
    assert.equal(deFactoUnsupportedChild(subject, '2025-08-31', config), null);
    const found = member(deFactoUnsupportedChild(subject, '2025-09-01', config));
    assert.equal(found.since, '2025-09-01');
  });

  test('a sentence expected to last a year but ended after two months never lasted 6 months: not a state', () => {
    // DOMAIN.md section 2: "serving a sentence, compulsory drug rehabilitation, other liberty restriction
    // (these three lasting 6 months or more)". The release is recorded: the restriction lasted two months.
    const shortSentence = restricted('sentence', '2025-01-01', '2026-01-01', '2025-03-01');
    const subject = childOf([father(died('2020-01-01')), mother(shortSentence)]);
    assert.equal(deFactoUnsupportedChild(subject, '2025-02-01', config), null);
    assert.deepEqual(codes(subject, '2025-02-01'), []);
  });

  test('a restriction whose recorded end is 6 months or more after its start counts from its start', () => {
    const served = restricted('sentence', '2025-01-01', '2025-03-01', '2025-07-01');
    const subject = childOf([father(died('2020-01-01')), mother(served)]);
    assert.equal(member(deFactoUnsupportedChild(subject, '2025-02-01', config)).since, '2025-01-01');
    const shortByADay = restricted('sentence', '2025-01-01', '2026-01-01', '2025-06-30');
    assert.equal(
      deFactoUnsupportedChild(
        childOf([father(died('2020-01-01')), mother(shortByADay)]),
        '2025-02-01',
        config,
      ),
      null,
    );
  });

  test('a sentence followed at once by drug rehabilitation: the reason names each with its own start', () => {
    const subject = childOf([
      father(died('2020-01-01')),
      mother(
        restricted('sentence', '2022-01-01', '2024-01-01', '2024-01-01'),
        restricted('drug_rehabilitation', '2024-01-01', '2026-01-01'),
      ),
    ]);
    const found = member(deFactoUnsupportedChild(subject, '2025-06-01', config));
    assert.equal(found.since, '2022-01-01');
    const reasons = zh(found);
    assert.match(reasons, /母亲李梅强制隔离戒毒自2024-01-01/, reasons);
    assert.doesNotMatch(reasons, /强制隔离戒毒自2022-01-01/, reasons);
  });

  test('one parent dead and the other migrant is not de facto unsupported', () => {
    assert.equal(
      deFactoUnsupportedChild(
        childOf([father(died('2020-01-01')), mother(migrated('2024-01-01'))]),
        AS_OF,
        config,
      ),
      null,
    );
  });

  test('severe disability follows the configured categories and grades', () => {
    const subject = childOf([father(died('2020-01-01')), mother(disabled(4, 3, '2023-01-01'))]);
    assert.equal(deFactoUnsupportedChild(subject, AS_OF, config), null);
    assert.ok(deFactoUnsupportedChild(subject, AS_OF, withConfig({ severeDisabilityMaxGrade: 3 })));
    const multiple = childOf([father(died('2020-01-01')), mother(disabled(7, 3, '2023-01-01'))]);
    assert.equal(deFactoUnsupportedChild(multiple, AS_OF, config), null);
    assert.ok(
      deFactoUnsupportedChild(
        multiple,
        AS_OF,
        withConfig({ severeDisabilityCognitiveCategories: [5, 6, 7] }),
      ),
    );
  });

  test('a configured minor age of 17 is honoured by de facto unsupported, orphan and distressed', () => {
    const seventeen = withConfig({ minorUnderAge: 17 });
    const unsupported = childOf(
      [father(died('2020-01-01')), mother(seriouslyIll('2023-01-01'))],
      '2009-11-29',
    );
    assert.ok(deFactoUnsupportedChild(unsupported, '2026-11-28', seventeen));
    assert.equal(deFactoUnsupportedChild(unsupported, AS_OF, seventeen), null);
    const orphaned = childOf([father(died('2020-01-01')), mother(died('2021-01-01'))], '2009-11-29');
    assert.ok(orphan(orphaned, '2026-11-28', seventeen));
    assert.equal(orphan(orphaned, AS_OF, seventeen), null);
    const poor = childOf([father(), mother()], '2009-11-29', [
      { kind: 'assistance', from: '2020-01-01', to: null, data: { program: 'dibao' } },
    ]);
    assert.ok(distressedChild(poor, '2026-11-28', seventeen));
    assert.equal(distressedChild(poor, AS_OF, seventeen), null);
  });
});

describe('orphan and its conflicts', () => {
  test('both adoptive parents dead, birth parents alive: an orphan (adoption ends the birth relation)', () => {
    const subject = childOf([
      father(),
      mother(),
      adoptiveFather(died('2021-01-01')),
      adoptiveMother(died('2022-01-01')),
    ]);
    assert.equal(member(orphan(subject, AS_OF, config)).since, '2022-01-01');
    assert.deepEqual(codes(subject), ['orphan']);
  });

  test('one parent dead and the other declared missing, with a state recorded: an orphan only', () => {
    const subject = childOf([
      father(died('2021-01-01')),
      mother(declaredMissing('2022-01-01'), seriouslyIll('2020-01-01')),
    ]);
    assert.deepEqual(codes(subject), ['orphan']);
  });
});

describe('distressed_child: sub-categories', () => {
  test('disability of any grade is own disability; near-dibao is family poverty; both are kept', () => {
    const subject = childOf([father(), mother()], '2015-06-15', [
      disabled(2, 4, '2019-01-01'),
      { kind: 'assistance', from: '2021-01-01', to: null, data: { program: 'near_dibao' } },
    ]);
    const found = member(distressedChild(subject, AS_OF, config));
    assert.equal(found.subCategory, 'poverty,disability');
    assert.equal(found.since, '2019-01-01');
  });
});

describe('left_behind_elderly and left_behind_woman: living in the village', () => {
  test('an elder who is himself away for work does not live in the village: not left behind', () => {
    // DOMAIN.md section 2: "60 or older; rural, lives in the village; ..."; a migration fact is work away
    // from the hukou county (section 1).
    const subject = elder('1960-01-01', [migrated('2024-03-01')], [son(migrated('2020-01-01'))]);
    assert.equal(leftBehindElderly(subject, AS_OF, config), null);
    assert.doesNotMatch(codes(subject).join(','), /left_behind_elderly/);
  });

  test('an elder who came home counts from the return', () => {
    const subject = elder(
      '1960-01-01',
      [migrated('2022-03-01', '2024-03-01')],
      [son(migrated('2020-01-01'))],
    );
    const found = member(leftBehindElderly(subject, AS_OF, config));
    assert.equal(found.since, '2024-03-01');
  });

  test('a wife who works away herself (with her husband) is not a left-behind woman', () => {
    // DOMAIN.md section 2: "female; married and living in the village; husband migrant for 6 months or more".
    const subject = wife('1990-05-05', husband(migrated('2023-01-01')), [migrated('2023-01-01')]);
    assert.equal(leftBehindWoman(subject, AS_OF, config), null);
  });

  test('a wife who came home counts from her return (or her husband’s 6 months, the later)', () => {
    const subject = wife('1990-05-05', husband(migrated('2023-01-01')), [
      migrated('2023-01-01', '2025-04-01'),
    ]);
    assert.equal(member(leftBehindWoman(subject, AS_OF, config)).since, '2025-04-01');
  });

  test('husband migrant 6 months: counted from the migration start (31 August + 6 months = 28 February)', () => {
    const subject = wife('1990-05-05', husband(migrated('2025-08-31')));
    assert.equal(leftBehindWoman(subject, '2026-02-27', config), null);
    assert.equal(member(leftBehindWoman(subject, '2026-02-28', config)).since, '2026-02-28');
  });

  test('a configured age range 20-59 is inclusive at both ends: in on the 59th year, out on the 60th birthday', () => {
    const range = withConfig({ leftBehindWomanAgeRange: { minAge: 20, maxAge: 59 } });
    const subject = wife('1966-11-29', husband(migrated('2020-01-01')));
    assert.ok(leftBehindWoman(subject, '2026-11-28', range));
    assert.equal(leftBehindWoman(subject, '2026-11-29', range), null);
  });

  test('the elder’s child migrant since a joined stretch counts 6 months from the first record', () => {
    const subject = elder(
      '1960-01-01',
      [],
      [son(migrated('2026-01-01', '2026-04-01'), migrated('2026-04-01'))],
    );
    assert.equal(leftBehindElderly(subject, '2026-06-30', config), null);
    assert.equal(member(leftBehindElderly(subject, '2026-07-01', config)).since, '2026-07-01');
  });
});

describe('elderly thresholds from the configuration', () => {
  test('high-age bands configured 70/85: band and threshold follow the configuration', () => {
    const bands = withConfig({ highAgeBandStarts: [70, 85] });
    const subject = elder('1946-11-29');
    assert.equal(highAgeElderly(subject, '2016-11-28', bands), null);
    const found = member(highAgeElderly(subject, AS_OF, bands));
    assert.equal(found.subCategory, '70-84');
    assert.equal(found.since, '2016-11-29');
  });

  test('disabled elderly with mild loss configured counts mild; the special-difficulty ground follows', () => {
    const subject = elder('1950-01-01', [selfCare('mild', '2024-01-01')]);
    assert.equal(disabledElderly(subject, AS_OF, config), null);
    const mild = withConfig({ disabledElderlySelfCareLevels: ['mild', 'moderate', 'severe'] });
    assert.ok(disabledElderly(subject, AS_OF, mild));
    assert.equal(member(specialDifficultyElderly(subject, AS_OF, mild)).subCategory, 'disabled');
  });

  test('an elderly age of 65 moves every elderly rule', () => {
    const sixtyFive = withConfig({ elderlyMinAge: 65 });
    const subject = elder('1962-11-29', [selfCare('severe', '2024-01-01')], [son(migrated('2020-01-01'))]);
    assert.deepEqual(codes(subject, AS_OF, sixtyFive), []);
    assert.deepEqual(codes(subject, '2027-11-29', sixtyFive), [
      'left_behind_elderly',
      'disabled_elderly',
      'special_difficulty_elderly',
    ]);
  });
});
