// Retention: what logouts, registration floods and idle devices leave behind is collected, and
// nothing a device in use or a customer needs ever is. Runs on PGlite, and on PostgreSQL with
// DATABASE_URL (where two instances also collect at once).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Snapshot } from '@omnikit/protocol';
import { commerceExtension, DEFAULT_RETENTION } from '@omnikit/server';
import { readEvents } from '../src/sync/store/events.js';
import { SiteModels } from '../src/commerce/models.js';
import { coviewCounts, RecModel } from '../src/commerce/recs/index.js';
import {
  Api,
  customerToken,
  databaseUrl,
  dropSchema,
  errorCode,
  freshSchema,
  m,
  startTestServer,
  type Device,
  type TestServer,
} from './helpers.js';
import { commerceSites, importFixture } from './commerce/helpers.js';
import { silentLogger } from '../src/logger.js';

const DAY = 86_400_000;
const lenient = {
  device: { capacity: 1e6, refillPerSecond: 1e6 },
  ip: { capacity: 1e6, refillPerSecond: 1e6 },
};

async function count(server: TestServer, table: string): Promise<number> {
  const { rows } = await server.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM ${table} WHERE site_id = 'shop'`,
  );
  return rows[0]?.n ?? -1;
}

/** Anonymous profiles of the site no device points to (`left`: not merged into a customer's). */
async function orphans(server: TestServer, only?: 'left'): Promise<number> {
  const { rows } = await server.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM profiles p WHERE site_id = 'shop' AND customer_id IS NULL
     AND NOT EXISTS (SELECT 1 FROM devices d WHERE d.profile_id = p.id)
     ${only === 'left' ? 'AND merged_into IS NULL' : ''}`,
  );
  return rows[0]?.n ?? -1;
}

