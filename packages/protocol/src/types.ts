// The replicated profile state and the wire types of the /v1 API. This file is the contract
// between @omnikit/server, @omnikit/sdk and @omnikit/mock: change it only compatibly.
import type { Strategy } from './recommendations.js';

/** One cart line. A line is keyed by sku + options (see `lineKey`). */
export interface CartLine {
  /** Stable key: the sku, plus a canonical hash of `options` when there are any. */
  key: string;
  sku: string;
  qty: number;
  /** Variant options chosen by the shopper (e.g. `{ size: 'M' }`); absent when none. */
  options?: Record<string, string>;
  /** Mutation time (`at`, ms since epoch) of the change that created the line. */
  addedAt: number;
  /** Mutation time of the last change to the line. */
  updatedAt: number;
}

export interface ViewedItem {
  sku: string;
  /** Mutation time of the view. */
  at: number;
}

/** Everything that follows a customer between devices. Plain JSON. */
export interface ProfileState {
  cart: {
    /** Newest line last (insertion order). */
    lines: CartLine[];
    /** Store chosen for pickup, or null for delivery. */
    pickupStore: string | null;
  };
  /** Newest first, deduplicated by sku, capped at LIMITS.maxViewed. */
  viewed: ViewedItem[];
  /** Small string preferences: preferred store, size, locale... */
  prefs: Record<string, string>;
}

/** Arguments of each mutation, by name. */
export interface MutationArgs {
  /** Adds `qty` (a delta, may be negative) to the line; creates it when missing, removes it at <= 0. */
  'cart.add': { sku: string; qty: number; options?: Record<string, string> };
  /** Sets the line's quantity (0 removes it); creates the line when qty > 0 and it is missing. */
  'cart.setQuantity': { sku: string; qty: number; options?: Record<string, string> };
  'cart.remove': { sku: string; options?: Record<string, string> };
  'cart.clear': Record<string, never>;
  'cart.setPickupStore': { storeId: string | null };
  'viewed.add': { sku: string };
  /** Sets a preference; `value: null` deletes it. */
  'prefs.set': { key: string; value: string | null };
}

export type MutationName = keyof MutationArgs;

/**
 * A named change as the client records it and pushes it. `seq` increases by one per device.
 * `id`, when given, names the change itself (the SDK's draft id): the server applies one id once
 * per profile (among its last `maxRecentIds` applied), even when it comes again under another
 * seq or device (a browser tab that went on alone sent it, and the others did too).
 */
export type Mutation<N extends MutationName = MutationName> = {
  [K in N]: { seq: number; name: K; args: MutationArgs[K]; at: number; id?: string };
}[N];

export type MergePolicy = 'sum' | 'max' | 'prefer-account' | 'prefer-guest';

/** What a guest-to-account merge changed, for "2 items from your other visit were added". */
export interface MergeSummary {
  policy: MergePolicy;
  /** Lines that exist only because of the guest cart. */
  added: { key: string; sku: string; qty: number }[];
  /** Lines whose quantity changed because of the guest cart. */
  changed: { key: string; sku: string; from: number; to: number }[];
  /** Guest lines (or quantities) not kept, with why: the policy, or a limit. */
  dropped: { key: string; sku: string; qty: number; reason: 'policy' | 'limit' }[];
  /** Whether the pickup store came from the guest. */
  pickupStoreChanged: boolean;
  /** Viewed items brought over from the guest. */
  viewedAdded: number;
  /**
   * Account lines no longer in the cart (only `prefer-guest` removes any). Always set by
   * `mergeStates`; optional so summaries written before it existed stay valid.
   */
  removed?: { key: string; sku: string; qty: number }[];
}

// ---- Wire types (JSON bodies of /v1) ----

/** POST /v1/devices (header `X-Omni-Key: <publishable key>`). */
export interface RegisterDeviceRequest {
  /** Optional client description, e.g. "web". */
  channel?: 'web' | 'app' | 'store';
  /**
   * The state the new anonymous profile starts with (validated and limited like any state):
   * how a browser whose device the server no longer knows (a 401 after the server lost its
   * data or was restored from a backup) carries over the last state it had from it.
   */
  state?: ProfileState;
}
export interface RegisterDeviceResponse {
  deviceId: string;
  /** Bearer token for every other call; shown once, stored hashed by the server. */
  token: string;
  profileId: string;
}

/**
 * POST /v1/devices/sibling (Authorization: Bearer): a second device of the same browser, on the
 * calling device's profile, with seqs of its own; answered as a `RegisterDeviceResponse`. No
 * fields yet: an object, so that some may come.
 */
export type SiblingDeviceRequest = Record<string, never>;

/** POST /v1/sync/push (Authorization: Bearer). */
export interface PushRequest {
  deviceId: string;
  mutations: Mutation[];
}
export type MutationResult =
  | { seq: number; status: 'applied' }
  | { seq: number; status: 'skipped' }
  | { seq: number; status: 'rejected'; error: { code: string; message: string } };
