// The reads behind `GET /v1/recommendations` that save round trips: the core's profile read
// that carries the purchase events, and the orders poll skipped when the orders read already
// shows nothing new. On the test database (PGlite, or PostgreSQL with DATABASE_URL).
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { coreMigrations, migrate, openDb, silentLogger, type Db } from '@omnikit/server';
import { SiteModels } from '../../src/commerce/models.js';
import { commerceMigrations } from '../../src/commerce/store/migrations.js';
import { readOrderPurchases } from '../../src/commerce/store/orders.js';
import { insertDevice } from '../../src/sync/store/devices.js';
import { readPurchaseEvents, recordEvents } from '../../src/sync/store/events.js';
import {
  createProfile,
  readProfileOfDevice,
  readProfileWithPurchases,
} from '../../src/sync/store/profiles.js';
import { dropSchema, freshSchema, testDatabase } from '../helpers.js';

async function database(t: TestContext): Promise<Db> {
  const schema = freshSchema();
  const db = await openDb(await testDatabase(schema), silentLogger);
  t.after(async () => {
    await db.close();
    await dropSchema(schema);
  });
  await migrate(db, [...coreMigrations, ...commerceMigrations]);
  return db;
}

test('the profile read with purchases answers as the two reads it replaces', async (t) => {
  const db = await database(t);
  const profile = await createProfile(db, 'shop');
  const { deviceId } = await insertDevice(db, 'shop', profile.id, 'web', 0);
  const event = (kind: 'purchase' | 'view', sku: string | null, at: number, site = 'shop') => ({
    siteId: site,
    kind,
    channel: 'web',
    deviceId,
    profileId: profile.id,
    sku,
    qty: 1,
    at,
  });
  // Repeats keep their latest time, ties go by sku, other kinds and sites do not count.
  await recordEvents(db, [
    event('purchase', 'B', 10),
    event('purchase', 'A', 30),
    event('purchase', 'B', 30),
    event('purchase', 'C', 20),
    event('purchase', null, 40),
    event('view', 'D', 50),
    event('purchase', 'E', 60, 'other'),
  ]);
  for (const limit of [200, 2]) {
    const one = await readProfileWithPurchases(db, deviceId, 'shop', limit);
    const plain = await readProfileOfDevice(db, deviceId, 'shop');
    const purchases = await readPurchaseEvents(db, 'shop', profile.id, limit);
    assert.deepEqual(one, plain && { ...plain, purchases });
  }
  assert.deepEqual((await readProfileWithPurchases(db, deviceId, 'shop', 200))?.purchases, [
    { sku: 'A', at: 30 },
    { sku: 'B', at: 30 },
    { sku: 'C', at: 20 },
  ]);
  assert.equal(await readProfileWithPurchases(db, deviceId, 'other', 200), undefined);
  const fresh = await createProfile(db, 'shop');
  const bare = await insertDevice(db, 'shop', fresh.id, 'web', 0);
  assert.deepEqual((await readProfileWithPurchases(db, bare.deviceId, 'shop', 200))?.purchases, []);
});

test('the orders poll is skipped only when the tail has every order up to the last seq', async (t) => {
  const db = await database(t);
  let polls = 0;
  const counting: Db = {
    ...db,
    query: (sql, params) => {
      if (sql.includes('FROM orders WHERE seq >')) polls++;
      return db.query(sql, params);
    },
  };
  const models = new SiteModels(
    counting,
    { read: async () => [] },
    ['shop'],
    () => 0,
    silentLogger,
  );
  const model = models.model('shop')!;
  // Explicit seqs stand for transactions that commit out of seq order.
  const insert = (seq: number, skus: string[]) =>
    db.query(
      `INSERT INTO orders (seq, site_id, id, channel, at, lines, created_at)
       VALUES ($1, 'shop', $2, 'web', 0, $3::text::jsonb, 0)`,
      [seq, `o${seq}`, JSON.stringify(skus.map((sku) => ({ sku, qty: 1 })))],
    );
  const lastSeq = async () =>
    (await readOrderPurchases(db, 'shop', { id: 'p', customerId: null }, 10)).lastSeq;

  assert.equal(await lastSeq(), 0, 'no orders yet');
  await models.syncOrders(await lastSeq());
  assert.equal(polls, 0, 'an empty table needs no poll');
  await insert(1, ['A', 'B']);
  await models.syncOrders(await lastSeq());
  assert.equal(polls, 1);
  assert.equal(model.coPurchases('A', 'B'), 1, 'an order committed before the call is read');
  await models.syncOrders(await lastSeq());
  assert.equal(polls, 1, 'nothing new: no poll');

  // Seq 3 commits while seq 2 is still in flight: the tail waits for 2, so it keeps polling
  // although the last seq is one it has, and takes 2 when it lands.
  await insert(3, ['C', 'D']);
  await models.syncOrders(await lastSeq());
  assert.equal(polls, 2);
  await insert(2, ['E', 'F']);
  assert.equal(await lastSeq(), 3);
  await models.syncOrders(await lastSeq());
  assert.equal(polls, 3, 'a gap awaited means a poll even when the last seq is known');
  assert.equal(model.coPurchases('E', 'F'), 1, 'the late order is read');
  await models.syncOrders(await lastSeq());
  assert.equal(polls, 3, 'gap filled, nothing new: no poll');
  // Without a last seq (warm-up, the extension's sync()) it always polls.
  await models.sync();
  assert.equal(polls, 4);
});
