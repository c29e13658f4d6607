// bench/groups: evaluating all nine groups for a county (evaluateRegion: batched key ranges, set-based
// reads, the pure rules in JavaScript, set-based writes) against one hand-written INSERT .. SELECT of
// the left_behind_child rule's main clause on the same data, in the same run. Target: <= 5x. Prints the
// time per phase of evaluateRegion (its `timings` option) for both runs.
// Data: the demo county's generator through the real import (`--data generated`, the default: 20,000
// persons on PGlite, the demo county of `npm start`; 1,000,000 on PostgreSQL), or the older bulk-loaded
// synthetic county of three-generation households only (`--data synthetic`, see groups-data.ts).
//   node bench/groups.ts [--engine pglite|postgres] [--data generated|synthetic] [--persons N]
//     [--pg-persons N] [--batch N] [--concurrency N] [--rounds N (3)]
import { sql } from 'kysely';
import { evaluateRegion, type EvaluateCounts } from '../src/modules/groups/index.ts';
import {
  COUNTY,
  leftBehindChildBaseline,
  loadGeneratedCounty,
  loadSyntheticRegistry,
} from './groups-data.ts';
import { enginesFromArgs, freshDatabase, numberArg, report, stringArg, timed, verdict } from './support.ts';

const AS_OF = '2026-11-29';
const batchArg = numberArg('batch', 0);
const batchSize = batchArg > 0 ? batchArg : undefined;
// Unless given, evaluateRegion's own default (what `shouhu groups evaluate` and the jobs use).
const concurrencyArg = numberArg('concurrency', 0);
const concurrency = concurrencyArg > 0 ? concurrencyArg : undefined;
const data = stringArg('data', 'generated');
const rounds = Math.max(1, numberArg('rounds', 3));
if (data !== 'generated' && data !== 'synthetic') throw new Error('--data is generated or synthetic');
const results: Record<string, string | number>[] = [];
interface Round {
  base: number;
  baselineRows: number;
  full: { ms: number; value: EvaluateCounts };
  phases: Record<string, number>;
  again: { ms: number; value: EvaluateCounts };
  againPhases: Record<string, number>;
}
for (const engine of enginesFromArgs()) {
  const size = engine === 'pglite' ? numberArg('persons', 20_000) : numberArg('pg-persons', 1_000_000);
  const database = await freshDatabase(engine);
  try {
    const load = await timed(() =>
      data === 'generated'
        ? loadGeneratedCounty(database, size, AS_OF)
        : loadSyntheticRegistry(database, size),
    );
    // Each round starts from no periods at all (TRUNCATE: new files, the count tables emptied by their
    // trigger), so every round is a first evaluation, then an evaluation with nothing to change. Each
    // round's ratio is against that round's baseline (run twice, the faster counting, so that it is not
    // charged for a cold cache); the verdict takes the median round. The first round also pays for
    // compiling the JavaScript (a fresh process, as `shouhu groups evaluate` is); it is shown apart.
    const evaluate = (timings: Record<string, number>) =>
      evaluateRegion(database.db, {
        regionCode: COUNTY,
        asOf: AS_OF,
        worklist: false,
        batchSize,
        concurrency,
        timings,
      });
    const played: Round[] = [];
    for (let round = 0; round < rounds; round++) {
      await sql`TRUNCATE group_memberships`.execute(database.db);
      const baseline = await timed(() => leftBehindChildBaseline(database, AS_OF));
      const baselineAgain = await timed(() => leftBehindChildBaseline(database, AS_OF));
      const phases: Record<string, number> = {};
      const full = await timed(() => evaluate(phases));
      const againPhases: Record<string, number> = {};
      const again = await timed(() => evaluate(againPhases));
      played.push({
        base: Math.min(baseline.ms, baselineAgain.ms),
        baselineRows: baseline.value,
        full,
        phases,
        again,
        againPhases,
      });
    }
    const byRatio = [...played].sort((a, b) => a.full.ms / a.base - b.full.ms / b.base);
    const median = byRatio[Math.floor((byRatio.length - 1) / 2)] as Round;
    const first = played[0] as Round;
    const { base, full, phases, again, againPhases } = median;
    const split = (t: Record<string, number>) =>
      ['reads', 'subjects', 'rules', 'writes'].map((k) => ((t[k] ?? 0) / 1000).toFixed(1)).join(' / ');
    const lbc = await sql<{
      n: number;
    }>`SELECT count(*)::int AS n FROM group_memberships WHERE group_code = 'left_behind_child' AND until IS NULL`.execute(
      database.db,
    );
    results.push({
      engine,
      data,
      persons: load.value.persons,
      facts: load.value.facts,
      'load (s)': (load.ms / 1000).toFixed(1),
      'baseline INSERT..SELECT left_behind_child (s)': (base / 1000).toFixed(2),
      'baseline rows': median.baselineRows,
      'evaluateRegion, all 9 groups (s)': (full.ms / 1000).toFixed(2),
      'first evaluation reads / subjects / rules / writes (s)': split(phases),
      // The planning workers' CPU time (parsing, subjects, rules, encoding), summed over the batches.
      'planning CPU (s)': ((phases.plannerCpu ?? 0) / 1000).toFixed(2),
      'memberships written': full.value.entered,
      'left_behind_child (rules)': lbc.rows[0]?.n ?? 0,
      rounds,
      ratio: (full.ms / base).toFixed(2) + 'x',
      'first round (s, ratio)': `${(first.full.ms / 1000).toFixed(2)}, ${(first.full.ms / first.base).toFixed(2)}x`,
      'all rounds': played.map((r) => (r.full.ms / r.base).toFixed(2) + 'x').join(' '),
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
