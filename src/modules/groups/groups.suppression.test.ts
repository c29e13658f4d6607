import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  childKey,
  suppressColumn,
  suppressRegionTree,
  suppressRegionTrees,
  type StatCell,
} from './groups.suppression.ts';

const T = 5;

/**
 * Every value a hidden cell could take, given what is shown: "<5" cells are 0..4, "*" cells 5 or more
 * (up to the total of the column's known cells, which bounds them), and the cells sum to the total.
 */
function possibleValues(cells: StatCell[], total: StatCell, index: number, bound: number): Set<number> {
  const all = [...cells, total];
  const range = (c: StatCell) =>
    !c.suppressed
      ? [c.value as number]
      : c.display === `<${T}`
        ? [0, 1, 2, 3, 4]
        : Array.from({ length: bound - T + 1 }, (_, i) => i + T);
  const found = new Set<number>();
  const walk = (i: number, values: number[]) => {
    if (i === all.length) {
      const sum = values.slice(0, cells.length).reduce((a, b) => a + b, 0);
      if (sum === values[cells.length]) found.add(values[index] as number);
      return;
    }
    for (const v of range(all[i] as StatCell)) walk(i + 1, [...values, v]);
  };
  walk(0, []);
  return found;
}

describe('small-cell suppression', () => {
  test('counts of 0 to 4 show as "<5"; 5 or more are shown', () => {
    // The zero can be worked out (17 - 5 - 12), which tells about nobody; it still shows as "<5" so
    // that a "<5" never means "at least 1".
    const { cells, total } = suppressColumn([0, 5, 12], 17, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '5', '12'],
    );
    assert.equal(total.display, '17');
  });

  test('a lone small cell in a column takes the next smallest cell with it', () => {
    const { cells, total } = suppressColumn([3, 8, 20], 31, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '*', '20'],
    );
    assert.equal(total.display, '31');
    assert.equal(cells[0]?.value, null);
  });

  test('a small total with one non-zero child hides both, and the zeros beside it', () => {
    const { cells, total } = suppressColumn([0, 3, 0], 3, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '<5', '<5'],
    );
    assert.equal(total.display, '<5');
  });

  test('two small cells that must both be 4 are protected by a third', () => {
    // 48 - 10 - 30 = 8 = 4 + 4 would give both away once 10 is shown: hide the 10 as well.
    const { cells } = suppressColumn([4, 4, 10, 30], 48, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '<5', '*', '30'],
    );
  });

  test('the complement is the smallest count whose hiding leaves the small one open', () => {
    // 6 - 5 gives the 1 away. Hiding the 5 leaves "<5" + "*" = 6: 0 + 6 or 1 + 5.
    const { cells, total } = suppressColumn([1, 5, 20], 26, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '*', '20'],
    );
    assert.equal(total.display, '26');
  });

  test('a small township whose four villages are small pins none of them (zeros show as "<5" too)', () => {
    // Were zeros shown, "<5" would mean 1..4, and four "<5" villages in a "<5" township would each be 1.
    const cells = suppressRegionTree(
      new Map([
        ['410225100200', 1],
        ['410225100201', 1],
        ['410225100202', 1],
        ['410225100203', 1],
        ['410225101200', 40],
      ]),
      () => T,
    );
    assert.equal(cells.cell('410225100').display, '<5');
    for (const village of ['410225100200', '410225100201', '410225100202', '410225100203', '410225100204'])
      assert.equal(cells.cell(village).display, '<5', village);
    // 44 - 40 would pin the township to 4: the other township (and its one village) is hidden.
    assert.equal(cells.cell('410225').display, '44');
    assert.deepEqual([cells.cell('410225101').display, cells.cell('410225101200').display], ['*', '*']);
  });

  test('property: no hidden cell can be worked out from what is shown', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 40 })), {
          minLength: 1,
          maxLength: 5,
        }),
        (values) => {
          const sum = values.reduce((a, b) => a + b, 0);
          const { cells, total } = suppressColumn(values, sum, T);
          const all = [...cells, total];
          all.forEach((cell, i) => {
            const actual = i < values.length ? values[i] : sum;
            if (!cell.suppressed) assert.equal(cell.value, actual);
            else if (actual !== undefined && actual >= 1 && actual < T) {
              assert.equal(cell.display, '<5');
              assert.ok(
                possibleValues(cells, total, i, sum).size >= 2,
                `cell ${i} of ${values} is recoverable`,
              );
            }
          });
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });

  test('a township hidden in the county table is hidden in its own table too (no recovery across levels)', () => {
    // One table at a time would show township 101's total 20 in its own table while hiding it in the
    // county table as the complement of township 100's 3: 53 - 20 - 30 gives the 3 away.
    const cells = suppressRegionTree(
      new Map([
        ['410225100200', 3],
        ['410225101200', 12],
        ['410225101201', 8],
        ['410225102200', 30],
      ]),
      () => T,
    );
    const shown = (key: string) => cells.get(key)?.display;
    assert.equal(shown('410225'), '53');
    assert.equal(shown('410225100'), '<5');
    assert.equal(shown('410225100200'), '<5');
    assert.equal(shown('410225101'), '*');
    // The township's own table must then hide a village as well, or 12 + 8 gives its total.
    assert.deepEqual([shown('410225101200'), shown('410225101201')], ['12', '*']);
    assert.equal(shown('410225102'), '30');
  });

  test('a period stored under a township code is its own row beside the villages', () => {
    assert.equal(childKey('410225100', '410225100'), '410225100|');
    assert.equal(childKey('410225', '410225100'), '410225100');
    assert.equal(childKey('410225100', '410225100200'), '410225100200');
    assert.equal(childKey('', '410225100200'), '41');
  });

  // Every table a viewer can fetch for one date: for each region, its own count and its children's.
  // What the viewer learns is the set of equations region = sum of children with the cells shown;
  // the test searches for another assignment of the stored counts that shows the same and differs in
  // a suppressed cell, by brute force over the leaves (independently of readerBounds).
  const CODES = [
    '410225100200',
    '410225100201',
    '410225100',
    '410225101200',
    '410225101201',
    '410226100200',
    '410301100200',
    '4103',
  ] as const;

  function ancestorsOf(code: string): string[] {
    const out = [''];
    let at = '';
    for (;;) {
      const key = childKey(at, code);
      out.push(key);
      if (key.endsWith('|') || key.length >= 12) break;
      at = key;
    }
    return out;
  }

  /**
   * What a reader of one group's tables knows: each region key's leaves, the range each shown or
   * suppressed cell allows, and whether the leaves assigned so far (the first `assigned` of `values`)
   * still fit every cell.
   */
  function tableReader(leaves: readonly string[], cells: ReadonlyMap<string, StatCell>, cap: number) {
    const ancestors = leaves.map(ancestorsOf);
    const nodes = [...cells.keys()];
    const leavesUnder = new Map(nodes.map((key) => [key, [] as number[]]));
    ancestors.forEach((chain, i) => chain.forEach((key) => leavesUnder.get(key)?.push(i)));
    const bounds = (cell: StatCell): [number, number] =>
      !cell.suppressed
        ? [cell.value as number, cell.value as number]
        : cell.display === `<${T}`
          ? [0, T - 1]
          : [T, cap];
    const fits = (values: readonly number[], assigned: number) =>
      nodes.every((key) => {
        const [lo, hi] = bounds(cells.get(key) as StatCell);
        let sum = 0;
        let open = 0;
        for (const i of leavesUnder.get(key) as number[])
          if (i < assigned) sum += values[i] as number;
          else open += 1;
        return open ? sum <= hi : sum >= lo && sum <= hi;
      });
    return { ancestors, nodes, leavesUnder, bounds, fits };
  }

  function otherAssignment(
    leaves: readonly string[],
    cells: ReadonlyMap<string, StatCell>,
    actual: ReadonlyMap<string, number>,
    target: string,
    cap: number,
  ): number[] | null {
    const { ancestors, leavesUnder, bounds, fits } = tableReader(leaves, cells, cap);
    const values: number[] = [];
    const targetValue = actual.get(target) as number;
    const search = (i: number): boolean => {
      if (i === leaves.length) {
        const sum = (leavesUnder.get(target) as number[]).reduce((s, j) => s + (values[j] as number), 0);
        return sum !== targetValue;
      }
      const leafKey = ancestors[i]?.[ancestors[i].length - 1] as string;
      const [lo, hi] = bounds(cells.get(leafKey) ?? { value: 0, suppressed: false, display: '0' });
      for (let v = lo; v <= hi; v++) {
        values[i] = v;
        if (fits(values, i + 1) && search(i + 1)) return true;
      }
      return false;
    };
    return search(0) ? values.slice() : null;
  }

  test('property: no suppressed count can be solved from all the tables and totals a viewer can fetch', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 14 })), {
          minLength: CODES.length,
          maxLength: CODES.length,
        }),
        (counts) => {
          const stored = new Map(CODES.map((code, i) => [code as string, counts[i] ?? 0]));
          const cells = suppressRegionTree(stored, () => T);
          // The true count of every region key.
          const actual = new Map<string, number>();
          for (const [code, n] of stored)
            if (n > 0) for (const key of ancestorsOf(code)) actual.set(key, (actual.get(key) ?? 0) + n);
          const leaves = CODES.filter((code) => (stored.get(code) ?? 0) > 0);
          const cap = (actual.get('') ?? 0) + T;
          for (const [key, cell] of cells) {
            const value = actual.get(key) ?? 0;
            if (!cell.suppressed) {
              assert.equal(cell.value, value, `${key} is shown as it is`);
              continue;
            }
            assert.ok(value >= 1, `${key}: a zero is never hidden`);
            if (value < T) assert.equal(cell.display, '<5', `${key} is small`);
            else assert.equal(cell.display, '*');
            assert.ok(
              otherAssignment(leaves, cells, actual, key, cap) !== null,
              `${key} (${value}) of ${JSON.stringify(counts)} can be solved`,
            );
          }
        },
      ),
      { numRuns: 300, seed: 7 },
    );
  });

  // A group that contains another: every left-behind elderly (L) and every disabled elderly (D) is a
  // special-difficulty elderly (S), so a reader knows L <= S and D <= S in every region. The reader
  // below is exact: it lists every assignment of each group's leaves that shows the same in every
  // table of that group, then keeps the combinations that respect the inclusions leaf by leaf.
  const FAMILY_LEAVES = ['410225100200', '410225100201', '410225101200', '410226100200'] as const;

  function assignments(
    leaves: readonly string[],
    cells: ReadonlyMap<string, StatCell>,
    cap: number,
  ): { values: number[]; sums: Map<string, number> }[] {
    const { ancestors, nodes, leavesUnder, bounds, fits } = tableReader(leaves, cells, cap);
    const out: { values: number[]; sums: Map<string, number> }[] = [];
    const values: number[] = [];
    const search = (i: number) => {
      if (i === leaves.length) {
        const sums = new Map(
          nodes.map((key) => [
            key,
            (leavesUnder.get(key) as number[]).reduce((a, j) => a + (values[j] as number), 0),
          ]),
        );
        out.push({ values: values.slice(), sums });
        return;
      }
      const leafKey = ancestors[i]?.[ancestors[i].length - 1] as string;
      const [lo, hi] = bounds(cells.get(leafKey) as StatCell);
      for (let v = lo; v <= hi; v++) {
        values[i] = v;
        if (fits(values, i + 1)) search(i + 1);
      }
    };
    search(0);
    return out;
  }

  const actualOf = (counts: ReadonlyMap<string, number>, key: string) =>
    [...counts].filter(([code]) => ancestorsOf(code).includes(key)).reduce((a, [, n]) => a + n, 0);

  /** The values a reader who knows every table of the three groups and the inclusions can give each cell. */
  function familyReader(
    counts: Record<'S' | 'L' | 'D', ReadonlyMap<string, number>>,
    trees: ReadonlyMap<string, ReadonlyMap<string, StatCell>>,
  ): Map<string, Set<number>> {
    const groups = ['S', 'L', 'D'] as const;
    const cap = [...counts.S.values()].reduce((a, b) => a + b, 0) + T;
    // Each group's leaves with a count (a leaf without one is known to be zero, as in the search).
    const leaves = Object.fromEntries(
      groups.map((g) => [g, FAMILY_LEAVES.filter((code) => (counts[g].get(code) ?? 0) > 0)]),
    ) as Record<(typeof groups)[number], string[]>;
    const solutions = Object.fromEntries(
      groups.map((g) => [g, assignments(leaves[g], trees.get(g) as ReadonlyMap<string, StatCell>, cap)]),
    ) as Record<(typeof groups)[number], ReturnType<typeof assignments>>;
    const leafValue = (g: (typeof groups)[number], values: number[], code: string) => {
      const i = leaves[g].indexOf(code);
      return i < 0 ? 0 : (values[i] as number);
    };
    const within = (sub: 'L' | 'D', values: number[], s: number[]) =>
      FAMILY_LEAVES.every((code) => leafValue(sub, values, code) <= leafValue('S', s, code));
    const possible = new Map<string, Set<number>>();
    const note = (g: string, sums: Map<string, number>) => {
      for (const [key, v] of sums) {
        let set = possible.get(`${g} ${key}`);
        if (!set) possible.set(`${g} ${key}`, (set = new Set()));
        set.add(v);
      }
    };
    for (const s of solutions.S) {
      const l = solutions.L.filter((a) => within('L', a.values, s.values));
      const d = solutions.D.filter((a) => within('D', a.values, s.values));
      if (!l.length || !d.length) continue;
      note('S', s.sums);
      for (const a of l) note('L', a.sums);
      for (const a of d) note('D', a.sums);
    }
    return possible;
  }

  test('a subgroup shown beside its group does not give away a small count of either', () => {
    // S: township 100's villages 5 and 5, township 101's village 3; L: 2, 2 and 3; D: none.
    // Suppressed one group at a time, S shows 13 for the county and 5 for village 100201 and hides
    // township 100 (so >= 10) and 101 ("<5", so at most 3); L shows 7 for the county and "<5" for both
    // townships (3 or 4 each). Since L <= S, township 101's L is at most 3, so exactly 3, township
    // 100's L is 4, S in township 101 is 3 and S in village 100200 is 5: all worked out.
    const counts = {
      S: new Map([
        ['410225100200', 5],
        ['410225100201', 5],
        ['410225101200', 3],
      ]),
      L: new Map([
        ['410225100200', 2],
        ['410225100201', 2],
        ['410225101200', 3],
      ]),
      D: new Map<string, number>(),
    };
    const alone = new Map(
      (['S', 'L', 'D'] as const).map((g) => [g as string, suppressRegionTree(counts[g], () => T)]),
    );
    assert.equal(alone.get('L')?.cell('410225').display, '7');
    assert.equal(
      familyReader(counts, alone).get('L 410225101')?.size,
      1,
      'one group at a time, the inclusion gives the small township away',
    );
    const together = suppressRegionTrees(
      new Map(Object.entries(counts)),
      [
        ['L', 'S'],
        ['D', 'S'],
      ],
      () => T,
    );
    const possible = familyReader(counts, together);
    for (const g of ['S', 'L', 'D'] as const)
      for (const [key, cell] of together.get(g) ?? [])
        if (cell.suppressed && actualOf(counts[g], key) > 0 && (possible.get(`${g} ${key}`)?.size ?? 0) < 2)
          assert.fail(
            `${g} ${key} (${cell.display}) can be worked out: ${[...(possible.get(`${g} ${key}`) ?? [])]}`,
          );
  });

  test('property: with groups that contain others, no suppressed count can be solved from all their tables', () => {
    const leafArb = fc
      .tuple(
        fc.oneof(fc.integer({ min: 0, max: 6 }), fc.integer({ min: 0, max: 9 })),
        fc.nat(100),
        fc.nat(100),
      )
      .map(([s, l, d]) => ({ s, l: l % (s + 1), d: d % (s + 1) }));
    let protectedCells = 0;
    fc.assert(
      fc.property(
        fc.array(leafArb, { minLength: FAMILY_LEAVES.length, maxLength: FAMILY_LEAVES.length }),
        (leaves) => {
          const counts = {
            S: new Map(FAMILY_LEAVES.map((code, i) => [code as string, leaves[i]?.s ?? 0])),
            L: new Map(FAMILY_LEAVES.map((code, i) => [code as string, leaves[i]?.l ?? 0])),
            D: new Map(FAMILY_LEAVES.map((code, i) => [code as string, leaves[i]?.d ?? 0])),
          };
          const trees = suppressRegionTrees(
            new Map(Object.entries(counts)),
            [
              ['L', 'S'],
              ['D', 'S'],
            ],
            () => T,
          );
          const possible = familyReader(counts, trees);
          for (const g of ['S', 'L', 'D'] as const)
            for (const [key, cell] of trees.get(g) ?? []) {
              const actual = actualOf(counts[g], key);
              if (!cell.suppressed) {
                assert.equal(cell.value, actual, `${g} ${key} is shown as it is`);
                continue;
              }
              // A pinned zero tells about nobody.
              if (actual === 0) continue;
              protectedCells += 1;
              assert.ok(
                (possible.get(`${g} ${key}`)?.size ?? 0) >= 2,
                `${g} ${key} (${cell.display}) of ${JSON.stringify(leaves)} can be worked out`,
              );
            }
        },
      ),
      { numRuns: 150, seed: 11 },
    );
    assert.ok(protectedCells > 100, `only ${protectedCells} suppressed cells checked`);
  });
});
