// SQL of the core's profiles: create, read as a snapshot, lock (with the device), save.
import { randomUUID } from 'node:crypto';
import { emptyState, OmniError, type ProfileState, type Snapshot } from '@omnikit/protocol';
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import { unknownDevice } from '../../http/errors.js';

export interface ProfileRow {
  id: string;
  siteId: string;
  customerId: string | null;
  state: ProfileState;
  version: number;
}

type RawProfile = {
  id: string;
  site_id: string;
  customer_id: string | null;
  state: ProfileState;
  version: string | number;
  recent_ids?: string;
};

const profileColumns = 'p.id, p.site_id, p.customer_id, p.state, p.version';
/** What the locks read: the columns, and the recent mutation ids. */
const lockedColumns = `${profileColumns}, p.recent_ids`;

/** A profile as the locks read it: with its recent mutation ids. */
export type LockedProfile = ProfileRow & { recentIds: string[] };
const asLocked = (row: RawProfile): LockedProfile => ({
  ...toProfile(row),
  recentIds: row.recent_ids ? row.recent_ids.split(' ') : [],
});

function toProfile(row: RawProfile): ProfileRow {
  return {
    id: row.id,
    siteId: row.site_id,
    customerId: row.customer_id,
    state: row.state,
    version: num(row.version),
  };
}

/** The wire snapshot of a profile as seen by one device. */
export function toSnapshot(profile: ProfileRow, lastSeq: number): Snapshot {
  return {
    profileId: profile.id,
    customerId: profile.customerId,
    version: profile.version,
    lastSeq,
    state: profile.state,
  };
}

/** A new profile: anonymous unless `customerId` is given. */
export async function createProfile(
  tx: Queryable,
  siteId: string,
  customerId: string | null = null,
  state: ProfileState = emptyState(),
): Promise<ProfileRow> {
  const profile: ProfileRow = {
    id: randomUUID(),
    siteId,
    customerId,
    state,
    version: 0,
  };
  await tx.query(
    'INSERT INTO profiles (id, site_id, customer_id, state, version) VALUES ($1, $2, $3, $4::text::jsonb, 0)',
    [profile.id, siteId, customerId, JSON.stringify(profile.state)],
  );
  return profile;
}

/** The customer's profile, created on first sight; safe against two devices identifying at once. */
export async function customerProfileId(
  tx: Queryable,
  siteId: string,
  customerId: string,
): Promise<string> {
  await tx.query(
    `INSERT INTO profiles (id, site_id, customer_id, state, version)
     VALUES ($1, $2, $3, $4::text::jsonb, 0)
     ON CONFLICT (site_id, customer_id) WHERE customer_id IS NOT NULL DO NOTHING`,
    [randomUUID(), siteId, customerId, JSON.stringify(emptyState())],
  );
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM profiles WHERE site_id = $1 AND customer_id = $2',
    [siteId, customerId],
  );
  const id = rows[0]?.id;
  if (!id) throw new Error('customer profile vanished after upsert');
  return id;
}

/** Reads a device's current snapshot without locking. */
export async function readSnapshot(
  db: Queryable,
  deviceId: string,
  siteId: string,
): Promise<Snapshot> {
  const { rows } = await db.query<RawProfile & { last_seq: string | number }>(
    `SELECT ${profileColumns}, d.last_seq FROM devices d JOIN profiles p ON p.id = d.profile_id
     WHERE d.id = $1 AND d.site_id = $2`,
    [deviceId, siteId],
  );
  const row = rows[0];
  if (!row) throw unknownDevice();
  return toSnapshot(toProfile(row), num(row.last_seq));
}

/** Locks the given profiles FOR UPDATE in id order (one global order: no deadlocks). */
export async function lockProfiles(
  tx: Queryable,
  siteId: string,
  ids: readonly string[],
): Promise<Map<string, LockedProfile>> {
  const sorted = [...new Set(ids)].sort();
  const out = new Map<string, LockedProfile>();
  for (const id of sorted) {
    const { rows } = await tx.query<RawProfile>(
      `SELECT ${lockedColumns} FROM profiles p WHERE p.id = $1 AND p.site_id = $2 FOR UPDATE`,
      [id, siteId],
    );
    if (rows[0]) out.set(id, asLocked(rows[0]));
  }
  return out;
}

export interface LockedDevice {
  profile: LockedProfile;
  lastSeq: number;
  /** The `extraIds` profiles that exist, locked in the same pass. */
  others: Map<string, LockedProfile>;
}

/**
 * Locks a device's current profile (plus `extraIds`), then the device row, re-checking that
 * the device did not move in between (identify, logout and handoff move devices). Locks are
 * always taken profiles first, in id order, then devices, so concurrent requests cannot
 * deadlock one another.
 */
