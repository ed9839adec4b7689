// Exponentially time-decayed scores, updated in O(1) per event. Scores are stored relative to a
// reference time, so ranking never needs "now": decay multiplies every score by the same factor.

export class DecayingScores {
  private readonly scores: number[] = [];
  private readonly rate: number;
  private readonly tieBreak: (id: number) => number;
  private origin: number | undefined;
  /** The exact top `cap` items (fewer when there are fewer items), best first. */
  private topCache: { ids: number[]; cap: number } | undefined;

  /**
   * `halfLifeMs`: an event counts half as much after this long. `tieBreak`: a secondary score
   * (higher first) that may only grow for an item when `add` is called for that same item.
   */
  constructor(halfLifeMs: number, tieBreak: (id: number) => number = () => 0) {
    this.rate = Math.LN2 / halfLifeMs;
    this.tieBreak = tieBreak;
  }

  /** Adds `weight` for item `id` at time `at` (ms); out-of-order times are fine. */
  add(id: number, weight: number, at: number): void {
    while (this.scores.length <= id) this.scores.push(0);
    this.origin ??= at;
    let exponent = (at - this.origin) * this.rate;
    // Keep exponents small so scores never overflow: move the origin forward and rescale.
    if (exponent > 500) {
      const factor = Math.exp(-exponent);
      for (let i = 0; i < this.scores.length; i++) this.scores[i]! *= factor;
      this.origin = at;
      exponent = 0;
      // Rescaling keeps the order, except where old scores underflow to equal zeros.
      this.topCache = undefined;
    }
    this.scores[id]! += weight * Math.exp(exponent);
    this.promote(id);
  }

  /** The score of one item (0 when unseen), relative to the other items. */
  score(id: number): number {
    return this.scores[id] ?? 0;
  }

  /** The score of `id` as it stands at time `now`, in event-weight units. */
  valueAt(id: number, now: number): number {
    const s = this.scores[id] ?? 0;
    return this.origin === undefined ? 0 : s * Math.exp((this.origin - now) * this.rate);
  }

  /** Ranking order: score, then the tie-break, both higher first, then the lower id. */
  readonly compare = (a: number, b: number): number =>
    this.score(b) - this.score(a) || this.tieBreak(b) - this.tieBreak(a) || a - b;

  /** Ids of the best `size` of items `0..itemCount-1`, best first (may return more). */
  top(size: number, itemCount: number): readonly number[] {
    const want = Math.min(size, itemCount);
    if (this.topCache && this.topCache.ids.length >= want) return this.topCache.ids;
    const ids: number[] = [];
    for (let i = 0; i < itemCount; i++) ids.push(i);
    this.topCache = { ids: selectTop(ids, want, this.compare), cap: want };
    return this.topCache.ids;
  }

  // Scores and tie-breaks only ever grow, and only for the item being added to, so the cached
  // top list stays exact by moving that one item: O(cap) per event instead of a full selection.
  private promote(id: number): void {
    const cache = this.topCache;
    if (!cache) return;
    const { ids } = cache;
    const at = ids.indexOf(id);
    if (at >= 0) ids.splice(at, 1);
    let lo = 0;
    let hi = ids.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.compare(ids[mid]!, id) < 0) lo = mid + 1;
      else hi = mid;
    }
    if (lo < cache.cap) {
      ids.splice(lo, 0, id);
      if (ids.length > cache.cap) ids.pop();
    }
  }

  /** Plain-JSON state. */
  toJSON(): { origin: number | null; scores: number[] } {
    return { origin: this.origin ?? null, scores: [...this.scores] };
  }

  /** Restores state saved by `toJSON`. */
  load(state: { origin: number | null; scores: number[] }): void {
    this.origin = state.origin ?? undefined;
    this.scores.length = 0;
    this.scores.push(...state.scores);
    this.topCache = undefined;
  }

  /** Forgets the cached ranking (e.g. when items are added without an event). */
  invalidate(): void {
    this.topCache = undefined;
  }
}

/** The first `k` of `ids` under `compare`, in order, without sorting everything. */
export function selectTop(
  ids: readonly number[],
  k: number,
  compare: (a: number, b: number) => number,
): number[] {
  if (k <= 0) return [];
  if (ids.length <= k * 4) return [...ids].sort(compare).slice(0, k);
  // A bounded max-heap on "worse": the root is the worst of the current top k.
  const heap: number[] = [];
  const worse = (a: number, b: number): boolean => compare(a, b) > 0;
  const up = (i: number): void => {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!worse(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const down = (i: number): void => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && worse(heap[l]!, heap[m]!)) m = l;
      if (r < heap.length && worse(heap[r]!, heap[m]!)) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m]!, heap[i]!];
      i = m;
    }
  };
  for (const id of ids) {
    if (heap.length < k) {
      heap.push(id);
      up(heap.length - 1);
    } else if (compare(id, heap[0]!) < 0) {
      heap[0] = id;
      down(0);
    }
  }
  return heap.sort(compare);
}
