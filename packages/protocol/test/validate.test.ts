import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIMITS,
  OmniError,
  emptyState,
  lineKey,
  parseHandoffClaimRequest,
  parseHandoffClaimResponse,
  parseHandoffResponse,
  parseIdentifyRequest,
  parseIdentifyResponse,
  parseMergeSummary,
  parsePoke,
  parseProfileState,
  parsePushRequest,
  parsePushResponse,
  parseRegisterDeviceRequest,
  parseRegisterDeviceResponse,
  parseSiblingDeviceRequest,
  parseSnapshot,
  storable,
  validateMutation,
  type MergeSummary,
  type ProfileState,
  type Snapshot,
} from '@omnikit/protocol';

/** Asserts `fn` throws invalid_argument naming `path` (and, when given, a message fragment). */
function rejects(fn: () => unknown, path: string, message?: RegExp) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OmniError, String(e));
    assert.equal(e.code, 'invalid_argument');
    assert.equal(e.status, 400);
    assert.deepEqual((e.details as { path: string }).path, path);
    assert.ok(e.message.startsWith(`${path} `), e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

const m = (name: string, args: unknown, extra: Record<string, unknown> = {}) => ({
  seq: 1,
  at: 1_700_000_000_000,
  name,
  args,
  ...extra,
});

// ---- mutations ----

test('validateMutation accepts every mutation kind and returns a clean copy', () => {
  const ok = [
    m('cart.add', { sku: 'A-1', qty: 2 }),
    m('cart.add', { sku: 'A', qty: -3, options: { size: 'M', color: 'red' } }),
    m('cart.setQuantity', { sku: 'a/b.c_d', qty: 0 }),
    m('cart.remove', { sku: 'A' }),
    m('cart.clear', {}),
    m('cart.setPickupStore', { storeId: 'store-1' }),
    m('cart.setPickupStore', { storeId: null }),
    m('viewed.add', { sku: 'A' }),
    m('prefs.set', { key: 'size', value: 'M' }),
    m('prefs.set', { key: 'size', value: '' }),
    m('prefs.set', { key: 'size', value: null }),
  ];
  for (const input of ok) assert.deepEqual(validateMutation(input), input);
  // Unknown fields are dropped; options come back sorted; empty options vanish.
  assert.deepEqual(
    validateMutation({ ...m('cart.clear', { x: 1 }), extra: true }),
    m('cart.clear', {}),
  );
  const sorted = validateMutation(m('cart.add', { sku: 'A', qty: 1, options: { z: '1', a: '2' } }));
  assert.deepEqual(Object.keys((sorted.args as { options: object }).options), ['a', 'z']);
  assert.deepEqual(validateMutation(m('cart.remove', { sku: 'A', options: {} })).args, {
    sku: 'A',
  });
});

test('validateMutation rejects a non-object, unknown names and missing args', () => {
  rejects(() => validateMutation(null), 'mutation', /must be an object/);
  rejects(() => validateMutation([]), 'mutation', /must be an object/);
  rejects(
    () => validateMutation(m('cart.explode', {})),
    'mutation.name',
    /not a known mutation: "cart.explode"/,
  );
  rejects(() => validateMutation(m('toString', {})), 'mutation.name');
  rejects(() => validateMutation(m('cart.add', undefined)), 'mutation.args', /must be an object/);
  rejects(() => validateMutation(m('cart.add', 'A')), 'mutation.args');
  rejects(() => validateMutation('x', 'body.mutations[3]'), 'body.mutations[3]');
  rejects(
    () => validateMutation({ ...m('cart.clear', {}), seq: 0 }, 'body.mutations[3]'),
    'body.mutations[3].seq',
  );
});

test('validateMutation rejects bad seq and at', () => {
  for (const seq of [0, -1, 1.5, '1', null, Number.MAX_SAFE_INTEGER + 1, NaN]) {
    rejects(() => validateMutation(m('cart.clear', {}, { seq })), 'mutation.seq', /integer/);
  }
  for (const at of [NaN, Infinity, -Infinity, -1, '1', null, undefined, 1e16]) {
    rejects(() => validateMutation(m('cart.clear', {}, { at })), 'mutation.at', /finite time/);
  }
});

test('validateMutation rejects bad quantities', () => {
  const bad: unknown[] = [0, 1.5, -1000, 1000, 1e9, NaN, Infinity, '2', null, undefined];
  for (const qty of bad)
    rejects(() => validateMutation(m('cart.add', { sku: 'A', qty })), 'mutation.args.qty');
  for (const qty of [-1, 1000, 0.5, '1']) {
    rejects(() => validateMutation(m('cart.setQuantity', { sku: 'A', qty })), 'mutation.args.qty');
  }
  rejects(
    () => validateMutation(m('cart.add', { sku: 'A', qty: 0 })),
    'mutation.args.qty',
    /must not be 0/,
  );
  assert.deepEqual(validateMutation(m('cart.add', { sku: 'A', qty: -999 })).args, {
    sku: 'A',
    qty: -999,
  });
});

test('validateMutation rejects bad skus', () => {
  const bad: unknown[] = ['', '-A', '/A', 'a b', 'a?b', 'ä', 'A'.repeat(65), 1, null, undefined];
  for (const sku of bad) {
    rejects(() => validateMutation(m('cart.add', { sku, qty: 1 })), 'mutation.args.sku');
    rejects(() => validateMutation(m('viewed.add', { sku })), 'mutation.args.sku');
  }
  assert.equal(validateMutation(m('viewed.add', { sku: 'A'.repeat(64) })).name, 'viewed.add');
});

test('text a database cannot store is refused: a NUL, an unpaired surrogate (pairs are fine)', () => {
  const pref = (value: string) => validateMutation(m('prefs.set', { key: 'note', value }));
  for (const value of ['a\u0000b', '\ud800', 'x\udc00', '\udc00\ud800']) {
    rejects(() => pref(value), 'mutation.args.value', /NUL or an unpaired surrogate/);
  }
  const option = { sku: 'A', qty: 1, options: { size: 'M\u0000' } };
  rejects(() => validateMutation(m('cart.add', option)), 'mutation.args.options.size');
  assert.equal(storable('thumbs \u{1F44D} up'), true);
  assert.deepEqual(pref('\u{1F44D}').args, { key: 'note', value: '\u{1F44D}' });
});

test('validateMutation rejects bad options', () => {
  const opts = (options: unknown) => () =>
    validateMutation(m('cart.add', { sku: 'A', qty: 1, options }));
  const nine = Object.fromEntries(
    Array.from({ length: LIMITS.maxOptions + 1 }, (_, i) => [`k${i}`, 'v']),
  );
  rejects(opts(nine), 'mutation.args.options', /at most 8 options/);
  rejects(opts('size=M'), 'mutation.args.options');
  rejects(opts(null), 'mutation.args.options');
  rejects(opts({ size: 1 }), 'mutation.args.options.size', /string/);
  rejects(opts({ size: '' }), 'mutation.args.options.size');
  rejects(
    opts({ size: 'x'.repeat(LIMITS.maxOptionValueLength + 1) }),
    'mutation.args.options.size',
  );
  rejects(opts({ ['k'.repeat(LIMITS.maxOptionKeyLength + 1)]: 'v' }), 'mutation.args.options key');
  // A `__proto__` option is plain data, never a prototype.
  const proto = validateMutation(
    m('cart.add', { sku: 'A', qty: 1, options: JSON.parse('{"__proto__":"x"}') }),
  );
  assert.equal(
    Object.getPrototypeOf((proto.args as { options: object }).options),
    Object.prototype,
  );
});

test('validateMutation rejects bad store ids and preferences', () => {
  for (const storeId of ['', 'a b', 'x'.repeat(65), 5, undefined]) {
    rejects(() => validateMutation(m('cart.setPickupStore', { storeId })), 'mutation.args.storeId');
  }
  for (const key of ['', '1abc', '__proto__', 'a b', 'k'.repeat(33), 3]) {
    rejects(() => validateMutation(m('prefs.set', { key, value: 'v' })), 'mutation.args.key');
  }
  rejects(
    () =>
      validateMutation(
        m('prefs.set', { key: 'k', value: 'v'.repeat(LIMITS.maxPrefValueLength + 1) }),
      ),
    'mutation.args.value',
  );
  rejects(() => validateMutation(m('prefs.set', { key: 'k', value: 1 })), 'mutation.args.value');
  rejects(() => validateMutation(m('prefs.set', { key: 'k' })), 'mutation.args.value');
});

// ---- state and wire bodies ----

const line = (sku: string, qty = 1, options?: Record<string, string>) => ({
  key: lineKey(sku, options),
  sku,
  qty,
  ...(options && { options }),
  addedAt: 1,
  updatedAt: 2,
});

const state: ProfileState = {
  cart: { lines: [line('A', 2), line('T', 1, { size: 'M' })], pickupStore: 'S1' },
  viewed: [{ sku: 'A', at: 5 }],
  prefs: { size: 'M' },
};

test('parseProfileState accepts valid states and returns a clean copy', () => {
  assert.deepEqual(parseProfileState(state), state);
  assert.deepEqual(parseProfileState(emptyState()), emptyState());
  const extra = { ...state, secret: 1, cart: { ...state.cart, lines: [{ ...line('A'), x: 1 }] } };
  assert.deepEqual(parseProfileState(extra).cart.lines, [line('A')]);
});

test('parseProfileState enforces shapes and limits', () => {
  const bad = (patch: object) => () => parseProfileState({ ...state, ...patch });
  rejects(() => parseProfileState(undefined), 'state');
  rejects(bad({ cart: null }), 'state.cart');
  rejects(bad({ cart: { lines: {}, pickupStore: null } }), 'state.cart.lines', /array/);
  rejects(
    bad({
      cart: { lines: Array.from({ length: 101 }, (_, i) => line(`s${i}`)), pickupStore: null },
    }),
    'state.cart.lines',
    /at most 100/,
  );
  rejects(bad({ cart: { lines: [line('A', 0)], pickupStore: null } }), 'state.cart.lines[0].qty');
  rejects(
    bad({ cart: { lines: [line('A', 1000)], pickupStore: null } }),
    'state.cart.lines[0].qty',
  );
  rejects(
    bad({ cart: { lines: [{ ...line('A'), key: 'B' }], pickupStore: null } }),
    'state.cart.lines[0].key',
    /does not match/,
  );
  rejects(bad({ cart: { lines: [], pickupStore: 1 } }), 'state.cart.pickupStore');
  rejects(
    bad({ viewed: Array.from({ length: 51 }, (_, i) => ({ sku: `s${i}`, at: 1 })) }),
    'state.viewed',
  );
  rejects(bad({ viewed: [{ sku: 'A', at: NaN }] }), 'state.viewed[0].at');
  rejects(bad({ prefs: [] }), 'state.prefs');
  rejects(bad({ prefs: { ok: 1 } }), 'state.prefs.ok');
  rejects(
    bad({ prefs: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`k${i}`, 'v'])) }),
    'state.prefs',
    /at most 32/,
  );
});

