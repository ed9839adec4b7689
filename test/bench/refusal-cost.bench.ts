// What a refused request costs the server: its CPU time per request (from /proc, so Linux only)
// for each way a request is refused, next to a health check (the floor: HTTP in, JSON out, one
// log line) and to a request with an unknown device token (a database lookup, then 401). The
// server runs in its own process with the production limits and request log (as in the
// fairness bench); the client sends 8 at a time over loopback. Prints, per database,
// `refusal-cost: health=…us line=…us device=…us register=…us unknown_token=…us db=…`
// (server CPU per request; medians of REFUSAL_ROUNDS (3) rounds of REFUSAL_REQUESTS (400)).
import { request } from 'node:http';
import { readFileSync } from 'node:fs';
import {
  batch,
  childServer,
  fmt,
  median,
  postgresReachable,
  postgresUrl,
  registerFrom,
} from './util.js';

const N = Number(process.env.REFUSAL_REQUESTS ?? 400);
const ROUNDS = Number(process.env.REFUSAL_ROUNDS ?? 3);

/** CPU time (user + system) a process has used, in ms. */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) * 10; // clock ticks of 10 ms
}

interface Req {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** Sends `n` requests (8 at a time); returns their statuses by count. */
async function send(base: string, n: number, make: (i: number) => Req) {
  const statuses: Record<number, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        const r = make(next++);
        const res = await fetch(base + r.path, {
          method: r.method,
          headers: r.headers,
          ...(r.body !== undefined ? { body: r.body } : {}),
        });
        await res.arrayBuffer();
        statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      }
    }),
  );
  return statuses;
}

/**
 * Server CPU µs per request of `N` requests made by `make`, which must answer `status` (but for
 * the few that a bucket's refill lets through meanwhile: at most 5%).
 */
async function cost(base: string, pid: number, status: number, make: (i: number) => Req) {
  const before = cpuMs(pid);
  const statuses = await send(base, N, make);
  const used = cpuMs(pid) - before;
  if ((statuses[status] ?? 0) < 0.95 * N) {
    throw new Error(`expected ${N} × ${status}, got ${JSON.stringify(statuses)}`);
  }
  return (1000 * used) / N;
}

/** A push whose body never comes: it holds its device's turn (or its place in line). */
function heldPush(base: string, headers: Record<string, string>) {
  const req = request(`${base}/v1/sync/push`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json', 'content-length': 1000 },
  });
  req.on('error', () => {}); // destroyed at the end
  req.flushHeaders();
  req.write('{');
  return req;
}

async function register(base: string, address: string) {
  const res = await registerFrom(base, address);
  if (res.status === 429) return 429;
  if (res.status !== 201) throw new Error(`register: ${res.status}`);
  return (await res.json()) as { deviceId: string; token: string };
}

async function round(kind: 'pglite' | 'postgres', r: number): Promise<Record<string, number>> {
  const server = await childServer(kind, {
    realLimits: true,
    trustProxy: true,
    log: true,
    // The cost of a refusal itself: the production delay before its answer would only slow
    // the bench (the delay costs the server a timer, no CPU meanwhile).
    refuseAtOnce: true,
    liftPushBudget: true,
  });
  const held: ReturnType<typeof heldPush>[] = [];
  try {
    const base = server.url;
    const pid = server.pid;
    // Every request from its own address, so that no per-address bucket runs out on the way.
    const from = (i: number) => `10.${r}.${i >> 8}.${i & 255}`;
    const out: Record<string, number> = {};
    out.health = await cost(base, pid, 200, (i) => ({
      method: 'GET',
      path: '/v1/health',
      headers: { 'x-forwarded-for': from(i) },
    }));

    const device = await register(base, '10.99.0.1');
    if (device === 429) throw new Error('register: 429');
    const auth = { authorization: `Bearer ${device.token}` };
    const pull = await fetch(`${base}/v1/sync/pull`, { headers: auth }); // token cached
    await pull.arrayBuffer();
    for (let i = 0; i < 5; i++) held.push(heldPush(base, auth)); // one in its turn, four in line
    const push = (i: number): Req => ({
      method: 'POST',
      path: '/v1/sync/push',
      headers: { ...auth, 'content-type': 'application/json', 'x-forwarded-for': from(i) },
      body: JSON.stringify({ deviceId: device.deviceId, mutations: batch(1, 10) }),
    });
    // Refused by the full line (each still takes a token from the device's bucket: 600; the
    // push budget is lifted here, or it would refuse them before the line). The
    // first 200 warm up the paths every refusal takes (V8 compiles on threads of the process).
    await new Promise((resolve) => setTimeout(resolve, 200)); // the held pushes are in
    await send(base, 200, push);
    out.line = await cost(base, pid, 429, push);
    // The bucket is empty now: refused before the line (a few refilled tokens reach the line).
    await send(base, 600, push);
    out.device = await cost(base, pid, 429, push);

    // An address past its registrations (30, then 1 a second).
    for (let refused = false; !refused;) refused = (await register(base, '10.98.0.1')) === 429;
    out.register = await cost(base, pid, 429, () => ({
      method: 'POST',
      path: '/v1/devices',
      headers: {
        'x-omni-key': 'pk_bench',
        'content-type': 'application/json',
        'x-forwarded-for': '10.98.0.1',
      },
      body: '{}',
    }));

    // A token nobody has: a lookup by its hash, then 401.
    out.unknown_token = await cost(base, pid, 401, (i) => ({
      method: 'GET',
      path: '/v1/sync/pull',
      headers: {
        authorization: `Bearer unknown${String(i).padStart(20, '0')}`,
        'x-forwarded-for': from(i),
      },
    }));
    return out;
  } finally {
    for (const h of held) h.destroy();
    await server.close();
  }
}

// REFUSAL_DB=pglite|postgres narrows a run down.
const kinds: ('pglite' | 'postgres')[] = [];
const only = process.env.REFUSAL_DB;
if (only !== 'postgres') kinds.push('pglite');
if (only === 'pglite') {
  // left out on purpose
} else if (await postgresReachable()) kinds.push('postgres');
else console.log(`postgres: not reachable at ${postgresUrl}; skipped`);
for (const kind of kinds) {
  const rounds: Record<string, number>[] = [];
  for (let r = 1; r <= ROUNDS; r++) rounds.push(await round(kind, r));
  const figure = (k: string) => `${k}=${fmt(median(rounds.map((x) => x[k]!)), 0)}us`;
  console.log(
    `refusal-cost: ${['health', 'line', 'device', 'register', 'unknown_token'].map(figure).join(' ')} ` +
      `db=${kind} (server CPU per request, medians of ${ROUNDS} × ${N})`,
  );
}
process.exit(0);
