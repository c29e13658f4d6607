// Reasons of a state whose record was replaced (review of the reasons, session 13). The registry ends an
// open record when a new one of the same kind begins (dibao, then near-dibao; a disability regraded; a loss
// of self-care become severe), and the rules join the two into one stretch: the membership holds since the
// first record began. The reason used to name the record in force with the stretch's start ("家庭经济困难(本人:
// 低保边缘)自2020-01-01" for near-dibao begun in 2022). It now names the record in force with its own start and
// says since when the state has held without a break, as the liberty restriction already did; a stretch of
// one record reads as before. The membership and its `since` do not change. End to end: a period stored
// with the old text gets the new text at the next evaluation, in place, with no worklist item and no
// change to the counts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { sql } from 'kysely';
import {
  insertFactRow,
  insertParentLink,
  insertPersonRow,
  registryDatabaseFor,
} from '../../../test/support/registry-rows.ts';
import { fact, somebody } from '../../../test/support/group-subjects.ts';
import type { IsoDate } from '../../platform/dates.ts';
import type { Fact } from '../registry/index.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import { evaluateRegion } from './groups.evaluate.ts';
import {
  deFactoUnsupportedChild,
  disabledElderly,
  distressedChild,
  evaluateGroups,
  formatReasons,
  leftBehindChild,
  specialDifficultyElderly,
  type GroupMembership,
  type GroupRule,
  type GroupSubject,
  type ParentSnapshot,
  type Reason,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;
const VILLAGE = '410225100201';
const AS_OF = '2024-06-01';
/** The first record's start, and the day the registry replaced it by the second. */
const FIRST = '2020-01-01';
const REPLACED = '2022-03-01';

type Recorded = (from: IsoDate, to: IsoDate | null) => Fact;
const of =
  (kind: Fact['kind'], data: object = {}): Recorded =>
  (from, to) =>
    fact(kind, from, to, data);

const parent = (name: string, sex: 1 | 2, facts: Fact[]): ParentSnapshot => ({
  ...somebody(name, sex, sex === 1 ? '1985-02-01' : '1987-04-01', facts),
  parentType: 'biological',
});
const child = (own: Fact[], father: Fact[] = [], mother: Fact[] = []): GroupSubject => ({
  person: somebody('小明', 1, '2015-06-15', own),
  parents: [parent('张三', 1, father), parent('李梅', 2, mother)],
  spouse: null,
  children: [],
});
const elder = (own: Fact[]): GroupSubject => ({
  person: somebody('孙大爷', 1, '1950-01-01', own),
  parents: [],
  spouse: null,
  children: [],
});
const died = fact('death', '2019-01-01', null);
const migrated = (from: IsoDate, to: IsoDate | null = null) => fact('migration', from, to);

function member(found: GroupMembership | null): GroupMembership {
  assert.ok(found, 'expected a membership');
  return found;
}

interface ClauseCase {
  /** The clause and what its records are. */
  readonly clause: string;
  readonly rule: GroupRule;
  /** The subject with the records of the clause's kind (the rest fixed). */
  readonly subject: (records: Fact[]) => GroupSubject;
  /** The first record and the one that replaced it. */
  readonly first: Recorded;
  readonly second: Recorded;
  /** The reason of a single record begun on FIRST (as before the change)... */
  readonly single: Reason;
  /** ...and of the second record after the first, replaced on REPLACED. */
  readonly replaced: Reason;
}

const CASES: readonly ClauseCase[] = [
  {
    clause: 'assistanceOf, the child’s own record (dibao, then near-dibao)',
    rule: distressedChild,
    subject: (records) => child(records),
    first: of('assistance', { program: 'dibao' }),
    second: of('assistance', { program: 'near_dibao' }),
    single: {
      zh: '家庭经济困难(本人: 低保)自2020-01-01',
      en: 'family poverty (the child: dibao (minimum living security)) since 2020-01-01',
    },
    replaced: {
      zh: '家庭经济困难(本人: 低保边缘)自2022-03-01(自2020-01-01起连续家庭经济困难)',
      en: 'family poverty (the child: near-dibao) since 2022-03-01 (family poverty without a break since 2020-01-01)',
    },
  },
  {
    clause: 'assistanceOf, a legal parent’s record (near-dibao, then dibao)',
    rule: distressedChild,
    subject: (records) => child([], records),
    first: of('assistance', { program: 'near_dibao' }),
    second: of('assistance', { program: 'dibao' }),
    single: {
      zh: '家庭经济困难(父亲张三: 低保边缘)自2020-01-01',
      en: 'family poverty (father 张三: near-dibao) since 2020-01-01',
    },
    replaced: {
      zh: '家庭经济困难(父亲张三: 低保)自2022-03-01(自2020-01-01起连续家庭经济困难)',
      en: 'family poverty (father 张三: dibao (minimum living security)) since 2022-03-01 (family poverty without a break since 2020-01-01)',
    },
  },
  {
    clause: 'ownDisability (grade 4, regraded to grade 3)',
    rule: distressedChild,
    subject: (records) => child(records),
    first: of('disability', { category: 4, grade: 4 }),
    second: of('disability', { category: 4, grade: 3 }),
    single: {
      zh: '本人残疾(肢体四级)自2020-01-01',
      en: 'own disability (physical, grade 4) since 2020-01-01',
    },
    replaced: {
      zh: '本人残疾(肢体三级)自2022-03-01(自2020-01-01起连续残疾)',
      en: 'own disability (physical, grade 3) since 2022-03-01 (disabled without a break since 2020-01-01)',
    },
  },
  {
    clause: 'guardianshipFailure (neglect, then abuse)',
    rule: distressedChild,
    subject: (records) => child(records),
    first: of('guardianship_failure', { type: 'neglect' }),
    second: of('guardianship_failure', { type: 'abuse' }),
    single: {
      zh: '保护个案认定监护缺失或不当(疏于照料)自2020-01-01',
      en: 'guardianship failure (neglect) found by a protection case since 2020-01-01',
    },
    replaced: {
      zh: '保护个案认定监护缺失或不当(虐待)自2022-03-01(自2020-01-01起连续监护缺失或不当)',
      en: 'guardianship failure (abuse) found by a protection case since 2022-03-01 (guardianship failure without a break since 2020-01-01)',
    },
  },
  {
    clause: 'lossOfSelfCare (moderate, then severe)',
    rule: disabledElderly,
    subject: elder,
    first: of('self_care', { level: 'moderate' }),
    second: of('self_care', { level: 'severe' }),
    single: { zh: '中度失能自2020-01-01', en: 'moderate loss of self-care since 2020-01-01' },
    replaced: {
      zh: '重度失能自2022-03-01(自2020-01-01起连续失能)',
      en: 'severe loss of self-care since 2022-03-01 (loss of self-care without a break since 2020-01-01)',
    },
  },
  {
    clause: 'severelyDisabled (grade 2, regraded to grade 1)',
    rule: deFactoUnsupportedChild,
    subject: (records) => child([], [died], records),
    first: of('disability', { category: 1, grade: 2 }),
    second: of('disability', { category: 1, grade: 1 }),
    single: {
      zh: '母亲李梅重度残疾(视力二级)自2020-01-01',
      en: 'mother 李梅 severely disabled (visual, grade 2) since 2020-01-01',
    },
    replaced: {
      zh: '母亲李梅重度残疾(视力一级)自2022-03-01(自2020-01-01起连续重度残疾)',
      en: 'mother 李梅 severely disabled (visual, grade 1) since 2022-03-01 (severely disabled without a break since 2020-01-01)',
    },
  },
  {
    clause: 'ongoing: serious illness recorded again (a new diagnosis)',
    rule: deFactoUnsupportedChild,
    subject: (records) => child([], [died], records),
    first: of('serious_illness', { diagnosis: '尿毒症' }),
    second: of('serious_illness', { diagnosis: '尿毒症(透析)' }),
    single: { zh: '母亲李梅患重病自2020-01-01', en: 'mother 李梅 seriously ill since 2020-01-01' },
    replaced: {
      zh: '母亲李梅患重病自2022-03-01(自2020-01-01起连续患重病)',
      en: 'mother 李梅 seriously ill since 2022-03-01 (seriously ill without a break since 2020-01-01)',
    },
  },
  {
    clause: 'ongoing: guardianship revoked, recorded again (left-behind child)',
    rule: leftBehindChild,
    subject: (records) => child([], records, [migrated('2019-01-01')]),
    first: of('guardianship_revoked'),
    second: of('guardianship_revoked'),
    single: {
      zh: '父亲张三被撤销监护资格自2020-01-01',
      en: 'father 张三 guardianship revoked since 2020-01-01',
    },
    replaced: {
      zh: '父亲张三被撤销监护资格自2022-03-01(自2020-01-01起连续被撤销监护资格)',
      en: 'father 张三 guardianship revoked since 2022-03-01 (guardianship revoked without a break since 2020-01-01)',
    },
  },
  {
    clause: 'ongoing: deported, recorded again',
    rule: deFactoUnsupportedChild,
    subject: (records) => child([], [died], records),
    first: of('deported'),
    second: of('deported'),
    single: { zh: '母亲李梅被遣送(驱逐)出境自2020-01-01', en: 'mother 李梅 deported since 2020-01-01' },
    replaced: {
      zh: '母亲李梅被遣送(驱逐)出境自2022-03-01(自2020-01-01起连续被遣送(驱逐)出境)',
      en: 'mother 李梅 deported since 2022-03-01 (deported without a break since 2020-01-01)',
    },
  },
  {
    clause: 'livingArrangement: living alone, recorded again',
    rule: specialDifficultyElderly,
    subject: elder,
    first: of('living_arrangement', { value: 'alone' }),
    second: of('living_arrangement', { value: 'alone' }),
    single: { zh: '独居自2020-01-01', en: 'living alone since 2020-01-01' },
    replaced: {
      zh: '独居自2022-03-01(自2020-01-01起连续独居)',
      en: 'living alone since 2022-03-01 (living alone without a break since 2020-01-01)',
    },
  },
  {
    clause: 'familyPlanningSpecial, recorded again',
    rule: specialDifficultyElderly,
    subject: elder,
    first: of('family_planning_special'),
    second: of('family_planning_special'),
    single: { zh: '计划生育特殊家庭自2020-01-01', en: 'family-planning special family since 2020-01-01' },
    replaced: {
      zh: '计划生育特殊家庭自2022-03-01(自2020-01-01起连续计划生育特殊家庭)',
      en: 'family-planning special family since 2022-03-01 (family-planning special family without a break since 2020-01-01)',
    },
  },
];

const hasReason = (found: GroupMembership, expected: Reason) =>
  assert.ok(
    found.reasons.some((reason) => reason.zh === expected.zh && reason.en === expected.en),
    `expected ${JSON.stringify(expected)} among\n${formatReasons(found, 'zh')}\n${formatReasons(found, 'en')}`,
  );

describe('a replaced record is named with its own start, and the stretch’s start after it', () => {
  for (const c of CASES) {
    test(`${c.clause}: replaced`, () => {
      const subject = c.subject([c.first(FIRST, REPLACED), c.second(REPLACED, null)]);
      const found = member(c.rule(subject, AS_OF, config));
      assert.equal(found.since, FIRST, 'the membership holds since the first record, as before');
      hasReason(found, c.replaced);
      // The day before the replacement, the first record is the whole stretch: as before.
      hasReason(member(c.rule(subject, '2022-02-28', config)), c.single);
    });

    test(`${c.clause}: a single record reads as before`, () => {
      const found = member(c.rule(c.subject([c.first(FIRST, null)]), AS_OF, config));
      assert.equal(found.since, FIRST);
      hasReason(found, c.single);
    });
  }

  test('a record that follows a gap starts a new stretch: named with its own start only', () => {
    const subject = child([
      fact('assistance', FIRST, '2021-01-01', { program: 'dibao' }),
      fact('assistance', REPLACED, null, { program: 'near_dibao' }),
    ]);
    const found = member(distressedChild(subject, AS_OF, config));
    assert.equal(found.since, REPLACED);
    hasReason(found, {
      zh: '家庭经济困难(本人: 低保边缘)自2022-03-01',
      en: 'family poverty (the child: near-dibao) since 2022-03-01',
    });
  });

  test('severe disability: a record that was not severe is no part of the stretch', () => {
    const subject = child(
      [],
      [died],
      [
        fact('disability', FIRST, REPLACED, { category: 4, grade: 4 }),
        fact('disability', REPLACED, null, { category: 4, grade: 2 }),
      ],
    );
    const found = member(deFactoUnsupportedChild(subject, AS_OF, config));
    assert.equal(found.since, REPLACED);
    hasReason(found, {
      zh: '母亲李梅重度残疾(肢体二级)自2022-03-01',
      en: 'mother 李梅 severely disabled (physical, grade 2) since 2022-03-01',
    });
  });

  test('three records: the one in force with its start, the stretch from the first', () => {
    const subject = elder([
      fact('self_care', '2019-05-01', FIRST, { level: 'moderate' }),
      fact('self_care', FIRST, REPLACED, { level: 'severe' }),
      fact('self_care', REPLACED, null, { level: 'moderate' }),
    ]);
    const found = member(disabledElderly(subject, AS_OF, config));
    assert.equal(found.since, '2019-05-01');
    hasReason(found, {
      zh: '中度失能自2022-03-01(自2019-05-01起连续失能)',
      en: 'moderate loss of self-care since 2022-03-01 (loss of self-care without a break since 2019-05-01)',
    });
  });

  test('a ground that is another group carries the new text: special difficulty on the disabled ground', () => {
    const subject = elder([
      fact('self_care', FIRST, REPLACED, { level: 'moderate' }),
      fact('self_care', REPLACED, null, { level: 'severe' }),
    ]);
    const found = member(specialDifficultyElderly(subject, AS_OF, config));
    assert.equal(found.subCategory, 'disabled');
    hasReason(found, {
      zh: '失能老年人(自2020-01-01): 重度失能自2022-03-01(自2020-01-01起连续失能)',
      en: 'disabled elderly since 2020-01-01: severe loss of self-care since 2022-03-01 (loss of self-care without a break since 2020-01-01)',
    });
  });

  test('kept: the liberty restriction reads as it did (the form the others now follow)', () => {
    const subject = child(
      [],
      [died],
      [
        fact('liberty_restriction', FIRST, REPLACED, { type: 'sentence', expectedEnd: '2030-01-01' }),
        fact('liberty_restriction', REPLACED, null, {
          type: 'drug_rehabilitation',
          expectedEnd: '2030-01-01',
        }),
      ],
    );
    const found = member(deFactoUnsupportedChild(subject, AS_OF, config));
    hasReason(found, {
      zh: '母亲李梅强制隔离戒毒自2022-03-01(自2020-01-01起连续限制人身自由)(预计2030-01-01结束)',
      en: 'mother 李梅 in compulsory drug rehabilitation since 2022-03-01 (liberty restricted without a break since 2020-01-01) (expected end 2030-01-01)',
    });
    const single = member(
      deFactoUnsupportedChild(
        child(
          [],
          [died],
          [fact('liberty_restriction', FIRST, null, { type: 'sentence', expectedEnd: '2030-01-01' })],
        ),
        AS_OF,
        config,
      ),
    );
    hasReason(single, {
      zh: '母亲李梅服刑在押自2020-01-01(预计2030-01-01结束)',
      en: 'mother 李梅 serving a sentence since 2020-01-01 (expected end 2030-01-01)',
    });
  });

  test('kept: a migration is named by the start its months count from, whatever record is in force', () => {
    // The text names no destination: a change of city changes nothing it says (as lost contact is named
    // by the stretch's start and first report, session 11).
    const subject = child([], [migrated(FIRST, REPLACED), migrated(REPLACED)], [migrated(FIRST)]);
    const found = member(leftBehindChild(subject, AS_OF, config));
    assert.equal(found.since, FIRST);
    assert.equal(
      formatReasons(found, 'zh'),
      '未满16周岁(2015-06-15出生); 父亲张三外出务工自2020-01-01; 母亲李梅外出务工自2020-01-01',
    );
  });
});

describe('end to end: stored reasons are rewritten once, in place, with nothing else', () => {
  const database = registryDatabaseFor(VILLAGE);
  const person = (name: string, sex: 1 | 2, birthDate: IsoDate) =>
    insertPersonRow(database.db, { name, sex, birthDate, hukou: VILLAGE });
  const evaluate = (asOf: IsoDate) =>
    evaluateRegion(database.db, { regionCode: '410225', asOf, worklist: true });
  type Stored = {
    person_id: number;
    group_code: string;
    since: string;
    until: string | null;
    zh: string[];
    en: string[];
  };
  const periods = async () =>
    (
      await sql<Stored>`SELECT person_id, group_code, since::text AS since, until::text AS until,
          reasons->'zh' AS zh, reasons->'en' AS en
        FROM group_memberships ORDER BY person_id, group_code, since`.execute(database.db)
    ).rows;
  /** Everything a reason-only change must leave as it is: the worklist and both count tables. */
  const sideTables = async () => ({
    worklist: (await sql<{ n: number }>`SELECT count(*)::int AS n FROM worklist_items`.execute(database.db))
      .rows[0]?.n,
    deltas: (
      await sql<{ region_code: string; group_code: string; on_date: string; delta: number }>`
        SELECT region_code, group_code, on_date::text AS on_date, delta FROM group_count_deltas
        ORDER BY 1, 2, 3`.execute(database.db)
    ).rows,
    open: (
      await sql<{ region_code: string; group_code: string; open: number }>`
        SELECT region_code, group_code, open FROM group_count_open ORDER BY 1, 2`.execute(database.db)
    ).rows,
  });

  test('a period stored with the old text: updated in place at the next evaluation, no worklist item, no count change', async () => {
    // A child on near-dibao that replaced dibao; an elder whose loss of self-care became severe; a child
    // whose father is away and whose mother's serious illness was recorded again.
    const poor = await person('小红', 2, '2015-06-15');
    await insertFactRow(database.db, poor, {
      kind: 'assistance',
      from: FIRST,
      to: REPLACED,
      data: { program: 'dibao' },
    });
    await insertFactRow(database.db, poor, {
      kind: 'assistance',
      from: REPLACED,
      data: { program: 'near_dibao' },
    });
    const old = await person('孙大爷', 1, '1950-01-01');
    await insertFactRow(database.db, old, {
      kind: 'self_care',
      from: FIRST,
      to: REPLACED,
      data: { level: 'moderate' },
    });
    await insertFactRow(database.db, old, { kind: 'self_care', from: REPLACED, data: { level: 'severe' } });
    const kid = await person('小明', 1, '2015-06-15');
    const dad = await person('张三', 1, '1985-02-01');
    const mum = await person('李梅', 2, '1987-04-01');
    await insertParentLink(database.db, kid, dad);
    await insertParentLink(database.db, kid, mum);
    await insertFactRow(database.db, dad, { kind: 'migration', from: '2019-01-01' });
    await insertFactRow(database.db, mum, { kind: 'serious_illness', from: FIRST, to: REPLACED });
    await insertFactRow(database.db, mum, { kind: 'serious_illness', from: REPLACED });

    const first = await evaluate(AS_OF);
    // Distressed; disabled and special difficulty; left-behind.
    assert.equal(first.entered, 4);
    const fresh = await periods();
    const line = (id: number, code: string) => fresh.find((p) => p.person_id === id && p.group_code === code);
    assert.deepEqual(line(poor, 'distressed_child')?.zh, [
      '未满18周岁(2015-06-15出生)',
      '家庭经济困难(本人: 低保边缘)自2022-03-01(自2020-01-01起连续家庭经济困难)',
    ]);
    assert.equal(line(poor, 'distressed_child')?.since, FIRST);
    assert.deepEqual(line(old, 'disabled_elderly')?.zh, [
      '年满60周岁(1950-01-01出生)',
      '重度失能自2022-03-01(自2020-01-01起连续失能)',
    ]);
    assert.deepEqual(line(old, 'special_difficulty_elderly')?.zh, [
      '年满60周岁(1950-01-01出生)',
      '失能老年人(自2020-01-01): 重度失能自2022-03-01(自2020-01-01起连续失能)',
    ]);
    assert.equal(
      line(kid, 'left_behind_child')?.zh.at(-1),
      '母亲李梅患重病自2022-03-01(自2020-01-01起连续患重病)',
    );
    // The batch stores what the pure rules answer.
    for (const stored of fresh) {
      const id = stored.person_id;
      const subject: GroupSubject =
        id === kid
          ? child(
              [],
              [migrated('2019-01-01')],
              [fact('serious_illness', FIRST, REPLACED), fact('serious_illness', REPLACED, null)],
            )
          : id === poor
            ? {
                ...child([
                  fact('assistance', FIRST, REPLACED, { program: 'dibao' }),
                  fact('assistance', REPLACED, null, { program: 'near_dibao' }),
                ]),
                parents: [],
              }
            : elder([
                fact('self_care', FIRST, REPLACED, { level: 'moderate' }),
                fact('self_care', REPLACED, null, { level: 'severe' }),
              ]);
      const pure = evaluateGroups(subject, AS_OF, config).find((m) => m.code === stored.group_code);
      assert.deepEqual(
        [stored.since, stored.zh, stored.en],
        [pure?.since, pure?.reasons.map((r) => r.zh), pure?.reasons.map((r) => r.en)],
        stored.group_code,
      );
    }

    // The periods as an evaluation before the change stored them: the record in force with the stretch's
    // start.
    const before = await sideTables();
    const oldText = (zh: string, en: string) => [zh, en];
    const rewrites: [number, string, string[]][] = [
      [
        poor,
        'distressed_child',
        oldText(
          '家庭经济困难(本人: 低保边缘)自2020-01-01',
          'family poverty (the child: near-dibao) since 2020-01-01',
        ),
      ],
      [old, 'disabled_elderly', oldText('重度失能自2020-01-01', 'severe loss of self-care since 2020-01-01')],
      [
        kid,
        'left_behind_child',
        oldText('母亲李梅患重病自2020-01-01', 'mother 李梅 seriously ill since 2020-01-01'),
      ],
    ];
    for (const [id, code, [zh, en]] of rewrites) {
      const stored = line(id, code)!;
      const reasons = {
        zh: [...stored.zh.slice(0, -1), zh],
        en: [...stored.en.slice(0, -1), en],
      };
      await sql`UPDATE group_memberships SET reasons = ${JSON.stringify(reasons)}::jsonb
        WHERE person_id = ${id} AND group_code = ${code}`.execute(database.db);
    }
    assert.deepEqual(await sideTables(), before, 'the reasons alone count for nothing');

    const again = await evaluate(AS_OF);
    assert.equal(again.entered, 0);
    assert.equal(again.left, 0);
    assert.equal(again.updated, 3);
    assert.deepEqual(await periods(), fresh, 'the new text, the same periods');
    assert.deepEqual(await sideTables(), before, 'no worklist item, no count delta');

    const third = await evaluate(AS_OF);
    assert.equal(third.updated, 0, 'rewritten once');
    assert.deepEqual(await sideTables(), before);
  });
});