export async function lockDevice(
  tx: Queryable,
  deviceId: string,
  siteId: string,
  extraIds: readonly string[] = [],
): Promise<LockedDevice> {
  for (let attempt = 0; attempt < 5; attempt++) {
    if (extraIds.length === 0) {
      // The hot path (every push): the device row and its profile, locked in one round trip
      // (profiles first in FROM, so locked before devices like everywhere else). If the device
      // moves meanwhile, the recheck of the join drops the row and we go round again.
      const { rows } = await tx.query<RawProfile & { last_seq: string | number }>(
        `SELECT ${lockedColumns}, d.last_seq FROM profiles p
         JOIN devices d ON d.profile_id = p.id
         WHERE d.id = $1 AND d.site_id = $2 AND p.site_id = $2
         FOR UPDATE OF p, d`,
        [deviceId, siteId],
      );
      const row = rows[0];
      if (row) return { profile: asLocked(row), lastSeq: num(row.last_seq), others: new Map() };
      const exists = await tx.query('SELECT 1 FROM devices WHERE id = $1 AND site_id = $2', [
        deviceId,
        siteId,
      ]);
      if (exists.rowCount === 0) throw unknownDevice();
      continue;
    }
    const current = await tx.query<{ profile_id: string }>(
      'SELECT profile_id FROM devices WHERE id = $1 AND site_id = $2',
      [deviceId, siteId],
    );
    const profileId = current.rows[0]?.profile_id;
    if (!profileId) throw unknownDevice();
    const locked = await lockProfiles(tx, siteId, [profileId, ...extraIds]);
    const profile = locked.get(profileId);
    const dev = await tx.query<{ profile_id: string; last_seq: string | number }>(
      'SELECT profile_id, last_seq FROM devices WHERE id = $1 AND site_id = $2 FOR UPDATE',
      [deviceId, siteId],
    );
    const row = dev.rows[0];
    if (!row) throw unknownDevice();
    if (profile && row.profile_id === profileId) {
      locked.delete(profileId);
      return { profile, lastSeq: num(row.last_seq), others: locked };
    }
  }
  throw new OmniError('conflict', 'The device changed profile concurrently; retry', {
    retryable: true,
  });
}

/** Saves a profile's new state and bumps its version; returns the new version. */
export async function saveState(
  tx: Queryable,
  profile: ProfileRow,
  state: ProfileState,
): Promise<number> {
  const { rows } = await tx.query<{ version: string | number }>(
    `UPDATE profiles SET state = $2::text::jsonb, version = version + 1, updated_at = now()
     WHERE id = $1 RETURNING version`,
    [profile.id, JSON.stringify(state)],
  );
  return num(rows[0]?.version);
}

/** A device's current profile without locking (what extensions may read of it). */
export async function readProfileOfDevice(
  q: Queryable,
  deviceId: string,
  siteId: string,
): Promise<Pick<ProfileRow, 'id' | 'customerId' | 'state'> | undefined> {
  const { rows } = await q.query<RawProfile>(
    `SELECT ${profileColumns} FROM devices d JOIN profiles p ON p.id = d.profile_id
     WHERE d.id = $1 AND d.site_id = $2`,
    [deviceId, siteId],
  );
  const row = rows[0];
  return row && { id: row.id, customerId: row.customer_id, state: row.state };
}

/**
 * `readProfileOfDevice` plus the profile's purchase events as `readPurchaseEvents` lists them,
 * in one round trip: the recommendation hot path reads both, and each query costs more in
 * parsing, planning and the driver than these index scans do.
 */
export async function readProfileWithPurchases(
  q: Queryable,
  deviceId: string,
  siteId: string,
  limit: number,
): Promise<
  | (Pick<ProfileRow, 'id' | 'customerId' | 'state'> & {
      purchases: { sku: string; at: number }[];
    })
  | undefined
> {
  const { rows } = await q.query<RawProfile & { purchases: [string, string | number][] }>(
    `SELECT ${profileColumns},
       (SELECT coalesce(json_agg(json_build_array(b.sku, b.at) ORDER BY b.at DESC, b.sku), '[]')
          FROM (SELECT e.sku, max(e.at) AS at FROM events e
                 WHERE e.site_id = $2 AND e.profile_id = p.id AND e.kind = 'purchase'
                   AND e.sku IS NOT NULL
                 GROUP BY e.sku ORDER BY max(e.at) DESC, e.sku LIMIT $3) AS b) AS purchases
     FROM devices d JOIN profiles p ON p.id = d.profile_id
     WHERE d.id = $1 AND d.site_id = $2`,
    [deviceId, siteId, limit],
  );
  const row = rows[0];
  return (
    row && {
      id: row.id,
      customerId: row.customer_id,
      state: row.state,
      purchases: row.purchases.map(([sku, at]) => ({ sku, at: num(at) })),
    }
  );
}

/** The profile id of a customer of the site, when they ever signed in there. */
export async function readCustomerProfileId(
  q: Queryable,
  siteId: string,
  customerId: string,
): Promise<string | null> {
  const { rows } = await q.query<{ id: string }>(
    'SELECT id FROM profiles WHERE site_id = $1 AND customer_id = $2',
    [siteId, customerId],
  );
  return rows[0]?.id ?? null;
}

/** Saves a profile's recent mutation ids (see `applyBatch`); no new version. */
export async function saveRecentIds(
  tx: Queryable,
  profileId: string,
  ids: readonly string[],
): Promise<void> {
  await tx.query('UPDATE profiles SET recent_ids = $2 WHERE id = $1', [profileId, ids.join(' ')]);
}
