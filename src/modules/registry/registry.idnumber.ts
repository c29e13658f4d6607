// Citizen ID numbers (公民身份号码, GB 11643-1999): 6-digit address code, 8-digit birth date
// YYYYMMDD, 3-digit sequence (odd = male, even = female) and a check character. Legacy 15-digit
// numbers (YYMMDD, no check character) are upgraded to 18 characters.
//
// The address code is where the number was issued, not where the person lives: nothing here
// derives residence from it.

import { formatDate, isCalendarDate, isIsoDate, today as currentDate } from '../../platform/dates.ts';
import type { IsoDate } from '../../platform/dates.ts';
import { dropInvisible, toHalfWidth, unwrapCell } from '../../platform/normalize.ts';
import type { LocalizedMessage } from '../../platform/normalize.ts';

export const ID_NUMBER_ERROR_CODES = [
  'EMPTY',
  'MASKED',
  'EXCEL_FLOAT',
  'BAD_CHARACTERS',
  'BAD_LENGTH',
  'BAD_ADDRESS_CODE',
  'BAD_BIRTH_DATE',
  'FUTURE_BIRTH_DATE',
  'BIRTH_BEFORE_1900',
  'BAD_CHECK_CHARACTER',
] as const;

export type IdNumberErrorCode = (typeof ID_NUMBER_ERROR_CODES)[number];

/**
 * The earliest birth date the registry takes (DOMAIN.md section 1: an ID number born before 1900 is
 * refused). The same bound holds for a birth date given without a number, through the API, the
 * template and the child ledger (birthDateProblem in registry.rules.ts), and so for every other date
 * of a person's life.
 */
export const EARLIEST_BIRTH_DATE: IsoDate = '1900-01-01';

/** GB/T 2261.1: 1 male, 2 female. */
export type Sex = 1 | 2;

export type ValidIdNumber = {
  ok: true;
  /** 18 characters, check character X in upper case. */
  value: string;
  birthDate: IsoDate;
  sex: Sex;
  upgradedFrom15: boolean;
};

export type InvalidIdNumber = {
  ok: false;
  reason: IdNumberErrorCode;
  message: LocalizedMessage;
  /**
   * The number went through a numeric Excel cell and lost digits: an Excel float, or 18 characters
   * ending in 000 (Excel keeps 15 significant digits) whose check character fails.
   */
  excelDamaged?: true;
};

export type IdNumberResult = ValidIdNumber | InvalidIdNumber;

export type IdMismatch = { field: 'sex' | 'birthDate'; message: LocalizedMessage };

const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
const CHECK_CHARACTERS = '10X98765432';

/** The check character (0-9 or X) for the first 17 digits of an ID number. */
export function computeCheckCharacter(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new RangeError(`expected 17 digits, got ${first17.length} characters`);
  let sum = 0;
  WEIGHTS.forEach((weight, i) => {
    sum += (first17.charCodeAt(i) - 48) * weight;
  });
  return CHECK_CHARACTERS.charAt(sum % 11);
}

function fail(reason: IdNumberErrorCode, zh: string, en: string): InvalidIdNumber {
  return { ok: false, reason, message: { zh, en } };
}

function excelFloat(seen: string): InvalidIdNumber {
  return excelDamaged(
    fail(
      'EXCEL_FLOAT',
      `公民身份号码被 Excel 存成了数字（${seen}），后几位已经丢失，无法还原。请在 Excel 中把该列设置为“文本”格式，重新录入完整号码后再导入。`,
      `Excel stored the ID number as a number (${seen}) and its last digits are lost; they cannot be recovered. ` +
        'Format the column as Text in Excel, enter the full numbers again and import once more.',
    ),
  );
}

function excelDamaged(r: InvalidIdNumber): InvalidIdNumber {
  return { ...r, excelDamaged: true };
}

