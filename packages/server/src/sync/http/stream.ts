// `POST /v1/sync/stream-ticket` and `GET /v1/sync/stream`: a device's poke stream. It follows
// the device, not a profile: every poke of the profile it watches makes it re-read which profile
// the device is on now (identify, logout and handoff move devices), so a device that changed
// profile gets the new one's snapshot at once.
import type { Hono } from 'hono';
import { OmniError, type Poke, type Snapshot } from '@omnikit/protocol';
import { enterSite } from '../../http/auth.js';
import type { AppEnv } from '../../http/env.js';
import { resumeFrom, type EventStream } from '../../http/event-stream.js';
import type { PokeEvent } from '../pokes.js';
import { issueStreamTicket, readStreamTicket, spendStreamTicket } from '../store/devices.js';
import { readSnapshot } from '../store/profiles.js';
import type { SyncServices } from './services.js';

/** Stream tickets are single use and short-lived: they travel in a URL. */
export const streamTicketTtlMs = 60_000;
/** A poke carries the snapshot when it is at most this big; larger ones make the client pull. */
const maxPokeSnapshotChars = 16_384;

type StreamServices = Pick<
  SyncServices,
  'auth' | 'db' | 'sites' | 'now' | 'limiters' | 'pokes' | 'streams' | 'logger'
>;

export function streamRoutes(app: Hono<AppEnv>, s: StreamServices): void {
  app.post('/v1/sync/stream-ticket', s.auth.requireDevice, async (c) => {
    const now = s.now();
    const expiresAt = now + streamTicketTtlMs;
    const ticket = await issueStreamTicket(s.db, c.var.device, now, expiresAt);
    return c.json({ ticket, expiresAt }, 201);
  });

  app.get('/v1/sync/stream', async (c) => {
    const ticket = c.req.query('ticket') ?? '';
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(ticket)) {
      throw new OmniError('unauthorized', 'Missing or malformed stream ticket');
    }
    // Read, not spent yet: a stream refused below (429) keeps its ticket for a later try.
    const row = await readStreamTicket(s.db, ticket);
    if (!row) throw new OmniError('unauthorized', 'Unknown or already used stream ticket');
    const site = s.sites.get(row.siteId);
    if (!site) {
      throw new OmniError('unauthorized', 'The site of this device is no longer configured');
    }
    enterSite(c, site);
    if (row.expiresAt < s.now()) {
      throw new OmniError('unauthorized', 'Stream ticket expired; ask for a new one');
    }
    s.limiters.device.check(row.deviceId, 'requests from this device');
    const stream = s.streams.create({
      signal: c.req.raw.signal,
      slots: [
        {
          limiter: s.limiters.streamDevice,
          key: row.deviceId,
          what: 'event streams for this device',
        },
        { limiter: s.limiters.streamIp, key: c.var.ip, what: 'event streams from this address' },
      ],
    });
    // Spent only now that the stream can open; deleting it makes it single use even when two
    // requests (or instances) race for it.
    if (!(await spendStreamTicket(s.db, ticket))) {
      stream.close();
      throw new OmniError('unauthorized', 'Unknown or already used stream ticket');
    }
    followDevice(s, stream, row.deviceId, row.siteId, resumeFrom(c));
    return stream.response();
  });
}

/** Sends the device's snapshot now (unless the client has it) and after every change. */
function followDevice(
  s: StreamServices,
  stream: EventStream,
  deviceId: string,
  siteId: string,
  lastEventId: number | undefined,
): void {
  let profileId: string | null = null;
  let lastSent = lastEventId;
  let unsubscribe = (): void => {};
  let running = false;
  let again = false;

  const send = (snapshot: Snapshot): void => {
    const poke: Poke = { version: snapshot.version };
    if (JSON.stringify(snapshot).length <= maxPokeSnapshotChars) poke.snapshot = snapshot;
    stream.send('poke', JSON.stringify(poke), snapshot.version);
    lastSent = snapshot.version;
  };

  const refresh = async (): Promise<void> => {
    if (running) {
      again = true;
      return;
    }
    running = true;
    try {
      do {
        again = false;
        const snap = await readSnapshot(s.db, deviceId, siteId);
        if (stream.closed) return;
        const moved = snap.profileId !== profileId;
        const first = profileId === null;
        if (moved) {
          unsubscribe();
          profileId = snap.profileId;
          unsubscribe = s.pokes.subscribe(profileId, onPoke, deviceId);
          // A change may have committed between the read and the subscription: read again.
          again = true;
        }
        if ((moved && !first) || lastSent === undefined || snap.version !== lastSent) send(snap);
      } while (again && !stream.closed);
    } catch (err) {
      if (!stream.closed) {
        s.logger.warn('stream closed after a read failed', { error: (err as Error).message });
        stream.close();
      }
    } finally {
      running = false;
    }
  };

  /** A committed change of the watched profile: send it as is when we can, else re-read. */
  function onPoke(event: PokeEvent): void {
    const snap = event.snapshot;
    const lastSeq = event.lastSeqs?.[deviceId];
    if (snap && lastSeq !== undefined && !running && snap.profileId === profileId) {
      if (lastSent === undefined || snap.version > lastSent) send({ ...snap, lastSeq });
      return;
    }
    void refresh();
  }

  stream.onClose(() => unsubscribe());
  void refresh();
}
