// Policy edge cases of the group rules (session 13), judged against DOMAIN.md section 2: the person judged
// declared missing by a court (宣告失踪). The left-behind groups require that the person "lives in the
// village"; a court declares missing one whose whereabouts have been unknown for two years (Civil Code
// art. 40), and the rules already read a declared-missing child of an elder as not at home (session 10).
// The person themself was still counted as living in the village: a child missing for years stayed on the
// director's list of left-behind children. Each case is checked on the pure rules and, end to end, against
// what the batch stores.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  insertFactRow,
  insertParentLink,
  insertPersonRow,
  insertRelation,
  registryDatabaseFor,
} from '../../../test/support/registry-rows.ts';
import { fact, somebody } from '../../../test/support/group-subjects.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import {
  changesOn,
  evaluateGroups,
  explainLeftBehindChild,
  formatReasons,
  leftBehindChild,
  leftBehindElderly,
  leftBehindWoman,
  membershipRuns,
  type GroupCode,
  type GroupSubject,
  type ParentSnapshot,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;
const VILLAGE = '410225100201';

const migrated = (from: IsoDate, to: IsoDate | null = null) => fact('migration', from, to);
const declaredMissing = (from: IsoDate, to: IsoDate | null = null) => fact('declared_missing', from, to);

const parent = (name: string, sex: 1 | 2, ...facts: Fact[]): ParentSnapshot => ({
  ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts),
  parentType: 'biological',
});
/** A child of two parents away since 2020-01-01, with the child's own facts. */
const childOfMigrants = (...own: Fact[]): GroupSubject => ({
  person: somebody('小明', 1, '2012-06-15', own),
  parents: [parent('张三', 1, migrated('2020-01-01')), parent('李梅', 2, migrated('2020-01-01'))],
  spouse: null,
  children: [],
});
/** An elder whose only son has been away since 2020-01-01. */
const elderOfMigrant = (...own: Fact[]): GroupSubject => ({
  person: somebody('孙大爷', 1, '1950-01-01', own),
  parents: [],
  spouse: null,
  children: [somebody('孙一', 1, '1980-01-01', [migrated('2020-01-01')])],
});
/** A wife whose husband has been away since 2020-01-01. */
const wifeOfMigrant = (...own: Fact[]): GroupSubject => ({
  person: somebody('王秀兰', 2, '1985-01-01', own),
  parents: [],
  spouse: somebody('张二', 1, '1983-01-01', [migrated('2020-01-01')]),
  children: [],
});

const runs = (subject: GroupSubject, code: GroupCode, from: IsoDate, to: IsoDate) =>
  membershipRuns(subject, code, from, to, config).map((run) => [run.since, run.until]);

