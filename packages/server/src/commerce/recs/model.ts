// The recommendation model: item-item co-occurrence from baskets (also-bought) and browsing
// sessions (also-viewed), time-decayed trending, and personalized: EASE^R over the best-selling
// items (up to `denseMaxItems`, every item of a demo-sized shop) blended with item-based
// k-nearest-neighbours over every item. The counts (counts.ts) are incremental; the dense EASE^R
// weights (dense.ts) are rebuilt from them off the request path (`refreshDense`); a request only
// reads.
import { LIMITS, OmniError, STRATEGIES, isStrategy, type Reason } from '@omnikit/protocol';
import { Candidates, TRENDING } from './candidates.js';
import { Collector, reasonFor } from './collector.js';
import { RecCounts } from './counts.js';
import { blend, denseFrom, denseInput, type Dense, type DenseInput } from './dense.js';
import { easeWeights, easeWeightsAsync } from './ease.js';
import type {
  EventType,
  ProfileItems,
  RecModelOptions,
  RecModelState,
  RecommendRequest,
  RecommendResult,
  TimedSku,
} from './options.js';

export * from './options.js';
export { RecCounts } from './counts.js';
/** The protocol's strategies (one list, in the order a 400 lists them). */
export { STRATEGIES };

const MAX_LIMIT = LIMITS.maxRecommendations;
/** Trending items that may join personalized candidates (see `trendWeight`). */
const TREND_CANDIDATES = 256;

/** Item-based recommendations over orders and live events, updated one write at a time. */
export class RecModel extends RecCounts {
  private dense: Dense | undefined;
  /** The personalized ranking's reused working memory (see candidates.ts). */
  private readonly candidates = new Candidates();
  private denseBuild: Promise<void> | undefined;

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
    // A filter that asks this model again runs while the shared arrays are in use.
    const c = this.candidates.busy ? new Candidates() : this.candidates;
    c.busy = true;
    try {
      this.knnScores(weights, c);
      const dense = this.dense;
      if (dense && this.options.denseMaxItems > 0) {
        blend(dense, weights, c, this.options.denseKnnWeight);
        // Tuned together with EASE^R; a shop too small for it keeps plain kNN answers.
        this.addTrend(c);
      }
      // Reason objects only for what the answer may take, not for every candidate.
      c.rank();
      for (let id = c.next(); id >= 0 && !out.full; id = c.next()) {
        const k = c.reason[id]!;
        const reason: Reason =
          k === TRENDING ? { code: 'trending', text: 'trending' } : weights[k]![1].reason;
        out.add(this.skus[id]!, c.score[id]!, reason);
      }
    } finally {
      c.busy = false;
    }
  }

  /**
   * kNN scores into `c`: the weighted sum of each candidate's similarity to the profile's items;
   * its reason is the profile item (index in `weights`) with the largest single contribution.
   */
  private knnScores(weights: readonly [number, { w: number }][], c: Candidates): void {
    c.reset(this.skus.length);
    const vw = this.options.viewSimilarityWeight;
    for (let k = 0; k < weights.length; k++) {
      const [id, { w }] = weights[k]!;
      c.addNeighbours(this.bought.neighbours(id), w, k);
      if (vw > 0) c.addNeighbours(this.viewed.neighbours(id), w * vw, k);
    }
  }

  /**
   * Adds `trendWeight` × trending (scaled to a best of 1) to the candidates, and the trending
   * top items as candidates of their own: the season counts too, not only the profile.
   */
  private addTrend(c: Candidates): void {
    const weight = this.options.trendWeight;
    if (!(weight > 0) || c.count === 0) return;
    const top = this.trend.top(TREND_CANDIDATES, this.skus.length);
    const max = top.length > 0 ? this.trend.score(top[0]!) : 0;
    if (!(max > 0)) return;
    let best = 0;
    for (let x = 0; x < c.count; x++) best = Math.max(best, c.score[c.ids[x]!]!);
    // Profile scores are on the scale of their best candidate; trending joins on that scale.
    const scale = ((best > 0 ? best : 1) * weight) / max;
    for (let x = 0; x < top.length; x++) {
      const id = top[x]!;
      const t = this.trend.score(id) * scale;
      if (!(t > 0)) break;
      if (c.has(id)) c.score[id]! += t;
      else c.add(id, t, t, TRENDING);
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
    const input = this.denseInputNow();
    if (!input) return;
    const solve = this.options.denseSolver ?? easeWeights;
    this.dense = denseFrom(input, solve(input.gram, input.ids.length, input.lambda), this.size);
  }

  /**
   * Rebuilds the EASE^R weights from the current counts when stale, in slices between requests;
   * the previous weights serve until the new ones are ready. Concurrent calls share one build.
   */
  refreshDense(): Promise<void> {
    if (this.denseBuild) return this.denseBuild;
    if (!this.denseStale) return Promise.resolve();
    const input = this.denseInputNow();
    if (!input) return Promise.resolve();
    const build = easeWeightsAsync(input.gram, input.ids.length, input.lambda)
      .then((b) => {
        this.dense = denseFrom(input, b, this.size);
      })
      .finally(() => {
        this.denseBuild = undefined;
      });
    this.denseBuild = build;
    return build;
  }

  /** The Gram matrix of the best sellers as the counts stand now (undefined when off or empty). */
  private denseInputNow(): DenseInput | undefined {
    const { denseMaxItems, denseLambda } = this.options;
    const { sales, bought, largeBaskets, baskets } = this;
    return denseInput({ sales, bought, largeBaskets, baskets }, denseMaxItems, denseLambda);
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

  /**
   * Rebuilds a model from `toJSON()` output; open browsing sessions start afresh, and EASE^R
   * weights are rebuilt on demand (they are derived). `options` override the saved ones.
   */
  static fromJSON(state: RecModelState, options: Partial<RecModelOptions> = {}): RecModel {
    if (state?.format !== 'omnikit-recs/1' || !Array.isArray(state.skus)) {
      throw new OmniError('invalid_argument', 'Not an omnikit-recs/1 snapshot');
    }
    const model = new RecModel({ ...state.options, ...options });
    model.restore(state);
    return model;
  }
}
