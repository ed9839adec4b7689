import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { lineKey, type ErrorBody, type Mutation, type PushResponse } from '@omnikit/protocol';
import {
  Api,
  customerToken,
  errorCode,
  m,
  pokeData,
  SseReader,
  startTestServer,
  type SseEvent,
  type TestServer,
} from './helpers.js';

let server: TestServer;
let api: Api;
before(async () => {
  server = await startTestServer({ heartbeatMs: 200 });
  api = new Api(server.url);
});
after(() => server.close());

test('serves /v1/health and answers unknown routes with a typed 404', async () => {
  const health = await api.call('GET', '/v1/health');
  assert.equal(health.status, 200);
  assert.deepEqual(health.body, { ok: true, version: '0.1.0' });
  const missing = await api.call('GET', '/v1/nope');
  assert.equal(missing.status, 404);
  assert.equal(errorCode(missing), 'not_found');
});

describe('devices', () => {
  test('registers a device with an anonymous profile and a strong token', async () => {
    const device = await api.register();
    assert.match(device.token, /^[A-Za-z0-9_-]{43}$/);
    assert.ok(device.deviceId && device.profileId);
    const snap = await api.pull(device);
    assert.deepEqual(snap, {
      profileId: device.profileId,
      customerId: null,
      version: 0,
      lastSeq: 0,
      state: { cart: { lines: [], pickupStore: null }, viewed: [], prefs: {} },
    });
  });

  test('refuses unknown publishable keys and bad channels', async () => {
    const res = await api.call('POST', '/v1/devices', {
      body: {},
      headers: { 'x-omni-key': 'pk_nope' },
    });
    assert.equal(res.status, 401);
    assert.equal(errorCode(res), 'unauthorized');
    const none = await api.call('POST', '/v1/devices', { body: {} });
    assert.equal(none.status, 401);
    const bad = await api.call('POST', '/v1/devices', {
      body: { channel: 'fax' },
      headers: { 'x-omni-key': 'pk_shop' },
    });
    assert.equal(bad.status, 400);
    assert.equal(errorCode(bad), 'invalid_argument');
  });

  test('an unknown device token is a 401 that says so; other 401s do not', async () => {
    const unknown = await api.call('POST', '/v1/sync/push', {
      body: { deviceId: 'nobody', mutations: [] },
      headers: { authorization: `Bearer ${'x'.repeat(43)}` },
    });
    assert.equal(unknown.status, 401);
    assert.deepEqual((unknown.body as ErrorBody).error.details, { reason: 'unknown_device' });
    const missing = await api.call('GET', '/v1/sync/pull');
    assert.equal(missing.status, 401);
    assert.equal((missing.body as ErrorBody).error.details, undefined);
  });

  test('registers with an empty body', async () => {
    const res = await api.call('POST', '/v1/devices', { headers: { 'x-omni-key': 'pk_shop' } });
    assert.equal(res.status, 201);
  });

  test('starts the new profile with a carried-over state, validated like any state', async () => {
    const line = { key: 'A?size=M', sku: 'A', qty: 2, options: { size: 'M' } };
    const state = {
      cart: { lines: [{ ...line, addedAt: 1, updatedAt: 1 }], pickupStore: 'store-1' },
      viewed: [{ sku: 'B', at: 3 }],
      prefs: { locale: 'ko' },
    };
    const device = await api.register('pk_shop', { channel: 'web', state });
    const snap = await api.pull(device);
    assert.deepEqual(snap.state, state);
    assert.equal(snap.customerId, null);
    assert.equal(snap.lastSeq, 0);
    // Mutations apply on top of it as usual.
    const more: Mutation = {
      seq: 1,
      name: 'cart.add',
      args: { sku: 'A', qty: 1, options: { size: 'M' } },
      at: 4,
    };
    const pushed = await api.pushOk(device, [more]);
    assert.ok(pushed.version > snap.version);
    assert.equal((await api.pull(device)).state.cart.lines[0]?.qty, 3);

    // Rebuilt through the reducers: one line per key, views deduplicated newest first, and no
    // time in the server's future.
    const future = Date.now() + 86_400_000;
    const odd = await api.register('pk_shop', {
      state: {
        cart: {
          lines: [
            { ...line, qty: 2, addedAt: 5, updatedAt: 5 },
            { ...line, qty: 3, addedAt: 6, updatedAt: 6 },
          ],
          pickupStore: null,
        },
        viewed: [
          { sku: 'B', at: future },
          { sku: 'C', at: 8 },
          { sku: 'B', at: 7 },
        ],
        prefs: {},
      },
    });
    const rebuilt = (await api.pull(odd)).state;
    assert.deepEqual(
      rebuilt.cart.lines.map((l) => [l.key, l.qty, l.addedAt]),
      [['A?size=M', 5, 5]],
    );
    assert.deepEqual(
      rebuilt.viewed.map((v) => v.sku),
      ['B', 'C'],
    );
    assert.ok(rebuilt.viewed.every((v) => v.at <= Date.now()));

    // The largest valid state (every limit at its maximum) fits a registration.
    const pad = (x: string, n: number) => x.padEnd(n, 'x');
    const options = Object.fromEntries(
      Array.from({ length: 8 }, (_, k) => [pad(`k${k}`, 32), 'v'.repeat(64)]),
    );
    const largest = {
      cart: {
        lines: Array.from({ length: 100 }, (_, i) => {
          const sku = pad(`S${i}`, 64);
          return { key: lineKey(sku, options), sku, qty: 999, options, addedAt: 1, updatedAt: 1 };
        }),
        pickupStore: pad('store', 64),
      },
      viewed: Array.from({ length: 50 }, (_, i) => ({ sku: pad(`V${i}`, 64), at: i })),
      prefs: Object.fromEntries(
        Array.from({ length: 32 }, (_, i) => [pad(`p${i}`, 32), 'w'.repeat(256)]),
      ),
    };
    assert.ok(JSON.stringify(largest).length > 150_000);
    const big = await api.register('pk_shop', { state: largest });
    assert.deepEqual((await api.pull(big)).state, largest);

    for (const bad of [
      { ...state, cart: { ...state.cart, lines: [{ ...line, qty: 0, addedAt: 1, updatedAt: 1 }] } },
      {
        ...state,
        cart: { ...state.cart, lines: [{ ...line, key: 'B', addedAt: 1, updatedAt: 1 }] },
      },
      { ...state, viewed: Array.from({ length: 51 }, (_, i) => ({ sku: `S${i}`, at: i })) },
      { ...state, prefs: { 'bad key': 'x' } },
      'not a state',
    ]) {
      const res = await api.call('POST', '/v1/devices', {
        body: { state: bad },
        headers: { 'x-omni-key': 'pk_shop' },
      });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(errorCode(res), 'invalid_argument');
      assert.match(JSON.stringify(res.body), /body\.state/);
    }
  });
});

