// Open worklist items follow the person's hukou village. An item tells the staff of a village that one
// of their persons entered or left a group; once the person's hukou moves, the new village's staff
// follow that person (the old village's no longer read the person's file), so the items not yet
// acknowledged move there, in the transaction of the change. Acknowledged items stay where they were
// read: they are the old village's history. A merge moves the duplicate's open items likewise
// (repository.moveWorklistOnMerge).
import { sql, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import { idArray } from './groups.repository.ts';

/**
 * Moves the open worklist items of these persons to their hukou village where it differs (the
 * registry's change of a person, re-evaluated in its transaction). Returns how many moved.
 */
export async function moveOpenItemsOf(trx: Transaction<DB>, personIds: readonly number[]): Promise<number> {
  if (!personIds.length) return 0;
  const result = await sql`
    UPDATE worklist_items w SET region_code = p.hukou_region_code
    FROM persons p
    WHERE w.person_id = ANY(${idArray(personIds)}) AND w.acknowledged_at IS NULL
      AND p.id = w.person_id AND p.merged_into IS NULL AND w.region_code <> p.hukou_region_code`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}

/**
 * Moves the open worklist items of the persons whose hukou is now in one of `villages` but whose items
 * were raised elsewhere (a template import that moved them; it names the villages it changed).
 */
export async function moveOpenItemsInto(trx: Transaction<DB>, villages: readonly string[]): Promise<number> {
  if (!villages.length) return 0;
  const result = await sql`
    UPDATE worklist_items w SET region_code = p.hukou_region_code
    FROM persons p
    WHERE w.acknowledged_at IS NULL AND p.id = w.person_id AND p.merged_into IS NULL
      AND w.region_code <> p.hukou_region_code
      AND p.hukou_region_code = ANY(${[...villages]}::text[])`.execute(trx);
  return Number(result.numAffectedRows ?? 0);
}
