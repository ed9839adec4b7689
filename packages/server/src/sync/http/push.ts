// `POST /v1/sync/push` and `GET /v1/sync/pull`: the device's mutations in, its snapshot out.
import type { Hono } from 'hono';
import {
  applyBatch,
  LIMITS,
  OmniError,
  parsePushRequest,
  type PushResponse,
} from '@omnikit/protocol';
import { readJson } from '../../http/body.js';
import type { AppEnv } from '../../http/env.js';
import { eventsOf } from '../core/events.js';
import { pokeTopic, type PokeEvent } from '../pokes.js';
import { lockDevice, readSnapshot } from '../store/profiles.js';
import { writePush } from '../store/push.js';
import type { SyncServices } from './services.js';

export function pushRoutes(
  app: Hono<AppEnv>,
  s: Pick<SyncServices, 'auth' | 'db' | 'bus' | 'pokes' | 'now' | 'onPushCommitted' | 'limiters'>,
): void {
  app.post('/v1/sync/push', s.auth.requireDevice, async (c) => {
    const { device } = c.var;
    s.limiters.push.check(device.id, 'pushes from this device');
    // One push per device at a time, waiting outside the database (see `Turns`).
    const signal = () => c.req.raw.signal; // the client left: its turn is skipped
    return s.limiters.pushDevice.run(device.id, 'pushes from this device', signal, async () => {
      const raw = await readJson(c);
      const batch = (raw as { mutations?: unknown } | null)?.mutations;
      if (Array.isArray(batch) && batch.length > LIMITS.maxBatch) {
        throw new OmniError(
          'payload_too_large',
          `A push carries at most ${LIMITS.maxBatch} mutations; split the batch`,
          { details: { maxBatch: LIMITS.maxBatch } },
        );
      }
      const req = parsePushRequest(raw);
      if (req.deviceId !== device.id) {
        throw new OmniError('forbidden', 'This token does not own the device it pushes for');
      }
      const { answer, profileId } = await s.bus.transaction(async (tx, publish) => {
        const { profile, lastSeq } = await lockDevice(tx, device.id, device.siteId);
        const out = applyBatch(profile.state, lastSeq, req.mutations, profile.recentIds);
        // Reducers return the same object when nothing changed: then there is no new version.
        const changed = out.state !== profile.state;
        // The profile row is locked, so the next version is known before the UPDATE.
        const next: PokeEvent = {
          siteId: device.siteId,
          profileId: profile.id,
          version: profile.version + 1,
          snapshot: {
            profileId: profile.id,
            customerId: profile.customerId,
            version: profile.version + 1,
            state: out.state,
          },
        };
        const written = await writePush(tx, {
          profileId: profile.id,
          state: changed ? out.state : null,
          // Like the state, the same array when the batch applied no id.
          recentIds: out.recent === profile.recentIds ? null : out.recent,
          deviceId: device.id,
          siteId: device.siteId,
          channel: device.channel,
          lastSeq: out.lastSeq,
          events: eventsOf(req.mutations, out.results, s.now()),
          // Folded into the statement: one round trip less on the hottest path.
          notification: s.bus.notifications(pokeTopic, next)[0],
          streaming: s.pokes.streamingDevices(profile.id),
        });
        const version = changed ? (written.version ?? NaN) : profile.version;
        if (changed) {
          if (version !== next.version) throw new Error('profile version moved under a row lock');
          next.lastSeqs = { ...written.seqs, [device.id]: out.lastSeq };
          publish(pokeTopic, next, { notified: true });
        }
        const answer: PushResponse = { version, lastSeq: out.lastSeq, results: out.results };
        return { answer, profileId: profile.id };
      });
      s.onPushCommitted?.({
        siteId: device.siteId,
        deviceId: device.id,
        profileId,
        version: answer.version,
        consumed: req.mutations.filter((_, i) => answer.results[i]?.status !== 'skipped'),
      });
      return c.json(answer);
    });
  });

  app.get('/v1/sync/pull', s.auth.requireDevice, async (c) => {
    const { device } = c.var;
    return c.json(await readSnapshot(s.db, device.id, device.siteId));
  });
}
