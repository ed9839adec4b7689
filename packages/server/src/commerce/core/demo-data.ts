// The shapes of the committed demo files (demo/data/) and their decoders, so the server's first
// run can load them into whatever storage it uses.
import { OmniError } from '@omnikit/protocol';
import type { InventoryRow, Store } from './types.js';

/** demo/data/inventory.json: quantities per sku, one column per location. */
export interface InventoryFile {
  format: 'omnikit-inventory/1';
  attribution: string;
  /** Column order of `qty`: `online` first, then store ids. */
  locations: string[];
  /** ISO time of each location's count, in the same order. */
  updatedAt: string[];
  qty: Record<string, number[]>;
}

/** Expands the compact inventory file into one row per (location, sku). */
export function decodeInventoryFile(file: unknown): InventoryRow[] {
  const doc = file as Partial<InventoryFile> | null;
  if (
    !doc ||
    doc.format !== 'omnikit-inventory/1' ||
    !Array.isArray(doc.locations) ||
    !Array.isArray(doc.updatedAt) ||
    doc.updatedAt.length !== doc.locations.length
  ) {
    throw new OmniError('invalid_argument', 'Not an omnikit-inventory/1 file');
  }
  const times = doc.updatedAt.map((t) => Date.parse(t));
  const rows: InventoryRow[] = [];
  for (const [sku, qtys] of Object.entries(doc.qty ?? {})) {
    doc.locations.forEach((location, i) => {
      const qty = qtys[i];
      if (qty !== undefined) rows.push({ location, sku, qty, updatedAt: times[i]! });
    });
  }
  return rows;
}

/** Reads demo/data/stores.json (`{ stores: [...] }`). */
export function decodeStoresFile(file: unknown): Store[] {
  const stores = (file as { stores?: unknown } | null)?.stores;
  if (!Array.isArray(stores)) throw new OmniError('invalid_argument', 'Not a stores file');
  return stores as Store[];
}
