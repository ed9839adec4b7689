// `POST /v1/orders` (`X-Omni-Admin-Key`): a store or online purchase, recorded once per order id
// and fed to recommendations as a basket and as purchase events of the customer's profile.
import type { Hono } from 'hono';
import { OmniError } from '@omnikit/protocol';
import type { AppEnv } from '../../http/env.js';
import type { Order } from '../core/types.js';
import { parseOrder } from '../core/validate.js';
import { insertOrders, readOrder } from '../store/orders.js';
import { storeExists } from '../store/stores.js';
import type { CommerceRuntime } from './runtime.js';

const sameOrder = (a: Order, b: Order): boolean =>
  a.customerId === b.customerId &&
  a.storeId === b.storeId &&
  a.channel === b.channel &&
  a.at === b.at &&
  a.lines.length === b.lines.length &&
  a.lines.every((l, i) => l.sku === b.lines[i]?.sku && l.qty === b.lines[i]?.qty);

export function orderRoutes(app: Hono<AppEnv>, rt: CommerceRuntime): void {
  const { ctx } = rt;
  app.post('/v1/orders', ctx.requireAdmin, async (c) => {
    const siteId = c.var.site.config.id;
    await rt.ready;
    const order = parseOrder(await ctx.readJson(c, { maxBytes: 256 * 1024 }), ctx.now());
    const answer = await ctx.db.transaction(async (tx) => {
      const existing = await readOrder(tx, siteId, order.orderId);
      if (existing) return { existing };
      if (order.storeId !== null && !(await storeExists(tx, siteId, order.storeId))) {
        throw new OmniError('invalid_argument', `Unknown store "${order.storeId}"`);
      }
      // The customer's profile when they ever signed in here; otherwise the order stays keyed by
      // customer id, and reads join it to the profile once the customer identifies.
      const profileId =
        order.customerId === null
          ? null
          : await ctx.profiles.ofCustomer(tx, siteId, order.customerId);
      const inserted = await insertOrders(tx, siteId, [{ ...order, profileId }], ctx.now());
      if (inserted === 0) {
        // A retry of the same order committed in between.
        return { existing: await readOrder(tx, siteId, order.orderId) };
      }
      await ctx.events.record(
        tx,
        order.lines.map((line) => ({
          siteId,
          kind: 'purchase' as const,
          channel: order.channel,
          deviceId: null,
          profileId,
          sku: line.sku,
          qty: line.qty,
          at: order.at,
        })),
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
}
