// What the client's modules share: one record of the client's state (each module owns the parts
// its comments name) and the functions they call on each other, plus small helpers. A module is
// a function that fills in its part of the record (`view(c)`, `outbox(c)`...); client.ts calls
// them in order and composes the public object.
import {
  OmniError,
  type ProfileState,
  type Snapshot,
  type Mutation,
  type MutationArgs,
  type MutationName,
} from '@omnikit/protocol';
import { frozen, hides, noNewer } from './bfcache.js';
import type { Call, Network } from './http.js';
import type { Device, Draft, Entry, Loaded, Store } from './store.js';
import type { TabMessage } from './tabs.js';
import type {
  ClientEventMap,
  ClientOptions,
  ClientState,
  Consent,
  OmniClient,
  Status,
} from './types.js';

export interface Core {
  // ---- set up by client.ts ----
  readonly o: ClientOptions;
  /** The endpoint without a trailing slash. */
  readonly endpoint: string;
  readonly ns: string;
  /** How long a storage operation may take before the tab moves to memory. */
  readonly storageMs: number;
  /**
   * `':mem'` once the database was deleted while open, else `''`: the tabs open then share
   * memory, not a store, in a group whose channel and locks are `<ns>:mem…` (see tab-sync.ts).
   */
  mem: string;
  /** A memory group's leader may sequence: it pulled since it took over (or had no device). */
  memReady?: boolean;
  /**
   * Gone on alone (its storage failed, the database stays) with the device of the tabs that
   * still use the database, whose seqs only the database gives: it sends what it had, then
   * its new changes under a sibling device of its own (sync.ts).
   */
  borrowed?: boolean;
  readonly currency: string;
  readonly net: Network;
  /** Aborted by close(). */
  readonly closing: AbortSignal;
  readonly prices: Record<string, number>;
  /** This tab's id: the prefix of its drafts' ids, and the name of the lock it holds. */
  readonly tabId: string;
  consent: Consent;
  /** Removed by close(). */
  readonly cleanups: (() => void)[];
  warn(message: string, ...details: unknown[]): void;
  call<T>(path: string, c: Call<T>): Promise<T>;
  /** A GET; the publishable key goes along (it is public), the device's token when given. */
  get<T>(path: string, parse?: (b: unknown) => T, token?: string): Promise<T>;
  start(): Promise<void>;

  // ---- the local view (view.ts) ----
  /** The optimistic profile: `rebase(base, pending + drafts)`. */
  v: ProfileState;
  state: ClientState;
  status: Status;
  emit<K extends keyof ClientEventMap>(type: K, detail: ClientEventMap[K]): void;
  /** Recomputes the derived state and tells whoever listens what changed, synchronously. */
  commit(source?: 'local' | 'remote'): void;
  /** Rebuilds the view from the base, the outbox and the drafts, then commits. */
  recompute(source?: 'local' | 'remote'): void;
  setStatus(patch: Partial<Status>): void;
  /** Takes a snapshot as the base (view.ts). */
  setBase(snap: Snapshot, identity?: boolean, fromTab?: boolean): void;
  /** Called on every commit (sync() waits with them). */
  readonly subs: Set<() => void>;

  // ---- the outbox and storage (outbox.ts) ----
  store: Store;
  device: Device | null;
  base: Snapshot | null;
  /** Outbox entries the server has not acknowledged, by seq. */
  pending: Entry[];
  /** Every draft without a seq this tab knows of: its own and those other tabs announced. */
  drafts: Draft[];
  /** Drafts not handed to the store yet: storage still opening, or no consent. */
  readonly local: Draft[];
  /** This tab's drafts that are not stored yet. */
  readonly unsaved: Set<string>;
  /** Drafts known to be stored (by this tab, or found in the store): any tab may sequence them. */
  readonly saved: Set<string>;
  /** Tabs whose unstored drafts were rescued (or that went on alone): only the store speaks for them. */
  readonly settled: Set<string>;
  /**
   * The drafts known to be outbox entries (sequenced here, or heard of), id to seq: one announced
   * again (by a tab back from the back/forward cache) is not a new draft.
   */
  readonly sequenced: Map<string, number>;
  /** Every write started so far. */
  stored: Promise<unknown>;
  /** Snapshot writes, in order. */
  persisting: Promise<void>;
  sequencing: Promise<void> | undefined;
  mutate<N extends MutationName>(name: N, args: MutationArgs[N]): Promise<void>;
  /** Reads the store and adopts (or uses) it, unless the store changed meanwhile; tells whether. */
  reload(use?: (l: Loaded, before: ReadonlySet<string>) => void): Promise<boolean>;
  /** Opens storage (once consent is granted) and writes what waited for it. */
  persist(): Promise<void>;
  addPending(ms: readonly Entry[]): void;
  /** Moves to memory; `deleted`: the database went with what it held. */
  fallback(cause: unknown, deleted?: boolean): void;
  flushLocal(): Promise<void>;
  settle(): Promise<void>;

  // ---- the tab rescue (rescue.ts) ----
  watchTab(tab: string): void;
  /** A tab settled here was heard from: watched anew (rescued again if it is gone). */
  revive(tab: string): void;
  /** `tries`: how many times its lock was looked for already (none on a hello). */
  watchNew(tab: string, tries?: number): void;
  /** Forgets which tabs are watched (joining the tabs again watches them anew). */
  unwatch(): void;

