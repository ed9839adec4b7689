// The back/forward cache: a page cached with a transaction of the SDK's main database under way
// must not hold the database from the site's next page (WebKit freezes the transaction as it
// is, see src/bfcache.ts). Here the page is not frozen for real: the transaction is held open
// by requests issued from its own success events, as a frozen page that never writes would
// hold it, and the page events are dispatched by hand. Real IndexedDB, the runner's server.
import { expect } from '@open-wc/testing';
import { openDB } from 'idb';
import { createClient, type OmniClient } from '@omnikit/sdk';
import { freezeGuard, kept, tag } from '../src/bfcache.js';
import { withTimeout } from '../src/core.js';
import type { Snapshot } from '@omnikit/protocol';
import {
  quietLogger,
  serverSnapshot,
  testConfig,
  testNetwork,
  uniqueNs,
  type TestNetwork,
} from './helpers.js';

const clients: OmniClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

async function device(
  ns: string,
  network: TestNetwork,
  storageTimeoutMs?: number,
): Promise<OmniClient> {
  const cfg = await testConfig();
  const c = createClient({
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites.sum.publishableKey,
    namespace: ns,
    network,
    retry: { baseMs: 20, maxMs: 200 },
    timeoutMs: 3000,
    storageTimeoutMs,
    logger: quietLogger(),
  });
  clients.push(c);
  return c;
}

/**
 * Holds open the transaction of `ns`'s main database that calls `method` on the outbox with an
 * argument `which` picks (`add`: a `sequence`; `delete`: a `setBase`) until `release()`, or
 * until it is aborted.
 */
function holdNext(ns: string, method: 'add' | 'delete', which: (arg: unknown) => boolean) {
  const proto = IDBObjectStore.prototype;
  const original = proto[method] as (this: IDBObjectStore, ...args: unknown[]) => IDBRequest;
  let released = false;
  let held!: (tx: IDBTransaction) => void;
  const holding = new Promise<IDBTransaction>((r) => (held = r));
  proto[method] = function (this: IDBObjectStore, ...args: unknown[]) {
    const tx = this.transaction;
    if (this.name === 'outbox' && tx.db.name === ns && which(args[0])) {
      proto[method] = original as never;
      const spin = () => {
        if (released) return;
        const r = tx.objectStore('meta').get('held');
        r.onsuccess = spin;
        // Aborted: nothing more to hold.
        r.onerror = (e) => e.preventDefault();
      };
      spin();
      held(tx);
    }
    return original.apply(this, args);
  } as never;
  return {
    holding,
    release() {
      released = true;
      proto[method] = original as never;
    },
  };
}

/** What another connection reads of `ns` (the site's next page); fails if it has to wait. */
async function readAtOnce(ns: string) {
  const [db, dr] = await Promise.all([openDB(ns), openDB(`${ns}:drafts`)]);
  try {
    const reading = Promise.all([
      db.get('meta', 'meta') as Promise<{ base: { lastSeq: number } | null }>,
      db.getAll('outbox') as Promise<{ args: { sku: string } }[]>,
      dr.getAll('drafts') as Promise<{ args: { sku: string } }[]>,
    ]);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const [meta, outbox, drafts] = await Promise.race([
      reading,
      new Promise<never>((_, reject) => {
        // Far below storageTimeoutMs (5 s), after which a page would move to memory.
        timer = setTimeout(() => reject(new Error('the main database is held (1 s)')), 1000);
      }),
    ]).finally(() => clearTimeout(timer));
    const skus = (l: { args: { sku: string } }[]) => l.map((m) => m.args.sku);
    return { lastSeq: meta.base?.lastSeq, outbox: skus(outbox), drafts: skus(drafts) };
  } finally {
    db.close();
    dr.close();
  }
}

const page = (type: 'pagehide' | 'pageshow') =>
  dispatchEvent(new PageTransitionEvent(type, { persisted: true }));

/** A device whose change A the server has, stored by a page that closed. */
async function registered(ns: string) {
  const first = await device(ns, testNetwork(true));
  first.cart.add('A', 1);
  await first.sync();
  await first.close();
}

const skus = (lines: { key: string; qty: number }[]) => lines.map((l) => [l.key, l.qty]);

/**
 * An offline device of a registered profile whose change B is being sequenced (held open) when
 * its page goes into the cache. `shown()` brings the page back, and once B is stored goes
 * online, syncs and checks the client kept IndexedDB.
 */
async function cachedDuringSequence(storageTimeoutMs?: number) {
  const ns = uniqueNs('bfcache');
  await registered(ns);
  const network = testNetwork(false);
  const c = await device(ns, network, storageTimeoutMs);
  await c.start();
  const held = holdNext(ns, 'add', (e) => (e as { args: { sku: string } }).args.sku === 'B');
  const stored = c.cart.add('B', 1);
  await held.holding;
  page('pagehide');
  return {
    ns,
    held,
    async shown() {
      page('pageshow');
      await stored;
      network.setOnline(true);
      await c.sync();
      expect(c.status.storage).to.equal('indexeddb');
    },
  };
}

