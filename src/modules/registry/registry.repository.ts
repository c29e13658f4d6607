// Queries over the registry tables. Every query that reads persons or households for a user takes
// the actor's scope as a code range and applies it in SQL (persons.hukou_region_code), so nothing
// out of scope is ever fetched.
import {
  sql,
  type Kysely,
  type RawBuilder,
  type Selectable,
  type Transaction,
  type Insertable,
  type Updateable,
} from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type {
  HouseholdsTable,
  PersonFactsTable,
  PersonRelationsRetractedTable,
  PersonRelationsTable,
  PersonsTable,
  RelationKind,
  ParentSubtype,
} from './registry.tables.ts';

export type Db = Kysely<DB> | Transaction<DB>;
export type Scope = readonly [from: string, to: string];
export type PersonRow = Selectable<PersonsTable>;
export type HouseholdRow = Selectable<HouseholdsTable>;
export type FactRow = Selectable<PersonFactsTable>;
export type RelationRow = Selectable<PersonRelationsTable>;
export type RetractedRelationRow = Selectable<PersonRelationsRetractedTable>;

/**
 * Whether the person (an SQL expression for their id) had died by the day: a death, or a declaration of
 * death not revoked, from on or before it (not retracted). A spouse link stays open at a death, so one
 * spouse at a time means one living spouse.
 */
