// The LISTEN connection of the PostgreSQL driver going away and coming back: notifications sent
// in between are lost, so every stream of the instance re-reads once it listens again.
// Registered only with DATABASE_URL, like the other two-instance test (server.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { StockAnswer } from '@omnikit/protocol';
import { listenerApplicationName, openPostgres } from '../src/db/postgres.js';
import {
  adminQuery,
  Api,
  capturingLogger,
  customerToken,
  databaseUrl,
  dropSchema,
  freshSchema,
  m,
  pokeData,
  SseReader,
  startTestServer,
  testDatabase,
} from './helpers.js';
import {
  admin as adminHeaders,
  importFixture,
  startCommerceServer,
  store,
} from './commerce/helpers.js';

/**
 * Backends of listener connections whose last statement LISTENed on `channel`: channels are
 * per test schema, so parallel tests never see one another's.
 */
async function listenerPids(channel: string): Promise<number[]> {
  const rows = await adminQuery<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity
     WHERE application_name = $1 AND query = $2 AND pid <> pg_backend_pid() ORDER BY pid`,
    [listenerApplicationName, `LISTEN "${channel}"`],
  );
  return rows.map((r) => r.pid);
}

/** Terminates backend `pid` and waits (up to 5 s) until it is gone. */
async function kill(pid: number): Promise<void> {
  const [row] = await adminQuery<{ ok: boolean }>('SELECT pg_terminate_backend($1, 5000) AS ok', [
    pid,
  ]);
  assert.equal(row?.ok, true, `backend ${pid} did not terminate`);
}

/** The test database, with B's listener reopening 3 s after it is lost. */
const slowReconnect = async (schema: string) => ({
  ...(await testDatabase(schema)),
  listenerReconnectMs: 3000,
});

function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

if (databaseUrl) {
  const url: string = databaseUrl;

  test('the postgres listener reconnects, LISTENs again and calls onReconnect', async (t) => {
    const schema = freshSchema()!;
    const logger = capturingLogger();
    const db = await openPostgres({
      url,
      schema,
      logger,
      poolSize: 2,
      listenerReconnectMs: 10,
    });
    t.after(async () => {
      await db.close();
      await dropSchema(schema);
    });
    const channel = `c_${schema}`;
    const payloads: string[] = [];
    let payloadArrived = (): void => {};
    let reconnects = 0;
    let reconnected = (): void => {};
    const stop = await db.listen(
      channel,
      (payload) => {
        payloads.push(payload);
        payloadArrived();
      },
      () => {
        reconnects++;
        reconnected();
      },
    );
    const [before, ...others] = await listenerPids(channel);
    assert.ok(before !== undefined && others.length === 0);

    const back = new Promise<void>((resolve) => (reconnected = resolve));
    await kill(before);
    await within(back, 5000, 'onReconnect');
    assert.equal(reconnects, 1);
    const after = await listenerPids(channel);
    assert.equal(after.length, 1);
    assert.notEqual(after[0], before);

    const arrived = new Promise<void>((resolve) => (payloadArrived = resolve));
    await db.notify(channel, 'after the reconnect');
    await within(arrived, 5000, 'notification');
    assert.deepEqual(payloads, ['after the reconnect']);
    assert.deepEqual(
      logger.lines.map((l) => l.msg),
      ['db listener lost', 'db listener reconnected'],
    );

    // Unsubscribed: a later reconnect calls only the subscriptions still there.
    await stop();
    let again = (): void => {};
    const backAgain = new Promise<void>((resolve) => (again = resolve));
    await db.listen(channel, () => {}, again);
    const [current] = await listenerPids(channel);
    await kill(current!);
    await within(backAgain, 5000, 'second onReconnect');
    assert.equal(reconnects, 1);
  });

  test('a change made through A while B is not listening reaches B after it reconnects', async (t) => {
    const schema = freshSchema()!;
    const channel = `omnikit_poke_${schema}`.slice(0, 63);
    const loggerA = capturingLogger();
    const loggerB = capturingLogger();
    // B first, alone on the fresh schema's channel: its listener is the only one there.
    // A wide reconnect gap, so the push below surely lands in it even on a loaded machine.
    const b = await startTestServer({
      schema,
      logger: loggerB,
      database: await slowReconnect(schema),
    });
    const [listenerB, ...othersB] = await listenerPids(channel);
    assert.ok(listenerB !== undefined && othersB.length === 0);
    const a = await startTestServer({ schema, logger: loggerA });
    t.after(async () => {
      await a.close();
      await b.close();
      await dropSchema(schema);
    });
    const listenerA = (await listenerPids(channel)).filter((pid) => pid !== listenerB);
    assert.equal(listenerA.length, 1);

    const apiA = new Api(a.url);
    const apiB = new Api(b.url);
    const laptop = await apiA.register();
    const phone = await apiB.register();
    for (const [api, device] of [
      [apiA, laptop],
      [apiB, phone],
    ] as const) {
      const res = await api.call('POST', '/v1/identify', {
        body: { token: await customerToken('listener-reconnect') },
        headers: device.auth,
      });
      assert.equal(res.status, 200);
    }
    const stream = await SseReader.open(
      `${b.url}/v1/sync/stream?ticket=${await apiB.ticket(phone)}`,
    );
    t.after(() => stream.close());
    const first = pokeData(await stream.next());

    await kill(listenerB);
    const missed = await apiA.pushOk(laptop, [m.add(1, 'in-the-gap')]);
    assert.ok(missed.version > first.version);
    // The change committed while only A listened: B's NOTIFY is lost for good.
    assert.deepEqual(
      await listenerPids(channel),
      listenerA,
      'B reconnected before the change committed: the gap was not exercised',
    );

    const caughtUp = pokeData(
      await stream.next((e) => pokeData(e).version === missed.version, 10_000),
    );
    assert.deepEqual(
      caughtUp.snapshot?.state.cart.lines.map((l) => l.sku),
      ['in-the-gap'],
    );
    const reconnectedB = (await listenerPids(channel)).filter((pid) => !listenerA.includes(pid));
    assert.equal(reconnectedB.length, 1);
    assert.notEqual(reconnectedB[0], listenerB);

    // B LISTENs again: a later change arrives through NOTIFY as usual.
    const later = await apiA.pushOk(laptop, [m.add(2, 'later')]);
    const poke = pokeData(await stream.next((e) => pokeData(e).version === later.version));
    assert.deepEqual(poke.snapshot?.state.cart.lines.map((l) => l.sku).sort(), [
      'in-the-gap',
      'later',
    ]);
    assert.deepEqual(
      loggerB.lines.filter((l) => l.msg.startsWith('db listener')).map((l) => l.msg),
      ['db listener lost', 'db listener reconnected'],
    );
    assert.ok(!loggerA.lines.some((l) => l.msg.startsWith('db listener')));
  });

  test('a stock change made through A while B is not listening reaches the stock streams on B', async (t) => {
    const schema = freshSchema()!;
    const channel = `omnikit_commerce_${schema}`.slice(0, 63);
    // B first and alone: its listener's last LISTEN is the commerce channel of the fresh schema.
    const b = await startCommerceServer({
      server: { schema, logger: capturingLogger(), database: await slowReconnect(schema) },
    });
    const [listenerB, ...othersB] = await listenerPids(channel);
    assert.ok(listenerB !== undefined && othersB.length === 0);
    const a = await startCommerceServer({ server: { schema, logger: capturingLogger() } });
    const listenerA = (await listenerPids(channel)).filter((pid) => pid !== listenerB);
    assert.equal(listenerA.length, 1);
    t.after(async () => {
      await a.close();
      await b.close();
      await dropSchema(schema);
    });
    await importFixture(a.api);
    const stores = await a.api.call('PUT', '/v1/admin/stores', {
      body: { stores: [store('leeds', 'Leeds', 53.7997, -1.5492)] },
      headers: adminHeaders,
    });
    assert.equal(stores.status, 200);
    const stream = await SseReader.open(`${b.url}/v1/stock/stream?key=pk_shop&skus=A`);
    t.after(() => stream.close());
    const leeds = (data: string) =>
      (JSON.parse(data) as StockAnswer).stores.find((x) => x.store.id === 'leeds');
    await stream.next();

    await kill(listenerB);
    const updatedAt = Date.now();
    const put = await a.api.call('PUT', '/v1/admin/stock', {
      body: { updates: [{ location: 'leeds', sku: 'A', qty: 40, updatedAt }] },
      headers: adminHeaders,
    });
    assert.equal(put.status, 200);
    assert.deepEqual(
      await listenerPids(channel),
      listenerA,
      'B reconnected before the change committed: the gap was not exercised',
    );
    const live = await stream.next((e) => leeds(e.data)?.updatedAt === updatedAt, 10_000);
    assert.equal(live.event, 'stock');
  });
}
