// Policy edge cases of the group rules (session 11), judged against DOMAIN.md section 2 and MCA2019-62 /
// MCA2020-125: a loss of contact whose record was updated (the registry and the ledger import end the old
// record the day a new one begins), a police report dated before the contact was lost, a liberty
// restriction continued by a record that states no expected end, two states of one parent of which one
// ends, a state that began before the child was born, a guardianship revoked and restored, an elder's
// adopted child. Each case is checked on the pure rules and, end to end, against what the batch stores.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  emptyRegistry,
  registryDatabaseFor,
  insertFactRow,
  insertParentLink,
  insertPersonRow,
  insertRelation,
} from '../../../test/support/registry-rows.ts';
import { fact, somebody } from '../../../test/support/group-subjects.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import {
  changesOn,
  deFactoUnsupportedChild,
  evaluateGroups,
  formatReasons,
  leftBehindChild,
  leftBehindElderly,
  membershipRuns,
  type GroupMembership,
  type GroupSubject,
  type ParentSnapshot,
  type RelativeSnapshot,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;

const died = (on: IsoDate) => fact('death', on, null);
const migrated = (from: IsoDate, to: IsoDate | null = null) => fact('migration', from, to);
const lostContact = (from: IsoDate, to: IsoDate | null, policeReportDate: IsoDate) =>
  fact('lost_contact', from, to, { policeReportDate });
const restricted = (
  type: 'sentence' | 'drug_rehabilitation' | 'other',
  from: IsoDate,
  to: IsoDate | null,
  expectedEnd: IsoDate | null,
) => fact('liberty_restriction', from, to, { type, expectedEnd });

const father = (...facts: Fact[]): ParentSnapshot => ({
  ...somebody('张三', 1, '1985-02-01', facts),
  parentType: 'biological',
});
const mother = (...facts: Fact[]): ParentSnapshot => ({
  ...somebody('李梅', 2, '1987-04-01', facts),
  parentType: 'biological',
});
const childOf = (parents: ParentSnapshot[], birthDate: IsoDate = '2015-06-15'): GroupSubject => ({
  person: somebody('小明', 1, birthDate, []),
  parents,
  spouse: null,
  children: [],
});

function member(found: GroupMembership | null): GroupMembership {
  assert.ok(found, 'expected a membership');
  return found;
}
const runs = (subject: GroupSubject, code: GroupMembership['code'], from: IsoDate, to: IsoDate) =>
  membershipRuns(subject, code, from, to, config).map((run) => [run.since, run.until]);

