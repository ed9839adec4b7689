// `GET /v1/products?skus=` (publishable key): product details, cacheable, with an ETag.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import { LIMITS, type ProductsResponse } from '@omnikit/protocol';
import type { AppEnv } from '../../http/env.js';
import { readProducts } from '../store/products.js';
import { skuList } from './params.js';
import type { CommerceRuntime } from './runtime.js';

export function productRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx } = rt;
  app.get('/v1/products', ctx.requireSiteKey, async (c) => {
    const siteId = c.var.site.config.id;
    const skus = skuList(c.req.query('skus'), 'skus', LIMITS.maxSkusPerRequest);
    await rt.ready;
    const found = new Map((await readProducts(ctx.db, siteId, skus)).map((p) => [p.sku, p]));
    const body = JSON.stringify({
      products: skus.flatMap((s) => found.get(s) ?? []),
      missing: skus.filter((s) => !found.has(s)),
    } satisfies ProductsResponse);
    const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
    const headers = {
      ETag: etag,
      'Cache-Control': `public, max-age=${rt.productsMaxAgeSeconds}`,
      Vary: 'X-Omni-Key',
    };
    const match = c.req.header('if-none-match');
    if (match && match.split(',').some((t) => t.trim().replace(/^W\//, '') === etag)) {
      return c.body(null, 304, headers);
    }
    return c.body(body, 200, { ...headers, 'Content-Type': 'application/json' });
  });
}
