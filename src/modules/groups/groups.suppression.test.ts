import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { suppressColumn, suppressLone, suppressTable, type StatCell } from './groups.suppression.ts';

const T = 5;

/**
 * Every value a hidden cell could take, given what is shown: "<5" cells are 1..4, "*" cells 5 or more
 * (up to the total of the column's known cells, which bounds them), and the cells sum to the total.
 */
function possibleValues(cells: StatCell[], total: StatCell, index: number, bound: number): Set<number> {
  const all = [...cells, total];
  const range = (c: StatCell) =>
    !c.suppressed
      ? [c.value as number]
      : c.display === `<${T}`
        ? [1, 2, 3, 4]
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
  test('counts of 1 to 4 show as "<5"; zero and 5 or more are shown', () => {
    const { cells, total } = suppressColumn([0, 5, 12], 17, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['0', '5', '12'],
    );
    assert.equal(total.display, '17');
    assert.deepEqual(suppressLone(4, T), { value: null, suppressed: true, display: '<5' });
    assert.deepEqual(suppressLone(5, T), { value: 5, suppressed: false, display: '5' });
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

  test('a small total with one child hides both (the child would equal the total)', () => {
    const { cells, total } = suppressColumn([0, 3, 0], 3, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['0', '<5', '0'],
    );
    assert.equal(total.display, '<5');
  });

  test('two small cells that must both be 1 are protected by a third', () => {
    // 1 + 1 = 2 would give both away once 10 is shown: hide the 10 as well.
    const { cells } = suppressColumn([1, 1, 10, 30], 42, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '<5', '*', '30'],
    );
  });

  test('the smallest complement that would itself be determined is followed by another', () => {
    // 1 + 5 = 6: "<5" is 1..4 and "*" at least 5, so only 1 + 5 fits. The next smallest (total) goes too.
    const { cells, total } = suppressColumn([1, 5], 6, T);
    assert.deepEqual(
      cells.map((c) => c.display),
      ['<5', '*'],
    );
    assert.equal(total.display, '*');
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
          // Exactly one hidden cell in a sum is always recoverable: it never happens.
          assert.notEqual(all.filter((c) => c.suppressed).length, 1);
        },
      ),
      { numRuns: 400, seed: 42 },
    );
  });

  test('a table suppresses each group column on its own', () => {
    const { rows, totals } = suppressTable(
      [
        [7, 0],
        [2, 9],
      ],
      [9, 9],
      T,
    );
    assert.deepEqual(
      rows.map((r) => r.map((c) => c.display)),
      [
        ['*', '0'],
        ['<5', '9'],
      ],
    );
    assert.deepEqual(
      totals.map((c) => c.display),
      ['9', '9'],
    );
  });
});
