// The groups module's background work:
//   groups.evaluate  evaluates a region subtree as of a date (after a configuration change, from the
//                    web or the CLI), with progress;
//   groups.person    re-evaluates one person and their relatives after a registry change;
//   groups.daily     re-evaluates everything each day (ages and durations cross thresholds without any
//                    fact changing), then schedules itself for the next day. Its idempotency key is the
//                    date, so however many servers start, each day runs once.
// All three are idempotent: evaluation writes only differences.

import { defineJob, type JobQueue } from '../../platform/jobs.ts';
import type { AppContext } from '../../platform/context.ts';
import { addDays, maxDate, today, type IsoDate } from '../../platform/dates.ts';
import { evaluatePerson, evaluateRegion, type EvaluateCounts } from './groups.evaluate.ts';

export interface EvaluatePayload {
  regionCode: string;
  asOf: IsoDate;
  worklist?: boolean;
}

export interface PersonPayload {
  personId: number;
  asOf: IsoDate;
}

export interface DailyPayload {
  date: IsoDate;
}

export function groupsEvaluateJob(ctx: AppContext) {
  return defineJob<EvaluatePayload, EvaluateCounts>({
    name: 'groups.evaluate',
    handler: (job) =>
      evaluateRegion(ctx.db, {
        regionCode: job.payload.regionCode,
        asOf: job.payload.asOf,
        worklist: job.payload.worklist ?? true,
        signal: job.signal,
        progress: (done, total, message) => job.progress(done, total, message),
      }),
  });
}

export function groupsPersonJob(ctx: AppContext) {
  return defineJob<PersonPayload, EvaluateCounts>({
    name: 'groups.person',
    handler: (job) =>
      ctx.db.transaction().execute((trx) => evaluatePerson(trx, job.payload.personId, job.payload.asOf)),
  });
}

/** The start of the day after `date`, in local time, plus a quiet half hour. */
function nextRun(date: IsoDate): Date {
  const [y, m, d] = addDays(date, 1).split('-').map(Number) as [number, number, number];
  return new Date(y, m - 1, d, 0, 30, 0);
}

export function groupsDailyJob(ctx: AppContext) {
  const definition = defineJob<DailyPayload, EvaluateCounts>({
    name: 'groups.daily',
    maxAttempts: 5,
    handler: async (job) => {
      const counts = await evaluateRegion(ctx.db, {
        regionCode: '',
        asOf: job.payload.date,
        signal: job.signal,
        progress: (done, total, message) => job.progress(done, total, message),
      });
      // After days without a server, catch up with today at once rather than replaying each day.
      await scheduleDaily(ctx.jobs, maxDate(addDays(job.payload.date, 1), today()) ?? today(), definition);
      return counts;
    },
  });
  return definition;
}

async function scheduleDaily(
  jobs: JobQueue,
  date: IsoDate,
  definition: ReturnType<typeof groupsDailyJob>,
): Promise<number> {
  const runAfter = date <= today() ? new Date() : nextRun(addDays(date, -1));
  return jobs.enqueue(definition, { date }, { idempotencyKey: `groups.daily:${date}`, runAfter });
}

export function registerGroupsJobs(ctx: AppContext): void {
  ctx.jobs.register(groupsEvaluateJob(ctx));
  ctx.jobs.register(groupsPersonJob(ctx));
  ctx.jobs.register(groupsDailyJob(ctx));
}

/** Makes sure today's daily evaluation is queued (called where this process runs jobs). */
export async function scheduleGroupsDaily(ctx: AppContext): Promise<number> {
  return scheduleDaily(ctx.jobs, today(), groupsDailyJob(ctx));
}
