// Commerce reads that need this shopper's device: recommendations (the server weighs the
// profile's cart and views). Catalog and stock reads need no device: catalog.ts, an opt-in.
import type { Recommendation } from '@omnikit/protocol';
import { consented, field, query, type Core } from './core.js';
import type { OmniClient } from './types.js';

/** Builds the client's `recommendations`. */
export function commerce(c: Core): OmniClient['recommendations'] {
  return {
    async get(q) {
      const path = `/v1/recommendations?${query(q)}`;
      // The server excludes the profile's cart and weighs its views: it must have them all.
      const token = await consented(c);
      const items = await c.get(
        path,
        (b) => field(b, 'items', Array.isArray) as Recommendation[],
        token,
      );
      // Catalog prices in the client's currency become cart prices.
      for (const { product: p } of items) if (p.currency === c.currency) c.prices[p.sku] = p.price;
      c.commit();
      return items;
    },
  };
}