const snapshot: Snapshot = { profileId: 'p1', customerId: null, version: 3, lastSeq: 7, state };

test('parseSnapshot and parsePoke', () => {
  assert.deepEqual(parseSnapshot(snapshot), snapshot);
  assert.deepEqual(parseSnapshot({ ...snapshot, customerId: 'c-9' }).customerId, 'c-9');
  rejects(() => parseSnapshot({ ...snapshot, version: -1 }), 'body.version');
  rejects(() => parseSnapshot({ ...snapshot, lastSeq: 1.5 }), 'body.lastSeq');
  rejects(() => parseSnapshot({ ...snapshot, profileId: '' }), 'body.profileId');
  rejects(() => parseSnapshot({ ...snapshot, customerId: 7 }), 'body.customerId');
  rejects(
    () => parseSnapshot({ ...snapshot, state: { ...state, viewed: 1 } }),
    'body.state.viewed',
  );
  assert.deepEqual(parsePoke({ version: 4 }), { version: 4 });
  assert.deepEqual(parsePoke({ version: 4, snapshot }), { version: 4, snapshot });
  rejects(() => parsePoke({ version: '4' }), 'poke.version');
  rejects(
    () => parsePoke({ version: 4, snapshot: { ...snapshot, state: null } }),
    'poke.snapshot.state',
  );
  // The device's lastSeq is part of every poke's snapshot: the client rebases over it.
  const { lastSeq: _lastSeq, ...withoutSeq } = snapshot;
  rejects(() => parsePoke({ version: 4, snapshot: withoutSeq }), 'poke.snapshot.lastSeq');
});

