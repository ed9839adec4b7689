// Sync against the real @omnikit/server the runner starts (test/browser/server-plugin.mjs).
// Two devices = two storage namespaces in one page; two tabs = two clients on one namespace.
import { expect } from '@open-wc/testing';
import {
  browserNetwork,
  createClient,
  OmniError,
  type ClientOptions,
  type Network,
  type OmniClient,
} from '@omnikit/sdk';
import { openDB } from 'idb';
import {
  cartOf,
  customerToken,
  quietLogger,
  serverSnapshot,
  testConfig,
  testNetwork,
  uniqueCustomer,
  uniqueNs,
  until,
  type TestConfig,
} from './helpers.js';

let cfg: TestConfig;
const clients: OmniClient[] = [];

before(async () => {
  cfg = await testConfig();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

function device(
  options: Partial<ClientOptions> & { site?: keyof TestConfig['sites'] } = {},
): OmniClient {
  const { site = 'sum', ...rest } = options;
  const c = createClient({
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites[site].publishableKey,
    namespace: uniqueNs(site),
    retry: { baseMs: 20, maxMs: 200 },
    timeoutMs: 3000,
    ...rest,
  });
  clients.push(c);
  return c;
}

const synced = (c: OmniClient) =>
  until(c, (s) => s.status.pending === 0 && s.status.state === 'online', 'synced');

describe('sync: one device', () => {
  it('registers lazily, pushes the outbox and converges to the server', async () => {
    const ns = uniqueNs();
    const a = device({ namespace: ns });
    await a.start();
    expect(a.identity.deviceId).to.equal(null);
    a.cart.add('A', 2);
    a.cart.add('B', 1, { options: { size: 'M' } });
    a.cart.setPickupStore('store-1');
    a.recentlyViewed.track('V1');
    await a.sync();
    expect(a.identity.deviceId).to.be.a('string');
    expect(a.status.pending).to.equal(0);
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([
      ['A', 2],
      ['B?size=M', 1],
    ]);
    expect(server.state.cart.pickupStore).to.equal('store-1');
    expect(server.state.viewed.map((v) => v.sku)).to.deep.equal(['V1']);
    expect(a.state.cart.lines).to.deep.equal(server.state.cart.lines);
  });
});

describe('sync: large changes', () => {
  it('a queue too big for one request goes in batches the server accepts', async () => {
    const ns = uniqueNs();
    const network = testNetwork(false);
    const a = device({ namespace: ns, network });
    await a.start();
    // 100 lines with 8 long options each: ~95 KB of mutations, over a push's 64 KiB limit.
    const options = Object.fromEntries(
      Array.from({ length: 8 }, (_, k) => [`option-${k}`.padEnd(32, 'k'), 'v'.repeat(64)]),
    );
    const skus = Array.from({ length: 100 }, (_, i) => `SKU-${i}`.padEnd(64, 'x'));
    for (const sku of skus) a.cart.add(sku, 1, { options });
    network.setOnline(true);
    await a.sync();
    const server = await serverSnapshot(ns);
    expect(server.state.cart.lines.map((l) => l.sku)).to.deep.equal(skus);
    expect(a.status.pending).to.equal(0);
  });
});

describe('sync: two devices', () => {
  it('a change on one device reaches the other through the server', async () => {
    const customer = uniqueCustomer();
    const a = device();
    const b = device();
    await a.identity.identify(await customerToken(customer));
    await b.identity.identify(await customerToken(customer));
    await synced(b);
    a.cart.add('SHARED', 3);
    await until(b, (s) => cartOf(s)['SHARED'] === 3, 'B sees A');
    b.cart.setQuantity('SHARED', 1);
    await until(a, (s) => cartOf(s)['SHARED'] === 1, 'A sees B');
    expect(a.identity.customerId).to.equal(customer);
    expect(b.identity.profileId).to.equal(a.identity.profileId);
  });

  it('a stream ticket still on its way when identify ends: the stream opens for the account', async () => {
    // The stream's ticket is held until identify has changed the profile; the stale ticket must
    // not leave the device without a stream (the fallback pull is 60 s away, out of the test).
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let asked!: () => void;
    const ticketAsked = new Promise<void>((r) => (asked = r));
    const net = browserNetwork();
    const network: Network = {
      ...net,
      async fetch(url, init) {
        if (!url.endsWith('/v1/sync/stream-ticket')) return net.fetch(url, init);
        const res = await net.fetch(url, init);
        asked();
        await held;
        return res;
      },
    };
    const customer = uniqueCustomer();
    const laptop = device({ network, fallbackPullMs: 60_000 });
    laptop.cart.add('GUEST', 1);
    await laptop.sync();
    await ticketAsked;
    await laptop.identity.identify(await customerToken(customer));
    release();

    const phone = device();
    await phone.identity.identify(await customerToken(customer));
    phone.cart.add('FROM-PHONE', 1);
    await phone.sync();
    await until(laptop, (s) => cartOf(s)['FROM-PHONE'] === 1, 'the laptop hears the phone');
  });

  it('a stream cut right after it opens (a proxy) backs off; one that held reopens at once', async () => {
    // Each stream is ended (an error) as soon as it opens, as a proxy that cuts streams short
    // would: the leader must not reconnect at once forever. A stream that beat twice has held,
    // so once one does, the backoff starts over.
    const opens: number[] = [];
    const errors: number[] = [];
    let holds = false;
    let next!: () => void;
    let opened = new Promise<void>((r) => (next = r));
    const net = browserNetwork();
    const network: Network = {
      ...net,
      eventSource(url) {
        const es = net.eventSource(url);
        es.addEventListener('open', () => {
          opens.push(performance.now());
          if (holds) {
            for (let i = 0; i < 2; i++) {
              es.dispatchEvent(new MessageEvent('heartbeat', { data: '60000' }));
            }
          }
          setTimeout(() => {
            errors.push(performance.now());
            es.dispatchEvent(new Event('error'));
            next();
            opened = new Promise<void>((r) => (next = r));
          });
        });
        return es;
      },
    };
    const c = device({ network, retry: { baseMs: 20, maxMs: 2000 }, fallbackPullMs: 60_000 });
    c.cart.add('A', 1);
    await synced(c);
    while (opens.length < 8) await opened;
    // Backing off, the 8 opens are at least 10+20+40+…+640 ms apart in all; reconnecting at
    // once, they take about 8 ticket round trips.
    expect(opens[7]! - opens[0]!, 'eight opens of a stream cut at once').to.be.at.least(1000);
    holds = true;
    const held = opens.length;
    while (opens.length < held + 2) await opened;
    // The stream that held ended: the next one opens after the first backoff step, not the 9th.
    expect(opens[held + 1]! - errors[held]!, 'reopened after a stream that held').to.be.below(600);
  });

  it('merges the guest cart into the account cart on identify (sum policy)', async () => {
    const customer = uniqueCustomer();
    const account = device();
    await account.identity.identify(await customerToken(customer));
    account.cart.add('A', 1);
    account.cart.add('B', 1);
    await account.sync();

    const guest = device();
    guest.cart.add('A', 2);
    guest.cart.add('C', 1);
    const merges: unknown[] = [];
    guest.on('merge', (d) => merges.push(d));
    const summary = await guest.identity.identify(await customerToken(customer));
    expect(summary?.policy).to.equal('sum');
    expect(summary?.changed).to.deep.equal([{ key: 'A', sku: 'A', from: 1, to: 3 }]);
    expect(summary?.added).to.deep.equal([{ key: 'C', sku: 'C', qty: 1 }]);
    expect(merges).to.deep.equal([summary]);
    expect(cartOf(guest.state)).to.deep.equal({ A: 3, B: 1, C: 1 });
    await until(account, (s) => cartOf(s)['C'] === 1, 'the other device sees the merge');
    expect(cartOf(account.state)).to.deep.equal({ A: 3, B: 1, C: 1 });
  });

  it('merges by the site policy (prefer-account keeps the account cart)', async () => {
    const customer = uniqueCustomer();
    const account = device({ site: 'account' });
    await account.identity.identify(await customerToken(customer));
    account.cart.add('A', 1);
    await account.sync();
    const guest = device({ site: 'account' });
    guest.cart.add('A', 5);
    guest.cart.add('G', 1);
    const summary = await guest.identity.identify(await customerToken(customer));
    expect(summary?.policy).to.equal('prefer-account');
    expect(cartOf(guest.state)['A']).to.equal(1);
  });

  it('a claimed handoff joins the profile', async () => {
    const a = device();
    a.cart.add('H', 2);
    const handoff = await a.identity.createHandoff();
    expect(handoff.code).to.be.a('string');
    expect(handoff.url).to.contain(encodeURIComponent(handoff.code));
    expect(handoff.expiresAt).to.be.greaterThan(Date.now());
    const b = device();
    expect(await b.identity.claimHandoff(handoff.code)).to.equal('joined');
    expect(cartOf(b.state)).to.deep.equal({ H: 2 });
    expect(b.identity.profileId).to.equal(a.identity.profileId);
    b.cart.add('FROM-B', 1);
    await until(a, (s) => cartOf(s)['FROM-B'] === 1, 'joined devices stay in sync');
  });

  it('logout leaves the customer cart intact and the device empty', async () => {
    const customer = uniqueCustomer();
    const a = device();
    const identities: (string | null)[] = [];
    a.on('identity-change', (d) => identities.push(d.customerId));
    await a.identity.identify(await customerToken(customer));
    a.cart.add('KEEP', 2);
    await a.identity.logout();
    expect(a.cart.count).to.equal(0);
    expect(a.identity.customerId).to.equal(null);
    // Registration (no customer yet), identify, logout.
    expect(identities).to.deep.equal([null, customer, null]);
    const b = device();
    await b.identity.identify(await customerToken(customer));
    expect(cartOf(b.state)).to.deep.equal({ KEEP: 2 });
  });

  it('rejects a bad customer token with a typed error and keeps the cart', async () => {
    const a = device();
    a.cart.add('A', 1);
    let error: unknown;
    try {
      await a.identity.identify('not-a-jwt');
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(OmniError);
    expect((error as OmniError).code).to.equal('unauthorized');
    expect((error as OmniError).status).to.equal(401);
    expect((error as OmniError).message).not.to.contain('not-a-jwt');
    expect(cartOf(a.state)).to.deep.equal({ A: 1 });
  });

  it('forget erases the profile on the server and the local state', async () => {
    const ns = uniqueNs();
    const a = device({ namespace: ns });
    a.cart.add('A', 1);
    await a.sync();
    const before = await serverSnapshot(ns);
    const joined = device();
    await joined.identity.claimHandoff((await a.identity.createHandoff()).code);
    expect(cartOf(joined.state)).to.deep.equal({ A: 1 });
    await a.identity.forget();
    await until(joined, (s) => s.cart.count === 0, 'the erased profile leaves the other device');
    expect(joined.identity.profileId).not.to.equal(before.profileId);
    expect(a.cart.count).to.equal(0);
    expect(a.identity.deviceId).to.equal(null);
    const db = await (await import('idb')).openDB(ns);
    // Emptied: only the time of the reset is kept.
    expect(await db.get('meta', 'meta')).to.deep.include({ seq: 0, device: null, base: null });
    db.close();
    expect(before.state.cart.lines).to.have.length(1);
  });

  it('forget: the poke that follows the erase writes nothing back while the store empties', async () => {
    // The server moves the forgetting device to a fresh profile and pokes its stream. In Firefox
    // that poke often arrived just as the SDK reset its store: the pull it started (still with
    // the old token) brought the fresh profile's snapshot, written after the reset. Here the
    // poke is delivered exactly then: when the SDK closes its stream to reset. The stream is a
    // stand-in that never opens, so no other pull is under way.
    const ns = uniqueNs();
    let erased = false;
    let delivered = false;
    let created!: () => void;
    const streaming = new Promise<void>((resolve) => (created = resolve));
    const network: Network = {
      ...browserNetwork(),
      async fetch(url, init) {
        const res = await fetch(url, init);
        if (init.method === 'DELETE') erased = true;
        return res;
      },
      eventSource() {
        const es = new EventTarget();
        const close = () => {
          if (!erased || delivered) return;
          delivered = true;
          const poke = new MessageEvent('poke', { data: JSON.stringify({ version: 1e6 }) });
          queueMicrotask(() => es.dispatchEvent(poke));
        };
        created();
        return Object.assign(es, { close }) as unknown as EventSource;
      },
    };
    const a = device({ namespace: ns, network });
    a.cart.add('A', 1);
    await a.sync();
    // The client opens its stream once a sync round is over: nothing is in flight now.
    await streaming;
    await a.identity.forget();
    expect(delivered).to.equal(true);
    // Whatever the poke started has finished, and every write it queued has landed.
    await until(a, (s) => s.status.state === 'online', 'the poke handled');
    expect(a.identity.profileId).to.equal(null);
    await a.close();
    const db = await openDB(ns);
    // Emptied: only the time of the reset is kept.
    expect(await db.get('meta', 'meta')).to.deep.include({ seq: 0, device: null, base: null });
    db.close();
  });
});

describe('sync: secrets', () => {
  it('never puts the device token in a URL, a log line or an event', async () => {
    const ns = uniqueNs();
    const network = testNetwork(true);
    const logger = quietLogger();
    const seen: unknown[] = [];
    const a = device({ namespace: ns, network, logger });
    for (const type of [
      'cart-change',
      'identity-change',
      'merge',
      'sync-error',
      'status-change',
    ] as const) {
      a.on(type, (d) => seen.push(d));
    }
    a.cart.add('A', 1);
    await a.sync();
    await a.identity.identify(await customerToken(uniqueCustomer()));
    await until(a, (s) => s.status.state === 'online');
    a.cart.add('B', 1);
    await a.sync();
    const db = await openDB(ns);
    const { device: stored } = (await db.get('meta', 'meta')) as { device: { token: string } };
    db.close();
    expect(stored.token.length).to.be.greaterThan(16);
    expect(await network.streamOpened).to.contain('/v1/sync/stream?ticket=');
    for (const text of [
      ...network.urls,
      ...logger.messages,
      JSON.stringify(seen),
      JSON.stringify(a.state),
    ]) {
      expect(text).not.to.contain(stored.token);
    }
  });
});

describe('sync: tabs', () => {
  it('closing the leader mid-push loses nothing and duplicates nothing', async () => {
    const ns = uniqueNs();
    // The leader's next push reaches the server, which applies it; the answer never comes.
    let hold = false;
    let held!: () => void;
    const pushHeld = new Promise<void>((resolve) => (held = resolve));
    const network: Network = {
      ...browserNetwork(),
      async fetch(url, init) {
        const res = await fetch(url, init);
        if (!hold || !url.endsWith('/v1/sync/push')) return res;
        held();
        return new Promise<Response>((_, reject) =>
          init.signal?.addEventListener('abort', () => reject(init.signal?.reason)),
        );
      },
    };
    const leader = device({ namespace: ns, network });
    await leader.start();
    const follower = device({ namespace: ns });
    await follower.start();
    leader.cart.add('A', 1);
    await leader.sync();
    hold = true;
    for (let i = 0; i < 5; i++) follower.cart.add('A', 1);
    for (let i = 0; i < 5; i++) leader.cart.add(`L${i}`, 1);
    await pushHeld;
    await leader.close();
    await follower.sync();
    const server = await serverSnapshot(ns);
    const expected = { A: 6, L0: 1, L1: 1, L2: 1, L3: 1, L4: 1 };
    expect(Object.fromEntries(server.state.cart.lines.map((l) => [l.key, l.qty]))).to.deep.equal(
      expected,
    );
    expect(cartOf(follower.state)).to.deep.equal(expected);
  });

  it('a real second page that leads is killed mid-push: the other page finishes the job', async () => {
    const ns = uniqueNs('pages');
    const frame = document.createElement('iframe');
    frame.src = `/test/browser/sdk-tab.html?ns=${encodeURIComponent(ns)}`;
    const loaded = new Promise((resolve) =>
      frame.addEventListener('load', resolve, { once: true }),
    );
    document.body.append(frame);
    await loaded;
    const win = frame.contentWindow as Window & {
      omniReady: Promise<OmniClient>;
      holdPushes: boolean;
      pushHeld: Promise<void>;
    };
    const other = await win.omniReady;
    const held = async () =>
      ((await navigator.locks.query()).held ?? []).some((l) => l.name === `${ns}:leader`);
    other.cart.add('FRAME', 1);
    await other.sync();
    expect(await held()).to.equal(true);
    const here = device({ namespace: ns });
    await here.start();
    await until(here, (s) => cartOf(s)['FRAME'] === 1, 'this page sees the other page');
    win.holdPushes = true;
    for (let i = 0; i < 5; i++) other.cart.add(`F${i}`, 1);
    // The server has applied the push, the answer never comes, and the page dies.
    await win.pushHeld;
    frame.remove();
    await until(here, (s) => s.status.pending === 0 && s.cart.count === 6, 'takeover');
    const server = await serverSnapshot(ns);
    expect(Object.fromEntries(server.state.cart.lines.map((l) => [l.key, l.qty]))).to.deep.equal({
      FRAME: 1,
      F0: 1,
      F1: 1,
      F2: 1,
      F3: 1,
      F4: 1,
    });
  });

  it('offline: 20 changes across two tabs, a reload, then back online', async () => {
    const ns = uniqueNs();
    const network = testNetwork(true);
    const t1 = device({ namespace: ns, network });
    const t2 = device({ namespace: ns, network });
    await Promise.all([t1.start(), t2.start()]);
    t1.cart.add('BASE', 1);
    await t1.sync();
    network.setOnline(false);
    await until(t1, (s) => s.status.state === 'offline');
    for (let i = 0; i < 10; i++) t1.cart.add(`S${i % 4}`, 1);
    // The shopper acts in the second tab on what it shows: wait until it shows the first's.
    await until(t2, (s) => s.cart.count === 11, 'tab 2 sees tab 1');
    for (let i = 0; i < 6; i++) t2.cart.add('T', 2);
    t2.cart.setQuantity('S0', 7);
    t2.cart.remove('S1');
    t1.cart.remove('BASE');
    t1.cart.setPickupStore('store-9');
    await until(t1, (s) => s.status.pending === 20, 'both tabs see 20 pending');
    await until(t2, (s) => s.status.pending === 20);
    // Nothing reached the server while offline (a push already under way when the network
    // dropped may try, and fail, like a real one would).
    const offline = await serverSnapshot(ns);
    expect(offline.state.cart.lines.map((l) => [l.key, l.qty])).to.deep.equal([['BASE', 1]]);
    await Promise.all([t1.close(), t2.close()]);

    // Reload: new clients on the same storage, network back.
    const r1 = device({ namespace: ns, network });
    const r2 = device({ namespace: ns, network });
    await Promise.all([r1.start(), r2.start()]);
    expect(r1.status.pending).to.equal(20);
    network.setOnline(true);
    await Promise.all([r1.sync(), r2.sync()]);
    const expected = { S0: 7, S2: 2, S3: 2, T: 12 };
    const server = await serverSnapshot(ns);
    expect(Object.fromEntries(server.state.cart.lines.map((l) => [l.key, l.qty]))).to.deep.equal(
      expected,
    );
    expect(server.state.cart.pickupStore).to.equal('store-9');
    expect(cartOf(r1.state)).to.deep.equal(expected);
    expect(cartOf(r2.state)).to.deep.equal(expected);
  });
});
