// Hostile admin input (issue 17): every JSON body is bounded at ingestion (size, depth, keys)
// with a 4xx and a stable code, never a 500; stores keep only their defined fields, so nothing
// a public read cannot serve is stored; the live stock stream refuses unknown skus as
// `GET /v1/stock` does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { StockAnswer } from '@omnikit/protocol';
import { errorCode, type Answer } from '../helpers.js';
import {
  admin,
  importFixture,
  pub,
  startCommerceServer,
  store,
  type CommerceServer,
} from './helpers.js';

let server: CommerceServer;
before(async () => {
  server = await startCommerceServer();
  await importFixture(server.api);
  const res = await server.api.call('PUT', '/v1/admin/stores', {
    body: [store('leeds', 'Leeds', 53.8, -1.55)],
    headers: admin,
  });
  assert.equal(res.status, 200);
});
after(() => server.close());

const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

/** A store body whose address carries `extra` (raw JSON) in an unknown field. */
function storeWithExtra(extra: string): string {
  const s = store('york', 'York', 53.96, -1.08);
  const address = JSON.stringify(s.address).slice(0, -1) + `,"note":${extra}}`;
  return JSON.stringify([{ ...s, address: '@@' }]).replace('"@@"', address);
}

async function publicStock(): Promise<Answer<StockAnswer>> {
  return server.api.call<StockAnswer>('GET', '/v1/stock?sku=A&postal=LS1', { headers: pub });
}

test('deeply nested admin JSON is a 400, never a 500, and public reads keep working', async () => {
  for (const depth of [4_111, 5_000, 20_000]) {
    const res = await server.api.call('PUT', '/v1/admin/stores', {
      raw: storeWithExtra(nested(depth)),
      headers: admin,
    });
    assert.equal(res.status, 400, `stores nested ${depth}: ${JSON.stringify(res.body)}`);
    assert.equal(errorCode(res), 'invalid_argument');
  }
  const stock = await server.api.call('PUT', '/v1/admin/stock', {
    raw: `{"location":${nested(20_000)},"sku":"A","qty":1,"updatedAt":1}`,
    headers: admin,
  });
  assert.equal(stock.status, 400);
  assert.equal(errorCode(stock), 'invalid_argument');
  const order = await server.api.call('POST', '/v1/orders', {
    raw: `{"orderId":"o-1","channel":"web","lines":[{"sku":"A","qty":1,"x":${nested(10_000)}}]}`,
    headers: admin,
  });
  assert.equal(order.status, 400);
  assert.equal(errorCode(order), 'invalid_argument');
  const read = await publicStock();
  assert.equal(read.status, 200);
});

test('a body with too many keys is refused before it is walked', async () => {
  const keys = Array.from({ length: 120_000 }, (_, i) => `"k${i}":0`).join(',');
  const res = await server.api.call('PUT', '/v1/admin/stock', {
    raw: `{"updates":[{"location":"online","sku":"A","qty":1,"updatedAt":1,${keys}}]}`,
    headers: admin,
  });
  assert.equal(res.status, 413);
  assert.equal(errorCode(res), 'payload_too_large');
});

test('a store keeps only its defined fields: extra ones are never served', async () => {
  const payload = '"<img src=x onerror=alert(1)>"';
  const s = store('york', 'York', 53.96, -1.08);
  const res = await server.api.call('PUT', '/v1/admin/stores', {
    raw: JSON.stringify([{ ...s, address: { ...s.address, note: '@@' }, promo: '@@' }]).replaceAll(
      '"@@"',
      payload,
    ),
    headers: admin,
  });
  assert.equal(res.status, 200);
  const read = await publicStock();
  assert.equal(read.status, 200);
  const york = read.body.stores.find((row) => row.store.id === 'york');
  assert.ok(york, 'the store itself is served');
  assert.deepEqual(Object.keys(york.store.address).sort(), [
    'city',
    'country',
    'line1',
    'postcode',
  ]);
  assert.ok(!JSON.stringify(read.body).includes('onerror'));
});

test('the stock stream refuses unknown skus as GET /v1/stock does', async () => {
  const single = await server.api.call('GET', '/v1/stock?sku=NOPE', { headers: pub });
  assert.equal(single.status, 404);
  for (const skus of ['NOPE', 'A,NOPE']) {
    const abort = new AbortController();
    const res = await fetch(`${server.url}/v1/stock/stream?key=pk_shop&skus=${skus}`, {
      signal: abort.signal,
    });
    // An opened stream never ends by itself: end it so the assertion below can report.
    if (res.status === 200) abort.abort();
    assert.equal(res.status, 404, skus);
    const body = (await res.json()) as { error: { code: string; details?: unknown } };
    assert.equal(body.error.code, 'not_found');
    assert.deepEqual(body.error.details, { skus: ['NOPE'] });
  }
  const known = new AbortController();
  const res = await fetch(`${server.url}/v1/stock/stream?key=pk_shop&skus=A`, {
    signal: known.signal,
  });
  assert.equal(res.status, 200);
  known.abort();
});
