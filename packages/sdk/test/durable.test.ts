// A change must be stored before the page can lose it: the write starts in the call's own task,
// the call returns a promise for it, another tab stores what a dying tab announced, and the
// status and sync() say honestly where changes are. Real IndexedDB, real pages (iframes of the
// test origin), the real server of the runner.
import { expect } from '@open-wc/testing';
import { deleteDB, openDB } from 'idb';
import {
  browserNetwork,
  createClient,
  OmniError,
  type ClientOptions,
  type ClientState,
  type Network,
  type OmniClient,
  type SyncState,
  type TabMessage,
  type TabTransportFactory,
} from '@omnikit/sdk';
import {
  cartOf,
  customerToken,
  serverSnapshot,
  storedDevice,
  testConfig,
  testNetwork,
  uniqueCustomer,
  uniqueNs,
  until,
} from './helpers.js';
import {
  holdStore,
  neverCommits,
  openTab as page,
  serverCart,
  tabSuite,
  tabsHolding,
  type TabWindow,
} from './tabs.js';

const device = tabSuite('durable');

/** Every change stored under `ns`, as drafts (no seq yet) or outbox entries, by sku. */
async function storedChanges(ns: string): Promise<string[]> {
  type Stored = { name: string; at: number; args: { sku?: string } };
  // Drafts first, then the outbox: the SDK writes a change's outbox entry before it deletes its
  // draft (two databases), so a change moved meanwhile is read in both, never in neither (read
  // the other way round, Firefox once saw a change in neither); it counts once.
  const dr = await openDB(`${ns}:drafts`);
  const drafts = (await dr.getAll('drafts')) as Stored[];
  dr.close();
  const db = await openDB(ns);
  const outbox = (await db.getAll('outbox')) as Stored[];
  db.close();
  const once = new Map<string, Stored>();
  for (const m of [...drafts, ...outbox]) once.set(JSON.stringify([m.name, m.args, m.at]), m);
  return [...once.values()].map((m) => m.args.sku ?? '').sort();
}

describe('durable changes: the write starts in the call', () => {
  it('a change is in a committing IndexedDB transaction before the call returns', async () => {
    const c = device();
    await c.start();
    const transaction = IDBDatabase.prototype.transaction;
    const commit = IDBTransaction.prototype.commit;
    const log: string[] = [];
    IDBDatabase.prototype.transaction = function (this: IDBDatabase, ...args) {
      if (args[1] === 'readwrite') log.push('transaction');
      return transaction.apply(this, args);
    } as typeof transaction;
    IDBTransaction.prototype.commit = function (this: IDBTransaction) {
      log.push('commit');
      return commit.call(this);
    };
    let done: Promise<void>;
    try {
      done = c.cart.add('NOW', 1);
      // Before anything else runs: the transaction exists and has been asked to commit.
      expect(log).to.deep.equal(['transaction', 'commit']);
      expect(c.status.unsaved).to.equal(1);
    } finally {
      IDBDatabase.prototype.transaction = transaction;
      IDBTransaction.prototype.commit = commit;
    }
    await done;
    expect(c.status.unsaved).to.equal(0);
    expect(c.status.pending).to.equal(1);
  });

  it('the promise resolves once the change is stored, even one made before storage opened', async () => {
    const ns = uniqueNs('early');
    const c = device({ namespace: ns });
    // The very first use: the store is not open yet.
    const first = c.cart.add('EARLY', 2);
    expect(c.status.unsaved).to.equal(1);
    expect(c.cart.line('EARLY')?.qty).to.equal(2);
    await first;
    expect(c.status.unsaved).to.equal(0);
    expect(await storedChanges(ns)).to.deep.equal(['EARLY']);
    await c.recentlyViewed.track('SEEN');
    await c.cart.setPickupStore('store-1');
    await c.cart.remove('EARLY');
    // The remove names its sku too; the pickup store none.
    expect(await storedChanges(ns)).to.deep.equal(['', 'EARLY', 'EARLY', 'SEEN']);
  });

  it('a page removed in the same task as its change: the change is stored (20 trials, measured per engine)', async function () {
    this.timeout(60_000);
    const ns = uniqueNs('unload');
    const made: string[] = [];
    for (let i = 0; i < 20; i++) {
      const { frame, win } = await page(ns);
      const sku = `GONE-${i}`;
      // The shopper clicks "buy now": the change, then the page goes, in one task.
      void (await win.omniReady).cart.add(sku, 1);
      frame.remove();
      made.push(sku);
    }
    // What reached storage (a read after the pages' writes waits for them to commit).
    const kept = [...new Set(await storedChanges(ns))].sort();
    // eslint-disable-next-line no-console -- the figure this test measures, per engine
    console.log(
      `durable-unload: engine=${(await testConfig()).engine} trials=20 kept=${kept.length}`,
    );
    // WebKit loses the IndexedDB write of a frame removed in the task that started it, even
    // one asked to commit (0 of 20 kept here): measured there, asserted in the other engines.
    if ((await testConfig()).engine !== 'webkit') expect(kept).to.deep.equal(made.sort());
    // Nothing else had this namespace open: a new page finds every stored change, and sends
    // each exactly once.
    const c = device({ namespace: ns });
    await c.start();
    await until(c, (s) => s.cart.count === kept.length, 'every stored change in the view');
    expect(Object.keys(cartOf(c.state)).sort()).to.deep.equal(kept);
    await c.sync();
    // (With nothing kept there is nothing to send, and no device on the server to read.)
    if (kept.length > 0) {
      const server = await serverSnapshot(ns);
      expect(server.state.cart.lines.map((l) => [l.key, l.qty]).sort()).to.deep.equal(
        kept.map((k) => [k, 1]),
      );
    }
  });
});

