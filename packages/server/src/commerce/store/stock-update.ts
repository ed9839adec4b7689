// A bulk stock update: rows checked against the site's locations and against what is stored
// (last write wins, by the time the POS counted), written in one transaction per site at a time.
import type { Queryable } from '../../db/index.js';
import { applyStockUpdates } from '../core/stock.js';
import { ONLINE, type InventoryRow } from '../core/types.js';
import { readInventory, writeInventory } from './inventory.js';
import { readStores } from './stores.js';

type Refused = { index: number; location: string; sku: string; reason: string };

export interface StockUpdateResult {
  applied: (InventoryRow & { index: number })[];
  /** Older than (or the same as) what is stored, or superseded within the request. */
  stale: Refused[];
  invalid: Refused[];
  /** The skus whose stored rows changed. */
  changed: string[];
}

/** Applies the rows of `PUT /v1/admin/stock`; call inside a transaction. */
export async function applyStockBody(
  tx: Queryable,
  siteId: string,
  rows: readonly InventoryRow[],
  now: number,
): Promise<StockUpdateResult> {
  const skus = [...new Set(rows.map((r) => r.sku).filter((s) => typeof s === 'string'))];
  // One writer per site at a time: the read-compare-write below must not interleave.
  await tx.query('SELECT pg_advisory_xact_lock(1869440107, hashtext($1))', [`stock:${siteId}`]);
  const locations = new Set([ONLINE, ...(await readStores(tx, siteId)).map((s) => s.id)]);
  const stored = new Map(
    (await readInventory(tx, siteId, skus)).map((r) => [`${r.location}\u0000${r.sku}`, r]),
  );
  const invalid: Refused[] = [];
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
  const stale: Refused[] = [];
  const refused = new Set<number>();
  for (const r of out.rejected) {
    const index = known[r.index]!.index;
    refused.add(index);
    const entry = { ...r, index };
    if (r.reason === 'stale' || r.reason === 'duplicate' || r.reason.startsWith('superseded')) {
      stale.push(entry);
    } else invalid.push(entry);
  }
  await writeInventory(tx, siteId, out.accepted);
  const changed = [...new Set(out.accepted.map((r) => r.sku))];
  const applied = known
    .filter((k) => !refused.has(k.index))
    .map(({ index, row }) => ({ index, ...row }));
  invalid.sort((a, b) => a.index - b.index);
  return { applied, stale, invalid, changed };
}
