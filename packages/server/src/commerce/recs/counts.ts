// What the recommendation model knows, counted one write at a time: the items, co-purchase
// pairs from orders, co-view pairs from browsing sessions, time-decayed trending and all-time
// sales. `RecModel` (model.ts) ranks from these counts; snapshots persist them.
import { OmniError } from '@omnikit/protocol';
import { DecayingScores } from './decay.js';
import { CoMatrix } from './matrix.js';
import {
  DEFAULT_REC_OPTIONS,
  EVENT_TYPES,
  type RecEvent,
  type RecModelOptions,
  type RecModelState,
} from './options.js';

/** Orders too large for co-purchase pairs kept for EASE^R: the newest this many. */
const MAX_LARGE_BASKETS = 2000;

interface Session {
  lastAt: number;
  items: number[];
}

/** The counts behind recommendations; `RecModel` adds the ranking. */
export class RecCounts {
  private opts: Readonly<RecModelOptions>;
  protected readonly ids = new Map<string, number>();
  protected readonly skus: string[] = [];
  protected readonly bought: CoMatrix;
  protected readonly viewed: CoMatrix;
  protected readonly trend: DecayingScores;
  /** All-time purchase count per item: the popularity behind trending's ties. */
  protected readonly sales: number[] = [];
  private readonly sessions = new Map<string, Session>();
  /**
   * Baskets above `maxPairs` items: CoMatrix keeps no pairs for them, but EASE^R's Gram matrix
   * is over every basket, so their (few, large) item lists are kept here.
   */
  protected readonly largeBaskets: Int32Array[] = [];
  protected baskets = 0;

  constructor(options: Partial<RecModelOptions> = {}) {
    this.opts = { ...DEFAULT_REC_OPTIONS, ...options };
    this.bought = new CoMatrix(this.opts);
    this.viewed = new CoMatrix(this.opts);
    this.trend = new DecayingScores(this.opts.trendingHalfLifeMs, (id) => this.sales[id] ?? 0);
  }

  /** The options in force. */
  get options(): Readonly<RecModelOptions> {
    return this.opts;
  }

  /** Number of known items. */
  get size(): number {
    return this.skus.length;
  }

  /** Registers catalog items so fallbacks can offer them before any event mentions them. */
  addItems(skus: Iterable<string>): void {
    for (const sku of skus) this.intern(sku);
    this.trend.invalidate();
  }

  /** Records one order: co-purchase pairs, popularity and trending. Duplicate skus count once. */
  addBasket(skus: Iterable<string>, at: number): void {
    checkTime(at);
    const ids = [...new Set([...skus].map((s) => this.intern(s)))];
    if (ids.length === 0) return;
    this.bought.addSet(ids, this.options.maxPairs);
    if (ids.length > this.options.maxPairs) {
      // Bounded: the newest ones count (memory, snapshots and each rebuild's cost stay flat).
      if (this.largeBaskets.length >= MAX_LARGE_BASKETS) this.largeBaskets.shift();
      this.largeBaskets.push(Int32Array.from(ids));
    }
    this.baskets++;
    for (const id of ids) {
      this.sales[id]! += 1;
      this.trend.add(id, this.options.trendingWeights.purchase, at);
    }
  }

  /**
   * Records a live event. Views also grow the profile's browsing session (co-view pairs);
   * purchases only feed trending here: co-purchase pairs come from whole orders (`addBasket`).
   */
  addEvent(event: RecEvent): void {
    checkTime(event.at);
    if (!(EVENT_TYPES as readonly string[]).includes(event.type)) {
      throw new OmniError('invalid_argument', `Unknown event type "${String(event.type)}"`);
    }
    const id = this.intern(event.sku);
    this.trend.add(id, this.options.trendingWeights[event.type], event.at);
    if (event.type !== 'view') return;
    const { sessionGapMs, maxSessionItems, maxSessions } = this.options;
    let session = this.sessions.get(event.profileId);
    if (!session || event.at - session.lastAt > sessionGapMs) {
      session = { lastAt: event.at, items: [] };
    }
    // Re-inserting keeps the Map in least-recently-active order for eviction.
    this.sessions.delete(event.profileId);
    this.sessions.set(event.profileId, session);
    session.lastAt = Math.max(session.lastAt, event.at);
    if (this.sessions.size > maxSessions) {
      const oldest = this.sessions.keys().next().value;
      if (oldest !== undefined) this.sessions.delete(oldest);
    }
    if (session.items.includes(id)) return;
    if (session.items.length >= maxSessionItems) return;
    this.viewed.addToSet(id, session.items);
    session.items.push(id);
  }

