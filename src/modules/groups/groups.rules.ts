/*
 * Who is left behind: the care groups of DOMAIN.md section 2, derived from the registry's facts, never
 * typed in by hand. Every rule is a pure function of (subject, as-of date, config); each policy clause is a
 * small named function below, so that it can be tested at its boundaries.
 *
 * A membership carries `since`, the first day from which it has held without a break up to the as-of
 * date: the latest start among the clauses that must all hold (a duration threshold counts from the day it
 * is reached: migrant since 2025-03-01 with 6 months required counts from 2025-09-01; an age threshold
 * counts from the birthday), the earliest among alternatives, never before the person's birth. Periods of
 * the same kind that meet or overlap are joined (a migrant who changes city has been away all along), and
 * when the membership also held the day before on other grounds (a father severely disabled, then dead),
 * `since` reaches back over that change. It carries its reasons: the rule and the facts that hold on the
 * as-of date, with their dates, in Chinese and English. A record in force is named with its own start;
 * when it replaced an earlier record of the same kind without a break (near-dibao after dibao, a disability
 * regraded), the reason adds since when the state has held ("…自2022-03-01(自2020-01-01起连续…)"). A
 * migration and a loss of contact are named by the start from which their months count.
 *
 * Choices where the policy text leaves room:
 * - Parents. The legal parents are the adoptive parents if the child has any (adoption ends the legal
 *   relation with the birth parents, Civil Code art. 1111), otherwise the biological ones; step-parents are
 *   not counted. A step-parent adoption (art. 1103: a step-parent adopts the child of their spouse) ends only
 *   the relation with the other birth parent: a birth parent who has married an adoptive parent of the
 *   child by the day (ParentSnapshot.spouseIds; a divorce since does not end it) stays a legal parent, and
 *   the elder side follows (such a birth parent keeps the child among their children). Father and mother are told apart by sex: a parent whose sex is
 *   not on record is neither. A clause about "both parents" or "the other parent" needs both records: an
 *   unknown or absent parent cannot trigger a clause (such a child comes to attention through a protection
 *   case, not through this rule).
 * - Relatives on record. The person judged needs a birth date (every group has an age clause); a relative
 *   does not: no rule reads a parent's or spouse's age. A child of an elder whose birth date is not on record
 *   is a living child on every day judged (the record exists, so the child was born; a child not yet born on
 *   a day is not counted only when the birth date says so), and gives no birth day as a change of life. Sex
 *   is read only where a rule names it: a father or mother, a husband (left-behind woman), the woman herself.
 * - Gone. A relative who is dead, declared dead or declared missing is "gone": gone parents count for the
 *   orphan and de facto unsupported clauses, and a gone person's records still left open (a migration, a
 *   disability) describe no present state: a gone parent is neither migrant nor in one of the eight states,
 *   and a gone child is not a "living child" of an elder.
 * - The person. A person with a death or declared-death fact in force, or not yet born, belongs to no
 *   group. Declared missing alone does not remove a person: in law they are alive and their file stays;
 *   but one declared missing does not live in the village, so is no left-behind child, woman or elder
 *   while the declaration stands (as a declared-missing child of an elder is not at home).
 *   A stretch never reaches back over a day on which someone's being alive changed and the rule did not
 *   hold (a declaration of death revoked, the death of the child who lived at home, a first child's birth);
 *   over such a day on which it held, it began where the stretch of the day before began (a child who left
 *   later and died: every living child has been away only since that child's six months).
 * - Links. Parent and spouse links may have dates; a subject whose links change over time
 *   (SubjectHistory) is judged on each day with the links in force that day.
 * - Left-behind child, "the other parent unable to act as guardian" (SC2016-13 另一方无监护能力): gone, or
 *   in one of the eight states of MCA2019-62 (deported included: such a parent cannot act as guardian in
 *   the village). Severe disability and serious illness are as defined there (serious illness: a disease
 *   on the county's list, seriousIllnessDiagnoses, or any record of one when it lists none); a liberty
 *   restriction or lost contact counts after `leftBehindChildOtherParentMinMonths` (default 0: the
 *   duration of MCA2019-62 is a condition for the allowance, not for being left behind). "Not migrating with a parent": the child has
 *   no migration fact of its own in force; if it has come back, membership counts from its return. The
 *   same holds for "lives in the village" of the left-behind woman and elderly: one working away from the
 *   hukou county themselves does not live there, whatever the residence field says, nor does one
 *   deprived of liberty (a sentence, compulsory drug rehabilitation, another restriction; a child in a
 *   juvenile institution too): the stretch breaks on the restriction's start and resumes on its end.
 * - Eight states: a liberty restriction lasts 6 months or more when its expected end, the term's last day as
 *   a judgment or decision states it (自2026-03-01起至2026-08-31止 is six months), is no earlier than the day
 *   before the 6 months are reached (then it counts from the start), or, whatever the expected end, once it has been
 *   in force 6 months (then it counts from that day). Once its end is recorded, how long it really lasted
 *   decides, as the facts are judged as they now stand: a year's sentence that ended after two months never
 *   counted; a record that states no expected end continues the one stated before it in the stretch. Lost
 *   contact counts 6 months from the first police report of an unbroken stretch of records (an updated
 *   record does not restart it), and never from before the contact was lost (MCA2020-125: lost 6 months
 *   and reported).
 *   When several states hold, the reason names the one that has held longest.
 * - Left-behind woman: rural hukou like the other left-behind groups (农村留守妇女). Married means a spouse
 *   record of a living husband, unless the person is explicitly recorded as not married (a stale link).
 * - Left-behind elderly: every living child is migrant; a child not yet born or gone is not counted, and an
 *   elder with no living child is not left behind.
 * - Distressed child, family poverty (SC2016-36 "family receives dibao or tekun, or is near-dibao"): an
 *   assistance fact in force on the child or on a legal parent who is not gone; the reasons name whose
 *   record each is. Step-parents and the entrusted carer are not read: neither is the child's family in
 *   law, and a carer's own dibao household is not the child's (DIBAO2021 counts spouse and children).
 * - High-age elderly counts from the first band's birthday (80th); the current band is the sub-category and
 *   its own start date is in the reasons. Special-difficulty elderly carries its grounds as sub-category
 *   ('alone', 'empty_nest', 'left_behind', 'disabled', 'family_planning_special'); a ground that is another
 *   group is named with that group's own reasons ("农村留守老年人(自2024-07-01): 儿子...外出务工自..."). An
 *   empty nest recorded whose spouse on record is gone is living alone from that day. A family-planning
 *   special family is a record of the status, or read from the children on record: the one child on record
 *   died, was declared dead, or has a disability of grade 1-3 ("计划生育特殊家庭: 独生子王一死亡(2020-05-01)").
 */

import { addDays, addMonths, addYears, ageOn, isIsoDate, maxDate, minDate } from '../../platform/dates.ts';
import type { IsoDate } from '../../platform/dates.ts';
import {
  ASSISTANCE_PROGRAM_LABELS,
  DISABILITY_CATEGORY_LABELS,
  FACT_KINDS,
  FACT_LABELS,
  DISABILITY_GRADE_LABELS,
  GUARDIANSHIP_FAILURE_LABELS,
  LIBERTY_RESTRICTION_LABELS,
  SELF_CARE_LABELS,
  factsAsOf,
  factsOfKind,
  heldSince,
} from '../registry/index.ts';
import type { Fact, FactKind, FactOfKind, Label, Period, SelfCareLevel } from '../registry/index.ts';
import { diagnosisKey, type AgeRange, type GroupsConfig } from './groups.config.ts';

// --- Input ---

/**
 * A person as the rules see them. The registry may lack a relative's birth date or sex (a ledger names a
 * parent without an ID number: no birth date, the sex known from the 父亲/母亲 column): such a relative
 * still counts wherever a rule does not read what is missing (see "Relatives on record" at the top).
 */
export interface RelativeSnapshot {
  readonly id: string;
  readonly name: string;
  /** GB/T 2261.1: 1 male, 2 female; null when not on record. */
  readonly sex: 1 | 2 | null;
  /** Null when not on record. */
  readonly birthDate: IsoDate | null;
  /** Hukou in a villagers' committee (村委会). */
  readonly ruralHukou: boolean;
  readonly livesInHukouVillage: boolean;
  /** Explicitly false for a person recorded as not married; otherwise marriage follows the spouse link. */
  readonly married?: boolean;
  readonly facts: readonly Fact[];
}

/** The person judged: every group has an age clause or counts from birth, so the birth date is needed. */
export interface PersonSnapshot extends RelativeSnapshot {
  readonly birthDate: IsoDate;
}

export type ParentType = 'biological' | 'adoptive' | 'step';

export type ParentSnapshot = RelativeSnapshot & {
  readonly parentType: ParentType;
  /**
   * For a biological parent: the ids of the child's adoptive parents (on the day) whom this parent has
   * married by the day (a spouse link begun, ended since or not). A step-parent who adopts the child of
   * their spouse leaves that spouse a legal parent (Civil Code arts. 1103, 1111), and a divorce ends the
   * marriage, not that relation. Absent or empty: married to no adopter.
   */
  readonly spouseIds?: readonly string[];
};

/** A person with the relatives the rules look at. */
export interface GroupSubject {
  readonly person: PersonSnapshot;
  readonly parents: readonly ParentSnapshot[];
  readonly spouse: RelativeSnapshot | null;
  readonly children: readonly RelativeSnapshot[];
}

// --- Output ---

export const GROUP_CODES = [
  'left_behind_child',
  'de_facto_unsupported_child',
  'orphan',
  'distressed_child',
  'left_behind_elderly',
  'left_behind_woman',
  'high_age_elderly',
  'disabled_elderly',
  'special_difficulty_elderly',
] as const;

export type GroupCode = (typeof GROUP_CODES)[number];

export const GROUP_LABELS: Readonly<Record<GroupCode, Label>> = {
  left_behind_child: { zh: '农村留守儿童', en: 'rural left-behind child' },
  de_facto_unsupported_child: { zh: '事实无人抚养儿童', en: 'de facto unsupported child' },
  orphan: { zh: '孤儿', en: 'orphan' },
  distressed_child: { zh: '困境儿童', en: 'child in distress' },
  left_behind_elderly: { zh: '农村留守老年人', en: 'rural left-behind elderly' },
  left_behind_woman: { zh: '农村留守妇女', en: 'rural left-behind woman' },
  high_age_elderly: { zh: '高龄老年人', en: 'high-age elderly' },
  disabled_elderly: { zh: '失能老年人', en: 'disabled elderly' },
  special_difficulty_elderly: { zh: '特殊困难老年人', en: 'elderly with special difficulties' },
};

