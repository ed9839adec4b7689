// The admin writes of the catalog (`X-Omni-Admin-Key`): feed import, stores, stock.
import type { Hono } from 'hono';
import { OmniError } from '@omnikit/protocol';
import { jsonShapeProblem, readBodyText } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { commerceTopic } from '../core/notices.js';
import { parseStockBody, parseStores } from '../core/validate.js';
import { acceptStockUpdate } from '../core/stock.js';
import { importFeed } from '../store/catalog.js';
import { applyStockBody } from '../store/stock-update.js';
import { upsertStores } from '../store/stores.js';
import type { CommerceRuntime } from './runtime.js';

export function adminRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx } = rt;

  app.post('/v1/admin/products/import', ctx.requireAdmin, async (c) => {
    const siteId = c.var.site.config.id;
    await rt.ready;
    const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
    const format =
      type === 'text/csv' || type === 'text/plain'
        ? 'csv'
        : type === 'application/json'
          ? 'json'
          : undefined;
    if (!format) {
      throw new OmniError(
        'unsupported_media_type',
        'Send the feed as text/csv or application/json',
      );
    }
    const text = await readBodyText(c.req.raw, rt.importMaxBytes);
    // Rows and attributes are bounded by the feed's own limits; nesting is bounded here.
    if (format === 'json' && jsonShapeProblem(text, { maxDepth: 32, maxKeys: Infinity })) {
      throw new OmniError('invalid_argument', 'JSON feed nested deeper than 32 levels', {
        details: { maxDepth: 32 },
      });
    }
    const partial = c.req.query('partial') === 'true';
    const { report } = await importFeed(ctx.db, siteId, text, {
      format,
      partial,
      maxBytes: rt.importMaxBytes,
      now: ctx.now(),
      bus: ctx.bus,
    });
    if (!report.applied) {
      throw new OmniError(
        'invalid_argument',
        `${report.rejected.length} row(s) rejected, so nothing was imported: fix them, or send ` +
          'the good rows alone with ?partial=true',
        { status: 422, details: report },
      );
    }
    // Reloaded before answering, so the next read here already knows the new products.
    if (report.created + report.updated > 0) await rt.models.reloadCatalog(siteId);
    return c.json(report);
  });

  app.put('/v1/admin/stores', ctx.requireAdmin, async (c) => {
    const siteId = c.var.site.config.id;
    await rt.ready;
    const stores = parseStores(await ctx.readJson(c, { maxBytes: 1024 * 1024 }));
    if (stores.length === 0) return c.json({ upserted: 0 });
    // Every stock answer of the site lists its stores: open streams get fresh ones.
    await ctx.bus.transaction(async (tx, publish) => {
      await upsertStores(tx, siteId, stores, ctx.now());
      publish(commerceTopic, { type: 'stores', siteId });
    });
    return c.json({ upserted: stores.length });
  });

  app.put('/v1/admin/stock', ctx.requireAdmin, async (c) => {
    const siteId = c.var.site.config.id;
    await rt.ready;
    const { single, rows } = parseStockBody(await ctx.readJson(c, { maxBytes: 2 * 1024 * 1024 }));
    const now = ctx.now();
    if (single) acceptStockUpdate(undefined, rows[0]!, { now }); // a malformed row is a 400
    const answer = await ctx.bus.transaction(async (tx, publish) => {
      const { changed, ...answer } = await applyStockBody(tx, siteId, rows, now);
      if (changed.length > 0) publish(commerceTopic, { type: 'stock', siteId, skus: changed });
      return answer;
    });
    return c.json(answer);
  });
}