describe('the person declared missing by a court does not live in the village', () => {
  const cases = [
    ['left-behind child', 'left_behind_child', leftBehindChild, childOfMigrants, '2020-01-01'],
    ['left-behind elder', 'left_behind_elderly', leftBehindElderly, elderOfMigrant, '2020-07-01'],
    ['left-behind woman', 'left_behind_woman', leftBehindWoman, wifeOfMigrant, '2020-07-01'],
  ] as const;
  for (const [who, code, rule, subjectWith, since] of cases) {
    test(`${who}: a member the day before the declaration, not on its day, again from its revocation`, () => {
      const declared = subjectWith(declaredMissing('2024-03-01'));
      assert.equal(rule(declared, '2024-02-29', config)?.since, since);
      assert.equal(rule(declared, '2024-03-01', config), null);
      assert.equal(rule(declared, '2026-11-29', config), null);

      // The person reappeared and the court revoked the declaration (Civil Code art. 45).
      const revoked = subjectWith(declaredMissing('2024-03-01', '2025-05-10'));
      assert.equal(rule(revoked, '2025-05-09', config), null);
      const back = rule(revoked, '2025-05-10', config);
      assert.equal(back?.since, '2025-05-10');
      assert.ok(
        back?.reasons.some((r) => r.zh === '本人失踪宣告于2025-05-10撤销'),
        formatReasons(back!, 'zh'),
      );
      assert.ok(back?.reasons.some((r) => r.en === 'own declaration of missing revoked on 2025-05-10'));
      assert.deepEqual(runs(revoked, code, '2019-01-01', '2026-11-29'), [
        [since, '2024-03-01'],
        ['2025-05-10', '2026-11-29'],
      ]);
      // The exit item names the declaration on its day.
      assert.ok(
        changesOn(declared, '2024-03-01').some((c) => c.zh.startsWith('本人宣告失踪(2024-03-01)')),
        JSON.stringify(changesOn(declared, '2024-03-01')),
      );
    });
  }

  test('a declaration dated after the as-of date (a past date judged) does not count yet', () => {
    const later = childOfMigrants(declaredMissing('2024-03-01'));
    assert.equal(leftBehindChild(later, '2023-12-31', config)?.since, '2020-01-01');
  });

  test('the ledger answers say why the child is not left behind', () => {
    const answers = explainLeftBehindChild(
      childOfMigrants(declaredMissing('2024-03-01')),
      '2025-01-01',
      config,
    );
    assert.equal(answers.leftBehindChild.holds, false);
    assert.deepEqual(answers.leftBehindChild.reasons, [
      { zh: '本人被宣告失踪', en: 'the child is declared missing by a court' },
    ]);
    // Both parents are still away: the ledger's other answers are about the parents.
    assert.equal(answers.bothParentsMigrant.holds, true);
  });

  test('groups without a residence clause keep the person (alive in law): orphan, distressed, high age, disabled', () => {
    const orphan: GroupSubject = {
      person: somebody('小红', 2, '2012-06-15', [
        declaredMissing('2024-03-01'),
        fact('disability', '2018-01-01', null, { category: 4, grade: 3 }),
      ]),
      parents: [
        parent('张三', 1, fact('death', '2019-01-01')),
        parent('李梅', 2, fact('death', '2020-01-01')),
      ],
      spouse: null,
      children: [],
    };
    assert.deepEqual(
      evaluateGroups(orphan, '2025-01-01', config).map((m) => m.code),
      ['orphan', 'distressed_child'],
    );
    const elder: GroupSubject = {
      person: somebody('孙奶奶', 2, '1940-01-01', [
        declaredMissing('2024-03-01'),
        fact('self_care', '2020-01-01', null, { level: 'severe' }),
      ]),
      parents: [],
      spouse: null,
      children: [somebody('孙一', 1, '1965-01-01', [migrated('2020-01-01')])],
    };
    assert.deepEqual(
      evaluateGroups(elder, '2025-01-01', config).map((m) => [m.code, m.subCategory ?? null]),
      [
        ['high_age_elderly', '80-89'],
        ['disabled_elderly', null],
        ['special_difficulty_elderly', 'disabled'],
      ],
    );
  });
});

