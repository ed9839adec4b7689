// The client: an optimistic local view (base snapshot + outbox, rebased with the protocol's
// reducers), durable in IndexedDB, shared by the tabs of a browser, synced by one leader tab.
import {
  LIMITS,
  OmniError,
  applyMutation,
  emptyState,
  lineKey,
  parsePoke,
  parseSnapshot,
  rebase,
  validateMutation,
  withOptions,
  type CartLine,
  type HandoffResponse,
  type MergeSummary,
  type Mutation,
  type MutationArgs,
  type MutationName,
  type Product,
  type ProductCard,
  type ProfileState,
  type PushResponse,
  type Recommendation,
  type Snapshot,
  type StockAnswer,
  type Strategy,
  type ViewedItem,
} from '@omnikit/protocol';
import { DEV_MODE } from './dev.js';
import { browserNetwork, request, type Call, type Network } from './http.js';
import { readPageProduct } from './page-product.js';
import {
  idbStore,
  memoryStore,
  storageError,
  type Device,
  TAB_ID,
  type Draft,
  type Entry,
  type Loaded,
  type Store,
} from './store.js';
import { broadcastTabs, lead, type TabTransport, type TabTransportFactory } from './tabs.js';

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

export interface ClientOptions {
  /** Base URL of the omnikit server, e.g. `https://omni.example.com`. */
  endpoint: string;
  /** The site's publishable key (public, sent only to register a device). */
  publishableKey: string;
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
  /** Push GA4 ecommerce events to `window.dataLayer` (or the given array) for user actions. */
  analytics?: boolean | { dataLayer: unknown[] };
  /** Track the product the page declares (JSON-LD / meta) as recently viewed on start. */
  autoTrack?: boolean;
  /** Unit prices in minor units (cents, won) by sku, for `subtotal` and analytics. */
  prices?: Record<string, number>;
  /** Network seam (fetch, EventSource, connectivity); the browser's by default. */
  network?: Network;
  /** Cross-tab transport; BroadcastChannel by default, `memoryTabs()` in tests. */
  tabs?: TabTransportFactory;
  /** Backoff of retried syncs: full jitter over `baseMs * 2^attempt`, capped at `maxMs`. */
  retry?: { baseMs?: number; maxMs?: number };
  /** Per-request timeout (ms); 15000 by default. */
  timeoutMs?: number;
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

export interface ClientEventMap {
  'cart-change': CustomEvent<{ cart: CartState; source: 'local' | 'remote' }>;
  'identity-change': CustomEvent<IdentityState>;
  merge: CustomEvent<MergeSummary>;
  'sync-error': CustomEvent<SyncErrorDetail>;
  'status-change': CustomEvent<Status>;
}

export interface AddOptions {
  options?: Record<string, string>;
  /** Unit price in minor units; remembered for `subtotal` and analytics. */
  price?: number;
}

/** Where distances are measured from: a position, or a UK postcode (full, outward or area). */
export interface StockNear {
  lat?: number;
  lng?: number;
  postal?: string;
}

export interface StockQuery extends StockNear {
  sku: string;
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

type Listener<K extends keyof ClientEventMap> = (event: ClientEventMap[K]) => void;

export interface OmniClient {
  readonly state: ClientState;
  readonly identity: {
    readonly deviceId: string | null;
    readonly profileId: string | null;
    readonly customerId: string | null;
    /** Links this device to the customer the token names; resolves with what the merge changed. */
    identify(customerToken: string): Promise<MergeSummary | null>;
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
    /** Records that the shopper looked at the cart (GA4 `view_cart`). */
    view(): void;
  };
  readonly recentlyViewed: {
    readonly items: readonly ViewedItem[];
    /** Records a view (the local view at once); resolves once stored, as `cart.add`. */
    track(sku: string): Promise<void>;
  };
  readonly products: {
    /**
     * The catalog's products among `skus`, in that order, without the unknown ones. Cached for a
     * minute; concurrent calls share requests. Their prices feed `cart.subtotal`.
     */
    get(skus: readonly string[]): Promise<Product[]>;
  };
  readonly stock: {
    /** Every store's availability of `sku` (with stock first, then nearest), and online's. */
    near(query: StockQuery): Promise<StockAnswer>;
    /** Calls `cb` with each sku's answer now and after every change; returns the unsubscribe. */
    watch(skus: readonly string[], cb: (answer: StockAnswer) => void, near?: StockNear): () => void;
  };
  readonly recommendations: {
    /**
     * Recommendations for this shopper's profile, with reasons and products. Sends local changes
     * first; rejects with `OmniError('forbidden')` without consent (no device to ask for).
     */
    get(query: RecommendationQuery): Promise<Recommendation[]>;
  };
  readonly status: Status;
  /** Resolves once local state is loaded (starts the client if needed). */
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
  /** Adds a typed event listener; returns the unsubscribe. */
  on<K extends keyof ClientEventMap>(type: K, listener: Listener<K>): () => void;
  addEventListener<K extends keyof ClientEventMap>(
    type: K,
    listener: Listener<K>,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof ClientEventMap>(
    type: K,
    listener: Listener<K>,
    options?: boolean | EventListenerOptions,
  ): void;
  /** Stops syncing and releases the leader role; resolves once local writes are stored. */
  close(): Promise<void>;
}

type TabMessage =
  | { t: 'w'; d: Draft[] }
  | { t: 'x'; tab: string }
  | { t: 't'; tab: string }
  | { t: 'm'; m: Entry[] }
  | { t: 'b'; s: Snapshot; i?: boolean }
  | { t: 'e'; m: Mutation | null; c: OmniError['code']; x: string; st: number }
  | { t: 's'; s: SyncState; at: number | null }
  | { t: 'd' }
  | { t: 'h'; tab?: string }
  | { t: 'r'; k: boolean | undefined };

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
const isString = (v: unknown) => typeof v === 'string';
/**
 * Reads one field of an answer. Whatever reaches the state (snapshots, pokes) goes through the
 * protocol's validators; the other answers are only checked for the fields the client reads,
 * since their full validators would cost the bundle ~0.7 KB (`parsePushResponse` alone 0.2 KB).
 */
function field(body: unknown, key: string, ok: (v: unknown) => boolean): unknown {
  const v = (body as Record<string, unknown>)[key];
  if (!ok(v)) throw new TypeError(`malformed ${key}`);
  return v;
}
const retryAfter = (e: unknown) =>
  ((e as OmniError).details as { retryAfterMs?: number } | undefined)?.retryAfterMs;
const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => setTimeout(reject, ms, new Error('timed out'))),
  ]);
