// The relatives the rules read (DOMAIN.md sections 1-2): relatives whose birth date or sex is not on
// record (a ledger's name-only parents), step-parent adoption (Civil Code arts. 1103, 1111), family
// poverty recorded on a parent, and the special-difficulty grounds named with their facts. Pure rule
// tests first, then the subjects the batch builds from registry rows, then end to end on a database.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  registryDatabaseFor,
  insertParentLink,
  insertPersonRow,
  insertRelation,
} from '../../../test/support/registry-rows.ts';
import { somebody } from '../../../test/support/group-subjects.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { AssistanceProgram, Fact, SelfCareLevel } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { buildSubjects, evaluateRegion } from './groups.evaluate.ts';
import {
  deFactoUnsupportedChild,
  distressedChild,
  evaluateGroups,
  explainLeftBehindChild,
  formatReasons,
  leftBehindChild,
  leftBehindElderly,
  leftBehindWoman,
  orphan,
  specialDifficultyElderly,
  type GroupMembership,
  type GroupSubject,
  type ParentSnapshot,
  type ParentType,
  type RelativeSnapshot,
} from './groups.rules.ts';
import {
  loadRelations,
  marriedAdopters,
  type PersonRecord,
  type RelationRecord,
} from './groups.repository.ts';

const AS_OF = '2026-11-29';
const config = DEFAULT_GROUPS_CONFIG;

const migrated = (from: IsoDate): Fact => ({ kind: 'migration', from, to: null, data: {} });
const died = (on: IsoDate): Fact => ({ kind: 'death', from: on, to: null, data: {} });
const sentenced = (from: IsoDate, expectedEnd: IsoDate): Fact => ({
  kind: 'liberty_restriction',
  from,
  to: null,
  data: { type: 'sentence', expectedEnd },
});
const assisted = (program: AssistanceProgram, from: IsoDate): Fact => ({
  kind: 'assistance',
  from,
  to: null,
  data: { program },
});
const selfCare = (level: SelfCareLevel, from: IsoDate): Fact => ({
  kind: 'self_care',
  from,
  to: null,
  data: { level },
});

const asParent = (
  person: RelativeSnapshot,
  parentType: ParentType,
  spouseIds: readonly string[] = [],
): ParentSnapshot => ({ ...person, parentType, spouseIds });
const noBirthDate = (person: RelativeSnapshot): RelativeSnapshot => ({ ...person, birthDate: null });
const noSex = (person: RelativeSnapshot): RelativeSnapshot => ({ ...person, sex: null });

const childOf = (parents: ParentSnapshot[], facts: Fact[] = []): GroupSubject => ({
  person: somebody('小明', 1, '2015-06-15', facts),
  parents,
  spouse: null,
  children: [],
});
const elderWith = (children: RelativeSnapshot[], facts: Fact[] = []): GroupSubject => ({
  person: somebody('孙大爷', 1, '1950-01-01', facts),
  parents: [],
  spouse: null,
  children,
});

function member(found: GroupMembership | null): GroupMembership {
  assert.ok(found, 'expected a membership');
  return found;
}

// ---------- Step-parent adoption ----------

describe('step-parent adoption: when the birth parent counts as married to the adopter', () => {
  // The adopter is person 7; the adoption holds from 2021-03-01.
  const adoption = (marriages: [string | null, string | null][]) => [
    { from: '2021-03-01', to: null, adopter: 7, marriages },
  ];
  test('married before the day: counted, and a divorce since does not end it', () => {
    assert.deepEqual(marriedAdopters(adoption([['2020-01-01', null]]), '2025-06-01'), [7]);
    assert.deepEqual(marriedAdopters(adoption([['2020-01-01', '2024-01-01']]), '2025-06-01'), [7]);
    assert.deepEqual(marriedAdopters(adoption([[null, null]]), '2025-06-01'), [7]);
  });
  test('a marriage that begins after the day, or an adoption not in force on it: not counted', () => {
    assert.deepEqual(marriedAdopters(adoption([['2026-01-01', null]]), '2025-06-01'), []);
    assert.deepEqual(marriedAdopters(adoption([['2020-01-01', null]]), '2021-02-28'), []);
    assert.deepEqual(marriedAdopters(adoption([]), '2025-06-01'), []);
  });
});

