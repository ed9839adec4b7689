// A sparse, symmetric item-item co-occurrence matrix that grows one basket (or one browsing
// session) at a time, with per-item neighbour lists cached until that item's row changes.

/** How co-occurrence counts become a similarity. */
export interface SimilarityOptions {
  /** Pairs seen together fewer times than this are noise, not neighbours. */
  minSupport: number;
  /** Shrinks similarities built on few co-occurrences: sim * co / (co + shrink). */
  shrink: number;
  /**
   * Asymmetric cosine: co / (n_i^alpha * n_j^(1 - alpha)). 0.5 is plain cosine; higher values
   * penalise popular neighbours less (more popularity in the results).
   */
  alpha: number;
  /** Neighbours kept per item (the k of k-nearest-neighbours). */
  neighbours: number;
}

/** An item's nearest neighbours, best first. */
export interface Neighbours {
  ids: Int32Array;
  sims: Float64Array;
}

/** Serialised counts of a {@link CoMatrix}. */
export interface CoMatrixState {
  counts: number[];
  pairs: number[];
}

const EMPTY: Neighbours = { ids: new Int32Array(0), sims: new Float64Array(0) };

export class CoMatrix {
  /** Number of sets (baskets, sessions) that contained each item. */
  readonly counts: number[] = [];
  private readonly rows: Map<number, number>[] = [];
  private readonly stamps: number[] = [];
  private readonly cache: ({ stamp: number; list: Neighbours } | undefined)[] = [];
  private options: SimilarityOptions;

  constructor(options: SimilarityOptions) {
    this.options = options;
  }

  /** Changes how counts become similarities; every cached neighbour list is dropped. */
  setOptions(options: SimilarityOptions): void {
    this.options = options;
    this.cache.fill(undefined);
  }

  /** Makes room for item ids below `size`. */
  ensure(size: number): void {
    for (let i = this.counts.length; i < size; i++) {
      this.counts.push(0);
      this.rows.push(new Map());
      this.stamps.push(0);
      this.cache.push(undefined);
    }
  }

  /** Counts one set of distinct items; pairs only when the set has at most `maxPairs` items. */
  addSet(ids: readonly number[], maxPairs: number): void {
    for (const id of ids) {
      this.ensure(id + 1);
      this.counts[id]! += 1;
    }
    // Wholesale orders with hundreds of lines say little about which items go together and
    // would cost O(n^2) updates, so they count toward popularity only.
    if (ids.length > maxPairs) return;
    for (let a = 0; a < ids.length; a++) {
      const i = ids[a]!;
      const row = this.rows[i]!;
      for (let b = 0; b < ids.length; b++) {
        if (a === b) continue;
        const j = ids[b]!;
        row.set(j, (row.get(j) ?? 0) + 1);
      }
      this.stamps[i]! += 1;
    }
  }

  /** Adds one item to an existing set that already holds `others` (a session growing). */
  addToSet(id: number, others: readonly number[]): void {
    this.ensure(id + 1);
    this.counts[id]! += 1;
    const row = this.rows[id]!;
    for (const j of others) {
      row.set(j, (row.get(j) ?? 0) + 1);
      const back = this.rows[j]!;
      back.set(id, (back.get(id) ?? 0) + 1);
      this.stamps[j]! += 1;
    }
    this.stamps[id]! += 1;
  }

  /** Adds `n` sets holding both `i` and `j` (`i === j`: holding `i`), e.g. from stored totals. */
  addCount(i: number, j: number, n: number): void {
    this.ensure(Math.max(i, j) + 1);
    if (i === j) {
      this.counts[i]! += n;
    } else {
      this.rows[i]!.set(j, (this.rows[i]!.get(j) ?? 0) + n);
      this.rows[j]!.set(i, (this.rows[j]!.get(i) ?? 0) + n);
      this.stamps[j]! += 1;
    }
    this.stamps[i]! += 1;
  }

  /** Raw co-occurrence count of two items. */
  co(i: number, j: number): number {
    return this.rows[i]?.get(j) ?? 0;
  }

  /** The row of raw counts of one item (read-only view). */
  row(i: number): ReadonlyMap<number, number> | undefined {
    return this.rows[i];
  }

  /** Number of stored (directed) pairs. */
  get pairs(): number {
    let n = 0;
    for (const row of this.rows) n += row.size;
    return n;
  }

  /** The top-k neighbours of an item, recomputed only when its own row has changed. */
  neighbours(i: number): Neighbours {
    const row = this.rows[i];
    if (!row || row.size === 0) return EMPTY;
    const cached = this.cache[i];
    // The denominators of other items drift as they sell, but an item's list is refreshed
    // whenever it is bought with anything, which keeps it close without global rebuilds.
    if (cached && cached.stamp === this.stamps[i]) return cached.list;
    const list = this.computeNeighbours(i, row);
    this.cache[i] = { stamp: this.stamps[i]!, list };
    return list;
  }

  /** Plain-JSON state: counts and each unordered pair once as flat `[i, j, count]` triples. */
  toJSON(): CoMatrixState {
    const pairs: number[] = [];
    this.rows.forEach((row, i) => {
      for (const [j, co] of row) if (i < j) pairs.push(i, j, co);
    });
    return { counts: [...this.counts], pairs };
  }

  /** Restores counts saved by `toJSON` into an empty matrix. */
  load(state: CoMatrixState): void {
    this.ensure(state.counts.length);
    state.counts.forEach((n, i) => (this.counts[i] = n));
    for (let x = 0; x + 2 < state.pairs.length; x += 3) {
      const i = state.pairs[x]!;
      const j = state.pairs[x + 1]!;
      const co = state.pairs[x + 2]!;
      this.ensure(Math.max(i, j) + 1);
      this.rows[i]!.set(j, co);
      this.rows[j]!.set(i, co);
    }
    this.cache.fill(undefined);
  }

  /** Computes every stale neighbour list now, e.g. after a bulk load, off the request path. */
  warm(): void {
    for (let i = 0; i < this.rows.length; i++) this.neighbours(i);
  }

  private computeNeighbours(i: number, row: Map<number, number>): Neighbours {
    const { minSupport, shrink, alpha, neighbours: k } = this.options;
    const ni = Math.pow(this.counts[i]!, alpha);
    const ids: number[] = [];
    const sims: number[] = [];
    for (const [j, co] of row) {
      if (co < minSupport) continue;
      const sim = (co / (ni * Math.pow(this.counts[j]!, 1 - alpha))) * (co / (co + shrink));
      ids.push(j);
      sims.push(sim);
    }
    const order = ids.map((_, x) => x);
    // Ties break on the id so results never depend on insertion order.
    order.sort((a, b) => sims[b]! - sims[a]! || ids[a]! - ids[b]!);
    const n = Math.min(k, order.length);
    const out: Neighbours = { ids: new Int32Array(n), sims: new Float64Array(n) };
    for (let x = 0; x < n; x++) {
      out.ids[x] = ids[order[x]!]!;
      out.sims[x] = sims[order[x]!]!;
    }
    return out;
  }
}
