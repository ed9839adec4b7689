// First-run seeding of a site from demo/data/: the catalog feed, the stores, their stock and the
// real order history, with every 2011 time shifted so the history ends now (trending and stock
// dates then read as recent). Runs once per site: a later start finds the products and keeps them.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import type { Db } from '../../db/index.js';
import type { Logger } from '../../logger.js';
import type { NotificationBus } from '../../notify/bus.js';
import { importFeed } from './catalog.js';
import { decodeInventoryFile, decodeStoresFile } from '../core/demo-data.js';
import { decodeOrderHistory } from '../core/orders.js';
import { writeInventory } from './inventory.js';
import { insertOrders } from './orders.js';
import { countProducts } from './products.js';
import { upsertStores } from './stores.js';

const MINUTE = 60_000;

/** Seeds `siteId` from `dir` when its catalog is empty; returns whether it did. */
export async function seedDemo(
  db: Db,
  siteId: string,
  dir: string,
  options: { now: number; logger: Logger; bus?: NotificationBus },
): Promise<boolean> {
  if ((await countProducts(db, siteId)) > 0) return false;
  const start = performance.now();
  const [feed, storesFile, inventoryFile, ordersGz] = await Promise.all([
    readFile(join(dir, 'catalog.json'), 'utf8'),
    readFile(join(dir, 'stores.json'), 'utf8'),
    readFile(join(dir, 'inventory.json'), 'utf8'),
    readFile(join(dir, 'orders.json.gz')),
  ]);
  const stores = decodeStoresFile(JSON.parse(storesFile));
  const inventory = decodeInventoryFile(JSON.parse(inventoryFile));
  const baskets = decodeOrderHistory(JSON.parse(gunzipSync(ordersGz).toString('utf8')));
  let last = 0;
  for (const b of baskets) last = Math.max(last, b.at);
  for (const r of inventory) last = Math.max(last, r.updatedAt);
  // Whole minutes, and a minute in the past, so no shifted time is ever in the future.
  const shift = Math.floor((options.now - last) / MINUTE) * MINUTE - MINUTE;
  const { report } = await importFeed(db, siteId, feed, {
    format: 'json',
    now: options.now,
    ...(options.bus ? { bus: options.bus } : {}),
  });
  if (!report.applied) return false;
  await db.transaction(async (tx) => {
    await upsertStores(tx, siteId, stores, options.now);
    await writeInventory(
      tx,
      siteId,
      inventory.map((r) => ({ ...r, updatedAt: r.updatedAt + shift })),
    );
    await insertOrders(
      tx,
      siteId,
      baskets.map((b) => ({
        orderId: `demo-${b.invoice}`,
        customerId: b.customerId,
        profileId: null,
        storeId: null,
        channel: 'web' as const,
        at: b.at + shift,
        lines: b.skus.map((sku) => ({ sku, qty: 1 })),
      })),
      options.now,
    );
  });
  options.logger.info('demo data loaded', {
    site: siteId,
    products: report.created,
    stores: stores.length,
    inventory: inventory.length,
    orders: baskets.length,
    ms: Math.round(performance.now() - start),
  });
  return true;
}
