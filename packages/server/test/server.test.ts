import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  coreMigrations,
  loadSites,
  migrate,
  openDb,
  silentLogger,
  startServer,
  validateSites,
  type ServerExtension,
} from '@omnikit/server';
import {
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
  testSites,
} from './helpers.js';

describe('server', () => {
  test('logs one structured line per request, without tokens, tickets or codes', async (t) => {
    const logger = capturingLogger();
    const server = await startTestServer({ logger });
    t.after(() => server.close());
    const api = new Api(server.url);
    const d = await api.register();
    await api.pushOk(d, [m.add(1, 'logged')]);
    const ticket = await api.ticket(d);
    const stream = await SseReader.open(`${server.url}/v1/sync/stream?ticket=${ticket}`);
    await stream.next();
    stream.close();
    const code = await api.call<{ code: string }>('POST', '/v1/handoff', { headers: d.auth });
    const requests = logger.lines.filter((l) => l.msg === 'request');
    assert.deepEqual(
      requests.map((l) => [l.method, l.path, l.status, l.site]),
      [
        ['POST', '/v1/devices', 201, 'shop'],
        ['POST', '/v1/sync/push', 200, 'shop'],
        ['POST', '/v1/sync/stream-ticket', 201, 'shop'],
        ['GET', '/v1/sync/stream', 200, 'shop'],
        ['POST', '/v1/handoff', 201, 'shop'],
      ],
    );
    assert.ok(requests.every((l) => typeof l.ms === 'number'));
    const text = JSON.stringify(logger.lines);
    for (const secret of [d.token, ticket, code.body.code]) assert.ok(!text.includes(secret));
  });

  test('runs extension migrations and routes, and hides unexpected errors behind 500', async (t) => {
    const logger = capturingLogger();
    const catalog: ServerExtension = {
      name: 'catalog-test',
      migrations: [
        { id: 'test_0001_things', sql: 'CREATE TABLE things (site_id text, name text)' },
      ],
      routes(app, ctx) {
        app.post('/v1/admin/things', ctx.requireAdmin, async (c) => {
          const body = (await ctx.readJson(c)) as { name: string };
          await ctx.db.query('INSERT INTO things VALUES ($1, $2)', [
            c.var.site.config.id,
            body.name,
          ]);
          return c.json({ ok: true }, 201);
        });
        app.get('/v1/things', ctx.requireSiteKey, async (c) => {
          const { rows } = await ctx.db.query<{ name: string }>(
            'SELECT name FROM things WHERE site_id = $1',
            [c.var.site.config.id],
          );
          return c.json(rows.map((r) => r.name));
        });
        app.get('/v1/things/mine', ctx.requireDevice, async (c) => {
          const profile = await ctx.profiles.ofDevice(ctx.db, c.var.device);
          return c.json({ profileId: profile?.id });
        });
        app.get('/v1/things/events', ctx.requireDevice, async (c) => {
          const { device } = c.var;
          const events = await ctx.events.read(ctx.db, { after: 0, ids: [], limit: 100 });
          return c.json(
            events
              .filter((e) => e.deviceId === device.id)
              .map((e) => ({
                kind: e.kind,
                channel: e.channel,
                sku: e.sku,
                qty: e.qty,
                profile_id: e.profileId,
              })),
          );
        });
        app.get('/v1/things/boom', () => {
          throw new Error('connection string postgres://user:hunter2@db');
        });
      },
    };
    const server = await startTestServer({ logger, extensions: [catalog] });
    t.after(() => server.close());
    const api = new Api(server.url);
    const unauth = await api.call('POST', '/v1/admin/things', { body: { name: 'x' } });
    assert.equal(unauth.status, 401);
    const created = await api.call('POST', '/v1/admin/things', {
      body: { name: 'lamp' },
      headers: { 'x-omni-admin-key': 'admin-key-of-the-shop' },
    });
    assert.equal(created.status, 201);
    const listed = await api.call('GET', '/v1/things', { headers: { 'x-omni-key': 'pk_shop' } });
    assert.deepEqual(listed.body, ['lamp']);
    const other = await api.call('GET', '/v1/things', { headers: { 'x-omni-key': 'pk_other' } });
    assert.deepEqual(other.body, []);
    const d = await api.register();
    const mine = await api.call('GET', '/v1/things/mine', { headers: d.auth });
    assert.deepEqual(mine.body, { profileId: d.profileId });
    // Applied views and positive adds are recorded for recommendations; the rest is not.
    await api.pushOk(d, [
      m.add(1, 'lamp', 2),
      m.view(2, 'lamp'),
      m.add(3, 'lamp', -1),
      m.set(4, 'desk', 1),
      { seq: 5, name: 'viewed.add', args: { sku: 'bad sku' }, at: 1 },
    ]);
    await api.pushOk(d, [m.add(1, 'lamp', 5)]);
    const events = await api.call('GET', '/v1/things/events', { headers: d.auth });
    assert.deepEqual(events.body, [
      { kind: 'add_to_cart', channel: 'web', sku: 'lamp', qty: 2, profile_id: d.profileId },
      { kind: 'view', channel: 'web', sku: 'lamp', qty: null, profile_id: d.profileId },
    ]);
    const boom = await api.call('GET', '/v1/things/boom');
    assert.equal(boom.status, 500);
    assert.deepEqual(boom.body, { error: { code: 'internal', message: 'Internal error' } });
    assert.ok(logger.lines.some((l) => l.msg === 'unhandled error'));
  });

  test('migrations are recorded, idempotent and safe to run concurrently', async () => {
    const schema = freshSchema();
    const db = await openDb(await testDatabase(schema), silentLogger);
    try {
      const extra = [{ id: 'zz_0001', sql: 'CREATE TABLE zz (a int); CREATE TABLE zz2 (b int)' }];
      const first = await migrate(db, [...coreMigrations, ...extra]);
      assert.deepEqual(first, [...coreMigrations.map((m) => m.id), 'zz_0001']);
      const [a, b] = await Promise.all([
        migrate(db, [...coreMigrations, ...extra]),
        migrate(db, [...coreMigrations, ...extra]),
      ]);
      assert.deepEqual([a, b], [[], []]);
      const { rows } = await db.query<{ id: string }>(
        'SELECT id FROM schema_migrations ORDER BY id',
      );
      assert.deepEqual(
        rows.map((r) => r.id),
        [...coreMigrations.map((m) => m.id), 'zz_0001'],
      );
      await assert.rejects(migrate(db, [...extra, ...extra]), /Duplicate migration id/);
    } finally {
      await db.close();
      await dropSchema(schema);
    }
  });

  test('both drivers deliver notifications, and only after commit when sent in a transaction', async () => {
    const schema = freshSchema();
    const db = await openDb(await testDatabase(schema), silentLogger);
    try {
      const got: string[] = [];
      let wake: () => void = () => {};
      const stop = await db.listen('omnikit_test_channel', (payload) => {
        got.push(payload);
        wake();
      });
      const next = () => new Promise<void>((resolve) => (wake = resolve));
      let arrived = next();
      await db.notify('omnikit_test_channel', 'direct');
      await arrived;
      arrived = next();
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.query("SELECT pg_notify('omnikit_test_channel', 'rolled back')");
          throw new Error('abort');
        }),
      );
      await db.transaction(async (tx) => {
        await tx.query("SELECT pg_notify('omnikit_test_channel', 'committed')");
      });
      await arrived;
      assert.deepEqual(got, ['direct', 'committed']);
      await stop();
    } finally {
      await db.close();
      await dropSchema(schema);
    }
  });

  test('close() lets an in-flight request finish and ends open streams', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    let entered: () => void = () => {};
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const slow: ServerExtension = {
      name: 'slow',
      routes(app) {
        app.get('/v1/slow', async (c) => {
          entered();
          await gate;
          return c.json({ finished: true });
        });
      },
    };
    const server = await startTestServer({ extensions: [slow] });
    const api = new Api(server.url);
    const d = await api.register();
    const stream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(d)}`,
    );
    await stream.next();
    const pending = api.call('GET', '/v1/slow');
    await inside;
    const closing = server.close();
    await stream.closed();
    release();
    const res = await pending;
    assert.deepEqual(res.body, { finished: true });
    await closing;
    await assert.rejects(fetch(`${server.url}/v1/health`));
  });

  test('validates the sites configuration with errors that name the field', async () => {
    const [shop] = testSites();
    const bad: [unknown, RegExp][] = [
      [{}, /expected an array/],
      [[{ ...shop, id: 'has space' }], /sites\[0\]\.id/],
      [[{ ...shop, publishableKey: '' }], /publishableKey/],
      [[{ ...shop, allowedOrigins: ['https://x.example/path'] }], /allowedOrigins\[0\]/],
      [[{ ...shop, customerToken: { alg: 'HS256', secret: 'short' } }], /secret/],
      [[{ ...shop, customerToken: { alg: 'none' } }], /customerToken\.alg/],
      [[{ ...shop, audience: undefined }], /audience/],
      [[{ ...shop, mergePolicy: 'union' }], /mergePolicy/],
      [[shop, { ...shop, publishableKey: 'pk_2' }], /duplicate id/],
      [[shop, { ...shop, id: 'two' }], /publishableKey: used by another site/],
    ];
    for (const [value, message] of bad) assert.throws(() => validateSites(value), message);
    assert.equal(validateSites({ sites: [shop] }).length, 1);
    const dir = await mkdtemp(join(tmpdir(), 'omnikit-sites-'));
    try {
      const file = join(dir, 'sites.json');
      await writeFile(file, '{ nope');
      await assert.rejects(loadSites(file), /not valid JSON/);
      await assert.rejects(loadSites(join(dir, 'missing.json')), /cannot read/);
      await writeFile(file, JSON.stringify([shop]));
      assert.deepEqual((await loadSites(file))[0]?.id, 'shop');
      await assert.rejects(
        startServer({
          sites: [
            {
              ...shop!,
              customerToken: { alg: 'RS256', publicKey: '-----BEGIN PUBLIC KEY-----\nnope' },
            },
          ],
          logger: silentLogger,
        }),
        /not a usable RS256 key/,
      );
      await assert.rejects(
        startServer({
          sites: [shop!],
          logger: silentLogger,
          rateLimits: { ip: { capacity: 10, refillPerSecond: 0 } },
        }),
        /rateLimits\.ip/,
      );
    } finally {
      await rm(dir, { recursive: true });
    }
  });
});

// Two real instances on one PostgreSQL: registered only with DATABASE_URL, since an embedded
// PGlite database belongs to a single process.
if (databaseUrl) {
  test('a change made through instance A reaches a stream on instance B', async (t) => {
    const schema = freshSchema();
    // Started together: the migrations' advisory lock must keep them from racing.
    const [a, b] = await Promise.all([startTestServer({ schema }), startTestServer({ schema })]);
    t.after(async () => {
      await a.close();
      await b.close();
      await dropSchema(schema);
    });
    const apiA = new Api(a.url);
    const apiB = new Api(b.url);
    const laptop = await apiA.register();
    const phone = await apiB.register();
    await apiA.call('POST', '/v1/identify', {
      body: { token: await customerToken('two-instances') },
      headers: laptop.auth,
    });
    await apiB.call('POST', '/v1/identify', {
      body: { token: await customerToken('two-instances') },
      headers: phone.auth,
    });
    // Tickets are rows in the shared database: one issued by A opens a stream on B.
    const stream = await SseReader.open(
      `${b.url}/v1/sync/stream?ticket=${await apiA.ticket(phone)}`,
    );
    t.after(() => stream.close());
    const first = pokeData(await stream.next());
    // A change that changes nothing is applied (its id remembered) without a version, nor a
    // NOTIFY: B hears only the next two changes' (NOTIFYs arrive in commit order).
    const heard: number[] = [];
    let heardAll!: () => void;
    const all = new Promise<void>((r) => (heardAll = r));
    const stopListening = await b.db.listen(`omnikit_poke_${schema}`.slice(0, 63), (p) => {
      heard.push((JSON.parse(p) as { v: number }).v);
      if (heard.at(-1) === first.version + 2) heardAll();
    });
    t.after(stopListening);
    const noop = { ...m.add(1, 'absent', -1), id: 'noop' };
    assert.equal((await apiA.pushOk(laptop, [noop])).version, first.version);
    const pushed = await apiA.pushOk(laptop, [m.add(2, 'across')]);
    const poke = pokeData(await stream.next((e) => pokeData(e).version === pushed.version));
    assert.ok(poke.version > first.version);
    assert.deepEqual(
      poke.snapshot?.state.cart.lines.map((l) => l.sku),
      ['across'],
    );
    await apiA.pushOk(laptop, [m.add(3, 'more')]);
    await all;
    assert.deepEqual(heard, [first.version + 1, first.version + 2]);
    await stream.next((e) => pokeData(e).version === first.version + 2);
    // And the other way round, with a device moved by a logout on A.
    const moved = await apiA.call<{ profileId: string }>('POST', '/v1/logout', {
      headers: phone.auth,
    });
    const after = pokeData(await stream.next());
    assert.equal(after.snapshot?.profileId, moved.body.profileId);
  });
}
