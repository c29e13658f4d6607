// Care-group `since` across a change of life (session 21 review), judged against DOMAIN.md section 2
// (农村留守老年人: every living child migrant for 6 months or more) and the rules' own promise that
// `since` is "the first day from which the membership has held without a break up to the as-of date":
// - an elder whose son has been away since 2020 and whose daughter, away since 2022, died (or was declared
//   missing) in 2023 was left behind "since 2020-07-01" (the son's six months), though the daughter lived
//   at home until 2022: every past member list, count and monthly series of 2020-07..2022-06 counted him,
//   and the special-difficulty elderly group quoted the same start. When a rule held on a life-change day
//   and the day before, the stretch before the change began where the day before says, not earlier.
// The property test below checks the promise for every group on random subjects: on every day of a
// stretch found by evaluating the rule day by day, the rule gives the stretch's first day as `since`.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';

import { addDays, type IsoDate } from '../../platform/dates.ts';
import type { Fact, FactKind } from '../registry/index.ts';
import { fact, somebody } from '../../../test/support/group-subjects.ts';
import { DEFAULT_GROUPS_CONFIG } from './groups.config.ts';
import {
  GROUP_CODES,
  deFactoUnsupportedChild,
  disabledElderly,
  distressedChild,
  evaluateGroups,
  formatReasons,
  highAgeElderly,
  leftBehindChild,
  leftBehindElderly,
  leftBehindWoman,
  orphan,
  specialDifficultyElderly,
  type GroupCode,
  type GroupRule,
  type GroupSubject,
  type ParentSnapshot,
  type RelativeSnapshot,
} from './groups.rules.ts';

const config = DEFAULT_GROUPS_CONFIG;

const RULES: Readonly<Record<GroupCode, GroupRule>> = {
  left_behind_child: leftBehindChild,
  de_facto_unsupported_child: deFactoUnsupportedChild,
  orphan,
  distressed_child: distressedChild,
  left_behind_elderly: leftBehindElderly,
  left_behind_woman: leftBehindWoman,
  high_age_elderly: highAgeElderly,
  disabled_elderly: disabledElderly,
  special_difficulty_elderly: specialDifficultyElderly,
};

const migrated = (from: IsoDate, to: IsoDate | null = null) =>
  fact('migration', from, to, { destination: 'x' });

function elder(children: RelativeSnapshot[], spouse: RelativeSnapshot | null = null): GroupSubject {
  return { person: somebody('丁老', 1, '1950-03-03'), parents: [], spouse, children };
}

/** 丁老 (findings F1): 丁子 away since 2020, 丁女 away since 2022 and then gone by `gone` on 2023-05-01. */
function dingLao(gone: Fact): GroupSubject {
  return elder([
    somebody('丁子', 1, '1975-01-01', [migrated('2020-01-01')]),
    somebody('丁女', 2, '1978-01-01', [migrated('2022-01-01'), gone]),
  ]);
}

