// Small-cell suppression (小数抑制) for statistics shown to viewers above the county. Pure.
//
// A viewer can fetch many tables of one date: the table of any region in scope (its child regions as
// cells, its own count as the total), the monthly series (each month's total), and the same tables as
// a spreadsheet. A region's count appears twice: as a cell in its parent's table and as the total of
// its own table. So suppression is decided once per group and date over the whole region tree, and
// every table shows each region's count the same way: shown, "<5" (a count of 0 to threshold - 1:
// primary suppression) or "*" (a larger count hidden to protect a small one: complementary
// suppression). Zeros show as "<5" too: were they shown, every "<5" would be known to be at least 1,
// and a "<5" township whose four non-zero villages are "<5" would pin each village to exactly 1.
//
// What a reader can work out: every shown count, "<5" means 0..threshold-1, "*" means at least the
// threshold, and each region's count is the sum of its children's (one equation per table). The
// equations form a tree (a count is in at most two: its parent's and its own), and every coefficient
// is 1, so tightening each count's bounds equation by equation until nothing changes gives exactly the
// values the count can still take. Complementary suppression hides more counts, the smallest shown
// non-zero count nearest to the trouble that leaves it open first, until every hidden count can take
// at least two values.
// The tree is the whole country's (not the viewer's scope), so that two viewers of different scopes
// see the same pattern: a viewer who sees part of the tree knows fewer equations, hence less.
// Rows need no such care: a person may belong to several groups, so no row total is shown.

export interface StatCell {
  /** The count; null when suppressed. */
  value: number | null;
  suppressed: boolean;
  /** What a reader sees: the number, "<5" (small) or "*" (hidden to protect a small cell). */
  display: string;
}

/** Every cell shown as it is (county staff and below). */
export function plainCell(value: number): StatCell {
  return { value, suppressed: false, display: String(value) };
}

type Kind = 'shown' | 'small' | 'hidden';

/** A count and the counts it is the sum of (empty for a leaf). Node 0 is the root. */
export interface TreeNode {
  value: number;
  threshold: number;
  children: number[];
}

interface Bounds {
  lo: Float64Array;
  hi: Float64Array;
}

/**
 * The values each count can take given what a reader sees: tighten the bounds of every equation
 * (parent = sum of children) until none changes. Exact on a tree of unit-coefficient equations.
 */
export function readerBounds(nodes: readonly TreeNode[], kinds: readonly Kind[]): Bounds {
  const n = nodes.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const parents: number[] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i] as TreeNode;
    const kind = kinds[i];
    lo[i] = kind === 'shown' ? node.value : kind === 'small' ? 0 : node.threshold;
    hi[i] = kind === 'shown' ? node.value : kind === 'small' ? node.threshold - 1 : Infinity;
    if (node.children.length) parents.push(i);
  }
  const tighten = (p: number): boolean => {
    const children = (nodes[p] as TreeNode).children;
    let changed = false;
    let sumLo = 0;
    // The children's upper bounds: the finite ones summed, the infinite ones counted.
    let sumHi = 0;
    let infinite = 0;
    for (const c of children) {
      sumLo += lo[c] as number;
      const h = hi[c] as number;
      if (h === Infinity) infinite += 1;
      else sumHi += h;
    }
    const allHi = infinite ? Infinity : sumHi;
    if (sumLo > (lo[p] as number)) {
      lo[p] = sumLo;
      changed = true;
    }
    if (allHi < (hi[p] as number)) {
      hi[p] = allHi;
      changed = true;
    }
    const pLo = lo[p] as number;
    const pHi = hi[p] as number;
    for (const c of children) {
      const own = hi[c] as number;
      const otherInfinite = infinite - (own === Infinity ? 1 : 0);
      const otherHi = otherInfinite ? Infinity : sumHi - (own === Infinity ? 0 : own);
      const newLo = pLo - otherHi;
      const newHi = pHi - (sumLo - (lo[c] as number));
      if (newLo > (lo[c] as number)) {
        lo[c] = newLo;
        changed = true;
      }
      if (newHi < (hi[c] as number)) {
        hi[c] = newHi;
        changed = true;
      }
    }
    return changed;
  };
  // Leaves up, then root down (nodes are numbered parents first): on a tree two passes reach the
  // fixpoint; repeat until quiet anyway.
  for (let pass = 0; pass < 1000; pass++) {
    let changed = false;
    for (let k = parents.length - 1; k >= 0; k--) if (tighten(parents[k] as number)) changed = true;
    for (const p of parents) if (tighten(p)) changed = true;
    if (!changed) break;
  }
  return { lo, hi };
}

