import type { Hono } from 'hono';
import {
  applyBatch,
  LIMITS,
  OmniError,
  parsePushRequest,
  type Mutation,
  type MutationResult,
  type Poke,
  type PushResponse,
  type Snapshot,
} from '@omnikit/protocol';
import {
  authenticateDevice,
  checkOrigin,
  inTransaction,
  readJson,
  type AppEnv,
  type PushCommitted,
  type ServerDeps,
} from '../context.js';
import { num } from '../db/types.js';
import type { PokeEvent } from '../pokes.js';
import { lockDevice, readSnapshot } from '../profiles.js';
import { eventStreamHeaders, randomToken, sha256 } from '../security.js';

/** Stream tickets are single use and short-lived: they travel in a URL. */
export const streamTicketTtlMs = 60_000;
/** A poke carries the snapshot when it is at most this big; larger ones make the client pull. */
const maxPokeSnapshotChars = 16_384;

type PushEvent = { kind: 'view' | 'add_to_cart'; sku: string; qty: number | null; at: number };

/** The events a push feeds recommendations with: views and positive cart additions. */
function eventsOf(
  mutations: readonly Mutation[],
  results: readonly MutationResult[],
  now: number,
): PushEvent[] {
  const events: PushEvent[] = [];
  mutations.forEach((m, i) => {
    if (results[i]?.status !== 'applied') return;
    // Client clocks can be wrong: never record an event in the server's future.
    const at = Math.floor(Math.min(m.at, now));
    if (m.name === 'viewed.add') events.push({ kind: 'view', sku: m.args.sku, qty: null, at });
    if (m.name === 'cart.add' && m.args.qty > 0) {
      events.push({ kind: 'add_to_cart', sku: m.args.sku, qty: m.args.qty, at });
    }
  });
  return events;
}

/**
 * Everything a push writes, in one statement (one round trip): the new state and version (only
 * when it changed), the device's last_seq, the events, and the NOTIFY for other instances. It
 * also reads the last_seq of the profile's devices streaming from this instance (the profile
 * row is locked, so they are those of the new version; the pusher's own is the statement's new
 * one), for their pokes; streams elsewhere read their snapshot after the NOTIFY anyway.
 */
const pushWriteSql = `
WITH p AS (
  UPDATE profiles SET state = $2::text::jsonb, version = version + 1, updated_at = now()
  WHERE id = $1 AND $3::boolean
  RETURNING version
), d AS (
  UPDATE devices SET last_seq = $5 WHERE id = $4 AND last_seq <> $5
), e AS (
  INSERT INTO events (site_id, kind, channel, device_id, profile_id, sku, qty, at)
  SELECT $6, x.kind, $7, $4, $1, x.sku, x.qty, x.at
  FROM json_to_recordset($8::text::json) AS x (kind text, sku text, qty integer, at bigint)
)
SELECT version, CASE WHEN $9::text IS NULL THEN NULL ELSE pg_notify($9, $10) END AS notified,
  (SELECT json_object_agg(id, last_seq) FROM devices
   WHERE profile_id = $1 AND id = ANY($11::text[])) AS seqs
FROM p`;

export function syncRoutes(
  app: Hono<AppEnv>,
  deps: ServerDeps,
  onPushCommitted?: (event: PushCommitted) => void,
): void {
  app.post('/v1/sync/push', async (c) => {
    const { device } = await authenticateDevice(deps, c);
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
    const { answer, profileId } = await inTransaction(deps, async (tx, poke) => {
      const { profile, lastSeq } = await lockDevice(tx, device.id, device.siteId);
      const out = applyBatch(profile.state, lastSeq, req.mutations);
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
      const notification = deps.pokes.notification(next);
      const { rows } = await tx.query<{
        version: string | number;
        seqs: Record<string, string | number> | null;
      }>(pushWriteSql, [
        profile.id,
        changed ? JSON.stringify(out.state) : '{}',
        changed,
        device.id,
        out.lastSeq,
        device.siteId,
        device.channel,
        JSON.stringify(eventsOf(req.mutations, out.results, deps.now())),
        notification?.channel ?? null,
        notification?.payload ?? null,
        deps.pokes.streamingDevices(profile.id),
      ]);
      const version = changed ? num(rows[0]?.version) : profile.version;
      if (changed) {
        if (version !== next.version) throw new Error('profile version moved under a row lock');
        const seqs = Object.entries(rows[0]?.seqs ?? {}).map(([id, seq]) => [id, num(seq)]);
        next.lastSeqs = { ...Object.fromEntries(seqs), [device.id]: out.lastSeq };
        poke(next, { notified: true });
      }
      const answer: PushResponse = { version, lastSeq: out.lastSeq, results: out.results };
      return { answer, profileId: profile.id };
    });
    onPushCommitted?.({
      siteId: device.siteId,
      deviceId: device.id,
      profileId,
      version: answer.version,
      consumed: req.mutations.filter((_, i) => answer.results[i]?.status !== 'skipped'),
    });
    return c.json(answer);
  });

  app.get('/v1/sync/pull', async (c) => {
    const { device } = await authenticateDevice(deps, c);
    return c.json(await readSnapshot(deps.db, device.id, device.siteId));
  });

  app.post('/v1/sync/stream-ticket', async (c) => {
    const { device } = await authenticateDevice(deps, c);
    const ticket = randomToken();
    const now = deps.now();
    const expiresAt = now + streamTicketTtlMs;
    await deps.db.query('DELETE FROM stream_tickets WHERE expires_at < $1', [now]);
    await deps.db.query(
      'INSERT INTO stream_tickets (ticket_hash, site_id, device_id, expires_at) VALUES ($1, $2, $3, $4)',
      [sha256(ticket), device.siteId, device.id, expiresAt],
    );
    return c.json({ ticket, expiresAt }, 201);
  });

  app.get('/v1/sync/stream', async (c) => {
    const ticket = c.req.query('ticket') ?? '';
    if (!/^[A-Za-z0-9_-]{16,128}$/.test(ticket)) {
      throw new OmniError('unauthorized', 'Missing or malformed stream ticket');
    }
    // Deleting is what makes a ticket single use, even with two instances racing for it.
    const { rows } = await deps.db.query<{
      site_id: string;
      device_id: string;
      expires_at: string | number;
    }>(
      'DELETE FROM stream_tickets WHERE ticket_hash = $1 RETURNING site_id, device_id, expires_at',
      [sha256(ticket)],
    );
    const row = rows[0];
    if (!row) throw new OmniError('unauthorized', 'Unknown or already used stream ticket');
    const site = deps.sites.get(row.site_id);
    if (!site)
      throw new OmniError('unauthorized', 'The site of this device is no longer configured');
    c.set('site', site);
    checkOrigin(c, site);
    if (num(row.expires_at) < deps.now()) {
      throw new OmniError('unauthorized', 'Stream ticket expired; ask for a new one');
    }
    deps.limiters.device.check(row.device_id, 'requests from this device');
    const resume = c.req.header('last-event-id') ?? c.req.query('lastEventId');
    const lastEventId =
      resume !== undefined && /^\d{1,15}$/.test(resume) ? Number(resume) : undefined;
    const release = streamSlot(deps, row.device_id, c.get('ip'));
    return openStream(deps, row.device_id, row.site_id, lastEventId, c.req.raw.signal, release);
  });
}

