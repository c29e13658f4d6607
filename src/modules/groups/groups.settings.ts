// The configuration a region's groups are evaluated and reported with: the rule thresholds
// (GroupsConfig) plus the statistics' small-cell threshold. A region stores only what it changes (a
// partial document); the effective configuration for a person is the defaults with every region on
// the path from the country down to the person's village merged over them, the most specific last.
// Pure: no database here.

import type { ErrorDetail } from '../../platform/errors.ts';
import { DEFAULT_GROUPS_CONFIG, diagnosisKey, type GroupsConfig } from './groups.config.ts';

export interface EffectiveGroupsConfig extends GroupsConfig {
  /** Statistics for viewers above the county show counts under this as "<5" (小数抑制). */
  readonly smallCellThreshold: number;
}

export const DEFAULT_EFFECTIVE_CONFIG: EffectiveGroupsConfig = Object.freeze({
  ...DEFAULT_GROUPS_CONFIG,
  smallCellThreshold: 5,
});

export type ConfigPatch = Partial<Record<keyof EffectiveGroupsConfig, unknown>>;

const NON_NEGATIVE_INTEGER_KEYS = [
  'leftBehindChildUnderAge',
  'leftBehindChildMinMigrationMonths',
  'leftBehindChildOtherParentMinMonths',
  'minorUnderAge',
  'libertyRestrictionMinMonths',
  'lostContactMinMonths',
  'elderlyMinAge',
  'leftBehindElderlyMinMigrationMonths',
  'leftBehindWomanMinMigrationMonths',
] as const;

const GRADE_KEYS = ['severeDisabilityMaxGrade', 'severeDisabilityCognitiveMaxGrade'] as const;
const KNOWN_KEYS = new Set<string>(Object.keys(DEFAULT_EFFECTIVE_CONFIG));

// Ages and months: 1200 (a century of months) bounds both; 2^53 or 1e300 is no setting.
const MAX_SETTING = 1200;
const isNonNegativeInteger = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= MAX_SETTING;

/**
 * The first value a list holds twice. A list setting is a set: a clerk who typed [5, 5] for [5, 6] is
 * told, not left with mental disability silently out of the rule.
 */
function repeated(values: readonly unknown[]): unknown {
  return values.find((value, i) => values.indexOf(value) !== i);
}

/** A disease of the serious illness list is at most as long as a recorded diagnosis (registry.rules.ts). */
export const MAX_DIAGNOSIS_LENGTH = 100;
/** A province's list of serious and major illnesses has some tens of diseases; 500 leaves room. */
export const MAX_DIAGNOSES = 500;

/**
 * The serious illness list (seriousIllnessDiagnoses): texts, none blank or longer than a diagnosis, at
 * most MAX_DIAGNOSES, and a set as the rules match it: "尿毒症" and "尿 毒 症" are one disease (diagnosisKey).
 */
function diagnosisProblems(value: unknown, path: string): ErrorDetail[] {
  const at = (where: string, zh: string, en: string): ErrorDetail => ({ path: where, message: { zh, en } });
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    return [at(path, '应为病种名称(文字)的列表', 'must be a list of disease names (text)')];
  if (value.length > MAX_DIAGNOSES)
    return [
      at(
        path,
        `最多列 ${MAX_DIAGNOSES} 个病种，收到 ${value.length} 个`,
        `lists at most ${MAX_DIAGNOSES} diseases, got ${value.length}`,
      ),
    ];
  const problems: ErrorDetail[] = [];
  const seen = new Map<string, string>();
  for (const [i, item] of (value as string[]).entries()) {
    const key = diagnosisKey(item);
    if (key === '') problems.push(at(`${path}.${i}`, '病种名称不能为空', 'a disease name must not be blank'));
    else if ([...item].length > MAX_DIAGNOSIS_LENGTH)
      problems.push(
        at(
          `${path}.${i}`,
          `病种名称不能超过 ${MAX_DIAGNOSIS_LENGTH} 个字`,
          `a disease name has at most ${MAX_DIAGNOSIS_LENGTH} characters`,
        ),
      );
    else if (seen.has(key))
      problems.push(
        at(
          `${path}.${i}`,
          `病种"${item}"与"${seen.get(key)}"重复(不计全角半角、空格和大小写)；每个病种只列一次`,
          `the disease "${item}" repeats "${seen.get(key)}" (width, spaces and case aside); list each once`,
        ),
      );
    else seen.set(key, item);
  }
  return problems;
}

