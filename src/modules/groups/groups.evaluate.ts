// Evaluation at scale: every group for every person of a region subtree as of a date. Persons go in
// batches by id (keyset, never OFFSET); each batch reads everything else it needs (links both ways with
// their dates, the relatives' records, the facts the rules read, the stored periods) in one query,
// builds the GroupSubjects the pure rules expect (links as they were on each day asked), runs the rules
// and writes only what changed, planned against every stored period of the person and group:
//   - a group the person has entered opens a period (and a worklist item); as of a past date, a stretch
//     that has ended since is recorded closed, and one that meets a period a later evaluation found
//     joins it,
//   - a group the person has left closes its period on the day its rule stopped holding, which a fact
//     recorded late puts before the as-of date (and a worklist item); days on which it did not hold in
//     between split it; a period that never held (its facts retracted) is removed,
//   - a changed `since`, sub-category, reasons or region is updated in place; a `since` moved earlier
//     cuts back the periods it now covers, one moved later keeps the stretches before it on record,
//   - everything else is left untouched, so evaluating twice changes nothing. Periods of one person and
//     group never overlap. An evaluation of a past date neither ends nor reopens what a later one found.
// A batch writes holding the lock every writer of periods takes, and plans again if the periods it read
// changed meanwhile (another evaluation, a registry change's re-evaluation): two evaluations of the same
// persons at once both finish. The single-person path (evaluatePerson) runs the same batch code for one
// person and the relatives whose groups depend on that person's facts.

import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { addDays, addYears, ageOn, isIsoDate, today, type IsoDate } from '../../platform/dates.ts';
import type { Fact, Label } from '../registry/index.ts';
import {
  changesOn,
  evaluateGroupsOver,
  GROUP_LABELS,
  membershipHeldThroughout,
  membershipHeldUntil,
  membershipOnPastDay,
  membershipRuns,
  quotingAsFound,
  RULE_FACT_KINDS,
  unchanging,
  type GroupCode,
  type GroupMembership,
  type GroupSubject,
  type MembershipRun,
  type SubjectHistory,
} from './groups.rules.ts';
import type { ParentSnapshot, ParentType, PersonSnapshot, RelativeSnapshot } from './groups.rules.ts';
import { configResolver, type EffectiveGroupsConfig } from './groups.settings.ts';
import * as repo from './groups.repository.ts';
import { moveOpenItemsOf } from './groups.worklist-moves.ts';
import type { GroupReasonsJson } from './groups.tables.ts';
import type { PlannedBatch, PlanRequest, PlanResponse } from './groups.plan-worker.ts';

export interface EvaluateOptions {
  /** The subtree to evaluate; '' is the whole registry. */
  regionCode: string;
  asOf: IsoDate;
  batchSize?: number;
  /** Write worklist items for entries and exits (default true; off for a first load of a county). */
  worklist?: boolean;
  progress?: (done: number, total: number | null, message: string) => void | Promise<void>;
  signal?: AbortSignal;
  /**
   * Batches in flight at once (default 2): on a PostgreSQL server one batch's queries and writes run
   * while the next batch's rules run in Node (bench/groups: 1.5x faster on 2 cores). On PGlite (one
   * session in this process) they take turns, at no cost.
   */
  concurrency?: number;
  /** When given, milliseconds spent per phase are added to it (reads, subjects, rules, writes). */
  timings?: Record<string, number>;
  /**
   * For an as-of date before today: each batch that the as-of date's evaluation wrote is evaluated
   * again as of today in the same transaction, as evaluatePerson does after the past days it records.
   * A period holds one sub-category and one set of reasons, and the evaluation of a past date writes
   * that date's on every period covering it, open ones included; without this, today's person file
   * and member list would name grounds that ended years ago until the next daily run. Off by default:
   * a plain evaluation stores each date as the rules say of it (the agreement property tests).
   */
  keepTodaysGrounds?: boolean;
}

export interface EvaluateCounts {
  persons: number;
  entered: number;
  left: number;
  updated: number;
  unchanged: number;
}

/** What an evaluation of a region did; `today` when a past date's batches were evaluated again today. */
export interface RegionCounts extends EvaluateCounts {
  today?: EvaluateCounts & { asOf: IsoDate };
  /**
   * After an import: how many persons it changed, on how many past days (summed over batches) they were
   * judged, and what those evaluations wrote (recordMissedStretches).
   */
  past?: EvaluateCounts & { changed: number; days: number };
}

const emptyCounts = (): EvaluateCounts => ({ persons: 0, entered: 0, left: 0, updated: 0, unchanged: 0 });

function addCounts(into: EvaluateCounts, more: EvaluateCounts): void {
  into.persons += more.persons;
  into.entered += more.entered;
  into.left += more.left;
  into.updated += more.updated;
  into.unchanged += more.unchanged;
}

export interface ConfigFor {
  (regionCode: string): EffectiveGroupsConfig;
  /** Every day on or before the as-of date on which the region's configuration changed, latest first. */
  changesOf(regionCode: string): readonly IsoDate[];
  /** The configuration in force for the region on a day on or before the as-of date. */
  on(regionCode: string, day: IsoDate): EffectiveGroupsConfig;
}

/** Before every configuration: the rows read are all those that began on or before the as-of date. */
const BEFORE_ANY_CONFIG: IsoDate = '0001-01-01';

/**
 * The configuration rows an evaluation as of a date reads: every version that began by the as-of date
 * (a few rows per configured region), the one in force on it and those before, which judge the days
 * before each change (a membership that reaches back over one). configFrom builds on them, in any thread.
 */
export interface ConfigSource {
  asOf: IsoDate;
  rows: repo.ConfigRecord[];
}

async function readConfigSource(db: repo.Db, asOf: IsoDate): Promise<ConfigSource> {
  return { asOf, rows: await repo.configsInForceBetween(db, BEFORE_ANY_CONFIG, asOf) };
}

async function loadConfigFor(db: repo.Db, asOf: IsoDate): Promise<ConfigFor> {
  return configFrom(await readConfigSource(db, asOf));
}

/** A change is a day a row began or ended, a version replaced on its first day included. */
export function configFrom({ asOf, rows }: ConfigSource): ConfigFor {
  const resolverOn = (day: IsoDate) =>
    configResolver(
      rows
        .filter((row) => row.valid_from <= day && (row.valid_to === null || row.valid_to > day))
        .map((row) => ({ regionCode: row.region_code, config: row.config })),
    );
  const resolve = resolverOn(asOf);
  const resolvers = new Map<IsoDate, (regionCode: string) => EffectiveGroupsConfig>([[asOf, resolve]]);
  const changeDays = rows.flatMap((row) =>
    [row.valid_from, row.valid_to]
      .filter((day): day is IsoDate => day !== null && day <= asOf)
      .map((day) => ({ region_code: row.region_code, day })),
  );
  const changesOf = new Map<string, IsoDate[]>();
  const changes = (regionCode: string) => {
    let days = changesOf.get(regionCode);
    if (days === undefined) {
      days = [
        ...new Set(changeDays.filter((c) => regionCode.startsWith(c.region_code)).map((c) => c.day)),
      ].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0));
      changesOf.set(regionCode, days);
    }
    return days;
  };
  return Object.assign((regionCode: string) => resolve(regionCode), {
    changesOf: changes,
    on: (regionCode: string, day: IsoDate) => {
      let resolver = resolvers.get(day);
      if (!resolver) resolvers.set(day, (resolver = resolverOn(day)));
      return resolver(regionCode);
    },
  });
}

/**
 * Evaluates a region subtree in batches, each batch in its own transaction. The counts are those of the
 * as-of date; with keepTodaysGrounds and a past date, `today` counts what the evaluation of today wrote
 * after it (the grounds of today given back to the periods that cover both days, and whatever else
 * today's evaluation finds in those batches).
 */
