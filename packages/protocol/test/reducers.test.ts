import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIMITS,
  OmniError,
  applyBatch,
  applyMutation,
  emptyState,
  lineKey,
  rebase,
  recentIds,
  reduce,
  type Mutation,
  type MutationArgs,
  type MutationName,
  type ProfileState,
} from '@omnikit/protocol';

let n = 0;
/** A mutation with the next seq; `at` defaults to the seq so times are easy to read. */
function mut<N extends MutationName>(name: N, args: MutationArgs[N], at = n + 1): Mutation {
  n += 1;
  return { seq: n, name, args, at } as Mutation;
}

const apply = (...ms: Mutation[]) => reduce(ms);
const lines = (s: ProfileState) => s.cart.lines.map((l) => [l.key, l.qty]);

function assertInvalid(fn: () => unknown, path: string, extra?: Record<string, unknown>) {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof OmniError);
    assert.equal(e.code, 'invalid_argument');
    assert.equal((e.details as { path: string }).path, path);
    if (extra)
      for (const [k, v] of Object.entries(extra))
        assert.deepEqual((e.details as Record<string, unknown>)[k], v);
    return true;
  });
}

test('emptyState is a fresh empty profile each time', () => {
  const a = emptyState();
  assert.deepEqual(a, { cart: { lines: [], pickupStore: null }, viewed: [], prefs: {} });
  assert.notEqual(a, emptyState());
});

test('lineKey is canonical: option order does not matter and encoding is unambiguous', () => {
  assert.equal(lineKey('tee-1'), 'tee-1');
  assert.equal(lineKey('tee-1', {}), 'tee-1');
  assert.equal(lineKey('tee-1', { size: 'M', color: 'red' }), 'tee-1?color=red&size=M');
  assert.equal(
    lineKey('tee-1', { color: 'red', size: 'M' }),
    lineKey('tee-1', { size: 'M', color: 'red' }),
  );
  assert.notEqual(lineKey('a', { x: '1&y=2' }), lineKey('a', { x: '1', y: '2' }));
  assert.equal(lineKey('a', { 사이즈: 'L' }), 'a?%EC%82%AC%EC%9D%B4%EC%A6%88=L');
});

test('cart.add creates a line, then adds deltas to it', () => {
  const s = apply(
    mut('cart.add', { sku: 'A', qty: 2 }, 100),
    mut('cart.add', { sku: 'A', qty: 3 }, 200),
  );
  assert.deepEqual(s.cart.lines, [{ key: 'A', sku: 'A', qty: 5, addedAt: 100, updatedAt: 200 }]);
});

test('cart.add keeps options (canonically sorted) and keys lines by sku + options', () => {
  const s = apply(
    mut('cart.add', { sku: 'T', qty: 1, options: { size: 'M', color: 'red' } }, 5),
    mut('cart.add', { sku: 'T', qty: 1, options: { size: 'L' } }, 6),
    mut('cart.add', { sku: 'T', qty: 1, options: { color: 'red', size: 'M' } }, 7),
  );
  assert.deepEqual(lines(s), [
    ['T?color=red&size=M', 2],
    ['T?size=L', 1],
  ]);
  assert.deepEqual(Object.keys(s.cart.lines[0]?.options ?? {}), ['color', 'size']);
});

test('cart.add with a negative delta decrements and removes the line at <= 0', () => {
  const s1 = apply(mut('cart.add', { sku: 'A', qty: 3 }), mut('cart.add', { sku: 'A', qty: -1 }));
  assert.deepEqual(lines(s1), [['A', 2]]);
  const s2 = reduce([mut('cart.add', { sku: 'A', qty: -5 })], s1);
  assert.deepEqual(lines(s2), []);
});

test('cart.add with a negative delta on a missing line is a no-op', () => {
  const s = emptyState();
  assert.equal(applyMutation(s, mut('cart.add', { sku: 'A', qty: -1 })), s);
});

test('cart.add clamps at maxQtyPerLine', () => {
  const s = apply(mut('cart.add', { sku: 'A', qty: 990 }), mut('cart.add', { sku: 'A', qty: 20 }));
  assert.deepEqual(lines(s), [['A', LIMITS.maxQtyPerLine]]);
  // Already at the limit: nothing changes, not even updatedAt.
  assert.equal(applyMutation(s, mut('cart.add', { sku: 'A', qty: 1 })), s);
});

