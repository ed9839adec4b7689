import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StockAnswer } from '@omnikit/protocol';
import { databaseUrl, SseReader, type Api, type SseEvent } from '../helpers.js';
import {
  admin,
  fixtureProducts,
  importFixture,
  otherAdminKey,
  startCommercePair,
  startCommerceServer,
  store,
} from './helpers.js';

const STORES = [
  store('london', 'London', 51.5147, -0.1263),
  store('manchester', 'Manchester', 53.4837, -2.2343),
];

async function setUp(api: Api): Promise<void> {
  await importFixture(api);
  const stores = await putStores(api, STORES);
  assert.equal(stores.status, 200);
  const stock = await api.call('PUT', '/v1/admin/stock', {
    body: {
      updates: [
        { location: 'manchester', sku: 'A', qty: 10, updatedAt: Date.now() - 60_000 },
        { location: 'online', sku: 'B', qty: 3, updatedAt: Date.now() - 60_000 },
      ],
    },
    headers: admin,
  });
  assert.equal(stock.status, 200);
}

function putStores(api: Api, stores: unknown[], headers: Record<string, string> = admin) {
  return api.call<{ upserted: number }>('PUT', '/v1/admin/stores', {
    body: { stores },
    headers,
  });
}

const answer = (e: SseEvent) => JSON.parse(e.data) as StockAnswer;
const storeOf = (body: StockAnswer, id: string) => body.stores.find((s) => s.store.id === id);

/** Manchester no longer offers pickup, has new hours and a new name. */
const EDITED = [
  STORES[0],
  {
    ...STORES[1],
    name: 'Manchester Arndale',
    pickup: false,
    hours: { ...STORES[1]!.hours, sun: ['11:00-17:00'] },
  },
];

test('a store edit reaches every open stock stream of the site', async (t) => {
  const server = await startCommerceServer();
  t.after(() => server.close());
  const { api } = server;
  await setUp(api);
  const ab = await SseReader.open(`${server.url}/v1/stock/stream?key=pk_shop&skus=A,B&postal=M1`);
  t.after(() => ab.close());
  const c = await SseReader.open(`${server.url}/v1/stock/stream?key=pk_shop&skus=C`);
  t.after(() => c.close());
  // The other site knows A too (a stream of a sku its site never heard of is a 404).
  const otherCatalog = await api.call('POST', '/v1/admin/products/import', {
    body: { products: fixtureProducts(['A']) },
    headers: { 'x-omni-admin-key': otherAdminKey },
  });
  assert.equal(otherCatalog.status, 200);
  const other = await SseReader.open(`${server.url}/v1/stock/stream?key=pk_other&skus=A`);
  t.after(() => other.close());
  const first = [await ab.next(), await ab.next()].map(answer);
  assert.deepEqual(first.map((b) => b.sku).sort(), ['A', 'B']);
  assert.equal(storeOf(first[0]!, 'manchester')?.store.pickup, true);
  assert.equal(answer(await c.next()).sku, 'C');
  assert.deepEqual(answer(await other.next()).stores, [], 'the other site has no stores yet');

  await t.test('each watched sku gets a fresh answer with the edited store', async () => {
    assert.equal((await putStores(api, EDITED)).status, 200);
    const live = [await ab.next(), await ab.next()];
    assert.ok(live.every((e) => e.event === 'stock'));
    assert.deepEqual(live.map((e) => answer(e).sku).sort(), ['A', 'B']);
    for (const body of live.map(answer)) {
      const manchester = storeOf(body, 'manchester')!;
      assert.equal(manchester.store.pickup, false);
      assert.equal(manchester.store.name, 'Manchester Arndale');
      assert.deepEqual(manchester.store.hours.sun, ['11:00-17:00']);
      assert.equal(body.origin?.area, 'M', "still ranked for the stream's own origin");
    }
    const a = live.map(answer).find((b) => b.sku === 'A')!;
    assert.deepEqual(storeOf(a, 'manchester')!.availability, { band: 'in_stock' });
    const onC = answer(await c.next());
    assert.equal(onC.sku, 'C');
    assert.equal(storeOf(onC, 'manchester')?.store.name, 'Manchester Arndale');
  });

  await t.test('an edit that changes no answer sends nothing', async () => {
    assert.equal((await putStores(api, EDITED)).status, 200);
    // A stock change after it: the next event on the stream is that change, not a repeat.
    // Had the edit's re-read been merged with the first change, an unchanged B would come next.
    for (const [sku, qty] of [
      ['A', 1],
      ['B', 2],
    ] as const) {
      await api.call('PUT', '/v1/admin/stock', {
        body: { location: 'london', sku, qty, updatedAt: Date.now() },
        headers: admin,
      });
      const next = answer(await ab.next());
      assert.equal(next.sku, sku);
      assert.deepEqual(storeOf(next, 'london')!.availability, { band: 'low_stock', count: qty });
    }
  });

  await t.test("another site's streams only hear of that site's stores", async () => {
    const res = await putStores(api, [store('paris', 'Paris', 48.8566, 2.3522)], {
      'x-omni-admin-key': otherAdminKey,
    });
    assert.equal(res.status, 200);
    const live = answer(await other.next());
    assert.deepEqual(
      live.stores.map((s) => s.store.id),
      ['paris'],
      'the first event after the initial one is its own store edit',
    );
  });
});

if (databaseUrl) {
  test('a store edited through instance A reaches a stream on instance B', async (t) => {
    const [a, b] = await startCommercePair(t);
    await setUp(a.api);
    const stream = await SseReader.open(`${b.url}/v1/stock/stream?key=pk_shop&skus=A`);
    t.after(() => stream.close());
    assert.equal(storeOf(answer(await stream.next()), 'manchester')?.store.pickup, true);
    assert.equal((await putStores(a.api, EDITED)).status, 200);
    // Each event is a fresh read: a late notice of the set-up may come first, then this one.
    const live = await stream.next((e) => storeOf(answer(e), 'manchester')?.store.pickup === false);
    assert.equal(live.event, 'stock');
    assert.equal(storeOf(answer(live), 'manchester')?.store.name, 'Manchester Arndale');
  });
}
