// What a profile bought, for its recommendations: the orders recorded for the profile or its
// customer id (this extension's table) plus the purchase events of the profile (the core's,
// through the extension context; a guest's purchases follow it there when it merges).
import type { ExtensionContext, ProfileView } from '../../extension.js';
import { readOrderPurchases } from './orders.js';

/** Purchases kept per profile for recommendations. */
const MAX_PURCHASES = 200;

/** Each bought sku once with its latest time, newest first (ties by sku). */
export async function readPurchases(
  ctx: Pick<ExtensionContext, 'db' | 'events'>,
  siteId: string,
  profile: ProfileView,
): Promise<{ sku: string; at: number }[]> {
  const [orders, events] = await Promise.all([
    readOrderPurchases(ctx.db, siteId, profile, MAX_PURCHASES),
    ctx.events.purchases(ctx.db, siteId, profile.id, MAX_PURCHASES),
  ]);
  const latest = new Map<string, number>();
  for (const p of [...orders, ...events]) {
    latest.set(p.sku, Math.max(latest.get(p.sku) ?? -Infinity, p.at));
  }
  return [...latest]
    .map(([sku, at]) => ({ sku, at }))
    .sort((a, b) => b.at - a.at || (a.sku < b.sku ? -1 : a.sku > b.sku ? 1 : 0))
    .slice(0, MAX_PURCHASES);
}
