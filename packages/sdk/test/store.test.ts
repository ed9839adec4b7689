// The IndexedDB store on its own (src/idb-store.ts), where a page can leave it at any moment: an
// upgrade or a transaction aborted under its requests (each failure reported once, by the call,
// never as an unhandled rejection), a page cached during its first open, a reset raced by a
// navigation. Real IndexedDB; the page events are dispatched by hand, as in bfcache.test.ts (the
// page is not frozen for real, so its timers run while it is "cached").
import { expect } from '@open-wc/testing';
import { openDB } from 'idb';
import { idbStore } from '../src/idb-store.js';
import { TAB_ID, type Draft, type Store } from '../src/store.js';
import { uniqueNs } from './helpers.js';

const stores: Store[] = [];
afterEach(() => stores.splice(0).forEach((s) => s.close()));

async function open(ns: string) {
  const s = await idbStore(ns, () => {}, 5000);
  stores.push(s);
  return s;
}

const page = (type: 'pagehide' | 'pageshow') =>
  dispatchEvent(new PageTransitionEvent(type, { persisted: true }));

const TAB = 'a'.repeat(TAB_ID);
let counter = 0;
const draft = (sku: string): Draft => ({
  id: `${TAB}${++counter}`,
  name: 'cart.add',
  args: { sku, qty: 1 },
  at: Date.now(),
});

/**
 * The rejections left unhandled from now until `seen()`: it lets the tasks queued meanwhile run
 * first (the browser reports a rejection in a task it queues once the microtasks after the
 * rejection have run; two timer turns come after it in every engine).
 */
function unhandledRejections() {
  const reasons: string[] = [];
  const on = (e: PromiseRejectionEvent) => reasons.push(String(e.reason));
  addEventListener('unhandledrejection', on);
  return async () => {
    for (let turn = 0; turn < 2; turn++) await new Promise((r) => setTimeout(r));
    removeEventListener('unhandledrejection', on);
    return reasons;
  };
}

/** Calls `then` with the object store of `name` (of database `db`) just after its next `method`. */
function afterNext(
  method: 'add' | 'clear',
  db: string,
  name: string,
  then: (store: IDBObjectStore) => void,
) {
  const proto = IDBObjectStore.prototype;
  const original = proto[method] as (this: IDBObjectStore, ...args: unknown[]) => IDBRequest;
  proto[method] = function (this: IDBObjectStore, ...args: unknown[]) {
    const request = original.apply(this, args);
    if (this.name === name && this.transaction.db.name === db) {
      proto[method] = original as never;
      then(this);
    }
    return request;
  } as never;
  return () => (proto[method] = original as never);
}

/**
 * Aborts the next transaction of database `db` asked to commit, instead of committing it: as a
 * browser does when the page goes away (a committed write can no longer be aborted by script).
 */
function abortAtCommit(db: string) {
  const proto = IDBTransaction.prototype;
  const original = proto.commit;
  proto.commit = function (this: IDBTransaction) {
    if (this.db.name !== db) return original.call(this);
    proto.commit = original;
    this.abort();
  };
  return () => (proto.commit = original);
}

