// The poke stream (leader tab only): a server-sent events stream that says when the profile
// changed elsewhere, often with the new snapshot; pulls every `fallbackPullMs` while it is not
// live, so pokes can never be silenced for good.
import { parsePoke } from '@omnikit/protocol';
import { field, isString, type Core } from './core.js';
import { DEV_MODE } from './dev.js';

/** Fills in the stream part of `c`. */
export function stream(c: Core): void {
  const fallbackMs = c.o.fallbackPullMs ?? 15_000;
  let es: EventSource | null = null;
  let opening = false;
  let attempt = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  /** A stream cut after it opened waits for its retry timer, as do the opens after syncs. */
  let backingOff = false;
  /** When the stream was opened or last heard from (performance.now()). */
  let heard = 0;
  /** The heartbeat interval the stream announced (0: it has not beaten yet). */
  let beat = 0;
  let fallbackTimer: ReturnType<typeof setTimeout> | undefined;

  c.closeStream = () => {
    clearTimeout(retryTimer);
    backingOff = false;
    es?.close();
    es = null;
  };

  c.stopStream = () => {
    c.closeStream();
    clearTimeout(fallbackTimer);
    fallbackTimer = undefined;
  };

  c.reopen = () => {
    c.closeStream();
    c.needPull = true;
    c.openStream();
  };

  /**
   * Pokes cannot be silenced: while the stream is not live (it has not beaten yet, or has
   * been silent for two heartbeats), the leader pulls every `fallbackMs`; a stream silent that
   * long (or never open) is replaced, and once one beats the pulls stop.
   */
  function watchStream() {
    if (fallbackTimer || !c.leader || c.closing.aborted) return;
    fallbackTimer = setTimeout(() => {
      fallbackTimer = undefined;
      const now = performance.now();
      if (c.leader && c.device && !(es && beat && now - heard < 2 * beat)) {
        c.needPull = true;
        c.kick();
        // kick() opens a new one once it has pulled.
        if (now - heard >= Math.max(fallbackMs, 2 * beat)) c.closeStream();
      }
      watchStream();
    }, fallbackMs);
  }

  /** Holds the poke stream; every (re)connect takes a fresh one-time ticket, then pulls. */
  async function open() {
    watchStream();
    const device = c.device;
    if (es || opening || backingOff || !c.leader || !device || c.closing.aborted) return;
    opening = true;
    const at = c.epoch;
    try {
      const ticket = await c.call('/v1/sync/stream-ticket', {
        token: device.token,
        parse: (b) => field(b, 'ticket', isString) as string,
      });
      if (!c.leader || at !== c.epoch || c.closing.aborted) return;
      const s = (es = c.net.eventSource(
        `${c.endpoint}/v1/sync/stream?ticket=${encodeURIComponent(ticket)}`,
      ));
      const alive = () => {
        if (es === s) heard = performance.now();
      };
      alive();
      beat = 0;
      s.addEventListener('poke', (e) => {
        alive();
        onPoke((e as MessageEvent<string>).data);
      });
      // The server beats as an event (a comment would not reach this page); data: its interval.
      // A stream that beats twice has held: only then is the backoff forgotten. Forgotten on open,
      // a proxy that ends streams right after they open would have the tab reconnect at once.
      s.addEventListener('heartbeat', (e) => {
        alive();
        if (beat) attempt = 0;
        beat = +(e as MessageEvent<string>).data;
      });
      s.onopen = () => {
        alive();
        c.needPull = true;
        c.kick();
      };
      s.onerror = () => {
        if (es !== s) return;
        c.closeStream();
        retry(true);
      };
    } catch {
      // No ticket (the server is down or unreachable): the next sync that works may open it.
      retry(false);
    } finally {
      opening = false;
      // An identity change while the ticket was on its way (reopen() found this one in flight
      // and left it to us): open the stream for the new epoch rather than none until the
      // fallback pull. In `finally`, since the stale ticket's check above returns early.
      if (at !== c.epoch) void open();
    }
  }
  c.openStream = open;

  /** `cut`: a stream that opened was ended; the opens after sync cycles wait too then. */
  function retry(cut: boolean) {
    if (c.closing.aborted || !c.leader) return;
    backingOff = cut;
    retryTimer = setTimeout(() => {
      backingOff = false;
      void open();
    }, c.delay(attempt++));
  }

  function onPoke(data: string) {
    let poke;
    try {
      poke = parsePoke(JSON.parse(data));
    } catch {
      if (DEV_MODE) c.warn('ignored a malformed poke');
      return;
    }
    const snap = poke.snapshot;
    const base = c.base;
    // The snapshot carries this device's lastSeq as of its version, so pending changes rebase
    // over it exactly (none twice, even after a leader died mid-push). Another profile's (the
    // device moved, or a late poke of the one it left) is settled by a pull.
    if (snap && snap.profileId === base?.profileId) c.setBase(snap, false);
    else if (!base || poke.version !== base.version) {
      c.needPull = true;
      c.kick();
    }
  }
}
