// Stored periods around a change of a region's configuration (session 18 review), judged against
// DOMAIN.md section 2 (membership periods are kept; every rule is a pure function of facts, as-of date
// and the configuration in force) and docs/DECISIONS.md "Exits follow the facts":
// - after any save of the group settings (even one no rule reads), a death, a return or a retraction
//   recorded later but dated before the save ended the period on the save's day, not on its own: a
//   child who died in April was counted as left behind until November, and a period that never held
//   was kept with reasons naming the retracted fact;
// - a setting that is a set (the disability categories that count as severe at grade 3-4, the
//   self-care levels of the disabled elderly) took a repeated value silently.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  insertParentLink,
  insertPersonRow,
  registryDatabaseFor,
} from '../../../test/support/registry-rows.ts';
import type { IsoDate } from '../../platform/dates.ts';
import { evaluatePerson } from './groups.evaluate.ts';
import { configProblems } from './groups.settings.ts';

const VILLAGE = '410225100201';
const AS_OF = '2026-11-29';

describe('a change of configuration does not stand in for the facts', () => {
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

  /** A version of the village's settings from `validFrom`, as the settings page saves it. */
  async function configure(validFrom: IsoDate, config: Record<string, unknown>) {
    await sql`DELETE FROM group_config`.execute(db());
    await db()
      .insertInto('group_config')
      .values({
        region_code: VILLAGE,
        valid_from: validFrom,
        valid_to: null,
        config: JSON.stringify(config),
        version: 1,
        changed_by: null,
      })
      .execute();
  }

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

  async function exitTexts(personId: number) {
    const rows = await db()
      .selectFrom('worklist_items')
      .select(['text_zh'])
      .where('person_id', '=', personId)
      .where('kind', '=', 'group_left')
      .execute();
    return rows.map((r) => r.text_zh);
  }

  async function family(name: string) {
    const child = await person(name, 1, '2015-03-03');
    const father = await person(`${name}父`, 1, '1985-02-01');
    const mother = await person(`${name}母`, 2, '1987-04-01');
    await insertParentLink(db(), child, father);
    await insertParentLink(db(), child, mother);
    const away = [
      await fact(father, 'migration', '2024-01-01'),
      await fact(mother, 'migration', '2024-02-01'),
    ];
    await changed(child);
    return { child, father, mother, away };
  }

  for (const [what, config] of [
    ['a setting no rule reads (smallCellThreshold)', { smallCellThreshold: 6 }],
    [
      'a rule setting that does not touch this child (the left-behind woman age band)',
      {
        leftBehindWomanAgeRange: { minAge: 20, maxAge: 35 },
      },
    ],
  ] as const)
    test(`after ${what} from 2026-11-01, a death dated 2026-04-04 and recorded later ends the period on 2026-04-04`, async () => {
      await configure('2026-11-01', config);
      const { child } = await family('童死');
      assert.deepEqual(await periods(child), [['left_behind_child', '2024-02-01', null]]);
      await fact(child, 'death', '2026-04-04');
      await changed(child);
      assert.deepEqual(await periods(child), [['left_behind_child', '2024-02-01', '2026-04-04']]);
      const [exit] = await exitTexts(child);
      assert.match(exit ?? '', /自 2026-04-04/);
      assert.doesNotMatch(exit ?? '', /配置/, 'the death, not the settings, ended it');
    });

  test('after a save dated today, a parent home since June (recorded now) ends the period in June', async () => {
    await configure(AS_OF, { smallCellThreshold: 6 });
    const { child, father } = await family('童归');
    await db()
      .updateTable('person_facts')
      .set({ valid_to: '2026-06-15' })
      .where('person_id', '=', father)
      .execute();
    await changed(father);
    assert.deepEqual(await periods(child), [['left_behind_child', '2024-02-01', '2026-06-15']]);
  });

  test('after a save, a migration retracted as an error removes the period that never held', async () => {
    await configure('2026-11-01', { smallCellThreshold: 6 });
    const { child, mother, away } = await family('童撤');
    await db()
      .updateTable('person_facts')
      .set({ retracted_at: new Date(), retraction_reason: '录入错误' })
      .where('id', '=', away[1] as number)
      .execute();
    await changed(mother);
    assert.deepEqual(await periods(child), []);
  });

  test('a closed period from before a save that no longer holds is cut to the days it held', async () => {
    await configure('2026-11-01', { smallCellThreshold: 6 });
    const { child, father } = await family('童闭');
    await db()
      .updateTable('person_facts')
      .set({ valid_to: '2026-09-01' })
      .where('person_id', '=', father)
      .execute();
    await changed(father);
    assert.deepEqual(await periods(child), [['left_behind_child', '2024-02-01', '2026-09-01']]);
    // The father was home over the summer of 2025 too, recorded later.
    await db()
      .updateTable('person_facts')
      .set({ valid_to: '2025-06-01' })
      .where('person_id', '=', father)
      .execute();
    await fact(father, 'migration', '2025-09-01', '2026-09-01');
    await changed(father);
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2024-02-01', '2025-06-01'],
      ['left_behind_child', '2025-09-01', '2026-09-01'],
    ]);
  });

  test('a rule changed from a day still judges the days before it by the rule of then', async () => {
    // The left-behind age raised to 18 from 2026-11-01: a child who turned 16 on 2025-03-03 is out from
    // the birthday and counted again from the change (session 7), and a death recorded later ends the
    // new stretch on its date.
    await configure('2026-11-01', { leftBehindChildUnderAge: 18 });
    const child = await person('童龄', 1, '2009-03-03');
    const father = await person('童龄父', 1, '1985-02-01');
    const mother = await person('童龄母', 2, '1987-04-01');
    await insertParentLink(db(), child, father);
    await insertParentLink(db(), child, mother);
    await fact(father, 'migration', '2024-01-01');
    await fact(mother, 'migration', '2024-02-01');
    await changed(child);
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2024-02-01', '2025-03-03'],
      ['left_behind_child', '2026-11-01', null],
    ]);
    await fact(child, 'death', '2026-11-20');
    await changed(child);
    assert.deepEqual(await periods(child), [
      ['left_behind_child', '2024-02-01', '2025-03-03'],
      ['left_behind_child', '2026-11-01', '2026-11-20'],
    ]);
  });
});

describe('a setting that is a set refuses a repeated value', () => {
  test('severeDisabilityCognitiveCategories [5, 5] names the field and the category', () => {
    const [problem, ...more] = configProblems({ severeDisabilityCognitiveCategories: [5, 5] });
    assert.equal(more.length, 0);
    assert.equal(problem?.path, 'config.severeDisabilityCognitiveCategories');
    assert.match(problem?.message.zh ?? '', /残疾类别 5 重复/);
    assert.deepEqual(configProblems({ severeDisabilityCognitiveCategories: [5, 6] }), []);
  });

  test('disabledElderlySelfCareLevels with a level twice names the field and the level', () => {
    const [problem] = configProblems({ disabledElderlySelfCareLevels: ['severe', 'moderate', 'severe'] });
    assert.equal(problem?.path, 'config.disabledElderlySelfCareLevels');
    assert.match(problem?.message.en ?? '', /severe is listed twice/);
    assert.deepEqual(configProblems({ disabledElderlySelfCareLevels: ['moderate', 'severe'] }), []);
  });
});
