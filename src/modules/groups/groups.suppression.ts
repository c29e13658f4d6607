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
// Rows need no sum: a person may belong to several groups, so no row total is shown. But a group that
// contains another (every left-behind elderly is a special-difficulty elderly) tells the reader that,
// region by region, the one count is at most the other: a shown subgroup count is a floor under the
// hidden count of its group, a group's small count a ceiling over its subgroup's. Such groups are
// suppressed together, with these inclusions among the reader's constraints (suppressRegionTrees).

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

/** "unseen": a count no table shows but a reader can speak of (one group's count minus another's). */
type Kind = 'shown' | 'small' | 'hidden' | 'unseen';

/** A count and the counts it is the sum of (empty for a leaf). Node 0 is the root. */
export interface TreeNode {
  value: number;
  threshold: number;
  children: number[];
  /** Never shown: the members of a group who are not in a group it contains, in one region. */
  unseen?: boolean;
}

interface Bounds {
  lo: Float64Array;
  hi: Float64Array;
}

/** A sum the reader knows beyond the region trees: node `[0]` is the sum of the nodes after it. */
export type Equation = readonly number[];

/**
 * The values each count can take given what a reader sees: tighten the bounds of every equation
 * (parent = sum of children, and the `extra` ones) until none changes. Exact on a tree of
 * unit-coefficient equations; with extra equations linking trees it never rules out a possible value.
 */
