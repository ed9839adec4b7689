// Randomized multi-device sync across server restarts, graceful (SIGTERM) and SIGKILL while
// pushes are in flight, on a persistent PGlite directory and on PostgreSQL (DATABASE_URL).
// The oracle is built from acknowledgements only: each profile is driven by one sequential
// worker, so its mutations commit in the order the worker learns of them (from a push's answer,
// or, when the answer was lost to a restart, from the pull made as soon as the server is back).
// After every restart, each device's server snapshot must equal reduce(acknowledged log) with
// its lastSeq; at the end, no mutation was applied twice (the events its push recorded).
// Quick by default; SYNC_RESTART_FUZZ=full for 200 profiles x 5,000 mutations.
// Replay with SYNC_RESTART_FUZZ_SEED=<seed> (SYNC_RESTART_FUZZ_SEED=random explores).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { PGlite } from '@electric-sql/pglite';
import {
  reduce,
  type Mutation,
  type PushResponse,
  type RegisterDeviceResponse,
  type Snapshot,
} from '@omnikit/protocol';
import { startChild, type ChildServer } from './child.js';
import {
  adminQuery,
  customerToken,
  databaseUrl,
  dropSchema,
  freshSchema,
  pgliteTemplate,
  startTestServer,
} from './helpers.js';
import { spec, type Spec } from './mutation-specs.js';

const full = process.env.SYNC_RESTART_FUZZ === 'full';
const seed =
  process.env.SYNC_RESTART_FUZZ_SEED === 'random'
    ? Date.now() % 2 ** 31
    : Number(process.env.SYNC_RESTART_FUZZ_SEED ?? 20261202);
const PROFILES = Number(process.env.SYNC_RESTART_FUZZ_PROFILES ?? (full ? 200 : 6));
const MUTATIONS = Number(process.env.SYNC_RESTART_FUZZ_MUTATIONS ?? (full ? 5000 : 80));
/** Pushes between restarts (on average); quick mode restarts twice (a kill, then a SIGTERM). */
const RESTART_EVERY = full ? 4000 : 40;
const MAX_RESTARTS = full ? Infinity : 2;

type Step =
  | { k: 'mutate'; d: number; spec: Spec }
  | { k: 'push'; d: number; size: number }
  | { k: 'pull'; d: number };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ k: fc.constant('mutate' as const), d: fc.nat(1), spec }) },
  {
    weight: 2,
    arbitrary: fc.record({
      k: fc.constant('push' as const),
      d: fc.nat(1),
      size: fc.integer({ min: 1, max: 40 }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ k: fc.constant('pull' as const), d: fc.nat(1) }) },
) as fc.Arbitrary<Step>;

interface Device {
  id: string;
  headers: Record<string, string>;
  seq: number;
  acked: number;
  clock: number;
  outbox: Mutation[];
}

interface Profile {
  devices: [Device, Device];
  /** The acknowledged mutations in commit order. */
  log: Mutation[];
}

class NetworkError extends Error {}

/** A profile's steps, drawn lazily in seeded chunks (full mode makes a million of them). */
function* steps(index: number): Generator<Step> {
  for (let chunk = 0; ; chunk++) {
    yield* fc.sample(stepArb, { seed: seed + 7919 * (index + 1) + chunk, numRuns: 1000 });
  }
}

/** Waits until every active worker stands at the gate, then lets them all through at once. */
class Gate {
  private arrived = 0;
  private releaseAll!: () => void;
  private readonly released = new Promise<void>((r) => (this.releaseAll = r));
  private allIn!: () => void;
  readonly full = new Promise<void>((r) => (this.allIn = r));
  constructor(private active: number) {
    if (active === 0) this.allIn();
  }
  arrive(): Promise<void> {
    this.arrived++;
    if (this.arrived >= this.active) this.allIn();
    return this.released;
  }
  /** A worker that finished its steps no longer needs to arrive. */
  leave(): void {
    this.active--;
    if (this.arrived >= this.active) this.allIn();
  }
  release(): void {
    this.releaseAll();
  }
}

