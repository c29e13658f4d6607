// Pure registry rules: how a name is written for search, what each kind of fact must carry, how a
// relation reads from either end. No database, no HTTP.
import { pinyin } from 'pinyin-pro';
import { isIsoDate } from '../../platform/dates.ts';
import type { LocalizedMessage } from '../../platform/normalize.ts';
import { FACT_KINDS, type FactKind } from './registry.facts.ts';
import type { RelationKind } from './registry.tables.ts';

/**
 * The name as clerks type it on a Latin keyboard: full pinyin without tones or spaces
 * (张晓明 → zhangxiaoming) and the initials (zxm). Latin letters in the name are kept, lower-cased.
 */
export function nameSpellings(name: string): { pinyin: string; initials: string } {
  const syllables = pinyin(name, { toneType: 'none', type: 'array', nonZh: 'consecutive', v: true, surname: 'head' })
    .map((s) => s.toLowerCase().replace(/[^a-z0-9]/g, ''))
    .filter(Boolean);
  return { pinyin: syllables.join(''), initials: syllables.map((s) => s.charAt(0)).join('') };
}

export function isFactKind(kind: string): kind is FactKind {
  return (FACT_KINDS as readonly string[]).includes(kind);
}

export type FactDataCheck =
  | { ok: true; data: Record<string, unknown> }
  | { ok: false; path: string; message: LocalizedMessage };

type FieldRule =
  | { type: 'string'; required?: boolean }
  | { type: 'date'; required?: boolean; nullable?: boolean }
  | { type: 'boolean'; required?: boolean }
  | { type: 'enum'; values: readonly (string | number)[]; required?: boolean };

const FACT_FIELDS: Record<FactKind, Record<string, FieldRule>> = {
  migration: { destination: { type: 'string' }, expectedReturn: { type: 'date', nullable: true } },
  liberty_restriction: {
    type: { type: 'enum', values: ['sentence', 'drug_rehabilitation', 'other'], required: true },
    expectedEnd: { type: 'date', nullable: true },
  },
  lost_contact: { policeReportDate: { type: 'date', required: true } },
  guardianship_revoked: {},
  deported: {},
  death: {},
  declared_missing: {},
  declared_dead: {},
  disability: {
    category: { type: 'enum', values: [1, 2, 3, 4, 5, 6, 7], required: true },
    grade: { type: 'enum', values: [1, 2, 3, 4], required: true },
    certificateNo: { type: 'string' },
  },
  serious_illness: { diagnosis: { type: 'string' } },
  schooling: {
    stage: {
      type: 'enum',
      values: ['preschool', 'primary', 'junior', 'senior', 'vocational', 'college', 'none'],
      required: true,
    },
    school: { type: 'string' },
    droppedOut: { type: 'boolean' },
  },
  self_care: { level: { type: 'enum', values: ['intact', 'mild', 'moderate', 'severe'], required: true } },
  living_arrangement: {
    value: {
      type: 'enum',
      values: ['alone', 'spouse_only', 'with_children', 'with_grandchildren', 'institution', 'other'],
      required: true,
    },
  },
  family_planning_special: {},
  assistance: { program: { type: 'enum', values: ['dibao', 'tekun', 'near_dibao'], required: true } },
  guardianship_failure: { type: { type: 'enum', values: ['abuse', 'abandonment', 'neglect'], required: true } },
};

/** Checks a fact's data against its kind (registry.facts.ts FactDataByKind); unknown fields are refused. */
export function checkFactData(kind: FactKind, data: Record<string, unknown>): FactDataCheck {
  const fields = FACT_FIELDS[kind];
  for (const key of Object.keys(data)) {
    if (!(key in fields))
      return {
        ok: false,
        path: `data.${key}`,
        message: { zh: `${kind} 事实不含字段 ${key}`, en: `a ${kind} fact has no field ${key}` },
      };
  }
  const out: Record<string, unknown> = {};
  for (const [key, rule] of Object.entries(fields)) {
    const value = data[key];
    const path = `data.${key}`;
    if (value === undefined || (value === null && rule.type === 'date' && rule.nullable)) {
      if (rule.required) return { ok: false, path, message: { zh: '缺少必填字段', en: 'is required' } };
      if (value === null) out[key] = null;
      continue;
    }
    switch (rule.type) {
      case 'string':
        if (typeof value !== 'string' || value.trim() === '')
          return { ok: false, path, message: { zh: '应为非空文本', en: 'must be non-empty text' } };
        out[key] = value.trim();
        break;
      case 'date':
        if (typeof value !== 'string' || !isIsoDate(value))
          return { ok: false, path, message: { zh: '应为日期 YYYY-MM-DD', en: 'must be a date YYYY-MM-DD' } };
        out[key] = value;
        break;
      case 'boolean':
        if (typeof value !== 'boolean')
          return { ok: false, path, message: { zh: '应为 true 或 false', en: 'must be true or false' } };
        out[key] = value;
        break;
      case 'enum':
        if (!rule.values.includes(value as string | number))
          return {
            ok: false,
            path,
            message: { zh: `取值应为: ${rule.values.join(', ')}`, en: `must be one of: ${rule.values.join(', ')}` },
          };
        out[key] = value;
        break;
    }
  }
  return { ok: true, data: out };
}

/** Canonical JSON (sorted keys), to compare fact data for idempotent imports. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/** How a stored relation reads from the viewed person's end: "the other person is my …". */
export type RelationRole = 'parent' | 'child' | 'spouse' | 'guardian' | 'ward' | 'carer' | 'cared_for';

export function relationRole(kind: RelationKind, viewedIsSubject: boolean): RelationRole {
  if (viewedIsSubject) return kind;
  switch (kind) {
    case 'parent':
      return 'child';
    case 'spouse':
      return 'spouse';
    case 'guardian':
      return 'ward';
    case 'carer':
      return 'cared_for';
  }
}

/** The county (6 digits) of a village code. */
export function countyOf(regionCode: string): string {
  return regionCode.slice(0, 6);
}