describe('durable changes: another tab stores what a dying tab announced', () => {
  it('a tab whose write never commits: the other tab stores the change, once', async () => {
    const ns = uniqueNs('rescue');
    const { here, frame, win, other } = await twoTabs(ns);
    neverCommits(win);
    await addsAndGoes(ns, here, other, frame, 'RESCUED', 3);
  });

  it("a dying tab's drafts heard only after its lock is free: the other tab still stores them, once", async () => {
    const ns = uniqueNs('late');
    // Nothing orders a tab's last message before the release of its lock (CI once lost a change
    // this way, in Chromium). This tab hears the other's drafts only once it has begun to rescue
    // that tab: the rescue's lock callbacks are seen through navigator.locks.request.
    let armed = false;
    let begun!: () => void;
    const rescuing = new Promise<void>((r) => (begun = r));
    const locks = navigator.locks;
    const request = locks.request;
    type Callback = (lock: Lock | null) => unknown;
    locks.request = function (this: LockManager, name: string, ...rest: unknown[]) {
      const cb = rest.pop() as Callback;
      const seen: Callback = (lock) => {
        if (armed && lock && name.startsWith(`${ns}:tab:`)) begun();
        return cb(lock);
      };
      return (request as (...a: unknown[]) => Promise<unknown>).call(this, name, ...rest, seen);
    } as LockManager['request'];
    const tabs: TabTransportFactory = (name) => {
      const ch = new BroadcastChannel(name);
      return {
        post: (m) => ch.postMessage(m),
        listen(cb) {
          const h = ({ data }: MessageEvent) =>
            armed && (data as TabMessage).type === 'drafts'
              ? void rescuing.then(() => cb(data))
              : cb(data);
          ch.addEventListener('message', h);
          return () => ch.removeEventListener('message', h);
        },
        close: () => ch.close(),
      };
    };
    try {
      const { here, frame, win, other } = await twoTabs(ns, { tabs });
      neverCommits(win);
      armed = true;
      await addsAndGoes(ns, here, other, frame, 'LATE', 2);
    } finally {
      locks.request = request;
    }
  });

  it('a tab back from the back/forward cache is watched again: what it leaves is stored', async () => {
    const ns = uniqueNs('back');
    const { here, frame, win, other } = await twoTabs(ns);
    const me = await clientId(ns);
    const tabLocks = async () => {
      const { held = [], pending = [] } = await navigator.locks.query();
      const tab = (l: LockInfo) => !!l.name?.startsWith(`${ns}:tab:`);
      return { held: held.filter(tab), pending: pending.filter(tab) };
    };
    // It goes into the back/forward cache: it leaves the tabs, and this tab rescues it (nothing
    // to store) and lets its lock go again: only this tab's own lock is held.
    const w = win as unknown as typeof globalThis;
    w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
    while ((await tabLocks()).held.length !== 1) await new Promise(requestAnimationFrame);
    // Back: it holds its lock again, and this tab waits for that lock again.
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    const watched = async () => {
      const { held, pending } = await tabLocks();
      const theirs = held.find((l) => l.clientId !== me)?.name;
      return pending.some((l) => l.name === theirs && l.clientId === me);
    };
    while (!(await watched())) await new Promise(requestAnimationFrame);
    neverCommits(win);
    await addsAndGoes(ns, here, other, frame, 'BACK', 1);
  });

  it('a tab back from the back/forward cache reads the store first: a change sent meanwhile is shown once everywhere', async () => {
    const ns = uniqueNs('stale');
    const { here, other, w } = await twoTabs(ns);
    // Its change, and into the back/forward cache: this tab rescues and sends it, and the store
    // forgets it once the server has it.
    await addsAndHides(here, other, w, 'X');
    while ((await storedChanges(ns)).length) await new Promise(requestAnimationFrame);
    // A tab opened meanwhile never heard of X as a change: only as the server's.
    const late = device({ namespace: ns });
    await late.start();
    await tabsHolding(ns, 2);
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    await tabsHolding(ns, 3);
    // Its next change comes after whatever it announced on its return.
    await other.cart.add('Z', 1);
    await until(late, (s) => cartOf(s)['Z'] === 1, 'the late tab hears Z');
    expect(cartOf(late.state)).to.deep.equal({ X: 1, Z: 1 });
    await until(other, (s) => s.status.pending === 0, 'the returning tab sent Z');
    expect(cartOf(other.state)).to.deep.equal({ X: 1, Z: 1 });
  });

  it("a tab back from the back/forward cache drops another tab's change it knew, sent meanwhile", async () => {
    const ns = uniqueNs('stale-other');
    const { other, w } = await heardOfYAndAway(ns);
    while ((await storedChanges(ns)).length) await new Promise(requestAnimationFrame);
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    await tabsHolding(ns, 2);
    // A follower's sync() waits for the leader: a change it still holds would keep it waiting.
    await other.sync({ timeoutMs: 5000 });
    expect({ cart: cartOf(other.state), pending: other.status.pending }).to.deep.equal({
      cart: { Y: 1 },
      pending: 0,
    });
  });

  it('a tab back from the back/forward cache after forget() drops the changes it knew from before', async () => {
    const ns = uniqueNs('forgot-away');
    const { here, other, w } = await heardOfYAndAway(ns);
    // The shopper is forgotten meanwhile: the store is emptied, the marks that say Y was sent
    // with it.
    await here.identity.forget();
    expect(await storedChanges(ns)).to.deep.equal([]);
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    // Joined again, so its read of the store is done: Y is the forgotten profile's, not a
    // change of the new one to show or to rescue should this tab go.
    await tabsHolding(ns, 2);
    expect(cartOf(other.state)).to.deep.equal({});
    await other.sync({ timeoutMs: 5000 });
    expect({ cart: cartOf(other.state), pending: other.status.pending }).to.deep.equal({
      cart: {},
      pending: 0,
    });
  });

  it('a tab that died while this one was in the back/forward cache is rescued on its return', async () => {
    const ns = uniqueNs('died-away');
    // Two pages and no client here: the one that comes back is the only one to know the change.
    const a = await page(ns);
    const b = await page(ns);
    const back = await a.win.omniReady;
    const dying = await b.win.omniReady;
    await tabsHolding(ns, 2);
    // B's write waits (the drafts database is held) while A hears of its change.
    const release = await holdStore(ns, true);
    void dying.cart.add('ORPHAN', 1);
    await until(back, (s) => cartOf(s)['ORPHAN'] === 1, 'A hears of it');
    // A goes into the back/forward cache; B's page goes, its write never done.
    const w = a.win as unknown as typeof globalThis;
    w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
    b.frame.remove();
    release();
    // Both locks are free (A left the tabs, B is gone).
    const held = async () =>
      ((await navigator.locks.query()).held ?? []).filter((l) => l.name?.startsWith(ns)).length;
    while (await held()) await new Promise(requestAnimationFrame);
    // Chromium aborts a removed page's write; Firefox lets it finish. A crashed page's never
    // does: as there, nothing of B's is stored (this clear runs after B's write ends).
    const dr = await openDB(`${ns}:drafts`);
    await dr.clear('drafts');
    dr.close();
    expect(await storedChanges(ns)).to.deep.equal([]);
    // Back: A rescues it.
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    await until(
      back,
      (s) => cartOf(s)['ORPHAN'] === 1 && s.status.pending === 0 && s.status.state === 'online',
      'sent',
    );
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([['ORPHAN', 1]]);
  });

  it('back from the back/forward cache, it joins the tabs once however often it is shown and hidden', async () => {
    const ns = uniqueNs('rejoin');
    const { w } = await twoTabs(ns);
    const me = await clientId(ns);
    /** The locks of `ns` the other page holds and waits for. */
    const theirs = async () => {
      const { held = [], pending = [] } = await navigator.locks.query();
      const of = (ls: LockInfo[]) =>
        ls.filter((l) => l.name?.startsWith(ns) && l.clientId !== me).map((l) => l.name);
      return { held: of(held), pending: of(pending) };
    };
    const show = (type: 'pageshow' | 'pagehide') =>
      w.dispatchEvent(new w.PageTransitionEvent(type, { persisted: true }));
    show('pagehide');
    while ((await theirs()).held.length) await new Promise(requestAnimationFrame);
    // Back, away again before its read of the store ends, and back: two reads end.
    show('pageshow');
    show('pagehide');
    show('pageshow');
    // Once it holds its tab lock again (this tab's rescue may hold that name a moment first).
    const holding = async () => (await theirs()).held.some((n) => n?.includes(':tab:'));
    while (!(await holding())) await new Promise(requestAnimationFrame);
    const joined = await theirs();
    const own = joined.held.find((n) => n?.includes(':tab:'));
    expect([...joined.held, ...joined.pending].filter((n) => n === own)).to.have.length(1);
    // Away again: it lets go of everything (a second join's locks would stay).
    show('pagehide');
    let left = await theirs();
    const deadline = Date.now() + 3000;
    while (left.held.length + left.pending.length && Date.now() < deadline) {
      await new Promise(requestAnimationFrame);
      left = await theirs();
    }
    expect(left).to.deep.equal({ held: [], pending: [] });
  });

  it('its read failing on its return, it still says it goes alone: another tab sends what it stored', async () => {
    const ns = uniqueNs('back-alone');
    const here = device({ namespace: ns });
    await here.start();
    const { win } = await page(ns, '&storageMs=1000');
    const back = await win.omniReady;
    await tabsHolding(ns, 2);
    const me = await clientId(ns);
    const w = win as unknown as typeof globalThis;
    w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
    const theirs = async () =>
      ((await navigator.locks.query()).held ?? []).some(
        (l) => l.name?.startsWith(ns) && l.clientId !== me,
      );
    while (await theirs()) await new Promise(requestAnimationFrame);
    // Back with the store held: its read times out after 1 s. A change it makes meanwhile is
    // stored in the drafts, announced to nobody (it has not joined), and left to the store.
    const release = await holdStore(ns);
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    await back.cart.add('S', 1);
    await until(back, (s) => s.status.storage === 'memory', 'the memory fallback', 5000);
    release();
    await until(here, (s) => cartOf(s)['S'] === 1, 'this tab reads S from the store', 5000);
    await here.sync();
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([['S', 1]]);
  });

  it('a tab that sequenced its change and died before saying so: the leader sends it', async () => {
    const ns = uniqueNs('silent');
    const { here, frame, win, other } = await twoTabs(ns);
    // Its message about the new outbox entry never leaves (the page dies right after the
    // sequencing transaction commits).
    const proto = (win as unknown as typeof globalThis).BroadcastChannel.prototype;
    const postMessage = proto.postMessage;
    proto.postMessage = function (this: BroadcastChannel, m: unknown) {
      if ((m as TabMessage).type !== 'entries') postMessage.call(this, m);
    };
    await other.cart.add('SILENT', 2);
    const db = await openDB(ns);
    while (!(await db.count('outbox'))) await new Promise(requestAnimationFrame);
    db.close();
    frame.remove();
    await until(here, (s) => s.status.pending === 0 && s.status.state === 'online', 'sent');
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([['SILENT', 2]]);
  });

  it('a tab that stored its change and closed: the other tab does not store it again', async () => {
    const ns = uniqueNs('no-double');
    const here = device({ namespace: ns });
    await here.start();
    for (let i = 0; i < 5; i++) {
      const { frame, win } = await page(ns);
      await tabsHolding(ns, 2);
      void (await win.omniReady).cart.add('ONCE', 1);
      frame.remove();
    }
    // Five in the view can include a change a closed tab announced that this tab is still
    // storing (a draft of another tab): this leader's sync() pushes its outbox, which that
    // draft joins only once stored, so wait until nothing is pending here either.
    await until(
      here,
      (s) => cartOf(s)['ONCE'] === 5 && s.status.pending === 0 && s.status.state === 'online',
      'five changes, sent',
    );
    await here.sync();
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([['ONCE', 5]]);
    expect(cartOf(here.state)).to.deep.equal({ ONCE: 5 });
  });
});