export type DistressedChildCategory = 'poverty' | 'disability' | 'guardianship_failure';
export type SpecialDifficultyCategory =
  'alone' | 'empty_nest' | 'left_behind' | 'disabled' | 'family_planning_special';

export type Reason = Label;

export interface GroupMembership {
  readonly code: GroupCode;
  /** The first day from which the membership has held without a break up to the as-of date. */
  readonly since: IsoDate;
  /**
   * distressed_child: DistressedChildCategory values joined with ','; high_age_elderly: the age band
   * ('80-89', '90-99', '100+'); special_difficulty_elderly: SpecialDifficultyCategory values joined with ','.
   */
  readonly subCategory?: string;
  readonly reasons: readonly Reason[];
}

export type GroupRule = (
  subject: GroupSubject,
  asOf: IsoDate,
  config: GroupsConfig,
) => GroupMembership | null;

// --- The groups ---

/**
 * Within one evaluateGroups call, the answers of the rules that other rules ask again (orphan for de
 * facto unsupported; left-behind and disabled elderly for special difficulty), by group and date.
 * Rules are pure, so an answer remembered for the same subject, config and date is the answer.
 */
let sharedAnswers: {
  subject: GroupSubject;
  config: GroupsConfig;
  answers: Map<string, GroupMembership | null>;
} | null = null;

function shared(code: GroupCode, rule: GroupRule): GroupRule {
  return (subject, asOf, config) => {
    const memo = sharedAnswers;
    if (memo === null || memo.subject !== subject || memo.config !== config)
      return rule(subject, asOf, config);
    const key = code + asOf;
    const known = memo.answers.get(key);
    if (known !== undefined) return known;
    const answer = rule(subject, asOf, config);
    memo.answers.set(key, answer);
    return answer;
  };
}

/** Every group the person belongs to on `asOf`, in GROUP_CODES order. */
export function evaluateGroups(
  subject: GroupSubject,
  asOf: IsoDate,
  config: GroupsConfig,
): GroupMembership[] {
  const outer = sharedAnswers;
  sharedAnswers = { subject, config, answers: new Map() };
  try {
    return GROUP_CODES.map((code) => GROUP_RULES[code](subject, asOf, config)).filter((m) => m !== null);
  } finally {
    sharedAnswers = outer;
  }
}

/**
 * A subject whose links change over time: a parent or spouse link has validity dates (an adoption from its
 * day, a marriage that ended), so the parents, spouse and children the rules see on a day are the links in
 * force that day. `changes` are the days on which a link began or ended, ascending; between two of them
 * `on` returns the same subject.
 */
export interface SubjectHistory {
  on(day: IsoDate): GroupSubject;
  readonly changes: readonly IsoDate[];
}

/** A subject whose links have no dates (or none that change): the same relatives on every day. */
export function unchanging(subject: GroupSubject): SubjectHistory {
  return { on: () => subject, changes: [] };
}

function asHistory(subject: GroupSubject | SubjectHistory): SubjectHistory {
  return 'on' in subject ? subject : unchanging(subject);
}

/**
 * `since` of a membership found on `day` with the subject of that day, not reaching back over a change of
 * links unless the rule also held just before the change with the links of then: a child adopted on D by
 * migrant parents is left behind from D, not from the adoptive parents' migration; a wife is left behind
 * from her marriage, not from her husband's leaving.
 */
function sinceOverLinks(
  history: SubjectHistory,
  rule: GroupRule,
  found: GroupMembership,
  day: IsoDate,
  config: GroupsConfig,
): GroupMembership {
  let since = found.since;
  for (let i = history.changes.length - 1; i >= 0; i--) {
    const change = history.changes[i] as IsoDate;
    if (change > day) continue;
    if (since >= change) break;
    const dayBefore = addDays(change, -1);
    const earlier = rule(history.on(dayBefore), dayBefore, config);
    if (earlier === null) {
      since = change;
      break;
    }
    since = earlier.since;
  }
  return since === found.since ? found : { ...found, since };
}

/** evaluateGroups for a subject whose links change over time (the links in force on each day). */
export function evaluateGroupsOver(
  history: SubjectHistory,
  asOf: IsoDate,
  config: GroupsConfig,
): GroupMembership[] {
  const found = evaluateGroups(history.on(asOf), asOf, config);
  if (history.changes.length === 0 || (history.changes[0] as IsoDate) > asOf) return found;
  return found.map((m) => sinceOverLinks(history, GROUP_RULES[m.code], m, asOf, config));
}

/** One group on one day, links as they were that day (see evaluateGroupsOver). */
function memberOn(
  history: SubjectHistory,
  code: GroupCode,
  day: IsoDate,
  config: GroupsConfig,
): GroupMembership | null {
  const rule = GROUP_RULES[code];
  const found = rule(history.on(day), day, config);
  return found === null || history.changes.length === 0
    ? found
    : sinceOverLinks(history, rule, found, day, config);
}

const judgedBeforeOf = new WeakMap<SubjectHistory, SubjectHistory>();

/**
 * The days before the as-of date as membershipEndedOn and membershipRuns judge them: hukou and residence
 * have no history in the registry, so a move is known only from the day it is recorded, and the days before
 * are judged as if the person still lived in a rural hukou village (a child who moves away today leaves
 * today).
 */
function judgedBefore(history: SubjectHistory): SubjectHistory {
  const known = judgedBeforeOf.get(history);
  if (known) return known;
  const seen = new Map<GroupSubject, GroupSubject>();
  const before: SubjectHistory = {
    changes: history.changes,
    on(day) {
      const subject = history.on(day);
      let found = seen.get(subject);
      if (found === undefined) {
        found = { ...subject, person: { ...subject.person, ruralHukou: true, livesInHukouVillage: true } };
        seen.set(subject, found);
      }
      return found;
    },
  };
  judgedBeforeOf.set(history, before);
  return before;
}

/**
 * The day a membership that no longer holds on `asOf` ended: the day after the last day of
 * [`from`, `asOf`) on which its rule still held, so that a stored period ends where the facts say (a death
 * recorded weeks late ends every group on the death date; a parent who came home ends the left-behind
 * period on the day of return), not on the day the change was recorded. Null when the rule held on no day
 * of [`from`, `asOf`): the facts that made it hold were corrected away. Days before `from` are not asked.
 * Hukou and residence have no history in the registry: a move is known only from the day it is recorded,
 * so the days before `asOf` are judged as if the person still lived in a rural hukou village (a child who
 * moves away today leaves today). The birth date and the facts are judged as they now stand: a corrected
 * birth date corrects the history. Links are judged as they were on each day (a SubjectHistory): a
 * marriage that ended ends the left-behind woman's period on that day.
 */
export function membershipEndedOn(
  subject: GroupSubject | SubjectHistory,
  code: GroupCode,
  from: IsoDate,
  asOf: IsoDate,
  config: GroupsConfig,
): IsoDate | null {
  const rule = GROUP_RULES[code];
  const before = judgedBefore(asHistory(subject));
  for (let day = addDays(asOf, -1); day >= from; day = addDays(day, -1)) {
    if (rule(before.on(day), day, config) !== null) return addDays(day, 1);
  }
  return null;
}

/**
 * The membership on a day before the as-of date, judged as membershipRuns judges the days (hukou and
 * residence as if unmoved, the links of that day); null when it did not hold. An evaluation asks it with
 * the configuration in force on that day (a membership that reaches back over a change of configuration).
 */
export function membershipOnPastDay(
  subject: GroupSubject | SubjectHistory,
  code: GroupCode,
  day: IsoDate,
  config: GroupsConfig,
): GroupMembership | null {
  return memberOn(judgedBefore(asHistory(subject)), code, day, config);
}

/** A stretch [since, until) of days on which a membership held, with its grounds on its last day. */
export interface MembershipRun {
  readonly since: IsoDate;
  readonly until: IsoDate;
  readonly membership: GroupMembership;
}

/**
 * Every stretch of [`from`, `to`) on which the membership held, in order, each cut to the window: a period
 * that a late record splits (a parent home for three months, then away again) is two stretches, not one.
 * The days are judged as membershipEndedOn judges them.
 */
export function membershipRuns(
  subject: GroupSubject | SubjectHistory,
  code: GroupCode,
  from: IsoDate,
  to: IsoDate,
  config: GroupsConfig,
): MembershipRun[] {
  const before = judgedBefore(asHistory(subject));
  const runs: MembershipRun[] = [];
  let day = addDays(to, -1);
  while (day >= from) {
    const found = memberOn(before, code, day, config);
    if (found === null) {
      day = addDays(day, -1);
      continue;
    }
    // Held on every day from its `since` to this one: one stretch, and the days before it are next.
    const since = found.since > from ? found.since : from;
    runs.push({ since, until: addDays(day, 1), membership: found });
    day = addDays(since, -1);
  }
  return runs.reverse();
}

/**
 * Whether a membership held on every day of [`from`, `to`), judged as membershipEndedOn judges the days: it
 * holds on the last day with a `since` on or before `from`. A stored period that no longer passes was made
 * by facts since corrected (a migration retracted as an error after the period had closed).
 */
export function membershipHeldThroughout(
  subject: GroupSubject | SubjectHistory,
  code: GroupCode,
  from: IsoDate,
  to: IsoDate,
  config: GroupsConfig,
): boolean {
  const found = memberOn(judgedBefore(asHistory(subject)), code, addDays(to, -1), config);
  return found !== null && found.since <= from;
}

/**
 * The first day after `asOf`, before `to`, on which the stretch of a membership that holds on `asOf` no
 * longer held; null when it held on every day up to `to`. An evaluation of a past date asks it of what it
 * finds: a stretch that meets a later period (one a later evaluation found) is the same stretch, one that
 * ended since is recorded closed. A day on which the membership holds with a `since` on or before `asOf`
 * is still in the stretch, and every day before it too, so the end is found by halving the days between.
 */
