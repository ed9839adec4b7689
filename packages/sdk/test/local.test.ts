// The local engine, with the network switched off: optimistic view, IndexedDB outbox, tabs,
// consent, storage failures. The opt-in modules are in optin.test.ts. Sync against the real server is in sync.test.ts.
import { expect } from '@open-wc/testing';
import { openDB, deleteDB } from 'idb';
import {
  createClient,
  memoryTabs,
  OmniError,
  type ClientOptions,
  type OmniClient,
} from '@omnikit/sdk';
import { cartOf, quietLogger, testNetwork, uniqueNs, until } from './helpers.js';

const clients: OmniClient[] = [];
function client(options: Partial<ClientOptions> = {}): OmniClient {
  const c = createClient({
    endpoint: 'http://127.0.0.1:9',
    publishableKey: 'pk_local',
    network: testNetwork(false),
    ...options,
  });
  clients.push(c);
  return c;
}

async function dbNames() {
  return (await indexedDB.databases()).map((d) => d.name);
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

describe('client: local engine', () => {
  it('reading it, subscribing and listening start nothing', async () => {
    const ns = uniqueNs();
    const network = testNetwork(false);
    const opened: string[] = [];
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function (this: IDBFactory, name: string, version?: number) {
      opened.push(name);
      return open.call(this, name, version);
    };
    try {
      const c = client({ namespace: ns, network });
      expect([c.cart.lines, c.cart.count, c.recentlyViewed.items, c.status.state]).to.deep.equal([
        [],
        0,
        [],
        'offline',
      ]);
      expect([c.state.identity.deviceId, c.identity.profileId, c.cart.line('A')]).to.deep.equal([
        null,
        null,
        undefined,
      ]);
      const stop = c.subscribe(
        (s) => s.cart.count,
        () => {},
      );
      c.on('cart-change', () => {})();
      stop();
      // close() waits for whatever a start began: had a read started the client, the store
      // would be open by now.
      await c.close();
    } finally {
      IDBFactory.prototype.open = open;
    }
    expect(opened).to.deep.equal([]);
    expect(network.urls).to.deep.equal([]);
  });

  it('does nothing until first used', async () => {
    const ns = uniqueNs();
    const c = client({ namespace: ns });
    await Promise.resolve();
    expect(await dbNames()).not.to.include(ns);
    await c.start();
    expect(await dbNames()).to.include(ns);
  });

  it('updates the view and notifies synchronously, then commits the change to the outbox', async () => {
    const ns = uniqueNs();
    const c = client({ namespace: ns });
    const seen: number[] = [];
    const events: string[] = [];
    c.subscribe(
      (s) => s.cart.count,
      (n) => seen.push(n),
    );
    c.on('cart-change', (d) => events.push(d.source));
    c.cart.add('SKU-1', 2);
    expect(seen).to.deep.equal([2]);
    expect(events).to.deep.equal(['local']);
    expect(c.cart.lines.map((l) => [l.sku, l.qty])).to.deep.equal([['SKU-1', 2]]);
    c.cart.add('SKU-2', 1, { options: { size: 'M' } });
    c.cart.setQuantity('SKU-1', 5);
    c.cart.remove('SKU-2', { size: 'M' });
    expect(cartOf(c.state)).to.deep.equal({ 'SKU-1': 5 });
    await c.start();
    await c.close();
    const db = await openDB(ns);
    const outbox = await db.getAll('outbox');
    db.close();
    expect(outbox.map((m) => [m.seq, m.name])).to.deep.equal([
      [1, 'cart.add'],
      [2, 'cart.add'],
      [3, 'cart.setQuantity'],
      [4, 'cart.remove'],
    ]);
  });

  it('keeps the cart across reloads (a new client on the same storage)', async () => {
    const ns = uniqueNs();
    const a = client({ namespace: ns });
    a.cart.add('SKU-1', 3);
    a.cart.setPickupStore('store-7');
    a.recentlyViewed.track('SKU-9');
    await a.close();
    const b = client({ namespace: ns });
    await b.start();
    expect(cartOf(b.state)).to.deep.equal({ 'SKU-1': 3 });
    expect(b.cart.pickupStore).to.equal('store-7');
    expect(b.recentlyViewed.items.map((i) => i.sku)).to.deep.equal(['SKU-9']);
    expect(b.status.pending).to.equal(3);
  });

  it('throws a typed error for an invalid change and records nothing', () => {
    const c = client({ namespace: uniqueNs() });
    let error: unknown;
    try {
      c.cart.add('not a sku!', 1);
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(OmniError);
    expect((error as OmniError).code).to.equal('invalid_argument');
    expect((error as OmniError).retryable).to.equal(false);
    // Text no database stores (a NUL read from the page, say): refused here, never queued.
    expect(() => c.cart.add('A', 1, { options: { size: 'M\u0000' } }))
      .to.throw(OmniError)
      .with.property('code', 'invalid_argument');
    expect(c.cart.count).to.equal(0);
    expect(c.status.pending).to.equal(0);
  });

  it('computes the subtotal from the prices it was told', () => {
    const c = client({ namespace: uniqueNs(), prices: { A: 1250 } });
    c.cart.add('A', 2);
    c.cart.add('B', 1, { price: 999 });
    c.cart.add('C', 4);
    expect(c.cart.subtotal).to.equal(2 * 1250 + 999);
    const seen: number[] = [];
    c.subscribe(
      (s) => s.cart.subtotal,
      (v) => seen.push(v),
    );
    c.cart.setPrices({ C: 100 });
    expect(seen).to.deep.equal([2 * 1250 + 999 + 400]);
    expect(c.cart.lines.find((l) => l.sku === 'C')?.price).to.equal(100);
  });

  it('isolates a throwing subscriber from the change and from other subscribers', () => {
    const c = client({ namespace: uniqueNs() });
    // Reported the way the browser reports a throwing event listener (captured here so mocha
    // does not count it as an uncaught error of the test).
    const reported: unknown[] = [];
    const report = window.reportError;
    window.reportError = (e) => reported.push(e);
    const seen: number[] = [];
    c.subscribe(
      (s) => s.cart.count,
      () => {
        throw new Error('subscriber bug');
      },
    );
    c.subscribe(
      (s) => s.cart.count,
      (n) => seen.push(n),
    );
    try {
      c.cart.add('A', 1);
    } finally {
      window.reportError = report;
    }
    expect(seen).to.deep.equal([1]);
    expect(c.cart.count).to.equal(1);
    expect(reported.map((e) => (e as Error).message)).to.deep.equal(['subscriber bug']);
  });

  it('keeps unchanged parts of the state identical so selectors stay quiet', () => {
    const c = client({ namespace: uniqueNs() });
    let cartCalls = 0;
    c.subscribe(
      (s) => s.cart,
      () => cartCalls++,
    );
    c.recentlyViewed.track('V-1');
    expect(cartCalls).to.equal(0);
    c.cart.add('A');
    expect(cartCalls).to.equal(1);
  });

  it('keeps the locale as a profile preference, recorded once', async () => {
    const ns = uniqueNs();
    const a = client({ namespace: ns, locale: 'ko-KR' });
    await a.start();
    expect(a.state.prefs).to.deep.equal({ locale: 'ko-KR' });
    await a.close();
    const b = client({ namespace: ns, locale: 'ko-KR' });
    await b.start();
    expect(b.status.pending).to.equal(1);
  });
});

describe('client: tabs', () => {
  it('shares changes between two tabs of one browser and elects one leader', async () => {
    const ns = uniqueNs();
    const a = client({ namespace: ns });
    const b = client({ namespace: ns });
    await Promise.all([a.start(), b.start()]);
    a.cart.add('A', 1);
    b.cart.add('B', 2);
    await until(a, (s) => s.cart.count === 3, 'A hears B');
    await until(b, (s) => s.cart.count === 3, 'B hears A');
    const locks = await navigator.locks.query();
    const mine = (l: { name?: string }[] = []) => l.filter((x) => x.name === `${ns}:leader`);
    expect(mine(locks.held)).to.have.length(1);
    expect(mine(locks.pending)).to.have.length(1);
    await a.close();
    await until(b, (s) => s.status.pending === 2, 'outbox intact');
    const after = await navigator.locks.query();
    expect(mine(after.held)).to.have.length(1);
    expect(mine(after.pending)).to.have.length(0);
  });

  it('gives up the leader role on pagehide (bfcache) and restores state on pageshow', async () => {
    const ns = uniqueNs();
    const a = client({ namespace: ns });
    const b = client({ namespace: ns });
    await Promise.all([a.start(), b.start()]);
    const holders = async () =>
      ((await navigator.locks.query()).held ?? []).filter((l) => l.name === `${ns}:leader`).length;
    const pending = async () =>
      ((await navigator.locks.query()).pending ?? []).filter((l) => l.name === `${ns}:leader`)
        .length;
    expect(await holders()).to.equal(1);
    // One page event reaches every client of this page: both leave as if frozen together.
    dispatchEvent(new PageTransitionEvent('pagehide', { persisted: true }));
    // Nobody holds the role any more, and nobody of this page waits for it.
    await navigator.locks.request(`${ns}:leader`, async () => {
      expect(await pending()).to.equal(0);
    });
    // Meanwhile another tab (a client that stays) changes the cart.
    const other = client({ namespace: ns });
    await other.start();
    other.cart.add('WHILE-HIDDEN', 1);
    await other.close();
    dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }));
    await until(a, (s) => cartOf(s)['WHILE-HIDDEN'] === 1, 'restored from storage');
    await until(b, (s) => cartOf(s)['WHILE-HIDDEN'] === 1);
    expect(await holders()).to.equal(1);
    expect(await pending()).to.equal(1);
  });

  it('works over the in-memory transport double', async () => {
    const tabs = memoryTabs();
    const ns = uniqueNs();
    const a = client({ namespace: ns, tabs });
    const b = client({ namespace: ns, tabs });
    await Promise.all([a.start(), b.start()]);
    a.cart.add('A', 1);
    await until(b, (s) => cartOf(s)['A'] === 1);
  });

  it('never shares between different namespaces', async () => {
    const a = client({ namespace: uniqueNs() });
    const b = client({ namespace: uniqueNs() });
    await Promise.all([a.start(), b.start()]);
    a.cart.add('A', 1);
    await until(a, (s) => s.status.pending === 1 && s.status.storage === 'indexeddb');
    const c = client({ namespace: uniqueNs() });
    await c.start();
    expect(b.cart.count).to.equal(0);
    expect(c.cart.count).to.equal(0);
  });
});

