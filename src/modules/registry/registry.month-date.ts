// A start date that a file may give to the month only: when a parent went away for work (the
// template's 外出开始日期, the ledger's 父亲外出时间 / 母亲外出时间). Clerks know the month a parent
// left, rarely the day, and write 2019年3月, 2019-03, 2019.3 or 201903. One parser for both files, so
// that the template and the ledger accept the same forms (docs/DECISIONS.md "Child ledger import,
// review 7"). A month reads as its first day; the caller is told it was a month (`month`), to say so.

import { formatDate, isCalendarDate, type IsoDate } from '../../platform/dates.ts';
import { normalizeCell, parseDate, unwrapCell } from '../../platform/normalize.ts';
import type { LocalizedMessage, ParseResult } from '../../platform/normalize.ts';

export interface DateOrMonth {
  /** The date, or the first day of the month when only the month is given. */
  date: IsoDate;
  /** 'YYYY-MM' when the cell gives the month only, else null. */
  month: string | null;
}

export interface DateOrMonthOptions {
  /**
   * Digits without separators: 20190315 (a date) and 201903 (a month), as text or as a number. The
   * child ledger takes them (its dates already do, review 4); the registry template keeps to the
   * forms with separators (EXCHANGE.md), as its other dates.
   */
  compact: boolean;
}

const SEPARATED_MONTH = /^([12]\d{3}) ?[-/.年] ?(\d{1,2}) ?(?:月份?)?$/;
const COMPACT_MONTH = /^([12]\d{3})(\d{2})$/;
const COMPACT_DATE = /^([12]\d{3})(\d{2})(\d{2})$/;
const YEAR_ONLY = /^([12]\d{3}) ?年?$/;
/** A time away instead of a time of leaving: 3年, 3年多, 半年, 8个月, 1年半. */
const DURATION = /^(?:\d+(?:\.\d+)?|[一二两三四五六七八九十半]+)\s*(?:年|个月|個月|月)(?:半|多|左右|以上)?$/;

function formsOf(options: DateOrMonthOptions): LocalizedMessage {
  return options.compact
    ? {
        zh: '可写年月（2019年3月、2019-03、2019.3、201903，按当月1日计）或日期（2019-03-15、2019年3月15日、20190315），或 Excel 日期单元格',
        en: 'write the month (2019年3月, 2019-03, 2019.3, 201903: read as its 1st) or the date (2019-03-15, 2019年3月15日, 20190315), or use an Excel date cell',
      }
    : {
        zh: '可写年月（2019年3月、2019-03、2019/3、2019.3，按当月1日计）或日期（2019-03-15、2019/3/15、2019.3.15、2019年3月15日），或 Excel 日期单元格',
        en: 'write the month (2019年3月, 2019-03, 2019/3, 2019.3: read as its 1st) or the date (2019-03-15, 2019/3/15, 2019.3.15, 2019年3月15日), or use an Excel date cell',
      };
}

const bad = (zh: string, en: string): { ok: false; message: LocalizedMessage } => ({
  ok: false,
  message: { zh, en },
});

function monthOf(
  year: number,
  month: number,
  text: string,
  forms: LocalizedMessage,
): ParseResult<DateOrMonth> {
  if (month < 1 || month > 12)
    return bad(
      `“${text}”中的月份 ${month} 不存在；${forms.zh}`,
      `"${text}" has no month ${month}; ${forms.en}`,
    );
  const date = formatDate(year, month, 1);
  return { ok: true, value: { date, month: date.slice(0, 7) } };
}

function yearOnly(text: string, forms: LocalizedMessage): { ok: false; message: LocalizedMessage } {
  return bad(
    `“${text}”只写到年，无法知道外出满没满6个月；请写明年月（如 ${text.slice(0, 4)}年3月）。${forms.zh}`,
    `"${text}" gives the year only, which cannot tell whether 6 months have passed; write the month too (e.g. ${text.slice(0, 4)}年3月). ${forms.en}`,
  );
}

/**
 * A date or a month from a cell. Accepted: a real Excel date cell, an Excel serial, the date forms of
 * parseDate (2019-03-15, 2019/3/15, 2019.3.15, 2019年3月15日), and a month as 2019-03, 2019/3, 2019.3,
 * 2019年3月(份), read as its first day. A number cell 2019.3 is March 2019 (Excel makes 2019.3 typed into
 * a cell a number; read as a serial it would be a day of 1905); a number 2019.1 is refused, since Excel
 * also makes 2019.10 that number (January or October?). Refused with their reason: a year alone (2019,
 * 2019年: the groups count 6 months, and a year cannot tell), a time away (3年, 8个月: from when?), a
 * month that does not exist. With `compact`, also 201903 (a month) and 20190315 (a date). Null for an
 * empty cell.
 */