export async function evaluateRegion(db: Kysely<DB>, options: EvaluateOptions): Promise<RegionCounts> {
  const { asOf } = options;
  const batchSize = options.batchSize ?? 5000;
  const range = repo.codeRange(options.regionCode);
  const config = await readConfigSource(db, asOf);
  const configFor = configFrom(config);
  const configKey = `${++evaluations}`;
  const withWorklist = options.worklist ?? true;
  const { timings } = options;
  const now = today();
  const todays =
    options.keepTodaysGrounds === true && asOf < now
      ? { asOf: now, configFor: await loadConfigFor(db, now), counts: emptyCounts() }
      : null;
  const total = await repo.countPersons(db, range);
  const counts = emptyCounts();
  await options.progress?.(
    0,
    total,
    todays
      ? `evaluating groups as of ${asOf}, then as of ${now} where that changed a period`
      : `evaluating groups as of ${asOf}`,
  );
  // A batch is read here, planned in the planning worker (subjects, rules, the rows to write) and written
  // here in its own transaction. Batches touch disjoint persons, so while the worker plans one, this
  // thread reads the next and writes the last; on a server several write at once.
  const concurrency = Math.max(1, options.concurrency ?? 3);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  let after = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const reading = performance.now();
    const { persons, context } = await db.transaction().execute(async (trx) => {
      // The reads are many small index lookups that the planner's estimates overprice; compiling them
      // (JIT) costs more than running them.
      await sql`SET LOCAL jit = off`.execute(trx);
      const persons = await repo.nextPersons(trx, range, after, batchSize);
      return { persons, context: await repo.readBatchContext(trx, persons.ids, asOf, RULE_FACT_KINDS) };
    });
    if (timings) timings.reads = (timings.reads ?? 0) + (performance.now() - reading);
    if (!persons.ids.length) break;
    after = persons.ids[persons.ids.length - 1] ?? after;
    const request = { configKey, config, persons: persons.text, context, asOf, today: now, withWorklist };
    const work: Promise<void> = planningWorker()
      .plan({ ...request, timed: timings !== undefined })
      .then((planned) => {
        if (timings && planned.timings)
          for (const [phase, ms] of Object.entries(planned.timings))
            timings[phase] = (timings[phase] ?? 0) + ms;
        return db.transaction().execute(async (trx) => {
          // A region's batches hold only derived data that the next evaluation writes again: their
          // commits need not wait for the disk (a crash loses at most the last batches, never
          // consistency). A single person's re-evaluation runs in the caller's transaction instead.
          await sql`SET LOCAL synchronous_commit = off`.execute(trx);
          const records = () => repo.parsePersons(persons.text);
          const wrote = 'writes' in planned ? planned.writes : hasWrites(planned);
          const batch = await writeBatch(
            trx,
            persons.ids,
            records,
            planned,
            asOf,
            configFor,
            withWorklist,
            timings,
          );
          // The past date's grounds were written on periods that may cover today too: today's are
          // planned again over them before the batch commits, so that no reader sees the old ones.
          // A batch the past date left as it was needs nothing.
          if (todays && wrote)
            addCounts(
              todays.counts,
              await evaluateBatch(trx, records(), todays.asOf, todays.configFor, withWorklist, timings),
            );
          return batch;
        });
      })
      .then(async (batch) => {
        addCounts(counts, batch);
        await options.progress?.(counts.persons, total, `evaluated ${counts.persons} of ${total}`);
      })
      .catch((error: unknown) => {
        failure ??= { error };
      })
      .finally(() => running.delete(work));
    running.add(work);
    if (running.size >= concurrency) await Promise.race(running);
    if (failure) break;
  }
  await Promise.all(running);
  options.signal?.throwIfAborted();
  if (failure) throw (failure as { error: unknown }).error;
  return todays ? { ...counts, today: { asOf: todays.asOf, ...todays.counts } } : counts;
}

/**
 * Re-evaluates one person and the relatives whose groups depend on that person's facts (parents,
 * children, spouse), inside the caller's transaction: call it right after a fact or link changes.
 */
export async function evaluatePerson(
  trx: Transaction<DB>,
  personId: number,
  asOf: IsoDate,
): Promise<EvaluateCounts> {
  // Held from before the read to the commit, and the persons stamped: a region evaluation that read
  // these persons earlier and writes later waits for this change and then sees it in its fingerprint,
  // even when this re-evaluation writes no period (writeBatch plans again).
  await repo.lockMembershipWrites(trx);
  // Every parent and spouse link, in force on the as-of date or not: a former spouse's period rests on
  // this person's facts too (a migration retracted after the divorce).
  const { links } = await repo.loadBatchContext(trx, [personId], asOf, []);
  const ids = new Set<number>([personId]);
  for (const link of links) {
    ids.add(link.person_id);
    ids.add(link.related_person_id);
  }
  const configFor = await loadConfigFor(trx, asOf);
  const persons = await repo.loadPersons(
    trx,
    [...ids].sort((a, b) => a - b),
  );
  const counts = await evaluateBatch(trx, persons, asOf, configFor, true);
  // A change may reveal stretches that ended before the as-of date (a return home recorded late with
  // both dates, an earlier spell of migration): each is recorded by an evaluation of one of its days,
  // earliest first, without worklist items (nothing is left to act on). The as-of date is planned
  // again after them, so that the periods covering it carry its reasons.
  const context = await repo.loadBatchContext(trx, [...ids], asOf, RULE_FACT_KINDS);
  const missed = missedPastDays(persons, context, asOf, configFor);
  for (const day of missed)
    addCounts(counts, await evaluateBatch(trx, persons, day, await loadConfigFor(trx, day), false));
  if (missed.length) await evaluateBatch(trx, persons, asOf, configFor, true);
  await repo.stampPersons(trx, [...ids]);
  // A change of hukou moves the person's open worklist items to the new village (the items this
  // evaluation wrote too: an exit of a period counted in the old village).
  await moveOpenItemsOf(trx, [...ids]);
  return counts;
}

/** At most this many past days are evaluated after one change (each is one more batch evaluation). */
const MAX_PAST_DAYS = 24;

/**
 * The past days whose evaluation would record a stretch of membership that no stored period covers:
 * one day for each such stretch, its latest day, earliest stretch first. A stretch ends on the day a
 * fact or link begins or ends, a date a fact names (a police report, a sentence's expected end), a
 * birthday, a relative's birth or a change of configuration, so the days before those days and the
 * days themselves are the ones asked; each is judged as an evaluation of it judges it (planFromContext).
 */
export function missedPastDays(
  batchPersons: readonly repo.PersonRecord[],
  context: repo.BatchContext,
  asOf: IsoDate,
  configFor: ConfigFor,
): IsoDate[] {
  const shared = new Set<IsoDate>();
  const note = noteInto(shared, asOf);
  for (const fact of context.facts) noteFact(note, fact);
  for (const link of context.links) {
    note(link.valid_from);
    note(link.valid_to);
  }
  // A relative's birth (a child born at home ends an elder's being left behind).
  for (const relative of batchPersons) note(relative.birth_date);
  for (const relative of context.relatives) note(relative.birth_date);
  const stretches = missedStretches(batchPersons, context, asOf, configFor, () => shared, 'every');
  return [...new Set([...stretches.values()].flat())].sort().slice(0, MAX_PAST_DAYS);
}

/**
 * missedPastDays for a batch of many persons (the persons a template import changed and their
 * relatives): by person, each person's days asked only among the dates of their own records and of the
 * persons linked to them (their facts, births and links), which are all the rules read of a subject
 * (person, parents, spouse, children, and the parents' marriages). The batch-wide set of missedPastDays
 * would ask every person every other family's dates. At most MAX_PAST_DAYS a person, earliest first.
 */