describe('client: consent', () => {
  it('keeps state in memory and registers nothing until grant()', async () => {
    const ns = uniqueNs();
    const network = testNetwork(true);
    const c = client({ namespace: ns, consent: 'pending', network });
    c.cart.add('A', 2);
    c.recentlyViewed.track('V');
    await c.start();
    for (const call of [() => c.identity.identify('t'), () => c.identity.createHandoff()]) {
      const error = await call().then(
        () => null,
        (e: unknown) => e,
      );
      expect(error).to.be.instanceOf(OmniError).and.include({ code: 'forbidden' });
    }
    expect(await dbNames()).not.to.include(ns);
    expect(network.requests).to.deep.equal([]);
    expect(c.status.storage).to.equal('memory');
    network.setOnline(false);
    await c.grant();
    expect(await dbNames()).to.include(ns);
    expect(cartOf(c.state)).to.deep.equal({ A: 2 });
    await c.close();
    const again = client({ namespace: ns });
    await again.start();
    expect(cartOf(again.state)).to.deep.equal({ A: 2 });
  });

  it('forget() without consent erases what was only in memory, and grant() sends nothing', async () => {
    const ns = uniqueNs();
    const network = testNetwork(true);
    const c = client({ namespace: ns, consent: 'pending', network });
    c.cart.add('A', 2);
    c.recentlyViewed.track('V');
    await c.identity.forget();
    expect(c.cart.count).to.equal(0);
    expect(c.recentlyViewed.items).to.deep.equal([]);
    await c.grant();
    await c.sync();
    expect(c.cart.count).to.equal(0);
    expect(network.requests.filter((p) => p.endsWith('/push'))).to.deep.equal([]);
  });
});

