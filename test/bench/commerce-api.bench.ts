// The commerce API over HTTP on the demo data (2,500 products, 14 stores, 14,123 orders):
// first-run seeding and warm-up, recommendation / stock / products latency p50 and p95, feed
// import and bulk stock throughput. On embedded PGlite, and on PostgreSQL when reachable.
// Target: recommendation p95 <= 10 ms at the demo catalog size.
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { silentLogger, startServer, type SiteConfig } from '@omnikit/server';
import { commerceExtension } from '../../packages/server/src/commerce/extension.js';
import { fmt, percentile, postgresReachable, postgresUrl } from './util.js';

const demoDir = fileURLToPath(new URL('../../demo/data/', import.meta.url));
const adminKey = 'bench-admin-key-0123456789';
const site: SiteConfig = {
  id: 'bench',
  publishableKey: 'pk_bench',
  allowedOrigins: ['https://bench.example'],
  adminKey,
};
const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };
const N = Number(process.env.BENCH_REQUESTS ?? 400);
/**
 * BENCH_DENSE_MAX_ITEMS=0 serves personalized from item kNN alone, without the EASE^R blend: to
 * compare the request path with a commit from before the blend (test/bench/ab.mjs).
 */
const denseMaxItems = process.env.BENCH_DENSE_MAX_ITEMS;

async function timed(n: number, fn: (i: number) => Promise<void>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = performance.now();
    await fn(i);
    out.push(performance.now() - start);
  }
  return out.sort((a, b) => a - b);
}

async function get(url: string, headers: Record<string, string>): Promise<unknown> {
  const res = await fetch(url, { headers });
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function run(kind: 'pglite' | 'postgres'): Promise<void> {
  const schema = `bench_${randomBytes(4).toString('hex')}`;
  const ext = commerceExtension({
    demo: { dir: demoDir },
    ...(denseMaxItems === undefined ? {} : { recs: { denseMaxItems: Number(denseMaxItems) } }),
  });
  const t0 = performance.now();
  const server = await startServer({
    sites: [site],
    logger: silentLogger,
    rateLimits: { device: unlimited, push: unlimited, ip: unlimited, register: unlimited },
    database: kind === 'postgres' ? { url: postgresUrl, schema, poolSize: 10 } : {},
    extensions: [ext],
  });
  await ext.ready();
  const seeded = performance.now() - t0;
  // The EASE^R weights build in the background after seeding, in slices between requests (about
  // a minute of CPU at this size): latencies are measured once they are in, as a shop serves all
  // day; recs-scale.bench.ts measures requests during a rebuild.
  const t1 = performance.now();
  await ext.model('bench')!.refreshDense();
  const dense = performance.now() - t1;
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
    const top = ext.model('bench')!.popular(200);
    let seq = 0;
    const view = async (sku: string) => {
      seq++;
      await fetch(`${base}/v1/sync/push`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({
          deviceId: reg.deviceId,
          mutations: [{ seq, name: 'viewed.add', args: { sku }, at: Date.now() }],
        }),
      });
    };
    for (let i = 0; i < 20; i++) await view(top[i * 7]!);
    const rows: [string, number[]][] = [];
    // Each personalized request follows a live view, so the model and its caches are dirty.
    const personalized: number[] = [];
    for (let i = 0; i < N; i++) {
      await view(top[i % top.length]!);
      const start = performance.now();
      await get(`${base}/v1/recommendations?strategy=personalized&limit=10`, auth);
      personalized.push(performance.now() - start);
    }
    rows.push(['GET /v1/recommendations personalized', personalized.sort((a, b) => a - b)]);
    rows.push([
      'GET /v1/recommendations also-bought',
      await timed(N, async (i) => {
        await get(`${base}/v1/recommendations?strategy=also-bought&sku=${top[i % 100]}`, auth);
      }),
    ]);
    const pub = { 'x-omni-key': 'pk_bench' };
    rows.push([
      'GET /v1/stock?postal=',
      await timed(N, async (i) => {
        await get(`${base}/v1/stock?sku=${top[i % 100]}&postal=M1`, pub);
      }),
    ]);
    rows.push([
      'GET /v1/products (20 skus)',
      await timed(N, async (i) => {
        const skus = top.slice(i % 100, (i % 100) + 20).join(',');
        await get(`${base}/v1/products?skus=${skus}`, pub);
      }),
    ]);
    console.log(
      `\n${kind}: demo seeded and warmed in ${fmt(seeded / 1000, 2)} s, ` +
        `EASE^R weights built in the background in ${fmt(dense / 1000, 1)} s more`,
    );
    console.log('| request | p50 ms | p95 ms |\n|---|---:|---:|');
    for (const [name, l] of rows) {
      console.log(`| ${name} | ${fmt(percentile(l, 50), 2)} | ${fmt(percentile(l, 95), 2)} |`);
    }

    // Feed import: 20,000 new rows, then the same feed again (all unchanged).
    const lines = ['sku,title,price,currency,category'];
    for (let i = 0; i < 20_000; i++) lines.push(`BENCH-${i},Bench item ${i},${100 + i},GBP,Bench`);
    const csv = lines.join('\n');
    for (const label of ['new', 'unchanged']) {
      const start = performance.now();
      const res = await fetch(`${base}/v1/admin/products/import`, {
        method: 'POST',
        headers: { 'x-omni-admin-key': adminKey, 'content-type': 'text/csv' },
        body: csv,
      });
      if (res.status !== 200) throw new Error(`import ${res.status} ${await res.text()}`);
      const s = (performance.now() - start) / 1000;
      console.log(`import 20,000 CSV rows (${label}): ${fmt(20_000 / s, 0)} rows/s`);
    }
    const updates = Array.from({ length: 5_000 }, (_, i) => ({
      location: 'online',
      sku: `BENCH-${i}`,
      qty: i % 50,
      updatedAt: Date.now() - 1_000,
    }));
    const start = performance.now();
    const res = await fetch(`${base}/v1/admin/stock`, {
      method: 'PUT',
      headers: { 'x-omni-admin-key': adminKey, 'content-type': 'application/json' },
      body: JSON.stringify({ updates }),
    });
    if (res.status !== 200) throw new Error(`stock ${res.status}`);
    console.log(
      `bulk stock 5,000 rows: ${fmt(5_000 / ((performance.now() - start) / 1000), 0)} rows/s`,
    );
  } finally {
    await ext.close();
    await server.close();
    if (kind === 'postgres') {
      const client = new pg.Client({ connectionString: postgresUrl });
      await client.connect();
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await client.end();
    }
  }
}

await run('pglite');
if (await postgresReachable()) await run('postgres');
else console.log('\npostgres: not reachable, skipped');
