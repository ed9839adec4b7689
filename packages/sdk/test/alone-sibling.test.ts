// A tab whose storage fails while the database stays goes on alone, in memory, with the device
// of the tabs that still use the database; once it has sent what it had of that device's outbox,
// its own changes go under a sibling device (sync.ts). Two ways into and out of that: a device
// registration under way when the tab went alone, and a sibling answered after the tab started
// over. Real IndexedDB, real pages, the real server of the runner.
import { expect } from '@open-wc/testing';
import { type TabMessage, type TabTransportFactory } from '@omnikit/sdk';
import { cartOf, pullAs, storedDevice, testNetwork, uniqueNs, until } from './helpers.js';
import { holdStore, neverCommits, openTab, serverCart, tabSuite, tabsHolding } from './tabs.js';

/** What the server answers a registration (and a sibling) with. */
type Device = { deviceId: string; token: string; profileId: string };

const device = tabSuite('alone-sibling');

/** This tab, with a device registered (FIRST sent), and a second page that shares it. */
async function sharedDevice(ns: string) {
  const here = device({ namespace: ns });
  await here.cart.add('FIRST', 1);
  await here.sync();
  const { win, client: other } = await openTab(ns);
  await tabsHolding(ns, 2);
  return { here, win, other };
}

const holdLock = (name: string) =>
  new Promise<() => void>((granted) => {
    void navigator.locks.request(name, () => new Promise<void>(granted));
  });

/**
 * Resolves once the lock `name` is requested and not granted (`waiting`), or granted with no
 * request for it left waiting (`taken`).
 */
async function lockIs(name: string, state: 'waiting' | 'taken') {
  const has = (ls?: LockInfo[]) => (ls ?? []).some((l) => l.name === name);
  for (;;) {
    const { held, pending } = await navigator.locks.query();
    if (state === 'waiting' ? has(pending) : has(held) && !has(pending)) return;
    await new Promise(requestAnimationFrame);
  }
}

/**
 * The default transport, except that this tab never hears that another registered the device
 * (`device`: its message still on its way), so its own registration runs: messages between tabs
 * arrive whenever they do, and this pins the order.
 */
const deviceNotHeard: TabTransportFactory = (name) => {
  const ch = new BroadcastChannel(name);
  return {
    post: (m) => ch.postMessage(m),
    listen(cb) {
      const h = ({ data }: MessageEvent) =>
        void ((data as TabMessage).type !== 'device' && cb(data));
      ch.addEventListener('message', h);
      return () => ch.removeEventListener('message', h);
    },
    close: () => ch.close(),
  };
};

