// SQL of orders (store and online purchases): the co-purchase history of recommendations.
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { Order, OrderLine } from '../core/types.js';
import { CHUNK } from './chunk.js';

type RawOrder = {
  id: string;
  customer_id: string | null;
  profile_id: string | null;
  store_id: string | null;
  channel: Order['channel'];
  at: number | string;
  lines: OrderLine[];
};

export async function readOrder(
  q: Queryable,
  siteId: string,
  orderId: string,
): Promise<(Order & { profileId: string | null }) | undefined> {
  const { rows } = await q.query<RawOrder>(
    `SELECT id, customer_id, profile_id, store_id, channel, at, lines FROM orders
     WHERE site_id = $1 AND id = $2`,
    [siteId, orderId],
  );
  const r = rows[0];
  return r
    ? {
        orderId: r.id,
        customerId: r.customer_id,
        profileId: r.profile_id,
        storeId: r.store_id,
        channel: r.channel,
        at: num(r.at),
        lines: r.lines,
      }
    : undefined;
}

/** Inserts orders, skipping ids the site already has; returns how many were inserted. */
export async function insertOrders(
  q: Queryable,
  siteId: string,
  orders: readonly (Order & { profileId: string | null })[],
  now: number,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < orders.length; i += CHUNK) {
    const part = orders.slice(i, i + CHUNK);
    const res = await q.query(
      `INSERT INTO orders (id, customer_id, profile_id, store_id, channel, at, lines, site_id, created_at)
       SELECT x.*, $1::text, $9::bigint FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
         $6::text[], $7::bigint[], $8::text[]::jsonb[])
         AS x(id, customer_id, profile_id, store_id, channel, at, lines)
       ON CONFLICT (site_id, id) DO NOTHING`,
      [
        siteId,
        part.map((o) => o.orderId),
        part.map((o) => o.customerId),
        part.map((o) => o.profileId),
        part.map((o) => o.storeId),
        part.map((o) => o.channel),
        part.map((o) => o.at),
        part.map((o) => JSON.stringify(o.lines)),
        now,
      ],
    );
    inserted += res.rowCount;
  }
  return inserted;
}

/**
 * The skus of the orders recorded for a profile or for its customer id (in store or online,
 * before or after the customer first signed in here): each once with its latest time, newest
 * first. Each branch is an index scan. Also the highest order `seq` this read saw, which tells
 * the model's tail whether it has anything to catch up with (`SiteModels.syncOrders`) without
 * a round trip of its own.
 */
export async function readOrderPurchases(
  q: Queryable,
  siteId: string,
  profile: { id: string; customerId: string | null },
  limit: number,
): Promise<{ bought: { sku: string; at: number }[]; lastSeq: number }> {
  const { rows } = await q.query<{
    last_seq: string | number | null;
    bought: [string, string | number][];
  }>(
    `WITH bought AS (
       SELECT l.value->>'sku' AS sku, o.at FROM orders o, jsonb_array_elements(o.lines) AS l
        WHERE o.site_id = $1 AND o.profile_id = $2
       UNION ALL
       SELECT l.value->>'sku' AS sku, o.at FROM orders o, jsonb_array_elements(o.lines) AS l
        WHERE o.site_id = $1 AND o.customer_id = $3 AND o.profile_id IS DISTINCT FROM $2
     )
     SELECT (SELECT max(seq) FROM orders) AS last_seq,
       (SELECT coalesce(json_agg(json_build_array(t.sku, t.at) ORDER BY t.at DESC, t.sku), '[]')
          FROM (SELECT sku, max(at) AS at FROM bought
                 GROUP BY sku ORDER BY max(at) DESC, sku LIMIT $4) AS t) AS bought`,
    [siteId, profile.id, profile.customerId, limit],
  );
  const row = rows[0];
  return {
    bought: (row?.bought ?? []).map(([sku, at]) => ({ sku, at: num(at) })),
    lastSeq: num(row?.last_seq ?? 0),
  };
}

/** An order as the recommendation tail reads it. */
export interface TailOrder {
  seq: number;
  siteId: string;
  at: number;
  skus: string[];
}

/**
 * For tailing the table: orders after `seq` `after` in seq order (at most `limit`), plus those
 * among `seqs` (skipped earlier while their transaction was still committing).
 */
export async function readOrdersAfter(
  q: Queryable,
  range: { after: number; seqs: readonly number[]; limit: number },
): Promise<TailOrder[]> {
  const { rows } = await q.query<{
    seq: string | number;
    site_id: string;
    at: string | number;
    lines: OrderLine[] | null;
  }>(
    `SELECT * FROM (
       (SELECT seq, site_id, at, lines FROM orders WHERE seq > $1 ORDER BY seq LIMIT $3)
       UNION ALL
       (SELECT seq, site_id, at, lines FROM orders WHERE seq = ANY($2::bigint[]))
     ) AS t ORDER BY seq`,
    [range.after, [...range.seqs], range.limit],
  );
  return rows.map((r) => ({
    seq: num(r.seq),
    siteId: r.site_id,
    at: num(r.at),
    skus: Array.isArray(r.lines) ? r.lines.map((l) => l.sku) : [],
  }));
}

/** A data protection erasure: the site's orders no longer name the customer or the profile. */
export async function forgetCustomer(
  tx: Queryable,
  siteId: string,
  profileId: string,
  customerId: string | null,
): Promise<void> {
  await tx.query(
    `UPDATE orders SET customer_id = NULL, profile_id = NULL
     WHERE site_id = $1 AND (profile_id = $2 OR customer_id = $3)`,
    [siteId, profileId, customerId],
  );
}
