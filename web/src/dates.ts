// Dates as the pages use them: ISO YYYY-MM-DD on China's calendar, as the server counts days
// (src/platform/dates.ts): a clerk's browser set to another zone asks for the same day the server
// has, never a day still to come there.

const CHINA_DAY = new Intl.DateTimeFormat('en-CA', {
  timeZone: 'Asia/Shanghai',
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
});

/** Today in China (Asia/Shanghai), as YYYY-MM-DD. */
export function todayIso(): string {
  return CHINA_DAY.format(new Date());
}
