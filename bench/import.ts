// bench/import: importing a generated registry file with the real import use case (parsing in a
// worker thread, COPY into a staging table, cross-row references checked in SQL, set-based writes
// of households, persons, relations and facts that write only what changed) against a raw COPY of
// the same CSV rows into a table of the template's columns, in the same run, on PostgreSQL.
// Every measurement runs in its own process (the baseline, the import, the re-import, the .xlsx
// import), so each peak memory (maximum resident set, the parsing worker included) is its own.
// Targets: import >= 30% of COPY's speed, peak memory < 500 MB; a .xlsx import < 500 MB.
//   node bench/import.ts [--rows 1000000] [--xlsx-rows 100000]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import { createContext } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { openPostgres } from '../src/platform/db.ts';
import { createLogger } from '../src/platform/logging.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { importRegistryFile } from '../src/modules/registry/index.ts';
import { systemActor } from '../src/modules/access/index.ts';
import { readTable } from '../src/modules/registry/registry.reader.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';
import { freshDatabase, numberArg, report, verdict } from './support.ts';

const childEntry = path.resolve(import.meta.dirname, 'measure-child.ts');
const COLUMNS = TEMPLATE_HEADERS.map((_h, i) => `c${i}`);

interface Measured {
  ms: number;
  peakMb: number;
  counts?: { inserted: number; unchanged: number; errors: number };
  /** Seconds per step of the import (the `timings` option of importRegistryFile). */
  steps?: Record<string, number>;
}

/** One measurement in this process: `--child copy|import --url URL --file FILE`. */
async function child(kind: string, url: string, file: string): Promise<Measured> {
  const database = await openPostgres(url, 4);
  try {
    const start = performance.now();
    let counts: Measured['counts'];
    const timings: Record<string, number> = {};
    if (kind === 'copy') {
      const table = await readTable(file);
      async function* cells() {
        for await (const row of table.rows) yield TEMPLATE_HEADERS.map((h) => row.cells[h] ?? null);
      }
      await database.copyRows('copy_baseline', COLUMNS, cells());
    } else {
      const importer = { regionCode: '410225', userId: null, auditActor: systemActor('bench') };
      const outcome = await importRegistryFile(database, file, importer, { today: '2026-11-29', timings });
      if (outcome.status !== 'succeeded') throw new Error(`import ${outcome.status}`);
      counts = outcome.counts;
    }
    return {
      ms: performance.now() - start,
      peakMb: Math.round(process.resourceUsage().maxRSS / 1024),
      counts,
      steps: Object.fromEntries(Object.entries(timings).map(([k, v]) => [k, Math.round(v / 100) / 10])),
    };
  } finally {
    await database.close();
  }
}

const argv = process.argv.slice(2);
const childKind = argv.includes('--child') ? argv[argv.indexOf('--child') + 1] : undefined;
if (childKind) {
  const at = (name: string) => argv[argv.indexOf(name) + 1] ?? '';
  process.stdout.write(JSON.stringify(await child(childKind, at('--url'), at('--file'))) + '\n');
} else {
  const rows = numberArg('rows', 1_000_000);
  const xlsxRows = numberArg('xlsx-rows', 100_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-bench-import-'));

  const generate = (file: string, persons: number): void => {
    const script = `import { writeGeneratedTemplate } from ${JSON.stringify(path.resolve(import.meta.dirname, '../src/modules/registry/registry.generator.ts'))};
      await writeGeneratedTemplate(${JSON.stringify(file)}, { countyCode: '410225', persons: ${persons}, seed: 11, asOf: '2026-11-29' });`;
    execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
  };
  const measure = (kind: string, url: string, file: string): Measured => {
    // Started as Shouhu's entry points start (bench/measure-child.ts: the young generation bounded
    // before any other module loads), then this file in its child role.
    const out = execFileSync(process.execPath, [childEntry, '--child', kind, '--url', url, '--file', file], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      maxBuffer: 1 << 20,
    });
    return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Measured;
  };
  /** A fresh PostgreSQL database with the schema and the county's regions. */
  const prepared = async () => {
    const database = await freshDatabase('postgres');
    await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
    await loadRegions(database, { within: '410225' });
    if (!database.url) throw new Error('bench/import runs on PostgreSQL (BENCH_DATABASE_URL)');
    return Object.assign(database, { url: database.url });
  };

  const results: Record<string, string | number>[] = [];
  try {
    const csv = path.join(dir, 'county.csv');
    generate(csv, rows);
    const xlsx = path.join(dir, 'county.xlsx');
    generate(xlsx, xlsxRows);
    const database = await prepared();
    try {
      await sql
        .raw(`CREATE UNLOGGED TABLE copy_baseline (${COLUMNS.map((c) => `${c} text`).join(', ')})`)
        .execute(database.db);
      const copy = measure('copy', database.url, csv);
      const imported = measure('import', database.url, csv);
      const again = measure('import', database.url, csv);
      process.stdout.write(`import steps (s): ${JSON.stringify(imported.steps)}\n`);
      process.stdout.write(`re-import steps (s): ${JSON.stringify(again.steps)}\n`);
      results.push({
        file: `CSV, ${rows.toLocaleString()} rows`,
        'raw COPY (s)': (copy.ms / 1000).toFixed(1),
        'import (s)': (imported.ms / 1000).toFixed(1),
        'speed vs COPY': ((copy.ms / imported.ms) * 100).toFixed(0) + '%',
        counts: `+${imported.counts?.inserted} / ${imported.counts?.errors} errors`,
        're-import (s), unchanged': `${(again.ms / 1000).toFixed(1)}, ${again.counts?.unchanged}`,
        'peak RSS (MB): import, re-import, COPY': `${imported.peakMb}, ${again.peakMb}, ${copy.peakMb}`,
        '>= 30% of COPY': verdict(
          'import speed',
          copy.ms / imported.ms >= 0.3,
          ((copy.ms / imported.ms) * 100).toFixed(0) + '%',
        ),
        '< 500 MB': verdict(
          'import peak memory',
          Math.max(imported.peakMb, again.peakMb) < 500,
          `${imported.peakMb}, ${again.peakMb} MB`,
        ),
      });
    } finally {
      await database.close();
    }
    const xlsxDb = await prepared();
    try {
      const x = measure('import', xlsxDb.url, xlsx);
      results.push({
        file: `xlsx, ${xlsxRows.toLocaleString()} rows`,
        'raw COPY (s)': '-',
        'import (s)': (x.ms / 1000).toFixed(1),
        'speed vs COPY': '-',
        counts: `+${x.counts?.inserted} / ${x.counts?.errors} errors`,
        're-import (s), unchanged': '-',
        'peak RSS (MB): import, re-import, COPY': String(x.peakMb),
        '>= 30% of COPY': '-',
        '< 500 MB': verdict('xlsx import peak memory', x.peakMb < 500, `${x.peakMb} MB`),
      });
    } finally {
      await xlsxDb.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  report('bench/import (targets: import >= 30% of COPY speed; peak RSS < 500 MB)', results);
}