describe('client: storage failures fall back to memory', () => {
  it('works without IndexedDB and says so once', async () => {
    const logger = quietLogger();
    const desc = Object.getOwnPropertyDescriptor(window, 'indexedDB');
    Object.defineProperty(window, 'indexedDB', { value: undefined, configurable: true });
    try {
      const c = client({ namespace: uniqueNs(), logger });
      c.cart.add('A', 1);
      await c.start();
      c.cart.add('B', 1);
      await until(c, (s) => s.status.pending === 2);
      expect(c.status.storage).to.equal('memory');
      expect(c.status.error?.code).to.equal('storage');
      expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 1 });
    } finally {
      if (desc) Object.defineProperty(window, 'indexedDB', desc);
      else delete (window as { indexedDB?: unknown }).indexedDB;
    }
    expect(logger.messages).to.have.length(1);
    expect(logger.messages[0]).to.match(/^\[omnikit\] storage failed/);
  });

  it('survives the database being deleted while open', async () => {
    const logger = quietLogger();
    const ns = uniqueNs();
    const c = client({ namespace: ns, logger });
    c.cart.add('A', 1);
    await until(c, (s) => s.status.pending === 1 && s.status.storage === 'indexeddb');
    await deleteDB(ns);
    await until(c, (s) => s.status.storage === 'memory', 'fallback');
    c.cart.add('B', 2);
    await until(c, (s) => s.status.pending === 2);
    expect(cartOf(c.state)).to.deep.equal({ A: 1, B: 2 });
    expect(logger.messages).to.have.length(1);
  });

  it('survives a quota error on write', async () => {
    const logger = quietLogger();
    const c = client({ namespace: uniqueNs(), logger });
    await c.start();
    const put = IDBObjectStore.prototype.put;
    IDBObjectStore.prototype.put = function () {
      throw new DOMException('quota', 'QuotaExceededError');
    };
    try {
      c.cart.add('A', 1);
      await until(c, (s) => s.status.storage === 'memory' && s.status.pending === 1);
    } finally {
      IDBObjectStore.prototype.put = put;
    }
    expect(cartOf(c.state)).to.deep.equal({ A: 1 });
    expect(logger.messages).to.have.length(1);
  });

  it('survives an open that never settles (an upgrade blocked by another tab)', async () => {
    const logger = quietLogger();
    // A real upgrade that stays blocked: an old connection that ignores `versionchange`.
    const other = uniqueNs('blocker');
    const holder = await openDB(other, 1);
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = function () {
      return open.call(this, other, 2);
    };
    try {
      const c = client({ namespace: uniqueNs(), logger, storageTimeoutMs: 100 });
      c.cart.add('A', 1);
      await c.start();
      await until(c, (s) => s.status.storage === 'memory' && s.status.pending === 1);
    } finally {
      IDBFactory.prototype.open = open;
      holder.close();
    }
    expect(logger.messages).to.have.length(1);
  });
});
