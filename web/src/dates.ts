// Dates as the pages use them: ISO YYYY-MM-DD in the browser's own calendar day (the clerk's day).

/** Today in the browser's time zone, as YYYY-MM-DD. */
export function todayIso(): string {
  const now = new Date();
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`;
}