/** What is wrong with a partial configuration; each problem names its field ("config.minorUnderAge"). */
export function configProblems(patch: Record<string, unknown>, prefix = 'config'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const at = (key: string, zh: string, en: string) =>
    problems.push({ path: `${prefix}.${key}`, message: { zh, en } });
  for (const [key, value] of Object.entries(patch)) {
    if (!KNOWN_KEYS.has(key)) {
      at(key, '未知的配置项', 'is not a configuration setting');
      continue;
    }
    if ((NON_NEGATIVE_INTEGER_KEYS as readonly string[]).includes(key)) {
      if (!isNonNegativeInteger(value))
        at(key, `应为 0 至 ${MAX_SETTING} 的整数`, `must be an integer from 0 to ${MAX_SETTING}`);
    } else if ((GRADE_KEYS as readonly string[]).includes(key)) {
      if (!isNonNegativeInteger(value) || value < 1 || value > 4)
        at(key, '应为 1 至 4 的整数', 'must be an integer from 1 to 4');
    } else if (key === 'smallCellThreshold') {
      // Below 3 a small count could be pinned by its neighbours however much is hidden.
      if (!isNonNegativeInteger(value) || value < 3 || value > 100)
        at(key, '应为 3 至 100 的整数', 'must be an integer from 3 to 100');
    } else if (key === 'severeDisabilityCognitiveCategories') {
      if (!Array.isArray(value) || !value.every((c) => isNonNegativeInteger(c) && c >= 1 && c <= 7))
        at(key, '应为 1 至 7 的残疾类别列表', 'must be a list of disability categories 1 to 7');
      else if (repeated(value) !== undefined)
        at(
          key,
          `残疾类别 ${String(repeated(value))} 重复；每个类别只列一次`,
          `the disability category ${String(repeated(value))} is listed twice; list each once`,
        );
    } else if (key === 'seriousIllnessDiagnoses') {
      problems.push(...diagnosisProblems(value, `${prefix}.${key}`));
    } else if (key === 'highAgeBandStarts') {
      const ok =
        Array.isArray(value) &&
        value.length > 0 &&
        value.every(isNonNegativeInteger) &&
        value.every((v, i) => i === 0 || (value[i - 1] as number) < (v as number));
      if (!ok)
        at(key, '应为递增的非负整数列表', 'must be a non-empty ascending list of non-negative integers');
    } else if (key === 'disabledElderlySelfCareLevels') {
      const levels = ['intact', 'mild', 'moderate', 'severe'];
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string' && levels.includes(v)))
        at(
          key,
          '应为自理能力等级列表 (intact, mild, moderate, severe)',
          'must be a list of intact, mild, moderate, severe',
        );
      else if (repeated(value) !== undefined)
        at(
          key,
          `自理能力等级 ${String(repeated(value))} 重复；每个等级只列一次`,
          `the self-care level ${String(repeated(value))} is listed twice; list each once`,
        );
    } else if (key === 'leftBehindWomanAgeRange') {
      if (value === null) continue;
      const range = value as { minAge?: unknown; maxAge?: unknown } | undefined;
      const ok =
        typeof range === 'object' &&
        range !== null &&
        Object.keys(range).every((k) => k === 'minAge' || k === 'maxAge') &&
        (range.minAge === null || isNonNegativeInteger(range.minAge)) &&
        (range.maxAge === null || isNonNegativeInteger(range.maxAge)) &&
        !(
          isNonNegativeInteger(range.minAge) &&
          isNonNegativeInteger(range.maxAge) &&
          range.minAge > range.maxAge
        );
      if (!ok)
        at(
          key,
          '应为 null 或 {minAge, maxAge} (非负整数或 null, minAge 不大于 maxAge)',
          'must be null or {minAge, maxAge} (non-negative integers or null, minAge not above maxAge)',
        );
    }
  }
  return problems;
}

