import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIMITS,
  emptyState,
  lineKey,
  mergeStates,
  type CartLine,
  type ProfileState,
} from '@omnikit/protocol';

const line = (sku: string, qty: number, at = 1, options?: Record<string, string>): CartLine => ({
  key: lineKey(sku, options),
  sku,
  qty,
  ...(options && { options }),
  addedAt: at,
  updatedAt: at,
});

function profile(lines: CartLine[], more: Partial<ProfileState> = {}): ProfileState {
  return { ...emptyState(), ...more, cart: { lines, pickupStore: null, ...more.cart } };
}

const account = profile([line('A', 1, 10), line('B', 5, 10)]);
const guest = profile([line('B', 2, 20), line('C', 3, 20)]);
const qtys = (s: ProfileState) => s.cart.lines.map((l) => `${l.key}:${l.qty}`);
const base = { pickupStoreChanged: false, viewedAdded: 0, removed: [] };

test('sum adds quantities per line and appends guest-only lines', () => {
  const { state, summary } = mergeStates(account, guest, 'sum');
  assert.deepEqual(qtys(state), ['A:1', 'B:7', 'C:3']);
  assert.deepEqual(state.cart.lines[1], { ...line('B', 7), addedAt: 10, updatedAt: 20 });
  assert.deepEqual(summary, {
    ...base,
    policy: 'sum',
    added: [{ key: 'C', sku: 'C', qty: 3 }],
    changed: [{ key: 'B', sku: 'B', from: 5, to: 7 }],
    dropped: [],
  });
});

test('sum clamps at maxQtyPerLine and reports the excess as dropped for the limit', () => {
  const { state, summary } = mergeStates(
    profile([line('A', 990)]),
    profile([line('A', 20)]),
    'sum',
  );
  assert.deepEqual(qtys(state), ['A:999']);
  assert.deepEqual(summary.changed, [{ key: 'A', sku: 'A', from: 990, to: 999 }]);
  assert.deepEqual(summary.dropped, [{ key: 'A', sku: 'A', qty: 11, reason: 'limit' }]);
});

test('max keeps the larger quantity', () => {
  const { state, summary } = mergeStates(
    account,
    profile([line('A', 4), line('B', 2), line('C', 3)]),
    'max',
  );
  assert.deepEqual(qtys(state), ['A:4', 'B:5', 'C:3']);
  assert.deepEqual(summary, {
    ...base,
    policy: 'max',
    added: [{ key: 'C', sku: 'C', qty: 3 }],
    changed: [{ key: 'A', sku: 'A', from: 1, to: 4 }],
    dropped: [],
  });
});

test('prefer-account keeps a non-empty account cart and reports the guest lines dropped', () => {
  const { state, summary } = mergeStates(account, guest, 'prefer-account');
  assert.deepEqual(state.cart.lines, account.cart.lines);
  assert.deepEqual(summary, {
    ...base,
    policy: 'prefer-account',
    added: [],
    changed: [],
    dropped: [
      { key: 'B', sku: 'B', qty: 2, reason: 'policy' },
      { key: 'C', sku: 'C', qty: 3, reason: 'policy' },
    ],
  });
});

test('prefer-account takes the guest cart when the account cart is empty', () => {
  const { state, summary } = mergeStates(emptyState(), guest, 'prefer-account');
  assert.deepEqual(state.cart.lines, guest.cart.lines);
  assert.deepEqual(summary.added, [
    { key: 'B', sku: 'B', qty: 2 },
    { key: 'C', sku: 'C', qty: 3 },
  ]);
  assert.deepEqual(summary.dropped, []);
});

test('prefer-guest replaces the account cart with a non-empty guest cart', () => {
  const { state, summary } = mergeStates(account, guest, 'prefer-guest');
  assert.deepEqual(state.cart.lines, guest.cart.lines);
  assert.deepEqual(summary, {
    ...base,
    policy: 'prefer-guest',
    added: [{ key: 'C', sku: 'C', qty: 3 }],
    changed: [{ key: 'B', sku: 'B', from: 5, to: 2 }],
    dropped: [],
    removed: [{ key: 'A', sku: 'A', qty: 1 }],
  });
  const kept = mergeStates(account, emptyState(), 'prefer-guest');
  assert.deepEqual(kept.state.cart.lines, account.cart.lines);
  assert.deepEqual([kept.summary.added, kept.summary.removed], [[], []]);
});

