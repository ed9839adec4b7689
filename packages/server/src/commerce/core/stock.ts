// Pure stock logic: honest availability bands, the "stock near me" ordering, and the
// last-write-wins rule for POS/ERP updates. No storage: callers pass rows in and store rows out.
import {
  LIMITS,
  OmniError,
  type Availability,
  type StockAnswer,
  type StoreAvailability,
} from '@omnikit/protocol';
import { haversineKm } from './geo.js';
import { ONLINE, type InventoryRow, type LatLng, type Store } from './types.js';

/** A stock answer before `stockAnswers` adds where it was asked from and the threshold used. */
export type RankedStock = Omit<StockAnswer, 'origin' | 'lowStockThreshold'>;

/** Bands a quantity: out at 0, low (with the count) up to `lowThreshold`, in stock above. */
export function band(qty: number, lowThreshold: number): Availability {
  if (!(qty > 0)) return { band: 'out_of_stock' };
  const count = Math.floor(qty);
  if (count <= lowThreshold) return { band: 'low_stock', count };
  return { band: 'in_stock' };
}

/** Every store for one sku, stores with stock first and then by distance, plus online stock. */
export function rankStores(
  sku: string,
  stores: readonly Store[],
  inventory: readonly InventoryRow[],
  options: { origin?: LatLng; lowThreshold: number },
): RankedStock {
  const bySite = new Map<string, InventoryRow>();
  for (const row of inventory) if (row.sku === sku) bySite.set(row.location, row);
  const { origin, lowThreshold } = options;
  const rows: StoreAvailability[] = stores.map((store) => {
    const row = bySite.get(store.id);
    // A store that never reported the sku is shown as out of stock, with no count date, rather
    // than left out: the shopper should see every store and that we do not know of stock there.
    return {
      store,
      distanceKm: origin ? Math.round(haversineKm(origin, store) * 10) / 10 : null,
      availability: band(row?.qty ?? 0, lowThreshold),
      updatedAt: row?.updatedAt ?? null,
    };
  });
  rows.sort(
    (a, b) =>
      Number(a.availability.band === 'out_of_stock') -
        Number(b.availability.band === 'out_of_stock') ||
      (a.distanceKm ?? 0) - (b.distanceKm ?? 0) ||
      a.store.name.localeCompare(b.store.name) ||
      (a.store.id < b.store.id ? -1 : a.store.id > b.store.id ? 1 : 0),
  );
  const online = bySite.get(ONLINE);
  return {
    sku,
    stores: rows,
    online: {
      availability: band(online?.qty ?? 0, lowThreshold),
      updatedAt: online?.updatedAt ?? null,
    },
  };
}

export type StockUpdateOutcome =
  | { accepted: true; row: InventoryRow }
  | { accepted: false; row: InventoryRow; reason: 'stale' | 'duplicate' };

/** Checks one incoming stock row; throws `invalid_argument` for a malformed one. */
export function validateStockUpdate(
  incoming: InventoryRow,
  options: { now?: number; maxFutureSkewMs?: number } = {},
): void {
  const problems: string[] = [];
  if (typeof incoming.location !== 'string' || !LIMITS.storeIdPattern.test(incoming.location)) {
    problems.push('location must be a store id or "online"');
  }
  if (typeof incoming.sku !== 'string' || !LIMITS.skuPattern.test(incoming.sku)) {
    problems.push('sku must follow the sku rule');
  }
  if (!Number.isSafeInteger(incoming.qty) || incoming.qty < 0) {
    problems.push('qty must be a non-negative integer');
  }
  if (!Number.isFinite(incoming.updatedAt) || incoming.updatedAt <= 0) {
    problems.push('updatedAt must be a time in ms since epoch');
  } else if (options.now !== undefined) {
    // A POS with a clock in the future would win every later comparison and freeze the row.
    const skew = options.maxFutureSkewMs ?? 5 * 60_000;
    if (incoming.updatedAt > options.now + skew) {
      problems.push(`updatedAt is more than ${skew} ms in the future`);
    }
  }
  if (problems.length > 0) {
    throw new OmniError('invalid_argument', `Invalid stock update: ${problems.join('; ')}`, {
      details: { location: incoming.location, sku: incoming.sku, problems },
    });
  }
}

/** Last-write-wins by the reported `updatedAt`: an older update never replaces a newer row. */
export function acceptStockUpdate(
  current: InventoryRow | undefined,
  incoming: InventoryRow,
  options: { now?: number; maxFutureSkewMs?: number } = {},
): StockUpdateOutcome {
  validateStockUpdate(incoming, options);
  if (!current) return { accepted: true, row: incoming };
  if (incoming.updatedAt > current.updatedAt) return { accepted: true, row: incoming };
  if (incoming.updatedAt < current.updatedAt) {
    return { accepted: false, row: current, reason: 'stale' };
  }
  if (incoming.qty === current.qty) return { accepted: false, row: current, reason: 'duplicate' };
  // Two counts with the same timestamp: the lower wins whatever the arrival order, so every
  // replica converges and we never promise stock one of the systems says is gone.
  return incoming.qty < current.qty
    ? { accepted: true, row: incoming }
    : { accepted: false, row: current, reason: 'stale' };
}

/** Result of a bulk stock update: the rows to store, and every refused row with why. */
export interface BulkStockResult {
  accepted: InventoryRow[];
  rejected: { index: number; location: string; sku: string; reason: string }[];
}

/**
 * Applies a batch of updates (a POS/ERP bulk call) against the current rows, in any order: per
 * (location, sku) the newest count wins, within the batch as well as against what is stored.
 */
export function applyStockUpdates(
  current: (location: string, sku: string) => InventoryRow | undefined,
  updates: readonly InventoryRow[],
  options: { now?: number; maxFutureSkewMs?: number } = {},
): BulkStockResult {
  const winners = new Map<string, { index: number; row: InventoryRow }>();
  const rejected: BulkStockResult['rejected'] = [];
  updates.forEach((incoming, index) => {
    const key = `${incoming.location}\u0000${incoming.sku}`;
    const base = winners.get(key)?.row ?? current(incoming.location, incoming.sku);
    let outcome: StockUpdateOutcome;
    try {
      outcome = acceptStockUpdate(base, incoming, options);
    } catch (err) {
      const reason = err instanceof OmniError ? err.message : String(err);
      rejected.push({
        index,
        location: String(incoming.location),
        sku: String(incoming.sku),
        reason,
      });
      return;
    }
    if (outcome.accepted) {
      const previous = winners.get(key);
      if (previous) {
        rejected.push({
          index: previous.index,
          location: incoming.location,
          sku: incoming.sku,
          reason: 'superseded by a newer count in the same batch',
        });
      }
      winners.set(key, { index, row: outcome.row });
    } else {
      rejected.push({
        index,
        location: incoming.location,
        sku: incoming.sku,
        reason: outcome.reason,
      });
    }
  });
  rejected.sort((a, b) => a.index - b.index);
  return { accepted: [...winners.values()].map((w) => w.row), rejected };
}
