// The flood of the fairness bench, in a process of its own so that its callbacks never share an
// event loop with the client whose latencies are measured. Loopback only, bounded in rate, in
// count and in time: it sends at most `rps` requests a second over `connections` loops, stops
// after `seconds` or `maxRequests`, and exits by itself (a hard deadline past `seconds`).
// Usage: node --import tsx test/bench/flood.ts '<FloodJob as JSON>'. Prints `{"started":true}`
// when the first request goes out and `{"sent":…,"refused":…,"seconds":…}` when done.

export interface FloodJob {
  /** The server's base URL: must be a loopback address. */
  base: string;
  /** One request of the flood, repeated. */
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  /**
   * When set, request i carries `X-Forwarded-For: <addressPrefix>.<i mod 250 + 1>`: one device
   * from many addresses, so that only the per-device limit can refuse it.
   */
  addressPrefix?: string;
  rps: number;
  seconds: number;
  maxRequests: number;
  connections: number;
}

export interface FloodResult {
  sent: number;
  /** Answers by status (429, 200...), and `error` for failed requests. */
  statuses: Record<string, number>;
  seconds: number;
  /** True when the hard deadline cut the flood short. */
  cut?: boolean;
  /** The first failed request's error, if any failed. */
  firstError?: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as FloodJob;
const host = new URL(job.base).hostname;
if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\])$/.test(host)) {
  process.stderr.write(`flood: ${job.base} is not a loopback address\n`);
  process.exit(2);
}

const statuses: Record<string, number> = {};
let sent = 0;
const start = performance.now();
const until = start + job.seconds * 1000;
const report = (cut: boolean) => {
  const result: FloodResult = {
    sent,
    statuses,
    seconds: (performance.now() - start) / 1000,
    ...(cut ? { cut } : {}),
    ...(firstError ? { firstError } : {}),
  };
  process.stdout.write(JSON.stringify(result) + '\n');
};
// Never outlive the flood by much, whatever the server does.
setTimeout(
  () => {
    report(true);
    process.exit(3);
  },
  job.seconds * 1000 + 5000,
).unref();

// Requests still out 2 s after the flood's end are abandoned. Each request has a deadline of its
// own: one shared AbortSignal would collect an abort listener per fetch (thousands of
// MaxListenersExceededWarning lines, and listeners piling up on it).
const abandonAt = until + 2000;
let firstError: string | undefined;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function loop(): Promise<void> {
  while (sent < job.maxRequests && performance.now() < abandonAt) {
    // Request i goes out no earlier than start + i / rps: the rate is bounded, not just hoped for.
    const i = sent++;
    const due = start + (i * 1000) / job.rps;
    const now = performance.now();
    // Past the flood's end by the clock too: a flood held below its rate (its refusals answered
    // late) would otherwise go on sending until `abandonAt`, and its last requests, sent with
    // almost no time left, would count as failed.
    if (due >= until || now >= until) return;
    if (due > now + 1) await sleep(due - now);
    const headers = job.addressPrefix
      ? { ...job.headers, 'x-forwarded-for': `${job.addressPrefix}.${(i % 250) + 1}` }
      : job.headers;
    try {
      const res = await fetch(job.base + job.path, {
        method: job.method,
        headers,
        ...(job.body !== undefined ? { body: job.body } : {}),
        signal: AbortSignal.timeout(Math.max(1, Math.ceil(abandonAt - performance.now()))),
      });
      await res.arrayBuffer();
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
    } catch (err) {
      firstError ??= String((err as Error).cause ?? err);
      statuses.error = (statuses.error ?? 0) + 1;
    }
  }
}

process.stdout.write(JSON.stringify({ started: true }) + '\n');
await Promise.all(Array.from({ length: job.connections }, loop));
// `sent` counts the slots taken; the last ones past the deadline were never sent.
sent = Object.values(statuses).reduce((a, b) => a + b, 0);
report(false);
process.exit(0);
