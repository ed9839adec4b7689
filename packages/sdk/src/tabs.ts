// Cross-tab plumbing: a message transport (BroadcastChannel, or the in-memory double tests use to
// simulate other tabs), the messages the tabs of one namespace exchange and how they are written
// on the channel, and leader election (Web Locks), so exactly one tab talks to the server.
import { OmniError, type Mutation, type Snapshot } from '@omnikit/protocol';
import type { Device, Draft, Entry } from './store.js';
import type { SyncState } from './types.js';

/**
 * What one tab tells the others. On the channel each is a plain object (structured-cloned) with
 * these fields, so `new BroadcastChannel('<namespace>')` in the console shows them as written
 * here; only `error` differs: its OmniError travels as `{ code, message, status }`.
 */
export type TabMessage =
  /** A new tab is here; `tab` when it holds a tab lock the others can watch. */
  | { type: 'hello'; tab?: string }
  /** This tab is alive and holds its tab lock: watch it, to rescue its drafts when it goes. */
  | { type: 'tab'; tab: string }
  /** Drafts this tab just made (stored, or being stored). */
  | { type: 'drafts'; drafts: Draft[] }
  /** Drafts that became outbox entries (they have seqs now). */
  | { type: 'entries'; entries: Entry[] }
  /** A newer server snapshot; `identity` when an identity call (not a sync) brought it. */
  | { type: 'base'; snapshot: Snapshot; identity?: boolean }
  /** The leader's sync state. */
  | { type: 'status'; state: SyncState; at: number | null }
  /** A sync error the leader met (`mutation`: the change the server refused, if one). */
  | { type: 'error'; error: OmniError; mutation: Mutation | null }
  /** A device was registered: read it from the store (a memory group's has none: `device`). */
  | { type: 'device'; device?: Device }
  /** The store was emptied (forget) or, with `keep`, only its device dropped (heal). */
  | { type: 'reset'; keep?: boolean }
  /**
   * This tab's storage failed: it goes on alone, in memory; the drafts it did not store are its
   * own, those it stored it leaves to the store (unless `deleted`: the database went).
   */
  | { type: 'alone'; tab: string; deleted?: boolean };

/** A message as it goes on the channel. */
export function encode(m: TabMessage): unknown {
  if (m.type !== 'error') return m;
  const e = m.error;
  return { type: m.type, mutation: m.mutation, code: e.code, message: e.message, status: e.status };
}

/** A message from the channel. */
export function decode(raw: unknown): TabMessage {
  const m = raw as TabMessage & { code: OmniError['code']; message: string; status?: number };
  return m.type === 'error'
    ? { ...m, error: new OmniError(m.code, m.message, { status: m.status }) }
    : m;
}

/** How the tabs of one browser talk. Messages are structured-cloned and never echo back. */
export interface TabTransport {
  post(message: unknown): void;
  /** Returns the unsubscribe. */
  listen(cb: (message: unknown) => void): () => void;
  close(): void;
}

/** Creates the transport of one namespace. */
export type TabTransportFactory = (name: string) => TabTransport;

/** The browser's transport: a BroadcastChannel per namespace (or none where missing). */
export const broadcastTabs: TabTransportFactory = (name) => {
  if (typeof BroadcastChannel === 'undefined') return memoryTabs()(name);
  const ch = new BroadcastChannel(name);
  return {
    post: (m) => ch.postMessage(m),
    listen(cb) {
      const h = (e: MessageEvent) => cb(e.data);
      ch.addEventListener('message', h);
      return () => ch.removeEventListener('message', h);
    },
    close: () => ch.close(),
  };
};

/**
 * An in-memory transport hub: every transport it creates for the same name hears the others,
 * asynchronously and through `structuredClone`, the way BroadcastChannel behaves. Use one hub
 * per simulated browser.
 */
export function memoryTabs(): TabTransportFactory {
  const hub = new Map<string, Set<(m: unknown) => void>>();
  return (name) => {
    const peers = hub.get(name) ?? new Set();
    hub.set(name, peers);
    const mine = new Set<(m: unknown) => void>();
    const deliver = (m: unknown) => mine.forEach((cb) => cb(structuredClone(m)));
    peers.add(deliver);
    return {
      post(m) {
        for (const p of peers) if (p !== deliver) setTimeout(p, 0, m);
      },
      listen(cb) {
        mine.add(cb);
        return () => mine.delete(cb);
      },
      close: () => peers.delete(deliver),
    };
  };
}

/**
 * Runs `lead` while this tab is the leader of `name`, until `signal` aborts. With Web Locks
 * the role moves to a waiting tab the moment the leader closes or its page goes away. Without
 * them (very old browsers) every tab leads: pushes are idempotent per seq, so this costs
 * duplicate requests, never duplicate changes.
 */
export function lead(name: string, signal: AbortSignal, lead: () => void): void {
  const locks = navigator.locks;
  if (!locks) return lead();
  locks
    .request(name, { signal }, () => {
      // Granted just as the client closed: give the role straight back.
      if (signal.aborted) return;
      lead();
      return new Promise((release) => signal.addEventListener('abort', release));
    })
    .catch(() => {
      // AbortError: the client closed before it became the leader.
    });
}
