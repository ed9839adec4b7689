import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  RecModel,
  easeSolver,
  easeWeights,
  easeWeightsAsync,
  gramFromSets,
} from '../../src/commerce/recs/index.js';
import { BASKETS } from './baskets.js';

const T0 = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** EASE^R straight from the paper's formula, with a Gauss-Jordan inverse: the reference. */
function reference(sets: readonly number[][], n: number, lambda: number): number[][] {
  const a = Array.from({ length: n }, (_, i) =>
    Array.from({ length: 2 * n }, (_, j) => (j === n + i ? 1 : 0)),
  );
  for (const set of sets) for (const i of set) for (const j of set) a[i]![j]! += 1;
  for (let i = 0; i < n; i++) a[i]![i]! += lambda;
  for (let c = 0; c < n; c++) {
    const p = a[c]![c]!;
    for (let j = 0; j < 2 * n; j++) a[c]![j]! /= p;
    for (let i = 0; i < n; i++) {
      if (i === c) continue;
      const f = a[i]![c]!;
      for (let j = 0; j < 2 * n; j++) a[i]![j]! -= f * a[c]![j]!;
    }
  }
  const p = (i: number, j: number): number => a[i]![n + j]!;
  return Array.from({ length: n }, (_, i) =>
    Array.from({ length: n }, (_, j) => (i === j ? 0 : -p(i, j) / p(j, j))),
  );
}

/** Runs a solver generator to its end. */
function solve(solver: Generator<void, Float32Array>): Float32Array {
  for (;;) {
    const step = solver.next();
    if (step.done) return step.value;
  }
}

test('property: the Cholesky solver equals B = I - P·diagMat(1/diag(P)) from a plain inverse', () => {
  const seed = 14;
  let runs = 0;
  let worst = 0;
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 24 }).chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.array(fc.uniqueArray(fc.nat(n - 1), { minLength: 1, maxLength: 6 }), {
            maxLength: 60,
          }),
          fc.constantFrom(0.5, 5, 50, 500),
          // Rows per block: small ones so that n spans several blocks (the default is 32).
          fc.constantFrom(1, 2, 3, 7, 32),
        ),
      ),
      ([n, sets, lambda, block]) => {
        runs++;
        const b = solve(easeSolver(gramFromSets(sets, n), n, lambda, block));
        const want = reference(sets, n, lambda);
        for (let i = 0; i < n; i++) {
          assert.equal(b[i * n + i], 0);
          for (let j = 0; j < n; j++) {
            const err = Math.abs(b[i * n + j]! - want[i]![j]!);
            worst = Math.max(worst, err);
            // B is stored as float32: compare at its precision.
            assert.ok(err <= 1e-6 * Math.max(1, Math.abs(want[i]![j]!)), `${i},${j}: ${err}`);
          }
        }
      },
    ),
    { seed, numRuns: 200 },
  );
  // The one figure line of this randomized test.
  // eslint-disable-next-line no-console
  console.log(`ease-solver: runs=${runs} maxAbsError=${worst.toExponential(2)} seed=${seed}`);
});

test('the sliced solver gives the same weights and lets the event loop run between slices', async () => {
  const n = 120;
  const sets = Array.from({ length: 400 }, (_, k) => [k % n, (k * 7 + 3) % n, (k * 13 + 5) % n]);
  const sync = easeWeights(gramFromSets(sets, n), n, 20);
  let turns = 0;
  // A ref'd timer keeps this test's process alive: background builds never do on their own.
  const keepAlive = setInterval(() => {}, 1_000);
  const tick = (): void => {
    turns++;
    if (!done) setImmediate(tick);
  };
  let done = false;
  setImmediate(tick);
  const sliced = await easeWeightsAsync(gramFromSets(sets, n), n, 20, 0);
  done = true;
  clearInterval(keepAlive);
  assert.deepEqual(sliced, sync);
  assert.ok(turns > 10, `the event loop ran ${turns} times during the build`);
  assert.throws(() => easeWeights(new Float64Array(4), 2, 0), RangeError);
  assert.throws(() => easeWeights(new Float64Array(3), 2, 1), RangeError);
});

test('a sliced build finishes on an idle server: no request needed to wake it between slices', async () => {
  const n = 60;
  const sets = Array.from({ length: 200 }, (_, k) => [k % n, (k * 7 + 3) % n, (k * 13 + 5) % n]);
  // An idle server: a ref'd handle that keeps the process alive and never wakes the loop.
  const keepAlive = setInterval(() => {}, 600_000);
  let deadline: NodeJS.Timeout | undefined;
  try {
    const built = await Promise.race([
      easeWeightsAsync(gramFromSets(sets, n), n, 20, 0).then(() => 'built'),
      new Promise<string>((resolve) => (deadline = setTimeout(() => resolve('stalled'), 10_000))),
    ]);
    assert.equal(built, 'built');
  } finally {
    clearTimeout(deadline);
    clearInterval(keepAlive);
  }
});

