// Randomized sync scenarios against the real server (fast-check: seeded, replayable, shrunk).
// One profile, device A with two tabs and device B with one, joined by a handoff. Steps are
// changes and faults: a device offline and back, a tab closed and reopened on the same storage,
// a push whose answer is lost after the server applied it, a push delivered twice. Adds commute,
// so the intended cart is known whatever the order; once quiet, the server and every replica
// must hold exactly it: nothing lost, nothing applied twice, no replica diverging.
import { expect } from '@open-wc/testing';
import fc from 'fast-check';
import { browserNetwork, createClient, type Network, type OmniClient } from '@omnikit/sdk';
import {
  cartOf,
  quietLogger,
  serverSnapshot,
  testConfig,
  uniqueNs,
  until,
  type TestConfig,
} from './helpers.js';

/** A device's network with switchable faults. */
class FaultyNetwork implements Network {
  up = true;
  dropNextPush = false;
  duplicateNextPush = false;
  private watchers = new Set<() => void>();
  private streams = new Set<EventSource>();
  private base = browserNetwork();

  async fetch(input: string, init: RequestInit): Promise<Response> {
    if (!this.up) throw new TypeError('Failed to fetch');
    if (!input.endsWith('/v1/sync/push')) return fetch(input, init);
    if (this.duplicateNextPush) {
      this.duplicateNextPush = false;
      await fetch(input, init);
    }
    const res = await fetch(input, init);
    if (!this.dropNextPush) return res;
    this.dropNextPush = false;
    throw new TypeError('Failed to fetch');
  }
  eventSource(url: string): EventSource {
    const es = this.base.eventSource(url);
    this.streams.add(es);
    return es;
  }
  online() {
    return this.up;
  }
  watch(cb: () => void) {
    this.watchers.add(cb);
    return () => this.watchers.delete(cb);
  }
  setOnline(value: boolean) {
    this.up = value;
    if (!value) {
      this.streams.forEach((es) => {
        es.close();
        es.dispatchEvent(new Event('error'));
      });
      this.streams.clear();
    }
    this.watchers.forEach((cb) => cb());
  }
}

type Step =
  | { k: 'add'; tab: number; sku: string; n: number }
  | { k: 'set'; tab: number; sku: string; n: number }
  | { k: 'remove'; tab: number; sku: string }
  | { k: 'view'; tab: number; sku: string }
  | { k: 'offline' | 'online' | 'drop' | 'dup'; dev: number }
  | { k: 'reload'; tab: number };

const tab = fc.integer({ min: 0, max: 2 });
const dev = fc.integer({ min: 0, max: 1 });
const sku = fc.constantFrom('A', 'B', 'C', 'D');
const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      k: fc.constant('add' as const),
      tab,
      sku,
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('view' as const), tab, sku }) },
  {
    weight: 1,
    arbitrary: fc.record({ k: fc.constantFrom('offline' as const, 'online' as const), dev }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constantFrom('drop' as const, 'dup' as const), dev }) },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('reload' as const), tab }) },
);

/**
 * Shrunk failures kept as regression cases. This one: `sync()` gave up on a push whose answer
 * was lost, right after a tab reload (seed 258455947).
 */
const regression: [Step[]] = [
  [
    { k: 'add', tab: 2, sku: 'C', n: 3 },
    { k: 'add', tab: 1, sku: 'D', n: 1 },
    { k: 'add', tab: 1, sku: 'A', n: 2 },
    { k: 'add', tab: 2, sku: 'A', n: 2 },
    { k: 'add', tab: 1, sku: 'C', n: 2 },
    { k: 'reload', tab: 1 },
    { k: 'drop', dev: 0 },
    { k: 'add', tab: 1, sku: 'A', n: 3 },
  ],
];

/** Adds plus the ordered operations (set, remove): the server's order decides, so only
 * convergence is checked for these. */
const mixedStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: step },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('set' as const),
      tab,
      sku,
      n: fc.integer({ min: 0, max: 5 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('remove' as const), tab, sku }) },
);

let cfg: TestConfig;
before(async () => {
  cfg = await testConfig();
});

