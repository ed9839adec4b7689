// SQL of stock rows: one per (location, sku), as last reported by the POS/ERP.
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { InventoryRow } from '../core/types.js';
import { CHUNK } from './chunk.js';

type RawInventory = {
  location: string;
  sku: string;
  qty: number | string;
  updated_at: number | string;
};

const toInventory = (r: RawInventory): InventoryRow => ({
  location: r.location,
  sku: r.sku,
  qty: num(r.qty),
  updatedAt: num(r.updated_at),
});

/** Every location's row for the given skus. */
export async function readInventory(
  q: Queryable,
  siteId: string,
  skus: readonly string[],
): Promise<InventoryRow[]> {
  if (skus.length === 0) return [];
  const { rows } = await q.query<RawInventory>(
    `SELECT location, sku, qty, updated_at FROM inventory
     WHERE site_id = $1 AND sku = ANY($2::text[])`,
    [siteId, [...skus]],
  );
  return rows.map(toInventory);
}

/** Writes rows as given; callers decide which rows win (`applyStockUpdates`). */
export async function writeInventory(
  q: Queryable,
  siteId: string,
  rows: readonly InventoryRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    await q.query(
      `INSERT INTO inventory (location, sku, qty, updated_at, site_id)
       SELECT x.*, $1::text FROM unnest($2::text[], $3::text[], $4::integer[], $5::bigint[])
         AS x(location, sku, qty, updated_at)
       ON CONFLICT (site_id, location, sku) DO UPDATE SET qty = excluded.qty,
         updated_at = excluded.updated_at`,
      [
        siteId,
        part.map((r) => r.location),
        part.map((r) => r.sku),
        part.map((r) => r.qty),
        part.map((r) => r.updatedAt),
      ],
    );
  }
}
