// The personalized ranking's working memory: one score, one reason and one "seen" mark per item,
// in typed arrays the model keeps and reuses. A request scores thousands of candidates; with an
// object (and a Map entry) per candidate it allocated ~0.7 MB, enough that a young-generation
// scavenge (3-5 ms) landed in about one request in eight and made the p95 (issue 14). Reusing
// these arrays is safe because `recommend` is synchronous: one request uses them at a time
// (a filter that re-enters the model gets fresh ones, see `RecModel.personalized`).
import type { Neighbours } from './matrix.js';

/** `reason` of a candidate brought by trending, not by a profile item. */
export const TRENDING = -1;

/** The candidates of one personalized request, and their best-first order. */
export class Candidates {
  /** Score per item id, valid for the ids in `ids[0..count)`. */
  score = new Float64Array(0);
  /**
   * Per item id: kNN's largest single contribution while kNN scores; then, in the EASE^R blend,
   * the kNN part of the score (which decides the reason against EASE^R's part).
   */
  best = new Float64Array(0);
  /** Per item id: the profile item naming the reason (index in the weights), or `TRENDING`. */
  reason = new Int32Array(0);
  /** The candidate ids, in the order they were first touched; a heap while `next` ranks them. */
  ids = new Int32Array(0);
  count = 0;
  /** Whether a request is using these arrays (a re-entrant request must not). */
  busy = false;
  /** EASE^R's per-dense-item sums, largest contribution and its profile item (see dense.ts). */
  denseSum = new Float64Array(0);
  denseBest = new Float64Array(0);
  denseSource = new Int32Array(0);
  /** `stamp[id] === epoch` marks a candidate: a new request forgets all in O(1), no clearing. */
  private stamp = new Int32Array(0);
  private epoch = 0;
  /** Candidates left in the heap `ids[0..heap)`. */
  private heap = 0;

  /** Starts an empty candidate set over items `0..items-1` (growing the arrays when needed). */
  reset(items: number): void {
    if (this.score.length < items) {
      // Grown with headroom, so a catalog that grows item by item reallocates rarely.
      const size = Math.max(items, Math.ceil(this.score.length * 1.5));
      this.score = new Float64Array(size);
      this.best = new Float64Array(size);
      this.reason = new Int32Array(size);
      this.ids = new Int32Array(size);
      this.stamp = new Int32Array(size);
    }
    this.clear();
  }

  /** Forgets every candidate (the arrays stay). */
  clear(): void {
    this.count = 0;
    this.heap = 0;
    if (this.epoch === 0x7fffffff) {
      this.stamp.fill(0);
      this.epoch = 0;
    }
    this.epoch++;
  }

  has(id: number): boolean {
    return this.stamp[id] === this.epoch;
  }

  /** Adds a candidate that is not in the set yet. */
  add(id: number, score: number, best: number, reason: number): void {
    this.stamp[id] = this.epoch;
    this.ids[this.count++] = id;
    this.score[id] = score;
    this.best[id] = best;
    this.reason[id] = reason;
  }

  /**
   * Adds `w` × similarity for each neighbour of profile item `k`; the reason of a candidate is
   * the profile item with its largest single contribution.
   */
  addNeighbours({ ids, sims }: Neighbours, w: number, k: number): void {
    const { score, best, reason } = this;
    for (let x = 0; x < ids.length; x++) {
      const id = ids[x]!;
      const contribution = w * sims[x]!;
      if (!this.has(id)) this.add(id, contribution, contribution, k);
      else {
        score[id]! += contribution;
        if (contribution > best[id]!) {
          best[id] = contribution;
          reason[id] = k;
        }
      }
    }
  }

  /** Zeroed EASE^R scratch for `n` dense items (`denseSource` -1: no positive contribution). */
  denseScratch(n: number): void {
    if (this.denseSum.length < n) {
      this.denseSum = new Float64Array(n);
      this.denseBest = new Float64Array(n);
      this.denseSource = new Int32Array(n);
    }
    this.denseSum.fill(0, 0, n);
    this.denseBest.fill(0, 0, n);
    this.denseSource.fill(-1, 0, n);
  }

  /**
   * Starts handing out the candidates best first (`next`). A heap, not a sort: an answer takes
   * its first few candidates, so ordering all of them would waste time (and a sort with a
   * comparator copies the array). The order is the same as a sort's, for it is a strict total
   * order: higher score first, then the lower id.
   */
  rank(): void {
    this.heap = this.count;
    for (let x = (this.heap >> 1) - 1; x >= 0; x--) this.siftDown(x);
  }

  /** The best candidate not handed out yet, or -1 when none is left. */
  next(): number {
    if (this.heap === 0) return -1;
    const { ids } = this;
    const top = ids[0]!;
    this.heap--;
    if (this.heap > 0) {
      ids[0] = ids[this.heap]!;
      this.siftDown(0);
    }
    return top;
  }

  /** Whether candidate `a` ranks before `b`: the comparator the ranking always used. */
  private before(a: number, b: number): boolean {
    return (this.score[b]! - this.score[a]! || a - b) < 0;
  }

  private siftDown(x: number): void {
    const { ids, heap } = this;
    const id = ids[x]!;
    for (;;) {
      let child = 2 * x + 1;
      if (child >= heap) break;
      if (child + 1 < heap && this.before(ids[child + 1]!, ids[child]!)) child++;
      if (!this.before(ids[child]!, id)) break;
      ids[x] = ids[child]!;
      x = child;
    }
    ids[x] = id;
  }
}