export function membershipHeldUntil(
  subject: GroupSubject | SubjectHistory,
  code: GroupCode,
  asOf: IsoDate,
  to: IsoDate,
  config: GroupsConfig,
): IsoDate | null {
  const history = asHistory(subject);
  const continues = (day: IsoDate) => {
    const found = memberOn(history, code, day, config);
    return found !== null && found.since <= asOf;
  };
  let held = asOf;
  let ended = addDays(to, -1);
  if (ended <= held || continues(ended)) return null;
  for (let gap = daysFrom(held, ended); gap > 1; gap = daysFrom(held, ended)) {
    const middle = addDays(held, Math.floor(gap / 2));
    if (continues(middle)) held = middle;
    else ended = middle;
  }
  return ended;
}

function daysFrom(from: IsoDate, to: IsoDate): number {
  const utc = (d: IsoDate) =>
    Date.UTC(Number(d.slice(0, 4)), Number(d.slice(5, 7)) - 1, Number(d.slice(8, 10)));
  return Math.round((utc(to) - utc(from)) / 86_400_000);
}

/** The reasons as one line: "未满16周岁(2010-05-01出生); 父亲张三外出务工自2025-03-01; ...". */
export function formatReasons(membership: GroupMembership, language: keyof Label): string {
  return membership.reasons.map((reason) => reason[language]).join('; ');
}

/**
 * 农村留守儿童 (SC2016-13): under 16, rural hukou and living in the village, not migrating with a parent,
 * and both parents migrant, or one migrant and the other unable to act as guardian.
 */
export const leftBehindChild: GroupRule = unbroken((subject, asOf, config) => {
  const { person } = subject;
  if (!youngerThan(person, config.leftBehindChildUnderAge, asOf)) return null;
  if (!isLivingOn(person, asOf) || !livesInRuralVillage(person)) return null;
  const parents = legalParents(subject);
  const away = (parent: Relative) => migrant(parent, asOf, config.leftBehindChildMinMigrationMonths);
  const unable = (parent: Relative) => unableToActAsGuardian(parent, asOf, config);
  return membership(
    'left_behind_child',
    person,
    allOf(
      under(person, config.leftBehindChildUnderAge, asOf),
      notAwayThemselves(person, asOf),
      notDeclaredMissing(person, asOf),
      notInCustody(person, asOf),
      earliestOf(bothParents(parents, away), oneParentAndTheOther(parents, away, unable)),
    ),
  );
});

/**
 * 事实无人抚养儿童 (MCA2019-62, MCA2020-125): under 18, not an orphan, and both parents each in one of the
 * eight states, or one parent dead or declared missing and the other in one of the eight states.
 */
export const deFactoUnsupportedChild: GroupRule = unbroken((subject, asOf, config) => {
  const { person } = subject;
  if (!youngerThan(person, config.minorUnderAge, asOf)) return null;
  if (!isLivingOn(person, asOf)) return null;
  // A child who is both is an orphan (DOMAIN.md section 2, "Conflicts"); also implied below, as a gone parent
  // is in none of the eight states, but stated here as the policy states it.
  if (orphan(subject, asOf, config) !== null) return null;
  const parents = legalParents(subject);
  const inState = (parent: Relative) => inOneOfTheEightStates(parent, asOf, config);
  const isGone = (parent: Relative) => gone(parent, asOf);
  return membership(
    'de_facto_unsupported_child',
    person,
    allOf(
      under(person, config.minorUnderAge, asOf),
      earliestOf(bothParents(parents, inState), oneParentAndTheOther(parents, isGone, inState)),
    ),
  );
});

/** 孤儿: under 18, both parents dead or declared missing (or declared dead). */
export const orphan: GroupRule = shared(
  'orphan',
  unbroken((subject, asOf, config) => {
    const { person } = subject;
    if (!youngerThan(person, config.minorUnderAge, asOf)) return null;
    if (!isLivingOn(person, asOf)) return null;
    const parents = legalParents(subject);
    return membership(
      'orphan',
      person,
      allOf(
        under(person, config.minorUnderAge, asOf),
        bothParents(parents, (parent) => gone(parent, asOf)),
      ),
    );
  }),
);

/**
 * 困境儿童 (SC2016-36): under 18 and one of: family poverty (dibao, tekun or near-dibao), own disability,
 * guardianship failure found by a protection case. The sub-category lists every ground that holds.
 */
export const distressedChild: GroupRule = unbroken((subject, asOf, config) => {
  const { person } = subject;
  if (!youngerThan(person, config.minorUnderAge, asOf)) return null;
  if (!isLivingOn(person, asOf)) return null;
  const grounds = groundsThatHold<DistressedChildCategory>([
    ['poverty', familyPoverty(subject, asOf)],
    ['disability', ownDisability(person, asOf)],
    ['guardianship_failure', guardianshipFailure(person, asOf)],
  ]);
  return membership(
    'distressed_child',
    person,
    allOf(under(person, config.minorUnderAge, asOf), grounds.condition),
    grounds.categories.join(','),
  );
});

/**
 * 农村留守老年人 (common usage; thresholds config): 60 or older, rural hukou and living in the village, at
 * least one living child and every living child migrant for 6 months or more.
 */
export const leftBehindElderly: GroupRule = shared(
  'left_behind_elderly',
  unbroken((subject, asOf, config) => {
    const { person } = subject;
    if (youngerThan(person, config.elderlyMinAge, asOf)) return null;
    if (!isLivingOn(person, asOf) || !livesInRuralVillage(person)) return null;
    return membership(
      'left_behind_elderly',
      person,
      allOf(
        atLeast(person, config.elderlyMinAge, asOf),
        notAwayThemselves(person, asOf),
        notDeclaredMissing(person, asOf),
        notInCustody(person, asOf),
        everyLivingChildMigrant(subject.children, asOf, config.leftBehindElderlyMinMigrationMonths),
      ),
    );
  }),
);

/**
 * 农村留守妇女 (common usage; thresholds config): a woman, married and living in the village, whose
 * husband has been migrant for 6 months or more; optionally within an age range.
 */
export const leftBehindWoman: GroupRule = unbroken((subject, asOf, config) => {
  const { person, spouse } = subject;
  if (person.sex !== 2 || person.married === false || spouse === null || spouse.sex !== 1) return null;
  if (!isLivingOn(person, asOf) || !livesInRuralVillage(person)) return null;
  const husband = relative(spouse, '丈夫', 'husband');
  return membership(
    'left_behind_woman',
    person,
    allOf(
      withinAgeRange(person, config.leftBehindWomanAgeRange, asOf),
      notAwayThemselves(person, asOf),
      notDeclaredMissing(person, asOf),
      notInCustody(person, asOf),
      // A husband who is dead or declared missing is not migrant: the marriage clause fails with him.
      migrant(husband, asOf, config.leftBehindWomanMinMigrationMonths),
    ),
  );
});

/** 高龄老年人 (MOF2014-113): 80 or older, in bands 80-89, 90-99, 100+ (config). */
export const highAgeElderly: GroupRule = unbroken((subject, asOf, config) => {
  const { person } = subject;
  const firstBandStart = config.highAgeBandStarts[0];
  if (firstBandStart === undefined || youngerThan(person, firstBandStart, asOf)) return null;
  if (!isLivingOn(person, asOf)) return null;
  const elderly = atLeast(person, firstBandStart, asOf);
  const band = highAgeBand(person.birthDate, asOf, config.highAgeBandStarts);
  if (elderly === null || band === null) return null;
  return membership(
    'high_age_elderly',
    person,
    { since: elderly.since, reasons: [...elderly.reasons, band.reason] },
    band.label,
  );
});

/** 失能老年人 (MOF2014-113): 60 or older with moderate or severe loss of self-care ability. */
export const disabledElderly: GroupRule = shared(
  'disabled_elderly',
  unbroken((subject, asOf, config) => {
    const { person } = subject;
    if (youngerThan(person, config.elderlyMinAge, asOf)) return null;
    if (!isLivingOn(person, asOf)) return null;
    return membership(
      'disabled_elderly',
      person,
      allOf(
        atLeast(person, config.elderlyMinAge, asOf),
        lossOfSelfCare(person, asOf, config.disabledElderlySelfCareLevels),
      ),
    );
  }),
);

/**
 * 特殊困难老年人 (ELDERLY2022): 60 or older and one of: living alone, empty nest, left-behind elderly,
 * disabled elderly, family-planning special family.
 */
export const specialDifficultyElderly: GroupRule = unbroken((subject, asOf, config) => {
  const { person } = subject;
  if (youngerThan(person, config.elderlyMinAge, asOf)) return null;
  if (!isLivingOn(person, asOf)) return null;
  const age = atLeast(person, config.elderlyMinAge, asOf);
  const withSpouseOnly = livingArrangement(person, asOf, 'spouse_only', {
    zh: '空巢(仅与配偶同住)',
    en: 'empty nest (living with the spouse only)',
  });
  const spouseGone =
    withSpouseOnly === null || subject.spouse === null
      ? null
      : gone(relative(subject.spouse, '配偶', 'spouse'), asOf);
  const grounds = groundsThatHold<SpecialDifficultyCategory>([
    [
      'alone',
      anyOf(
        livingArrangement(person, asOf, 'alone', { zh: '独居', en: 'living alone' }),
        aloneSinceTheSpouse(person, asOf, spouseGone),
      ),
    ],
    ['empty_nest', spouseGone === null ? withSpouseOnly : null],
    ['left_behind', asGround(leftBehindElderly(subject, asOf, config), age)],
    ['disabled', asGround(disabledElderly(subject, asOf, config), age)],
    ['family_planning_special', anyOf(familyPlanningSpecial(person, asOf), onlyChildLost(subject, asOf))],
  ]);
  return membership(
    'special_difficulty_elderly',
    person,
    allOf(age, grounds.condition),
    grounds.categories.join(','),
  );
});

// --- The left-behind child clause by clause, for checking a ledger's own answers ---

/** Whether one clause holds on the as-of date, with the facts that make it hold or the gaps that do not. */
export interface ClauseAnswer {
  readonly holds: boolean;
  readonly reasons: readonly Reason[];
}

