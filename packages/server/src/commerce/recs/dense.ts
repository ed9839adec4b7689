// The EASE^R part of personalized recommendations: the Gram matrix of the best sellers built
// from the model's counts, the solved weights as the model keeps them, and the blend of their
// scores with the item kNN's.
import type { Reason } from '@omnikit/protocol';
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
 * An item's reason is the profile item that added the most to its score.
 */
export function blend(
  dense: Dense,
  weights: readonly [number, { w: number; reason: Reason }][],
  knn: ReadonlyMap<number, { s: number; best: number; reason: Reason }>,
  knnWeight: number,
): { id: number; s: number; reason: Reason }[] {
  const { n, b, row, ids } = dense;
  const e = new Float64Array(n);
  const best = new Float64Array(n);
  const source = new Int32Array(n).fill(-1);
  weights.forEach(([id, { w }], k) => {
    const r = id < row.length ? row[id]! : -1;
    if (r < 0) return;
    const base = r * n;
    for (let j = 0; j < n; j++) {
      const v = w * b[base + j]!;
      e[j]! += v;
      if (v > best[j]!) {
        best[j] = v;
        source[j] = k;
      }
    }
  });
  let maxE = 0;
  for (let j = 0; j < n; j++) if (e[j]! > maxE) maxE = e[j]!;
  let maxK = 0;
  for (const { s } of knn.values()) if (s > maxK) maxK = s;
  const kw = maxK > 0 ? knnWeight / maxK : 0;
  // The entries are the answer's objects (with `part` on top): a request allocates one object
  // per candidate, not three (thousands of candidates per request, each a young-GC cost).
  const merged = new Map<number, { id: number; s: number; reason: Reason; part: number }>();
  for (const [id, { s, reason }] of knn) {
    if (kw > 0) merged.set(id, { id, s: s * kw, reason, part: s * kw });
  }
  if (maxE > 0) {
    for (let j = 0; j < n; j++) {
      // Only positive evidence: a negative EASE^R score says "less likely", not "recommend".
      if (!(e[j]! > 0) || source[j]! < 0) continue;
      const part = e[j]! / maxE;
      const reason = weights[source[j]!]![1].reason;
      const id = ids[j]!;
      const m = merged.get(id);
      if (!m) merged.set(id, { id, s: part, reason, part });
      else {
        m.s += part;
        if (part > m.part) m.reason = reason;
      }
    }
  }
  return [...merged.values()];
}
