// The registry template, version 1 (EXCHANGE.md): one row per person, persons with the same 户编号
// forming one household. The columns are data: header, key, whether the file must carry the column,
// and how a cell becomes a value. `rowToRecord` turns one row into a RegistryRecord or a list of
// errors a clerk can act on; `recordToRow` writes a record back so that an export imports unchanged.
// Pure functions: region codes are checked through a caller-supplied `regionExists`.

import { isIsoDate } from '../../platform/dates.ts';
import type { IsoDate } from '../../platform/dates.ts';
import {
  dropInvisible,
  lostCharacterInName,
  normalizeCell,
  normalizeName,
  normalizePhone,
  parseDate,
  parseYesNo,
  serialOfDateCell,
  toHalfWidth,
  unwrapCell,
  CONTROL_CHARACTER,
  HALF_CHARACTER,
} from '../../platform/normalize.ts';
import type { LocalizedMessage, ParseResult } from '../../platform/normalize.ts';
import {
  DISABILITY_CATEGORY_LABELS,
  DISABILITY_GRADE_LABELS,
  LIBERTY_RESTRICTION_LABELS,
  LIVING_ARRANGEMENT_LABELS,
  SCHOOL_STAGE_LABELS,
  SELF_CARE_LABELS,
} from './registry.facts.ts';
import type {
  DisabilityCategory,
  DisabilityGrade,
  Label,
  LibertyRestrictionType,
  LivingArrangement,
  SchoolStage,
  SelfCareLevel,
} from './registry.facts.ts';
import { checkIdAgainst, normalizeIdNumber } from './registry.idnumber.ts';
import type { IdNumberResult, Sex, ValidIdNumber } from './registry.idnumber.ts';
import {
  birthDateProblem,
  carerAgeProblem,
  marriageAgeProblem,
  parentBirthProblem,
} from './registry.rules.ts';
import { parseDateOrMonth } from './registry.month-date.ts';

export const TEMPLATE_VERSION = 1;

/** One person as the registry template describes them, every value normalised. */
export interface RegistryRecord {
  householdNo: string;
  name: string;
  /** 18 characters; null only with a noIdReason. */
  idNumber: string | null;
  noIdReason: string | null;
  sex: Sex;
  birthDate: IsoDate;
  ethnicity: string | null;
  relationToHead: string;
  /** 12-digit village code (户籍地). */
  hukouRegionCode: string;
  /** Region code of any level (现居住地); the hukou village when the file leaves it empty. */
  residenceRegionCode: string;
  phone: string | null;
  fatherIdNumber: string | null;
  motherIdNumber: string | null;
  spouseIdNumber: string | null;
  /** 委托照护人. */
  carerIdNumber: string | null;
  migrant: boolean | null;
  migrationDestination: string | null;
  migrationSince: IsoDate | null;
  disability: { category: DisabilityCategory; grade: DisabilityGrade } | null;
  seriousIllness: boolean | null;
  liberty: { type: LibertyRestrictionType; since: IsoDate; until: IsoDate | null } | null;
  lostContactSince: IsoDate | null;
  guardianshipRevoked: boolean | null;
  deported: boolean | null;
  deathDate: IsoDate | null;
  declaredMissingDate: IsoDate | null;
  schoolStage: SchoolStage | null;
  school: string | null;
  livingArrangement: LivingArrangement | null;
  selfCare: SelfCareLevel | null;
  /** Declared on the household head's row; integer fen. */
  householdAnnualIncomeFen: number | null;
}

/** What is wrong with one cell (or, with column null, with the row as a whole). */
export interface RowError {
  /** The template header of the offending column. */
  column: string | null;
  /** The cell as the file had it. */
  value: string;
  reason: LocalizedMessage;
}

export interface TemplateContext {
  /** True when the code is a region in force (the DB side passes a Set loaded from the regions table). */
  regionExists: (code: string) => boolean;
  /** Dates after this one are in the future. */
  today: IsoDate;
}

type Parser<T> = (value: unknown, ctx: TemplateContext) => ParseResult<T>;

export interface TemplateColumn<K extends string = string, T = unknown> {
  readonly header: string;
  readonly key: K;
  /** 'yes': the file must have the column and the cell must be filled (but see requiredUnless). */
  readonly required: 'yes' | 'no';
  /** Human-readable rule for the template documentation. */
  readonly rule: string;
  readonly parse: Parser<T>;
  /** A text column's longest value, in characters: the API's limit for the same field. */
  readonly maxLength?: number;
}

// ---------------------------------------------------------------------------------------------
// Cell parsers

const ok = <T>(value: T): ParseResult<T> => ({ ok: true, value });
const bad = (zh: string, en: string): { ok: false; message: LocalizedMessage } => ({
  ok: false,
  message: { zh, en },
});

function text(value: unknown): ParseResult<string | null> {
  return ok(normalizeCell(value));
}

function requiredText(what: LocalizedMessage): Parser<string | null> {
  return (value) => {
    const s = normalizeCell(value);
    return s === null ? bad(`${what.zh}不能为空`, `${what.en} is required`) : ok(s);
  };
}

/**
 * 姓名: inner spaces of a Chinese name dropped, a transliterated name's separator made U+00B7. A name
 * holding the mark of a lost character (王? for 王𠈌 after a GBK save) is refused: stored, it would
 * overwrite the name on record.
 */
function requiredName(value: unknown): ParseResult<string | null> {
  const s = normalizeName(value);
  if (s === null) return bad('姓名不能为空', 'name is required');
  const lost = lostCharacterInName(s);
  return lost ? { ok: false, message: lost } : ok(s);
}

function optionalDate(value: unknown): ParseResult<IsoDate | null> {
  if (normalizeCell(value) === null && !(unwrapCell(value) instanceof Date)) return ok(null);
  return parseDate(value);
}

/**
 * 外出开始日期: a date, or the month a migrant left (2019-03, 2019年3月, 2019.3) read as its first day:
 * the same parser as the child ledger's 外出时间 (registry.month-date.ts), so both files take the same forms.
 */
function optionalDateOrMonth(value: unknown): ParseResult<IsoDate | null> {
  const r = parseDateOrMonth(value, { compact: false });
  return r.ok ? ok(r.value?.date ?? null) : r;
}

/**
 * A number with stars in a file: an export for a role that sees numbers masked (access.masking), sent
 * back. It is for reading: the stars are not the person's number, and no row of it can be imported.
 */
export const MASKED_IN_FILE: LocalizedMessage = {
  zh: '这是导出文件中的掩码号码（含 *），不能导入：掩码文件仅供查阅；请用有权查看完整号码的账号导出，或填写完整号码',
  en: 'this is a masked number from an export (with *) and cannot be imported: a masked file is for reading; export it with an account allowed to see whole numbers, or enter the whole number',
};

/** An ID number's reason to refuse it, in a file: a masked number says where it came from. */
function idMessage(r: Extract<IdNumberResult, { ok: false }>): LocalizedMessage {
  return r.reason === 'MASKED' ? MASKED_IN_FILE : r.message;
}

