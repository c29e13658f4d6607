// A measuring child of bench/import, started as Shouhu's entry points start (bin/shouhu.js): the
// young generation bounded (src/platform/heap.ts) before any other module loads, then bench/import
// in its child role (`--child KIND --url URL --file FILE`).
import { boundYoungGeneration } from '../src/platform/heap.ts';

boundYoungGeneration();
await import('./import.ts');
