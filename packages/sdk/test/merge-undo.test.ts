// Undoing a guest-to-account merge (`identity.undoMerge`) against the real server, for each merge
// policy: the account cart comes back as it was, on every device, also when the undo is made
// offline and the page reloads before it is sent.
import { expect } from '@open-wc/testing';
import { createClient, type ClientOptions, type MergeSummary, type OmniClient } from '@omnikit/sdk';
import {
  customerToken,
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

type Site = 'sum' | 'max' | 'account' | 'guest';

function device(site: Site, options: Partial<ClientOptions> = {}): OmniClient {
  const c = createClient({
    endpoint: cfg.endpoint,
    publishableKey: cfg.sites[site].publishableKey,
    namespace: uniqueNs(site),
    retry: { baseMs: 20, maxMs: 200 },
    timeoutMs: 3000,
    ...options,
  });
  clients.push(c);
  return c;
}

/** The account cart every test starts from, and what undoing the merge must bring back. */
const ACCOUNT = { A: 1, 'B?size=M': 2 };
const cart = (c: {
  lines: readonly { key: string; qty: number }[];
  pickupStore: string | null;
}) => ({
  lines: Object.fromEntries(c.lines.map((l) => [l.key, l.qty]).sort()),
  pickupStore: c.pickupStore,
});
/** The server's cart of the device stored under `ns`. */
const serverCart = async (ns: string) => cart((await serverSnapshot(ns)).state.cart);
const restored = { lines: ACCOUNT, pickupStore: null };

/**
 * An account device with the account cart, and a guest device (`options`) with its own cart
 * and pickup store that then signs in to the same account: returns both and the merge.
 */
async function merged(site: Site, options: Partial<ClientOptions> = {}) {
  const token = await customerToken(uniqueCustomer());
  const account = device(site);
  await account.identity.identify(token);
  account.cart.add('A', 1);
  account.cart.add('B', 2, { options: { size: 'M' } });
  await account.sync();
  const guest = device(site, options);
  guest.cart.add('A', 2);
  guest.cart.add('C', 1);
  guest.cart.setPickupStore('store-g');
  const merge = (await guest.identity.identify(token))!;
  expect(merge.policy).to.equal(cfg.sites[site].mergePolicy);
  // Every policy takes the guest's pickup store when the account has none.
  await until(account, (s) => s.cart.pickupStore === 'store-g', 'the account device sees it');
  return { account, guest, merge };
}

/** What each policy did to the account cart (so the undo has something to undo). */
const expected: Record<Site, (m: MergeSummary) => void> = {
  sum: (m) => {
    expect(m.changed).to.deep.equal([{ key: 'A', sku: 'A', from: 1, to: 3 }]);
    expect(m.added).to.deep.equal([{ key: 'C', sku: 'C', qty: 1 }]);
  },
  max: (m) => {
    expect(m.changed).to.deep.equal([{ key: 'A', sku: 'A', from: 1, to: 2 }]);
    expect(m.added).to.deep.equal([{ key: 'C', sku: 'C', qty: 1 }]);
  },
  account: (m) => {
    expect([m.added, m.changed, m.removed]).to.deep.equal([[], [], []]);
    expect(m.pickupStoreChanged).to.equal(true);
  },
  guest: (m) => {
    expect(m.added).to.deep.equal([{ key: 'C', sku: 'C', qty: 1 }]);
    expect(m.changed).to.deep.equal([{ key: 'A', sku: 'A', from: 1, to: 2 }]);
    expect(m.removed).to.deep.equal([{ key: 'B?size=M', sku: 'B', qty: 2 }]);
  },
};

for (const site of ['sum', 'max', 'account', 'guest'] as const) {
  describe(`identity.undoMerge (${site === 'account' || site === 'guest' ? `prefer-${site}` : site})`, () => {
    it('restores the account cart, here at once and on every device through sync', async () => {
      const { account, guest, merge } = await merged(site);
      expected[site](merge);
      await guest.identity.undoMerge();
      expect(cart(guest.state.cart)).to.deep.equal(restored);
      await guest.sync();
      expect(cart(guest.state.cart)).to.deep.equal(restored);
      await until(account, (s) => same(cart(s.cart), restored), 'the account device sees the undo');
      // Once: the merge is undone, a second call changes nothing.
      await guest.identity.undoMerge();
      expect(guest.status.pending).to.equal(0);
    });

    it('made offline, survives a reload and reaches the server once back online', async () => {
      const network = testNetwork();
      const ns = uniqueNs(site);
      const { account, guest } = await merged(site, { namespace: ns, network });
      network.setOnline(false);
      await guest.identity.undoMerge();
      expect(cart(guest.state.cart)).to.deep.equal(restored);
      expect(guest.status.pending).to.be.greaterThan(0);
      await guest.close();
      // The page reloads, still offline: the undo is stored, so the view still shows it.
      const again = testNetwork(false);
      const reloaded = device(site, { namespace: ns, network: again });
      await reloaded.start();
      expect(cart(reloaded.state.cart)).to.deep.equal(restored);
      again.setOnline(true);
      await reloaded.sync();
      expect(await serverCart(ns)).to.deep.equal(restored);
      await until(account, (s) => same(cart(s.cart), restored), 'the account device sees the undo');
    });
  });
}

it('undoMerge(summary) undoes a merge this page did not make (the summary was kept)', async () => {
  const network = testNetwork();
  const ns = uniqueNs('sum');
  const { guest, merge } = await merged('sum', { namespace: ns, network });
  await guest.close();
  const reloaded = device('sum', { namespace: ns, network });
  // Without a summary there is nothing this client merged: nothing happens.
  await reloaded.identity.undoMerge();
  expect(reloaded.status.pending).to.equal(0);
  await reloaded.identity.undoMerge(merge);
  expect(cart(reloaded.state.cart)).to.deep.equal(restored);
  await reloaded.sync();
  expect(await serverCart(ns)).to.deep.equal(restored);
});

const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);
