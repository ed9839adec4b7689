// Property tests of the reducers, the server's batch rule, the client rebase and the merges.
// Seeded and silent; on failure fast-check prints the seed and the shrunk counterexample
// (replay with FC_SEED=<seed>). Keep a shrunk failure below as an example test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  LIMITS,
  OmniError,
  applyBatch,
  applyMutation,
  emptyState,
  mergeStates,
  parseProfileState,
  rebase,
  reduce,
  validateMutation,
  type MergePolicy,
  type Mutation,
  type ProfileState,
} from '@omnikit/protocol';
import { intentArb, mutationArb, numbered, params, seed, stateArb } from './arbitraries.js';

// ---- (a) convergence: devices, a server, lossy/duplicating/reordering transport ----

type Step =
  | { kind: 'local'; dev: number; intent: Pick<Mutation, 'name' | 'args'> }
  | { kind: 'send'; dev: number; size: number }
  | { kind: 'deliver'; pick: number; dropResponse: boolean; keep: boolean }
  | { kind: 'pull'; dev: number };

// Intents a buggy or hostile client could push: the server consumes them as rejected.
const badIntentArb = fc.constantFrom(
  { name: 'cart.add', args: { sku: 'A', qty: 5000 } },
  { name: 'cart.explode', args: {} },
  { name: 'viewed.add', args: { sku: '../etc' } },
) as fc.Arbitrary<Pick<Mutation, 'name' | 'args'>>;

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({
      kind: fc.constant('local'),
      dev: fc.nat(),
      intent: fc.oneof({ weight: 30, arbitrary: intentArb }, badIntentArb),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('send'),
      dev: fc.nat(),
      size: fc.integer({ min: 1, max: 6 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('deliver'),
      pick: fc.nat(),
      dropResponse: fc.boolean(),
      keep: fc.boolean(),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('pull'), dev: fc.nat() }) },
);

interface Device {
  nextSeq: number;
  outbox: Mutation[];
  base: { state: ProfileState; lastSeq: number };
}

