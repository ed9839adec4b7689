// Who may call what: every commerce route × every kind of credential.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode, m } from '../helpers.js';
import { admin, importFixture, otherAdminKey, startCommerceServer, store } from './helpers.js';

type Recs = { items: { sku: string; reason: { sku?: string } }[] };

test('authorization matrix of the commerce API', async (t) => {
  const server = await startCommerceServer();
  t.after(() => server.close());
  const { api } = server;
  await importFixture(api);
  const stores = [store('leeds', 'Leeds', 53.7964, -1.5428)];
  await api.call('PUT', '/v1/admin/stores', { body: stores, headers: admin });
  const at = Date.now() - 1_000;

  const writes: [string, string, unknown][] = [
    ['POST', '/v1/admin/products/import', [{ sku: 'Z', title: 'Z', price: 1, currency: 'GBP' }]],
    ['PUT', '/v1/admin/stores', stores],
    ['PUT', '/v1/admin/stock', { location: 'leeds', sku: 'A', qty: 1, updatedAt: at }],
    ['POST', '/v1/orders', { orderId: 'o-1', channel: 'web', lines: [{ sku: 'A', qty: 1 }] }],
  ];
  const reads = ['/v1/products?skus=A', '/v1/stock?sku=A'];
  const device = await api.register();

  await t.test("writes need this site's admin key", async () => {
    const credentials: [string, Record<string, string>, number][] = [
      ['none', {}, 401],
      ['wrong admin key', { 'x-omni-admin-key': 'not-the-admin-key-at-all' }, 401],
      ['publishable key', { 'x-omni-key': 'pk_shop' }, 401],
      ['device token', device.auth, 401],
    ];
    for (const [method, path, body] of writes) {
      for (const [who, headers, status] of credentials) {
        const res = await api.call(method, path, { body, headers });
        assert.equal(res.status, status, `${method} ${path} with ${who}`);
        assert.equal(errorCode(res), 'unauthorized');
      }
    }
  });

  await t.test("another site's admin key writes its own site, never this one", async () => {
    const other = { 'x-omni-admin-key': otherAdminKey };
    const imported = await api.call('POST', '/v1/admin/products/import', {
      body: [{ sku: 'A', title: 'Hijacked', price: 1, currency: 'GBP' }],
      headers: other,
    });
    assert.equal(imported.status, 200);
    const stock = await api.call<{ invalid: unknown[] }>('PUT', '/v1/admin/stock', {
      body: { updates: [{ location: 'leeds', sku: 'A', qty: 99, updatedAt: at }] },
      headers: other,
    });
    assert.equal(stock.body.invalid.length, 1, 'leeds is not a store of the other site');
    const shop = await api.call<{ products: { title: string }[] }>('GET', '/v1/products?skus=A', {
      headers: { 'x-omni-key': 'pk_shop' },
    });
    assert.equal(shop.body.products[0]?.title, 'Product A');
    const theirs = await api.call<{ products: { title: string }[] }>('GET', '/v1/products?skus=A', {
      headers: { 'x-omni-key': 'pk_other' },
    });
    assert.equal(theirs.body.products[0]?.title, 'Hijacked');
  });

  await t.test('public reads need a publishable key', async () => {
    for (const path of reads) {
      for (const [who, headers] of [
        ['none', {}],
        ['unknown key', { 'x-omni-key': 'pk_nope' }],
        ['admin key only', admin],
      ] as const) {
        const res = await api.call('GET', path, { headers });
        assert.equal(res.status, 401, `${path} with ${who}`);
      }
      const ok = await api.call('GET', path, { headers: { 'x-omni-key': 'pk_shop' } });
      assert.equal(ok.status, 200, path);
      const foreign = await api.call('GET', path, {
        headers: { 'x-omni-key': 'pk_shop', origin: 'https://evil.example' },
      });
      assert.equal(foreign.status, 403, `${path} from a foreign origin`);
    }
  });

  await t.test(
    'recommendations need a device token and only ever read its own profile',
    async () => {
      const wrong: Record<string, string>[] = [
        {},
        { 'x-omni-key': 'pk_shop' },
        admin,
        { authorization: 'Bearer ' + 'x'.repeat(40) },
      ];
      for (const headers of wrong) {
        const res = await api.call('GET', '/v1/recommendations', { headers });
        assert.equal(res.status, 401);
      }
      const alice = await api.register();
      await api.pushOk(alice, [m.view(1, 'C'), m.add(2, 'F')]);
      const bob = await api.register();
      // Query parameters cannot point at another profile: they are not part of the API.
      const res = await api.call<Recs>(
        'GET',
        `/v1/recommendations?strategy=personalized&profileId=${alice.profileId}`,
        { headers: bob.auth },
      );
      assert.equal(res.status, 200);
      assert.ok(
        res.body.items.every((i) => i.reason.sku === undefined),
        JSON.stringify(res.body),
      );
      const recent = await api.call<Recs>('GET', '/v1/recommendations?strategy=recently-viewed', {
        headers: bob.auth,
      });
      assert.deepEqual(recent.body.items, []);
      // A device of the other site reads the other site's (empty) catalog, not this one.
      const stranger = await api.register('pk_other');
      const theirs = await api.call<Recs>('GET', '/v1/recommendations?strategy=trending', {
        headers: stranger.auth,
      });
      assert.deepEqual(
        theirs.body.items.map((i) => i.sku),
        ['A'],
      );
    },
  );
});
