// Evaluation at scale: every group for every person of a region subtree as of a date. Persons go in
// batches by id (keyset, never OFFSET); each batch loads the persons, their parent and spouse links
// both ways, the relatives' records and every fact in a few set-based queries, builds the
// GroupSubjects the pure rules expect, runs evaluateGroups and writes only what changed:
//   - a group the person has entered opens a period (and a worklist item),
//   - a group the person has left closes its period on the day its rule stopped holding, which a fact
//     recorded late puts before the as-of date (and a worklist item); a period that never held (its
//     facts retracted) is removed,
//   - a changed `since`, sub-category, reasons or region is updated in place,
//   - everything else is left untouched, so evaluating twice changes nothing.
// The single-person path (evaluatePerson) runs the same batch code for one person and the relatives
// whose groups depend on that person's facts.

import { performance } from 'node:perf_hooks';
import { sql, type Kysely, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { ageOn, maxDate, today, type IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import {
  evaluateGroups,
  GROUP_LABELS,
  membershipEndedOn,
  RULE_FACT_KINDS,
  type GroupCode,
  type GroupMembership,
  type GroupSubject,
} from './groups.rules.ts';
import type { ParentSnapshot, ParentType, PersonSnapshot } from './groups.rules.ts';
import { configResolver, type EffectiveGroupsConfig } from './groups.settings.ts';
import * as repo from './groups.repository.ts';
import type { GroupReasonsJson } from './groups.tables.ts';

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
}

export interface EvaluateCounts {
  persons: number;
  entered: number;
  left: number;
  updated: number;
  unchanged: number;
}

const emptyCounts = (): EvaluateCounts => ({ persons: 0, entered: 0, left: 0, updated: 0, unchanged: 0 });

function addCounts(into: EvaluateCounts, more: EvaluateCounts): void {
  into.persons += more.persons;
  into.entered += more.entered;
  into.left += more.left;
  into.updated += more.updated;
  into.unchanged += more.unchanged;
}

interface ConfigFor {
  (regionCode: string): EffectiveGroupsConfig;
  /** The last day on or before the as-of date on which the region's configuration changed. */
  changedOn(regionCode: string): IsoDate | null;
}

async function loadConfigFor(db: repo.Db, asOf: IsoDate): Promise<ConfigFor> {
  const rows = await repo.configsInForce(db, asOf);
  const changes = await repo.configChangesUpTo(db, asOf);
  const resolve = configResolver(rows.map((row) => ({ regionCode: row.region_code, config: row.config })));
  return Object.assign((regionCode: string) => resolve(regionCode), {
    changedOn: (regionCode: string) =>
      maxDate(...changes.filter((c) => regionCode.startsWith(c.region_code)).map((c) => c.changed_on)),
  });
}

/** Evaluates a region subtree in batches, each batch in its own transaction. */
export async function evaluateRegion(db: Kysely<DB>, options: EvaluateOptions): Promise<EvaluateCounts> {
  const { asOf } = options;
  const batchSize = options.batchSize ?? 2000;
  const range = repo.codeRange(options.regionCode);
  const configFor = await loadConfigFor(db, asOf);
  const total = await repo.countPersons(db, range);
  const counts = emptyCounts();
  await options.progress?.(0, total, `evaluating groups as of ${asOf}`);
  // Batches touch disjoint persons, so on a server several run at once, each in its own transaction:
  // one batch's queries overlap another's rules. On PGlite (one session) they simply take turns.
  const concurrency = Math.max(1, options.concurrency ?? 2);
  const running = new Set<Promise<void>>();
  let failure: { error: unknown } | null = null;
  let after = 0;
  for (;;) {
    if (options.signal?.aborted) break;
    const persons = await repo.nextPersons(db, range, after, batchSize);
    if (!persons.length) break;
    after = persons[persons.length - 1]?.id ?? after;
    const work: Promise<void> = db
      .transaction()
      .execute(async (trx) => {
        // A region's batches hold only derived data that the next evaluation writes again: their
        // commits need not wait for the disk (a crash loses at most the last batches, never
        // consistency). A single person's re-evaluation runs in the caller's transaction instead.
        await sql`SET LOCAL synchronous_commit = off`.execute(trx);
        return evaluateBatch(trx, persons, asOf, configFor, options.worklist ?? true, options.timings);
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
  return counts;
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
  const links = await repo.loadRelations(trx, [personId], asOf);
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
  return evaluateBatch(trx, persons, asOf, configFor, true);
}

/** The registry's change listener (registered by the composition root): re-evaluate as of today. */
export async function reevaluateAfterChange(trx: Transaction<DB>, personId: number): Promise<void> {
  await evaluatePerson(trx, personId, today());
}

// ---------- Building subjects ----------

function toFact(row: repo.FactRecord): Fact {
  return { kind: row.kind, from: row.valid_from, to: row.valid_to, data: row.data } as unknown as Fact;
}

function snapshot(person: repo.PersonRecord, facts: readonly Fact[]): PersonSnapshot | null {
  if (person.sex === null || person.birth_date === null || person.merged_into !== null) return null;
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

/**
 * The subjects of a batch, keyed by person id. Parents: this person's parent links (a missing subtype
 * is biological). Spouse: a spouse link either way round (the lowest id if the registry holds more
 * than one). Children: persons linking to this one as adoptive parent, or as biological parent when
 * the child has no adoptive parent (adoption ends the legal relation); step-children are not counted.
 * A person without sex or birth date, or merged into another, has no subject and belongs to no group.
 */
export function buildSubjects(
  batchIds: readonly number[],
  persons: ReadonlyMap<number, repo.PersonRecord>,
  relations: readonly repo.RelationRecord[],
  facts: readonly repo.FactRecord[],
): Map<number, GroupSubject> {
  const factsOf = new Map<number, Fact[]>();
  for (const row of facts) {
    const list = factsOf.get(row.person_id);
    if (list) list.push(toFact(row));
    else factsOf.set(row.person_id, [toFact(row)]);
  }
  const snapshots = new Map<number, PersonSnapshot | null>();
  const snap = (id: number): PersonSnapshot | null => {
    if (snapshots.has(id)) return snapshots.get(id) ?? null;
    const person = persons.get(id);
    const value = person ? snapshot(person, factsOf.get(id) ?? []) : null;
    snapshots.set(id, value);
    return value;
  };

  const parentsOf = new Map<number, ParentSnapshot[]>();
  const childrenOf = new Map<number, { id: number; person: PersonSnapshot }[]>();
  const spousesOf = new Map<number, number[]>();
  const push = <T>(map: Map<number, T[]>, key: number, value: T) => {
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  };
  // A link can reach the batch from both ends (both persons in the batch): count it once.
  const seen = new Set<string>();
  for (const link of relations) {
    const key = `${link.person_id}:${link.related_person_id}:${link.kind}:${link.subtype ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (link.kind === 'spouse') {
      push(spousesOf, link.person_id, link.related_person_id);
      push(spousesOf, link.related_person_id, link.person_id);
      continue;
    }
    const parentType: ParentType = link.subtype ?? 'biological';
    const parent = snap(link.related_person_id);
    if (parent) push(parentsOf, link.person_id, { ...parent, parentType });
    const child = snap(link.person_id);
    const legal = parentType === 'adoptive' || (parentType === 'biological' && !link.child_has_adoptive);
    if (child && legal) push(childrenOf, link.related_person_id, { id: link.person_id, person: child });
  }

  const subjects = new Map<number, GroupSubject>();
  for (const id of batchIds) {
    const person = snap(id);
    if (!person) continue;
    const spouseId = (spousesOf.get(id) ?? [])
      .filter((other) => snap(other) !== null)
      .sort((a, b) => a - b)[0];
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

function leftText(
  name: string,
  code: GroupCode,
  until: IsoDate | null,
  previous: GroupReasonsJson,
  since: IsoDate,
) {
  const label = GROUP_LABELS[code];
  if (until === null)
    return {
      text_zh: `更正: ${name} 不属于${label.zh}, 原记录自 ${since} 所依据的信息已更正或撤回 (原因为: ${previous.zh.join(', ')})`,
      text_en: `Corrected: ${name} was not a ${label.en}; the records behind the period from ${since} were corrected or retracted (was: ${previous.en.join('; ')})`,
    };
  return {
    text_zh: `不再属于${label.zh}: ${name}, 自 ${until} (原因为: ${previous.zh.join(', ')})`,
    text_en: `No longer a ${label.en}: ${name}, from ${until} (was: ${previous.en.join('; ')})`,
  };
}

async function evaluateBatch(
  trx: Transaction<DB>,
  batchPersons: readonly repo.PersonRecord[],
  asOf: IsoDate,
  configFor: ConfigFor,
  withWorklist: boolean,
  timings?: Record<string, number>,
): Promise<EvaluateCounts> {
  let mark = performance.now();
  const lap = (phase: string) => {
    if (!timings) return;
    const now = performance.now();
    timings[phase] = (timings[phase] ?? 0) + (now - mark);
    mark = now;
  };
  const counts = emptyCounts();
  const ids = batchPersons.map((p) => p.id);
  // The batch's queries are many small index lookups that the planner's estimates overprice; compiling
  // them (JIT) costs more than running them.
  await sql`SET LOCAL jit = off`.execute(trx);
  counts.persons = ids.length;
  // Only the facts the rules read: a person whose facts are all of other kinds (schooling) may belong to
  // no group below the elderly ages, and mayBelong passes over them.
  const { relations, relatives, facts, open, closed } = await repo.loadBatchContext(
    trx,
    ids,
    asOf,
    RULE_FACT_KINDS,
  );
  const persons = new Map(batchPersons.map((p) => [p.id, p]));
  for (const relative of relatives) persons.set(relative.id, relative);
  lap('reads');

  const subjects = buildSubjects(ids, persons, relations, facts);
  lap('subjects');
  const openOf = new Map<number, Map<string, repo.MembershipRecord>>();
  for (const row of open) {
    let byCode = openOf.get(row.person_id);
    if (!byCode) openOf.set(row.person_id, (byCode = new Map()));
    byCode.set(row.group_code, row);
  }

  const withHistory = new Set(closed.map((c) => `${c.person_id}:${c.group_code}`));
  const inserts: repo.NewMembership[] = [];
  const firstInserts: repo.NewMembership[] = [];
  const updates: repo.MembershipUpdate[] = [];
  const ends: { id: number; until: IsoDate }[] = [];
  const voids: number[] = [];
  const worklist: repo.NewWorklistItem[] = [];

  for (const id of ids) {
    const person = persons.get(id);
    if (!person) continue;
    const subject = subjects.get(id);
    const config = configFor(person.hukou_region_code);
    const memberships =
      subject && mayBelong(subject, asOf, config) ? evaluateGroups(subject, asOf, config) : [];
    const current = openOf.get(id) ?? new Map<string, repo.MembershipRecord>();
    const regionCode = person.hukou_region_code;
    for (const membership of memberships) {
      const reasons = reasonsJson(membership);
      const subCategory = membership.subCategory || null;
      const existing = current.get(membership.code);
      current.delete(membership.code);
      if (!existing) {
        (withHistory.has(`${id}:${membership.code}`) ? inserts : firstInserts).push({
          person_id: id,
          group_code: membership.code,
          sub_category: subCategory,
          since: membership.since,
          reasons,
          region_code: regionCode,
        });
        counts.entered += 1;
        if (withWorklist)
          worklist.push({
            person_id: id,
            region_code: regionCode,
            kind: 'group_entered',
            group_code: membership.code,
            on_date: membership.since,
            ...enteredText(person.name, membership.code, membership.since, reasons),
          });
      } else if (
        existing.since !== membership.since ||
        existing.sub_category !== subCategory ||
        existing.region_code !== regionCode ||
        !sameReasons(existing.reasons, reasons)
      ) {
        updates.push({
          id: existing.id,
          sub_category: subCategory,
          since: membership.since,
          reasons,
          region_code: regionCode,
        });
        counts.updated += 1;
      } else counts.unchanged += 1;
    }
    // Still open but no longer held. A period that starts after the as-of date was found by a later
    // evaluation: an evaluation of an earlier date does not undo it.
    // It ends on the day after the last day it still held (a death or a return recorded late ends it on
    // its date), judged by today's configuration only from the day that configuration took effect: a
    // period that held under the previous configuration ends on the change. A period whose rule held on
    // no day since it began was made by facts since corrected away: it is removed.
    for (const stale of current.values()) {
      if (stale.since > asOf) continue;
      const code = stale.group_code as GroupCode;
      const judgedFrom = maxDate(stale.since, configFor.changedOn(person.hukou_region_code)) ?? stale.since;
      let until: IsoDate | null = asOf;
      if (subject) {
        until = membershipEndedOn(subject, code, judgedFrom, asOf, config);
        if (until === null && judgedFrom > stale.since) until = judgedFrom;
      }
      if (until === null) voids.push(stale.id);
      else ends.push({ id: stale.id, until });
      counts.left += 1;
      if (withWorklist)
        worklist.push({
          person_id: id,
          region_code: stale.region_code,
          kind: 'group_left',
          group_code: stale.group_code,
          on_date: until ?? stale.since,
          ...leftText(person.name, code, until, stale.reasons, stale.since),
        });
    }
  }

  lap('rules');
  await repo.voidMemberships(trx, voids);
  await repo.endMemberships(trx, ends);
  await repo.updateMemberships(trx, updates);
  await repo.insertMemberships(trx, inserts);
  await repo.insertFirstMemberships(trx, firstInserts);
  await repo.insertWorklistItems(trx, worklist);
  lap('writes');
  return counts;
}
