// The count tables (migration 0310) agree with a scan of the membership periods: random sequences of
// inserts, updates (dates, region, group, reasons) and deletes of periods, through plain SQL and
// through the repository's writers, then counts on random dates and regions both ways. And the
// statistics a viewer fetches show every region's count the same way in every table and series.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import { addDays, type IsoDate } from '../../platform/dates.ts';
import { ROLE_PERMISSIONS, type Actor, type Role } from '../access/index.ts';
import { GROUP_CODES } from './groups.rules.ts';
import {
  closeMemberships,
  codeRange,
  deltaCountsOn,
  insertMemberships,
  periodCountsOn,
  type RegionCount,
} from './groups.repository.ts';
import { groupStats, monthlyStats } from './groups.stats.ts';

const REGIONS = [
  "('41', '河南省', 1, NULL, NULL)",
  "('4102', '开封市', 2, '41', NULL)",
  "('410225', '兰考县', 3, '4102', NULL)",
  "('410225100', '甲镇', 4, '410225', NULL)",
  "('410225101', '乙镇', 4, '410225', NULL)",
  "('410225100200', '甲一村', 5, '410225100', true)",
  "('410225100201', '甲二村', 5, '410225100', true)",
  "('410225101200', '乙一村', 5, '410225101', true)",
  "('410225101201', '乙二村', 5, '410225101', true)",
];
// Stored region codes include a township (a person whose village is unknown).
const STORED = ['410225100200', '410225100201', '410225101200', '410225101201', '410225100'] as const;
const GROUPS = ['left_behind_child', 'orphan', 'high_age_elderly'] as const;
const BASE = '2020-01-01';
const dayArb = fc.integer({ min: 0, max: 2500 }).map((n) => addDays(BASE, n));

type Op =
  | { op: 'insert'; person: number; group: number; region: number; since: IsoDate; days: number | null }
  | {
      op: 'update';
      pick: number;
      since: IsoDate | null;
      days: number | null;
      region: number | null;
      group: number | null;
    }
  | { op: 'delete'; pick: number }
  | { op: 'repoInsert'; person: number; group: number; region: number; since: IsoDate }
  | { op: 'repoClose'; pick: number; until: IsoDate };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      op: fc.constant('insert' as const),
      person: fc.nat(29),
      group: fc.nat(2),
      region: fc.nat(4),
      since: dayArb,
      days: fc.option(fc.integer({ min: 0, max: 900 }), { nil: null }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('update' as const),
      pick: fc.nat(1000),
      since: fc.option(dayArb, { nil: null }),
      days: fc.option(fc.integer({ min: 0, max: 900 }), { nil: null }),
      region: fc.option(fc.nat(4), { nil: null }),
      group: fc.option(fc.nat(2), { nil: null }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('delete' as const), pick: fc.nat(1000) }) },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('repoInsert' as const),
      person: fc.nat(29),
      group: fc.nat(2),
      region: fc.nat(4),
      since: dayArb,
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('repoClose' as const), pick: fc.nat(1000), until: dayArb }),
  },
);

const normal = (rows: readonly RegionCount[]) =>
  rows
    .filter((r) => r.n !== 0)
    .map((r) => `${r.region_code} ${r.group_code} ${r.n}`)
    .sort();

function actor(role: Role, regionCode: string): Actor {
  return {
    kind: 'user',
    userId: null,
    tokenId: null,
    username: 'test',
    role,
    regionCode,
    permissions: new Set(ROLE_PERMISSIONS[role]),
    individualAccess: false,
    ip: '127.0.0.1',
    sessionId: null,
  };
}

