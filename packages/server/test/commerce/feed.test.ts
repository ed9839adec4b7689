import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OmniError } from '@omnikit/protocol';
import {
  diffCatalog,
  parseFeed,
  parseCsvFeed,
  parseJsonFeed,
  SKU_PATTERN,
} from '../../src/commerce/core/feed.js';

const HEADER =
  'sku,groupId,title,description,price,currency,url,image,category,attr.size,attr.colour';

test('CSV feed: good rows become products with typed fields and attributes', () => {
  const csv = [
    HEADER,
    'TEE-1-M,TEE-1,"Tee, organic",Soft cotton,1999,gbp,/p/tee-1,https://cdn.example/tee.png,Tops,M,Red',
    'MUG-2,,Mug,"A ""big"" mug",850,EUR,,,Kitchen,,',
  ].join('\n');
  const { products, rejected } = parseCsvFeed(csv);
  assert.deepEqual(rejected, []);
  assert.deepEqual(products, [
    {
      sku: 'TEE-1-M',
      groupId: 'TEE-1',
      title: 'Tee, organic',
      description: 'Soft cotton',
      price: 1999,
      currency: 'GBP',
      url: '/p/tee-1',
      image: 'https://cdn.example/tee.png',
      category: 'Tops',
      attributes: { size: 'M', colour: 'Red' },
    },
    {
      sku: 'MUG-2',
      groupId: null,
      title: 'Mug',
      description: 'A "big" mug',
      price: 850,
      currency: 'EUR',
      url: null,
      image: null,
      category: 'Kitchen',
      attributes: {},
    },
  ]);
});

test('CSV feed: every bad row is reported with all its reasons and the line it starts on', () => {
  const csv = [
    'sku,title,price,currency,url,attributes',
    ',No sku,100,GBP,,', // line 2
    '-bad,Bad sku,100,GBP,,', // line 3
    'A1,Fraction,12.50,GBP,,', // line 4
    'A2,Negative,-5,GBP,,', // line 5
    'A3,Money,100,XXY,,', // line 6
    'A4,,abc,GBP,javascript:alert(1),', // line 7
    'A5,Attrs,100,GBP,,not json', // line 8
    'A6,Short row,100', // line 9
    `A7,${'x'.repeat(201)},100,GBP,,`, // line 10
    '"A8","Multi', // line 11: a quoted newline inside the title
    'line",100,GBP,,"{""size"":""L""}"',
  ].join('\n');
  const { products, rejected } = parseCsvFeed(csv);
  assert.deepEqual(
    products.map((p) => [p.sku, p.title, p.attributes]),
    [['A8', 'Multi\nline', { size: 'L' }]],
  );
  const after = parseCsvFeed(`${csv}\n\nA8,Dup,1,GBP,,\n`);
  assert.deepEqual(after.rejected.at(-1), {
    row: 14,
    sku: 'A8',
    reasons: ['duplicate sku (first at row 11)'],
  });
  const byRow = new Map(rejected.map((r) => [r.row, r]));
  assert.deepEqual(byRow.get(2), { row: 2, reasons: ['missing sku'] });
  assert.match(byRow.get(3)!.reasons.join(), /sku must be/);
  assert.equal(byRow.get(3)!.sku, '-bad');
  assert.match(byRow.get(4)!.reasons.join(), /integer number of minor units/);
  assert.match(byRow.get(5)!.reasons.join(), /must not be negative/);
  assert.match(byRow.get(6)!.reasons.join(), /ISO 4217/);
  assert.deepEqual(byRow.get(7)!.reasons, [
    'missing title',
    'price must be a number of minor units',
    'url must be an http(s) URL or a path starting with "/"',
  ]);
  assert.match(byRow.get(8)!.reasons.join(), /attributes is not a JSON object/);
  assert.match(byRow.get(9)!.reasons.join(), /has 3 fields; the header has 6/);
  assert.match(byRow.get(10)!.reasons.join(), /title is longer than 200/);
  assert.equal(rejected.length, 9, 'no row is dropped silently');
});

test('duplicate skus: the first row wins and every later one is reported', () => {
  const csv = ['sku,title,price,currency', 'A,First,1,GBP', 'B,Other,2,GBP', 'A,Again,3,GBP'];
  const { products, rejected } = parseCsvFeed(csv.join('\n'));
  assert.deepEqual(
    products.map((p) => [p.sku, p.title]),
    [
      ['A', 'First'],
      ['B', 'Other'],
    ],
  );
  assert.deepEqual(rejected, [{ row: 4, sku: 'A', reasons: ['duplicate sku (first at row 2)'] }]);
  // Windows line ends and a byte-order mark give the same answer.
  assert.deepEqual(parseCsvFeed(`\uFEFF${csv.join('\r\n')}\r\n`), { products, rejected });

  const json = JSON.stringify([
    { sku: 'X', title: 'x', price: 1, currency: 'GBP' },
    { sku: 'X', title: 'y', price: 1, currency: 'GBP' },
  ]);
  assert.deepEqual(parseJsonFeed(json).rejected, [
    { row: 2, sku: 'X', reasons: ['duplicate sku (first at row 1)'] },
  ]);
});

