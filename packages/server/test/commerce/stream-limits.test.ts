import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, SseReader } from '../helpers.js';
import { importFixture, startCommerceServer } from './helpers.js';

// The stock stream needs only the public key, so the client address is what bounds it.
test('one address holds at most 64 stock streams; a closed one frees its slot', async (t) => {
  const server = await startCommerceServer();
  t.after(() => server.close());
  await importFixture(server.api);
  const url = `${server.url}/v1/stock/stream?key=pk_shop&skus=A`;
  const streams: (SseReader & { status: number })[] = [];
  t.after(() => streams.forEach((s) => s.close()));
  for (let i = 0; i < 64; i++) streams.push(await SseReader.open(url));
  assert.ok(streams.every((s) => s.status === 200));
  const refused = await server.api.call('GET', '/v1/stock/stream?key=pk_shop&skus=A');
  assert.equal(refused.status, 429);
  assert.equal(errorCode(refused), 'rate_limited');

  streams.shift()!.close();
  // The slot frees when the server sees the client go: retry until it has (no sleep).
  for (;;) {
    const again = await SseReader.open(url);
    if (again.status === 200) {
      streams.push(again);
      break;
    }
    again.close();
    await new Promise((resolve) => setImmediate(resolve));
  }
});
