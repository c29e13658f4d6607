// bench/search: person search through the real route (GET /api/v1/persons, signed in as county
// staff: authentication, scoping in SQL, mapping, masking) on a generated registry, p50/p95 per
// kind of search, against the bare SQL of the same lookup in the same run. Target: p95 <= 50 ms on
// 1,000,000 persons on PostgreSQL.
//   node bench/search.ts [--engine postgres|pglite] [--persons 1000000] [--queries 300]
import { sql } from 'kysely';
import { createContext, createHttpApp } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { createToken } from '../src/modules/access/index.ts';
import { enginesFromArgs, freshDatabase, numberArg, percentile, report, timed, verdict } from './support.ts';
import { loadGeneratedPersons } from './persons-data.ts';

const engines = process.argv.includes('--engine') ? enginesFromArgs() : (['postgres'] as const);
const persons = numberArg('persons', 1_000_000);
const queries = numberArg('queries', 300);

const results: Record<string, string | number>[] = [];
for (const engine of engines) {
  const database = await freshDatabase(engine);
  try {
    const ctx = await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
    await loadRegions(database, { within: '410225' });
    const load = await timed(() => loadGeneratedPersons(database, persons));
    const sample = load.value.filter((p) => p.idNumber);
    process.stderr.write(`${engine}: loaded ${persons} persons in ${(load.ms / 1000).toFixed(1)} s\n`);
    const app = await createHttpApp(ctx, { serveWeb: false });
    await app.ready();
    const { token } = await createToken(ctx, null, {
      name: 'bench',
      role: 'county_staff',
      regionCode: '410225',
      expiresInDays: 1,
    });
    const headers = { authorization: `Bearer ${token}` };

    const kinds: {
      kind: string;
      q: (p: (typeof sample)[number]) => string;
      raw: (p: (typeof sample)[number]) => Promise<unknown>;
    }[] = [
      {
        kind: 'ID tail + name',
        q: (p) => `${p.idNumber!.slice(-6)} ${p.name}`,
        raw: (p) =>
          sql`SELECT id, name FROM persons WHERE id_tail = ${p.idNumber!.slice(-6)} AND name = ${p.name} LIMIT 51`.execute(
            database.db,
          ),
      },
      {
        kind: 'name',
        q: (p) => p.name,
        raw: (p) =>
          sql`SELECT id, name FROM persons WHERE name = ${p.name} ORDER BY id LIMIT 51`.execute(database.db),
      },
      {
        kind: 'pinyin initials',
        q: (p) => p.initials,
        raw: (p) =>
          sql`SELECT id, name FROM persons WHERE name_initials = ${p.initials} ORDER BY id LIMIT 51`.execute(
            database.db,
          ),
      },
      {
        kind: 'full ID number',
        q: (p) => p.idNumber!,
        raw: (p) =>
          sql`SELECT id, name FROM persons WHERE id_number = ${p.idNumber} LIMIT 51`.execute(database.db),
      },
    ];
    for (const k of kinds) {
      const route: number[] = [];
      const bare: number[] = [];
      let found = 0;
      for (let i = 0; i < queries; i++) {
        const p = sample[i % sample.length]!;
        const r = await timed(() =>
          app.inject({ url: `/api/v1/persons?limit=50&q=${encodeURIComponent(k.q(p))}`, headers }),
        );
        if (r.value.statusCode !== 200) throw new Error(`${k.kind}: ${r.value.statusCode} ${r.value.body}`);
        if ((r.value.json() as { items: unknown[] }).items.length > 0) found += 1;
        route.push(r.ms);
        bare.push((await timed(() => k.raw(p))).ms);
      }
      route.sort((a, b) => a - b);
      bare.sort((a, b) => a - b);
      results.push({
        engine,
        persons,
        search: k.kind,
        'found (of queries)': `${found}/${queries}`,
        'route p50 (ms)': percentile(route, 50).toFixed(1),
        'route p95 (ms)': percentile(route, 95).toFixed(1),
        'bare SQL p95 (ms)': percentile(bare, 95).toFixed(1),
        'p95 ratio': (percentile(route, 95) / percentile(bare, 95)).toFixed(1) + 'x',
        // The target is PostgreSQL's; PGlite's figures are shown for comparison.
        'p95 <= 50 ms':
          engine === 'postgres'
            ? verdict(
                `search p95, ${k.kind}, ${persons} persons`,
                percentile(route, 95) <= 50,
                `${percentile(route, 95).toFixed(1)} ms`,
              )
            : '-',
      });
    }
    await app.close();
  } finally {
    await database.close();
  }
}
report('bench/search (target: route p95 <= 50 ms on 1,000,000 persons, PostgreSQL)', results);
