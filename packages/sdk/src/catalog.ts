// Opt-in (`@omnikit/sdk/catalog`): catalog and stock reads. They need no device, so only the
// endpoint and the publishable key: `createCatalog({ endpoint, publishableKey })`, or
// `createCatalog(client)` to share the client's connection and teach its cart the prices.
import { OmniError, skuPattern, type Product, type StockAnswer } from '@omnikit/protocol';
import { field, query, retryAfter } from './core.js';
import { browserNetwork, request } from './http.js';
import type { ConnectionOptions, OmniClient } from './types.js';

/** Where distances are measured from: a position, or a UK postcode (full, outward or area). */
export interface StockNear {
  lat?: number;
  lng?: number;
  postal?: string;
}

export interface StockQuery extends StockNear {
  sku: string;
}

export interface StockWatchOptions {
  /** Orders the stores by distance from here. */
  near?: StockNear;
  /**
   * While the stream brings nothing (a site's service worker may hold it, or it was cut or
   * refused), the watch asks `stock.near` for each sku this often instead (ms; 15000 by
   * default). A stream is live once it beats: the server's heartbeat says how often.
   */
  pollMs?: number;
  /**
   * Called when answers cannot be had: `retryable` while the watch goes on (the stream
   * reconnects, or the next poll asks again), not once it gave up (the server refused the
   * request: no answer will come, and the watch ends).
   */
  onError?: (error: OmniError) => void;
}

export interface Catalog {
  readonly products: {
    /**
     * The catalog's products among `skus`, in that order, without the unknown ones. Cached for a
     * minute; concurrent calls share requests. Given a client, its cart learns their prices.
     */
    get(skus: readonly string[]): Promise<Product[]>;
  };
  readonly stock: {
    /** Every store's availability of `sku` (with stock first, then nearest), and online's. */
    near(query: StockQuery): Promise<StockAnswer>;
    /**
     * Calls `cb` with each sku's answer now and after every change (never twice the same);
     * returns the unsubscribe. Live through the server's stream; asks every `pollMs` while the
     * stream is not live.
     */
    watch(
      skus: readonly string[],
      cb: (answer: StockAnswer) => void,
      options?: StockWatchOptions,
    ): () => void;
  };
  /** Closes every stock watch. */
  close(): void;
}

const shared = new WeakMap<OmniClient, Catalog>();