/**
 * `other` adds `sku` and its page goes into the back/forward cache in the same task (its move
 * to the outbox waits for pageshow): `here` stores and sends it.
 */
async function addsAndHides(
  here: OmniClient,
  other: OmniClient,
  w: typeof globalThis,
  sku: string,
) {
  void other.cart.add(sku, 1);
  w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
  await until(
    here,
    (s) => cartOf(s)[sku] === 1 && s.status.pending === 0 && s.status.state === 'online',
    'stored and sent by this tab',
  );
}

/**
 * Two tabs; this one adds Y, which the other hears of while Y is still a draft (its move to the
 * outbox waits) and goes into the back/forward cache; then this tab sends Y.
 */
async function heardOfYAndAway(ns: string) {
  const tabs = await twoTabs(ns);
  const { here, other, w } = tabs;
  const release = await holdStore(ns);
  void here.cart.add('Y', 1);
  await until(other, (s) => cartOf(s)['Y'] === 1, 'the other tab hears of Y');
  w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
  release();
  await until(here, (s) => s.status.pending === 0 && s.status.state === 'online', 'Y sent');
  return tabs;
}

/**
 * This tab (started) and a second page on `ns`, both holding their tab locks and each waiting
 * for the other's: a tab that went before the other watched it would be found by its store
 * only (a test that holds back its messages would wait for a rescue that never starts).
 */
async function twoTabs(ns: string, options: Partial<ClientOptions> = {}) {
  const here = device({ namespace: ns, ...options });
  await here.start();
  const { frame, win } = await page(ns);
  const other = await win.omniReady;
  await tabsHolding(ns, 2);
  const watching = async () =>
    ((await navigator.locks.query()).pending ?? []).filter((l) => l.name?.startsWith(`${ns}:tab:`))
      .length;
  while ((await watching()) < 2) await new Promise(requestAnimationFrame);
  return { here, frame, win, other, w: win as unknown as typeof globalThis };
}

/** This tab, with a device registered (FIRST sent), and a second page that shares it. */
async function sharedDevice(ns: string, options: Partial<ClientOptions> = {}) {
  const here = device({ namespace: ns, ...options });
  await here.cart.add('FIRST', 1);
  await here.sync();
  const { frame, win } = await page(ns);
  const other = await win.omniReady;
  await tabsHolding(ns, 2);
  return { here, frame, win, other };
}

/** `other` adds a line and its page goes in the same task: `here` shows it and sends it, once. */
async function addsAndGoes(
  ns: string,
  here: OmniClient,
  other: OmniClient,
  frame: HTMLIFrameElement,
  sku: string,
  qty: number,
) {
  void other.cart.add(sku, qty);
  frame.remove();
  await until(here, (s) => cartOf(s)[sku] === qty, 'this tab shows it');
  // Stored, sequenced and sent by this tab.
  await until(here, (s) => s.status.pending === 0 && s.status.state === 'online', 'sent');
  const server = await serverSnapshot(ns);
  expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([[sku, qty]]);
}

/** This page's id in the Web Locks API (`LockInfo.clientId`). */
async function clientId(ns: string): Promise<string> {
  const name = `${ns}:probe`;
  return navigator.locks.request(name, async () => {
    const { held = [] } = await navigator.locks.query();
    return held.find((l) => l.name === name)!.clientId!;
  });
}

