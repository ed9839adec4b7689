// `GET /v1/stock` and `GET /v1/stock/stream` (publishable key): stock near me, once or live.
import type { Hono } from 'hono';
import { LIMITS, OmniError } from '@omnikit/protocol';
import type { AppEnv } from '../../http/env.js';
import { ConcurrencyLimiter } from '../../http/limits.js';
import { oneSku, parseOrigin, skuList } from './params.js';
import { lowThreshold, type CommerceRuntime } from './runtime.js';
import { stockAnswers } from './stock-streams.js';

/** Open stock streams per client address (a page holds one; a few tabs a few). */
const maxStockStreamsPerIp = 64;

export function stockRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx } = rt;
  const stockStreamSlots = new ConcurrencyLimiter(maxStockStreamsPerIp);

  app.get('/v1/stock', ctx.requireSiteKey, async (c) => {
    const site = c.var.site.config;
    const sku = oneSku(c.req.query('sku'));
    const origin = parseOrigin(c);
    await rt.ready;
    const [answer] = await stockAnswers(ctx.db, site.id, [sku], origin, lowThreshold(rt, site));
    const reported =
      answer!.online.updatedAt !== null || answer!.stores.some((s) => s.updatedAt !== null);
    if (!reported && !rt.models.inCatalog(site.id, sku)) {
      throw new OmniError('not_found', `No product ${sku} in this catalog`);
    }
    c.header('Cache-Control', 'no-cache');
    return c.json(answer);
  });

  app.get('/v1/stock/stream', ctx.requireSiteKey, async (c) => {
    const site = c.var.site.config;
    const skus = skuList(c.req.query('skus'), 'skus', LIMITS.maxStreamSkus);
    const origin = parseOrigin(c);
    await rt.ready;
    // The key is public, so only the address can bound how many streams one client holds.
    return rt.streams.open(
      { siteId: site.id, skus: new Set(skus), origin, lowStockThreshold: lowThreshold(rt, site) },
      {
        signal: c.req.raw.signal,
        slots: [
          { limiter: stockStreamSlots, key: c.var.ip, what: 'stock streams from this address' },
        ],
      },
    );
  });
}
