// identify() from a tab that goes on alone, in memory, with the other tabs' device, while that
// tab moves to a sibling device of its own (sync.ts): identify() was sent with the old device's
// token, so its answer is a snapshot about the old device's seqs. identity.ts must not apply
// it over the sibling's state, and pulls before identify() returns. Real pages (an iframe of
// the test origin is the alone tab), the real server of the runner; the alone tab's identify
// is held at its network boundary (its page's fetch).
import { expect } from '@open-wc/testing';
import { type OmniClient } from '@omnikit/sdk';
import { cartOf, customerToken, storedDevice, uniqueCustomer, uniqueNs, until } from './helpers.js';
import { openTab as page, serverCart, tabSuite, tabsHolding, type TabWindow } from './tabs.js';

const device = tabSuite('identity-sibling');

/** The server's cart of the profile of the device stored under `ns`: quantity by line key. */
const serverCartOf = async (ns: string) => serverCart((await storedDevice(ns)).token);

/** A customer whose account cart (another browser's) holds FIRST 2 and SAVED 1. */
async function customerWithCart(): Promise<string> {
  const customer = uniqueCustomer();
  const account = device();
  await account.identity.identify(await customerToken(customer));
  await account.cart.add('FIRST', 2);
  await account.cart.add('SAVED', 1);
  await account.sync();
  return customer;
}

/**
 * Two tabs of one browser on the device `here` registered (its cart: FIRST 1); the other tab's
 * moves to the outbox then fail, so its change STORED is left in the database and it goes on
 * alone, in memory, with the device borrowed and nothing of its own to send. `here` sends
 * STORED; both tabs show it, idle.
 */
async function aloneWithBorrowedDevice(ns: string) {
  const here = device({ namespace: ns });
  await here.cart.add('FIRST', 1);
  await here.sync();
  const { win, client: alone } = await page(ns);
  await tabsHolding(ns, 2);
  const transaction = win.IDBDatabase.prototype.transaction;
  win.IDBDatabase.prototype.transaction = function (
    this: IDBDatabase,
    names: string | string[],
    mode?: IDBTransactionMode,
  ) {
    if (mode === 'readwrite' && [names].flat().includes('outbox')) {
      throw new win.DOMException('refused', 'UnknownError');
    }
    return transaction.call(this, names, mode);
  } as typeof transaction;
  await alone.cart.add('STORED', 1);
  await until(alone, (s) => s.status.storage === 'memory', 'the memory fallback');
  const idle = (c: OmniClient, what: string) =>
    until(
      c,
      (s) => cartOf(s)['STORED'] === 1 && s.status.pending === 0 && s.status.state === 'online',
      what,
    );
  await idle(here, 'this tab sends STORED');
  await idle(alone, 'the alone tab hears of STORED');
  const { deviceId } = await storedDevice(ns);
  expect(alone.identity.deviceId, 'the alone tab borrows the device').to.equal(deviceId);
  return { here, win, alone, deviceId };
}

/**
 * Holds the alone tab's identify request: before it reaches the server (`before`), or once the
 * server answered, the answer kept from the client. `reached` resolves when it is held there.
 */
function holdIdentify(win: TabWindow, before: boolean) {
  const fetch = win.fetch;
  let reached!: () => void;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  win.fetch = async (input, init) => {
    if (!String(input).endsWith('/v1/identify')) return fetch.call(win, input, init);
    if (before) {
      reached();
      await held;
      return fetch.call(win, input, init);
    }
    const res = await fetch.call(win, input, init);
    reached();
    await held;
    return res;
  };
  return { reached: new Promise<void>((r) => (reached = r)), release };
}

/** The alone tab's change MINE, sent under the sibling device its own change made it mint. */
async function mintsSibling(alone: OmniClient, borrowed: string): Promise<string> {
  await alone.cart.add('MINE', 1);
  const s = await until(
    alone,
    (s) => s.identity.deviceId !== borrowed && cartOf(s)['MINE'] === 1 && s.status.pending === 0,
    'MINE sent under a sibling device',
  );
  return s.identity.deviceId!;
}