export function parseDateOrMonth(
  value: unknown,
  options: DateOrMonthOptions,
): ParseResult<DateOrMonth | null> {
  const forms = formsOf(options);
  const v = unwrapCell(value);
  if (v instanceof Date) {
    const r = parseDate(v);
    return r.ok ? { ok: true, value: { date: r.value, month: null } } : r;
  }
  if (typeof v === 'number') {
    const text = String(v);
    if (Number.isInteger(v) && (COMPACT_DATE.test(text) || COMPACT_MONTH.test(text))) {
      // 20190315 or 201903 typed as a number: the ledger reads it; the template (which would read it
      // as an Excel serial, a day centuries ahead) asks for a form with separators.
      if (!options.compact)
        return bad(
          `无法识别的时间“${text}”；${forms.zh}`,
          `"${text}" is not a date or month in a recognised form; ${forms.en}`,
        );
      const d = COMPACT_DATE.exec(text);
      if (d) return parseText(`${d[1]}-${d[2]}-${d[3]}`, text, forms);
      const m = COMPACT_MONTH.exec(text);
      if (m) return monthOf(Number(m[1]), Number(m[2]), text, forms);
    }
    if (v >= 1900 && v < 2100) {
      // Not an Excel serial: serials 1900-2100 are days of 1905, when no parent went away for work.
      const [year = '', fraction] = text.split('.');
      if (fraction === undefined) return yearOnly(text, forms);
      if (fraction === '1')
        return bad(
          `数字 ${text} 可能是 ${year}年1月，也可能是 ${year}年10月（Excel 把 ${year}.10 存成了 ${year}.1）；请写成 ${year}年1月 或 ${year}年10月，或把该列设为“文本”格式后重新填写`,
          `the number ${text} may be January or October ${year} (Excel stores ${year}.10 as ${year}.1); write ${year}年1月 or ${year}年10月, or format the column as Text and enter it again`,
        );
      if (fraction.length > 2)
        return bad(`无法识别的时间“${text}”；${forms.zh}`, `"${text}" is not a date or month; ${forms.en}`);
      return monthOf(Number(year), Number(fraction), text, forms);
    }
    const r = parseDate(v);
    return r.ok ? { ok: true, value: { date: r.value, month: null } } : r;
  }
  const text = normalizeCell(v);
  if (text === null) return { ok: true, value: null };
  if (options.compact) {
    const d = COMPACT_DATE.exec(text);
    if (d) return parseText(`${d[1]}-${d[2]}-${d[3]}`, text, forms);
    const m = COMPACT_MONTH.exec(text);
    if (m) return monthOf(Number(m[1]), Number(m[2]), text, forms);
  }
  const m = SEPARATED_MONTH.exec(text);
  if (m) return monthOf(Number(m[1]), Number(m[2]), text, forms);
  if (YEAR_ONLY.test(text)) return yearOnly(text, forms);
  if (DURATION.test(text.replace(/\s/g, '')))
    return bad(
      `“${text}”是外出了多久，不是从何时外出；请写明外出的年月（如 2019年3月）`,
      `"${text}" says how long, not since when; write the month the parent went away (e.g. 2019年3月)`,
    );
  return parseText(text, text, forms);
}

/** Year, month and day of a date as written (2019-02-30, 2019年2月30日), to tell a wrong day from an unknown form. */
const DATE_PARTS = /^([12]\d{3}) ?[-/.年] ?(\d{1,2}) ?[-/.月] ?(\d{1,2}) ?日?$/;

function parseText(text: string, shown: string, forms: LocalizedMessage): ParseResult<DateOrMonth> {
  const r = parseDate(text);
  if (r.ok) return { ok: true, value: { date: r.value, month: null } };
  const parts = DATE_PARTS.exec(text);
  if (parts && !isCalendarDate(Number(parts[1]), Number(parts[2]), Number(parts[3])))
    return bad(`“${shown}”不是日历上存在的日期`, `"${shown}" is not a calendar date`);
  return bad(
    `无法识别的时间“${shown}”；${forms.zh}`,
    `"${shown}" is not a date or month in a recognised form; ${forms.en}`,
  );
}