// Forms a number takes once Excel has made it a float: 1.10105E+17, 410225200801011000.0, 410,225,200,...
const SCIENTIFIC = /^\d+(?:\.\d*)?e[+-]?\d+$/i;
const DECIMAL = /^\d+\.\d*$/;
const GROUPED = /^\d{1,3}(?:,\d{3})+(?:\.\d*)?$/;
const CENTENARIAN_SEQUENCES = /^99[6-9]$/;

// Letters drawn like X: the Cyrillic Х х and Greek Χ χ (a number copied from a scanned or
// foreign-keyboard document) and the multiplication sign × that Chinese input methods offer for x.
// Read as X, they still have to be the last character, and the check character then proves them.
const X_LOOKALIKES = /[\u0425\u0445\u03A7\u03C7\u00D7]/g;

function clean(text: string): string {
  return (
    dropInvisible(toHalfWidth(text))
      .replace(/\s/g, '')
      // Dashes group the digits as spaces do (410225-20080101-123X); the check character still
      // proves every digit. A minus sign or dash in any other form (－ is made - above) likewise.
      .replace(
        /(?<=[0-9Xx\u0425\u0445\u03A7\u03C7\u00D7])[-‐‑‒–—―−﹘﹣](?=[0-9Xx\u0425\u0445\u03A7\u03C7\u00D7])/g,
        '',
      )
      // A leading apostrophe is how Excel users force text; it is not part of the number. A Chinese
      // input method types the same key as a curly quote (‘ or ’), which Excel keeps in the cell.
      .replace(/^['‘’`]/, '')
      .replace(X_LOOKALIKES, 'X')
      .replace(/x/g, 'X')
  );
}

/**
 * A number as the registry shows it to a role that sees numbers masked (maskIdNumber: 4102**************;
 * before session 19 also 4102**********0014): a run of stars among digits, never a typo's single star.
 */
const MASKED = /^[0-9X]*\*{3,}[0-9X]*$/;

/** The stars are where the number's characters were: the file or the page showed it masked. */
export const MASKED_ID_MESSAGE: LocalizedMessage = {
  zh: '这是掩码号码（含 *，有权限限制时页面和导出文件中显示的样子），不是完整的公民身份号码：请填写完整号码',
  en: 'this is a masked number (with *, as pages and exports show it to a role without the right to see it), not a whole ID number: enter the whole number',
};

function maskedIdNumber(): InvalidIdNumber {
  return { ok: false, reason: 'MASKED', message: MASKED_ID_MESSAGE };
}

/** A character as a clerk can find it: an invisible or space-like one by its code point. */
function shownChar(c: string): string {
  return /[\p{C}\p{Z}\p{M}]/u.test(c)
    ? `U+${c.codePointAt(0)?.toString(16).toUpperCase().padStart(4, '0')}`
    : c;
}

/**
 * Validates and normalises a citizen ID number. Accepts text with surrounding or inner spaces or
 * dashes, invisible characters, a leading apostrophe, full-width characters, a lower-case x and the
 * letters drawn like X; upgrades a 15-digit number to 18 (with 18 for the centenarians' sequence
 * codes 996-999, so that they are refused as born before 1900). A JS number
 * (a numeric Excel cell) of more than 15 digits is rejected: Excel keeps only 15 significant
 * digits, so an 18-digit number has lost its last ones.
 * `today` is the date after which a birth date counts as in the future (default: today).
 */
export function normalizeIdNumber(raw: unknown, today: IsoDate = currentDate()): IdNumberResult {
  const v = unwrapCell(raw);
  if (v === null || v === undefined) return fail('EMPTY', '公民身份号码为空', 'the ID number is empty');
  // A numeric cell keeps 15 significant digits: a 15-digit legacy number (or a shorter wrong one)
  // survives whole and is checked as text; a longer one has lost its last digits.
  if (typeof v === 'number') {
    if (!(Number.isSafeInteger(v) && v >= 0 && v < 1e15)) return excelFloat(String(v));
    return normalizeIdNumber(String(v), today);
  }
  if (typeof v !== 'string' && typeof v !== 'bigint') {
    return fail('BAD_CHARACTERS', '公民身份号码不是文本', 'the ID number is not text');
  }
  const s = clean(String(v));
  if (s === '') return fail('EMPTY', '公民身份号码为空', 'the ID number is empty');
  // A float of at most 15 digits with nothing after the point (110105491231002.0, what a script
  // makes of a 15-digit old number in a number column) has lost nothing, as a number cell has not.
  const whole = /^(\d{1,15})\.0*$/.exec(s)?.[1];
  if (whole !== undefined) return normalizeIdNumber(whole, today);
  if (SCIENTIFIC.test(s) || DECIMAL.test(s) || GROUPED.test(s)) return excelFloat(s);

  if (MASKED.test(s)) return maskedIdNumber();

  const bad = [...new Set(s.replace(/[0-9X]/g, ''))];
  if (bad.length > 0) {
    const shown = bad.slice(0, 5).map(shownChar).join(' ');
    return fail(
      'BAD_CHARACTERS',
      `公民身份号码只能包含数字和末位的 X，发现了：${shown}`,
      `an ID number holds only digits and a final X; found: ${shown}`,
    );
  }
  if (s.length !== 18 && s.length !== 15) {
    return fail(
      'BAD_LENGTH',
      `公民身份号码应为18位（旧号码15位），这里是${s.length}位`,
      `an ID number has 18 characters (15 for an old number); this one has ${s.length}`,
    );
  }
  const long = s.length === 18;
  if (long ? !/^\d{17}[\dX]$/.test(s) : !/^\d{15}$/.test(s)) {
    return fail(
      'BAD_CHARACTERS',
      long ? 'X 只能出现在公民身份号码的最后一位' : '15位旧号码只有数字，没有校验码 X',
      long
        ? 'X may only be the last character of an ID number'
        : 'a 15-digit old number has only digits and no check character X',
    );
  }
  if (s.startsWith('0')) {
    return fail(
      'BAD_ADDRESS_CODE',
      '公民身份号码的前6位地址码不能以 0 开头',
      'the 6-digit address code at the start of an ID number cannot begin with 0',
    );
  }

  // A 15-digit number has no century. The sequence codes 996-999 were kept for persons aged 100
  // or more when the old numbers were issued (1984-1999): they were born in the 1800s, and the
  // upgrade to 18 digits inserts 18 for them, 19 for everyone else.
  const centenarian = !long && CENTENARIAN_SEQUENCES.test(s.slice(12));
  const first17 = long ? s.slice(0, 17) : `${s.slice(0, 6)}${centenarian ? '18' : '19'}${s.slice(6)}`;
  const birthDigits = first17.slice(6, 14);
  const [y, m, d] = [birthDigits.slice(0, 4), birthDigits.slice(4, 6), birthDigits.slice(6, 8)].map(
    Number,
  ) as [number, number, number];
  if (!isCalendarDate(y, m, d)) {
    return long
      ? fail(
          'BAD_BIRTH_DATE',
          `公民身份号码中的出生日期 ${birthDigits} 不是有效日期`,
          `the birth date ${birthDigits} in the ID number is not a calendar date`,
        )
      : fail(
          'BAD_BIRTH_DATE',
          `15位旧号码中的出生日期 ${s.slice(6, 12)}（即 ${birthDigits}）不是有效日期`,
          `the birth date ${s.slice(6, 12)} (that is ${birthDigits}) in the 15-digit old number is not a calendar date`,
        );
  }
  const birthDate = formatDate(y, m, d);
  if (birthDate < EARLIEST_BIRTH_DATE) {
    return centenarian
      ? fail(
          'BIRTH_BEFORE_1900',
          `15位旧号码的顺序码 ${s.slice(12)} 是百岁老人专用号（996-999），出生日期为 ${birthDate}，早于1900年`,
          `the sequence code ${s.slice(12)} of the 15-digit old number was kept for centenarians (996-999): ` +
            `the birth date is ${birthDate}, before 1900`,
        )
      : fail(
          'BIRTH_BEFORE_1900',
          `公民身份号码中的出生日期 ${birthDate} 早于1900年`,
          `the birth date ${birthDate} in the ID number is before 1900`,
        );
  }
  if (birthDate > today) {
    return fail(
      'FUTURE_BIRTH_DATE',
      `公民身份号码中的出生日期 ${birthDate} 晚于今天（${today}）`,
      `the birth date ${birthDate} in the ID number is after today (${today})`,
    );
  }

  const check = computeCheckCharacter(first17);
  if (long && s.charAt(17) !== check) {
    // Excel keeps 15 significant digits, so a number that went through it ends in 000.
    const excelHint = s.endsWith('000');
    const wrong = fail(
      'BAD_CHECK_CHARACTER',
      `公民身份号码校验码错误：最后一位应为 ${check}，实为 ${s.charAt(17)}。请核对号码` +
        (excelHint
          ? '；号码以 000 结尾，可能被 Excel 存成数字而丢失了后几位，请把该列设为“文本”格式后重新录入'
          : ''),
      `wrong check character: the last character should be ${check}, not ${s.charAt(17)}; check the number` +
        (excelHint
          ? '. It ends in 000: Excel may have stored it as a number and lost the last digits; format the column as Text and enter it again'
          : ''),
    );
    return excelHint ? excelDamaged(wrong) : wrong;
  }
  return {
    ok: true,
    value: first17 + check,
    birthDate,
    sex: (first17.charCodeAt(16) - 48) % 2 === 1 ? 1 : 2,
    upgradedFrom15: !long,
  };
}

const SEX_NAMES: Record<Sex, LocalizedMessage> = {
  1: { zh: '男', en: 'male' },
  2: { zh: '女', en: 'female' },
};

/**
 * The given sex and birth date that disagree with an ID number. An invalid number, or a value not
 * given, yields no mismatch.
 */
export function checkIdAgainst(
  id: IdNumberResult,
  given: { sex?: Sex | null; birthDate?: IsoDate | null },
): IdMismatch[] {
  if (!id.ok) return [];
  const mismatches: IdMismatch[] = [];
  if (given.sex !== undefined && given.sex !== null && given.sex !== id.sex) {
    const [g, e] = [SEX_NAMES[given.sex], SEX_NAMES[id.sex]];
    mismatches.push({
      field: 'sex',
      message: {
        zh: `性别“${g.zh}”与公民身份号码不一致（号码为${e.zh}性）`,
        en: `sex ${g.en} disagrees with the ID number, which is ${e.en}`,
      },
    });
  }
  if (given.birthDate !== undefined && given.birthDate !== null && given.birthDate !== id.birthDate) {
    mismatches.push({
      field: 'birthDate',
      message: {
        zh: `出生日期 ${given.birthDate} 与公民身份号码不一致（号码为 ${id.birthDate}）`,
        en: `birth date ${given.birthDate} disagrees with the ID number, which gives ${id.birthDate}`,
      },
    });
  }
  return mismatches;
}

/** The display mask of an ID number (platform/normalize.ts, shared with the access module). */
export { maskIdNumber } from '../../platform/normalize.ts';

/** The last six characters (what clerks search by), with an upper-case X. */
export function idTail(id: string): string {
  return clean(id).slice(-6);
}

/**
 * A valid 18-character ID number from an address code, a birth date and a 3-digit sequence
 * (odd for a male, even for a female). Throws RangeError on malformed input. For demo data.
 */
export function makeIdNumber(addressCode6: string, birthDate: IsoDate, sequence3: number | string): string {
  if (!/^[1-9]\d{5}$/.test(addressCode6)) throw new RangeError(`bad address code: ${addressCode6}`);
  if (!isIsoDate(birthDate)) throw new RangeError(`bad birth date: ${birthDate}`);
  const sequence = typeof sequence3 === 'number' ? String(sequence3).padStart(3, '0') : sequence3;
  if (!/^\d{3}$/.test(sequence)) throw new RangeError(`bad sequence: ${sequence3}`);
  const first17 = `${addressCode6}${birthDate.replace(/-/g, '')}${sequence}`;
  return first17 + computeCheckCharacter(first17);
}
