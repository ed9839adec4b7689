// Soak: mixed shopper traffic at a steady rate against a server in its own process: pushes,
// pulls, an open poke stream per device (reopened now and then), stock and recommendation
// reads. Memory must stay flat after the warm-up (resident size of the server process), p95
// steady, and nothing may fail. Quick by default (20 s, 200 devices, the database the suite
// uses); SERVER_SOAK=full for 10 minutes and 1,000 devices (needs DATABASE_URL: PostgreSQL).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { PGlite } from '@electric-sql/pglite';
import type { RegisterDeviceResponse } from '@omnikit/protocol';
import { startChild } from './child.js';
import {
  customerToken,
  databaseUrl,
  dropSchema,
  freshSchema,
  pgliteTemplate,
  SseReader,
  startTestServer,
} from './helpers.js';
import { admin, fixtureProducts, store } from './commerce/helpers.js';

const full = process.env.SERVER_SOAK === 'full';
const SECONDS = Number(process.env.SERVER_SOAK_SECONDS ?? (full ? 600 : 20));
const DEVICES = Number(process.env.SERVER_SOAK_DEVICES ?? (full ? 1000 : 200));
/** Each device acts about this often: 1,000 devices make 100 requests/s. */
const EVERY_MS = 10_000;
/** Resident size is sampled this often; the first fifth of the run is warm-up. */
const SAMPLE_MS = full ? 10_000 : 2_000;

/** Resident set size of a process, in KiB (Linux /proc, else ps). */
async function rssKiB(pid: number): Promise<number> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1]);
  } catch {
    return Number(
      execFileSync('ps', ['-o', 'rss=', '-p', String(pid)])
        .toString()
        .trim(),
    );
  }
}

/** Runs `fn(0..n-1)`, 16 at a time (set-up, not the measured traffic). */
async function inBatches(n: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < n) await fn(next++);
    }),
  );
}

const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)] ?? NaN;
};