test('cart.setQuantity sets, creates, and removes at 0', () => {
  const s1 = apply(mut('cart.setQuantity', { sku: 'A', qty: 4 }, 1));
  assert.deepEqual(s1.cart.lines, [{ key: 'A', sku: 'A', qty: 4, addedAt: 1, updatedAt: 1 }]);
  const s2 = reduce([mut('cart.setQuantity', { sku: 'A', qty: 7 }, 9)], s1);
  assert.deepEqual(s2.cart.lines, [{ key: 'A', sku: 'A', qty: 7, addedAt: 1, updatedAt: 9 }]);
  assert.equal(applyMutation(s2, mut('cart.setQuantity', { sku: 'A', qty: 7 }, 10)), s2);
  assert.deepEqual(lines(reduce([mut('cart.setQuantity', { sku: 'A', qty: 0 })], s2)), []);
  const none = emptyState();
  assert.equal(applyMutation(none, mut('cart.setQuantity', { sku: 'A', qty: 0 })), none);
});

test('cart.remove removes the matching line only; removing a missing line is a no-op', () => {
  const s = apply(
    mut('cart.add', { sku: 'A', qty: 1 }),
    mut('cart.add', { sku: 'A', qty: 1, options: { size: 'S' } }),
  );
  assert.deepEqual(lines(reduce([mut('cart.remove', { sku: 'A', options: { size: 'S' } })], s)), [
    ['A', 1],
  ]);
  assert.deepEqual(lines(reduce([mut('cart.remove', { sku: 'A' })], s)), [['A?size=S', 1]]);
  assert.equal(applyMutation(s, mut('cart.remove', { sku: 'B' })), s);
});

test('cart.clear empties the lines and keeps the pickup store', () => {
  const s = apply(
    mut('cart.add', { sku: 'A', qty: 1 }),
    mut('cart.setPickupStore', { storeId: 'store-7' }),
    mut('cart.clear', {}),
  );
  assert.deepEqual(s.cart, { lines: [], pickupStore: 'store-7' });
  assert.equal(applyMutation(s, mut('cart.clear', {})), s);
});

test('cart.setPickupStore sets and clears the store', () => {
  const s = apply(mut('cart.setPickupStore', { storeId: 'S1' }));
  assert.equal(s.cart.pickupStore, 'S1');
  assert.equal(applyMutation(s, mut('cart.setPickupStore', { storeId: 'S1' })), s);
  assert.equal(reduce([mut('cart.setPickupStore', { storeId: null })], s).cart.pickupStore, null);
});

test('viewed.add is newest first, deduplicated by sku, capped at maxViewed', () => {
  const s = apply(
    mut('viewed.add', { sku: 'A' }, 1),
    mut('viewed.add', { sku: 'B' }, 2),
    mut('viewed.add', { sku: 'A' }, 3),
  );
  assert.deepEqual(s.viewed, [
    { sku: 'A', at: 3 },
    { sku: 'B', at: 2 },
  ]);
  const many = reduce(
    Array.from({ length: LIMITS.maxViewed + 5 }, (_, i) => mut('viewed.add', { sku: `p${i}` }, i)),
  );
  assert.equal(many.viewed.length, LIMITS.maxViewed);
  assert.equal(many.viewed[0]?.sku, `p${LIMITS.maxViewed + 4}`);
  assert.equal(many.viewed.at(-1)?.sku, 'p5');
});

test('prefs.set sets, overwrites and deletes with null', () => {
  const s = apply(
    mut('prefs.set', { key: 'size', value: 'M' }),
    mut('prefs.set', { key: 'locale', value: 'ko-KR' }),
  );
  assert.deepEqual(s.prefs, { size: 'M', locale: 'ko-KR' });
  assert.equal(applyMutation(s, mut('prefs.set', { key: 'size', value: 'M' })), s);
  const s2 = reduce([mut('prefs.set', { key: 'size', value: null })], s);
  assert.deepEqual(s2.prefs, { locale: 'ko-KR' });
  assert.equal(applyMutation(s2, mut('prefs.set', { key: 'size', value: null })), s2);
});