export function missedPastDaysByPerson(
  batchPersons: readonly repo.PersonRecord[],
  context: repo.BatchContext,
  asOf: IsoDate,
  configFor: ConfigFor,
): Map<number, IsoDate[]> {
  const own = new Map<number, Set<IsoDate>>();
  const ownOf = (id: number) => {
    let days = own.get(id);
    if (!days) own.set(id, (days = new Set()));
    return noteInto(days, asOf);
  };
  for (const fact of context.facts) noteFact(ownOf(fact.person_id), fact);
  for (const person of [...batchPersons, ...context.relatives]) ownOf(person.id)(person.birth_date);
  const linked = new Map<number, Set<number>>();
  for (const link of context.links)
    for (const [a, b] of [
      [link.person_id, link.related_person_id],
      [link.related_person_id, link.person_id],
    ] as const) {
      const note = ownOf(a);
      note(link.valid_from);
      note(link.valid_to);
      let ids = linked.get(a);
      if (!ids) linked.set(a, (ids = new Set()));
      ids.add(b);
    }
  const daysOf = (id: number) => {
    const days = new Set(own.get(id));
    for (const other of linked.get(id) ?? []) for (const day of own.get(other) ?? []) days.add(day);
    return days;
  };
  const stretches = missedStretches(batchPersons, context, asOf, configFor, daysOf, 'thresholds');
  const byPerson = new Map<number, IsoDate[]>();
  for (const [id, days] of stretches) byPerson.set(id, [...new Set(days)].sort().slice(0, MAX_PAST_DAYS));
  return byPerson;
}

/** Notes a date (and the day before it) into `days`, when it is a date on or before `asOf`. */
function noteInto(days: Set<IsoDate>, asOf: IsoDate) {
  return (day: unknown) => {
    if (typeof day === 'string' && isIsoDate(day) && day <= asOf) {
      days.add(day);
      days.add(addDays(day, -1));
    }
  };
}

/** A fact's start and end and every date it names (a police report, a sentence's expected end). */
function noteFact(note: (day: unknown) => void, fact: repo.FactRecord): void {
  note(fact.valid_from);
  note(fact.valid_to);
  for (const value of Object.values(fact.data)) note(value);
}

/**
 * The latest day of each missed stretch, by person: the days asked of a person are `sharedDays(id)`,
 * with the region's configuration changes and the person's birthdays: every one, or only those on which
 * an age clause of a configuration in force in the region can change (16, 18, 60, the high-age bands,
 * the left-behind woman's range): no other birthday begins or ends a membership, and a stretch is
 * recorded by the evaluation of any of its days.
 */
function missedStretches(
  batchPersons: readonly repo.PersonRecord[],
  context: repo.BatchContext,
  asOf: IsoDate,
  configFor: ConfigFor,
  sharedDays: (id: number) => ReadonlySet<IsoDate>,
  birthdays: 'every' | 'thresholds',
): Map<number, IsoDate[]> {
  const ids = batchPersons.map((p) => p.id);
  const persons = new Map(batchPersons.map((p) => [p.id, p]));
  for (const relative of context.relatives) persons.set(relative.id, relative);
  const histories = subjectHistories(ids, persons, context.links, context.facts, asOf);
  const periods = [...context.open, ...context.closed];
  const heldBy = new Map<number, (typeof periods)[number][]>();
  for (const period of periods) {
    const list = heldBy.get(period.person_id);
    if (list) list.push(period);
    else heldBy.set(period.person_id, [period]);
  }
  const missed = new Map<number, IsoDate[]>();
  for (const id of ids) {
    const person = persons.get(id);
    const history = histories.get(id);
    if (!person?.birth_date || !history) continue;
    const region = person.hukou_region_code;
    const days = new Set(sharedDays(id));
    for (const change of configFor.changesOf(region)) days.add(change).add(addDays(change, -1));
    const ages =
      birthdays === 'thresholds'
        ? thresholdAges([
            configFor(region),
            ...configFor.changesOf(region).map((d) => configFor.on(region, d)),
          ])
        : null;
    for (let age = 1; ; age++) {
      const birthday = addYears(person.birth_date, age);
      if (birthday > asOf) break;
      if (ages !== null && !ages.has(age)) continue;
      days.add(birthday);
      days.add(addDays(birthday, -1));
    }
    const held = heldBy.get(id) ?? [];
    // The latest day of each missed stretch, by group and start.
    const stretches = new Map<string, IsoDate>();
    for (const day of days) {
      if (day >= asOf || day < person.birth_date) continue;
      const config = configFor.on(region, day);
      const subject = history.on(day);
      if (!mayBelong(subject, day, config)) continue;
      for (const membership of evaluateGroupsOver(history, day, config)) {
        if (held.some((period) => period.group_code === membership.code && covers(period, day))) continue;
        const key = `${membership.code} ${membership.since}`;
        const latest = stretches.get(key);
        if (latest === undefined || latest < day) stretches.set(key, day);
      }
    }
    if (stretches.size) missed.set(id, [...stretches.values()]);
  }
  return missed;
}

/** The ages on whose birthday an age clause of one of the configurations can begin or end to hold. */
function thresholdAges(configs: readonly EffectiveGroupsConfig[]): Set<number> {
  const ages = new Set<number>();
  for (const config of configs) {
    ages.add(config.leftBehindChildUnderAge).add(config.minorUnderAge).add(config.elderlyMinAge);
    for (const start of config.highAgeBandStarts) ages.add(start);
    const range = config.leftBehindWomanAgeRange;
    if (range?.minAge != null) ages.add(range.minAge);
    if (range?.maxAge != null) ages.add(range.maxAge + 1);
  }
  return ages;
}

/**
 * After a template import (groups.evaluate's follow-up of ImportCommitted): what evaluatePerson does
 * after a change through the API, for every person the import changed. The evaluation of the import
 * day stores what holds on it; a stretch that began and ended before it (a 95-year-old imported with
 * last year's death date, a parent link that makes an elder left behind over a past spell of a son's
 * migration) is stored by an evaluation of one of its days, without worklist items. The persons go in
 * batches of `batchSize` changed persons with their relatives, each in one transaction holding the
 * period writers' lock; a batch's past days are evaluated for the persons who missed a stretch on
 * them only, earliest first per person, and the as-of date is planned again for those persons.
 */
export async function recordMissedStretches(
  db: Kysely<DB>,
  options: {
    personIds: readonly number[];
    asOf: IsoDate;
    withWorklist: boolean;
    batchSize?: number;
    signal?: AbortSignal;
    progress?: (done: number, total: number | null, message: string) => void | Promise<void>;
  },
): Promise<EvaluateCounts & { days: number }> {
  const { personIds, asOf } = options;
  const batchSize = options.batchSize ?? 1000;
  const counts = { ...emptyCounts(), days: 0 };
  const configFor = await loadConfigFor(db, asOf);
  const configs = new Map<IsoDate, Promise<ConfigFor>>();
  const configOn = (trx: repo.Db, day: IsoDate) => {
    let found = configs.get(day);
    if (!found) configs.set(day, (found = loadConfigFor(trx, day)));
    return found;
  };
  for (let start = 0; start < personIds.length; start += batchSize) {
    options.signal?.throwIfAborted();
    const changed = personIds.slice(start, start + batchSize);
    await db.transaction().execute(async (trx) => {
      await sql`SET LOCAL jit = off`.execute(trx);
      await repo.lockMembershipWrites(trx);
      // The changed persons and everyone linked to them: a fact of one decides the relatives' groups.
      const { links } = await repo.loadBatchContext(trx, changed, asOf, []);
      const ids = new Set(changed);
      for (const link of links) ids.add(link.person_id).add(link.related_person_id);
      const persons = await repo.loadPersons(
        trx,
        [...ids].sort((a, b) => a - b),
      );
      const context = await repo.loadBatchContext(
        trx,
        persons.map((p) => p.id),
        asOf,
        RULE_FACT_KINDS,
      );
      const missed = missedPastDaysByPerson(persons, context, asOf, configFor);
      if (!missed.size) return;
      const byId = new Map(persons.map((p) => [p.id, p]));
      // Round r evaluates each person's r-th day: a person's stretches earliest first.
      for (let round = 0; ; round++) {
        const onDay = new Map<IsoDate, repo.PersonRecord[]>();
        for (const [id, days] of missed) {
          const day = days[round];
          const person = byId.get(id);
          if (day === undefined || !person) continue;
          const list = onDay.get(day);
          if (list) list.push(person);
          else onDay.set(day, [person]);
        }
        if (!onDay.size) break;
        for (const day of [...onDay.keys()].sort()) {
          addCounts(
            counts,
            await evaluateBatch(trx, onDay.get(day) ?? [], day, await configOn(trx, day), false),
          );
          counts.days += 1;
        }
      }
      const judged = [...missed.keys()].sort((a, b) => a - b);
      const again = judged.flatMap((id) => byId.get(id) ?? []);
      await evaluateBatch(trx, again, asOf, configFor, options.withWorklist);
      if (asOf < today())
        await evaluateBatch(trx, again, today(), await loadConfigFor(trx, today()), options.withWorklist);
      await repo.stampPersons(trx, judged);
    });
    const done = Math.min(start + batchSize, personIds.length);
    await options.progress?.(
      done,
      personIds.length,
      `past stretches: ${done} of ${personIds.length} changed persons`,
    );
  }
  return counts;
}

