// Normalisation of cell values coming in from spreadsheets and forms: full-width characters, stray
// white space, the several ways counties write dates, yes/no answers and phone numbers. Pure
// functions; the importers decide what an error means for their row.

import { addDays, formatDate, isCalendarDate } from './dates.ts';
import type { IsoDate } from './dates.ts';

/** A message shown to a user, in Chinese and English (picked by Accept-Language). */
export type LocalizedMessage = { zh: string; en: string };

/** Outcome of parsing one value: the value, or a message saying what is wrong with it. */
export type ParseResult<T> = { ok: true; value: T } | { ok: false; message: LocalizedMessage };

const FULL_WIDTH = /[\uFF01-\uFF5E\u3000]/g;
// Characters that take no room on screen: zero-width spaces and joiners, the BOM, the soft hyphen,
// and the direction marks that Windows puts around a number copied from some programs
// (U+202D ... U+202C) or from a right-to-left page.
/**
 * C0 controls except tab, line feed and carriage return, DEL, and the C1 controls U+0080-U+009F:
 * refused in any text the API or an import takes (PostgreSQL cannot store a NUL at all, and the
 * others are invisible garbage in a name; a household number or a fact's source of C1 characters
 * only, such as NEL U+0085, looked blank yet passed the "never blank" checks).
 */
// eslint-disable-next-line no-control-regex
export const CONTROL_CHARACTER = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Half of a character: a UTF-16 surrogate without its other half (an .xlsx's _xD800_, what Excel writes
 * when LEFT() or MID() cut a rare character such as 𠈌 in two). It cannot be stored: written out it
 * becomes U+FFFD, a "�" in the person's name.
 */
export const HALF_CHARACTER = /\p{Cs}/u;

const INVISIBLE = /[\u00AD\u180E\u200B-\u200F\u202A-\u202E\u2060-\u2064\u2066-\u2069\uFEFF]/g;

/** The text without characters that take no room on screen (zero-width, soft hyphen, direction marks). */
export function dropInvisible(s: string): string {
  return s.replace(INVISIBLE, '');
}

/** Full-width ASCII (U+FF01-U+FF5E, 全角) to its half-width form; the ideographic space U+3000 to a space. */
export function toHalfWidth(s: string): string {
  return s.replace(FULL_WIDTH, (c) => (c === '\u3000' ? ' ' : String.fromCharCode(c.charCodeAt(0) - 0xfee0)));
}

/**
 * The plain value inside an exceljs cell value: rich text becomes its text, a hyperlink its text,
 * a formula its cached result (null when there is none), an error cell its error text (#N/A).
 * Anything else is returned unchanged.
 */
export function unwrapCell(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || value instanceof Date) return value;
  const v = value as Record<string, unknown>;
  if (Array.isArray(v['richText'])) {
    return v['richText']
      .map((run: unknown) => {
        const text = run !== null && typeof run === 'object' ? (run as Record<string, unknown>)['text'] : '';
        return typeof text === 'string' ? text : '';
      })
      .join('');
  }
  if ('formula' in v || 'sharedFormula' in v || 'result' in v) {
    return v['result'] === undefined ? null : unwrapCell(v['result']);
  }
  if ('hyperlink' in v && 'text' in v) return unwrapCell(v['text']);
  if (typeof v['error'] === 'string') return v['error'];
  return value;
}

function dateFromUtcParts(d: Date): IsoDate | null {
  const t = d.getTime();
  if (Number.isNaN(t)) return null;
  // Spreadsheet libraries compute date cells in floating point; round off a stray millisecond so
  // that 23:59:59.999 the day before does not pass for a date.
  const r = new Date(Math.round(t / 1000) * 1000);
  return formatDate(r.getUTCFullYear(), r.getUTCMonth() + 1, r.getUTCDate());
}

/**
 * A cell as trimmed text: exceljs wrappers unwrapped, full-width characters made half-width,
 * invisible characters dropped, inner runs of white space collapsed to one space. Empty gives null.
 * Numbers and booleans become their text; a Date its UTC calendar date (YYYY-MM-DD).
 */
