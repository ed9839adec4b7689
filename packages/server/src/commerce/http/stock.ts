// `GET /v1/stock` and `GET /v1/stock/stream` (publishable key): stock near me, once or live.
import type { Hono } from 'hono';
import { LIMITS, OmniError } from '@omnikit/protocol';
import type { StockAnswer } from '@omnikit/protocol';
import type { AppEnv } from '../../http/env.js';
import { ConcurrencyLimiter } from '../../http/limits.js';
import { oneSku, parseOrigin, skuList } from './params.js';
import { lowThreshold, type CommerceRuntime } from './runtime.js';
import { stockAnswers } from './stock-streams.js';

/** Open stock streams per client address (a page holds one; a few tabs a few). */
const maxStockStreamsPerIp = 64;

/** Skus neither in the catalog nor in any stock row: `GET /v1/stock` answers 404 for them. */
function unknownSkus(rt: CommerceRuntime, siteId: string, answers: readonly StockAnswer[]) {
  return answers
    .filter(
      (a) =>
        a.online.updatedAt === null &&
        a.stores.every((s) => s.updatedAt === null) &&
        !rt.models.inCatalog(siteId, a.sku),
    )
    .map((a) => a.sku);
}

export function stockRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx } = rt;
  const stockStreamSlots = new ConcurrencyLimiter(maxStockStreamsPerIp);

  app.get('/v1/stock', ctx.requireSiteKey, async (c) => {
    const site = c.var.site.config;
    const sku = oneSku(c.req.query('sku'));
    const origin = parseOrigin(c);
    await rt.ready;
    const answers = await stockAnswers(ctx.db, site.id, [sku], origin, lowThreshold(rt, site));
    if (unknownSkus(rt, site.id, answers).length > 0) {
      throw new OmniError('not_found', `No product ${sku} in this catalog`);
    }
    c.header('Cache-Control', 'no-cache');
    return c.json(answers[0]);
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
        // Like `GET /v1/stock`: a sku the site has never heard of is a 404, not a stream.
        check: (initial) => {
          const unknown = unknownSkus(rt, site.id, initial);
          if (unknown.length > 0) {
            throw new OmniError('not_found', `No product ${unknown.join(', ')} in this catalog`, {
              details: { skus: unknown },
            });
          }
        },
      },
    );
  });
}
