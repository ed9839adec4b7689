// Push throughput (mutations/s, batches of 10, concurrent devices) and pull latency, on
// embedded PGlite and on PostgreSQL when reachable (its pulls timed after a checkpoint and a
// vacuum). Target: >= 3000 mutations/s on PostgreSQL.
// The server runs in a child process; this process is the load generator.
import pg from 'pg';
import {
  batch,
  childServer,
  fmt,
  median,
  percentile,
  postgresReachable,
  postgresUrl,
  push,
  register,
  type BenchDevice,
} from './util.js';

const batchSize = 10;
const devicesCount = Number(process.env.BENCH_DEVICES ?? 16);
const batchesPerDevice = Number(process.env.BENCH_BATCHES ?? 40);
const rounds = 3;

async function pushRound(base: string): Promise<number> {
  const devices: BenchDevice[] = [];
  for (let i = 0; i < devicesCount; i++) devices.push(await register(base));
  const start = performance.now();
  await Promise.all(
    devices.map(async (d) => {
      for (let b = 0; b < batchesPerDevice; b++) {
        await push(base, d, batch(b * batchSize + 1, batchSize));
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  return (devicesCount * batchesPerDevice * batchSize) / seconds;
}

async function pullLatencies(base: string, n: number): Promise<number[]> {
  const d = await register(base);
  await push(base, d, batch(1, 40));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const res = await fetch(`${base}/v1/sync/pull`, { headers: d.headers });
    await res.arrayBuffer();
    out.push(performance.now() - t);
  }
  return out.sort((a, b) => a - b);
}

const kinds: ('pglite' | 'postgres')[] = ['pglite'];
if (await postgresReachable()) kinds.push('postgres');
else console.log(`postgres: not reachable at ${postgresUrl}; skipped`);

for (const kind of kinds) {
  const server = await childServer(kind);
  try {
    await pushRound(server.url); // warm-up: JIT, connections, plans
    const rates: number[] = [];
    for (let r = 0; r < rounds; r++) rates.push(await pushRound(server.url));
    // Pulls are timed on a settled PostgreSQL: the push rounds' write-back (checkpoint, vacuum)
    // otherwise runs during them and counts as pull latency. Seen 2026-12-06: with ids stored on
    // each push, pull p50 read 15% slower after the rounds and the same on a settled database.
    // So the figure is a pull's own cost, lower than one taken amid writes (and than earlier ones).
    let settled = '';
    if (kind === 'postgres') {
      const c = new pg.Client({ connectionString: postgresUrl });
      await c.connect();
      try {
        // CHECKPOINT needs a superuser (or pg_checkpoint); without, pulls are timed as they come.
        await c.query('CHECKPOINT');
        await c.query('VACUUM');
        settled = ', on a settled database';
      } catch (e) {
        settled = `, not settled: ${(e as Error).message}`;
      } finally {
        await c.end();
      }
    }
    const pulls = await pullLatencies(server.url, 300);
    console.log(
      `push ${kind}: median ${fmt(median(rates), 0)} mutations/s ` +
        `(rounds ${rates.map((r) => fmt(r, 0)).join(', ')}; ${devicesCount} devices x ` +
        `${batchesPerDevice} batches of ${batchSize})`,
    );
    console.log(
      `pull ${kind}: p50 ${fmt(percentile(pulls, 50), 2)} ms, p95 ${fmt(percentile(pulls, 95), 2)} ms ` +
        `(${pulls.length} sequential pulls, 40-mutation profile${settled})`,
    );
  } finally {
    await server.close();
  }
}