async function run(db: { label: string; spec: string; events(): Promise<number> }) {
  const totals = { mutations: 0, restarts: 0, lost: 0, duplicated: 0, diverged: 0, kills: 0 };
  let server: ChildServer = await startChild(db.spec);
  let up: Promise<void> = Promise.resolve();
  let gate: Gate | undefined;
  let active = PROFILES;
  let pushes = 0;
  const restartRng = fc.sample(fc.integer({ min: 1, max: 2 * RESTART_EVERY }), {
    seed,
    numRuns: 10_000,
  });
  let nextRestart = restartRng[0]!;

  async function call<T>(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    let res: Response;
    try {
      res = await fetch(server.url + path, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json()) as T };
    } catch (err) {
      throw new NetworkError((err as Error).message);
    }
  }

  /** Retries through restarts (for steps whose outcome does not matter until they succeed). */
  async function steady<T>(
    method: string,
    path: string,
    headers: Record<string, string>,
    body?: unknown,
  ): Promise<{ status: number; body: T }> {
    for (;;) {
      try {
        return await call<T>(method, path, headers, body);
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        await up;
        await new Promise((r) => setImmediate(r));
      }
    }
  }

  const profiles: Profile[] = [];
  for (let p = 0; p < PROFILES; p++) {
    const devices: Device[] = [];
    for (let d = 0; d < 2; d++) {
      const reg = await steady<RegisterDeviceResponse>(
        'POST',
        '/v1/devices',
        {
          'x-omni-key': 'pk_shop',
        },
        { channel: 'web' },
      );
      const headers = { authorization: `Bearer ${reg.body.token}` };
      const token = await customerToken(`restart-${db.label}-${seed}-${p}`);
      const ident = await steady<Snapshot>('POST', '/v1/identify', headers, { token });
      assert.equal(ident.status, 200, JSON.stringify(ident.body));
      devices.push({
        id: reg.body.deviceId,
        headers,
        seq: 0,
        acked: 0,
        clock: 1_700_000_000_000,
        outbox: [],
      });
    }
    profiles.push({ devices: devices as [Device, Device], log: [] });
  }

  /** Records what the server says it consumed of a device's outbox, in order. */
  function acknowledge(profile: Profile, device: Device, lastSeq: number): void {
    if (lastSeq < device.acked) {
      totals.lost += device.acked - lastSeq;
      return;
    }
    const done = device.outbox.filter((m) => m.seq <= lastSeq);
    profile.log.push(...done);
    device.outbox = device.outbox.filter((m) => m.seq > lastSeq);
    device.acked = lastSeq;
  }

  async function verify(): Promise<void> {
    for (const profile of profiles) {
      const truth = reduce(profile.log);
      for (const device of profile.devices) {
        const snap = await call<Snapshot>('GET', '/v1/sync/pull', device.headers);
        assert.equal(snap.status, 200);
        if (snap.body.lastSeq < device.acked) totals.lost += device.acked - snap.body.lastSeq;
        if (!isDeepStrictEqual(snap.body.state, truth)) totals.diverged++;
      }
    }
  }

  async function restart(): Promise<void> {
    const mode = totals.restarts % 2 === 0 ? 'kill' : 'graceful';
    gate = new Gate(active);
    let backUp!: () => void;
    up = new Promise((r) => (backUp = r));
    // Pushes of the other workers are in flight: the kill lands in the middle of them.
    await server.stop(mode);
    totals.restarts++;
    if (mode === 'kill') totals.kills++;
    server = await startChild(db.spec);
    backUp();
    await gate.full;
    await verify();
    const g = gate;
    gate = undefined;
    g.release();
  }

  let restarting: Promise<void> | undefined;
  let failure: unknown;

  async function worker(index: number): Promise<void> {
    const profile = profiles[index]!;
    let made = 0;
    for (const step of steps(index)) {
      if (made >= MUTATIONS) break;
      if (gate) await gate.arrive();
      const device = profile.devices[step.d]!;
      if (step.k === 'mutate') {
        device.outbox.push({ seq: ++device.seq, at: ++device.clock, ...step.spec } as Mutation);
        made++;
        continue;
      }
      if (step.k === 'pull') {
        const snap = await steady<Snapshot>('GET', '/v1/sync/pull', device.headers);
        acknowledge(profile, device, snap.body.lastSeq);
        continue;
      }
      const batch = device.outbox.slice(0, step.size);
      if (batch.length === 0) continue;
      pushes++;
      const sent = call<PushResponse>('POST', '/v1/sync/push', device.headers, {
        deviceId: device.id,
        mutations: batch,
      });
      if (pushes >= nextRestart && !restarting && !gate && totals.restarts < MAX_RESTARTS) {
        nextRestart = pushes + restartRng[totals.restarts + 1]!;
        restarting = restart().finally(() => (restarting = undefined));
        restarting.catch((err: unknown) => (failure ??= err));
      }
      try {
        const res = await sent;
        assert.equal(res.status, 200, JSON.stringify(res.body));
        acknowledge(profile, device, res.body.lastSeq);
      } catch (err) {
        if (!(err instanceof NetworkError)) throw err;
        // The answer is lost: did it commit? Ask as soon as the server is back, before anything
        // else of this profile runs, so the log keeps commit order.
        await up;
        const snap = await steady<Snapshot>('GET', '/v1/sync/pull', device.headers);
        acknowledge(profile, device, snap.body.lastSeq);
      }
    }
    // Drain: everything made is pushed over a healthy network.
    for (const device of profile.devices) {
      while (device.outbox.length) {
        if (gate) await gate.arrive();
        const res = await steady<PushResponse>('POST', '/v1/sync/push', device.headers, {
          deviceId: device.id,
          mutations: device.outbox.slice(0, 40),
        });
        assert.equal(res.status, 200);
        acknowledge(profile, device, res.body.lastSeq);
      }
    }
    totals.mutations += made;
    active--;
    gate?.leave();
  }

  try {
    await Promise.all(profiles.map((_, i) => worker(i)));
    await restarting;
    if (failure) throw failure;
    // One last restart of each kind when the run was too short to hold both.
    while (totals.restarts < 2) await restart();
    await verify();
  } finally {
    await server.stop('graceful');
  }
  totals.duplicated = await db.events();
  // eslint-disable-next-line no-console
  console.log(
    `sync-restart-fuzz: profiles=${PROFILES} mutations=${totals.mutations} ` +
      `restarts=${totals.restarts} kills=${totals.kills} lost=${totals.lost} ` +
      `duplicated=${totals.duplicated} diverged=${totals.diverged} db=${db.label} seed=${seed}`,
  );
  assert.equal(totals.lost, 0, 'acknowledged mutations lost');
  assert.equal(totals.duplicated, 0, 'mutations applied twice');
  assert.equal(totals.diverged, 0, 'snapshots diverged from reduce(acknowledged log)');
}

