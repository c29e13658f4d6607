// The planning half of a region evaluation, in a worker thread: a batch's context (the text the main
// thread read), its subjects, the rules and the plan of its writes, the rows encoded as the writers
// take them. The main thread meanwhile runs the database: the next batch's read, the last batch's
// writes. On PGlite the database runs in the main thread itself, so without this the rules and the
// database took turns on one core (bench/groups).
//
// Messages, main -> worker: PlanRequest; worker -> main: PlanResponse (the encoded rows transferred).
import { parentPort } from 'node:worker_threads';
import type { IsoDate } from '../../platform/dates.ts';
import {
  configFrom,
  hasWrites,
  planFromContext,
  type ConfigFor,
  type ConfigSource,
  type EvaluateCounts,
} from './groups.evaluate.ts';
import * as repo from './groups.repository.ts';

export interface PlanRequest {
  id: number;
  /** Names the configuration: the same key, the same source (one per region evaluation). */
  configKey: string;
  config: ConfigSource;
  /** The batch's persons as nextPersons read them (parsePersons). */
  persons: string;
  /** The batch's context as readBatchContext read it (parseBatchContext). */
  context: repo.BatchContextRead;
  asOf: IsoDate;
  today: IsoDate;
  withWorklist: boolean;
  timed: boolean;
}

export interface PlannedBatch {
  counts: EvaluateCounts;
  voids: number[];
  cuts: repo.EncodedRows;
  updates: repo.EncodedRows;
  inserts: repo.EncodedRows;
  worklist: repo.EncodedRows;
  writes: boolean;
  fingerprint: string;
  timings: Record<string, number> | null;
}

export type PlanResponse = { id: number; planned: PlannedBatch } | { id: number; error: string };

const port = parentPort;
if (!port) throw new Error('groups.plan-worker.ts runs as a worker thread');

// The configurations of the evaluations under way (a few at most), each built once.
const configs = new Map<string, ConfigFor>();

port.on('message', (request: PlanRequest) => {
  try {
    let configFor = configs.get(request.configKey);
    if (!configFor) {
      configFor = configFrom(request.config);
      configs.set(request.configKey, configFor);
      if (configs.size > 8) configs.delete(configs.keys().next().value as string);
    }
    const timings: Record<string, number> | undefined = request.timed ? {} : undefined;
    const started = request.timed ? process.threadCpuUsage() : null;
    const persons = repo.parsePersons(request.persons);
    const ids = persons.map((p) => p.id);
    const context = repo.parseBatchContext(request.context, ids, request.asOf);
    const plan = planFromContext(
      persons,
      context,
      request.asOf,
      configFor,
      request.withWorklist,
      request.today,
      timings,
    );
    const planned: PlannedBatch = {
      counts: plan.counts,
      voids: plan.voids,
      cuts: repo.encodeRows.redates(plan.cuts),
      updates: repo.encodeRows.updates(plan.updates),
      inserts: repo.encodeRows.inserts(plan.inserts),
      worklist: repo.encodeRows.worklist(plan.worklist),
      writes: hasWrites(plan),
      fingerprint: plan.fingerprint,
      timings: timings ?? null,
    };
    if (timings && started) {
      // This thread's CPU time for the batch (parsing, subjects, rules, encoding): bench/groups shows it.
      const used = process.threadCpuUsage(started);
      timings.plannerCpu = (used.user + used.system) / 1000;
    }
    const buffers = [planned.cuts, planned.updates, planned.inserts, planned.worklist].map(
      (rows) => rows.encoded.buffer as ArrayBuffer,
    );
    port.postMessage({ id: request.id, planned } satisfies PlanResponse, [...new Set(buffers)]);
  } catch (error) {
    port.postMessage({
      id: request.id,
      error: error instanceof Error ? (error.stack ?? error.message) : String(error),
    } satisfies PlanResponse);
  }
});
