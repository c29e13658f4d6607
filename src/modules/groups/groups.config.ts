// The thresholds of the group rules. They vary by province or county, so they live in effective-dated
// configuration (one row per region and period); these are the defaults of DOMAIN.md section 2. Ages are
// completed years (周岁).

import type { DisabilityCategory, DisabilityGrade, SelfCareLevel } from '../registry/index.ts';

/** An inclusive age range in completed years; a null end is open. */
export interface AgeRange {
  readonly minAge: number | null;
  readonly maxAge: number | null;
}

export interface GroupsConfig {
  /** 农村留守儿童: under this age (SC2016-13: under 16). */
  readonly leftBehindChildUnderAge: number;
  /** 农村留守儿童: a parent counts as migrant after this many months away (0 = at once). */
  readonly leftBehindChildMinMigrationMonths: number;
  /**
   * 农村留守儿童, "one parent migrant and the other unable to act as guardian": a liberty restriction or
   * lost contact of the other parent counts after this many months (0 = at once; 6 uses the durations of
   * the eight states).
   */
  readonly leftBehindChildOtherParentMinMonths: number;
  /** 事实无人抚养儿童, 孤儿, 困境儿童: under this age (minors, under 18). */
  readonly minorUnderAge: number;

  /** Eight states (MCA2019-62): severe disability is grade 1..this grade in any category, */
  readonly severeDisabilityMaxGrade: DisabilityGrade;
  /** or grade 1..`severeDisabilityCognitiveMaxGrade` in these categories (intellectual, mental). */
  readonly severeDisabilityCognitiveCategories: readonly DisabilityCategory[];
  readonly severeDisabilityCognitiveMaxGrade: DisabilityGrade;
  /** Eight states: a sentence, drug rehabilitation or other liberty restriction lasting this long. */
  readonly libertyRestrictionMinMonths: number;
  /** Eight states: lost contact for this long since the police report. */
  readonly lostContactMinMonths: number;
  /**
   * Eight states, serious illness (重病) as the county defines it: the diseases it counts (病种, such as
   * the province's list of serious and major illnesses of the medical assistance scheme). A serious
   * illness record counts when its diagnosis is one of them (diagnosisKey: width, spaces and Latin
   * case aside), and its reason names the disease. Empty: every serious illness on record counts, the
   * recorder having applied the county's definition (the rule before this setting).
   */
  readonly seriousIllnessDiagnoses: readonly string[];

  /** Left-behind, disabled and special-difficulty elderly: this age or older. */
  readonly elderlyMinAge: number;
  /** 农村留守老年人: every living child migrant for this long. */
  readonly leftBehindElderlyMinMigrationMonths: number;
  /** 农村留守妇女: husband migrant for this long. */
  readonly leftBehindWomanMinMigrationMonths: number;
  /** 农村留守妇女: optional age range; null = any age. */
  readonly leftBehindWomanAgeRange: AgeRange | null;
  /**
   * 高龄老年人 (MOF2014-113): the first age of each band, ascending. The first is the group's threshold;
   * each band runs to the next band's start (80, 90, 100 give 80-89, 90-99, 100+).
   */
  readonly highAgeBandStarts: readonly number[];
  /** 失能老年人: the self-care levels that count as disabled. */
  readonly disabledElderlySelfCareLevels: readonly SelfCareLevel[];
}

export const DEFAULT_GROUPS_CONFIG: GroupsConfig = Object.freeze({
  leftBehindChildUnderAge: 16,
  leftBehindChildMinMigrationMonths: 0,
  leftBehindChildOtherParentMinMonths: 0,
  minorUnderAge: 18,
  severeDisabilityMaxGrade: 2,
  severeDisabilityCognitiveCategories: Object.freeze([5, 6] as const),
  severeDisabilityCognitiveMaxGrade: 4,
  libertyRestrictionMinMonths: 6,
  lostContactMinMonths: 6,
  seriousIllnessDiagnoses: Object.freeze([] as string[]),
  elderlyMinAge: 60,
  leftBehindElderlyMinMigrationMonths: 6,
  leftBehindWomanMinMigrationMonths: 6,
  leftBehindWomanAgeRange: null,
  highAgeBandStarts: Object.freeze([80, 90, 100]),
  disabledElderlySelfCareLevels: Object.freeze(['moderate', 'severe'] as const),
});

/**
 * A diagnosis as the illness list is matched: full-width letters, digits and brackets as their
 * half-width forms (NFKC), no spaces of any kind, Latin letters in lower case. "尿毒症", "尿 毒 症" and
 * "尿毒症\u3000" are one item; "ＡＩＤＳ" is "aids". Nothing else is read into it: "尿毒症(透析)" is
 * another item, a county lists it if it counts.
 */
export function diagnosisKey(text: string): string {
  return text.normalize('NFKC').replace(/\s+/gu, '').toLowerCase();
}
