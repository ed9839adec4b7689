// Type tests of the public API: compiled by `npm run typecheck`, never run. Each
// `@ts-expect-error` line must stay an error; each `expectType` must stay exact.
import {
  createClient,
  OmniError,
  type CartState,
  type ClientState,
  type LineView,
  type MergeSummary,
  type Mutation,
  type OmniClient,
  type Product,
  type Recommendation,
  type Status,
  type StockAnswer,
  type SyncState,
} from '@omnikit/sdk';
import type { HandoffResponse, ViewedItem } from '@omnikit/protocol';
import { createCatalog } from '@omnikit/sdk/catalog';
import { ga4 } from '@omnikit/sdk/ga4';
import { claimHandoffFromUrl } from '@omnikit/sdk/handoff';
import { trackPageProduct } from '@omnikit/sdk/page-product';
import type { HandoffOutcome } from '@omnikit/sdk';

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_ok: T) => {};
const typed = <T>(value: T) => value;

export function apiTypes(): void {
  const client = createClient({ endpoint: 'https://omni.example', publishableKey: 'pk' });
  expectType<Equal<typeof client, OmniClient>>(true);

  // @ts-expect-error endpoint and publishableKey are required
  createClient({ endpoint: 'https://omni.example' });
  // @ts-expect-error consent is one of granted | pending | denied
  createClient({ endpoint: 'x', publishableKey: 'pk', consent: 'yes' });
  // @ts-expect-error storage is indexeddb | memory
  createClient({ endpoint: 'x', publishableKey: 'pk', storage: 'localStorage' });

  // Cart
  client.cart.add('SKU');
  client.cart.add('SKU', 2, { options: { size: 'M' }, price: 1990 });
  // @ts-expect-error quantities are numbers
  client.cart.add('SKU', '2');
  // @ts-expect-error option values are strings
  client.cart.add('SKU', 1, { options: { size: 1 } });
  client.cart.setQuantity('SKU', 3, { size: 'M' });
  client.cart.setPickupStore(null);
  // Each change resolves once stored in this browser.
  expectType<Equal<ReturnType<typeof client.cart.add>, Promise<void>>>(true);
  expectType<Equal<ReturnType<typeof client.cart.remove>, Promise<void>>>(true);
  expectType<Equal<ReturnType<typeof client.recentlyViewed.track>, Promise<void>>>(true);
  expectType<Equal<ReturnType<typeof client.cart.line>, LineView | undefined>>(true);
  client.cart.line('SKU', { size: 'M' });
  // @ts-expect-error option values are strings
  client.cart.line('SKU', { size: 1 });
  // @ts-expect-error the cart is read-only from outside
  client.cart.lines = [];
  expectType<Equal<typeof client.cart.subtotal, number>>(true);
  expectType<Equal<typeof client.recentlyViewed.items, readonly ViewedItem[]>>(true);

  // Identity
  expectType<Equal<ReturnType<typeof client.identity.identify>, Promise<MergeSummary | null>>>(
    true,
  );
  expectType<Equal<ReturnType<typeof client.identity.createHandoff>, Promise<HandoffResponse>>>(
    true,
  );
  expectType<Equal<ReturnType<typeof client.identity.claimHandoff>, Promise<'joined' | 'copied'>>>(
    true,
  );
  expectType<Equal<typeof client.identity.customerId, string | null>>(true);

  // Status
  expectType<Equal<Status['state'], SyncState>>(true);
  expectType<Equal<SyncState, 'online' | 'offline' | 'syncing' | 'error'>>(true);
  expectType<Equal<Status['error'], OmniError | null>>(true);
  expectType<Equal<Status['unsaved'], number>>(true);
  expectType<Equal<ReturnType<typeof client.sync>, Promise<void>>>(true);
  client.sync({ signal: new AbortController().signal, timeoutMs: 5000 });
  // @ts-expect-error the timeout is a number of ms
  client.sync({ timeoutMs: '5s' });

  // Subscriptions infer the selected type and return an unsubscribe.
  const _stop = client.subscribe(
    (s) => s.cart.count,
    (_count, _previous) => {
      expectType<Equal<typeof _count, number>>(true);
      expectType<Equal<typeof _previous, number>>(true);
    },
  );
  expectType<Equal<typeof _stop, () => void>>(true);
  client.subscribe(
    (s: ClientState) => s.cart,
    (_cart) => expectType<Equal<typeof _cart, CartState>>(true),
  );

  // Typed events.
  client.on('cart-change', (_d) => {
    expectType<Equal<typeof _d.source, 'local' | 'remote'>>(true);
  });
  client.on('merge', (_d) => expectType<Equal<typeof _d, MergeSummary>>(true));
  client.on('sync-error', (_d) => {
    expectType<Equal<typeof _d.error, OmniError>>(true);
    expectType<Equal<typeof _d.mutation, Mutation | null>>(true);
  });
  client.on('status-change', (d) => typed<Status>(d));
  client.on('handoff', (d) => {
    if (d.outcome === 'used') typed<OmniError>(d.error);
    // @ts-expect-error a joined handoff carries no error
    if (d.outcome === 'joined') typed<OmniError>(d.error);
  });
  expectType<Equal<ReturnType<typeof client.on>, () => void>>(true);
  // @ts-expect-error unknown event names are refused
  client.on('cart-changed', () => {});
  // @ts-expect-error the detail of identity-change is not a cart
  client.on('identity-change', (d) => typed<CartState>(d));
  // @ts-expect-error one event API: no addEventListener
  client.addEventListener('status-change', () => {});
  expectType<Equal<ReturnType<typeof client.identity.undoMerge>, Promise<void>>>(true);

  // Catalog and stock (an opt-in: a client, or only the endpoint and key), recommendations.
  const catalog = createCatalog({ endpoint: 'https://omni.example', publishableKey: 'pk' });
  expectType<Equal<typeof catalog, ReturnType<typeof createCatalog>>>(true);
  createCatalog(client);
  // @ts-expect-error the publishable key is required
  createCatalog({ endpoint: 'https://omni.example' });
  // @ts-expect-error the core client has no catalog reads
  client.products.get(['SKU']);
  expectType<Equal<ReturnType<typeof catalog.products.get>, Promise<Product[]>>>(true);
  // @ts-expect-error skus are a list
  catalog.products.get('SKU');
  expectType<Equal<ReturnType<typeof catalog.stock.near>, Promise<StockAnswer>>>(true);
  catalog.stock.near({ sku: 'SKU', lat: 51.5, lng: -0.12 });
  catalog.stock.near({ sku: 'SKU', postal: 'SW1A 1AA' });
  // @ts-expect-error the sku is required
  catalog.stock.near({ postal: 'SW1A 1AA' });
  // @ts-expect-error coordinates are numbers
  catalog.stock.near({ sku: 'SKU', lat: '51.5' });
  catalog.stock.watch(['SKU'], () => {}, {
    near: { postal: 'SW1A 1AA' },
    onError: (e) => typed<OmniError>(e),
  });
  const _stopGa = ga4(client, { dataLayer: [] });
  expectType<Equal<typeof _stopGa, () => void>>(true);
  typed<string | undefined>(trackPageProduct(client)?.sku);
  claimHandoffFromUrl(client).then((o) => typed<HandoffOutcome | null>(o));
  const _unwatch = catalog.stock.watch(['SKU'], (_answer) => {
    expectType<Equal<typeof _answer, StockAnswer>>(true);
    const _first = _answer.stores[0];
    if (_first?.availability.band === 'low_stock') {
      expectType<Equal<typeof _first.availability.count, number>>(true);
    }
    // @ts-expect-error only low_stock carries a count
    if (_first?.availability.band === 'in_stock') typed<number>(_first.availability.count);
  });
  expectType<Equal<typeof _unwatch, () => void>>(true);
  expectType<Equal<ReturnType<typeof client.recommendations.get>, Promise<Recommendation[]>>>(true);
  client.recommendations.get({ strategy: 'also-bought', sku: 'SKU', limit: 4, exclude: ['X'] });
  // @ts-expect-error strategies are a closed set
  client.recommendations.get({ strategy: 'random' });
  // @ts-expect-error the strategy is required
  client.recommendations.get({ sku: 'SKU' });
  client.recommendations.get({ strategy: 'personalized' }).then(([first]) => {
    if (first) {
      typed<string>(first.reason.text);
      typed<number>(first.product.price);
      // @ts-expect-error reason codes are a closed set
      typed<'x'>(first.reason.code);
    }
  });

  // Errors are typed.
  const _error = new OmniError('network', 'offline');
  expectType<Equal<typeof _error.retryable, boolean>>(true);
  // @ts-expect-error codes are a closed set
  new OmniError('nope', 'x');
}