export function diedBy(person: RawBuilder<unknown>, on: string): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM person_facts f
    WHERE f.person_id = ${person} AND f.kind IN ('death', 'declared_dead') AND f.retracted_at IS NULL
      AND f.valid_from <= ${on}::date AND (f.valid_to IS NULL OR f.valid_to > ${on}::date))`;
}

/**
 * The person's death (or declaration of death) in force on the day and dated before it: a link or a
 * household place that would begin on `on` begins after it. The earliest such fact, or undefined.
 */
export async function deathBefore(
  db: Db,
  personId: number,
  on: string,
): Promise<{ kind: 'death' | 'declared_dead'; valid_from: string } | undefined> {
  const row = await db
    .selectFrom('person_facts')
    .select(['kind', 'valid_from'])
    .where('person_id', '=', personId)
    .where('kind', 'in', ['death', 'declared_dead'])
    .where('retracted_at', 'is', null)
    .where('valid_from', '<', on)
    .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', on)]))
    .orderBy('valid_from')
    .executeTakeFirst();
  return row
    ? { kind: row.kind as 'death' | 'declared_dead', valid_from: String(row.valid_from) }
    : undefined;
}

// ---------- persons ----------

export async function findPerson(db: Db, id: number, scope: Scope): Promise<PersonRow | undefined> {
  return db
    .selectFrom('persons')
    .selectAll()
    .where('id', '=', id)
    .where('hukou_region_code', '>=', scope[0])
    .where('hukou_region_code', '<', scope[1])
    .executeTakeFirst();
}

export async function findPersonForUpdate(
  trx: Transaction<DB>,
  id: number,
  scope: Scope,
): Promise<PersonRow | undefined> {
  return trx
    .selectFrom('persons')
    .selectAll()
    .where('id', '=', id)
    .where('hukou_region_code', '>=', scope[0])
    .where('hukou_region_code', '<', scope[1])
    .forUpdate()
    .executeTakeFirst();
}

export async function findPersonsByIdNumbers(db: Db, idNumbers: string[]): Promise<PersonRow[]> {
  if (!idNumbers.length) return [];
  return db.selectFrom('persons').selectAll().where('id_number', 'in', idNumbers).execute();
}

export async function findPersonByIdNumber(db: Db, idNumber: string): Promise<PersonRow | undefined> {
  return db.selectFrom('persons').selectAll().where('id_number', '=', idNumber).executeTakeFirst();
}

/**
 * A merged record holds no ID number: the merge moves it to the person kept (mergePerson). A number
 * written on a merged record before such writes were refused (session 19) is released here, as the
 * merge releases it (the tail kept in no_id_reason), so that the number can be registered to the person
 * it belongs to. Resolves with the records released (none in a registry written since).
 */
export async function releaseMergedIdNumber(
  db: Db,
  idNumber: string,
): Promise<{ id: number; hukou_region_code: string }[]> {
  return db
    .updateTable('persons')
    .set({
      id_number: null,
      no_id_reason: sql<string>`'merged:' || right(id_number, 6)`,
      version: sql<number>`version + 1`,
      updated_at: sql<Date>`now()`,
    })
    .where('id_number', '=', idNumber)
    .where('merged_into', 'is not', null)
    .returning(['id', 'hukou_region_code'])
    .execute();
}

export async function insertPerson(db: Db, row: Insertable<PersonsTable>): Promise<PersonRow> {
  return db.insertInto('persons').values(row).returningAll().executeTakeFirstOrThrow();
}

/** Updates when the stored version is `version`; undefined when someone else changed it first. */
export async function updatePerson(
  db: Db,
  id: number,
  version: number,
  patch: Updateable<PersonsTable>,
): Promise<PersonRow | undefined> {
  return db
    .updateTable('persons')
    .set({ ...patch, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('version', '=', version)
    .returningAll()
    .executeTakeFirst();
}

export interface PersonSummaryRow {
  id: number;
  name: string;
  id_number: string | null;
  sex: 1 | 2 | null;
  birth_date: string | null;
  phone: string | null;
  hukou_region_code: string;
  household_id: number | null;
  household_no: string | null;
  relation_to_head: string | null;
}

/** Persons with their household number, as lists show them; callers add conditions and order. */
export function selectPersonSummaries(db: Db) {
  return db
    .selectFrom('persons as p')
    .leftJoin('households as h', 'h.id', 'p.household_id')
    .select([
      'p.id',
      'p.name',
      'p.id_number',
      'p.sex',
      'p.birth_date',
      'p.phone',
      'p.hukou_region_code',
      'p.household_id',
      'h.household_no',
      'p.relation_to_head',
    ]);
}

/**
 * A household's members within the scope: a member registered in another region (the household's
 * village and a member's hukou village need not agree) is left out like any person out of scope.
 */
export async function listHouseholdMembers(
  db: Db,
  householdId: number,
  scope: Scope,
): Promise<PersonSummaryRow[]> {
  return selectPersonSummaries(db)
    .where('p.household_id', '=', householdId)
    .where('p.hukou_region_code', '>=', scope[0])
    .where('p.hukou_region_code', '<', scope[1])
    .where('p.merged_into', 'is', null)
    .orderBy('p.id')
    .execute();
}

// ---------- facts ----------

export async function listFacts(db: Db, personId: number): Promise<FactRow[]> {
  return db
    .selectFrom('person_facts')
    .selectAll()
    .where('person_id', '=', personId)
    .orderBy('valid_from', 'desc')
    .orderBy('id', 'desc')
    .execute();
}

export async function listActiveFacts(db: Db, personIds: number[]): Promise<FactRow[]> {
  if (!personIds.length) return [];
  return db
    .selectFrom('person_facts')
    .selectAll()
    .where('person_id', 'in', personIds)
    .where('retracted_at', 'is', null)
    .orderBy('id')
    .execute();
}

export async function insertFact(db: Db, row: Insertable<PersonFactsTable>): Promise<FactRow> {
  return db.insertInto('person_facts').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function retractFact(
  db: Db,
  factId: number,
  personId: number,
  by: number | null,
  reason: string | null,
): Promise<FactRow | undefined> {
  return db
    .updateTable('person_facts')
    .set({ retracted_at: sql<Date>`now()`, retracted_by: by, retraction_reason: reason })
    .where('id', '=', factId)
    .where('person_id', '=', personId)
    .where('retracted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/**
 * Sets the end of an open fact; undefined when it is no longer open (ended or retracted meanwhile).
 * `endedBy`: the later fact whose start ends it (retracting that one reopens it); null for an end
 * stated on its own (a clerk's, a file's), which no retraction undoes.
 */
export async function endFact(
  db: Db,
  factId: number,
  personId: number,
  to: string,
  endedBy: number | null = null,
): Promise<FactRow | undefined> {
  return db
    .updateTable('person_facts')
    .set({ valid_to: to, ended_by_fact_id: endedBy })
    .where('id', '=', factId)
    .where('person_id', '=', personId)
    .where('valid_to', 'is', null)
    .where('retracted_at', 'is', null)
    .returningAll()
    .executeTakeFirst();
}

/** A fact put back in force by a retraction: its end before and after. */
export interface ReopenedFact {
  factId: number;
  from: string;
  previousTo: string;
  to: string | null;
}

/**
 * After `retracted` was retracted: the facts it ended (not retracted) are in force again until the
 * start of the next fact of the person and kind that is not retracted (now ended by that one), or
 * open when there is none. An end the retracted fact had of its own (stated: a clerk's
 * `…/facts/{id}/end`, a `to` given with it, a file's close; not one set by a later fact's start) is
 * the only statement on record of when that kind of fact stopped (the mother came back on
 * 2026-10-01), so a reopened fact ends there instead, as an end stated on its own (no
 * ended_by_fact_id, never reopened by a later retraction), when it comes before the next fact's
 * start. One statement; the person's row lock is held by the caller.
 */
export async function reopenFactsEndedBy(
  db: Db,
  retracted: Pick<FactRow, 'id' | 'person_id' | 'kind' | 'valid_to' | 'ended_by_fact_id'>,
): Promise<ReopenedFact[]> {
  const stated = retracted.ended_by_fact_id === null ? retracted.valid_to : null;
  const r = await sql<{ id: number; from: string; previous_to: string; to: string | null }>`
    UPDATE person_facts f SET
      valid_to = CASE WHEN ${stated}::date < nx.valid_from OR (${stated}::date IS NOT NULL AND nx.id IS NULL)
        THEN ${stated}::date ELSE nx.valid_from END,
      ended_by_fact_id = CASE WHEN ${stated}::date < nx.valid_from OR (${stated}::date IS NOT NULL AND nx.id IS NULL)
        THEN NULL ELSE nx.id END
    FROM person_facts o
      LEFT JOIN LATERAL (
        SELECT n.id, n.valid_from FROM person_facts n
        WHERE n.person_id = o.person_id AND n.kind = o.kind AND n.retracted_at IS NULL
          AND n.valid_from > o.valid_from
        ORDER BY n.valid_from, n.id LIMIT 1
      ) nx ON true
    WHERE f.id = o.id AND o.person_id = ${retracted.person_id}::bigint AND o.kind = ${retracted.kind}
      AND o.ended_by_fact_id = ${retracted.id}::bigint AND o.retracted_at IS NULL
    RETURNING f.id, f.valid_from::text AS from, o.valid_to::text AS previous_to, f.valid_to::text AS to`.execute(
    db,
  );
  return r.rows
    .map((x) => ({ factId: Number(x.id), from: x.from, previousTo: x.previous_to, to: x.to }))
    .sort((a, b) => a.factId - b.factId);
}

/** A merge's twin retracted: what it ended is now ended by the copy kept (`sameAs`). */
export async function moveEndedBy(db: Db, personId: number, factId: number, sameAs: number): Promise<void> {
  await db
    .updateTable('person_facts')
    .set({ ended_by_fact_id: sameAs })
    .where('person_id', '=', personId)
    .where('ended_by_fact_id', '=', factId)
    .where('retracted_at', 'is', null)
    .execute();
}

export async function findFact(db: Db, factId: number, personId: number): Promise<FactRow | undefined> {
  return db
    .selectFrom('person_facts')
    .selectAll()
    .where('id', '=', factId)
    .where('person_id', '=', personId)
    .executeTakeFirst();
}

// ---------- relations ----------

export interface RelationWithName extends RelationRow {
  other_id: number;
  other_name: string;
}

/**
 * The links of the persons from either end, current and past, each joined with the person at its
 * other end (`o`), in link order.
 */
function linksFromEitherEnd(db: Db, personIds: readonly number[]) {
  return db
    .selectFrom('person_relations as r')
    .innerJoin('persons as o', (join) =>
      join.on((eb) =>
        eb(
          'o.id',
          '=',
          eb
            .case()
            .when('r.person_id', 'in', personIds)
            .then(eb.ref('r.related_person_id'))
            .else(eb.ref('r.person_id'))
            .end(),
        ),
      ),
    )
    .selectAll('r')
    .select(['o.id as other_id', 'o.name as other_name'])
    .where((eb) => eb.or([eb('r.person_id', 'in', personIds), eb('r.related_person_id', 'in', personIds)]))
    .orderBy('r.id');
}

/** The relations a person takes part in, from either end, current and past. */
export async function listRelations(db: Db, personId: number): Promise<RelationWithName[]> {
  return linksFromEitherEnd(db, [personId]).execute() as Promise<RelationWithName[]>;
}

/** A retracted link, with the person at its other end. */
export interface RetractedRelationWithName extends RetractedRelationRow {
  other_id: number;
  other_name: string;
}

/**
 * The links of a person that were retracted (either end), oldest link first, with those of the
 * records merged into the person (at any depth). A merge moves the duplicate's retracted links to
 * the person kept since session 22; those of earlier merges are still on the duplicate, and are the
 * kept person's history all the same. Such a link is returned as the person's (`person_id` or
 * `related_person_id` the person's id, so the file reads its role from the person's side); a link
 * between the person and a record merged into them keeps its ends, the record as the other end.
 */
export async function listRetractedRelations(db: Db, personId: number): Promise<RetractedRelationWithName[]> {
  const merged = await sql<{ id: number | string }>`
    WITH RECURSIVE selves (id) AS (
      SELECT id FROM persons WHERE merged_into = ${personId}::bigint
      UNION
      SELECT p.id FROM persons p JOIN selves s ON p.merged_into = s.id
    )
    SELECT id FROM selves`.execute(db);
  const selves = [personId, ...merged.rows.map((r) => Number(r.id))];
  const rows = await db
    .selectFrom('person_relations_retracted as r')
    .innerJoin('persons as o', (join) =>
      join.on((eb) =>
        eb(
          'o.id',
          '=',
          eb
            .case()
            .when('r.person_id', '=', personId)
            .then(eb.ref('r.related_person_id'))
            .when('r.related_person_id', '=', personId)
            .then(eb.ref('r.person_id'))
            .when('r.person_id', 'in', selves)
            .then(eb.ref('r.related_person_id'))
            .else(eb.ref('r.person_id'))
            .end(),
        ),
      ),
    )
    .selectAll('r')
    .select(['o.id as other_id', 'o.name as other_name'])
    .where((eb) => eb.or([eb('r.person_id', 'in', selves), eb('r.related_person_id', 'in', selves)]))
    .orderBy('r.id')
    .execute();
  return rows.map((r) => {
    if (r.person_id === personId || r.related_person_id === personId) return r;
    return selves.includes(Number(r.person_id))
      ? { ...r, person_id: personId }
      : { ...r, related_person_id: personId };
  });
}

/**
 * Retracts a link: moves it out of person_relations, with who retracted it and why, in the caller's
 * transaction (the INSERT and the DELETE commit together). The row moved, or undefined when the link
 * was gone already.
 */
export async function moveRelationToRetracted(
  trx: Transaction<DB>,
  relationId: number,
  retractedBy: number | null,
  reason: string,
): Promise<RetractedRelationRow | undefined> {
  const moved = await sql<{ id: number }>`
    INSERT INTO person_relations_retracted (id, person_id, related_person_id, kind, subtype, valid_from,
      valid_to, entrustment_form_date, carer_fitness_checked_on, carer_fit, source, recorded_by, recorded_at,
      entrustment_form_signed, guardianship_assessment, carer_relation, retracted_by, retraction_reason)
    SELECT id, person_id, related_person_id, kind, subtype, valid_from, valid_to, entrustment_form_date,
      carer_fitness_checked_on, carer_fit, source, recorded_by, recorded_at, entrustment_form_signed,
      guardianship_assessment, carer_relation, ${retractedBy}::bigint, ${reason}::text
    FROM person_relations WHERE id = ${relationId}
    RETURNING id`.execute(trx);
  if (!moved.rows.length) return undefined;
  await trx.deleteFrom('person_relations').where('id', '=', relationId).execute();
  return trx
    .selectFrom('person_relations_retracted')
    .selectAll()
    .where('id', '=', relationId)
    .executeTakeFirst();
}

/** A link with what the identity checks need of the person at its other end. */
export interface LinkWithOther extends RelationRow {
  other_id: number;
  other_name: string;
  other_sex: 1 | 2 | null;
  other_birth_date: string | null;
}

/**
 * Every link of the persons (either end, ended ones too) with the person at the other end, for the
 * checks a change of birth date or sex, or a merge, makes against them. Links to a merged record (a
 * merge's closed link of the two records to each other) are left out: the record is history.
 */
export async function listLinksWithOthers(db: Db, personIds: number[]): Promise<LinkWithOther[]> {
  if (!personIds.length) return [];
  return linksFromEitherEnd(db, personIds)
    .select(['o.sex as other_sex', 'o.birth_date as other_birth_date'])
    .where('o.merged_into', 'is', null)
    .execute() as Promise<LinkWithOther[]>;
}

/** A child's biological parent, as the one-father-one-mother rule reads it. */
export interface BiologicalParent {
  link_id: number;
  child_id: number;
  parent_id: number;
  parent_name: string;
  parent_sex: 1 | 2 | null;
}

/**
 * The biological parents of the children (ended links too: a biological link does not end, and the
 * only ended ones are a merge's closed copies of a link kept), merged records left out.
 */
export async function listBiologicalParents(db: Db, childIds: number[]): Promise<BiologicalParent[]> {
  if (!childIds.length) return [];
  return db
    .selectFrom('person_relations as r')
    .innerJoin('persons as p', 'p.id', 'r.related_person_id')
    .select([
      'r.id as link_id',
      'r.person_id as child_id',
      'p.id as parent_id',
      'p.name as parent_name',
      'p.sex as parent_sex',
    ])
    .where('r.person_id', 'in', childIds)
    .where('r.kind', '=', 'parent')
    .where('r.subtype', '=', 'biological')
    .where('p.merged_into', 'is', null)
    .orderBy('r.id')
    .execute();
}

export async function listRelationsAmong(db: Db, personIds: number[]): Promise<RelationRow[]> {
  if (!personIds.length) return [];
  return db
    .selectFrom('person_relations')
    .selectAll()
    .where((eb) => eb.or([eb('person_id', 'in', personIds), eb('related_person_id', 'in', personIds)]))
    .where('valid_to', 'is', null)
    .orderBy('id')
    .execute();
}

export interface RelationInput {
  person_id: number;
  related_person_id: number;
  kind: RelationKind;
  subtype?: ParentSubtype | null;
  valid_from?: string | null;
  entrustment_form_date?: string | null;
  carer_fitness_checked_on?: string | null;
  carer_fit?: boolean | null;
  source?: string;
  recorded_by?: number | null;
}

/** Adds a current relation unless the same one is already current; true when it was added. */
export async function ensureRelation(db: Db, input: RelationInput): Promise<boolean> {
  const row = { ...input };
  if (row.kind === 'spouse' && row.person_id > row.related_person_id)
    [row.person_id, row.related_person_id] = [row.related_person_id, row.person_id];
  const result = await sql<{ id: number }>`
    INSERT INTO person_relations (person_id, related_person_id, kind, subtype, valid_from,
      entrustment_form_date, carer_fitness_checked_on, carer_fit, source, recorded_by)
    VALUES (${row.person_id}, ${row.related_person_id}, ${row.kind}, ${row.subtype ?? null}, ${row.valid_from ?? null},
      ${row.entrustment_form_date ?? null}, ${row.carer_fitness_checked_on ?? null}, ${row.carer_fit ?? null},
      ${row.source ?? 'manual'}, ${row.recorded_by ?? null})
    ON CONFLICT (person_id, related_person_id, kind) WHERE valid_to IS NULL DO NOTHING
    RETURNING id`.execute(db);
  return result.rows.length > 0;
}

// ---------- households ----------

export async function findHousehold(db: Db, id: number, scope: Scope): Promise<HouseholdRow | undefined> {
  return db
    .selectFrom('households')
    .selectAll()
    .where('id', '=', id)
    .where('hukou_region_code', '>=', scope[0])
    .where('hukou_region_code', '<', scope[1])
    .executeTakeFirst();
}

export async function findHouseholdByNo(
  db: Db,
  countyCode: string,
  householdNo: string,
): Promise<HouseholdRow | undefined> {
  return db
    .selectFrom('households')
    .selectAll()
    .where('county_code', '=', countyCode)
    .where('household_no', '=', householdNo)
    .executeTakeFirst();
}

export async function insertHousehold(db: Db, row: Insertable<HouseholdsTable>): Promise<HouseholdRow> {
  return db.insertInto('households').values(row).returningAll().executeTakeFirstOrThrow();
}

export async function updateHousehold(
  db: Db,
  id: number,
  version: number,
  patch: Updateable<HouseholdsTable>,
): Promise<HouseholdRow | undefined> {
  return db
    .updateTable('households')
    .set({ ...patch, version: sql<number>`version + 1`, updated_at: sql<Date>`now()` })
    .where('id', '=', id)
    .where('version', '=', version)
    .returningAll()
    .executeTakeFirst();
}

export async function countRegistry(
  db: Db,
): Promise<{ persons: number; households: number; facts: number; relations: number }> {
  const r = await sql<{ persons: number; households: number; facts: number; relations: number }>`
    SELECT (SELECT count(*) FROM persons)::int AS persons, (SELECT count(*) FROM households)::int AS households,
      (SELECT count(*) FROM person_facts)::int AS facts, (SELECT count(*) FROM person_relations)::int AS relations`.execute(
    db,
  );
  return r.rows[0] ?? { persons: 0, households: 0, facts: 0, relations: 0 };
}