test('a 101st cart line is rejected with details; existing lines can still change', () => {
  const full = reduce(
    Array.from({ length: LIMITS.maxLines }, (_, i) => mut('cart.add', { sku: `s${i}`, qty: 1 })),
  );
  assert.equal(full.cart.lines.length, LIMITS.maxLines);
  assertInvalid(
    () => applyMutation(full, mut('cart.add', { sku: 'extra', qty: 1 })),
    'cart.lines',
    {
      limit: 'maxLines',
      max: 100,
    },
  );
  assertInvalid(
    () => applyMutation(full, mut('cart.setQuantity', { sku: 'extra', qty: 1 })),
    'cart.lines',
  );
  assert.deepEqual(lines(reduce([mut('cart.add', { sku: 's0', qty: 1 })], full))[0], ['s0', 2]);
});

test('a 33rd preference is rejected; overwriting or deleting one is fine', () => {
  const full = reduce(
    Array.from({ length: LIMITS.maxPrefs }, (_, i) =>
      mut('prefs.set', { key: `k${i}`, value: 'v' }),
    ),
  );
  assertInvalid(
    () => applyMutation(full, mut('prefs.set', { key: 'one', value: 'more' })),
    'prefs',
    {
      limit: 'maxPrefs',
    },
  );
  assert.equal(reduce([mut('prefs.set', { key: 'k0', value: 'w' })], full).prefs.k0, 'w');
  assert.equal(
    Object.keys(reduce([mut('prefs.set', { key: 'k0', value: null })], full).prefs).length,
    31,
  );
});

test('applyMutation never mutates its input and never reads the clock', () => {
  const s = apply(mut('cart.add', { sku: 'A', qty: 1 }, 1), mut('viewed.add', { sku: 'A' }, 2));
  const frozen = structuredClone(s);
  const m = mut('cart.add', { sku: 'A', qty: 1, options: { b: '2', a: '1' } }, 42);
  const copy = structuredClone(m);
  const out = applyMutation(s, m);
  assert.deepEqual(s, frozen);
  assert.deepEqual(m, copy);
  assert.equal(out.cart.lines[1]?.addedAt, 42);
});

test('applyMutation rejects malformed mutations with OmniError', () => {
  assertInvalid(
    () => applyMutation(emptyState(), { seq: 1, at: 1, name: 'cart.explode', args: {} } as never),
    'mutation.name',
  );
});

test('reduce skips mutations that fail, like the server', () => {
  const full = Array.from({ length: LIMITS.maxLines + 1 }, (_, i) =>
    mut('cart.add', { sku: `s${i}`, qty: 1 }),
  );
  const s = reduce([...full, mut('viewed.add', { sku: 'v' })]);
  assert.equal(s.cart.lines.length, LIMITS.maxLines);
  assert.equal(s.viewed.length, 1);
});

test('applyBatch skips seq <= lastSeq, applies the rest, rejects bad ones without stopping', () => {
  const batch = [
    { seq: 3, at: 1, name: 'cart.add', args: { sku: 'OLD', qty: 1 } },
    { seq: 4, at: 2, name: 'cart.add', args: { sku: 'A', qty: 2 } },
    { seq: 5, at: 3, name: 'cart.add', args: { sku: 'A', qty: 1e6 } },
    { seq: 5, at: 3, name: 'cart.add', args: { sku: 'DUP', qty: 1 } },
    { seq: 7, at: 4, name: 'viewed.add', args: { sku: 'A' } },
  ] as Mutation[];
  const out = applyBatch(emptyState(), 3, batch);
  assert.equal(out.lastSeq, 7);
  assert.deepEqual(lines(out.state), [['A', 2]]);
  assert.deepEqual(out.results, [
    { seq: 3, status: 'skipped' },
    { seq: 4, status: 'applied' },
    {
      seq: 5,
      status: 'rejected',
      error: {
        code: 'invalid_argument',
        message: 'mutation.args.qty must be an integer from -999 to 999',
      },
    },
    { seq: 5, status: 'skipped' },
    { seq: 7, status: 'applied' },
  ]);
  // The retry of the whole batch changes nothing.
  const again = applyBatch(out.state, out.lastSeq, batch);
  assert.equal(again.state, out.state);
  assert.equal(again.lastSeq, 7);
  assert.ok(again.results.every((r) => r.status === 'skipped'));
});

