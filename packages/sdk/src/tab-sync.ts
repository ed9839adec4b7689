// Tab sync: the tabs of one browser share one store and one view. Each tab announces what it
// changes (tabs.ts has the messages), watches the others to rescue what they leave behind
// (outbox.ts), and one of them, the leader, talks to the server (sync.ts).
import type { Core } from './core.js';
import { tabOf } from './store.js';
import { broadcastTabs, decode, encode, lead, type TabMessage, type TabTransport } from './tabs.js';

/** Fills in the tabs part of `c`. */
export function tabSync(c: Core): void {
  let tabs: TabTransport | null = null;

  c.post = (m) => tabs?.post(encode(m));
  c.joined = () => !!tabs;

  function onTab(raw: unknown) {
    const msg = decode(raw) as TabMessage;
    switch (msg.type) {
      case 'drafts': {
        // Unless sequenced (or rescued) here already, or known (a tab announces what it made
        // before it held its lock again once it does).
        const known = new Set([...c.pending, ...c.drafts].map((m) => m.id));
        c.drafts.push(...msg.drafts.filter((d) => !known.has(d.id) && !c.settled.has(tabOf(d))));
        return c.recompute();
      }
      case 'tab':
        return c.watchTab(msg.tab);
      case 'alone':
        c.settled.add(msg.tab);
        c.drafts = c.drafts.filter((d) => tabOf(d) !== msg.tab);
        return c.recompute();
      case 'entries':
        c.addPending(msg.entries);
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
        return;
      case 'device':
        return void c
          .reload(({ device }) => {
            c.device = device;
            c.commit();
          })
          .catch(c.fallback);
      case 'reset':
        // Another tab started over (forget, heal): adopt the new store.
        c.drop(msg.keep);
        return void c.reload().catch(c.fallback);
    }
  }

  c.join = () => {
    const role = (c.session = new AbortController());
    tabs = (c.o.tabs ?? broadcastTabs)(c.ns);
    tabs.listen(onTab);
    const locks = navigator.locks;
    // Held for the tab's life: its release tells the other tabs this one is gone. Requested
    // before this tab says hello, so the others can wait for the request (see watchNew()).
    if (locks) {
      lead(`${c.ns}:tab:${c.tabId}`, role.signal, () => {
        c.held = true;
        c.post({ type: 'tab', tab: c.tabId });
        // What it made before it held the lock was not announced: it is now.
        const mine = c.drafts.filter((d) => tabOf(d) === c.tabId);
        if (mine.length) c.post({ type: 'drafts', drafts: mine });
      });
    }
    c.post({ type: 'hello', tab: locks ? c.tabId : undefined });
    c.unwatch();
    c.drafts.forEach((d) => c.watchTab(tabOf(d)));
    lead(`${c.ns}:leader`, role.signal, () => {
      if (role.signal.aborted) return;
      // A store that failed meanwhile made this tab lead itself already.
      c.reload().then((ok) => {
        if (!ok) return;
        c.leader = true;
        c.needPull = true;
        c.kick();
      }, c.fallback);
    });
  };

  c.leave = () => {
    c.held = false;
    c.session?.abort();
    tabs?.close();
    tabs = null;
    c.leader = false;
    c.stopStream();
  };
}
