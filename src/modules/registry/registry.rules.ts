// Pure registry rules: how a name is written for search, what each kind of fact must carry, how a
// relation reads from either end. No database, no HTTP.
import { pinyin } from 'pinyin-pro';
import { ageOn, isIsoDate, type IsoDate } from '../../platform/dates.ts';
import { normalizeCell, type LocalizedMessage } from '../../platform/normalize.ts';
import { FACT_KINDS, FACT_LABELS, type FactKind } from './registry.facts.ts';
import { EARLIEST_BIRTH_DATE } from './registry.idnumber.ts';
import type { RelationKind } from './registry.tables.ts';

/**
 * The name as clerks type it on a Latin keyboard: full pinyin without tones or spaces
 * (张晓明 → zhangxiaoming) and the initials (zxm). Latin letters in the name are kept, lower-cased.
 */
export function nameSpellings(name: string): { pinyin: string; initials: string } {
  const syllables = pinyin(name, {
    toneType: 'none',
    type: 'array',
    nonZh: 'consecutive',
    v: true,
    surname: 'head',
  })
    .map((s) => s.toLowerCase().replace(/[^a-z0-9]/g, ''))
    .filter(Boolean);
  return { pinyin: syllables.join(''), initials: syllables.map((s) => s.charAt(0)).join('') };
}

export function isFactKind(kind: string): kind is FactKind {
  return (FACT_KINDS as readonly string[]).includes(kind);
}

export type FactDataCheck =
  { ok: true; data: Record<string, unknown> } | { ok: false; path: string; message: LocalizedMessage };

export type FieldRule =
  | { type: 'string'; required?: boolean; maxLength?: number }
  | { type: 'date'; required?: boolean; nullable?: boolean }
  | { type: 'boolean'; required?: boolean }
  | { type: 'enum'; values: readonly (string | number)[]; required?: boolean };

/** Each fact kind's data fields and their rules (the web form mirrors them: test/fact-fields.test.ts). */
export const FACT_FIELDS: Record<FactKind, Record<string, FieldRule>> = {
  migration: {
    // 外出务工地, 学校名称 and 患病类型 hold what the template's and the ledger's columns hold, so
    // that an export imports back (registry.template.ts, registry.ledger.ts).
    destination: { type: 'string', maxLength: 100 },
    expectedReturn: { type: 'date', nullable: true },
    // A phone, a messaging account or a workplace to ask at: a line of text, as the other short
    // fields of a fact (destination, school) hold.
    contact: { type: 'string', maxLength: 100 },
    homeVisits: { type: 'enum', values: ['monthly', 'quarterly', 'half_yearly', 'yearly', 'rarely'] },
  },
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
    // 残疾人证号 is the ID number and two digits (20 characters); 40 as the ID and birth certificate
    // numbers of a person hold.
    certificateNo: { type: 'string', maxLength: 40 },
  },
  serious_illness: { diagnosis: { type: 'string', maxLength: 100 } },
  schooling: {
    stage: {
      type: 'enum',
      values: ['preschool', 'primary', 'junior', 'senior', 'vocational', 'college', 'none'],
      required: true,
    },
    school: { type: 'string', maxLength: 100 },
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
  guardianship_failure: {
    type: { type: 'enum', values: ['abuse', 'abandonment', 'neglect'], required: true },
  },
  ledger_declaration: {
    leftBehindChild: { type: 'boolean', required: true },
    bothParentsMigrant: { type: 'boolean' },
    oneMigrantOtherUnable: { type: 'boolean' },
    unableParent: { type: 'enum', values: ['father', 'mother'] },
    // The declaration's texts are the ledger's cells (无监护能力原因, 家庭经济来源, 救助帮扶情况): they
    // hold what the ledger import takes of a cell (LEDGER_TEXT_MAX in registry.ledger.ts).
    unableReason: { type: 'string', maxLength: 200 },
    hasEntrustedCarer: { type: 'boolean' },
    guardianshipType: {
      type: 'enum',
      values: ['none', 'parent_unable', 'carer_insufficient', 'fair', 'good'],
    },
    hukouRegistered: { type: 'boolean' },
    boarding: { type: 'boolean' },
    incomeSources: { type: 'string', maxLength: 200 },
    assistance: { type: 'string', maxLength: 200 },
  },
};

