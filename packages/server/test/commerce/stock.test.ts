import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { OmniError } from '@omnikit/protocol';
import {
  acceptStockUpdate,
  applyStockUpdates,
  band,
  rankStores,
} from '../../src/commerce/core/stock.js';
import { haversineKm, lookupPostcode, UK_POSTCODE_AREAS } from '../../src/commerce/core/geo.js';
import type { InventoryRow, Store } from '../../src/commerce/core/types.js';

const hours: Store['hours'] = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
const store = (id: string, lat: number, lng: number): Store => ({
  id,
  name: `Store ${id}`,
  address: { line1: '1 High Street', city: id, postcode: 'X', country: 'GB' },
  lat,
  lng,
  hours,
  pickup: true,
});
const LONDON = store('london', 51.5147, -0.1263);
const LEEDS = store('leeds', 53.7964, -1.5428);
const MANCHESTER = store('manchester', 53.4837, -2.2343);
const GLASGOW = store('glasgow', 55.8625, -4.253);
const row = (location: string, qty: number, updatedAt = 1_000): InventoryRow => ({
  location,
  sku: 'SKU-1',
  qty,
  updatedAt,
});

test('bands: out at zero, low with the count up to the threshold, in stock above', () => {
  assert.deepEqual(band(0, 3), { band: 'out_of_stock' });
  assert.deepEqual(band(-2, 3), { band: 'out_of_stock' });
  assert.deepEqual(band(1, 3), { band: 'low_stock', count: 1 });
  assert.deepEqual(band(3, 3), { band: 'low_stock', count: 3 });
  assert.deepEqual(band(4, 3), { band: 'in_stock' });
  assert.deepEqual(band(4, 0), { band: 'in_stock' });
});

test('ranking: stores with stock first, then nearest; every store has a row', () => {
  const origin = { lat: 53.48, lng: -2.24 }; // Manchester
  const answer = rankStores(
    'SKU-1',
    [LONDON, LEEDS, MANCHESTER, GLASGOW],
    [
      row('london', 10),
      row('leeds', 2),
      row('manchester', 0),
      row('online', 50),
      {
        ...row('glasgow', 9),
        sku: 'OTHER',
      },
    ],
    { origin, lowThreshold: 3 },
  );
  assert.deepEqual(
    answer.stores.map((s) => [s.store.id, s.availability.band, s.updatedAt]),
    [
      ['leeds', 'low_stock', 1_000],
      ['london', 'in_stock', 1_000],
      ['manchester', 'out_of_stock', 1_000],
      ['glasgow', 'out_of_stock', null],
    ],
  );
  assert.deepEqual(answer.stores[0]!.availability, { band: 'low_stock', count: 2 });
  assert.ok(answer.stores[2]!.distanceKm! < 1);
  assert.deepEqual(answer.online, { availability: { band: 'in_stock' }, updatedAt: 1_000 });

  const blind = rankStores('SKU-1', [LONDON, GLASGOW], [], { lowThreshold: 3 });
  assert.deepEqual(
    blind.stores.map((s) => [s.store.id, s.availability.band, s.distanceKm, s.updatedAt]),
    [
      ['glasgow', 'out_of_stock', null, null],
      ['london', 'out_of_stock', null, null],
    ],
  );
  assert.deepEqual(blind.online, { availability: { band: 'out_of_stock' }, updatedAt: null });
});

test('property: ranking never drops a store and never puts an empty store before a stocked one', () => {
  const stores = [LONDON, LEEDS, MANCHESTER, GLASGOW];
  fc.assert(
    fc.property(
      fc.array(
        fc.tuple(fc.constantFrom('london', 'leeds', 'manchester', 'glasgow', 'online'), fc.nat(20)),
      ),
      fc.double({ min: 50, max: 58, noNaN: true }),
      fc.double({ min: -5, max: 1, noNaN: true }),
      (inv, lat, lng) => {
        const answer = rankStores(
          'SKU-1',
          stores,
          inv.map(([loc, qty]) => row(loc, qty)),
          {
            origin: { lat, lng },
            lowThreshold: 5,
          },
        );
        assert.equal(answer.stores.length, stores.length);
        const stocked = answer.stores.map((s) => s.availability.band !== 'out_of_stock');
        assert.deepEqual(
          stocked,
          [...stocked].sort((a, b) => Number(b) - Number(a)),
        );
        for (let i = 1; i < answer.stores.length; i++) {
          if (stocked[i] === stocked[i - 1]) {
            assert.ok(answer.stores[i]!.distanceKm! >= answer.stores[i - 1]!.distanceKm!);
          }
        }
      },
    ),
    { seed: 11, numRuns: 200 },
  );
});