/** The registry's change listener (registered by the composition root): re-evaluate as of today. */
export async function reevaluateAfterChange(trx: Transaction<DB>, personId: number): Promise<void> {
  await evaluatePerson(trx, personId, today());
}

// ---------- Building subjects ----------

function toFact(row: repo.FactRecord): Fact {
  return { kind: row.kind, from: row.valid_from, to: row.valid_to, data: row.data } as unknown as Fact;
}

/**
 * A person as the rules see them; null for a record merged into another. Sex and birth date may be
 * missing: a relative counts without them (the rules read them only where a clause needs them), the
 * person judged needs a birth date (judged).
 */
function snapshot(person: repo.PersonRecord, facts: readonly Fact[]): RelativeSnapshot | null {
  if (person.merged_into !== null) return null;
  return {
    id: String(person.id),
    name: person.name,
    sex: person.sex,
    birthDate: person.birth_date,
    ruralHukou: person.rural === true,
    livesInHukouVillage:
      person.residence_region_code === null || person.residence_region_code === person.hukou_region_code,
    facts,
  };
}

type Snapshots = (id: number) => RelativeSnapshot | null;

/** Whether the rules can judge the person: a birth date on record. */
const judged = (person: RelativeSnapshot | null): person is PersonSnapshot =>
  person !== null && person.birthDate !== null;

/** Each person's snapshot, made once (a parent of many children is one object). */
function snapshotsOf(
  persons: ReadonlyMap<number, repo.PersonRecord>,
  facts: readonly repo.FactRecord[],
): Snapshots {
  const factsOf = new Map<number, Fact[]>();
  for (const row of facts) {
    const list = factsOf.get(row.person_id);
    if (list) list.push(toFact(row));
    else factsOf.set(row.person_id, [toFact(row)]);
  }
  const snapshots = new Map<number, RelativeSnapshot | null>();
  return (id: number): RelativeSnapshot | null => {
    if (snapshots.has(id)) return snapshots.get(id) ?? null;
    const person = persons.get(id);
    const value = person ? snapshot(person, factsOf.get(id) ?? []) : null;
    snapshots.set(id, value);
    return value;
  };
}

/**
 * The subjects of a batch, keyed by person id. Parents: this person's parent links (a missing subtype
 * is biological), a biological one with the child's adopters the parent is married to (spouseIds).
 * Spouse: a spouse link either way round; of several, a living spouse before one who died, the one who
 * died last before the others, then the lowest id (bySpouseOrder).
 * Children: persons linking to this one as adoptive parent, or as biological parent when the child has
 * no adoptive parent or this parent is married to one (adoption ends the legal relation with the other
 * birth parent only); step-children are not counted. Relatives count without sex or birth date on
 * record; a person without a birth date, or merged into another, has no subject and belongs to no group.
 */
export function buildSubjects(
  batchIds: readonly number[],
  persons: ReadonlyMap<number, repo.PersonRecord>,
  relations: readonly repo.RelationRecord[],
  facts: readonly repo.FactRecord[],
): Map<number, GroupSubject> {
  return subjectsFrom(snapshotsOf(persons, facts), batchIds, relations);
}

const LINK_CODES: Record<string, number> = { biological: 1, adoptive: 2, step: 3 };
const linkCode = (link: repo.RelationRecord) =>
  link.kind === 'spouse' ? 0 : link.subtype === null ? 4 : (LINK_CODES[link.subtype] ?? 5);