describe('a tab alone with the database device: its own changes go under a sibling', () => {
  it("a registration that ends after the tab went alone gives the database's device: the tab sends under a sibling, nothing lost or applied twice", async () => {
    const ns = uniqueNs('alone-register');
    // Two clients of this page, as two tabs: each its own tab id, the same locks and database.
    const here = device({ namespace: ns });
    await here.start();
    const net = testNetwork();
    // Its storage gives up after 1 s (the others' after 5).
    const alone = device({
      namespace: ns,
      network: net,
      tabs: deviceNotHeard,
      storageTimeoutMs: 1000,
    });
    await alone.start();
    await tabsHolding(ns, 2);
    // This tab (the leader) registers the browser's device, stored in the database, and sends
    // FIRST; the other tab has not heard of the device.
    await here.cart.add('FIRST', 1);
    await here.sync();
    const { deviceId, token } = await storedDevice(ns);
    expect(alone.identity.deviceId).to.equal(null);
    // The other tab needs the device (a handoff): it waits for the registration lock, held here
    // as by a tab still registering...
    const letGo = await holdLock(`${ns}:register`);
    const handoff = alone.identity.createHandoff();
    await lockIs(`${ns}:register`, 'waiting');
    // ...and when it gets it, the database stalls: its read of the stored device waits.
    const release = await holdStore(ns);
    letGo();
    await lockIs(`${ns}:register`, 'taken');
    // Its next change is stored (in the drafts) but cannot get a seq in time: it goes on alone,
    // in memory, still without a device, and leaves B1 to the database.
    await alone.cart.add('B1', 1);
    await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
    expect(alone.identity.deviceId).to.equal(null);
    // The database is back: the read ends with the database's device, which this tab gets.
    release();
    await handoff;
    expect(alone.identity.deviceId).to.equal(deviceId);
    // B1 is in the database's outbox, given its seq late by the alone tab's stalled write (its
    // `sequence` was queued behind the held store before this tab's read, so this tab never
    // sequences B1 itself, which would start a sync): this tab, which read it there on hearing
    // the other went alone, sends it without being asked.
    await until(here, (s) => cartOf(s)['B1'] === 1 && s.status.pending === 0, 'B1 sent by itself');
    // Both go on editing. B1, left to the database, has the seq after FIRST there (given late
    // by the alone tab's stalled write) and A2 the next: a counter of the alone
    // tab's own for the same device would give B2 one of these, and the server would skip one
    // of the pair.
    await alone.cart.add('B2', 1);
    await here.cart.add('A2', 1);
    await alone.sync();
    // This tab sends B1 and A2.
    await here.sync();
    // Every change once on the server...
    const all = { FIRST: 1, B1: 1, A2: 1, B2: 1 };
    expect(await serverCart(token)).to.deep.equal(all);
    // ...the alone tab's under a device of its own (a sibling); it registered none.
    expect(alone.identity.deviceId).to.not.equal(deviceId);
    expect(net.requests).to.include('/v1/devices/sibling');
    expect(net.requests).to.not.include('/v1/devices');
    const equal = (cart: Record<string, number>) =>
      JSON.stringify(Object.entries(cart).sort()) === JSON.stringify(Object.entries(all).sort());
    await until(here, (s) => equal(cartOf(s)), 'this tab shows them all');
    await until(alone, (s) => equal(cartOf(s)), 'the alone tab shows them all');
  });

  it('a sibling answered after forget() is dropped: the tab keeps the device it registered afresh, and its cart', async () => {
    const ns = uniqueNs('alone-forget');
    const { win, other: alone } = await sharedDevice(ns);
    const first = await storedDevice(ns);
    // The alone page's requests go through its own fetch: the server makes the sibling, and its
    // answer is held until released; the devices registered are noted.
    const w = win as unknown as typeof globalThis;
    const send = w.fetch.bind(w);
    let answer!: () => void;
    const answered = new Promise<void>((r) => (answer = r));
    let minted!: (d: Device) => void;
    const sibling = new Promise<Device>((r) => (minted = r));
    const registered: Device[] = [];
    w.fetch = async (input, init) => {
      const res = await send(input, init);
      const path = new URL(String(input)).pathname;
      if (path === '/v1/devices') registered.push((await res.clone().json()) as Device);
      if (path === '/v1/devices/sibling') {
        minted((await res.clone().json()) as Device);
        await answered;
      }
      return res;
    };
    try {
      // Its writes fail: it goes on alone with the database's device, and MINE (not stored) is
      // its own to send, under a sibling it asks for.
      neverCommits(win);
      await alone.cart.add('MINE', 1);
      await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
      const s = await sibling;
      // The shopper forgets this browser before the sibling's answer arrives...
      await alone.identity.forget();
      expect(cartOf(alone.state)).to.deep.equal({});
      // ...and goes on: a change, and a handoff to another device, which sends the change first,
      // under a device the tab registers afresh.
      await alone.cart.add('AFTER', 1);
      await alone.identity.createHandoff();
      expect(registered).to.have.length(1);
      const fresh = registered[0]!;
      expect(alone.identity.deviceId).to.equal(fresh.deviceId);
      // The sibling's answer arrives: the tab stays where it is, with its cart. Taken, it would
      // move the tab to the sibling, which forget() left on an empty profile of its own.
      answer();
      await alone.sync();
      expect(cartOf(alone.state)).to.deep.equal({ AFTER: 1 });
      expect(await serverCart(fresh.token)).to.deep.equal({ AFTER: 1 });
      expect(alone.identity.deviceId).to.equal(fresh.deviceId);
      expect(alone.identity.profileId).to.equal(fresh.profileId);
      expect([s.deviceId, first.deviceId]).to.not.include(fresh.deviceId);
      expect(registered).to.have.length(1);
    } finally {
      answer();
    }
  });

  it('a change whose write timed out but committed later is applied once: sent by the alone tab and by the others, with one id', async () => {
    const ns = uniqueNs('alone-late');
    const here = device({ namespace: ns });
    await here.start();
    // Its storage gives up after 1 s (the others' after 5).
    const alone = device({ namespace: ns, storageTimeoutMs: 1000 });
    await alone.start();
    await tabsHolding(ns, 2);
    await here.cart.add('FIRST', 1);
    await here.sync();
    const { token } = await storedDevice(ns);
    // The drafts database stalls: the other tab's write of B1 waits behind this hold, past its
    // storage timeout. It goes on alone, in memory, keeping B1, and sends it under a sibling.
    const release = await holdStore(ns, true);
    await alone.cart.add('B1', 1);
    await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
    await alone.sync();
    expect(await serverCart(token)).to.deep.equal({ FIRST: 1, B1: 1 });
    // The database is back: the stalled write commits B1 as a draft, which this tab (reading
    // the store on hearing the other went alone, after that write) sequences and sends under
    // the database's device, as seq 2.
    release();
    const sent = Date.now() + 8000;
    while (!((await pullAs(token)).lastSeq >= 2)) {
      if (Date.now() > sent) throw new Error('B1 was not sent under the database device');
      await new Promise(requestAnimationFrame);
    }
    // Sent twice, applied once: the server knew B1's id.
    expect(await serverCart(token)).to.deep.equal({ FIRST: 1, B1: 1 });
    await here.sync();
    await until(here, (s) => cartOf(s)['B1'] === 1 && s.status.pending === 0, 'B1 once here');
    await until(alone, (s) => cartOf(s)['B1'] === 1 && s.status.pending === 0, 'B1 once there');
  });
});
