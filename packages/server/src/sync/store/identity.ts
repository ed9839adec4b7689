// SQL of what identity changes do to the core's rows beyond one profile: a guest profile merged
// into a customer's, and a profile erased.
import { emptyState } from '@omnikit/protocol';
import type { Queryable } from '../../db/index.js';
import { moveDevice } from './devices.js';
import { createProfile } from './profiles.js';

/**
 * After a guest's device moved to the customer's profile: when no other device is left on the
 * guest profile it is retired into the customer's (its events and codes follow); otherwise it
 * lives on for its other devices and only the history made on this device follows.
 */
export async function retireGuest(
  tx: Queryable,
  siteId: string,
  guestId: string,
  customerProfileId: string,
  deviceId: string,
): Promise<void> {
  const { rows: others } = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM devices WHERE profile_id = $1 AND site_id = $2',
    [guestId, siteId],
  );
  if ((others[0]?.n ?? 0) > 0) {
    await tx.query('UPDATE events SET profile_id = $2 WHERE profile_id = $1 AND device_id = $3', [
      guestId,
      customerProfileId,
      deviceId,
    ]);
    return;
  }
  await tx.query(
    `UPDATE profiles SET merged_into = $2, state = $3::text::jsonb, updated_at = now()
     WHERE id = $1`,
    [guestId, customerProfileId, JSON.stringify(emptyState())],
  );
  // One level of merged_into only, so forgetting the customer finds every guest.
  await tx.query('UPDATE profiles SET merged_into = $2 WHERE merged_into = $1', [
    guestId,
    customerProfileId,
  ]);
  await tx.query('UPDATE events SET profile_id = $2 WHERE profile_id = $1', [
    guestId,
    customerProfileId,
  ]);
  await tx.query('UPDATE handoff_codes SET profile_id = $2 WHERE profile_id = $1', [
    guestId,
    customerProfileId,
  ]);
}

/**
 * Erases a (locked) profile: every device on it moves to a new empty anonymous profile of its
 * own, and the profile's events, handoff codes and merged guests are deleted with it.
 */
export async function eraseProfile(
  tx: Queryable,
  siteId: string,
  profileId: string,
): Promise<void> {
  const { rows } = await tx.query<{ id: string }>(
    'SELECT id FROM devices WHERE profile_id = $1 AND site_id = $2 ORDER BY id FOR UPDATE',
    [profileId, siteId],
  );
  for (const row of rows) {
    const fresh = await createProfile(tx, siteId);
    await moveDevice(tx, row.id, fresh.id);
  }
  await tx.query('DELETE FROM events WHERE profile_id = $1 AND site_id = $2', [profileId, siteId]);
  await tx.query('DELETE FROM handoff_codes WHERE profile_id = $1 AND site_id = $2', [
    profileId,
    siteId,
  ]);
  await tx.query('DELETE FROM profiles WHERE merged_into = $1 AND site_id = $2', [
    profileId,
    siteId,
  ]);
  await tx.query('DELETE FROM profiles WHERE id = $1 AND site_id = $2', [profileId, siteId]);
}