async function scenario(steps: Step[]) {
  const nets = [new FaultyNetwork(), new FaultyNetwork()];
  const nss = [uniqueNs('fuzz-a'), uniqueNs('fuzz-b')];
  const devOf = (t: number) => (t < 2 ? 0 : 1);
  const open = (t: number) =>
    createClient({
      endpoint: cfg.endpoint,
      publishableKey: cfg.sites.sum.publishableKey,
      namespace: nss[devOf(t)],
      network: nets[devOf(t)],
      retry: { baseMs: 10, maxMs: 50 },
      timeoutMs: 3000,
      logger: quietLogger(),
    });
  const tabs: OmniClient[] = [open(0), open(1), open(2)];
  try {
    await Promise.all(tabs.map((c) => c.start()));
    // Join B to A's profile.
    tabs[0]!.recentlyViewed.track('JOIN');
    const { code } = await tabs[0]!.identity.createHandoff();
    await tabs[2]!.identity.claimHandoff(code);

    const expected: Record<string, number> = {};
    let faults = 0;
    for (const s of steps) {
      if (s.k === 'add') {
        tabs[s.tab]!.cart.add(s.sku, s.n);
        expected[s.sku] = (expected[s.sku] ?? 0) + s.n;
      } else if (s.k === 'set') tabs[s.tab]!.cart.setQuantity(s.sku, s.n);
      else if (s.k === 'remove') tabs[s.tab]!.cart.remove(s.sku);
      else if (s.k === 'view') tabs[s.tab]!.recentlyViewed.track(s.sku);
      else if (s.k === 'reload') {
        await tabs[s.tab]!.close();
        tabs[s.tab] = open(s.tab);
        await tabs[s.tab]!.start();
        faults++;
      } else {
        const net = nets[s.dev]!;
        faults++;
        if (s.k === 'offline') net.setOnline(false);
        else if (s.k === 'online') net.setOnline(true);
        else if (s.k === 'drop') net.dropNextPush = true;
        else net.duplicateNextPush = true;
      }
    }
    nets.forEach((n) => n.setOnline(true));
    await Promise.all(tabs.map((c) => c.sync()));
    const server = await serverSnapshot(nss[0]!);
    const serverCart = Object.fromEntries(server.state.cart.lines.map((l) => [l.key, l.qty]));
    const ok = (s: Parameters<typeof cartOf>[0]) =>
      JSON.stringify(cartOf(s)) === JSON.stringify(serverCart);
    await Promise.all(tabs.map((c, i) => until(c, ok, `tab ${i} converges`)));
    return { serverCart, expected, faults, tabs };
  } finally {
    await Promise.all(tabs.map((c) => c.close()));
  }
}

describe('sync: randomized scenarios', () => {
  it('with ordered operations (set, remove) too, every replica converges to the server', async function () {
    this.timeout(120_000);
    const { fuzzSeed, engine } = await testConfig();
    const seed = fuzzSeed + 1;
    let steps = 0;
    let scenarios = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(mixedStep, { minLength: 8, maxLength: 40 }), async (s) => {
        // scenario() fails unless every tab ends equal to the server.
        await scenario(s);
        steps += s.length;
        scenarios++;
      }),
      { numRuns: 10, seed, includeErrorInReport: true },
    );
    // eslint-disable-next-line no-console -- the one figures line DESIGN asks of randomized tests
    console.log(
      `sdk-sync-fuzz-mixed: engine=${engine} scenarios=${scenarios} steps=${steps} diverged=0 seed=${seed}`,
    );
  });

  it('every replica converges to the server, which holds exactly the intended cart', async function () {
    this.timeout(120_000);
    let scenarios = 0;
    let stepCount = 0;
    let faultCount = 0;
    let lost = 0;
    let duplicated = 0;
    // To replay a printed failure: SDK_FUZZ_SEED=<seed> npm run test:browser
    const { fuzzSeed: seed, engine } = await testConfig();
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 8, maxLength: 40 }), async (steps) => {
        const { serverCart, expected, faults } = await scenario(steps);
        scenarios++;
        stepCount += steps.length;
        faultCount += faults;
        for (const k of new Set([...Object.keys(expected), ...Object.keys(serverCart)])) {
          const want = expected[k] ?? 0;
          const got = serverCart[k] ?? 0;
          if (got < want) lost += want - got;
          if (got > want) duplicated += got - want;
        }
        expect(serverCart).to.deep.equal(expected);
      }),
      { numRuns: 20, seed, includeErrorInReport: true, examples: [regression] },
    );
    // eslint-disable-next-line no-console -- the one figures line DESIGN asks of randomized tests
    console.log(
      `sdk-sync-fuzz: engine=${engine} scenarios=${scenarios} steps=${stepCount} faults=${faultCount} lost=${lost} duplicated=${duplicated} diverged=0 seed=${seed}`,
    );
  });
});
