// Fairness: other shoppers' push and pull p95 without a flood and during a flood from one device
// and from one address, with the production rate limits, over loopback only. Three processes:
// the server (test/bench/serve.ts, logging every request as in production), this one (the
// shoppers, each from its own address via X-Forwarded-For) and the flood (test/bench/flood.ts).
// Bounded: each flood lasts FAIRNESS_SECONDS (15) at most FAIRNESS_FLOOD_RPS requests a second
// (1500) and 20,000 requests; every phase has a hard deadline, past which the bench prints what
// it has and exits non-zero. Medians over FAIRNESS_ROUNDS (3) rounds, per flood and database:
// `fairness: flood=… flood_rps=… refused=…% others_p95_ms before=… during=… change=…%`.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FloodJob, FloodResult } from './flood.js';
import {
  batch,
  childServer,
  fmt,
  median,
  percentile,
  postgresReachable,
  postgresUrl,
  registerFrom,
  type BenchDevice,
} from './util.js';

/**
 * Each window (without, then during the flood) lasts this long. 5 s (the former default) gives
 * the 20 shoppers' p95 so few samples that it swung from 9.7 to 64 ms between rounds with no
 * flood at all; at 15 s the no-flood p95 of most rounds stays within about a fifth of the others
 * (single rounds still stray, so read the median of several).
 */
const SECONDS = Number(process.env.FAIRNESS_SECONDS ?? 15);
const ROUNDS = Number(process.env.FAIRNESS_ROUNDS ?? 3);
const FLOOD_RPS = Number(process.env.FAIRNESS_FLOOD_RPS ?? 1500);
const SHOPPERS = Number(process.env.FAIRNESS_SHOPPERS ?? 20);
const CONNECTIONS = Number(process.env.FAIRNESS_CONNECTIONS ?? 16);
const THINK_MS = 100;
// FAIRNESS_DB=pglite|postgres and FAIRNESS_FLOODS=device|address narrow a run down.
const only = (name: string, list: string | undefined) =>
  list === undefined || list.split(',').includes(name);
/**
 * The whole bench, whatever happens: a backstop above the phases' own bounds (see `phase`),
 * sized to the rounds and windows asked for (a fixed 300 s cut short a run of longer windows).
 */
const DEADLINE_MS =
  Number(process.env.FAIRNESS_DEADLINE_S ?? 120 + 4 * ROUNDS * 2 * (SECONDS + 20)) * 1000;

const children = new Set<ChildProcess>();
let closeServer: (() => Promise<void>) | undefined;
/** Prints the figures of the rounds done so far (when the bench has to give up). */
let reportSoFar: (() => void) | undefined;
let givingUp = false;

/** Prints what the bench has, stops its processes and exits non-zero. */
function giveUp(why: string): Promise<never> {
  if (!givingUp) {
    givingUp = true;
    reportSoFar?.();
    console.log(`fairness: gave up: ${why}`);
    for (const child of children) child.kill('SIGKILL');
    // Let the server close (dropping its schema), but leave within seconds whatever it does.
    setTimeout(() => process.exit(1), 5000);
    void (closeServer?.() ?? Promise.resolve()).finally(() => process.exit(1));
  }
  return new Promise<never>(() => {});
}

setTimeout(() => void giveUp(`the bench took over ${DEADLINE_MS / 1000} s`), DEADLINE_MS).unref();

/** `promise`, or giving up with what was measured when it fails or takes over `seconds`. */
async function within<T>(seconds: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took over ${seconds} s`)), seconds * 1000);
  });
  try {
    return await Promise.race([promise, late]);
  } catch (err) {
    return giveUp(`${what}: ${(err as Error).message}`);
  } finally {
    clearTimeout(timer);
  }
}

interface Shopper extends BenchDevice {
  seq: number;
}

async function shopperFrom(base: string, address: string): Promise<Shopper> {
  const res = await registerFrom(base, address);
  if (res.status !== 201) throw new Error(`register: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as Omit<BenchDevice, 'headers'>;
  return {
    ...body,
    seq: 0,
    headers: {
      authorization: `Bearer ${body.token}`,
      'content-type': 'application/json',
      'x-forwarded-for': address,
    },
  };
}

