// Randomized sync scenarios against the real server (fast-check: seeded, replayable, shrunk),
// run by fuzz.test.ts (adds) and fuzz-mixed.test.ts (set and remove too).
// One profile, device A with two tabs and device B with one, joined by a handoff. Steps are
// changes and faults, and the changes keep coming while the faults are in force: a push or a
// pull held in flight (the server has answered, the answer waits) while more changes are made,
// pokes from the other device landing meanwhile, a device offline and back, a tab closed and
// reopened on the same storage, a push whose answer is lost after the server applied it, a
// push delivered twice, and (mixed scenarios) a heal: the server no longer knows a device, so
// it registers a new one from its last snapshot and pushes its outbox there, while changes
// keep coming and the new device's registration waits. The oracle is the intended cart, computed from the changes alone: adds
// commute, and in the "mixed" scenarios (set, remove too) each tab changes skus of its own, so
// the server's interleaving of tabs cannot change the result. Once quiet, the server AND every
// tab must hold exactly the oracle: nothing lost, nothing applied twice, no replica diverging.
// A healed device is on a profile of its own, started from its last snapshot: there, each
// device's profile must hold exactly the oracle on the skus of its own tabs, and its tabs that
// profile.
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

/** Faults that actually happened (a switch that never met a request is not counted). */
interface Fired {
  drop: number;
  dup: number;
  hold: number;
  offline: number;
  reload: number;
  /** Devices that met a 401 for a forgotten token and registered anew. */
  heal: number;
  pokes: number;
}
const noFaults = (): Fired => ({
  drop: 0,
  dup: 0,
  hold: 0,
  offline: 0,
  reload: 0,
  heal: 0,
  pokes: 0,
});
type Held = 'push' | 'pull' | 'register';

/** A device's network with switchable faults, counting those that fire. */
class FaultyNetwork implements Network {
  up = true;
  dropNextPush = false;
  duplicateNextPush = false;
  /** The next request of this kind reaches the server; its answer waits for release(). */
  holdNext: Held | null = null;
  /** The server forgets the token of the next request that carries one (see forget()). */
  private forgetNext = false;
  private forgotten = new Set<string>();
  /** A forgotten token met its 401: the next registration is the heal. */
  private told = false;
  captured: Promise<void> | null = null;
  private capture: (() => void) | null = null;
  private held: (() => void)[] = [];
  private watchers = new Set<() => void>();
  private streams = new Set<EventSource>();
  private base = browserNetwork();

  constructor(private fired: Fired) {}

  get holding() {
    return this.held.length > 0;
  }

  hold(kind: Held) {
    this.holdNext = kind;
    this.captured = new Promise((resolve) => (this.capture = resolve));
  }

  /**
   * From the next request that carries a device token on, the server answers that token as one
   * it no longer knows (a 401 `unknown_device`, as after a restore from a backup); the new
   * device's registration is held until release().
   */
  forget() {
    this.forgetNext = true;
    this.hold('register');
  }

  release() {
    this.holdNext = null;
    this.held.splice(0).forEach((r) => r());
  }

