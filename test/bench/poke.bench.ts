// Poke latency: from a push on one device to the `poke` event on another device's stream of the
// same profile, over loopback (the server in a child process). Target: p95 <= 50 ms.
import {
  childServer,
  fmt,
  identify,
  percentile,
  postgresReachable,
  postgresUrl,
  push,
  register,
} from './util.js';

const iterations = Number(process.env.BENCH_POKES ?? 300);

/** Minimal SSE reader: resolves waiters with each poke's version as it arrives. */
async function openStream(base: string, headers: Record<string, string>) {
  const ticketRes = await fetch(`${base}/v1/sync/stream-ticket`, { method: 'POST', headers });
  const { ticket } = (await ticketRes.json()) as { ticket: string };
  const abort = new AbortController();
  const res = await fetch(`${base}/v1/sync/stream?ticket=${ticket}`, { signal: abort.signal });
  const waiters = new Map<number, (at: number) => void>();
  let latest = -1;
  void (async () => {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        const at = performance.now();
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const id = /^id: (\d+)$/m.exec(block)?.[1];
          if (id === undefined) continue;
          latest = Number(id);
          for (const [v, resolve] of waiters) {
            if (v <= latest) {
              waiters.delete(v);
              resolve(at);
            }
          }
        }
      }
    } catch {
      // Aborted at the end of the bench.
    }
  })();
  return {
    /** Resolves with the arrival time of the first poke at or after `version`. */
    until: (version: number) =>
      new Promise<number>((resolve, reject) => {
        if (latest >= version) return resolve(performance.now());
        const timer = setTimeout(() => reject(new Error(`no poke for version ${version}`)), 5000);
        waiters.set(version, (at) => {
          clearTimeout(timer);
          resolve(at);
        });
      }),
    close: () => abort.abort(),
  };
}

const kinds: ('pglite' | 'postgres')[] = ['pglite'];
if (await postgresReachable()) kinds.push('postgres');
else console.log(`postgres: not reachable at ${postgresUrl}; skipped`);

for (const kind of kinds) {
  const server = await childServer(kind);
  try {
    const laptop = await register(server.url);
    const phone = await register(server.url);
    await identify(server.url, laptop, 'poke-bench');
    await identify(server.url, phone, 'poke-bench');
    const stream = await openStream(server.url, phone.headers);
    await stream.until(0);
    const latencies: number[] = [];
    for (let i = 0; i < iterations; i++) {
      const arrived = stream.until(i + 1);
      const start = performance.now();
      // cart.add always changes the state, so every push makes exactly one new version.
      await push(server.url, laptop, [
        { seq: i + 1, name: 'cart.add', args: { sku: `sku-${i % 50}`, qty: 1 }, at: Date.now() },
      ]);
      latencies.push((await arrived) - start);
    }
    stream.close();
    latencies.sort((a, b) => a - b);
    console.log(
      `poke ${kind}: p50 ${fmt(percentile(latencies, 50), 2)} ms, p95 ${fmt(percentile(latencies, 95), 2)} ms, ` +
        `max ${fmt(latencies.at(-1) ?? NaN, 2)} ms (${iterations} pushes, push sent -> poke read on another device)`,
    );
  } finally {
    await server.close();
  }
}