/** A BroadcastChannel transport that calls `heard` after each message it delivers. */
const spying =
  (heard: (m: TabMessage) => void): TabTransportFactory =>
  (name) => {
    const ch = new BroadcastChannel(name);
    return {
      post: (m) => ch.postMessage(m),
      listen(cb) {
        const h = ({ data }: MessageEvent) => (cb(data), heard(data as TabMessage));
        ch.addEventListener('message', h);
        return () => ch.removeEventListener('message', h);
      },
      close: () => ch.close(),
    };
  };

/** A tab transport whose `arm()` resolves on the next `type` message heard after it. */
function nextHeard(type: TabMessage['type']) {
  let next: (() => void) | undefined;
  return {
    tabs: spying((m) => m.type === type && next?.()),
    arm: () => new Promise<void>((r) => (next = r)),
  };
}

describe('durable changes: the database deleted while open (issue 16)', () => {
  it('a change stored but not yet in the outbox when the database goes is kept and sent', async () => {
    const network = testNetwork(false);
    const ns = uniqueNs('deleted');
    const c = device({ namespace: ns, network });
    await c.start();
    // The change's write (to the drafts) commits; its move to the outbox waits behind this.
    const release = await holdStore(ns);
    await c.cart.add('A', 1);
    const deleting = deleteDB(ns);
    await until(c, (s) => s.status.storage === 'memory', 'the memory fallback');
    // The outbox transaction now runs on a connection that is closing; the drafts' is refused.
    release();
    await deleting;
    await c.cart.add('B', 2);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
    expect(c.status.pending).to.equal(2);
    network.setOnline(true);
    await c.sync();
    // Sent, each once: with nothing pending, the view is the server's snapshot.
    expect(c.status.pending).to.equal(0);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
  });

  it('a read of the database that ends after it went does not replace what memory holds', async () => {
    const network = testNetwork(false);
    const ns = uniqueNs('deleted');
    // The store exists and is busy: the client's first read of it waits behind this.
    const release = await holdStore(ns);
    const c = device({ namespace: ns, network });
    const first = c.cart.add('A', 1);
    await until(c, (s) => s.status.storage === 'indexeddb', 'the store open');
    const deleting = deleteDB(ns);
    await until(c, (s) => s.status.storage === 'memory', 'the memory fallback');
    await c.cart.add('B', 2);
    await first;
    const seen: string[] = [];
    c.on('cart-change', ({ cart }) => seen.push(cart.lines.map((l) => l.key).join()));
    // The read, started before the database went, now ends with what it held then: nothing.
    release();
    await deleting;
    await c.start();
    expect(seen, 'the view never drops them').to.deep.equal([]);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
    expect(c.status.pending).to.equal(2);
    // It does not join the tabs of the origin again (those opened later make a new database),
    // only the memory group of the tabs open when it went, which it leads alone.
    const { held = [], pending = [] } = await navigator.locks.query();
    const names = [...held, ...pending].map((l) => l.name ?? '').filter((n) => n.startsWith(ns));
    expect(names.filter((n) => !n.startsWith(`${ns}:mem:`))).to.deep.equal([]);
    expect(names).to.include(`${ns}:mem:leader`);
    network.setOnline(true);
    await c.sync();
    expect(c.status.pending).to.equal(0);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
  });
  it('two tabs open when it goes: a different change in each reaches the server, each once', async () => {
    const ns = uniqueNs('deleted-tabs');
    const a = device({ namespace: ns });
    await a.cart.add('FIRST', 1);
    await a.sync();
    const b = device({ namespace: ns });
    await b.start();
    await tabsHolding(ns, 2);
    // Read before it goes: the server is asked with this device's token afterwards.
    const { token } = await storedDevice(ns);
    await deleteDB(ns);
    await until(a, (s) => s.status.storage === 'memory', 'A in memory');
    await until(b, (s) => s.status.storage === 'memory', 'B in memory');
    // Both tabs still hold the device and the counter they shared: a change in each must get
    // a seq of its own, or the server takes the first and skips the other as a retry.
    await Promise.all([a.cart.add('IN-A', 1), b.cart.add('IN-B', 2)]);
    await a.sync();
    await b.sync();
    await a.sync();
    const want = { FIRST: 1, 'IN-A': 1, 'IN-B': 2 };
    expect(await serverCart(token)).to.deep.equal(want);
    expect(cartOf(a.state), 'tab A').to.deep.equal(want);
    expect(cartOf(b.state), 'tab B').to.deep.equal(want);
    expect(a.status.pending + b.status.pending).to.equal(0);
  });
  it('the tab that goes first leaves nothing behind: the other sends both changes, each once', async () => {
    const ns = uniqueNs('deleted-go');
    const [na, nb] = [testNetwork(), testNetwork()];
    const a = device({ namespace: ns, network: na });
    await a.cart.add('FIRST', 1);
    await a.sync();
    const b = device({ namespace: ns, network: nb });
    await b.start();
    await tabsHolding(ns, 2);
    const { token } = await storedDevice(ns);
    na.setOnline(false);
    nb.setOnline(false);
    await deleteDB(ns);
    await until(a, (s) => s.status.storage === 'memory', 'A in memory');
    await until(b, (s) => s.status.storage === 'memory', 'B in memory');
    await Promise.all([a.cart.add('IN-A', 1), b.cart.add('IN-B', 2)]);
    // Each tab has heard of the other's change (whichever of them leads the memory group).
    const both = (s: ClientState) => cartOf(s)['IN-A'] === 1 && cartOf(s)['IN-B'] === 2;
    await until(a, both, 'A knows both');
    await until(b, both, 'B knows both');
    // A goes while nothing has reached the server: B takes over and sends both.
    await a.close();
    nb.setOnline(true);
    await b.sync();
    const want = { FIRST: 1, 'IN-A': 1, 'IN-B': 2 };
    expect(await serverCart(token)).to.deep.equal(want);
    expect(cartOf(b.state)).to.deep.equal(want);
    expect(b.status.pending).to.equal(0);
  });
  it("after forget() in a memory group, a follower's change survives its taking over", async () => {
    const ns = uniqueNs('deleted-forget');
    const { here, frame, other } = await sharedDevice(ns);
    await deleteDB(ns);
    await until(here, (s) => s.status.storage === 'memory', 'this tab in memory');
    await until(other, (s) => s.status.storage === 'memory', 'the other tab in memory');
    // forget() empties every tab's copy (each its own memory store).
    await here.identity.forget();
    await until(other, (s) => !cartOf(s)['FIRST'], 'the other tab reset');
    let mine = '';
    await navigator.locks.request(`${ns}:probe`, async () => {
      const { held = [] } = await navigator.locks.query();
      mine = held.find((l) => l.name === `${ns}:probe`)?.clientId ?? '';
    });
    const { held = [] } = await navigator.locks.query();
    const leaderHere = held.find((l) => l.name === `${ns}:mem:leader`)?.clientId === mine;
    // The follower's change, then its leader goes before sequencing it: the follower takes
    // over, reads its copy, and must still hold the change as a draft (its store once kept it
    // in the outbox too, without a seq, and the read dropped it).
    const [follower, leave] = leaderHere
      ? [other, () => void here.close()]
      : [here, () => frame.remove()];
    await follower.cart.add('AFTER', 3);
    leave();
    await follower.sync();
    expect(cartOf(follower.state)).to.deep.equal({ AFTER: 3 });
    expect(follower.status.pending).to.equal(0);
  });
  it('a new memory leader gives no seq before its first pull, even to a change made meanwhile', async () => {
    const ns = uniqueNs('deleted-ready');
    // Tabs whose messages can be dropped (a leader that dies before they go out), and networks
    // whose pulls can be held (the new leader's first pull, still on its way).
    const muted = new Set<string>();
    const tabs = (who: string) => (name: string) => {
      const ch = new BroadcastChannel(name);
      return {
        post: (m: unknown) => void (muted.has(who) || ch.postMessage(m)),
        listen(cb: (m: unknown) => void) {
          const h = (e: MessageEvent) => cb(e.data);
          ch.addEventListener('message', h);
          return () => ch.removeEventListener('message', h);
        },
        close: () => ch.close(),
      };
    };
    let hold: Promise<void> | null = null;
    let held!: () => void;
    const pullHeld = new Promise<void>((r) => (held = r));
    const networks = [testNetwork(), testNetwork()].map((n) => ({
      ...n,
      async fetch(input: string, init: RequestInit) {
        if (hold && new URL(input).pathname === '/v1/sync/pull') {
          held();
          await hold;
        }
        return n.fetch(input, init);
      },
    }));
    const a = device({ namespace: ns, network: networks[0], tabs: tabs('a') });
    const b = device({ namespace: ns, network: networks[1], tabs: tabs('b') });
    await a.cart.add('FIRST', 1);
    await a.sync();
    await b.start();
    await tabsHolding(ns, 2);
    const { token } = await storedDevice(ns);
    await deleteDB(ns);
    await until(a, (s) => s.status.storage === 'memory', 'A in memory');
    await until(b, (s) => s.status.storage === 'memory', 'B in memory');
    // Which tab leads the memory group: the one that pushes.
    const before = networks.map((n) => n.requests.length);
    await a.cart.add('X', 1);
    await a.sync();
    await until(b, (s) => cartOf(s)['X'] === 1 && s.status.pending === 0, 'B heard X');
    const l = networks.findIndex((n, i) => n.requests.slice(before[i]).includes('/v1/sync/push'));
    const [leader, follower] = l === 0 ? [a, b] : [b, a];
    // The leader sends W, and dies before the follower hears of it: its counter is behind.
    muted.add(l === 0 ? 'a' : 'b');
    await leader.cart.add('W', 2);
    await leader.sync();
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    await leader.close();
    // The follower takes over and pulls first; a change it makes meanwhile waits for the pull.
    await pullHeld;
    await follower.cart.add('Y', 3);
    hold = null;
    release();
    await follower.sync();
    const want = { FIRST: 1, X: 1, W: 2, Y: 3 };
    expect(await serverCart(token)).to.deep.equal(want);
    expect(cartOf(follower.state)).to.deep.equal(want);
    expect(follower.status.pending).to.equal(0);
  });
  it("a tab's older change announced after a newer one the leader sent: the leader still takes it", async () => {
    const ns = uniqueNs('deleted-order');
    const { here, other } = await twoTabs(ns);
    const mine = await clientId(ns);
    const tab = ((await navigator.locks.query()).held ?? [])
      .find((l) => l.name?.startsWith(`${ns}:tab:`) && l.clientId !== mine)!
      .name!.slice(`${ns}:tab:`.length);
    // The other tab's lock in the memory group is slow to come (held here a moment): it shares
    // the changes it had when the group formed only once it holds that lock.
    let unlock!: () => void;
    await new Promise<void>((granted) => {
      void navigator.locks.request(`${ns}:mem:tab:${tab}`, () => {
        granted();
        return new Promise<void>((r) => (unlock = r));
      });
    });
    // F1's write waits when the database goes: the other tab keeps it in memory. F2, made as it
    // moves to memory, is announced at once, and the leader sends it first.
    const release = await holdStore(ns, true);
    void other.cart.add('F1', 1);
    await until(here, (s) => cartOf(s)['F1'] === 1, 'this tab hears F1');
    let moved = false;
    other.subscribe(
      (s) => s.status.storage,
      (storage) => {
        if (storage !== 'memory' || moved) return;
        moved = true;
        void other.cart.add('F2', 1);
      },
    );
    const deleting = deleteDB(ns);
    await until(here, (s) => s.status.storage === 'memory', 'this tab in memory');
    await until(other, (s) => s.status.storage === 'memory', 'the other tab in memory');
    await deleting;
    release();
    await until(
      here,
      (s) => cartOf(s)['F2'] === 1 && s.status.pending === 0 && s.status.state === 'online',
      'F2 sent by the leader',
    );
    unlock();
    await until(here, (s) => cartOf(s)['F1'] === 1, 'the leader takes F1 when it is shared');
    await here.sync();
    expect(cartOf(here.state)).to.deep.equal({ F1: 1, F2: 1 });
  });

  it('a memory group with no device yet registers one, whichever tab needs it', async () => {
    const ns = uniqueNs('deleted-device');
    const a = device({ namespace: ns });
    const b = device({ namespace: ns });
    await Promise.all([a.start(), b.start()]);
    await tabsHolding(ns, 2);
    // Deleted before anything was sent: there is no device yet.
    await deleteDB(ns);
    await until(a, (s) => s.status.storage === 'memory', 'A in memory');
    await until(b, (s) => s.status.storage === 'memory', 'B in memory');
    // Both tabs need it at once (a follower too): one device for the group, not one each.
    await Promise.all([
      a.recommendations.get({ strategy: 'trending' }),
      b.recommendations.get({ strategy: 'trending' }),
    ]);
    await a.cart.add('A', 1);
    await b.cart.add('B', 2);
    await a.sync();
    await b.sync();
    expect(a.identity.deviceId).to.be.a('string');
    expect(b.identity.deviceId).to.equal(a.identity.deviceId);
    expect(cartOf(a.state)).to.deep.equal({ A: 1, B: 2 });
    expect(cartOf(b.state)).to.deep.equal({ A: 1, B: 2 });
    expect(a.status.pending + b.status.pending).to.equal(0);
  });
  it('the memory leader killed mid-push: the other tab sends what it left, each change once', async () => {
    const ns = uniqueNs('deleted-kill');
    const network = testNetwork();
    const { here, frame, win, other } = await sharedDevice(ns, { network });
    const { token } = await storedDevice(ns);
    // Whichever tab leads the memory group: this one cannot send, the other's push reaches the
    // server and is never answered (its page dies with it in flight).
    network.setOnline(false);
    const w = win as TabWindow & { holdPushes: boolean; pushHeld: Promise<void> };
    w.holdPushes = true;
    await deleteDB(ns);
    await until(here, (s) => s.status.storage === 'memory', 'this tab in memory');
    await until(other, (s) => s.status.storage === 'memory', 'the other tab in memory');
    await Promise.all([here.cart.add('HERE', 1), other.cart.add('THERE', 2)]);
    const both = (s: ClientState) => cartOf(s)['HERE'] === 1 && cartOf(s)['THERE'] === 2;
    await until(here, both, 'this tab knows both');
    await until(other, both, 'the other tab knows both');
    // Which page holds the group's leader lock.
    const mine = await clientId(ns);
    const { held = [] } = await navigator.locks.query();
    const leaderHere = held.find((l) => l.name === `${ns}:mem:leader`)?.clientId === mine;
    // The other page leads: its push of both changes has reached the server.
    if (!leaderHere) await w.pushHeld;
    frame.remove();
    network.setOnline(true);
    await here.sync();
    const want = { FIRST: 1, HERE: 1, THERE: 2 };
    expect(await serverCart(token)).to.deep.equal(want);
    expect(cartOf(here.state)).to.deep.equal(want);
    expect(here.status.pending).to.equal(0);
    // eslint-disable-next-line no-console -- which path this run took (the leader is not chosen)
    console.log(`deleted-kill: engine=${(await testConfig()).engine} killed_leader=${!leaderHere}`);
  });

  it('a follower back from the back/forward cache announces a change the leader sent: sent once', async () => {
    const ns = uniqueNs('deleted-again');
    const spy = nextHeard('drafts');
    const here = device({ namespace: ns, tabs: spy.tabs });
    await here.cart.add('FIRST', 1);
    await here.sync();
    const { win } = await page(ns);
    const other = await win.omniReady;
    await tabsHolding(ns, 2);
    const { token } = await storedDevice(ns);
    await deleteDB(ns);
    await until(here, (s) => s.status.storage === 'memory', 'this tab in memory');
    await until(other, (s) => s.status.storage === 'memory', 'the other tab in memory');
    const mine = await clientId(ns);
    const holder = async (name: string) =>
      ((await navigator.locks.query()).held ?? []).find((l) => l.name === name)?.clientId;
    const w = win as unknown as typeof globalThis;
    // The other tab leaves once (back/forward cache), so this one leads the group, and is back.
    w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
    while ((await holder(`${ns}:mem:leader`)) !== mine) await new Promise(requestAnimationFrame);
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    const back = async () =>
      ((await navigator.locks.query()).held ?? []).some(
        (l) => l.name?.startsWith(`${ns}:mem:tab:`) && l.clientId !== mine,
      );
    while (!(await back())) await new Promise(requestAnimationFrame);
    await other.sync();
    // The follower's change, and into the back/forward cache: the leader sends it. Back, the
    // follower announces it again; the leader must not send it a second time.
    await addsAndHides(here, other, w, 'X');
    const drafts = spy.arm();
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    await drafts;
    await here.sync();
    expect(await serverCart(token)).to.deep.equal({ FIRST: 1, X: 1 });
    expect(cartOf(here.state)).to.deep.equal({ FIRST: 1, X: 1 });
    // The follower learns that X was sent: it shows X once, and once it leads (this tab gone),
    // it does not send X again from its copy of the group's drafts.
    await until(other, (s) => s.status.pending === 0, 'the follower knows X was sent');
    expect(cartOf(other.state)).to.deep.equal({ FIRST: 1, X: 1 });
    await here.close();
    let leader;
    while (!(leader = await holder(`${ns}:mem:leader`)) || leader === mine) {
      await new Promise(requestAnimationFrame);
    }
    // It leads: its next change is sent with whatever it holds (X again, were it kept).
    await other.cart.add('Z', 1);
    await other.sync();
    expect(await serverCart(token)).to.deep.equal({ FIRST: 1, X: 1, Z: 1 });
  });

  it('after forget(), a change of the forgotten profile that a returning tab announces is not sent', async () => {
    const ns = uniqueNs('deleted-forgot');
    const spy = nextHeard('entries');
    const here = device({ namespace: ns, tabs: spy.tabs });
    await here.cart.add('FIRST', 1);
    await here.sync();
    // Three tabs, so one hears what another answers the returning tab.
    const away = await page(ns);
    await page(ns);
    const back = await away.win.omniReady;
    await tabsHolding(ns, 3);
    await deleteDB(ns);
    await until(here, (s) => s.status.storage === 'memory', 'this tab in memory');
    await tabsHolding(`${ns}:mem`, 3);
    // Its change, and into the back/forward cache: the group sends it.
    const w = away.win as unknown as typeof globalThis;
    await addsAndHides(here, back, w, 'X');
    // Forgotten meanwhile: X was the old profile's.
    await here.identity.forget();
    expect(cartOf(here.state)).to.deep.equal({});
    // Back, it announces X again; the tabs answer that X is gone, and none takes it up.
    const answered = spy.arm();
    w.dispatchEvent(new w.PageTransitionEvent('pageshow', { persisted: true }));
    await answered;
    expect(cartOf(here.state)).to.deep.equal({});
    await here.sync();
    expect({ cart: cartOf(here.state), pending: here.status.pending }).to.deep.equal({
      cart: {},
      pending: 0,
    });
  });
});

