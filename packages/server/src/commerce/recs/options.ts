// What the recommendation model reads and answers (events, profiles, requests, results), its
// options with their defaults, and the shape of its snapshot.
import type { Reason, Strategy } from '@omnikit/protocol';
import type { CoMatrixState, SimilarityOptions } from './matrix.js';

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
  profileHalfLifeMs: 120 * DAY,
  typeWeights: { view: 1, add_to_cart: 2, purchase: 3 },
  viewSimilarityWeight: 0.5,
  maxProfileItems: 50,
  sessionGapMs: 30 * 60_000,
  maxSessionItems: 50,
  maxSessions: 100_000,
  denseMaxItems: 4_000,
  denseLambda: 50,
  denseKnnWeight: 0.25,
  trendWeight: 0.2,
  denseRebuildBaskets: 1_000,
};

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
