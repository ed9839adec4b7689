import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RecommendationsResponse } from '@omnikit/protocol';
import { customerToken, databaseUrl, errorCode, m, type Api, type Device } from '../helpers.js';
import { BASKETS } from './baskets.js';
import { admin, importFixture, startCommercePair, startCommerceServer, store } from './helpers.js';

function recommendations(api: Api, device: Device, query: string) {
  return api.call<RecommendationsResponse>('GET', `/v1/recommendations?${query}`, {
    headers: device.auth,
  });
}

async function order(api: Api, body: Record<string, unknown>) {
  return api.call<{ orderId: string; created: boolean; profileId?: string | null }>(
    'POST',
    '/v1/orders',
    { body, headers: admin },
  );
}

test('recommendations over HTTP: deterministic, cross-device, cross-channel', async (t) => {
  const server = await startCommerceServer();
  t.after(() => server.close());
  const { api } = server;
  await importFixture(api);
  await api.call('PUT', '/v1/admin/stores', {
    body: [store('leeds', 'Leeds', 53.7964, -1.5428)],
    headers: admin,
  });
  const start = Date.now() - BASKETS.length * 60_000;
  for (const [i, skus] of BASKETS.entries()) {
    const res = await order(api, {
      orderId: `web-${i}`,
      channel: 'web',
      at: start + i * 60_000,
      lines: skus.map((sku) => ({ sku, qty: 1 })),
    });
    assert.equal(res.status, 201);
  }
  const recs = (device: Device, query: string) => recommendations(api, device, query);
  const skus = (r: { body: RecommendationsResponse }) => r.body.items.map((i) => i.sku);

  await t.test(
    'also-bought: the co-purchased items first, with reasons and product rows',
    async () => {
      const device = await api.register();
      const res = await recs(device, 'strategy=also-bought&sku=A&limit=4');
      assert.equal(res.status, 200);
      assert.equal(res.body.strategy, 'also-bought');
      assert.deepEqual(skus(res).slice(0, 2), ['B', 'C']);
      assert.deepEqual(res.body.items[0]?.reason, {
        code: 'often_bought_with',
        sku: 'A',
        text: 'often bought with A',
      });
      assert.equal(res.body.items.length, 4, 'filled up by the fallback chain');
      assert.ok(!skus(res).includes('A'));
      assert.deepEqual(res.body.items[0]?.product, {
        sku: 'B',
        title: 'Product B',
        price: 200,
        currency: 'GBP',
        url: '/p/B',
        image: '/img/B.svg',
        category: 'Gifts',
        groupId: null,
      });
      assert.equal(res.headers.get('cache-control'), 'private, no-store');
    },
  );

  await t.test('personalized: neighbours of what this profile viewed, and why', async () => {
    const device = await api.register();
    await api.pushOk(device, [m.view(1, 'C')]);
    const res = await recs(device, 'strategy=personalized&limit=3');
    assert.deepEqual(skus(res).slice(0, 2), ['D', 'A']);
    assert.deepEqual(res.body.items[0]?.reason, {
      code: 'because_you_viewed',
      sku: 'C',
      text: 'because you viewed C',
    });
    const recent = await recs(device, 'strategy=recently-viewed');
    assert.deepEqual(skus(recent), ['C']);
  });

  await t.test('the cart is excluded; the next neighbour moves up', async () => {
    const device = await api.register();
    await api.pushOk(device, [m.add(1, 'B')]);
    const res = await recs(device, 'strategy=also-bought&sku=A&limit=5');
    assert.equal(skus(res)[0], 'C');
    assert.ok(!skus(res).includes('B'));
    const excluded = await recs(device, 'strategy=also-bought&sku=A&limit=5&exclude=C');
    assert.ok(!skus(excluded).includes('C'));
  });

  await t.test('never empty when the catalog is not: the chain ends in trending', async () => {
    const device = await api.register();
    const fresh = await recs(device, 'strategy=personalized&limit=3');
    assert.equal(fresh.body.items.length, 3);
    assert.deepEqual(fresh.body.items[0], {
      ...fresh.body.items[0],
      sku: 'E',
      reason: { code: 'trending', text: 'trending' },
    });
    const lonely = await recs(device, 'strategy=also-bought&sku=H&limit=8');
    assert.equal(lonely.body.items.length, 7, 'every other catalog item');
    assert.ok(lonely.body.items.every((i) => i.reason.code === 'trending'));
    const recent = await recs(device, 'strategy=recently-viewed');
    assert.deepEqual(recent.body.items, [], 'recently viewed is never padded');
  });

  await t.test('live views from pushes feed also-viewed without a rebuild', async () => {
    for (const seq of [1, 2]) {
      const device = await api.register();
      await api.pushOk(device, [m.view(1, 'G'), m.view(2, 'H')]);
      assert.ok(seq);
    }
    const device = await api.register();
    const res = await recs(device, 'strategy=also-viewed&sku=H&limit=2');
    assert.deepEqual(res.body.items[0]?.reason, {
      code: 'often_viewed_with',
      sku: 'H',
      text: 'often viewed with H',
    });
    assert.equal(res.body.items[0]?.sku, 'G');
  });

  await t.test('a store purchase counts for the customer on every device', async () => {
    // Bought in store before the customer ever signed in here: kept by customer id.
    const pos = await order(api, {
      orderId: 'pos-1',
      customerId: 'cust-1',
      storeId: 'leeds',
      channel: 'store',
      lines: [{ sku: 'C', qty: 2 }],
    });
    assert.equal(pos.status, 201);
    assert.equal(pos.body.profileId, null);
    const phone = await api.register('pk_shop', { channel: 'app' });
    const before = await recs(phone, 'strategy=personalized&limit=3');
    assert.equal(before.body.items[0]?.reason.code, 'trending');
    const identified = await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('cust-1') },
      headers: phone.auth,
    });
    assert.equal(identified.status, 200);
    const after = await recs(phone, 'strategy=personalized&limit=3');
    assert.equal(after.body.items[0]?.sku, 'D');
    assert.deepEqual(after.body.items[0]?.reason, {
      code: 'because_you_bought',
      sku: 'C',
      text: 'because you bought C',
    });
    assert.ok(!skus(after).includes('C'), 'bought items are not recommended again');
    // A later store order finds the profile at once; the laptop of the same customer sees it.
    const laptop = await api.register();
    await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('cust-1') },
      headers: laptop.auth,
    });
    const later = await order(api, {
      orderId: 'pos-2',
      customerId: 'cust-1',
      storeId: 'leeds',
      channel: 'store',
      lines: [{ sku: 'F', qty: 1 }],
    });
    assert.equal(typeof later.body.profileId, 'string');
    const both = await recs(laptop, 'strategy=personalized&limit=4');
    assert.ok(skus(both).includes('G'), JSON.stringify(skus(both)));
    assert.ok(!skus(both).includes('F'));
    const g = both.body.items.find((i) => i.sku === 'G');
    assert.equal(g?.reason.text, 'because you bought F');

    // Erasure: the core deletes the profile; the hook unlinks the customer's orders, so signing
    // in again starts from nothing rather than from the old purchases.
    const customerProfile = (await api.pull(laptop)).profileId;
    assert.equal((await api.call('DELETE', '/v1/profile', { headers: laptop.auth })).status, 204);
    await server.ext.forget('shop', customerProfile, 'cust-1');
    await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('cust-1') },
      headers: laptop.auth,
    });
    const forgotten = await recs(laptop, 'strategy=personalized&limit=3');
    assert.ok(
      forgotten.body.items.every((i) => i.reason.code === 'trending'),
      JSON.stringify(forgotten.body.items.map((i) => i.reason)),
    );
  });

  await t.test(
    'orders are idempotent by id; a different body under the same id is a conflict',
    async () => {
      const body = {
        orderId: 'pos-9',
        channel: 'store',
        storeId: 'leeds',
        at: start,
        lines: [{ sku: 'H', qty: 1 }],
      };
      assert.equal((await order(api, body)).status, 201);
      const again = await order(api, body);
      assert.equal(again.status, 200);
      assert.equal(again.body.created, false);
      const changed = await order(api, { ...body, lines: [{ sku: 'H', qty: 2 }] });
      assert.equal(changed.status, 409);
      for (const bad of [
        { ...body, orderId: 'x y' },
        { ...body, channel: 'fax' },
        { ...body, storeId: undefined },
        { ...body, orderId: 'pos-10', storeId: 'nowhere' },
        { ...body, orderId: 'pos-11', lines: [] },
        { ...body, orderId: 'pos-12', lines: [{ sku: 'H', qty: 0 }] },
        { ...body, orderId: 'pos-13', at: Date.now() + 86_400_000 },
      ]) {
        const res = await order(api, bad);
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(errorCode(res), 'invalid_argument');
      }
    },
  );

  await t.test('bad requests are 400s that say why', async () => {
    const device = await api.register();
    for (const q of [
      'strategy=random',
      'strategy=also-bought',
      'limit=0',
      'limit=101',
      'limit=x',
      'sku=bad%20sku',
    ]) {
      const res = await recs(device, q);
      assert.equal(res.status, 400, q);
      assert.equal(errorCode(res), 'invalid_argument');
    }
  });
});

if (databaseUrl) {
  test('orders and views taken by instance A reach the model of instance B', async (t) => {
    const [a, b] = await startCommercePair(t);
    await importFixture(a.api);
    for (const i of [1, 2]) {
      await order(a.api, {
        orderId: `ab-${i}`,
        channel: 'web',
        lines: [
          { sku: 'A', qty: 1 },
          { sku: 'H', qty: 1 },
        ],
      });
      const viewer = await a.api.register();
      await a.api.pushOk(viewer, [m.view(1, 'B'), m.view(2, 'G')]);
    }
    const device = await b.api.register();
    const bought = await recommendations(b.api, device, 'strategy=also-bought&sku=A');
    assert.equal(bought.body.items[0]?.sku, 'H');
    assert.equal(bought.body.items[0]?.product.title, 'Product H', 'B loaded the catalog too');
    const viewed = await recommendations(b.api, device, 'strategy=also-viewed&sku=B');
    assert.equal(viewed.body.items[0]?.sku, 'G');
  });
}
