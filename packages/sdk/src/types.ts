// The public types of the client. Types only: nothing here reaches a bundle.
import type {
  CartLine,
  HandoffResponse,
  MergeSummary,
  Mutation,
  OmniError,
  Recommendation,
  Strategy,
  ViewedItem,
} from '@omnikit/protocol';
import type { Network } from './http.js';
import type { TabTransportFactory } from './tabs.js';

/** Whether the shopper allows the SDK to store and send anything. */
export type Consent = 'granted' | 'pending' | 'denied';
export type SyncState = 'online' | 'offline' | 'syncing' | 'error';

export interface Status {
  /** `offline`: no network (or no consent); `error`: the last attempt failed and will be retried or needs action. */
  state: SyncState;
  /** Local changes the server has not acknowledged yet (stored or not). */
  pending: number;
  /**
   * Of those, the changes made in this tab that are not stored in this browser yet (a write
   * under way, storage still opening, or no consent); `pending - unsaved` are stored and wait
   * for the server. Leaving the page loses nothing once it is 0, as each change's promise says.
   */
  unsaved: number;
  /** When this browser last completed a sync (ms since epoch), or null. */
  lastSyncedAt: number | null;
  /** Where local state lives; `memory` after a storage failure or without consent. */
  storage: 'indexeddb' | 'memory';
  /** The last failure, or null once a sync succeeds. */
  error: OmniError | null;
}

/** Messages go through it, always prefixed `[omnikit]`, never with a token. */
export interface Logger {
  warn(message: string, ...details: unknown[]): void;
}

/** What a client and a catalog need to reach the server. */
export interface ConnectionOptions {
  /** Base URL of the omnikit server, e.g. `https://omni.example.com`. */
  endpoint: string;
  /** The site's publishable key (public, sent only to register a device and with reads). */
  publishableKey: string;
  /** Network seam (fetch, EventSource, connectivity); the browser's by default. */
  network?: Network;
  /** Per-request timeout (ms); 15000 by default. */
  timeoutMs?: number;
}

export interface ClientOptions extends ConnectionOptions {
  /** The shopper's locale (BCP 47), kept as the `locale` preference of the profile. */
  locale?: string;
  /** ISO 4217 currency of the prices given to the cart; `USD` by default. */
  currency?: string;
  /** `granted` by default. Otherwise the SDK keeps state in memory and sends nothing until `grant()`. */
  consent?: Consent;
  /** `indexeddb` (default) or `memory` (nothing survives the page). */
  storage?: 'indexeddb' | 'memory';
  /** Separates the storage of clients on one origin (IndexedDB name, tab channel, lock). */
  namespace?: string;
  logger?: Logger;
  /** Unit prices in minor units (cents, won) by sku, for `subtotal` and analytics. */
  prices?: Record<string, number>;
  /** Cross-tab transport; BroadcastChannel by default, `memoryTabs()` in tests. */
  tabs?: TabTransportFactory;
  /** Backoff of retried syncs: full jitter over `baseMs * 2^attempt`, capped at `maxMs`. */
  retry?: { baseMs?: number; maxMs?: number };
  /** How long an IndexedDB open or write may take before falling back to memory (ms). */
  storageTimeoutMs?: number;
  /**
   * How often to pull while the poke stream does not work (ms; 15000 by default): it did not
   * open (a site's service worker may hold it), or it went silent past two of its heartbeats.
   */
  fallbackPullMs?: number;
}

export interface SyncOptions {
  /** Stops waiting when aborted. */
  signal?: AbortSignal;
  /** Stops waiting after this many ms. */
  timeoutMs?: number;
}

/** A cart line with the unit price the SDK was told, if any. */
export interface LineView extends CartLine {
  price?: number;
}

export interface CartState {
  lines: readonly LineView[];
  /** Total quantity. */
  count: number;
  /** Sum of quantity x unit price over the lines whose price is known, in minor units. */
  subtotal: number;
  currency: string;
  pickupStore: string | null;
}

export interface IdentityState {
  deviceId: string | null;
  profileId: string | null;
  customerId: string | null;
}

/** Everything a subscriber can select from. Parts that did not change keep their identity. */
export interface ClientState {
  cart: CartState;
  viewed: readonly ViewedItem[];
  prefs: Readonly<Record<string, string>>;
  identity: IdentityState;
  status: Status;
}

export interface SyncErrorDetail {
  error: OmniError;
  /** The mutation the server rejected, or null when the sync itself failed. */
  mutation: Mutation | null;
}

/** What claiming a `?omni_handoff=CODE` link gave (see `@omnikit/sdk/handoff`). */
export type HandoffOutcome =
  | { code: string; outcome: 'joined' | 'copied' }
  | {
      code: string;
      /** `used`: claimed already; `expired`; `unknown`: no such code; `failed`: anything else. */
      outcome: 'used' | 'expired' | 'unknown' | 'failed';
      error: OmniError;
    };

/** The client's events, by name: what a listener of `on(name, ...)` receives. */
export interface ClientEventMap {
  /** The cart changed: by a call in this tab (`local`), or by sync, another tab or prices. */
  'cart-change': { cart: CartState; source: 'local' | 'remote' };
  'identity-change': IdentityState;
  /** `identify` merged a guest cart into the account: what it changed. */
  merge: MergeSummary;
  'sync-error': SyncErrorDetail;
  'status-change': Status;
  /** `recentlyViewed.track(sku)` was called; `price`: the unit price the client knows, if any. */
  'view-item': { sku: string; price?: number };
  /** `cart.view()` was called. */
  'view-cart': CartState;
  /** A handoff link of the page was claimed (`claimHandoffFromUrl`). */
  handoff: HandoffOutcome;
  /** `close()` was called. */
  close: null;
}
export type ClientEvent = keyof ClientEventMap;