/** Catalog reads for `source`: connection options, or a client (one catalog per client). */
export function createCatalog(source: ConnectionOptions | OmniClient): Catalog {
  const client = 'cart' in source ? source : undefined;
  const known = client && shared.get(client);
  if (known) return known;
  const o = client ? client.options : (source as ConnectionOptions);
  const endpoint = o.endpoint.replace(/\/+$/, '');
  const net = o.network ?? browserNetwork();
  const closing = new AbortController();
  /** By sku: when the entry expires, and the product (undefined: not in the catalog). */
  const cache = new Map<string, [number, Promise<Product | undefined>]>();
  /** The stops of the open stock watches. */
  const watching = new Set<() => void>();
  const get = <T>(path: string, parse: (b: unknown) => T) =>
    request(
      net,
      endpoint,
      path,
      { method: 'GET', headers: { 'x-omni-key': o.publishableKey }, parse },
      o.timeoutMs ?? 15_000,
      closing.signal,
    );
  const checked = (skus: readonly string[]) => {
    // Checked here so one bad sku never fails a request other calls share.
    if (!skus.every((s) => skuPattern.test(s))) {
      throw new OmniError('invalid_argument', 'bad sku');
    }
    return skus;
  };

  const catalog: Catalog = {
    products: {
      async get(skus) {
        const want = checked([...new Set(skus)]);
        const now = Date.now();
        // Missing or expired (comparing undefined is false).
        const due = want.filter((s) => !((cache.get(s)?.[0] as number) > now));
        // One request per call (per 100 skus, the server's limit), shared by the calls after.
        for (let i = 0; i < due.length; i += 100) {
          const part = due.slice(i, i + 100);
          const found = get(
            `/v1/products?${query({ skus: part })}`,
            (b) =>
              new Map((field(b, 'products', Array.isArray) as Product[]).map((p) => [p.sku, p])),
          );
          for (const s of part) {
            const entry: [number, Promise<Product | undefined>] = [
              now + 60e3,
              found.then((m) => m.get(s)),
            ];
            cache.set(s, entry);
            // A failure is not remembered: the entry expires at once.
            found.catch(() => (entry[0] = 0));
          }
        }
        const list = (await Promise.all(want.map((s) => cache.get(s)![1]))).filter(
          (p): p is Product => !!p,
        );
        if (client) {
          const currency = client.state.cart.currency;
          client.cart.setPrices(
            Object.fromEntries(
              list.filter((p) => p.currency === currency).map((p) => [p.sku, p.price]),
            ),
          );
        }
        return list;
      },
    },
    stock: {
      near: (q) =>
        get(`/v1/stock?${query(q)}`, (b) => (field(b, 'stores', Array.isArray), b as StockAnswer)),
      watch(skus, cb, { near, onError, pollMs = 15_000 } = {}) {
        checked(skus);
        // A timer's delay is a 32-bit int: a longer one would fire at once.
        if (!(pollMs > 0 && pollMs < 2 ** 31)) {
          throw new OmniError('invalid_argument', 'pollMs must be from 1 to 2147483647');
        }
        const url = `${endpoint}/v1/stock/stream?${query({ key: o.publishableKey, skus, ...near })}`;
        /** Calls the page's `f`; should it throw, reports that without ending the watch. */
        const safely = <T>(f: ((v: T) => void) | undefined, v: T) => {
          try {
            f?.(v);
          } catch (e) {
            queueMicrotask(() => {
              throw e;
            });
          }
        };
        /** The last answer given, by sku (as JSON): a poll that finds no change is not one. */
        const given = new Map<string, string>();
        const give = (a: StockAnswer) => {
          const json = JSON.stringify(a);
          if (given.get(a.sku) === json) return;
          given.set(a.sku, json);
          safely(cb, a);
        };
        let es: EventSource;
        /** When the stream opened, and was last heard from; its heartbeat (ms; 0: none yet). */
        let opened = 0;
        let heard = 0;
        let beat = 0;
        let timer: ReturnType<typeof setTimeout> | undefined;
        /** Not before this may polls run again (performance.now()); `busy` while they run. */
        let next = 0;
        let busy = false;
        const live = () => watching.has(stop);
        const stop = () => {
          watching.delete(stop);
          clearTimeout(timer);
          es.close();
        };
        /**
         * Asks for each sku; an answer is dropped if the stream spoke meanwhile (it came back,
         * with answers as new or newer). Stops at an error, reported once: a refusal (not
         * retryable) ends the watch; else resolves with the wait the server asked for, if any.
         */
        const poll = async () => {
          for (const sku of skus) {
            if (!live()) return;
            const before = heard;
            let answer: StockAnswer;
            try {
              answer = await catalog.stock.near({ sku, ...near });
            } catch (e) {
              if (!live()) return;
              if (!(e as OmniError).retryable) stop();
              safely(onError, e as OmniError);
              return retryAfter(e);
            }
            if (live() && heard === before) give(answer);
          }
        };
        /**
         * One chain of timers. While the stream is not live (it has not beaten, was silent for
         * two beats, or closed) each turn polls; then replaces the stream if closed for a turn,
         * or silent for one (3 s at least: time to connect), as the sync's poke stream is.
         */
        const tick = (ms: number) => {
          clearTimeout(timer);
          timer = setTimeout(async () => {
            let wait: number | undefined;
            try {
              if (es.readyState === 2 || !beat || performance.now() - heard >= 2 * beat) {
                busy = true;
                wait = Math.max(pollMs, (await poll()) ?? 0);
                const now = performance.now();
                next = now + wait;
                if (
                  live() &&
                  (es.readyState === 2
                    ? now - opened >= pollMs
                    : now - heard >= Math.max(pollMs, 2 * beat, 3000))
                ) {
                  es.close();
                  open();
                }
              }
            } finally {
              busy = false;
              if (live()) tick(wait ?? pollMs);
            }
          }, ms);
        };
        const open = () => {
          const s = (es = net.eventSource(url));
          opened = heard = performance.now();
          beat = 0;
          // EventSource sends no headers: the publishable key (not a secret) rides in the URL.
          s.addEventListener('heartbeat', (e) => {
            if (es !== s) return;
            heard = performance.now();
            beat = +(e as MessageEvent<string>).data;
          });
          s.addEventListener('stock', (e) => {
            if (es !== s) return;
            heard = performance.now();
            let answer: StockAnswer;
            try {
              answer = JSON.parse((e as MessageEvent<string>).data) as StockAnswer;
              field(answer, 'stores', Array.isArray);
            } catch (cause) {
              return onError?.(new OmniError('internal', 'malformed stock answer', { cause }));
            }
            give(answer);
          });
          s.addEventListener('error', () => {
            if (es !== s) return;
            // Closed: the server answered with an error (an unknown sku, or too many streams
            // from this address), or something between gave up. Polls ask at once (unless they
            // asked less than a turn ago, or the server asked to wait) and report a refusal.
            if (s.readyState !== 2) {
              onError?.(
                new OmniError('network', 'the stock stream was lost, reconnecting', {
                  retryable: true,
                }),
              );
            } else if (!busy && live() && performance.now() >= next) tick(0);
          });
        };
        open();
        watching.add(stop);
        // A live stream beats at once: a first poll soon, should it not (a held stream).
        tick(Math.min(pollMs, 3000));
        return stop;
      },
    },
    close() {
      // Reads still running end too (they would teach a closed client prices), and a later
      // createCatalog(client) starts afresh.
      closing.abort();
      if (client && shared.get(client) === catalog) shared.delete(client);
      watching.forEach((stop) => stop());
    },
  };
  if (client) {
    shared.set(client, catalog);
    client.on('close', catalog.close);
  }
  return catalog;
}