  /**
   * Adds co-view counts kept for events no longer stored (see `coviewCounts`): what those
   * events' sessions added to the co-view matrix. Trending keeps nothing of them (by then
   * their weight has decayed to nothing).
   */
  addViewCounts(counts: Iterable<{ a: string; b: string; n: number }>): void {
    for (const { a, b, n } of counts) this.viewed.addCount(this.intern(a), this.intern(b), n);
  }

  /** Precomputes neighbour lists after a bulk load, so first requests are as fast as later ones. */
  warm(): void {
    this.bought.warm();
    this.viewed.warm();
    this.trend.top(256, this.skus.length);
  }

  /** Raw co-purchase count of two skus (0 when either is unknown). */
  coPurchases(a: string, b: string): number {
    const i = this.ids.get(a);
    const j = this.ids.get(b);
    return i === undefined || j === undefined ? 0 : this.bought.co(i, j);
  }

  /** Every sku bought together with `sku`, with the raw number of baskets they shared. */
  *coPurchased(sku: string): Generator<[string, number]> {
    const id = this.ids.get(sku);
    const row = id === undefined ? undefined : this.bought.row(id);
    for (const [j, co] of row ?? []) yield [this.skus[j]!, co];
  }

  /**
   * Changes scoring knobs without touching the counts: similarity settings drop the cached
   * neighbour lists (recomputed lazily, or at once by `warm()`); profile weights apply at once.
   */
  configure(
    scoring: Partial<
      Pick<
        RecModelOptions,
        | 'minSupport'
        | 'shrink'
        | 'alpha'
        | 'neighbours'
        | 'profileHalfLifeMs'
        | 'typeWeights'
        | 'viewSimilarityWeight'
        | 'maxProfileItems'
        | 'denseLambda'
        | 'denseKnnWeight'
        | 'trendWeight'
      >
    >,
  ): void {
    const before = this.opts;
    this.opts = { ...this.opts, ...scoring };
    const { minSupport, shrink, alpha, neighbours } = this.opts;
    if (
      minSupport !== before.minSupport ||
      shrink !== before.shrink ||
      alpha !== before.alpha ||
      neighbours !== before.neighbours
    ) {
      this.bought.setOptions(this.opts);
      this.viewed.setOptions(this.opts);
    }
  }

  /** Skus ranked by all-time purchases (popularity), ties by first appearance. */
  popular(limit: number, exclude: ReadonlySet<string> = new Set()): string[] {
    const order = this.skus.map((_, i) => i);
    order.sort((a, b) => (this.sales[b] ?? 0) - (this.sales[a] ?? 0) || a - b);
    const result: string[] = [];
    for (const id of order) {
      if (result.length >= limit) break;
      const sku = this.skus[id]!;
      if (!exclude.has(sku)) result.push(sku);
    }
    return result;
  }

  /** Snapshot of every count, e.g. to persist and restart without replaying the history. */
  toJSON(): RecModelState {
    return {
      format: 'omnikit-recs/1',
      options: { ...this.opts },
      skus: [...this.skus],
      sales: [...this.sales],
      bought: this.bought.toJSON(),
      viewed: this.viewed.toJSON(),
      trending: this.trend.toJSON(),
      largeBaskets: this.largeBaskets.map((b) => [...b]),
      baskets: this.baskets,
    };
  }

  /** Loads a snapshot's counts into this (empty) model: see `RecModel.fromJSON`. */
  protected restore(state: RecModelState): void {
    this.addItems(state.skus);
    state.sales.forEach((n, i) => (this.sales[i] = n));
    this.bought.load(state.bought);
    this.viewed.load(state.viewed);
    this.trend.load(state.trending);
    for (const b of state.largeBaskets ?? []) this.largeBaskets.push(Int32Array.from(b));
    this.baskets = state.baskets ?? 0;
  }

  /** Sizes, for logs and benches. */
  stats(): { items: number; boughtPairs: number; viewedPairs: number; sessions: number } {
    return {
      items: this.skus.length,
      boughtPairs: this.bought.pairs / 2,
      viewedPairs: this.viewed.pairs / 2,
      sessions: this.sessions.size,
    };
  }

  private intern(sku: string): number {
    let id = this.ids.get(sku);
    if (id === undefined) {
      id = this.skus.length;
      this.ids.set(sku, id);
      this.skus.push(sku);
      this.sales.push(0);
      this.bought.ensure(id + 1);
      this.viewed.ensure(id + 1);
    }
    return id;
  }
}

// One NaN time would poison every trending score at once, so bad times are refused at the door.
function checkTime(at: number): void {
  if (!Number.isFinite(at)) throw new OmniError('invalid_argument', `Bad event time "${at}"`);
}