/** Mutations applied twice: a (device, at) pair recorded as more than one event. */
const duplicatesSql = `SELECT count(*)::int AS n FROM (
  SELECT device_id, at FROM events GROUP BY device_id, at HAVING count(*) > 1) AS t`;

test('sync-restart-fuzz: restarts and kills on a persistent PGlite lose and double nothing', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'omnikit-restart-'));
  try {
    // From the initdb'd template: the children then only open the directory.
    await (await PGlite.create({ dataDir: dir, loadDataDir: await pgliteTemplate() })).close();
    await run({
      label: 'pglite',
      spec: `pglite:${dir}`,
      events: async () => {
        const pg = await PGlite.create({ dataDir: dir });
        try {
          return (await pg.query<{ n: number }>(duplicatesSql)).rows[0]!.n;
        } finally {
          await pg.close();
        }
      },
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

if (databaseUrl) {
  test('sync-restart-fuzz: restarts and kills on PostgreSQL lose and double nothing', async () => {
    const schema = freshSchema()!;
    // Migrated once here, so the children start on a ready schema.
    await (await startTestServer({ schema })).close();
    try {
      await run({
        label: 'postgres',
        spec: `postgres:${schema}`,
        events: async () =>
          (
            await adminQuery<{ n: number }>(
              duplicatesSql.replace('FROM events', `FROM "${schema}".events`),
            )
          )[0]!.n,
      });
    } finally {
      await dropSchema(schema);
    }
  });
} else {
  // eslint-disable-next-line no-console
  console.log('sync-restart-fuzz: PostgreSQL variant not run: DATABASE_URL is unset');
}