/** Holds the first open of database `name` in its upgrade (creating `store`) until released. */
function holdFirstOpen(name: string, store: string) {
  let released = false;
  const request = indexedDB.open(name, 1);
  const holding = new Promise<void>((resolve) => {
    request.onupgradeneeded = () => {
      const s = request.result.createObjectStore(store);
      // Requests issued from the success of the last keep the upgrade open.
      const spin = () => {
        if (!released) s.get(0).onsuccess = spin;
      };
      spin();
      resolve();
    };
  });
  const opened = new Promise<IDBDatabase>((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return {
    holding,
    async release() {
      released = true;
      (await opened).close();
    },
  };
}

/** Resolves once a timer of exactly `ms` has fired and its callback has run. */
function timerFired(ms: number) {
  const w = window as { setTimeout: typeof setTimeout };
  const original = w.setTimeout;
  return new Promise<void>((resolve) => {
    w.setTimeout = ((f: () => void, delay?: number) => {
      if (delay !== ms) return original(f, delay);
      w.setTimeout = original;
      return original(() => (f(), resolve()), delay);
    }) as typeof setTimeout;
  });
}

/** What another connection (the site's next page) reads of `ns`. */
async function stored(ns: string) {
  const [db, dr] = await Promise.all([openDB(ns), openDB(`${ns}:drafts`)]);
  try {
    return {
      meta: await db.get('meta', 'meta'),
      outbox: (await db.getAll('outbox')).length,
      drafts: (await dr.getAll('drafts')).length,
    };
  } finally {
    db.close();
    dr.close();
  }
}

/** What `p` rejects with (null if it resolves), once `restore` has undone the fault. */
const failure = (p: Promise<unknown>, restore: () => void) =>
  p
    .then(
      () => null,
      (e: Error) => e,
    )
    .finally(restore);

describe('IndexedDB store', () => {
  // First in the file: the page's first store, which no earlier one has set up for a pagehide.
  it('a page cached during its first open, for longer than the timeout, opens once shown', async () => {
    const ns = uniqueNs('store');
    const held = holdFirstOpen(`${ns}:drafts`, 'drafts');
    await held.holding;
    const fired = timerFired(300);
    const opening = idbStore(ns, () => {}, 300).then(
      (s) => (stores.push(s), s.kind),
      (e: Error) => e.message,
    );
    page('pagehide');
    let kind: string;
    try {
      // The open's time runs out while the page is cached, then the open goes on and settles
      // before the page is shown (so no second timeout's time is needed for it).
      await fired;
      await held.release();
      kind = await opening;
    } finally {
      page('pageshow');
    }
    expect(kind).to.equal('indexeddb');
  });

  it('a first open whose upgrade aborts rejects, and leaves no rejection unhandled', async () => {
    const ns = uniqueNs('store');
    const seen = unhandledRejections();
    // The drafts' upgrade aborted once its store is made (as when the page closes meanwhile).
    const proto = IDBDatabase.prototype;
    const create = proto.createObjectStore;
    proto.createObjectStore = function (this: IDBDatabase, ...args: Parameters<typeof create>) {
      const store = create.apply(this, args);
      if (this.name === `${ns}:drafts`) store.transaction.abort();
      return store;
    };
    const error = await failure(
      idbStore(ns, () => {}, 5000),
      () => {
        proto.createObjectStore = create;
      },
    );
    expect(error?.name).to.equal('AbortError');
    expect(await seen()).to.deep.equal([]);
    // The main database, which did open, is closed again: nothing of the failed store holds it.
    const deleting = indexedDB.deleteDatabase(ns);
    expect(
      await new Promise(
        (r) => (
          (deleting.onsuccess = () => r('deleted')),
          (deleting.onblocked = () => r('blocked'))
        ),
      ),
    ).to.equal('deleted');
  });

  for (const slow of ['main', 'drafts'] as const) {
    it(`a page cached during its ${slow} database's upgrade aborts it, holding no later open, and opens once shown`, async () => {
      const ns = uniqueNs('store');
      const name = slow === 'main' ? ns : `${ns}:drafts`;
      // The store's own upgrade of `name` kept under way (as on a slow disk) until it aborts.
      const proto = IDBDatabase.prototype;
      const create = proto.createObjectStore;
      let upgrading!: () => void;
      const spinning = new Promise<void>((r) => (upgrading = r));
      proto.createObjectStore = function (this: IDBDatabase, ...args: Parameters<typeof create>) {
        const store = create.apply(this, args);
        if (this.name === name) {
          proto.createObjectStore = create;
          // 8 s at most: a regression fails the test below, not every test after it.
          const t0 = performance.now();
          const spin = () => {
            if (performance.now() - t0 < 8000) store.count().onsuccess = spin;
          };
          spin();
          upgrading();
        }
        return store;
      };
      const lost: boolean[] = [];
      const opening = idbStore(ns, (deleted) => lost.push(deleted), 5000);
      try {
        await spinning;
        page('pagehide');
        // The site's next page: it deletes both databases, neither held by the cached page (a
        // frozen upgrade would hold the first, a connection left open the other; one closing
        // as the delete starts may first have it report `blocked`). Held, it fails in 3 s.
        for (const db of [ns, `${ns}:drafts`]) {
          const deleting = indexedDB.deleteDatabase(db);
          const outcome = await Promise.race([
            new Promise((r) => (deleting.onsuccess = () => r('deleted'))),
            new Promise((r) => setTimeout(() => r('held'), 3000)),
          ]);
          expect(outcome).to.equal('deleted', db);
        }
      } finally {
        proto.createObjectStore = create;
        page('pageshow');
      }
      // Shown again, the page opens the database anew and uses it.
      const s = await opening;
      stores.push(s);
      expect(s.kind).to.equal('indexeddb');
      await s.save([draft('B')]);
      expect((await stored(ns)).drafts).to.equal(1);
      expect(lost).to.deep.equal([]);
    });
  }

  it('keeps the page out of the back/forward cache (an unload listener) only while it opens', async () => {
    const listeners = new Set<unknown>();
    let none = () => {};
    const w = window as { addEventListener: typeof addEventListener } & {
      removeEventListener: typeof removeEventListener;
    };
    const add = w.addEventListener;
    const remove = w.removeEventListener;
    w.addEventListener = function (this: Window, ...args: Parameters<typeof add>) {
      if (args[0] === 'unload') listeners.add(args[1]);
      return add.apply(this, args);
    } as typeof add;
    w.removeEventListener = function (this: Window, ...args: Parameters<typeof remove>) {
      if (args[0] === 'unload' && listeners.delete(args[1]) && !listeners.size) none();
      return remove.apply(this, args);
    } as typeof remove;
    const proto = IDBDatabase.prototype;
    const create = proto.createObjectStore;
    try {
      // An open that succeeds: the listener from its start until it resolves.
      const opening = idbStore(uniqueNs('store'), () => {}, 5000);
      expect(listeners.size).to.equal(1);
      stores.push(await opening);
      expect(listeners.size).to.equal(0);
      // One whose upgrade aborts: until its opens have settled, then gone.
      const ns = uniqueNs('store');
      proto.createObjectStore = function (this: IDBDatabase, ...args: Parameters<typeof create>) {
        const store = create.apply(this, args);
        if (this.name === `${ns}:drafts`) store.transaction.abort();
        return store;
      };
      const left = new Promise<void>((r) => (none = r));
      const failing = idbStore(ns, () => {}, 5000);
      expect(listeners.size).to.equal(1);
      expect(
        await failing.then(
          () => 'opened',
          (e: Error) => e.name,
        ),
      ).to.equal('AbortError');
      await left;
      expect(listeners.size).to.equal(0);
      // One that times out, blocked: until its open settles (its upgrade may start late).
      const blocked = uniqueNs('store');
      const held = holdFirstOpen(`${blocked}:drafts`, 'drafts');
      await held.holding;
      const late = idbStore(blocked, () => {}, 300);
      expect(
        await late.then(
          () => 'opened',
          (e: Error) => e.message,
        ),
      ).to.equal('timed out');
      expect(listeners.size).to.equal(1);
      const settled = new Promise<void>((r) => (none = r));
      await held.release();
      await settled;
      expect(listeners.size).to.equal(0);
    } finally {
      w.addEventListener = add;
      w.removeEventListener = remove;
      proto.createObjectStore = create;
    }
  });

  it('a save whose transaction aborts rejects its promise, and leaves no rejection unhandled', async () => {
    const ns = uniqueNs('store');
    const s = await open(ns);
    const seen = unhandledRejections();
    const restore = abortAtCommit(`${ns}:drafts`);
    const error = await failure(s.save([draft('A'), draft('B')]), restore);
    expect(error?.name).to.equal('AbortError');
    expect(await seen()).to.deep.equal([]);
    expect(await stored(ns)).to.deep.include({ drafts: 0 });
  });

  it('a sequence whose transaction aborts rejects its promise, and leaves no rejection unhandled', async () => {
    const ns = uniqueNs('store');
    const s = await open(ns);
    // A mark of a tab gone for long, which the sequence deletes.
    const db = await openDB(ns);
    await db.put('meta', [3, 0], ['t', 'b'.repeat(TAB_ID)]);
    db.close();
    const a = draft('A');
    await s.save([a]);
    const seen = unhandledRejections();
    // Aborted with the mark's deletion asked for, not done yet.
    const restore = afterNext('add', ns, 'outbox', (outbox) => outbox.transaction.abort());
    const error = await failure(s.sequence([a]), restore);
    expect(error?.name).to.equal('AbortError');
    expect(await seen()).to.deep.equal([]);
    // Nothing of it written: A is a draft still.
    expect(await stored(ns)).to.deep.include({ outbox: 0, drafts: 1 });
  });

  it('a forget raced by a navigation is done, without the page shown again', async () => {
    const ns = uniqueNs('store');
    const s = await open(ns);
    await s.setDevice({ deviceId: 'd', token: 't', profileId: 'p' });
    const [a, b] = [draft('A'), draft('B')];
    await s.save([a, b]);
    await s.sequence([a]);
    expect(await stored(ns)).to.deep.include({ outbox: 1, drafts: 1 });
    // The worst moment for a navigation: the outbox's clear asked for, not committed yet.
    const restore = afterNext('clear', ns, 'outbox', () => page('pagehide'));
    try {
      const resetting = s.reset();
      // Seen from the site's next page: forgotten, outbox and drafts gone; when, kept.
      const { meta, ...rest } = await stored(ns);
      expect(rest).to.deep.equal({ outbox: 0, drafts: 0 });
      expect(meta).to.deep.include({ seq: 0, device: null, base: null });
      expect(meta.reset).to.be.within(Date.now() - 60_000, Date.now());
      await resetting;
    } finally {
      restore();
      page('pageshow');
    }
  });
});