/** Runs one scenario; returns nothing, asserts the invariants. */
function runScenario(deviceCount: number, steps: Step[], initial: ProfileState): void {
  const server = { state: initial, lastSeq: new Map<number, number>() };
  const log: { dev: number; m: Mutation; status: string }[] = [];
  const created = new Map<string, Mutation>();
  const devices: Device[] = Array.from({ length: deviceCount }, () => ({
    nextSeq: 0,
    outbox: [],
    base: { state: initial, lastSeq: 0 },
  }));
  const inFlight: { dev: number; batch: Mutation[] }[] = [];
  let deliveries = 0;
  let duplicates = 0;

  const push = (dev: number, batch: Mutation[]) => {
    const before = server.state;
    const last = server.lastSeq.get(dev) ?? 0;
    const out = applyBatch(server.state, last, batch);
    out.results.forEach((r, i) => {
      if (r.status !== 'skipped') log.push({ dev, m: batch[i] as Mutation, status: r.status });
    });
    // (b) a retry of the same request changes nothing.
    const again = applyBatch(out.state, out.lastSeq, batch);
    assert.equal(again.state, out.state);
    assert.ok(again.results.every((r) => r.status === 'skipped'));
    assert.ok(out.lastSeq >= last);
    if (out.results.every((r) => r.status !== 'applied')) assert.equal(out.state, before);
    server.state = out.state;
    server.lastSeq.set(dev, out.lastSeq);
    return out;
  };
  const ack = (d: Device, lastSeq: number) => {
    d.outbox = d.outbox.filter((m) => m.seq > lastSeq);
  };
  const pull = (dev: number) => {
    const d = devices[dev] as Device;
    assert.deepEqual(parseProfileState(server.state), server.state, 'every limit holds');
    d.base = { state: server.state, lastSeq: server.lastSeq.get(dev) ?? 0 };
    ack(d, d.base.lastSeq);
  };
  const view = (d: Device) => rebase(d.base.state, d.outbox).state;

  for (const step of steps) {
    if (step.kind === 'deliver') {
      if (!inFlight.length) continue;
      const i = step.pick % inFlight.length;
      const req = inFlight[i] as (typeof inFlight)[number];
      if (!step.keep) inFlight.splice(i, 1); // keep: the network delivers it again later
      const out = push(req.dev, req.batch);
      deliveries += 1;
      duplicates += out.results.filter((r) => r.status === 'skipped').length;
      if (!step.dropResponse) ack(devices[req.dev] as Device, out.lastSeq);
      continue;
    }
    const dev = step.dev % deviceCount;
    const d = devices[dev] as Device;
    if (step.kind === 'local') {
      d.nextSeq += 1;
      const m = { ...step.intent, seq: d.nextSeq, at: 1_700_000_000_000 + log.length } as Mutation;
      created.set(`${dev}:${m.seq}`, m);
      d.outbox.push(m);
      view(d); // the optimistic view never throws
    } else if (step.kind === 'send') {
      // A client always sends its outbox from the oldest unacknowledged mutation.
      if (d.outbox.length) inFlight.push({ dev, batch: d.outbox.slice(0, step.size) });
    } else {
      pull(dev);
    }
  }

  // Quiesce: late duplicates arrive, then every device flushes its outbox and pulls.
  for (const req of inFlight) push(req.dev, req.batch);
  devices.forEach((d, dev) => {
    while (d.outbox.length) ack(d, push(dev, d.outbox.slice(0, LIMITS.maxBatch)).lastSeq);
  });
  devices.forEach((_, dev) => pull(dev));

  // Every replica equals the server, and the server equals the oracle: reduce(log).
  for (const d of devices) assert.deepEqual(view(d), server.state);
  const applied = log.filter((e) => e.status === 'applied');
  assert.deepEqual(
    reduce(
      log.map((e) => e.m),
      initial,
    ),
    server.state,
  );
  assert.deepEqual(
    reduce(
      applied.map((e) => e.m),
      initial,
    ),
    server.state,
  );
  // A second replica fed the log one mutation per request reaches the same state and verdicts.
  const replica = { state: initial, last: new Map<number, number>() };
  for (const e of log) {
    const out = applyBatch(replica.state, replica.last.get(e.dev) ?? 0, [e.m]);
    assert.equal(out.results[0]?.status, e.status);
    replica.state = out.state;
    replica.last.set(e.dev, out.lastSeq);
  }
  assert.deepEqual(replica.state, server.state);
  // Every mutation any device created is in the log exactly once: none lost, none doubled.
  const seen = log.map((e) => `${e.dev}:${e.m.seq}`);
  assert.equal(new Set(seen).size, seen.length);
  assert.deepEqual(new Set(seen), new Set(created.keys()));
  stats.scenarios += 1;
  stats.mutations += created.size;
  stats.rejected += log.filter((e) => e.status === 'rejected').length;
  stats.deliveries += deliveries;
  stats.duplicates += duplicates;
}

const stats = { scenarios: 0, mutations: 0, rejected: 0, deliveries: 0, duplicates: 0 };

// Near the limits (98 of 100 lines, 31 of 32 prefs) so concurrent devices race for the last
// slots and the server must reject some mutations, consistently on every replica.
const nearlyFull = reduce(
  numbered([
    ...Array.from({ length: LIMITS.maxLines - 2 }, (_, i) => ({
      name: 'cart.add' as const,
      args: { sku: `fill-${i}`, qty: 1 },
    })),
    ...Array.from({ length: LIMITS.maxPrefs - 1 }, (_, i) => ({
      name: 'prefs.set' as const,
      args: { key: `fill${i}`, value: 'x' },
    })),
  ]),
);

test('property: any interleaving with retries, duplicates and reordering converges', (t) => {
  fc.assert(
    fc.property(
      fc.integer({ min: 2, max: 4 }),
      fc.array(stepArb, { minLength: 5, maxLength: 120, size: 'max' }),
      fc.boolean(),
      (deviceCount, steps, full) =>
        runScenario(deviceCount, steps, full ? nearlyFull : emptyState()),
    ),
    params(600),
  );
  // The figures line (DESIGN.md: each randomized test ends with one), as a TAP diagnostic.
  t.diagnostic(
    `sync-convergence: scenarios=${stats.scenarios} mutations=${stats.mutations} ` +
      `deliveries=${stats.deliveries} duplicates=${stats.duplicates} ` +
      `rejected=${stats.rejected} lost=0 diverged=0 seed=${seed}`,
  );
});