describe('step-parent adoption: the birth parent married to the adopter stays a legal parent', () => {
  // 李梅's husband 王强 adopted her son; the boy's birth father 张三 lives in the village.
  const family = (motherFacts: Fact[], stepfatherFacts: Fact[], married = true) => {
    const stepfather = asParent(somebody('王强', 1, '1983-01-01', stepfatherFacts), 'adoptive');
    const mother = asParent(
      somebody('李梅', 2, '1987-04-01', motherFacts),
      'biological',
      married ? [stepfather.id] : [],
    );
    const birthFather = asParent(somebody('张三', 1, '1985-02-01'), 'biological');
    return childOf([birthFather, mother, stepfather]);
  };

  test('mother and adoptive stepfather both migrant: left behind; the birth father at home is no parent in law', () => {
    const found = member(
      leftBehindChild(family([migrated('2025-01-01')], [migrated('2025-03-01')]), AS_OF, config),
    );
    assert.equal(found.since, '2025-03-01');
    assert.equal(
      formatReasons(found, 'zh'),
      '未满16周岁(2015-06-15出生); 父亲王强外出务工自2025-03-01; 母亲李梅外出务工自2025-01-01',
    );
    // Not married to the adopter: an ordinary adoption ends the relation with both birth parents.
    assert.equal(
      leftBehindChild(family([migrated('2025-01-01')], [migrated('2025-03-01')], false), AS_OF, config),
      null,
    );
  });

  test('mother and adoptive stepfather both dead: an orphan, not de facto unsupported', () => {
    const subject = family([died('2024-01-01')], [died('2024-06-01')]);
    assert.equal(member(orphan(subject, AS_OF, config)).since, '2024-06-01');
    assert.equal(deFactoUnsupportedChild(subject, AS_OF, config), null);
    assert.equal(orphan(family([died('2024-01-01')], [died('2024-06-01')], false), AS_OF, config), null);
  });

  test('mother dead and adoptive stepfather serving a long sentence: de facto unsupported', () => {
    const subject = family([died('2024-01-01')], [sentenced('2025-01-01', '2030-01-01')]);
    assert.equal(member(deFactoUnsupportedChild(subject, AS_OF, config)).since, '2025-01-01');
  });

  test('the mother’s spouse ids must name an adoptive parent of the child: a birth parent married to a step-parent who did not adopt stays out', () => {
    const step = asParent(somebody('钱继', 1, '1983-01-01', [migrated('2025-01-01')]), 'step');
    const adoptiveMother = asParent(somebody('赵芳', 2, '1982-04-01', [migrated('2025-01-01')]), 'adoptive');
    const birthMother = asParent(somebody('李梅', 2, '1987-04-01', [migrated('2025-01-01')]), 'biological', [
      step.id,
    ]);
    const subject = childOf([birthMother, step, adoptiveMother]);
    assert.equal(leftBehindChild(subject, AS_OF, config), null);
    assert.deepEqual(
      explainLeftBehindChild(subject, AS_OF, config).bothParentsMigrant.reasons.map((r) => r.zh),
      ['未登记父亲'],
    );
  });
});

// ---------- Relatives without a birth date or sex ----------

