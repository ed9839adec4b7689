// Tab sync: the tabs of one browser share one store and one view. Each tab announces what it
// changes (tabs.ts has the messages), watches the others to rescue what they leave behind
// (rescue.ts), and one of them, the leader, talks to the server (sync.ts).
//
// When the database is deleted while open (site data cleared), the tabs open then still share
// one device and one seq counter, in memory: they form a memory group (`c.mem`, its own
// channel and locks; tabs opened later make a new database, and a new device). Nothing is
// written back to disk, as whoever cleared it meant. Each tab of the group keeps a copy of
// the group's outbox and drafts in its memory store (every tab's drafts and entries are
// announced), only the leader sequences them, and it pulls before it first does, so its
// counter starts past whatever the server took. A follower's change stays pending there until
// a snapshot acknowledges it, so a leader that goes leaves it to the next.
import { without, type Core } from './core.js';
import { tabOf, type Draft, type Entry } from './store.js';
import { broadcastTabs, decode, encode, lead, type TabMessage, type TabTransport } from './tabs.js';

/** Fills in the tabs part of `c`. */
export function tabSync(c: Core): void {
  let tabs: TabTransport | null = null;
  /** A transport on this tab's channel (its memory group's, if in one). */
  const channel = () => (c.o.tabs ?? broadcastTabs)(c.ns + c.mem);

  c.post = (m) => {
    if (tabs) return tabs.post(encode(m));
    // Not joined (its read on pageshow failed): going alone is still said, once, or what it
    // stored and leaves to the store would wait for some tab to read it.
    if (m.type !== 'alone') return;
    const once = channel();
    once.post(encode(m));
    once.close();
  };
  c.joined = () => !!tabs;

  function onTab(raw: unknown) {
    const msg = decode(raw) as TabMessage;
    const mem = c.mem;
    switch (msg.type) {
      case 'drafts': {
        // Unless known, or sequenced already (a tab announces what it made before it held its
        // lock again once it does, and a tab back from the back/forward cache what it had then).
        // From a tab rescued already: heard late, it is rescued again with these (rescue.ts).
        // (Every outbox entry's id is in `sequenced`.)
        const fresh = without(msg.drafts, c.drafts).filter((d) => !c.sequenced.has(d.id));
        c.drafts.push(...fresh);
        fresh.forEach((d) => c.settled.has(tabOf(d)) && c.revive(tabOf(d)));
        if (mem) {
          // Kept here too, for the leader to sequence (this tab, should it take over).
          void c.store.save(fresh);
          fresh.forEach((d) => c.saved.add(d.id));
          void c.settle();
          // A follower back from the back/forward cache announces what it had: those sequenced
          // meanwhile go back to it as the entries they became (no store tells it), or it would
          // show them twice, and send them again should it lead; those of a profile forgotten
          // meanwhile with seq 0, which drops them (below any floor).
          const sent = msg.drafts
            .filter((d) => c.sequenced.has(d.id))
            .map((d) => ({ ...d, seq: c.sequenced.get(d.id)! }) as Entry);
          if (sent.length) c.post({ type: 'entries', entries: sent });
        }
        return c.recompute();
      }
      case 'tab':
        return c.revive(msg.tab);
      case 'alone':
        c.settled.add(msg.tab);
        c.drafts = c.drafts.filter((d) => tabOf(d) !== msg.tab);
        c.recompute();
        // What it stored it left to the store: sequenced here, as its rescue would (it keeps
        // its lock, rescue.ts), and sent, with what its late writes sequenced. A database
        // deleted is gone for this tab too (fallback() here).
        if (!msg.deleted) c.reload().then((ok) => void (ok && (c.kick(), c.settle())), c.fallback);
        return;
      case 'entries':
        c.addPending(msg.entries);
        c.store.add?.(msg.entries);
        c.recompute();
        return c.kick();
      case 'base':
        return c.setBase(msg.snapshot, msg.identity, true);
      case 'error':
        return c.syncError(msg.error, msg.mutation, false);
      case 'status':
        if (!c.leader) c.setStatus({ state: msg.state, lastSyncedAt: msg.at });
        return;
      case 'hello':
        // A new tab: it must know this one to store what this one leaves behind.
        if (c.held) c.post({ type: 'tab', tab: c.tabId });
        if (msg.tab) c.watchNew(msg.tab);
        // And the snapshot this one has: the new tab read the store before it listened, so it
        // missed the snapshots posted meanwhile, and the store may lack the latest (setBase
        // persists after posting; a leader that closed may never have). Without it the entries
        // acknowledged meanwhile stay pending there until a newer snapshot, and its sync()
        // waits. Every tab answers: a leader still taking over (or none) would not, and the
        // new tab keeps only the newest.
        if (c.base) c.post({ type: 'base', snapshot: c.base });
        if (c.leader) c.post({ type: 'status', state: c.status.state, at: c.status.lastSyncedAt });
        // In a memory group no store holds the rest: the new tab gets this tab's copy.
        if (mem) share(c.drafts);
        return;
      case 'device':
        if (msg.device) {
          c.device = msg.device;
          void c.store.setDevice(msg.device);
          c.nudge();
          return c.commit();
        }
        // In a memory group: a follower asks the leader to register.
        if (mem) return void (c.leader && c.token().catch(() => {}));
        return void c
          .reload((l) => {
            c.device = l.device;
            c.commit();
          })
          .catch(c.fallback);
      case 'reset':
        // Another tab started over (forget, heal): adopt the new store.
        c.drop(msg.keep);
        // A memory group's copies are emptied each by its own tab.
        return void (mem ? c.store.reset(msg.keep) : Promise.resolve())
          .then(() => c.reload())
          .catch(c.fallback);
    }
  }

  /** Announces `drafts` and, in a memory group, the outbox entries this tab knows. */
  function share(drafts: Draft[]) {
    if (drafts.length) c.post({ type: 'drafts', drafts });
    if (c.mem && c.pending.length) c.post({ type: 'entries', entries: c.pending });
  }

  /** Aborted when this tab lets its lock go: on leave(), unless it goes on alone. */
  let life: AbortController | undefined;

  c.join = () => {
    // Once (two reads on pageshow may end in a join each), and never after close().
    if (tabs || c.closing.aborted) return;
    const role = (c.session = new AbortController());
    const g = c.ns + c.mem;
    tabs = channel();
    tabs.listen(onTab);
    const locks = navigator.locks;
    // Held for the tab's life: its release tells the other tabs this one is gone. Requested
    // before this tab says hello, so the others can wait for the request (see watchNew()).
    if (locks) {
      lead(`${g}:tab:${c.tabId}`, (life = new AbortController()).signal, () => {
        c.held = true;
        c.post({ type: 'tab', tab: c.tabId });
        // What it made before it held the lock was not announced: it is now.
        share(c.drafts.filter((d) => tabOf(d) === c.tabId));
      });
    }
    c.post({ type: 'hello', tab: locks ? c.tabId : undefined });
    c.unwatch();
    c.drafts.forEach((d) => c.watchTab(tabOf(d)));
    lead(`${g}:leader`, role.signal, () => {
      // A store that failed meanwhile made this tab lead itself already.
      c.reload().then((ok) => {
        if (!ok) return;
        c.leader = true;
        c.memReady = !c.device;
        c.needPull = true;
        c.nudge();
        c.kick();
      }, c.fallback);
    });
  };

  c.letGo = () => life?.abort();

  c.leave = (alone) => {
    c.held = false;
    // Alone, it keeps its lock while it is shown: the others must not store what it keeps.
    if (!alone) c.letGo();
    c.session?.abort();
    tabs?.close();
    tabs = null;
    c.leader = false;
    c.stopStream();
  };
}