describe('push and pull', () => {
  test('applies a batch, bumps the version once, and is idempotent on retry', async () => {
    const d = await api.register();
    const batch = [m.add(1, 'sku-1', 2), m.view(2, 'sku-1'), m.pref(3, 'size', 'M')];
    const first = await api.pushOk(d, batch);
    assert.deepEqual(first, {
      version: 1,
      lastSeq: 3,
      results: [
        { seq: 1, status: 'applied' },
        { seq: 2, status: 'applied' },
        { seq: 3, status: 'applied' },
      ],
    });
    const again = await api.pushOk(d, batch);
    assert.equal(again.version, 1);
    assert.deepEqual(
      again.results.map((r) => r.status),
      ['skipped', 'skipped', 'skipped'],
    );
    const snap = await api.pull(d);
    assert.equal(snap.version, 1);
    assert.equal(snap.lastSeq, 3);
    assert.deepEqual(
      snap.state.cart.lines.map((l) => [l.sku, l.qty]),
      [['sku-1', 2]],
    );
    assert.deepEqual(
      snap.state.viewed.map((v) => v.sku),
      ['sku-1'],
    );
    assert.deepEqual(snap.state.prefs, { size: 'M' });
  });

  test('reports rejected mutations and consumes them', async () => {
    const d = await api.register();
    const res = await api.push(d, [
      m.add(1, 'ok-1'),
      { seq: 2, name: 'cart.explode', args: {}, at: 1 },
      { seq: 3, name: 'cart.add', args: { sku: 'bad sku!', qty: 1 }, at: 1 },
      m.add(4, 'ok-2'),
    ]);
    assert.equal(res.status, 200);
    const results = res.body.results;
    assert.deepEqual(
      results.map((r) => r.status),
      ['applied', 'rejected', 'rejected', 'applied'],
    );
    const rejected = results[1] as Extract<PushResponse['results'][number], { status: 'rejected' }>;
    assert.equal(rejected.error.code, 'invalid_argument');
    assert.equal(res.body.lastSeq, 4);
    const retry = await api.pushOk(d, [{ seq: 2, name: 'cart.explode', args: {}, at: 1 } as never]);
    assert.deepEqual(retry.results, [{ seq: 2, status: 'skipped' }]);
  });

  test('does not bump the version when nothing changed', async () => {
    const d = await api.register();
    await api.pushOk(d, [m.add(1, 'a')]);
    const res = await api.pushOk(d, [{ seq: 2, name: 'cart.remove', args: { sku: 'zzz' }, at: 5 }]);
    assert.equal(res.version, 1);
    assert.equal(res.lastSeq, 2);
  });

  test("remembers an applied change's id even when it changed nothing: no new version, no poke", async (t) => {
    const d = await api.register();
    await api.pushOk(d, [m.add(1, 'a')]);
    const stream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(d)}`,
    );
    t.after(() => stream.close());
    assert.equal(pokeData(await stream.next()).version, 1);
    // A decrement of a line that is not there: applied, nothing changes.
    const minus = { seq: 2, name: 'cart.add', args: { sku: 'b', qty: -1 }, at: 5, id: 'tab1' };
    const noop = await api.pushOk(d, [minus as Mutation]);
    assert.deepEqual([noop.version, noop.lastSeq, noop.results[0]?.status], [1, 2, 'applied']);
    await api.pushOk(d, [m.add(3, 'b')]);
    // The next poke is the add's: the id's write made no version of its own.
    const poke = pokeData(await stream.next((e) => e.event === 'poke'));
    assert.equal(poke.version, 2);
    assert.deepEqual(
      poke.snapshot?.state.cart.lines.map((l) => [l.sku, l.qty]),
      [
        ['a', 1],
        ['b', 1],
      ],
    );
    // The same change again (another tab sent it too, under a later seq): skipped.
    const again = await api.pushOk(d, [{ ...minus, seq: 4 } as Mutation]);
    assert.deepEqual([again.version, again.lastSeq, again.results[0]?.status], [2, 4, 'skipped']);
    assert.equal((await api.pull(d)).state.cart.lines.length, 2);
  });

  test('refuses a push for a device the token does not own', async () => {
    const a = await api.register();
    const b = await api.register();
    const res = await api.call('POST', '/v1/sync/push', {
      body: { deviceId: b.deviceId, mutations: [m.add(1, 'x')] },
      headers: a.auth,
    });
    assert.equal(res.status, 403);
    assert.equal(errorCode(res), 'forbidden');
    assert.equal((await api.pull(b)).version, 0);
  });

  test('each new device starts on its own anonymous profile', async () => {
    const a = await api.register();
    const b = await api.register();
    assert.notEqual(a.profileId, b.profileId);
    await api.pushOk(a, [m.add(1, 'a')]);
    assert.equal((await api.pull(b)).version, 0);
  });
});

describe('concurrency', () => {
  test('concurrent pushes, identifies and logouts on one profile lose nothing', async () => {
    const devices = await Promise.all(Array.from({ length: 6 }, () => api.register()));
    for (const d of devices) {
      await api.call('POST', '/v1/identify', {
        body: { token: await customerToken('busy') },
        headers: d.auth,
      });
    }
    const pushes = devices.slice(0, 4).map(async (d) => {
      for (let i = 0; i < 10; i++)
        await api.pushOk(d, [m.add(2 * i + 1, 'x'), m.add(2 * i + 2, 'y')]);
    });
    // Two more devices keep changing profile meanwhile: the locks must not deadlock or fail.
    const movers = devices.slice(4).map(async (d) => {
      for (let i = 0; i < 5; i++) {
        const out = await api.call('POST', '/v1/logout', { headers: d.auth });
        assert.equal(out.status, 200);
        const back = await api.call('POST', '/v1/identify', {
          body: { token: await customerToken('busy') },
          headers: d.auth,
        });
        assert.equal(back.status, 200);
      }
    });
    await Promise.all([...pushes, ...movers]);
    const snap = await api.pull(devices[0]!);
    assert.deepEqual(
      snap.state.cart.lines.map((l) => [l.sku, l.qty]),
      [
        ['x', 40],
        ['y', 40],
      ],
    );
    assert.equal(snap.version, 40, 'one version per applied push, none for empty merges');
  });
});

describe('stream', () => {
  test('sends the current version at once, then a poke per change with the snapshot', async (t) => {
    const d = await api.register();
    const ticket = await api.ticket(d);
    const stream = await SseReader.open(`${server.url}/v1/sync/stream?ticket=${ticket}`);
    t.after(() => stream.close());
    assert.equal(stream.status, 200);
    assert.match(stream.response.headers.get('content-type') ?? '', /^text\/event-stream/);
    const first = await stream.next();
    assert.equal(first.event, 'poke');
    assert.equal(first.id, '0');
    assert.equal(pokeData(first).version, 0);
    await api.pushOk(d, [m.add(1, 'streamed', 3)]);
    const poke = await stream.next((e) => e.event === 'poke');
    assert.equal(poke.id, '1');
    const data = pokeData(poke);
    assert.equal(data.version, 1);
    assert.equal(data.snapshot?.profileId, d.profileId);
    assert.equal(data.snapshot?.state.cart.lines[0]?.qty, 3);
    // This device's lastSeq as of that version: the client rebases what it still has over it.
    assert.equal(data.snapshot?.lastSeq, 1);
  });

  test('each device’s poke carries its own lastSeq as of the version', async (t) => {
    const token = await customerToken('stream-last-seq');
    const [laptop, phone] = [await api.register(), await api.register()];
    for (const d of [laptop, phone]) {
      const res = await api.call('POST', '/v1/identify', { body: { token }, headers: d.auth });
      assert.equal(res.status, 200);
    }
    await api.pushOk(phone, [m.add(1, 'p', 1), m.add(2, 'p', 1)]);
    const phoneStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(phone)}`,
    );
    t.after(() => phoneStream.close());
    const laptopStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(laptop)}`,
    );
    t.after(() => laptopStream.close());
    await phoneStream.next();
    await laptopStream.next();
    const pushed = await api.pushOk(laptop, [m.add(1, 'l', 1), m.add(2, 'l', 1), m.add(3, 'l', 1)]);
    const atVersion = (e: SseEvent) => e.event === 'poke' && pokeData(e).version === pushed.version;
    const forPhone = pokeData(await phoneStream.next(atVersion));
    const forLaptop = pokeData(await laptopStream.next(atVersion));
    assert.equal(forPhone.snapshot?.lastSeq, 2);
    assert.equal(forLaptop.snapshot?.lastSeq, 3);
    assert.deepEqual(forPhone.snapshot?.state, forLaptop.snapshot?.state);
  });

  test('tickets are single use', async () => {
    const d = await api.register();
    const ticket = await api.ticket(d);
    const first = await SseReader.open(`${server.url}/v1/sync/stream?ticket=${ticket}`);
    first.close();
    const again = await api.call('GET', `/v1/sync/stream?ticket=${ticket}`);
    assert.equal(again.status, 401);
    assert.equal(errorCode(again), 'unauthorized');
    const bogus = await api.call('GET', `/v1/sync/stream?ticket=${'x'.repeat(43)}`);
    assert.equal(bogus.status, 401);
    const none = await api.call('GET', '/v1/sync/stream');
    assert.equal(none.status, 401);
  });

  test('resumes with Last-Event-ID: silent when current, a poke at once when behind', async (t) => {
    const d = await api.register();
    await api.pushOk(d, [m.add(1, 'r')]);
    const current = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(d)}`,
      { 'last-event-id': '1' },
    );
    t.after(() => current.close());
    await current.comment('heartbeat');
    assert.equal(current.events.length, 0, 'no poke when the client is current');
    const behind = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(d)}`,
      { 'last-event-id': '0' },
    );
    t.after(() => behind.close());
    const poke = await behind.next();
    assert.equal(poke.id, '1');
  });

  test('sends heartbeats', async (t) => {
    const d = await api.register();
    const stream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(d)}`,
    );
    t.after(() => stream.close());
    await stream.comment('heartbeat');
  });
});