export function normalizeCell(value: unknown): string | null {
  const v = unwrapCell(value);
  let text: string;
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') text = v;
  else if (typeof v === 'number') text = Number.isFinite(v) ? String(v) : '';
  else if (typeof v === 'bigint' || typeof v === 'boolean') text = String(v);
  else if (v instanceof Date) text = dateFromUtcParts(v) ?? '';
  else text = String(v);
  const s = toHalfWidth(text).replace(INVISIBLE, '').replace(/\s+/g, ' ').trim();
  return s === '' ? null : s;
}

// ---------------------------------------------------------------------------------------------
// Names

const HAN = String.raw`\p{Script=Han}`;
const SPACE_BETWEEN_HAN = new RegExp(`(?<=${HAN}) +(?=${HAN})`, 'gu');
// The separator of a transliterated name (买买提·艾力) as other keyboards and fonts write it: the
// bullet, the katakana middle dot, the hyphenation point, the dot operator, a full stop.
const NAME_DOTS = /(?<=\S) *[·•・･‧⋅∙.﹒。] *(?=\S)/gu;

/**
 * A person's name from a cell: as normalizeCell, and in a name written in Chinese characters the
 * spaces between two characters dropped (张\u3000伟, padded to line up with three-character names, is
 * 张伟) and the separator of a transliterated name made the middle dot U+00B7 that the public
 * security registry uses (阿依古丽•买买提, 阿依古丽．买买提 → 阿依古丽·买买提).
 */
export function normalizeName(value: unknown): string | null {
  const s = normalizeCell(value);
  if (s === null || !new RegExp(HAN, 'u').test(s)) return s;
  return s.replace(SPACE_BETWEEN_HAN, '').replace(NAME_DOTS, '·');
}

// "?" is what Excel writes for a character its GBK "CSV (逗号分隔)" save cannot hold (a rare character
// such as 𠈌), "？" the same typed in Chinese, U+FFFD what a decoder writes for bytes it cannot read.
const LOST_CHARACTER = /[?？\uFFFD]/;

// A Private Use Area character (U+E000-F8FF, planes 15 and 16): no standard glyph, so what a font shows
// for it differs from computer to computer (a rare character of an old font or IME, GB18030-2005's
// code for a character GB18030-2022 encodes, or a blank box).
const PRIVATE_USE = /\p{Co}/u;

/**
 * A name holding a Private Use Area character: the message that refuses it, as the import words it
 * without its "import again" (the API's name, typed in a form or sent by a client). Null when none.
 */
export function privateUseInName(name: string): LocalizedMessage | null {
  const privateUse = PRIVATE_USE.exec(name)?.[0];
  if (privateUse === undefined) return null;
  const code = `U+${(privateUse.codePointAt(0) ?? 0).toString(16).toUpperCase()}`;
  return {
    zh: `姓名中有私用区字符 ${code}：它不是标准汉字，没有统一的字形，换一台电脑多显示为空白、方框或别的字。请删去这个字，用输入法（生僻字或手写输入）重新输入`,
    en: `the name holds the private-use character ${code}: it is no standard character and no font shows it the same way (other computers show a blank, a box or another character); delete it, type the character again (an input method's rare-character or handwriting input)`,
  };
}

/**
 * Why a name (as normalizeName gives it) cannot be the person's: it holds the mark of a character lost
 * on the way through a file, or a private-use character that no font shows as the same character.
 * Null when it can. Stored, "王?" would overwrite 王𠈌 without a word.
 */
export function lostCharacterInName(name: string): LocalizedMessage | null {
  const privateUse = privateUseInName(name);
  if (privateUse !== null) return { zh: `${privateUse.zh}后再导入`, en: `${privateUse.en} and import again` };
  const lost = LOST_CHARACTER.exec(name)?.[0];
  if (lost === undefined) return null;
  return {
    zh: `姓名中的“${lost}”通常是文件另存为 GBK 编码（Excel 的“CSV（逗号分隔）”）时丢失的生僻字：请把原表另存为“CSV UTF-8”或 .xlsx 后重新导入，或把“${lost}”改为正确的字`,
    en: `the "${lost}" in the name is usually a rare character lost when the file was saved in GBK (Excel's "CSV (Comma delimited)"): save the original as "CSV UTF-8" or .xlsx and import again, or replace the "${lost}" by the right character`,
  };
}