describe('relatives without a birth date or sex on record', () => {
  test('a migrant father without a birth date (a ledger’s name-only parent) counts: the child is left behind', () => {
    const father = asParent(
      noBirthDate(somebody('张三', 1, '1985-02-01', [migrated('2025-01-01')])),
      'biological',
    );
    const mother = asParent(somebody('李梅', 2, '1987-04-01', [migrated('2025-03-01')]), 'biological');
    const found = member(leftBehindChild(childOf([father, mother]), AS_OF, config));
    assert.equal(found.since, '2025-03-01');
    assert.match(formatReasons(found, 'en'), /father 张三 migrant since 2025-01-01/);
  });

  test('a dead father without a birth date and a migrant mother: left behind (the other parent unable)', () => {
    const father = asParent(
      noBirthDate(somebody('张三', 1, '1985-02-01', [died('2020-01-01')])),
      'biological',
    );
    const mother = asParent(somebody('李梅', 2, '1987-04-01', [migrated('2025-03-01')]), 'biological');
    assert.ok(leftBehindChild(childOf([father, mother]), AS_OF, config));
  });

  test('a parent whose sex is not on record is neither father nor mother: no clause about both parents holds', () => {
    const unknown = asParent(
      noSex(somebody('张三', 1, '1985-02-01', [migrated('2025-01-01')])),
      'biological',
    );
    const mother = asParent(somebody('李梅', 2, '1987-04-01', [migrated('2025-03-01')]), 'biological');
    const subject = childOf([unknown, mother]);
    assert.equal(leftBehindChild(subject, AS_OF, config), null);
    assert.deepEqual(
      explainLeftBehindChild(subject, AS_OF, config).bothParentsMigrant.reasons.map((r) => r.zh),
      ['未登记父亲'],
    );
  });

  test('an elder’s son at home without a birth date is a living child: the elder is not left behind', () => {
    const home = noBirthDate(somebody('孙强', 1, '1978-01-01'));
    const away = somebody('孙梅', 2, '1980-01-01', [migrated('2024-01-01')]);
    assert.equal(leftBehindElderly(elderWith([home, away]), AS_OF, config), null);
    assert.equal(specialDifficultyElderly(elderWith([home, away]), AS_OF, config), null);
  });

  test('an elder whose only child, without a birth date, has been away 6 months: left behind from the 6 months', () => {
    const away = noBirthDate(somebody('孙强', 1, '1978-01-01', [migrated('2024-01-01')]));
    const found = member(leftBehindElderly(elderWith([away]), AS_OF, config));
    assert.equal(found.since, '2024-07-01');
    assert.match(formatReasons(found, 'zh'), /儿子孙强外出务工自2024-01-01\(已满6个月\)/);
  });

  test('a child of unknown sex is still a living child, named 子女', () => {
    const away = noSex(somebody('孙强', 1, '1978-01-01', [migrated('2024-01-01')]));
    assert.match(
      formatReasons(member(leftBehindElderly(elderWith([away]), AS_OF, config)), 'zh'),
      /子女孙强外出务工/,
    );
    const home = noSex(somebody('孙二', 2, '1980-01-01'));
    assert.equal(leftBehindElderly(elderWith([away, home]), AS_OF, config), null);
  });

  test('a migrant husband without a birth date: his wife is a left-behind woman; a spouse of unknown sex is no husband', () => {
    const husband = noBirthDate(somebody('吴刚', 1, '1988-01-01', [migrated('2024-01-01')]));
    const wife = (spouse: RelativeSnapshot): GroupSubject => ({
      person: somebody('周丽', 2, '1990-01-01'),
      parents: [],
      spouse,
      children: [],
    });
    assert.equal(member(leftBehindWoman(wife(husband), AS_OF, config)).since, '2024-07-01');
    assert.equal(leftBehindWoman(wife(noSex(husband)), AS_OF, config), null);
  });
});

// ---------- Family poverty ----------

describe('distressed child: family poverty on the child’s or a legal parent’s record', () => {
  const parents = (fatherFacts: Fact[], motherFacts: Fact[] = []) => [
    asParent(somebody('张三', 1, '1985-02-01', fatherFacts), 'biological'),
    asParent(somebody('李梅', 2, '1987-04-01', motherFacts), 'biological'),
  ];

  test('dibao recorded on the father (the household head): distressed for poverty, the father named', () => {
    const found = member(distressedChild(childOf(parents([assisted('dibao', '2025-01-01')])), AS_OF, config));
    assert.equal(found.subCategory, 'poverty');
    assert.equal(found.since, '2025-01-01');
    assert.equal(
      formatReasons(found, 'zh'),
      '未满18周岁(2015-06-15出生); 家庭经济困难(父亲张三: 低保)自2025-01-01',
    );
    assert.equal(
      formatReasons(found, 'en'),
      'under 18 (born 2015-06-15); family poverty (father 张三: dibao (minimum living security)) since 2025-01-01',
    );
  });

  test('near-dibao on the mother and tekun on the child: both named, since the first', () => {
    const subject = childOf(parents([], [assisted('near_dibao', '2024-03-01')]), [
      assisted('tekun', '2025-05-01'),
    ]);
    const found = member(distressedChild(subject, AS_OF, config));
    assert.equal(found.since, '2024-03-01');
    assert.deepEqual(
      found.reasons.slice(1).map((r) => r.zh),
      ['家庭经济困难(本人: 特困供养)自2025-05-01', '家庭经济困难(母亲李梅: 低保边缘)自2024-03-01'],
    );
  });

  test('not family poverty: a dead father’s open dibao record, a step-father’s, a birth parent’s after an adoption', () => {
    const dead = childOf(parents([assisted('dibao', '2020-01-01'), died('2023-01-01')]));
    assert.equal(distressedChild(dead, AS_OF, config), null);
    const step = childOf([
      ...parents([]),
      asParent(somebody('钱继', 1, '1983-01-01', [assisted('dibao', '2020-01-01')]), 'step'),
    ]);
    assert.equal(distressedChild(step, AS_OF, config), null);
    const adopted = childOf([
      ...parents([assisted('dibao', '2020-01-01')]),
      asParent(somebody('王强', 1, '1983-01-01'), 'adoptive'),
    ]);
    assert.equal(distressedChild(adopted, AS_OF, config), null);
  });
});