export function readerBounds(
  nodes: readonly TreeNode[],
  kinds: readonly Kind[],
  extra: readonly Equation[] = [],
): Bounds {
  const n = nodes.length;
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  const parents: number[] = [];
  for (let i = 0; i < n; i++) {
    const node = nodes[i] as TreeNode;
    const kind = kinds[i];
    // An unseen rest below zero (a subgroup's period stored in another village than its group's) is
    // bounded by nothing the reader truly knows there: it may be any value.
    lo[i] =
      kind === 'shown'
        ? node.value
        : kind === 'hidden'
          ? node.threshold
          : kind === 'unseen' && node.value < 0
            ? -Infinity
            : 0;
    hi[i] = kind === 'shown' ? node.value : kind === 'small' ? node.threshold - 1 : Infinity;
    if (node.children.length) parents.push(i);
  }
  const tighten = (p: number, children: readonly number[]): boolean => {
    let changed = false;
    // The children's bounds: the finite ones summed, the infinite ones counted (lower bounds are
    // infinite only for an unseen rest below zero).
    let sumLo = 0;
    let infiniteLo = 0;
    let sumHi = 0;
    let infinite = 0;
    for (const c of children) {
      const l = lo[c] as number;
      if (l === -Infinity) infiniteLo += 1;
      else sumLo += l;
      const h = hi[c] as number;
      if (h === Infinity) infinite += 1;
      else sumHi += h;
    }
    const allLo = infiniteLo ? -Infinity : sumLo;
    const allHi = infinite ? Infinity : sumHi;
    if (allLo > (lo[p] as number)) {
      lo[p] = allLo;
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
      const ownLo = lo[c] as number;
      const otherInfiniteLo = infiniteLo - (ownLo === -Infinity ? 1 : 0);
      const otherLo = otherInfiniteLo ? -Infinity : sumLo - (ownLo === -Infinity ? 0 : ownLo);
      const newLo = pLo - otherHi;
      const newHi = pHi - otherLo;
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
  // fixpoint; repeat until quiet anyway (extra equations carry bounds from one tree to another).
  const childrenOf = (p: number) => (nodes[p] as TreeNode).children;
  const extras = extra.map((equation) => [equation[0] as number, equation.slice(1)] as const);
  for (let pass = 0; pass < 1000; pass++) {
    let changed = false;
    for (let k = parents.length - 1; k >= 0; k--) {
      const p = parents[k] as number;
      if (tighten(p, childrenOf(p))) changed = true;
    }
    for (const p of parents) if (tighten(p, childrenOf(p))) changed = true;
    for (const [total, parts] of extras) if (tighten(total, parts)) changed = true;
    if (!changed) break;
  }
  return { lo, hi };
}

/**
 * A hidden non-zero count the reader can pin to one value (a pinned zero tells about nobody). Unseen
 * counts only carry what the reader knows; they are not cells of any table.
 */
function determined(nodes: readonly TreeNode[], kinds: readonly Kind[], bounds: Bounds): number {
  for (let i = 0; i < kinds.length; i++) {
    const kind = kinds[i];
    if (kind === 'shown' || kind === 'unseen') continue;
    if ((nodes[i] as TreeNode).value > 0 && bounds.lo[i] === bounds.hi[i]) return i;
  }
  return -1;
}

/**
 * Suppresses counts over region trees: node 0 is a root, every other node is in at most one parent's
 * `children` (a node in none is the root of another group's tree), and each parent's value is the sum
 * of its children's. `extra` are further sums the reader knows (a group's count is a group's it
 * contains plus the unseen rest); unseen nodes are never shown.
 */
export function suppressTree(nodes: readonly TreeNode[], extra: readonly Equation[] = []): StatCell[] {
  const kinds: Kind[] = nodes.map((node) =>
    node.unseen ? 'unseen' : node.value < node.threshold ? 'small' : 'shown',
  );
  if (kinds.includes('small')) {
    const parentOf = new Array<number>(nodes.length).fill(-1);
    nodes.forEach((node, i) => node.children.forEach((c) => (parentOf[c] = i)));
    // What the reader knows, as lists of the counts each fact ties together: one equation per parent
    // (the parent and its children), then the extra ones.
    const constraints: number[][] = [];
    const equationOf = new Array<number>(nodes.length).fill(-1);
    nodes.forEach((node, p) => {
      if (!node.children.length) return;
      equationOf[p] = constraints.length;
      constraints.push([p, ...node.children]);
    });
    const extrasOf = new Map<number, number[]>();
    for (const equation of extra) {
      for (const i of equation) {
        let list = extrasOf.get(i);
        if (!list) extrasOf.set(i, (list = []));
        list.push(constraints.length);
      }
      constraints.push([...equation]);
    }
    // The facts a count is in: its parent's equation, its own, then the extra ones.
    const constraintsOf = (i: number) => {
      const out: number[] = [];
      const parent = parentOf[i] as number;
      if (parent >= 0) out.push(equationOf[parent] as number);
      if ((equationOf[i] as number) >= 0) out.push(equationOf[i] as number);
      out.push(...(extrasOf.get(i) ?? []));
      return out;
    };
    for (;;) {
      const bounds = readerBounds(nodes, kinds, extra);
      const target = determined(nodes, kinds, bounds);
      if (target < 0) break;
      // Nearest facts first: those of the determined count, then those of the hidden counts in
      // them, and so on. In the first ring that has shown non-zero counts, hide the smallest one that
      // leaves the determined count open; if none does alone, the smallest (and look again).
      const seen = new Set<number>();
      let ring = constraintsOf(target);
      let pick = -1;
      let fallback = -1;
      while (ring.length && pick < 0) {
        const next: number[] = [];
        const candidates: number[] = [];
        for (const k of ring) {
          if (seen.has(k)) continue;
          seen.add(k);
          for (const m of constraints[k] as number[]) {
            if (kinds[m] === 'shown') {
              if ((nodes[m] as TreeNode).value > 0 && !candidates.includes(m)) candidates.push(m);
            } else next.push(...constraintsOf(m));
          }
        }
        candidates.sort((a, b) => (nodes[a] as TreeNode).value - (nodes[b] as TreeNode).value);
        for (const candidate of candidates) {
          kinds[candidate] = 'hidden';
          const after = readerBounds(nodes, kinds, extra);
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

/** One group's region tree (node 0 is the country, '') from its counts per stored region code. */
function regionNodes(
  counts: ReadonlyMap<string, number>,
  thresholdOf: (code: string) => number,
): { nodes: TreeNode[]; index: Map<string, number> } {
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
  return { nodes, index };
}

/**
 * Suppresses one group's counts on one date over the whole region tree built from the counts per
 * stored region code (the country is the root ''). Returns the cell of every region key.
 */
export function suppressRegionTree(
  counts: ReadonlyMap<string, number>,
  thresholdOf: (code: string) => number,
): SuppressedTree {
  return suppressRegionTrees(new Map([['', counts]]), [], thresholdOf).get('') as SuppressedTree;
}

/**
 * Suppresses several groups' counts on one date together, each over its whole region tree, where
 * `inclusions` name pairs [sub, sup] of groups in which every member of `sub` is a member of `sup`:
 * the reader then knows that in every region sub's count is at most sup's. A region with no count in
 * a group is taken as known to be zero there (as the single-tree search does), so it needs no inclusion.
 */
export function suppressRegionTrees(
  countsByGroup: ReadonlyMap<string, ReadonlyMap<string, number>>,
  inclusions: readonly (readonly [sub: string, sup: string])[],
  thresholdOf: (code: string) => number,
): Map<string, SuppressedTree> {
  const nodes: TreeNode[] = [];
  const indexes = new Map<string, Map<string, number>>();
  for (const [group, counts] of countsByGroup) {
    const tree = regionNodes(counts, thresholdOf);
    const base = nodes.length;
    for (const node of tree.nodes) nodes.push({ ...node, children: node.children.map((c) => c + base) });
    indexes.set(group, new Map([...tree.index].map(([key, i]) => [key, i + base])));
  }
  // For each inclusion, the unseen rest (sup's members not in sub) as a tree of its own, and per
  // region the equation sup = sub + rest. A region missing from a tree is a known zero there.
  const extra: number[][] = [];
  for (const [sub, sup] of inclusions) {
    const subCounts = countsByGroup.get(sub);
    const supCounts = countsByGroup.get(sup);
    const subIndex = indexes.get(sub);
    const supIndex = indexes.get(sup);
    if (!subCounts || !supCounts || !subIndex || !supIndex) continue;
    const rest = new Map<string, number>();
    for (const code of new Set([...subCounts.keys(), ...supCounts.keys()]))
      rest.set(code, (supCounts.get(code) ?? 0) - (subCounts.get(code) ?? 0));
    // A village may hold more of sub than of sup (a closed left-behind period keeps its old village
    // while the open special-difficulty period moved with the hukou): its rest is below zero. The pair
    // stays linked (the reader still knows the inclusion everywhere else); such a rest, and every rest
    // above it that is below zero, is taken as unbounded (readerBounds), so every equation stays true.
    const tree = regionNodes(rest, thresholdOf);
    const base = nodes.length;
    for (const node of tree.nodes)
      nodes.push({ ...node, children: node.children.map((c) => c + base), unseen: true });
    for (const [key, i] of supIndex) {
      const equation = [i];
      const inSub = subIndex.get(key);
      const inRest = tree.index.get(key);
      if (inSub !== undefined) equation.push(inSub);
      if (inRest !== undefined) equation.push(base + inRest);
      extra.push(equation);
    }
  }
  const cells = suppressTree(nodes, extra);
  const out = new Map<string, SuppressedTree>();
  for (const [group, index] of indexes) {
    const tree = new SuppressedTree(thresholdOf);
    for (const [key, i] of index) tree.set(key, cells[i] as StatCell);
    out.set(group, tree);
  }
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