test('parseRegisterDeviceRequest/Response', () => {
  assert.deepEqual(parseRegisterDeviceRequest(undefined), {});
  assert.deepEqual(parseRegisterDeviceRequest({}), {});
  assert.deepEqual(parseRegisterDeviceRequest({ channel: 'store' }), { channel: 'store' });
  rejects(() => parseRegisterDeviceRequest({ channel: 'fax' }), 'body.channel', /web, app, store/);
  rejects(() => parseRegisterDeviceRequest('x'), 'body');
  const res = { deviceId: 'd1', token: 't'.repeat(43), profileId: 'p1' };
  assert.deepEqual(parseRegisterDeviceResponse(res), res);
  rejects(() => parseRegisterDeviceResponse({ ...res, token: 5 }), 'body.token');
});

test('parseSiblingDeviceRequest takes an object (or nothing), and no fields from it', () => {
  assert.deepEqual(parseSiblingDeviceRequest(undefined), {});
  assert.deepEqual(parseSiblingDeviceRequest({}), {});
  assert.deepEqual(parseSiblingDeviceRequest({ later: 1 }), {});
  for (const bad of ['x', 1, [], null]) rejects(() => parseSiblingDeviceRequest(bad), 'body');
});

test('parsePushRequest checks the envelope and every seq, leaving contents to applyBatch', () => {
  const body = { deviceId: 'd1', mutations: [m('cart.clear', {}), { seq: 2, name: 'cart.nope' }] };
  assert.deepEqual(parsePushRequest(body), body);
  rejects(() => parsePushRequest({ ...body, deviceId: undefined }), 'body.deviceId');
  rejects(() => parsePushRequest({ ...body, mutations: 'x' }), 'body.mutations', /array/);
  rejects(() => parsePushRequest({ ...body, mutations: [1] }), 'body.mutations[0]');
  rejects(() => parsePushRequest({ ...body, mutations: [{ seq: -1 }] }), 'body.mutations[0].seq');
  const tooMany = Array.from({ length: LIMITS.maxBatch + 1 }, (_, i) =>
    m('cart.clear', {}, { seq: i + 1 }),
  );
  rejects(() => parsePushRequest({ ...body, mutations: tooMany }), 'body.mutations', /at most 100/);
});