// A run of digits (ASCII or full-width), with a space, a dash, a dot or a slash between them (with
// a space either side: 138 - 1111 - 5555, as clerks type too) and X in an ID number: 138 1111 5555,
// 0371-12345678, 138.1111.5555, 41022519860101113X, a disability certificate number (the ID number
// and two digits).
const NUMBER_SEPARATOR = String.raw`\s?[-\u2010-\u2015\uFF0D.\uFF0E/\uFF0F]?\s?`;
const NUMBER_RUN = new RegExp(
  String.raw`[0-9\uFF10-\uFF19](?:${NUMBER_SEPARATOR}[0-9\uFF10-\uFF19Xx\uFF38\uFF58])*`,
  'g',
);
// A date is not a number to hide: 2026-01-05, 2026.1.5, 2026/01/05.
const DATE_RUN = /^[0-9]{4}([-./])[0-9]{1,2}\1[0-9]{1,2}$/;

/**
 * Free text with every number long enough to be a phone or an ID number (7 digits or more) masked
 * much as the person's own fields are: an ID-length run (15 characters or more) keeps its first 4 and
 * its last character (4102*************X: the last four with a birth date beside them would leave a
 * handful of candidates; one is kept so that an edited text can be told from stars typed), a mobile its
 * first 3 and last 4 (137****8888), a shorter one its last 4.
 * Short numbers and dates stay. The fact data a person file shows are free text (a migrant's
 * contact, a certificate number that embeds the ID number), and they leave the server masked like
 * the ID number and phone (DOMAIN.md section 6); the reveal returns them whole.
 */
export function maskNumbersInText(text: string, { minDigits }: { minDigits?: number } = {}): string {
  return text.replace(NUMBER_RUN, (run) => maskRun(run, minDigits));
}

/**
 * One run of digits as maskNumbersInText shows it (the same length: stars take the hidden characters),
 * or as written when it has fewer than `minDigits` digits.
 */
function maskRun(run: string, minDigits = 7): string {
  const digits = run.replace(/[^0-9\uFF10-\uFF19Xx\uFF38\uFF58]/g, '').length;
  if (digits < minDigits || DATE_RUN.test(run)) return run;
  const keep = digits >= 15 ? 4 : digits >= 11 ? 3 : 0;
  const tail = digits >= 15 ? 1 : 4;
  return `${run.slice(0, keep)}${'*'.repeat(run.length - keep - tail)}${run.slice(-tail)}`;
}

/** Every text in a JSON value (a household's declared assets) through maskNumbersInText. */
export function maskTextsDeep(value: unknown): unknown {
  if (typeof value === 'string') return maskNumbersInText(value);
  if (Array.isArray(value)) return value.map(maskTextsDeep);
  if (value !== null && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, maskTextsDeep(v)]));
  return value;
}

/** Every text in a JSON value, for unmaskText's stored texts. */
export function textsIn(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.flatMap(textsIn);
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(textsIn);
  return [];
}

// What maskNumbersInText leaves of a number: three stars or more, then (after at most a separator
// and spaces) the last characters it keeps.
const MASKED_NUMBER = new RegExp(
  String.raw`\*{3,}(?:${NUMBER_SEPARATOR})[0-9\uFF10-\uFF19Xx\uFF38\uFF58]`,
  'g',
);

/**
 * Free text sent back by someone who read it masked (a household's address or assets, edited in a
 * form that shows them as every response does): each masked number that stands for exactly one
 * number of the stored texts is put back whole, so an unchanged or partly edited text never saves
 * the stars over the real number. undefined when a masked number is left that the stored texts do
 * not explain (a changed mask, a masked number copied from elsewhere): the write is refused, since
 * stars stored as the number would lose it.
 */