describe('lost contact (失联): one loss of contact, however many records', () => {
  // A record updated through the registry (a new fact of the kind ends the open one on its start) or by
  // a ledger import with another report date: two records that meet. MCA2020-125 counts 6 months from the
  // police report of the loss; an update of the file does not restart it.
  const updated = () =>
    childOf([
      father(died('2020-01-01')),
      mother(
        lostContact('2025-01-01', '2025-09-01', '2025-01-10'),
        lostContact('2025-09-01', null, '2025-09-05'),
      ),
    ]);

  test('a record updated after 8 months: de facto unsupported from 6 months after the first report, without a break', () => {
    const subject = updated();
    assert.equal(deFactoUnsupportedChild(subject, '2025-07-09', config), null);
    const found = member(deFactoUnsupportedChild(subject, '2025-12-01', config));
    assert.equal(found.since, '2025-07-10');
    assert.equal(
      formatReasons(found, 'zh'),
      '未满18周岁(2015-06-15出生); 父亲张三死亡(2020-01-01); 母亲李梅失联自2025-01-01，报警日期2025-01-10(已满6个月)',
    );
    assert.equal(
      formatReasons(found, 'en'),
      'under 18 (born 2015-06-15); father 张三 died on 2020-01-01; mother 李梅 lost contact since 2025-01-01, reported to the police on 2025-01-10 (6 months or more)',
    );
    // One stretch, not one that ends when the record was updated and another 6 months later.
    assert.deepEqual(runs(subject, 'de_facto_unsupported_child', '2025-01-01', '2026-04-01'), [
      ['2025-07-10', '2026-04-01'],
    ]);
  });

  test('left behind (no duration by default): from the first report, through the update', () => {
    const subject = childOf([
      father(
        lostContact('2025-01-01', '2025-09-01', '2025-01-10'),
        lostContact('2025-09-01', null, '2025-09-05'),
      ),
      mother(migrated('2024-05-06')),
    ]);
    const found = member(leftBehindChild(subject, '2025-12-01', config));
    assert.equal(found.since, '2025-01-10');
    assert.deepEqual(runs(subject, 'left_behind_child', '2025-01-01', '2025-12-01'), [
      ['2025-01-10', '2025-12-01'],
    ]);
  });

  test('a police report dated before the contact was lost counts from the loss: 6 months of both', () => {
    // MCA2020-125: lost for 6 months or more, and reported; a report dated before the record's start proves
    // nothing about the months before it (and a stretch never reaches back over days the fact was not in force).
    const subject = childOf([
      father(died('2020-01-01')),
      mother(lostContact('2025-09-01', null, '2025-01-10')),
    ]);
    assert.equal(deFactoUnsupportedChild(subject, '2026-02-28', config), null);
    const found = member(deFactoUnsupportedChild(subject, '2026-03-01', config));
    assert.equal(found.since, '2026-03-01');
    assert.equal(
      formatReasons(found, 'zh'),
      '未满18周岁(2015-06-15出生); 父亲张三死亡(2020-01-01); 母亲李梅失联自2025-09-01，报警日期2025-01-10(自失联之日起算)(已满6个月)',
    );
    assert.match(
      formatReasons(found, 'en'),
      /mother 李梅 lost contact since 2025-09-01, reported to the police on 2025-01-10 \(counted from the loss of contact\) \(6 months or more\)$/,
    );
  });

  test('a report copied from an earlier loss that ended does not carry over the years in between', () => {
    const subject = childOf([
      father(died('2020-01-01')),
      mother(
        lostContact('2020-01-01', '2021-01-01', '2020-01-05'),
        lostContact('2024-01-01', null, '2020-01-05'),
      ),
    ]);
    assert.equal(deFactoUnsupportedChild(subject, '2024-06-30', config), null);
    assert.equal(member(deFactoUnsupportedChild(subject, '2024-07-01', config)).since, '2024-07-01');
    assert.deepEqual(runs(subject, 'de_facto_unsupported_child', '2020-01-01', '2024-08-01'), [
      ['2020-07-05', '2021-01-01'],
      ['2024-07-01', '2024-08-01'],
    ]);
  });

  test('a single record reported the day contact was lost keeps the plain reason', () => {
    const subject = childOf([
      father(died('2020-01-01')),
      mother(lostContact('2025-12-01', null, '2025-12-01')),
    ]);
    const found = member(deFactoUnsupportedChild(subject, '2026-06-01', config));
    assert.equal(found.since, '2026-06-01');
    assert.match(formatReasons(found, 'zh'), /; 母亲李梅失联，报警日期2025-12-01\(已满6个月\)$/);
  });
});