test('parsePushResponse', () => {
  const res = {
    version: 9,
    lastSeq: 4,
    results: [
      { seq: 2, status: 'skipped' },
      { seq: 3, status: 'applied' },
      { seq: 4, status: 'rejected', error: { code: 'invalid_argument', message: 'bad' } },
    ],
  };
  assert.deepEqual(parsePushResponse(res), res);
  rejects(
    () => parsePushResponse({ ...res, results: [{ seq: 1, status: 'lost' }] }),
    'body.results[0].status',
  );
  rejects(
    () => parsePushResponse({ ...res, results: [{ seq: 1, status: 'rejected' }] }),
    'body.results[0].error',
  );
});

const summary: MergeSummary = {
  policy: 'sum',
  added: [{ key: 'B', sku: 'B', qty: 2 }],
  changed: [{ key: 'A', sku: 'A', from: 1, to: 3 }],
  dropped: [{ key: 'C', sku: 'C', qty: 1, reason: 'limit' }],
  pickupStoreChanged: true,
  viewedAdded: 2,
  removed: [],
};

test('parseMergeSummary and parseIdentifyRequest/Response', () => {
  assert.deepEqual(parseMergeSummary(summary), summary);
  const { removed: _removed, ...old } = summary;
  assert.deepEqual(parseMergeSummary(old), old);
  rejects(() => parseMergeSummary({ ...summary, policy: 'min' }), 'merge.policy');
  rejects(
    () => parseMergeSummary({ ...summary, pickupStoreChanged: 'yes' }),
    'merge.pickupStoreChanged',
  );
  rejects(
    () =>
      parseMergeSummary({ ...summary, dropped: [{ key: 'C', sku: 'C', qty: 1, reason: 'why' }] }),
    'merge.dropped[0].reason',
  );
  rejects(() => parseMergeSummary({ ...summary, viewedAdded: -1 }), 'merge.viewedAdded');
  assert.deepEqual(parseIdentifyRequest({ token: 'a.b.c' }), { token: 'a.b.c' });
  rejects(() => parseIdentifyRequest({ token: '' }), 'body.token');
  rejects(() => parseIdentifyRequest({}), 'body.token');
  assert.deepEqual(parseIdentifyResponse({ ...snapshot, merge: summary }), {
    ...snapshot,
    merge: summary,
  });
  assert.deepEqual(parseIdentifyResponse({ ...snapshot, merge: null }).merge, null);
  rejects(
    () => parseIdentifyResponse({ ...snapshot, merge: { ...summary, added: 1 } }),
    'body.merge.added',
  );
});

test('parseHandoffResponse and parseHandoffClaimRequest/Response', () => {
  const h = {
    code: 'K7QX-2M',
    url: 'https://shop.example/h/K7QX-2M',
    expiresAt: 1_700_000_600_000,
  };
  assert.deepEqual(parseHandoffResponse(h), h);
  rejects(() => parseHandoffResponse({ ...h, expiresAt: 'soon' }), 'body.expiresAt');
  rejects(() => parseHandoffResponse({ ...h, url: null }), 'body.url');
  assert.deepEqual(parseHandoffClaimRequest({ code: 'K7QX-2M' }), { code: 'K7QX-2M' });
  rejects(() => parseHandoffClaimRequest({ code: 123 }), 'body.code');
  rejects(() => parseHandoffClaimRequest(null), 'body');
  assert.deepEqual(parseHandoffClaimResponse({ ...snapshot, mode: 'joined' }), {
    ...snapshot,
    mode: 'joined',
  });
  rejects(() => parseHandoffClaimResponse({ ...snapshot, mode: 'stolen' }), 'body.mode');
});
