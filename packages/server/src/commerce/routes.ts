// The commerce HTTP API: admin writes (catalog import, stores, stock, orders), public reads
// (products, stock near me, live stock) and per-profile recommendations.
import { createHash } from 'node:crypto';
import type { Hono } from 'hono';
import {
  LIMITS,
  OmniError,
  type ProductsResponse,
  type Recommendation,
  type RecommendationsResponse,
  type StockAnswer,
  type Strategy,
} from '@omnikit/protocol';
import type { AppContext, AppEnv, ExtensionContext } from '../context.js';
import type { Db } from '../db/index.js';
import { ConcurrencyLimiter, readBodyText, unknownDevice } from '../security.js';
import type { SiteConfig } from '../sites.js';
import type { CommerceBus } from './bus.js';
import { importFeed } from './catalog.js';
import { lookupPostcode } from './geo.js';
import type { SiteModels } from './models.js';
import { profileItems } from './recs/index.js';
import { STRATEGIES } from './recs/model.js';
import { applyStockUpdates, acceptStockUpdate } from './stock.js';
import {
  insertOrders,
  readInventory,
  readOrder,
  readProducts,
  readProfileForRecs,
  readStores,
  upsertStores,
  writeInventory,
  type Order,
} from './store.js';
import { stockAnswers, type StockStreams } from './streams.js';
import { ONLINE, type InventoryRow } from './types.js';
import { parseOrder, parseStockBody, parseStores } from './validate.js';

/** Everything the routes share, built once per server by `commerceExtension`. */
export interface CommerceRuntime {
  ctx: ExtensionContext;
  db: Db;
  bus: CommerceBus;
  models: SiteModels;
  streams: StockStreams;
  /** Seeding and warm-up; every handler waits for it. */
  ready: Promise<void>;
  importMaxBytes: number;
  productsMaxAgeSeconds: number;
  defaultLowStockThreshold: number;
}

export const MAX_PRODUCT_SKUS = 100;
export const MAX_STREAM_SKUS = 50;
const DEFAULT_RECS = 10;

