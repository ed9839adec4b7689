// The tab rescue: each tab holds a lock named after it while it lives; the others wait for that
// lock, and once it is free (the tab went away, closed or crashed) one of them stores what the
// tab announced but did not store, and sequences what it stored but did not sequence.
// A tab rescued here (settled) may still be heard from: nothing orders its last `drafts` message
// before the release of its lock, and a tab back from the back/forward cache joins again. Its
// hello (watchNew()), its `tab` message (sent once it holds its lock again) or its drafts make
// it watched anew: its lock, free, rescues it again with the drafts heard late; held, is waited
// for. A tab that goes on alone keeps its lock while it is shown (tab-sync.ts): what it keeps in
// memory is its own to send, never rescued here as well; the others sequence what it stored
// when they hear it went alone.
import { withTimeout, type Core } from './core.js';
import { tabOf } from './store.js';

/** Fills in the rescue part of `c`. */
export function rescue(c: Core): void {
  const watched = new Set<string>();

  /** Heard from again: watched anew. */
  const wake = (tab: string) => c.settled.delete(tab) && watched.delete(tab);
  c.revive = (tab) => (wake(tab), c.watchTab(tab));

  /**
   * Once `tab` is gone (its lock is free), stores whatever it announced but did not store, and
   * sequences whatever it stored but did not sequence.
   */
  c.watchTab = (tab) => {
    const locks = navigator.locks;
    // Only while joined: a request made before (the first read adopts the store's drafts) would
    // have no signal to end it, and would outlive close() or keep the page out of the
    // back/forward cache; join() watches every tab of the drafts.
    if (tab === c.tabId || !locks || !c.joined() || watched.has(tab) || c.settled.has(tab)) {
      return;
    }
    watched.add(tab);
    locks
      .request(`${c.ns}${c.mem}:tab:${tab}`, { signal: c.session?.signal }, async () => {
        c.settled.add(tab);
        // What it announced and may not have stored (an hour old, it was stored or dropped
        // long ago), then what it stored and did not sequence: sequenced here, once.
        const left = c.drafts.filter(
          (x) => tabOf(x) === tab && !c.saved.has(x.id) && x.at > Date.now() - 36e5,
        );
        try {
          await withTimeout(c.store.save(left), c.storageMs);
          await c.reload();
          await c.settle();
          // What it sequenced before it went may be in the outbox with no message about it
          // (it died before posting): sequencing nothing here, settle() kicks nobody.
          c.kick();
        } catch (e) {
          c.fallback(e);
        }
      })
      .catch(() => {
        // Aborted: this tab left first.
      });
  };

  /**
   * Watches a tab that just said hello, as soon as its lock is requested or held. Its own
   * `tab` message comes only once its lock callback runs, a task after the lock is granted: a
   * change it makes meanwhile is stored but not announced, and if it goes away then, no tab
   * would know it left that change behind. Requesting its lock before it did would take the
   * lock from a live tab, so this waits until the lock manager lists its request.
   */
  c.watchNew = (tab, tries = 0) => {
    const locks = navigator.locks;
    if (!tries) wake(tab);
    const signal = c.session?.signal;
    if (!locks || watched.has(tab) || c.settled.has(tab) || signal?.aborted) return;
    const name = `${c.ns}${c.mem}:tab:${tab}`;
    locks.query().then(
      (s) => {
        if ([...(s.held ?? []), ...(s.pending ?? [])].some((l) => l.name === name)) {
          return c.watchTab(tab);
        }
        // Its request may still be on its way (it was made before the hello, but the lock
        // manager hears it on another channel), or the tab went away before it arrived or was
        // granted, maybe leaving a stored draft no tab was told of. After a second unseen, it
        // is gone: the store says what it left, and adopting those drafts watches their tab,
        // whose free lock starts the rescue.
        if (tries < 50) setTimeout(() => c.watchNew(tab, tries + 1), 20);
        else if (c.store.kind === 'indexeddb') c.reload().catch(c.fallback);
      },
      () => {},
    );
  };
  /** Joining the tabs again: every tab is watched anew. */
  c.unwatch = () => watched.clear();
}
