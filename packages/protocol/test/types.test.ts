// Type tests of the public API: these lines must compile (and the @ts-expect-error ones must
// not), so `npm run typecheck` fails when the contract drifts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  LIMITS,
  applyBatch,
  emptyState,
  validateMutation,
  type BatchResult,
  type Mutation,
  type MutationResult,
} from '@omnikit/protocol';

type IsExact<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const exact = <T extends true>(): T | undefined => undefined;

test('public types', () => {
  const add: Mutation<'cart.add'> = { seq: 1, at: 0, name: 'cart.add', args: { sku: 'A', qty: 1 } };
  // @ts-expect-error args must match the name
  const wrong: Mutation = { seq: 1, at: 0, name: 'cart.add', args: { storeId: null } };
  // @ts-expect-error unknown mutation names are not Mutations
  const unknown: Mutation = { seq: 1, at: 0, name: 'cart.explode', args: {} };
  const m = validateMutation(add);
  if (m.name === 'prefs.set') exact<IsExact<typeof m.args.value, string | null>>();
  exact<IsExact<ReturnType<typeof applyBatch>, BatchResult>>();
  exact<IsExact<BatchResult['results'][number], MutationResult>>();
  exact<IsExact<typeof LIMITS.maxLines, 100>>();
  const tamper = () => {
    // @ts-expect-error LIMITS is read-only (and frozen at run time)
    LIMITS.maxLines = 5;
  };
  assert.throws(tamper, TypeError);
  assert.equal(LIMITS.maxLines, 100);
  assert.deepEqual(applyBatch(emptyState(), 1, [add]).results, [{ seq: 1, status: 'skipped' }]);
  assert.ok(wrong && unknown);
});

test('each limit is exported on its own, the same as in LIMITS, and nothing else of limits.ts', async () => {
  const api: Record<string, unknown> = await import('@omnikit/protocol');
  const own: Record<string, unknown> = await import('../src/limits.js');
  for (const [k, v] of Object.entries(LIMITS)) assert.equal(api[k], v, k);
  assert.deepEqual(Object.keys(own).sort(), [...Object.keys(LIMITS), 'LIMITS'].sort());
});
