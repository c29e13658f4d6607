// Registry rows written straight into the tables, for tests of the modules that read the registry
// (groups): no access check, no audit, no announcement to the listeners.
import { after, before, beforeEach } from 'node:test';
import { sql, type Kysely } from 'kysely';
import { openTestDatabase, type TestDatabase } from './db.ts';
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

/** A fact as the rules read it (kind, [from, to), data), recorded by nobody. */
export async function insertFactRow(
  db: Kysely<DB>,
  personId: number,
  f: { kind: string; from: string; to?: string | null; data?: Record<string, unknown> },
): Promise<void> {
  await db
    .insertInto('person_facts')
    .values({
      person_id: personId,
      kind: f.kind,
      valid_from: f.from,
      valid_to: f.to ?? null,
      data: JSON.stringify(f.data ?? {}),
      recorded_by: null,
    })
    .execute();
}

/** A person without an ID number (so without its checks), no household: the fields rules read. */
export async function insertPersonRow(
  db: Kysely<DB>,
  p: {
    name: string;
    sex: 1 | 2;
    birthDate: string;
    hukou: string;
    residence?: string | null;
    noIdReason?: string;
  },
): Promise<number> {
  const row = await db
    .insertInto('persons')
    .values({
      name: p.name,
      no_id_reason: p.noIdReason ?? '测试',
      id_number: null,
      birth_cert_no: null,
      sex: p.sex,
      birth_date: p.birthDate,
      ethnicity: null,
      phone: null,
      hukou_region_code: p.hukou,
      hukou_type: null,
      residence_region_code: p.residence ?? null,
      household_id: null,
      relation_to_head: null,
      merged_into: null,
      name_pinyin: '',
      name_initials: '',
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

/**
 * One rural village and the regions above it (河南省 开封市 兰考县 某镇 `village`), for tests that need no
 * more of the division than a place to register persons.
 */
export async function insertVillagePath(db: Kysely<DB>, village: string): Promise<void> {
  await sql`INSERT INTO regions (code, name, level, parent_code, rural) VALUES
    ('41', '河南省', 1, NULL, NULL), ('4102', '开封市', 2, '41', NULL), ('410225', '兰考县', 3, '4102', NULL),
    (${village.slice(0, 9)}, '某镇', 4, '410225', NULL), (${village}, '甲村', 5, ${village.slice(0, 9)}, true)`.execute(
    db,
  );
}

/** Every person, with their facts, links, periods and worklist items, deleted: a clean registry. */
export async function emptyRegistry(db: Kysely<DB>): Promise<void> {
  for (const table of ['worklist_items', 'group_memberships', 'person_facts', 'person_relations', 'persons'])
    await sql`DELETE FROM ${sql.table(table)}`.execute(db);
}

/**
 * A database for one describe block: opened before its tests with the village's region path, emptied
 * of registry rows before each test, closed after. `db` is the open database's.
 */
export function registryDatabaseFor(village: string): { readonly db: Kysely<DB> } {
  let database: TestDatabase | null = null;
  const open = (): TestDatabase => {
    if (!database) throw new Error('the registry database is opened before the tests');
    return database;
  };
  before(async () => {
    database = await openTestDatabase();
    await insertVillagePath(database.db, village);
  });
  after(async () => {
    await database?.close();
  });
  beforeEach(async () => {
    await emptyRegistry(open().db);
  });
  return {
    get db() {
      return open().db;
    },
  };
}
