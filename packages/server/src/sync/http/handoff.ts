// `POST /v1/handoff` and `POST /v1/handoff/claim`: continue on another device with a one-time
// code. An anonymous device joins an anonymous profile (or, where the site allows linking, an
// identified one); otherwise the cart is copied, and a signed-in device always copies.
import { isDeepStrictEqual } from 'node:util';
import type { Hono } from 'hono';
import {
  emptyState,
  mergeStates,
  OmniError,
  parseHandoffClaimRequest,
  type HandoffClaimResponse,
  type HandoffResponse,
} from '@omnikit/protocol';
import type { ResolvedSite } from '../../config/sites.js';
import { readJson } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { pokeTopic } from '../pokes.js';
import { normalizeHandoffCode, randomHandoffCode } from '../core/secrets.js';
import { moveDevice } from '../store/devices.js';
import { recordEvents } from '../store/events.js';
import { claimHandoffCode, insertHandoffCode } from '../store/handoff.js';
import { dropIfOrphan } from '../store/retention.js';
import { lockDevice, saveState, toSnapshot } from '../store/profiles.js';
import type { SyncServices } from './services.js';

export const handoffTtlMs = 10 * 60_000;

function claimUrl(site: ResolvedSite, code: string): string {
  const base = site.config.handoff?.url ?? site.config.allowedOrigins[0];
  if (!base) {
    throw new OmniError('forbidden', 'This site has no handoff.url (nor an allowed origin)');
  }
  const url = new URL(base);
  url.searchParams.set('omni_handoff', code);
  return url.toString();
}

export function handoffRoutes(
  app: Hono<AppEnv>,
  s: Pick<SyncServices, 'auth' | 'db' | 'bus' | 'limiters' | 'now'>,
): void {
  app.post('/v1/handoff', s.auth.requireDevice, async (c) => {
    const { device, site } = c.var;
    const code = randomHandoffCode();
    const now = s.now();
    const expiresAt = now + handoffTtlMs;
    const url = claimUrl(site, code);
    await s.db.transaction((tx) => insertHandoffCode(tx, device, code, now, expiresAt));
    return c.json({ code, url, expiresAt } satisfies HandoffResponse, 201);
  });

  app.post('/v1/handoff/claim', s.auth.requireDevice, async (c) => {
    const { device, site } = c.var;
    // Limited before the code is even looked at: guessing codes costs the guesser time.
    s.limiters.claimDevice.check(device.id, 'handoff claims from this device');
    s.limiters.claimIp.check(c.var.ip, 'handoff claims from this address');
    const { code } = parseHandoffClaimRequest(await readJson(c));
    const siteId = device.siteId;
    const answer = await s.bus.transaction(async (tx, publish): Promise<HandoffClaimResponse> => {
      const now = s.now();
      const profileId = await claimHandoffCode(tx, siteId, normalizeHandoffCode(code), now);
      const {
        profile: mine,
        lastSeq,
        others,
      } = await lockDevice(tx, device.id, siteId, [profileId]);
      const source = profileId === mine.id ? mine : others.get(profileId);
      if (!source) throw new OmniError('gone', 'The profile of this handoff code no longer exists');
      await recordEvents(tx, [
        {
          siteId,
          kind: 'handoff',
          channel: device.channel,
          deviceId: device.id,
          profileId: source.id,
          sku: null,
          qty: null,
          at: now,
        },
      ]);
      if (source.id === mine.id) return { ...toSnapshot(mine, lastSeq), mode: 'joined' };
      // A signed-in device never leaves its customer's profile through a code: a link anyone
      // can send would otherwise move it into the sender's profile. It gets the cart copied.
      const joins =
        mine.customerId === null &&
        (source.customerId === null || site.config.handoff?.allowLinking === true);
      if (joins) {
        // Its siblings (the same browser) join with it.
        await moveDevice(tx, device.id, source.id);
        // The profile this device leaves, when anonymous and now unreachable, goes at once.
        await dropIfOrphan(tx, siteId, mine.id, now);
        // This device's stream is watching its old profile: wake it so it follows the move.
        publish(pokeTopic, { siteId, profileId: mine.id, version: mine.version });
        return { ...toSnapshot(source, lastSeq), mode: 'joined' };
      }
      // An identified customer's profile is never joined by a device they may not own (a shop
      // tablet): only the cart is copied, without their history or preferences.
      const incoming = { ...emptyState(), cart: source.state.cart };
      const { state } = mergeStates(mine.state, incoming, site.mergePolicy);
      let target = mine;
      if (!isDeepStrictEqual(state, mine.state)) {
        const version = await saveState(tx, mine, state);
        target = { ...mine, state, version };
        publish(pokeTopic, { siteId, profileId: mine.id, version });
      }
      return { ...toSnapshot(target, lastSeq), mode: 'copied' };
    });
    return c.json(answer);
  });
}
