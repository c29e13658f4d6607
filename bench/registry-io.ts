// Registry template I/O at county scale: generate and write 1,000,000 persons to CSV and 100,000 to
// .xlsx, then parse both back. Prints wall time and peak RSS per step.
// Usage: node bench/registry-io.ts [csvPersons=1000000] [xlsxPersons=100000]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { writeGeneratedTemplate } from '../src/modules/registry/registry.generator.ts';
import { parseRegistryFile } from '../src/modules/registry/registry.parse.ts';
import { readDivision } from '../src/modules/regions/regions.source.ts';

const csvPersons = Number(process.argv[2] ?? 1_000_000);
const xlsxPersons = Number(process.argv[3] ?? 100_000);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shouhu-bench-registry-'));
const regions = new Set<string>();
for await (const r of readDivision({ within: '410225' })) regions.add(r.code);

async function measure(label: string, work: () => Promise<string>): Promise<void> {
  global.gc?.();
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const start = performance.now();
  const cpu = process.cpuUsage();
  const detail = await work();
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const seconds = ((performance.now() - start) / 1000).toFixed(1);
  // CPU time says more than wall time on a shared machine.
  const used = process.cpuUsage(cpu);
  const cpuSeconds = ((used.user + used.system) / 1e6).toFixed(1);
  console.log(
    `${label}: ${seconds} s wall, ${cpuSeconds} s CPU, peak RSS ${Math.round(peak / 2 ** 20)} MiB; ${detail}`,
  );
}

async function parseBack(file: string): Promise<string> {
  let rows = 0;
  let errors = 0;
  for await (const row of parseRegistryFile(file, {
    regionExists: (c) => regions.has(c),
    today: '2026-11-29',
  })) {
    rows++;
    if (row.errors.length > 0) errors++;
  }
  return `${rows} rows, ${errors} with errors`;
}

const options = { countyCode: '410225', seed: 1, asOf: '2026-11-29' };
const csv = path.join(dir, 'county.csv');
const xlsx = path.join(dir, 'county.xlsx');
await measure(`generate + write ${csvPersons} rows to CSV`, async () => {
  const n = await writeGeneratedTemplate(csv, { ...options, persons: csvPersons });
  return `${n} rows, ${Math.round(fs.statSync(csv).size / 2 ** 20)} MiB`;
});
await measure(`parse ${csvPersons} CSV rows`, () => parseBack(csv));
await measure(`generate + write ${xlsxPersons} rows to xlsx`, async () => {
  const n = await writeGeneratedTemplate(xlsx, { ...options, persons: xlsxPersons });
  return `${n} rows, ${Math.round(fs.statSync(xlsx).size / 2 ** 20)} MiB`;
});
await measure(`parse ${xlsxPersons} xlsx rows`, () => parseBack(xlsx));
fs.rmSync(dir, { recursive: true, force: true });
