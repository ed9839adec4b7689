// Limits that are fair (issue 17): a preflight costs its address a request like any other, a
// stream refused for want of a slot keeps its ticket for when a slot frees up, a device's pushes
// wait their turn outside the database (one connection each, not the pool), one shopper's stalled
// registration holds up no other, and refusals are logged in aggregate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { request, type ClientRequest } from 'node:http';
import { connect } from 'node:net';
import type { LogFields, Logger } from '@omnikit/server';
import { OmniError } from '@omnikit/protocol';
import { Turns } from '../src/http/limits.js';
import { Api, errorCode, origin, SseReader, startTestServer } from './helpers.js';

/**
 * A POST whose body arrives only when `finish()` is called: its handler waits in `readJson`
 * meanwhile, holding whatever it holds.
 */
function heldPost(url: string, headers: Record<string, string>, body: string) {
  const bytes = Buffer.from(body);
  let req!: ClientRequest;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req = request(url, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/json', 'content-length': bytes.length },
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
  });
  answer.catch(() => {}); // abandoned ones reject; the others are awaited
  req.flushHeaders();
  req.write(bytes.subarray(0, 1));
  return {
    answer,
    finish: () => req.end(bytes.subarray(1)),
    /** Drops the request (a failed test must not leave the server waiting for its body). */
    abandon: () => req.destroy(),
  };
}

/**
 * A fault hook that fails nothing and resolves `arrived(n)` once `n` requests to `path` have
 * arrived. Everything a request does before its handler's first I/O (the middleware, a cached
 * device, the turn it takes or is refused) happens within the tick it arrives in.
 */
function arrivals(path: string) {
  let count = 0;
  const waiters: { n: number; resolve: () => void }[] = [];
  return {
    faults: (req: { method: string; path: string }) => {
      if (req.path === path) count++;
      for (const w of waiters.filter((w) => w.n <= count)) w.resolve();
      return undefined;
    },
    arrived: (n: number) =>
      new Promise<void>((resolve) => (n <= count ? resolve() : waiters.push({ n, resolve }))),
  };
}

test('preflights count against the per-address rate limit', async (t) => {
  const server = await startTestServer({
    rateLimits: { ip: { capacity: 5, refillPerSecond: 0.001 } },
  });
  t.after(() => server.close());
  const statuses: number[] = [];
  for (let i = 0; i < 8; i++) {
    const res = await fetch(`${server.url}/v1/sync/push`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'authorization, content-type',
      },
    });
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  assert.deepEqual(statuses, [204, 204, 204, 204, 204, 429, 429, 429]);
  // The address's budget is spent for every other request too.
  const health = await fetch(`${server.url}/v1/health`);
  await health.arrayBuffer();
  assert.equal(health.status, 429);
});