  async fetch(input: string, init: RequestInit): Promise<Response> {
    if (!this.up) {
      this.fired.offline++;
      throw new TypeError('Failed to fetch');
    }
    const auth = (init.headers as Record<string, string> | undefined)?.authorization;
    if (auth && this.forgetNext) {
      this.forgetNext = false;
      this.forgotten.add(auth);
    }
    if (auth && this.forgotten.has(auth)) {
      this.told = true;
      const error = { code: 'unauthorized', message: 'Unknown device token' };
      return new Response(
        JSON.stringify({ error: { ...error, details: { reason: 'unknown_device' } } }),
        {
          status: 401,
          headers: { 'content-type': 'application/json' },
        },
      );
    }
    const kind: Held | null = input.endsWith('/v1/sync/push')
      ? 'push'
      : input.endsWith('/v1/sync/pull')
        ? 'pull'
        : input.endsWith('/v1/devices')
          ? 'register'
          : null;
    if (kind === 'push' && this.duplicateNextPush) {
      this.duplicateNextPush = false;
      this.fired.dup++;
      await fetch(input, init);
    }
    const res = await fetch(input, init);
    if (kind === 'register' && this.told && res.ok) {
      this.told = false;
      this.fired.heal++;
    }
    if (kind === 'push' && this.dropNextPush) {
      this.dropNextPush = false;
      this.fired.drop++;
      throw new TypeError('Failed to fetch');
    }
    if (kind && kind === this.holdNext) {
      this.holdNext = null;
      this.fired.hold++;
      this.capture?.();
      await new Promise<void>((resolve) => this.held.push(resolve));
    }
    return res;
  }
  eventSource(url: string): EventSource {
    const es = this.base.eventSource(url);
    es.addEventListener('poke', () => this.fired.pokes++);
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
  | { k: 'offline' | 'online' | 'drop' | 'dup' | 'release'; dev: number }
  | { k: 'hold'; tab: number; what: 'push' | 'pull'; sku: string }
  /** `steps`: how many of the steps after it run while the new device's registration waits. */
  | { k: 'heal'; tab: number; sku: string; steps: number }
  | { k: 'reload'; tab: number };

const tab = fc.integer({ min: 0, max: 2 });
const dev = fc.integer({ min: 0, max: 1 });
const sku = fc.constantFrom('A', 'B', 'C', 'D');
const faultSteps: fc.Arbitrary<Step>[] = [
  fc.record({ k: fc.constantFrom('offline' as const, 'online' as const), dev }),
  fc.record({ k: fc.constantFrom('drop' as const, 'dup' as const), dev }),
  fc.record({ k: fc.constant('reload' as const), tab }),
  fc.record({ k: fc.constant('hold' as const), tab, what: fc.constantFrom('push', 'pull'), sku }),
  fc.record({ k: fc.constant('release' as const), dev }),
];
export const step: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      k: fc.constant('add' as const),
      tab,
      sku,
      n: fc.integer({ min: 1, max: 3 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('view' as const), tab, sku }) },
  ...faultSteps.map((arbitrary) => ({ weight: 1, arbitrary })),
);
/** Adds plus the ordered operations (set, remove), and heals. */
export const mixedStep: fc.Arbitrary<Step> = fc.oneof(
  { weight: 5, arbitrary: step },
  {
    weight: 1,
    arbitrary: fc.record({
      k: fc.constant('heal' as const),
      tab,
      sku,
      steps: fc.integer({ min: 0, max: 4 }),
    }),
  },
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

/** What one scenario measured; every figure of the printed line is a sum of these. */
interface Outcome {
  changes: number;
  inFlight: number;
  fired: Fired;
  lost: number;
  duplicated: number;
  diverged: number;
  memory: number;
}

/** Awaits `p`; a rejection says which part of the scenario it came from. */
async function at<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const err = e as Error;
    throw new Error(`${what}: ${err.name}: ${err.message}`, { cause: e });
  }
}

/** Runs the steps; in `mixed` scenarios each tab's skus are its own (see the header). */
async function scenario(cfg: TestConfig, steps: Step[], mixed: boolean): Promise<Outcome> {
  const fired = noFaults();
  const nets = [new FaultyNetwork(fired), new FaultyNetwork(fired)];
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
  const key = (t: number, s: string) => (mixed ? `${s}${t}` : s);
  const expected: Record<string, number> = {};
  let changes = 0;
  let inFlight = 0;
  const change = (t: number, f: (c: OmniClient) => Promise<void>) => {
    changes++;
    if (nets.some((n) => n.holding)) inFlight++;
    void f(tabs[t]!);
  };
  try {
    await at('start', Promise.all(tabs.map((c) => c.start())));
    // Join B to A's profile.
    await at('track', tabs[0]!.recentlyViewed.track('JOIN'));
    const { code } = await at('createHandoff', tabs[0]!.identity.createHandoff());
    await at('claimHandoff', tabs[2]!.identity.claimHandoff(code));

    /** When (the step index) a heal's held registration is released. */
    const healEnds = new Map<FaultyNetwork, number>();
    for (const [i, s] of steps.entries()) {
      for (const [net, end] of healEnds) {
        if (i < end) continue;
        net.release();
        healEnds.delete(net);
      }
      if (s.k === 'add' || s.k === 'hold' || s.k === 'heal') {
        const k = key(s.tab, s.sku);
        const n = s.k === 'add' ? s.n : 1;
        const net = nets[devOf(s.tab)]!;
        if (s.k === 'hold') net.hold(s.what);
        if (s.k === 'heal') {
          // Only the mixed scenarios can tell a healed device's skus apart (see the header).
          expect(mixed, 'a heal in a mixed scenario').to.equal(true);
          net.forget();
          healEnds.set(net, i + 1 + s.steps);
        }
        change(s.tab, (c) => c.cart.add(k, n));
        expected[k] = (expected[k] ?? 0) + n;
        if (s.k !== 'add') {
          // The change above sends a push (and then a pull), or meets the 401 and registers a
          // new device; the steps after it run while that request's answer waits, unless the
          // device is offline (then nothing is held).
          // Bounded: a hold that never meets its request is simply not counted.
          if (net.up) await Promise.race([net.captured, new Promise((r) => setTimeout(r, 3000))]);
        }
      } else if (s.k === 'set') {
        const k = key(s.tab, s.sku);
        change(s.tab, (c) => c.cart.setQuantity(k, s.n));
        if (s.n > 0) expected[k] = s.n;
        else delete expected[k];
      } else if (s.k === 'remove') {
        const k = key(s.tab, s.sku);
        change(s.tab, (c) => c.cart.remove(k));
        delete expected[k];
      } else if (s.k === 'view') void tabs[s.tab]!.recentlyViewed.track(s.sku);
      else if (s.k === 'reload') {
        await at(`reload ${s.tab}: close`, tabs[s.tab]!.close());
        tabs[s.tab] = open(s.tab);
        await at(`reload ${s.tab}: start`, tabs[s.tab]!.start());
        fired.reload++;
      } else {
        const net = nets[s.dev]!;
        if (s.k === 'offline') net.setOnline(false);
        else if (s.k === 'online') net.setOnline(true);
        else if (s.k === 'release') net.release();
        else if (s.k === 'drop') net.dropNextPush = true;
        else net.duplicateNextPush = true;
      }
    }
    nets.forEach((n) => (n.release(), n.setOnline(true)));
    // Bounded, so a scenario that never quiesces fails rather than hangs.
    await Promise.all(tabs.map((c, i) => at(`tab ${i} sync`, c.sync({ timeoutMs: 15_000 }))));
    // One profile for both devices, unless a heal moved a device to one of its own: then each
    // device's profile, checked on its own tabs' skus (a key ends with its tab, see key()).
    const healed = fired.heal > 0;
    const carts = await at(
      'server snapshot',
      Promise.all(
        (healed ? nss : [nss[0]!]).map(async (ns) =>
          Object.fromEntries(
            (await serverSnapshot(ns)).state.cart.lines.map((l) => [l.key, l.qty]),
          ),
        ),
      ),
    );
    const cartOfDev = (d: number) => carts[healed ? d : 0]!;
    const same = (d: number) => (s: Parameters<typeof cartOf>[0]) =>
      JSON.stringify(cartOf(s)) === JSON.stringify(cartOfDev(d));
    // Every tab settles on its device's server cart (a tab that never does counts as diverged).
    const settled = await Promise.all(
      tabs.map((c, i) =>
        until(c, same(devOf(i)), `tab ${i} converges`, 5000).then(
          () => true,
          () => false,
        ),
      ),
    );
    let lost = 0;
    let duplicated = 0;
    carts.forEach((serverCart, d) => {
      for (const k of new Set([...Object.keys(expected), ...Object.keys(serverCart)])) {
        if (healed && devOf(Number(k.at(-1))) !== d) continue;
        const want = expected[k] ?? 0;
        const got = serverCart[k] ?? 0;
        if (got < want) lost += want - got;
        if (got > want) duplicated += got - want;
      }
    });
    return {
      changes,
      inFlight,
      fired,
      lost,
      duplicated,
      diverged: settled.filter((ok) => !ok).length,
      memory: tabs.filter((c) => c.status.storage !== 'indexeddb').length,
    };
  } finally {
    nets.forEach((n) => n.release());
    await Promise.all(tabs.map((c) => c.close()));
  }
}

