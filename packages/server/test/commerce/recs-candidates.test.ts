// The personalized ranking reuses one set of typed arrays per model across requests
// (candidates.ts): nothing of one request may leak into the next, the arrays must grow with the
// catalog, and a filter that asks the same model again must not disturb the request it runs in.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { RecModel, type RecommendRequest } from '../../src/commerce/recs/index.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;
const sku = (i: number): string => `S${i}`;

/** Baskets over item indexes; a later index is a sku the catalog did not have before. */
const basketArb = fc.uniqueArray(fc.nat(29), { minLength: 1, maxLength: 5 });
const profileArb = fc.array(
  fc.record({ i: fc.nat(31), days: fc.nat(200), type: fc.constantFrom('v', 'c', 'p') }),
  { maxLength: 8 },
);
const requestArb = fc.record({
  profile: profileArb,
  limit: fc.integer({ min: 1, max: 12 }),
  /** Skus whose index is a multiple of this are filtered out (1: no filter). */
  drop: fc.integer({ min: 1, max: 4 }),
});
type Req = typeof requestArb extends fc.Arbitrary<infer R> ? R : never;

function request(r: Req, filter?: (sku: string) => boolean): RecommendRequest {
  const timed = (type: string) =>
    r.profile.filter((p) => p.type === type).map((p) => ({ sku: sku(p.i), at: T0 - p.days * DAY }));
  return {
    strategy: 'personalized',
    limit: r.limit,
    now: T0,
    profile: { viewed: timed('v'), cart: timed('c'), purchased: timed('p') },
    filter,
  };
}

const keep = (r: Req) => (s: string) => r.drop === 1 || Number(s.slice(1)) % r.drop !== 0;

/** A model that has sold `baskets` (a minute apart), with EASE^R built when `dense`. */
function model(baskets: readonly (readonly number[])[], dense: boolean): RecModel {
  const m = new RecModel({ denseMaxItems: dense ? 4000 : 0, denseRebuildBaskets: 1 });
  baskets.forEach((b, x) => m.addBasket(b.map(sku), T0 - DAY + x * 60_000));
  if (dense) m.buildDense();
  return m;
}

test('property: a model answers each request as a fresh model would, also as its catalog grows', () => {
  fc.assert(
    fc.property(
      fc.array(
        basketArb.map((b) => b.map((i) => i % 20)),
        { minLength: 1, maxLength: 40 },
      ),
      // A number: a cart addition of that item; past the first 20, a new item that trending
      // brings in after the arrays were sized. (Not baskets: those leave neighbour lists cached
      // with older counts, by design, so a fresh model would differ for that reason.)
      fc.array(fc.oneof(requestArb, fc.nat(29)), { maxLength: 25 }),
      (start, ops) => {
        for (const dense of [false, true]) {
          const used = model(start, dense);
          const carts: number[] = [];
          const cart = (m: RecModel, i: number) =>
            m.addEvent({ profileId: 'p', sku: sku(i), type: 'add_to_cart', at: T0 });
          for (const op of ops) {
            if (typeof op === 'number') {
              cart(used, op);
              carts.push(op);
              continue;
            }
            const fresh = model(start, dense);
            for (const i of carts) cart(fresh, i);
            const req = request(op, keep(op));
            assert.deepEqual(used.recommend(req), fresh.recommend(req));
          }
        }
      },
    ),
    { seed: 14, numRuns: 60 },
  );
});

test('property: a filter that asks the same model again changes nothing of the answer', () => {
  fc.assert(
    fc.property(
      fc.array(basketArb, { minLength: 1, maxLength: 40 }),
      fc.boolean(),
      requestArb,
      requestArb,
      (baskets, dense, outer, inner) => {
        const m = model(baskets, dense);
        const plain = m.recommend(request(outer, keep(outer)));
        const reentrant = m.recommend(
          request(outer, (s) => {
            m.recommend(request(inner, keep(inner)));
            return keep(outer)(s);
          }),
        );
        assert.deepEqual(reentrant, plain);
      },
    ),
    { seed: 14, numRuns: 150 },
  );
});
