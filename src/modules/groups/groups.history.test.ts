// The stored membership periods tell the history the facts tell (DOMAIN.md section 1 "Facts ... so that
// 'as of date D' questions have one answer"; section 2 "membership periods are kept (entered, left,
// reason)"). A fact recorded late moves the exit back to its date: a death ends every group on the death
// date, a parent who came home ends the left-behind period on the day of return; a fact retracted as an
// error leaves no period behind; a configuration change ends a period no earlier than the change.
import { after, before, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { openTestDatabase, type TestDatabase } from '../../../test/support/db.ts';
import {
  emptyRegistry,
  insertParentLink,
  insertPersonRow,
  insertVillagePath,
} from '../../../test/support/registry-rows.ts';
import type { IsoDate } from '../../platform/dates.ts';
import { evaluatePerson, evaluateRegion } from './groups.evaluate.ts';

const VILLAGE = '410225100200';

describe('membership periods follow the dates of the facts', () => {
  let database: TestDatabase;
  before(async () => {
    database = await openTestDatabase();
    await insertVillagePath(database.db, VILLAGE);
  });
  after(async () => {
    await database.close();
  });
  beforeEach(async () => {
    await emptyRegistry(database.db);
    await sql`DELETE FROM group_config`.execute(database.db);
  });

  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });

  async function fact(personId: number, kind: string, from: IsoDate, to: IsoDate | null = null) {
    const row = await database.db
      .insertInto('person_facts')
      .values({ person_id: personId, kind, valid_from: from, valid_to: to, data: '{}', recorded_by: null })
      .returning('id')
      .executeTakeFirstOrThrow();
    return Number(row.id);
  }

  const parentLink = (child: number, parent: number) => insertParentLink(database.db, child, parent);

  /** A child whose parents both left for work on 2025-03-01: left behind from then. */
  async function leftBehindFamily() {
    const child = await person('小明', 1, '2015-06-15');
    const father = await person('张三', 1, '1985-02-01');
    const mother = await person('李梅', 2, '1987-04-01');
    await parentLink(child, father);
    await parentLink(child, mother);
    const fatherAway = await fact(father, 'migration', '2025-03-01');
    await fact(mother, 'migration', '2025-03-01');
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-01-01' });
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', null]]);
    return { child, father, mother, fatherAway };
  }

  async function periods(personId: number) {
    const rows = await sql<{ group_code: string; since: string; until: string | null }>`
      SELECT group_code, since::text AS since, until::text AS until FROM group_memberships
      WHERE person_id = ${personId} ORDER BY group_code, since`.execute(database.db);
    return rows.rows.map((r) => [r.group_code, r.since, r.until]);
  }

  async function exits(personId: number) {
    const rows = await sql<{ on_date: string; text_zh: string }>`
      SELECT on_date::text AS on_date, text_zh FROM worklist_items
      WHERE person_id = ${personId} AND kind = 'group_left' ORDER BY id`.execute(database.db);
    return rows.rows;
  }

  test('a death recorded weeks later ends every group on the death date', async () => {
    const { child } = await leftBehindFamily();
    await fact(child, 'death', '2026-02-10');
    await database.db.transaction().execute((trx) => evaluatePerson(trx, child, '2026-03-05'));
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2026-02-10']]);
    const items = await exits(child);
    assert.equal(items.length, 1);
    assert.equal(items[0]?.on_date, '2026-02-10');
    assert.match(
      items[0]?.text_zh ?? '',
      /^不再属于农村留守儿童: 小明, 自 2026-02-10, 本人死亡\(2026-02-10\)/,
    );
  });

  test('a parent who came home before the evaluation: the period ends on the day of return', async () => {
    const { child, fatherAway } = await leftBehindFamily();
    await sql`UPDATE person_facts SET valid_to = '2026-04-01' WHERE id = ${fatherAway}`.execute(database.db);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-05-01' });
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2026-04-01']]);
  });

  test('the evaluation on the day a fact ends closes the period that day (the daily job)', async () => {
    const { child, fatherAway } = await leftBehindFamily();
    await sql`UPDATE person_facts SET valid_to = '2026-04-01' WHERE id = ${fatherAway}`.execute(database.db);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-03-31' });
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', null]]);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-04-01' });
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2026-04-01']]);
  });

  test('the next day’s evaluation with nothing changed rewrites no period (reasons carry no evaluation date)', async () => {
    const { child } = await leftBehindFamily();
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-03-31' });
    const before = await sql<{ reasons: unknown; evaluated_at: string }>`
      SELECT reasons, evaluated_at::text AS evaluated_at FROM group_memberships WHERE person_id = ${child}`.execute(
      database.db,
    );
    const next = await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-04-01' });
    assert.equal(next.updated, 0, JSON.stringify(next));
    const after = await sql<{ reasons: unknown; evaluated_at: string }>`
      SELECT reasons, evaluated_at::text AS evaluated_at FROM group_memberships WHERE person_id = ${child}`.execute(
      database.db,
    );
    assert.deepEqual(after.rows, before.rows);
  });

  test('a migration retracted as an error leaves no period: the child never was left behind', async () => {
    const { child, fatherAway } = await leftBehindFamily();
    await sql`UPDATE person_facts SET retracted_at = now() WHERE id = ${fatherAway}`.execute(database.db);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-02-01' });
    assert.deepEqual(await periods(child), []);
    const counts = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM group_memberships
      WHERE since <= '2025-12-01'::date AND (until IS NULL OR until > '2025-12-01'::date)`.execute(
      database.db,
    );
    assert.equal(counts.rows[0]?.n, 0);
    const items = await exits(child);
    assert.equal(items.length, 1);
    assert.match(items[0]?.text_zh ?? '', /更正/);
  });

  test('a narrower configuration ends a period no earlier than the day it takes effect', async () => {
    const { child } = await leftBehindFamily();
    // From 2026-03-01 the county counts a parent as migrant only after 24 months away.
    await sql`INSERT INTO group_config (region_code, valid_from, valid_to, config, version, changed_by)
      VALUES ('410225', '2026-03-01', NULL, ${JSON.stringify({ leftBehindChildMinMigrationMonths: 24 })}::jsonb, 1, NULL)`.execute(
      database.db,
    );
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-04-01' });
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2026-03-01']]);
    const items = await exits(child);
    assert.equal(items.length, 1);
    assert.match(
      items[0]?.text_zh ?? '',
      /^不再属于农村留守儿童: 小明, 自 2026-03-01, 本地区配置自2026-03-01起调整 \(原因为: /,
    );
  });

  test('the exit item says what changed that day: a 16th birthday, a parent home', async () => {
    const { child, fatherAway } = await leftBehindFamily();
    // Born 2015-06-15: 16 on 2031-06-15, the day the period ends.
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2031-07-01' });
    assert.deepEqual(await periods(child), [['left_behind_child', '2025-03-01', '2031-06-15']]);
    assert.match(
      (await exits(child))[0]?.text_zh ?? '',
      /^不再属于农村留守儿童: 小明, 自 2031-06-15, 年满16周岁\(2031-06-15\) \(原因为: /,
    );

    const second = await person('小红', 2, '2016-02-01');
    const [father, mother] = await sql<{ related_person_id: number }>`
      SELECT related_person_id FROM person_relations WHERE person_id = ${child} ORDER BY related_person_id`
      .execute(database.db)
      .then((r) => r.rows.map((row) => Number(row.related_person_id)));
    await parentLink(second, father as number);
    await parentLink(second, mother as number);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-01-01' });
    await sql`UPDATE person_facts SET valid_to = '2026-04-01' WHERE id = ${fatherAway}`.execute(database.db);
    await evaluateRegion(database.db, { regionCode: '410225', asOf: '2026-05-01' });
    const items = await exits(second);
    assert.equal(items.length, 1);
    assert.match(
      items[0]?.text_zh ?? '',
      /^不再属于农村留守儿童: 小红, 自 2026-04-01, 父亲张三外出务工于2026-04-01结束 \(原因为: /,
    );
  });
});