/** Runs `runs` scenarios, asserting each, and prints the computed figures (even on failure). */
export async function fuzz(
  name: string,
  arb: fc.Arbitrary<Step>,
  seed: number,
  runs: number,
  mixed: boolean,
) {
  const sum = {
    scenarios: 0,
    steps: 0,
    changes: 0,
    inFlight: 0,
    lost: 0,
    duplicated: 0,
    diverged: 0,
    memory: 0,
  };
  const fired = noFaults();
  const cfg = await testConfig();
  const { engine } = cfg;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(arb, { minLength: 8, maxLength: 40 }), async (steps) => {
        const o = await scenario(cfg, steps, mixed);
        sum.scenarios++;
        sum.steps += steps.length;
        sum.changes += o.changes;
        sum.inFlight += o.inFlight;
        sum.lost += o.lost;
        sum.duplicated += o.duplicated;
        sum.diverged += o.diverged;
        sum.memory += o.memory;
        for (const k of Object.keys(fired) as (keyof Fired)[]) fired[k] += o.fired[k];
        expect({
          lost: o.lost,
          duplicated: o.duplicated,
          diverged: o.diverged,
          memory: o.memory,
        }).to.deep.equal({ lost: 0, duplicated: 0, diverged: 0, memory: 0 });
      }),
      {
        numRuns: runs,
        seed,
        includeErrorInReport: true,
        ...(mixed ? {} : { examples: [regression] }),
      },
    );
  } finally {
    const faults = Object.values(fired).reduce((a, b) => a + b, 0) - fired.pokes;
    // eslint-disable-next-line no-console -- the one figures line DESIGN asks of randomized tests
    console.log(
      `${name}: engine=${engine} scenarios=${sum.scenarios} steps=${sum.steps} changes=${sum.changes} ` +
        `changes_in_flight=${sum.inFlight} faults=${faults} (held=${fired.hold} dropped=${fired.drop} ` +
        `duplicated_push=${fired.dup} offline_requests=${fired.offline} reloads=${fired.reload} ` +
        `heals=${fired.heal}) ` +
        `pokes=${fired.pokes} lost=${sum.lost} duplicated=${sum.duplicated} diverged=${sum.diverged} ` +
        `memory_fallbacks=${sum.memory} seed=${seed}`,
    );
  }
}
