import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errorCode } from '../helpers.js';
import { admin, pub, startCommerceServer } from './helpers.js';

type Report = {
  applied: boolean;
  created: number;
  updated: number;
  unchanged: number;
  rejected: { row: number; sku?: string; reasons: string[] }[];
};
type Products = {
  products: { sku: string; title: string; price: number; attributes: Record<string, string> }[];
  missing: string[];
};

const csv = (rows: string[]) =>
  ['sku,title,price,currency,url,image,category,attr.colour', ...rows].join('\n') + '\n';
const GOOD = [
  'MUG-1,Blue Mug,450,GBP,/p/mug-1,/i/mug-1.svg,Kitchen,Blue',
  'MUG-2,"Red Mug, large",650,GBP,/p/mug-2,/i/mug-2.svg,Kitchen,Red',
];

test('feed import over HTTP: CSV and JSON, idempotent, never partial in silence', async (t) => {
  const server = await startCommerceServer();
  t.after(() => server.close());
  const { api } = server;
  const importCsv = (body: string, query = '') =>
    api.call<Report>('POST', `/v1/admin/products/import${query}`, {
      raw: body,
      headers: { ...admin, 'content-type': 'text/csv' },
    });
  const read = (skus: string) =>
    api.call<Products>('GET', `/v1/products?skus=${skus}`, { headers: pub });

  await t.test('good CSV rows are created, then unchanged on re-import', async () => {
    const first = await importCsv(csv(GOOD));
    assert.equal(first.status, 200);
    assert.deepEqual(first.body, {
      applied: true,
      created: 2,
      updated: 0,
      unchanged: 0,
      rejected: [],
    });
    const again = await importCsv(csv(GOOD));
    assert.deepEqual(again.body, {
      applied: true,
      created: 0,
      updated: 0,
      unchanged: 2,
      rejected: [],
    });
    const res = await read('MUG-2,MUG-1');
    assert.deepEqual(
      res.body.products.map((p) => [p.sku, p.title, p.price, p.attributes.colour]),
      [
        ['MUG-2', 'Red Mug, large', 650, 'Red'],
        ['MUG-1', 'Blue Mug', 450, 'Blue'],
      ],
    );
  });

  await t.test('a JSON feed updates what changed', async () => {
    const res = await api.call<Report>('POST', '/v1/admin/products/import', {
      body: [
        {
          sku: 'MUG-1',
          title: 'Blue Mug',
          price: 499,
          currency: 'GBP',
          url: '/p/mug-1',
          image: '/i/mug-1.svg',
          category: 'Kitchen',
          attributes: { colour: 'Blue' },
        },
        { sku: 'BAG-1', title: 'Tote Bag', price: 900, currency: 'GBP' },
      ],
      headers: admin,
    });
    assert.equal(res.status, 200);
    assert.deepEqual(
      [res.body.created, res.body.updated, res.body.unchanged, res.body.rejected.length],
      [1, 1, 0, 0],
    );
    assert.equal((await read('MUG-1')).body.products[0]?.price, 499);
  });

  await t.test('one bad row: 422 with every reason, and nothing is written', async () => {
    const res = await importCsv(
      csv([
        'NEW-1,New thing,100,GBP,/p/new-1,,Gifts,',
        'NEW-2,,abc,GBP,javascript:alert(1),,Gifts,',
        'MUG-2,Red Mug renamed,650,GBP,/p/mug-2,/i/mug-2.svg,Kitchen,Red',
      ]),
    );
    assert.equal(res.status, 422);
    assert.equal(errorCode(res), 'invalid_argument');
    const report = (res.body as unknown as { error: { details: Report } }).error.details;
    assert.equal(report.applied, false);
    assert.deepEqual([report.created, report.updated], [1, 1]);
    assert.equal(report.rejected.length, 1);
    assert.equal(report.rejected[0]?.row, 3);
    assert.equal(report.rejected[0]?.sku, 'NEW-2');
    assert.ok(report.rejected[0]!.reasons.length >= 3, report.rejected[0]!.reasons.join('; '));
    const after = await read('NEW-1,MUG-2');
    assert.deepEqual(after.body.missing, ['NEW-1']);
    assert.equal(after.body.products[0]?.title, 'Red Mug, large');
  });

  await t.test('?partial=true writes the good rows and still reports the bad ones', async () => {
    const res = await importCsv(
      csv(['NEW-1,New thing,100,GBP,/p/new-1,,Gifts,', 'NEW-2,,abc,GBP,,,Gifts,']),
      '?partial=true',
    );
    assert.equal(res.status, 200);
    assert.equal(res.body.applied, true);
    assert.equal(res.body.created, 1);
    assert.deepEqual(
      res.body.rejected.map((r) => r.sku),
      ['NEW-2'],
    );
    assert.deepEqual((await read('NEW-1,NEW-2')).body.missing, ['NEW-2']);
  });

  await t.test('whole-feed failures: media type, size, broken JSON', async () => {
    const xml = await api.call('POST', '/v1/admin/products/import', {
      raw: '<feed/>',
      headers: { ...admin, 'content-type': 'application/xml' },
    });
    assert.equal(xml.status, 415);
    const broken = await api.call('POST', '/v1/admin/products/import', {
      raw: '[{"sku":',
      headers: admin,
    });
    assert.equal(broken.status, 400);
    const empty = await importCsv('sku,title,price,currency\n');
    assert.equal(empty.status, 400);
  });

  await t.test('an oversized feed is refused with 413 before it is parsed', async () => {
    const small = await startCommerceServer({ commerce: { importMaxBytes: 1000 } });
    t.after(() => small.close());
    const rows = Array.from({ length: 40 }, (_, i) => `S-${i},Thing ${i},100,GBP,,,Gifts,`);
    const res = await small.api.call('POST', '/v1/admin/products/import', {
      raw: csv(rows),
      headers: { ...admin, 'content-type': 'text/csv' },
    });
    assert.equal(res.status, 413);
    assert.equal(errorCode(res), 'payload_too_large');
  });

  await t.test('products read: order kept, missing listed, ETag and 304', async () => {
    const res = await read('MUG-1,NOPE,BAG-1,MUG-1');
    assert.equal(res.status, 200);
    assert.deepEqual(
      res.body.products.map((p) => p.sku),
      ['MUG-1', 'BAG-1'],
    );
    assert.deepEqual(res.body.missing, ['NOPE']);
    assert.equal(res.headers.get('cache-control'), 'public, max-age=60');
    const etag = res.headers.get('etag');
    assert.ok(etag);
    const cached = await api.call('GET', '/v1/products?skus=MUG-1,NOPE,BAG-1,MUG-1', {
      headers: { ...pub, 'if-none-match': `W/${etag}` },
    });
    assert.equal(cached.status, 304);
    assert.equal(cached.headers.get('etag'), etag);
    // A change of any listed product changes the tag.
    await api.call('POST', '/v1/admin/products/import', {
      body: [{ sku: 'BAG-1', title: 'Tote Bag', price: 950, currency: 'GBP' }],
      headers: admin,
    });
    const changed = await api.call('GET', '/v1/products?skus=MUG-1,NOPE,BAG-1,MUG-1', {
      headers: { ...pub, 'if-none-match': etag },
    });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  await t.test('products read validation: 1 to 100 valid skus', async () => {
    assert.equal((await read('')).status, 400);
    assert.equal((await read('bad%20sku')).status, 400);
    const many = Array.from({ length: 101 }, (_, i) => `S${i}`).join(',');
    assert.equal((await read(many)).status, 400);
    const hundred = Array.from({ length: 100 }, (_, i) => `S${i}`).join(',');
    assert.equal((await read(hundred)).body.missing.length, 100);
  });
});