const NUMBER_LIST_KEYS = ['severeDisabilityCognitiveCategories', 'highAgeBandStarts'] as const;

/**
 * Settings of the wrong JSON type as sent, before the validator's type coercion would turn them into
 * others: text ("6") or a yes/no for a number (true would be stored as 1), a single value for a list or
 * a list for a single value. Each problem names its field; everything else is left to the schema.
 */
export function uncoercedProblems(patch: Record<string, unknown>, prefix = 'config'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const number = (path: string, value: unknown) => {
    if (value !== null && value !== undefined && typeof value !== 'number')
      problems.push({
        path,
        message: { zh: '应为整数 (不能是文字或是/否)', en: 'must be a number, not text or yes/no' },
      });
  };
  for (const [key, value] of Object.entries(patch)) {
    const path = `${prefix}.${key}`;
    if (
      (NON_NEGATIVE_INTEGER_KEYS as readonly string[]).includes(key) ||
      (GRADE_KEYS as readonly string[]).includes(key) ||
      key === 'smallCellThreshold'
    )
      number(path, value);
    else if (
      (NUMBER_LIST_KEYS as readonly string[]).includes(key) ||
      key === 'disabledElderlySelfCareLevels'
    ) {
      if (value === null) continue;
      if (!Array.isArray(value)) problems.push({ path, message: { zh: '应为列表', en: 'must be a list' } });
      else if (key !== 'disabledElderlySelfCareLevels') value.forEach((v, i) => number(`${path}.${i}`, v));
    } else if (key === 'seriousIllnessDiagnoses') {
      // A number or a yes/no would be coerced to text ("5", "true"): no disease's name.
      if (!Array.isArray(value)) problems.push({ path, message: { zh: '应为列表', en: 'must be a list' } });
      else
        value.forEach((v, i) => {
          if (typeof v !== 'string')
            problems.push({
              path: `${path}.${i}`,
              message: { zh: '应为病种名称(文字)', en: 'must be a disease name (text)' },
            });
        });
    } else if (
      key === 'leftBehindWomanAgeRange' &&
      typeof value === 'object' &&
      value !== null &&
      !Array.isArray(value)
    )
      for (const end of ['minAge', 'maxAge'] as const)
        number(`${path}.${end}`, (value as Record<string, unknown>)[end]);
  }
  return problems;
}

export function mergeConfig(
  base: EffectiveGroupsConfig,
  patch: Record<string, unknown>,
): EffectiveGroupsConfig {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(patch)) if (KNOWN_KEYS.has(key)) merged[key] = value;
  return merged as unknown as EffectiveGroupsConfig;
}

export interface RegionConfig {
  regionCode: string;
  config: Record<string, unknown>;
}

/**
 * The effective configuration for a region (or a person's hukou village): the defaults, then each
 * configured region whose code is a prefix of `regionCode`, from the country down.
 */
export function resolveConfig(rows: readonly RegionConfig[], regionCode: string): EffectiveGroupsConfig {
  const path = rows
    .filter((row) => regionCode.startsWith(row.regionCode))
    .sort((a, b) => a.regionCode.length - b.regionCode.length);
  return path.reduce((config, row) => mergeConfig(config, row.config), DEFAULT_EFFECTIVE_CONFIG);
}

/** A resolver that remembers each region's result (one evaluation asks for the same villages often). */
export function configResolver(rows: readonly RegionConfig[]): (regionCode: string) => EffectiveGroupsConfig {
  const cache = new Map<string, EffectiveGroupsConfig>();
  return (regionCode) => {
    let config = cache.get(regionCode);
    if (!config) {
      config = resolveConfig(rows, regionCode);
      cache.set(regionCode, config);
    }
    return config;
  };
}
