// What a registry template import tells other modules once its writes have committed. The import
// writes set-based (registry.import-stage.ts) and announces no person one by one (a county is a
// million announcements); instead, in the transaction of its last step, it names the area it
// changed: the hukou villages of every person it inserted or changed and of their relatives (a
// parent's migration moves the child; a child's, the elderly parent). The care groups module
// listens (registered by the composition root, so the registry does not import it) and queues an
// evaluation of those villages. A dry run, or an import that changed nothing (a re-import of the
// same file), announces nothing.
import { sql, type Transaction } from 'kysely';
import type { DB } from '../../platform/db.schema.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { ImportStage } from './registry.import-stage.ts';

export interface ImportCommitted {
  /** The import's row in `imports`; null for an import run on the console. */
  importId: number | null;
  /** The importer's region (every row lies in its subtree; relatives may lie outside). */
  importerRegionCode: string;
  userId: number | null;
  /** The import day. */
  asOf: IsoDate;
  /** The hukou villages of the persons changed and of their relatives, sorted; never empty. */
  regionCodes: string[];
}

/** Work that follows a committed import, inside the transaction of its last step. */
export type ImportCommittedListener = (trx: Transaction<DB>, event: ImportCommitted) => Promise<unknown>;
const listeners = new Set<ImportCommittedListener>();

/** Registers work to run after an import commits; registering the same function twice has no effect. */
export function onImportCommitted(listener: ImportCommittedListener): void {
  listeners.add(listener);
}

/**
 * The hukou villages of the persons this import inserted or changed (a person, household head,
 * link or fact written) and of everyone linked to them either way.
 */
export async function changedVillages(trx: Transaction<DB>, stage: ImportStage): Promise<string[]> {
  const persons = sql.table(stage.persons);
  const r = await sql<{ code: string }>`WITH changed AS (
      SELECT x.person_id FROM ${persons} x WHERE x.inserted
      UNION
      SELECT x.person_id FROM ${sql.table(stage.touched)} t JOIN ${persons} x ON x.row_number = t.row_number
    ), affected AS (
      SELECT person_id AS id FROM changed
      UNION SELECT r.related_person_id FROM person_relations r JOIN changed c ON r.person_id = c.person_id
      UNION SELECT r.person_id FROM person_relations r JOIN changed c ON r.related_person_id = c.person_id
    )
    SELECT DISTINCT p.hukou_region_code AS code FROM persons p JOIN affected a ON p.id = a.id
    ORDER BY 1`.execute(trx);
  return r.rows.map((row) => row.code);
}

/** Announces a committed import to the listeners (nothing when it changed no one). */
export async function importCommitted(
  trx: Transaction<DB>,
  stage: ImportStage,
  event: Omit<ImportCommitted, 'regionCodes'>,
): Promise<void> {
  if (!listeners.size) return;
  const regionCodes = await changedVillages(trx, stage);
  if (!regionCodes.length) return;
  for (const listener of listeners) await listener(trx, { ...event, regionCodes });
}