test('last write wins by updatedAt: a late, older update never overwrites a newer count', () => {
  const current = row('leeds', 5, 2_000);
  assert.deepEqual(acceptStockUpdate(undefined, row('leeds', 7, 1)), {
    accepted: true,
    row: row('leeds', 7, 1),
  });
  assert.deepEqual(acceptStockUpdate(current, row('leeds', 9, 1_999)), {
    accepted: false,
    row: current,
    reason: 'stale',
  });
  assert.deepEqual(acceptStockUpdate(current, row('leeds', 0, 2_001)), {
    accepted: true,
    row: row('leeds', 0, 2_001),
  });
  assert.equal(acceptStockUpdate(current, row('leeds', 5, 2_000)).accepted, false);
  // Same timestamp, different counts: the lower one wins in either arrival order.
  assert.equal(acceptStockUpdate(current, row('leeds', 3, 2_000)).row.qty, 3);
  assert.equal(acceptStockUpdate(row('leeds', 3, 2_000), current).row.qty, 3);
});

test('property: any delivery order of stock updates converges to the newest count', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: 1e6 }), { minLength: 1, maxLength: 12 }),
      fc.nat(),
      (times, seed) => {
        const updates = times.map((t, i) => row('york', (i * 7 + seed) % 30, t));
        const newest = updates.reduce((a, b) => (b.updatedAt > a.updatedAt ? b : a));
        const shuffled = [...updates].sort(
          (a, b) => ((a.qty * 31 + seed) % 17) - ((b.qty * 31 + seed) % 17),
        );
        let current: InventoryRow | undefined;
        for (const u of shuffled) current = acceptStockUpdate(current, u).row;
        assert.deepEqual(current, newest);
      },
    ),
    { seed: 5, numRuns: 200 },
  );
});

test('bulk updates: newest per (location, sku) wins inside the batch and against storage', () => {
  const stored = new Map([['leeds', row('leeds', 5, 2_000)]]);
  const result = applyStockUpdates(
    (location) => stored.get(location),
    [
      row('leeds', 9, 1_000), // older than stored
      row('york', 4, 3_000),
      row('york', 2, 4_000), // supersedes the previous row
      row('york', 7, 3_500), // older than the batch's newest
      row('leeds', 1, 2_500),
      row('leeds', -3, 9_000), // malformed
    ],
  );
  assert.deepEqual(result.accepted, [row('leeds', 1, 2_500), row('york', 2, 4_000)].reverse());
  assert.deepEqual(
    result.rejected.map((r) => [r.index, r.reason.split(':')[0]]),
    [
      [0, 'stale'],
      [1, 'superseded by a newer count in the same batch'],
      [3, 'stale'],
      [5, 'Invalid stock update'],
    ],
  );
});

test('malformed or future-dated stock updates are refused with a typed error', () => {
  assert.throws(() => acceptStockUpdate(undefined, row('leeds', -1)), OmniError);
  assert.throws(() => acceptStockUpdate(undefined, row('', 1)), /location must be/);
  assert.throws(
    () => acceptStockUpdate(undefined, { ...row('leeds', 1), sku: ' bad' }),
    /sku must follow/,
  );
  assert.throws(() => acceptStockUpdate(undefined, row('leeds', 1.5)), OmniError);
  assert.throws(
    () => acceptStockUpdate(undefined, { ...row('leeds', 1), updatedAt: NaN }),
    OmniError,
  );
  assert.throws(
    () => acceptStockUpdate(undefined, row('leeds', 1, 10 * 60_000), { now: 0 }),
    /in the future/,
  );
  assert.equal(acceptStockUpdate(undefined, row('leeds', 1, 60_000), { now: 0 }).accepted, true);
});

test('geo: haversine distances and UK postcode areas', () => {
  // London to Edinburgh is about 534 km as the crow flies.
  const km = haversineKm({ lat: 51.5074, lng: -0.1278 }, { lat: 55.9533, lng: -3.1883 });
  assert.ok(Math.abs(km - 534) < 3, `got ${km}`);
  assert.equal(haversineKm(LONDON, LONDON), 0);
  assert.ok(Math.abs(haversineKm({ lat: 0, lng: 0 }, { lat: 0, lng: 180 }) - 20_015) < 2);

  assert.equal(lookupPostcode('SW1A 1AA').area, 'SW');
  assert.equal(lookupPostcode('m1 1ae').area, 'M');
  assert.equal(lookupPostcode('B2').area, 'B');
  assert.equal(lookupPostcode('BA1 1LZ').area, 'BA');
  assert.equal(lookupPostcode(' ls ').area, 'LS');
  assert.equal(lookupPostcode('EH2 2LR').area, 'EH');
  const leeds = lookupPostcode('LS1 6HD');
  assert.ok(haversineKm(leeds, LEEDS) < 5);
  assert.throws(() => lookupPostcode('QQ1 1AA'), /Unknown postcode area "QQ"/);
  assert.throws(() => lookupPostcode('90210'), /is not a UK postcode/);
  assert.throws(() => lookupPostcode(''), OmniError);
  for (const [area, [lat, lng]] of Object.entries(UK_POSTCODE_AREAS)) {
    assert.ok(lat > 49.8 && lat < 61 && lng > -8.2 && lng < 1.8, `${area} is inside the UK`);
  }
});
