// Fairness: other shoppers' push and pull p95 with and without a flood from one device, then
// from one address, with the production rate limits, over loopback only. Shoppers each have
// their own address (X-Forwarded-For, the server trusting it as behind a proxy); the flood
// runs in a worker thread so its callbacks never delay the shoppers' clocks. Bounded: each
// flood lasts FLOOD_SECONDS (8) and sends at most 200 000 requests.
// Prints, per flood: `fairness: flood=… flood_rps=… refused=…% others_p95_ms before=… during=…`.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import {
  batch,
  childServer,
  fmt,
  percentile,
  postgresReachable,
  postgresUrl,
  register,
  type BenchDevice,
} from './util.js';

const FLOOD_SECONDS = Number(process.env.FLOOD_SECONDS ?? 8);
const MAX_FLOOD = 200_000;
const SHOPPERS = Number(process.env.FAIRNESS_SHOPPERS ?? 20);
const THINK_MS = 100;

interface FloodJob {
  base: string;
  kind: 'device' | 'address';
  headers: Record<string, string>;
  seconds: number;
}

if (!isMainThread) {
  // The flood: as fast as 32 connections go, from one device or one address.
  const job = workerData as FloodJob;
  const until = performance.now() + job.seconds * 1000;
  let sent = 0;
  let refused = 0;
  const loop = async () => {
    while (performance.now() < until && sent < MAX_FLOOD) {
      sent++;
      const res =
        job.kind === 'device'
          ? await fetch(`${job.base}/v1/sync/pull`, { headers: job.headers })
          : await fetch(`${job.base}/v1/devices`, {
              method: 'POST',
              headers: job.headers,
              body: '{}',
            });
      if (res.status === 429) refused++;
      await res.arrayBuffer();
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: 32 }, loop));
  parentPort!.postMessage({ sent, refused, seconds: (performance.now() - start) / 1000 });
} else {
  const kind = (await postgresReachable()) ? 'postgres' : 'pglite';
  if (kind === 'pglite') console.log(`postgres: not reachable at ${postgresUrl}; on PGlite`);
  const server = await childServer(kind, { realLimits: true, trustProxy: true });
  const base = server.url;
  try {
    const shoppers: (BenchDevice & { seq: number })[] = [];
    for (let i = 0; i < SHOPPERS; i++) {
      const address = `10.1.${i >> 8}.${i & 255}`;
      const res = await fetch(`${base}/v1/devices`, {
        method: 'POST',
        headers: {
          'x-omni-key': 'pk_bench',
          'content-type': 'application/json',
          'x-forwarded-for': address,
        },
        body: '{}',
      });
      const body = (await res.json()) as Omit<BenchDevice, 'headers'>;
      shoppers.push({
        ...body,
        seq: 0,
        headers: {
          authorization: `Bearer ${body.token}`,
          'content-type': 'application/json',
          'x-forwarded-for': address,
        },
      });
    }

    /** Every shopper pushes a small batch then pulls, THINK_MS apart, for `seconds`. */
    const measure = async (seconds: number): Promise<number[]> => {
      const until = performance.now() + seconds * 1000;
      const times: number[] = [];
      await Promise.all(
        shoppers.map(async (s, i) => {
          await new Promise((r) => setTimeout(r, (i * THINK_MS) / SHOPPERS));
          while (performance.now() < until) {
            let t = performance.now();
            const pushed = await fetch(`${base}/v1/sync/push`, {
              method: 'POST',
              headers: s.headers,
              body: JSON.stringify({ deviceId: s.deviceId, mutations: batch(s.seq + 1, 3) }),
            });
            await pushed.arrayBuffer();
            if (pushed.status !== 200) throw new Error(`shopper push: ${pushed.status}`);
            s.seq += 3;
            times.push(performance.now() - t);
            await new Promise((r) => setTimeout(r, THINK_MS));
            t = performance.now();
            const pulled = await fetch(`${base}/v1/sync/pull`, { headers: s.headers });
            await pulled.arrayBuffer();
            if (pulled.status !== 200) throw new Error(`shopper pull: ${pulled.status}`);
            times.push(performance.now() - t);
            await new Promise((r) => setTimeout(r, THINK_MS));
          }
        }),
      );
      return times.sort((a, b) => a - b);
    };

    await measure(3); // warm-up: JIT, connections, plans
    const flooder = await register(base);
    const floods: FloodJob[] = [
      {
        base,
        kind: 'device',
        headers: { ...flooder.headers, 'x-forwarded-for': '10.9.9.9' },
        seconds: FLOOD_SECONDS,
      },
      {
        base,
        kind: 'address',
        headers: {
          'x-omni-key': 'pk_bench',
          'content-type': 'application/json',
          'x-forwarded-for': '10.9.9.10',
        },
        seconds: FLOOD_SECONDS,
      },
    ];
    for (const job of floods) {
      const before = percentile(await measure(FLOOD_SECONDS), 95);
      const worker = new Worker(new URL(import.meta.url), {
        workerData: job,
        execArgv: ['--conditions=source', '--import', 'tsx'],
      });
      const flooded = new Promise<{ sent: number; refused: number; seconds: number }>(
        (resolve, reject) => {
          worker.once('message', resolve);
          worker.once('error', reject);
        },
      );
      const during = percentile(await measure(FLOOD_SECONDS), 95);
      const flood = await flooded;
      await worker.terminate();
      console.log(
        `fairness: flood=${job.kind} flood_rps=${Math.round(flood.sent / flood.seconds)} ` +
          `refused=${fmt((100 * flood.refused) / Math.max(1, flood.sent))}% ` +
          `others_p95_ms before=${fmt(before)} during=${fmt(during)} ` +
          `change=${fmt((100 * (during - before)) / before)}% (${kind})`,
      );
    }
  } finally {
    await server.close();
  }
}
