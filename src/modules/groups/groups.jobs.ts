// The groups module's background work:
//   groups.evaluate  evaluates a region subtree (or several) as of a date (after a configuration
//                    change, from the web or the CLI, after a registry import), with progress; after an
//                    import, also the past days of the persons it changed (recordMissedStretches);
//   groups.person    re-evaluates one person and their relatives after a registry change;
//   groups.daily     re-evaluates everything each day (ages and durations cross thresholds without any
//                    fact changing), then schedules itself for the next day. Its idempotency key is the
//                    date, so however many servers start, each day runs once.
// All three are idempotent: evaluation writes only differences.

import type { Transaction } from 'kysely';
import { defineJob, JobQueue } from '../../platform/jobs.ts';
import type { AppContext } from '../../platform/context.ts';
import type { DB } from '../../platform/db.schema.ts';
import type { ImportCommitted } from '../registry/index.ts';
import { addDays, maxDate, startOfChinaDay, today, type IsoDate } from '../../platform/dates.ts';
import {
  evaluatePerson,
  evaluateRegion,
  recordMissedStretches,
  type EvaluateCounts,
  type RegionCounts,
} from './groups.evaluate.ts';
import { codeRange, personsChangedByImportSince } from './groups.repository.ts';
import { moveOpenItemsInto } from './groups.worklist-moves.ts';

export interface EvaluatePayload {
  /** The subtree to evaluate; with regionCodes, their common ancestor (the job's scope). */
  regionCode: string;
  asOf: IsoDate;
  worklist?: boolean;
  /** Several subtrees instead, evaluated in turn (a committed import's villages). */
  regionCodes?: string[];
  /**
   * A committed import's: when it began (an ISO timestamp). After the subtrees, the persons in them
   * that the import changed (repo.personsChangedByImportSince) are judged on the past days where a
   * stretch of membership may have begun and ended, as a change through the API is (evaluatePerson).
   */
  importChangedSince?: string;
}

export interface PersonPayload {
  personId: number;
  asOf: IsoDate;
}

export interface DailyPayload {
  date: IsoDate;
}

const COUNT_KEYS = ['persons', 'entered', 'left', 'updated', 'unchanged'] as const;
const noCounts = (): EvaluateCounts => ({ persons: 0, entered: 0, left: 0, updated: 0, unchanged: 0 });

/**
 * An evaluation of a past date keeps today's grounds on the periods that cover today too
 * (keepTodaysGrounds): the result counts the as-of date's evaluation, and under `today` what the
 * evaluation of today then wrote in the batches the past date changed.
 */
export function groupsEvaluateJob(ctx: Pick<AppContext, 'db'>) {
  return defineJob<EvaluatePayload, RegionCounts>({
    name: 'groups.evaluate',
    handler: async (job) => {
      const codes = job.payload.regionCodes ?? [job.payload.regionCode];
      const counts: RegionCounts = noCounts();
      for (const [i, regionCode] of codes.entries()) {
        const part = await evaluateRegion(ctx.db, {
          regionCode,
          asOf: job.payload.asOf,
          worklist: job.payload.worklist ?? true,
          keepTodaysGrounds: true,
          signal: job.signal,
          progress: (done, total, message) =>
            codes.length === 1
              ? job.progress(done, total, message)
              : job.progress(i, codes.length, `${regionCode}: ${message}`),
        });
        for (const key of COUNT_KEYS) counts[key] += part[key];
        if (part.today) {
          counts.today ??= { asOf: part.today.asOf, ...noCounts() };
          for (const key of COUNT_KEYS) counts.today[key] += part.today[key];
        }
      }
      const since = job.payload.importChangedSince;
      if (since !== undefined) {
        const personIds = await personsChangedByImportSince(ctx.db, new Date(since), codes.map(codeRange));
        const past = await recordMissedStretches(ctx.db, {
          personIds,
          asOf: job.payload.asOf,
          withWorklist: job.payload.worklist ?? true,
          signal: job.signal,
          progress: (done, total, message) => job.progress(done, total, message),
        });
        counts.past = { changed: personIds.length, ...past };
      }
      return counts;
    },
  });
}

/** At most this many subtrees in one evaluation job; beyond it, villages go up to their townships. */
const MAX_SUBTREES = 64;
/** Region code lengths from a village up: township, county, city, province. */
const PARENT_LENGTHS = [9, 6, 4, 2] as const;

/**
 * The subtrees to evaluate for a set of villages: the villages themselves, or, when there are many,
 * their townships (then counties ...), so a county-wide import is evaluated county by county in
 * large batches rather than village by village.
 */
export function evaluationSubtrees(villages: readonly string[]): string[] {
  let codes = [...new Set(villages)].sort();
  for (const length of PARENT_LENGTHS) {
    if (codes.length <= MAX_SUBTREES) break;
    codes = [...new Set(codes.map((code) => code.slice(0, length)))].sort();
  }
  return codes;
}

function commonAncestor(codes: readonly string[]): string {
  const first = codes[0] ?? '';
  let prefix = first;
  for (const code of codes) while (!code.startsWith(prefix)) prefix = prefix.slice(0, -1);
  // Only whole levels: a province, city, county or township code, or the whole country.
  const whole = [12, ...PARENT_LENGTHS].find((length) => length <= prefix.length) ?? 0;
  return prefix.slice(0, whole);
}

/**
 * The registry's listener for a committed template import (registered by the composition root):
 * queues an evaluation of the villages the import changed, in the import's own last transaction,
 * so the job exists exactly when the import's writes do. The worker runs it right after, with
 * worklist items for everyone who entered or left a group. One job per import (its idempotency key).
 */
export async function followImport(trx: Transaction<DB>, event: ImportCommitted): Promise<number> {
  // A person the file moved to another village takes the open worklist items along, with the import.
  await moveOpenItemsInto(trx, event.regionCodes);
  const regionCodes = evaluationSubtrees(event.regionCodes);
  const regionCode = commonAncestor(regionCodes);
  // What the import wrote is found by its stamps from its start on: the import's row was created when
  // the file was accepted, before any write; an import run on the console has none, and its day's start
  // stands in (finding, at most, the day's other changes too).
  const started =
    event.importId === null
      ? undefined
      : await trx
          .selectFrom('imports')
          .select('created_at')
          .where('id', '=', event.importId)
          .executeTakeFirst();
  const importChangedSince = (started?.created_at ?? startOfChinaDay(event.asOf)).toISOString();
  // A queue over the import's transaction, to enqueue only: the job runs in the process's worker.
  return new JobQueue(trx).enqueue(
    groupsEvaluateJob({ db: trx }),
    { regionCode, asOf: event.asOf, worklist: true, regionCodes, importChangedSince },
    {
      ...(event.importId !== null ? { idempotencyKey: `groups.evaluate:import:${event.importId}` } : {}),
      createdBy: event.userId,
      regionCode: regionCode || null,
    },
  );
}

export function groupsPersonJob(ctx: AppContext) {
  return defineJob<PersonPayload, EvaluateCounts>({
    name: 'groups.person',
    handler: (job) =>
      ctx.db.transaction().execute((trx) => evaluatePerson(trx, job.payload.personId, job.payload.asOf)),
  });
}

/** The start of the day after `date`, China's time (the days of today()), plus a quiet half hour. */
function nextRun(date: IsoDate): Date {
  return startOfChinaDay(addDays(date, 1), 30);
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