function optionalId(value: unknown, ctx: TemplateContext): ParseResult<string | null> {
  if (normalizeCell(value) === null && typeof unwrapCell(value) !== 'number') return ok(null);
  const r = normalizeIdNumber(value, ctx.today);
  return r.ok ? ok(r.value) : { ok: false, message: idMessage(r) };
}

function optionalPhone(value: unknown): ParseResult<string | null> {
  if (normalizeCell(value) === null) return ok(null);
  const r = normalizePhone(value);
  if (r.ok) return ok(r.value);
  return { ok: false, message: r.masked ? MASKED_IN_FILE : r.message };
}

/** A value given by its Chinese label (or an accepted alias). */
function byLabel<T extends string | number>(
  labels: Readonly<Record<T, Label>>,
  what: LocalizedMessage,
  aliases: Readonly<Record<string, T>> = {},
): Parser<T | null> {
  const lookup = new Map<string, T>();
  for (const [key, label] of Object.entries(labels) as [string, Label][]) {
    lookup.set(label.zh, (/^\d+$/.test(key) ? Number(key) : key) as T);
  }
  for (const [alias, value] of Object.entries(aliases)) lookup.set(alias, value);
  const allowed = Object.values<Label>(labels)
    .map((l) => l.zh)
    .join(' / ');
  return (value) => {
    const s = normalizeCell(value);
    if (s === null) return ok(null);
    const found = lookup.get(s) ?? lookup.get(s.replace(/\s/g, ''));
    if (found !== undefined) return ok(found);
    return bad(
      `${what.zh}“${s}”无法识别，可填：${allowed}`,
      `${what.en} "${s}" is not recognised; use ${allowed}`,
    );
  };
}

function parseSex(value: unknown): ParseResult<Sex | null> {
  const s = normalizeCell(value);
  if (s === null) return ok(null);
  if (['男', '男性', '1', 'M', 'm'].includes(s)) return ok(1);
  if (['女', '女性', '2', 'F', 'f'].includes(s)) return ok(2);
  return bad(`性别“${s}”无法识别，请填写 男 或 女`, `sex "${s}" is not recognised; use 男 or 女`);
}

const HUKOU_CODE = /^\d{12}$/;
const REGION_CODE = /^(?:\d{2}|\d{4}|\d{6}|\d{9}|\d{12})$/;
const EXCEL_FLOAT = /^\d(?:\.\d+)?E\+?\d+$/i;

function regionCode(value: unknown, village: boolean, ctx: TemplateContext): ParseResult<string | null> {
  const s = normalizeCell(typeof unwrapCell(value) === 'number' ? String(unwrapCell(value)) : value);
  if (s === null) return ok(null);
  const code = s.replace(/\s/g, '');
  // 4.10225E+11: what Excel writes into a CSV for a 12-digit code typed as a number, its digits lost.
  if (EXCEL_FLOAT.test(code)) {
    const what = village ? L('户籍地代码', 'hukou code') : L('区划代码', 'region code');
    return bad(
      `${what.zh}“${s}”被 Excel 存成了科学计数法，后几位已经丢失。请把该列设置为“文本”格式后重新录入完整的代码`,
      `Excel stored the ${what.en} "${s}" in scientific notation and its last digits are lost; format the column as Text and enter the whole code again`,
    );
  }
  if (village && !HUKOU_CODE.test(code)) {
    return bad(
      `户籍地代码“${s}”应为12位村（居）级区划代码`,
      `hukou code "${s}" must be a 12-digit village code`,
    );
  }
  if (!village && !REGION_CODE.test(code)) {
    return bad(
      `区划代码“${s}”应为2、4、6、9或12位数字`,
      `region code "${s}" must have 2, 4, 6, 9 or 12 digits`,
    );
  }
  if (!ctx.regionExists(code)) {
    return bad(
      `区划代码 ${code} 不存在或已撤销`,
      `region code ${code} does not exist or is no longer in force`,
    );
  }
  return ok(code);
}

const DISABILITY_GRADE_ALIASES: Record<string, DisabilityGrade> = { '1': 1, '2': 2, '3': 3, '4': 4 };
const DISABILITY_CATEGORY_ALIASES: Record<string, DisabilityCategory> = {
  '1': 1,
  '2': 2,
  '3': 3,
  '4': 4,
  '5': 5,
  '6': 6,
  '7': 7,
  视力残疾: 1,
  听力残疾: 2,
  言语残疾: 3,
  肢体残疾: 4,
  智力残疾: 5,
  精神残疾: 6,
  多重残疾: 7,
};

/** GB/T 4761-2008 family relation names, and the everyday words clerks use for them. */
export const RELATIONS_TO_HEAD: readonly string[] = [
  '户主', '本人', '配偶', '夫', '妻',
  '子', '独生子', '长子', '次子', '三子', '四子', '五子', '养子或继子', '女婿', '其他儿子',
  '女', '独生女', '长女', '次女', '三女', '四女', '五女', '养女或继女', '儿媳', '其他女儿',
  '孙子、孙女或外孙子、外孙女', '孙子', '孙女', '外孙子', '外孙女', '孙媳妇或外孙媳妇', '孙女婿或外孙女婿',
  '曾孙子或外曾孙子', '曾孙女或外曾孙女', '其他孙子、孙女或外孙子、外孙女',
  '父母', '父亲', '母亲', '公公', '婆婆', '岳父', '岳母', '继父或养父', '继母或养母', '其他父母关系',
  '祖父母或外祖父母', '祖父', '祖母', '外祖父', '外祖母', '配偶的祖父母或外祖父母', '曾祖父', '曾祖母',
  '配偶的曾祖父母或外曾祖父母', '其他祖父母或外祖父母关系',
  '兄弟姐妹', '兄', '嫂', '弟', '弟媳', '姐姐', '姐夫', '妹妹', '妹夫', '其他兄弟姐妹',
  '其他', '伯父', '伯母', '叔父', '婶母', '舅父', '舅母', '姨父', '姨母', '姑父', '姑母',
  '堂兄弟、堂姐妹', '表兄弟、表姐妹', '侄子', '侄女', '外甥', '外甥女', '其他亲属', '非亲属',
  '儿子', '女儿', '丈夫', '妻子', '孙媳', '孙女婿', '继子', '继女', '养子', '养女', '哥哥', '弟弟',
  '姐', '妹', '孙媳妇', '外孙媳妇', '曾孙子', '曾孙女', '外曾孙子', '外曾孙女',
]; // prettier-ignore

const RELATION_SET = new Set(RELATIONS_TO_HEAD);

/**
 * A relation to the head as stored: 本人 (GB/T 4761's "self", what some county systems write on the
 * head's own row) is 户主, so that the household's head, income and head checks read it as the head.
 * Null when the word is not a relation name.
 */