test('applyBatch applies a mutation id once: again under another seq it is skipped, seq consumed', () => {
  const add = (seq: number, id?: string, sku = 'A') =>
    ({ seq, at: seq, name: 'cart.add', args: { sku, qty: 1 }, ...(id && { id }) }) as Mutation;
  // One device sends t1 and t2; another (a tab alone) sent t1 before, under its own seq.
  const first = applyBatch(emptyState(), 0, [add(1, 't1')]);
  assert.deepEqual(first.recent, ['t1']);
  const out = applyBatch(first.state, 4, [add(5, 't1'), add(6, 't2'), add(7)], first.recent);
  assert.deepEqual(lines(out.state), [['A', 3]]);
  assert.deepEqual(
    out.results.map((r) => r.status),
    ['skipped', 'applied', 'applied'],
  );
  assert.equal(out.lastSeq, 7);
  assert.deepEqual(out.recent, ['t1', 't2']);
  // Twice in one batch: the second is skipped.
  const twice = applyBatch(emptyState(), 0, [add(1, 'x'), add(2, 'x')]);
  assert.deepEqual(lines(twice.state), [['A', 1]]);
  assert.deepEqual(
    twice.results.map((r) => r.status),
    ['applied', 'skipped'],
  );
  // A rejected mutation's id is not remembered: sent again once it applies, it counts once.
  const full = applyBatch(emptyState(), 0, [
    { ...add(1, 'r'), args: { sku: 'A', qty: 1e6 } } as Mutation,
  ]);
  assert.equal(full.results[0]?.status, 'rejected');
  assert.deepEqual(full.recent, []);
  // An id that is not 1-64 letters, digits, '.', '_', ':' or '-' is rejected, seq consumed.
  const bad = applyBatch(emptyState(), 0, [
    add(1, 'x'.repeat(65)),
    { ...add(2), id: 7 } as never,
    add(3, 'a b'),
  ]);
  assert.deepEqual(
    bad.results.map((r) => r.status === 'rejected' && r.error.message),
    [
      'mutation.id must be 1-64 characters long',
      'mutation.id must be a string',
      `mutation.id must match ${LIMITS.mutationIdPattern}`,
    ],
  );
  assert.equal(bad.lastSeq, 3);
  // Only the latest maxRecentIds are kept: more than one push carries.
  assert.ok(LIMITS.maxRecentIds >= LIMITS.maxBatch);
  const many = Array.from({ length: LIMITS.maxRecentIds + 5 }, (_, i) => add(i + 1, `m${i}`));
  const kept = applyBatch(emptyState(), 0, many).recent;
  assert.equal(kept.length, LIMITS.maxRecentIds);
  assert.equal(kept[0], 'm5');
  // Two profiles' ids joined (a merge): no repeats, each at its latest place, the latest kept.
  assert.deepEqual(recentIds(['a', 'b', 'c', 'b']), ['a', 'c', 'b']);
  assert.deepEqual(recentIds([...kept, 'n']).slice(-2), [`m${LIMITS.maxRecentIds + 4}`, 'n']);
  assert.equal(recentIds([...kept, 'n']).length, LIMITS.maxRecentIds);
});

test('applyBatch refuses a batch with an unusable seq before applying anything', () => {
  const bad = [{ seq: 1, at: 1, name: 'cart.clear', args: {} }, { seq: 1.5 }] as Mutation[];
  assertInvalid(() => applyBatch(emptyState(), 0, bad), 'mutations[1].seq');
  assertInvalid(
    () => applyBatch(emptyState(), 0, [null] as unknown as Mutation[]),
    'mutations[0].seq',
  );
});

test('rebase re-applies pending mutations and reports the ones that now fail', () => {
  const server = reduce(
    Array.from({ length: LIMITS.maxLines }, (_, i) => mut('cart.add', { sku: `s${i}`, qty: 1 })),
  );
  const ok = mut('cart.add', { sku: 's1', qty: 1 });
  const tooMany = mut('cart.add', { sku: 'new', qty: 1 });
  const view = mut('viewed.add', { sku: 'new' });
  const { state, rejected } = rebase(server, [ok, tooMany, view]);
  assert.equal(state.cart.lines[1]?.qty, 2);
  assert.equal(state.viewed[0]?.sku, 'new');
  assert.equal(rejected.length, 1);
  assert.equal(rejected[0]?.mutation, tooMany);
  assert.equal(rejected[0]?.error.code, 'invalid_argument');
  assert.deepEqual(rebase(server, []), { state: server, rejected: [] });
});
