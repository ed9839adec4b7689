// `POST /v1/devices`: a browser registers with the site's publishable key and gets a device
// token on a fresh anonymous profile (optionally starting from a state it carried over).
// `POST /v1/devices/sibling`: a device gets a second device of the same browser on its profile.
import type { Hono } from 'hono';
import {
  parseRegisterDeviceRequest,
  parseSiblingDeviceRequest,
  type RegisterDeviceResponse,
} from '@omnikit/protocol';
import { readJson } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { rebuiltState } from '../core/state.js';
import { insertDevice, insertSibling } from '../store/devices.js';
import { createProfile, lockDevice } from '../store/profiles.js';
import type { SyncServices } from './services.js';

/** Room for any valid carried-over state: ~196 KB of JSON with every limit at its maximum. */
export const maxRegisterBytes = 256 * 1024;

export function deviceRoutes(
  app: Hono<AppEnv>,
  s: Pick<SyncServices, 'auth' | 'db' | 'limiters' | 'now'>,
): void {
  app.post('/v1/devices', s.auth.requireSiteKey, async (c) => {
    const siteId = c.var.site.config.id;
    s.limiters.register.check(c.var.ip, 'device registrations from this address');
    // The body is read before the line: shoppers behind one address (a shop's Wi-Fi, a
    // carrier's NAT) must not wait for one another's uploads, only for the database work, which
    // an address then gets one at a time (see `Turns`), not a burst that delays everyone else.
    const body = parseRegisterDeviceRequest(await readJson(c, { maxBytes: maxRegisterBytes }));
    const signal = () => c.req.raw.signal;
    const what = 'device registrations from this address';
    const result = await s.limiters.registerIp.run(c.var.ip, what, signal, () =>
      s.db.transaction(async (tx) => {
        const state = body.state && rebuiltState(body.state, s.now());
        const profile = await createProfile(tx, siteId, null, state);
        const device = await insertDevice(tx, siteId, profile.id, body.channel ?? 'web', s.now());
        return { ...device, profileId: profile.id } satisfies RegisterDeviceResponse;
      }),
    );
    return c.json(result, 201);
  });

  // A browser's tabs share one device, and its seq counter, through their storage. A tab whose
  // storage fails while the others' goes on cannot take seqs from that counter any more: under
  // the same device, its changes and theirs would share seqs and the server would skip one of
  // each pair. It sends its new changes under a sibling: a device of its own (its own seqs) in
  // the same family, which identify, logout and handoff move together (see `moveDevice`).
  app.post('/v1/devices/sibling', s.auth.requireDevice, async (c) => {
    const { device } = c.var;
    const what = 'device registrations from this address';
    // The address first: a refusal there must not use up the device's own allowance.
    s.limiters.register.check(c.var.ip, what);
    s.limiters.sibling.check(device.id, 'sibling devices from this device');
    parseSiblingDeviceRequest(await readJson(c));
    const signal = () => c.req.raw.signal;
    const result = await s.limiters.registerIp.run(c.var.ip, what, signal, () =>
      s.db.transaction(async (tx) => {
        // Locked as identify, logout and handoff lock it: a sibling made while its device moves
        // is made on the profile the device went to, or moved there with it.
        await lockDevice(tx, device.id, device.siteId);
        return (await insertSibling(tx, device, s.now())) satisfies RegisterDeviceResponse;
      }),
    );
    return c.json(result, 201);
  });
}
