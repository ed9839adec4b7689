// The SQL of a push: everything it writes, in one statement.
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { PushEvent } from '../core/events.js';

/**
 * Everything a push writes, in one statement (one round trip): the new state and version (only
 * when it changed), the profile's recent mutation ids (when they changed), the device's
 * last_seq, the events, and the NOTIFY for other instances (only for a new version). It
 * also reads the last_seq of the profile's devices streaming from this instance (the profile
 * row is locked, so they are those of the new version; the pusher's own is the statement's new
 * one), for their pokes; streams elsewhere read their snapshot after the NOTIFY anyway.
 */
const pushWriteSql = `
WITH p AS (
  UPDATE profiles SET state = CASE WHEN $3::boolean THEN $2::text::jsonb ELSE state END,
    version = version + CASE WHEN $3::boolean THEN 1 ELSE 0 END, updated_at = now(),
    recent_ids = CASE WHEN $13::boolean THEN $12::text ELSE recent_ids END
  WHERE id = $1 AND ($3::boolean OR $13::boolean)
  RETURNING version
), d AS (
  UPDATE devices SET last_seq = $5 WHERE id = $4 AND last_seq <> $5
), e AS (
  INSERT INTO events (site_id, kind, channel, device_id, profile_id, sku, qty, at)
  SELECT $6, x.kind, $7, $4, $1, x.sku, x.qty, x.at
  FROM json_to_recordset($8::text::json) AS x (kind text, sku text, qty integer, at bigint)
)
SELECT version,
  CASE WHEN $9::text IS NULL OR NOT $3::boolean THEN NULL ELSE pg_notify($9, $10) END AS notified,
  (SELECT json_object_agg(id, last_seq) FROM devices
   WHERE profile_id = $1 AND id = ANY($11::text[])) AS seqs
FROM p`;

export interface PushWrite {
  profileId: string;
  /** The new state when it changed, else null (no new version). */
  state: object | null;
  /** The profile's recent mutation ids when they changed, else null. */
  recentIds: readonly string[] | null;
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

/**
 * Writes a push; returns the new version (when the state changed; when only the recent ids did,
 * the version as it was) and the streaming seqs.
 */
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
    (w.recentIds ?? []).join(' '),
    w.recentIds !== null,
  ]);
  const row = rows[0];
  const seqs = Object.fromEntries(
    Object.entries(row?.seqs ?? {}).map(([id, seq]) => [id, num(seq)]),
  );
  return { version: row ? num(row.version) : undefined, seqs };
}