function subjectsFrom(
  snap: Snapshots,
  batchIds: readonly number[],
  relations: readonly repo.RelationRecord[],
): Map<number, GroupSubject> {
  const parentsOf = new Map<number, ParentSnapshot[]>();
  const childrenOf = new Map<number, { id: number; person: RelativeSnapshot }[]>();
  const spousesOf = new Map<number, number[]>();
  const push = <T>(map: Map<number, T[]>, key: number, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  // The same link recorded twice (or read from both ends) counts once: per person, the links seen so far
  // as (related person, kind and subtype) numbers; a person has a handful.
  const seen = new Map<number, number[]>();
  for (const link of relations) {
    const key = link.related_person_id * 8 + linkCode(link);
    const mine = seen.get(link.person_id);
    if (mine?.includes(key)) continue;
    if (mine) mine.push(key);
    else seen.set(link.person_id, [key]);
    if (link.kind === 'spouse') {
      push(spousesOf, link.person_id, link.related_person_id);
      push(spousesOf, link.related_person_id, link.person_id);
      continue;
    }
    const parentType: ParentType = link.subtype ?? 'biological';
    const marriedToAdopter = parentType === 'biological' && link.married_adopters.length > 0;
    const parent = snap(link.related_person_id);
    if (parent)
      push(
        parentsOf,
        link.person_id,
        marriedToAdopter
          ? { ...parent, parentType, spouseIds: link.married_adopters.map(String) }
          : { ...parent, parentType },
      );
    const child = snap(link.person_id);
    const legal =
      parentType === 'adoptive' ||
      (parentType === 'biological' && (!link.child_has_adoptive || marriedToAdopter));
    if (child && legal) push(childrenOf, link.related_person_id, { id: link.person_id, person: child });
  }

  const subjects = new Map<number, GroupSubject>();
  for (const id of batchIds) {
    const person = snap(id);
    if (!judged(person)) continue;
    const spouseId = (spousesOf.get(id) ?? [])
      .filter((other) => snap(other) !== null)
      .sort((a, b) => bySpouseOrder(snap(a), a, snap(b), b))[0];
    const children = (childrenOf.get(id) ?? []).sort((a, b) => a.id - b.id).map((c) => c.person);
    subjects.set(id, {
      person,
      parents: (parentsOf.get(id) ?? []).sort((a, b) => Number(a.id) - Number(b.id)),
      spouse: spouseId === undefined ? null : snap(spouseId),
      children,
    });
  }
  return subjects;
}

/**
 * The day a marriage ended by the spouse's death, or by a declaration of death not revoked (Civil Code
 * art. 51): null while the spouse lives. The registry leaves a link open at a death, so a widow who
 * remarried has two open spouse links.
 */
function marriageEndedByDeath(spouse: RelativeSnapshot | null): IsoDate | null {
  let ended: IsoDate | null = null;
  for (const fact of spouse?.facts ?? [])
    if (fact.kind === 'death' || (fact.kind === 'declared_dead' && fact.to === null))
      if (ended === null || fact.from < ended) ended = fact.from;
  return ended;
}

/**
 * Of several spouse links in force, the marriage that lasts: a living spouse first, then the one who died
 * last (the marriage that ended most recently), then the lowest id.
 */
function bySpouseOrder(
  a: RelativeSnapshot | null,
  aId: number,
  b: RelativeSnapshot | null,
  bId: number,
): number {
  const aEnded = marriageEndedByDeath(a);
  const bEnded = marriageEndedByDeath(b);
  if (aEnded !== bEnded) {
    if (aEnded === null) return -1;
    if (bEnded === null) return 1;
    return aEnded > bEnded ? -1 : 1;
  }
  return aId - bId;
}

const inForce = (from: string | null, to: string | null, day: IsoDate) =>
  (from === null || from <= day) && (to === null || to > day);

/** The links in force on `day`, as loadRelations reads them (the as-of date's: the links themselves). */
function relationsOn(
  links: readonly repo.DatedRelation[],
  day: IsoDate,
  asOf: IsoDate,
): repo.RelationRecord[] {
  const out: repo.RelationRecord[] = [];
  for (const link of links)
    if (inForce(link.valid_from, link.valid_to, day))
      out.push(
        day === asOf
          ? link
          : {
              ...link,
              child_has_adoptive: link.adoptions.some((a) => inForce(a.from, a.to, day)),
              married_adopters: repo.marriedAdopters(link.adoptions, day),
            },
      );
  return out;
}

/**
 * Each batch person's subject over time. A person whose links carry no date (nearly everyone) has one
 * subject; the others get the links in force on each day asked.
 */
function subjectHistories(
  batchIds: readonly number[],
  persons: ReadonlyMap<number, repo.PersonRecord>,
  links: readonly repo.DatedRelation[],
  facts: readonly repo.FactRecord[],
  asOf: IsoDate,
): Map<number, SubjectHistory> {
  const snap = snapshotsOf(persons, facts);
  const asOfSubjects = subjectsFrom(snap, batchIds, relationsOn(links, asOf, asOf));
  // Most links carry no date: only the persons touched by a dated one (or by a child's adoption) have
  // more than one subject.
  const changesOf = new Map<number, Set<IsoDate>>();
  const change = (id: number, day: string | null) => {
    if (day === null) return;
    let days = changesOf.get(id);
    if (!days) changesOf.set(id, (days = new Set()));
    days.add(day);
  };
  for (const link of links) {
    if (link.valid_from !== null || link.valid_to !== null)
      for (const id of [link.person_id, link.related_person_id]) {
        change(id, link.valid_from);
        change(id, link.valid_to);
      }
    // A child's adoption decides whether the birth parent counts it among their children, and the birth
    // parent's marriage to the adopter whether the parent stays a legal parent (for both of them).
    for (const adoption of link.adoptions) {
      change(link.related_person_id, adoption.from);
      change(link.related_person_id, adoption.to);
      for (const [from, to] of adoption.marriages)
        for (const id of [link.person_id, link.related_person_id]) {
          change(id, from);
          change(id, to);
        }
    }
  }
  const linksOf = new Map<number, repo.DatedRelation[]>();
  if (changesOf.size > 0)
    for (const link of links)
      for (const id of [link.person_id, link.related_person_id]) {
        if (!changesOf.has(id)) continue;
        const list = linksOf.get(id);
        if (list) list.push(link);
        else linksOf.set(id, [link]);
      }
  const histories = new Map<number, SubjectHistory>();
  for (const id of batchIds) {
    const subject = asOfSubjects.get(id);
    if (!subject) continue;
    const days = changesOf.get(id);
    if (!days) {
      histories.set(id, unchanging(subject));
      continue;
    }
    const changes = [...days].sort();
    const mine = linksOf.get(id) ?? [];
    // Subjects differ only between changes: the number of changes on or before a day names its subject.
    const cache = new Map<number, GroupSubject>([[changes.filter((day) => day <= asOf).length, subject]]);
    histories.set(id, {
      changes,
      on(day) {
        let stretch = 0;
        while (stretch < changes.length && (changes[stretch] as IsoDate) <= day) stretch += 1;
        let found = cache.get(stretch);
        if (!found) {
          found = subjectsFrom(snap, [id], relationsOn(mine, day, asOf)).get(id) as GroupSubject;
          cache.set(stretch, found);
        }
        return found;
      },
    });
  }
  return histories;
}

// ---------- One batch ----------

/**
 * Whether the rules need to run at all. Below every elderly threshold, each group needs a fact about
 * the person, a parent or the spouse (a migration, a death, a disability, assistance ...): a person
 * with none of those belongs to no group, and that is most of a county. The agreement test
 * (groups.evaluate.test.ts) checks this shortcut against the rules along with everything else.
 */
function mayBelong(subject: GroupSubject, asOf: IsoDate, config: EffectiveGroupsConfig): boolean {
  const elderlyFrom = Math.min(config.elderlyMinAge, config.highAgeBandStarts[0] ?? Infinity);
  if (ageOn(subject.person.birthDate, asOf) >= elderlyFrom) return true;
  return (
    subject.person.facts.length > 0 ||
    subject.parents.some((parent) => parent.facts.length > 0) ||
    (subject.spouse !== null && subject.spouse.facts.length > 0)
  );
}

export function reasonsJson(membership: GroupMembership): GroupReasonsJson {
  return { zh: membership.reasons.map((r) => r.zh), en: membership.reasons.map((r) => r.en) };
}

function sameReasons(a: GroupReasonsJson, b: GroupReasonsJson): boolean {
  return JSON.stringify(a.zh) === JSON.stringify(b.zh) && JSON.stringify(a.en) === JSON.stringify(b.en);
}

function enteredText(name: string, code: GroupCode, since: IsoDate, reasons: GroupReasonsJson) {
  const label = GROUP_LABELS[code];
  return {
    text_zh: `新增${label.zh}: ${name}, 自 ${since}, ${reasons.zh.join(', ')}`,
    text_en: `New ${label.en}: ${name}, since ${since}; ${reasons.en.join('; ')}`,
  };
}

/** An exit's worklist text (exported for its tests: every group's label read in a sentence). */
export function leftText(
  name: string,
  code: GroupCode,
  until: IsoDate | null,
  previous: GroupReasonsJson,
  since: IsoDate,
  why: readonly Label[] = [],
) {
  const label = GROUP_LABELS[code];
  const a = indefiniteArticle(label.en);
  const because = {
    zh: why.length ? `, ${why.map((w) => w.zh).join(', ')}` : '',
    en: why.length ? `; ${why.map((w) => w.en).join('; ')}` : '',
  };
  // A closed period judged again is read without its reasons.
  const was = {
    zh: previous.zh.length ? ` (原因为: ${previous.zh.join(', ')})` : '',
    en: previous.en.length ? ` (was: ${previous.en.join('; ')})` : '',
  };
  if (until === null)
    return {
      text_zh: `更正: ${name} 不属于${label.zh}, 原记录自 ${since} 所依据的信息已更正或撤回${was.zh}`,
      text_en: `Corrected: ${name} was not ${a} ${label.en}; the records behind the period from ${since} were corrected or retracted${was.en}`,
    };
  return {
    text_zh: `不再属于${label.zh}: ${name}, 自 ${until}${because.zh}${was.zh}`,
    text_en: `No longer ${a} ${label.en}: ${name}, from ${until}${because.en}${was.en}`,
  };
}

/** "an orphan", "an elderly with special difficulties", "a rural left-behind child". */
function indefiniteArticle(noun: string): 'a' | 'an' {
  return /^[aeiou]/i.test(noun) ? 'an' : 'a';
}

/**
 * What changed on the day a membership ended, for the worklist item (changesOn): the person's facts and
 * relatives, a merge of the record into another, a change of the region's configuration.
 */
function whyEnded(target: PeriodTarget, day: IsoDate): Label[] {
  const why = target.history ? changesOn(target.history, day) : [];
  if (target.person.merged_into !== null)
    why.push({
      zh: `人员记录已合并至 #${target.person.merged_into}`,
      en: `the record was merged into #${target.person.merged_into}`,
    });
  if (target.configChanges.includes(day))
    why.push({ zh: `本地区配置自${day}起调整`, en: `the region's configuration changed from ${day}` });
  return why;
}

/** A stored period as the planning of a batch sees it. */
interface StoredPeriod {
  id: number;
  since: IsoDate;
  until: IsoDate | null;
  sub_category: string | null;
  /** Null for a closed period that ends on or before the as-of date (not read: never rewritten whole). */
  reasons: GroupReasonsJson | null;
  region_code: string | null;
}

/** What a batch writes, and what it counts. */
export interface BatchPlan {
  counts: EvaluateCounts;
  voids: number[];
  /** New dates of stored periods (cut back, or judged again), their grounds kept. */
  cuts: { id: number; since: IsoDate; until: IsoDate }[];
  updates: repo.MembershipUpdate[];
  inserts: repo.NewMembership[];
  worklist: repo.NewWorklistItem[];
  /** The batch's periods as read (repo.membershipsFingerprint). */
  fingerprint: string;
}

export const hasWrites = (plan: BatchPlan) =>
  plan.voids.length + plan.cuts.length + plan.updates.length + plan.inserts.length > 0;

/** Names each region evaluation's configuration for the planning worker. */
let evaluations = 0;

/**
 * Writes a batch's plan. Another evaluation of the same persons (a second job over the region, a
 * registry change's re-evaluation) may have written their periods since the batch read them: the plan
 * would then insert a second open period or overlap one. Writers of periods take turns from their first
 * write (the count triggers' lock): take it now, and read and plan again, here, if the periods changed.
 */
async function writeBatch(
  trx: Transaction<DB>,
  ids: readonly number[],
  /** The batch's records, asked for only to plan again. */
  batchPersons: () => readonly repo.PersonRecord[],
  planned: BatchPlan | PlannedBatch,
  asOf: IsoDate,
  configFor: ConfigFor,
  withWorklist: boolean,
  timings?: Record<string, number>,
): Promise<EvaluateCounts> {
  if (!('writes' in planned ? planned.writes : hasWrites(planned))) return planned.counts;
  await sql`SET LOCAL jit = off`.execute(trx);
  await repo.lockMembershipWrites(trx);
  let plan = planned;
  if ((await repo.membershipsFingerprint(trx, ids)) !== planned.fingerprint)
    plan = await planBatch(trx, batchPersons(), asOf, configFor, withWorklist, timings);
  await writePlan(trx, plan, timings);
  return plan.counts;
}

async function writePlan(
  trx: Transaction<DB>,
  plan: BatchPlan | PlannedBatch,
  timings?: Record<string, number>,
): Promise<void> {
  const writing = performance.now();
  await repo.voidMemberships(trx, plan.voids);
  await repo.redateMemberships(trx, plan.cuts);
  await repo.updateMemberships(trx, plan.updates);
  await repo.insertMembershipPeriods(trx, plan.inserts);
  await repo.insertWorklistItems(trx, plan.worklist);
  if (timings) timings.writes = (timings.writes ?? 0) + (performance.now() - writing);
}

/** The planning worker of this process, started on first use; it does not keep the process alive. */
class PlanningWorker {
  readonly #worker = new Worker(new URL('./groups.plan-worker.ts', import.meta.url));
  readonly #pending = new Map<number, { resolve: (p: PlannedBatch) => void; reject: (e: Error) => void }>();
  #next = 0;

  constructor(onGone: () => void) {
    this.#worker.unref();
    this.#worker.on('message', (response: PlanResponse) => {
      const waiting = this.#pending.get(response.id);
      if (!waiting) return;
      this.#settled(response.id);
      if ('error' in response) waiting.reject(new Error(`group planning failed: ${response.error}`));
      else waiting.resolve(response.planned);
    });
    const fail = (error: Error) => {
      onGone();
      for (const [id, waiting] of this.#pending) {
        this.#settled(id);
        waiting.reject(error);
      }
    };
    this.#worker.on('error', fail);
    this.#worker.on('exit', (code) =>
      fail(new Error(`the group planning worker stopped (exit code ${code})`)),
    );
  }

  plan(request: Omit<PlanRequest, 'id'>): Promise<PlannedBatch> {
    const id = ++this.#next;
    return new Promise((resolve, reject) => {
      // Held while a batch is out, so that a caller awaiting it keeps the process alive.
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve, reject });
      this.#worker.postMessage({ ...request, id } satisfies PlanRequest);
    });
  }

  #settled(id: number): void {
    this.#pending.delete(id);
    if (this.#pending.size === 0) this.#worker.unref();
  }
}

