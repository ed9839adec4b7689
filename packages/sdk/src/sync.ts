// The sync loop (leader tab only): registers the device, pushes the outbox in order, pulls the
// snapshot, one run at a time, retried with backoff; heals a device the server lost. The poke
// stream that tells it when to pull is in stream.ts.
import {
  maxBatch,
  maxBodyBytes,
  OmniError,
  parseSnapshot,
  type PushResponse,
} from '@omnikit/protocol';
import { field, gone, isString, retryAfter, withTimeout, type Core } from './core.js';
import { DEV_MODE } from './dev.js';
import type { Device } from './store.js';
import type { Status, SyncState } from './types.js';

/** Fills in the sync part of `c`. */
export function sync(c: Core): void {
  const baseMs = c.o.retry?.baseMs ?? 1000;
  const maxMs = c.o.retry?.maxMs ?? 60_000;
  let registering: Promise<Device> | null = null;
  const waiting: (() => void)[] = [];
  let again = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** The last startOver(); it never rejects. */
  let resetting: Promise<void> | undefined;
  /** The sibling device asked for (see push()). */
  let minting: Promise<unknown> | undefined;

  // A server's Retry-After, up to a fifth later (clients it refused at once come back spread,
  // never early); else the backoff, jittered down to half.
  c.delay = (n, after) =>
    after != null
      ? after * (1 + Math.random() / 5)
      : (Math.min(maxMs, baseMs * 2 ** n) * (1 + Math.random())) / 2;
  c.token = async () => (await ensureDevice()).token;
  c.again = () => !!c.running && (again = true);
  // close() stops the retry timer.
  c.cleanups.push(() => clearTimeout(retryTimer));
  c.nudge = () => waiting.splice(0).forEach((f) => f());

  const asDevice = (b: unknown) => (
    ['deviceId', 'token', 'profileId'].map((k) => field(b, k, isString)),
    b as Device
  );

  /** Sets the leader's sync state, and tells the other tabs. */
  const status = (patch: Partial<Status> & { state: SyncState }) => {
    c.setStatus(patch);
    c.post({ type: 'status', state: patch.state, at: c.status.lastSyncedAt });
  };

  c.syncError = (error, mutation, share) => {
    if (share) c.post({ type: 'error', error, mutation });
    c.emit('sync-error', { error, mutation });
  };

  async function ensureDevice(): Promise<Device> {
    await c.healing;
    if (c.device) return c.device;
    // In a memory group only the leader registers (two tabs would take two devices): a
    // follower asks it, and waits for its `device` message (or to lead).
    if (c.mem && !c.leader && c.joined()) {
      const told = new Promise<void>((r) => waiting.push(r));
      c.post({ type: 'device' });
      await withTimeout(told, c.o.timeoutMs ?? 15_000);
      return ensureDevice();
    }
    const register = async (): Promise<Device> => {
      const l = await c.store.load();
      return (
        l.device ??
        c.store.setDevice(
          await c.call('/v1/devices', {
            // A device the server lost carries over its last state (see heal()).
            body: { channel: 'web', state: l.base?.state },
            headers: { 'x-omni-key': c.o.publishableKey },
            parse: asDevice,
          }),
        )
      );
    };
    const s = c.store;
    registering ??= (
      c.store.kind === 'indexeddb' && navigator.locks
        ? (navigator.locks.request(`${c.ns}:register`, register) as unknown as Promise<Device>)
        : register()
    ).finally(() => (registering = null));
    const d = (c.device = await registering);
    // The database's, though this tab went on alone meanwhile (outbox.ts): not its to sequence.
    if (c.store !== s && s.kind === 'indexeddb' && !c.mem) c.borrowed = true;
    c.post({ type: 'device', device: c.mem ? d : undefined });
    c.commit();
    // A device made by a read or a handoff (no change to push) must hear pokes too.
    c.openStream();
    return d;
  }

  async function pull() {
    const at = c.epoch;
    const snap = await c.get('/v1/sync/pull', parseSnapshot, await c.token());
    if (at === c.epoch) c.setBase(snap, false);
  }

  /** Pushes the durable outbox in order until the server has all of it. */
  c.push = async () => {
    c.flushLocal();
    // A memory group's new leader may not have heard every seq the last one sent: the
    // server's lastSeq lifts its counter before it sequences (setBase).
    if (c.mem && !c.memReady && c.device) {
      await pull();
      await c.persisting;
      c.needPull = false;
      c.memReady = true;
    }
    // Stored drafts (this tab's, or those a tab left behind) get their seqs first.
    await c.stored;
    await c.settle();
    for (;;) {
      await resetting;
      const floor = c.base?.lastSeq ?? 0;
      // The longest prefix of the outbox that fits one request, in count and in bytes (one
      // valid mutation is far below the limit, so a batch is never empty).
      let room = maxBodyBytes - 1024;
      const batch = (await c.store.load()).outbox
        .filter((m) => m.seq > floor)
        .filter((m, i) => i < maxBatch && (room -= new Blob([JSON.stringify(m)]).size) > 0);
      const last = batch.at(-1);
      if (!last) {
        // Alone with the others' device (outbox.ts), all it had sent: its changes go under a
        // sibling device, on the same profile and moving with it (identify, logout, handoff),
        // whose seqs are its own; answers about the old one are dropped (a new epoch). One
        // for the tab (a push of identify() may run beside the loop's), and none for a tab
        // that started over meanwhile (forget(), a heal: it registers its own).
        if (!c.borrowed || !c.drafts.length) return;
        const at = c.epoch;
        await (minting ??= c
          .call('/v1/devices/sibling', { body: {}, token: c.device!.token, parse: asDevice })
          .then(async (d) => {
            if (at !== c.epoch) return;
            c.device = d;
            c.drop(true);
            // Its counter passes the last snapshot's seq first (a memory setBase may still be
            // queued behind a stalled one): a seq at or below it would be taken as sent.
            await c.persisting;
            await c.store.setDevice(d);
          })
          .finally(() => (minting = undefined)));
        await c.settle();
        continue;
      }
      const d = await ensureDevice();
      const res = await c.call('/v1/sync/push', {
        // With their ids: a change sent twice (by a tab that went on alone and by the others)
        // is applied once (the server remembers the profile's latest ids).
        body: { deviceId: d.deviceId, mutations: batch },
        token: d.token,
        parse: (b) => (
          field(b, 'results', Array.isArray),
          field(b, 'lastSeq', Number.isInteger),
          b as PushResponse
        ),
      });
      res.results.forEach((r) => {
        if (r.status === 'rejected') {
          const m = batch.find((b) => b.seq === r.seq) ?? null;
          const code = r.error.code as OmniError['code'];
          c.syncError(new OmniError(code, r.error.message, { retryable: false }), m, true);
        }
      });
      if (res.lastSeq < last.seq) {
        throw new OmniError('internal', 'push was not acknowledged', { retryable: true });
      }
      await pull();
    }
  };

  /** Runs a sync now (push, then pull when needed); one at a time, retried with backoff. */
  c.kick = () => {
    if (!c.leader || c.consent !== 'granted' || c.closing.aborted || c.again()) return;
    // New changes wait for the backoff too: a 429's Retry-After holds for every request. The
    // retry timer may fire before performance.now() says it is due (Firefox rounds and jitters
    // it): the rest is waited out, or nothing would ever retry.
    const held = c.holdUntil - performance.now();
    if (held > 0) return void (clearTimeout(retryTimer), (retryTimer = setTimeout(c.kick, held)));
    if (!c.net.online()) return c.setStatus({ state: 'offline' });
    // A failure is in the status already, and its retry scheduled.
    c.cycle().catch(() => {});
  };

  /** One sync run; rejects as it failed (for sync()), after failed() has scheduled the retry. */
  c.cycle = () => {
    clearTimeout(retryTimer);
    const at = c.epoch;
    return (c.running = (async () => {
      do {
        again = false;
        // `syncing` only while something is sent or fetched.
        if (c.pending.length || c.drafts.length || c.needPull) c.setStatus({ state: 'syncing' });
        await c.push();
        if (c.needPull && (c.device || c.base)) {
          c.needPull = false;
          await pull();
        }
      } while (again);
    })().then(
      () => {
        attempt = 0;
        c.running = undefined;
        status({ state: 'online', error: null, lastSyncedAt: Date.now() });
        c.openStream();
      },
      (e) => {
        c.running = undefined;
        failed(e, at);
        throw e;
      },
    ));
  };

  function failed(e: unknown, at: number) {
    if (c.closing.aborted) return;
    const error =
      e instanceof OmniError ? e : new OmniError('internal', String(e), { retryable: true });
    const state = error.code === 'network' ? 'offline' : 'error';
    status({ state, error });
    // A lost device heals once: a late 401 of a request made before the heal only retries.
    if (gone(error)) {
      if (at === c.epoch) heal();
    } else if (!error.retryable) return c.syncError(error, null, true);
    // Offline is normal; anything else is worth a word while developing.
    if (DEV_MODE && state === 'error') c.warn(`sync failed (${error.code}), retrying`);
    c.needPull = true;
    const wait = c.delay(attempt++, retryAfter(error));
    c.holdUntil = performance.now() + wait;
    retryTimer = setTimeout(c.kick, wait);
  }

  c.connectivity = () => {
    attempt = 0;
    // Back online: retry now, unless the server itself asked to wait.
    if (c.status.error?.code === 'network') c.holdUntil = 0;
    if (!c.net.online()) return c.setStatus({ state: 'offline' });
    // A new stream now, not after the backoff of the ones that failed while offline.
    c.reopen();
    c.kick();
  };

  /**
   * Starts a new device (after a server lost its data or was restored from a backup) that
   * carries everything over: it registers with the last snapshot's state and pushes the outbox
   * on top, so nothing queued or shown is dropped. The customer is anonymous again until the
   * site calls identify(). Requests wait for it in ensureDevice().
   */
  function heal() {
    return (c.healing ??= c.startOver(true).finally(() => {
      c.healing = undefined;
      c.kick();
    }));
  }

  /**
   * Empties the store (or, with `keep`, forgets only the device); every tab adopts it. Pushes
   * wait for it (`resetting`): before, they would read an outbox the reset is about to drop.
   */
  c.startOver = (keep) => {
    c.drop(keep);
    return (resetting = (async () => {
      try {
        // A snapshot write queued before now must not land after the reset.
        await c.persisting;
        await c.store.reset(keep);
        await c.reload();
      } catch (e) {
        c.fallback(e);
      }
      c.post({ type: 'reset', keep });
    })());
  };

  /**
   * Drops what is in flight for a restart; unless `keep`, also the unstored drafts and, at once,
   * the device and its snapshot: the server moves a forgotten device to a fresh profile and pokes
   * it, and a pull started with the old token before the store is emptied would write that
   * profile's snapshot back after the reset.
   */
  c.drop = (keep) => {
    c.epoch++;
    c.closeStream();
    c.borrowed = false;
    if (keep) return;
    // What this tab knew of was the forgotten profile's: announced again by a tab that was
    // away (a memory group's, tab-sync.ts), it is answered as gone (seq 0), not sent anew.
    c.drafts.forEach((d) => c.sequenced.set(d.id, 0));
    c.sequenced.forEach((_, id) => c.sequenced.set(id, 0));
    c.local.length = 0;
    c.drafts = [];
    c.unsaved.clear();
    c.device = c.base = null;
  };
}
