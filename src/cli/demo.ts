// The demo county: 兰考县 (410225, Henan), loaded on `npm start` so a fresh clone shows real data.
import type { AppContext } from '../platform/context.ts';
import type { CommandIO } from './command.ts';
import { loadCountyIfMissing } from '../modules/regions/index.ts';
import { prepareDemoUsers } from '../modules/access/index.ts';
import { prepareDemoRegistry } from '../modules/registry/index.ts';
import { evaluateRegion } from '../modules/groups/index.ts';
import { today } from '../platform/dates.ts';
import { maintainDatabase } from '../platform/maintenance.ts';

export const DEMO_COUNTY = '410225';

export interface DemoOptions {
  /** Size of the generated registry (about 20,000 persons for `npm start`; tests use fewer). */
  persons?: number;
}

export async function prepareDemo(ctx: AppContext, io: CommandIO, options: DemoOptions = {}): Promise<void> {
  if (await loadCountyIfMissing(ctx.database, DEMO_COUNTY, io.progress))
    io.print(`loaded the regions of the demo county 兰考县 (${DEMO_COUNTY}) and its province path`);
  await prepareDemoUsers(ctx, io, DEMO_COUNTY);
  // A generated county (fixed seed) so that a fresh clone shows persons, households and groups.
  await prepareDemoRegistry(ctx, io, DEMO_COUNTY, options.persons ?? 20000, 1);
  // Its care groups, so that the statistics, the worklist and the person files show them at once.
  const evaluated = await ctx.db.selectFrom('group_memberships').select('id').limit(1).executeTakeFirst();
  if (!evaluated) {
    io.print('evaluating the care groups of the demo county');
    const counts = await evaluateRegion(ctx.db, {
      regionCode: DEMO_COUNTY,
      asOf: today(),
      progress: io.progress,
    });
    io.print(`groups: ${counts.entered} memberships for ${counts.persons} persons`);
    // The embedded database has no autovacuum: give the planner the new tables' statistics now
    // rather than at the first night's maintenance.
    await maintainDatabase(ctx.database, { progress: io.progress });
  }
}