let sharedWorker: PlanningWorker | null = null;

function planningWorker(): PlanningWorker {
  sharedWorker ??= new PlanningWorker(() => {
    sharedWorker = null;
  });
  return sharedWorker;
}

async function evaluateBatch(
  trx: Transaction<DB>,
  batchPersons: readonly repo.PersonRecord[],
  asOf: IsoDate,
  configFor: ConfigFor,
  withWorklist: boolean,
  timings?: Record<string, number>,
): Promise<EvaluateCounts> {
  // The batch's queries are many small index lookups that the planner's estimates overprice; compiling
  // them (JIT) costs more than running them.
  await sql`SET LOCAL jit = off`.execute(trx);
  const plan = await planBatch(trx, batchPersons, asOf, configFor, withWorklist, timings);
  const ids = batchPersons.map((p) => p.id);
  return writeBatch(trx, ids, () => batchPersons, plan, asOf, configFor, withWorklist, timings);
}

async function planBatch(
  trx: Transaction<DB>,
  batchPersons: readonly repo.PersonRecord[],
  asOf: IsoDate,
  configFor: ConfigFor,
  withWorklist: boolean,
  timings?: Record<string, number>,
): Promise<BatchPlan> {
  const reading = performance.now();
  const ids = batchPersons.map((p) => p.id);
  // Only the facts the rules read: a person whose facts are all of other kinds (schooling) may belong to
  // no group below the elderly ages, and mayBelong passes over them.
  const context = await repo.loadBatchContext(trx, ids, asOf, RULE_FACT_KINDS);
  if (timings) timings.reads = (timings.reads ?? 0) + (performance.now() - reading);
  return planFromContext(batchPersons, context, asOf, configFor, withWorklist, today(), timings);
}

/** planBatch once the batch's context is read: pure, so the planning worker runs it too. */
export function planFromContext(
  batchPersons: readonly repo.PersonRecord[],
  context: repo.BatchContext,
  asOf: IsoDate,
  configFor: ConfigFor,
  withWorklist: boolean,
  now: IsoDate,
  timings?: Record<string, number>,
): BatchPlan {
  let mark = performance.now();
  const lap = (phase: string) => {
    if (!timings) return;
    const at = performance.now();
    timings[phase] = (timings[phase] ?? 0) + (at - mark);
    mark = at;
  };
  const ids = batchPersons.map((p) => p.id);
  const persons = new Map(batchPersons.map((p) => [p.id, p]));
  for (const relative of context.relatives) persons.set(relative.id, relative);

  const histories = subjectHistories(ids, persons, context.links, context.facts, asOf);
  lap('subjects');
  const storedOf = new Map<number, Map<string, StoredPeriod[]>>();
  const store = (personId: number, code: string, period: StoredPeriod) => {
    let byCode = storedOf.get(personId);
    if (!byCode) storedOf.set(personId, (byCode = new Map()));
    const list = byCode.get(code);
    if (list) list.push(period);
    else byCode.set(code, [period]);
  };
  for (const row of context.open) store(row.person_id, row.group_code, row);
  for (const row of context.closed) store(row.person_id, row.group_code, row);
  for (const byCode of storedOf.values())
    for (const list of byCode.values())
      if (list.length > 1) list.sort((a, b) => (a.since < b.since ? -1 : a.since > b.since ? 1 : 0));

  const plan: BatchPlan = {
    counts: { ...emptyCounts(), persons: ids.length },
    voids: [],
    cuts: [],
    updates: [],
    inserts: [],
    worklist: [],
    fingerprint: context.fingerprint,
  };
  // The stored periods the planning of the as-of date has rewritten or relied on (checkClosed leaves them).
  const touched = new Set<number>();
  for (const id of ids) {
    const person = persons.get(id);
    if (!person) continue;
    const history = histories.get(id);
    const config = configFor(person.hukou_region_code);
    const memberships =
      history && mayBelong(history.on(asOf), asOf, config) ? evaluateGroupsOver(history, asOf, config) : [];
    const stored = storedOf.get(id);
    if (!memberships.length && !stored) continue;
    const region = person.hukou_region_code;
    const target: PeriodTarget = {
      person,
      history,
      asOf,
      config,
      configChanges: configFor.changesOf(region),
      configOn: (day) => configFor.on(region, day),
      withWorklist,
      today: now,
      touched,
    };
    // A ground that quotes another group (special difficulty) names that group's start as stored.
    const found = memberships.map((membership) => startUnderEarlierConfigs(target, membership));
    for (const membership of found)
      planHeld(plan, target, quotingAsFound(membership, found), stored?.get(membership.code) ?? []);
    if (!stored) continue;
    for (const [code, periods] of stored)
      if (!memberships.some((m) => m.code === code)) planNotHeld(plan, target, code as GroupCode, periods);
    for (const [code, periods] of stored)
      for (const period of periods)
        if (period.until !== null && !touched.has(period.id))
          checkClosed(plan, target, code as GroupCode, period);
  }
  lap('rules');
  return plan;
}

