// Shared fast-check arbitraries and settings for the protocol's property tests.
// Runs are seeded: set FC_SEED to replay a failure (fast-check prints seed and path when a
// property fails), FC_RUNS to multiply the number of runs for a longer soak.
import fc from 'fast-check';
import {
  LIMITS,
  lineKey,
  type CartLine,
  type Mutation,
  type MutationName,
  type ProfileState,
} from '@omnikit/protocol';

export const seed = Number(process.env.FC_SEED ?? 20261124);
const factor = Number(process.env.FC_RUNS ?? 1);

/** fast-check parameters: seeded, `runs` scaled by FC_RUNS. */
export const params = (runs: number): fc.Parameters<unknown> => ({
  seed,
  numRuns: Math.max(1, Math.round(runs * factor)),
  includeErrorInReport: true,
});

// A small sku pool so devices collide on the same lines; a few generated skus for variety.
export const skuArb = fc.oneof(
  { weight: 8, arbitrary: fc.constantFrom('A', 'B', 'C', 'tee-1', 'x/y.z_9') },
  { weight: 1, arbitrary: fc.stringMatching(LIMITS.skuPattern) },
);
export const optionsArb = fc.option(
  fc.dictionary(
    fc.constantFrom('size', 'color', '사이즈'),
    fc.constantFrom('S', 'M', 'red', 'x y&z'),
    {
      minKeys: 1,
      maxKeys: 3,
      noNullPrototype: true,
    },
  ),
  { nil: undefined, freq: 3 },
);
const smallOrAny = (min: number, max: number) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.integer({ min: Math.max(min, -5), max: Math.min(max, 5) }) },
    { weight: 1, arbitrary: fc.integer({ min, max }) },
  );
const withOptions = <T extends object>(o: T, options: Record<string, string> | undefined) =>
  options === undefined ? o : { ...o, options };

/** `{ name, args }` of every mutation kind, valid by construction. */
export const intentArb: fc.Arbitrary<Pick<Mutation, 'name' | 'args'>> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc
      .tuple(skuArb, smallOrAny(-LIMITS.maxQtyPerLine, LIMITS.maxQtyPerLine), optionsArb)
      .filter(([, qty]) => qty !== 0)
      .map(([sku, qty, o]) => ({ name: 'cart.add' as const, args: withOptions({ sku, qty }, o) })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(skuArb, smallOrAny(0, LIMITS.maxQtyPerLine), optionsArb)
      .map(([sku, qty, o]) => ({
        name: 'cart.setQuantity' as const,
        args: withOptions({ sku, qty }, o),
      })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(skuArb, optionsArb)
      .map(([sku, o]) => ({ name: 'cart.remove' as const, args: withOptions({ sku }, o) })),
  },
  { weight: 1, arbitrary: fc.constant({ name: 'cart.clear' as const, args: {} }) },
  {
    weight: 1,
    arbitrary: fc
      .option(fc.constantFrom('S1', 'store-2', 'gangnam.3'), { nil: null })
      .map((storeId) => ({ name: 'cart.setPickupStore' as const, args: { storeId } })),
  },
  {
    weight: 3,
    arbitrary: skuArb.map((sku) => ({ name: 'viewed.add' as const, args: { sku } })),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom('size', 'locale', 'store', 'theme'),
        fc.option(fc.string({ maxLength: 8 }), { nil: null }),
      )
      .map(([key, value]) => ({ name: 'prefs.set' as const, args: { key, value } })),
  },
);

export const atArb = fc.integer({ min: 0, max: 2e12 });

/** A valid mutation with an arbitrary seq and time. */
export const mutationArb: fc.Arbitrary<Mutation> = fc
  .tuple(intentArb, fc.integer({ min: 1, max: 1e6 }), atArb)
  .map(([intent, seq, at]) => ({ ...intent, seq, at }) as Mutation);

/** Numbers a list of intents as one device's mutations (seq 1..n, increasing times). */
export const numbered = (
  intents: readonly Pick<Mutation, 'name' | 'args'>[],
  at0 = 1_700_000_000_000,
): Mutation[] => intents.map((m, i) => ({ ...m, seq: i + 1, at: at0 + i * 1000 }) as Mutation);

export const names: MutationName[] = [
  'cart.add',
  'cart.setQuantity',
  'cart.remove',
  'cart.clear',
  'cart.setPickupStore',
  'viewed.add',
  'prefs.set',
];

// ---- whole states, for merges (drawn directly so they can sit at the limits) ----

const lineArb = (skus: fc.Arbitrary<string>): fc.Arbitrary<CartLine> =>
  fc
    .record(
      {
        sku: skus,
        options: fc.option(fc.constant({ size: 'M' }), { nil: undefined, freq: 4 }),
        qty: smallOrAny(1, LIMITS.maxQtyPerLine),
        addedAt: atArb,
        age: fc.integer({ min: 0, max: 1e6 }),
      },
      { noNullPrototype: true },
    )
    .map(({ sku, options, qty, addedAt, age }) => ({
      key: lineKey(sku, options),
      sku,
      qty,
      ...(options && { options }),
      addedAt,
      updatedAt: addedAt + age,
    }));

/** A valid profile state; `big` allows full carts (up to maxLines lines) from a wide sku pool. */
export const stateArb = (big = false): fc.Arbitrary<ProfileState> => {
  const pool = big ? 160 : 8;
  const skus = fc.integer({ min: 0, max: pool - 1 }).map((i) => `s${i}`);
  const rec = { noNullPrototype: true } as const;
  return fc.record(
    {
      cart: fc.record(
        {
          lines: fc.uniqueArray(lineArb(skus), {
            maxLength: big ? LIMITS.maxLines : 8,
            selector: (l) => l.key,
          }),
          pickupStore: fc.option(fc.constantFrom('S1', 'S2'), { nil: null }),
        },
        rec,
      ),
      viewed: fc.uniqueArray(fc.record({ sku: skus, at: fc.integer({ min: 0, max: 100 }) }, rec), {
        maxLength: big ? LIMITS.maxViewed : 6,
        selector: (v) => v.sku,
      }),
      prefs: fc
        .uniqueArray(
          fc.tuple(
            fc.integer({ min: 0, max: big ? 40 : 5 }).map((i) => `p${i}`),
            fc.string({ maxLength: 4 }),
          ),
          { maxLength: big ? LIMITS.maxPrefs : 4, selector: ([k]) => k },
        )
        .map((e) => Object.fromEntries(e)),
    },
    rec,
  );
};
