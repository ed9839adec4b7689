// The EASE^R part of personalized recommendations: the Gram matrix of the best sellers built
// from the model's counts, the solved weights as the model keeps them, and the blend of their
// scores with the item kNN's.
import type { Candidates } from './candidates.js';
import type { CoMatrix } from './matrix.js';

/** Built EASE^R weights over `ids` (model item ids), with the basket count they were built at. */
export interface Dense {
  n: number;
  ids: Int32Array;
  /** Model item id -> row of `b`, -1 outside the dense items (and for later items). */
  row: Int32Array;
  b: Float32Array;
  baskets: number;
  lambda: number;
}

/** What a build reads from the counts (a `RecCounts`). */
export interface DenseSource {
  /** All-time sales per item id (one entry per known item). */
  readonly sales: readonly number[];
  readonly bought: CoMatrix;
  /** Baskets too large for co-purchase pairs, as item ids. */
  readonly largeBaskets: readonly Int32Array[];
  /** Baskets counted so far. */
  readonly baskets: number;
}

/** A Gram matrix ready to solve, with what the solved weights will be tagged with. */
export interface DenseInput {
  ids: Int32Array;
  gram: Float64Array;
  lambda: number;
  baskets: number;
}

/** The Gram matrix XᵀX of every basket over the best-selling `maxItems` items. */
export function denseInput(
  src: DenseSource,
  maxItems: number,
  lambda: number,
): DenseInput | undefined {
  if (maxItems <= 0) return undefined;
  const order: number[] = [];
  for (let id = 0; id < src.sales.length; id++) if (src.sales[id]! > 0) order.push(id);
  if (order.length === 0) return undefined;
  order.sort((a, b) => src.sales[b]! - src.sales[a]! || a - b);
  // Ids ascending, so the matrix (and its solution) depends on the item set, not on ties.
  const ids = Int32Array.from(order.slice(0, maxItems)).sort();
  const n = ids.length;
  const at = new Int32Array(src.sales.length).fill(-1);
  ids.forEach((id, r) => (at[id] = r));
  const gram = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const id = ids[r]!;
    gram[r * n + r] = src.bought.counts[id] ?? 0;
    for (const [j, co] of src.bought.row(id) ?? []) {
      const c = at[j]!;
      if (c >= 0) gram[r * n + c] = co;
    }
  }
  for (const basket of src.largeBaskets) {
    for (const i of basket) {
      const r = at[i]!;
      if (r < 0) continue;
      for (const j of basket) {
        const c = at[j]!;
        if (c >= 0 && c !== r) gram[r * n + c]! += 1;
      }
    }
  }
  return { ids, gram, lambda, baskets: src.baskets };
}

/** The weights `b` solved from `input`, indexed for a model of `items` items. */
export function denseFrom(input: DenseInput, b: Float32Array, items: number): Dense {
  const { ids, lambda, baskets } = input;
  const row = new Int32Array(items).fill(-1);
  ids.forEach((id, r) => (row[id] = r));
  return { n: ids.length, ids, row, b, baskets, lambda };
}

/**
 * EASE^R scores x·B over the dense items plus the kNN scores, each scaled so its best is 1:
 * kNN reaches the items EASE^R does not cover (and co-views), EASE^R ranks the best sellers.
 * An item's reason is the profile item that added the most to its score. `c` holds the kNN
 * candidates on entry (score, reason) and the blended ones on return, in place: a request
 * allocates nothing per candidate (see candidates.ts).
 */
export function blend(
  dense: Dense,
  weights: readonly (readonly [number, { w: number }])[],
  c: Candidates,
  knnWeight: number,
): void {
  const { n, b, row, ids } = dense;
  c.denseScratch(n);
  const { denseSum: e, denseBest: best, denseSource: source } = c;
  for (let k = 0; k < weights.length; k++) {
    const [id, { w }] = weights[k]!;
    const r = id < row.length ? row[id]! : -1;
    if (r < 0) continue;
    const base = r * n;
    for (let j = 0; j < n; j++) {
      const v = w * b[base + j]!;
      e[j]! += v;
      if (v > best[j]!) {
        best[j] = v;
        source[j] = k;
      }
    }
  }
  let maxE = 0;
  for (let j = 0; j < n; j++) if (e[j]! > maxE) maxE = e[j]!;
  let maxK = 0;
  for (let x = 0; x < c.count; x++) {
    const s = c.score[c.ids[x]!]!;
    if (s > maxK) maxK = s;
  }
  const kw = maxK > 0 ? knnWeight / maxK : 0;
  if (kw > 0) {
    // `best` now holds each kNN candidate's kNN part, which EASE^R's part must beat to name
    // the reason.
    for (let x = 0; x < c.count; x++) {
      const id = c.ids[x]!;
      const part = c.score[id]! * kw;
      c.score[id] = part;
      c.best[id] = part;
    }
  } else {
    c.clear();
  }
  if (maxE > 0) {
    for (let j = 0; j < n; j++) {
      // Only positive evidence: a negative EASE^R score says "less likely", not "recommend".
      if (!(e[j]! > 0) || source[j]! < 0) continue;
      const part = e[j]! / maxE;
      const id = ids[j]!;
      if (!c.has(id)) c.add(id, part, part, source[j]!);
      else {
        c.score[id]! += part;
        if (part > c.best[id]!) c.reason[id] = source[j]!;
      }
    }
  }
}