interface Latencies {
  push: number[];
  pull: number[];
  all: number[];
}

/** Every shopper pushes 3 mutations, waits, pulls, waits, for `seconds`: about 100 requests/s. */
async function measure(base: string, shoppers: Shopper[], seconds: number): Promise<Latencies> {
  const until = performance.now() + seconds * 1000;
  const push: number[] = [];
  const pull: number[] = [];
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  await Promise.all(
    shoppers.map(async (s, i) => {
      await sleep((i * 2 * THINK_MS) / shoppers.length);
      while (performance.now() < until) {
        let t = performance.now();
        const pushed = await fetch(`${base}/v1/sync/push`, {
          method: 'POST',
          headers: s.headers,
          body: JSON.stringify({ deviceId: s.deviceId, mutations: batch(s.seq + 1, 3) }),
        });
        await pushed.arrayBuffer();
        push.push(performance.now() - t);
        if (pushed.status !== 200) throw new Error(`a shopper's push got ${pushed.status}`);
        s.seq += 3;
        await sleep(THINK_MS);
        t = performance.now();
        const pulled = await fetch(`${base}/v1/sync/pull`, { headers: s.headers });
        await pulled.arrayBuffer();
        pull.push(performance.now() - t);
        if (pulled.status !== 200) throw new Error(`a shopper's pull got ${pulled.status}`);
        await sleep(THINK_MS);
      }
    }),
  );
  const sorted = (xs: number[]) => [...xs].sort((a, b) => a - b);
  return { push: sorted(push), pull: sorted(pull), all: sorted([...push, ...pull]) };
}

/** Starts the flood process; resolves once its first request is out, with its result to come. */
async function startFlood(job: FloodJob): Promise<{ done: Promise<FloodResult> }> {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('flood.ts', import.meta.url)), JSON.stringify(job)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.add(child);
  child.stdout.setEncoding('utf8');
  let started: () => void;
  const isStarted = new Promise<void>((resolve) => (started = resolve));
  const done = new Promise<FloodResult>((resolve, reject) => {
    let buffer = '';
    let result: FloodResult | undefined;
    child.stdout.on('data', (chunk: string) => {
      buffer += chunk;
      let end: number;
      while ((end = buffer.indexOf('\n')) >= 0) {
        const line = JSON.parse(buffer.slice(0, end)) as { started?: true } & FloodResult;
        buffer = buffer.slice(end + 1);
        if (line.started) started();
        else result = line;
      }
    });
    child.once('exit', (code) => {
      children.delete(child);
      if (result && code === 0) resolve(result);
      else reject(new Error(`the flood exited with ${code}`));
    });
  });
  done.catch(() => {}); // awaited below; not unhandled meanwhile
  await Promise.race([isStarted, done]);
  return { done };
}

interface Flood {
  name: string;
  job: (base: string, round: number) => Promise<FloodJob>;
}

const bounded = {
  rps: FLOOD_RPS,
  seconds: SECONDS,
  maxRequests: 20_000,
  connections: CONNECTIONS,
};

const allFloods: Flood[] = [
  {
    // One device token pushing as fast as it may, from addresses that change every request:
    // only the per-device limit stands in its way.
    name: 'device',
    job: async (base, round) => {
      const flooder = await shopperFrom(base, `127.77.${round}.1`);
      return {
        ...bounded,
        base,
        method: 'POST',
        path: '/v1/sync/push',
        headers: {
          authorization: flooder.headers.authorization!,
          'content-type': 'application/json',
        },
        body: JSON.stringify({ deviceId: flooder.deviceId, mutations: batch(1, 10) }),
        addressPrefix: `127.78.${round}`,
      };
    },
  },
  {
    // One address registering devices (each one a new profile) as fast as it goes.
    name: 'address',
    job: async (base, round) => ({
      ...bounded,
      base,
      method: 'POST',
      path: '/v1/devices',
      headers: {
        'x-omni-key': 'pk_bench',
        'content-type': 'application/json',
        'x-forwarded-for': `127.79.${round}.1`,
      },
      body: '{}',
    }),
  },
];

