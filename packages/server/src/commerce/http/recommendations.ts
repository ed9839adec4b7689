// `GET /v1/recommendations` (device bearer): the site's model asked for the caller's profile.
import type { Hono } from 'hono';
import {
  isStrategy,
  LIMITS,
  OmniError,
  STRATEGIES,
  type Recommendation,
  type RecommendationsResponse,
} from '@omnikit/protocol';
import { unknownDevice } from '../../http/errors.js';
import type { AppEnv } from '../../http/env.js';
import { profileItems } from '../recs/index.js';
import { MAX_PURCHASES, readPurchases } from '../store/purchases.js';
import { oneSku, skuList } from './params.js';
import type { CommerceRuntime } from './runtime.js';

export function recommendationRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx } = rt;
  app.get('/v1/recommendations', ctx.requireDevice, async (c) => {
    const { device } = c.var;
    const strategy = c.req.query('strategy') ?? 'personalized';
    if (!isStrategy(strategy)) {
      throw new OmniError('invalid_argument', `strategy: one of ${STRATEGIES.join(', ')}`, {
        details: { strategies: STRATEGIES },
      });
    }
    const sku = c.req.query('sku');
    if (sku !== undefined) oneSku(sku);
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? LIMITS.defaultRecommendations : Number(limitText);
    const exclude = c.req.query('exclude');
    const excluded = exclude ? skuList(exclude, 'exclude', LIMITS.maxSkusPerRequest) : [];
    await rt.ready;
    const model = rt.models.model(device.siteId);
    if (!model) throw new OmniError('not_found', 'No catalog for this site');
    // Catch up with every view and cart addition committed before this request while the
    // profile and its purchase events are read (one round trip to the core), then read its
    // orders, which also says whether any order was committed since the model's last poll.
    // A request that follows a write sees it, and no round trip is spent on an empty poll.
    const [profile] = await Promise.all([
      ctx.profiles.withPurchases(ctx.db, device, MAX_PURCHASES),
      rt.models.syncEvents(),
    ]);
    if (!profile) throw unknownDevice();
    const { purchases, lastSeq } = await readPurchases(ctx.db, device.siteId, profile);
    await rt.models.syncOrders(lastSeq);
    const result = model.recommend({
      strategy,
      ...(sku !== undefined ? { sku } : {}),
      profile: profileItems(profile.state, purchases),
      limit,
      exclude: excluded,
      filter: (s) => rt.models.inCatalog(device.siteId, s),
      now: ctx.now(),
    });
    const items: Recommendation[] = [];
    for (const item of result.items) {
      const product = rt.models.card(device.siteId, item.sku);
      if (product) items.push({ sku: item.sku, reason: item.reason, product });
    }
    c.header('Cache-Control', 'private, no-store');
    return c.json({ strategy, items } satisfies RecommendationsResponse);
  });
}