/**
 * The questions a child ledger answers itself (EXCHANGE.md "Child ledger"), answered by the rules: is the
 * child left behind, are both parents migrant, is one migrant and the other unable (and which). When a
 * clause does not hold, its reasons say why not ("母亲刘秀英未外出务工"), from the same clauses as
 * leftBehindChild, so the answers agree with the group.
 */
export interface LeftBehindChildAnswers {
  readonly leftBehindChild: ClauseAnswer;
  readonly bothParentsMigrant: ClauseAnswer;
  readonly oneMigrantOtherUnable: ClauseAnswer & { readonly unableParent: 'father' | 'mother' | null };
}

const NO_INABILITY = {
  zh: '也无无监护能力的记录(死亡、重残、重病、服刑在押、强制隔离戒毒、失联等)',
  en: 'and has no record that makes them unable to act as guardian (death, severe disability, serious illness, liberty restriction, lost contact ...)',
};

export function explainLeftBehindChild(
  subject: GroupSubject,
  asOf: IsoDate,
  config: GroupsConfig,
): LeftBehindChildAnswers {
  const { person } = subject;
  const parents = legalParents(subject);
  const minMonths = config.leftBehindChildMinMigrationMonths;
  const away = (parent: Relative) => migrant(parent, asOf, minMonths);
  const unable = (parent: Relative) => unableToActAsGuardian(parent, asOf, config);
  const notAway = (parent: Relative): Reason => {
    const found = gone(parent, asOf) === null ? held(parent.person, 'migration', asOf) : null;
    if (found === null) return { zh: `${parent.zh}未外出务工`, en: `${parent.en} is not migrant` };
    return {
      zh: `${parent.zh}外出务工自${found.since}，未满${minMonths}个月`,
      en: `${parent.en} migrant since ${found.since}, less than ${minMonths} months`,
    };
  };
  const missingParents: Reason[] = [];
  if (parents.father === null) missingParents.push({ zh: '未登记父亲', en: 'no father is recorded' });
  if (parents.mother === null) missingParents.push({ zh: '未登记母亲', en: 'no mother is recorded' });

  // 父母双方同时外出
  const both = bothParents(parents, away);
  const bothReasons: Reason[] =
    both !== null
      ? [...both.reasons]
      : missingParents.length > 0
        ? missingParents
        : [parents.father, parents.mother]
            .filter((p) => p !== null && away(p) === null)
            .map((p) => notAway(p!));

  // 一方外出另一方无监护能力
  let unableParent: 'father' | 'mother' | null = null;
  let oneReasons: Reason[] = missingParents;
  const { father, mother } = parents;
  if (father !== null && mother !== null) {
    const fatherAway = allOf(away(father), unable(mother));
    const motherAway = allOf(away(mother), unable(father));
    const one = earliestOf(fatherAway, motherAway);
    if (one !== null) {
      unableParent = one === fatherAway ? 'mother' : 'father';
      oneReasons = [...one.reasons];
    } else if (away(father) === null && away(mother) === null) {
      oneReasons = [notAway(father), notAway(mother)];
    } else if (away(father) !== null && away(mother) !== null) {
      oneReasons = [{ zh: '父母双方均外出务工', en: 'both parents are migrant' }];
    } else {
      const home = away(father) === null ? father : mother;
      oneReasons = [
        { zh: `${notAway(home).zh}，${NO_INABILITY.zh}`, en: `${notAway(home).en}, ${NO_INABILITY.en}` },
      ];
      const unlisted = unlistedIllness(home, asOf, config.seriousIllnessDiagnoses);
      if (unlisted) oneReasons.push(unlisted);
    }
  }

  // 农村留守儿童
  const member = leftBehindChild(subject, asOf, config);
  let memberReasons: Reason[];
  if (member !== null) memberReasons = [...member.reasons];
  else {
    memberReasons = [];
    if (!isLivingOn(person, asOf))
      memberReasons.push({ zh: '本人已死亡或尚未出生', en: 'not living on the date' });
    if (!person.ruralHukou)
      memberReasons.push({ zh: '户籍不在村民委员会(非农村户籍)', en: 'the hukou is not in a rural village' });
    if (!person.livesInHukouVillage)
      memberReasons.push({ zh: '不在户籍所在村居住', en: 'does not live in the hukou village' });
    const age = config.leftBehindChildUnderAge;
    if (under(person, age, asOf) === null)
      memberReasons.push({
        zh: `已满${age}周岁(${person.birthDate}出生)`,
        en: `aged ${age} or over (born ${person.birthDate})`,
      });
    if (notAwayThemselves(person, asOf) === null)
      memberReasons.push({ zh: '本人随父母外出', en: 'the child is away with a parent' });
    if (notDeclaredMissing(person, asOf) === null)
      memberReasons.push({ zh: '本人被宣告失踪', en: 'the child is declared missing by a court' });
    if (notInCustody(person, asOf) === null)
      memberReasons.push({
        zh: '本人被限制人身自由(服刑在押、强制隔离戒毒等)',
        en: 'the child is deprived of liberty (serving a sentence, compulsory drug rehabilitation ...)',
      });
    // Neither way round holds (with both parents recorded, both away would have held).
    if (both === null && unableParent === null) memberReasons.push(...oneReasons);
  }
  return {
    leftBehindChild: { holds: member !== null, reasons: memberReasons },
    bothParentsMigrant: { holds: both !== null, reasons: bothReasons },
    oneMigrantOtherUnable: { holds: unableParent !== null, unableParent, reasons: oneReasons },
  };
}

const GROUP_RULES: Readonly<Record<GroupCode, GroupRule>> = {
  left_behind_child: leftBehindChild,
  de_facto_unsupported_child: deFactoUnsupportedChild,
  orphan,
  distressed_child: distressedChild,
  left_behind_elderly: leftBehindElderly,
  left_behind_woman: leftBehindWoman,
  high_age_elderly: highAgeElderly,
  disabled_elderly: disabledElderly,
  special_difficulty_elderly: specialDifficultyElderly,
};

/**
 * The fact kinds the rules read: every kind but these two. The evaluation loads only those: a county's
 * schooling records and ledger declarations are many and decide no group. groups.rules.test.ts checks that
 * this file names neither, and the agreement test (groups.evaluate.test.ts) gives its random persons facts
 * of every kind.
 */
const UNREAD_FACT_KINDS: ReadonlySet<FactKind> = new Set<FactKind>(['schooling', 'ledger_declaration']);
export const RULE_FACT_KINDS: readonly FactKind[] = FACT_KINDS.filter((kind) => !UNREAD_FACT_KINDS.has(kind));

/**
 * A membership whose grounds changed without a break (a father severely disabled, then dead) has held since
 * the earlier grounds began: while the rule also held on the day before `since`, reach back. Then the
 * stretch is checked on the days on which someone's being alive changed, which the clauses' own dates do
 * not show, from the latest back: it breaks where the rule did not hold on such a day (an elder is left
 * behind only from the death of the child who lived at home, or from the first child's birth; nobody
 * belongs to a group on the days they were declared dead, nor a migrant relative counts while declared
 * dead); where it held on the day and the day before, the stretch before the change is the one found on the
 * day before, with its own `since`, later or earlier, checked in turn (a son away since 2020 and a daughter
 * away since 2022 who died in 2023: every living child has been away since the daughter's six months in
 * 2022, not since the son's in 2020, though on the days after her death the son alone is read).
 */
function unbroken(ruleOnTheDay: GroupRule): GroupRule {
  const reachBack = (subject: GroupSubject, from: IsoDate, config: GroupsConfig): IsoDate => {
    let since = from;
    for (;;) {
      const before = ruleOnTheDay(subject, addDays(since, -1), config);
      if (before === null || before.since >= since) return since;
      since = before.since;
    }
  };
  return (subject, asOf, config) => {
    const current = ruleOnTheDay(subject, asOf, config);
    if (current === null) return null;
    let since = reachBack(subject, current.since, config);
    // The stretch found on `day` runs from `since`; the latest change of life in it is checked, then the
    // stretch found on the day before that change, and so on back.
    let day = asOf;
    for (;;) {
      const change = lifeChangesAfter(subject, since, day)?.sort().at(-1);
      if (change === undefined) break;
      if (change < day && ruleOnTheDay(subject, change, config) === null) {
        since = addDays(change, 1);
        break;
      }
      day = addDays(change, -1);
      const earlier = ruleOnTheDay(subject, day, config);
      if (earlier === null) {
        since = change;
        break;
      }
      since = reachBack(subject, earlier.since, config);
    }
    return since === current.since ? current : { ...current, since };
  };
}

/**
 * The days in (`after`, `upTo`] on which the person or a relative was born, died, or was declared dead or
 * missing, or such a record ended (a declaration revoked); null when there are none, as for most.
 */
function lifeChangesAfter(subject: GroupSubject, after: IsoDate, upTo: IsoDate): IsoDate[] | null {
  let days: IsoDate[] | null = null;
  const add = (day: IsoDate | null) => {
    if (day !== null && day > after && day <= upTo) (days ??= []).push(day);
  };
  const of = (someone: RelativeSnapshot) => {
    for (const fact of someone.facts)
      if (fact.kind === 'death' || fact.kind === 'declared_dead' || fact.kind === 'declared_missing') {
        add(fact.from);
        add(fact.to);
      }
  };
  of(subject.person);
  for (const parent of subject.parents) of(parent);
  if (subject.spouse) of(subject.spouse);
  for (const child of subject.children) {
    of(child);
    add(child.birthDate);
  }
  return days;
}

// --- Conditions: a clause that holds on the as-of date, since when, and why ---

interface Condition {
  readonly since: IsoDate;
  readonly reasons: readonly Reason[];
}

function condition(since: IsoDate, zh: string, en: string): Condition {
  return { since, reasons: [{ zh, en }] };
}

/** Every clause holds: the whole holds since the last of them began. */
function allOf(...clauses: (Condition | null)[]): Condition | null {
  let since: IsoDate | null = null;
  const reasons: Reason[] = [];
  for (const clause of clauses) {
    if (clause === null) return null;
    since = maxDate(since, clause.since);
    reasons.push(...clause.reasons);
  }
  return since === null ? null : { since, reasons };
}

/** Alternative ways to meet one clause: the one that has held longest stands for it. */
function earliestOf(...alternatives: (Condition | null)[]): Condition | null {
  let best: Condition | null = null;
  for (const alternative of alternatives) {
    if (alternative !== null && (best === null || alternative.since < best.since)) best = alternative;
  }
  return best;
}

