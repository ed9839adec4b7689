// Randomized multi-device sync against the real HTTP server, with network faults as steps of
// the scenario. The oracle is the server's own log of consumed mutations, in commit order:
// after quiescing, every replica (each device's rebased view, the database row) must equal
// reduce(log), and every (device, seq) must be in the log exactly once.
// Replay a failure with SYNC_FUZZ_SEED=<seed> (and SYNC_FUZZ_RUNS for more scenarios);
// SYNC_FUZZ_SEED=random explores.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  rebase,
  reduce,
  type Mutation,
  type ProfileState,
  type PushResponse,
  type Snapshot,
} from '@omnikit/protocol';
import type { FaultAction, PushCommitted } from '@omnikit/server';
import { Api, customerToken, startTestServer, type Device, type TestServer } from './helpers.js';
import { spec, type Spec } from './mutation-specs.js';

const runs = Number(process.env.SYNC_FUZZ_RUNS ?? 100);
// One fixed seed by default so CI is reproducible; SYNC_FUZZ_SEED=random explores new ones.
const seed =
  process.env.SYNC_FUZZ_SEED === 'random'
    ? Date.now() % 2 ** 31
    : Number(process.env.SYNC_FUZZ_SEED ?? 20261124);

let server: TestServer;
let api: Api;
const log = new Map<string, Mutation[]>();
let nextFault: FaultAction | undefined;

before(async () => {
  server = await startTestServer({
    faults: ({ path }) => {
      if (path !== '/v1/sync/push' || !nextFault) return undefined;
      const fault = nextFault;
      nextFault = undefined;
      return fault;
    },
    onPushCommitted: (e: PushCommitted) => {
      const entries = log.get(e.profileId) ?? [];
      entries.push(...e.consumed.map((m) => ({ ...m, deviceId: e.deviceId })));
      log.set(e.profileId, entries);
    },
  });
  api = new Api(server.url);
});
after(() => server.close());

type Fault = 'none' | 'drop' | 'duplicate' | 'error-before' | 'error-after';
type Step =
  | { k: 'mutate'; d: number; spec: Spec }
  | { k: 'push'; d: number; fault: Fault }
  | { k: 'stale'; d: number; pick: number }
  | { k: 'pull'; d: number };

const scenario = fc.record({
  devices: fc.integer({ min: 3, max: 4 }),
  steps: fc.array(
    fc.oneof(
      {
        weight: 6,
        arbitrary: fc.record({ k: fc.constant('mutate' as const), d: fc.nat(3), spec }),
      },
      {
        weight: 4,
        arbitrary: fc.record({
          k: fc.constant('push' as const),
          d: fc.nat(3),
          fault: fc.constantFrom<Fault>(
            'none',
            'none',
            'drop',
            'duplicate',
            'error-before',
            'error-after',
          ),
        }),
      },
      {
        weight: 1,
        arbitrary: fc.record({ k: fc.constant('stale' as const), d: fc.nat(3), pick: fc.nat() }),
      },
      { weight: 2, arbitrary: fc.record({ k: fc.constant('pull' as const), d: fc.nat(3) }) },
    ) as fc.Arbitrary<Step>,
    { minLength: 10, maxLength: 60 },
  ),
});

class SimDevice {
  seq = 0;
  outbox: Mutation[] = [];
  /** Every batch ever sent, to replay late (reordered retries). */
  sent: Mutation[][] = [];
  snap: Snapshot;
  clock = 1_700_000_000_000;
  constructor(
    readonly device: Device,
    snap: Snapshot,
  ) {
    this.snap = snap;
  }
  /** The optimistic view: the server snapshot plus what is still pending. */
  view(): ProfileState {
    return rebase(this.snap.state, this.outbox).state;
  }
  ack(lastSeq: number): void {
    this.outbox = this.outbox.filter((m) => m.seq > lastSeq);
  }
}

const totals = { scenarios: 0, steps: 0, faults: 0, lost: 0, duplicated: 0, diverged: 0 };
let customer = 0;

