// SQL of devices and their single-use stream tickets.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { AuthedDevice } from '../../http/env.js';
import { unknownDevice } from '../../http/errors.js';
import { randomToken, sha256 } from '../core/secrets.js';

/** Inserts a device (with its token hash) on a profile; returns the id and the clear token. */
export async function insertDevice(
  tx: Queryable,
  siteId: string,
  profileId: string,
  channel: string,
  seenAt: number,
): Promise<{ deviceId: string; token: string }> {
  const deviceId = randomUUID();
  const token = randomToken();
  await tx.query(
    `INSERT INTO devices (id, site_id, profile_id, token_hash, channel, last_seen_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [deviceId, siteId, profileId, sha256(token), channel, seenAt],
  );
  return { deviceId, token };
}

/**
 * Inserts a sibling of a device (whose row the caller holds locked): the same site, profile and
 * channel, in the same family (the root device's id: a sibling's sibling has the same root),
 * with a token of its own. Returns the new device's id, its clear token and its profile.
 */
export async function insertSibling(
  tx: Queryable,
  device: { id: string; siteId: string },
  seenAt: number,
): Promise<{ deviceId: string; token: string; profileId: string }> {
  const deviceId = randomUUID();
  const token = randomToken();
  const { rows } = await tx.query<{ profile_id: string }>(
    `INSERT INTO devices (id, site_id, profile_id, token_hash, channel, last_seen_at, family)
     SELECT $1, site_id, profile_id, $4, channel, $5, coalesce(family, id) FROM devices
     WHERE id = $2 AND site_id = $3
     RETURNING profile_id`,
    [deviceId, device.id, device.siteId, sha256(token), seenAt],
  );
  const row = rows[0];
  if (!row) throw unknownDevice();
  return { deviceId, token, profileId: row.profile_id };
}

/** The devices whose `last_seen_at` one instance keeps from rewriting on every request. */
const MAX_SEEN = 100_000;

/**
 * Records that a device is in use (`last_seen_at`, which retention reads), at most once per
 * `everyMs` per device and instance: one write an hour, not one per request. Resolves false
 * when the device is gone (collected meanwhile), so the request is refused as from an unknown
 * device instead of failing on a missing row further on.
 */
export function deviceSeen(
  db: Queryable,
  now: () => number,
  everyMs = 3_600_000,
): (device: AuthedDevice) => Promise<boolean> {
  const seen = new Map<string, number>();
  return async (device) => {
    const at = now();
    const last = seen.get(device.id);
    if (last !== undefined && at - last < everyMs && at >= last) return true;
    const { rowCount } = await db.query(
      'UPDATE devices SET last_seen_at = greatest(last_seen_at, $2) WHERE id = $1',
      [device.id, at],
    );
    if (rowCount === 0) {
      seen.delete(device.id);
      return false;
    }
    if (seen.size >= MAX_SEEN) seen.clear();
    seen.set(device.id, at);
    return true;
  };
}

/**
 * Bearer token → device, by the token's hash. A device's token and site never change, so each
 * token is looked up once per database and then served from memory.
 */
export function deviceFinder(db: Db): DeviceFinder {
  const cache = new Map<string, AuthedDevice>();
  const find = async (token: string) => {
    const hash = sha256(token);
    const known = cache.get(hash);
    if (known) return known;
    const { rows } = await db.query<{ id: string; site_id: string; channel: string }>(
      'SELECT id, site_id, channel FROM devices WHERE token_hash = $1',
      [hash],
    );
    const row = rows[0];
    if (!row) return undefined;
    const device = { id: row.id, siteId: row.site_id, channel: row.channel };
    if (cache.size > 100_000) cache.clear();
    cache.set(hash, device);
    return device;
  };
  // A device deleted by retention must not live on in the cache.
  const forget = (token: string) => void cache.delete(sha256(token));
  return Object.assign(find, { forget });
}

/** Bearer token → device, with `forget` for a token whose device turned out to be gone. */
export type DeviceFinder = ((token: string) => Promise<AuthedDevice | undefined>) & {
  forget(token: string): void;
};

/**
 * Points a device at another profile, and with it the devices of its family (its siblings, one
 * browser) still on the profile it leaves: the tabs of a browser share one profile, whichever of
 * its devices signed in or out. Devices that merely share the profile (joined through a handoff
 * code) stay. The caller holds the lock of the profile left; the family's rows are locked in id
 * order, like every other lock on several devices. Returns the ids of the devices moved.
 */
export async function moveDevice(
  tx: Queryable,
  deviceId: string,
  profileId: string,
): Promise<string[]> {
  const { rows } = await tx.query<{ id: string }>(
    `SELECT d.id FROM devices me JOIN devices d ON d.profile_id = me.profile_id
       AND coalesce(me.family, me.id) IN (d.id, d.family)
     WHERE me.id = $1
     ORDER BY d.id FOR UPDATE OF d`,
    [deviceId],
  );
  const ids = rows.map((r) => r.id);
  await tx.query('UPDATE devices SET profile_id = $2 WHERE id = ANY($1::text[])', [ids, profileId]);
  return ids;
}

/** Stores a new ticket (by hash) for the device, dropping expired ones; returns the ticket. */
export async function issueStreamTicket(
  db: Queryable,
  device: AuthedDevice,
  now: number,
  expiresAt: number,
): Promise<string> {
  const ticket = randomToken();
  await db.query('DELETE FROM stream_tickets WHERE expires_at < $1', [now]);
  await db.query(
    'INSERT INTO stream_tickets (ticket_hash, site_id, device_id, expires_at) VALUES ($1, $2, $3, $4)',
    [sha256(ticket), device.siteId, device.id, expiresAt],
  );
  return ticket;
}

export interface StreamTicket {
  siteId: string;
  deviceId: string;
  expiresAt: number;
}

type RawTicket = { site_id: string; device_id: string; expires_at: string | number };

const toTicket = (row: RawTicket | undefined): StreamTicket | undefined =>
  row && { siteId: row.site_id, deviceId: row.device_id, expiresAt: num(row.expires_at) };

/** Reads a ticket without spending it (a stream refused for now must keep its ticket). */
export async function readStreamTicket(
  db: Queryable,
  ticket: string,
): Promise<StreamTicket | undefined> {
  const { rows } = await db.query<RawTicket>(
    'SELECT site_id, device_id, expires_at FROM stream_tickets WHERE ticket_hash = $1',
    [sha256(ticket)],
  );
  return toTicket(rows[0]);
}

/**
 * Spends a ticket: deleting it is what makes it single use, even with two instances racing
 * for it. Undefined when unknown or already spent.
 */
export async function spendStreamTicket(
  db: Queryable,
  ticket: string,
): Promise<StreamTicket | undefined> {
  const { rows } = await db.query<RawTicket>(
    'DELETE FROM stream_tickets WHERE ticket_hash = $1 RETURNING site_id, device_id, expires_at',
    [sha256(ticket)],
  );
  return toTicket(rows[0]);
}
