// bench/stats: the county statistics table (groupStats: scope check, child regions, counts per
// township and group as of a date from the count tables, the configuration) for county staff and for
// a prefecture viewer (suppression over the whole region tree), against a raw GROUP BY over the
// membership periods in the same run; also a date half a year back and a 12-month series. p50/p95
// over repeated calls. Target: county groupStats p95 <= 100 ms at 1,000,000 persons.
//   node bench/stats.ts [--engine pglite|postgres] [--persons N] [--pg-persons N] [--runs N]
import { sql } from 'kysely';
import { evaluateRegion } from '../src/modules/groups/index.ts';
import { groupStats, monthlyStats } from '../src/modules/groups/groups.stats.ts';
import { ROLE_PERMISSIONS, type Actor, type Role } from '../src/modules/access/index.ts';
import { COUNTY, loadSyntheticRegistry } from './groups-data.ts';
import { enginesFromArgs, freshDatabase, numberArg, percentile, report, timed, verdict } from './support.ts';

const AS_OF = '2026-06-30';
const runs = numberArg('runs', 40);

function actor(role: Role, regionCode: string): Actor {
  return {
    kind: 'user',
    userId: null,
    tokenId: null,
    username: 'bench',
    role,
    regionCode,
    permissions: new Set(ROLE_PERMISSIONS[role]),
    individualAccess: false,
    ip: '127.0.0.1',
    sessionId: null,
  };
}

async function sample(fn: () => Promise<unknown>): Promise<number[]> {
  await fn();
  const times: number[] = [];
  for (let i = 0; i < runs; i++) times.push((await timed(fn)).ms);
  return times.sort((a, b) => a - b);
}

const results: Record<string, string | number>[] = [];
for (const engine of enginesFromArgs()) {
  const size = engine === 'pglite' ? numberArg('persons', 20_000) : numberArg('pg-persons', 1_000_000);
  const database = await freshDatabase(engine);
  try {
    const load = await loadSyntheticRegistry(database, size);
    await evaluateRegion(database.db, {
      regionCode: COUNTY,
      asOf: '2025-06-30',
      worklist: false,
      batchSize: 5000,
    });
    await evaluateRegion(database.db, { regionCode: COUNTY, asOf: AS_OF, worklist: false, batchSize: 5000 });
    // The tables as a running installation keeps them: vacuumed and analysed after the evaluations, by
    // autovacuum on a server that runs it, else by the nightly platform.maintenance job (PGlite, or a
    // server with autovacuum off, as this machine's). Without the vacuum the count tables' visibility
    // map is empty and every index-only read of the deltas also visits the table.
    for (const table of ['group_memberships', 'group_count_deltas', 'group_count_open'])
      await sql`VACUUM (ANALYZE) ${sql.table(table)}`.execute(database.db);
    const periods = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_memberships`.execute(
      database.db,
    );
    const raw = await sample(() =>
      sql`SELECT substr(region_code, 1, 9) AS township, group_code, count(*) FROM group_memberships
          WHERE region_code >= ${COUNTY} AND region_code < ${COUNTY + '\uffff'}
            AND since <= ${AS_OF}::date AND (until IS NULL OR until > ${AS_OF}::date)
          GROUP BY 1, 2`.execute(database.db),
    );
    const staff = await sample(() => groupStats(database.db, actor('county_staff', COUNTY), COUNTY, AS_OF));
    const viewer = await sample(() =>
      groupStats(database.db, actor('prefecture_viewer', '4102'), COUNTY, AS_OF),
    );
    const past = '2025-12-31';
    const staffPast = await sample(() =>
      groupStats(database.db, actor('county_staff', COUNTY), COUNTY, past),
    );
    const viewerPast = await sample(() =>
      groupStats(database.db, actor('prefecture_viewer', '4102'), COUNTY, past),
    );
    const series = await sample(() =>
      monthlyStats(database.db, actor('prefecture_viewer', '4102'), COUNTY, '2025-07', '2026-06'),
    );
    const deltas = await sql<{ n: number }>`SELECT count(*)::int AS n FROM group_count_deltas`.execute(
      database.db,
    );
    const rawP95 = percentile(raw, 95);
    const p = (times: number[]) =>
      `${percentile(times, 50).toFixed(1)} / ${percentile(times, 95).toFixed(1)}`;
    results.push({
      engine,
      persons: load.persons,
      'membership periods': periods.rows[0]?.n ?? 0,
      runs,
      'raw GROUP BY p50 / p95 (ms)': `${percentile(raw, 50).toFixed(1)} / ${rawP95.toFixed(1)}`,
      'groupStats county staff p50 / p95 (ms)': `${percentile(staff, 50).toFixed(1)} / ${percentile(staff, 95).toFixed(1)}`,
      'groupStats viewer, suppressed p50 / p95 (ms)': `${percentile(viewer, 50).toFixed(1)} / ${percentile(viewer, 95).toFixed(1)}`,
      'p95 ratio staff / viewer': `${(percentile(staff, 95) / rawP95).toFixed(2)}x / ${(percentile(viewer, 95) / rawP95).toFixed(2)}x`,
      'count-table deltas': deltas.rows[0]?.n ?? 0,
      [`staff / viewer on ${past} p50 / p95 (ms)`]: `${p(staffPast)} | ${p(viewerPast)}`,
      'viewer 12-month series p50 / p95 (ms)': p(series),
      'county p95 <= 100 ms': verdict(
        `county stats p95, ${engine}`,
        percentile(staff, 95) <= 100,
        `${percentile(staff, 95).toFixed(1)} ms`,
      ),
    });
  } finally {
    await database.close();
  }
}
report('bench/stats (target: county groupStats p95 <= 100 ms at 1,000,000 persons)', results);