const floods = allFloods.filter((f) => only(f.name, process.env.FAIRNESS_FLOODS));

interface Round {
  before: Latencies;
  during: Latencies;
  flood: FloodResult;
}

/** One flood's figures: medians over its rounds of each p95, with each round's pair. */
function fairnessLine(name: string, rs: Round[], kind: string): string {
  const p95 = (xs: number[]) => percentile(xs, 95);
  const med = (f: (r: Round) => number) => median(rs.map(f));
  const before = med((r) => p95(r.before.all));
  const during = med((r) => p95(r.during.all));
  const rps = med((r) => r.flood.sent / r.flood.seconds);
  const refused = med((r) => (r.flood.statuses['429'] ?? 0) / Math.max(1, r.flood.sent));
  return (
    `fairness: flood=${name} flood_rps=${fmt(rps, 0)} (at most ${FLOOD_RPS} on ${CONNECTIONS} ` +
    `connections, each sending as soon as answered) refused=${fmt(100 * refused)}% ` +
    `failed=${rs.reduce((n, r) => n + (r.flood.statuses.error ?? 0), 0)} ` +
    `others_p95_ms before=${fmt(before)} during=${fmt(during)} ` +
    `change=${fmt((100 * (during - before)) / before)}% ` +
    `(push ${fmt(med((r) => p95(r.before.push)))}→${fmt(med((r) => p95(r.during.push)))}, ` +
    `pull ${fmt(med((r) => p95(r.before.pull)))}→${fmt(med((r) => p95(r.during.pull)))}; ` +
    `rounds ${rs.map((r) => `${fmt(p95(r.before.all))}→${fmt(p95(r.during.all))}`).join(', ')}; ` +
    `${kind}, ${SHOPPERS} shoppers, ${SECONDS} s floods)`
  );
}

const kinds: ('pglite' | 'postgres')[] = [];
if (only('pglite', process.env.FAIRNESS_DB)) kinds.push('pglite');
if (!only('postgres', process.env.FAIRNESS_DB)) {
  // left out on purpose
} else if (await postgresReachable()) kinds.push('postgres');
else console.log(`postgres: not reachable at ${postgresUrl}; skipped`);

for (const kind of kinds) {
  const server = await within(
    60,
    'starting the server',
    childServer(kind, { realLimits: true, trustProxy: true, log: true }),
  );
  closeServer = server.close;
  const base = server.url;
  const shoppers: Shopper[] = [];
  for (let i = 0; i < SHOPPERS; i++) {
    shoppers.push(await within(10, 'registering shoppers', shopperFrom(base, `127.66.0.${i + 1}`)));
  }
  const phase = SECONDS + 20;
  await within(phase, 'the warm-up', measure(base, shoppers, 3)); // JIT, connections, plans

  const rounds = new Map(floods.map((f) => [f.name, [] as Round[]]));
  reportSoFar = () => {
    for (const flood of floods) {
      const rs = rounds.get(flood.name)!;
      if (rs.length > 0) console.log(fairnessLine(flood.name, rs, kind));
    }
  };
  for (let round = 1; round <= ROUNDS; round++) {
    for (const flood of floods) {
      const before = await within(
        phase,
        `round ${round}: before the ${flood.name} flood`,
        measure(base, shoppers, SECONDS),
      );
      const job = await within(10, 'preparing the flood', flood.job(base, round));
      const running = await within(20, `starting the ${flood.name} flood`, startFlood(job));
      const during = await within(
        phase,
        `round ${round}: during the ${flood.name} flood`,
        measure(base, shoppers, SECONDS),
      );
      const result = await within(
        phase,
        `round ${round}: the ${flood.name} flood's end`,
        running.done,
      );
      if (process.env.FAIRNESS_DEBUG) console.log(flood.name, JSON.stringify(result));
      rounds.get(flood.name)!.push({ before, during, flood: result });
    }
  }
  const report = reportSoFar;
  reportSoFar = undefined;
  report();
  await within(30, 'closing the server', server.close());
  closeServer = undefined;
}
process.exit(0);
