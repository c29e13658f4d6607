// Calendar dates as ISO strings (YYYY-MM-DD). Domain rules compare dates as strings, which sorts
// correctly for this format, and do arithmetic through these helpers so that no time zone ever
// shifts a birthday.

export type IsoDate = string;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

export function isIsoDate(value: string): boolean {
  const m = ISO_DATE.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  return isCalendarDate(y, mo, d);
}

export function isCalendarDate(year: number, month: number, day: number): boolean {
  if (!Number.isInteger(year) || !Number.isInteger(month) || !Number.isInteger(day)) return false;
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= daysInMonth(year, month);
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const isLeapYear = (year: number) => (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;

// The rules call these millions of times in an evaluation (docs/PERFORMANCE.md, bench/groups): plain
// arithmetic and lookups, no Date object and no padStart; dates.test.ts holds them to the Date-based
// answers.
export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] ?? NaN);
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

export function formatDate(year: number, month: number, day: number): IsoDate {
  const y = year >= 1000 && year <= 9999 ? String(year) : String(year).padStart(4, '0');
  return `${y}-${TWO_DIGITS[month] ?? String(month).padStart(2, '0')}-${TWO_DIGITS[day] ?? String(day).padStart(2, '0')}`;
}

const digit = (s: string, i: number): number => {
  const c = s.charCodeAt(i) - 48;
  return c >= 0 && c <= 9 ? c : NaN;
};

function parts(date: IsoDate): [number, number, number] {
  // The rules call this millions of times in an evaluation: read the digits directly, and fall back
  // to the regular expression only to reject what is not YYYY-MM-DD.
  if (date.length === 10 && date.charCodeAt(4) === 45 && date.charCodeAt(7) === 45) {
    const y = digit(date, 0) * 1000 + digit(date, 1) * 100 + digit(date, 2) * 10 + digit(date, 3);
    const m = digit(date, 5) * 10 + digit(date, 6);
    const d = digit(date, 8) * 10 + digit(date, 9);
    if (!Number.isNaN(y + m + d)) return [y, m, d];
  }
  const m = ISO_DATE.exec(date);
  if (!m) throw new RangeError(`not an ISO date: ${date}`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

export function addDays(date: IsoDate, days: number): IsoDate {
  const [y, m, d] = parts(date);
  // Within the month (most steps are a day or two): no Date object.
  const target = d + days;
  if (target >= 1 && target <= daysInMonth(y, m) && Number.isInteger(days)) return formatDate(y, m, target);
  const t = new Date(Date.UTC(y, m - 1, d + days));
  return formatDate(t.getUTCFullYear(), t.getUTCMonth() + 1, t.getUTCDate());
}

/** Adds calendar months; the day is clamped to the target month's length (2024-08-31 + 6 months = 2025-02-28). */
export function addMonths(date: IsoDate, months: number): IsoDate {
  const [y, m, d] = parts(date);
  const index = y * 12 + (m - 1) + months;
  const ty = Math.floor(index / 12);
  const tm = (index % 12) + 1;
  return formatDate(ty, tm, Math.min(d, daysInMonth(ty, tm)));
}

/** Adds whole years; 29 February becomes 28 February in a common year (the legal reading of a birthday). */
export function addYears(date: IsoDate, years: number): IsoDate {
  return addMonths(date, years * 12);
}

/** Age in completed years on `on` (周岁). */
export function ageOn(birthDate: IsoDate, on: IsoDate): number {
  const [by, bm, bd] = parts(birthDate);
  const [y, m, d] = parts(on);
  let age = y - by;
  if (m < bm || (m === bm && d < bd)) age -= 1;
  // A 29 February birthday is reached on 28 February in a common year.
  if (bm === 2 && bd === 29 && m === 2 && d === 28 && daysInMonth(y, 2) === 28) age += 1;
  return age;
}

// China keeps one civil time, UTC+8 all year (no daylight saving). The registry's days (a birth "not in
// the future", an evaluation "as of today", the daily job) are China's days, whatever time zone the
// server's clock is set to: on a server kept in UTC the local date is still yesterday until 08:00 in
// Beijing, and a child born that morning was refused as born in the future.
const CHINA_OFFSET_MS = 8 * 3_600_000;

/** Today's date in China (at `now`, the present by default). */
export function today(now: Date = new Date()): IsoDate {
  const china = new Date(now.getTime() + CHINA_OFFSET_MS);
  return formatDate(china.getUTCFullYear(), china.getUTCMonth() + 1, china.getUTCDate());
}

/** The instant China's day `date` begins, plus `minutes`. */
export function startOfChinaDay(date: IsoDate, minutes = 0): Date {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return new Date(Date.UTC(y, m - 1, d, 0, minutes) - CHINA_OFFSET_MS);
}

export function maxDate(...dates: (IsoDate | null | undefined)[]): IsoDate | null {
  let best: IsoDate | null = null;
  for (const d of dates) if (d && (best === null || d > best)) best = d;
  return best;
}

export function minDate(...dates: (IsoDate | null | undefined)[]): IsoDate | null {
  let best: IsoDate | null = null;
  for (const d of dates) if (d && (best === null || d < best)) best = d;
  return best;
}

/** True when `on` lies in the half-open period [from, to). A null `to` is open-ended. */
export function inPeriod(on: IsoDate, from: IsoDate, to: IsoDate | null): boolean {
  return from <= on && (to === null || on < to);
}
