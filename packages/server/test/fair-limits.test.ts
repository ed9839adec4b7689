// Limits that are fair (issue 17): a preflight costs its address a request like any other, and
// a stream refused for want of a slot keeps its ticket for when a slot frees up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Api, errorCode, origin, SseReader, startTestServer } from './helpers.js';

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