describe('end to end: the batch stores what the rules answer', () => {
  const database = registryDatabaseFor(VILLAGE);
  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });
  const evaluate = (asOf: IsoDate, worklist = false) =>
    evaluateRegion(database.db, { regionCode: '410225', asOf, worklist });
  const periodsOf = async (personId: number) =>
    (
      await sql<{ group_code: string; since: string; until: string | null; reasons: { zh: string[] } }>`
        SELECT group_code, since::text AS since, until::text AS until, reasons FROM group_memberships
        WHERE person_id = ${personId} ORDER BY group_code, since`.execute(database.db)
    ).rows.map((r) => [r.group_code, r.since, r.until, r.reasons.zh.join('; ')]);
  const pureRuns = (subject: GroupSubject, code: GroupCode, to: IsoDate) =>
    membershipRuns(subject, code, '2019-01-01', addOne(to), config).map((run) => [
      code,
      run.since,
      run.until === addOne(to) ? null : run.until,
      formatReasons(run.membership, 'zh'),
    ]);
  const addOne = (day: IsoDate) => {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() + 1);
    return d.toISOString().slice(0, 10);
  };

  test('a child of migrants declared missing: the period ends on the declaration, the exit names it, a revocation opens a new one', async () => {
    const child = await person('小明', 1, '2012-06-15');
    const dad = await person('张三', 1, '1985-02-01');
    const mum = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, child, dad);
    await insertParentLink(database.db, child, mum);
    await insertFactRow(database.db, dad, { kind: 'migration', from: '2020-01-01' });
    await insertFactRow(database.db, mum, { kind: 'migration', from: '2020-01-01' });
    await evaluate('2024-02-29', true);
    // The court's declaration is recorded some weeks later: the period ends on its date.
    await insertFactRow(database.db, child, { kind: 'declared_missing', from: '2024-03-01' });
    await evaluate('2024-04-15', true);
    const declared = childOfMigrants(declaredMissing('2024-03-01'));
    assert.deepEqual(await periodsOf(child), [
      [
        'left_behind_child',
        '2020-01-01',
        '2024-03-01',
        '未满16周岁(2012-06-15出生); 父亲张三外出务工自2020-01-01; 母亲李梅外出务工自2020-01-01',
      ],
    ]);
    assert.deepEqual(
      evaluateGroups(declared, '2024-04-15', config).map((m) => m.code),
      [],
    );
    const exit = (
      await sql<{ text_zh: string }>`SELECT text_zh FROM worklist_items WHERE person_id = ${child}
        ORDER BY id`.execute(database.db)
    ).rows.map((r) => r.text_zh);
    assert.equal(exit.length, 2);
    assert.match(exit[1]!, /^不再属于农村留守儿童: 小明, 自 2024-03-01, 本人宣告失踪\(2024-03-01\)/);

    // The child reappears and the declaration is revoked.
    await sql`UPDATE person_facts SET valid_to = '2025-05-10' WHERE kind = 'declared_missing'`.execute(
      database.db,
    );
    await evaluate('2025-06-01');
    const revoked = childOfMigrants(declaredMissing('2024-03-01', '2025-05-10'));
    const stored = await periodsOf(child);
    assert.deepEqual(
      stored.map(([code, since, until]) => [code, since, until]),
      pureRuns(revoked, 'left_behind_child', '2025-06-01').map(([code, since, until]) => [
        code,
        since,
        until,
      ]),
    );
    assert.deepEqual(stored[1], [
      'left_behind_child',
      '2025-05-10',
      null,
      '未满16周岁(2012-06-15出生); 本人失踪宣告于2025-05-10撤销; 父亲张三外出务工自2020-01-01; 母亲李梅外出务工自2020-01-01',
    ]);
  });

  test('an elder and a wife declared missing: no left-behind period; the elder keeps the high-age group', async () => {
    const elder = await person('孙奶奶', 2, '1940-01-01');
    const son = await person('孙一', 1, '1965-01-01');
    await insertParentLink(database.db, son, elder);
    await insertFactRow(database.db, son, { kind: 'migration', from: '2020-01-01' });
    const wife = await person('王秀兰', 2, '1985-01-01');
    const husband = await person('张二', 1, '1983-01-01');
    await insertRelation(database.db, wife, husband, 'spouse', null);
    await insertFactRow(database.db, husband, { kind: 'migration', from: '2020-01-01' });
    await evaluate('2022-02-28');
    // Both declarations are recorded later, dated 2022-03-01.
    await insertFactRow(database.db, elder, { kind: 'declared_missing', from: '2022-03-01' });
    await insertFactRow(database.db, wife, { kind: 'declared_missing', from: '2022-03-01' });
    await evaluate('2026-11-29');
    assert.deepEqual(
      (await periodsOf(elder)).map(([code, since, until]) => [code, since, until]),
      [
        ['high_age_elderly', '2020-01-01', null],
        ['left_behind_elderly', '2020-07-01', '2022-03-01'],
        ['special_difficulty_elderly', '2020-07-01', '2022-03-01'],
      ],
    );
    assert.deepEqual(
      (await periodsOf(wife)).map(([code, since, until]) => [code, since, until]),
      [['left_behind_woman', '2020-07-01', '2022-03-01']],
    );
  });
});