export function relationToHeadAsStored(text: string): string | null {
  const compact = text.replace(/\s/g, '');
  if (!RELATION_SET.has(compact)) return null;
  return compact === '本人' ? '户主' : compact;
}

function parseRelation(value: unknown): ParseResult<string | null> {
  const s = normalizeCell(value);
  if (s === null) return bad('与户主关系不能为空', 'the relation to the household head is required');
  const stored = relationToHeadAsStored(s);
  if (stored !== null) return ok(stored);
  return bad(
    `与户主关系“${s}”不是 GB/T 4761 的家庭关系名称（如 户主、配偶、子、女、孙子、孙女、父亲、母亲、兄弟姐妹、其他）`,
    `relation "${s}" is not a GB/T 4761 family relation (户主, 配偶, 子, 女, 孙子, 孙女, 父亲, 母亲, 兄弟姐妹, 其他 ...)`,
  );
}

const AMOUNT = /^(\d+|\d{1,3}(?:,\d{3})+)(?:\.(\d{1,2}))?$/;

/**
 * Yuan as integer fen without floating point: "12000" → 1200000, "12,000.50" → 1200050. The decimal
 * string is split at the point; a number cell is first written out the way Excel shows it.
 */
export function parseYuanToFen(value: unknown): ParseResult<number | null> {
  const v = unwrapCell(value);
  let s: string | null;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) return bad('金额无效', 'invalid amount');
    // A number cell holds the amount in binary; its shortest decimal form is what the clerk typed.
    s = String(v);
    if (/e/i.test(s)) return bad(`金额 ${s} 超出范围`, `the amount ${s} is out of range`);
  } else s = normalizeCell(v);
  if (s === null) return ok(null);
  const compact = s.replace(/\s/g, '').replace(/(元|¥|￥)/g, '');
  const m = AMOUNT.exec(compact);
  if (!m) {
    return bad(
      `金额“${s}”应为不带单位的非负数，最多两位小数（如 12000 或 12,000.50）`,
      `the amount "${s}" must be a non-negative number with at most two decimals (12000 or 12,000.50)`,
    );
  }
  const yuan = (m[1] ?? '0').replace(/,/g, '');
  const cents = (m[2] ?? '').padEnd(2, '0');
  const fen = Number(yuan) * 100 + Number(cents);
  if (!Number.isSafeInteger(fen)) return bad(`金额“${s}”过大`, `the amount "${s}" is too large`);
  return ok(fen);
}

