// The unload test's own accounting and clean-up, checked without a browser: its real `runCase`
// drives fake tabs (the real `Tab` on a fake page whose `window.soak` is scripted here), and a
// fake server cart is the oracle. Run: node --test test/soak/unload.test.mjs
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Tab } from './tab.mjs';
import { random } from './harness.mjs';
import { runCase, unloadCases } from './unload.mjs';

/**
 * A fake soak of one profile. The page that goes away makes its changes and closes; what it
 * then reports and stores is up to `gone(sku, page)`. Reports "in flight" (a beacon, a binding's
 * last message) arrive when a tab of the profile next syncs, as they may after their page has
 * gone. `fail` names a window.soak call that rejects.
 */
function fakeSoak({ gone = () => {}, fail = null } = {}) {
  const named = new Map();
  const profile = { inFlight: [], noted: new Set(), cart: new Map(), released: [], tabs: [] };
  let leader = null;

  function fakePage(name) {
    const listeners = [];
    const page = {
      name,
      closed: false,
      on: (event, fn) => event === 'close' && listeners.push(fn),
      browser: () => ({ connected: true }),
      async close() {
        if (page.closed) return;
        page.closed = true;
        for (const fn of listeners) fn();
      },
      async evaluate(fn, arg) {
        if (page.closed) throw new Error('Target closed');
        globalThis.window = { soak: api };
        return fn(arg);
      },
    };
    const call = (what, value) => (fail === what ? Promise.reject(new Error(what)) : value);
    const api = {
      online: async () => {},
      leaderTab: () => call('leaderTab', Promise.resolve((leader ??= name))),
      act(skus) {
        for (const sku of skus) gone(sku, page, profile);
        setImmediate(() => page.close());
        return skus.length;
      },
      sync: async () => {
        for (const e of profile.inFlight.splice(0)) named.get(e.tab).hear(e);
      },
      token: async () => ({ token: 't' }),
      resolved: () => [...profile.noted],
      client: { cart: { clear: () => profile.cart.clear() } },
    };
    return page;
  }

  const soak = {
    async tab(_ns, name) {
      const t = new Tab(name);
      named.set(name, t);
      t.attach(fakePage(name), null);
      profile.tabs.push(t);
      t.hear({ type: 'ready', tab: name });
      return t;
    },
    async serverCart() {
      return new Map(profile.cart);
    },
    async release(ns) {
      profile.released.push(ns);
    },
  };
  return { soak, profile };
}

const closeAlone = unloadCases(true).find((c) => c.id === 'close/0ms/alone/cpu1x');

test('a change reported resolved only after its page went away, then lost, is lost_resolved', async () => {
  // The page resolved the change as it went: its localStorage was gone (a detached window), and
  // its report comes in late; the server never got the change.
  const { soak } = fakeSoak({
    gone: (sku, page, profile) => profile.inFlight.push({ type: 'resolved', tab: page.name, sku }),
  });
  const counts = await runCase(soak, random(1), closeAlone, 1, 't');
  assert.deepEqual(
    { lost: counts.lost, resolved: counts.resolved, lostResolved: counts.lostResolved },
    { lost: 1, resolved: 1, lostResolved: 1 },
  );
});

test('a change reported resolved late and delivered counts as resolved, not lost', async () => {
  const { soak } = fakeSoak({
    gone: (sku, page, profile) => {
      profile.inFlight.push({ type: 'resolved', tab: page.name, sku });
      profile.cart.set(sku, 1);
    },
  });
  const counts = await runCase(soak, random(1), closeAlone, 1, 't');
  assert.deepEqual(
    { lost: counts.lost, resolved: counts.resolved, lostResolved: counts.lostResolved },
    { lost: 0, resolved: 1, lostResolved: 0 },
  );
});

test('a change never reported resolved and lost is lost, not lost_resolved', async () => {
  const { soak } = fakeSoak();
  const counts = await runCase(soak, random(1), closeAlone, 1, 't');
  assert.deepEqual(
    { lost: counts.lost, resolved: counts.resolved, lostResolved: counts.lostResolved },
    { lost: 1, resolved: 0, lostResolved: 0 },
  );
});

test('a case that fails closes its tabs and releases its profile', async () => {
  const withTab = unloadCases(true).find((c) => c.id === 'reload/5ms/with-tab/cpu1x');
  const { soak, profile } = fakeSoak({ fail: 'leaderTab' });
  await assert.rejects(runCase(soak, random(1), withTab, 1, 't'), /leaderTab/);
  assert.equal(profile.tabs.length, 2);
  assert.deepEqual(
    profile.tabs.map((t) => t.closed),
    [true, true],
  );
  assert.deepEqual(profile.released, [`unload:t:${withTab.id}`]);
});