export function unmaskText(given: string, stored: readonly string[]): string | undefined {
  const wholes = new Map<string, Set<string>>();
  for (const text of stored)
    for (const run of text.match(NUMBER_RUN) ?? []) {
      const masked = maskRun(run);
      if (masked !== run) wholes.set(masked, (wholes.get(masked) ?? new Set()).add(run));
    }
  // Longest first, so a masked number is not taken for part of a longer one.
  const keys = [...wholes]
    .filter(([, runs]) => runs.size === 1)
    .map(([masked]) => masked)
    .sort((a, b) => b.length - a.length);
  let text = given;
  const restored: [number, number][] = [];
  if (keys.length > 0) {
    let shift = 0;
    const pattern = new RegExp(keys.map((k) => k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
    text = given.replace(pattern, (masked: string, offset: number) => {
      const whole = [...(wholes.get(masked) ?? [])][0] ?? masked;
      restored.push([offset + shift, offset + shift + whole.length]);
      shift += whole.length - masked.length;
      return whole;
    });
  }
  // A number put back must stand alone as it did: digits typed against it (139****5678 0000) would
  // make one longer run, which masking shows with more of its first digits (1391…0000), an oracle
  // for the hidden digits.
  for (const run of text.matchAll(NUMBER_RUN)) {
    const [start, end] = [run.index, run.index + run[0].length];
    if (restored.some(([a, b]) => a < end && start < b && (a !== start || b !== end))) return undefined;
  }
  for (const [left] of text.matchAll(MASKED_NUMBER))
    // Stars the clerk typed (stored as typed) are no masked number.
    if (!stored.some((s) => s.includes(left))) return undefined;
  return text;
}

/** unmaskText for every text in a JSON value; the path (e.g. 住房 or 车辆.0) of the first text refused. */
export function unmaskTextsDeep(
  value: unknown,
  stored: readonly string[],
  path: string[] = [],
): { ok: true; value: unknown } | { ok: false; path: string[] } {
  if (typeof value === 'string') {
    const whole = unmaskText(value, stored);
    return whole === undefined ? { ok: false, path } : { ok: true, value: whole };
  }
  if (value !== null && typeof value === 'object') {
    const entries: [string, unknown][] = [];
    for (const [key, v] of Object.entries(value)) {
      const r = unmaskTextsDeep(v, stored, [...path, key]);
      if (!r.ok) return r;
      entries.push([key, r.value]);
    }
    return {
      ok: true,
      value: Array.isArray(value) ? entries.map(([, v]) => v) : Object.fromEntries(entries),
    };
  }
  return { ok: true, value };
}

/** A fact's data as responses show it: text fields through maskNumbersInText. */
export function maskFactData(data: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(data).map(([key, value]) => [
      key,
      typeof value === 'string' ? maskNumbersInText(value) : value,
    ]),
  );
}

/** The text fields of a fact's data that maskFactData changes, with their whole values (for the reveal). */
export function maskedFactFields(data: Record<string, unknown>): { field: string; value: string }[] {
  return Object.entries(data).flatMap(([field, value]) =>
    typeof value === 'string' && maskNumbersInText(value) !== value ? [{ field, value }] : [],
  );
}

/** Checks a fact's data against its kind (registry.facts.ts FactDataByKind); unknown fields are refused. */
export function checkFactData(kind: FactKind, data: Record<string, unknown>): FactDataCheck {
  const fields = FACT_FIELDS[kind];
  for (const key of Object.keys(data)) {
    // Own fields only: `constructor`, `toString` and the like are on every object's prototype.
    if (!Object.hasOwn(fields, key))
      return {
        ok: false,
        path: `data.${key}`,
        message: {
          zh: `${FACT_LABELS[kind].zh}记录不含字段 ${key}`,
          en: `a ${kind} fact has no field ${key}`,
        },
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
      case 'string': {
        // Written as the template import writes a cell, so an export imports back unchanged.
        const cell = typeof value === 'string' ? normalizeCell(value) : null;
        if (cell === null)
          return { ok: false, path, message: { zh: '应为非空文本', en: 'must be non-empty text' } };
        if (rule.maxLength !== undefined && [...cell].length > rule.maxLength)
          return {
            ok: false,
            path,
            message: {
              zh: `长度不能超过 ${rule.maxLength}`,
              en: `must have at most ${rule.maxLength} characters`,
            },
          };
        out[key] = cell;
        break;
      }
      case 'date': {
        if (typeof value !== 'string' || !isIsoDate(value))
          return { ok: false, path, message: { zh: '应为日期 YYYY-MM-DD', en: 'must be a date YYYY-MM-DD' } };
        const early = beforeBirthProblem(value, [], { zh: '日期', en: 'the date' });
        if (early) return { ok: false, path, message: early };
        out[key] = value;
        break;
      }
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
            message: {
              zh: `取值应为: ${rule.values.join(', ')}`,
              en: `must be one of: ${rule.values.join(', ')}`,
            },
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

/** What the relation checks need to know of a person: sex (1 male, 2 female) and birth date, when known. */
export interface RelatedPerson {
  name?: string;
  sex: 1 | 2 | null;
  birthDate: string | null;
}

/**
 * The youngest age at which the registry takes a person as a child's biological parent (at the child's
 * birth). DOMAIN.md sets none; a "father" one or two years older than the child is a mistyped ID number
 * (a sibling's, a neighbour child's), and taking it would give a child a migration fact from a parent
 * column and end their groups (docs/DECISIONS.md, "A biological parent at least 12 years older").
 */
export const BIOLOGICAL_PARENT_MINIMUM_AGE = 12;

/**
 * A parent is born before the child, whatever the kind of parenthood (biological, adoptive, step):
 * a parent born on or after the child's birth date is a typing error (or a parent link entered the
 * wrong way round), and with it no chain of parent links can close into a cycle. A biological parent
 * is, besides, at least BIOLOGICAL_PARENT_MINIMUM_AGE at the child's birth (the template's and the
 * ledger's 父亲/母亲 columns are biological parents); an adoptive or step parent may be any age older.
 */
export function parentBirthProblem(
  child: RelatedPerson,
  parent: RelatedPerson,
  subtype: 'biological' | 'adoptive' | 'step' = 'biological',
): LocalizedMessage | null {
  if (child.birthDate === null || parent.birthDate === null) return null;
  const who = parent.name ? `${parent.name}` : '';
  if (parent.birthDate >= child.birthDate)
    return {
      zh: `父母${who ? `“${who}”` : ''}的出生日期 ${parent.birthDate} 不早于子女的出生日期 ${child.birthDate}`,
      en: `the parent${who ? ` ${who}` : ''} was born on ${parent.birthDate}, not before the child (born ${child.birthDate})`,
    };
  if (subtype !== 'biological' || !isIsoDate(parent.birthDate) || !isIsoDate(child.birthDate)) return null;
  const age = ageOn(parent.birthDate, child.birthDate);
  if (age >= BIOLOGICAL_PARENT_MINIMUM_AGE) return null;
  return {
    zh: `生父母${who ? `“${who}”` : ''}（${parent.birthDate}出生）在子女出生时（${child.birthDate}）仅 ${age} 周岁，不足 ${BIOLOGICAL_PARENT_MINIMUM_AGE} 周岁：多为身份号码填错（如填成兄弟姐妹的号码），请核对`,
    en: `the biological parent${who ? ` ${who}` : ''} (born ${parent.birthDate}) was only ${age} at the child's birth (${child.birthDate}), under ${BIOLOGICAL_PARENT_MINIMUM_AGE}: usually a mistyped ID number (a sibling's, say); check it`,
  };
}

/** The legal marriage age (法定婚龄, Civil Code art. 1047): 22 for a man, 20 for a woman. */
export const MARRIAGE_AGE: Readonly<Record<1 | 2, number>> = { 1: 22, 2: 20 };

/** Who may care for a child in the parents' place: an adult (full civil capacity, Civil Code art. 17). */
const CARER_MINIMUM_AGE = 18;

/**
 * An entrusted carer (委托照护人) or a legal guardian younger than 18 on the day the link starts: the
 * Minors Protection Law (art. 22) entrusts a child to a person of full civil capacity with the ability to
 * care, and a guardian must be able to act as one (Civil Code art. 27-28); a child is neither. The
 * exception of a 16- or 17-year-old who lives on their own earnings (Civil Code art. 18) is not recorded
 * in the registry, so it is not taken. Null when the age is unknown or 18 or more.
 */
export function carerAgeProblem(
  carer: RelatedPerson,
  on: string,
  kind: 'carer' | 'guardian',
): LocalizedMessage | null {
  if (carer.birthDate === null || !isIsoDate(on) || carer.birthDate > on) return null;
  const age = ageOn(carer.birthDate, on);
  if (age >= CARER_MINIMUM_AGE) return null;
  const who = carer.name ?? '';
  const [zhRole, enRole] = kind === 'carer' ? ['委托照护人', 'an entrusted carer'] : ['监护人', 'a guardian'];
  return {
    zh: `${who ? `“${who}”` : zhRole}在 ${on} 为 ${age} 周岁：${zhRole}须为年满 18 周岁的完全民事行为能力人（未成年人保护法第二十二条、民法典第二十七条）`,
    en: `${who || 'the person'} was ${age} on ${on}: ${enRole} must be an adult of 18 or more (Minors Protection Law art. 22, Civil Code art. 27)`,
  };
}

/** A spouse link for a person under the legal marriage age on `on` (the day the marriage began, else today). */
export function marriageAgeProblem(spouse: RelatedPerson, on: string): LocalizedMessage | null {
  if (spouse.sex === null || spouse.birthDate === null || !isIsoDate(on) || spouse.birthDate > on)
    return null;
  const minimum = MARRIAGE_AGE[spouse.sex];
  const age = ageOn(spouse.birthDate, on);
  if (age >= minimum) return null;
  const who = spouse.name ?? '';
  return {
    zh: `${who ? `“${who}”` : '配偶'}在 ${on} 为 ${age} 周岁，未到法定婚龄（${spouse.sex === 1 ? '男' : '女'}不早于 ${minimum} 周岁，民法典第一千零四十七条）`,
    en: `${who || 'the spouse'} was ${age} on ${on}, under the legal marriage age (${minimum} for a ${spouse.sex === 1 ? 'man' : 'woman'}, Civil Code art. 1047)`,
  };
}

// ---------- dates a person's life allows ----------

const EARLIEST_YEAR = EARLIEST_BIRTH_DATE.slice(0, 4);

/**
 * A birth date the registry does not take: after today, or before 1900-01-01 (EARLIEST_BIRTH_DATE, the
 * bound DOMAIN.md sets for the date in an ID number). One rule for the API, the registry template and
 * the child ledger, so that what one takes the others take too and an export imports back. Null when
 * the date is taken.
 */
export function birthDateProblem(birthDate: IsoDate, today: IsoDate): LocalizedMessage | null {
  if (birthDate > today)
    return {
      zh: `出生日期 ${birthDate} 晚于今天（${today}）`,
      en: `the birth date ${birthDate} is in the future (today is ${today})`,
    };
  if (birthDate < EARLIEST_BIRTH_DATE)
    return {
      zh: `出生日期 ${birthDate} 早于${EARLIEST_YEAR}年`,
      en: `the birth date ${birthDate} is before ${EARLIEST_YEAR}`,
    };
  return null;
}

/** A person a date is held against: who they are in the message (本人, 对方) and their birth date. */
export interface BornPerson {
  who?: LocalizedMessage;
  birthDate: string | null;
}

/**
 * A date about persons that cannot come before their births (a fact's start, a link's start or end, a
 * signed form, a check of a carer): before the birth of one of them (the latest such birth is named),
 * or before the earliest birth the registry takes (1900-01-01) whatever is known of them. With
 * `orOn`, the birth day itself is refused too (an end on it would leave a period of no days).
 * `what` names the date in the message. Null when the date is possible.
 */
export function beforeBirthProblem(
  date: string,
  persons: readonly BornPerson[],
  what: LocalizedMessage,
  { orOn = false }: { orOn?: boolean } = {},
): LocalizedMessage | null {
  const [zhVerb, enVerb] = orOn ? ['不晚于', 'is not after'] : ['早于', 'is before'];
  const born = persons
    .filter(
      (p): p is BornPerson & { birthDate: string } =>
        p.birthDate !== null && (orOn ? date <= p.birthDate : date < p.birthDate),
    )
    .sort((a, b) => (a.birthDate < b.birthDate ? 1 : a.birthDate > b.birthDate ? -1 : 0))[0];
  if (born)
    return {
      zh: `${what.zh} ${date} ${zhVerb}${born.who ? `${born.who.zh}的` : ''}出生日期 ${born.birthDate}`,
      en: `${what.en} ${date} ${enVerb} the birth${born.who ? ` of ${born.who.en}` : ''} on ${born.birthDate}`,
    };
  if (date < EARLIEST_BIRTH_DATE)
    return {
      zh: `${what.zh} ${date} 早于${EARLIEST_YEAR}年：登记的人都出生在 ${EARLIEST_BIRTH_DATE} 以后`,
      en: `${what.en} ${date} is before ${EARLIEST_YEAR}: nobody on the registry was born before ${EARLIEST_BIRTH_DATE}`,
    };
  return null;
}

/**
 * A date of something that has happened (an entrustment form signed, a carer's fitness checked) that
 * is after today. Null when it is not. A plan (a migration, a link starting later) is not held to it.
 */
export function datedAheadProblem(
  date: string,
  today: IsoDate,
  what: LocalizedMessage,
): LocalizedMessage | null {
  if (date <= today) return null;
  return {
    zh: `${what.zh} ${date} 晚于今天（${today}）：只能登记已经发生的事`,
    en: `${what.en} ${date} is in the future (today is ${today}): only what has happened is recorded`,
  };
}

/**
 * A fact's end (`to`, the first day it no longer holds) after today. A fact is a period [from, to)
 * of what was found (DOMAIN.md section 1): its end is the day it stopped holding, which is known once
 * it has happened. An end still to come (a sentence's term, an expected return) is data
 * (liberty_restriction's expectedEnd, migration's expectedReturn), not `to`: a `to` ahead would end
 * the period on a day nobody saw it end, and as-of answers after it (the care groups) would read a
 * plan as fact. Today is allowed: the mother came home this morning. The same bound as a link's end
 * (endRelation). Null when the end has happened.
 */
export function factEndAheadProblem(to: IsoDate, today: IsoDate): LocalizedMessage | null {
  if (to <= today) return null;
  return {
    zh: `结束日期 ${to} 晚于今天（${today}）：结束日期是该事实不再成立的第一天，只能登记已经发生的结束；预计的结束（刑期届满、预计返乡）请填在预计结束日期（expectedEnd）或预计返乡日期（expectedReturn）中，到时再结束`,
    en: `the end ${to} is after today (${today}): the end is the first day the fact no longer holds, and only an end that has happened is recorded; an expected end (a sentence's term, an expected return) goes in the data (expectedEnd, expectedReturn), and the fact is ended when it happens`,
  };
}

/**
 * The latest date an "as of" question about a person has an answer: today, China's (dates.ts). The care
 * group periods are evaluated up to today, so a later date would answer as if the future were known (a
 * child turning 16 next month still a member). Until session 18 the day after was allowed too, for a
 * browser ahead of a server on UTC; `today()` has been China's date since session 8, so a browser in
 * China is never ahead, and the extra day only published a count for a day still to come without that
 * day's birthdays (docs/DECISIONS.md "No count for a day still to come").
 */
export function latestAsOfDay(today: IsoDate): IsoDate {
  return today;
}

/** An "as of" date after latestAsOfDay: the message that refuses it. Null when the date has an answer. */
export function asOfAheadProblem(asOf: IsoDate, today: IsoDate): LocalizedMessage | null {
  const latest = latestAsOfDay(today);
  if (asOf <= latest) return null;
  return {
    zh: `不能晚于 ${latest}（尚未到来的日期没有结果）`,
    en: `must not be after ${latest} (a day still to come has no answer yet)`,
  };
}

/**
 * The path of the first number in a JSON value (a household's declared assets) that is not kept as
 * sent: not finite (1e400 is parsed as Infinity, stored as null) or a whole number beyond 2^53 - 1
 * (123456789012345678901234567890 loses its digits). Null when every number is safe.
 */
export function unsafeNumberPath(value: unknown, path: readonly string[] = []): string[] | null {
  if (typeof value === 'number')
    return Number.isFinite(value) && (!Number.isInteger(value) || Number.isSafeInteger(value))
      ? null
      : [...path];
  if (value !== null && typeof value === 'object')
    for (const [key, item] of Object.entries(value)) {
      const found = unsafeNumberPath(item, [...path, key]);
      if (found) return found;
    }
  return null;
}

/** The county (6 digits) of a village code. */
export function countyOf(regionCode: string): string {
  return regionCode.slice(0, 6);
}

// ---------- the registry template and the facts ----------

/**
 * How the import reconciles one kind of fact from a template row with the stored ones:
 * - 'period': a dated period (the template gives its start); at most one open at a time;
 * - 'current': a dated period the template row states as the person's current state (外出务工): as
 *   'period', except that a later start with the same value replaces the open record (retracted)
 *   instead of following it: the file corrects the start, or the person left again after a return
 *   the registry never heard of; in neither case were they away without a break since the old start;
 * - 'reported': a lost contact, which the template dates by its police report (失联开始日期 holds
 *   data.policeReportDate, not the fact's start): matched on the report date; another report date
 *   corrects the record in force (retracted, recorded again from its start, or the report if earlier);
 * - 'state': a current state without a date in the template (recorded from the import day); at
 *   most one open at a time; a different value ends the previous one;
 * - 'event': a dated event (death, declared missing); one per person;
 * - 'flag': a yes without a date (recorded from the import day).
 */
export type FactMode = 'period' | 'current' | 'reported' | 'state' | 'event' | 'flag';

export interface TemplateFact {
  kind: FactKind;
  mode: FactMode;
  /** null: from the import day (state and flag kinds). */
  from: string | null;
  data: Record<string, unknown>;
}

/** The facts a template row states, and the kinds it says have ended (外出务工=否, 重病=否). */
export interface RowFacts {
  facts: TemplateFact[];
  ended: FactKind[];
}

/** The keys of each kind's data that the template carries: only these are compared on import. */
export const TEMPLATE_FACT_KEYS: Partial<Record<FactKind, readonly string[]>> = {
  migration: ['destination'],
  liberty_restriction: ['type', 'expectedEnd'],
  lost_contact: ['policeReportDate'],
  disability: ['category', 'grade'],
  schooling: ['stage', 'school'],
  self_care: ['level'],
  living_arrangement: ['value'],
  // The child ledger's answers: every one is compared, so a changed answer is a new declaration.
  ledger_declaration: [
    'leftBehindChild',
    'bothParentsMigrant',
    'oneMigrantOtherUnable',
    'unableParent',
    'unableReason',
    'hasEntrustedCarer',
    'guardianshipType',
    'hukouRegistered',
    'boarding',
    'incomeSources',
    'assistance',
  ],
};

/** The part of a fact's data the template can express, nulls dropped, for comparison. */
export function templateProjection(kind: FactKind, data: Record<string, unknown>): string {
  const keys = TEMPLATE_FACT_KEYS[kind] ?? [];
  const out: Record<string, unknown> = {};
  for (const k of keys) if (data[k] !== undefined && data[k] !== null) out[k] = data[k];
  return canonicalJson(out);
}

interface RowFactInput {
  migrant: boolean | null;
  migrationDestination: string | null;
  migrationSince: string | null;
  disability: { category: number; grade: number } | null;
  seriousIllness: boolean | null;
  liberty: { type: string; since: string; until: string | null } | null;
  lostContactSince: string | null;
  guardianshipRevoked: boolean | null;
  deported: boolean | null;
  deathDate: string | null;
  declaredMissingDate: string | null;
  schoolStage: string | null;
  school: string | null;
  livingArrangement: string | null;
  selfCare: string | null;
}

/**
 * The facts a template row states. A destination or start without 外出务工=是, or a school without a
 * stage, has no fact to go in: the template refuses such a row (rowToRecord), so nothing is dropped here.
 */
export function factsOfRow(r: RowFactInput): RowFacts {
  const facts: TemplateFact[] = [];
  const ended: FactKind[] = [];
  if (r.migrant === true && r.migrationSince)
    facts.push({
      kind: 'migration',
      mode: 'current',
      from: r.migrationSince,
      data: r.migrationDestination ? { destination: r.migrationDestination } : {},
    });
  if (r.migrant === false) ended.push('migration');
  if (r.liberty)
    facts.push({
      kind: 'liberty_restriction',
      mode: 'period',
      from: r.liberty.since,
      data: { type: r.liberty.type, ...(r.liberty.until ? { expectedEnd: r.liberty.until } : {}) },
    });
  if (r.lostContactSince)
    facts.push({
      kind: 'lost_contact',
      mode: 'reported',
      from: r.lostContactSince,
      data: { policeReportDate: r.lostContactSince },
    });
  if (r.deathDate) facts.push({ kind: 'death', mode: 'event', from: r.deathDate, data: {} });
  if (r.declaredMissingDate)
    facts.push({ kind: 'declared_missing', mode: 'event', from: r.declaredMissingDate, data: {} });
  if (r.guardianshipRevoked === true)
    facts.push({ kind: 'guardianship_revoked', mode: 'flag', from: null, data: {} });
  if (r.deported === true) facts.push({ kind: 'deported', mode: 'flag', from: null, data: {} });
  if (r.seriousIllness === true) facts.push({ kind: 'serious_illness', mode: 'flag', from: null, data: {} });
  if (r.seriousIllness === false) ended.push('serious_illness');
  if (r.disability)
    facts.push({
      kind: 'disability',
      mode: 'state',
      from: null,
      data: { category: r.disability.category, grade: r.disability.grade },
    });
  if (r.schoolStage)
    facts.push({
      kind: 'schooling',
      mode: 'state',
      from: null,
      data: { stage: r.schoolStage, ...(r.school ? { school: r.school } : {}) },
    });
  if (r.livingArrangement)
    facts.push({
      kind: 'living_arrangement',
      mode: 'state',
      from: null,
      data: { value: r.livingArrangement },
    });
  if (r.selfCare) facts.push({ kind: 'self_care', mode: 'state', from: null, data: { level: r.selfCare } });
  return { facts, ended };
}

export interface StoredFact {
  id: number;
  kind: string;
  valid_from: string;
  valid_to: string | null;
  data: Record<string, unknown>;
}

export type FactChange =
  | { op: 'insert'; kind: FactKind; from: string; data: Record<string, unknown> }
  | { op: 'close'; id: number; to: string }
  | { op: 'retract'; id: number };

/** In force on `on` or starting later: not yet ended. */
function open(f: StoredFact, on: string): boolean {
  return f.valid_to === null || f.valid_to > on;
}

/**
 * What to change so the stored facts (not retracted) say what the template row says, as of the
 * import day. Nothing when they already do: a re-import changes nothing. A previous open period
 * is ended the day the new one starts, or retracted when the file moves its start back (the file
 * corrects it) or, for the template's migration, gives the same destination from another day.
 * Pure; exported for tests.
 */
export function reconcileFacts(stored: readonly StoredFact[], row: RowFacts, on: string): FactChange[] {
  const changes: FactChange[] = [];
  const endOrRetract = (f: StoredFact, at: string) => {
    if (at > f.valid_from) changes.push({ op: 'close', id: f.id, to: at });
    else changes.push({ op: 'retract', id: f.id });
  };
  for (const want of row.facts) {
    const same = stored.filter((f) => f.kind === want.kind);
    const projection = templateProjection(want.kind, want.data);
    switch (want.mode) {
      case 'period':
      case 'current': {
        const from = want.from ?? on;
        if (same.some((f) => f.valid_from === from && templateProjection(want.kind, f.data) === projection))
          break;
        for (const f of same) {
          if (!open(f, on)) continue;
          if (want.mode === 'current' && templateProjection(want.kind, f.data) === projection)
            changes.push({ op: 'retract', id: f.id });
          else endOrRetract(f, from);
        }
        changes.push({ op: 'insert', kind: want.kind, from, data: want.data });
        break;
      }
      case 'reported': {
        // The file's date is the police report: a record with that report stands, whatever its start.
        if (same.some((f) => templateProjection(want.kind, f.data) === projection)) break;
        // Another report date for the loss of contact in force corrects its report: the record is
        // retracted and recorded again from its own start (which the template does not carry), or from
        // the report when that is earlier. Nothing in force: a new loss of contact from the report.
        const current = same.filter((f) => open(f, on));
        const starts = [want.from ?? on, ...current.map((f) => f.valid_from)].sort();
        for (const f of current) changes.push({ op: 'retract', id: f.id });
        changes.push({
          op: 'insert',
          kind: want.kind,
          from: current.length ? (starts[0] as string) : (want.from ?? on),
          data: want.data,
        });
        break;
      }
      case 'state': {
        const current = same.filter((f) => open(f, on) && f.valid_from <= on);
        if (current.some((f) => templateProjection(want.kind, f.data) === projection)) break;
        for (const f of current) endOrRetract(f, on);
        changes.push({ op: 'insert', kind: want.kind, from: on, data: want.data });
        break;
      }
      case 'event': {
        const from = want.from ?? on;
        if (same.some((f) => f.valid_from === from)) break;
        for (const f of same) changes.push({ op: 'retract', id: f.id });
        changes.push({ op: 'insert', kind: want.kind, from, data: want.data });
        break;
      }
      case 'flag': {
        if (same.some((f) => open(f, on))) break;
        changes.push({ op: 'insert', kind: want.kind, from: on, data: want.data });
        break;
      }
    }
  }
  for (const kind of row.ended) {
    for (const f of stored) if (f.kind === kind && open(f, on) && f.valid_from <= on) endOrRetract(f, on);
  }
  return changes;
}

/** The template's fact columns for a person, from the facts in force on `on` (for the export). */
export function rowFactsFromStored(stored: readonly StoredFact[], on: string): RowFactInput {
  const current = (kind: FactKind) =>
    stored
      .filter((f) => f.kind === kind && f.valid_from <= on && (f.valid_to === null || f.valid_to > on))
      .sort((a, b) => (a.valid_from < b.valid_from ? 1 : a.valid_from > b.valid_from ? -1 : b.id - a.id))[0];
  const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
  const migration = current('migration');
  const liberty = current('liberty_restriction');
  const lost = current('lost_contact');
  const disability = current('disability');
  const schooling = current('schooling');
  const death = stored.filter((f) => f.kind === 'death' && f.valid_from <= on).sort((a, b) => b.id - a.id)[0];
  const missing = current('declared_missing');
  return {
    migrant: migration ? true : null,
    migrationDestination: migration ? str(migration.data.destination) : null,
    migrationSince: migration ? migration.valid_from : null,
    disability: disability
      ? { category: Number(disability.data.category), grade: Number(disability.data.grade) }
      : null,
    seriousIllness: current('serious_illness') ? true : null,
    liberty: liberty
      ? { type: String(liberty.data.type), since: liberty.valid_from, until: str(liberty.data.expectedEnd) }
      : null,
    // The template's 失联开始日期 is the police report date (EXCHANGE.md), as the import reads it.
    lostContactSince: lost ? (str(lost.data.policeReportDate) ?? lost.valid_from) : null,
    guardianshipRevoked: current('guardianship_revoked') ? true : null,
    deported: current('deported') ? true : null,
    deathDate: death ? death.valid_from : null,
    declaredMissingDate: missing ? missing.valid_from : null,
    schoolStage: schooling ? str(schooling.data.stage) : null,
    school: schooling ? str(schooling.data.school) : null,
    livingArrangement: str(current('living_arrangement')?.data.value),
    selfCare: str(current('self_care')?.data.level),
  };
}
