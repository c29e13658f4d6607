// The calendar helpers take arithmetic short cuts (no Date object on the common paths): every answer
// must equal the one a UTC Date computes, over the years the registry holds, leap days included.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  addDays,
  addMonths,
  addYears,
  ageOn,
  daysInMonth,
  formatDate,
  isIsoDate,
  startOfChinaDay,
  today,
} from './dates.ts';

const viaDate = (y: number, m: number, d: number, days = 0) => {
  const t = new Date(Date.UTC(y, m - 1, d + days));
  const pad = (n: number, w: number) => String(n).padStart(w, '0');
  return `${pad(t.getUTCFullYear(), 4)}-${pad(t.getUTCMonth() + 1, 2)}-${pad(t.getUTCDate(), 2)}`;
};
const lastDay = (y: number, m: number) => new Date(Date.UTC(y, m, 0)).getUTCDate();

const dayArb = fc
  .record({
    y: fc.integer({ min: 1000, max: 2200 }),
    m: fc.integer({ min: 1, max: 12 }),
    d: fc.integer({ min: 1, max: 31 }),
  })
  .filter(({ y, m, d }) => d <= lastDay(y, m));

test('daysInMonth equals the Date answer for every month of 1000-2200 (1900 and 2100 are common, 2000 leap)', () => {
  for (let y = 1000; y <= 2200; y++)
    for (let m = 1; m <= 12; m++) assert.equal(daysInMonth(y, m), lastDay(y, m), `${y}-${m}`);
  assert.equal(daysInMonth(1900, 2), 28);
  assert.equal(daysInMonth(2000, 2), 29);
  assert.equal(daysInMonth(2100, 2), 28);
});

test('formatDate pads years, months and days', () => {
  assert.equal(formatDate(2026, 3, 1), '2026-03-01');
  assert.equal(formatDate(999, 12, 31), '0999-12-31');
  assert.equal(formatDate(45, 1, 9), '0045-01-09');
});

test('addDays equals the Date answer for steps inside and across months and years', () => {
  fc.assert(
    fc.property(dayArb, fc.integer({ min: -800, max: 800 }), ({ y, m, d }, days) => {
      const date = formatDate(y, m, d);
      assert.equal(addDays(date, days), viaDate(y, m, d, days), `${date} + ${days}`);
    }),
    { numRuns: 20_000 },
  );
  assert.equal(addDays('2024-02-28', 1), '2024-02-29');
  assert.equal(addDays('2023-02-28', 1), '2023-03-01');
  assert.equal(addDays('2026-12-31', 1), '2027-01-01');
  assert.equal(addDays('2026-03-01', -1), '2026-02-28');
});

test('addMonths clamps to the month end; addYears turns 29 February into 28 February', () => {
  assert.equal(addMonths('2024-08-31', 6), '2025-02-28');
  assert.equal(addMonths('2023-08-31', 6), '2024-02-29');
  assert.equal(addMonths('2026-01-31', -2), '2025-11-30');
  assert.equal(addYears('2024-02-29', 1), '2025-02-28');
  assert.equal(addYears('2024-02-29', 4), '2028-02-29');
  fc.assert(
    fc.property(dayArb, fc.integer({ min: -400, max: 400 }), ({ y, m, d }, months) => {
      const index = y * 12 + (m - 1) + months;
      const ty = Math.floor(index / 12);
      const tm = (index % 12) + 1;
      const expected = viaDate(ty, tm, Math.min(d, lastDay(ty, tm)));
      const got = addMonths(formatDate(y, m, d), months);
      assert.equal(got, expected);
      assert.ok(isIsoDate(got));
    }),
    { numRuns: 5_000 },
  );
});

test('ageOn: completed years, the birthday itself counts, 29 February births reach it on 28 February', () => {
  assert.equal(ageOn('2010-06-15', '2026-06-14'), 15);
  assert.equal(ageOn('2010-06-15', '2026-06-15'), 16);
  assert.equal(ageOn('2008-02-29', '2026-02-27'), 17);
  assert.equal(ageOn('2008-02-29', '2026-02-28'), 18);
  assert.equal(ageOn('2008-02-29', '2028-02-28'), 19);
  assert.equal(ageOn('2008-02-29', '2028-02-29'), 20);
});

test("today is China's date (UTC+8) whatever time zone the server is set to", () => {
  const zone = process.env.TZ;
  try {
    for (const tz of ['UTC', 'America/New_York', 'Asia/Shanghai']) {
      process.env.TZ = tz;
      // 23:30 UTC is 07:30 the next morning in Beijing.
      assert.equal(today(new Date('2026-11-29T23:30:00Z')), '2026-11-30', tz);
      assert.equal(today(new Date('2026-11-29T15:59:59.999Z')), '2026-11-29', tz);
      assert.equal(today(new Date('2026-11-29T16:00:00Z')), '2026-11-30', tz);
      assert.equal(today(new Date('2026-12-31T16:00:00Z')), '2027-01-01', tz);
    }
  } finally {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  }
  assert.equal(startOfChinaDay('2026-11-30').toISOString(), '2026-11-29T16:00:00.000Z');
  assert.equal(startOfChinaDay('2026-11-30', 30).toISOString(), '2026-11-29T16:30:00.000Z');
});
