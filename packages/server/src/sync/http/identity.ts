// `POST /v1/identify`, `POST /v1/logout` and `DELETE /v1/profile`: a device signs in to the
// customer's profile (merging its guest cart), leaves it, or erases it.
import { isDeepStrictEqual } from 'node:util';
import type { Hono } from 'hono';
import {
  mergeStates,
  parseIdentifyRequest,
  recentIds,
  type IdentifyResponse,
  type MergeSummary,
  type Snapshot,
} from '@omnikit/protocol';
import { readJson } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { verifyCustomerToken } from '../core/customer-token.js';
import { pokeTopic } from '../pokes.js';
import { moveDevice } from '../store/devices.js';
import { eraseProfile, retireGuest } from '../store/identity.js';
import { cancelOpenCodes } from '../store/handoff.js';
import { dropIfOrphan } from '../store/retention.js';
import {
  createProfile,
  customerProfileId,
  lockDevice,
  saveRecentIds,
  saveState,
  toSnapshot,
  type ProfileRow,
} from '../store/profiles.js';
import type { SyncServices } from './services.js';

export function identityRoutes(
  app: Hono<AppEnv>,
  s: Pick<SyncServices, 'auth' | 'bus' | 'extensions' | 'now'>,
): void {
  app.post('/v1/identify', s.auth.requireDevice, async (c) => {
    const { device, site } = c.var;
    const { token } = parseIdentifyRequest(await readJson(c));
    const customerId = await verifyCustomerToken(site, token);
    const siteId = site.config.id;
    const answer = await s.bus.transaction(async (tx, publish): Promise<IdentifyResponse> => {
      const customerPid = await customerProfileId(tx, siteId, customerId);
      const locked = await lockDevice(tx, device.id, siteId, [customerPid]);
      const { profile, lastSeq } = locked;
      if (profile.id === customerPid) return { ...toSnapshot(profile, lastSeq), merge: null };
      const customer = locked.others.get(customerPid);
      if (!customer) throw new Error('customer profile not locked');
      let target: ProfileRow = customer;
      let merge: MergeSummary | null = null;
      if (profile.customerId === null) {
        // The guest's cart joins the account. Only the device that signed in follows it, with
        // its siblings (the same browser): other devices on the guest profile (joined through a
        // handoff code, which anyone can show) must never gain access to the account.
        const merged = mergeStates(customer.state, profile.state, site.mergePolicy);
        merge = merged.summary;
        if (!isDeepStrictEqual(merged.state, customer.state)) {
          const version = await saveState(tx, customer, merged.state);
          target = { ...customer, state: merged.state, version };
        }
        // The guest's changes are the account's now, whatever the merge kept of them: one sent
        // again (by a tab of the guest's that went on alone) is not applied to it.
        const recent = recentIds([...customer.recentIds, ...profile.recentIds]);
        if (!isDeepStrictEqual(recent, customer.recentIds)) {
          await saveRecentIds(tx, customer.id, recent);
        }
        const moved = await moveDevice(tx, device.id, customer.id);
        await retireGuest(tx, siteId, profile.id, customer.id, moved);
      } else {
        // Another customer was signed in here: their cart stays with them.
        await moveDevice(tx, device.id, customer.id);
      }
      // The old profile's streams re-read where their device went; the customer's see the merge.
      publish(pokeTopic, { siteId, profileId: profile.id, version: profile.version });
      publish(pokeTopic, { siteId, profileId: target.id, version: target.version });
      return { ...toSnapshot(target, lastSeq), merge };
    });
    return c.json(answer);
  });

  app.post('/v1/logout', s.auth.requireDevice, async (c) => {
    const { device } = c.var;
    const answer = await s.bus.transaction(async (tx, publish): Promise<Snapshot> => {
      const { profile, lastSeq } = await lockDevice(tx, device.id, device.siteId);
      const fresh = await createProfile(tx, device.siteId);
      // The device's siblings (the same browser) leave with it, to the same fresh profile.
      const moved = await moveDevice(tx, device.id, fresh.id);
      // Codes made while signed in must not hand the customer's cart out after sign-out.
      await cancelOpenCodes(tx, device.siteId, moved);
      // A guest's profile left by its last device is garbage now: nothing can reach it again.
      await dropIfOrphan(tx, device.siteId, profile.id, s.now());
      publish(pokeTopic, {
        siteId: device.siteId,
        profileId: profile.id,
        version: profile.version,
      });
      return toSnapshot(fresh, lastSeq);
    });
    return c.json(answer);
  });

  app.delete('/v1/profile', s.auth.requireDevice, async (c) => {
    const { device } = c.var;
    const siteId = device.siteId;
    await s.bus.transaction(async (tx, publish) => {
      const { profile } = await lockDevice(tx, device.id, siteId);
      for (const extension of s.extensions) {
        await extension.onProfileErased?.(tx, {
          siteId,
          profileId: profile.id,
          customerId: profile.customerId,
        });
      }
      await eraseProfile(tx, siteId, profile.id);
      publish(pokeTopic, { siteId, profileId: profile.id, version: profile.version });
    });
    return c.body(null, 204);
  });
}
