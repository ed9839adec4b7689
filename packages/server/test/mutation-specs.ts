// The mutations the randomized sync tests draw from: every kind, a few invalid on arrival.
import fc from 'fast-check';
import type { Mutation } from '@omnikit/protocol';

export type Spec = { name: Mutation['name']; args: Record<string, unknown> };

const sku = fc.constantFrom('a', 'b', 'c', 'd');
export const spec: fc.Arbitrary<Spec> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      name: fc.constant('cart.add' as const),
      args: fc.record({ sku, qty: fc.integer({ min: -3, max: 5 }).filter((q) => q !== 0) }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      name: fc.constant('cart.setQuantity' as const),
      args: fc.record({ sku, qty: fc.integer({ min: 0, max: 6 }) }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({ name: fc.constant('cart.remove' as const), args: fc.record({ sku }) }),
  },
  { weight: 1, arbitrary: fc.constant({ name: 'cart.clear' as const, args: {} }) },
  {
    weight: 3,
    arbitrary: fc.record({ name: fc.constant('viewed.add' as const), args: fc.record({ sku }) }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      name: fc.constant('prefs.set' as const),
      args: fc.record({
        key: fc.constantFrom('size', 'store'),
        value: fc.option(fc.constantFrom('S', 'M'), { nil: null }),
      }),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      name: fc.constant('cart.setPickupStore' as const),
      args: fc.record({ storeId: fc.option(fc.constantFrom('s1', 's2'), { nil: null }) }),
    }),
  },
  // Invalid on arrival: the server consumes and reports them; they must not wedge the outbox.
  {
    weight: 1,
    arbitrary: fc.record({
      name: fc.constant('cart.add' as const),
      args: fc.record({ sku: fc.constant('bad sku'), qty: fc.constant(1) }),
    }),
  },
);