/** Grounds of which any one suffices: all that hold are named, and together they hold since the first. */
function groundsThatHold<C extends string>(
  grounds: readonly (readonly [C, Condition | null])[],
): { categories: C[]; condition: Condition | null } {
  const categories: C[] = [];
  let since: IsoDate | null = null;
  const reasons: Reason[] = [];
  for (const [category, ground] of grounds) {
    if (ground === null) continue;
    categories.push(category);
    since = minDate(since, ground.since);
    reasons.push(...ground.reasons);
  }
  return { categories, condition: since === null ? null : { since, reasons } };
}

function membership(
  code: GroupCode,
  person: PersonSnapshot,
  held: Condition | null,
  subCategory?: string,
): GroupMembership | null {
  if (held === null) return null;
  const since = held.since > person.birthDate ? held.since : person.birthDate;
  const base = { code, since, reasons: held.reasons };
  return subCategory === undefined || subCategory === '' ? base : { ...base, subCategory };
}

/**
 * A membership used as a ground of another group, named with its own reasons (the facts behind it), less
 * those the other group states itself (`stated`: the age clause both share).
 */
function asGround(member: GroupMembership | null, stated: Condition | null): Condition | null {
  if (member === null) return null;
  const quote = quoteOf(member.code);
  const own = member.reasons.filter(
    (reason) => !stated?.reasons.some((known) => known.zh === reason.zh && known.en === reason.en),
  );
  if (own.length === 0)
    return condition(member.since, `${quote.zh}${member.since})`, `${quote.en}${member.since}`);
  return condition(
    member.since,
    `${quote.zh}${member.since}): ${own.map((reason) => reason.zh).join('，')}`,
    `${quote.en}${member.since}: ${own.map((reason) => reason.en).join(', ')}`,
  );
}

/** How a ground that is another group begins, its `since` next: "农村留守老年人(自", "… elderly since ". */
function quoteOf(code: GroupCode): Label {
  const label = GROUP_LABELS[code];
  return { zh: `${label.zh}(自`, en: `${label.en} since ` };
}

/**
 * A membership whose grounds quote other groups (special difficulty: left-behind and disabled elderly),
 * each quote naming the `since` of that group's membership in `found`, the memberships of the same person
 * and day as the evaluation stores them. The evaluation may start a group later than its rule alone says
 * (a change of configuration under which it did not hold before, a link that began), or earlier (the
 * previous configuration held it too); the quote then says the start of the membership it names.
 */
export function quotingAsFound(
  membership: GroupMembership,
  found: readonly GroupMembership[],
): GroupMembership {
  let reasons: Reason[] | null = null;
  for (const quoted of found) {
    if (quoted.code === membership.code) continue;
    const quote = quoteOf(quoted.code);
    membership.reasons.forEach((reason, i) => {
      if (!reason.zh.startsWith(quote.zh) || !reason.en.startsWith(quote.en)) return;
      const stated = reason.en.slice(quote.en.length, quote.en.length + 10);
      if (stated === quoted.since || !isIsoDate(stated)) return;
      (reasons ??= [...membership.reasons])[i] = {
        zh: `${quote.zh}${quoted.since}${reason.zh.slice(quote.zh.length + 10)}`,
        en: `${quote.en}${quoted.since}${reason.en.slice(quote.en.length + 10)}`,
      };
    });
  }
  return reasons === null ? membership : { ...membership, reasons };
}

/** Alternatives of which any one suffices, all named: they hold since the first of them began. */
function anyOf(...alternatives: (Condition | null)[]): Condition | null {
  let since: IsoDate | null = null;
  const reasons: Reason[] = [];
  for (const alternative of alternatives) {
    if (alternative === null) continue;
    since = minDate(since, alternative.since);
    reasons.push(...alternative.reasons);
  }
  return since === null ? null : { since, reasons };
}

// --- Clauses about the person ---

/** Born by `asOf`, and neither dead nor declared dead on it. */
function isLivingOn(person: PersonSnapshot, asOf: IsoDate): boolean {
  if (person.birthDate > asOf) return false;
  return factsAsOf(person.facts, asOf).every(
    (fact) => fact.kind !== 'death' && fact.kind !== 'declared_dead',
  );
}

/** Rural hukou (villagers' committee) and living in the hukou village. */
function livesInRuralVillage(person: PersonSnapshot): boolean {
  return person.ruralHukou && person.livesInHukouVillage;
}

/**
 * The age test of `under` and `atLeast` without building their reasons. Each rule checks its age clause
 * first: the same answer as the clause inside allOf (null when it fails), at a fraction of the cost for
 * the persons of the wrong age, who are most of those the rules see.
 */
function youngerThan(person: PersonSnapshot, age: number, asOf: IsoDate): boolean {
  return ageOn(person.birthDate, asOf) < age;
}

function under(person: PersonSnapshot, age: number, asOf: IsoDate): Condition | null {
  const born = person.birthDate;
  if (ageOn(born, asOf) >= age) return null;
  return condition(born, `未满${age}周岁(${born}出生)`, `under ${age} (born ${born})`);
}

function atLeast(person: PersonSnapshot, age: number, asOf: IsoDate): Condition | null {
  const born = person.birthDate;
  if (ageOn(born, asOf) < age) return null;
  return condition(addYears(born, age), `年满${age}周岁(${born}出生)`, `aged ${age} or over (born ${born})`);
}

function withinAgeRange(person: PersonSnapshot, range: AgeRange | null, asOf: IsoDate): Condition | null {
  const born = person.birthDate;
  if (range === null) return { since: born, reasons: [] };
  const { minAge, maxAge } = range;
  const age = ageOn(born, asOf);
  if ((minAge !== null && age < minAge) || (maxAge !== null && age > maxAge)) return null;
  const since = minAge === null ? born : addYears(born, minAge);
  if (minAge !== null && maxAge !== null) {
    return condition(
      since,
      `${minAge}至${maxAge}周岁(${born}出生)`,
      `aged ${minAge} to ${maxAge} (born ${born})`,
    );
  }
  if (minAge !== null) {
    return condition(since, `年满${minAge}周岁(${born}出生)`, `aged ${minAge} or over (born ${born})`);
  }
  if (maxAge !== null) {
    return condition(since, `${maxAge}周岁及以下(${born}出生)`, `aged ${maxAge} or under (born ${born})`);
  }
  return { since: born, reasons: [] };
}

/**
 * No migration of one's own in force: a child away with a parent is not left behind, and a wife or an elder
 * working away from the hukou county does not live in the village (DOMAIN.md section 2). One who came back
 * counts from the return.
 */
function notAwayThemselves(person: PersonSnapshot, asOf: IsoDate): Condition | null {
  const own = factsOfKind(person.facts, 'migration');
  if (factsAsOf(own, asOf).length > 0) return null;
  const returned = maxDate(...own.map((fact) => fact.to).filter((to) => to !== null && to <= asOf));
  if (returned === null) return { since: person.birthDate, reasons: [] };
  return condition(returned, `本人外出于${returned}结束`, `own migration ended on ${returned}`);
}

/**
 * Not declared missing by a court (宣告失踪): the left-behind groups' "lives in the village" (DOMAIN.md
 * section 2). A court declares missing one whose whereabouts have been unknown for two years (Civil Code
 * art. 40): alive in law, so the groups without a residence clause keep them, but not living in the
 * village, as the rules already read a declared-missing child of an elder as not at home. One whose
 * declaration was revoked (art. 45: the person has reappeared) counts from the revocation.
 */
function notDeclaredMissing(person: PersonSnapshot, asOf: IsoDate): Condition | null {
  const own = factsOfKind(person.facts, 'declared_missing');
  if (own.length === 0) return { since: person.birthDate, reasons: [] };
  if (factsAsOf(own, asOf).length > 0) return null;
  const revoked = maxDate(...own.map((fact) => fact.to).filter((to) => to !== null && to <= asOf));
  if (revoked === null) return { since: person.birthDate, reasons: [] };
  return condition(
    revoked,
    `本人失踪宣告于${revoked}撤销`,
    `own declaration of missing revoked on ${revoked}`,
  );
}

/**
 * Not deprived of liberty (服刑在押, 强制隔离戒毒, 其他限制人身自由): the left-behind groups' "lives in the
 * village" (DOMAIN.md section 2). One serving a sentence or held in compulsory drug rehabilitation lives
 * in a prison or a rehabilitation centre, a minor in a juvenile offenders' institution (未成年犯管教所,
 * Prison Law art. 74) or a specialised school under closed management; none lives in the village, as
 * one working away does not. The stretch breaks on the restriction's first day and resumes on its
 * recorded end, the release, as the facts stand: an expected end that has passed without a recorded
 * release keeps the person away until the record says otherwise, as for a parent in the eight states.
 */
function notInCustody(person: PersonSnapshot, asOf: IsoDate): Condition | null {
  const own = factsOfKind(person.facts, 'liberty_restriction');
  if (own.length === 0) return { since: person.birthDate, reasons: [] };
  if (factsAsOf(own, asOf).length > 0) return null;
  let last: (typeof own)[number] | null = null;
  for (const fact of own)
    if (fact.to !== null && fact.to <= asOf && (last === null || fact.to > (last.to ?? ''))) last = fact;
  if (last?.to == null) return { since: person.birthDate, reasons: [] };
  const what = LIBERTY_RESTRICTION_LABELS[last.data.type];
  return condition(
    last.to,
    `本人${what.zh}于${last.to}结束`,
    `own liberty restriction (${what.en}) ended on ${last.to}`,
  );
}

/**
 * SC2016-36 家庭经济困难: dibao, tekun or near-dibao in force on the child's own record or on a legal
 * parent's (one not gone: a dead parent's open record describes no present household). Every record that
 * holds is named, with whose it is.
 */
function familyPoverty(subject: GroupSubject, asOf: IsoDate): Condition | null {
  const { father, mother } = legalParents(subject);
  const ofParent = (parent: Relative | null) =>
    parent === null || gone(parent, asOf) !== null ? null : assistanceOf(parent, asOf);
  return anyOf(
    assistanceOf({ person: subject.person, zh: '本人', en: 'the child' }, asOf),
    ofParent(father),
    ofParent(mother),
  );
}

