// bench/persons-by-group: the person list filtered by care group through the real route
// (GET /api/v1/persons?group=..., scoping in SQL, tags, audit), for the county staff and a village
// director, for a common group (left_behind_child) and the rarest one, against the unfiltered
// list in the same run and the bare SQL of the same filtered page. Prints the plans of the filtered
// page (a later page: the cursor half-way). Half the pages start at a random cursor, so that each
// query reads different rows.
//   node bench/persons-by-group.ts [--engine postgres|pglite] [--persons 100000] [--queries 200]
import { sql } from 'kysely';
import { createContext, createHttpApp } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { today } from '../src/platform/dates.ts';
import { createToken } from '../src/modules/access/index.ts';
import { evaluateRegion } from '../src/modules/groups/index.ts';
import { COUNTY, loadSyntheticRegistry } from './groups-data.ts';
import { enginesFromArgs, freshDatabase, numberArg, percentile, report, timed } from './support.ts';

const engines = process.argv.includes('--engine') ? enginesFromArgs() : (['postgres'] as const);
const persons = numberArg('persons', 100_000);
const queries = numberArg('queries', 200);

const results: Record<string, string | number>[] = [];
for (const engine of engines) {
  const database = await freshDatabase(engine);
  try {
    const db = database.db;
    const ctx = await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
    const load = await timed(() => loadSyntheticRegistry(database, persons));
    const asOf = today();
    const evaluated = await timed(() => evaluateRegion(db, { regionCode: COUNTY, asOf, worklist: false }));
    await sql`ANALYZE`.execute(db);
    process.stderr.write(
      `${engine}: ${load.value.persons} persons loaded in ${(load.ms / 1000).toFixed(1)} s, ` +
        `${evaluated.value.entered} memberships in ${(evaluated.ms / 1000).toFixed(1)} s\n`,
    );
    // The village with the most left-behind children, for the director.
    const village = (
      await sql<{ region_code: string }>`SELECT region_code FROM group_memberships
        WHERE group_code = 'left_behind_child' AND until IS NULL
        GROUP BY region_code ORDER BY count(*) DESC LIMIT 1`.execute(db)
    ).rows[0]!.region_code;
    const maxId = Number(
      (await sql<{ m: number }>`SELECT max(id) AS m FROM persons`.execute(db)).rows[0]?.m ?? 0,
    );
    const app = await createHttpApp(ctx, { serveWeb: false });
    await app.ready();
    const token = async (role: 'county_staff' | 'village_child_director', regionCode: string) =>
      (await createToken(ctx, null, { name: role, role, regionCode, expiresInDays: 1 })).token;
    const who = {
      county: { region: COUNTY, token: await token('county_staff', COUNTY) },
      director: { region: village, token: await token('village_child_director', village) },
    };

    const bare = (region: string, group: string | null, after: number) =>
      sql`SELECT p.id, p.name FROM persons p LEFT JOIN households h ON h.id = p.household_id
        WHERE p.hukou_region_code >= ${region} AND p.hukou_region_code < ${region + '\uffff'}
          AND p.merged_into IS NULL AND p.id > ${after}
          ${
            group
              ? sql`AND EXISTS (SELECT 1 FROM group_memberships gm WHERE gm.person_id = p.id
                  AND gm.group_code IN (${group}) AND gm.since <= ${asOf}::date
                  AND (gm.until IS NULL OR gm.until > ${asOf}::date) AND gm.person_id > ${after})`
              : sql``
          }
        ORDER BY p.id LIMIT 51`;

    // The rarest group that has members, for the sparse case.
    const rare = (
      await sql<{ group_code: string }>`SELECT group_code FROM group_memberships WHERE until IS NULL
        GROUP BY group_code ORDER BY count(*) LIMIT 1`.execute(db)
    ).rows[0]!.group_code;
    for (const [actor, group] of [
      ['county', null],
      ['county', 'left_behind_child'],
      ['county', rare],
      ['director', null],
      ['director', 'left_behind_child'],
      ['director', rare],
    ] as const) {
      const { region, token: bearer } = who[actor];
      const route: number[] = [];
      const raw: number[] = [];
      let rows = 0;
      let seed = 12345;
      for (let i = 0; i < queries; i++) {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        // Half the pages are first pages, half start at a random id (a later page).
        const after = i % 2 === 0 ? 0 : seed % maxId;
        const url = `/api/v1/persons?limit=50${group ? `&group=${group}` : ''}${after ? `&cursor=${after}` : ''}`;
        const r = await timed(() => app.inject({ url, headers: { authorization: `Bearer ${bearer}` } }));
        if (r.value.statusCode !== 200) throw new Error(`${url}: ${r.value.statusCode} ${r.value.body}`);
        rows += (r.value.json() as { items: unknown[] }).items.length;
        route.push(r.ms);
        raw.push((await timed(() => bare(region, group, after).execute(db))).ms);
      }
      route.sort((a, b) => a - b);
      raw.sort((a, b) => a - b);
      results.push({
        engine,
        persons: load.value.persons,
        reader: actor === 'county' ? 'county staff' : 'village director',
        filter: group ?? '(none)',
        'rows per page': (rows / queries).toFixed(1),
        'route p50 (ms)': percentile(route, 50).toFixed(1),
        'route p95 (ms)': percentile(route, 95).toFixed(1),
        'bare SQL p95 (ms)': percentile(raw, 95).toFixed(1),
      });
      if (group) {
        const plan = await sql<{
          'QUERY PLAN': string;
        }>`EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) ${bare(region, group, Math.floor(maxId / 2))}`.execute(
          db,
        );
        process.stderr.write(
          `\n${engine} ${actor} ${group}:\n${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}\n`,
        );
      }
    }
    await app.close();
    // Each filtered page against the unfiltered page of the same reader.
    for (const row of results.filter((r) => r.engine === engine)) {
      const base = results.find(
        (r) => r.engine === engine && r.reader === row.reader && r.filter === '(none)',
      );
      row['route p95 vs unfiltered'] =
        (Number(row['route p95 (ms)']) / Number(base?.['route p95 (ms)'])).toFixed(2) + 'x';
    }
  } finally {
    await database.close();
  }
}
report(`bench/persons-by-group (person list filtered by care group; ${queries} pages each)`, results);