// ---------- Special difficulty: grounds with their facts ----------

describe('special-difficulty elderly: a ground that is another group names that group’s facts', () => {
  test('left behind: the children’s migration in both languages, the age clause stated once', () => {
    const subject = elderWith([somebody('孙建国', 1, '1980-01-01', [migrated('2022-09-03')])]);
    const found = member(specialDifficultyElderly(subject, AS_OF, config));
    assert.deepEqual(found.reasons, [
      { zh: '年满60周岁(1950-01-01出生)', en: 'aged 60 or over (born 1950-01-01)' },
      {
        zh: '农村留守老年人(自2023-03-03): 儿子孙建国外出务工自2022-09-03(已满6个月)',
        en: 'rural left-behind elderly since 2023-03-03: son 孙建国 migrant since 2022-09-03 (6 months or more)',
      },
    ]);
  });

  test('disabled: the loss of self-care named', () => {
    const found = member(
      specialDifficultyElderly(elderWith([], [selfCare('moderate', '2024-04-04')]), AS_OF, config),
    );
    assert.equal(found.subCategory, 'disabled');
    assert.equal(found.reasons[1]?.zh, '失能老年人(自2024-04-04): 中度失能自2024-04-04');
    assert.equal(
      found.reasons[1]?.en,
      'disabled elderly since 2024-04-04: moderate loss of self-care since 2024-04-04',
    );
  });
});

// ---------- The subjects the batch builds ----------

describe('buildSubjects: relatives as the registry holds them', () => {
  const VILLAGE = '410225100200';
  const row = (id: number, name: string, sex: 1 | 2 | null, birth: string | null): PersonRecord => ({
    id,
    name,
    sex,
    birth_date: birth,
    hukou_region_code: VILLAGE,
    residence_region_code: null,
    merged_into: null,
    rural: true,
  });
  const parentLink = (
    child: number,
    parent: number,
    subtype: 'biological' | 'adoptive' = 'biological',
    more: Partial<RelationRecord> = {},
  ): RelationRecord => ({
    person_id: child,
    related_person_id: parent,
    kind: 'parent',
    subtype,
    child_has_adoptive: false,
    married_adopters: [],
    ...more,
  });
  const migration = (personId: number, from: IsoDate) => ({
    person_id: personId,
    kind: 'migration',
    valid_from: from,
    valid_to: null,
    data: {},
  });

  test('a father without a birth date is kept as a parent; a person without a birth date has no subject', () => {
    const persons = new Map([
      [1, row(1, '小明', 1, '2015-06-15')],
      [2, row(2, '张三', 1, null)],
      [3, row(3, '李梅', 2, '1987-04-01')],
    ]);
    const subjects = buildSubjects(
      [1, 2],
      persons,
      [parentLink(1, 2), parentLink(1, 3)],
      [migration(2, '2025-01-01'), migration(3, '2025-01-01')],
    );
    const child = subjects.get(1);
    assert.ok(child);
    assert.deepEqual(
      child.parents.map((p) => [p.name, p.birthDate]),
      [
        ['张三', null],
        ['李梅', '1987-04-01'],
      ],
    );
    assert.deepEqual(
      evaluateGroups(child, AS_OF, config).map((m) => m.code),
      ['left_behind_child'],
    );
    // The father himself is judged by no rule, but his son (the child) is still his child.
    assert.equal(subjects.has(2), false);
  });

  test('an elder’s son at home without a birth date: not left behind', () => {
    const persons = new Map([
      [1, row(1, '孙大爷', 1, '1950-01-01')],
      [2, row(2, '孙强', 1, null)],
      [3, row(3, '孙梅', 2, '1980-01-01')],
    ]);
    const elder = buildSubjects(
      [1],
      persons,
      [parentLink(2, 1), parentLink(3, 1)],
      [migration(3, '2024-01-01')],
    ).get(1);
    assert.ok(elder);
    assert.deepEqual(
      elder.children.map((c) => c.name),
      ['孙强', '孙梅'],
    );
    assert.deepEqual(evaluateGroups(elder, AS_OF, config), []);
  });

  test('step-parent adoption: the child keeps the mother married to the adopter, and she keeps the child', () => {
    const persons = new Map([
      [1, row(1, '王奶奶', 2, '1960-01-01')],
      [2, row(2, '王小', 1, '2012-01-01')],
      [3, row(3, '孙梅', 2, '1985-01-01')],
      [4, row(4, '继父', 1, '1958-01-01')],
      [5, row(5, '生父', 1, '1957-01-01')],
    ]);
    const adopted = { child_has_adoptive: true };
    const links = [
      parentLink(2, 1, 'biological', { ...adopted, married_adopters: [4] }),
      parentLink(2, 4, 'adoptive', adopted),
      parentLink(2, 5, 'biological', adopted),
      parentLink(3, 1),
    ];
    const subjects = buildSubjects([1, 2, 5], persons, links, [migration(3, '2024-01-01')]);
    // The mother: her son at home is still her child, so she is not left behind.
    assert.deepEqual(
      subjects.get(1)?.children.map((c) => c.name),
      ['王小', '孙梅'],
    );
    assert.deepEqual(evaluateGroups(subjects.get(1) as GroupSubject, AS_OF, config), []);
    // The birth father's relation ended with the adoption.
    assert.deepEqual(subjects.get(5)?.children, []);
    assert.deepEqual(
      subjects.get(2)?.parents.map((p) => [p.name, p.parentType, p.spouseIds ?? []]),
      [
        ['王奶奶', 'biological', ['4']],
        ['继父', 'adoptive', []],
        ['生父', 'biological', []],
      ],
    );
  });
});