describe('a storage failure that leaves the database (a timeout): each change sent once', () => {
  it('a change stored but not yet in the outbox is left to the other tab, not sent from memory too', async () => {
    const ns = uniqueNs('timeout');
    // Tab A leads (it starts first) and gives up on a transaction after 1 s.
    const a = device({ namespace: ns, storageTimeoutMs: 1000 });
    // A change sent registers the device, which both tabs then share.
    await a.cart.add('FIRST', 1);
    await a.sync();
    const b = device({ namespace: ns });
    await b.start();
    await tabsHolding(ns, 2);
    // Both changes are stored in the drafts; their moves to the outbox wait behind this, B's
    // first: the store gives B's the first seq, A's the second.
    const release = await holdStore(ns);
    await b.cart.add('OTHER', 1);
    await a.cart.add('ONCE', 1);
    // A's move times out: A goes on alone, in memory, and B leads (its read waits too). Memory
    // would give ONCE the first seq, and send it at once: the server would take it there, then
    // skip OTHER (a seq it has) and take ONCE again from B.
    await until(a, (s) => s.status.storage === 'memory', 'the memory fallback', 5000);
    // What A sends from memory reaches the server first: nothing, or ONCE at the first seq.
    await until(a, (s) => s.status.pending === 0 && s.status.state === 'online', 'A idle');
    expect(b.status.storage).to.equal('indexeddb');
    // The database is still there, with both changes in it, for B: A's own move of ONCE, on
    // the connection it closed, still runs and commits; B reads the outbox and sends both.
    release();
    await until(b, (s) => s.status.pending === 0 && s.status.state === 'online', 'B sends');
    await b.sync();
    await a.sync();
    expect(a.status.pending).to.equal(0);
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty]).sort()).to.deep.equal([
      ['FIRST', 1],
      ['ONCE', 1],
      ['OTHER', 1],
    ]);
    expect(cartOf(b.state)).to.deep.equal({ FIRST: 1, OTHER: 1, ONCE: 1 });
  });
});

