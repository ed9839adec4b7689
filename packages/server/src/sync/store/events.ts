// SQL of the core's `events` table (views, cart additions, purchases, handoffs): the input of
// recommendations and KPIs. Extensions record and read events only through these functions,
// handed to them in their context.
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';

export const EVENT_KINDS = ['view', 'add_to_cart', 'purchase', 'handoff'] as const;
export type EventKind = (typeof EVENT_KINDS)[number];

/** One shopper interaction as recorded. Times are ms since epoch. */
export interface EventRecord {
  siteId: string;
  kind: EventKind;
  channel: string;
  deviceId: string | null;
  profileId: string | null;
  sku: string | null;
  qty: number | null;
  at: number;
}

/** A recorded event with its id (ids increase in insertion order, not commit order). */
export interface StoredEvent extends EventRecord {
  id: number;
}

/** Records events in one statement. */
export async function recordEvents(tx: Queryable, events: readonly EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO events (site_id, kind, channel, device_id, profile_id, sku, qty, at)
     SELECT x.site_id, x.kind, x.channel, x.device_id, x.profile_id, x.sku, x.qty, x.at
     FROM json_to_recordset($1::text::json) AS x (site_id text, kind text, channel text,
       device_id text, profile_id text, sku text, qty integer, at bigint)`,
    [
      JSON.stringify(
        events.map((e) => ({
          site_id: e.siteId,
          kind: e.kind,
          channel: e.channel,
          device_id: e.deviceId,
          profile_id: e.profileId,
          sku: e.sku,
          qty: e.qty,
          at: e.at,
        })),
      ),
    ],
  );
}

/** An `events` row as the driver returns it. */
export type RawEvent = {
  id: string | number;
  site_id: string;
  kind: EventKind;
  channel: string;
  device_id: string | null;
  profile_id: string | null;
  sku: string | null;
  qty: number | null;
  at: string | number;
};

/**
 * For tailing the table: the events after id `after` in id order (at most `limit`), plus those
 * among `ids` (ids skipped earlier because their transaction had not committed yet). Two index
 * scans in one round trip; a single `OR` would make the planner scan the whole table.
 */
export async function readEvents(
  q: Queryable,
  range: { after: number; ids: readonly number[]; limit: number },
): Promise<StoredEvent[]> {
  const { rows } = await q.query<RawEvent>(
    `SELECT * FROM (
       (SELECT * FROM events WHERE id > $1 ORDER BY id LIMIT $3)
       UNION ALL
       (SELECT * FROM events WHERE id = ANY($2::bigint[]))
     ) AS t ORDER BY id`,
    [range.after, [...range.ids], range.limit],
  );
  return rows.map(toEvent);
}

/** An `events` row as a `StoredEvent`. */
export const toEvent = (r: RawEvent): StoredEvent => ({
  id: num(r.id),
  siteId: r.site_id,
  kind: r.kind,
  channel: r.channel,
  deviceId: r.device_id,
  profileId: r.profile_id,
  sku: r.sku,
  qty: r.qty === null ? null : num(r.qty),
  at: num(r.at),
});

/** The skus a profile's purchase events name, newest first, each once with its latest time. */
export async function readPurchaseEvents(
  q: Queryable,
  siteId: string,
  profileId: string,
  limit: number,
): Promise<{ sku: string; at: number }[]> {
  const { rows } = await q.query<{ sku: string; at: string | number }>(
    `SELECT sku, max(at) AS at FROM events
     WHERE site_id = $1 AND profile_id = $2 AND kind = 'purchase' AND sku IS NOT NULL
     GROUP BY sku ORDER BY max(at) DESC, sku LIMIT $3`,
    [siteId, profileId, limit],
  );
  return rows.map((r) => ({ sku: r.sku, at: num(r.at) }));
}
