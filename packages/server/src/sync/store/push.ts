// The SQL of a push: everything it writes, in one statement.
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { PushEvent } from '../core/events.js';

/**
 * Everything a push writes, in one statement (one round trip): the new state and version (only
 * when it changed), the device's last_seq, the events, and the NOTIFY for other instances. It
 * also reads the last_seq of the profile's devices streaming from this instance (the profile
 * row is locked, so they are those of the new version; the pusher's own is the statement's new
 * one), for their pokes; streams elsewhere read their snapshot after the NOTIFY anyway.
 */
const pushWriteSql = `
WITH p AS (
  UPDATE profiles SET state = $2::text::jsonb, version = version + 1, updated_at = now()
  WHERE id = $1 AND $3::boolean
  RETURNING version
), d AS (
  UPDATE devices SET last_seq = $5 WHERE id = $4 AND last_seq <> $5
), e AS (
  INSERT INTO events (site_id, kind, channel, device_id, profile_id, sku, qty, at)
  SELECT $6, x.kind, $7, $4, $1, x.sku, x.qty, x.at
  FROM json_to_recordset($8::text::json) AS x (kind text, sku text, qty integer, at bigint)
)
SELECT version, CASE WHEN $9::text IS NULL THEN NULL ELSE pg_notify($9, $10) END AS notified,
  (SELECT json_object_agg(id, last_seq) FROM devices
   WHERE profile_id = $1 AND id = ANY($11::text[])) AS seqs
FROM p`;

export interface PushWrite {
  profileId: string;
  /** The new state when it changed, else null (no new version). */
  state: object | null;
  deviceId: string;
  siteId: string;
  channel: string;
  lastSeq: number;
  events: readonly PushEvent[];
  /** The NOTIFY to send on commit, if any. */
  notification: { channel: string; payload: string } | undefined;
  /** Devices whose last_seq to read back (those streaming the profile from here). */
  streaming: readonly string[];
}

/** Writes a push; returns the new version (when the state changed) and the streaming seqs. */
export async function writePush(
  tx: Queryable,
  w: PushWrite,
): Promise<{ version: number | undefined; seqs: Record<string, number> }> {
  const { rows } = await tx.query<{
    version: string | number;
    seqs: Record<string, string | number> | null;
  }>(pushWriteSql, [
    w.profileId,
    w.state ? JSON.stringify(w.state) : '{}',
    w.state !== null,
    w.deviceId,
    w.lastSeq,
    w.siteId,
    w.channel,
    JSON.stringify(w.events),
    w.notification?.channel ?? null,
    w.notification?.payload ?? null,
    [...w.streaming],
  ]);
  const row = rows[0];
  const seqs = Object.fromEntries(
    Object.entries(row?.seqs ?? {}).map(([id, seq]) => [id, num(seq)]),
  );
  return { version: row ? num(row.version) : undefined, seqs };
}