export interface PushResponse {
  version: number;
  lastSeq: number;
  results: MutationResult[];
}

/** GET /v1/sync/pull. */
export interface Snapshot {
  profileId: string;
  /** The brand's customer id once identified, else null. */
  customerId: string | null;
  version: number;
  /** The last mutation of this device the server has applied (or skipped). */
  lastSeq: number;
  state: ProfileState;
}

/** Server-sent event `poke` on GET /v1/sync/stream; the SSE id is the version. */
export interface Poke {
  version: number;
  /**
   * Present when small enough; otherwise the client pulls. Its `lastSeq` is the receiving
   * device's as of this version, so a client can rebase its pending changes over it.
   */
  snapshot?: Snapshot;
}

/** POST /v1/identify. */
export interface IdentifyRequest {
  /** The brand's signed customer token (JWT). */
  token: string;
}
export interface IdentifyResponse extends Snapshot {
  merge: MergeSummary | null;
}

/** POST /v1/handoff. */
export interface HandoffResponse {
  code: string;
  url: string;
  /** ms since epoch. */
  expiresAt: number;
}
/** POST /v1/handoff/claim. */
export interface HandoffClaimRequest {
  code: string;
}
export interface HandoffClaimResponse extends Snapshot {
  mode: 'joined' | 'copied';
}

// ---- Commerce: catalog, stock near me, recommendations ----

/** What a widget renders of a product (recommendation items carry it). */
export interface ProductCard {
  sku: string;
  title: string;
  /** Price in minor units of `currency` (pence for GBP). */
  price: number;
  /** ISO 4217 code, upper case. */
  currency: string;
  /** Product page: an absolute http(s) URL or a site-relative path; null when unknown. */
  url: string | null;
  /** Image: an absolute http(s) URL or a site-relative path; null when unknown. */
  image: string | null;
  category: string | null;
  /** Shared by the variants of one product (sizes, colours); null when it has none. */
  groupId: string | null;
}

/** A catalog product. GET /v1/products?skus=a,b (header `X-Omni-Key`). */
export interface Product extends ProductCard {
  /** Plain text; empty when the feed has none. */
  description: string;
  /** Small string attributes such as size or colour. */
  attributes: Record<string, string>;
  /** When the catalog last changed it (ms since epoch). */
  updatedAt: number;
}
export interface ProductsResponse {
  /** In the order asked, without the missing ones. */
  products: Product[];
  /** Skus the catalog does not have. */
  missing: string[];
}

/** Availability bands: an exact count only when few are left. */
export type AvailabilityBand = 'in_stock' | 'low_stock' | 'out_of_stock';
export type Availability =
  { band: 'in_stock' } | { band: 'low_stock'; count: number } | { band: 'out_of_stock' };

/** Weekly opening hours: `HH:MM-HH:MM` ranges per day, an empty list when closed. */
export type OpeningHours = Record<'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun', string[]>;

/** A physical store. */
export interface StoreInfo {
  id: string;
  name: string;
  address: { line1: string; city: string; postcode: string; country: string };
  lat: number;
  lng: number;
  hours: OpeningHours;
  /** Whether click-and-collect orders can be picked up here. */
  pickup: boolean;
}

/** One store of a stock answer. */
export interface StoreAvailability {
  store: StoreInfo;
  /** Kilometres from the origin, rounded to 0.1; null when no origin was given. */
  distanceKm: number | null;
  availability: Availability;
  /** When the store's count was taken (ms since epoch); null when it never reported the sku. */
  updatedAt: number | null;
}

/**
 * GET /v1/stock?sku=&lat=&lng= (or &postal=), header `X-Omni-Key`; also the data of each
 * `stock` event of GET /v1/stock/stream?key=&skus=.
 */
export interface StockAnswer {
  sku: string;
  /** Every store: with stock first, then nearest first. */
  stores: StoreAvailability[];
  online: { availability: Availability; updatedAt: number | null };
  /** The position distances are measured from (`area`: the postcode area it came from). */
  origin: { lat: number; lng: number; area?: string } | null;
  /** Counts at or below this are `low_stock`. */
  lowStockThreshold: number;
}

export type { Strategy };

export type ReasonCode =
  | 'often_bought_with'
  | 'often_viewed_with'
  | 'because_you_viewed'
  | 'because_in_cart'
  | 'because_you_bought'
  | 'trending'
  | 'popular'
  | 'catalog'
  | 'recently_viewed';

/** Why an item is shown: a stable code for translated UIs, the anchor sku, and English text. */
export interface Reason {
  code: ReasonCode;
  sku?: string;
  text: string;
}

export interface Recommendation {
  sku: string;
  reason: Reason;
  product: ProductCard;
}

/** GET /v1/recommendations?strategy=&sku=&limit=&exclude= (Authorization: Bearer). */
export interface RecommendationsResponse {
  strategy: Strategy;
  items: Recommendation[];
}
