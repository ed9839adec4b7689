// The client: composes the modules (the local view, the outbox and storage, the tab rescue, tab
// sync, the sync loop and its poke stream, identity, commerce reads) over one shared record
// (core.ts), and holds the lifecycle: when it starts, how sync() waits, consent, close().
import { OmniError, lineKey, withOptions, emptyState } from '@omnikit/protocol';
import { listen } from './bfcache.js';
import { commerce } from './commerce.js';
import { abortable, EMIT, gone, retryAfter, withTimeout, type Core } from './core.js';
import { DEV_MODE } from './dev.js';
import { browserNetwork, request } from './http.js';
import { identity } from './identity.js';
import { memoryStore } from './memory.js';
import { outbox } from './outbox.js';
import { rescue } from './rescue.js';
import { TAB_ID } from './store.js';
import { stream } from './stream.js';
import { sync } from './sync.js';
import { tabSync } from './tab-sync.js';
import type { ClientOptions, OmniClient } from './types.js';
import { view } from './view.js';

/** Every option, for the development build's check of misspelled ones. */
const known = DEV_MODE
  ? 'endpoint publishableKey locale currency consent storage namespace logger prices network tabs retry timeoutMs storageTimeoutMs fallbackPullMs'
  : '';

/**
 * Creates a client. Nothing happens (no storage, no network) until it starts: on `start()`, on
 * the first change, or on the first call that needs the server (see `OmniClient`).
 */
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
          (DEV_MODE && unknown.length ? `; unknown option(s): ${unknown.join(', ')}` : ''),
        { details: { option: k } },
      );
    }
  }
  const logger = options.logger ?? console;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const endpoint = options.endpoint.replace(/\/+$/, '');
  const closing = new AbortController();
  // Building the network touches nothing: `fetch` and `EventSource` are only read when called.
  const net = options.network ?? browserNetwork();
  let ready: Promise<void> | undefined;
  const c = {
    o: options,
    endpoint,
    storageMs: options.storageTimeoutMs ?? 5000,
    ns: options.namespace ?? `omnikit:${options.publishableKey}`,
    currency: options.currency ?? 'USD',
    net,
    closing: closing.signal,
    prices: { ...options.prices },
    tabId: Math.random()
      .toString(36)
      .slice(2, 2 + TAB_ID)
      .padEnd(TAB_ID, '0'),
    consent: options.consent ?? 'granted',
    cleanups: [],
    warn: (message: string, ...details: unknown[]) =>
      logger.warn(`[omnikit] ${message}`, ...details),
    call: (path, call) => request(net, endpoint, path, call, timeoutMs, closing.signal),
    get: (path, parse, token) =>
      c.call(path, {
        method: 'GET',
        headers: { 'x-omni-key': options.publishableKey },
        parse,
        token,
      }),
    start,
    v: emptyState(),
    status: {
      state: 'offline',
      pending: 0,
      unsaved: 0,
      lastSyncedAt: null,
      storage: 'memory',
      error: null,
    },
    subs: new Set(),
    store: memoryStore(),
    device: null,
    base: null,
    pending: [],
    drafts: [],
    local: [],
    unsaved: new Set(),
    saved: new Set(),
    settled: new Set(),
    sequenced: new Map(),
    stored: Promise.resolve(),
    persisting: Promise.resolve(),
    epoch: 0,
    needPull: true,
    holdUntil: 0,
    mem: '',
  } as Partial<Core> as Core;
  const { subscribe, on } = view(c);
  outbox(c);
  rescue(c);
  tabSync(c);
  sync(c);
  stream(c);

  function start(): Promise<void> {
    if (ready) return ready;
    if (typeof window === 'undefined') return Promise.resolve();
    // Deferred a microtask so `ready` is set before any of it runs.
    ready = Promise.resolve().then(async () => {
      // A tab alone in memory has no tabs to leave; a memory group's does (a frozen leader
      // would stall the group).
      const alone = () => c.store.kind === 'memory' && !c.mem;
      const onShow = (e: PageTransitionEvent) => {
        if (!e.persisted || alone() || c.joined()) return;
        // What it knew of the drafts is stale (stored, sequenced or rescued meanwhile): it reads
        // the store before it joins again, so it announces only what of its own the store
        // lacks, not a change sent meanwhile, and keeps another tab's only if not sent (that
        // tab may have died meanwhile, with nobody else to rescue it). Timed as the first read.
        withTimeout(c.reload(), c.storageMs).then((ok) => ok && c.join(), c.fallback);
      };
      const onHide = (e: PageTransitionEvent) => {
        // Changes are written as they are made once the store is open; before, they wait here.
        c.flushLocal();
        // Alone, it lets its lock go (held, the page could not be cached): the others, who
        // heard it went alone, find none of its drafts to store.
        if (!e.persisted) return;
        if (alone()) c.letGo();
        else c.leave();
      };
      const onHidden = () => document.visibilityState === 'hidden' && c.flushLocal();
      c.cleanups.push(
        net.watch(c.connectivity),
        listen('pageshow', onShow),
        listen('pagehide', onHide),
        listen('visibilitychange', onHidden),
      );
      if (c.consent === 'granted') await c.persist();
      // The shopper's locale follows them to other devices and channels as a preference.
      const locale = options.locale;
      if (locale && c.v.prefs.locale !== locale)
        c.mutate('prefs.set', { key: 'locale', value: locale });
    });
    return ready;
  }

  const lineOf = (sku: string, o?: Record<string, string>) =>
    c.state.cart.lines.find((l) => l.key === lineKey(sku, o));

  const client: OmniClient = {
    options,
    get state() {
      return c.state;
    },
    get consent() {
      return c.consent;
    },
    identity: identity(c),
    cart: {
      get lines() {
        return c.state.cart.lines;
      },
      get count() {
        return c.state.cart.count;
      },
      get subtotal() {
        return c.state.cart.subtotal;
      },
      get pickupStore() {
        return c.state.cart.pickupStore;
      },
      line: lineOf,
      add(sku, qty = 1, { options: o, price } = {}) {
        if (price !== undefined) c.prices[sku] = price;
        return c.mutate('cart.add', withOptions({ sku, qty }, o));
      },
      setQuantity: (sku, qty, o) => c.mutate('cart.setQuantity', withOptions({ sku, qty }, o)),
      remove: (sku, o) => c.mutate('cart.remove', withOptions({ sku }, o)),
      clear: () => c.mutate('cart.clear', {}),
      setPickupStore: (storeId) => c.mutate('cart.setPickupStore', { storeId }),
      setPrices(p) {
        Object.assign(c.prices, p);
        c.commit();
      },
      view: () => c.emit('view-cart', c.state.cart),
    },
    recentlyViewed: {
      get items() {
        return c.state.viewed;
      },
      track(sku) {
        const done = c.mutate('viewed.add', { sku });
        c.emit('view-item', c.prices[sku] === undefined ? { sku } : { sku, price: c.prices[sku] });
        return done;
      },
    },
    recommendations: commerce(c),
    get status() {
      return c.state.status;
    },
    start,
    async sync({ signal, timeoutMs } = {}) {
      const stops = [signal, timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs)];
      const wait = <T>(p: Promise<T>) => abortable(p, stops);
      const sleep = (ms: number) => wait(new Promise((r) => setTimeout(r, ms)));
      await wait(start());
      c.flushLocal();
      await wait(c.stored);
      if (c.consent !== 'granted') return;
      if (!c.leader) {
        // The leader pushes; wait until its acknowledgements (and its status) reach this tab.
        const check = () =>
          !c.pending.length && !c.drafts.length && c.status.state === 'online' && done();
        let done!: () => void;
        c.subs.add(check);
        return wait(new Promise<void>((r) => ((done = r), check()))).finally(() =>
          c.subs.delete(check),
        );
      }
      // Through transient failures (retried with the same backoff), never past a refusal.
      for (let n = 0; ; n++) {
        try {
          // A run under way may have started before the latest changes: let it end first.
          while (c.running) await wait(c.running.catch(() => {}));
          // The server's Retry-After holds; a lost connection's backoff not: the caller asks now.
          if (c.status.error?.code !== 'network') await sleep(c.holdUntil - performance.now());
          // The retry timer may have started a run during that sleep: it takes one more round
          // (which has every change made so far) rather than a second run beside it.
          return await wait(c.again() ? c.running! : c.cycle());
        } catch (e) {
          if (stops.some((s) => s?.aborted) || c.closing.aborted) throw e;
          // failed() has started healing a lost device.
          if (gone(e)) await wait(c.healing ?? Promise.resolve());
          else if (!(e as OmniError).retryable) throw e;
          await sleep(c.delay(n, retryAfter(e)));
        }
      }
    },
    async grant() {
      if (c.consent === 'granted') return;
      c.consent = 'granted';
      if (!ready) return;
      await ready;
      // The memory drafts become outbox entries over whatever storage already holds.
      await c.persist();
    },
    subscribe,
    on,
    async close() {
      closing.abort();
      c.emit('close', null);
      c.leave();
      c.cleanups.forEach((f) => f());
      await ready;
      await c.flushLocal();
      await c.stored;
      await c.sequencing;
      await c.persisting;
      c.store.close();
    },
  };
  // Where the opt-ins find emit (see EMIT); not enumerable.
  Object.defineProperty(client, EMIT, { value: c.emit });
  return client;
}
