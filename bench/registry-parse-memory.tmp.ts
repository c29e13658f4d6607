import { writeGeneratedTemplate } from '../src/modules/registry/registry.generator.ts';
import { parseRegistryFile } from '../src/modules/registry/registry.parse.ts';
const f = '/tmp/mem1m.csv';
if (process.argv[2] === 'write') await writeGeneratedTemplate(f, { countyCode: '410225', persons: 1_000_000, seed: 1, asOf: '2026-11-29' });
else {
  let n = 0; let peak = 0;
  for await (const r of parseRegistryFile(f, { regionExists: () => true, today: '2026-11-29' })) { if (++n % 100000 === 0) { peak = Math.max(peak, process.memoryUsage().rss); console.log(n, Math.round(process.memoryUsage().heapUsed / 2**20), 'MiB heap', Math.round(process.memoryUsage().rss / 2**20), 'MiB rss'); } void r; }
}
