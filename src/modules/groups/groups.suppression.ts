// Small-cell suppression (小数抑制) for statistics shown to viewers above the county. Pure.
//
// A table has one column per group; each column holds one cell per child region and a total, and the
// total is the sum of the cells. Primary suppression hides every count from 1 to threshold - 1 (shown
// as "<5"); a zero is shown, as it tells nothing about anyone. Complementary suppression then hides
// more cells (shown as "*"), the smallest non-zero first, until no hidden cell can be worked out from
// the cells still shown: a reader knows that a "<5" cell is 1..threshold-1 and a "*" cell is at least
// the threshold, and the column's equation (cells sum to the total) must leave every hidden cell more
// than one possible value. Rows need no such care: a person may belong to several groups, so no row
// total is shown.

export interface StatCell {
  /** The count; null when suppressed. */
  value: number | null;
  suppressed: boolean;
  /** What a reader sees: the number, "<5" (small) or "*" (hidden to protect a small cell). */
  display: string;
}

type Kind = 'shown' | 'small' | 'hidden';

interface Unknown {
  coefficient: 1 | -1;
  lower: number;
  upper: number;
}

/** Whether some hidden cell of a column has only one value consistent with what is shown. */
function someHiddenCellDetermined(
  values: readonly number[],
  kinds: readonly Kind[],
  threshold: number,
): boolean {
  // Cells 0..n-2 are the children (+1), cell n-1 is the total (-1): sum(children) - total = 0.
  const n = values.length;
  let known = 0;
  const unknowns: Unknown[] = [];
  for (let i = 0; i < n; i++) {
    const coefficient = i === n - 1 ? -1 : 1;
    const kind = kinds[i];
    const value = values[i] ?? 0;
    if (kind === 'shown') known += coefficient * value;
    else if (kind === 'small') unknowns.push({ coefficient, lower: 1, upper: threshold - 1 });
    else unknowns.push({ coefficient, lower: threshold, upper: Infinity });
  }
  if (!unknowns.length) return false;
  // sum over unknowns of coefficient * v = -known
  const target = -known;
  for (let i = 0; i < unknowns.length; i++) {
    const self = unknowns[i] as Unknown;
    let restMin = 0;
    let restMax = 0;
    unknowns.forEach((other, j) => {
      if (j === i) return;
      const a = other.coefficient * other.lower;
      const b = other.coefficient * other.upper;
      restMin += Math.min(a, b);
      restMax += Math.max(a, b);
    });
    // self.coefficient * v = target - rest, rest in [restMin, restMax]
    const lo = (target - restMax) * self.coefficient;
    const hi = (target - restMin) * self.coefficient;
    const lower = Math.max(self.lower, Math.min(lo, hi));
    const upper = Math.min(self.upper, Math.max(lo, hi));
    if (Number.isFinite(lower) && lower === upper) return true;
  }
  return false;
}

/** Suppresses one column: `cells` are the child regions' counts, `total` their sum. */
export function suppressColumn(
  cells: readonly number[],
  total: number,
  threshold: number,
): { cells: StatCell[]; total: StatCell } {
  const values = [...cells, total];
  const kinds: Kind[] = values.map((v) => (v >= 1 && v < threshold ? 'small' : 'shown'));
  if (kinds.includes('small')) {
    while (someHiddenCellDetermined(values, kinds, threshold)) {
      let pick = -1;
      for (let i = 0; i < values.length; i++) {
        if (kinds[i] !== 'shown' || (values[i] ?? 0) === 0) continue;
        if (pick < 0 || (values[i] ?? 0) < (values[pick] ?? 0)) pick = i;
      }
      if (pick < 0) break;
      kinds[pick] = 'hidden';
    }
  }
  const cell = (i: number): StatCell => {
    const kind = kinds[i];
    const value = values[i] ?? 0;
    if (kind === 'shown') return { value, suppressed: false, display: String(value) };
    return { value: null, suppressed: true, display: kind === 'small' ? `<${threshold}` : '*' };
  };
  return { cells: cells.map((_, i) => cell(i)), total: cell(cells.length) };
}

/** Suppresses a table: `rows[r][c]` is child region r's count for group c; `totals[c]` the column sums. */
export function suppressTable(
  rows: readonly (readonly number[])[],
  totals: readonly number[],
  threshold: number,
): { rows: StatCell[][]; totals: StatCell[] } {
  const outRows: StatCell[][] = rows.map(() => []);
  const outTotals: StatCell[] = [];
  totals.forEach((total, c) => {
    const column = suppressColumn(
      rows.map((row) => row[c] ?? 0),
      total,
      threshold,
    );
    column.cells.forEach((cell, r) => outRows[r]?.push(cell));
    outTotals.push(column.total);
  });
  return { rows: outRows, totals: outTotals };
}

/** Every cell shown as it is (county staff and below). */
export function plainCell(value: number): StatCell {
  return { value, suppressed: false, display: String(value) };
}

/** A lone count with no equation around it (a monthly series): only primary suppression applies. */
export function suppressLone(value: number, threshold: number): StatCell {
  return value >= 1 && value < threshold
    ? { value: null, suppressed: true, display: `<${threshold}` }
    : plainCell(value);
}