interface PeriodTarget {
  person: repo.PersonRecord;
  history: SubjectHistory | undefined;
  asOf: IsoDate;
  config: EffectiveGroupsConfig;
  /** Every change of the region's configuration up to the as-of date, latest first. */
  configChanges: readonly IsoDate[];
  /** The configuration in force on a day on or before the as-of date. */
  configOn: (day: IsoDate) => EffectiveGroupsConfig;
  withWorklist: boolean;
  today: IsoDate;
  /** The stored periods the planning of the as-of date has rewritten or relied on (the batch's). */
  touched: Set<number>;
}

/**
 * A membership found with the as-of date's configuration, its days judged by the configuration in force
 * on each of them (DOMAIN.md: configuration is one row per region and period). A stretch that reaches
 * back over a change of configuration held before the change only if it held the day before it under the
 * configuration of then, and then from where that stretch began (which may reach back over an earlier
 * change); otherwise it starts on the change, and says so. A county that raises the age of the
 * left-behind child to 18 from a day after a child's 16th birthday counts the child again from that day,
 * not from the parents' departure over the months the child was 16 under the previous rule; a raise that
 * takes effect before the birthday continues the period.
 */
function startUnderEarlierConfigs(target: PeriodTarget, membership: GroupMembership): GroupMembership {
  const history = target.history;
  if (!history) return membership;
  let since = membership.since;
  for (const change of target.configChanges) {
    if (since >= change) break;
    const dayBefore = addDays(change, -1);
    const before = membershipOnPastDay(history, membership.code, dayBefore, target.configOn(dayBefore));
    if (before === null) return underConfigFrom(membership, change);
    since = before.since;
  }
  return since === membership.since ? membership : { ...membership, since };
}

/** A membership that starts on a change of configuration, its facts holding earlier: it says so. */
function underConfigFrom(membership: GroupMembership, change: IsoDate): GroupMembership {
  return {
    ...membership,
    since: change,
    reasons: [
      ...membership.reasons,
      {
        zh: `依本地区自 ${change} 起施行的配置`,
        en: `under the region's configuration in force from ${change}`,
      },
    ],
  };
}

/**
 * The grounds a stretch judged again is written with: those of its last day (membershipRuns), and the
 * change of configuration it starts on when its facts held before it, as startUnderEarlierConfigs says of
 * a membership (a stretch that held the day before the change runs on from before it: joined).
 */
function stretchGrounds(target: PeriodTarget, since: IsoDate, membership: GroupMembership): GroupMembership {
  return membership.since < since && target.configChanges.includes(since)
    ? underConfigFrom(membership, since)
    : membership;
}

/**
 * A stored period judged again as one stretch: dated as the facts now stand and with the grounds of
 * that stretch (a corrected birth date: "born 2010-03-01", not the 2011 the period was written with),
 * kept in the village it was counted in. Its own grounds when the stretch's are not known.
 */
function rejudgedRow(
  target: PeriodTarget,
  period: StoredPeriod,
  stretch: { since: IsoDate; membership: GroupMembership | null },
) {
  const row = storedRow(target, period);
  if (stretch.membership === null) return row;
  const grounds = stretchGrounds(target, stretch.since, stretch.membership);
  return { ...row, sub_category: grounds.subCategory || null, reasons: reasonsJson(grounds) };
}

const covers = (period: StoredPeriod, day: IsoDate) =>
  period.since <= day && (period.until === null || period.until > day);

function membershipRow(target: PeriodTarget, membership: GroupMembership) {
  return {
    sub_category: membership.subCategory || null,
    reasons: reasonsJson(membership),
    region_code: target.person.hukou_region_code,
  };
}

/** Adjacent stretches (one ends the day the next begins) are one period. */
function joined<M extends GroupMembership | null>(
  stretches: { since: IsoDate; until: IsoDate; membership: M }[],
) {
  const out: typeof stretches = [];
  for (const stretch of stretches) {
    const last = out[out.length - 1];
    if (last && last.until >= stretch.since)
      out[out.length - 1] = { since: last.since, until: stretch.until, membership: stretch.membership };
    else out.push(stretch);
  }
  return out;
}

/**
 * The periods before a present stretch that starts at `from`: the stored periods of the person and group
 * that it overlaps are cut back to where it starts, or removed when they start within it (a fact corrected
 * backwards in time), so that periods never overlap and no day counts a person twice.
 */
function cutBack(
  plan: BatchPlan,
  target: PeriodTarget,
  periods: readonly StoredPeriod[],
  keep: StoredPeriod | null,
  from: IsoDate,
  to: IsoDate | null,
) {
  for (const period of periods) {
    if (period === keep) continue;
    const ends = period.until ?? '9999-12-31';
    if (ends <= from || (to !== null && period.since >= to)) continue;
    target.touched.add(period.id);
    if (period.since >= from) plan.voids.push(period.id);
    else plan.cuts.push({ id: period.id, since: period.since, until: from });
  }
}

