// bench/import: importing a generated registry file with the real import use case (three
// streaming passes: validation with cross-row references, persons and households in batches,
// relations and facts; upserts that write only what changed) against a raw COPY of the same CSV
// rows into a table of the template's columns, in the same run, on PostgreSQL. Peak memory is the
// process's maximum resident set (the file is generated in a child process beforehand).
// Targets: import >= 30% of COPY's speed, peak memory < 500 MB; a .xlsx import < 500 MB.
//   node bench/import.ts [--rows 1000000] [--xlsx-rows 100000] [--engine postgres|pglite]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { createContext } from '../src/app.ts';
import { loadConfig } from '../src/platform/config.ts';
import { createLogger } from '../src/platform/logging.ts';
import { loadRegions } from '../src/modules/regions/index.ts';
import { importRegistryFile } from '../src/modules/registry/index.ts';
import { systemActor } from '../src/modules/access/index.ts';
import { readTable } from '../src/modules/registry/registry.reader.ts';
import { TEMPLATE_HEADERS } from '../src/modules/registry/registry.template.ts';
import { enginesFromArgs, freshDatabase, numberArg, report, timed } from './support.ts';

const rows = numberArg('rows', 1_000_000);
const xlsxRows = numberArg('xlsx-rows', 100_000);
const engines = process.argv.includes('--engine') ? enginesFromArgs() : (['postgres'] as const);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-bench-import-'));

function generate(file: string, persons: number): void {
  const script = `import { writeGeneratedTemplate } from ${JSON.stringify(path.resolve(import.meta.dirname, '../src/modules/registry/registry.generator.ts'))};
    await writeGeneratedTemplate(${JSON.stringify(file)}, { countyCode: '410225', persons: ${persons}, seed: 11, asOf: '2026-11-29' });`;
  execFileSync(process.execPath, ['--input-type=module', '-e', script], { stdio: 'inherit' });
}

const peakMb = () => Math.round(process.resourceUsage().maxRSS / 1024);

const results: Record<string, string | number>[] = [];
try {
  const csv = path.join(dir, 'county.csv');
  generate(csv, rows);
  const xlsx = path.join(dir, 'county.xlsx');
  generate(xlsx, xlsxRows);
  for (const engine of engines) {
    const database = await freshDatabase(engine);
    try {
      const ctx = await createContext(loadConfig({}, { runJobs: false }), database, createLogger('silent'));
      await loadRegions(database, { within: '410225' });
      const columns = TEMPLATE_HEADERS.map((_h, i) => `c${i}`);
      await sql
        .raw(`CREATE UNLOGGED TABLE copy_baseline (${columns.map((c) => `${c} text`).join(', ')})`)
        .execute(ctx.db);
      const before = peakMb();
      const copy = await timed(async () => {
        const table = await readTable(csv);
        async function* cells() {
          for await (const row of table.rows) yield TEMPLATE_HEADERS.map((h) => row.cells[h] ?? null);
        }
        return database.copyRows('copy_baseline', columns, cells());
      });
      const importer = { regionCode: '410225', userId: null, auditActor: systemActor('bench') };
      const imported = await timed(() => importRegistryFile(ctx.db, csv, importer, { today: '2026-11-29' }));
      const csvPeak = peakMb();
      const again = await timed(() => importRegistryFile(ctx.db, csv, importer, { today: '2026-11-29' }));
      results.push({
        engine,
        file: `CSV, ${rows.toLocaleString()} rows`,
        'raw COPY (s)': (copy.ms / 1000).toFixed(1),
        'import (s)': (imported.ms / 1000).toFixed(1),
        'speed vs COPY': ((copy.ms / imported.ms) * 100).toFixed(0) + '%',
        counts: `+${imported.value.counts.inserted} / ${imported.value.counts.errors} errors`,
        're-import (s), unchanged': `${(again.ms / 1000).toFixed(1)}, ${again.value.counts.unchanged}`,
        'peak RSS (MB)': `${csvPeak} (before: ${before})`,
      });
      const xlsxDb = await freshDatabase(engine);
      try {
        const xctx = await createContext(loadConfig({}, { runJobs: false }), xlsxDb, createLogger('silent'));
        await loadRegions(xlsxDb, { within: '410225' });
        const x = await timed(() => importRegistryFile(xctx.db, xlsx, importer, { today: '2026-11-29' }));
        results.push({
          engine,
          file: `xlsx, ${xlsxRows.toLocaleString()} rows`,
          'raw COPY (s)': '-',
          'import (s)': (x.ms / 1000).toFixed(1),
          'speed vs COPY': '-',
          counts: `+${x.value.counts.inserted} / ${x.value.counts.errors} errors`,
          're-import (s), unchanged': '-',
          'peak RSS (MB)': String(peakMb()),
        });
      } finally {
        await xlsxDb.close();
      }
    } finally {
      await database.close();
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
report('bench/import (targets: import >= 30% of COPY speed; peak RSS < 500 MB)', results);