function assistanceOf(someone: Relative, asOf: IsoDate): Condition | null {
  const found = held(someone.person, 'assistance', asOf);
  if (found === null) return null;
  const program = ASSISTANCE_PROGRAM_LABELS[found.fact.data.program];
  return stated(
    found,
    {
      zh: `家庭经济困难(${someone.zh}: ${program.zh})`,
      en: `family poverty (${someone.en}: ${program.en})`,
    },
    { zh: '家庭经济困难', en: 'family poverty' },
  );
}

function ownDisability(person: PersonSnapshot, asOf: IsoDate): Condition | null {
  const found = held(person, 'disability', asOf);
  if (found === null) return null;
  const what = disabilityLabel(found.fact);
  return stated(
    found,
    { zh: `本人残疾(${what.zh})`, en: `own disability (${what.en})` },
    { zh: '残疾', en: 'disabled' },
  );
}

function guardianshipFailure(person: PersonSnapshot, asOf: IsoDate): Condition | null {
  const found = held(person, 'guardianship_failure', asOf);
  if (found === null) return null;
  const what = GUARDIANSHIP_FAILURE_LABELS[found.fact.data.type];
  return stated(
    found,
    {
      zh: `保护个案认定监护缺失或不当(${what.zh})`,
      en: `guardianship failure (${what.en}) found by a protection case`,
    },
    { zh: '监护缺失或不当', en: 'guardianship failure' },
  );
}

function lossOfSelfCare(
  person: PersonSnapshot,
  asOf: IsoDate,
  levels: readonly SelfCareLevel[],
): Condition | null {
  const found = held(person, 'self_care', asOf, (fact) => levels.includes(fact.data.level));
  if (found === null) return null;
  const level = SELF_CARE_LABELS[found.fact.data.level];
  return stated(found, level, { zh: '失能', en: 'loss of self-care' });
}

function livingArrangement(
  person: PersonSnapshot,
  asOf: IsoDate,
  value: 'alone' | 'spouse_only',
  label: Label,
): Condition | null {
  const found = held(person, 'living_arrangement', asOf, (fact) => fact.data.value === value);
  if (found === null) return null;
  return stated(found, label, label);
}

/**
 * Empty nest (空巢, living with the spouse only) recorded, and the spouse on record dead, declared dead or
 * declared missing: from that day the elder lives alone (独居), whatever the stale arrangement record says.
 * Without a spouse on record the record is taken as it stands (a missing link is incomplete data).
 */
function aloneSinceTheSpouse(
  person: PersonSnapshot,
  asOf: IsoDate,
  spouseGone: Condition | null,
): Condition | null {
  if (spouseGone === null) return null;
  const found = held(person, 'living_arrangement', asOf, (fact) => fact.data.value === 'spouse_only');
  if (found === null) return null;
  const recorded = sinceRecord(
    found,
    { zh: '登记为仅与配偶同住', en: 'recorded as living with the spouse only' },
    { zh: '仅与配偶同住', en: 'living with the spouse only' },
  );
  const gone = spouseGone.reasons[0] as Reason;
  return condition(
    maxDate(found.since, spouseGone.since) as IsoDate,
    `独居: ${recorded.zh}，${gone.zh}`,
    `living alone: ${recorded.en}, ${gone.en}`,
  );
}

function familyPlanningSpecial(person: PersonSnapshot, asOf: IsoDate): Condition | null {
  const found = held(person, 'family_planning_special', asOf);
  if (found === null) return null;
  const what = { zh: '计划生育特殊家庭', en: 'family-planning special family' };
  return stated(found, what, what);
}

const ONLY_CHILD_WORDS = {
  1: { zh: '独生子', en: 'only son' },
  2: { zh: '独生女', en: 'only daughter' },
  unknown: { zh: '独生子女', en: 'only child' },
} as const;

/** 三级以上残疾: the disability of an only child that makes a family-planning special family. */
const ONLY_CHILD_DISABILITY_MAX_GRADE = 3;

/**
 * 计划生育特殊家庭 read from the children on record (DOMAIN.md section 2, "only child dead or disabled"):
 * the elder has one child on record born by the day (a dead child counts as a child: two children of whom
 * one died are no only child), and that child has died or been declared dead, or has a disability of grade
 * 1-3 (三级以上残疾, the national special assistance's 伤残). A child born or adopted since ends it (未再生育
 * 或收养). The recorded fact (the health commission's list) stays a ground of its own.
 */
function onlyChildLost(subject: GroupSubject, asOf: IsoDate): Condition | null {
  let only: RelativeSnapshot | null = null;
  for (const child of subject.children) {
    if (child.birthDate !== null && child.birthDate > asOf) continue;
    if (only !== null) return null;
    only = child;
  }
  if (only === null) return null;
  const word = ONLY_CHILD_WORDS[only.sex ?? 'unknown'];
  const child = relative(only, word.zh, word.en);
  const lost =
    earliestOf(
      occurred(child, 'death', asOf, { zh: '死亡', en: 'died' }),
      occurred(child, 'declared_dead', asOf, { zh: '被宣告死亡', en: 'declared dead' }),
    ) ?? onlyChildDisabled(child, asOf);
  if (lost === null) return null;
  const why = lost.reasons[0] as Reason;
  return condition(lost.since, `计划生育特殊家庭: ${why.zh}`, `family-planning special family: ${why.en}`);
}

function onlyChildDisabled(child: Relative, asOf: IsoDate): Condition | null {
  const found = held(
    child.person,
    'disability',
    asOf,
    (fact) => fact.data.grade <= ONLY_CHILD_DISABILITY_MAX_GRADE,
  );
  if (found === null) return null;
  const what = disabilityLabel(found.fact);
  return stated(
    found,
    { zh: `${child.zh}残疾(${what.zh})`, en: `${child.en} disabled (${what.en})` },
    { zh: '残疾', en: 'disabled' },
  );
}

function highAgeBand(
  birthDate: IsoDate,
  asOf: IsoDate,
  bandStarts: readonly number[],
): { label: string; reason: Reason } | null {
  const age = ageOn(birthDate, asOf);
  const index = bandStarts.findLastIndex((start) => start <= age);
  const start = bandStarts[index];
  if (start === undefined) return null;
  const next = bandStarts[index + 1];
  const label = next === undefined ? `${start}+` : `${start}-${next - 1}`;
  const since = addYears(birthDate, start);
  return { label, reason: { zh: `${label}岁年龄段自${since}`, en: `age band ${label} since ${since}` } };
}

/** A band's reason as highAgeBand writes it ("age band 90-99 since 2021-01-25"), whatever the band. */
const BAND_REASON = {
  zh: /^\d+(?:-\d+|\+)岁年龄段自\d{4}-\d{2}-\d{2}$/,
  en: /^age band \d+(?:-\d+|\+) since \d{4}-\d{2}-\d{2}$/,
};

/**
 * A high-age elderly period's sub-category and reasons on a day it covers. The band depends on the birth
 * date and the day alone (DOMAIN.md section 2), while a period, one stretch from the first band's
 * birthday on, holds the band of the evaluation that wrote it last: a list of the members on a past day
 * derives that day's band and names it in place of the band the period holds, the other reasons kept.
 * Null when the day is in no band (before the first) or the reasons name no band: the period's own then.
 */
export function highAgeGroundsOn(
  birthDate: IsoDate,
  day: IsoDate,
  bandStarts: readonly number[],
  reasons: { readonly zh: readonly string[]; readonly en: readonly string[] },
): { subCategory: string; reasons: { zh: string[]; en: string[] } } | null {
  const band = highAgeBand(birthDate, day, bandStarts);
  if (band === null) return null;
  const at = reasons.en.findIndex(
    (en, i) => BAND_REASON.en.test(en) && BAND_REASON.zh.test(reasons.zh[i] ?? ''),
  );
  if (at < 0) return null;
  const zh = [...reasons.zh];
  const en = [...reasons.en];
  zh[at] = band.reason.zh;
  en[at] = band.reason.en;
  return { subCategory: band.label, reasons: { zh, en } };
}

// --- Clauses about relatives ---

/** A relative as the reasons name them: "父亲张三" / "father 张三". */
interface Relative {
  readonly person: RelativeSnapshot;
  readonly zh: string;
  readonly en: string;
}

function relative(person: RelativeSnapshot, zh: string, en: string): Relative {
  return { person, zh: `${zh}${person.name}`, en: `${en} ${person.name}` };
}

interface LegalParents {
  readonly father: Relative | null;
  readonly mother: Relative | null;
}

/**
 * Adoptive parents if any, with the biological parents married to one of them (a step-parent adoption);
 * else the biological ones; step-parents never (see the note at the top). An adoptive parent comes first
 * when a birth parent of the same sex is also counted.
 */
function legalParents(subject: GroupSubject): LegalParents {
  const adoptive = subject.parents.filter((parent) => parent.parentType === 'adoptive');
  const biological = subject.parents.filter((parent) => parent.parentType === 'biological');
  const counted =
    adoptive.length === 0
      ? biological
      : [
          ...adoptive,
          ...biological.filter((parent) => adoptive.some((a) => parent.spouseIds?.includes(a.id) === true)),
        ];
  const father = counted.find((parent) => parent.sex === 1);
  const mother = counted.find((parent) => parent.sex === 2);
  return {
    father: father === undefined ? null : relative(father, '父亲', 'father'),
    mother: mother === undefined ? null : relative(mother, '母亲', 'mother'),
  };
}

type RelativeClause = (relative: Relative) => Condition | null;

function bothParents({ father, mother }: LegalParents, clause: RelativeClause): Condition | null {
  if (father === null || mother === null) return null;
  return allOf(clause(father), clause(mother));
}

/** One parent meets `first` and the other meets `second`, either way round. */
function oneParentAndTheOther(
  { father, mother }: LegalParents,
  first: RelativeClause,
  second: RelativeClause,
): Condition | null {
  if (father === null || mother === null) return null;
  return earliestOf(allOf(first(father), second(mother)), allOf(first(mother), second(father)));
}