describe('group counts', () => {
  let database: TestDatabase;
  const persons: number[] = [];
  before(async () => {
    database = await openTestDatabase();
    await sql
      .raw(`INSERT INTO regions (code, name, level, parent_code, rural) VALUES ${REGIONS.join(', ')}`)
      .execute(database.db);
    for (let i = 0; i < 30; i++) {
      const row = await sql<{ id: number }>`
        INSERT INTO persons (name, no_id_reason, sex, birth_date, hukou_region_code, name_pinyin, name_initials)
        VALUES ('测试', '测试', 1, '2010-01-01', '410225100200', '', '') RETURNING id`.execute(database.db);
      persons.push(Number(row.rows[0]?.id));
    }
  });
  after(async () => {
    await database.close();
  });

  async function apply(op: Op): Promise<void> {
    const db = database.db;
    const ids = (
      await sql<{ id: number }>`SELECT id FROM group_memberships ORDER BY id`.execute(db)
    ).rows.map((r) => Number(r.id));
    const picked = ids.length ? ids[('pick' in op ? op.pick : 0) % ids.length] : undefined;
    switch (op.op) {
      case 'insert': {
        const until = op.days === null ? null : addDays(op.since, op.days);
        // At most one open period per person and group (the unique index): skip the insert otherwise.
        await sql`
          INSERT INTO group_memberships (person_id, group_code, since, until, region_code)
          SELECT ${persons[op.person]}, ${GROUPS[op.group]}, ${op.since}::date, ${until}::date, ${STORED[op.region]}
          WHERE ${until}::date IS NOT NULL OR NOT EXISTS (SELECT 1 FROM group_memberships
            WHERE person_id = ${persons[op.person]} AND group_code = ${GROUPS[op.group]} AND until IS NULL)`.execute(
          db,
        );
        return;
      }
      case 'update': {
        if (picked === undefined) return;
        await sql`
          UPDATE group_memberships g SET
            since = coalesce(${op.since}::date, g.since),
            until = CASE WHEN ${op.days}::int IS NULL THEN g.until ELSE coalesce(${op.since}::date, g.since) + ${op.days}::int END,
            region_code = coalesce(${op.region === null ? null : STORED[op.region]}, g.region_code),
            group_code = coalesce(${op.group === null ? null : GROUPS[op.group]}, g.group_code),
            reasons = '{"zh":["改"],"en":["changed"]}'::jsonb
          WHERE id = ${picked}
            AND coalesce(${op.since}::date, g.since) <= coalesce(coalesce(${op.since}::date, g.since) + ${op.days}::int, g.until, 'infinity')
            AND (${op.days}::int IS NOT NULL OR g.until IS NOT NULL OR NOT EXISTS (
            SELECT 1 FROM group_memberships o WHERE o.person_id = g.person_id AND o.id <> g.id AND o.until IS NULL
              AND o.group_code = coalesce(${op.group === null ? null : GROUPS[op.group]}, g.group_code)))`.execute(
          db,
        );
        return;
      }
      case 'delete':
        if (picked !== undefined) await sql`DELETE FROM group_memberships WHERE id = ${picked}`.execute(db);
        return;
      case 'repoInsert': {
        const open = await sql`SELECT 1 FROM group_memberships WHERE person_id = ${persons[op.person]}
          AND group_code = ${GROUPS[op.group]} AND until IS NULL`.execute(db);
        if (open.rows.length) return;
        await db.transaction().execute((trx) =>
          insertMemberships(trx, [
            {
              person_id: persons[op.person] as number,
              group_code: GROUPS[op.group] as string,
              sub_category: null,
              since: op.since,
              reasons: { zh: ['理由'], en: ['reason'] },
              region_code: STORED[op.region] as string,
            },
          ]),
        );
        return;
      }
      case 'repoClose': {
        if (picked === undefined) return;
        const row = await sql<{
          since: string;
        }>`SELECT since::text AS since FROM group_memberships WHERE id = ${picked}`.execute(db);
        const since = row.rows[0]?.since ?? op.until;
        await db
          .transaction()
          .execute((trx) => closeMemberships(trx, [picked], op.until < since ? since : op.until));
        return;
      }
    }
  }

  test('property: counts from the count tables equal the period scan on random dates, both ways of summing', async () => {
    let counted = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(opArb, { minLength: 1, maxLength: 40 }),
        fc.array(dayArb, { minLength: 1, maxLength: 6 }),
        async (ops, dates) => {
          await sql`DELETE FROM group_memberships`.execute(database.db);
          for (const op of ops) await apply(op);
          for (const region of ['', '410225', '410225100', '410225101201']) {
            const range = codeRange(region);
            const expected = await periodCountsOn(database.db, range, dates);
            // Auto with a probe of 2 entries: a tail "too long" falls back to the head probe and a
            // second read.
            for (const [side, probe] of [['tail'], ['head'], [undefined], [undefined, 2]] as const) {
              const got = await deltaCountsOn(database.db, range, dates, side, probe);
              for (const d of dates) {
                assert.deepEqual(
                  normal(got.get(d) ?? []),
                  normal(expected.get(d) ?? []),
                  `${region} on ${d} (${side ?? 'auto'}, probe ${probe ?? 'default'})`,
                );
                counted += (expected.get(d) ?? []).length;
              }
            }
          }
        },
      ),
      { numRuns: Number(process.env.GROUPS_PROPERTY_RUNS ?? 60), seed: 5 },
    );
    assert.ok(counted > 100, `only ${counted} counts compared`);
    // Emptied: the tables hold nothing but zeros.
    await sql`DELETE FROM group_memberships`.execute(database.db);
    const left = await sql<{ n: number }>`
      SELECT (SELECT count(*) FROM group_count_deltas WHERE delta <> 0)
        + (SELECT count(*) FROM group_count_open WHERE open <> 0) AS n`.execute(database.db);
    assert.equal(Number(left.rows[0]?.n), 0);
  });

  test('a viewer sees each region the same way in every table and in the monthly series', async () => {
    await sql`DELETE FROM group_memberships`.execute(database.db);
    // 甲镇: villages with 3 and 12 left-behind children; 乙镇: 8 and 30. Orphans: a lone one.
    const layout: [string, string, number][] = [
      ['410225100200', 'left_behind_child', 3],
      ['410225100201', 'left_behind_child', 12],
      ['410225101200', 'left_behind_child', 8],
      ['410225101201', 'left_behind_child', 30],
      ['410225101201', 'orphan', 1],
    ];
    let p = 0;
    for (const [region, group, n] of layout)
      for (let i = 0; i < n; i++) {
        await sql`INSERT INTO group_memberships (person_id, group_code, since, until, region_code)
          VALUES (${persons[p % persons.length]}, ${group}, ${addDays('2025-01-01', p)}::date, ${addDays('2027-01-01', p)}::date, ${region})`.execute(
          database.db,
        );
        p += 1;
      }
    const viewer = actor('prefecture_viewer', '4102');
    const asOf = '2026-06-30';
    const county = await groupStats(database.db, viewer, '410225', asOf);
    const prefecture = await groupStats(database.db, viewer, '4102', asOf);
    const series = await monthlyStats(database.db, viewer, '410225', '2026-05', '2026-06');
    for (const group of GROUP_CODES) {
      // The county's total in its own table, in the prefecture's table and in the series of that month.
      assert.deepEqual(
        county.total.counts[group],
        prefecture.rows.find((r) => r.regionCode === '410225')?.counts[group],
      );
      assert.deepEqual(series.months[1]?.counts[group], county.total.counts[group]);
      for (const township of ['410225100', '410225101']) {
        const own = await groupStats(database.db, viewer, township, asOf);
        const inCounty = county.rows.find((r) => r.regionCode === township);
        assert.deepEqual(own.total.counts[group], inCounty?.counts[group], `${township} ${group}`);
        for (const village of own.rows) {
          const leaf = await groupStats(database.db, viewer, village.regionCode, asOf);
          assert.deepEqual(leaf.total.counts[group], village.counts[group], `${village.regionCode} ${group}`);
        }
      }
    }
    // The small village is suppressed, and so is whatever would give it away.
    const lbc = (table: typeof county, code: string) =>
      table.rows.find((r) => r.regionCode === code)?.counts.left_behind_child?.display;
    const township = await groupStats(database.db, viewer, '410225100', asOf);
    assert.equal(lbc(county, '410225100'), '15');
    assert.deepEqual([lbc(township, '410225100200'), lbc(township, '410225100201')], ['<5', '*']);
    assert.equal(county.total.counts.orphan?.display, '<5');
    // County staff see it all.
    const staff = await groupStats(database.db, actor('county_staff', '410225'), '410225', asOf);
    assert.equal(staff.total.counts.left_behind_child?.value, 53);
    assert.equal(staff.rows.find((r) => r.regionCode === '410225100')?.counts.left_behind_child?.value, 15);
  });
});