describe('left-behind elderly across the loss of a child who left later', () => {
  test('a daughter away since 2022 who died in 2023: left behind since her six months, not the son’s', () => {
    const subject = dingLao(fact('death', '2023-05-01'));
    assert.equal(leftBehindElderly(subject, '2021-01-01', config), null);
    assert.equal(leftBehindElderly(subject, '2022-06-30', config), null);
    for (const day of ['2022-07-01', '2023-04-30', '2023-05-01', '2026-12-02'] as const)
      assert.equal(leftBehindElderly(subject, day, config)?.since, '2022-07-01', day);

    // The special-difficulty ground quotes the same start, in the evaluation of all groups too.
    const groups = evaluateGroups(subject, '2026-12-02', config);
    const special = groups.find((m) => m.code === 'special_difficulty_elderly');
    assert.equal(groups.find((m) => m.code === 'left_behind_elderly')?.since, '2022-07-01');
    assert.equal(special?.since, '2022-07-01');
    assert.match(formatReasons(special!, 'zh'), /农村留守老年人\(自2022-07-01\)/);
    assert.equal(specialDifficultyElderly(subject, '2021-01-01', config), null);
  });

  test('the same daughter declared missing (宣告失踪) in 2023: left behind since 2022-07-01', () => {
    const subject = dingLao(fact('declared_missing', '2023-05-01'));
    assert.equal(leftBehindElderly(subject, '2022-06-30', config), null);
    assert.equal(leftBehindElderly(subject, '2026-12-02', config)?.since, '2022-07-01');
    assert.equal(specialDifficultyElderly(subject, '2026-12-02', config)?.since, '2022-07-01');
  });

  test('a spouse’s death before the daughter left is not where the stretch begins (random search, seed 5)', () => {
    const subject = elder(
      [
        somebody('C0', 2, '1975-01-01', [fact('death', '2018-01-19')]),
        somebody('C1', 1, '1975-01-01', [migrated('2020-06-15')]),
        somebody('C2', 2, '1975-01-01', [migrated('2021-08-06'), fact('death', '2022-04-18')]),
      ],
      somebody('S', 2, '1970-01-01', [fact('death', '2021-04-09')]),
    );
    assert.equal(leftBehindElderly(subject, '2022-02-05', config), null);
    assert.equal(leftBehindElderly(subject, '2026-12-21', config)?.since, '2022-02-06');
  });

  test('two children who left later and died: the stretch is read back across both deaths', () => {
    // All three away 6 months from 2019-12-01; the second daughter dies 2023, the first 2024.
    const subject = elder([
      somebody('长子', 1, '1975-01-01', [migrated('2018-01-01')]),
      somebody('长女', 2, '1977-01-01', [migrated('2019-01-01'), fact('death', '2024-05-01')]),
      somebody('次女', 2, '1979-01-01', [migrated('2019-06-01'), fact('death', '2023-05-01')]),
    ]);
    assert.equal(leftBehindElderly(subject, '2019-11-30', config), null);
    for (const day of ['2019-12-01', '2023-06-01', '2026-12-02'] as const)
      assert.equal(leftBehindElderly(subject, day, config)?.since, '2019-12-01', day);
  });
});

// --- The property: `since` is the first day of the stretch the rule holds on, day by day ---

/** A fixed pseudo-random sequence (the same on every run). */
function randomness(seed: number) {
  let state = seed;
  const next = () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  const day = (from = 2016, to = 2026): IsoDate => {
    const pad = (n: number) => String(n).padStart(2, '0');
    return `${from + int(to - from + 1)}-${pad(1 + int(12))}-${pad(1 + int(28))}` as IsoDate;
  };
  return { next, int, pick, day };
}

type Random = ReturnType<typeof randomness>;

const PARENT_KINDS: readonly FactKind[] = [
  ...(['migration', 'migration', 'migration', 'death', 'declared_missing', 'declared_dead'] as const),
  ...(['lost_contact', 'liberty_restriction', 'disability', 'serious_illness'] as const),
  ...(['guardianship_revoked', 'deported', 'assistance'] as const),
];
const RELATIVE_KINDS: readonly FactKind[] = [
  ...(['migration', 'migration', 'migration', 'death', 'death', 'declared_missing'] as const),
  ...(['declared_dead', 'disability'] as const),
];
const OWN_KINDS: readonly FactKind[] = [
  ...(['self_care', 'living_arrangement', 'family_planning_special', 'disability'] as const),
  ...(['assistance', 'migration', 'declared_missing', 'guardianship_failure'] as const),
];

function randomFacts(random: Random, kinds: readonly FactKind[], count: number): Fact[] {
  const { next, int, pick, day } = random;
  return Array.from({ length: count }, () => {
    const kind = pick(kinds);
    const from = day();
    let to: IsoDate | null = next() < 0.4 ? day() : null;
    if ((to !== null && to <= from) || kind === 'death') to = null;
    const data: Record<string, unknown> = {};
    if (kind === 'migration') data.destination = 'x';
    if (kind === 'lost_contact') data.policeReportDate = next() < 0.5 ? from : addDays(from, int(60));
    if (kind === 'liberty_restriction') {
      data.type = pick(['sentence', 'drug_rehabilitation', 'other']);
      if (next() < 0.6) data.expectedEnd = addDays(from, int(500));
    }
    if (kind === 'disability') Object.assign(data, { category: 1 + int(7), grade: 1 + int(4) });
    if (kind === 'assistance') data.program = pick(['dibao', 'tekun', 'near_dibao']);
    if (kind === 'self_care') data.level = pick(['intact', 'mild', 'moderate', 'severe']);
    if (kind === 'living_arrangement') data.value = pick(['alone', 'spouse_only', 'with_children']);
    if (kind === 'guardianship_failure') data.type = 'neglect';
    return fact(kind, from, to, data);
  });
}

