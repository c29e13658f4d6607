// Registry rows written straight into the tables, for tests of the modules that read the registry
// (groups): no access check, no audit, no announcement to the listeners.
import type { Kysely } from 'kysely';
import type { DB } from '../../src/platform/db.schema.ts';
import type { ParentSubtype } from '../../src/modules/registry/registry.tables.ts';

/** A current relation without dates or carer record, from person to related. */
export async function insertRelation(
  db: Kysely<DB>,
  person: number,
  related: number,
  kind: 'parent' | 'spouse' | 'guardian' | 'carer',
  subtype: ParentSubtype | null,
): Promise<void> {
  await db
    .insertInto('person_relations')
    .values({
      person_id: person,
      related_person_id: related,
      kind,
      subtype,
      valid_from: null,
      valid_to: null,
      entrustment_form_date: null,
      carer_fitness_checked_on: null,
      carer_fit: null,
      recorded_by: null,
    })
    .execute();
}

/** A current biological parent link from child to parent. */
export function insertParentLink(db: Kysely<DB>, child: number, parent: number): Promise<void> {
  return insertRelation(db, child, parent, 'parent', 'biological');
}