/** A hidden non-zero count the reader can pin to one value (a pinned zero tells about nobody). */
function determined(nodes: readonly TreeNode[], kinds: readonly Kind[], bounds: Bounds): number {
  for (let i = 0; i < kinds.length; i++)
    if (kinds[i] !== 'shown' && (nodes[i] as TreeNode).value > 0 && bounds.lo[i] === bounds.hi[i]) return i;
  return -1;
}

/**
 * Suppresses one group's counts over a region tree: node 0 is the root, every other node is in
 * exactly one parent's `children`, and each parent's value is the sum of its children's.
 */
export function suppressTree(nodes: readonly TreeNode[]): StatCell[] {
  const kinds: Kind[] = nodes.map((node) => (node.value < node.threshold ? 'small' : 'shown'));
  if (kinds.includes('small')) {
    const parentOf = new Array<number>(nodes.length).fill(-1);
    nodes.forEach((node, i) => node.children.forEach((c) => (parentOf[c] = i)));
    // The equations a count is in: its parent's (named by the parent) and its own.
    const equationsOf = (i: number) => {
      const out: number[] = [];
      if ((parentOf[i] as number) >= 0) out.push(parentOf[i] as number);
      if ((nodes[i] as TreeNode).children.length) out.push(i);
      return out;
    };
    const members = (p: number) => [p, ...(nodes[p] as TreeNode).children];
    for (;;) {
      const bounds = readerBounds(nodes, kinds);
      const target = determined(nodes, kinds, bounds);
      if (target < 0) break;
      // Nearest equations first: those of the determined count, then those of the hidden counts in
      // them, and so on. In the first ring that has shown non-zero counts, hide the smallest one that
      // leaves the determined count open; if none does alone, the smallest (and look again).
      const seen = new Set<number>();
      let ring = equationsOf(target);
      let pick = -1;
      let fallback = -1;
      while (ring.length && pick < 0) {
        const next: number[] = [];
        const candidates: number[] = [];
        for (const p of ring) {
          if (seen.has(p)) continue;
          seen.add(p);
          for (const m of members(p)) {
            if (kinds[m] === 'shown') {
              if ((nodes[m] as TreeNode).value > 0 && !candidates.includes(m)) candidates.push(m);
            } else next.push(...equationsOf(m));
          }
        }
        candidates.sort((a, b) => (nodes[a] as TreeNode).value - (nodes[b] as TreeNode).value);
        for (const candidate of candidates) {
          kinds[candidate] = 'hidden';
          const after = readerBounds(nodes, kinds);
          kinds[candidate] = 'shown';
          if (after.lo[target] !== after.hi[target]) {
            pick = candidate;
            break;
          }
        }
        if (fallback < 0 && candidates.length) fallback = candidates[0] as number;
        ring = next;
      }
      if (pick < 0) pick = fallback;
      // With every non-zero count hidden a small count can no longer be pinned (thresholds are at
      // least 3, see groups.settings.ts), so this cannot happen; refuse rather than loop.
      if (pick < 0) throw new Error(`suppression: no count left to hide for node ${target}`);
      kinds[pick] = 'hidden';
    }
  }
  return nodes.map((node, i) => {
    const kind = kinds[i];
    if (kind === 'shown') return plainCell(node.value);
    return kind === 'small' ? smallCell(node.threshold) : { value: null, suppressed: true, display: '*' };
  });
}

