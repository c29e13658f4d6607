import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';

import type { IsoDate } from '../../platform/dates.ts';
import type {
  AssistanceProgram,
  DisabilityCategory,
  DisabilityGrade,
  Fact,
  GuardianshipFailureType,
  LibertyRestrictionType,
  LivingArrangement,
  SelfCareLevel,
} from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { somebody, withConfig } from '../../../test/support/group-subjects.ts';
import {
  deFactoUnsupportedChild,
  disabledElderly,
  distressedChild,
  evaluateGroups,
  formatReasons,
  highAgeElderly,
  leftBehindChild,
  leftBehindElderly,
  leftBehindWoman,
  orphan,
  specialDifficultyElderly,
  RULE_FACT_KINDS,
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

// --- Builders ---

function parent(name: string, sex: 1 | 2, facts: Fact[], parentType: ParentType): ParentSnapshot {
  return { ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts), parentType };
}
const father = (...facts: Fact[]) => parent('张三', 1, facts, 'biological');
const mother = (...facts: Fact[]) => parent('李梅', 2, facts, 'biological');
const adoptiveFather = (...facts: Fact[]) => parent('王强', 1, facts, 'adoptive');
const adoptiveMother = (...facts: Fact[]) => parent('赵芳', 2, facts, 'adoptive');
const stepFather = (...facts: Fact[]) => parent('钱继', 1, facts, 'step');

interface ChildOptions {
  birthDate?: IsoDate;
  facts?: Fact[];
  ruralHukou?: boolean;
  livesInHukouVillage?: boolean;
}

function childOf(parents: ParentSnapshot[], options: ChildOptions = {}): GroupSubject {
  const { birthDate = '2015-06-15', facts = [], ...more } = options;
  return { person: somebody('小明', 1, birthDate, facts, more), parents, spouse: null, children: [] };
}

function elder(
  birthDate: IsoDate,
  facts: Fact[] = [],
  relatives: { children?: PersonSnapshot[]; spouse?: PersonSnapshot | null; sex?: 1 | 2 } = {},
  more: Partial<PersonSnapshot> = {},
): GroupSubject {
  return {
    person: somebody('孙大爷', relatives.sex ?? 1, birthDate, facts, more),
    parents: [],
    spouse: relatives.spouse ?? null,
    children: relatives.children ?? [],
  };
}

const son = (name: string, ...facts: Fact[]) => somebody(name, 1, '1980-01-01', facts);
const daughter = (name: string, ...facts: Fact[]) => somebody(name, 2, '1982-01-01', facts);

function woman(birthDate: IsoDate, husband: PersonSnapshot | null, more: Partial<PersonSnapshot> = {}) {
  return { person: somebody('周丽', 2, birthDate, [], more), parents: [], spouse: husband, children: [] };
}
const husband = (...facts: Fact[]) => somebody('吴刚', 1, '1988-01-01', facts);