/** Integer fen written as yuan, "12000" or "12000.50". */
export function formatFenAsYuan(fen: number): string {
  const yuan = Math.floor(fen / 100);
  const cents = fen % 100;
  return cents === 0 ? String(yuan) : `${yuan}.${String(cents).padStart(2, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// The columns

const L = (zh: string, en: string): LocalizedMessage => ({ zh, en });

function column<K extends string, T>(
  header: string,
  key: K,
  required: 'yes' | 'no',
  rule: string,
  parse: Parser<T>,
  maxLength?: number,
): TemplateColumn<K, T> {
  return { header, key, required, rule, parse, ...(maxLength !== undefined ? { maxLength } : {}) };
}

// The apostrophe that keeps a cell text in Excel ('T1XD), written into the cell by tools that "keep
// text for Excel", or typed as a curly quote by a Chinese input method: as in an ID number, not part of
// the value (registry.idnumber.ts). A full-width one is made half-width by normalizeCell.
const TEXT_MARK = /^['‘’]/;

function parseHouseholdNo(value: unknown, ctx: TemplateContext): ParseResult<string | null> {
  const v = unwrapCell(value);
  if (typeof v === 'number' && !Number.isSafeInteger(v)) {
    return bad(
      `户编号被 Excel 存成了数字（${String(v)}），后几位可能已经丢失。请把该列设置为“文本”格式后重新录入`,
      `Excel stored the household number as a number (${String(v)}) and may have lost digits; format the column as Text and enter it again`,
    );
  }
  // Typed into a General column, 3-12 (组-户) becomes the day 12 March: neither that day nor its
  // serial number is the household number.
  if (v instanceof Date) {
    const shown = normalizeCell(v) ?? '';
    return bad(
      `户编号被 Excel 当成了日期（显示为 ${shown}）：请把该列设置为“文本”格式后按原样重新录入户编号`,
      `Excel took the household number for a date (shown as ${shown}); format the column as Text and enter the household number again as it is`,
    );
  }
  const s = normalizeCell(value);
  return requiredText(L('户编号', 'household number'))(s === null ? null : s.replace(TEXT_MARK, ''), ctx);
}

export const TEMPLATE_COLUMNS = [
  column(
    '户编号',
    'householdNo',
    'yes',
    'text, unique within the county, at most 40 characters',
    parseHouseholdNo,
    40,
  ),
  column('姓名', 'name', 'yes', 'text, at most 50 characters', requiredName, 50),
  column(
    '公民身份号码',
    'idNumber',
    'yes',
    '18 characters (or 15, upgraded); may be empty with 无身份号码原因',
    optionalId,
  ),
  column('无身份号码原因', 'noIdReason', 'no', 'text, e.g. 未落户, at most 100 characters', text, 100),
  column('性别', 'sex', 'no', '男 / 女; must agree with the ID number', parseSex),
  column('出生日期', 'birthDate', 'no', 'date; must agree with the ID number', optionalDate),
  column('民族', 'ethnicity', 'no', 'e.g. 汉族, at most 20 characters', text, 20),
  column('与户主关系', 'relationToHead', 'yes', 'GB/T 4761 name', parseRelation),
  column('户籍地代码', 'hukouRegionCode', 'yes', '12-digit village code', (v, ctx) =>
    regionCode(v, true, ctx),
  ),
  column('现居住地代码', 'residenceRegionCode', 'no', 'region code of any level; empty = hukou', (v, ctx) =>
    regionCode(v, false, ctx),
  ),
  column('联系电话', 'phone', 'no', 'mainland mobile or landline', optionalPhone),
  column('父亲身份号码', 'fatherIdNumber', 'no', 'ID number of a person in any household', optionalId),
  column('母亲身份号码', 'motherIdNumber', 'no', 'likewise', optionalId),
  column('配偶身份号码', 'spouseIdNumber', 'no', 'likewise', optionalId),
  column('委托照护人身份号码', 'carerIdNumber', 'no', 'likewise; an adult (18 or more)', optionalId),
  column('外出务工', 'migrant', 'no', '是 / 否', parseYesNo),
  column(
    '外出务工地',
    'migrationDestination',
    'no',
    'text or region code, at most 100 characters',
    text,
    100,
  ),
  column(
    '外出开始日期',
    'migrationSince',
    'no',
    'date, or month (read as its 1st); required if 外出务工=是',
    optionalDateOrMonth,
  ),
  column(
    '残疾类别',
    'disabilityCategory',
    'no',
    '视力 听力 言语 肢体 智力 精神 多重',
    byLabel(DISABILITY_CATEGORY_LABELS, L('残疾类别', 'disability category'), DISABILITY_CATEGORY_ALIASES),
  ),
  column(
    '残疾等级',
    'disabilityGrade',
    'no',
    '一级 二级 三级 四级 (or 1-4); required with a category',
    byLabel(DISABILITY_GRADE_LABELS, L('残疾等级', 'disability grade'), DISABILITY_GRADE_ALIASES),
  ),
  column('重病', 'seriousIllness', 'no', '是 / 否', parseYesNo),
  column(
    '人身自由状况',
    'libertyStatus',
    'no',
    '服刑在押 / 强制隔离戒毒 / 其他限制人身自由',
    byLabel(LIBERTY_RESTRICTION_LABELS, L('人身自由状况', 'liberty status')),
  ),
  column('人身自由限制开始日期', 'libertySince', 'no', 'date; required with a status', optionalDate),
  column('人身自由限制预计结束日期', 'libertyUntil', 'no', 'date', optionalDate),
  column('失联开始日期', 'lostContactSince', 'no', 'date (police report date)', optionalDate),
  column('撤销监护资格', 'guardianshipRevoked', 'no', '是 / 否', parseYesNo),
  column('被遣送出境', 'deported', 'no', '是 / 否', parseYesNo),
  column('死亡日期', 'deathDate', 'no', 'date', optionalDate),
  column('宣告失踪日期', 'declaredMissingDate', 'no', 'date', optionalDate),
  column(
    '就学阶段',
    'schoolStage',
    'no',
    '学前 小学 初中 高中 中职 大学 未就学',
    byLabel(SCHOOL_STAGE_LABELS, L('就学阶段', 'school stage'), { 幼儿园: 'preschool', 中专: 'vocational' }),
  ),
  column('学校名称', 'school', 'no', 'text, at most 100 characters', text, 100),
  column(
    '居住状况',
    'livingArrangement',
    'no',
    '独居 / 与配偶同住 / 与子女同住 / 与孙辈同住 / 机构供养 / 其他',
    byLabel(LIVING_ARRANGEMENT_LABELS, L('居住状况', 'living arrangement'), { 空巢: 'spouse_only' }),
  ),
  column(
    '生活自理能力',
    'selfCare',
    'no',
    '完好 / 轻度失能 / 中度失能 / 重度失能',
    byLabel(SELF_CARE_LABELS, L('生活自理能力', 'self-care ability')),
  ),
  column('家庭年收入(元)', 'householdAnnualIncome', 'no', 'yuan, on the head’s row', (v) =>
    parseYuanToFen(v),
  ),
] as const;

export type TemplateColumnKey = (typeof TEMPLATE_COLUMNS)[number]['key'];

export const TEMPLATE_HEADERS: readonly string[] = TEMPLATE_COLUMNS.map((c) => c.header);

/** The columns of dates: a date cell there is read as its day, in any other column as its number. */
export const DATE_HEADERS: ReadonlySet<string> = new Set(
  TEMPLATE_COLUMNS.filter(
    (c) =>
      (c.parse as Parser<unknown>) === optionalDate || (c.parse as Parser<unknown>) === optionalDateOrMonth,
  ).map((c) => c.header),
);

/** The columns of free text (those with a length limit): 户编号, 姓名, 民族, 学校名称 ... */
export const FREE_TEXT_HEADERS: ReadonlySet<string> = new Set(
  TEMPLATE_COLUMNS.filter((c) => c.maxLength !== undefined).map((c) => c.header),
);

/** Headers a file must carry, or it is refused whole. */
export const REQUIRED_HEADERS: readonly string[] = TEMPLATE_COLUMNS.filter((c) => c.required === 'yes').map(
  (c) => c.header,
);

const BY_HEADER = new Map<string, TemplateColumn>(TEMPLATE_COLUMNS.map((c) => [c.header, c]));
const HEADER_OF = Object.fromEntries(TEMPLATE_COLUMNS.map((c) => [c.key, c.header])) as Record<
  TemplateColumnKey,
  string
>;

/** The template header for a column key (户编号 for householdNo). */
export function headerOf(key: TemplateColumnKey): string {
  return HEADER_OF[key];
}

export interface HeaderCheck {
  /** Required headers the file lacks; non-empty means the file is refused. */
  missing: string[];
  /** Headers that are not in the template: reported once, their cells ignored. */
  unknown: string[];
}

/**
 * Header names as matched: white space and invisible characters dropped, around the name and inside
 * it. No template header has a space, and a header cell wrapped with Alt+Enter (公民身份\n号码) is
 * the same column.
 */
export function cleanHeader(header: string): string {
  return dropInvisible(header).replace(/\s/g, '');
}

export function checkHeaders(headers: readonly string[]): HeaderCheck {
  const present = new Set(headers.map(cleanHeader));
  return {
    missing: REQUIRED_HEADERS.filter((h) => !present.has(h)),
    unknown: [...present].filter((h) => h !== '' && !BY_HEADER.has(h)),
  };
}

export function missingHeadersMessage(missing: readonly string[]): LocalizedMessage {
  const list = missing.join('、');
  return {
    zh: `文件缺少必填列：${list}。请使用登记模板（第1行为列名），补齐这些列后重新导入。`,
    en: `the file lacks required columns: ${missing.join(', ')}. Use the registry template (headers in row 1), add them and import again.`,
  };
}

// ---------------------------------------------------------------------------------------------
// A row to a record

/** The cell as the clerk wrote it, for reports: text as is, a date cell as YYYY-MM-DD. */
export function rawText(value: unknown): string {
  const v = unwrapCell(value);
  if (v === null || v === undefined) return '';
  if (v instanceof Date || typeof v === 'number' || typeof v === 'boolean') return normalizeCell(v) ?? '';
  // The error report keeps the cell as written, but a control character (a NUL from an .xlsx's
  // _x0000_) shows as U+FFFD: PostgreSQL stores no NUL, and the clerk sees where it was.
  // Half a character (HALF_CHARACTER) shows as U+FFFD too, which is what writing it out would make of it.
  if (typeof v === 'string') return v.replace(CONTROL_CHARACTERS, '\uFFFD').toWellFormed();
  if (typeof v === 'object' && 'formulaWithoutResult' in v) return `=${String(v.formulaWithoutResult)}`;
  return String(v);
}

/**
 * The error values a formula leaves in a cell (#N/A from a VLOOKUP that found nothing, #REF! after a
 * deleted column ...): an .xlsx keeps them as error cells, a CSV as their text. No real value is
 * written so.
 */
const EXCEL_ERROR =
  /^#(?:N\/A|REF!|VALUE!|DIV\/0!|NAME\?|NUM!|NULL!|SPILL!|CALC!|FIELD!|BLOCKED!|CONNECT!|BUSY!|UNKNOWN!|GETTING_DATA)$/i;

/** The Excel error value (#N/A) a cell holds, or null. */
export function excelErrorIn(value: unknown): string | null {
  const v = unwrapCell(value);
  if (typeof v !== 'string') return null;
  const s = v.trim();
  return EXCEL_ERROR.test(s) ? s.toUpperCase() : null;
}

export function excelErrorMessage(code: string): LocalizedMessage {
  return {
    zh: `单元格是 Excel 错误值 ${code}（公式出错，如 VLOOKUP 没有找到），请改为正确的值`,
    en: `the cell holds the Excel error ${code} (a formula failed, e.g. a VLOOKUP found nothing); enter the right value`,
  };
}

export interface RowOutcome {
  record: RegistryRecord | null;
  errors: RowError[];
  /** The validated ID number result, for within-file checks. */
  id: IdNumberResult | null;
  /** A father's, mother's, spouse's or carer's number that Excel damaged (for within-file checks). */
  referenceDamaged: boolean;
  /** The columns of those numbers that end in 000 as written (18 digits): damage if the file shows it. */
  referencesEnding000: string[];
}

const REFERENCE_KEYS = ['fatherIdNumber', 'motherIdNumber', 'spouseIdNumber', 'carerIdNumber'] as const;

type Values = { [K in TemplateColumnKey]?: unknown };

function isFormulaWithoutResult(value: unknown): value is { formulaWithoutResult: string } {
  return value !== null && typeof value === 'object' && 'formulaWithoutResult' in value;
}

/** A cell of dashes or slashes only (—, -, ／): what forms ask for where there is nothing to give. */
export const DASH_ONLY = /^[-—–_/／]+$/;
const NONE_WORDS: ReadonlySet<string> = new Set(['无', '暂无', '没有', '空', '不详']);

/**
 * What clerks write in a cell for "none" or "not known": 无, 暂无, 没有, 空, 不详, or dashes or slashes only.
 * In an optional column whose values it cannot be (an ID number, a date, a code, a phone number, a choice
 * from a list) it is the empty cell, as in the child ledger (registry.ledger.ts); in a text column (民族,
 * 学校名称) it stays as written, so that an export still imports back unchanged.
 */
/** A mainland mobile (with or without +86) or a landline with its area code, not part of a longer number. */
const PHONE_IN_TEXT = /(?<!\d)(?:(?:\+?86-?)?1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)/g;
const PHONE_LABEL = /联系电话|联系方式|手机号码|手机号|手机|电话号码|电话|tel|phone/gi;

/**
 * What a work place (外出务工地, the ledger's 务工地点) says of a phone number in it: 'only' when it holds
 * nothing but one, labelled or not (13812340002, 电话：13912345678, 0371-26123456); 'with' when a place
 * comes with one (北京 13812340002); null when it holds none. Neither is a destination: a phone stored as
 * one would be shown unmasked wherever the migration is (docs/DECISIONS.md).
 */
export function phoneInWorkplace(text: string): 'only' | 'with' | null {
  const s = toHalfWidth(text).replace(/\s/g, '');
  if (!new RegExp(PHONE_IN_TEXT.source).test(s)) return null;
  const rest = s
    .replace(PHONE_IN_TEXT, '')
    .replace(PHONE_LABEL, '')
    .replace(/[()（）:：,，;；、/-]/g, '');
  return rest === '' ? 'only' : 'with';
}

/** The row error of a work place holding a phone number (phoneInWorkplace), naming the columns. */
export function phoneInWorkplaceMessage(
  found: 'only' | 'with',
  column: string,
  phoneColumn: string,
): LocalizedMessage {
  return found === 'only'
    ? {
        zh: `${column}填写的是电话号码，不是务工地点：请填写外出务工的地点，电话填在“${phoneColumn}”`,
        en: `${column} holds a phone number, not a place of work: give the place, and the phone in ${phoneColumn}`,
      }
    : {
        zh: `${column}中含有电话号码：务工地点只填地点，电话填在“${phoneColumn}”`,
        en: `${column} holds a phone number with the place: give only the place there, and the phone in ${phoneColumn}`,
      };
}

export function isNoneMarker(cell: unknown): boolean {
  const text = normalizeCell(cell);
  return text !== null && (DASH_ONLY.test(text) || NONE_WORDS.has(text));
}

/** Every control character of a text, for the error report's U+FFFD (rawText). */
const CONTROL_CHARACTERS = new RegExp(CONTROL_CHARACTER.source, 'g');

/**
 * Why a cell's text cannot be stored as it is: a control character (CONTROL_CHARACTER), or more
 * characters than the column holds (the API's limit for the same field; a value of hundreds of
 * characters would also overflow the name index). Null when it can. The child ledger gives the same
 * reasons.
 */
export function unstorableText(value: string, maxLength: number | undefined): LocalizedMessage | null {
  if (CONTROL_CHARACTER.test(value))
    return {
      zh: '含有不可见的控制字符（如 NUL、响铃符），请删除后重新录入',
      en: 'contains an invisible control character (such as NUL or BEL); delete it and enter the text again',
    };
  if (HALF_CHARACTER.test(value))
    return {
      zh: '含有半个字符（多为用 LEFT、MID 等公式截断了生僻字，或其他程序写错了文件），请改为完整的字后重新录入',
      en: 'holds half a character (most often a rare character cut in two by LEFT, MID or another formula, or a file written wrongly by another program); enter the whole character again',
    };
  const length = [...value].length;
  if (maxLength !== undefined && length > maxLength)
    return {
      zh: `内容过长：最多 ${maxLength} 个字，本格有 ${length} 个字`,
      en: `too long: at most ${maxLength} characters, this cell has ${length}`,
    };
  return null;
}

/**
 * One row of the template, cells keyed by header, to a record. Every problem of the row is listed,
 * not only the first, so that the clerk fixes the row in one go.
 */
export function rowToRecord(given: Readonly<Record<string, unknown>>, ctx: TemplateContext): RowOutcome {
  const cells = numbersOfDateCells(given);
  const errors: RowError[] = [];
  const values: Values = {};
  const idCell = cells[HEADER_OF.idNumber];
  // An ID cell of 无 or a dash is an empty one: the row then needs its 无身份号码原因.
  const filled =
    (normalizeCell(idCell) !== null && !isNoneMarker(idCell)) || typeof unwrapCell(idCell) === 'number';
  const read = filled && !isFormulaWithoutResult(idCell) ? normalizeIdNumber(idCell, ctx.today) : null;
  // A cell that holds nothing of a number (a lone apostrophe, Excel's text mark, in a CSV) is empty:
  // the row then needs its 无身份号码原因 like a row with an empty cell.
  const blank = read !== null && !read.ok && read.reason === 'EMPTY';
  const hasIdCell = filled && !blank;
  const id = blank ? null : read;
  for (const col of TEMPLATE_COLUMNS) {
    const cell = cells[col.header];
    // Most cells of a row are empty: an optional empty cell is null without parsing.
    if ((cell === undefined || cell === null || cell === '') && col.required === 'no') {
      values[col.key] = null;
      continue;
    }
    if (isFormulaWithoutResult(cell)) {
      errors.push({
        column: col.header,
        value: rawText(cell),
        reason: {
          zh: '公式没有计算结果（请在 Excel 中打开并保存文件，或把公式改为数值）',
          en: 'the formula has no calculated result (open and save the file in Excel, or replace the formula by its value)',
        },
      });
      continue;
    }
    const excelError = excelErrorIn(cell);
    if (excelError !== null) {
      errors.push({ column: col.header, value: rawText(cell), reason: excelErrorMessage(excelError) });
      continue;
    }
    if (col.key === 'idNumber') {
      // Validated once above; the same result serves the sex and birth-date checks below.
      if (id?.ok === false) errors.push({ column: col.header, value: rawText(cell), reason: idMessage(id) });
      values.idNumber = id?.ok ? id.value : null;
      continue;
    }
    const r = (col.parse as Parser<unknown>)(cell, ctx);
    const unfit = r.ok && typeof r.value === 'string' ? unstorableText(r.value, col.maxLength) : null;
    if (unfit) errors.push({ column: col.header, value: rawText(cell), reason: unfit });
    else if (r.ok) values[col.key] = r.value;
    else if (col.required === 'no' && isNoneMarker(cell)) values[col.key] = null;
    else errors.push({ column: col.header, value: rawText(cell), reason: r.message });
  }
  const fail = (key: TemplateColumnKey, zh: string, en: string) =>
    errors.push({ column: HEADER_OF[key], value: rawText(cells[HEADER_OF[key]]), reason: { zh, en } });

  // The ID number, or the reason there is none.
  const idNumber = (values.idNumber as string | null | undefined) ?? null;
  const noIdReason = (values.noIdReason as string | null | undefined) ?? null;
  if (!hasIdCell && noIdReason === null) {
    fail(
      'idNumber',
      '公民身份号码为空；没有号码的请填写“无身份号码原因”（如 未落户）',
      'the ID number is empty; for a person without one, fill in 无身份号码原因 (e.g. 未落户)',
    );
  }

  // Sex and birth date: from the ID number, and if given they must agree with it.
  let sex = (values.sex as Sex | null | undefined) ?? null;
  let birthDate = (values.birthDate as IsoDate | null | undefined) ?? null;
  if (id?.ok) {
    for (const m of checkIdAgainst(id, { sex, birthDate })) {
      fail(m.field, m.message.zh, m.message.en);
    }
    sex ??= id.sex;
    birthDate ??= id.birthDate;
  } else if (id === null) {
    if (sex === null && errorsFor(errors, HEADER_OF.sex) === 0)
      fail('sex', '没有公民身份号码时必须填写性别', 'sex is required when there is no ID number');
    if (birthDate === null && errorsFor(errors, HEADER_OF.birthDate) === 0)
      fail(
        'birthDate',
        '没有公民身份号码时必须填写出生日期',
        'the birth date is required when there is no ID number',
      );
  }
  // Not after the import day, not before 1900: the rule the API and the child ledger apply too.
  const impossibleBirth = birthDate === null ? null : birthDateProblem(birthDate, ctx.today);
  if (impossibleBirth) fail('birthDate', impossibleBirth.zh, impossibleBirth.en);

  for (const key of REFERENCE_KEYS) {
    if (idNumber !== null && values[key] === idNumber) {
      fail(key, '不能填写本人的公民身份号码', 'this is the person’s own ID number');
    }
  }

  // The persons the row points at, as far as their ID numbers tell (sex, birth date): a father is
  // a man and a mother a woman, both born before the person; spouses are of the legal marriage age.
  // Read from the cells as written: whether a number was upgraded from 15 digits, or damaged by Excel, is
  // the within-file check's to know (registry.parse.ts).
  const references = new Map<TemplateColumnKey, ValidIdNumber>();
  let referenceDamaged = false;
  const referencesEnding000: string[] = [];
  for (const key of REFERENCE_KEYS) {
    const cell = cells[HEADER_OF[key]];
    const value = values[key];
    if (value === null) continue;
    if (value === undefined && (isFormulaWithoutResult(cell) || excelErrorIn(cell) !== null)) continue;
    const r = normalizeIdNumber(cell, ctx.today);
    if (r.ok) {
      references.set(key, r);
      if (!r.upgradedFrom15 && r.value.endsWith('000')) referencesEnding000.push(HEADER_OF[key]);
    } else if (r.excelDamaged) referenceDamaged = true;
  }
  const referenced = (key: TemplateColumnKey) => references.get(key) ?? null;
  for (const [key, want] of [
    ['fatherIdNumber', 1],
    ['motherIdNumber', 2],
  ] as const) {
    const parent = referenced(key);
    if (parent === null) continue;
    const [zh, en] = key === 'fatherIdNumber' ? ['父亲', 'father'] : ['母亲', 'mother'];
    if (parent.sex !== want) {
      fail(
        key,
        `${zh}身份号码是${parent.sex === 1 ? '男' : '女'}性的号码（第17位为${parent.sex === 1 ? '奇' : '偶'}数），请核对`,
        `the ${en}'s ID number is a ${parent.sex === 1 ? 'man' : 'woman'}'s (its 17th digit is ${parent.sex === 1 ? 'odd' : 'even'}); check it`,
      );
      continue;
    }
    const born = parentBirthProblem({ sex, birthDate }, { sex: parent.sex, birthDate: parent.birthDate });
    if (born) fail(key, born.zh, born.en);
  }
  const spouse = referenced('spouseIdNumber');
  if (spouse !== null) {
    const underAge =
      marriageAgeProblem({ sex: spouse.sex, birthDate: spouse.birthDate }, ctx.today) ??
      marriageAgeProblem({ name: (values.name as string | null) ?? undefined, sex, birthDate }, ctx.today);
    if (underAge) fail('spouseIdNumber', underAge.zh, underAge.en);
  }
  // An entrusted carer is an adult, as the API holds (carerAgeProblem): the link starts on the import
  // day. The template has no guardian column; the child ledger's 委托监护人 is taken as the ledger has it.
  const carer = referenced('carerIdNumber');
  if (carer !== null) {
    const tooYoung = carerAgeProblem({ sex: carer.sex, birthDate: carer.birthDate }, ctx.today, 'carer');
    if (tooYoung) fail('carerIdNumber', tooYoung.zh, tooYoung.en);
  }
  if (birthDate !== null) {
    const dated = [
      'migrationSince',
      'libertySince',
      'lostContactSince',
      'deathDate',
      'declaredMissingDate',
    ] as const;
    for (const key of dated) {
      const value = values[key];
      if (typeof value === 'string' && value < birthDate)
        fail(
          key,
          `日期 ${value} 早于出生日期 ${birthDate}`,
          `the date ${value} is before the birth on ${birthDate}`,
        );
    }
  }

  // What has happened is dated on or before the import day: a death, a court's declaration, a police
  // report of lost contact. (A migration or a restriction dated ahead is a plan: the rules read it from
  // its day.)
  for (const key of ['deathDate', 'declaredMissingDate', 'lostContactSince'] as const) {
    const value = values[key];
    if (typeof value === 'string' && value > ctx.today)
      fail(
        key,
        `日期 ${value} 晚于今天（${ctx.today}）`,
        `the date ${value} is in the future (today is ${ctx.today})`,
      );
  }

  // Nothing about the person starts after the death (docs/DECISIONS.md "One answer per fact kind and
  // date; death"): the API refuses such a fact (checkFactPeriod in registry.service.ts). Every dated fact
  // column of the row is held against the row's 死亡日期; an expected end (人身自由限制预计结束日期) is not
  // a start. The columns without a date of their own (残疾, 就学 ...) are not: a dead person's row of an
  // export carries the facts in force at the death, and an export imports back. A 死亡日期 refused itself
  // (before the birth, after today) is no measure for the others: its own error says what to fix.
  const deathDate = values.deathDate;
  if (typeof deathDate === 'string' && errorsFor(errors, HEADER_OF.deathDate) === 0) {
    for (const key of [
      'migrationSince',
      'libertySince',
      'lostContactSince',
      'declaredMissingDate',
    ] as const) {
      const value = values[key];
      if (typeof value === 'string' && value > deathDate)
        fail(
          key,
          `日期 ${value} 晚于本行的死亡日期 ${deathDate}：死亡之后不能再有新的情况开始，请核对这两个日期`,
          `the date ${value} is after the death on ${deathDate} (死亡日期 on this row): nothing about a person starts after the death; check both dates`,
        );
    }
  }

  const migrant = (values.migrant as boolean | null | undefined) ?? null;
  const migrationSince = (values.migrationSince as IsoDate | null | undefined) ?? null;
  if (migrant === true && migrationSince === null && errorsFor(errors, HEADER_OF.migrationSince) === 0) {
    fail(
      'migrationSince',
      '外出务工为“是”时必须填写外出开始日期',
      'the migration start date is required when 外出务工 is 是',
    );
  }

  const destination = values.migrationDestination;
  const phoneIn = typeof destination === 'string' ? phoneInWorkplace(destination) : null;
  if (phoneIn) {
    const message = phoneInWorkplaceMessage(phoneIn, HEADER_OF.migrationDestination, HEADER_OF.phone);
    fail('migrationDestination', message.zh, message.en);
  }

  // 外出务工地 and 外出开始日期 describe a migration, which the row states with 外出务工=是 only
  // (factsOfRow): with 外出务工 empty or 否 they would be dropped without a word. A "none" marker (无, —)
  // in 外出务工地 is an empty cell here, as in the other columns.
  const migrationDetails = (['migrationDestination', 'migrationSince'] as const).filter((key) =>
    filledValue(values[key], cells[HEADER_OF[key]]),
  );
  if (migrant !== true && migrationDetails.length > 0 && errorsFor(errors, HEADER_OF.migrant) === 0) {
    const zhList = migrationDetails.map((key) => HEADER_OF[key]).join('、');
    const enList = migrationDetails.map((key) => HEADER_OF[key]).join(' and ');
    if (migrant === false)
      fail(
        'migrant',
        `外出务工为“否”时不能填写${zhList}：仍在外出务工的请填“是”，已经返回的请清空${zhList}`,
        `外出务工 is 否 but ${enList} ${migrationDetails.length > 1 ? 'are' : 'is'} filled in: write 是 if the person is away for work, or clear ${enList}`,
      );
    else
      fail(
        'migrant',
        `填写了${zhList}时必须填写外出务工（“是”）`,
        `外出务工 (是) is required with ${enList}`,
      );
  }

  const category = (values.disabilityCategory as DisabilityCategory | null | undefined) ?? null;
  const grade = (values.disabilityGrade as DisabilityGrade | null | undefined) ?? null;
  if (category !== null && grade === null && errorsFor(errors, HEADER_OF.disabilityGrade) === 0) {
    fail(
      'disabilityGrade',
      '填写了残疾类别时必须填写残疾等级',
      'the disability grade is required with a category',
    );
  }
  if (category === null && grade !== null && errorsFor(errors, HEADER_OF.disabilityCategory) === 0) {
    fail(
      'disabilityCategory',
      '填写了残疾等级时必须填写残疾类别',
      'the disability category is required with a grade',
    );
  }

  const libertyType = (values.libertyStatus as LibertyRestrictionType | null | undefined) ?? null;
  const libertySince = (values.libertySince as IsoDate | null | undefined) ?? null;
  const libertyUntil = (values.libertyUntil as IsoDate | null | undefined) ?? null;
  if (libertyType !== null && libertySince === null && errorsFor(errors, HEADER_OF.libertySince) === 0) {
    fail(
      'libertySince',
      '填写了人身自由状况时必须填写开始日期',
      'the start date is required with a liberty status',
    );
  }
  if (libertyType === null && (libertySince !== null || libertyUntil !== null)) {
    fail(
      'libertyStatus',
      '填写了人身自由限制日期时必须填写人身自由状况',
      'a liberty status is required with its dates',
    );
  }
  if (libertySince !== null && libertyUntil !== null && libertyUntil < libertySince) {
    fail('libertyUntil', '预计结束日期早于开始日期', 'the expected end is before the start');
  }

  // 学校名称 is kept with a schooling stage only (factsOfRow): without 就学阶段 it would be dropped.
  const schoolStage = (values.schoolStage as SchoolStage | null | undefined) ?? null;
  if (
    schoolStage === null &&
    filledValue(values.school, cells[HEADER_OF.school]) &&
    errorsFor(errors, HEADER_OF.schoolStage) === 0
  ) {
    fail(
      'schoolStage',
      '填写了学校名称时必须填写就学阶段',
      'the school stage is required with a school name',
    );
  }

  const within = { id, referenceDamaged, referencesEnding000 };
  if (errors.length > 0 || sex === null || birthDate === null) return { record: null, errors, ...within };

  const hukou = values.hukouRegionCode as string;
  const record: RegistryRecord = {
    householdNo: values.householdNo as string,
    name: values.name as string,
    idNumber,
    noIdReason,
    sex,
    birthDate,
    ethnicity: (values.ethnicity as string | null) ?? null,
    relationToHead: values.relationToHead as string,
    hukouRegionCode: hukou,
    residenceRegionCode: (values.residenceRegionCode as string | null) ?? hukou,
    phone: (values.phone as string | null) ?? null,
    fatherIdNumber: (values.fatherIdNumber as string | null) ?? null,
    motherIdNumber: (values.motherIdNumber as string | null) ?? null,
    spouseIdNumber: (values.spouseIdNumber as string | null) ?? null,
    carerIdNumber: (values.carerIdNumber as string | null) ?? null,
    migrant,
    migrationDestination: (values.migrationDestination as string | null) ?? null,
    migrationSince,
    disability: category !== null && grade !== null ? { category, grade } : null,
    seriousIllness: (values.seriousIllness as boolean | null) ?? null,
    liberty:
      libertyType !== null && libertySince !== null
        ? { type: libertyType, since: libertySince, until: libertyUntil }
        : null,
    lostContactSince: (values.lostContactSince as IsoDate | null) ?? null,
    guardianshipRevoked: (values.guardianshipRevoked as boolean | null) ?? null,
    deported: (values.deported as boolean | null) ?? null,
    deathDate: (values.deathDate as IsoDate | null) ?? null,
    declaredMissingDate: (values.declaredMissingDate as IsoDate | null) ?? null,
    schoolStage,
    school: (values.school as string | null) ?? null,
    livingArrangement: (values.livingArrangement as LivingArrangement | null) ?? null,
    selfCare: (values.selfCare as SelfCareLevel | null) ?? null,
    householdAnnualIncomeFen: (values.householdAnnualIncome as number | null) ?? null,
  };
  return { record, errors, ...within };
}

/**
 * The row with each date cell of a column that holds no date read as the number the cell holds: a
 * phone, an amount or a 1 for 男 in a cell that format painting made a date is what was typed, not the
 * day Excel shows for it. 户编号 keeps its date, which it refuses (parseHouseholdNo).
 */
function numbersOfDateCells(cells: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  let out: Record<string, unknown> | null = null;
  for (const [header, cell] of Object.entries(cells)) {
    const serial = serialOfDateCell(cell);
    if (serial === undefined || DATE_HEADERS.has(header) || header === HEADER_OF.householdNo) continue;
    out ??= { ...cells };
    out[header] = serial;
  }
  return out ?? cells;
}

/** Excel's serial number of a day (1900 date system): day 1 is 1900-01-01, day 61 1900-03-01 (excelDate). */
function serialOfDay(day: IsoDate): number {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const days = Math.round((Date.UTC(y, m - 1, d) - Date.UTC(1899, 11, 30)) / 86_400_000);
  return day < '1900-03-01' ? days - 1 : days;
}

const ANY_REGION: TemplateContext = { regionExists: () => true, today: '9999-12-31' };

/**
 * A template cell as the error report writes it back, when the import took it: the number the import
 * read from a date cell outside the date columns (numbersOfDateCells: 1 for 是, 2 for 女, a grade, a
 * region code, in a cell that format painting made a date), which the report shows as the day Excel
 * shows (rawText) and the column does not take as text. Null when the text reads back as it is. Not for
 * 家庭年收入: a day holds no fraction, and 1234.56 yuan would come back as 1234; refused as a day, it is
 * seen and typed again instead.
 */
export function templateCellReadBack(header: string, text: string): string | null {
  const col = BY_HEADER.get(header);
  if (!col || DATE_HEADERS.has(header) || !isIsoDate(text)) return null;
  if (col.key === 'householdNo' || col.key === 'householdAnnualIncome') return null;
  const parse = col.parse as Parser<unknown>;
  const serial = serialOfDay(text);
  return !parse(text, ANY_REGION).ok && parse(serial, ANY_REGION).ok ? String(serial) : null;
}

/**
 * A cell that holds a value for a companion check: parsed to one, or refused (undefined: its own error
 * says why), but not empty and not a "none" marker kept as text (无 in 学校名称).
 */
function filledValue(value: unknown, cell: unknown): boolean {
  return value !== null && !(typeof value === 'string' && isNoneMarker(cell));
}

function errorsFor(errors: readonly RowError[], header: string): number {
  return errors.filter((e) => e.column === header).length;
}

// ---------------------------------------------------------------------------------------------
// A record to a row

const yesNo = (b: boolean | null): string => (b === null ? '' : b ? '是' : '否');
const orEmpty = (s: string | null): string => s ?? '';

/** A record as template cells (text), keyed by header: what the export writes. */
export function recordToRow(r: RegistryRecord): Record<string, string> {
  const cells = recordToCells(r);
  const row: Record<string, string> = {};
  TEMPLATE_HEADERS.forEach((h, i) => (row[h] = cells[i] ?? ''));
  return row;
}

/** The record's cells in template column order (TEMPLATE_HEADERS). */
export function recordToCells(r: RegistryRecord): string[] {
  if (!isIsoDate(r.birthDate)) throw new RangeError(`bad birth date: ${r.birthDate}`);
  // The order of TEMPLATE_COLUMNS; a test checks the two agree.
  return [
    r.householdNo,
    r.name,
    orEmpty(r.idNumber),
    orEmpty(r.noIdReason),
    r.sex === 1 ? '男' : '女',
    r.birthDate,
    orEmpty(r.ethnicity),
    r.relationToHead,
    r.hukouRegionCode,
    r.residenceRegionCode,
    orEmpty(r.phone),
    orEmpty(r.fatherIdNumber),
    orEmpty(r.motherIdNumber),
    orEmpty(r.spouseIdNumber),
    orEmpty(r.carerIdNumber),
    yesNo(r.migrant),
    orEmpty(r.migrationDestination),
    orEmpty(r.migrationSince),
    r.disability ? DISABILITY_CATEGORY_LABELS[r.disability.category].zh : '',
    r.disability ? DISABILITY_GRADE_LABELS[r.disability.grade].zh : '',
    yesNo(r.seriousIllness),
    r.liberty ? LIBERTY_RESTRICTION_LABELS[r.liberty.type].zh : '',
    r.liberty ? r.liberty.since : '',
    r.liberty ? orEmpty(r.liberty.until) : '',
    orEmpty(r.lostContactSince),
    yesNo(r.guardianshipRevoked),
    yesNo(r.deported),
    orEmpty(r.deathDate),
    orEmpty(r.declaredMissingDate),
    r.schoolStage ? SCHOOL_STAGE_LABELS[r.schoolStage].zh : '',
    orEmpty(r.school),
    r.livingArrangement ? LIVING_ARRANGEMENT_LABELS[r.livingArrangement].zh : '',
    r.selfCare ? SELF_CARE_LABELS[r.selfCare].zh : '',
    r.householdAnnualIncomeFen === null ? '' : formatFenAsYuan(r.householdAnnualIncomeFen),
  ];
}

/** Persons this record points at by ID number, for the DB side to resolve against the DB and the file. */
export interface RecordReference {
  relation: 'father' | 'mother' | 'spouse' | 'carer';
  column: string;
  idNumber: string;
}

export function collectReferences(r: RegistryRecord): RecordReference[] {
  const out: RecordReference[] = [];
  const add = (relation: RecordReference['relation'], key: TemplateColumnKey, id: string | null) => {
    if (id !== null) out.push({ relation, column: HEADER_OF[key], idNumber: id });
  };
  add('father', 'fatherIdNumber', r.fatherIdNumber);
  add('mother', 'motherIdNumber', r.motherIdNumber);
  add('spouse', 'spouseIdNumber', r.spouseIdNumber);
  add('carer', 'carerIdNumber', r.carerIdNumber);
  return out;
}