async function soak(dbSpec: string, label: string): Promise<void> {
  const server = await startChild(dbSpec, { CHILD_COMMERCE: '1', CHILD_TRUST_PROXY: '1' });
  // A server that dies mid-soak fails the soak with what it said, not with a failed RSS sample.
  let died: string | undefined;
  server.proc.once('exit', (code, signal) => {
    died = `the server exited (${code ?? signal}) mid-soak: ${server.stderr().slice(-2000)}`;
  });
  const open = new Map<unknown, SseReader>();
  try {
    const base = server.url;
    const adminHeaders = { ...admin, 'content-type': 'application/json' };
    const skus = Array.from({ length: 40 }, (_, i) => `S${i}`);
    const put = async (method: string, path: string, body: unknown) => {
      const res = await fetch(base + path, {
        method,
        headers: adminHeaders,
        body: JSON.stringify(body),
      });
      assert.equal(res.status, 200, `${path}: ${await res.text()}`);
    };
    await put('POST', '/v1/admin/products/import', { products: fixtureProducts(skus) });
    await put('PUT', '/v1/admin/stores', {
      stores: [
        store('london', 'London', 51.5147, -0.1263),
        store('leeds', 'Leeds', 53.7964, -1.5428),
      ],
    });
    const at = Date.now();
    await put('PUT', '/v1/admin/stock', {
      updates: skus.flatMap((sku, i) => [
        { location: 'london', sku, qty: i % 7, updatedAt: at },
        { location: 'leeds', sku, qty: (i * 3) % 11, updatedAt: at },
      ]),
    });

    // Devices in pairs on one customer's profile, so pushes poke another device's stream.
    interface Shopper {
      id: string;
      headers: Record<string, string>;
      seq: number;
      clock: number;
    }
    const shoppers: Shopper[] = [];
    const signUp = async (i: number) => {
      const address = `10.2.${i >> 8}.${i & 255}`;
      const res = await fetch(`${base}/v1/devices`, {
        method: 'POST',
        headers: {
          'x-omni-key': 'pk_shop',
          'content-type': 'application/json',
          'x-forwarded-for': address,
        },
        body: '{}',
      });
      assert.equal(res.status, 201);
      const reg = (await res.json()) as RegisterDeviceResponse;
      const headers = {
        authorization: `Bearer ${reg.token}`,
        'content-type': 'application/json',
        'x-forwarded-for': address,
      };
      const identify = await fetch(`${base}/v1/identify`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ token: await customerToken(`soak-${label}-${i >> 1}`) }),
      });
      assert.equal(identify.status, 200);
      await identify.arrayBuffer();
      shoppers[i] = { id: reg.deviceId, headers, seq: 0, clock: 1_700_000_000_000 };
    };
    await inBatches(DEVICES, signUp);

    let errors = 0;
    let requests = 0;
    const failures: string[] = [];
    const fail = (what: string) => {
      errors++;
      if (failures.length < 5) failures.push(what);
    };
    /** Opens a device's poke stream; a failure (an HTTP error or none at all) counts as an error. */
    const openStream = async (s: Shopper): Promise<SseReader | undefined> => {
      try {
        requests++;
        const t = await fetch(`${base}/v1/sync/stream-ticket`, {
          method: 'POST',
          headers: s.headers,
        });
        if (t.status !== 201) {
          fail(`ticket ${t.status}`);
          return undefined;
        }
        const { ticket } = (await t.json()) as { ticket: string };
        requests++;
        const stream = await SseReader.open(`${base}/v1/sync/stream?ticket=${ticket}`, {
          'x-forwarded-for': s.headers['x-forwarded-for']!,
        });
        if (stream.status !== 200) fail(`stream ${stream.status}`);
        return stream;
      } catch (err) {
        fail(`stream ${(err as Error).message}`);
        return undefined;
      }
    };
    await inBatches(DEVICES, async (i) => {
      const stream = await openStream(shoppers[i]!);
      if (stream) open.set(shoppers[i], stream);
    });

    const windows: number[][] = [];
    let window: number[] = [];
    /** Per kind of request, the same windows (SERVER_SOAK_TRACE=1 prints them). */
    const kinds = new Map<string, number[][]>();
    const trace = process.env.SERVER_SOAK_TRACE === '1';
    const rss: number[] = [];
    const timed = async (what: string, go: () => Promise<Response>, ok = 200) => {
      const t = performance.now();
      requests++;
      try {
        const res = await go();
        await res.arrayBuffer();
        if (res.status !== ok) fail(`${what} ${res.status}`);
      } catch (err) {
        fail(`${what} ${(err as Error).message}`);
      }
      const ms = performance.now() - t;
      window.push(ms);
      const perKind = kinds.get(what) ?? [[]];
      kinds.set(what, perKind);
      while (perKind.length < windows.length + 1) perKind.push([]);
      perKind[windows.length]!.push(ms);
    };
    const act = async (s: Shopper, roll: number) => {
      const sku = skus[roll % skus.length]!;
      if (roll % 10 < 4) {
        const mutations = [
          { seq: ++s.seq, name: 'viewed.add', args: { sku }, at: ++s.clock },
          { seq: ++s.seq, name: 'cart.add', args: { sku, qty: 1 }, at: ++s.clock },
        ];
        if (roll % 3 === 0) {
          mutations.push({ seq: ++s.seq, name: 'cart.remove', args: { sku }, at: ++s.clock });
        }
        await timed('push', () =>
          fetch(`${base}/v1/sync/push`, {
            method: 'POST',
            headers: s.headers,
            body: JSON.stringify({ deviceId: s.id, mutations }),
          }),
        );
      } else if (roll % 10 < 6) {
        await timed('pull', () => fetch(`${base}/v1/sync/pull`, { headers: s.headers }));
      } else if (roll % 10 < 8) {
        await timed('stock', () =>
          fetch(`${base}/v1/stock?sku=${sku}&lat=52&lng=-1`, {
            headers: { 'x-omni-key': 'pk_shop', 'x-forwarded-for': s.headers['x-forwarded-for']! },
          }),
        );
      } else if (roll % 10 < 9) {
        await timed('recommendations', () =>
          fetch(`${base}/v1/recommendations?strategy=personalized&limit=8`, {
            headers: s.headers,
          }),
        );
      } else {
        // Churn: the stream is dropped and opened again (a tab reloaded).
        open.get(s)?.close();
        open.delete(s);
        const stream = await openStream(s);
        if (stream) open.set(s, stream);
      }
    };

    const started = performance.now();
    const until = started + SECONDS * 1000;
    const sampler = setInterval(() => {
      if (died === undefined) {
        void rssKiB(server.proc.pid!).then(
          (kib) => rss.push(kib),
          (err: Error) => fail(`rss ${err.message}`),
        );
      }
      windows.push(window);
      if (trace) {
        const i = windows.length - 1;
        const parts = [...kinds].map(([k, w]) => `${k}=${p95(w[i] ?? []).toFixed(0)}`);
        // eslint-disable-next-line no-console
        console.log(
          `soak window ${i}: n=${window.length} p95=${p95(window).toFixed(0)} ${parts.join(' ')} rss_mb=${((rss.at(-1) ?? 0) / 1024).toFixed(0)}`,
        );
      }
      window = [];
    }, SAMPLE_MS);
    let roll = 1;
    await Promise.all(
      shoppers.map(async (s, i) => {
        // Spread over the period: a steady rate, not waves.
        await new Promise((r) => setTimeout(r, (i * EVERY_MS) / shoppers.length));
        while (performance.now() < until && died === undefined) {
          const t = performance.now();
          roll = (roll * 48271) % 2147483647;
          await act(s, roll);
          await new Promise((r) => setTimeout(r, Math.max(0, EVERY_MS - (performance.now() - t))));
        }
      }),
    );
    clearInterval(sampler);
    assert.equal(died, undefined);

    const warm = Math.max(1, Math.floor(rss.length / 5));
    const base_ = rss[warm - 1]!;
    const growth = (100 * (Math.max(...rss.slice(warm)) - base_)) / base_;
    const measured = windows.slice(warm).filter((w) => w.length > 0);
    const first = p95(measured[0] ?? []);
    const last = p95(measured.at(-1) ?? []);
    // eslint-disable-next-line no-console
    console.log(
      `soak: minutes=${(SECONDS / 60).toFixed(2)} devices=${DEVICES} requests=${requests} ` +
        `errors=${errors} rss_growth=${growth.toFixed(1)}% rss_mb=${(base_ / 1024).toFixed(0)} ` +
        `p95_ms first=${first.toFixed(1)} last=${last.toFixed(1)} db=${label}`,
    );
    assert.equal(errors, 0, failures.join('; '));
    assert.ok(growth < 10, `resident size grew ${growth.toFixed(1)}% after warm-up`);
    // Steady: the last window's p95 within twice the first's (plus a little for tiny values).
    if (full) assert.ok(last <= 2 * first + 5, `p95 went from ${first} ms to ${last} ms`);
  } finally {
    for (const s of open.values()) s.close();
    await server.stop('graceful');
  }
}

if (full && !databaseUrl) {
  // eslint-disable-next-line no-console
  console.log('soak: full mode not run: it runs on PostgreSQL (set DATABASE_URL)');
} else {
  test(`server soak: mixed traffic, ${DEVICES} devices, ${SECONDS} s`, async () => {
    if (databaseUrl) {
      const schema = freshSchema()!;
      await (await startTestServer({ schema })).close();
      try {
        await soak(`postgres:${schema}`, 'postgres');
      } finally {
        await dropSchema(schema);
      }
    } else {
      const dir = await mkdtemp(join(tmpdir(), 'omnikit-soak-'));
      try {
        await (await PGlite.create({ dataDir: dir, loadDataDir: await pgliteTemplate() })).close();
        await soak(`pglite:${dir}`, 'pglite');
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    }
  });
}