// ---------------------------------------------------------------------------------------------
// Dates

/** Largest Excel serial (9999-12-31) in the 1900 date system. */
export const EXCEL_MAX_SERIAL = 2958465;

/**
 * Calendar date of an Excel serial number in the 1900 date system (serial 1 = 1900-01-01). Excel
 * counts a 29 February 1900 that never existed (serial 60), so serials from 61 on are one day
 * ahead of a plain count. The fraction (time of day) is ignored. Null outside 1..2958465 and for 60.
 */
export function excelSerialToDate(serial: number): IsoDate | null {
  if (!Number.isFinite(serial)) return null;
  const day = Math.floor(serial);
  if (day < 1 || day > EXCEL_MAX_SERIAL || day === 60) return null;
  return day < 60 ? addDays('1899-12-31', day) : addDays('1899-12-30', day);
}

// The number each date cell of a workbook holds (its serial), beside the day Excel shows for it (the
// Date the reader gives): a column that holds no date reads the number, a phone or an amount in a cell
// that format painting made a date. Kept aside, the Date stays a plain Date for everyone else.
const SERIALS = new WeakMap<Date, number>();

/** A workbook's date cell: the Date at `time`, remembering the serial number the cell holds. */
export function excelSerialDate(time: number, serial: number): Date {
  const date = new Date(time);
  SERIALS.set(date, serial);
  return date;
}

/** The serial number a workbook's date cell holds (excelSerialDate); undefined for any other value. */
export function serialOfDateCell(value: unknown): number | undefined {
  return value instanceof Date ? SERIALS.get(value) : undefined;
}

const ACCEPTED_DATE_FORMS: LocalizedMessage = {
  zh: '可用的日期格式：2026-11-29、2026/11/29、2026.11.29、2026年11月29日，或 Excel 日期单元格',
  en: 'accepted date forms: 2026-11-29, 2026/11/29, 2026.11.29, 2026年11月29日, or an Excel date cell',
};

const TIME_OF_DAY = String.raw`(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?`;
const SEPARATED_DATE = new RegExp(String.raw`^([1-9]\d{3})([-/.])(\d{1,2})\2(\d{1,2})${TIME_OF_DAY}$`);
const CHINESE_DATE = /^([1-9]\d{3}) ?年 ?(\d{1,2}) ?月 ?(\d{1,2}) ?日?$/;

function dateError(zh: string, en: string): { ok: false; message: LocalizedMessage } {
  return { ok: false, message: { zh, en } };
}

/**
 * A date from a cell: an exceljs Date (its UTC calendar date), an Excel serial number, or text in
 * one of the forms 2026-11-29, 2026/11/29, 2026.11.29, 2026年11月29日 (month and day may have one
 * digit; full-width digits are accepted; a trailing time of day such as "0:00" is ignored).
 */
export function parseDate(value: unknown): ParseResult<IsoDate> {
  const v = unwrapCell(value);
  if (v instanceof Date) {
    const iso = dateFromUtcParts(v);
    return iso ? { ok: true, value: iso } : dateError('日期无效', 'invalid date');
  }
  if (typeof v === 'number') {
    if (Math.floor(v) === 60) {
      return dateError(
        'Excel 日期序号 60 对应并不存在的 1900年2月29日',
        'Excel serial 60 stands for 1900-02-29, a day that never existed',
      );
    }
    const iso = excelSerialToDate(v);
    if (iso) return { ok: true, value: iso };
    return dateError(
      `数字 ${v} 不是有效的 Excel 日期；${ACCEPTED_DATE_FORMS.zh}`,
      `the number ${v} is not an Excel date; ${ACCEPTED_DATE_FORMS.en}`,
    );
  }
  const text = normalizeCell(v);
  if (text === null) return dateError('日期为空', 'the date is empty');
  const m = SEPARATED_DATE.exec(text);
  const c = m ? null : CHINESE_DATE.exec(text);
  const parts = m ? [m[1], m[3], m[4]] : c ? [c[1], c[2], c[3]] : null;
  if (!parts) {
    return dateError(
      `无法识别的日期“${text}”；${ACCEPTED_DATE_FORMS.zh}`,
      `"${text}" is not a date in a recognised form; ${ACCEPTED_DATE_FORMS.en}`,
    );
  }
  const [y, mo, d] = parts.map(Number) as [number, number, number];
  if (!isCalendarDate(y, mo, d)) {
    return dateError(`“${text}”不是日历上存在的日期`, `"${text}" is not a calendar date`);
  }
  return { ok: true, value: formatDate(y, mo, d) };
}