describe('liberty restriction: the expected end of the stretch', () => {
  test('a transfer recorded without the term keeps the sentence’s expected end: a member from the start, without a break', () => {
    const subject = childOf([
      father(died('2020-01-01')),
      mother(
        restricted('sentence', '2025-01-01', '2025-04-01', '2030-01-01'),
        restricted('sentence', '2025-04-01', null, null),
      ),
    ]);
    const found = member(deFactoUnsupportedChild(subject, '2025-05-01', config));
    assert.equal(found.since, '2025-01-01');
    assert.match(
      formatReasons(found, 'zh'),
      /母亲李梅服刑在押自2025-04-01\(自2025-01-01起连续限制人身自由\)\(预计2030-01-01结束\)$/,
    );
    assert.deepEqual(runs(subject, 'de_facto_unsupported_child', '2024-06-01', '2025-08-01'), [
      ['2025-01-01', '2025-08-01'],
    ]);
  });

  test('a later record that states a shorter term (a sentence reduced) decides: counted once it has lasted 6 months', () => {
    const subject = childOf([
      father(died('2020-01-01')),
      mother(
        restricted('sentence', '2025-01-01', '2025-02-01', '2030-01-01'),
        restricted('sentence', '2025-02-01', null, '2025-04-01'),
      ),
    ]);
    assert.equal(deFactoUnsupportedChild(subject, '2025-03-01', config), null);
    assert.equal(deFactoUnsupportedChild(subject, '2025-06-30', config), null);
    const found = member(deFactoUnsupportedChild(subject, '2025-07-01', config));
    assert.equal(found.since, '2025-07-01');
    assert.match(formatReasons(found, 'zh'), /\(自2025-01-01起连续限制人身自由\)\(已满6个月\)$/);
  });

  test('no expected end against a short one against a long one, on the day 6 months are reached', () => {
    const withEnd = (expectedEnd: IsoDate | null) =>
      childOf([father(died('2020-01-01')), mother(restricted('other', '2025-01-01', null, expectedEnd))]);
    assert.equal(deFactoUnsupportedChild(withEnd(null), '2025-06-30', config), null);
    // The expected end is the term's last day (session 14): to 2025-06-29 is 6 months less a day, to
    // 2025-06-30 is six months (自2025-01-01起至2025-06-30止).
    assert.equal(deFactoUnsupportedChild(withEnd('2025-06-29'), '2025-06-29', config), null);
    assert.equal(
      member(deFactoUnsupportedChild(withEnd('2025-06-30'), '2025-02-01', config)).since,
      '2025-01-01',
    );
    assert.equal(member(deFactoUnsupportedChild(withEnd(null), '2025-07-01', config)).since, '2025-07-01');
  });
});

describe('states of a parent over time', () => {
  test('two states at once and the first ends: the membership continues, the reason names the state that holds', () => {
    const subject = childOf([
      father(died('2020-01-01')),
      mother(
        fact('serious_illness', '2021-01-01', '2025-06-01'),
        restricted('sentence', '2024-01-01', null, '2030-01-01'),
      ),
    ]);
    const before = member(deFactoUnsupportedChild(subject, '2025-05-31', config));
    assert.equal(before.since, '2021-01-01');
    assert.match(formatReasons(before, 'zh'), /母亲李梅患重病自2021-01-01$/);
    const afterwards = member(deFactoUnsupportedChild(subject, '2025-06-01', config));
    assert.equal(afterwards.since, '2021-01-01');
    assert.match(formatReasons(afterwards, 'zh'), /母亲李梅服刑在押自2024-01-01\(预计2030-01-01结束\)$/);
    assert.deepEqual(changesOn(subject, '2025-06-01'), [
      { zh: '母亲李梅重病于2025-06-01结束', en: 'mother 李梅: serious illness ended on 2025-06-01' },
    ]);
  });

  test('states that began before the child was born count from the birth', () => {
    const subject = childOf(
      [father(died('2014-01-01')), mother(restricted('sentence', '2013-01-01', null, '2030-01-01'))],
      '2014-08-20',
    );
    const found = member(deFactoUnsupportedChild(subject, '2026-11-29', config));
    assert.equal(found.since, '2014-08-20');
    assert.equal(
      formatReasons(found, 'zh'),
      '未满18周岁(2014-08-20出生); 父亲张三死亡(2014-01-01); 母亲李梅服刑在押自2013-01-01(预计2030-01-01结束)',
    );
  });

  test('guardianship revoked and later restored: unable to act as guardian only between the two', () => {
    const subject = childOf([
      father(fact('guardianship_revoked', '2022-01-01', '2024-01-01')),
      mother(migrated('2021-01-01')),
    ]);
    assert.match(
      formatReasons(member(leftBehindChild(subject, '2023-06-01', config)), 'zh'),
      /母亲李梅外出务工自2021-01-01; 父亲张三被撤销监护资格自2022-01-01$/,
    );
    assert.equal(leftBehindChild(subject, '2024-01-01', config), null);
    assert.deepEqual(runs(subject, 'left_behind_child', '2020-01-01', '2025-01-01'), [
      ['2022-01-01', '2024-01-01'],
    ]);
    assert.deepEqual(changesOn(subject, '2024-01-01'), [
      {
        zh: '父亲张三被撤销监护资格于2024-01-01结束',
        en: 'father 张三: guardianship revoked ended on 2024-01-01',
      },
    ]);
  });
});