/** Dead, declared dead or declared missing by a court (死亡, 宣告死亡, 宣告失踪). */
function gone(someone: Relative, asOf: IsoDate): Condition | null {
  return earliestOf(
    occurred(someone, 'death', asOf, { zh: '死亡', en: 'died' }),
    occurred(someone, 'declared_dead', asOf, { zh: '被宣告死亡', en: 'declared dead' }),
    occurred(someone, 'declared_missing', asOf, { zh: '被宣告失踪', en: 'declared missing' }),
  );
}

/**
 * Away for work (外出务工) for at least `minMonths`, counted from the day the months are reached. Named
 * with the stretch's start, from which the months count: the reason names no destination, so a record
 * that replaced another (a change of city) changes nothing it says.
 */
function migrant(someone: Relative, asOf: IsoDate, minMonths: number): Condition | null {
  if (gone(someone, asOf) !== null) return null;
  const found = held(someone.person, 'migration', asOf);
  if (found === null) return null;
  const counts = addMonths(found.since, minMonths);
  if (counts > asOf) return null;
  return condition(
    counts,
    `${someone.zh}外出务工自${found.since}${forMonthsZh(minMonths)}`,
    `${someone.en} migrant since ${found.since}${forMonthsEn(minMonths)}`,
  );
}

const CHILD_WORDS = {
  1: { zh: '儿子', en: 'son' },
  2: { zh: '女儿', en: 'daughter' },
  unknown: { zh: '子女', en: 'child' },
} as const;

/** A child without a birth date on record is born (see "Relatives on record" at the top). */
function everyLivingChildMigrant(
  children: readonly RelativeSnapshot[],
  asOf: IsoDate,
  minMonths: number,
): Condition | null {
  const living = children
    .filter((child) => child.birthDate === null || child.birthDate <= asOf)
    .map((child) => {
      const word = CHILD_WORDS[child.sex ?? 'unknown'];
      return relative(child, word.zh, word.en);
    })
    .filter((child) => gone(child, asOf) === null);
  if (living.length === 0) return null;
  return allOf(...living.map((child) => migrant(child, asOf, minMonths)));
}

/** SC2016-13 另一方无监护能力: gone, or in one of the eight states (durations per config). */
function unableToActAsGuardian(parent: Relative, asOf: IsoDate, config: GroupsConfig): Condition | null {
  const months = config.leftBehindChildOtherParentMinMonths;
  return earliestOf(
    gone(parent, asOf),
    inOneOfTheEightStates(parent, asOf, config, {
      libertyRestrictionMinMonths: months,
      lostContactMinMonths: months,
    }),
  );
}

interface StateDurations {
  readonly libertyRestrictionMinMonths: number;
  readonly lostContactMinMonths: number;
}

/** The eight states of MCA2019-62 (八类情形), for a parent who is not gone. */
function inOneOfTheEightStates(
  parent: Relative,
  asOf: IsoDate,
  config: GroupsConfig,
  durations: StateDurations = config,
): Condition | null {
  if (gone(parent, asOf) !== null) return null;
  return earliestOf(
    severelyDisabled(parent, asOf, config), // 重残
    seriouslyIll(parent, asOf, config.seriousIllnessDiagnoses), // 重病
    libertyRestricted(parent, asOf, durations.libertyRestrictionMinMonths), // 服刑在押, 强制隔离戒毒, 其他限制人身自由
    lostContact(parent, asOf, durations.lostContactMinMonths), // 失联
    ongoing(parent, 'guardianship_revoked', asOf, { zh: '被撤销监护资格', en: 'guardianship revoked' }),
    ongoing(parent, 'deported', asOf, { zh: '被遣送(驱逐)出境', en: 'deported' }),
  );
}

/** MCA2019-62 重残: grade 1-2 in any category, or grade 3-4 intellectual or mental (defaults). */
function isSevereDisability(fact: FactOfKind<'disability'>, config: GroupsConfig): boolean {
  const { category, grade } = fact.data;
  return (
    grade <= config.severeDisabilityMaxGrade ||
    (config.severeDisabilityCognitiveCategories.includes(category) &&
      grade <= config.severeDisabilityCognitiveMaxGrade)
  );
}

function severelyDisabled(parent: Relative, asOf: IsoDate, config: GroupsConfig): Condition | null {
  const found = held(parent.person, 'disability', asOf, (fact) => isSevereDisability(fact, config));
  if (found === null) return null;
  const what = disabilityLabel(found.fact);
  return stated(
    found,
    { zh: `${parent.zh}重度残疾(${what.zh})`, en: `${parent.en} severely disabled (${what.en})` },
    { zh: '重度残疾', en: 'severely disabled' },
  );
}

/**
 * 重病 as the county defines it (seriousIllnessDiagnoses): with no list, every serious illness on record
 * ("母亲李梅患重病自2024-01-01"); with one, only a record whose diagnosis is a listed disease, and the
 * reason names it as the county lists it ("母亲李梅患重病(尿毒症)自2024-01-01"). A record that names no
 * diagnosis, or another one (a cold), does not count then: the list is the definition, and a stretch
 * runs over the qualifying records only.
 */
function seriouslyIll(parent: Relative, asOf: IsoDate, diagnoses: readonly string[]): Condition | null {
  const what = { zh: '患重病', en: 'seriously ill' };
  if (diagnoses.length === 0) return ongoing(parent, 'serious_illness', asOf, what);
  const listed = (fact: FactOfKind<'serious_illness'>) => listedDiagnosis(fact, diagnoses);
  const found = held(parent.person, 'serious_illness', asOf, (fact) => listed(fact) !== null);
  if (found === null) return null;
  const disease = listed(found.fact) as string;
  return stated(
    found,
    { zh: `${parent.zh}患重病(${disease})`, en: `${parent.en} seriously ill (${disease})` },
    what,
  );
}

/**
 * Why a serious illness on record does not count (a county's list that does not name it), for the
 * ledger's answers: "母亲李梅登记的重病(感冒)不在本地区认定的重病病种之列". Null when the county lists no
 * disease, or no such record is in force.
 */
function unlistedIllness(parent: Relative, asOf: IsoDate, diagnoses: readonly string[]): Reason | null {
  if (diagnoses.length === 0 || gone(parent, asOf) !== null) return null;
  const found = held(parent.person, 'serious_illness', asOf);
  if (found === null || listedDiagnosis(found.fact, diagnoses) !== null) return null;
  const recorded = found.fact.data.diagnosis?.trim() ?? '';
  return recorded === ''
    ? {
        zh: `${parent.zh}登记的重病未写明病种，本地区按病种认定重病`,
        en: `${parent.en}'s serious illness on record names no diagnosis, and the region counts listed diseases only`,
      }
    : {
        zh: `${parent.zh}登记的重病(${recorded})不在本地区认定的重病病种之列`,
        en: `${parent.en}'s serious illness on record (${recorded}) is not a disease the region counts`,
      };
}

/** Each illness list read so far, by its matching key (one list per configuration, read many times). */
const diseasesByKey = new WeakMap<readonly string[], ReadonlyMap<string, string>>();

/** The listed disease a serious illness record names (diagnosisKey), as the county lists it; else null. */
function listedDiagnosis(fact: FactOfKind<'serious_illness'>, diagnoses: readonly string[]): string | null {
  const recorded = fact.data.diagnosis;
  if (typeof recorded !== 'string') return null;
  let byKey = diseasesByKey.get(diagnoses);
  if (!byKey) {
    byKey = new Map(diagnoses.map((disease) => [diagnosisKey(disease), disease.trim()]));
    diseasesByKey.set(diagnoses, byKey);
  }
  return byKey.get(diagnosisKey(recorded)) ?? null;
}

/**
 * A sentence, compulsory drug rehabilitation or other liberty restriction lasting `minMonths` or more: once
 * it has ended (the release recorded), by how long it really lasted; while it runs, from the start when the
 * expected end is far enough away, otherwise once it has lasted that long. A later record that continues the
 * stretch (a sentence, then drug rehabilitation) is named with its own start, and the stretch's start after it.
 * The expected end is the one the latest record of the stretch states; a record that states none (a transfer
 * recorded without the term) leaves the one stated before it standing. It is the term's last day (a
 * judgment's 刑期自…起至…止, a drug rehabilitation decision's 期限自…起至…止), not the first day free as a
 * fact's recorded end is: a six-month sentence from 2026-03-01 runs to 2026-08-31 and lasts 6 months.
 */
function libertyRestricted(parent: Relative, asOf: IsoDate, minMonths: number): Condition | null {
  const found = held(parent.person, 'liberty_restriction', asOf);
  if (found === null) return null;
  const type = LIBERTY_RESTRICTION_LABELS[found.fact.data.type];
  const lastedLongEnough = addMonths(found.since, minMonths);
  const ended = stretchEnd(factsOfKind(parent.person.facts, 'liberty_restriction'), found.fact);
  if (ended !== null && ended < lastedLongEnough) return null;
  const what = sinceRecord(
    found,
    { zh: `${parent.zh}${type.zh}`, en: `${parent.en} ${type.en}` },
    { zh: '限制人身自由', en: 'liberty restricted' },
  );
  if (ended !== null) {
    return condition(found.since, `${what.zh}(至${ended})`, `${what.en} (until ${ended})`);
  }
  const expectedEnd = stretchExpectedEnd(parent.person, found.since, asOf);
  if (expectedEnd !== null && lastedLongEnough <= addDays(expectedEnd, 1)) {
    return condition(
      found.since,
      `${what.zh}(预计${expectedEnd}结束)`,
      `${what.en} (expected end ${expectedEnd})`,
    );
  }
  if (lastedLongEnough > asOf) return null;
  return condition(
    lastedLongEnough,
    `${what.zh}${forMonthsZh(minMonths)}`,
    `${what.en}${forMonthsEn(minMonths)}`,
  );
}

/**
 * 失联: counted from the police report. Records that meet or overlap are one loss of contact (a record
 * updated through the registry or a ledger import ends the old one the day the new one begins): the 6
 * months run from the first report of the stretch, and never from before the stretch began (a report dated
 * before the contact was lost, or copied from an earlier loss since ended, proves nothing about this one).
 */