test('JSON feed: array or {products}, numbers must be integers, attributes must be strings', () => {
  const doc = {
    products: [
      {
        sku: 'S-1',
        group_id: 'S',
        title: ' Scarf ',
        price: 2500,
        currency: 'GBP',
        attributes: { colour: 'Blue', length: 180 },
      },
      { sku: 'S-2', title: 'Scarf', price: '2500', currency: 'GBP' },
      { sku: 'S-3', title: 'Scarf', price: 25.5, currency: 'GBP', attributes: { a: { b: 1 } } },
      'not an object',
      { sku: 'S-4', title: 'Scarf', price: 1, currency: 'GBP', image: '//evil.example/x.png' },
    ],
  };
  const { products, rejected } = parseFeed(JSON.stringify(doc));
  assert.deepEqual(products, [
    {
      sku: 'S-1',
      groupId: 'S',
      title: 'Scarf',
      description: '',
      price: 2500,
      currency: 'GBP',
      url: null,
      image: null,
      category: null,
      attributes: { colour: 'Blue', length: '180' },
    },
  ]);
  assert.deepEqual(
    rejected.map((r) => [r.row, r.reasons]),
    [
      [2, ['price must be a number of minor units']],
      [
        3,
        [
          'price must be an integer number of minor units (e.g. 1299 for 12.99)',
          'attribute "a" must be a string',
        ],
      ],
      [4, ['is not an object']],
      [5, ['image must be an http(s) URL or a path starting with "/"']],
    ],
  );
});

test('whole-feed problems throw typed errors instead of importing part of a feed', () => {
  const code = (fn: () => unknown): string => {
    try {
      fn();
    } catch (err) {
      assert.ok(err instanceof OmniError);
      return err.code;
    }
    return 'no error';
  };
  assert.equal(
    code(() => parseFeed('{"products": 3}')),
    'invalid_argument',
  );
  assert.equal(
    code(() => parseFeed('[1,')),
    'invalid_argument',
  );
  assert.equal(
    code(() => parseCsvFeed('sku,title\n"A,unterminated')),
    'invalid_argument',
  );
  assert.equal(
    code(() => parseCsvFeed('title,price\nA,1')),
    'invalid_argument',
  );
  assert.equal(
    code(() => parseFeed('sku\nA\nB', { limits: { maxRows: 1 } })),
    'payload_too_large',
  );
  assert.equal(
    code(() => parseFeed('x'.repeat(100), { limits: { maxBytes: 99 } })),
    'payload_too_large',
  );
  assert.deepEqual(parseFeed(''), { products: [], rejected: [] });
});

test('re-importing the same feed is a no-op; changed rows are updates', () => {
  const first = parseCsvFeed('sku,title,price,currency,attr.size\nA,Tee,100,GBP,M\nB,Mug,200,GBP,');
  const stored = new Map(first.products.map((p) => [p.sku, p]));
  const again = diffCatalog((sku) => stored.get(sku), first.products);
  assert.deepEqual(again, { created: [], updated: [], unchanged: ['A', 'B'] });
  const next = parseCsvFeed('sku,title,price,currency,attr.size\nA,Tee,100,GBP,L\nC,Cap,300,GBP,');
  const diff = diffCatalog((sku) => stored.get(sku), next.products);
  assert.deepEqual(
    [diff.created.map((p) => p.sku), diff.updated.map((p) => p.sku), diff.unchanged],
    [['C'], ['A'], []],
  );
});

test('property: any feed row is either imported or rejected with reasons, never lost', () => {
  const cell = fc.oneof(
    fc.constant(''),
    fc.string({ maxLength: 12 }),
    fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,10}$/),
    fc.integer({ min: -5, max: 10_000 }).map(String),
    fc.constantFrom('GBP', 'usd', 'ZZZ'),
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(cell, cell, cell, cell), { maxLength: 20 }), (rows) => {
      const json = JSON.stringify(
        rows.map(([sku, title, price, currency]) => ({
          sku,
          title,
          price: Number.isInteger(Number(price)) && price !== '' ? Number(price) : price,
          currency,
        })),
      );
      const { products, rejected } = parseJsonFeed(json);
      assert.equal(products.length + rejected.length, rows.length);
      for (const p of products) {
        assert.match(p.sku, SKU_PATTERN);
        assert.ok(Number.isInteger(p.price) && p.price >= 0);
      }
      for (const r of rejected) assert.ok(r.reasons.length > 0);
      assert.equal(new Set(products.map((p) => p.sku)).size, products.length);
    }),
    { seed: 7, numRuns: 200 },
  );
});