describe('watching other tabs only while joined', () => {
  it("another tab's draft found at start is watched with the tabs: nothing is left waiting after pagehide", async () => {
    const ns = uniqueNs('watch-start');
    // Another tab (its lock held here, as a live tab holds it) left a draft in the store.
    const tab = 'livetab001';
    const name = `${ns}:tab:${tab}`;
    let letGo!: () => void;
    await new Promise<void>((granted) => {
      void navigator.locks.request(name, () => {
        granted();
        return new Promise<void>((r) => (letGo = r));
      });
    });
    const dr = await openDB(`${ns}:drafts`, 1, {
      upgrade: (db) => void db.createObjectStore('drafts'),
    });
    const draft = {
      id: `${tab}1`,
      name: 'cart.add',
      args: { sku: 'THEIRS', qty: 1 },
      at: Date.now(),
    };
    await dr.put('drafts', draft, [tab, 1]);
    dr.close();
    const here = device({ namespace: ns });
    await here.start();
    await tabsHolding(ns, 2);
    // Into the back/forward cache: this page leaves the tabs, and asks for no lock any more.
    const waiting = async () =>
      ((await navigator.locks.query()).pending ?? []).filter((l) => l.name === name).length;
    while (!(await waiting())) await new Promise(requestAnimationFrame);
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    try {
      const deadline = Date.now() + 3000;
      while (await waiting()) {
        if (Date.now() > deadline) throw new Error(`still waiting for ${name} after pagehide`);
        await new Promise(requestAnimationFrame);
      }
    } finally {
      dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
      letGo();
    }
    expect(cartOf(here.state)).to.deep.equal({ THEIRS: 1 });
  });
});