function lostContact(parent: Relative, asOf: IsoDate, minMonths: number): Condition | null {
  const records = factsOfKind(parent.person.facts, 'lost_contact');
  const since = heldSince(records, asOf);
  if (since === null) return null;
  // Every record that begins on a day of the stretch up to the as-of date belongs to it.
  const reported = minDate(
    ...records.filter((fact) => fact.from >= since && fact.from <= asOf).map((f) => f.data.policeReportDate),
  );
  if (reported === null) return null;
  const counted = maxDate(since, reported) as IsoDate;
  const lastedLongEnough = addMonths(counted, minMonths);
  if (lastedLongEnough > asOf) return null;
  const lost = since === reported ? '' : `自${since}`;
  const lostEn = since === reported ? '' : ` since ${since}`;
  const from = counted === reported ? '' : `(自失联之日起算)`;
  const fromEn = counted === reported ? '' : ' (counted from the loss of contact)';
  return condition(
    lastedLongEnough,
    `${parent.zh}失联${lost}，报警日期${reported}${from}${forMonthsZh(minMonths)}`,
    `${parent.en} lost contact${lostEn}, reported to the police on ${reported}${fromEn}${forMonthsEn(minMonths)}`,
  );
}

/**
 * The expected end of the liberty restriction that has run without a break since `since`: the one stated
 * by the latest record begun by `asOf` that states one; null when none does.
 */
function stretchExpectedEnd(person: RelativeSnapshot, since: IsoDate, asOf: IsoDate): IsoDate | null {
  let latest: { from: IsoDate; expectedEnd: IsoDate } | null = null;
  for (const fact of factsOfKind(person.facts, 'liberty_restriction')) {
    const expectedEnd = fact.data.expectedEnd ?? null;
    if (expectedEnd === null || fact.from < since || fact.from > asOf) continue;
    if (latest === null || fact.from > latest.from) latest = { from: fact.from, expectedEnd };
  }
  return latest?.expectedEnd ?? null;
}

// --- Reading facts ---

/** The unbroken stretch of qualifying facts covering `asOf`: since when, and the most recent one in force. */
function held<K extends FactKind>(
  person: RelativeSnapshot,
  kind: K,
  asOf: IsoDate,
  qualifies?: (fact: FactOfKind<K>) => boolean,
): { since: IsoDate; fact: FactOfKind<K> } | null {
  // Asked many times per person, mostly of persons with no fact of the kind: one pass, no copies then.
  let facts: FactOfKind<K>[] | null = null;
  for (const fact of person.facts) {
    if (fact.kind !== kind || (qualifies !== undefined && !qualifies(fact as FactOfKind<K>))) continue;
    (facts ??= []).push(fact as FactOfKind<K>);
  }
  if (facts === null) return null;
  const since = heldSince(facts, asOf);
  let latest: FactOfKind<K> | null = null;
  for (const fact of factsAsOf(facts, asOf)) if (latest === null || fact.from > latest.from) latest = fact;
  return since === null || latest === null ? null : { since, fact: latest };
}

/**
 * The recorded end of the unbroken stretch of `periods` that `current` belongs to (periods that overlap or
 * meet continue it); null while the stretch is open.
 */
function stretchEnd(periods: readonly Period[], current: Period): IsoDate | null {
  let end = current.to;
  for (let extended = true; extended && end !== null;) {
    extended = false;
    for (const period of periods) {
      if (end === null) break;
      if (period.from <= end && (period.to === null || period.to > end)) {
        end = period.to;
        extended = true;
      }
    }
  }
  return end;
}

/**
 * A state in force, named with its start: "父亲张三患重病自2024-01-01"; a record that replaced an earlier
 * one, with the start of the stretch too (see `sinceRecord`).
 */
function ongoing(someone: Relative, kind: FactKind, asOf: IsoDate, what: Label): Condition | null {
  const found = held(someone.person, kind, asOf);
  if (found === null) return null;
  return stated(found, { zh: `${someone.zh}${what.zh}`, en: `${someone.en} ${what.en}` }, what);
}

/**
 * A state read from a stretch of records (`held`), named with the record in force and that record's own
 * start. Where the registry replaced an earlier record of the same kind (it ends the open record on the
 * new one's start: dibao, then near-dibao; a disability regraded; moderate loss of self-care become
 * severe), the stretch began with another record, and the reason says since when the state has held
 * without a break: "家庭经济困难(本人: 低保边缘)自2022-03-01(自2020-01-01起连续家庭经济困难)" / "family poverty
 * (the child: near-dibao) since 2022-03-01 (family poverty without a break since 2020-01-01)". A stretch
 * of one record reads "…自2020-01-01" / "… since 2020-01-01". `what` names the record; `continuously`, the
 * state the whole stretch is.
 */
function sinceRecord(found: { since: IsoDate; fact: Period }, what: Label, continuously: Label): Label {
  const { since, fact } = found;
  if (fact.from <= since) return { zh: `${what.zh}自${since}`, en: `${what.en} since ${since}` };
  return {
    zh: `${what.zh}自${fact.from}(自${since}起连续${continuously.zh})`,
    en: `${what.en} since ${fact.from} (${continuously.en} without a break since ${since})`,
  };
}

/** The clause a stretch of records meets, from the stretch's start, named as `sinceRecord` names it. */
function stated(found: { since: IsoDate; fact: Period }, what: Label, continuously: Label): Condition {
  const text = sinceRecord(found, what, continuously);
  return condition(found.since, text.zh, text.en);
}

/** An event in force, named with its date: "父亲张三死亡(2020-01-01)". */
function occurred(someone: Relative, kind: FactKind, asOf: IsoDate, what: Label): Condition | null {
  const found = held(someone.person, kind, asOf);
  if (found === null) return null;
  return condition(
    found.since,
    `${someone.zh}${what.zh}(${found.since})`,
    `${someone.en} ${what.en} on ${found.since}`,
  );
}

function disabilityLabel(fact: FactOfKind<'disability'>): Label {
  const category = DISABILITY_CATEGORY_LABELS[fact.data.category];
  const grade = DISABILITY_GRADE_LABELS[fact.data.grade];
  return { zh: `${category.zh}${grade.zh}`, en: `${category.en}, ${grade.en}` };
}

function forMonthsZh(months: number): string {
  return months > 0 ? `(已满${months}个月)` : '';
}

function forMonthsEn(months: number): string {
  return months > 0 ? ` (${months} months or more)` : '';
}

// --- Why a membership ended ---

/** Facts that happen on a day (named with their date) rather than last from it. */
const EVENT_KINDS: ReadonlySet<FactKind> = new Set([
  'death',
  'declared_dead',
  'declared_missing',
  'guardianship_revoked',
  'deported',
]);

/** By sex; `unknown` for a parent whose sex is not on record. */
const PARENT_ROLES: Record<ParentType, Record<1 | 2 | 'unknown', Label>> = {
  biological: {
    1: { zh: '父亲', en: 'father' },
    2: { zh: '母亲', en: 'mother' },
    unknown: { zh: '父(母)', en: 'parent' },
  },
  adoptive: {
    1: { zh: '养父', en: 'adoptive father' },
    2: { zh: '养母', en: 'adoptive mother' },
    unknown: { zh: '养父(母)', en: 'adoptive parent' },
  },
  step: {
    1: { zh: '继父', en: 'stepfather' },
    2: { zh: '继母', en: 'stepmother' },
    unknown: { zh: '继父(母)', en: 'step-parent' },
  },
};

/** The subject's relatives on a day, keyed by role and person, named as the reasons name them. */
function relativesOf(subject: GroupSubject): Map<string, Relative> {
  const out = new Map<string, Relative>();
  for (const parent of subject.parents) {
    const role = PARENT_ROLES[parent.parentType][parent.sex ?? 'unknown'];
    out.set(`${parent.parentType}:${parent.id}`, relative(parent, role.zh, role.en));
  }
  if (subject.spouse) out.set(`spouse:${subject.spouse.id}`, relative(subject.spouse, '配偶', 'spouse'));
  for (const child of subject.children) out.set(`child:${child.id}`, relative(child, '子女', 'child'));
  return out;
}

function factChanges(someone: Relative, day: IsoDate): Label[] {
  const out: Label[] = [];
  // A birth counts for the relatives' rules: a first grandchild at home ends "every child away".
  if (someone.person.birthDate === day)
    out.push({ zh: `${someone.zh}出生(${day})`, en: `${someone.en} born on ${day}` });
  for (const fact of someone.person.facts) {
    const what = FACT_LABELS[fact.kind];
    if (fact.from === day)
      out.push(
        EVENT_KINDS.has(fact.kind)
          ? { zh: `${someone.zh}${what.zh}(${day})`, en: `${someone.en}: ${what.en} on ${day}` }
          : { zh: `${someone.zh}${what.zh}自${day}起`, en: `${someone.en}: ${what.en} from ${day}` },
      );
    else if (fact.to === day)
      out.push({
        zh: `${someone.zh}${what.zh}于${day}结束`,
        en: `${someone.en}: ${what.en} ended on ${day}`,
      });
  }
  return out;
}

/**
 * What changed for a subject on `day` against the day before, as a worklist item of a group left names it
 * ("父亲张三外出务工于2026-10-01结束", "年满16周岁(2026-05-01)"): the person's age on a birthday, the facts the
 * rules read of the person and of the relatives on both days that began or ended that day, and the parents,
 * spouse or children linked or unlinked that day. Empty when none of these changed: the membership then
 * ended for a reason this cannot see (a record corrected, a change of residence).
 */
export function changesOn(history: GroupSubject | SubjectHistory, day: IsoDate): Label[] {
  const subjects = asHistory(history);
  const before = subjects.on(addDays(day, -1));
  const after = subjects.on(day);
  const out: Label[] = [];
  const age = ageOn(after.person.birthDate, day);
  if (age > 0 && age > ageOn(before.person.birthDate, addDays(day, -1)))
    out.push({ zh: `年满${age}周岁(${day})`, en: `turned ${age} on ${day}` });
  out.push(...factChanges({ person: after.person, zh: '本人', en: 'the person' }, day));
  const was = relativesOf(before);
  const is = relativesOf(after);
  for (const [key, someone] of is) {
    if (was.has(key)) out.push(...factChanges(someone, day));
    else
      out.push({
        zh: `与${someone.zh}的关系自${day}起生效`,
        en: `the link to ${someone.en} began on ${day}`,
      });
  }
  for (const [key, someone] of was)
    if (!is.has(key))
      out.push({ zh: `与${someone.zh}的关系于${day}终止`, en: `the link to ${someone.en} ended on ${day}` });
  return out;
}
