// Opt-in (`@omnikit/sdk/catalog`): catalog and stock reads. They need no device, so only the
// endpoint and the publishable key: `createCatalog({ endpoint, publishableKey })`, or
// `createCatalog(client)` to share the client's connection and teach its cart the prices.
import { OmniError, skuPattern, type Product, type StockAnswer } from '@omnikit/protocol';
import { field, query } from './core.js';
import { browserNetwork, request } from './http.js';
import { watchStock } from './stock-watch.js';
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
      watch(skus, cb, { near, onError, pollMs } = {}) {
        checked(skus);
        const url = `${endpoint}/v1/stock/stream?${query({ key: o.publishableKey, skus, ...near })}`;
        return watchStock(
          {
            // EventSource sends no headers: the publishable key (not a secret) rides in the URL.
            stream: () => net.eventSource(url),
            ask: (sku) => catalog.stock.near({ sku, ...near }),
            watching,
          },
          skus,
          cb,
          { onError, pollMs },
        );
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