// ---------------------------------------------------------------------------------------------
// Yes / no

const YES = new Set(['是', 'y', 'yes', '1', 'true']);
const NO = new Set(['否', 'n', 'no', '0', 'false']);

/** 是/Y/yes/1/true → true, 否/N/no/0/false → false (case-insensitive), empty → null, else an error. */
export function parseYesNo(value: unknown): ParseResult<boolean | null> {
  const v = unwrapCell(value);
  if (typeof v === 'boolean') return { ok: true, value: v };
  const text = normalizeCell(v);
  if (text === null) return { ok: true, value: null };
  const key = text.toLowerCase();
  if (YES.has(key)) return { ok: true, value: true };
  if (NO.has(key)) return { ok: true, value: false };
  return {
    ok: false,
    message: {
      zh: `“${text}”不是“是”或“否”（可填 是/否、Y/N、1/0）`,
      en: `"${text}" is not yes or no (use 是/否, Y/N, yes/no, 1/0 or true/false)`,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Phone numbers

export type PhoneKind = 'mobile' | 'landline';

export type PhoneResult =
  | { ok: true; value: string; kind: PhoneKind }
  /** `masked`: the number as a masked page or export shows it (193****5118), see MASKED_PHONE. */
  | { ok: false; message: LocalizedMessage; masked?: true };

const MOBILE = /^1[3-9]\d{9}$/;
// Trunk 0 + area code: 010 and 02x have two digits after the 0, all others three (0371, 0898).
const AREA_CODE = String.raw`0(?:10|2\d|[3-9]\d{2})`;
const LOCAL_NUMBER = String.raw`[1-9]\d{6,7}`;
const LANDLINE_COMPACT = new RegExp(`^(${AREA_CODE})(${LOCAL_NUMBER})$`);
const AREA_ONLY = new RegExp(`^${AREA_CODE}$`);
const LOCAL_ONLY = new RegExp(`^${LOCAL_NUMBER}$`);
const EXTENSION = /^(.+?) ?(?:转|分机|ext\.?|x|#|,) ?(\d{1,6})$/i;
const COUNTRY_PREFIX = /^(?:\+|00)86-?/;

const PHONE_FORMS: LocalizedMessage = {
  zh: '请填写11位手机号码（如 13812345678），或带区号的固定电话（如 0371-12345678，分机写作 0371-12345678-123）',
  en: 'enter an 11-digit mobile number (13812345678) or a landline with its area code (0371-12345678, extension 0371-12345678-123)',
};

function phoneError(text: string): PhoneResult {
  return {
    ok: false,
    message: {
      zh: `无法识别的电话号码“${text}”；${PHONE_FORMS.zh}`,
      en: `"${text}" is not a phone number in a recognised form; ${PHONE_FORMS.en}`,
    },
  };
}

/**
 * A phone number as maskPhone shows it to a role that sees numbers masked: 193****5118,
 * 0371-****5678 (a run of stars among digits, dashes and spaces).
 */
const MASKED_PHONE = /^[+\d\s()-]*\*{3,}[\d\s-]*$/;

/**
 * A mainland phone number in its normalised form: a mobile as 11 digits (13812345678; an optional
 * +86/0086/86 prefix, spaces and dashes are dropped), a landline as area-number[-extension]
 * (0371-12345678, 010-1234567-12; written with or without a dash, extension after 转, 分机, ext, x,
 * # or a second dash).
 */
export function normalizePhone(raw: unknown): PhoneResult {
  const text = normalizeCell(raw);
  if (text === null) return { ok: false, message: { zh: '电话号码为空', en: 'the phone number is empty' } };
  if (MASKED_PHONE.test(text))
    return {
      ok: false,
      masked: true,
      message: {
        zh: `“${text}”是掩码号码（含 *，有权限限制时页面和导出文件中显示的样子），不是完整的电话号码：请填写完整号码`,
        en: `"${text}" is a masked number (with *, as pages and exports show it to a role without the right to see it), not a whole phone number: enter the whole number`,
      },
    };

  let main = text;
  let extension: string | null = null;
  const ext = EXTENSION.exec(text);
  if (ext?.[1] !== undefined && ext[2] !== undefined) {
    main = ext[1];
    extension = ext[2];
  }
  // Spaces and brackets carry no meaning: (0371) 1234 5678.
  let compact = main.replace(/[\s()]/g, '');
  const international = COUNTRY_PREFIX.test(compact);
  if (international) compact = compact.replace(COUNTRY_PREFIX, '');

  const digits = compact.replace(/-/g, '');
  const mobile = MOBILE.test(digits) ? digits : /^861[3-9]\d{9}$/.test(digits) ? digits.slice(2) : null;
  if (mobile !== null) {
    if (extension !== null) return phoneError(text);
    return { ok: true, value: mobile, kind: 'mobile' };
  }

  // Dialled from abroad a landline drops its trunk 0: +86 371 1234 5678.
  if (international && !compact.startsWith('0')) compact = `0${compact}`;

  let area: string | undefined;
  let local: string | undefined;
  if (compact.includes('-')) {
    const [first, second = '', third, ...rest] = compact.split('-');
    area = first;
    local = second;
    if (third !== undefined) {
      // 0371-12345678-123 carries an extension; 010-1234-5678 only groups the digits.
      if (LOCAL_ONLY.test(second) && extension === null && /^\d{1,6}$/.test(third)) extension = third;
      else local = second + third;
    }
    if (rest.length > 0 || !area || !AREA_ONLY.test(area) || !LOCAL_ONLY.test(local)) return phoneError(text);
  } else {
    const m = LANDLINE_COMPACT.exec(compact);
    if (!m) return phoneError(text);
    [, area, local] = m;
  }
  const value = `${area}-${local}${extension === null ? '' : `-${extension}`}`;
  return { ok: true, value, kind: 'landline' };
}

/**
 * An ID number for display: its first four characters (province and prefecture), the rest stars,
 * 41022520080101123X → 4102**************. Nothing of the birth date, sequence or check character
 * shows: the person's birth date and hukou village are shown beside the number, and with them the
 * last four characters (the sequence and the check character) left only a handful of candidates, each
 * confirmed by one search (docs/DECISIONS.md, "The ID mask"). A value of 8 characters or fewer is all
 * stars.
 */
export function maskIdNumber(id: string): string {
  const s = id.trim();
  if (s.length <= 8) return '*'.repeat(s.length);
  return `${s.slice(0, 4)}${'*'.repeat(s.length - 4)}`;
}

/**
 * A phone number for display with the middle hidden: 13812345678 → 138****5678; a landline keeps its
 * area code and last four digits (0371-12345678 → 0371-****5678, the extension is dropped). Text that
 * is not a recognisable number keeps only its first three and last four characters.
 */
export function maskPhone(phone: string): string {
  const r = normalizePhone(phone);
  if (r.ok && r.kind === 'mobile') return `${r.value.slice(0, 3)}****${r.value.slice(7)}`;
  if (r.ok) {
    const [area = '', local = ''] = r.value.split('-');
    return `${area}-${'*'.repeat(local.length - 4)}${local.slice(-4)}`;
  }
  const s = phone.trim();
  if (s.length < 8) return '*'.repeat(s.length);
  return `${s.slice(0, 3)}${'*'.repeat(s.length - 7)}${s.slice(-4)}`;
}
