import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OmniError } from '@omnikit/protocol';
import {
  RecModel,
  STRATEGIES,
  profileItems,
  type RecommendRequest,
} from '../../src/commerce/recs/index.js';
import { DecayingScores, selectTop } from '../../src/commerce/recs/decay.js';
import { BASKETS } from './baskets.js';

const DAY = 86_400_000;
const T0 = Date.UTC(2026, 0, 1);

/** A small shop that has sold `BASKETS`, a minute apart. */
function fixture(): RecModel {
  const model = new RecModel();
  BASKETS.forEach((skus, i) => model.addBasket(skus, T0 + i * 60_000));
  return model;
}

const skus = (model: RecModel, request: RecommendRequest): string[] =>
  model.recommend(request).items.map((i) => i.sku);

test('also-bought: the strongest co-purchases come first, each with its reason', () => {
  const model = fixture();
  const { items } = model.recommend({ strategy: 'also-bought', sku: 'A', limit: 4 });
  assert.deepEqual(
    items.map((i) => [i.sku, i.reason.code, i.reason.sku]),
    [
      ['B', 'often_bought_with', 'A'],
      ['C', 'often_bought_with', 'A'],
      // Then the fallback chain ends in trending: E sold most, D is the next one not shown.
      ['E', 'trending', undefined],
      ['D', 'trending', undefined],
    ],
  );
  assert.equal(items[0]!.reason.text, 'often bought with A');
  assert.ok(items[0]!.score > items[1]!.score);
});

test('exclusions hold: the anchor, the cart, purchases and the exclude list never come back', () => {
  const model = fixture();
  const got = skus(model, {
    strategy: 'also-bought',
    sku: 'A',
    limit: 10,
    profile: { cart: [{ sku: 'B', at: T0 }], purchased: [{ sku: 'E', at: T0 }] },
    exclude: ['G'],
  });
  assert.deepEqual(got.slice(0, 1), ['C']);
  for (const gone of ['A', 'B', 'E', 'G']) assert.ok(!got.includes(gone), gone);
  assert.deepEqual([...got].sort(), ['C', 'D', 'F']);
  assert.deepEqual(skus(model, { strategy: 'trending', limit: 3, filter: (s) => s !== 'E' }), [
    'C',
    'A',
    'B',
  ]);
});

test('personalized: kNN over viewed, cart and purchases, weighted by event type and recency', () => {
  const model = fixture();
  const { items } = model.recommend({
    strategy: 'personalized',
    limit: 3,
    profile: { viewed: [{ sku: 'A', at: T0 }], purchased: [{ sku: 'D', at: T0 }] },
  });
  // C is a neighbour of both; the purchase of D outweighs the view of A, so it names the reason.
  assert.deepEqual(
    items.map((i) => [i.sku, i.reason.text]),
    [
      ['C', 'because you bought D'],
      ['B', 'because you viewed A'],
      ['E', 'trending'],
    ],
  );
  // Recency: a fresh view of F beats an old view of A.
  const recent = skus(model, {
    strategy: 'personalized',
    limit: 2,
    now: T0 + 365 * DAY,
    profile: {
      viewed: [
        { sku: 'A', at: T0 },
        { sku: 'F', at: T0 + 365 * DAY },
      ],
    },
  });
  assert.deepEqual(recent, ['G', 'B']);
  // Type: the same two items, but A is in the cart (add_to_cart > view).
  const typed = model.recommend({
    strategy: 'personalized',
    limit: 1,
    profile: { viewed: [{ sku: 'F', at: T0 }], cart: [{ sku: 'A', at: T0 }] },
  });
  assert.deepEqual(
    typed.items.map((i) => [i.sku, i.reason.code]),
    [['B', 'because_in_cart']],
  );
});

test('profileItems maps the replicated state (every device) and purchases into model input', () => {
  const state = {
    viewed: [{ sku: 'A', at: T0 + 5 }],
    cart: {
      lines: [{ key: 'F', sku: 'F', qty: 1, addedAt: T0, updatedAt: T0 + 9 }],
      pickupStore: null,
    },
  };
  const profile = profileItems(state, [{ sku: 'D', at: T0 }]);
  assert.deepEqual(profile, {
    viewed: [{ sku: 'A', at: T0 + 5 }],
    cart: [{ sku: 'F', at: T0 + 9 }],
    purchased: [{ sku: 'D', at: T0 }],
  });
  const got = skus(fixture(), { strategy: 'personalized', limit: 3, profile });
  assert.deepEqual(got.slice(0, 2), ['C', 'G']);
});