/**
 * One device's event stream. It follows the device, not a profile: every poke of the profile it
 * watches makes it re-read which profile the device is on now (identify, logout and handoff
 * move devices), so a device that changed profile gets the new one's snapshot at once.
 */
/** Takes an open-stream slot for the device and for its address (429 when either is full). */
function streamSlot(deps: ServerDeps, deviceId: string, ip: string): () => void {
  const releaseDevice = deps.limiters.streamDevice.acquire(
    deviceId,
    'event streams for this device',
  );
  try {
    const releaseIp = deps.limiters.streamIp.acquire(ip, 'event streams from this address');
    return () => {
      releaseDevice();
      releaseIp();
    };
  } catch (err) {
    releaseDevice();
    throw err;
  }
}

function openStream(
  deps: ServerDeps,
  deviceId: string,
  siteId: string,
  lastEventId: number | undefined,
  signal: AbortSignal,
  onClose: () => void,
): Response {
  const encoder = new TextEncoder();
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let closed = false;
  let profileId: string | null = null;
  let lastSent = lastEventId;
  let unsubscribe = (): void => {};
  let running = false;
  let again = false;

  const write = (text: string): void => {
    if (closed) return;
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      close();
    }
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
        const snap = await readSnapshot(deps.db, deviceId, siteId);
        if (closed) return;
        const moved = snap.profileId !== profileId;
        const first = profileId === null;
        if (moved) {
          unsubscribe();
          profileId = snap.profileId;
          unsubscribe = deps.pokes.subscribe(profileId, onPoke, deviceId);
          // A change may have committed between the read and the subscription: read again.
          again = true;
        }
        if ((moved && !first) || lastSent === undefined || snap.version !== lastSent) send(snap);
      } while (again && !closed);
    } catch (err) {
      if (!closed) {
        deps.logger.warn('stream closed after a read failed', { error: (err as Error).message });
        close();
      }
    } finally {
      running = false;
    }
  };

  function send(snapshot: Snapshot): void {
    const poke: Poke = { version: snapshot.version };
    const json = JSON.stringify(snapshot);
    if (json.length <= maxPokeSnapshotChars) poke.snapshot = snapshot;
    write(`event: poke\nid: ${snapshot.version}\ndata: ${JSON.stringify(poke)}\n\n`);
    lastSent = snapshot.version;
  }

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

  // The heartbeat is an event, not a comment, so a page can tell a silent stream (a service
  // worker or a proxy holding it) from a quiet one; its data is the interval in ms.
  const beat = `event: heartbeat\ndata: ${deps.heartbeatMs}\n\n`;
  const heartbeat = setInterval(() => write(beat), deps.heartbeatMs);
  function close(): void {
    if (closed) return;
    closed = true;
    onClose();
    clearInterval(heartbeat);
    unsubscribe();
    deps.streams.delete(close);
    signal.removeEventListener('abort', close);
    try {
      controller.close();
    } catch {
      // Already closed or cancelled by the client.
    }
  }
  deps.streams.add(close);
  signal.addEventListener('abort', close);

  const body = new ReadableStream<Uint8Array>({
    start(ctrl) {
      controller = ctrl;
      // An immediate beat flushes the headers (the client knows the stream is open) and tells
      // the client how often to expect one.
      write(beat);
      void refresh();
    },
    cancel() {
      close();
    },
  });
  return new Response(body, { status: 200, headers: eventStreamHeaders });
}
