// Stored periods after a registry change (session 17 review), judged against DOMAIN.md section 1 ("as of
// date D" questions have one answer and the history is kept) and section 2 (membership periods are kept):
// - a stretch that held only in the past (both parents away [2025-01-01, 2026-06-01), recorded today with
//   both dates) was never stored, so the file and the statistics of 2025 left the child out, while the
//   same facts recorded open and then ended gave the period: the history depended on the order of entry;
// - an earlier spell recorded later (before an open period, or adjoining a closed one) was not stored;
// - a former spouse was not re-evaluated when the other's facts changed: a migration retracted after the
//   divorce left her left-behind-woman period, with reasons naming the retracted fact;
// - an evaluation of a past date moved a closed period to the village the person lives in now (only the
//   open period follows a move).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  insertParentLink,
  insertPersonRow,
  registryDatabaseFor,
} from '../../../test/support/registry-rows.ts';
import { today, type IsoDate } from '../../platform/dates.ts';
import { evaluatePerson } from './groups.evaluate.ts';

const VILLAGE = '410225100201';
const AS_OF = '2026-11-29';

describe('a registry change stores the stretches it reveals in the past', () => {
  const database = registryDatabaseFor(VILLAGE);
  const db = () => database.db;

  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(db(), { name, sex, birthDate, hukou: VILLAGE });

  async function fact(personId: number, kind: string, from: IsoDate, to: IsoDate | null = null) {
    const row = await db()
      .insertInto('person_facts')
      .values({ person_id: personId, kind, valid_from: from, valid_to: to, data: '{}', recorded_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  /** What the registry's change listener does after a fact of `personId` is recorded. */
  const changed = (personId: number) =>
    db()
      .transaction()
      .execute((trx) => evaluatePerson(trx, personId, AS_OF));

  async function periods(personId: number) {
    const rows = await sql<{ group_code: string; since: string; until: string | null }>`
      SELECT group_code, since::text AS since, until::text AS until FROM group_memberships
      WHERE person_id = ${personId} ORDER BY group_code, since`.execute(db());
    return rows.rows.map((r) => [r.group_code, r.since, r.until]);
  }

  async function worklistKinds(personId: number) {
    const rows = await db()
      .selectFrom('worklist_items')
      .select(['kind', 'group_code'])
      .where('person_id', '=', personId)
      .orderBy('id')
      .execute();
    return rows.map((r) => [r.kind, r.group_code]);
  }

  async function family() {
    const child = await person('小明', 1, '2015-03-03');
    const father = await person('张三', 1, '1985-02-01');
    const mother = await person('李梅', 2, '1987-04-01');
    await insertParentLink(db(), child, father);
    await insertParentLink(db(), child, mother);
    return { child, father, mother };
  }

  test('both parents away [2025-01-01, 2026-06-01), recorded with both dates: the closed period is stored, no worklist item', async () => {
    const { child, father, mother } = await family();
    await fact(father, 'migration', '2025-01-01', '2026-06-01');
    await changed(father);
    assert.deepEqual(await periods(child), [], 'one parent away is not enough');
    await fact(mother, 'migration', '2025-01-01', '2026-06-01');
    await changed(mother);
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-01-01', '2026-06-01']]);
    assert.deepEqual(await worklistKinds(child), [], 'nothing is left to act on');
    // Evaluating again changes nothing.
    await changed(child);
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-01-01', '2026-06-01']]);
  });

  test('the same facts recorded open and then ended give the same history', async () => {
    const { child, father, mother } = await family();
    const away = [
      await fact(father, 'migration', '2025-01-01'),
      await fact(mother, 'migration', '2025-01-01'),
    ];
    await changed(mother);
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-01-01', null]]);
    await db().updateTable('person_facts').set({ valid_to: '2026-06-01' }).where('id', 'in', away).execute();
    await changed(father);
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-01-01', '2026-06-01']]);
  });

  test('an earlier spell recorded later, before an open period: stored closed beside it', async () => {
    const { child, father, mother } = await family();
    await fact(father, 'migration', '2026-01-01');
    await fact(mother, 'migration', '2026-01-01');
    await changed(mother);
    assert.deepEqual(await periods(child), [['left_behind_child', '2026-01-01', null]]);
    await fact(father, 'migration', '2024-01-01', '2025-01-01');
    await fact(mother, 'migration', '2024-01-01', '2025-01-01');
    await changed(father);
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2024-01-01', '2025-01-01'],
      ['left_behind_child', '2026-01-01', null],
    ]);
    assert.deepEqual(
      await worklistKinds(child),
      [['group_entered', 'left_behind_child']],
      'only the present entry is on the list',
    );
  });

  test('an earlier spell adjoining a closed period: one stretch from the earlier start', async () => {
    const { child, father, mother } = await family();
    await fact(father, 'migration', '2025-01-01', '2026-06-01');
    await fact(mother, 'migration', '2025-01-01', '2026-06-01');
    await changed(mother);
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-01-01', '2026-06-01']]);
    await fact(father, 'migration', '2024-01-01', '2025-01-01');
    await fact(mother, 'migration', '2024-01-01', '2025-01-01');
    await changed(mother);
    const stored = await periods(child);
    const covering = (day: IsoDate) =>
      stored.filter(
        ([, since, until]) => (since as string) <= day && (until === null || (until as string) > day),
      );
    for (const day of ['2024-01-01', '2024-06-01', '2024-12-31', '2025-01-01', '2026-05-31'])
      assert.equal(covering(day).length, 1, `${day}: ${JSON.stringify(stored)}`);
    assert.equal(covering('2023-12-31').length, 0);
    assert.equal(covering('2026-06-01').length, 0);
  });

  test('a child who turned 16 before the facts were recorded: the stretch up to the birthday is stored', async () => {
    const child = await person('小红', 2, '2009-05-10');
    const father = await person('王五', 1, '1980-01-01');
    const mother = await person('赵六', 2, '1982-01-01');
    await insertParentLink(db(), child, father);
    await insertParentLink(db(), child, mother);
    await fact(father, 'migration', '2023-03-01');
    await fact(mother, 'death', '2020-01-01');
    await changed(father);
    assert.deepEqual(await periods(child), [['left_behind_child', '2023-03-01', '2025-05-10']]);
  });
});

describe('a former spouse is re-evaluated when the other person changes', () => {
  const database = registryDatabaseFor(VILLAGE);
  const db = () => database.db;

  test("a migration retracted after the divorce removes the ex-wife's left-behind-woman period", async () => {
    const wife = await insertPersonRow(db(), {
      name: '刘芳',
      sex: 2,
      birthDate: '1990-01-01',
      hukou: VILLAGE,
    });
    const husband = await insertPersonRow(db(), {
      name: '陈刚',
      sex: 1,
      birthDate: '1988-01-01',
      hukou: VILLAGE,
    });
    await db()
      .insertInto('person_relations')
      .values({
        person_id: wife,
        related_person_id: husband,
        kind: 'spouse',
        subtype: null,
        valid_from: '2015-01-01',
        valid_to: '2026-10-01',
      })
      .execute();
    const away = await db()
      .insertInto('person_facts')
      .values({
        person_id: husband,
        kind: 'migration',
        valid_from: '2025-01-01',
        valid_to: null,
        data: '{}',
        recorded_by: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db()
      .transaction()
      .execute((trx) => evaluatePerson(trx, husband, AS_OF));
    const periods = () =>
      db()
        .selectFrom('group_memberships')
        .select([sql<string>`since::text`.as('since'), sql<string | null>`until::text`.as('until')])
        .where('person_id', '=', wife)
        .where('group_code', '=', 'left_behind_woman')
        .execute();
    assert.deepEqual(await periods(), [{ since: '2025-07-01', until: '2026-10-01' }]);

    // Entered in error: retracted, and the husband re-evaluated (the registry's change listener).
    await db()
      .updateTable('person_facts')
      .set({ retracted_at: sql<Date>`now()` })
      .where('id', '=', away.id)
      .execute();
    await db()
      .transaction()
      .execute((trx) => evaluatePerson(trx, husband, AS_OF));
    assert.deepEqual(await periods(), [], 'no period rests on a retracted fact');
  });
});

describe('a closed period keeps the village it was counted in', () => {
  const database = registryDatabaseFor(VILLAGE);
  const db = () => database.db;
  const OTHER = '410225100202';

  async function periods(personId: number, code: string) {
    const rows = await sql<{
      since: string;
      until: string | null;
      region_code: string;
      sub_category: string | null;
    }>`
      SELECT since::text AS since, until::text AS until, region_code, sub_category FROM group_memberships
      WHERE person_id = ${personId} AND group_code = ${code} ORDER BY since`.execute(db());
    return rows.rows.map((r) => [r.since, r.until, r.region_code, r.sub_category]);
  }
  const evaluate = (personId: number, asOf: IsoDate) =>
    db()
      .transaction()
      .execute((trx) => evaluatePerson(trx, personId, asOf));

  test('a move of hukou: a closed period stays in the old village, also when a past date is evaluated', async () => {
    await sql`INSERT INTO regions (code, name, level, parent_code, rural)
      VALUES (${OTHER}, '乙村', 5, ${OTHER.slice(0, 9)}, true)`.execute(db());
    const child = await insertPersonRow(db(), {
      name: '小军',
      sex: 1,
      birthDate: '2016-04-01',
      hukou: VILLAGE,
    });
    const father = await insertPersonRow(db(), {
      name: '周父',
      sex: 1,
      birthDate: '1986-01-01',
      hukou: VILLAGE,
    });
    const mother = await insertPersonRow(db(), {
      name: '吴母',
      sex: 2,
      birthDate: '1988-01-01',
      hukou: VILLAGE,
    });
    await insertParentLink(db(), child, father);
    await insertParentLink(db(), child, mother);
    for (const parent of [father, mother]) {
      await db()
        .insertInto('person_facts')
        .values({
          person_id: parent,
          kind: 'migration',
          valid_from: '2023-01-01',
          valid_to: '2024-01-01',
          data: '{}',
          recorded_by: null,
        })
        .execute();
      await db()
        .insertInto('person_facts')
        .values({
          person_id: parent,
          kind: 'migration',
          valid_from: '2025-01-01',
          data: '{}',
          recorded_by: null,
        })
        .execute();
    }
    const now = today();
    await evaluate(child, now);
    assert.deepEqual(await periods(child, 'left_behind_child'), [
      ['2023-01-01', '2024-01-01', VILLAGE, null],
      ['2025-01-01', null, VILLAGE, null],
    ]);
    await db().updateTable('persons').set({ hukou_region_code: OTHER }).where('id', '=', child).execute();
    await evaluate(child, now);
    await evaluate(child, '2023-06-01');
    assert.deepEqual(await periods(child, 'left_behind_child'), [
      ['2023-01-01', '2024-01-01', VILLAGE, null],
      ['2025-01-01', null, OTHER, null],
    ]);
  });
});
