/** A product the current page is about, as the page itself declares it. */
export interface PageProduct {
  sku: string;
  name?: string;
}

type JsonObject = Record<string, unknown>;

const PRODUCT = /^(https?:\/\/schema\.org\/)?Product$/;

/** The first node typed `Product`, searching arrays and `@graph` a few levels deep. */
function findProduct(node: unknown, depth = 0): JsonObject | undefined {
  if (depth > 6 || typeof node !== 'object' || !node) return undefined;
  if (Array.isArray(node)) return node.map((n) => findProduct(n, depth + 1)).find(Boolean);
  const o = node as JsonObject;
  // `@type` is a name or a list of names; RegExp#test reads anything else as a string.
  return [o['@type']].flat().some((t) => PRODUCT.test(t as string))
    ? o
    : findProduct(o['@graph'], depth + 1);
}

const text = (value: unknown): string | undefined =>
  typeof value === 'number'
    ? String(value)
    : (typeof value === 'string' && value.trim()) || undefined;

/**
 * Reads the product a page is about from schema.org `Product` JSON-LD (`sku`, else
 * `productID`), falling back to the `product:retailer_item_id` meta tag. Malformed JSON-LD
 * blocks are ignored. Returns `undefined` when the page declares no product.
 */
export function readPageProduct(doc: Document): PageProduct | undefined {
  for (const script of doc.querySelectorAll('script[type="application/ld+json"]')) {
    let product;
    try {
      product = findProduct(JSON.parse(script.textContent ?? ''));
    } catch {
      continue;
    }
    const sku = product && (text(product['sku']) ?? text(product['productID']));
    if (product && sku) {
      const name = text(product['name']);
      return name === undefined ? { sku } : { sku, name };
    }
  }
  const sku = text(
    doc.querySelector<HTMLMetaElement>(
      'meta[property="product:retailer_item_id"], meta[name="product:retailer_item_id"]',
    )?.content,
  );
  return sku === undefined ? undefined : { sku };
}

/**
 * Opt-in (`@omnikit/sdk/page-product`): records the product the page declares (see
 * `readPageProduct`) as recently viewed by `client`, now. Returns the product, if any.
 */
export function trackPageProduct(
  client: { recentlyViewed: { track(sku: string): Promise<void> } },
  doc: Document = document,
): PageProduct | undefined {
  const product = readPageProduct(doc);
  if (product) void client.recentlyViewed.track(product.sku);
  return product;
}
