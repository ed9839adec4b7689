import { randomUUID } from 'node:crypto';
import type { Hono } from 'hono';
import {
  parseRegisterDeviceRequest,
  reduce,
  withOptions,
  type Mutation,
  type ProfileState,
  type RegisterDeviceResponse,
} from '@omnikit/protocol';
import {
  authenticateSiteKey,
  inTransaction,
  readJson,
  type AppEnv,
  type ServerDeps,
} from '../context.js';
import type { Queryable } from '../db/index.js';
import { createProfile } from '../profiles.js';
import { randomToken, sha256 } from '../security.js';

/** Inserts a device (with its token hash) on a profile; returns the id and the clear token. */
export async function insertDevice(
  tx: Queryable,
  siteId: string,
  profileId: string,
  channel: string,
): Promise<{ deviceId: string; token: string }> {
  const deviceId = randomUUID();
  const token = randomToken();
  await tx.query(
    'INSERT INTO devices (id, site_id, profile_id, token_hash, channel) VALUES ($1, $2, $3, $4, $5)',
    [deviceId, siteId, profileId, sha256(token), channel],
  );
  return { deviceId, token };
}

/**
 * A carried-over state rebuilt through the reducers, as if its changes had been pushed: lines
 * with one key merged (and capped), views deduplicated newest first, no time after `now`. The
 * validator checks shapes and limits; this gives the invariants the reducers keep.
 */
export function rebuiltState(state: ProfileState, now: number): ProfileState {
  const at = (t: number) => Math.min(t, now);
  const changes = [
    ...state.viewed
      .map((v) => ({ name: 'viewed.add', args: { sku: v.sku }, at: at(v.at) }))
      .reverse(),
    ...state.cart.lines.map((l) => ({
      name: 'cart.add',
      args: withOptions({ sku: l.sku, qty: l.qty }, l.options),
      at: at(l.addedAt),
    })),
    { name: 'cart.setPickupStore', args: { storeId: state.cart.pickupStore }, at: now },
    ...Object.entries(state.prefs).map(([key, value]) => ({
      name: 'prefs.set',
      args: { key, value },
      at: now,
    })),
  ];
  return reduce(changes.map((c, i) => ({ ...c, seq: i + 1 }) as Mutation));
}

/** Room for any valid carried-over state: ~196 KB of JSON with every limit at its maximum. */
export const maxRegisterBytes = 256 * 1024;

export function deviceRoutes(app: Hono<AppEnv>, deps: ServerDeps): void {
  app.post('/v1/devices', async (c) => {
    const site = authenticateSiteKey(deps, c);
    deps.limiters.register.check(c.get('ip'), 'device registrations from this address');
    const body = parseRegisterDeviceRequest(await readJson(c, maxRegisterBytes));
    const result = await inTransaction(deps, async (tx) => {
      const state = body.state && rebuiltState(body.state, deps.now());
      const profile = await createProfile(tx, site.config.id, null, state);
      const device = await insertDevice(tx, site.config.id, profile.id, body.channel ?? 'web');
      return { ...device, profileId: profile.id } satisfies RegisterDeviceResponse;
    });
    return c.json(result, 201);
  });
}