describe('a tab that goes on alone, in memory', () => {
  it('keeps its lock while shown, so no tab rescues what it sends itself; lets it go on pagehide', async () => {
    const ns = uniqueNs('alone');
    const { here, win, other: alone } = await sharedDevice(ns);
    const me = await clientId(ns);
    // Its writes fail: it goes on alone, in memory, with the change it could not store.
    neverCommits(win);
    const w = win as unknown as typeof globalThis;
    await alone.cart.add('MINE', 1);
    await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
    await alone.sync();
    await here.sync();
    // The tab locks held by a page other than this one.
    const others = async () => {
      const { held = [] } = await navigator.locks.query();
      return held.filter((l) => l.name?.startsWith(`${ns}:tab:`) && l.clientId !== me).length;
    };
    // Its lock is its own still: this tab has not taken it to rescue the change.
    expect(await others()).to.equal(1);
    expect(await storedChanges(ns)).to.deep.equal([]);
    // Into the back/forward cache: a page that holds a lock could not be cached, so it lets its
    // lock go (this tab, which heard it went alone, has none of its changes to store).
    w.dispatchEvent(new w.PageTransitionEvent('pagehide', { persisted: true }));
    while (await others()) await new Promise(requestAnimationFrame);
    await here.sync();
    expect(await storedChanges(ns)).to.deep.equal([]);
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([
      ['FIRST', 1],
      ['MINE', 1],
    ]);
    await until(here, (s) => cartOf(s)['MINE'] === 1, 'this tab hears of it from the server');
  });

  it("goes on under a device of its own: its changes and the other tabs' never share a seq", async () => {
    const ns = uniqueNs('alone-seq');
    const { here, win, other: alone } = await sharedDevice(ns);
    neverCommits(win);
    await alone.cart.add('A1', 1);
    await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
    // Both keep editing. The database gives this tab's changes the seqs after FIRST; a counter
    // of the alone tab's own, for the same device, would give its changes the same ones (and
    // the server would keep one change of each pair).
    for (const n of [2, 3]) {
      await here.cart.add(`H${n - 1}`, 1);
      await alone.cart.add(`A${n}`, 1);
    }
    await alone.sync();
    await here.sync();
    const all = JSON.stringify(['A1', 'A2', 'A3', 'FIRST', 'H1', 'H2'].map((k) => [k, 1]));
    const lines = (cart: Record<string, number>) => JSON.stringify(Object.entries(cart).sort());
    expect(lines(await serverCart((await storedDevice(ns)).token))).to.equal(all);
    // Each tab hears of the other's changes from the server.
    await until(here, (s) => lines(cartOf(s)) === all, 'this tab shows them all');
    await until(alone, (s) => lines(cartOf(s)) === all, 'the alone tab shows them all');
    // Signing in from one tab moves the other too: it is the same browser.
    await here.identity.identify(await customerToken(uniqueCustomer()));
    await until(alone, (s) => s.identity.customerId !== null, 'the alone tab signed in too');
    expect(alone.state.identity.profileId).to.equal(here.state.identity.profileId);
  });

  it('leaves what it stored to the store: another tab sends it while it lives', async () => {
    const ns = uniqueNs('alone-stored');
    const { here, win, other: alone } = await sharedDevice(ns);
    // Its changes are stored, but their moves to the outbox fail: it goes on alone, in memory,
    // and leaves STORED to the store (it keeps only what it could not store).
    const w = win as unknown as typeof globalThis;
    const transaction = w.IDBDatabase.prototype.transaction;
    w.IDBDatabase.prototype.transaction = function (
      this: IDBDatabase,
      names: string | string[],
      mode?: IDBTransactionMode,
    ) {
      if (mode === 'readwrite' && [names].flat().includes('outbox')) {
        throw new w.DOMException('refused', 'UnknownError');
      }
      return transaction.call(this, names, mode);
    } as typeof transaction;
    await alone.cart.add('STORED', 1);
    await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
    // The server's lines, once it has `n` (within 5 s: nothing else would send them).
    const lines = async (n: number) => {
      const now = async () =>
        (await serverSnapshot(ns)).state.cart.lines.map((l) => [l.key, l.qty]);
      const deadline = Date.now() + 5000;
      while ((await now()).length < n) {
        if (Date.now() > deadline) throw new Error(`not sent: ${JSON.stringify(await now())}`);
        await new Promise(requestAnimationFrame);
      }
      return now();
    };
    // This tab reads it from the store once it hears the other went alone, and sends it.
    expect(await lines(2)).to.deep.equal([
      ['FIRST', 1],
      ['STORED', 1],
    ]);
    await until(here, (s) => s.status.pending === 0 && s.status.state === 'online', 'idle');
    expect(cartOf(here.state)).to.deep.equal({ FIRST: 1, STORED: 1 });
    // Its next change, made alone with nothing else to send, is sent at once, as any change
    // is (under a device of its own), without a sync() call.
    await alone.cart.add('LATER', 1);
    expect(await lines(3)).to.deep.equal([
      ['FIRST', 1],
      ['STORED', 1],
      ['LATER', 1],
    ]);
  });
});