/** A child with two parents, an elder with a spouse and children, or a woman with a husband. */
function randomSubject(random: Random): GroupSubject {
  const { next, int, pick, day } = random;
  const kind = pick(['child', 'elder', 'elder', 'woman'] as const);
  const birthDate = kind === 'child' ? day(2006, 2020) : kind === 'elder' ? day(1936, 1962) : day(1975, 1995);
  const sex = kind === 'woman' ? 2 : pick([1, 2] as const);
  const person = somebody('P', sex, birthDate, randomFacts(random, OWN_KINDS, int(3)));
  const relative = (
    name: string,
    sex: 1 | 2,
    kinds: readonly FactKind[],
    count: number,
    born: IsoDate | null = '1970-01-01',
  ): RelativeSnapshot => ({
    ...somebody(name, sex, '1970-01-01', randomFacts(random, kinds, count)),
    birthDate: born,
  });
  const parent = (name: string, sex: 1 | 2): ParentSnapshot => ({
    ...relative(name, sex, PARENT_KINDS, 1 + int(3)),
    parentType: 'biological',
  });
  const parents = kind === 'child' ? [parent('F', 1), parent('M', 2)] : [];
  const spouse =
    kind !== 'child' && next() < 0.8 ? relative('S', sex === 2 ? 1 : 2, RELATIVE_KINDS, int(3)) : null;
  const children =
    kind === 'elder'
      ? Array.from({ length: 1 + int(3) }, (_, i) => {
          const born = next() < 0.15 ? day(2016, 2026) : next() < 0.1 ? null : '1975-01-01';
          const child = relative(`C${i}`, pick([1, 2] as const), RELATIVE_KINDS, int(2), born);
          if (next() < 0.2) return child;
          // Away from a day, and often gone later while away (the case that moved `since` too far back).
          const left = day();
          const away = [...child.facts, migrated(left)];
          if (next() < 0.6)
            away.push(fact(pick(['death', 'declared_missing', 'declared_dead']), addDays(left, int(1500))));
          return { ...child, facts: away };
        })
      : [];
  return { person, parents, spouse, children };
}

test('every group: `since` is the first day of the stretch, on every day of it (seeded random subjects)', () => {
  const random = randomness(21);
  const floor = '2010-01-01';
  const reached = new Set<GroupCode>();
  let stretches = 0;
  let days = 0;
  const wrong: string[] = [];
  for (let i = 0; i < 400; i++) {
    const subject = randomSubject(random);
    const asOf = random.day(2018, 2026);
    const all = evaluateGroups(subject, asOf, config);
    for (const code of GROUP_CODES) {
      const rule = RULES[code];
      const found = rule(subject, asOf, config);
      // The evaluation of all groups (answers shared between rules) agrees with each rule alone.
      assert.equal(all.find((m) => m.code === code)?.since, found?.since, `${code} on ${asOf}`);
      if (found === null) continue;
      reached.add(code);
      stretches++;
      // Back day by day while the rule holds: every day of the stretch names the same first day.
      let first = asOf;
      const sinces = new Set([found.since]);
      for (;;) {
        if (first <= floor) break;
        const before = rule(subject, addDays(first, -1), config);
        if (before === null) break;
        sinces.add(before.since);
        first = addDays(first, -1);
        days++;
      }
      const right =
        first <= floor
          ? found.since <= floor && sinces.size === 1
          : sinces.size === 1 && found.since === first;
      if (!right)
        wrong.push(
          `${code} on ${asOf}: since ${[...sinces].join(', ')}, held from ${first}: ${JSON.stringify(subject)}`,
        );
    }
  }
  // The random subjects reach every group, over many days, or the test checks little.
  assert.deepEqual([...reached].sort(), [...GROUP_CODES].sort());
  assert.ok(stretches > 200, `${stretches} stretches`);
  assert.ok(days > 100_000, `${days} days`);
  assert.deepEqual(wrong.slice(0, 3), [], `${wrong.length} stretches with a wrong since`);
});
