// Registry rows written straight into the tables, for tests of the modules that read the registry
// (groups): no access check, no audit, no announcement to the listeners.
import type { Kysely } from 'kysely';
import type { DB } from '../../src/platform/db.schema.ts';

/** A current biological parent link from child to parent. */
export async function insertParentLink(db: Kysely<DB>, child: number, parent: number): Promise<void> {
  await db
    .insertInto('person_relations')
    .values({
      person_id: child,
      related_person_id: parent,
      kind: 'parent',
      subtype: 'biological',
      valid_from: null,
      valid_to: null,
      entrustment_form_date: null,
      carer_fitness_checked_on: null,
      carer_fit: null,
      recorded_by: null,
    })
    .execute();
}
