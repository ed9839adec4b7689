// SQL of retention: each function deletes one bounded batch of what a site no longer needs and
// says how many rows went. Rows are picked `FOR UPDATE SKIP LOCKED`, so a batch never waits on
// (or deadlocks with) a request holding them: what is busy is in use, and left for next time.
import { emptyState } from '@omnikit/protocol';
import type { Queryable } from '../../db/index.js';
import { toEvent, type RawEvent, type StoredEvent } from './events.js';

/**
 * A device's stream tickets and handoff codes go with it (they reference it), and so does its
 * profile when that was anonymous and is left with no device and no open code.
 */
async function deleteDevices(
  tx: Queryable,
  devices: readonly { id: string; profile_id: string }[],
  now: number,
): Promise<{ devices: number; profiles: number }> {
  if (devices.length === 0) return { devices: 0, profiles: 0 };
  const list = devices.map((d) => d.id);
  const tickets = await tx.query('DELETE FROM stream_tickets WHERE device_id = ANY($1::text[])', [
    list,
  ]);
  const codes = await tx.query('DELETE FROM handoff_codes WHERE device_id = ANY($1::text[])', [
    list,
  ]);
  const gone = await tx.query('DELETE FROM devices WHERE id = ANY($1::text[])', [list]);
  const left = await tx.query<{ id: string }>(
    `SELECT p.id FROM profiles p WHERE p.id = ANY($1::text[]) AND p.customer_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM handoff_codes h
         WHERE h.profile_id = p.id AND h.used_at IS NULL AND h.expires_at >= $2)
     FOR UPDATE OF p SKIP LOCKED`,
    [[...new Set(devices.map((d) => d.profile_id))], now],
  );
  const profiles = await deleteProfiles(
    tx,
    left.rows.map((r) => r.id),
  );
  return { devices: tickets.rowCount + codes.rowCount + gone.rowCount, profiles };
}

/**
 * Deletes up to `limit` devices of the site unseen since `idleBefore`, or since `emptyBefore`
 * when they never changed anything (alone on an anonymous profile still empty at version 0).
 * Returns the rows deleted: devices (with tickets and codes), and the profiles they left.
 */
export async function collectIdleDevices(
  tx: Queryable,
  siteId: string,
  cut: { idleBefore: number; emptyBefore: number; now: number },
  limit: number,
): Promise<{ devices: number; profiles: number }> {
  const { rows } = await tx.query<{ id: string; profile_id: string }>(
    `SELECT d.id, d.profile_id FROM devices d
     WHERE d.site_id = $1 AND d.last_seen_at < $3 AND (
       d.last_seen_at < $2 OR EXISTS (
         SELECT 1 FROM profiles p
         WHERE p.id = d.profile_id AND p.customer_id IS NULL AND p.version = 0
           AND p.state = $4::text::jsonb
           AND NOT EXISTS (
             SELECT 1 FROM devices o WHERE o.profile_id = d.profile_id AND o.id <> d.id)))
     ORDER BY d.last_seen_at
     LIMIT $5
     FOR UPDATE OF d SKIP LOCKED`,
    [
      siteId,
      cut.idleBefore,
      Math.max(cut.idleBefore, cut.emptyBefore),
      JSON.stringify(emptyState()),
      limit,
    ],
  );
  return deleteDevices(tx, rows, cut.now);
}

/**
 * Deletes up to `limit` anonymous profiles of the site that no device points to, that no open
 * handoff code can still reach, unchanged since `before` (ms). Their used or expired codes go
 * with them. Profiles with a customer id are never touched. Returns the rows deleted.
 */