/** Splits `a,b,c` into distinct, valid skus (400 otherwise). */
function skuList(value: string | undefined, name: string, max: number): string[] {
  const skus = [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (skus.length === 0) throw new OmniError('invalid_argument', `${name}: give 1 to ${max} skus`);
  if (skus.length > max) {
    throw new OmniError('invalid_argument', `${name}: at most ${max} skus per request`, {
      details: { max },
    });
  }
  const bad = skus.filter((s) => !LIMITS.skuPattern.test(s));
  if (bad.length > 0) {
    throw new OmniError(
      'invalid_argument',
      `${name}: not valid skus: ${bad.slice(0, 5).join(', ')}`,
    );
  }
  return skus;
}

function oneSku(value: string | undefined, name = 'sku'): string {
  if (value === undefined || !LIMITS.skuPattern.test(value)) {
    throw new OmniError('invalid_argument', `${name}: a valid sku is required`);
  }
  return value;
}

/** `lat`+`lng`, or `postal`, or neither; anything else is a 400 that says what to send. */
function parseOrigin(c: AppContext): StockAnswer['origin'] {
  const lat = c.req.query('lat');
  const lng = c.req.query('lng');
  const postal = c.req.query('postal');
  if (postal !== undefined && (lat !== undefined || lng !== undefined)) {
    throw new OmniError('invalid_argument', 'Give either lat and lng, or postal, not both');
  }
  if (postal !== undefined) return lookupPostcode(postal);
  if (lat === undefined && lng === undefined) return null;
  const y = Number(lat);
  const x = Number(lng);
  if (
    lat === undefined ||
    lng === undefined ||
    lat.trim() === '' ||
    lng.trim() === '' ||
    !Number.isFinite(y) ||
    !Number.isFinite(x) ||
    Math.abs(y) > 90 ||
    Math.abs(x) > 180
  ) {
    throw new OmniError(
      'invalid_argument',
      'lat and lng must both be given, in decimal degrees (lat -90..90, lng -180..180)',
    );
  }
  return { lat: y, lng: x };
}

function lowThreshold(rt: CommerceRuntime, site: SiteConfig): number {
  return site.lowStockThreshold ?? rt.defaultLowStockThreshold;
}

const sameOrder = (a: Order, b: Order): boolean =>
  a.customerId === b.customerId &&
  a.storeId === b.storeId &&
  a.channel === b.channel &&
  a.at === b.at &&
  a.lines.length === b.lines.length &&
  a.lines.every((l, i) => l.sku === b.lines[i]?.sku && l.qty === b.lines[i]?.qty);

/** Open stock streams per client address (a page holds one; a few tabs a few). */
const maxStockStreamsPerIp = 64;

export function commerceRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx, db } = rt;
  const stockStreamSlots = new ConcurrencyLimiter(maxStockStreamsPerIp);

  // ---- Admin: catalog, stores, stock, orders -------------------------------------------------

  app.post('/v1/admin/products/import', async (c) => {
    const site = ctx.authenticateAdmin(c);
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
    const partial = c.req.query('partial') === 'true';
    const { report } = await importFeed(db, site.id, text, {
      format,
      partial,
      maxBytes: rt.importMaxBytes,
      now: ctx.now(),
      bus: rt.bus,
    });
    if (!report.applied) {
      throw new OmniError(
        'invalid_argument',
        `${report.rejected.length} row(s) rejected, so nothing was imported: fix them, or send ` +
          'the good rows alone with ?partial=true',
        { status: 422, details: report },
      );
    }
    if (report.created + report.updated > 0) await rt.models.reloadCatalog(site.id);
    return c.json(report);
  });

  app.put('/v1/admin/stores', async (c) => {
    const site = ctx.authenticateAdmin(c);
    await rt.ready;
    const stores = parseStores(await ctx.readJson(c, 1024 * 1024));
    if (stores.length === 0) return c.json({ upserted: 0 });
    await db.transaction(async (tx) => {
      await upsertStores(tx, site.id, stores, ctx.now());
      await rt.bus.publishInTx(tx, { type: 'stores', siteId: site.id });
    });
    // Every stock answer of the site lists its stores: open streams get fresh ones.
    rt.streams.storesChanged(site.id);
    return c.json({ upserted: stores.length });
  });

  app.put('/v1/admin/stock', async (c) => {
    const site = ctx.authenticateAdmin(c);
    await rt.ready;
    const { single, rows } = parseStockBody(await ctx.readJson(c, 2 * 1024 * 1024));
    const now = ctx.now();
    if (single) acceptStockUpdate(undefined, rows[0]!, { now }); // a malformed row is a 400
    const skus = [...new Set(rows.map((r) => r.sku).filter((s) => typeof s === 'string'))];
    const result = await db.transaction(async (tx) => {
      // One writer per site at a time: the read-compare-write below must not interleave.
      await tx.query('SELECT pg_advisory_xact_lock(1869440107, hashtext($1))', [
        `stock:${site.id}`,
      ]);
      const locations = new Set([ONLINE, ...(await readStores(tx, site.id)).map((s) => s.id)]);
      const stored = new Map(
        (await readInventory(tx, site.id, skus)).map((r) => [`${r.location}\u0000${r.sku}`, r]),
      );
      const invalid: { index: number; location: string; sku: string; reason: string }[] = [];
      const known: { index: number; row: InventoryRow }[] = [];
      rows.forEach((row, index) => {
        if (typeof row.location === 'string' && !locations.has(row.location)) {
          invalid.push({
            index,
            location: row.location,
            sku: String(row.sku),
            reason: `unknown location "${row.location}": not a store of this site nor "online"`,
          });
        } else known.push({ index, row });
      });
      const out = applyStockUpdates(
        (location, sku) => stored.get(`${location}\u0000${sku}`),
        known.map((k) => k.row),
        { now },
      );
      const stale: typeof invalid = [];
      const refused = new Set<number>();
      for (const r of out.rejected) {
        const index = known[r.index]!.index;
        refused.add(index);
        const entry = { ...r, index };
        if (r.reason === 'stale' || r.reason === 'duplicate' || r.reason.startsWith('superseded')) {
          stale.push(entry);
        } else invalid.push(entry);
      }
      await writeInventory(tx, site.id, out.accepted);
      const changed = [...new Set(out.accepted.map((r) => r.sku))];
      if (changed.length > 0) {
        await rt.bus.publishInTx(tx, { type: 'stock', siteId: site.id, skus: changed });
      }
      const applied = known
        .filter((k) => !refused.has(k.index))
        .map(({ index, row }) => ({ index, ...row }));
      invalid.sort((a, b) => a.index - b.index);
      return { applied, stale, invalid, changed };
    });
    rt.streams.changed(site.id, result.changed);
    const { changed: _changed, ...answer } = result;
    return c.json(answer);
  });

  app.post('/v1/orders', async (c) => {
    const site = ctx.authenticateAdmin(c);
    await rt.ready;
    const order = parseOrder(await ctx.readJson(c, 256 * 1024), ctx.now());
    const answer = await db.transaction(async (tx) => {
      const existing = await readOrder(tx, site.id, order.orderId);
      if (existing) return { existing };
      if (order.storeId !== null) {
        const { rows } = await tx.query('SELECT 1 FROM stores WHERE site_id = $1 AND id = $2', [
          site.id,
          order.storeId,
        ]);
        if (rows.length === 0) {
          throw new OmniError('invalid_argument', `Unknown store "${order.storeId}"`);
        }
      }
      // The customer's profile when they ever signed in here; otherwise the order stays keyed by
      // customer id, and reads join it to the profile once the customer identifies.
      let profileId: string | null = null;
      if (order.customerId !== null) {
        const { rows } = await tx.query<{ id: string }>(
          'SELECT id FROM profiles WHERE site_id = $1 AND customer_id = $2',
          [site.id, order.customerId],
        );
        profileId = rows[0]?.id ?? null;
      }
      const inserted = await insertOrders(tx, site.id, [{ ...order, profileId }], ctx.now());
      if (inserted === 0) {
        // A retry of the same order committed in between.
        return { existing: await readOrder(tx, site.id, order.orderId) };
      }
      const values: unknown[] = [];
      const tuples = order.lines.map((line, i) => {
        values.push(line.sku, line.qty);
        return `($1, 'purchase', $2, NULL, $3, $${4 + i * 2}, $${5 + i * 2}::integer, $${4 + order.lines.length * 2}::bigint)`;
      });
      await tx.query(
        `INSERT INTO events (site_id, kind, channel, device_id, profile_id, sku, qty, at)
         VALUES ${tuples.join(', ')}`,
        [site.id, order.channel, profileId, ...values, order.at],
      );
      return { created: { profileId } };
    });
    if ('existing' in answer) {
      if (!answer.existing || !sameOrder(answer.existing, order)) {
        throw new OmniError(
          'conflict',
          `Order ${order.orderId} was already recorded with different contents`,
        );
      }
      return c.json({ orderId: order.orderId, created: false }, 200);
    }
    return c.json(
      { orderId: order.orderId, created: true, profileId: answer.created.profileId },
      201,
    );
  });

  // ---- Public reads (publishable key) --------------------------------------------------------

  app.get('/v1/products', async (c) => {
    const site = ctx.authenticateSiteKey(c);
    const skus = skuList(c.req.query('skus'), 'skus', MAX_PRODUCT_SKUS);
    await rt.ready;
    const found = new Map((await readProducts(db, site.id, skus)).map((p) => [p.sku, p]));
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

  app.get('/v1/stock', async (c) => {
    const site = ctx.authenticateSiteKey(c);
    const sku = oneSku(c.req.query('sku'));
    const origin = parseOrigin(c);
    await rt.ready;
    const [answer] = await stockAnswers(db, site.id, [sku], origin, lowThreshold(rt, site));
    const reported =
      answer!.online.updatedAt !== null || answer!.stores.some((s) => s.updatedAt !== null);
    if (!reported && !rt.models.inCatalog(site.id, sku)) {
      throw new OmniError('not_found', `No product ${sku} in this catalog`);
    }
    c.header('Cache-Control', 'no-cache');
    return c.json(answer);
  });

  app.get('/v1/stock/stream', async (c) => {
    const site = ctx.authenticateSiteKey(c);
    const skus = skuList(c.req.query('skus'), 'skus', MAX_STREAM_SKUS);
    const position = parseOrigin(c);
    await rt.ready;
    const threshold = lowThreshold(rt, site);
    // The key is public, so only the address can bound how many streams one client holds.
    const release = stockStreamSlots.acquire(c.get('ip'), 'stock streams from this address');
    c.req.raw.signal.addEventListener('abort', release, { once: true });
    return rt.streams.open(
      { siteId: site.id, skus: new Set(skus), origin: position, lowStockThreshold: threshold },
      () => stockAnswers(db, site.id, skus, position, threshold),
      c.req.raw.signal,
    );
  });

  // ---- Recommendations (device bearer) -------------------------------------------------------

  app.get('/v1/recommendations', async (c) => {
    const { device } = await ctx.authenticateDevice(c);
    const strategy = (c.req.query('strategy') ?? 'personalized') as Strategy;
    if (!(STRATEGIES as readonly string[]).includes(strategy)) {
      throw new OmniError('invalid_argument', `strategy: one of ${STRATEGIES.join(', ')}`, {
        details: { strategies: STRATEGIES },
      });
    }
    const sku = c.req.query('sku');
    if (sku !== undefined) oneSku(sku);
    const limitText = c.req.query('limit');
    const limit = limitText === undefined ? DEFAULT_RECS : Number(limitText);
    const exclude = c.req.query('exclude');
    const excluded = exclude ? skuList(exclude, 'exclude', MAX_PRODUCT_SKUS) : [];
    await rt.ready;
    const model = rt.models.model(device.siteId);
    if (!model) throw new OmniError('not_found', 'No catalog for this site');
    // Catch up with every view, cart addition and order committed before this request.
    await rt.models.sync();
    const profile = await readProfileForRecs(db, device.siteId, device.id);
    if (!profile) throw unknownDevice();
    const result = model.recommend({
      strategy,
      ...(sku !== undefined ? { sku } : {}),
      profile: profileItems(profile.state, profile.purchases),
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
