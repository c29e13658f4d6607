// bench/groups: evaluating all nine groups for a county (evaluateRegion: batched key ranges, set-based
// reads, the pure rules in JavaScript, set-based writes) against one hand-written INSERT .. SELECT of
// the left_behind_child rule's main clause on the same data, in the same run. Target: <= 5x. Prints the
// time per phase of evaluateRegion (its `timings` option) for both runs.
// Data: the demo county's generator through the real import (`--data generated`, the default: 20,000
// persons on PGlite, the demo county of `npm start`; 1,000,000 on PostgreSQL), or the older bulk-loaded
// synthetic county of three-generation households only (`--data synthetic`, see groups-data.ts).
//   node bench/groups.ts [--engine pglite|postgres] [--data generated|synthetic] [--persons N]
//     [--pg-persons N] [--batch N] [--concurrency N]
import { sql } from 'kysely';
import { evaluateRegion } from '../src/modules/groups/index.ts';
import {
  COUNTY,
  leftBehindChildBaseline,
  loadGeneratedCounty,
  loadSyntheticRegistry,
} from './groups-data.ts';
import { enginesFromArgs, freshDatabase, numberArg, report, stringArg, timed, verdict } from './support.ts';

const AS_OF = '2026-11-29';
const batchSize = numberArg('batch', 5000);
const concurrency = numberArg('concurrency', 2);
const data = stringArg('data', 'generated');
if (data !== 'generated' && data !== 'synthetic') throw new Error('--data is generated or synthetic');
const results: Record<string, string | number>[] = [];
for (const engine of enginesFromArgs()) {
  const size = engine === 'pglite' ? numberArg('persons', 20_000) : numberArg('pg-persons', 1_000_000);
  const database = await freshDatabase(engine);
  try {
    const load = await timed(() =>
      data === 'generated'
        ? loadGeneratedCounty(database, size, AS_OF)
        : loadSyntheticRegistry(database, size),
    );
    // The baseline runs twice and the faster run counts, so that it is not charged for a cold cache.
    const baseline = await timed(() => leftBehindChildBaseline(database, AS_OF));
    const baselineAgain = await timed(() => leftBehindChildBaseline(database, AS_OF));
    const phases: Record<string, number> = {};
    const full = await timed(() =>
      evaluateRegion(database.db, {
        regionCode: COUNTY,
        asOf: AS_OF,
        worklist: false,
        batchSize,
        concurrency,
        timings: phases,
      }),
    );
    const againPhases: Record<string, number> = {};
    const again = await timed(() =>
      evaluateRegion(database.db, {
        regionCode: COUNTY,
        asOf: AS_OF,
        worklist: false,
        batchSize,
        concurrency,
        timings: againPhases,
      }),
    );
    const split = (t: Record<string, number>) =>
      ['reads', 'subjects', 'rules', 'writes'].map((k) => ((t[k] ?? 0) / 1000).toFixed(1)).join(' / ');
    const lbc = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM group_memberships WHERE group_code = 'left_behind_child' AND until IS NULL`.execute(
      database.db,
    );
    const base = Math.min(baseline.ms, baselineAgain.ms);
    results.push({
      engine,
      data,
      persons: load.value.persons,
      facts: load.value.facts,
      'load (s)': (load.ms / 1000).toFixed(1),
      'baseline INSERT..SELECT left_behind_child (s)': (base / 1000).toFixed(2),
      'baseline rows': baseline.value,
      'evaluateRegion, all 9 groups (s)': (full.ms / 1000).toFixed(2),
      'first run reads / subjects / rules / writes (s)': split(phases),
      'memberships written': full.value.entered,
      'left_behind_child (rules)': lbc.rows[0]?.n ?? 0,
      ratio: (full.ms / base).toFixed(2) + 'x',
      '<= 5x': verdict(
        `groups evaluation, ${engine}, ${data} data`,
        full.ms / base <= 5,
        (full.ms / base).toFixed(2) + 'x',
      ),
      're-evaluation, nothing changed (s)': (again.ms / 1000).toFixed(2),
      're-evaluation ratio': (again.ms / base).toFixed(2) + 'x',
      're-evaluation reads / subjects / rules / writes (s)': split(againPhases),
      'persons/s': Math.round(load.value.persons / (full.ms / 1000)),
    });
  } finally {
    await database.close();
  }
}
report('bench/groups (target: evaluateRegion <= 5x one INSERT..SELECT of left_behind_child)', results);
