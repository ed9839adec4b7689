// The recommendation model: item-item co-occurrence from baskets (also-bought) and browsing
// sessions (also-viewed), time-decayed trending, and personalized: EASE^R over the best-selling
// items (up to `denseMaxItems`, every item of a demo-sized shop) blended with item-based
// k-nearest-neighbours over every item. Counts are incremental; the dense EASE^R weights are
// rebuilt from them off the request path (`refreshDense`); a request only reads.
import {
  LIMITS,
  OmniError,
  STRATEGIES,
  isStrategy,
  type Reason,
  type Strategy,
} from '@omnikit/protocol';
import { CoMatrix, type CoMatrixState, type SimilarityOptions } from './matrix.js';
import { DecayingScores } from './decay.js';
import { easeWeights, easeWeightsAsync } from './ease.js';

/** The protocol's strategies (one list, in the order a 400 lists them). */
export { STRATEGIES };

export const EVENT_TYPES = ['view', 'add_to_cart', 'purchase'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** One shopper interaction, from any device or channel. */
export interface RecEvent {
  profileId: string;
  sku: string;
  type: EventType;
  /** ms since epoch. */
  at: number;
}

/** A sku with the time the profile touched it (ms since epoch). */
export interface TimedSku {
  sku: string;
  at: number;
}

/** What the model knows about the caller: the profile's items from every device. */
export interface ProfileItems {
  viewed?: readonly TimedSku[];
  cart?: readonly TimedSku[];
  purchased?: readonly TimedSku[];
}

/** A recommended sku as the model ranks it; the route adds the product card for the wire. */
export interface ScoredItem {
  sku: string;
  /** Comparable within one answer only. */
  score: number;
  reason: Reason;
}

export interface RecommendRequest {
  strategy: Strategy;
  /** The anchor item of `also-bought` / `also-viewed`. */
  sku?: string;
  profile?: ProfileItems;
  /** 1..100, default 10. */
  limit?: number;
  /** Skus never to return (e.g. the current page's product). */
  exclude?: Iterable<string>;
  /** Only skus passing this are returned (e.g. in the catalog and in stock). */
  filter?: (sku: string) => boolean;
  /** Reference time for profile recency (ms); defaults to the newest profile item. */
  now?: number;
}

export interface RecommendResult {
  strategy: Strategy;
  items: ScoredItem[];
}

export interface RecModelOptions extends SimilarityOptions {
  /** Baskets/sessions with more distinct items than this count toward popularity only. */
  maxPairs: number;
  trendingHalfLifeMs: number;
  /** Weight of each event type in trending. */
  trendingWeights: Record<EventType, number>;
  /** Profile items lose half their weight after this long. */
  profileHalfLifeMs: number;
  /** Weight of a profile item by how it was touched: purchase > add_to_cart > view. */
  typeWeights: Record<EventType, number>;
  /** How much co-view similarity counts next to co-purchase in `personalized`. */
  viewSimilarityWeight: number;
  /** At most this many of the profile's items (the strongest) feed `personalized`. */
  maxProfileItems: number;
  /** A pause longer than this starts a new browsing session. */
  sessionGapMs: number;
  /** Items per session that form co-view pairs. */
  maxSessionItems: number;
  /** Open sessions kept; the least recently active is dropped beyond this. */
  maxSessions: number;
  /**
   * EASE^R covers at most this many items, the best sellers: its build costs O(n³) time and
   * 12·n² bytes at the peak. Every item of a smaller shop; 0 turns it off (kNN alone).
   */
  denseMaxItems: number;
  /** The EASE^R ridge λ. */
  denseLambda: number;
  /** Weight of the kNN scores next to the EASE^R scores (each scaled to a best of 1). */
  denseKnnWeight: number;
  /**
   * Weight of trending (scaled to a best of 1) in the EASE^R blend of `personalized`: what
   * sells now, for a shop whose demand moves with the season.
   */
  trendWeight: number;
  /** EASE^R is (re)built once this many baskets arrived since its last build (or the start). */
  denseRebuildBaskets: number;
  /**
   * The solver used for EASE^R weights (default: `easeWeights`); the offline evaluation passes
   * a memoizing one so that it solves each identical Gram matrix once.
   */
  denseSolver?: (gram: Float64Array, n: number, lambda: number) => Float32Array;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

// Similarity and profile recency defaults are the settings chosen on the validation split of
// scripts/eval-recs.ts (see docs/recs-eval.md); the event weights encode purchase > cart > view.
export const DEFAULT_REC_OPTIONS: Readonly<RecModelOptions> = {
  minSupport: 2,
  shrink: 10,
  alpha: 0.5,
  neighbours: 20,
  maxPairs: 100,
  trendingHalfLifeMs: 7 * DAY,
  trendingWeights: { view: 1, add_to_cart: 3, purchase: 5 },
  profileHalfLifeMs: 30 * DAY,
  typeWeights: { view: 1, add_to_cart: 2, purchase: 3 },
  viewSimilarityWeight: 0.5,
  maxProfileItems: 50,
  sessionGapMs: 30 * 60_000,
  maxSessionItems: 50,
  maxSessions: 100_000,
  denseMaxItems: 4_000,
  denseLambda: 200,
  denseKnnWeight: 0.5,
  trendWeight: 0,
  denseRebuildBaskets: 1_000,
};

const MAX_LIMIT = LIMITS.maxRecommendations;
/** Orders too large for co-purchase pairs kept for EASE^R: the newest this many. */
const MAX_LARGE_BASKETS = 2000;
/** Trending items that may join personalized candidates (see `trendWeight`). */
const TREND_CANDIDATES = 256;

/** A snapshot of a model's counts (not its open browsing sessions), as plain JSON. */
export interface RecModelState {
  format: 'omnikit-recs/1';
  options: RecModelOptions;
  skus: string[];
  sales: number[];
  bought: CoMatrixState;
  viewed: CoMatrixState;
  trending: { origin: number | null; scores: number[] };
  /** Baskets too large for co-purchase pairs, kept for the EASE^R Gram matrix (item ids). */
  largeBaskets?: number[][];
  /** Baskets counted (paces EASE^R rebuilds). */
  baskets?: number;
}

interface Session {
  lastAt: number;
  items: number[];
}

/** Built EASE^R weights over `ids` (model item ids), with the basket count they were built at. */
interface Dense {
  n: number;
  ids: Int32Array;
  /** Model item id -> row of `b`, -1 outside the dense items (and for later items). */
  row: Int32Array;
  b: Float32Array;
  baskets: number;
  lambda: number;
}

/** Item-based recommendations over orders and live events, updated one write at a time. */
export class RecModel {
  private opts: Readonly<RecModelOptions>;
  private readonly ids = new Map<string, number>();
  private readonly skus: string[] = [];
  private readonly bought: CoMatrix;
  private readonly viewed: CoMatrix;
  private readonly trend: DecayingScores;
  /** All-time purchase count per item: the popularity behind trending's ties. */
  private readonly sales: number[] = [];
  private readonly sessions = new Map<string, Session>();
  /**
   * Baskets above `maxPairs` items: CoMatrix keeps no pairs for them, but EASE^R's Gram matrix
   * is over every basket, so their (few, large) item lists are kept here.
   */
  private readonly largeBaskets: Int32Array[] = [];
  private baskets = 0;
  private dense: Dense | undefined;
  private denseBuild: Promise<void> | undefined;

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

  /** Recommendations for one request; never random, and never empty when items are known. */
  recommend(request: RecommendRequest): RecommendResult {
    const { strategy } = request;
    if (!isStrategy(strategy)) {
      throw new OmniError('invalid_argument', `Unknown strategy "${String(strategy)}"`, {
        details: { strategies: STRATEGIES },
      });
    }
    const limit = request.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new OmniError('invalid_argument', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    if ((strategy === 'also-bought' || strategy === 'also-viewed') && !request.sku) {
      throw new OmniError('invalid_argument', `Strategy "${strategy}" needs a sku`);
    }
    const profile = request.profile ?? {};
    const out = new Collector(limit, request.filter);
    for (const sku of request.exclude ?? []) out.block(sku);
    if (request.sku) out.block(request.sku);

    if (strategy === 'recently-viewed') {
      // Only what the shopper really viewed: padding this list with other items would lie.
      const seen = [...(profile.viewed ?? [])].sort((a, b) => b.at - a.at);
      for (const v of seen) {
        out.add(v.sku, v.at, { code: 'recently_viewed', text: 'recently viewed' });
      }
      return { strategy, items: out.items };
    }

    // Items already in the cart or bought are not worth recommending again in this shop.
    for (const line of profile.cart ?? []) out.block(line.sku);
    for (const p of profile.purchased ?? []) out.block(p.sku);

    if (strategy === 'also-bought' || strategy === 'also-viewed') {
      const anchor = request.sku!;
      const first = strategy === 'also-bought' ? 'bought' : 'viewed';
      this.similarTo(anchor, first, out);
      this.similarTo(anchor, first === 'bought' ? 'viewed' : 'bought', out);
    }
    if (strategy !== 'trending') {
      // Personalized items never repeat what the shopper just viewed: recently-viewed shows those.
      for (const v of profile.viewed ?? []) out.blockSoft(v.sku);
      this.personalized(profile, request.now, out);
    }
    this.trending(out);
    return { strategy, items: out.items };
  }

  /** The score a profile item carries: its type weight, halved every profile half-life. */
  profileWeights(profile: ProfileItems, now?: number): Map<number, { w: number; reason: Reason }> {
    const { typeWeights, profileHalfLifeMs } = this.options;
    const sources: [readonly TimedSku[] | undefined, EventType][] = [
      [profile.viewed, 'view'],
      [profile.cart, 'add_to_cart'],
      [profile.purchased, 'purchase'],
    ];
    let ref = now ?? -Infinity;
    if (now === undefined) {
      for (const [list] of sources) for (const item of list ?? []) ref = Math.max(ref, item.at);
    }
    const weights = new Map<number, { w: number; best: number; reason: Reason }>();
    for (const [list, type] of sources) {
      for (const item of list ?? []) {
        const id = this.ids.get(item.sku);
        if (id === undefined) continue;
        const age = Math.max(0, ref - item.at);
        const w = typeWeights[type] * Math.pow(0.5, age / profileHalfLifeMs);
        const entry = weights.get(id);
        // Weights add up (viewed, then bought), and the strongest touch names the reason.
        if (!entry) weights.set(id, { w, best: w, reason: reasonFor(type, item.sku) });
        else {
          entry.w += w;
          if (w > entry.best) {
            entry.best = w;
            entry.reason = reasonFor(type, item.sku);
          }
        }
      }
    }
    return weights;
  }

  /** Item-based kNN: candidates score the weighted sum of their similarity to profile items. */
  private personalized(profile: ProfileItems, now: number | undefined, out: Collector): void {
    if (out.full) return;
    const weights = [...this.profileWeights(profile, now)]
      .sort((a, b) => b[1].w - a[1].w || a[0] - b[0])
      .slice(0, this.options.maxProfileItems);
    if (weights.length === 0) return;
    const knn = this.knnScores(weights);
    const dense = this.dense;
    let ranked: { id: number; s: number; reason: Reason }[];
    if (dense && this.options.denseMaxItems > 0) {
      ranked = this.blend(dense, weights, knn);
      // Tuned together with EASE^R; a shop too small for it keeps plain kNN answers.
      this.addTrend(ranked);
    } else {
      ranked = [...knn].map(([id, { s, reason }]) => ({ id, s, reason }));
    }
    ranked.sort((a, b) => b.s - a.s || a.id - b.id);
    for (const { id, s, reason } of ranked) {
      if (out.full) return;
      out.add(this.skus[id]!, s, reason);
    }
  }

  /** kNN scores: the weighted sum of each candidate's similarity to the profile's items. */
  private knnScores(
    weights: readonly [number, { w: number; reason: Reason }][],
  ): Map<number, { s: number; best: number; reason: Reason }> {
    const scores = new Map<number, { s: number; best: number; reason: Reason }>();
    const vw = this.options.viewSimilarityWeight;
    const accumulate = (matrix: CoMatrix, source: number, w: number, reason: Reason): void => {
      const { ids, sims } = matrix.neighbours(source);
      for (let x = 0; x < ids.length; x++) {
        const c = ids[x]!;
        const contribution = w * sims[x]!;
        const entry = scores.get(c);
        if (!entry) scores.set(c, { s: contribution, best: contribution, reason });
        else {
          entry.s += contribution;
          if (contribution > entry.best) {
            entry.best = contribution;
            entry.reason = reason;
          }
        }
      }
    };
    for (const [id, { w, reason }] of weights) {
      accumulate(this.bought, id, w, reason);
      if (vw > 0) accumulate(this.viewed, id, w * vw, reason);
    }
    return scores;
  }

  /**
   * EASE^R scores x·B over the dense items plus the kNN scores, each scaled so its best is 1:
   * kNN reaches the items EASE^R does not cover (and co-views), EASE^R ranks the best sellers.
   * An item's reason is the profile item that added the most to its score.
   */
  private blend(
    dense: Dense,
    weights: readonly [number, { w: number; reason: Reason }][],
    knn: ReadonlyMap<number, { s: number; best: number; reason: Reason }>,
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
    const kw = maxK > 0 ? this.options.denseKnnWeight / maxK : 0;
    const merged = new Map<number, { s: number; reason: Reason; part: number }>();
    for (const [id, { s, reason }] of knn) {
      if (kw > 0) merged.set(id, { s: s * kw, reason, part: s * kw });
    }
    if (maxE > 0) {
      for (let j = 0; j < n; j++) {
        // Only positive evidence: a negative EASE^R score says "less likely", not "recommend".
        if (!(e[j]! > 0) || source[j]! < 0) continue;
        const part = e[j]! / maxE;
        const reason = weights[source[j]!]![1].reason;
        const id = ids[j]!;
        const m = merged.get(id);
        if (!m) merged.set(id, { s: part, reason, part });
        else {
          m.s += part;
          if (part > m.part) m.reason = reason;
        }
      }
    }
    return [...merged].map(([id, { s, reason }]) => ({ id, s, reason }));
  }

  /**
   * Adds `trendWeight` × trending (scaled to a best of 1) to the candidates, and the trending
   * top items as candidates of their own: the season counts too, not only the profile.
   */
  private addTrend(ranked: { id: number; s: number; reason: Reason }[]): void {
    const weight = this.options.trendWeight;
    if (!(weight > 0) || ranked.length === 0) return;
    const top = this.trend.top(TREND_CANDIDATES, this.skus.length);
    const max = top.length > 0 ? this.trend.score(top[0]!) : 0;
    if (!(max > 0)) return;
    let best = 0;
    for (const r of ranked) best = Math.max(best, r.s);
    // Profile scores are on the scale of their best candidate; trending joins on that scale.
    const scale = ((best > 0 ? best : 1) * weight) / max;
    const at = new Map(ranked.map((r, x) => [r.id, x]));
    for (const id of top) {
      const t = this.trend.score(id) * scale;
      if (!(t > 0)) break;
      const x = at.get(id);
      if (x !== undefined) ranked[x]!.s += t;
      else ranked.push({ id, s: t, reason: { code: 'trending', text: 'trending' } });
    }
  }

  /** Whether the EASE^R weights are missing or behind by `denseRebuildBaskets` baskets. */
  get denseStale(): boolean {
    const { denseMaxItems, denseRebuildBaskets } = this.options;
    if (denseMaxItems <= 0 || this.baskets < denseRebuildBaskets) return false;
    return (
      !this.dense ||
      this.dense.lambda !== this.options.denseLambda ||
      this.baskets - this.dense.baskets >= denseRebuildBaskets
    );
  }

  /** Whether a background EASE^R rebuild is running. */
  get denseBuilding(): boolean {
    return this.denseBuild !== undefined;
  }

  /** Sizes of the EASE^R part: items covered and the baskets it was built from (0 if none). */
  denseStats(): { items: number; baskets: number; bytes: number } {
    const d = this.dense;
    return { items: d?.n ?? 0, baskets: d?.baskets ?? 0, bytes: d ? d.b.byteLength : 0 };
  }

  /** Builds the EASE^R weights now, blocking (offline evaluation, benches). */
  buildDense(): void {
    const input = this.denseInput();
    if (!input) return;
    const solve = this.options.denseSolver ?? easeWeights;
    this.dense = this.denseFrom(input, solve(input.gram, input.ids.length, input.lambda));
  }

  /**
   * Rebuilds the EASE^R weights from the current counts when stale, in slices between requests;
   * the previous weights serve until the new ones are ready. Concurrent calls share one build.
   */
  refreshDense(): Promise<void> {
    if (this.denseBuild) return this.denseBuild;
    if (!this.denseStale) return Promise.resolve();
    const input = this.denseInput();
    if (!input) return Promise.resolve();
    const build = easeWeightsAsync(input.gram, input.ids.length, input.lambda)
      .then((b) => {
        this.dense = this.denseFrom(input, b);
      })
      .finally(() => {
        this.denseBuild = undefined;
      });
    this.denseBuild = build;
    return build;
  }

  /** The Gram matrix XᵀX of every basket over the best-selling `denseMaxItems` items. */
  private denseInput():
    { ids: Int32Array; gram: Float64Array; lambda: number; baskets: number } | undefined {
    const { denseMaxItems, denseLambda } = this.options;
    if (denseMaxItems <= 0) return undefined;
    const order: number[] = [];
    for (let id = 0; id < this.skus.length; id++) if (this.sales[id]! > 0) order.push(id);
    if (order.length === 0) return undefined;
    order.sort((a, b) => this.sales[b]! - this.sales[a]! || a - b);
    // Ids ascending, so the matrix (and its solution) depends on the item set, not on ties.
    const ids = Int32Array.from(order.slice(0, denseMaxItems)).sort();
    const n = ids.length;
    const at = new Int32Array(this.skus.length).fill(-1);
    ids.forEach((id, r) => (at[id] = r));
    const gram = new Float64Array(n * n);
    for (let r = 0; r < n; r++) {
      const id = ids[r]!;
      gram[r * n + r] = this.bought.counts[id] ?? 0;
      for (const [j, co] of this.bought.row(id) ?? []) {
        const c = at[j]!;
        if (c >= 0) gram[r * n + c] = co;
      }
    }
    for (const basket of this.largeBaskets) {
      for (const i of basket) {
        const r = at[i]!;
        if (r < 0) continue;
        for (const j of basket) {
          const c = at[j]!;
          if (c >= 0 && c !== r) gram[r * n + c]! += 1;
        }
      }
    }
    return { ids, gram, lambda: denseLambda, baskets: this.baskets };
  }

  private denseFrom(
    input: { ids: Int32Array; lambda: number; baskets: number },
    b: Float32Array,
  ): Dense {
    const { ids, lambda, baskets } = input;
    const row = new Int32Array(this.skus.length).fill(-1);
    ids.forEach((id, r) => (row[id] = r));
    return { n: ids.length, ids, row, b, baskets, lambda };
  }

  private similarTo(sku: string, kind: 'bought' | 'viewed', out: Collector): void {
    const id = this.ids.get(sku);
    if (id === undefined || out.full) return;
    const { ids, sims } = (kind === 'bought' ? this.bought : this.viewed).neighbours(id);
    const reason: Reason =
      kind === 'bought'
        ? { code: 'often_bought_with', sku, text: `often bought with ${sku}` }
        : { code: 'often_viewed_with', sku, text: `often viewed with ${sku}` };
    for (let x = 0; x < ids.length && !out.full; x++) {
      out.add(this.skus[ids[x]!]!, sims[x]!, reason);
    }
  }

  private trending(out: Collector): void {
    let size = 64;
    const popularity = (id: number): number => this.sales[id] ?? 0;
    // The cached ranking usually suffices; exclusions or filters may need a longer one.
    for (;;) {
      if (out.full) return;
      const top = this.trend.top(size, this.skus.length);
      for (const id of top) {
        if (out.full) return;
        const score = this.trend.score(id);
        const reason: Reason =
          score > 0
            ? { code: 'trending', text: 'trending' }
            : popularity(id) > 0
              ? { code: 'popular', text: 'popular' }
              : { code: 'catalog', text: 'from the catalog' };
        out.add(this.skus[id]!, score, reason);
      }
      if (top.length >= this.skus.length) return;
      size *= 4;
    }
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

  /**
   * Rebuilds a model from `toJSON()` output; open browsing sessions start afresh, and EASE^R
   * weights are rebuilt on demand (they are derived). `options` override the saved ones.
   */
  static fromJSON(state: RecModelState, options: Partial<RecModelOptions> = {}): RecModel {
    if (state?.format !== 'omnikit-recs/1' || !Array.isArray(state.skus)) {
      throw new OmniError('invalid_argument', 'Not an omnikit-recs/1 snapshot');
    }
    const model = new RecModel({ ...state.options, ...options });
    model.addItems(state.skus);
    state.sales.forEach((n, i) => (model.sales[i] = n));
    model.bought.load(state.bought);
    model.viewed.load(state.viewed);
    model.trend.load(state.trending);
    for (const b of state.largeBaskets ?? []) model.largeBaskets.push(Int32Array.from(b));
    model.baskets = state.baskets ?? 0;
    return model;
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

function reasonFor(type: EventType, sku: string): Reason {
  switch (type) {
    case 'view':
      return { code: 'because_you_viewed', sku, text: `because you viewed ${sku}` };
    case 'add_to_cart':
      return { code: 'because_in_cart', sku, text: `because ${sku} is in your cart` };
    case 'purchase':
      return { code: 'because_you_bought', sku, text: `because you bought ${sku}` };
  }
}

/** Gathers results in order until the limit, skipping blocked and already-chosen skus. */
class Collector {
  readonly items: ScoredItem[] = [];
  private readonly taken = new Set<string>();
  private readonly soft = new Set<string>();
  private readonly limit: number;
  private readonly filter: ((sku: string) => boolean) | undefined;

  constructor(limit: number, filter?: (sku: string) => boolean) {
    this.limit = limit;
    this.filter = filter;
  }

  get full(): boolean {
    return this.items.length >= this.limit;
  }

  block(sku: string): void {
    this.taken.add(sku);
  }

  /** Blocks a sku for the personalized stage only; trending may still show it. */
  blockSoft(sku: string): void {
    this.soft.add(sku);
  }

  add(sku: string, score: number, reason: Reason): void {
    if (this.full || this.taken.has(sku)) return;
    if (reason.code.startsWith('because_') && this.soft.has(sku)) return;
    if (this.filter && !this.filter(sku)) return;
    this.taken.add(sku);
    this.items.push({ sku, score, reason });
  }
}
