import { evaluateRegion } from '../src/modules/groups/index.ts';
import { COUNTY, loadSyntheticRegistry } from './groups-data.ts';
import { freshDatabase, timed } from './support.ts';
const database = await freshDatabase('postgres');
try {
await loadSyntheticRegistry(database, 200000);
const t0 = await timed(() => evaluateRegion(database.db, { regionCode: COUNTY, asOf: '2026-11-29', worklist: false, batchSize: 5000 }));
console.log('first', t0.ms, (globalThis as any).__T); (globalThis as any).__T = {};
const t1 = await timed(() => evaluateRegion(database.db, { regionCode: COUNTY, asOf: '2026-11-29', worklist: false, batchSize: 5000 }));
console.log('again', t1.ms, (globalThis as any).__T);
} finally { await database.close(); }
