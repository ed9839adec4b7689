// Opt-in (`@omnikit/sdk/ga4`): pushes GA4 ecommerce events to `window.dataLayer` (or a given
// array) for what the shopper does in this tab, driven by the client's events: `add_to_cart` /
// `remove_from_cart` for each local cart change (what it changed, by line), `view_item` for
// `recentlyViewed.track`, `view_cart` for `cart.view()`. Changes from sync or other tabs are no
// user action here and push nothing; neither does anything without consent.
import type { CartState, LineView, OmniClient } from './types.js';

type Item = { sku: string; qty: number; price?: number | undefined };

/** Starts the bridge; returns the stop. */
export function ga4(client: OmniClient, options: { dataLayer?: unknown[] } = {}): () => void {
  let lines: readonly LineView[] = client.state.cart.lines;

  function push(event: string, items: Item[], currency: string) {
    if (client.consent !== 'granted') return;
    const layer = options.dataLayer ?? ((window as { dataLayer?: unknown[] }).dataLayer ??= []);
    const unit =
      10 **
      (new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
        .maximumFractionDigits ?? 2);
    let value = 0;
    const list = items.map(({ sku, qty, price }) => {
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

  const all = (cart: CartState): Item[] =>
    cart.lines.map(({ sku, qty, price }) => ({ sku, qty, price }));

  const stops = [
    client.on('cart-change', ({ cart, source }) => {
      const before = new Map(lines.map((l) => [l.key, l]));
      lines = cart.lines;
      if (source !== 'local') return;
      const added: Item[] = [];
      const removed: Item[] = [];
      for (const l of cart.lines) {
        const d = l.qty - (before.get(l.key)?.qty ?? 0);
        before.delete(l.key);
        if (d) (d > 0 ? added : removed).push({ sku: l.sku, qty: Math.abs(d), price: l.price });
      }
      for (const l of before.values()) removed.push({ sku: l.sku, qty: l.qty, price: l.price });
      if (added.length) push('add_to_cart', added, cart.currency);
      if (removed.length) push('remove_from_cart', removed, cart.currency);
    }),
    client.on('view-item', ({ sku, price }) =>
      push('view_item', [{ sku, qty: 1, price }], client.state.cart.currency),
    ),
    client.on('view-cart', (cart) => push('view_cart', all(cart), cart.currency)),
  ];
  return () => stops.forEach((stop) => stop());
}