/** The fixture shop with EASE^R built over every item (rebuilt after every basket). */
function denseFixture(options: ConstructorParameters<typeof RecModel>[0] = {}): RecModel {
  const model = new RecModel({ denseRebuildBaskets: 1, ...options });
  BASKETS.forEach((skus, i) => model.addBasket(skus, T0 + i * 60_000));
  model.buildDense();
  return model;
}

test('personalized with EASE^R: neighbours first, each named by the profile item behind it', () => {
  const model = denseFixture();
  assert.deepEqual(model.denseStats().items, 7, 'every sold item (H never sold)');
  const { items } = model.recommend({
    strategy: 'personalized',
    limit: 4,
    profile: { purchased: [{ sku: 'A', at: T0 }], cart: [{ sku: 'D', at: T0 }] },
  });
  const got = items.map((i) => [i.sku, i.reason.code, i.reason.sku]);
  // A's and D's co-purchases come first, then the chain continues into trending.
  assert.deepEqual(
    got.slice(0, 2).map((g) => g[0]),
    ['B', 'C'],
  );
  assert.deepEqual(got[0]!.slice(1), ['because_you_bought', 'A']);
  assert.ok(!got.some((g) => g[0] === 'A' || g[0] === 'D'), 'bought and cart items excluded');
  assert.equal(items.length, 4);
  assert.ok(items.slice(2).every((i) => i.reason.code === 'trending'));
});

test('EASE^R goes stale with new baskets and rebuilds off the request path', async () => {
  const model = denseFixture({ denseRebuildBaskets: 3 });
  assert.equal(model.denseStale, false);
  const built = model.denseStats().baskets;
  model.addBasket(['G', 'H'], T0 + DAY);
  model.addBasket(['G', 'H'], T0 + DAY);
  assert.equal(model.denseStale, false, 'two baskets are not enough to rebuild');
  model.addBasket(['G', 'H'], T0 + DAY);
  assert.equal(model.denseStale, true);
  const keepAlive = setInterval(() => {}, 1_000);
  const rebuild = model.refreshDense();
  assert.equal(model.denseBuilding, true);
  assert.equal(model.refreshDense(), rebuild, 'concurrent calls share one build');
  // The old weights still answer while the new ones are computed.
  assert.equal(model.denseStats().baskets, built);
  await rebuild;
  clearInterval(keepAlive);
  assert.equal(model.denseBuilding, false);
  assert.equal(model.denseStale, false);
  assert.equal(model.denseStats().baskets, built + 3);
  assert.equal(model.denseStats().items, 8, 'H sold now');
  const { items } = model.recommend({
    strategy: 'personalized',
    limit: 1,
    profile: { viewed: [{ sku: 'H', at: T0 + DAY }] },
  });
  assert.deepEqual(
    items.map((i) => [i.sku, i.reason.text]),
    [['G', 'because you viewed H']],
  );
});

test('the EASE^R Gram matrix counts every basket, also those too large for co-purchase pairs', () => {
  const baskets = [['A', 'B', 'C', 'D'], ['A', 'B'], ['C', 'D', 'E'], ['E']];
  let gram: Float64Array | undefined;
  const model = new RecModel({
    maxPairs: 2,
    denseRebuildBaskets: 1,
    denseSolver: (g, n, lambda) => {
      gram = new Float64Array(g);
      return easeWeights(g, n, lambda);
    },
  });
  baskets.forEach((b, i) => model.addBasket(b, T0 + i));
  model.buildDense();
  // Items are numbered by first appearance: A..E = 0..4.
  const ids = new Map(['A', 'B', 'C', 'D', 'E'].map((s, i) => [s, i]));
  const want = gramFromSets(
    baskets.map((b) => b.map((s) => ids.get(s)!)),
    5,
  );
  assert.deepEqual(gram, want);
  // A snapshot keeps the large baskets, so a restored model builds the same matrix.
  let copied: Float64Array | undefined;
  const copy = RecModel.fromJSON(JSON.parse(JSON.stringify(model)), {
    denseSolver: (g, n, lambda) => {
      copied = new Float64Array(g);
      return easeWeights(g, n, lambda);
    },
  });
  assert.equal(copy.denseStale, true, 'a restored model has no weights yet');
  copy.buildDense();
  assert.deepEqual(copied, want);
});

test('denseMaxItems caps EASE^R at the best sellers; kNN still reaches the rest', () => {
  const model = denseFixture({ denseMaxItems: 3 });
  assert.equal(model.denseStats().items, 3);
  // F and G are outside the three best sellers (E, A, C): their neighbours come from kNN.
  const { items } = model.recommend({
    strategy: 'personalized',
    limit: 1,
    profile: { viewed: [{ sku: 'F', at: T0 }] },
  });
  assert.deepEqual(
    items.map((i) => [i.sku, i.reason.text]),
    [['G', 'because you viewed F']],
  );
});