/** `p`, unless one of the signals aborts first (then its reason). */
const abortable = <T>(p: Promise<T>, signals: (AbortSignal | undefined)[]): Promise<T> =>
  Promise.race([
    p,
    ...signals.map(
      (s) =>
        new Promise<never>((_, reject) => {
          const stop = () => reject(s!.reason);
          if (s?.aborted) stop();
          s?.addEventListener('abort', stop);
        }),
    ),
  ]);
/** The tab that made a draft. */
const tabOf = (d: Draft) => d.id.slice(0, TAB_ID);
/** Every option, for the development build's check of misspelled ones. */
const known = DEV_MODE
  ? 'endpoint publishableKey locale currency consent storage namespace logger analytics autoTrack prices network tabs retry timeoutMs storageTimeoutMs'
  : '';

/** Creates a client. Nothing happens (no storage, no network) until it is first used. */
export function createClient(options: ClientOptions): OmniClient {
  // A typo here would otherwise surface later as a TypeError deep inside, or never.
  for (const k of ['endpoint', 'publishableKey'] as const) {
    if (!options?.[k] || typeof options[k] !== 'string') {
      const unknown = DEV_MODE
        ? Object.keys(options ?? {}).filter((o) => !known.split(' ').includes(o))
        : [];
      throw new OmniError(
        'invalid_argument',
        `createClient: the option "${k}" (a string) is missing` +
          (unknown.length ? `; unknown option(s): ${unknown.join(', ')}` : ''),
        { details: { option: k } },
      );
    }
  }
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const ns = options.namespace ?? `omnikit:${options.publishableKey}`;
  const currency = options.currency ?? 'USD';
  const logger = options.logger ?? console;
  const baseMs = options.retry?.baseMs ?? 1000;
  const maxMs = options.retry?.maxMs ?? 60_000;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const storageMs = options.storageTimeoutMs ?? 5000;
  const fallbackMs = options.fallbackPullMs ?? 15_000;
  const events = new EventTarget();
  const subs = new Set<() => void>();
  const prices: Record<string, number> = { ...options.prices };
  const closing = new AbortController();
  let consent = options.consent ?? 'granted';
  // Building the network touches nothing: `fetch` and `EventSource` are only read when called.
  const net: Network = options.network ?? browserNetwork();
  let ready: Promise<void> | undefined;
  let store: Store = memoryStore();
  let reported = false;
  let tabs: TabTransport | null = null;
  let session: AbortController | null = null;
  let leader = false;
  let device: Device | null = null;
  let registering: Promise<Device> | null = null;
  let healing: Promise<void> | undefined;
  /** The last startOver(); it never rejects. */
  let resetting: Promise<void> | undefined;
  let base: Snapshot | null = null;
  let pending: Entry[] = [];
  /** This tab's id: the prefix of its drafts' ids, and the name of the lock it holds. */
  const tabId = Math.random()
    .toString(36)
    .slice(2, 2 + TAB_ID)
    .padEnd(TAB_ID, '0');
  let made = 0;
  /** Drafts not handed to the store yet: storage still opening, or no consent. */
  const local: Draft[] = [];
  /** Every draft without a seq this tab knows of: its own and those other tabs announced. */
  let drafts: Draft[] = [];
  /** This tab's drafts that are not stored yet. */
  const unsaved = new Set<string>();
  /** Drafts known to be stored (by this tab, or found in the store): any tab may sequence them. */
  const saved = new Set<string>();
  /** Whether changes can be written the moment they are made (the store is open). */
  let opened = false;
  /** Resolves the changes made before the store opened, once they are stored. */
  let early: [Promise<void>, () => void] | undefined;
  /** Every write started so far. */
  let stored: Promise<unknown> = Promise.resolve();
  let sequencing: Promise<void> | undefined;
  let more = false;
  /** While this tab holds its own lock, other tabs can tell when it goes away. */
  let held = false;
  /** Tabs whose unstored drafts were rescued (or that went on alone): only the store speaks for them. */
  const settled = new Set<string>();
  const watched = new Set<string>();
  let view: ProfileState = emptyState();
  let epoch = 0;
  let persisting = Promise.resolve();
  let running: Promise<void> | undefined;
  let again = false;
  let needPull = true;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** No sync before this time (performance.now()): the backoff, or the server's Retry-After. */
  let holdUntil = 0;
  let stream: EventSource | null = null;
  let streaming = false;
  let streamAttempt = 0;
  let streamTimer: ReturnType<typeof setTimeout> | undefined;
  /** When the stream was opened or last heard from (performance.now()). */
  let heard = 0;
  /** The heartbeat interval the stream announced (0: it has not beaten yet). */
  let beat = 0;
  let fallbackTimer: ReturnType<typeof setTimeout> | undefined;
  let status: Status = {
    state: 'offline',
    pending: 0,
    unsaved: 0,
    lastSyncedAt: null,
    storage: 'memory',
    error: null,
  };
  let state: ClientState;
  const cleanups: (() => void)[] = [];

  const warn = (message: string, ...details: unknown[]) =>
    logger.warn(`[omnikit] ${message}`, ...details);
  const emit = <K extends keyof ClientEventMap>(type: K, detail: ClientEventMap[K]['detail']) =>
    events.dispatchEvent(new CustomEvent(type, { detail }));
  const post = (m: TabMessage) => tabs?.post(m);
  const call = <T>(path: string, c: Call<T>) =>
    request(net, endpoint, path, c, timeoutMs, closing.signal);
  const keyed = () => ({ 'x-omni-key': options.publishableKey });
  /** A GET; the publishable key goes along (it is public), the device's token when given. */
  const get = <T>(path: string, parse?: (b: unknown) => T, token?: string) =>
    call(path, { method: 'GET', headers: keyed(), parse, token });
  /** `a=1&b=x,y` from the defined values; arrays are joined by commas. */
  const query = (o: object) =>
    new URLSearchParams(Object.entries(o).filter((e) => e[1] != null) as string[][]);
  const delay = (n: number, after?: number) =>
    after ?? (Math.min(maxMs, baseMs * 2 ** n) * (1 + Math.random())) / 2;

  // ---- the local view and its observers ----

  function build(): ClientState {
    const lines = view.cart.lines.map((l): LineView => {
      const price = prices[l.sku];
      return price === undefined ? l : { ...l, price };
    });
    const cart: CartState = {
      lines,
      count: lines.reduce((n, l) => n + l.qty, 0),
      subtotal: lines.reduce((n, l) => n + l.qty * (l.price ?? 0), 0),
      currency,
      pickupStore: view.cart.pickupStore,
    };
    const identity: IdentityState = {
      deviceId: device?.deviceId ?? null,
      profileId: base?.profileId ?? device?.profileId ?? null,
      customerId: base?.customerId ?? null,
    };
    const s = {
      ...status,
      pending: pending.length + drafts.length,
      unsaved: unsaved.size,
    };
    const next: ClientState = { cart, viewed: view.viewed, prefs: view.prefs, identity, status: s };
    // Parts equal to the current ones keep their identity (the status also by its error).
    if (state) {
      for (const k of Object.keys(next) as (keyof ClientState)[]) {
        if (same(next[k], state[k]) && (k !== 'status' || s.error === state.status.error)) {
          (next as unknown as Record<string, unknown>)[k] = state[k];
        }
      }
    }
    return next;
  }

  /** Recomputes the derived state and tells whoever listens what changed, synchronously. */
  function commit(source: 'local' | 'remote' = 'remote') {
    const prev = state;
    state = build();
    if (state.cart !== prev.cart) emit('cart-change', { cart: state.cart, source });
    if (state.identity !== prev.identity) emit('identity-change', state.identity);
    if (state.status !== prev.status) emit('status-change', state.status);
    // A throwing subscriber must not break the others or the sync: report it like a listener.
    subs.forEach((notify) => {
      try {
        notify();
      } catch (e) {
        if (typeof reportError === 'function') reportError(e);
        else setTimeout(() => Promise.reject(e));
      }
    });
  }

  function recompute(source?: 'local' | 'remote') {
    view = rebase(base?.state ?? emptyState(), [
      ...pending,
      ...drafts.map((d) => ({ ...d, seq: 1 }) as Mutation),
    ]).state;
    commit(source);
  }

  /** Adds outbox entries; the drafts they were are no longer drafts. */
  function addPending(ms: readonly Entry[]) {
    const ids = new Set(ms.map((m) => m.id));
    drafts = drafts.filter((d) => !ids.has(d.id));
    ids.forEach((id) => (unsaved.delete(id!), saved.delete(id!)));
    const known = new Set(pending.map((m) => m.seq));
    const floor = base?.lastSeq ?? 0;
    pending = [...pending, ...ms.filter((m) => m.seq > floor && !known.has(m.seq))].sort(
      (a, b) => a.seq - b.seq,
    );
  }

  function setStatus(patch: Partial<Status>) {
    status = { ...status, ...patch };
    commit();
  }

  function syncError(error: OmniError, mutation: Mutation | null, share: boolean) {
    if (share) post({ t: 'e', m: mutation, c: error.code, x: error.message, st: error.status });
    emit('sync-error', { error, mutation });
  }

  // ---- storage ----

  function adopt(l: Loaded) {
    device = l.device;
    // The stored base may be older than the one a tab message brought (the leader persists
    // its snapshot after posting it): the older one would keep acknowledged entries pending.
    if (!behind(l.base)) base = l.base;
    pending = [];
    const known = new Set([...l.outbox, ...l.drafts].map((x) => x.id));
    l.drafts.forEach((d) => saved.add(d.id));
    // What the store lacks: this tab's drafts still being written, and other tabs' that may
    // still need rescuing. A draft of this tab that is stored nowhere was acknowledged already.
    drafts = [
      ...l.drafts,
      ...drafts.filter(
        (d) =>
          !known.has(d.id) && (tabOf(d) === tabId ? unsaved.has(d.id) : !settled.has(tabOf(d))),
      ),
    ];
    addPending(l.outbox);
    recompute();
    drafts.forEach((d) => watchTab(tabOf(d)));
  }

  /** Moves to memory after a storage failure, keeping everything; says so once. */
  function fallback(cause: unknown) {
    // After close() the store is closed on purpose: nothing to report.
    if (store.kind === 'memory' || closing.signal.aborted) return;
    const old = store;
    const seq = Math.max(base?.lastSeq ?? 0, ...pending.map((m) => m.seq));
    // Other tabs' drafts are theirs to send; this tab keeps (and sends) its own unstored ones.
    drafts = drafts.filter((d) => unsaved.has(d.id));
    const mine = drafts.filter((d) => !local.includes(d));
    store = memoryStore({ seq, device, base, outbox: pending, drafts: mine });
    mine.forEach((d) => unsaved.delete(d.id));
    opened = true;
    try {
      old.close();
    } catch {
      // Already gone.
    }
    // The tab now works alone: its state is no longer shared, so it leads itself, and the
    // other tabs must not store its drafts when it goes.
    post({ t: 'x', tab: tabId });
    leave();
    leader = true;
    report(cause);
    kick();
  }

  function report(cause: unknown) {
    const error = storageError(cause);
    if (!reported) warn('storage failed, using memory:', error.message);
    reported = true;
    setStatus({ storage: 'memory', error });
  }

  /**
   * Writes the drafts made so far, starting the transaction now, in the caller's task (a page
   * that closes right after still gets it committed), and announces them to the other tabs, so
   * one of them can store them should this tab die before its write commits. Resolves once
   * they are stored.
   */
  function flushLocal(): Promise<void> {
    // Without consent the drafts stay in memory until grant() persists them.
    if (consent !== 'granted' || !local.length) return Promise.resolve();
    if (!opened) {
      // Written once the store opens (persist()); their callers wait until then.
      if (!early) {
        let done!: () => void;
        early = [new Promise<void>((r) => (done = r)), done];
      }
      return early[0];
    }
    const batch = local.splice(0);
    const waiting = early;
    early = undefined;
    const failed = store;
    let saving: Promise<void>;
    try {
      saving = withTimeout(store.save(batch), storageMs);
    } catch (e) {
      saving = Promise.reject(e);
    }
    // Also before this tab holds its lock (granted, its callback still to run): the others
    // watch it from its hello (see watchNew()), and a tab that dies in that window would
    // otherwise leave a change nobody knows of.
    if (held || (tabs && navigator.locks)) post({ t: 'w', d: batch });
    const done = saving
      .then(
        () => {
          batch.forEach((d) => (unsaved.delete(d.id), saved.add(d.id)));
          commit();
          void settle();
        },
        (e) => {
          local.unshift(...batch);
          fallback(e);
          // Closing: the drafts stay in memory rather than retrying a dead store forever.
          if (store !== failed) return flushLocal();
        },
      )
      .finally(() => waiting?.[1]());
    stored = Promise.all([stored, done]);
    return done;
  }

  /** Gives the stored drafts their seqs (one run at a time) and tells the other tabs. */
  function settle(): Promise<void> {
    more = true;
    return (sequencing ??= (async () => {
      while (more) {
        more = false;
        const list = drafts.filter((d) => saved.has(d.id));
        if (!list.length) continue;
        const added = await withTimeout(store.sequence(list), storageMs);
        // Those left out were sequenced by another tab, whose message brings them back.
        const done = new Set(list.map((d) => d.id));
        drafts = drafts.filter((d) => !done.has(d.id));
        addPending(added);
        if (added.length) post({ t: 'm', m: added });
        recompute();
        void kick();
      }
    })()
      .catch(fallback)
      .finally(() => (sequencing = undefined)));
  }

  /**
   * Once `tab` is gone (its lock is free), stores whatever it announced but did not store, and
   * sequences whatever it stored but did not sequence.
   */
  function watchTab(tab: string) {
    const locks = navigator.locks;
    if (tab === tabId || !locks || watched.has(tab) || settled.has(tab)) return;
    watched.add(tab);
    locks
      .request(`${ns}:tab:${tab}`, { signal: session?.signal }, async () => {
        settled.add(tab);
        // What it announced and may not have stored (an hour old, it was stored or dropped
        // long ago), then what it stored and did not sequence: sequenced here, once.
        const left = drafts.filter(
          (x) => tabOf(x) === tab && !saved.has(x.id) && x.at > Date.now() - 36e5,
        );
        try {
          await withTimeout(store.save(left), storageMs);
          adopt(await store.load());
          await settle();
          // What it sequenced before it went may be in the outbox with no message about it
          // (it died before posting): sequencing nothing here, settle() kicks nobody.
          kick();
        } catch (e) {
          fallback(e);
        }
      })
      .catch(() => {
        // Aborted: this tab left first.
      });
  }

  /**
   * Watches a tab that just said hello, as soon as its lock is requested or held. Its own
   * `t` message comes only once its lock callback runs, a task after the lock is granted: a
   * change it makes meanwhile is stored but not announced, and if it goes away then, no tab
   * would know it left that change behind. Requesting its lock before it did would take the
   * lock from a live tab, so this waits until the lock manager lists its request.
   */
  function watchNew(tab: string, tries = 0) {
    const locks = navigator.locks;
    const signal = session?.signal;
    if (!locks || watched.has(tab) || settled.has(tab) || signal?.aborted) return;
    const name = `${ns}:tab:${tab}`;
    locks.query().then(
      ({ held: h = [], pending: p = [] }) => {
        if ([...h, ...p].some((l) => l.name === name)) return watchTab(tab);
        // Its request may still be on its way (it was made before the hello, but the lock
        // manager hears it on another channel), or the tab went away before it arrived or was
        // granted, maybe leaving a stored draft no tab was told of. After a second unseen, it
        // is gone: the store says what it left, and adopting those drafts watches their tab,
        // whose free lock starts the rescue.
        if (tries < 50) setTimeout(() => watchNew(tab, tries + 1), 20);
        else if (store.kind === 'indexeddb') store.load().then(adopt, fallback);
      },
      () => {},
    );
  }

  /** Whether `snap` is no newer than the base (same profile, not a later version or seq). */
  function behind(snap: Snapshot | null) {
    return (
      !!snap &&
      snap.profileId === base?.profileId &&
      (snap.version < base.version ||
        (snap.version === base.version && snap.lastSeq <= base.lastSeq))
    );
  }

  function setBase(snap: Snapshot, identity?: boolean, fromTab = false) {
    if (!identity && behind(snap)) return;
    if (identity) epoch++;
    base = snap;
    pending = pending.filter((m) => m.seq > snap.lastSeq);
    if (!fromTab) {
      persisting = persisting
        .then(() => withTimeout(store.setBase(snap), storageMs))
        .catch(fallback);
      post({ t: 'b', s: snap, i: identity });
    }
    recompute();
    if (identity && leader) reopen();
  }

  /**
   * Drops what is in flight for a restart; unless `keep`, also the unstored drafts and, at once,
   * the device and its snapshot: the server moves a forgotten device to a fresh profile and pokes
   * it, and a pull started with the old token before the store is emptied would write that
   * profile's snapshot back after the reset.
   */
  function drop(keep?: boolean) {
    epoch++;
    closeStream();
    if (keep) return;
    local.length = 0;
    drafts = [];
    unsaved.clear();
    device = base = null;
  }

  // ---- tabs ----

  function onTab(raw: unknown) {
    const msg = raw as TabMessage;
    if (msg.t === 'w') {
      // Unless sequenced (or rescued) here already, or known (a tab announces what it made
      // before it held its lock again once it does).
      const known = new Set([...pending, ...drafts].map((m) => m.id));
      drafts.push(...msg.d.filter((d) => !known.has(d.id) && !settled.has(tabOf(d))));
      recompute();
    } else if (msg.t === 't') {
      watchTab(msg.tab);
    } else if (msg.t === 'x') {
      settled.add(msg.tab);
      drafts = drafts.filter((d) => tabOf(d) !== msg.tab);
      recompute();
    } else if (msg.t === 'm') {
      addPending(msg.m);
      recompute();
      void kick();
    } else if (msg.t === 'b') setBase(msg.s, msg.i, true);
    else if (msg.t === 'e') {
      syncError(new OmniError(msg.c, msg.x, { status: msg.st }), msg.m, false);
    } else if (msg.t === 's') {
      if (!leader) setStatus({ state: msg.s, lastSyncedAt: msg.at });
    } else if (msg.t === 'h') {
      // A new tab: it must know this one to store what this one leaves behind.
      if (held) post({ t: 't', tab: tabId });
      if (msg.tab) watchNew(msg.tab);
      // And the snapshot this one has: the new tab read the store before it listened, so it
      // missed the snapshots posted meanwhile, and the store may lack the latest (setBase
      // persists after posting; a leader that closed may never have). Without it the entries
      // acknowledged meanwhile stay pending there until a newer snapshot, and its sync()
      // waits. Every tab answers: a leader still taking over (or none) would not, and the
      // new tab keeps only the newest.
      if (base) post({ t: 'b', s: base });
      if (leader) post({ t: 's', s: status.state, at: status.lastSyncedAt });
    } else if (msg.t === 'd') {
      store.load().then(({ device: d }) => {
        device = d;
        commit();
      }, fallback);
    } else if (msg.t === 'r') {
      // Another tab started over (forget, heal): adopt the new store.
      drop(msg.k);
      store.load().then(adopt, fallback);
    }
  }

  function join() {
    const role = (session = new AbortController());
    tabs = (options.tabs ?? broadcastTabs)(ns);
    tabs.listen(onTab);
    // Held for the tab's life: its release tells the other tabs this one is gone. Requested
    // before this tab says hello, so the others can wait for the request (see watchNew()).
    if (navigator.locks) {
      lead(`${ns}:tab:${tabId}`, role.signal, () => {
        held = true;
        post({ t: 't', tab: tabId });
        // What it made before it held the lock was not announced: it is now.
        const mine = drafts.filter((d) => tabOf(d) === tabId);
        if (mine.length) post({ t: 'w', d: mine });
      });
    }
    post({ t: 'h', tab: navigator.locks ? tabId : undefined });
    watched.clear();
    drafts.forEach((d) => watchTab(tabOf(d)));
    lead(`${ns}:leader`, role.signal, () => {
      if (role.signal.aborted) return;
      store.load().then((l) => {
        leader = true;
        adopt(l);
        needPull = true;
        void kick();
      }, fallback);
    });
  }

  function leave() {
    held = false;
    session?.abort();
    tabs?.close();
    tabs = null;
    leader = false;
    closeStream();
    clearTimeout(fallbackTimer);
    fallbackTimer = undefined;
  }

  // ---- network (leader only) ----

  const token = async () => (await ensureDevice()).token;

  async function ensureDevice(): Promise<Device> {
    await healing;
    if (device) return device;
    const register = async (): Promise<Device> => {
      const l = await store.load();
      return (
        l.device ??
        store.setDevice(
          await call('/v1/devices', {
            // A device the server lost carries over its last state (see heal()).
            body: { channel: 'web', state: l.base?.state },
            headers: keyed(),
            parse: (b) => (
              ['deviceId', 'token', 'profileId'].map((k) => field(b, k, isString)),
              b as Device
            ),
          }),
        )
      );
    };
    registering ??= (
      store.kind === 'indexeddb' && navigator.locks
        ? (navigator.locks.request(`${ns}:register`, register) as unknown as Promise<Device>)
        : register()
    ).finally(() => (registering = null));
    const d = (device = await registering);
    post({ t: 'd' });
    commit();
    // A device made by a read or a handoff (no change to push) must hear pokes too.
    void openStream();
    return d;
  }

  async function pull() {
    const at = epoch;
    const snap = await get('/v1/sync/pull', parseSnapshot, await token());
    if (at === epoch) setBase(snap, false);
  }

  /** Pushes the durable outbox in order until the server has all of it. */
  async function push() {
    flushLocal();
    // Stored drafts (this tab's, or those a tab left behind) get their seqs first.
    await stored;
    await settle();
    for (;;) {
      await resetting;
      const floor = base?.lastSeq ?? 0;
      // The longest prefix of the outbox that fits one request, in count and in bytes (one
      // valid mutation is far below the limit, so a batch is never empty).
      let room = LIMITS.maxBodyBytes - 1024;
      const batch = (await store.load()).outbox
        .filter((m) => m.seq > floor)
        .filter((m, i) => i < LIMITS.maxBatch && (room -= new Blob([JSON.stringify(m)]).size) > 0);
      const last = batch.at(-1);
      if (!last) return;
      const d = await ensureDevice();
      const res = await call('/v1/sync/push', {
        body: { deviceId: d.deviceId, mutations: batch.map(({ id: _id, ...m }) => m) },
        token: d.token,
        parse: (b) => (
          field(b, 'results', Array.isArray),
          field(b, 'lastSeq', Number.isInteger),
          b as PushResponse
        ),
      });
      for (const r of res.results) {
        if (r.status === 'rejected') {
          const m = batch.find((b) => b.seq === r.seq) ?? null;
          const code = r.error.code as OmniError['code'];
          syncError(new OmniError(code, r.error.message, { retryable: false }), m, true);
        }
      }
      if (res.lastSeq < last.seq) {
        throw new OmniError('internal', 'push was not acknowledged', { retryable: true });
      }
      await pull();
    }
  }

  /** Runs a sync now (push, then pull when needed); one at a time, retried with backoff. */
  function kick(): void {
    if (!leader || consent !== 'granted' || closing.signal.aborted) return;
    if (running) {
      again = true;
      return;
    }
    // New changes wait for the backoff too: a 429's Retry-After holds for every request.
    if (performance.now() + 1 < holdUntil) return;
    if (!net.online()) return setStatus({ state: 'offline' });
    // A failure is in the status already, and its retry scheduled.
    cycle().catch(() => {});
  }

  /** One sync run; rejects as it failed (for sync()), after failed() has scheduled the retry. */
  function cycle(): Promise<void> {
    clearTimeout(retryTimer);
    const at = epoch;
    return (running = (async () => {
      do {
        again = false;
        // `syncing` only while something is sent or fetched.
        if (pending.length || drafts.length || needPull) setStatus({ state: 'syncing' });
        await push();
        if (needPull && (device || base)) {
          needPull = false;
          await pull();
        }
      } while (again);
    })().then(
      () => {
        attempt = 0;
        running = undefined;
        setStatus({ state: 'online', error: null, lastSyncedAt: Date.now() });
        post({ t: 's', s: 'online', at: status.lastSyncedAt });
        openStream();
      },
      (e) => {
        running = undefined;
        failed(e, at);
        throw e;
      },
    ));
  }

  function failed(e: unknown, at: number) {
    if (closing.signal.aborted) return;
    const error =
      e instanceof OmniError ? e : new OmniError('internal', String(e), { retryable: true });
    const state = error.code === 'network' ? 'offline' : 'error';
    setStatus({ state, error });
    post({ t: 's', s: state, at: status.lastSyncedAt });
    // A lost device heals once: a late 401 of a request made before the heal only retries.
    if (gone(error)) {
      if (at === epoch) heal();
    } else if (!error.retryable) return syncError(error, null, true);
    // Offline is normal; anything else is worth a word while developing.
    if (DEV_MODE && state === 'error') warn(`sync failed (${error.code}), retrying`);
    needPull = true;
    const wait = delay(attempt++, retryAfter(error));
    holdUntil = performance.now() + wait;
    retryTimer = setTimeout(kick, wait);
  }

  /** The server no longer knows the device whose token a request carried. */
  const gone = (e: unknown) =>
    ((e as OmniError).details as { reason?: string } | undefined)?.reason === 'unknown_device';

  /**
   * Starts a new device (after a server lost its data or was restored from a backup) that
   * carries everything over: it registers with the last snapshot's state and pushes the outbox
   * on top, so nothing queued or shown is dropped. The customer is anonymous again until the
   * site calls identify(). Requests wait for it in ensureDevice().
   */
  function heal() {
    return (healing ??= startOver(true).finally(() => {
      healing = undefined;
      kick();
    }));
  }

  /**
   * Empties the store (or, with `keep`, forgets only the device); every tab adopts it. Pushes
   * wait for it (`resetting`): before, they would read an outbox the reset is about to drop.
   */
  function startOver(keep?: boolean): Promise<void> {
    drop(keep);
    return (resetting = (async () => {
      try {
        // A snapshot write queued before now must not land after the reset.
        await persisting;
        await store.reset(keep);
        adopt(await store.load());
      } catch (e) {
        fallback(e);
      }
      post({ t: 'r', k: keep });
    })());
  }

  function closeStream() {
    clearTimeout(streamTimer);
    stream?.close();
    stream = null;
  }

  function reopen() {
    closeStream();
    needPull = true;
    openStream();
  }

  /**
   * Pokes cannot be silenced: while the stream is not live (it has not beaten yet, or has
   * been silent for two heartbeats), the leader pulls every `fallbackMs`; a stream silent that
   * long (or never open) is replaced, and once one beats the pulls stop.
   */
  function watchStream() {
    if (fallbackTimer || !leader || closing.signal.aborted) return;
    fallbackTimer = setTimeout(() => {
      fallbackTimer = undefined;
      const now = performance.now();
      if (leader && device && !(stream && beat && now - heard < 2 * beat)) {
        needPull = true;
        kick();
        // kick() opens a new one once it has pulled.
        if (now - heard >= Math.max(fallbackMs, 2 * beat)) closeStream();
      }
      watchStream();
    }, fallbackMs);
  }

  /** Holds the poke stream; every (re)connect takes a fresh one-time ticket, then pulls. */
  async function openStream() {
    watchStream();
    if (stream || streaming || !leader || !device || closing.signal.aborted) return;
    streaming = true;
    const at = epoch;
    try {
      const { ticket } = await call('/v1/sync/stream-ticket', {
        token: device.token,
        parse: (b) => ({ ticket: field(b, 'ticket', isString) as string }),
      });
      if (!leader || at !== epoch || closing.signal.aborted) return;
      const es = (stream = net.eventSource(
        `${endpoint}/v1/sync/stream?ticket=${encodeURIComponent(ticket)}`,
      ));
      const alive = () => {
        if (stream === es) heard = performance.now();
      };
      alive();
      beat = 0;
      es.addEventListener('poke', (e) => {
        alive();
        onPoke((e as MessageEvent<string>).data);
      });
      // The server beats as an event (a comment would not reach this page); data: its interval.
      es.addEventListener('heartbeat', (e) => {
        alive();
        beat = +(e as MessageEvent<string>).data;
      });
      es.onopen = () => {
        alive();
        streamAttempt = 0;
        needPull = true;
        kick();
      };
      es.onerror = () => {
        if (stream !== es) return;
        closeStream();
        retryStream();
      };
    } catch {
      retryStream();
    } finally {
      streaming = false;
    }
    // An identity change while the ticket was on its way (reopen() found this one in flight and
    // left it to us): open the stream for the new epoch rather than none until the next sync.
    if (at !== epoch) void openStream();
  }

  function retryStream() {
    if (closing.signal.aborted || !leader) return;
    streamTimer = setTimeout(openStream, delay(streamAttempt++));
  }

  function onPoke(data: string) {
    let poke;
    try {
      poke = parsePoke(JSON.parse(data));
    } catch {
      if (DEV_MODE) warn('ignored a malformed poke');
      return;
    }
    const snap = poke.snapshot;
    // The snapshot carries this device's lastSeq as of its version, so pending changes rebase
    // over it exactly (none twice, even after a leader died mid-push). Another profile's (the
    // device moved, or a late poke of the one it left) is settled by a pull.
    if (snap && snap.profileId === base?.profileId) setBase(snap, false);
    else if (!base || poke.version !== base.version) {
      needPull = true;
      kick();
    }
  }

  // ---- identity: any tab may call these; they push first so nothing is left behind ----

  /** Sends an identity change; the answer is the new base plus one field (`key`), returned. */
  async function identityCall(
    path: string,
    body: unknown,
    key = 'version',
    ok: (v: unknown) => boolean = Number.isInteger,
  ): Promise<unknown> {
    await consented();
    await push();
    const [snap, value] = await call(path, {
      body,
      token: await token(),
      parse: (b) => [parseSnapshot(b), field(b, key, ok)] as const,
    });
    setBase(snap, true);
    return value;
  }

  /** Identity calls talk to the server: never without consent. */
  async function consented() {
    await ready0();
    if (consent !== 'granted') throw new OmniError('forbidden', 'consent is not granted');
  }

  // ---- lifecycle ----

  let persisted = false;
  async function persist() {
    if (persisted) return;
    persisted = true;
    let s: Store = memoryStore();
    if (options.storage !== 'memory') {
      try {
        s = await idbStore(ns, () => fallback(new Error('the database was closed')), storageMs);
      } catch (e) {
        report(e);
      }
    }
    store = s;
    if (s.kind === 'memory') {
      leader = true;
      kick();
    } else {
      setStatus({ storage: 'indexeddb' });
      try {
        adopt(await withTimeout(s.load(), storageMs));
        join();
      } catch (e) {
        fallback(e);
      }
    }
    opened = true;
    await flushLocal();
  }

  function start(): Promise<void> {
    if (ready) return ready;
    if (typeof window === 'undefined') return Promise.resolve();
    // Deferred a microtask so `ready` is set before any of it runs.
    ready = Promise.resolve().then(async () => {
      cleanups.push(
        net.watch(() => {
          attempt = 0;
          // Back online: retry now, unless the server itself asked to wait.
          if (status.error?.code === 'network') holdUntil = 0;
          if (!net.online()) return setStatus({ state: 'offline' });
          kick();
          openStream();
        }),
      );
      const onShow = (e: PageTransitionEvent) => {
        if (!e.persisted || store.kind === 'memory' || tabs) return;
        store.load().then(adopt, fallback);
        join();
      };
      const onHide = (e: PageTransitionEvent) => {
        // Changes are written as they are made once the store is open; before, they wait here.
        flushLocal();
        if (e.persisted && store.kind !== 'memory') leave();
      };
      const onHidden = () => document.visibilityState === 'hidden' && flushLocal();
      addEventListener('pageshow', onShow);
      addEventListener('pagehide', onHide);
      addEventListener('visibilitychange', onHidden);
      cleanups.push(() => {
        removeEventListener('pageshow', onShow);
        removeEventListener('pagehide', onHide);
        removeEventListener('visibilitychange', onHidden);
      });
      if (consent === 'granted') await persist();
      // The shopper's locale follows them to other devices and channels as a preference.
      const { locale } = options;
      if (locale && view.prefs.locale !== locale)
        mutate('prefs.set', { key: 'locale', value: locale });
      if (options.autoTrack) {
        const product = readPageProduct(document);
        if (product) track(product.sku);
      }
    });
    return ready;
  }

  const ready0 = () => start();

  // ---- analytics (user actions only) ----

  const fraction = () =>
    new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
      .maximumFractionDigits ?? 2;

  function ga(event: string, items: { sku: string; qty: number }[]) {
    const a = options.analytics;
    if (!a || consent !== 'granted') return;
    const layer =
      a === true ? ((window as { dataLayer?: unknown[] }).dataLayer ??= []) : a.dataLayer;
    const unit = 10 ** fraction();
    let value = 0;
    const list = items.map(({ sku, qty }) => {
      const price = prices[sku];
      value += (price ?? 0) * qty;
      return price === undefined
        ? { item_id: sku, quantity: qty }
        : { item_id: sku, quantity: qty, price: price / unit };
    });
    // Clearing the previous ecommerce object first, as GA4 asks.
    layer.push(
      { ecommerce: null },
      { event, ecommerce: { currency, value: value / unit, items: list } },
    );
  }

  // ---- changes ----

  /** Applies a change to the view, then stores it (see flushLocal); `changed` runs if it changed the view. */
  function mutate<N extends MutationName>(
    name: N,
    args: MutationArgs[N],
    changed?: () => void,
  ): Promise<void> {
    // Opens the store (in this task, a microtask later) if this is the first use.
    void ready0();
    const m = validateMutation({ seq: 1, name, args, at: Date.now() });
    const next = applyMutation(view, m);
    const { seq: _seq, ...rest } = m;
    // Recorded even when it changes nothing here: this view may be behind the server's, and
    // the intent ("remove this line") must still reach it.
    const d: Draft = { ...rest, id: tabId + ++made };
    local.push(d);
    drafts.push(d);
    unsaved.add(d.id);
    const was = view;
    view = next;
    commit('local');
    if (next !== was) changed?.();
    return flushLocal();
  }

  /** The cart's lines as analytics items. */
  const items = () => view.cart.lines.map(({ sku, qty }) => ({ sku, qty }));
  const lineOf = (sku: string, o?: Record<string, string>) =>
    view.cart.lines.find((l) => l.key === lineKey(sku, o));

  function track(sku: string) {
    const done = mutate('viewed.add', { sku });
    ga('view_item', [{ sku, qty: 1 }]);
    return done;
  }

  // ---- commerce reads ----

  /** By sku: when the entry expires, and the product (undefined: not in the catalog). */
  const catalog = new Map<string, [number, Promise<Product | undefined>]>();
  /** Open stock streams, closed by `close()`. */
  const watching = new Set<EventSource>();

  /** Catalog prices in the client's currency become cart prices. */
  function learn(list: readonly ProductCard[]) {
    for (const p of list) if (p.currency === currency) prices[p.sku] = p.price;
    commit();
  }

  async function products(skus: readonly string[]): Promise<Product[]> {
    const want = [...new Set(skus)];
    // Checked here so one bad sku never fails a request other calls share.
    if (!want.every((s) => LIMITS.skuPattern.test(s))) {
      throw new OmniError('invalid_argument', 'bad sku');
    }
    const now = Date.now();
    // Missing or expired (comparing undefined is false).
    const due = want.filter((s) => !((catalog.get(s)?.[0] as number) > now));
    // One request per call (per 100 skus, the server's limit), shared by the calls that follow.
    for (let i = 0; i < due.length; i += 100) {
      const part = due.slice(i, i + 100);
      const found = get(
        `/v1/products?${query({ skus: part })}`,
        (b) => new Map((field(b, 'products', Array.isArray) as Product[]).map((p) => [p.sku, p])),
      );
      for (const s of part) {
        const entry: [number, Promise<Product | undefined>] = [
          now + 60e3,
          found.then((m) => m.get(s)),
        ];
        catalog.set(s, entry);
        // A failure is not remembered: the entry expires at once.
        found.catch(() => (entry[0] = 0));
      }
    }
    const list = (await Promise.all(want.map((s) => catalog.get(s)![1]))).filter(
      (p): p is Product => !!p,
    );
    learn(list);
    return list;
  }

  function watch(skus: readonly string[], cb: (answer: StockAnswer) => void, near?: StockNear) {
    // EventSource sends no headers: the publishable key (not a secret) rides in the URL.
    const es = net.eventSource(
      `${endpoint}/v1/stock/stream?${query({ key: options.publishableKey, skus, ...near })}`,
    );
    es.addEventListener('stock', (e) => cb(JSON.parse((e as MessageEvent<string>).data)));
    watching.add(es);
    return () => {
      watching.delete(es);
      es.close();
    };
  }

  async function recommend(q: RecommendationQuery): Promise<Recommendation[]> {
    await consented();
    // The server excludes the profile's cart and weighs its views: it must have them all.
    await push();
    const items = await get(
      `/v1/recommendations?${query(q)}`,
      (b) => field(b, 'items', Array.isArray) as Recommendation[],
      await token(),
    );
    learn(items.map((i) => i.product));
    return items;
  }

  const on = <K extends keyof ClientEventMap>(type: K, listener: Listener<K>) => {
    void ready0();
    events.addEventListener(type, listener as EventListener);
    return () => events.removeEventListener(type, listener as EventListener);
  };

  state = build();

  return {
    get state() {
      void ready0();
      return state;
    },
    identity: {
      get deviceId() {
        return state.identity.deviceId;
      },
      get profileId() {
        return state.identity.profileId;
      },
      get customerId() {
        return state.identity.customerId;
      },
      async identify(customerToken) {
        const merge = (await identityCall(
          '/v1/identify',
          { token: customerToken },
          'merge',
          (v) => v === null || typeof v === 'object',
        )) as MergeSummary | null;
        if (merge) emit('merge', merge);
        return merge;
      },
      async logout() {
        await identityCall('/v1/logout', {});
      },
      async createHandoff() {
        await consented();
        await push();
        return call('/v1/handoff', {
          body: {},
          token: await token(),
          parse: (b) => (
            field(b, 'code', isString),
            field(b, 'url', isString),
            field(b, 'expiresAt', Number.isFinite),
            b as HandoffResponse
          ),
        });
      },
      async claimHandoff(code) {
        return (await identityCall(
          '/v1/handoff/claim',
          { code },
          'mode',
          (v) => v === 'joined' || v === 'copied',
        )) as 'joined' | 'copied';
      },
      async forget() {
        await ready0();
        if (device) await call('/v1/profile', { method: 'DELETE', token: device.token });
        await startOver();
      },
    },
    cart: {
      get lines() {
        return (ready0(), state.cart.lines);
      },
      get count() {
        return (ready0(), state.cart.count);
      },
      get subtotal() {
        return (ready0(), state.cart.subtotal);
      },
      get pickupStore() {
        return (ready0(), state.cart.pickupStore);
      },
      line: (sku, o) => (ready0(), state.cart.lines.find((l) => l.key === lineKey(sku, o))),
      add(sku, qty = 1, { options: o, price } = {}) {
        if (price !== undefined) prices[sku] = price;
        return mutate('cart.add', withOptions({ sku, qty }, o), () =>
          ga(qty > 0 ? 'add_to_cart' : 'remove_from_cart', [{ sku, qty: Math.abs(qty) }]),
        );
      },
      setQuantity(sku, qty, o) {
        const from = lineOf(sku, o)?.qty ?? 0;
        return mutate('cart.setQuantity', withOptions({ sku, qty }, o), () =>
          ga(qty > from ? 'add_to_cart' : 'remove_from_cart', [{ sku, qty: Math.abs(qty - from) }]),
        );
      },
      remove(sku, o) {
        const from = lineOf(sku, o)?.qty ?? 0;
        return mutate('cart.remove', withOptions({ sku }, o), () =>
          ga('remove_from_cart', [{ sku, qty: from }]),
        );
      },
      clear() {
        const all = items();
        return mutate('cart.clear', {}, () => ga('remove_from_cart', all));
      },
      setPickupStore: (storeId) => mutate('cart.setPickupStore', { storeId }),
      setPrices(p) {
        Object.assign(prices, p);
        commit();
      },
      view() {
        ga('view_cart', items());
      },
    },
    recentlyViewed: {
      get items() {
        return (ready0(), state.viewed);
      },
      track,
    },
    products: { get: products },
    stock: {
      near: (q) =>
        get(`/v1/stock?${query(q)}`, (b) => (field(b, 'stores', Array.isArray), b as StockAnswer)),
      watch,
    },
    recommendations: { get: recommend },
    get status() {
      return (ready0(), state.status);
    },
    start: ready0,
    async sync({ signal, timeoutMs } = {}) {
      const stops = [signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)];
      const wait = <T>(p: Promise<T>) => abortable(p, stops);
      const sleep = (ms: number) => wait(new Promise((r) => setTimeout(r, ms)));
      await wait(ready0());
      flushLocal();
      await wait(stored);
      if (consent !== 'granted') return;
      if (!leader) {
        // The leader pushes; wait until its acknowledgements (and its status) reach this tab.
        const check = () =>
          !pending.length && !drafts.length && status.state === 'online' && done();
        let done!: () => void;
        subs.add(check);
        return wait(new Promise<void>((r) => ((done = r), check()))).finally(() =>
          subs.delete(check),
        );
      }
      // Through transient failures (retried with the same backoff), never past a refusal.
      for (let n = 0; ; n++) {
        try {
          // A run under way may have started before the latest changes: let it end first.
          while (running) await wait(running.catch(() => {}));
          // The server's Retry-After holds; a lost connection's backoff not: the caller asks now.
          if (status.error?.code !== 'network') await sleep(holdUntil - performance.now());
          return await wait(cycle());
        } catch (e) {
          if (stops.some((s) => s?.aborted) || closing.signal.aborted) throw e;
          // failed() has started healing a lost device.
          if (gone(e)) await wait(healing ?? Promise.resolve());
          else if (!(e as OmniError).retryable) throw e;
          await sleep(delay(n, retryAfter(e)));
        }
      }
    },
    async grant() {
      if (consent === 'granted') return;
      consent = 'granted';
      if (!ready) return;
      await ready;
      // The memory drafts become outbox entries over whatever storage already holds.
      await persist();
    },
    subscribe(selector, cb) {
      void ready0();
      let last = selector(state);
      const notify = () => {
        const value = selector(state);
        if (Object.is(value, last)) return;
        const prev = last;
        last = value;
        cb(value, prev);
      };
      subs.add(notify);
      return () => subs.delete(notify);
    },
    on,
    addEventListener: (type, listener, o) =>
      events.addEventListener(type, listener as EventListener, o),
    removeEventListener: (type, listener, o) =>
      events.removeEventListener(type, listener as EventListener, o),
    async close() {
      closing.abort();
      watching.forEach((es) => es.close());
      clearTimeout(retryTimer);
      clearTimeout(fallbackTimer);
      leave();
      cleanups.forEach((c) => c());
      await ready;
      await flushLocal();
      await stored;
      await sequencing;
      await persisting;
      store.close();
    },
  };
}