/** A group the person belongs to on the as-of date, since `membership.since`. */
function planHeld(
  plan: BatchPlan,
  target: PeriodTarget,
  membership: GroupMembership,
  periods: readonly StoredPeriod[],
): void {
  const { person, asOf, config } = target;
  const history = target.history as SubjectHistory;
  const code = membership.code;
  const row = membershipRow(target, membership);
  const current = periods.find((period) => covers(period, asOf));
  if (current) {
    target.touched.add(current.id);
    // Stored as holding on the as-of date (open, or closed by an evaluation of a later date, whose end
    // stays). A present stretch that the facts now start later than stored leaves the days before it to
    // be judged again: the stretches found there stay on record as closed periods.
    let since = membership.since;
    if (since > current.since) {
      // As when a period ends (planNotHeld): each day judged by the configuration in force on it.
      const stretches = joined([
        ...runsUnderConfigs(target, history, code, current.since, since),
        { since, until: asOf, membership: null },
      ]);
      since = stretches.pop()?.since ?? since;
      for (const stretch of stretches)
        plan.inserts.push({
          person_id: person.id,
          group_code: code,
          ...(stretch.membership
            ? membershipRow(target, stretchGrounds(target, stretch.since, stretch.membership))
            : storedRow(target, current)),
          since: stretch.since,
          until: stretch.until,
        });
    } else if (since < current.since) cutBack(plan, target, periods, current, since, current.since);
    // An evaluation of a past date leaves a closed period in the village it was counted in (a move
    // came later: only the open period follows the person).
    if (asOf < target.today && current.until !== null && current.region_code !== null)
      row.region_code = current.region_code;
    if (
      current.since !== since ||
      current.sub_category !== row.sub_category ||
      current.region_code !== row.region_code ||
      current.reasons === null ||
      !sameReasons(current.reasons, row.reasons)
    ) {
      plan.updates.push({ id: current.id, since, until: current.until, ...row });
      plan.counts.updated += 1;
    } else plan.counts.unchanged += 1;
    return;
  }

  // Not stored on the as-of date. A period that starts after it was found by an evaluation of a later
  // date: this stretch is the same one when the membership held on every day up to its start (that period
  // then starts earlier), else it ended before and is recorded closed. Otherwise the person enters; as of
  // a past date, the stretch is followed up to today, so a membership that has since ended is recorded
  // with its end, not left open for the next evaluation to close.
  const later = periods.find((period) => period.since > asOf) ?? null;
  const horizon = later?.since ?? (asOf < target.today ? addDays(target.today, 1) : null);
  const endsOn = horizon ? membershipHeldUntil(history, code, asOf, horizon, config) : null;
  const reaches = later !== null && endsOn === null;
  if (later) target.touched.add(later.id);
  cutBack(plan, target, periods, reaches ? later : null, membership.since, endsOn ?? later?.since ?? null);
  plan.counts.entered += 1;
  if (reaches) {
    // One stretch: it starts earlier, and says why as of this date (as a period covering it would).
    plan.updates.push({ ...row, id: later.id, since: membership.since, until: later.until });
    return;
  }
  plan.inserts.push({
    person_id: person.id,
    group_code: code,
    ...row,
    since: membership.since,
    until: endsOn,
  });
  if (target.withWorklist && endsOn === null)
    plan.worklist.push({
      person_id: person.id,
      region_code: row.region_code,
      kind: 'group_entered',
      group_code: code,
      on_date: membership.since,
      ...enteredText(person.name, code, membership.since, row.reasons),
    });
}

/** A stored period's own grounds (read for periods that reach past the as-of date). */
function storedRow(target: PeriodTarget, period: StoredPeriod) {
  return {
    sub_category: period.sub_category,
    reasons: period.reasons ?? { zh: [], en: [] },
    region_code: period.region_code ?? target.person.hukou_region_code,
  };
}

/**
 * A group the person does not belong to on the as-of date but whose period is still open. A period that
 * starts after the as-of date was found by a later evaluation: an evaluation of an earlier date does not
 * undo it (nor one closed by a later evaluation). The open period ends on the day after the last day it
 * still held (a death or a return recorded late ends it on its date), judged by today's configuration
 * only from the day that configuration took effect: a period that held under the previous configuration
 * ends on the change. Days on which it did not hold split it (a parent home for a season, recorded late).
 * A period whose rule held on no day since it began was made by facts since corrected away: removed.
 */
function planNotHeld(
  plan: BatchPlan,
  target: PeriodTarget,
  code: GroupCode,
  periods: readonly StoredPeriod[],
): void {
  const { person, history, asOf } = target;
  const stale = periods.find((period) => period.until === null);
  if (!stale || stale.since > asOf) return;
  let stretches: { since: IsoDate; until: IsoDate; membership: GroupMembership | null }[];
  if (!history) stretches = asOf > stale.since ? [{ since: stale.since, until: asOf, membership: null }] : [];
  else stretches = joined(runsUnderConfigs(target, history, code, stale.since, asOf));
  const first = stretches[0];
  const last = stretches[stretches.length - 1];
  if (!first || !last) plan.voids.push(stale.id);
  else {
    // The stored period is the first stretch, with that stretch's grounds: the facts as they now stand.
    // The exit item below quotes the period's reasons as they were.
    plan.updates.push({
      ...rejudgedRow(target, stale, first),
      id: stale.id,
      since: first.since,
      until: first.until,
    });
    for (const stretch of stretches.slice(1))
      plan.inserts.push({
        person_id: person.id,
        group_code: code,
        ...(stretch.membership
          ? membershipRow(target, stretchGrounds(target, stretch.since, stretch.membership))
          : storedRow(target, stale)),
        since: stretch.since,
        until: stretch.until,
      });
  }
  plan.counts.left += 1;
  if (target.withWorklist) {
    const reasons = stale.reasons ?? { zh: [], en: [] };
    const endedOn = last?.until ?? null;
    plan.worklist.push({
      person_id: person.id,
      // Raised where the person's hukou is now, as every open item is (groups.worklist-moves.ts).
      region_code: person.hukou_region_code,
      kind: 'group_left',
      group_code: code,
      on_date: endedOn ?? stale.since,
      ...leftText(
        person.name,
        code,
        endedOn,
        reasons,
        stale.since,
        endedOn === null ? [] : whyEnded(target, endedOn),
      ),
    });
  }
}

/**
 * The configurations in force over [from, to): one stretch of days per configuration, cut on each change
 * of the region's configuration (DOMAIN.md: one row per region and period). Days after the as-of date
 * are judged by the as-of date's configuration.
 */
function configStretches(target: PeriodTarget, from: IsoDate, to: IsoDate) {
  const cuts = target.configChanges.filter((day) => day > from && day < to).sort();
  const starts = [from, ...cuts];
  return starts.map((since, i) => ({
    since,
    until: starts[i + 1] ?? to,
    config: since > target.asOf ? target.config : target.configOn(since),
  }));
}

/**
 * Every stretch of [from, to) on which the membership held, each day judged by the configuration in
 * force on it. A change of configuration, a setting no rule reads included, never stands in for the
 * facts: a death recorded late ends the period on its date, before a change as after it.
 */
function runsUnderConfigs(
  target: PeriodTarget,
  history: SubjectHistory,
  code: GroupCode,
  from: IsoDate,
  to: IsoDate,
): MembershipRun[] {
  return configStretches(target, from, to).flatMap((stretch) =>
    membershipRuns(history, code, stretch.since, stretch.until, stretch.config),
  );
}

/** Whether the membership held on every day of [from, to), each day judged as runsUnderConfigs judges it. */
function heldThroughoutUnderConfigs(
  target: PeriodTarget,
  history: SubjectHistory,
  code: GroupCode,
  from: IsoDate,
  to: IsoDate,
): boolean {
  return configStretches(target, from, to).every((stretch) =>
    membershipHeldThroughout(history, code, stretch.since, stretch.until, stretch.config),
  );
}

/**
 * A closed period that the as-of date's planning left alone is checked against the facts as they now
 * stand: it must have held on every day of it. One that no longer does was made by facts since corrected
 * (a migration retracted as an error after the period had closed, a death recorded late): it is judged
 * again day by day and keeps only the stretches on which it held, or is removed when it never held. Days
 * before the last change of configuration are not judged by today's (periods that began before it stay).
 */
function checkClosed(plan: BatchPlan, target: PeriodTarget, code: GroupCode, period: StoredPeriod): void {
  const { person, history } = target;
  const until = period.until as IsoDate;
  if (!history || until <= period.since) return;
  if (heldThroughoutUnderConfigs(target, history, code, period.since, until)) return;
  const [first, ...more] = joined(runsUnderConfigs(target, history, code, period.since, until));
  plan.counts.updated += 1;
  if (!first) {
    plan.voids.push(period.id);
    if (target.withWorklist) {
      const reasons = period.reasons ?? { zh: [], en: [] };
      plan.worklist.push({
        person_id: person.id,
        region_code: person.hukou_region_code,
        kind: 'group_left',
        group_code: code,
        on_date: period.since,
        ...leftText(person.name, code, null, reasons, period.since),
      });
    }
    return;
  }
  // Judged again, the period carries the grounds of the days it keeps (a birth date corrected).
  plan.updates.push({
    ...rejudgedRow(target, period, first),
    id: period.id,
    since: first.since,
    until: first.until,
  });
  for (const stretch of more)
    plan.inserts.push({
      person_id: person.id,
      group_code: code,
      ...membershipRow(target, stretchGrounds(target, stretch.since, stretch.membership)),
      since: stretch.since,
      until: stretch.until,
    });
}
