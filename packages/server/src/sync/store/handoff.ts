// SQL of handoff codes: stored by hash (with their site), single use, short-lived.
import { OmniError } from '@omnikit/protocol';
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import { sha256 } from '../core/secrets.js';

/** Open (unclaimed) codes one device may hold; a QR screen needs one, a retry two. */
const maxOpenCodesPerDevice = 5;
/** Expired codes are kept a day so a late claim hears "expired", not "unknown". */
const keepExpiredMs = 24 * 3600_000;

/** Codes are hashed with their site: the same code on two sites is two different secrets. */
export const codeHash = (siteId: string, code: string) => sha256(`${siteId}:${code}`);

/** Stores a new code for the device's current profile; the device keeps its newest few. */
export async function insertHandoffCode(
  tx: Queryable,
  device: { id: string; siteId: string },
  code: string,
  now: number,
  expiresAt: number,
): Promise<void> {
  const { rows } = await tx.query<{ profile_id: string }>(
    'SELECT profile_id FROM devices WHERE id = $1',
    [device.id],
  );
  await tx.query('DELETE FROM handoff_codes WHERE expires_at < $1', [now - keepExpiredMs]);
  // A device keeps its few newest open codes: minting more retires the oldest.
  await tx.query(
    `DELETE FROM handoff_codes WHERE code_hash IN (
       SELECT code_hash FROM handoff_codes WHERE device_id = $1 AND used_at IS NULL
       ORDER BY expires_at DESC OFFSET $2)`,
    [device.id, maxOpenCodesPerDevice - 1],
  );
  await tx.query(
    `INSERT INTO handoff_codes (code_hash, site_id, profile_id, device_id, expires_at)
     VALUES ($1, $2, $3, $4, $5)`,
    [codeHash(device.siteId, code), device.siteId, rows[0]?.profile_id, device.id, expiresAt],
  );
}

/**
 * Marks a code used and returns the profile it hands off: 404 unknown, 409 already used,
 * 410 expired. The row stays locked until the transaction ends.
 */
export async function claimHandoffCode(
  tx: Queryable,
  siteId: string,
  code: string,
  now: number,
): Promise<string> {
  const hash = codeHash(siteId, code);
  const { rows } = await tx.query<{
    profile_id: string;
    expires_at: string | number;
    used_at: string | number | null;
  }>(
    'SELECT profile_id, expires_at, used_at FROM handoff_codes WHERE code_hash = $1 AND site_id = $2 FOR UPDATE',
    [hash, siteId],
  );
  const row = rows[0];
  if (!row) throw new OmniError('not_found', 'Unknown handoff code');
  if (row.used_at !== null) throw new OmniError('conflict', 'This handoff code was already used');
  if (num(row.expires_at) < now) throw new OmniError('gone', 'This handoff code has expired');
  await tx.query('UPDATE handoff_codes SET used_at = $2 WHERE code_hash = $1', [hash, now]);
  return row.profile_id;
}

/** Cancels the devices' open codes (logout: they must not hand the customer's cart out). */
export async function cancelOpenCodes(
  tx: Queryable,
  siteId: string,
  deviceIds: readonly string[],
): Promise<void> {
  await tx.query(
    'DELETE FROM handoff_codes WHERE device_id = ANY($1::text[]) AND site_id = $2 AND used_at IS NULL',
    [deviceIds, siteId],
  );
}