describe('back/forward cache', () => {
  it('a sequence under way when the page is cached: the database is free at once, the change sent once', async () => {
    const { ns, held, shown } = await cachedDuringSequence();
    try {
      // Nothing of the sequence was written: B is still a draft, for this page or any tab.
      expect(await readAtOnce(ns)).to.deep.equal({ lastSeq: 1, outbox: [], drafts: ['B'] });
    } finally {
      held.release();
    }
    await shown();
    const server = await serverSnapshot(ns);
    // Each change given one seq, and taken once.
    expect(server.lastSeq).to.equal(2);
    expect(skus(server.state.cart.lines)).to.deep.equal([
      ['A', 1],
      ['B', 1],
    ]);
  });

  it('a base being stored when the page is cached: the database is free at once, the base stored once shown', async () => {
    const ns = uniqueNs('bfcache');
    await registered(ns);
    const c = await device(ns, testNetwork(true));
    await c.start();
    const held = holdNext(ns, 'delete', (range) => (range as IDBKeyRange).upper === 2);
    c.cart.add('B', 1);
    await held.holding;
    page('pagehide');
    try {
      // The base of B's push is not written: B waits in the outbox still.
      expect(await readAtOnce(ns)).to.deep.equal({ lastSeq: 1, outbox: ['B'], drafts: [] });
    } finally {
      held.release();
    }
    page('pageshow');
    await c.sync();
    expect(c.status.storage).to.equal('indexeddb');
    const server = await serverSnapshot(ns);
    expect(server.lastSeq).to.equal(2);
    expect(skus(server.state.cart.lines)).to.deep.equal([
      ['A', 1],
      ['B', 1],
    ]);
    // close() waits for the snapshot writes: the base of B's push is stored after all.
    await c.close();
    expect(await readAtOnce(ns)).to.deep.equal({ lastSeq: 2, outbox: [], drafts: [] });
  });

  it('a page cached for longer than storageTimeoutMs goes on with IndexedDB once shown', async () => {
    const { ns, held, shown } = await cachedDuringSequence(1000);
    // Cached for 2.5 timeouts; this page is not frozen for real, so its timers run meanwhile.
    await new Promise((r) => setTimeout(r, 2500));
    held.release();
    await shown();
    expect((await serverSnapshot(ns)).lastSeq).to.equal(2);
  });

  it('a base stored again once shown keeps a newer one another tab stored, not an older one', () => {
    const base = (profileId: string, version: number, lastSeq: number) =>
      ({ profileId, customerId: null, version, lastSeq, state: {} }) as unknown as Snapshot;
    const mine = base('p', 5, 9);
    // What this tab last saw is not what is stored (another tab wrote before), yet the stored
    // base of the same profile is older: run again, this one is stored.
    expect(kept(base('p', 4, 9), mine, tag(base('p', 3, 2)))).to.equal(false);
    expect(kept(base('p', 5, 8), mine, tag(base('p', 5, 8)))).to.equal(false);
    // The same or newer: kept.
    expect(kept(base('p', 5, 9), mine, null)).to.equal(true);
    expect(kept(base('p', 6, 1), mine, null)).to.equal(true);
    // Another profile: kept only if another tab stored it since this tab's last.
    expect(kept(base('q', 1, 1), mine, tag(base('q', 1, 1)))).to.equal(false);
    expect(kept(base('q', 1, 1), mine, tag(base('p', 5, 8)))).to.equal(true);
    expect(kept(null, mine, null)).to.equal(false);
  });

  it('a run that fails after a hide is not run again once the guard stopped (its store closed)', async () => {
    const guard = freezeGuard();
    let runs = 0;
    let fail!: () => void;
    const failing = new Promise<void>((r) => (fail = r));
    let started!: () => void;
    const began = new Promise<void>((r) => (started = r));
    const run = guard.run(async () => {
      runs++;
      started();
      await failing;
      throw new Error('the store is closed');
    });
    await began;
    // The page is hidden while it runs (its transactions aborted), then the store closes (an
    // open that timed out, say) and the run fails: not a freeze's abort to run again.
    page('pagehide');
    page('pageshow');
    guard.stop();
    fail();
    const error = await run.catch((e: Error) => e);
    expect((error as Error).message).to.equal('the store is closed');
    expect(runs).to.equal(1);
  });

  it('a store closed while the page is cached leaves no timeout stuck and nothing waiting', async () => {
    const guard = freezeGuard();
    page('pagehide');
    const waiting = guard.run(async () => 'ran');
    guard.stop();
    page('pageshow');
    expect(await waiting).to.equal('ran');
    page('pagehide');
    guard.stop();
    const other = freezeGuard();
    other.stop();
    page('pageshow');
    // Shown again: a timeout fires after its time, though the store that saw the hide is gone.
    const never = new Promise<never>(() => {});
    const error = await withTimeout(never, 50).catch((e: Error) => e);
    expect(error).to.be.an('error');
  });
});