  // ---- tabs (tab-sync.ts) ----
  leader?: boolean;
  /** While this tab holds its own lock, other tabs can tell when it goes away. */
  held?: boolean;
  post(m: TabMessage): void;
  /** Whether this tab talks to the others (joined and not left). */
  joined(): boolean;
  join(): void;
  /** `alone`: this tab goes on alone, in memory, and keeps its tab lock (see letGo()). */
  leave(alone?: boolean): void;
  /** Frees this tab's lock: the others may rescue it. */
  letGo(): void;
  /** Aborted when this tab leaves the others. */
  session?: AbortController;

  // ---- the sync loop (sync.ts, stream.ts) ----
  /** Bumped by identity changes and resets: answers of an older epoch are dropped. */
  epoch: number;
  needPull: boolean;
  /** No sync before this time (performance.now()): the backoff, or the server's Retry-After. */
  holdUntil: number;
  running: Promise<void> | undefined;
  healing: Promise<void> | undefined;
  token(): Promise<string>;
  push(): Promise<void>;
  kick(): void;
  cycle(): Promise<void>;
  /** Asks the running cycle (if any) for one more round; false when none runs. */
  again(): boolean;
  delay(n: number, after?: number): number;
  syncError(error: OmniError, mutation: Mutation | null, share: boolean): void;
  drop(keep?: boolean): void;
  startOver(keep?: boolean): Promise<void>;
  openStream(): void;
  /** Wakes the calls of a memory group's follower waiting for the leader's device. */
  nudge(): void;
  closeStream(): void;
  reopen(): void;
  stopStream(): void;
  /** Connectivity may have changed. */
  connectivity(): void;
}

/** `list` without what has the id of one in `gone` (drafts, or the entries they became). */
export const without = <T extends { id?: string }>(list: T[], gone: readonly { id?: string }[]) => {
  const ids = new Set(gone.map((g) => g.id));
  return list.filter((x) => !ids.has(x.id));
};
/** `list` and the entries of `more` it lacks (by seq) above `floor`, in seq order. */
export const merged = (list: readonly Entry[], more: readonly Entry[], floor = 0) => {
  const known = new Set(list.map((m) => m.seq));
  return [...list, ...more.filter((m) => m.seq > floor && !known.has(m.seq))].sort(
    (a, b) => a.seq - b.seq,
  );
};

export const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
export const isString = (v: unknown) => typeof v === 'string';

/**
 * Reads one field of an answer. Whatever reaches the state (snapshots, pokes) goes through the
 * protocol's validators; the other answers are only checked for the fields the client reads,
 * since their full validators would cost the bundle ~0.7 KB (`parsePushResponse` alone 0.2 KB).
 */
export function field(body: unknown, key: string, ok: (v: unknown) => boolean): unknown {
  const v = (body as Record<string, unknown>)[key];
  if (!ok(v)) throw new TypeError(`malformed ${key}`);
  return v;
}

/** Whether `snap` is no newer than the base (same profile, not a later version or seq). */
export function behind(c: Core, snap: Core['base']) {
  const base = c.base;
  return !!snap && snap.profileId === base?.profileId && noNewer(snap, base);
}

/**
 * Waits for the start, refuses without consent, and pushes what is queued (the server must have
 * every change made before the call); resolves with the device's token.
 */
export async function consented(c: Core) {
  await c.start();
  if (c.consent !== 'granted') throw new OmniError('forbidden', 'consent is not granted');
  await c.push();
  return c.token();
}

/**
 * Calls a page's callback: one that throws must not break the others or the sync (or a stock
 * watch's round); it is reported like an event listener's.
 */
export function safely(f: () => void) {
  try {
    f();
  } catch (e) {
    if (typeof reportError === 'function') reportError(e);
    else setTimeout(() => Promise.reject(e));
  }
}

export const retryAfter = (e: unknown) =>
  ((e as OmniError).details as { retryAfterMs?: number } | undefined)?.retryAfterMs;

/** The server no longer knows the device whose token a request carried. */
export const gone = (e: unknown) =>
  ((e as OmniError).details as { reason?: string } | undefined)?.reason === 'unknown_device';

/**
 * `p`, unless it takes over `ms` while the page is shown. A page frozen meanwhile (bfcache.ts)
 * gets `ms` again once shown: its timer may fire as it is shown (or while hidden, if not frozen
 * at once), before the store has run again what the freeze aborted.
 */
export const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([
    p,
    new Promise<never>((_, reject) => {
      const arm = (at: number) =>
        setTimeout(() => (frozen || at < hides ? arm(hides) : reject(new Error('timed out'))), ms);
      arm(hides);
    }),
  ]);

/**
 * `p`, unless one of the signals aborts first (then its reason). The abort listeners go once
 * it settles: a long-lived signal given to many calls would otherwise keep every one of them.
 */
export const abortable = <T>(p: Promise<T>, signals: (AbortSignal | undefined)[]): Promise<T> =>
  new Promise<T>((resolve, reject) => {
    const offs = signals.map((s) => {
      const stop = () => reject(s!.reason);
      if (s?.aborted) stop();
      s?.addEventListener('abort', stop);
      return () => s?.removeEventListener('abort', stop);
    });
    p.then(resolve, reject).finally(() => offs.forEach((off) => off()));
  });

/** `a=1&b=x,y` from the defined values; arrays are joined by commas. */
export const query = (o: object) =>
  new URLSearchParams(Object.entries(o).filter((e) => e[1] != null) as string[][]);

/**
 * Where a client keeps its `emit`, for the opt-in modules that report through the client's
 * events: a registered symbol, so an opt-in from another copy of the SDK (a site's own build
 * beside the script tag's bundle, or another frame) reaches it too.
 */
export const EMIT = Symbol.for('omnikit.emit');
export const emitOf = (client: OmniClient) =>
  (client as OmniClient & { [EMIT]?: Core['emit'] })[EMIT];