describe('a change stored while the store is read (issue 16)', () => {
  it('a change stored after a read started, which the read lacks, is kept and sent', async () => {
    const network = testNetwork(false);
    const ns = uniqueNs('read');
    // Another tab leads: this one becomes the leader (and reads the store) when it lets go.
    let leading!: Promise<unknown>;
    const letGo = await new Promise<() => void>((granted) => {
      leading = navigator.locks.request(`${ns}:leader`, () => new Promise<void>(granted));
    });
    const c = device({ namespace: ns, network });
    await c.start();
    // A's move to the outbox waits behind this, and the leader's read of the main database
    // behind A's; its read of the drafts does not wait.
    const release = await holdStore(ns);
    await c.cart.add('A', 1);
    letGo();
    await leading;
    const held = async () =>
      ((await navigator.locks.query()).held ?? []).some((l) => l.name === `${ns}:leader`);
    // Once the lock manager lists it, its callback (a task queued before the query's answer)
    // has run, and so has the read's start.
    while (!(await held())) await new Promise(requestAnimationFrame);
    // The read has started: B is stored in the drafts after it, so the read has it nowhere.
    await c.cart.add('B', 2);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
    release();
    network.setOnline(true);
    await c.sync();
    expect(c.status.pending).to.equal(0);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([
      ['A', 1],
      ['B', 2],
    ]);
  });
});

describe('a tab that opens while the leader syncs', () => {
  it('learns the snapshot it missed: the entries it read as pending are acknowledged', async () => {
    const ns = uniqueNs('late-tab');
    const network = testNetwork();
    const leader = device({ namespace: ns, network });
    await leader.cart.add('FIRST', 1);
    await leader.sync();
    const db = await openDB(ns);
    const before = await db.get('meta', 'meta');
    // Stored and sequenced while offline, so the outbox entry can be read.
    network.setOnline(false);
    await leader.cart.add('LATE', 1);
    let entries: unknown[] = [];
    while (!(entries = await db.getAll('outbox')).length) await new Promise(requestAnimationFrame);
    network.setOnline(true);
    await leader.sync();
    // The store as a tab that opens now can read it: the leader posts its snapshot before it
    // persists it (and this tab, still opening, hears no message), so the entry is still in
    // the outbox and the stored base is the one before it.
    const tx = db.transaction(['meta', 'outbox'], 'readwrite');
    const now = await tx.objectStore('meta').get('meta');
    await Promise.all([
      tx.objectStore('meta').put({ ...now, base: before.base }, 'meta'),
      ...entries.map((e) => tx.objectStore('outbox').put(e)),
      tx.done,
    ]);
    db.close();
    const late = device({ namespace: ns, network });
    await late.start();
    // Nothing new reaches the leader, so only its answer to the new tab can settle the entry.
    await late.sync({ timeoutMs: 5000 });
    expect(late.status.pending).to.equal(0);
    expect(cartOf(late.state)).to.deep.equal({ FIRST: 1, LATE: 1 });
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([
      ['FIRST', 1],
      ['LATE', 1],
    ]);
  });
});

describe('honest status and a sync() that can give up', () => {
  /** A network whose server is unreachable until `back()`, with no online event (as when the server itself was down). */
  function flakyServer(): Network & { back(): void } {
    let up = false;
    const base = browserNetwork();
    return {
      ...base,
      fetch: (input, init) =>
        up ? fetch(input, init) : Promise.reject(new TypeError('Failed to fetch')),
      back: () => (up = true),
    };
  }

  it('after a successful sync() the status is online at once, and never syncing when idle', async () => {
    const network = flakyServer();
    const c = device({ network, retry: { baseMs: 5000, maxMs: 5000 } });
    const states: SyncState[] = [];
    c.on('status-change', (d) => states.push(d.state));
    void c.cart.add('A', 1);
    await until(c, (s) => s.status.error?.code === 'network', 'the server is unreachable');
    expect(c.status.state).to.equal('offline');
    network.back();
    // The backoff (5 s) has not fired: sync() itself brings the status back.
    await c.sync();
    expect(c.status.state).to.equal('online');
    expect(c.status.error).to.equal(null);
    expect(c.status.pending).to.equal(0);
    const after = states.length;
    await c.sync();
    expect(c.status.state).to.equal('online');
    // A sync with nothing to send and nothing to fetch... still pulls (the server may have
    // news), so it says syncing only while that request is under way.
    expect(states.slice(after).every((s) => s === 'online' || s === 'syncing')).to.equal(true);
    expect(states.at(-1)).to.equal('online');
  });

  it('sync({ timeoutMs }) and sync({ signal }) give up while offline; the change is sent later', async () => {
    const ns = uniqueNs('give-up');
    const network = testNetwork(false);
    const c = device({ namespace: ns, network });
    await c.cart.add('LATER', 1);
    let error: unknown;
    try {
      await c.sync({ timeoutMs: 100 });
    } catch (e) {
      error = e;
    }
    expect((error as DOMException).name).to.equal('TimeoutError');
    const abort = new AbortController();
    const waiting = c.sync({ signal: abort.signal }).catch((e: unknown) => e);
    abort.abort();
    expect(((await waiting) as DOMException).name).to.equal('AbortError');
    expect(c.status.pending).to.equal(1);
    network.setOnline(true);
    await c.sync();
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => l.key)).to.deep.equal(['LATER']);
  });

  it('in a follower tab, sync() waits for the leader and gives up on its timeout', async () => {
    const ns = uniqueNs('follower');
    const network = testNetwork(false);
    const leader = device({ namespace: ns, network });
    await leader.start();
    const follower = device({ namespace: ns, network });
    await follower.start();
    await follower.cart.add('F', 1);
    let error: unknown;
    try {
      await follower.sync({ timeoutMs: 150 });
    } catch (e) {
      error = e;
    }
    expect((error as DOMException).name).to.equal('TimeoutError');
    network.setOnline(true);
    await follower.sync();
    expect(follower.status.pending).to.equal(0);
    expect(follower.status.state).to.equal('online');
  });
});

describe('createClient options', () => {
  it('a missing or misspelled option throws an OmniError naming it', () => {
    const attempt = (options: unknown) => {
      try {
        createClient(options as ClientOptions);
      } catch (e) {
        return e as OmniError;
      }
      throw new Error('no error');
    };
    const e = attempt({ apiUrl: 'https://omni.example', publishableKey: 'pk' });
    expect(e).to.be.instanceOf(OmniError);
    expect(e.code).to.equal('invalid_argument');
    expect(e.message).to.contain('"endpoint"');
    // The development build also names what it did not know.
    expect(e.message).to.contain('apiUrl');
    expect(attempt({ endpoint: 'https://omni.example' }).message).to.contain('"publishableKey"');
    expect(attempt(undefined).code).to.equal('invalid_argument');
  });
});

describe('cart.line', () => {
  it('finds the line of a sku with exactly the given options', async () => {
    const c = device();
    await c.cart.add('TEE', 2, { options: { size: 'M' } });
    await c.cart.add('TEE', 1);
    expect(c.cart.line('TEE', { size: 'M' })?.qty).to.equal(2);
    expect(c.cart.line('TEE')?.qty).to.equal(1);
    expect(c.cart.line('TEE', { size: 'L' })).to.equal(undefined);
    expect(c.cart.line('NONE')).to.equal(undefined);
  });
});