/** Suppresses one table on its own: `cells` are the child regions' counts, `total` their sum. */
export function suppressColumn(
  cells: readonly number[],
  total: number,
  threshold: number,
): { cells: StatCell[]; total: StatCell } {
  const nodes: TreeNode[] = [
    { value: total, threshold, children: cells.map((_, i) => i + 1) },
    ...cells.map((value) => ({ value, threshold, children: [] })),
  ];
  const shown = suppressTree(nodes);
  return { cells: shown.slice(1), total: shown[0] as StatCell };
}

// ---------- Region trees ----------

/** Region code lengths from the country down: province, prefecture, county, township, village. */
const LEVEL_LENGTHS = [2, 4, 6, 9, 12] as const;

/**
 * The child of `code`'s table that a period stored under `stored` counts in. A period stored under a
 * coarser code than the table's children (a person whose village is unknown) is its own row, named by
 * that code; its node key carries a '|' so that it differs from the region's own node.
 */
export function childKey(code: string, stored: string): string {
  const length = LEVEL_LENGTHS.find((l) => l > code.length);
  if (length === undefined) return stored;
  return stored.length >= length ? stored.slice(0, length) : stored + '|';
}

/** The code a node key names in a table (the pseudo-child of a coarse code is that code). */
export function keyCode(key: string): string {
  return key.endsWith('|') ? key.slice(0, -1) : key;
}

/**
 * Suppresses one group's counts on one date over the whole region tree built from the counts per
 * stored region code (the country is the root ''). Returns the cell of every region key.
 */
export function suppressRegionTree(
  counts: ReadonlyMap<string, number>,
  thresholdOf: (code: string) => number,
): SuppressedTree {
  const index = new Map<string, number>([['', 0]]);
  const nodes: TreeNode[] = [{ value: 0, threshold: thresholdOf(''), children: [] }];
  const node = (key: string, parent: number): number => {
    let i = index.get(key);
    if (i === undefined) {
      i = nodes.length;
      index.set(key, i);
      nodes.push({ value: 0, threshold: thresholdOf(keyCode(key)), children: [] });
      (nodes[parent] as TreeNode).children.push(i);
    }
    return i;
  };
  for (const [stored, n] of counts) {
    if (n === 0) continue;
    let at = 0;
    let code = '';
    (nodes[0] as TreeNode).value += n;
    while (code.length < (LEVEL_LENGTHS[LEVEL_LENGTHS.length - 1] as number)) {
      const key = childKey(code, stored);
      at = node(key, at);
      (nodes[at] as TreeNode).value += n;
      if (key.endsWith('|')) break;
      code = key;
    }
  }
  const cells = suppressTree(nodes);
  const out = new SuppressedTree(thresholdOf);
  for (const [key, i] of index) out.set(key, cells[i] as StatCell);
  return out;
}

/**
 * The suppressed cell of every region key with a count; `cell(key)` also answers for a region with
 * none: a zero is a count under the threshold like any other and shows as "<5" too, so that "<5" means
 * 0 to 4 to a reader (were zeros shown, a "<5" would mean 1 to 4, and a township of "<5" with four
 * villages of "<5" would give away that each has exactly one).
 */
export class SuppressedTree extends Map<string, StatCell> {
  readonly #thresholdOf: (code: string) => number;

  constructor(thresholdOf: (code: string) => number) {
    super();
    this.#thresholdOf = thresholdOf;
  }

  cell(key: string): StatCell {
    return this.get(key) ?? smallCell(this.#thresholdOf(keyCode(key)));
  }
}

function smallCell(threshold: number): StatCell {
  return { value: null, suppressed: true, display: `<${threshold}` };
}
