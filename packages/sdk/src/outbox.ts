// The outbox and storage: each change becomes a draft at once (the view shows it), is stored as
// a durable draft in the call's own task (idb-store.ts, `<ns>:drafts`), then gets its seq and waits
// in the outbox for the server. Other tabs hear of each draft, so one of them stores it should
// this tab die first (rescue.ts). A storage failure moves the tab to memory, keeping all.
import { applyMutation, validateMutation } from '@omnikit/protocol';
import { behind, merged, withTimeout, without, type Core } from './core.js';
import { memoryStore } from './memory.js';
import { idbStore } from './idb-store.js';
import { marked, storageError, tabOf, type Draft, type Loaded, type Store } from './store.js';

/** Fills in the outbox part of `c`. */
export function outbox(c: Core): void {
  let made = 0;
  let reported = false;
  /** Whether changes can be written the moment they are made (the store is open). */
  let opened = false;
  /** Resolves the changes made before the store opened, once they are stored. */
  let early: Promise<void> | undefined;
  /** Resolves the last `early` (a noop before there was one; calling it again does nothing). */
  let release = () => {};
  let more = false;
  let persisted = false;
  /** The last reset of the store this tab read (`Loaded.reset`); null before its first read. */
  let reset: number | undefined | null = null;

  /** Applies a change to the view, then stores it (see flushLocal). */
  c.mutate = (name, args) => {
    // Opens the store (in this task, a microtask later) if this is the first use.
    void c.start();
    const m = validateMutation({ seq: 1, name, args, at: Date.now() });
    const next = applyMutation(c.v, m);
    const { seq: _seq, ...rest } = m;
    // Recorded even when it changes nothing here: this view may be behind the server's, and
    // the intent ("remove this line") must still reach it.
    const d: Draft = { ...rest, id: c.tabId + ++made };
    c.local.push(d);
    c.drafts.push(d);
    c.unsaved.add(d.id);
    c.v = next;
    c.commit('local');
    return c.flushLocal();
  };

  /** Adds outbox entries; the drafts they were are no longer drafts. */
  c.addPending = (ms) => {
    c.drafts = without(c.drafts, ms);
    ms.forEach((m) => {
      if (!m.id) return;
      c.unsaved.delete(m.id);
      c.saved.delete(m.id);
      c.sequenced.set(m.id, m.seq);
    });
    c.pending = merged(c.pending, ms, c.base?.lastSeq);
  };

  /** Takes what the store holds; `before`: the drafts known stored when its read started. */
  const adopt = (l: Loaded, before: ReadonlySet<string>) => {
    c.device = l.device;
    // The stored base may be older than the one a tab message brought (the leader persists
    // its snapshot after posting it): the older one would keep acknowledged entries pending.
    if (!behind(c, l.base)) c.base = l.base;
    c.pending = [];
    l.drafts.forEach((d) => c.saved.add(d.id));
    // What the store lacks: this tab's drafts not stored when the read started (still being
    // written, or stored after the read of the drafts: the read of the outbox may wait behind a
    // `sequence`), and other tabs' that may still need rescuing. A draft of this tab stored
    // before the read and found nowhere was sequenced and acknowledged already, and so was any
    // draft at or below its tab's mark (a page back from the back/forward cache holds the
    // drafts it knew when it left, some sent meanwhile). One made before a reset this tab did
    // not hear of (forget() while it was away, the marks gone with it) was the old profile's.
    const gone = reset !== null && l.reset !== reset ? (l.reset ?? 0) : 0;
    reset = l.reset;
    const sent = (d: Draft) => (!!l.marks && marked(l.marks, d)) || d.at < gone;
    c.drafts = [
      ...l.drafts,
      ...without(c.drafts, [...l.outbox, ...l.drafts]).filter(
        (d) => !sent(d) && (tabOf(d) === c.tabId ? !before.has(d.id) : !c.settled.has(tabOf(d))),
      ),
    ];
    c.addPending(l.outbox);
    c.recompute();
    c.drafts.forEach((d) => c.watchTab(tabOf(d)));
  };

  /**
   * Reads the store and hands what it holds to `use` (adopts it), unless the tab moved to
   * another store meanwhile: a read of a store that went away (a database deleted while open)
   * must not replace what memory holds now. Resolves whether it was used.
   */
  c.reload = async (use = adopt) => {
    const s = c.store;
    const before = new Set(c.saved);
    const l = await s.load(true);
    if (c.store !== s) return false;
    use(l, before);
    return true;
  };

  /** Moves to memory after a storage failure, keeping everything; says so once. */
  c.fallback = (cause, deleted) => {
    const old = c.store;
    // After close() the store is closed on purpose: nothing to report.
    if (old.kind === 'memory' || c.closing.aborted) return;
    const seq = Math.max(c.base?.lastSeq ?? 0, ...c.pending.map((m) => m.seq));
    // Other tabs' drafts are theirs to send. This tab keeps its own not stored yet, and when
    // the database was deleted those stored but not yet in the outbox, gone with it; a store
    // that is still there keeps them for the tab that reads it next (twice sent otherwise).
    c.drafts = c.drafts.filter((d) => tabOf(d) === c.tabId && (deleted || c.unsaved.has(d.id)));
    const mine = c.drafts.filter((d) => !c.local.includes(d));
    c.store = memoryStore({ seq, device: c.device, base: c.base, outbox: c.pending, drafts: mine });
    mine.forEach((d) => (c.unsaved.delete(d.id), c.saved.add(d.id)));
    opened = true;
    try {
      old.close();
    } catch {
      // Already gone.
    }
    // Its drafts are no longer the other tabs' to store when it goes.
    c.post({ type: 'alone', tab: c.tabId, deleted });
    c.leave(!deleted);
    if (deleted) {
      // Gone for every tab: those open now share the device and counter, in memory, so they
      // form a group in which one leader sequences every tab's changes (see tab-sync.ts).
      c.mem = ':mem';
      c.settled.clear();
      c.join();
    } else {
      c.leader = true;
      c.borrowed = !!c.device;
    }
    report(cause);
    void c.settle();
    c.kick();
  };

  const report = (cause: unknown) => {
    const error = storageError(cause);
    if (!reported) c.warn('storage failed, using memory:', error.message);
    reported = true;
    c.setStatus({ storage: 'memory', error });
  };

  /**
   * Writes the drafts made so far, starting the transaction now, in the caller's task (a page
   * that closes right after still gets it committed), and announces them to the other tabs, so
   * one of them can store them should this tab die before its write commits. Resolves once
   * they are stored.
   */
  c.flushLocal = () => {
    // Without consent the drafts stay in memory until grant() persists them.
    if (c.consent !== 'granted' || !c.local.length) return Promise.resolve();
    // Written once the store opens (persist()); their callers wait until then.
    if (!opened) return (early ??= new Promise((r) => (release = r)));
    const batch = c.local.splice(0);
    const waiting = release;
    early = undefined;
    const failed = c.store;
    let saving: Promise<void>;
    try {
      saving = withTimeout(failed.save(batch), c.storageMs);
    } catch (e) {
      saving = Promise.reject(e);
    }
    // Also before this tab holds its lock (granted, its callback still to run): the others
    // watch it from its hello (see watchNew()), and a tab that dies in that window would
    // otherwise leave a change nobody knows of.
    if (c.held || (c.joined() && navigator.locks)) c.post({ type: 'drafts', drafts: batch });
    const done = saving
      .then(
        () => {
          batch.forEach((d) => (c.unsaved.delete(d.id), c.saved.add(d.id)));
          c.commit();
          void c.settle();
        },
        (e) => {
          // The store failed before this write did: fallback() handed these drafts to memory.
          if (c.store !== failed) return;
          c.local.unshift(...batch);
          c.fallback(e);
          // Closing: the drafts stay in memory rather than retrying a dead store forever.
          if (c.store !== failed) return c.flushLocal();
        },
      )
      .finally(waiting);
    c.stored = Promise.all([c.stored, done]);
    return done;
  };

  /** Gives the stored drafts their seqs (one run at a time) and tells the other tabs. */
  c.settle = () => {
    more = true;
    // A tab alone with the others' device sequences under one of its own, which a sync asks
    // for (sync.ts).
    if (c.borrowed && c.drafts.length) c.kick();
    return (c.sequencing ??= (async () => {
      while (more) {
        more = false;
        // In a memory group only the leader sequences, every tab's drafts, once it pulled (see
        // tab-sync.ts): its counter may be behind the seqs the last leader gave. A tab alone
        // with the others' device does not sequence (above).
        const list =
          c.borrowed || (c.mem && !(c.leader && c.memReady))
            ? []
            : c.drafts.filter((d) => c.saved.has(d.id));
        if (!list.length) continue;
        const s = c.store;
        const added = await withTimeout(s.sequence(list), c.storageMs).catch((e) => {
          // Memory took over (now or meanwhile) with these drafts: sequenced there next round.
          c.fallback(e);
          return null;
        });
        const moved = c.store !== s;
        more ||= moved;
        if (!added) continue;
        // What a store that went away meanwhile committed (a deleted database closes, moving
        // the tab to memory, before its drafts' delete fails) may be on its way to the server
        // already: memory keeps these entries rather than sequencing their drafts again.
        if (moved) c.store.add?.(added);
        else {
          // Those left out were sequenced by another tab, whose message brings them back.
          c.drafts = without(c.drafts, list);
        }
        c.addPending(added);
        if (added.length) c.post({ type: 'entries', entries: added });
        c.recompute();
        c.kick();
      }
    })()
      .catch(c.fallback)
      .finally(() => (c.sequencing = undefined)));
  };

  c.persist = async () => {
    if (persisted) return;
    persisted = true;
    let s: Store = memoryStore();
    if (c.o.storage !== 'memory') {
      try {
        s = await idbStore(c.ns, (gone) => c.fallback(Error('database closed'), gone), c.storageMs);
      } catch (e) {
        report(e);
      }
    }
    c.store = s;
    if (s.kind === 'memory') {
      c.leader = true;
      c.kick();
    } else {
      c.setStatus({ storage: 'indexeddb' });
      try {
        // Unless the store failed meanwhile: then this tab works alone, in memory.
        if (await withTimeout(c.reload(), c.storageMs)) c.join();
      } catch (e) {
        c.fallback(e);
      }
    }
    opened = true;
    await c.flushLocal();
  };
}