async function push(sim: SimDevice, batch: Mutation[]): Promise<PushResponse | undefined> {
  const res = await api.push(sim.device, batch);
  if (res.status === 500) return undefined;
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function runScenario(s: { devices: number; steps: Step[] }): Promise<void> {
  const id = `fuzz-${++customer}`;
  const sims: SimDevice[] = [];
  for (let i = 0; i < s.devices; i++) {
    const device = await api.register();
    const identified = await api.call<Snapshot>('POST', '/v1/identify', {
      body: { token: await customerToken(id) },
      headers: device.auth,
    });
    assert.equal(identified.status, 200);
    sims.push(new SimDevice(device, identified.body));
  }
  const profileId = sims[0]!.snap.profileId;
  let faults = 0;
  for (const step of s.steps) {
    const sim = sims[step.d % sims.length]!;
    if (step.k === 'mutate') {
      sim.outbox.push({ seq: ++sim.seq, at: ++sim.clock, ...step.spec } as Mutation);
    } else if (step.k === 'pull') {
      sim.snap = await api.pull(sim.device);
      sim.ack(sim.snap.lastSeq);
    } else if (step.k === 'stale') {
      if (sim.sent.length === 0) continue;
      faults++;
      const old = sim.sent[step.pick % sim.sent.length]!;
      const res = await push(sim, old);
      if (res) sim.ack(res.lastSeq);
    } else {
      const batch = sim.outbox.slice(0, 10);
      if (batch.length === 0) continue;
      sim.sent.push(batch);
      if (step.fault !== 'none') faults++;
      if (step.fault === 'drop') {
        // Applied by the server; the answer is lost on the way back.
        await push(sim, batch);
      } else if (step.fault === 'duplicate') {
        const [a] = await Promise.all([push(sim, batch), push(sim, batch)]);
        if (a) sim.ack(a.lastSeq);
      } else {
        if (step.fault !== 'none') nextFault = step.fault;
        const res = await push(sim, batch);
        nextFault = undefined;
        if (res) sim.ack(res.lastSeq);
      }
    }
  }
  // Quiesce: every device drains its outbox over a healthy network, then everyone pulls.
  for (const sim of sims) {
    while (sim.outbox.length) {
      const res = await push(sim, sim.outbox.slice(0, 10));
      assert.ok(res, 'no faults while quiescing');
      sim.ack(res.lastSeq);
    }
  }
  for (const sim of sims) sim.snap = await api.pull(sim.device);

  const entries = (log.get(profileId) ?? []) as (Mutation & { deviceId: string })[];
  const truth = reduce(entries);
  let lost = 0;
  let duplicated = 0;
  let diverged = 0;
  for (const sim of sims) {
    const mine = entries.filter((e) => e.deviceId === sim.device.deviceId).map((e) => e.seq);
    for (let seq = 1; seq <= sim.seq; seq++) {
      const n = mine.filter((x) => x === seq).length;
      if (n === 0) lost++;
      if (n > 1) duplicated++;
    }
    if (!isDeepEqual(sim.view(), truth)) diverged++;
  }
  totals.scenarios++;
  totals.steps += s.steps.length;
  totals.faults += faults;
  totals.lost += lost;
  totals.duplicated += duplicated;
  totals.diverged += diverged;
  assert.equal(lost, 0, 'lost mutations');
  for (const sim of sims) {
    const mine = entries.filter((e) => e.deviceId === sim.device.deviceId).map((e) => e.seq);
    assert.deepEqual(
      mine,
      [...mine].sort((a, b) => a - b),
      'a device’s seqs commit in order',
    );
    assert.equal(sim.snap.lastSeq, sim.seq);
  }
  assert.equal(duplicated, 0, 'duplicated mutations');
  assert.equal(diverged, 0, 'replicas diverged from reduce(log)');
  // The database row, read back through pull by a device of the profile.
  assert.deepEqual(sims[0]!.snap.state, truth);
}

function isDeepEqual(a: unknown, b: unknown): boolean {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

test('sync-fuzz: devices with faulty networks converge on reduce(server log)', async () => {
  try {
    await fc.assert(fc.asyncProperty(scenario, runScenario), { seed, numRuns: runs });
  } finally {
    // The one figure line the issue asks for (read by CI logs and the report).
    // eslint-disable-next-line no-console
    console.log(
      `sync-fuzz: scenarios=${totals.scenarios} steps=${totals.steps} faults=${totals.faults} ` +
        `lost=${totals.lost} duplicated=${totals.duplicated} diverged=${totals.diverged} seed=${seed}`,
    );
  }
});
