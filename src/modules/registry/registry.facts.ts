// Facts about a person (DOMAIN.md section 1, "Person"): effective-dated periods [from, to) so that every
// "as of date D" question has one answer and the history is kept. The registry stores exactly these;
// the group rules (src/modules/groups) read them.

import { inPeriod, minDate } from '../../platform/dates.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { GuardianshipAssessment } from './registry.tables.ts';

export const FACT_KINDS = [
  'migration',
  'liberty_restriction',
  'lost_contact',
  'guardianship_revoked',
  'deported',
  'death',
  'declared_missing',
  'declared_dead',
  'disability',
  'serious_illness',
  'schooling',
  'self_care',
  'living_arrangement',
  'family_planning_special',
  'assistance',
  'guardianship_failure',
  'ledger_declaration',
] as const;

export type FactKind = (typeof FACT_KINDS)[number];

export interface Label {
  readonly zh: string;
  readonly en: string;
}

export const FACT_LABELS: Readonly<Record<FactKind, Label>> = {
  migration: { zh: '外出务工', en: 'migration for work' },
  liberty_restriction: { zh: '限制人身自由', en: 'liberty restriction' },
  lost_contact: { zh: '失联', en: 'lost contact' },
  guardianship_revoked: { zh: '被撤销监护资格', en: 'guardianship revoked' },
  deported: { zh: '被遣送(驱逐)出境', en: 'deported' },
  death: { zh: '死亡', en: 'death' },
  declared_missing: { zh: '宣告失踪', en: 'declared missing' },
  declared_dead: { zh: '宣告死亡', en: 'declared dead' },
  disability: { zh: '残疾', en: 'disability' },
  serious_illness: { zh: '重病', en: 'serious illness' },
  schooling: { zh: '就学', en: 'schooling' },
  self_care: { zh: '生活自理能力', en: 'self-care ability' },
  living_arrangement: { zh: '居住状况', en: 'living arrangement' },
  family_planning_special: { zh: '计划生育特殊家庭', en: 'family-planning special family' },
  assistance: { zh: '享受社会救助', en: 'social assistance' },
  guardianship_failure: { zh: '监护缺失或监护不当', en: 'guardianship failure' },
  ledger_declaration: { zh: '台账填报情况', en: 'answers declared in the child ledger' },
};

// --- Values inside the facts, with the labels the ledgers use (EXCHANGE.md) ---

export type LibertyRestrictionType = 'sentence' | 'drug_rehabilitation' | 'other';
export const LIBERTY_RESTRICTION_LABELS: Readonly<Record<LibertyRestrictionType, Label>> = {
  sentence: { zh: '服刑在押', en: 'serving a sentence' },
  drug_rehabilitation: { zh: '强制隔离戒毒', en: 'in compulsory drug rehabilitation' },
  other: { zh: '其他限制人身自由', en: 'under another liberty restriction' },
};

/** GB/T 26341-2010 disability categories. */
export type DisabilityCategory = 1 | 2 | 3 | 4 | 5 | 6 | 7;
export const DISABILITY_CATEGORY_LABELS: Readonly<Record<DisabilityCategory, Label>> = {
  1: { zh: '视力', en: 'visual' },
  2: { zh: '听力', en: 'hearing' },
  3: { zh: '言语', en: 'speech' },
  4: { zh: '肢体', en: 'physical' },
  5: { zh: '智力', en: 'intellectual' },
  6: { zh: '精神', en: 'mental' },
  7: { zh: '多重', en: 'multiple' },
};

/** GB/T 26341-2010 grade: 1 is the most severe. */
export type DisabilityGrade = 1 | 2 | 3 | 4;
export const DISABILITY_GRADE_LABELS: Readonly<Record<DisabilityGrade, Label>> = {
  1: { zh: '一级', en: 'grade 1' },
  2: { zh: '二级', en: 'grade 2' },
  3: { zh: '三级', en: 'grade 3' },
  4: { zh: '四级', en: 'grade 4' },
};

/** How often a migrant comes home (回家频率). */
export type HomeVisits = 'monthly' | 'quarterly' | 'half_yearly' | 'yearly' | 'rarely';
export const HOME_VISITS_LABELS: Readonly<Record<HomeVisits, Label>> = {
  monthly: { zh: '每月回家', en: 'comes home monthly' },
  quarterly: { zh: '每季度回家', en: 'comes home every quarter' },
  half_yearly: { zh: '每半年回家', en: 'comes home every half year' },
  yearly: { zh: '每年回家', en: 'comes home once a year' },
  rarely: { zh: '一年以上回家一次或不回家', en: 'comes home less than once a year' },
};

export type SchoolStage = 'preschool' | 'primary' | 'junior' | 'senior' | 'vocational' | 'college' | 'none';
export const SCHOOL_STAGE_LABELS: Readonly<Record<SchoolStage, Label>> = {
  preschool: { zh: '学前', en: 'preschool' },
  primary: { zh: '小学', en: 'primary school' },
  junior: { zh: '初中', en: 'junior secondary' },
  senior: { zh: '高中', en: 'senior secondary' },
  vocational: { zh: '中职', en: 'secondary vocational' },
  college: { zh: '大学', en: 'college' },
  none: { zh: '未就学', en: 'not in school' },
};

export type SelfCareLevel = 'intact' | 'mild' | 'moderate' | 'severe';
export const SELF_CARE_LABELS: Readonly<Record<SelfCareLevel, Label>> = {
  intact: { zh: '完好', en: 'self-care intact' },
  mild: { zh: '轻度失能', en: 'mild loss of self-care' },
  moderate: { zh: '中度失能', en: 'moderate loss of self-care' },
  severe: { zh: '重度失能', en: 'severe loss of self-care' },
};