export interface AddOptions {
  options?: Record<string, string>;
  /** Unit price in minor units; remembered for `subtotal` and analytics. */
  price?: number;
}

export interface RecommendationQuery {
  strategy: Strategy;
  /** The anchor item (required by `also-bought` and `also-viewed`). */
  sku?: string;
  /** 1 to 100; the server's default is 10. */
  limit?: number;
  /**
   * Skus never to return. The anchor `sku` is left out already, and so (except for
   * `recently-viewed`) are the cart and past purchases.
   */
  exclude?: readonly string[];
}

/**
 * The browser SDK's client. Creating it does nothing; it starts (opens IndexedDB, joins the
 * other tabs, syncs) on `start()`, on the first change (`cart.add`, `recentlyViewed.track`...)
 * or on the first call that needs the server (`sync`, `identity.*`, `recommendations.get`).
 * Getters, `subscribe` and `on` never start it: before it starts they show the empty state.
 */
export interface OmniClient {
  /** The options the client was created with. */
  readonly options: Readonly<ClientOptions>;
  readonly state: ClientState;
  /** Whether the shopper consented (`grant()` changes it). */
  readonly consent: Consent;
  readonly identity: {
    readonly deviceId: string | null;
    readonly profileId: string | null;
    readonly customerId: string | null;
    /** Links this device to the customer the token names; resolves with what the merge changed. */
    identify(customerToken: string): Promise<MergeSummary | null>;
    /**
     * Undoes what a merge (by default the last `identify` of this client) added to the cart:
     * lines it added go, quantities it changed go back, lines it removed come back, a pickup
     * store it brought is unset. Sent through the outbox like any change (offline too, and
     * to every device); resolves once stored, as `cart.add`. Viewed items stay.
     */
    undoMerge(merge?: MergeSummary): Promise<void>;
    /** Leaves the customer's profile (their cart stays with them); this device starts empty. */
    logout(): Promise<void>;
    /** A one-time code (and URL) another device can claim to get this profile's cart. */
    createHandoff(): Promise<HandoffResponse>;
    /** Joins (or copies) the profile behind a handoff code. */
    claimHandoff(code: string): Promise<'joined' | 'copied'>;
    /** Erases the profile on the server and everything stored in this browser. */
    forget(): Promise<void>;
  };
  readonly cart: {
    readonly lines: readonly LineView[];
    readonly count: number;
    readonly subtotal: number;
    readonly pickupStore: string | null;
    /** The line of `sku` with exactly these options, if the cart has it. */
    line(sku: string, options?: Record<string, string>): LineView | undefined;
    /**
     * Changes the cart (the local view at once, synchronously) and resolves once the change is
     * stored in this browser, so leaving the page can no longer lose it. Without consent, or
     * with memory storage, nothing outlives the page: it resolves at once.
     */
    add(sku: string, qty?: number, options?: AddOptions): Promise<void>;
    /** As `add`: resolves once stored. */
    setQuantity(sku: string, qty: number, options?: Record<string, string>): Promise<void>;
    /** As `add`: resolves once stored. */
    remove(sku: string, options?: Record<string, string>): Promise<void>;
    /** As `add`: resolves once stored. */
    clear(): Promise<void>;
    /** As `add`: resolves once stored. */
    setPickupStore(storeId: string | null): Promise<void>;
    /** Teaches the cart unit prices (minor units) by sku. */
    setPrices(prices: Record<string, number>): void;
    /** Records that the shopper looked at the cart (the `view-cart` event). */
    view(): void;
  };
  readonly recentlyViewed: {
    readonly items: readonly ViewedItem[];
    /** Records a view (the local view at once); resolves once stored, as `cart.add`. */
    track(sku: string): Promise<void>;
  };
  readonly recommendations: {
    /**
     * Recommendations for this shopper's profile, with reasons and products. Sends local changes
     * first; rejects with `OmniError('forbidden')` without consent (no device to ask for).
     */
    get(query: RecommendationQuery): Promise<Recommendation[]>;
  };
  readonly status: Status;
  /** Starts the client (loads local state, joins the tabs, syncs); resolves once loaded. */
  start(): Promise<void>;
  /**
   * Resolves once the server has every local change made so far (status `online` from then on),
   * waiting through retries and offline periods; rejects (OmniError) when the server refuses
   * the sync. In a tab that is not the leader it waits for the leader tab to push and report
   * back. With `signal` or `timeoutMs` it gives up, rejecting with the signal's reason (an
   * `AbortError`, or a `TimeoutError` DOMException): the changes stay queued and are sent later.
   */
  sync(options?: SyncOptions): Promise<void>;
  /** Upgrades from memory to persistent storage and sync, keeping what is in memory. */
  grant(): Promise<void>;
  /** Calls `cb` whenever the selected value changes (compared with `Object.is`). */
  subscribe<T>(
    selector: (state: ClientState) => T,
    cb: (value: T, previous: T) => void,
  ): () => void;
  /** Calls `listener` with each event of `type`; returns the unsubscribe. */
  on<K extends ClientEvent>(type: K, listener: (detail: ClientEventMap[K]) => void): () => void;
  /** Stops syncing and releases the leader role; resolves once local writes are stored. */
  close(): Promise<void>;
}
