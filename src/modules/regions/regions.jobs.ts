import { defineJob } from '../../platform/jobs.ts';
import type { AppContext } from '../../platform/context.ts';
import { loadRegions, type LoadResult } from './regions.service.ts';

export interface RegionsLoadPayload {
  within?: string;
}

/** Loading regions is idempotent (an upsert), so a retried or re-claimed job is harmless. */
export function regionsLoadJob(ctx: AppContext) {
  return defineJob<RegionsLoadPayload, LoadResult>({
    name: 'regions.load',
    handler: async (job) =>
      loadRegions(
        ctx.database,
        job.payload.within ? { within: job.payload.within } : {},
        (done, total, message) => job.progress(done, total, message),
      ),
  });
}