test('a stream refused with 429 does not spend its ticket', async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const api = new Api(server.url);
  const device = await api.register();
  const streams: SseReader[] = [];
  t.after(() => streams.forEach((s) => s.close()));
  for (let i = 0; i < 4; i++) {
    const stream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(device)}`,
    );
    assert.equal(stream.status, 200);
    streams.push(stream);
  }
  const ticket = await api.ticket(device);
  const refused = await fetch(`${server.url}/v1/sync/stream?ticket=${ticket}`);
  assert.equal(refused.status, 429);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'rate_limited');

  streams.shift()!.close();
  // The slot is freed when the server sees the stream end: retry while it answers 429.
  let again: SseReader & { status: number };
  for (;;) {
    again = await SseReader.open(`${server.url}/v1/sync/stream?ticket=${ticket}`);
    if (again.status !== 429) break;
    again.close();
    await new Promise((resolve) => setImmediate(resolve));
  }
  streams.push(again);
  assert.equal(again.status, 200, 'the refused ticket still opens a stream');
  const poke = await again.next();
  assert.equal(poke.event, 'poke');
  // Spent now: a second use is refused.
  const reused = await api.call('GET', `/v1/sync/stream?ticket=${ticket}`);
  assert.equal(reused.status, 401);
  assert.equal(errorCode(reused), 'unauthorized');
});

test("a device's pushes take turns outside the database; a full line is refused before its body is read", async (t) => {
  const seen = arrivals('/v1/sync/push');
  const server = await startTestServer({ faults: seen.faults });
  const held: ReturnType<typeof heldPost>[] = [];
  t.after(() => {
    for (const h of held) h.abandon();
    return server.close();
  });
  const api = new Api(server.url);
  const device = await api.register();
  await api.pull(device); // the device's token and last use are cached: no I/O before its turn
  const body = JSON.stringify({
    deviceId: device.deviceId,
    mutations: [{ seq: 1, name: 'cart.add', args: { sku: 'a', qty: 1 }, at: 1_700_000_000_000 }],
  });
  // One push in its turn waiting for its body, four in line behind it.
  for (let i = 0; i < 5; i++) held.push(heldPost(`${server.url}/v1/sync/push`, device.auth, body));
  await seen.arrived(5);
  // The sixth is refused at once: its body (not even JSON) is never read.
  const refused = await fetch(`${server.url}/v1/sync/push`, {
    method: 'POST',
    headers: { ...device.auth, 'content-type': 'application/json' },
    body: 'not json',
  });
  assert.equal(refused.status, 429);
  assert.equal(refused.headers.get('retry-after'), '1');
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'rate_limited');
  // Other devices are not held up meanwhile.
  const other = await api.register();
  assert.equal((await api.push(other, [])).status, 200);
  // The line moves on, in order, and frees up once done.
  for (const h of held) h.finish();
  const answers = await Promise.all(held.map((h) => h.answer));
  assert.deepEqual(
    answers.map((a) => a.status),
    [200, 200, 200, 200, 200],
  );
  assert.equal((await api.push(device, [])).status, 200);
});

test("a registration whose body stalls does not hold up the address's other registrations", async (t) => {
  // Shoppers behind one address (a shop's Wi-Fi, a carrier's NAT) each register on their own: a
  // phone that loses signal mid-request must not stall the others (it did while an address's
  // registrations took turns, the body read inside the turn).
  const seen = arrivals('/v1/devices');
  const server = await startTestServer({ faults: seen.faults });
  const headers = { 'x-omni-key': 'pk_shop' };
  const held = heldPost(`${server.url}/v1/devices`, headers, '{}');
  t.after(() => {
    held.abandon();
    return server.close();
  });
  await seen.arrived(1);
  const other = await fetch(`${server.url}/v1/devices`, {
    method: 'POST',
    headers: { ...headers, 'content-type': 'application/json' },
    body: '{}',
    signal: AbortSignal.timeout(5_000), // only bounds a failure; the answer comes at once
  });
  assert.equal(other.status, 201);
  held.finish();
  assert.equal((await held.answer).status, 201);
});

test('refused requests are logged as counts, not one line each', async (t) => {
  const lines: { level: string; msg: string; fields: LogFields }[] = [];
  const capture =
    (level: string) =>
    (msg: string, fields: LogFields = {}) =>
      void lines.push({ level, msg, fields });
  const logger: Logger = { info: capture('info'), warn: capture('warn'), error: capture('error') };
  const server = await startTestServer({
    logger,
    rateLimits: { ip: { capacity: 3, refillPerSecond: 0.001 } },
  });
  let closed = false;
  t.after(() => (closed ? undefined : server.close()));
  const statuses: number[] = [];
  for (let i = 0; i < 50; i++) {
    const res = await fetch(`${server.url}/v1/health`);
    await res.arrayBuffer();
    statuses.push(res.status);
  }
  assert.equal(statuses.filter((s) => s === 429).length, 47);
  const perRequest = lines.filter((l) => l.msg === 'request');
  assert.deepEqual(
    perRequest.map((l) => l.fields.status),
    [200, 200, 200],
  );
  await server.close();
  closed = true;
  const refused = lines.filter((l) => l.msg === 'requests refused');
  assert.equal(refused.length, 1);
  assert.equal(refused[0]!.level, 'warn');
  assert.equal(refused[0]!.fields.count, 47);
  assert.equal(refused[0]!.fields.paths, 'GET /v1/health 47');
  // And by address, so an operator can find the flood's source.
  assert.match(String(refused[0]!.fields.addresses), /^\S*127\.0\.0\.1 47$/);
});

test('a request whose client left while it waited its turn does not run', async () => {
  const turns = new Turns(4);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const first = turns.run('device', 'pushes', undefined, () => held);
  const left = new AbortController();
  let ran = false;
  const second = turns.run('device', 'pushes', left.signal, async () => {
    ran = true;
  });
  left.abort(); // the client went away while the first push held the turn
  release();
  await first;
  await assert.rejects(second, (e: unknown) => e instanceof OmniError && e.code === 'unavailable');
  assert.equal(ran, false);
  // The line moves on for the next one.
  assert.equal(await turns.run('device', 'pushes', undefined, async () => 'third'), 'third');
});

test("a key's next turn starts in a later turn of the event loop, after work that arrived meanwhile", async () => {
  const turns = new Turns(4);
  const order: string[] = [];
  await Promise.all([
    turns.run('device', 'pushes', undefined, async () => {
      order.push('first');
      // What the server does next in the event loop: read the next socket.
      setImmediate(() => order.push('next socket'));
    }),
    turns.run('device', 'pushes', undefined, async () => void order.push('second')),
  ]);
  assert.deepEqual(order, ['first', 'next socket', 'second']);
});

/**
 * Starts each request in an event-loop callback of its own, as requests read from sockets
 * arrive, and records the order their answers come in.
 */
function arriveApart(fetch: (req: Request) => Response | Promise<Response>, reqs: Request[]) {
  const answered: number[] = [];
  return {
    answered,
    statuses: Promise.all(
      reqs.map(
        (req, i) =>
          new Promise<number>((resolve, reject) =>
            setImmediate(() => {
              Promise.resolve(fetch(req)).then(async (res) => {
                await res.arrayBuffer();
                answered.push(i);
                resolve(res.status);
              }, reject);
            }),
          ),
      ),
    ),
  };
}

test("a device's pushes arriving apart still form a line, and another shopper's request gets in between", async (t) => {
  // On PGlite the database answers without I/O: without a yield between turns, each push ran to
  // its end in the callback it arrived in, so the line never formed (nothing refused) and a
  // request arriving behind a burst waited for the whole burst.
  const server = await startTestServer();
  t.after(() => server.close());
  const api = new Api(server.url);
  const flooder = await api.register();
  const other = await api.register();
  await api.pull(flooder); // tokens and last use cached: nothing before the turn does I/O
  await api.pull(other);
  const push = () =>
    new Request(`${server.url}/v1/sync/push`, {
      method: 'POST',
      headers: { ...flooder.auth, 'content-type': 'application/json' },
      body: JSON.stringify({ deviceId: flooder.deviceId, mutations: [] }),
    });
  const pull = new Request(`${server.url}/v1/sync/pull`, { headers: other.auth });
  const run = arriveApart(server.app.fetch, [...Array.from({ length: 8 }, push), pull]);
  const statuses = await run.statuses;
  // One in its turn, four in line, the rest refused at once.
  assert.deepEqual(statuses, [200, 200, 200, 200, 200, 429, 429, 429, 200]);
  const [firstPush, secondPush] = run.answered.filter((i) => i < 5);
  assert.ok(
    run.answered.indexOf(8) < run.answered.indexOf(secondPush!),
    `the other shopper's pull was answered after the flooder's second push (order ${run.answered.join(',')}; first push ${firstPush})`,
  );
});

test("an address's registrations take turns once their bodies are in", async (t) => {
  const server = await startTestServer();
  t.after(() => server.close());
  const api = new Api(server.url);
  const other = await api.register();
  await api.pull(other);
  const register = () =>
    new Request(`${server.url}/v1/devices`, {
      method: 'POST',
      headers: { 'x-omni-key': 'pk_shop', 'content-type': 'application/json' },
      body: '{}',
    });
  const pull = new Request(`${server.url}/v1/sync/pull`, { headers: other.auth });
  const run = arriveApart(server.app.fetch, [...Array.from({ length: 20 }, register), pull]);
  const statuses = await run.statuses;
  // One in its turn, 16 in line, the rest refused.
  assert.deepEqual(statuses, [...Array(17).fill(201), 429, 429, 429, 200]);
  const registered = run.answered.filter((i) => i < 17);
  assert.ok(
    run.answered.indexOf(20) < run.answered.indexOf(registered[1]!),
    `the other shopper's pull was answered after the address's second registration (order ${run.answered.join(',')})`,
  );
});

test('a request refused by a full line never asks for its signal (building it costs a whole Request)', async () => {
  const turns = new Turns(1);
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  let asked = 0;
  const signal = () => {
    asked++;
    return new AbortController().signal;
  };
  const first = turns.run('device', 'pushes', signal, () => held);
  const second = turns.run('device', 'pushes', signal, async () => {});
  await assert.rejects(
    turns.run('device', 'pushes', signal, async () => {}),
    (e: unknown) => e instanceof OmniError && e.code === 'rate_limited',
  );
  assert.equal(asked, 2, 'only the two requests with a place in line asked for their signal');
  release();
  await Promise.all([first, second]);
});

test("a device's pushes have a budget of their own: past it a push is refused, its pulls still served", async (t) => {
  const server = await startTestServer({
    rateLimits: { push: { capacity: 3, refillPerSecond: 0.001 } },
  });
  t.after(() => server.close());
  const api = new Api(server.url);
  const device = await api.register();
  const statuses: number[] = [];
  for (let seq = 1; seq <= 5; seq++) {
    const mutation = {
      seq,
      name: 'cart.add',
      args: { sku: `s${seq}`, qty: 1 },
      at: 1_700_000_000_000,
    };
    const answer = await api.push(device, [mutation]);
    statuses.push(answer.status);
    if (answer.status === 429) {
      assert.equal(errorCode(answer), 'rate_limited');
      assert.ok(Number(answer.headers.get('retry-after')) >= 1);
    }
  }
  assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  // The device's other calls have their own (larger) budget, and another device its own pushes.
  assert.equal((await api.pull(device)).state.cart.lines.length, 3);
  const other = await api.register();
  assert.equal((await api.push(other, [])).status, 200);
});

test('a refusal is answered after the refusal delay, so a flood waits on its own connections', async (t) => {
  const server = await startTestServer({
    refusalDelayMs: 400,
    rateLimits: { ip: { capacity: 2, refillPerSecond: 0.001 } },
  });
  t.after(() => server.close());
  const health = async () => {
    const res = await fetch(`${server.url}/v1/health`);
    await res.arrayBuffer();
    return res.status;
  };
  assert.deepEqual([await health(), await health()], [200, 200]);
  // Four connections, each sending as fast as it is answered, for about 1.2 s: held refusals
  // allow each connection about one per 400 ms, where answered at once they would be hundreds.
  const until = performance.now() + 1200;
  const sent = await Promise.all(
    Array.from({ length: 4 }, async () => {
      let n = 0;
      while (performance.now() < until) {
        assert.equal(await health(), 429);
        n++;
      }
      return n;
    }),
  );
  const total = sent.reduce((a, b) => a + b, 0);
  assert.ok(total >= 4 && total <= 4 * 5, `4 connections got ${total} refusals in 1.2 s`);
});

test("a held refusal's Retry-After no longer counts the time it was held", async (t) => {
  // One request, then one token every 3 s: a refusal right after owes 3 s, held 1 s of them.
  const server = await startTestServer({
    refusalDelayMs: 1000,
    rateLimits: { ip: { capacity: 1, refillPerSecond: 1 / 3 } },
  });
  t.after(() => server.close());
  const first = await fetch(`${server.url}/v1/health`);
  await first.arrayBuffer();
  assert.equal(first.status, 200);
  const started = performance.now();
  const refused = await fetch(`${server.url}/v1/health`);
  const body = (await refused.json()) as {
    error: { code: string; details: { retryAfter: number } };
  };
  assert.equal(refused.status, 429);
  assert.ok(performance.now() - started >= 1000, 'the refusal was held');
  assert.equal(refused.headers.get('retry-after'), '2');
  assert.equal(body.error.code, 'rate_limited');
  assert.equal(body.error.details.retryAfter, 2, 'the body says what the header says');
});

test("an extension's own 429 (text, no error body) is held and keeps its body; its Retry-After loses the hold", async (t) => {
  const server = await startTestServer({
    refusalDelayMs: 1000,
    extensions: [
      {
        name: 'text-429',
        routes(app) {
          app.get('/v1/x/slow', (c) => c.text('slow down', 429, { 'Retry-After': '5' }));
        },
      },
    ],
  });
  t.after(() => server.close());
  const res = await fetch(`${server.url}/v1/x/slow`);
  assert.equal(res.status, 429);
  assert.equal(await res.text(), 'slow down');
  assert.equal(res.headers.get('retry-after'), '4');
});

test('closing the server answers the refusals it holds at once', { timeout: 20_000 }, async () => {
  const seen = arrivals('/v1/health');
  const server = await startTestServer({
    faults: seen.faults,
    refusalDelayMs: 10_000,
    rateLimits: { ip: { capacity: 1, refillPerSecond: 0.001 } },
  });
  const first = await fetch(`${server.url}/v1/health`);
  await first.arrayBuffer();
  assert.equal(first.status, 200);
  const refused = fetch(`${server.url}/v1/health`);
  await seen.arrived(2);
  // Its refusal is decided within the turn it arrived in, and then held (for ten seconds).
  await new Promise((resolve) => setImmediate(resolve));
  await server.close(); // would wait out the ten seconds if held refusals were not answered
  const answer = await refused;
  assert.equal(answer.status, 429);
  // Answered during shutdown: the connection does not stay open for keep-alive (it would hold
  // close() for the keep-alive timeout).
  assert.equal(answer.headers.get('connection'), 'close');
  assert.equal(((await answer.json()) as { error: { code: string } }).error.code, 'rate_limited');
});

test(
  'a connection that sends again while its refusal is held is closed',
  { timeout: 20_000 },
  async (t) => {
    const server = await startTestServer({
      refusalDelayMs: 10_000,
      rateLimits: { ip: { capacity: 1, refillPerSecond: 0.001 } },
    });
    t.after(() => server.close());
    const first = await fetch(`${server.url}/v1/health`);
    await first.arrayBuffer();
    const { hostname, port } = new URL(server.url);
    const socket = connect(Number(port), hostname);
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => (received += chunk));
    const closed = once(socket, 'close');
    // Pipelined: both requests in one write, the second while the first one's refusal is held.
    const get = `GET /v1/health HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`;
    socket.write(get + get);
    await closed; // long before the ten seconds a held refusal waits
    assert.equal(received, '', 'nothing answered: the connection was closed');
  },
);

test('refusalDelayMs is checked at start', async () => {
  for (const refusalDelayMs of [-1, 1.5, 60_000, Number.NaN]) {
    await assert.rejects(startTestServer({ refusalDelayMs }), /refusalDelayMs/);
  }
});
