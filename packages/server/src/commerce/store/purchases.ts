// What a profile bought, for its recommendations: the orders recorded for the profile or its
// customer id (this extension's table) plus the purchase events of the profile (the core's,
// read with the profile through the extension context; a guest's purchases follow it there
// when it merges).
import type { Queryable } from '../../db/index.js';
import type { ProfileView } from '../../extension.js';
import { readOrderPurchases } from './orders.js';

/** Purchases kept per profile for recommendations. */
export const MAX_PURCHASES = 200;

export interface Purchase {
  sku: string;
  at: number;
}

/**
 * Each bought sku once with its latest time, newest first (ties by sku), given the profile's
 * purchase events; also the highest order seq the read saw (see `readOrderPurchases`).
 */
export async function readPurchases(
  db: Queryable,
  siteId: string,
  profile: ProfileView & { purchases: readonly Purchase[] },
): Promise<{ purchases: Purchase[]; lastSeq: number }> {
  const orders = await readOrderPurchases(db, siteId, profile, MAX_PURCHASES);
  const latest = new Map<string, number>();
  for (const p of [...orders.bought, ...profile.purchases]) {
    latest.set(p.sku, Math.max(latest.get(p.sku) ?? -Infinity, p.at));
  }
  const purchases = [...latest]
    .map(([sku, at]) => ({ sku, at }))
    .sort((a, b) => b.at - a.at || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, MAX_PURCHASES);
  return { purchases, lastSeq: orders.lastSeq };
}
