// Personalized recommendations at catalog scale, end to end: a server seeded with the demo catalog
// (2,500 real products, 14,123 real orders) and with 100,000 synthetic products and orders. For
// each: first-run seed + warm-up, the background EASE^R build (time, items covered, memory),
// recommendation latency p50/p95 in the model and over HTTP (each request after a live view),
// and over HTTP again while EASE^R rebuilds (serving must not wait for the O(n³) solve).
// Target: HTTP p95 <= 10 ms at both sizes. Medians of the machine's noise, not a quiet machine.
//
//   node --conditions=source --import tsx test/bench/recs-scale.bench.ts
import { mkdtempSync, writeFileSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { silentLogger, startServer, type SiteConfig } from '@omnikit/server';
import { commerceExtension } from '../../packages/server/src/commerce/extension.js';
import type { RecModel } from '../../packages/server/src/commerce/recs/index.js';
import { fmt, percentile } from './util.js';

const demoDir = fileURLToPath(new URL('../../demo/data/', import.meta.url));
const site: SiteConfig = {
  id: 'bench',
  publishableKey: 'pk_bench',
  allowedOrigins: ['https://bench.example'],
  adminKey: 'bench-admin-key-0123456789',
};
const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };
const N = Number(process.env.BENCH_REQUESTS ?? 300);
const MB = 1024 * 1024;

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A demo-format data directory with `items` synthetic products and `baskets` orders. */
function syntheticDir(items: number, baskets: number): string {
  const dir = mkdtempSync(join(tmpdir(), 'omnikit-recs-scale-'));
  const sku = (i: number): string => `SYN-${i}`;
  const products = Array.from({ length: items }, (_, i) => ({
    sku: sku(i),
    title: `Synthetic product ${i}`,
    price: 100 + (i % 5000),
    currency: 'GBP',
    url: `/p/${sku(i)}`,
    category: `Category ${i % 200}`,
  }));
  writeFileSync(join(dir, 'catalog.json'), JSON.stringify({ products }));
  copyFileSync(join(demoDir, 'stores.json'), join(dir, 'stores.json'));
  writeFileSync(
    join(dir, 'inventory.json'),
    JSON.stringify({
      format: 'omnikit-inventory/1',
      locations: ['online'],
      updatedAt: ['2011-09-30T00:00:00.000Z'],
      qty: {},
    }),
  );
  // Zipf-like popularity with topical neighbourhoods, as in recs.bench.ts.
  const random = rng(4);
  const pick = (): number => Math.floor(Math.pow(random(), 2.5) * items);
  const rows: [number, string | null, number[]][] = [];
  let minutes = Math.floor(Date.UTC(2011, 0, 1) / 60_000);
  for (let b = 0; b < baskets; b++) {
    const anchor = pick();
    const size = 1 + Math.floor(random() * 6);
    const basket = new Set([anchor]);
    for (let k = 1; k < size; k++) {
      basket.add(random() < 0.7 ? (anchor + Math.floor(random() * 50)) % items : pick());
    }
    minutes += 2;
    rows.push([minutes, `C${b % 20_000}`, [...basket]]);
  }
  const skus = Array.from({ length: items }, (_, i) => sku(i));
  writeFileSync(
    join(dir, 'orders.json.gz'),
    gzipSync(JSON.stringify({ format: 'omnikit-orders/1', skus, baskets: rows })),
  );
  return dir;
}

async function get(url: string, headers: Record<string, string>): Promise<void> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  const body = (await res.json()) as { items: unknown[] };
  if (body.items.length === 0) throw new Error(`${url}: no items`);
}

