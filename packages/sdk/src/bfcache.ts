// The back/forward cache. WebKit keeps a page the shopper leaves in it with its IndexedDB
// transactions as they were: one frozen between a read and its write (idb-store.ts: `sequence`,
// `setBase`) holds the database from the site's next page, which gives up on it after
// `storageTimeoutMs` and moves to memory; Chromium does so with the upgrade that creates the
// database. So a `pagehide` that may freeze the page (`persisted`) aborts the store's reading
// transactions and that upgrade (nothing of theirs is written: a draft stays a draft, for this
// page or any tab to sequence) and holds back new ones, and `pageshow` runs the aborted ones
// again from the start. A plain unload changes nothing.
import type { Snapshot } from '@omnikit/protocol';

/** A base, as far as telling whether another tab wrote one. */
export const tag = (b: Snapshot | null) => b && [b.profileId, b.version, b.lastSeq].join();
/** Whether snapshot `a` is no newer than `b` of the same profile (not a later version or seq). */
export const noNewer = (a: Snapshot, b: Snapshot) =>
  a.version < b.version || (a.version === b.version && a.lastSeq <= b.lastSeq);
/**
 * Whether a `setBase` run again after a freeze leaves the stored base `b` as it is: this one's
 * or newer (the same profile), or one another tab stored meanwhile (`seen` is this tab's last).
 */
export const kept = (b: Snapshot | null, base: Snapshot, seen: string | null) =>
  !!b && (b.profileId === base.profileId ? noNewer(base, b) : tag(b) !== seen);

/**
 * The `pagehide`s (persisted) so far, and whether the page is hidden since the last: a timeout
 * that runs across one starts again (core.ts). Kept by listeners of their own, added with the
 * first store and never removed, so a store closed while the page is hidden leaves neither
 * stuck.
 */
export let hides = 0;
export let frozen = false;
let watching = false;

type Tx = { abort(): void; done: Promise<void> };

/** The window's events, and the document's that bubble to it (`visibilitychange`). */
type On = WindowEventMap & DocumentEventMap;
/** Adds a window listener; returns its removal. */
export const listen = <K extends keyof On>(type: K, f: (e: On[K]) => void) => (
  addEventListener(type, f as EventListener),
  () => removeEventListener(type, f as EventListener)
);

/** Guards one store's transactions; `stop()` when the store closes. */
export function freezeGuard() {
  if (!watching) {
    watching = true;
    listen('pagehide', (e) => e.persisted && ((frozen = true), hides++));
    listen('pageshow', () => (frozen = false));
  }
  const live = new Set<Tx>();
  let stopped = false;
  let hold: Promise<void> | undefined;
  let thaw = () => {};
  const onHide = (e: PageTransitionEvent) => {
    if (!e.persisted) return;
    hold ??= new Promise((r) => (thaw = r));
    live.forEach((tx) => {
      try {
        tx.abort();
      } catch {
        // Committing already: it needs nothing more of this page.
      }
    });
  };
  const offs = [listen('pagehide', onHide), listen('pageshow', () => ((hold = undefined), thaw()))];
  return {
    /** Aborted by the next `pagehide` (persisted) while under way. */
    track<T extends Tx>(tx: T): T {
      live.add(tx);
      void tx.done.catch(() => {}).then(() => live.delete(tx));
      return tx;
    },
    /** Runs `f` once the page is shown; again (`again`) when a `pagehide` aborted its run. */
    async run<T>(f: (again: boolean) => Promise<T>): Promise<T> {
      for (let again = false; ; again = true) {
        await hold;
        const at = hides;
        try {
          return await f(again);
        } catch (e) {
          // Not again once stopped: the store is closed (or its open gave up).
          if (at === hides || stopped) throw e;
        }
      }
    },
    /** Lets what waits for the page to be shown go on (and fail on the closed store). */
    stop() {
      stopped = true;
      offs.forEach((off) => off());
      thaw();
    },
  };
}