export async function collectOrphanProfiles(
  tx: Queryable,
  siteId: string,
  cut: { before: number; now: number },
  limit: number,
): Promise<number> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT p.id FROM profiles p
     WHERE p.site_id = $1 AND p.customer_id IS NULL
       AND p.updated_at < to_timestamp($2::float8 / 1000)
       AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.profile_id = p.id)
       AND NOT EXISTS (SELECT 1 FROM handoff_codes h
         WHERE h.profile_id = p.id AND h.used_at IS NULL AND h.expires_at >= $3)
     LIMIT $4
     FOR UPDATE OF p SKIP LOCKED`,
    [siteId, cut.before, cut.now, limit],
  );
  return deleteProfiles(
    tx,
    rows.map((r) => r.id),
  );
}

async function deleteProfiles(tx: Queryable, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  // Re-checked under the lock: a device may have moved onto the profile since it was picked.
  const { rows } = await tx.query<{ id: string }>(
    `DELETE FROM profiles p WHERE p.id = ANY($1::text[]) AND p.customer_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.profile_id = p.id)
     RETURNING p.id`,
    [[...ids]],
  );
  if (rows.length === 0) return 0;
  const codes = await tx.query('DELETE FROM handoff_codes WHERE profile_id = ANY($1::text[])', [
    rows.map((r) => r.id),
  ]);
  return codes.rowCount + rows.length;
}

/**
 * Deletes a profile at once when it is anonymous and nothing can reach it any more (no device,
 * no open code): what a logout or a handoff leaves behind. The caller holds its lock.
 */
export async function dropIfOrphan(
  tx: Queryable,
  siteId: string,
  profileId: string,
  now: number,
): Promise<boolean> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT p.id FROM profiles p WHERE p.id = $1 AND p.site_id = $2 AND p.customer_id IS NULL
       AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.profile_id = p.id)
       AND NOT EXISTS (SELECT 1 FROM handoff_codes h
         WHERE h.profile_id = p.id AND h.used_at IS NULL AND h.expires_at >= $3)`,
    [profileId, siteId, now],
  );
  if (rows.length === 0) return false;
  return (await deleteProfiles(tx, [profileId])) > 0;
}

/** Deletes the site's stream tickets and handoff codes expired before `before` (ms). */
export async function collectExpired(
  tx: Queryable,
  siteId: string,
  before: number,
  limit: number,
): Promise<number> {
  const tickets = await tx.query(
    `DELETE FROM stream_tickets WHERE ticket_hash IN (
       SELECT ticket_hash FROM stream_tickets WHERE site_id = $1 AND expires_at < $2
       LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    [siteId, before, limit],
  );
  const codes = await tx.query(
    `DELETE FROM handoff_codes WHERE code_hash IN (
       SELECT code_hash FROM handoff_codes WHERE site_id = $1 AND expires_at < $2
       LIMIT $3 FOR UPDATE SKIP LOCKED)`,
    [siteId, before, limit],
  );
  return tickets.rowCount + codes.rowCount;
}

/**
 * Takes (deletes and returns) one batch of the site's events older than `before`: views of up
 * to `profiles` whole profiles at a time, each profile's in time order (so whoever folds them
 * into aggregates sees whole browsing sessions), then other kinds. Purchases stay while their
 * profile exists. Empty when nothing is left to prune.
 */
export async function takeOldEvents(
  tx: Queryable,
  siteId: string,
  before: number,
  batch: { profiles: number; rows: number },
): Promise<StoredEvent[]> {
  const owners = await tx.query<{ profile_id: string | null }>(
    `SELECT DISTINCT profile_id FROM (
       SELECT profile_id FROM events WHERE site_id = $1 AND at < $2 AND kind = 'view'
       LIMIT $3) AS t`,
    [siteId, before, batch.rows],
  );
  if (owners.rows.length > 0) {
    const ids = owners.rows.slice(0, batch.profiles).map((r) => r.profile_id);
    const named = ids.filter((id): id is string => id !== null);
    const { rows } = await tx.query<RawEvent>(
      `DELETE FROM events WHERE id IN (
         SELECT id FROM events WHERE site_id = $1 AND at < $2 AND kind = 'view'
           AND (profile_id = ANY($3::text[]) OR ($4::boolean AND profile_id IS NULL))
         FOR UPDATE SKIP LOCKED)
       RETURNING *`,
      [siteId, before, named, ids.length > named.length],
    );
    return rows
      .map(toEvent)
      .sort((a, b) =>
        a.profileId === b.profileId
          ? a.at - b.at || a.id - b.id
          : (a.profileId ?? '') < (b.profileId ?? '')
            ? -1
            : 1,
      );
  }
  const { rows } = await tx.query<RawEvent>(
    `DELETE FROM events WHERE id IN (
       SELECT e.id FROM events e WHERE e.site_id = $1 AND e.at < $2 AND e.kind <> 'view'
         AND (e.kind <> 'purchase' OR e.profile_id IS NULL
              OR NOT EXISTS (SELECT 1 FROM profiles p WHERE p.id = e.profile_id))
       LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING *`,
    [siteId, before, batch.rows],
  );
  return rows.map(toEvent).sort((a, b) => a.id - b.id);
}