test('incremental updates change results at once, without a rebuild', () => {
  const model = fixture();
  assert.equal(skus(model, { strategy: 'also-bought', sku: 'A', limit: 1 })[0], 'B');
  for (let i = 0; i < 6; i++) model.addBasket(['A', 'H'], T0 + DAY + i);
  assert.equal(skus(model, { strategy: 'also-bought', sku: 'A', limit: 1 })[0], 'H');
  // Trending decays: H and E both sold 6, but H a day later, so H ranks above E now.
  assert.deepEqual(skus(model, { strategy: 'trending', limit: 3 }), ['A', 'H', 'E']);
});

test('also-viewed: co-views within a browsing session, not across a long pause', () => {
  const model = fixture();
  const view = (profileId: string, sku: string, at: number): void =>
    model.addEvent({ profileId, sku, type: 'view', at });
  view('p1', 'A', T0);
  view('p1', 'X', T0 + 60_000);
  view('p2', 'A', T0);
  view('p2', 'X', T0 + 5 * 60_000);
  view('p2', 'A', T0 + 6 * 60_000); // a repeat view in the same session counts once
  view('p3', 'A', T0);
  view('p3', 'Y', T0 + 2 * 3_600_000); // two hours later: a new session
  view('p4', 'A', T0);
  view('p4', 'Y', T0 + 3 * 3_600_000);
  const { items } = model.recommend({ strategy: 'also-viewed', sku: 'A', limit: 3 });
  assert.deepEqual(
    items.map((i) => [i.sku, i.reason.code]),
    [
      ['X', 'often_viewed_with'],
      // Then the co-purchase neighbours of A.
      ['B', 'often_bought_with'],
      ['C', 'often_bought_with'],
    ],
  );
  assert.equal(model.stats().viewedPairs, 1);
  // Co-views feed personalized too.
  const viaViews = skus(model, {
    strategy: 'personalized',
    limit: 1,
    profile: { viewed: [{ sku: 'X', at: T0 }] },
  });
  assert.deepEqual(viaViews, ['A']);
});

test('recently-viewed: newest first, only real views, the current item left out', () => {
  const model = fixture();
  const profile = {
    viewed: [
      { sku: 'A', at: T0 + 1 },
      { sku: 'C', at: T0 + 3 },
      { sku: 'B', at: T0 + 2 },
    ],
    cart: [{ sku: 'B', at: T0 }],
  };
  const { items } = model.recommend({ strategy: 'recently-viewed', sku: 'C', profile });
  assert.deepEqual(
    items.map((i) => [i.sku, i.reason.code]),
    [
      ['B', 'recently_viewed'],
      ['A', 'recently_viewed'],
    ],
  );
  assert.deepEqual(model.recommend({ strategy: 'recently-viewed' }).items, []);
});

test('fallback is never empty when the catalog is not, even with no events at all', () => {
  const model = new RecModel();
  assert.deepEqual(model.recommend({ strategy: 'trending' }).items, []);
  model.addItems(['P1', 'P2', 'P3']);
  for (const strategy of ['also-bought', 'also-viewed', 'personalized', 'trending'] as const) {
    const { items } = model.recommend({ strategy, sku: 'P1', limit: 5 });
    assert.deepEqual(
      items.map((i) => [i.sku, i.reason.code]),
      [
        ['P2', 'catalog'],
        ['P3', 'catalog'],
      ],
      strategy,
    );
  }
});

test('bad requests are typed errors', () => {
  const model = fixture();
  const code = (request: RecommendRequest): string => {
    try {
      model.recommend(request);
      return 'ok';
    } catch (err) {
      assert.ok(err instanceof OmniError);
      return err.code;
    }
  };
  assert.equal(code({ strategy: 'also-bought' }), 'invalid_argument');
  assert.equal(code({ strategy: 'nope' as 'trending' }), 'invalid_argument');
  assert.equal(code({ strategy: 'trending', limit: 0 }), 'invalid_argument');
  assert.equal(code({ strategy: 'trending', limit: 101 }), 'invalid_argument');
  assert.equal(code({ strategy: 'trending', limit: 100 }), 'ok');
  assert.throws(() => model.addBasket(['A'], NaN), OmniError);
  assert.throws(
    () => model.addEvent({ profileId: 'p', sku: 'A', type: 'like' as 'view', at: T0 }),
    OmniError,
  );
  assert.deepEqual(skus(model, { strategy: 'trending', limit: 1 }), ['E']);
});

test('configure changes similarity settings without recounting', () => {
  const model = fixture();
  assert.deepEqual(skus(model, { strategy: 'also-bought', sku: 'A', limit: 2 }), ['B', 'C']);
  model.configure({ minSupport: 3 });
  assert.deepEqual(
    model
      .recommend({ strategy: 'also-bought', sku: 'A', limit: 2 })
      .items.map((i) => i.reason.code),
    ['often_bought_with', 'trending'],
  );
});