// Facts
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
const lostContact = (policeReportDate: IsoDate): Fact => ({
  kind: 'lost_contact',
  from: policeReportDate,
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
const guardianshipRevoked = (from: IsoDate): Fact => ({
  kind: 'guardianship_revoked',
  from,
  to: null,
  data: {},
});
const deported = (from: IsoDate): Fact => ({ kind: 'deported', from, to: null, data: {} });
const assisted = (program: AssistanceProgram, from: IsoDate, to: IsoDate | null = null): Fact => ({
  kind: 'assistance',
  from,
  to,
  data: { program },
});
const guardianshipFailed = (type: GuardianshipFailureType, from: IsoDate): Fact => ({
  kind: 'guardianship_failure',
  from,
  to: null,
  data: { type },
});
const selfCare = (level: SelfCareLevel, from: IsoDate): Fact => ({
  kind: 'self_care',
  from,
  to: null,
  data: { level },
});
const living = (value: LivingArrangement, from: IsoDate): Fact => ({
  kind: 'living_arrangement',
  from,
  to: null,
  data: { value },
});
const familyPlanningSpecial = (from: IsoDate): Fact => ({
  kind: 'family_planning_special',
  from,
  to: null,
  data: {},
});

function member(membership: GroupMembership | null): GroupMembership {
  assert.ok(membership, 'expected a membership');
  return membership;
}

function reasonsZh(membership: GroupMembership | null): string {
  return formatReasons(member(membership), 'zh');
}

// --- 农村留守儿童 ---

describe('left-behind child (SC2016-13)', () => {
  const bothAway = () => [father(migrated('2025-03-01')), mother(migrated('2025-06-10'))];

  test('both parents migrant: member since the later departure, with the facts as reasons', () => {
    const membership = member(leftBehindChild(childOf(bothAway()), AS_OF, config));
    assert.equal(membership.code, 'left_behind_child');
    assert.equal(membership.since, '2025-06-10');
    assert.equal(
      formatReasons(membership, 'zh'),
      '未满16周岁(2015-06-15出生); 父亲张三外出务工自2025-03-01; 母亲李梅外出务工自2025-06-10',
    );
    assert.equal(
      formatReasons(membership, 'en'),
      'under 16 (born 2015-06-15); father 张三 migrant since 2025-03-01; mother 李梅 migrant since 2025-06-10',
    );
  });

  test('the day before the 16th birthday a member, on the birthday no longer', () => {
    const subject = childOf(bothAway(), { birthDate: '2010-11-29' });
    assert.ok(leftBehindChild(subject, '2026-11-28', config));
    assert.equal(leftBehindChild(subject, '2026-11-29', config), null);
  });

  test('urban hukou or living away from the hukou village: not a member', () => {
    assert.equal(leftBehindChild(childOf(bothAway(), { ruralHukou: false }), AS_OF, config), null);
    assert.equal(leftBehindChild(childOf(bothAway(), { livesInHukouVillage: false }), AS_OF, config), null);
  });

  test('a child who migrated with a parent is not left behind', () => {
    const subject = childOf(bothAway(), { facts: [migrated('2025-03-01')] });
    assert.equal(leftBehindChild(subject, AS_OF, config), null);
  });

  test('a child who came back to the village counts from the return', () => {
    const subject = childOf(bothAway(), { facts: [migrated('2025-03-01', '2026-02-01')] });
    const membership = member(leftBehindChild(subject, AS_OF, config));
    assert.equal(membership.since, '2026-02-01');
    assert.match(reasonsZh(membership), /本人外出于2026-02-01结束/);
  });

  test('one parent migrant and the other at home: not a member', () => {
    assert.equal(leftBehindChild(childOf([father(migrated('2025-03-01')), mother()]), AS_OF, config), null);
  });

  test('a parent who came home is no longer migrant', () => {
    const parents = [father(migrated('2025-03-01', '2026-10-01')), mother(migrated('2025-06-10'))];
    assert.equal(leftBehindChild(childOf(parents), AS_OF, config), null);
  });

  const otherParentUnable: [string, Fact, string, IsoDate][] = [
    ['dead', died('2021-03-04'), '父亲张三死亡(2021-03-04)', '2025-06-10'],
    ['declared missing', declaredMissing('2022-01-05'), '父亲张三被宣告失踪(2022-01-05)', '2025-06-10'],
    ['declared dead', declaredDead('2022-02-06'), '父亲张三被宣告死亡(2022-02-06)', '2025-06-10'],
    ['lost contact, reported the day before', lostContact('2026-11-28'), '报警日期2026-11-28', '2026-11-28'],
    [
      'serving a short sentence',
      restricted('sentence', '2026-10-01', '2026-12-31'),
      '父亲张三服刑在押自2026-10-01(预计2026-12-31结束)',
      '2026-10-01',
    ],
    [
      'in compulsory drug rehabilitation',
      restricted('drug_rehabilitation', '2026-01-10'),
      '父亲张三强制隔离戒毒自2026-01-10',
      '2026-01-10',
    ],
    [
      'under another liberty restriction',
      restricted('other', '2026-11-01'),
      '父亲张三其他限制人身自由自2026-11-01',
      '2026-11-01',
    ],
    [
      'guardianship revoked',
      guardianshipRevoked('2023-04-05'),
      '父亲张三被撤销监护资格自2023-04-05',
      '2025-06-10',
    ],
    [
      'severely disabled',
      disabled(4, 2, '2019-07-08'),
      '父亲张三重度残疾(肢体二级)自2019-07-08',
      '2025-06-10',
    ],
    ['seriously ill', seriouslyIll('2025-09-10'), '父亲张三患重病自2025-09-10', '2025-09-10'],
    ['deported', deported('2023-05-06'), '父亲张三被遣送(驱逐)出境自2023-05-06', '2025-06-10'],
  ];
  for (const [state, fact, reason, since] of otherParentUnable) {
    test(`mother migrant and father unable to act as guardian (${state}): member`, () => {
      const membership = member(
        leftBehindChild(childOf([father(fact), mother(migrated('2025-06-10'))]), AS_OF, config),
      );
      assert.equal(membership.since, since);
      assert.ok(reasonsZh(membership).includes('母亲李梅外出务工自2025-06-10'));
      assert.ok(reasonsZh(membership).includes(reason), reasonsZh(membership));
    });
  }

  test('the other parent with a grade 3 physical disability can still act as guardian', () => {
    const parents = [father(disabled(4, 3, '2019-07-08')), mother(migrated('2025-06-10'))];
    assert.equal(leftBehindChild(childOf(parents), AS_OF, config), null);
  });

  test('the other parent with a grade 3 intellectual disability cannot', () => {
    const parents = [father(disabled(5, 3, '2019-07-08')), mother(migrated('2025-06-10'))];
    assert.ok(leftBehindChild(childOf(parents), AS_OF, config));
  });

  test('with the eight-state durations configured, a short liberty restriction of the other parent does not count', () => {
    const parents = [
      father(restricted('sentence', '2026-10-01', '2026-12-31')),
      mother(migrated('2025-06-10')),
    ];
    const sixMonths = withConfig({ leftBehindChildOtherParentMinMonths: 6 });
    assert.equal(leftBehindChild(childOf(parents), AS_OF, sixMonths), null);
  });

  test('with a 6-month migration threshold: not on 6 months less a day, a member on the day', () => {
    const sixMonths = withConfig({ leftBehindChildMinMigrationMonths: 6 });
    const subject = childOf([father(migrated('2025-03-01')), mother(migrated('2025-03-01'))]);
    assert.equal(leftBehindChild(subject, '2025-08-31', sixMonths), null);
    const membership = member(leftBehindChild(subject, '2025-09-01', sixMonths));
    assert.equal(membership.since, '2025-09-01');
    assert.match(reasonsZh(membership), /父亲张三外出务工自2025-03-01\(已满6个月\)/);
  });

  test('a child born after the parents left counts from birth', () => {
    const membership = member(
      leftBehindChild(childOf(bothAway(), { birthDate: '2025-12-24' }), AS_OF, config),
    );
    assert.equal(membership.since, '2025-12-24');
  });

  test('a change of destination does not restart the migration', () => {
    const parents = [
      father(migrated('2024-01-01', '2025-01-01'), migrated('2025-01-01')),
      mother(migrated('2024-02-01')),
    ];
    assert.equal(member(leftBehindChild(childOf(parents), AS_OF, config)).since, '2024-02-01');
  });

  test('adoptive parents replace the biological ones', () => {
    const biologicalAway = [father(migrated('2025-03-01')), mother(migrated('2025-06-10'))];
    const adoptiveAtHome = childOf([...biologicalAway, adoptiveFather(), adoptiveMother()]);
    assert.equal(leftBehindChild(adoptiveAtHome, AS_OF, config), null);

    const adoptiveAway = childOf([
      father(),
      mother(),
      adoptiveFather(migrated('2025-04-01')),
      adoptiveMother(migrated('2025-05-01')),
    ]);
    const membership = member(leftBehindChild(adoptiveAway, AS_OF, config));
    assert.equal(membership.since, '2025-05-01');
    assert.match(reasonsZh(membership), /父亲王强外出务工自2025-04-01; 母亲赵芳外出务工自2025-05-01/);
  });

  test('a step-parent is not counted, and an absent parent record triggers nothing', () => {
    const onlyMother = childOf([mother(migrated('2025-06-10'))]);
    assert.equal(leftBehindChild(onlyMother, AS_OF, config), null);
    const withStepFather = childOf([mother(migrated('2025-06-10')), stepFather(migrated('2025-03-01'))]);
    assert.equal(leftBehindChild(withStepFather, AS_OF, config), null);
  });
});

// --- 事实无人抚养儿童 and 孤儿 ---

describe('de facto unsupported child (MCA2019-62, MCA2020-125)', () => {
  const fatherDead = () => father(died('2020-01-10'));

  const eightStates: [string, Fact, string, IsoDate][] = [
    [
      'severe disability',
      disabled(1, 1, '2022-03-01'),
      '母亲李梅重度残疾(视力一级)自2022-03-01',
      '2022-03-01',
    ],
    ['serious illness', seriouslyIll('2023-04-02'), '母亲李梅患重病自2023-04-02', '2023-04-02'],
    [
      'serving a sentence',
      restricted('sentence', '2024-01-15', '2029-01-14'),
      '母亲李梅服刑在押自2024-01-15(预计2029-01-14结束)',
      '2024-01-15',
    ],
    [
      'compulsory drug rehabilitation',
      restricted('drug_rehabilitation', '2026-01-10', '2028-01-09'),
      '母亲李梅强制隔离戒毒自2026-01-10(预计2028-01-09结束)',
      '2026-01-10',
    ],
    [
      'another liberty restriction',
      restricted('other', '2026-03-01'),
      '母亲李梅其他限制人身自由自2026-03-01(已满6个月)',
      '2026-09-01',
    ],
    ['lost contact', lostContact('2025-12-01'), '母亲李梅失联，报警日期2025-12-01(已满6个月)', '2026-06-01'],
    [
      'guardianship revoked',
      guardianshipRevoked('2025-02-03'),
      '母亲李梅被撤销监护资格自2025-02-03',
      '2025-02-03',
    ],
    ['deported', deported('2025-03-04'), '母亲李梅被遣送(驱逐)出境自2025-03-04', '2025-03-04'],
  ];
  for (const [state, fact, reason, since] of eightStates) {
    test(`father dead and mother in the state "${state}": member`, () => {
      const membership = member(
        deFactoUnsupportedChild(childOf([fatherDead(), mother(fact)]), AS_OF, config),
      );
      assert.equal(membership.code, 'de_facto_unsupported_child');
      assert.equal(membership.since, since);
      assert.equal(
        formatReasons(membership, 'zh'),
        `未满18周岁(2015-06-15出生); 父亲张三死亡(2020-01-10); ${reason}`,
      );
    });
  }

  test('father declared missing and mother seriously ill: member', () => {
    const subject = childOf([father(declaredMissing('2021-05-05')), mother(seriouslyIll('2023-04-02'))]);
    assert.equal(member(deFactoUnsupportedChild(subject, AS_OF, config)).since, '2023-04-02');
  });

  test('both parents each in one of the eight states: member since the later one', () => {
    const subject = childOf([
      father(restricted('sentence', '2024-01-15', '2030-01-14')),
      mother(disabled(6, 4, '2024-08-20')),
    ]);
    const membership = member(deFactoUnsupportedChild(subject, AS_OF, config));
    assert.equal(membership.since, '2024-08-20');
    assert.match(
      reasonsZh(membership),
      /父亲张三服刑在押自2024-01-15.*母亲李梅重度残疾\(精神四级\)自2024-08-20/,
    );
  });

  test('one parent dead and the other able, or migrant: not a member', () => {
    assert.equal(deFactoUnsupportedChild(childOf([fatherDead(), mother()]), AS_OF, config), null);
    assert.equal(
      deFactoUnsupportedChild(childOf([fatherDead(), mother(migrated('2025-01-01'))]), AS_OF, config),
      null,
    );
  });

  test('a dead parent’s open records are no state: dead father with a disability record, able mother', () => {
    const subject = childOf([father(disabled(4, 1, '2015-01-01'), died('2020-01-10')), mother()]);
    assert.equal(deFactoUnsupportedChild(subject, AS_OF, config), null);
  });

  test('grounds that change without a break keep the earlier start: a disabled father who then died', () => {
    const subject = childOf([
      father(disabled(4, 1, '2019-01-01'), died('2024-05-01')),
      mother(seriouslyIll('2020-03-03')),
    ]);
    const membership = member(deFactoUnsupportedChild(subject, AS_OF, config));
    assert.equal(membership.since, '2020-03-03');
    assert.equal(
      formatReasons(membership, 'zh'),
      '未满18周岁(2015-06-15出生); 父亲张三死亡(2024-05-01); 母亲李梅患重病自2020-03-03',
    );
  });

  describe('severe disability: grade 1-2 any category, grade 3-4 intellectual or mental', () => {
    const cases: [DisabilityCategory, DisabilityGrade, boolean][] = [
      [4, 1, true],
      [4, 2, true],
      [2, 2, true],
      [5, 3, true],
      [5, 4, true],
      [6, 3, true],
      [6, 4, true],
      [4, 3, false],
      [4, 4, false],
      [1, 3, false],
      [7, 3, false],
    ];
    for (const [category, grade, severe] of cases) {
      test(`category ${category} grade ${grade}: ${severe ? 'severe' : 'not severe'}`, () => {
        const subject = childOf([fatherDead(), mother(disabled(category, grade, '2022-03-01'))]);
        assert.equal(deFactoUnsupportedChild(subject, AS_OF, config) !== null, severe);
      });
    }
  });

  describe('liberty restriction lasting 6 months or more', () => {
    const withMother = (fact: Fact) => childOf([fatherDead(), mother(fact)]);

    test('expected end exactly 6 months after the start: member from the start', () => {
      const subject = withMother(restricted('sentence', '2026-03-01', '2026-09-01'));
      assert.equal(member(deFactoUnsupportedChild(subject, '2026-04-01', config)).since, '2026-03-01');
    });

    // The expected end is the term's last day, as a judgment states it (自2026-03-01起至2026-08-31止 is six
    // months): 6 months less a day ends on 2026-08-30 (session 14).
    test('expected end 6 months less a day: not a member until it has lasted 6 months', () => {
      const subject = withMother(restricted('sentence', '2026-03-01', '2026-08-30'));
      assert.equal(deFactoUnsupportedChild(subject, '2026-04-01', config), null);
      assert.equal(deFactoUnsupportedChild(subject, '2026-08-31', config), null);
      assert.equal(member(deFactoUnsupportedChild(subject, '2026-09-01', config)).since, '2026-09-01');
    });

    test('no expected end: not on 6 months less a day, a member on the day', () => {
      const subject = withMother(restricted('drug_rehabilitation', '2026-03-01'));
      assert.equal(deFactoUnsupportedChild(subject, '2026-08-31', config), null);
      assert.equal(member(deFactoUnsupportedChild(subject, '2026-09-01', config)).since, '2026-09-01');
    });

    test('a restriction that has ended counts no more', () => {
      const subject = withMother(restricted('sentence', '2024-03-01', '2026-09-01', '2026-06-01'));
      assert.equal(deFactoUnsupportedChild(subject, AS_OF, config), null);
    });
  });

  test('lost contact: not on 6 months less a day since the police report, a member on the day', () => {
    const subject = childOf([fatherDead(), mother(lostContact('2026-03-01'))]);
    assert.equal(deFactoUnsupportedChild(subject, '2026-08-31', config), null);
    assert.equal(member(deFactoUnsupportedChild(subject, '2026-09-01', config)).since, '2026-09-01');
  });

  test('the day before the 18th birthday a member, on the birthday no longer', () => {
    const subject = childOf([fatherDead(), mother(seriouslyIll('2023-04-02'))], { birthDate: '2008-11-29' });
    assert.ok(deFactoUnsupportedChild(subject, '2026-11-28', config));
    assert.equal(deFactoUnsupportedChild(subject, '2026-11-29', config), null);
  });

  test('a child with one parent record only is not a member', () => {
    assert.equal(deFactoUnsupportedChild(childOf([mother(seriouslyIll('2023-04-02'))]), AS_OF, config), null);
  });
});

describe('orphan', () => {
  test('both parents dead: an orphan since the later death, not de facto unsupported', () => {
    const subject = childOf([father(died('2020-01-10')), mother(died('2022-07-07'))]);
    const membership = member(orphan(subject, AS_OF, config));
    assert.equal(membership.since, '2022-07-07');
    assert.equal(
      formatReasons(membership, 'zh'),
      '未满18周岁(2015-06-15出生); 父亲张三死亡(2020-01-10); 母亲李梅死亡(2022-07-07)',
    );
    assert.equal(deFactoUnsupportedChild(subject, AS_OF, config), null);
    assert.deepEqual(
      evaluateGroups(subject, AS_OF, config).map((m) => m.code),
      ['orphan'],
    );
  });

  test('one parent dead, the other declared missing or declared dead: an orphan', () => {
    assert.ok(
      orphan(childOf([father(died('2020-01-10')), mother(declaredMissing('2023-01-01'))]), AS_OF, config),
    );
    assert.ok(
      orphan(childOf([father(declaredDead('2021-01-01')), mother(died('2022-01-01'))]), AS_OF, config),
    );
  });

  test('one parent dead, the other alive: not an orphan', () => {
    assert.equal(orphan(childOf([father(died('2020-01-10')), mother()]), AS_OF, config), null);
  });

  test('a father who died before the birth: an orphan from birth', () => {
    const subject = childOf([father(died('2015-01-10')), mother(died('2015-06-15'))], {
      birthDate: '2015-06-15',
    });
    assert.equal(member(orphan(subject, AS_OF, config)).since, '2015-06-15');
    const posthumous = childOf([father(died('2015-01-10')), mother(died('2014-12-01'))], {
      birthDate: '2015-06-15',
    });
    assert.equal(member(orphan(posthumous, AS_OF, config)).since, '2015-06-15');
  });

  test('the day before the 18th birthday an orphan, on the birthday no longer', () => {
    const subject = childOf([father(died('2020-01-10')), mother(died('2022-07-07'))], {
      birthDate: '2008-11-29',
    });
    assert.ok(orphan(subject, '2026-11-28', config));
    assert.equal(orphan(subject, '2026-11-29', config), null);
  });

  test('a child whose birth parents died but whose adoptive parents live is not an orphan', () => {
    const subject = childOf([
      father(died('2016-01-10')),
      mother(died('2016-01-10')),
      adoptiveFather(),
      adoptiveMother(),
    ]);
    assert.equal(orphan(subject, AS_OF, config), null);
  });

  test('a mother dead and no father on record: not an orphan by this rule', () => {
    assert.equal(orphan(childOf([mother(died('2020-01-10'))]), AS_OF, config), null);
  });
});

// --- 困境儿童 ---

describe('distressed child (SC2016-36)', () => {
  const child = (...facts: Fact[]) => childOf([father(), mother()], { facts });

  const grounds: [string, Fact, string, string][] = [
    ['dibao', assisted('dibao', '2024-01-01'), 'poverty', '家庭经济困难(本人: 低保)自2024-01-01'],
    ['tekun', assisted('tekun', '2024-01-01'), 'poverty', '家庭经济困难(本人: 特困供养)自2024-01-01'],
    [
      'near-dibao',
      assisted('near_dibao', '2024-01-01'),
      'poverty',
      '家庭经济困难(本人: 低保边缘)自2024-01-01',
    ],
    [
      'own disability of any grade',
      disabled(4, 4, '2024-01-01'),
      'disability',
      '本人残疾(肢体四级)自2024-01-01',
    ],
    [
      'neglect found by a protection case',
      guardianshipFailed('neglect', '2024-01-01'),
      'guardianship_failure',
      '保护个案认定监护缺失或不当(疏于照料)自2024-01-01',
    ],
  ];
  for (const [ground, fact, subCategory, reason] of grounds) {
    test(`${ground}: member with sub-category ${subCategory}`, () => {
      const membership = member(distressedChild(child(fact), AS_OF, config));
      assert.equal(membership.subCategory, subCategory);
      assert.equal(membership.since, '2024-01-01');
      assert.ok(reasonsZh(membership).includes(reason), reasonsZh(membership));
    });
  }

  test('several grounds: every sub-category, since the first', () => {
    const membership = member(
      distressedChild(
        child(
          disabled(5, 2, '2023-05-01'),
          assisted('dibao', '2024-01-01'),
          guardianshipFailed('abuse', '2025-02-02'),
        ),
        AS_OF,
        config,
      ),
    );
    assert.equal(membership.subCategory, 'poverty,disability,guardianship_failure');
    assert.equal(membership.since, '2023-05-01');
  });

  test('one ground taking over from another without a break keeps the earlier start; after a gap it does not', () => {
    const unbroken = child(assisted('dibao', '2020-01-01', '2024-01-01'), disabled(4, 4, '2023-05-01'));
    const membership = member(distressedChild(unbroken, AS_OF, config));
    assert.equal(membership.since, '2020-01-01');
    assert.equal(membership.subCategory, 'disability');
    const withGap = child(assisted('dibao', '2020-01-01', '2022-01-01'), disabled(4, 4, '2023-05-01'));
    assert.equal(member(distressedChild(withGap, AS_OF, config)).since, '2023-05-01');
  });

  test('no ground, or assistance that has ended: not a member', () => {
    assert.equal(distressedChild(child(), AS_OF, config), null);
    assert.equal(distressedChild(child(assisted('dibao', '2024-01-01', '2026-01-01')), AS_OF, config), null);
  });

  test('the day before the 18th birthday a member, on the birthday no longer', () => {
    const subject = childOf([father(), mother()], {
      birthDate: '2008-11-29',
      facts: [assisted('dibao', '2024-01-01')],
    });
    assert.ok(distressedChild(subject, '2026-11-28', config));
    assert.equal(distressedChild(subject, '2026-11-29', config), null);
  });

  test('a child may be left behind and distressed at once', () => {
    const subject = childOf([father(migrated('2025-03-01')), mother(migrated('2025-06-10'))], {
      facts: [assisted('dibao', '2024-01-01')],
    });
    assert.deepEqual(
      evaluateGroups(subject, AS_OF, config).map((m) => [m.code, m.since]),
      [
        ['left_behind_child', '2025-06-10'],
        ['distressed_child', '2024-01-01'],
      ],
    );
  });
});

// --- 农村留守老年人 ---

describe('left-behind elderly', () => {
  test('every child migrant for 6 months or more: member since the last child reached 6 months', () => {
    const subject = elder('1955-03-01', [], {
      children: [son('孙建国', migrated('2025-03-01')), daughter('孙秀英', migrated('2025-06-10'))],
    });
    const membership = member(leftBehindElderly(subject, AS_OF, config));
    assert.equal(membership.since, '2025-12-10');
    assert.equal(
      formatReasons(membership, 'zh'),
      '年满60周岁(1955-03-01出生); 儿子孙建国外出务工自2025-03-01(已满6个月); 女儿孙秀英外出务工自2025-06-10(已满6个月)',
    );
  });

  test('a child migrant for 6 months less a day: not yet', () => {
    const subject = elder('1955-03-01', [], {
      children: [son('孙建国', migrated('2025-03-01')), daughter('孙秀英', migrated('2025-06-10'))],
    });
    assert.equal(leftBehindElderly(subject, '2025-12-09', config), null);
  });

  test('one child at home and one migrant: not left behind', () => {
    const subject = elder('1955-03-01', [], {
      children: [son('孙建国', migrated('2025-03-01')), daughter('孙秀英')],
    });
    assert.equal(leftBehindElderly(subject, AS_OF, config), null);
  });

  test('no children, or only a dead child: not left behind', () => {
    assert.equal(leftBehindElderly(elder('1955-03-01'), AS_OF, config), null);
    const onlyChildDead = elder('1955-03-01', [], { children: [son('孙建国', died('2020-01-01'))] });
    assert.equal(leftBehindElderly(onlyChildDead, AS_OF, config), null);
  });

  test('a dead child is not counted among the living children', () => {
    const subject = elder('1955-03-01', [], {
      children: [son('孙建国', died('2020-01-01')), daughter('孙秀英', migrated('2025-06-10'))],
    });
    assert.equal(member(leftBehindElderly(subject, AS_OF, config)).since, '2025-12-10');
  });

  test('the day before the 60th birthday not a member, on the birthday a member', () => {
    const subject = elder('1966-11-29', [], { children: [son('孙建国', migrated('2020-03-01'))] });
    assert.equal(leftBehindElderly(subject, '2026-11-28', config), null);
    assert.equal(member(leftBehindElderly(subject, '2026-11-29', config)).since, '2026-11-29');
  });

  test('an elder with urban hukou or living elsewhere is not a rural left-behind elder', () => {
    const children = [son('孙建国', migrated('2020-03-01'))];
    assert.equal(
      leftBehindElderly(elder('1955-03-01', [], { children }, { ruralHukou: false }), AS_OF, config),
      null,
    );
    assert.equal(
      leftBehindElderly(elder('1955-03-01', [], { children }, { livesInHukouVillage: false }), AS_OF, config),
      null,
    );
  });
});

// --- 农村留守妇女 ---

describe('left-behind woman', () => {
  test('husband migrant for 6 months or more: member from the day he reached 6 months', () => {
    const subject = woman('1990-02-02', husband(migrated('2026-05-30')));
    assert.equal(leftBehindWoman(subject, '2026-11-29', config), null);
    const membership = member(leftBehindWoman(subject, '2026-11-30', config));
    assert.equal(membership.since, '2026-11-30');
    assert.equal(formatReasons(membership, 'zh'), '丈夫吴刚外出务工自2026-05-30(已满6个月)');
    assert.equal(formatReasons(membership, 'en'), 'husband 吴刚 migrant since 2026-05-30 (6 months or more)');
  });

  test('husband dead, no spouse, or recorded as not married: not a member', () => {
    assert.equal(
      leftBehindWoman(
        woman('1990-02-02', husband(migrated('2024-01-01'), died('2026-01-01'))),
        AS_OF,
        config,
      ),
      null,
    );
    assert.equal(leftBehindWoman(woman('1990-02-02', null), AS_OF, config), null);
    assert.equal(
      leftBehindWoman(
        woman('1990-02-02', husband(migrated('2024-01-01')), { married: false }),
        AS_OF,
        config,
      ),
      null,
    );
  });

  test('a man whose wife is migrant is not a left-behind woman', () => {
    const wife = somebody('周丽', 2, '1990-02-02', [migrated('2024-01-01')]);
    const subject = { person: somebody('吴刚', 1, '1988-01-01'), parents: [], spouse: wife, children: [] };
    assert.equal(leftBehindWoman(subject, AS_OF, config), null);
  });

  test('a woman living away from her hukou village is not a member', () => {
    const subject = woman('1990-02-02', husband(migrated('2024-01-01')), { livesInHukouVillage: false });
    assert.equal(leftBehindWoman(subject, AS_OF, config), null);
  });

  test('with no age range configured, any age; with a 20-59 range, a woman of 60 is out', () => {
    const sixty = woman('1966-11-29', husband(migrated('2024-01-01')));
    const range = withConfig({ leftBehindWomanAgeRange: { minAge: 20, maxAge: 59 } });
    assert.ok(leftBehindWoman(sixty, AS_OF, config));
    assert.equal(leftBehindWoman(sixty, AS_OF, range), null);
    assert.equal(member(leftBehindWoman(sixty, '2026-11-28', range)).since, '2024-07-01');

    const young = woman('2005-03-15', husband(migrated('2024-01-01')));
    assert.equal(leftBehindWoman(young, '2025-03-14', range), null);
    const membership = member(leftBehindWoman(young, '2025-03-15', range));
    assert.equal(membership.since, '2025-03-15');
    assert.match(
      formatReasons(membership, 'zh'),
      /^20至59周岁\(2005-03-15出生\); 丈夫吴刚外出务工自2024-01-01/,
    );
  });
});

// --- 高龄, 失能, 特殊困难老年人 ---

describe('high-age elderly (MOF2014-113)', () => {
  const aged = (birthDate: IsoDate) => highAgeElderly(elder(birthDate), AS_OF, config);

  test('79 (the day before the 80th birthday): not a member', () => {
    assert.equal(aged('1946-11-30'), null);
  });

  const bands: [number, IsoDate, string][] = [
    [80, '1946-11-29', '80-89'],
    [89, '1937-11-29', '80-89'],
    [90, '1936-11-29', '90-99'],
    [99, '1927-11-29', '90-99'],
    [100, '1926-11-29', '100+'],
  ];
  for (const [age, birthDate, band] of bands) {
    test(`${age}: band ${band}, member since the 80th birthday`, () => {
      const membership = member(aged(birthDate));
      assert.equal(membership.subCategory, band);
      const bornIn = Number(birthDate.slice(0, 4));
      const bandStart = Number(band.replace(/[-+].*$/, ''));
      assert.equal(membership.since, `${bornIn + 80}-11-29`);
      assert.ok(
        reasonsZh(membership).includes(`${band}岁年龄段自${bornIn + bandStart}-11-29`),
        reasonsZh(membership),
      );
    });
  }

  test('the band reason carries the date the band began', () => {
    const membership = member(aged('1936-11-29'));
    assert.equal(formatReasons(membership, 'zh'), '年满80周岁(1936-11-29出生); 90-99岁年龄段自2026-11-29');
  });
});

describe('disabled elderly (MOF2014-113)', () => {
  test('moderate or severe loss of self-care: member', () => {
    const moderate = member(
      disabledElderly(elder('1955-03-01', [selfCare('moderate', '2024-04-04')]), AS_OF, config),
    );
    assert.equal(moderate.since, '2024-04-04');
    assert.equal(formatReasons(moderate, 'zh'), '年满60周岁(1955-03-01出生); 中度失能自2024-04-04');
    const severe = member(
      disabledElderly(elder('1955-03-01', [selfCare('severe', '2010-04-04')]), AS_OF, config),
    );
    assert.equal(severe.since, '2015-03-01');
  });

  test('mild loss or intact self-care: not a member', () => {
    assert.equal(disabledElderly(elder('1955-03-01', [selfCare('mild', '2024-04-04')]), AS_OF, config), null);
    assert.equal(
      disabledElderly(elder('1955-03-01', [selfCare('intact', '2024-04-04')]), AS_OF, config),
      null,
    );
  });

  test('under 60 with severe loss of self-care: not a member', () => {
    assert.equal(
      disabledElderly(elder('1966-11-30', [selfCare('severe', '2024-04-04')]), AS_OF, config),
      null,
    );
  });
});

describe('special-difficulty elderly (ELDERLY2022)', () => {
  const grounds: [string, GroupSubject, string, string][] = [
    ['living alone', elder('1950-01-01', [living('alone', '2023-03-03')]), 'alone', '独居自2023-03-03'],
    [
      'empty nest',
      elder('1950-01-01', [living('spouse_only', '2023-03-03')]),
      'empty_nest',
      '空巢(仅与配偶同住)自2023-03-03',
    ],
    [
      'left-behind elderly',
      elder('1950-01-01', [], { children: [son('孙建国', migrated('2022-09-03'))] }),
      'left_behind',
      '农村留守老年人(自2023-03-03)',
    ],
    [
      'disabled elderly',
      elder('1950-01-01', [selfCare('severe', '2023-03-03')]),
      'disabled',
      '失能老年人(自2023-03-03)',
    ],
    [
      'family-planning special family',
      elder('1950-01-01', [familyPlanningSpecial('2023-03-03')]),
      'family_planning_special',
      '计划生育特殊家庭自2023-03-03',
    ],
  ];
  for (const [ground, subject, subCategory, reason] of grounds) {
    test(`${ground}: member`, () => {
      const membership = member(specialDifficultyElderly(subject, AS_OF, config));
      assert.equal(membership.subCategory, subCategory);
      assert.equal(membership.since, '2023-03-03');
      assert.ok(reasonsZh(membership).includes(reason), reasonsZh(membership));
    });
  }

  test('living with children and none of the grounds: not a member', () => {
    assert.equal(
      specialDifficultyElderly(elder('1950-01-01', [living('with_children', '2020-01-01')]), AS_OF, config),
      null,
    );
  });

  test('under 60 and living alone: not a member; the grounds count from the 60th birthday', () => {
    assert.equal(
      specialDifficultyElderly(elder('1966-11-30', [living('alone', '2010-01-01')]), AS_OF, config),
      null,
    );
    const membership = member(
      specialDifficultyElderly(elder('1966-11-29', [living('alone', '2010-01-01')]), AS_OF, config),
    );
    assert.equal(membership.since, '2026-11-29');
  });

  test('several grounds: all named, since the first', () => {
    const subject = elder('1950-01-01', [living('alone', '2020-01-01'), familyPlanningSpecial('2018-05-05')]);
    const membership = member(specialDifficultyElderly(subject, AS_OF, config));
    assert.equal(membership.subCategory, 'alone,family_planning_special');
    assert.equal(membership.since, '2018-05-05');
  });
});

// --- Everyone ---

describe('all groups', () => {
  test('a dead person belongs to no group', () => {
    const subject = childOf([father(migrated('2025-03-01')), mother(migrated('2025-06-10'))], {
      facts: [assisted('dibao', '2024-01-01'), died('2026-10-01')],
    });
    assert.equal(evaluateGroups(subject, '2026-09-30', config).length, 2);
    assert.deepEqual(evaluateGroups(subject, AS_OF, config), []);
  });

  test('a person declared dead belongs to no group', () => {
    const subject = elder('1940-01-01', [living('alone', '2020-01-01'), declaredDead('2026-01-01')]);
    assert.equal(evaluateGroups(subject, '2025-12-31', config).length, 2);
    assert.deepEqual(evaluateGroups(subject, AS_OF, config), []);
  });

  test('a person not yet born on the as-of date belongs to no group', () => {
    const subject = childOf([father(died('2020-01-10')), mother(died('2022-07-07'))], {
      birthDate: '2027-01-01',
    });
    assert.deepEqual(evaluateGroups(subject, AS_OF, config), []);
  });

  test('an elder can be high-age, disabled, left-behind and of special difficulty at once', () => {
    const subject = elder('1940-05-05', [selfCare('moderate', '2024-01-01'), living('alone', '2025-01-01')], {
      children: [son('孙建国', migrated('2019-02-02'))],
    });
    assert.deepEqual(
      evaluateGroups(subject, AS_OF, config).map((m) => [m.code, m.since, m.subCategory]),
      [
        ['left_behind_elderly', '2019-08-02', undefined],
        ['high_age_elderly', '2020-05-05', '80-89'],
        ['disabled_elderly', '2024-01-01', undefined],
        ['special_difficulty_elderly', '2019-08-02', 'alone,left_behind,disabled'],
      ],
    );
  });
});

describe('the fact kinds the evaluation loads', () => {
  test('RULE_FACT_KINDS holds every fact kind the rules mention; only schooling and ledger declarations are left out', async () => {
    const { FACT_KINDS } = await import('../registry/index.ts');
    // The rules' source without the line that names the kinds left out.
    const source = fs
      .readFileSync(new URL('./groups.rules.ts', import.meta.url), 'utf8')
      .replace(/^const UNREAD_FACT_KINDS.*$/m, '');
    const listed = new Set<string>(RULE_FACT_KINDS);
    for (const kind of FACT_KINDS)
      if (source.includes(`'${kind}'`))
        assert.ok(listed.has(kind), `groups.rules.ts reads ${kind}, missing from RULE_FACT_KINDS`);
    for (const kind of listed) assert.ok((FACT_KINDS as readonly string[]).includes(kind), kind);
    // The kinds left out decide no group: a schooling record or a ledger declaration changes nothing.
    const unread = FACT_KINDS.filter((kind) => !listed.has(kind));
    assert.deepEqual(unread, ['schooling', 'ledger_declaration']);
  });
});
