// SQL of what identity changes do to the core's rows beyond one profile: a guest profile merged
// into a customer's, and a profile erased.
import { emptyState } from '@omnikit/protocol';
import type { Queryable } from '../../db/index.js';
import { createProfile } from './profiles.js';

/**
 * After a guest's devices (one browser's, see `moveDevice`) moved to the customer's profile:
 * when no other device is left on the guest profile it is retired into the customer's (its
 * events and codes follow); otherwise it lives on for its other devices and only the history
 * made on the moved devices follows.
 */
export async function retireGuest(
  tx: Queryable,
  siteId: string,
  guestId: string,
  customerProfileId: string,
  deviceIds: readonly string[],
): Promise<void> {
  const { rows: others } = await tx.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM devices WHERE profile_id = $1 AND site_id = $2',
    [guestId, siteId],
  );
  if ((others[0]?.n ?? 0) > 0) {
    await tx.query(
      'UPDATE events SET profile_id = $2 WHERE profile_id = $1 AND device_id = ANY($3::text[])',
      [guestId, customerProfileId, deviceIds],
    );
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
 * own (siblings too, each to its own: a family apart no longer moves together, see
 * `moveDevice`), and the profile's events, handoff codes and merged guests are deleted with it.
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
    // One device, not its family (`moveDevice`): each gets a profile of its own.
    await tx.query('UPDATE devices SET profile_id = $2 WHERE id = $1', [row.id, fresh.id]);
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