export type LivingArrangement =
  'alone' | 'spouse_only' | 'with_children' | 'with_grandchildren' | 'institution' | 'other';
export const LIVING_ARRANGEMENT_LABELS: Readonly<Record<LivingArrangement, Label>> = {
  alone: { zh: '独居', en: 'living alone' },
  spouse_only: { zh: '与配偶同住', en: 'living with the spouse only' },
  with_children: { zh: '与子女同住', en: 'living with children' },
  with_grandchildren: { zh: '与孙辈同住', en: 'living with grandchildren' },
  institution: { zh: '机构供养', en: 'living in an institution' },
  other: { zh: '其他', en: 'other living arrangement' },
};

/** The household receives it; kept on the person for simplicity. */
export type AssistanceProgram = 'dibao' | 'tekun' | 'near_dibao';
export const ASSISTANCE_PROGRAM_LABELS: Readonly<Record<AssistanceProgram, Label>> = {
  dibao: { zh: '低保', en: 'dibao (minimum living security)' },
  tekun: { zh: '特困供养', en: 'tekun (extreme-poverty support)' },
  near_dibao: { zh: '低保边缘', en: 'near-dibao' },
};

/** Found by a protection case (SC2016-36). */
export type GuardianshipFailureType = 'abuse' | 'abandonment' | 'neglect';
export const GUARDIANSHIP_FAILURE_LABELS: Readonly<Record<GuardianshipFailureType, Label>> = {
  abuse: { zh: '虐待', en: 'abuse' },
  abandonment: { zh: '遗弃', en: 'abandonment' },
  neglect: { zh: '疏于照料', en: 'neglect' },
};

/** The unable parent named by a child ledger (无监护能力方). */
export type LedgerUnableParent = 'father' | 'mother';

/**
 * A child ledger's own answers about a child, as the ledger wrote them (EXCHANGE.md "Child ledger").
 * They are what the village declared, not what the registry derives: the groups still come from the
 * rules, and an import lists the rows where the two disagree.
 */
export interface LedgerDeclaration {
  /** The ledger lists the child as left behind: every row of a 留守儿童台账 does. */
  leftBehindChild: boolean;
  /** 父母双方同时外出 */
  bothParentsMigrant?: boolean;
  /** 一方外出另一方无监护能力 */
  oneMigrantOtherUnable?: boolean;
  /** 无监护能力方 */
  unableParent?: LedgerUnableParent;
  /** 无监护能力原因, as written */
  unableReason?: string;
  /** 有无委托监护人 */
  hasEntrustedCarer?: boolean;
  /** 监护类型 */
  guardianshipType?: GuardianshipAssessment;
  /** 是否登记户口 */
  hukouRegistered?: boolean;
  /** 是否学校寄宿 */
  boarding?: boolean;
  /** 家庭经济来源, the items joined with 、 */
  incomeSources?: string;
  /** 救助帮扶情况, the items joined with 、 */
  assistance?: string;
}

// --- The facts ---

type NoData = Record<string, never>;

/** What each kind of fact records besides its period. */
export interface FactDataByKind {
  /** `contact`: how to reach the migrant while away (phone or other); `homeVisits`: how often they come home. */
  migration: {
    destination?: string;
    expectedReturn?: IsoDate | null;
    contact?: string;
    homeVisits?: HomeVisits;
  };
  liberty_restriction: { type: LibertyRestrictionType; expectedEnd?: IsoDate | null };
  /** The fact's `from` is the police report date: durations count from the report. */
  lost_contact: { policeReportDate: IsoDate };
  guardianship_revoked: NoData;
  deported: NoData;
  death: NoData;
  declared_missing: NoData;
  declared_dead: NoData;
  disability: { category: DisabilityCategory; grade: DisabilityGrade; certificateNo?: string };
  /** As defined by the county (config outside the registry); the fact records the county's finding. */
  serious_illness: { diagnosis?: string };
  schooling: { stage: SchoolStage; school?: string; droppedOut?: boolean };
  self_care: { level: SelfCareLevel };
  living_arrangement: { value: LivingArrangement };
  /** Only child dead or disabled (计划生育特殊家庭). */
  family_planning_special: NoData;
  assistance: { program: AssistanceProgram };
  guardianship_failure: { type: GuardianshipFailureType };
  ledger_declaration: LedgerDeclaration;
}

/** A half-open period [from, to); `to` null is open-ended. */
export interface Period {
  readonly from: IsoDate;
  readonly to: IsoDate | null;
}

export type Fact = {
  [K in FactKind]: Period & { readonly kind: K; readonly data: Readonly<FactDataByKind[K]> };
}[FactKind];

export type FactOfKind<K extends FactKind> = Extract<Fact, { kind: K }>;

/** The facts in force on `date`: from <= date < to. */
export function factsAsOf<F extends Period>(facts: readonly F[], date: IsoDate): F[] {
  return facts.filter((fact) => inPeriod(date, fact.from, fact.to));
}

export function factsOfKind<K extends FactKind>(facts: readonly Fact[], kind: K): FactOfKind<K>[] {
  return facts.filter((fact): fact is FactOfKind<K> => fact.kind === kind);
}

/**
 * The first day of the unbroken stretch of `periods` that covers `date`, joining periods that overlap or
 * meet (a migrant who changes city gets a new record the day the old one ends, and has still been away
 * all along). Null when none is in force on `date`.
 */
export function heldSince(periods: readonly Period[], date: IsoDate): IsoDate | null {
  let since = minDate(...factsAsOf(periods, date).map((period) => period.from));
  if (since === null) return null;
  for (let extended = true; extended;) {
    extended = false;
    for (const period of periods) {
      if (period.from < since && (period.to === null || period.to >= since)) {
        since = period.from;
        extended = true;
      }
    }
  }
  return since;
}