test('property: answers are deterministic, unique, never excluded, never short when items exist', () => {
  const sku: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h');
  fc.assert(
    fc.property(
      fc.array(fc.uniqueArray(sku, { minLength: 1, maxLength: 5 }), {
        minLength: 1,
        maxLength: 30,
      }),
      fc.constantFrom(...STRATEGIES),
      sku,
      fc.uniqueArray(sku, { maxLength: 3 }),
      fc.integer({ min: 1, max: 10 }),
      fc.boolean(),
      fc.constantFrom(0, 0.1, 1),
      (baskets, strategy, anchor, exclude, limit, dense, trendWeight) => {
        // With `dense`, personalized answers come from the EASE^R + kNN + trending blend.
        const build = (): RecModel => {
          const m = new RecModel({ denseRebuildBaskets: 1, denseMaxItems: dense ? 6 : 0 });
          m.configure({ trendWeight });
          baskets.forEach((b, i) => m.addBasket(b, T0 + i * 1_000));
          m.buildDense();
          return m;
        };
        const request: RecommendRequest = {
          strategy,
          sku: anchor,
          limit,
          exclude,
          profile: { viewed: [{ sku: anchor, at: T0 }] },
        };
        const first = build().recommend(request).items;
        assert.deepEqual(build().recommend(request).items, first);
        const got = first.map((i) => i.sku);
        assert.equal(new Set(got).size, got.length);
        for (const s of got) assert.ok(!exclude.includes(s) || strategy === 'recently-viewed');
        for (const i of first) assert.ok(i.reason.text.length > 0);
        if (strategy !== 'recently-viewed') {
          const known = new Set(baskets.flat());
          const allowed = [...known].filter((s) => s !== anchor && !exclude.includes(s));
          assert.equal(got.length, Math.min(limit, allowed.length));
        }
      },
    ),
    { seed: 3, numRuns: 300 },
  );
});

test('a JSON snapshot restores the same answers and keeps learning the same way', () => {
  const model = fixture();
  model.addEvent({ profileId: 'p', sku: 'A', type: 'view', at: T0 });
  model.addEvent({ profileId: 'p', sku: 'X', type: 'view', at: T0 + 1 });
  model.addEvent({ profileId: 'q', sku: 'A', type: 'view', at: T0 });
  model.addEvent({ profileId: 'q', sku: 'X', type: 'view', at: T0 + 1 });
  const copy = RecModel.fromJSON(JSON.parse(JSON.stringify(model)));
  const requests: RecommendRequest[] = [
    { strategy: 'also-bought', sku: 'C', limit: 6 },
    { strategy: 'also-viewed', sku: 'A', limit: 6 },
    { strategy: 'trending', limit: 9 },
    { strategy: 'personalized', limit: 5, profile: { viewed: [{ sku: 'A', at: T0 }] } },
  ];
  for (const r of requests) assert.deepEqual(copy.recommend(r), model.recommend(r));
  for (const m of [model, copy]) m.addBasket(['D', 'E'], T0 + DAY);
  for (const m of [model, copy]) m.addBasket(['D', 'E'], T0 + DAY);
  for (const r of requests) assert.deepEqual(copy.recommend(r), model.recommend(r));
  assert.deepEqual(copy.stats(), { ...model.stats(), sessions: 0 });
  assert.throws(() => RecModel.fromJSON({} as never), OmniError);
});

test('selectTop agrees with a full sort', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }),
      fc.nat(40),
      (xs, k) => {
        const ids = xs.map((_, i) => i);
        const cmp = (a: number, b: number): number => xs[b]! - xs[a]! || a - b;
        assert.deepEqual(selectTop(ids, k, cmp), [...ids].sort(cmp).slice(0, k));
      },
    ),
    { seed: 9, numRuns: 200 },
  );
});

test('property: the incrementally kept trending top list equals a fresh ranking', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(
          fc.nat(30),
          fc.integer({ min: 1, max: 5 }),
          fc.integer({ min: 0, max: 1_000 * DAY }),
        ),
        { maxLength: 80 },
      ),
      fc.integer({ min: 1, max: 12 }),
      (events, k) => {
        const sales: number[] = [];
        const live = new DecayingScores(DAY, (id) => sales[id] ?? 0);
        live.top(k, 31);
        for (const [id, weight, offset] of events) {
          sales[id] = (sales[id] ?? 0) + 1;
          live.add(id, weight, T0 + offset);
        }
        const fresh = new DecayingScores(DAY, (id) => sales[id] ?? 0);
        fresh.load(live.toJSON());
        assert.deepEqual(live.top(k, 31).slice(0, k), fresh.top(k, 31).slice(0, k));
      },
    ),
    { seed: 13, numRuns: 300 },
  );
});
