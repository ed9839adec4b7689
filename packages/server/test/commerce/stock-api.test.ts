import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StockAnswer } from '@omnikit/protocol';
import { databaseUrl, errorCode, SseReader, type Api } from '../helpers.js';
import {
  admin,
  commerceSites,
  importFixture,
  pub,
  startCommercePair,
  startCommerceServer,
  store,
} from './helpers.js';

/** The `PUT /v1/admin/stock` answer. */
type StockUpdateAnswer = {
  applied: { index: number; location: string; sku: string; qty: number }[];
  stale: { index: number; reason: string }[];
  invalid: { index: number; reason: string }[];
};

const STORES = [
  store('london', 'London', 51.5147, -0.1263),
  store('leeds', 'Leeds', 53.7964, -1.5428),
  store('manchester', 'Manchester', 53.4837, -2.2343),
  store('glasgow', 'Glasgow', 55.8625, -4.253),
];

async function setUp(api: Api, at: number): Promise<void> {
  await importFixture(api);
  const stores = await api.call('PUT', '/v1/admin/stores', {
    body: { stores: STORES },
    headers: admin,
  });
  assert.equal(stores.status, 200);
  const stock = await api.call<StockUpdateAnswer>('PUT', '/v1/admin/stock', {
    body: {
      updates: [
        { location: 'london', sku: 'A', qty: 0, updatedAt: at },
        { location: 'leeds', sku: 'A', qty: 2, updatedAt: at },
        { storeId: 'manchester', sku: 'A', qty: 10, updatedAt: new Date(at).toISOString() },
        { location: 'online', sku: 'A', qty: 50, updatedAt: at },
        { location: 'online', sku: 'B', qty: 1, updatedAt: at },
      ],
    },
    headers: admin,
  });
  assert.equal(stock.status, 200);
  assert.equal(stock.body.applied.length, 5);
}

const order = (body: StockAnswer) => body.stores.map((s) => s.store.id);
const bands = (body: StockAnswer) =>
  Object.fromEntries(body.stores.map((s) => [s.store.id, s.availability]));