async function identify(api: Api, device: Device, customer: string): Promise<Snapshot> {
  const res = await api.call<Snapshot>('POST', '/v1/identify', {
    body: { token: await customerToken(customer) },
    headers: device.auth,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

test('a logout leaves no anonymous profile behind', async (t) => {
  const server = await startTestServer({ rateLimits: lenient, gc: false });
  t.after(() => server.close());
  const api = new Api(server.url);
  const device = await api.register();
  await api.pushOk(device, [m.add(1, 'kept-until-logout')]);
  const before = await count(server, 'profiles');
  for (let i = 0; i < 100; i++) {
    const res = await api.call('POST', '/v1/logout', { headers: device.auth });
    assert.equal(res.status, 200);
  }
  // Each logout replaced the device's anonymous profile: the old one went at once.
  assert.equal(await count(server, 'profiles'), before);
  assert.equal(await orphans(server), 0);
  // A customer's profile is left, never deleted, by a logout.
  await identify(api, device, 'logout-keeps-me');
  await api.call('POST', '/v1/logout', { headers: device.auth });
  const { rows } = await server.db.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM profiles WHERE customer_id = 'logout-keeps-me'`,
  );
  assert.equal(rows[0]?.n, 1);
});

test('1,000 logouts and a registration flood, then gc: the rows are what live devices need', async (t) => {
  let clock = Date.now();
  const server = await startTestServer({ rateLimits: lenient, gc: false, now: () => clock });
  t.after(() => server.close());
  const api = new Api(server.url);

  // The shoppers in use: a customer on two devices, a guest with a cart, a customer whose only
  // device will go quiet, and the device that logs out a thousand times.
  const laptop = await api.register();
  const phone = await api.register();
  await identify(api, laptop, 'alice');
  await identify(api, phone, 'alice');
  await api.pushOk(laptop, [m.add(1, 'alice-bag', 2)]);
  const guest = await api.register();
  await api.pushOk(guest, [m.add(1, 'guest-shoes')]);
  const quiet = await api.register();
  await identify(api, quiet, 'dave');
  await api.pushOk(quiet, [m.add(1, 'dave-hat')]);
  const flooder = await api.register();
  for (let i = 0; i < 1000; i++) {
    assert.equal((await api.call('POST', '/v1/logout', { headers: flooder.auth })).status, 200);
  }
  // A handoff code: expired within minutes, collected a day later.
  const code = await api.call<{ code: string }>('POST', '/v1/handoff', { headers: guest.auth });
  assert.equal(code.status, 201);
  // Guests merged into alice's and dave's profiles wait for gc; each logout's went at once.
  assert.equal(await orphans(server, 'left'), 0, 'each logout deleted the profile it left');
  assert.equal(await orphans(server), 3);
  const flood = 300;
  for (let i = 0; i < flood; i++) await api.register();
  assert.equal(await count(server, 'devices'), 5 + flood);

  const live = [laptop, phone, guest, quiet, flooder];
  const before = new Map<Device, Snapshot>();
  for (const d of live) before.set(d, await api.pull(d));

  // Eight days on: the flood's devices never came back; every live one did.
  clock += (DEFAULT_RETENTION.emptyDeviceDays + 1) * DAY;
  for (const d of live) await api.pull(d);
  const first = await server.gc({ batchSize: 64 });
  assert.equal(first.ran, true);
  assert.equal(first.sites.shop?.devices, flood);
  assert.equal(first.sites.shop?.expired, 1, 'the expired handoff code');
  assert.equal(await count(server, 'devices'), live.length);
  assert.equal(await orphans(server), 0);
  // alice, dave, the guest and the flooder: one profile each.
  assert.equal(await count(server, 'profiles'), 4);
  for (const d of live) {
    const snap = await api.pull(d);
    assert.deepEqual(snap.state, before.get(d)!.state, 'a live device keeps its state');
    assert.equal(snap.profileId, before.get(d)!.profileId);
  }

  // Half a year on, only alice's devices are still in use.
  clock += (DEFAULT_RETENTION.idleDeviceDays + 1) * DAY;
  await api.pull(laptop);
  await api.pull(phone);
  const second = await server.gc();
  assert.equal(second.sites.shop?.devices, 3);
  assert.equal(await count(server, 'devices'), 2);
  // alice's and dave's profiles: a customer's profile is never collected.
  assert.equal(await count(server, 'profiles'), 2);
  assert.equal(await count(server, 'handoff_codes'), 0);
  assert.deepEqual((await api.pull(laptop)).state, before.get(laptop)!.state);
  // A collected device is an unknown device (the SDK re-registers), never a 5xx.
  for (const [method, path] of [
    ['GET', '/v1/sync/pull'],
    ['POST', '/v1/sync/stream-ticket'],
    ['POST', '/v1/logout'],
  ] as const) {
    const res = await api.call(method, path, { headers: guest.auth });
    assert.equal(res.status, 401, `${method} ${path}`);
    assert.equal(errorCode(res), 'unauthorized');
  }
  // dave signs in on a new device and finds his cart.
  const again = await api.register();
  const dave = await identify(api, again, 'dave');
  assert.deepEqual(
    dave.state.cart.lines.map((l) => l.sku),
    ['dave-hat'],
  );
  // The guest profile that sign-in merged into dave's is all there is left to collect.
  assert.equal((await server.gc()).rows, 1);
  assert.equal((await server.gc()).rows, 0);
});

test('a handoff that joins another profile leaves no orphan behind', async (t) => {
  const server = await startTestServer({ rateLimits: lenient, gc: false });
  t.after(() => server.close());
  const api = new Api(server.url);
  const source = await api.register();
  await api.pushOk(source, [m.add(1, 'handed')]);
  const code = await api.call<{ code: string }>('POST', '/v1/handoff', { headers: source.auth });
  const target = await api.register();
  const claimed = await api.call<Snapshot>('POST', '/v1/handoff/claim', {
    body: { code: code.body.code },
    headers: target.auth,
  });
  assert.equal(claimed.status, 200);
  assert.equal(await orphans(server), 0);
  assert.equal(await count(server, 'profiles'), 1);
});

test('old events are deleted, and the co-view counts the recommendations need are kept', async (t) => {
  let clock = Date.now();
  const ext = commerceExtension({ heartbeatMs: 200 });
  const server = await startTestServer({
    sites: commerceSites(),
    extensions: [ext],
    rateLimits: lenient,
    gc: false,
    now: () => clock,
  });
  t.after(async () => {
    await ext.close();
    await server.close();
  });
  await ext.ready();
  const api = new Api(server.url);
  await importFixture(api);
  // Twelve shoppers browse A..H in overlapping sessions, at the server's "now".
  const views = (seq: number, skus: string[]) =>
    skus.map((sku, i) => ({
      seq: seq + i,
      name: 'viewed.add' as const,
      args: { sku },
      at: clock - 60_000 + i,
    }));
  for (let i = 0; i < 12; i++) {
    const d = await api.register();
    const skus = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H'].filter((_, k) => (k + i) % 3 !== 0);
    await api.pushOk(d, [...views(1, skus), m.add(skus.length + 1, skus[0]!)]);
  }
  await ext.sync();
  const live = ext.model('shop')!;
  const ask = (model: RecModel, sku: string) =>
    model.recommend({ strategy: 'also-viewed', sku, limit: 5 }).items.map((x) => x.sku);
  const expected = Object.fromEntries(['A', 'C', 'E'].map((s) => [s, ask(live, s)]));
  assert.ok(expected.A!.length > 0);

  clock += (DEFAULT_RETENTION.eventDays + 1) * DAY;
  const report = await server.gc({ batchSize: 20 });
  assert.ok((report.sites.shop?.events ?? 0) > 12 * 5);
  assert.equal(await count(server, 'events'), 0);
  assert.ok((await count(server, 'recs_coviews')) > 0);
  // A model built from the tables now (what a restart does) recommends as before.
  const rebuilt = new SiteModels(
    server.db,
    { read: readEvents },
    ['shop'],
    () => clock,
    silentLogger,
  );
  await rebuilt.warm();
  for (const sku of Object.keys(expected)) {
    assert.deepEqual(ask(rebuilt.model('shop')!, sku), expected[sku], `also-viewed ${sku}`);
  }
});

test('folded co-view counts equal what the model counts from the events themselves', () => {
  const opts = { sessionGapMs: 30 * 60_000, maxSessionItems: 4 };
  const views: { profileId: string | null; sku: string; at: number }[] = [];
  let seed = 7;
  const rand = (n: number) => ((seed = (seed * 48271) % 2147483647), seed % n);
  for (let p = 0; p < 40; p++) {
    let at = 1_000_000;
    for (let k = 0; k < 30; k++) {
      at += rand(3) === 0 ? 40 * 60_000 : 60_000;
      views.push({ profileId: p === 0 ? null : `p${p}`, sku: `s${rand(12)}`, at });
    }
  }
  const direct = new RecModel(opts);
  for (const v of views)
    direct.addEvent({ ...v, profileId: v.profileId ?? 'unknown', type: 'view' });
  // Retention hands views over by profile, each profile's in time order.
  const byProfile = [...views].sort(
    (a, b) => (a.profileId ?? '').localeCompare(b.profileId ?? '') || a.at - b.at,
  );
  const folded = new RecModel(opts);
  folded.addViewCounts(coviewCounts(byProfile, opts));
  const pairs = (model: RecModel) => {
    const state = model.toJSON();
    const out = new Map<string, number>();
    state.viewed.counts.forEach((n, i) => n && out.set(state.skus[i]!, n));
    for (let x = 0; x < state.viewed.pairs.length; x += 3) {
      const [a, b] = [state.skus[state.viewed.pairs[x]!]!, state.skus[state.viewed.pairs[x + 1]!]!];
      out.set(a < b ? `${a}|${b}` : `${b}|${a}`, state.viewed.pairs[x + 2]!);
    }
    return out;
  };
  assert.deepEqual(pairs(folded), pairs(direct));
});

if (databaseUrl) {
  test('two instances collecting at once delete each row once and fail nothing', async (t) => {
    const schema = freshSchema();
    let clock = Date.now();
    const opts = { schema, rateLimits: lenient, gc: false as const, now: () => clock };
    const a = await startTestServer(opts);
    const b = await startTestServer(opts);
    t.after(async () => {
      await a.close();
      await b.close();
      await dropSchema(schema);
    });
    const api = new Api(a.url);
    const keep = await api.register();
    await api.pushOk(keep, [m.add(1, 'kept')]);
    for (let i = 0; i < 400; i++) await api.register();
    clock += (DEFAULT_RETENTION.emptyDeviceDays + 1) * DAY;
    await api.pull(keep);
    const [ra, rb] = await Promise.all([a.gc({ batchSize: 25 }), b.gc({ batchSize: 25 })]);
    // Whoever found the lock taken left the rest to the other; a last pass finishes.
    const rc = await a.gc();
    const devices = [ra, rb, rc].reduce((n, r) => n + (r.sites.shop?.devices ?? 0), 0);
    assert.equal(devices, 400);
    assert.equal(await count(a, 'devices'), 1);
    assert.equal(await count(a, 'profiles'), 1);
    assert.deepEqual(
      (await api.pull(keep)).state.cart.lines.map((l) => l.sku),
      ['kept'],
    );
  });
} else {
  // eslint-disable-next-line no-console
  console.log('retention: two-instance gc not run: DATABASE_URL is unset (PostgreSQL only)');
}