describe('elders: adopted and step-children (pure)', () => {
  const elder = (children: RelativeSnapshot[]): GroupSubject => ({
    person: somebody('孙大爷', 1, '1950-01-01', []),
    parents: [],
    spouse: null,
    children,
  });
  test('an adopted son at home is a living child: an elder whose birth daughter is away is not left behind', () => {
    const daughter = somebody('孙梅', 2, '1980-01-01', [migrated('2020-01-01')]);
    const adopted = somebody('孙强', 1, '1982-01-01', []);
    assert.equal(leftBehindElderly(elder([daughter, adopted]), '2026-11-29', config), null);
    assert.equal(member(leftBehindElderly(elder([daughter]), '2026-11-29', config)).since, '2020-07-01');
  });
});

describe('end to end: the batch stores what the rules answer', () => {
  const VILLAGE = '410225100201';
  const database = registryDatabaseFor(VILLAGE);

  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });
  const addFact = (personId: number, f: Fact) => insertFactRow(database.db, personId, f);
  const evaluate = (asOf: IsoDate) =>
    evaluateRegion(database.db, { regionCode: '410225', asOf, worklist: false });
  const periodsOf = async (personId: number) =>
    (
      await sql<{ group_code: string; since: string; until: string | null; reasons: { zh: string[] } }>`
        SELECT group_code, since::text AS since, until::text AS until, reasons FROM group_memberships
        WHERE person_id = ${personId} ORDER BY group_code, since`.execute(database.db)
    ).rows.map((r) => [r.group_code, r.since, r.until, r.reasons.zh.join('; ')]);
  const pure = (subject: GroupSubject, asOf: IsoDate) =>
    evaluateGroups(subject, asOf, config).map((m) => [m.code, m.since, null, formatReasons(m, 'zh')]);

  /** A child, a dead father and a mother with these facts, in the database and as the rules' subject. */
  async function family(motherFacts: Fact[]): Promise<{ child: number; subject: GroupSubject }> {
    const child = await person('小明', 1, '2015-06-15');
    const dad = await person('张三', 1, '1985-02-01');
    const mum = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, dad);
    await insertParentLink(database.db, child, mum);
    await addFact(dad, died('2020-01-01'));
    for (const f of motherFacts) await addFact(mum, f);
    return { child, subject: childOf([father(died('2020-01-01')), mother(...motherFacts)]) };
  }

  test('a lost-contact record updated between two daily evaluations: one open period, as the rules say', async () => {
    const first = lostContact('2025-01-01', null, '2025-01-10');
    const { child } = await family([first]);
    await evaluate('2025-08-01');
    // The record is updated (a new police file): the registry ends the old record on the new one's start.
    await sql`UPDATE person_facts SET valid_to = '2025-09-01' WHERE kind = 'lost_contact'`.execute(
      database.db,
    );
    const mum = (await sql<{ id: number }>`SELECT id FROM persons WHERE name = '李梅'`.execute(database.db))
      .rows[0]!.id;
    await addFact(mum, lostContact('2025-09-01', null, '2025-09-05'));
    await evaluate('2025-09-02');
    await evaluate('2025-12-01');
    const subject = childOf([
      father(died('2020-01-01')),
      mother(
        lostContact('2025-01-01', '2025-09-01', '2025-01-10'),
        lostContact('2025-09-01', null, '2025-09-05'),
      ),
    ]);
    assert.deepEqual(await periodsOf(child), pure(subject, '2025-12-01'));
    assert.deepEqual(await periodsOf(child), [
      [
        'de_facto_unsupported_child',
        '2025-07-10',
        null,
        '未满18周岁(2015-06-15出生); 父亲张三死亡(2020-01-01); 母亲李梅失联自2025-01-01，报警日期2025-01-10(已满6个月)',
      ],
    ]);
  });

  test('a report dated before the loss, and a transfer without a term: stored as the rules answer', async () => {
    const lost = await family([lostContact('2025-09-01', null, '2025-01-10')]);
    await evaluate('2026-03-01');
    assert.deepEqual(await periodsOf(lost.child), pure(lost.subject, '2026-03-01'));
    assert.equal((await periodsOf(lost.child))[0]?.[1], '2026-03-01');

    await emptyRegistry(database.db);
    const transfer = await family([
      restricted('sentence', '2025-01-01', '2025-04-01', '2030-01-01'),
      restricted('sentence', '2025-04-01', null, null),
    ]);
    await evaluate('2025-03-01');
    await evaluate('2025-05-01');
    assert.deepEqual(await periodsOf(transfer.child), pure(transfer.subject, '2025-05-01'));
    assert.deepEqual(
      (await periodsOf(transfer.child)).map(([code, since, until]) => [code, since, until]),
      [['de_facto_unsupported_child', '2025-01-01', null]],
    );
  });

  test('guardianship revoked, then restored: the period closes on the restoration, as the rules say', async () => {
    const child = await person('小明', 1, '2015-06-15');
    const dad = await person('张三', 1, '1985-02-01');
    const mum = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, dad);
    await insertParentLink(database.db, child, mum);
    await addFact(mum, migrated('2021-01-01'));
    await addFact(dad, fact('guardianship_revoked', '2022-01-01', null));
    await evaluate('2023-06-01');
    await sql`UPDATE person_facts SET valid_to = '2024-01-01' WHERE kind = 'guardianship_revoked'`.execute(
      database.db,
    );
    await evaluate('2024-03-01');
    const periods = await periodsOf(child);
    assert.deepEqual(
      periods.map(([code, since, until]) => [code, since, until]),
      [['left_behind_child', '2022-01-01', '2024-01-01']],
    );
    assert.deepEqual(
      pure(
        childOf([
          father(fact('guardianship_revoked', '2022-01-01', '2024-01-01')),
          mother(migrated('2021-01-01')),
        ]),
        '2024-03-01',
      ),
      [],
    );
  });

  test('an elder’s adopted son at home counts as a child; a step-son does not', async () => {
    const elderId = await person('孙大爷', 1, '1950-01-01');
    const daughter = await person('孙梅', 2, '1980-01-01');
    const adopted = await person('孙强', 1, '1982-01-01');
    await insertParentLink(database.db, daughter, elderId);
    await insertRelation(database.db, adopted, elderId, 'parent', 'adoptive');
    await addFact(daughter, migrated('2020-01-01'));
    await evaluate('2026-11-29');
    assert.deepEqual(await periodsOf(elderId), []);

    await emptyRegistry(database.db);
    const elder2 = await person('孙大爷', 1, '1950-01-01');
    const daughter2 = await person('孙梅', 2, '1980-01-01');
    const stepSon = await person('孙强', 1, '1982-01-01');
    await insertParentLink(database.db, daughter2, elder2);
    await insertRelation(database.db, stepSon, elder2, 'parent', 'step');
    await addFact(daughter2, migrated('2020-01-01'));
    await evaluate('2026-11-29');
    assert.deepEqual(
      (await periodsOf(elder2)).map(([code, since, until]) => [code, since, until]),
      [
        ['left_behind_elderly', '2020-07-01', null],
        ['special_difficulty_elderly', '2020-07-01', null],
      ],
    );
  });
});