test('stock near me, stale updates and live stock over HTTP', async (t) => {
  const server = await startCommerceServer({
    server: { sites: commerceSites({ lowStockThreshold: 3 }) },
  });
  t.after(() => server.close());
  const { api } = server;
  const T = Date.now() - 60_000;
  await setUp(api, T);
  const stock = (query: string) =>
    api.call<StockAnswer>('GET', `/v1/stock?${query}`, { headers: pub });

  await t.test(
    'stores with stock first, then by distance; honest bands per site threshold',
    async () => {
      const london = await stock('sku=A&lat=51.5072&lng=-0.1276');
      assert.equal(london.status, 200);
      assert.deepEqual(order(london.body), ['manchester', 'leeds', 'london', 'glasgow']);
      assert.deepEqual(bands(london.body), {
        manchester: { band: 'in_stock' },
        leeds: { band: 'low_stock', count: 2 },
        london: { band: 'out_of_stock' },
        glasgow: { band: 'out_of_stock' },
      });
      assert.equal(london.body.lowStockThreshold, 3);
      assert.equal(london.body.stores[2]?.updatedAt, T);
      assert.equal(london.body.stores[3]?.updatedAt, null, 'never reported: no date, not blank');
      assert.ok(london.body.stores[2]!.distanceKm! < 2);
      assert.deepEqual(london.body.online, { availability: { band: 'in_stock' }, updatedAt: T });
      assert.equal(london.headers.get('cache-control'), 'no-cache');
    },
  );

  await t.test('a postcode positions the shopper at its area', async () => {
    const leeds = await stock('sku=A&postal=LS1%204AP');
    assert.deepEqual(order(leeds.body), ['leeds', 'manchester', 'london', 'glasgow']);
    assert.equal(leeds.body.origin?.area, 'LS');
    const b = await stock('sku=B&postal=G1');
    assert.deepEqual(b.body.online.availability, { band: 'low_stock', count: 1 });
    assert.ok(b.body.stores.every((s) => s.availability.band === 'out_of_stock'));
    const none = await stock('sku=A');
    assert.ok(none.body.stores.every((s) => s.distanceKm === null));
  });

  await t.test('bad queries are 400 with a reason; unknown products 404', async () => {
    for (const q of [
      '',
      'sku=bad%20sku',
      'sku=A&lat=51.5',
      'sku=A&lat=100&lng=0',
      'sku=A&lat=x&lng=1',
      'sku=A&postal=ZZ9',
      'sku=A&postal=M1&lat=1&lng=1',
    ]) {
      const res = await stock(q);
      assert.equal(res.status, 400, q);
      assert.equal(errorCode(res), 'invalid_argument', q);
    }
    assert.equal((await stock('sku=NOT-SOLD')).status, 404);
  });

  await t.test('an older count never overwrites a newer one', async () => {
    const stale = await api.call<StockUpdateAnswer>('PUT', '/v1/admin/stock', {
      body: { location: 'manchester', sku: 'A', qty: 0, updatedAt: T - 1_000 },
      headers: admin,
    });
    assert.equal(stale.status, 200);
    assert.deepEqual(stale.body.applied, []);
    assert.deepEqual(stale.body.stale, [
      { index: 0, location: 'manchester', sku: 'A', reason: 'stale' },
    ]);
    assert.deepEqual(bands((await stock('sku=A')).body).manchester, { band: 'in_stock' });
    const newer = await api.call<StockUpdateAnswer>('PUT', '/v1/admin/stock', {
      body: { location: 'manchester', sku: 'A', qty: 1, updatedAt: T + 1_000 },
      headers: admin,
    });
    assert.equal(newer.body.applied.length, 1);
    assert.deepEqual(bands((await stock('sku=A')).body).manchester, {
      band: 'low_stock',
      count: 1,
    });
  });

  await t.test(
    'bulk: per-row outcome; newest in the batch wins; bad rows do not sink the rest',
    async () => {
      const res = await api.call<StockUpdateAnswer>('PUT', '/v1/admin/stock', {
        body: {
          updates: [
            { location: 'glasgow', sku: 'A', qty: 7, updatedAt: T + 5_000 },
            { location: 'glasgow', sku: 'A', qty: 9, updatedAt: T + 4_000 },
            { location: 'london', sku: 'A', qty: 4, updatedAt: T - 5_000 },
            { location: 'paris', sku: 'A', qty: 4, updatedAt: T },
            { location: 'leeds', sku: 'A', qty: -1, updatedAt: T },
            { location: 'leeds', sku: 'A', qty: 1, updatedAt: Date.now() + 3_600_000 },
          ],
        },
        headers: admin,
      });
      assert.equal(res.status, 200);
      assert.deepEqual(
        res.body.applied.map((a) => [a.index, a.location, a.qty]),
        [[0, 'glasgow', 7]],
      );
      assert.deepEqual(
        res.body.stale.map((s) => [s.index, s.reason]),
        [
          [1, 'stale'],
          [2, 'stale'],
        ],
      );
      assert.deepEqual(
        res.body.invalid.map((s) => s.index),
        [3, 4, 5],
      );
      assert.match(res.body.invalid[0]!.reason, /unknown location/);
      assert.deepEqual(bands((await stock('sku=A')).body).glasgow, { band: 'in_stock' });
      const single = await api.call('PUT', '/v1/admin/stock', {
        body: { location: 'leeds', sku: 'A', qty: 'many', updatedAt: T },
        headers: admin,
      });
      assert.equal(single.status, 400);
      const stores = await api.call('PUT', '/v1/admin/stores', {
        body: [{ ...STORES[0], lat: 123 }],
        headers: admin,
      });
      assert.equal(stores.status, 400);
    },
  );

  await t.test('a stock change reaches the open streams of that sku, and only those', async () => {
    const url = `${server.url}/v1/stock/stream?key=pk_shop&skus=A,B&postal=M1`;
    const stream = await SseReader.open(url);
    t.after(() => stream.close());
    assert.equal(stream.status, 200);
    const other = await SseReader.open(`${server.url}/v1/stock/stream?key=pk_shop&skus=C`);
    t.after(() => other.close());
    const first = [await stream.next(), await stream.next()].map(
      (e) => JSON.parse(e.data) as StockAnswer,
    );
    assert.deepEqual(first.map((b) => b.sku).sort(), ['A', 'B']);
    assert.equal(first[0]!.origin?.area, 'M');
    assert.equal((JSON.parse((await other.next()).data) as StockAnswer).sku, 'C');
    await api.call('PUT', '/v1/admin/stock', {
      body: { location: 'london', sku: 'A', qty: 30, updatedAt: T + 10_000 },
      headers: admin,
    });
    const live = JSON.parse((await stream.next((e) => e.event === 'stock')).data) as StockAnswer;
    assert.equal(live.sku, 'A');
    assert.deepEqual(bands(live).london, { band: 'in_stock' });
    assert.equal(order(live)[0], 'manchester', "ranked for the stream's own origin");
    await stream.comment('heartbeat');
    await api.call('PUT', '/v1/admin/stock', {
      body: { location: 'online', sku: 'C', qty: 2, updatedAt: T + 10_000 },
      headers: admin,
    });
    const c = JSON.parse((await other.next()).data) as StockAnswer;
    assert.deepEqual([c.sku, c.online.availability], ['C', { band: 'low_stock', count: 2 }]);
  });

  await t.test('streams need the publishable key and an allowed origin', async () => {
    const none = await api.call('GET', '/v1/stock/stream?skus=A');
    assert.equal(none.status, 401);
    const foreign = await api.call('GET', '/v1/stock/stream?key=pk_shop&skus=A', {
      headers: { origin: 'https://evil.example' },
    });
    assert.equal(foreign.status, 403);
    const tooMany = Array.from({ length: 51 }, (_, i) => `S${i}`).join(',');
    assert.equal(
      (await api.call('GET', `/v1/stock/stream?key=pk_shop&skus=${tooMany}`)).status,
      400,
    );
  });

  await t.test('closing the extension ends its streams', async () => {
    const stream = await SseReader.open(`${server.url}/v1/stock/stream?key=pk_shop&skus=A`);
    await stream.next();
    await server.ext.close();
    await stream.closed();
  });
});

if (databaseUrl) {
  test('a stock change made through instance A reaches a stream on instance B', async (t) => {
    const [a, b] = await startCommercePair(t);
    await setUp(a.api, Date.now() - 60_000);
    const stream = await SseReader.open(`${b.url}/v1/stock/stream?key=pk_shop&skus=A`);
    t.after(() => stream.close());
    await stream.next();
    await a.api.call('PUT', '/v1/admin/stock', {
      body: { location: 'glasgow', sku: 'A', qty: 40, updatedAt: Date.now() },
      headers: admin,
    });
    // Each event is a fresh read: a late notice of the set-up may come first, then this one.
    const live = await stream.next(
      (e) => bands(JSON.parse(e.data) as StockAnswer).glasgow?.band === 'in_stock',
    );
    assert.equal(live.event, 'stock');
  });
}