describe('identify() in a tab alone in memory that moves to a sibling device meanwhile', () => {
  it("the old device's answer, made before the sibling's change, is not applied: nothing lost", async () => {
    const customer = await customerWithCart();
    const ns = uniqueNs('identify-sibling');
    const { here, win, alone, deviceId } = await aloneWithBorrowedDevice(ns);
    // The server signs the borrowed device (and its family) in and merges the guest cart into
    // the account's; its answer, a snapshot with the borrowed device's seqs, is held.
    const identify = holdIdentify(win, false);
    const signingIn = alone.identity.identify(await customerToken(customer));
    await identify.reached;
    // A change made alone now mints a sibling, on the account now, and is sent under it.
    const sibling = await mintsSibling(alone, deviceId);
    identify.release();
    const merge = await signingIn;
    // Applied, the held answer (the account before MINE) would have taken MINE out of the cart.
    expect(alone.identity.customerId).to.equal(customer);
    expect(alone.identity.deviceId).to.equal(sibling);
    const expected = { FIRST: 3, SAVED: 1, STORED: 1, MINE: 1 };
    expect(cartOf(alone.state)).to.deep.equal(expected);
    expect(alone.state.status.pending).to.equal(0);
    expect(merge?.policy).to.equal('sum');
    expect(merge?.changed).to.deep.equal([{ key: 'FIRST', sku: 'FIRST', from: 2, to: 3 }]);
    expect(merge?.added).to.deep.equal([{ key: 'STORED', sku: 'STORED', qty: 1 }]);
    await alone.sync();
    expect(await serverCartOf(ns)).to.deep.equal(expected);
    await until(here, (s) => s.identity.customerId === customer, 'this tab signed in too');
    await until(here, (s) => cartOf(s)['MINE'] === 1, 'this tab hears of MINE');
    expect(cartOf(here.state)).to.deep.equal(expected);
  });

  it('its answer skipped, identify() returns once a pull shows the account: undoMerge works', async () => {
    const customer = await customerWithCart();
    const ns = uniqueNs('identify-sibling-pull');
    const { win, alone, deviceId } = await aloneWithBorrowedDevice(ns);
    // The request waits before the server: the sibling is minted on the guest profile, which
    // the sign-in then moves, sibling and all, to the account.
    const identify = holdIdentify(win, true);
    const signingIn = alone.identity.identify(await customerToken(customer));
    await identify.reached;
    const sibling = await mintsSibling(alone, deviceId);
    expect(alone.identity.customerId, 'still a guest').to.equal(null);
    identify.release();
    const merge = await signingIn;
    // Returned before that pull, the tab would still show the guest (and the summary would be
    // taken as made into the guest profile: undoMerge would refuse it).
    expect(alone.identity.customerId).to.equal(customer);
    expect(alone.identity.deviceId).to.equal(sibling);
    expect(cartOf(alone.state)).to.deep.equal({ FIRST: 3, SAVED: 1, STORED: 1, MINE: 1 });
    expect(merge?.changed).to.deep.equal([{ key: 'FIRST', sku: 'FIRST', from: 2, to: 3 }]);
    expect(merge?.added.map((l) => `${l.key} ${l.qty}`).sort()).to.deep.equal([
      'MINE 1',
      'STORED 1',
    ]);
    // The summary was taken as made into the account (the profile shown when identify()
    // returned), so undoing it is allowed, and takes back exactly what the merge added.
    await alone.identity.undoMerge();
    await alone.sync();
    expect(cartOf(alone.state)).to.deep.equal({ FIRST: 2, SAVED: 1 });
    expect(await serverCartOf(ns)).to.deep.equal({ FIRST: 2, SAVED: 1 });
  });
});