test('property: cart.add deltas commute when no limit is hit', () => {
  const adds = fc.array(
    fc.record({
      sku: fc.constantFrom('A', 'B', 'C'),
      qty: fc.integer({ min: 1, max: 9 }),
    }),
    { maxLength: 20 },
  );
  fc.assert(
    fc.property(adds, fc.infiniteStream(fc.nat()), (list, picks) => {
      const ms = numbered(list.map((args) => ({ name: 'cart.add' as const, args })));
      const shuffled = [...ms];
      const it = picks[Symbol.iterator]();
      for (let i = shuffled.length - 1; i > 0; i--) {
        const j = (it.next().value as number) % (i + 1);
        [shuffled[i], shuffled[j]] = [shuffled[j] as Mutation, shuffled[i] as Mutation];
      }
      const qty = (s: ProfileState) => Object.fromEntries(s.cart.lines.map((l) => [l.key, l.qty]));
      assert.deepEqual(qty(reduce(shuffled)), qty(reduce(ms)));
    }),
    params(200),
  );
});

// ---- (b) replay ----

test('property: replaying mutations with seq <= lastSeq changes nothing', () => {
  fc.assert(
    fc.property(
      fc.array(intentArb, { maxLength: 30 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (intents, replays) => {
        const ms = numbered(intents);
        const first = applyBatch(emptyState(), 0, ms);
        assert.deepEqual(first.state, reduce(ms));
        assert.equal(first.lastSeq, ms.length);
        const again = replays.map((i) => ms[i % Math.max(1, ms.length)]).filter(Boolean);
        const out = applyBatch(first.state, first.lastSeq, again as Mutation[]);
        assert.equal(out.state, first.state);
        assert.equal(out.lastSeq, first.lastSeq);
        assert.ok(out.results.every((r) => r.status === 'skipped'));
      },
    ),
    params(200),
  );
});

// ---- (c) merges ----

const policies: MergePolicy[] = ['sum', 'max', 'prefer-account', 'prefer-guest'];

function checkMerge(account: ProfileState, guest: ProfileState, policy: MergePolicy): void {
  const frozen = structuredClone([account, guest]);
  const { state, summary } = mergeStates(account, guest, policy);
  assert.deepEqual([account, guest], frozen, 'inputs unchanged');
  assert.deepEqual(parseProfileState(state), state, 'result within every limit');
  assert.equal(summary.policy, policy);

  const qty = (s: ProfileState) => new Map(s.cart.lines.map((l) => [l.key, l.qty]));
  const [a, g, r] = [qty(account), qty(guest), qty(state)];
  const dropped = new Map<string, number>();
  for (const d of summary.dropped) dropped.set(d.key, (dropped.get(d.key) ?? 0) + d.qty);

  // The summary is exactly the difference between the account's cart and the result.
  assert.deepEqual(
    summary.added,
    state.cart.lines
      .filter((l) => !a.has(l.key))
      .map((l) => ({ key: l.key, sku: l.sku, qty: l.qty })),
  );
  assert.deepEqual(
    summary.changed,
    state.cart.lines
      .filter((l) => a.has(l.key) && a.get(l.key) !== l.qty)
      .map((l) => ({ key: l.key, sku: l.sku, from: a.get(l.key), to: l.qty })),
  );
  assert.deepEqual(
    summary.removed,
    account.cart.lines
      .filter((l) => !r.has(l.key))
      .map((l) => ({ key: l.key, sku: l.sku, qty: l.qty })),
  );
  for (const d of summary.dropped) assert.ok(g.has(d.key), 'only guest lines are dropped');

  if (policy === 'sum' || policy === 'max') {
    assert.deepEqual(summary.removed, []);
    for (const [key, gq] of g) {
      const aq = a.get(key) ?? 0;
      const want: number = policy === 'sum' ? aq + gq : Math.max(aq, gq);
      if (r.has(key)) {
        assert.equal(r.get(key), Math.min(want, LIMITS.maxQtyPerLine));
        assert.equal((r.get(key) ?? 0) + (dropped.get(key) ?? 0), want, 'clamped excess reported');
      } else {
        assert.ok(!a.has(key));
        assert.equal(dropped.get(key), gq, 'a missing line is reported dropped');
      }
    }
    assert.ok(summary.dropped.every((d) => d.reason === 'limit'));
    for (const key of a.keys()) assert.ok(r.has(key), 'account lines are never lost');
  } else {
    const winner = policy === 'prefer-account' ? (a.size ? a : g) : g.size ? g : a;
    assert.deepEqual(r, winner);
  }

  const pickup = account.cart.pickupStore ?? guest.cart.pickupStore;
  assert.equal(state.cart.pickupStore, pickup);
  assert.equal(summary.pickupStoreChanged, pickup !== account.cart.pickupStore);

  const skus = state.viewed.map((v) => v.sku);
  assert.equal(new Set(skus).size, skus.length);
  state.viewed.forEach((v, i) => assert.ok(i === 0 || (state.viewed[i - 1]?.at ?? 0) >= v.at));
  const accountSkus = new Set(account.viewed.map((v) => v.sku));
  assert.equal(summary.viewedAdded, skus.filter((s) => !accountSkus.has(s)).length);
  const union = new Set([...accountSkus, ...guest.viewed.map((v) => v.sku)]);
  assert.equal(skus.length, Math.min(union.size, LIMITS.maxViewed));

  for (const [k, v] of Object.entries(account.prefs)) assert.equal(state.prefs[k], v);
  for (const [k, v] of Object.entries(state.prefs))
    assert.equal(v, account.prefs[k] ?? guest.prefs[k]);
}

test('property: merges keep every line under sum/max, respect limits, summarize exactly', () => {
  fc.assert(
    fc.property(stateArb(), stateArb(), fc.constantFrom(...policies), checkMerge),
    params(300),
  );
  fc.assert(
    fc.property(stateArb(true), stateArb(true), fc.constantFrom(...policies), checkMerge),
    params(60),
  );
});

test('property: merging states built by the reducers', () => {
  const built = fc.array(intentArb, { maxLength: 25 }).map((i) => reduce(numbered(i)));
  fc.assert(fc.property(built, built, fc.constantFrom(...policies), checkMerge), params(200));
});

// ---- (d) validation and totality ----

test('property: validateMutation accepts every generated mutation and returns it unchanged', () => {
  fc.assert(
    fc.property(mutationArb, (m) => {
      const v = validateMutation(JSON.parse(JSON.stringify(m)));
      const norm = (x: Mutation) => JSON.parse(JSON.stringify(x, Object.keys(x).sort()));
      assert.deepEqual(norm(v), norm(m));
      assert.deepEqual(v.args, JSON.parse(JSON.stringify(m.args)));
    }),
    params(500),
  );
});

const isOmni = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof OmniError, `threw ${String(e)}`);
    assert.equal(e.code, 'invalid_argument');
    assert.equal(typeof (e.details as { path?: unknown }).path, 'string');
  }
};

test('property: applyMutation and validators throw nothing but OmniError, on anything', () => {
  // Valid mutations with one field replaced by anything at all.
  const mangled = fc
    .tuple(
      mutationArb,
      fc.constantFrom(
        'seq',
        'at',
        'name',
        'args',
        'args.sku',
        'args.qty',
        'args.options',
        'args.key',
      ),
      fc.anything(),
    )
    .map(([m, field, value]) => {
      const copy = structuredClone(m) as unknown as Record<string, Record<string, unknown>>;
      const [a, b] = field.split('.') as [string, string | undefined];
      if (b === undefined) (copy as Record<string, unknown>)[a] = value;
      else if (typeof copy[a] === 'object' && copy[a]) copy[a][b] = value;
      return copy as unknown;
    });
  fc.assert(
    fc.property(
      fc.oneof(mangled, fc.anything()),
      fc.array(intentArb, { maxLength: 10 }),
      (input, prior) => {
        const state = reduce(numbered(prior));
        isOmni(() => applyMutation(state, input as Mutation));
        isOmni(() => applyBatch(state, 0, [input] as Mutation[]));
        isOmni(() => parseProfileState(input));
      },
    ),
    params(500),
  );
});