test('lines with different options are different lines', () => {
  const { state, summary } = mergeStates(
    profile([line('T', 1, 1, { size: 'M' })]),
    profile([line('T', 1, 1, { size: 'L' })]),
    'sum',
  );
  assert.deepEqual(qtys(state), ['T?size=M:1', 'T?size=L:1']);
  assert.deepEqual(summary.added, [{ key: 'T?size=L', sku: 'T', qty: 1 }]);
});

test('lines beyond maxLines are dropped for the limit, account lines first', () => {
  const many = (prefix: string, n: number) =>
    Array.from({ length: n }, (_, i) => line(`${prefix}${i}`, 1));
  const { state, summary } = mergeStates(profile(many('a', 98)), profile(many('g', 4)), 'sum');
  assert.equal(state.cart.lines.length, LIMITS.maxLines);
  assert.deepEqual(
    summary.added.map((l) => l.key),
    ['g0', 'g1'],
  );
  assert.deepEqual(summary.dropped, [
    { key: 'g2', sku: 'g2', qty: 1, reason: 'limit' },
    { key: 'g3', sku: 'g3', qty: 1, reason: 'limit' },
  ]);
});

test('pickup store: the account keeps its own, takes the guest one when it has none', () => {
  const s1 = profile([], { cart: { lines: [], pickupStore: 'S1' } });
  const s2 = profile([], { cart: { lines: [], pickupStore: 'S2' } });
  assert.equal(mergeStates(s1, s2, 'sum').state.cart.pickupStore, 'S1');
  assert.equal(mergeStates(s1, s2, 'sum').summary.pickupStoreChanged, false);
  assert.equal(mergeStates(emptyState(), s2, 'prefer-account').state.cart.pickupStore, 'S2');
  assert.equal(mergeStates(emptyState(), s2, 'prefer-account').summary.pickupStoreChanged, true);
});

test('viewed: union, newest first by time, deduplicated, capped', () => {
  const a = profile([], {
    viewed: [
      { sku: 'A', at: 5 },
      { sku: 'B', at: 1 },
    ],
  });
  const g = profile([], {
    viewed: [
      { sku: 'B', at: 9 },
      { sku: 'C', at: 3 },
    ],
  });
  const { state, summary } = mergeStates(a, g, 'sum');
  assert.deepEqual(state.viewed, [
    { sku: 'B', at: 9 },
    { sku: 'A', at: 5 },
    { sku: 'C', at: 3 },
  ]);
  assert.equal(summary.viewedAdded, 1);
  const lots = (p: string) =>
    profile([], {
      viewed: Array.from({ length: 50 }, (_, i) => ({ sku: `${p}${i}`, at: 100 - i })),
    });
  const capped = mergeStates(lots('a'), lots('g'), 'sum');
  assert.equal(capped.state.viewed.length, LIMITS.maxViewed);
  assert.equal(capped.summary.viewedAdded, 25);
});

test('prefs: the account wins, the guest fills gaps up to maxPrefs', () => {
  const a = profile([], { prefs: { size: 'M' } });
  const g = profile([], { prefs: { size: 'L', locale: 'ko-KR' } });
  assert.deepEqual(mergeStates(a, g, 'prefer-guest').state.prefs, { size: 'M', locale: 'ko-KR' });
  const full = profile([], {
    prefs: Object.fromEntries(Array.from({ length: LIMITS.maxPrefs }, (_, i) => [`k${i}`, 'v'])),
  });
  assert.equal(Object.keys(mergeStates(full, g, 'sum').state.prefs).length, LIMITS.maxPrefs);
});

test('mergeStates does not mutate its inputs', () => {
  const before = structuredClone([account, guest]);
  for (const policy of ['sum', 'max', 'prefer-account', 'prefer-guest'] as const) {
    mergeStates(account, guest, policy);
  }
  assert.deepEqual([account, guest], before);
});