// ---------- End to end ----------

describe('end to end: the batch reads what the rules need', () => {
  const VILLAGE = '410225100200';
  const database = registryDatabaseFor(VILLAGE);

  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });
  const fact = (personId: number, kind: string, from: IsoDate, data: Record<string, unknown> = {}) =>
    database.db
      .insertInto('person_facts')
      .values({
        person_id: personId,
        kind,
        valid_from: from,
        valid_to: null,
        data: JSON.stringify(data),
        recorded_by: null,
      })
      .execute();
  const groupsOf = async (personId: number) =>
    (
      await sql<{ group_code: string; since: string; reasons: { zh: string[] } }>`
        SELECT group_code, since::text AS since, reasons FROM group_memberships
        WHERE person_id = ${personId} AND until IS NULL ORDER BY group_code`.execute(database.db)
    ).rows.map((r) => [r.group_code, r.since, r.reasons.zh.join('; ')]);
  const evaluate = (batchSize?: number) =>
    evaluateRegion(database.db, {
      regionCode: '410225',
      asOf: AS_OF,
      worklist: false,
      ...(batchSize ? { batchSize } : {}),
    });

  test('a name-only father (no birth date) away for work: his child is left behind', async () => {
    const child = await person('小明', 1, '2015-06-15');
    const father = await person('张三', 1, '1985-02-01');
    await sql`UPDATE persons SET birth_date = NULL WHERE id = ${father}`.execute(database.db);
    const mother = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, father);
    await insertParentLink(database.db, child, mother);
    await fact(father, 'migration', '2025-01-01');
    await fact(mother, 'migration', '2025-03-01');
    await evaluate();
    assert.deepEqual(await groupsOf(child), [
      [
        'left_behind_child',
        '2025-03-01',
        '未满16周岁(2015-06-15出生); 父亲张三外出务工自2025-01-01; 母亲李梅外出务工自2025-03-01',
      ],
    ]);
    assert.deepEqual(await groupsOf(father), []);
  });

  test('a mother divorced from the adoptive stepfather stays a legal parent, in both reads of the relations', async () => {
    const mother = await person('离婚母亲', 2, '1986-01-01');
    const child = await person('离婚孩子', 1, '2014-01-01');
    const stepfather = await person('前继父', 1, '1984-01-01');
    await insertParentLink(database.db, child, mother);
    await insertRelation(database.db, child, stepfather, 'parent', 'adoptive');
    await insertRelation(database.db, mother, stepfather, 'spouse', null);
    await database.db
      .updateTable('person_relations')
      .set({ valid_from: '2016-01-01', valid_to: '2022-01-01' })
      .where('kind', '=', 'spouse')
      .where('person_id', '=', mother)
      .execute();
    // The single-person read (a registry change, the ledger review) and the batch read agree.
    const links = await loadRelations(database.db, [child], '2025-06-01');
    const motherLink = links.find((l) => l.person_id === child && l.related_person_id === mother);
    assert.deepEqual(motherLink?.married_adopters, [stepfather]);
    // Not yet married on a day before the marriage.
    const earlier = await loadRelations(database.db, [child], '2015-06-01');
    assert.deepEqual(
      earlier.find((l) => l.person_id === child && l.related_person_id === mother)?.married_adopters,
      [],
    );
    await fact(mother, 'migration', '2025-01-01');
    await fact(stepfather, 'migration', '2025-02-01');
    await evaluate(1);
    assert.deepEqual(
      (await groupsOf(child)).map(([code, since]) => [code, since]),
      [['left_behind_child', '2025-02-01']],
    );
  });

  test('a stepfather’s adoption, read in batches of one: the child keeps the mother, the birth father loses the child', async () => {
    const grandmother = await person('王奶奶', 2, '1960-01-01');
    const son = await person('王小', 1, '2012-01-01');
    const stepfather = await person('继父', 1, '1958-01-01');
    const birthFather = await person('生父', 1, '1957-01-01');
    const daughter = await person('孙梅', 2, '1985-01-01');
    await insertParentLink(database.db, son, grandmother);
    await insertParentLink(database.db, son, birthFather);
    await insertRelation(database.db, son, stepfather, 'parent', 'adoptive');
    await insertRelation(database.db, stepfather, grandmother, 'spouse', null);
    await insertParentLink(database.db, daughter, grandmother);
    await fact(daughter, 'migration', '2024-01-01');
    await fact(grandmother, 'migration', '2025-01-01');
    await fact(stepfather, 'migration', '2025-02-01');
    await evaluate(1);
    // The son: mother and adoptive stepfather migrant, the birth father at home no parent in law.
    assert.deepEqual(
      (await groupsOf(son)).map(([code, since]) => [code, since]),
      [['left_behind_child', '2025-02-01']],
    );
    // The mother (66, migrant herself) is no left-behind elder anyway; the birth father has no child.
    assert.deepEqual(await groupsOf(birthFather), []);
  });

  test('the birth mother at home whose son was adopted by her husband keeps him: not a left-behind elder', async () => {
    const mother = await person('王奶奶', 2, '1950-01-01');
    const husband = await person('继父', 1, '1948-01-01');
    const son = await person('王小', 1, '1980-01-01');
    const daughter = await person('孙梅', 2, '1985-01-01');
    await insertParentLink(database.db, son, mother);
    await insertRelation(database.db, son, husband, 'parent', 'adoptive');
    await insertRelation(database.db, mother, husband, 'spouse', null);
    await insertParentLink(database.db, daughter, mother);
    await fact(daughter, 'migration', '2024-01-01');
    await evaluate();
    assert.deepEqual(await groupsOf(mother), []);
    // Without the marriage the adoption ends her relation with the son: every child left is away.
    await sql`DELETE FROM person_relations WHERE kind = 'spouse'`.execute(database.db);
    await evaluate();
    assert.deepEqual(
      (await groupsOf(mother)).map(([code]) => code),
      ['left_behind_elderly', 'special_difficulty_elderly'],
    );
  });

  test('dibao on the father’s record makes his child distressed, and the reason names him', async () => {
    const child = await person('小明', 1, '2015-06-15');
    const father = await person('张三', 1, '1985-02-01');
    const mother = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, father);
    await insertParentLink(database.db, child, mother);
    await fact(father, 'assistance', '2025-01-01', { program: 'dibao' });
    await evaluate();
    assert.deepEqual(await groupsOf(child), [
      [
        'distressed_child',
        '2025-01-01',
        '未满18周岁(2015-06-15出生); 家庭经济困难(父亲张三: 低保)自2025-01-01',
      ],
    ]);
  });
});