async function run(label: string, dir: string): Promise<void> {
  const ext = commerceExtension({ demo: { dir } });
  const t0 = performance.now();
  const server = await startServer({
    sites: [site],
    logger: silentLogger,
    rateLimits: { device: unlimited, push: unlimited, ip: unlimited, register: unlimited },
    extensions: [ext],
  });
  await ext.ready();
  const readyS = (performance.now() - t0) / 1000;
  const model: RecModel = ext.model('bench')!;
  // The warm-up started the EASE^R build in the background; wait for it here, once.
  const t1 = performance.now();
  await model.refreshDense();
  const denseS = (performance.now() - t1) / 1000;
  const dense = model.denseStats();
  const mem = process.memoryUsage();
  console.log(
    `\n${label}: ${model.size} items; seeded and warmed (kNN) in ${fmt(readyS, 1)} s; ` +
      `EASE^R over ${dense.items} items ready ${fmt(denseS, 1)} s later (background); ` +
      `B = ${fmt(dense.bytes / MB, 0)} MB; process rss ${fmt(mem.rss / MB, 0)} MB, ` +
      `heap ${fmt(mem.heapUsed / MB, 0)} MB, array buffers ${fmt(mem.arrayBuffers / MB, 0)} MB`,
  );
  const base = server.url;
  try {
    const reg = (await (
      await fetch(`${base}/v1/devices`, {
        method: 'POST',
        headers: { 'x-omni-key': 'pk_bench', 'content-type': 'application/json' },
        body: JSON.stringify({ channel: 'web' }),
      })
    ).json()) as { deviceId: string; token: string };
    const auth = { authorization: `Bearer ${reg.token}` };
    const top = model.popular(400);
    let seq = 0;
    const view = async (sku: string): Promise<void> => {
      seq++;
      const res = await fetch(`${base}/v1/sync/push`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          deviceId: reg.deviceId,
          mutations: [{ seq, name: 'viewed.add', args: { sku }, at: Date.now() }],
        }),
      });
      await res.arrayBuffer();
    };
    for (let i = 0; i < 20; i++) await view(top[i * 7]!);

    // The model alone, on profiles like the HTTP ones (20 views, 3 cart lines, 20 purchases).
    const random = rng(9);
    const any = (): string => top[Math.floor(random() * top.length)]!;
    const modelSamples: number[] = [];
    const now = Date.now();
    for (let i = 0; i < N; i++) {
      const profile = {
        viewed: Array.from({ length: 20 }, (_, k) => ({ sku: any(), at: now - k * 60_000 })),
        cart: Array.from({ length: 3 }, () => ({ sku: any(), at: now })),
        purchased: Array.from({ length: 20 }, (_, k) => ({ sku: any(), at: now - k * 86_400_000 })),
      };
      const t = performance.now();
      model.recommend({ strategy: 'personalized', profile, limit: 10, now });
      modelSamples.push(performance.now() - t);
    }

    const http = async (): Promise<number[]> => {
      const samples: number[] = [];
      for (let i = 0; i < N; i++) {
        await view(top[i % top.length]!);
        const start = performance.now();
        await get(`${base}/v1/recommendations?strategy=personalized&limit=10`, auth);
        samples.push(performance.now() - start);
      }
      return samples.sort((a, b) => a - b);
    };
    const steady = await http();
    // A rebuild in flight (a new λ makes the weights stale): requests keep their latency.
    model.configure({ denseLambda: model.options.denseLambda + 1 });
    const rebuild = model.refreshDense();
    const during = await http();
    const stillBuilding = model.denseBuilding;
    await rebuild;
    const sortedModel = modelSamples.sort((a, b) => a - b);
    console.log('| personalized, limit 10 | p50 ms | p95 ms |\n|---|---:|---:|');
    console.log(
      `| model.recommend | ${fmt(percentile(sortedModel, 50), 2)} | ${fmt(percentile(sortedModel, 95), 2)} |`,
    );
    console.log(
      `| GET /v1/recommendations | ${fmt(percentile(steady, 50), 2)} | ${fmt(percentile(steady, 95), 2)} |`,
    );
    console.log(
      `| GET /v1/recommendations during an EASE^R rebuild${stillBuilding ? '' : ' (rebuild ended first)'} | ${fmt(percentile(during, 50), 2)} | ${fmt(percentile(during, 95), 2)} |`,
    );
  } finally {
    await ext.close();
    await server.close();
  }
}

await run('demo catalog', demoDir);
const dir = syntheticDir(100_000, 100_000);
try {
  await run('synthetic 100k catalog', dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
