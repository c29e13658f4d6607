// bench/scope-overhead: the person-list route as a village child director, a township supervisor
// and county staff (authentication, permission check, scoping in SQL, audit of the search,
// masking) against the same query unscoped on a bare route (no access, no audit, same mapping),
// in the same run. Target: <= 20% overhead.
//   node bench/scope-overhead.ts [--engine pglite|postgres] [--persons 100000] [--requests 300]
import { createContext, createHttpApp } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { createToken, type Role } from '../src/modules/access/index.ts';
import { searchPersons } from '../src/modules/registry/registry.search.ts';
import { toPersonSummary } from '../src/modules/registry/registry.service.ts';
import { enginesFromArgs, freshDatabase, numberArg, percentile, report, timed } from './support.ts';
import { loadGeneratedPersons } from './persons-data.ts';

const persons = numberArg('persons', 100_000);
const requests = numberArg('requests', 300);

const results: Record<string, string | number>[] = [];
for (const engine of enginesFromArgs()) {
  const database = await freshDatabase(engine);
  try {
    const ctx = await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
    await loadRegions(database, { within: '410225' });
    const sample = await loadGeneratedPersons(database, persons);
    const village = sample[0]!.village;
    const app = await createHttpApp(ctx, {
      serveWeb: false,
      extraRoutes: (api) => {
        // The baseline: the same query and mapping with the widest range and nothing else.
        api.get('/bench/persons', { config: { public: true } }, async (request) => {
          const { region, limit } = request.query as { region: string; limit: string };
          const rows = await searchPersons(ctx.db, ['', '\uffff'], { region, limit: Number(limit) + 1 });
          return { items: rows.slice(0, Number(limit)).map(toPersonSummary), nextCursor: null };
        });
      },
    });
    await app.ready();
    const actors: [Role, string][] = [
      ['village_child_director', village],
      ['township_supervisor', village.slice(0, 9)],
      ['county_staff', '410225'],
    ];
    for (const [role, region] of actors) {
      const { token } = await createToken(ctx, null, {
        name: 'bench',
        role,
        regionCode: region,
        expiresInDays: 1,
      });
      const headers = { authorization: `Bearer ${token}` };
      const url = `?region=${village}&limit=50`;
      const scoped: number[] = [];
      const bare: number[] = [];
      for (let i = 0; i < 20; i++) {
        await app.inject({ url: `/api/v1/persons${url}`, headers });
        await app.inject({ url: `/api/v1/bench/persons${url}` });
      }
      for (let i = 0; i < requests; i++) {
        // Alternate so drift in the machine's load hits both sides alike.
        const a = await timed(() => app.inject({ url: `/api/v1/persons${url}`, headers }));
        if (a.value.statusCode !== 200) throw new Error(`${role}: ${a.value.statusCode} ${a.value.body}`);
        scoped.push(a.ms);
        bare.push((await timed(() => app.inject({ url: `/api/v1/bench/persons${url}` }))).ms);
      }
      scoped.sort((a, b) => a - b);
      bare.sort((a, b) => a - b);
      const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
      results.push({
        engine,
        persons,
        actor: role,
        'scoped+audited p50 (ms)': percentile(scoped, 50).toFixed(2),
        'unscoped p50 (ms)': percentile(bare, 50).toFixed(2),
        'overhead (p50)': ((percentile(scoped, 50) / percentile(bare, 50) - 1) * 100).toFixed(0) + '%',
        'overhead (mean)': ((mean(scoped) / mean(bare) - 1) * 100).toFixed(0) + '%',
      });
    }
    await app.close();
  } finally {
    await database.close();
  }
}
report('bench/scope-overhead (target: <= 20%)', results);
