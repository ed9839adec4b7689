import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandoffClaimResponse, HandoffResponse, Snapshot } from '@omnikit/protocol';
import {
  Api,
  customerToken,
  errorCode,
  m,
  pokeData,
  SseReader,
  startTestServer,
  testSites,
  type Device,
  type TestServer,
} from './helpers.js';

let server: TestServer;
let api: Api;
let clock = Date.now();

before(async () => {
  const [shop, other] = testSites();
  server = await startTestServer({
    now: () => clock,
    sites: [
      shop!,
      other!,
      {
        ...shop!,
        id: 'linking',
        publishableKey: 'pk_linking',
        audience: 'omnikit:linking',
        handoff: { url: 'https://link.example/h?from=qr', allowLinking: true },
      },
    ],
    rateLimits: {
      claimDevice: { capacity: 3, refillPerSecond: 1 / 60 },
      claimIp: { capacity: 20, refillPerSecond: 1 / 60 },
    },
  });
  api = new Api(server.url);
});
after(() => server.close());

const create = async (d: Device) => {
  const res = await api.call<HandoffResponse>('POST', '/v1/handoff', { headers: d.auth });
  assert.equal(res.status, 201);
  return res.body;
};
const claim = (d: Device, code: string) =>
  api.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', { body: { code }, headers: d.auth });

describe('handoff', () => {
  test('creates a short code with the site’s claim URL and a 10 minute expiry', async () => {
    const d = await api.register();
    const h = await create(d);
    assert.match(h.code, /^[A-HJKMNP-Z2-9]{8}$/);
    assert.equal(h.url, `https://shop.example/handoff?omni_handoff=${h.code}`);
    assert.equal(h.expiresAt, clock + 10 * 60_000);
  });

  test('an anonymous profile is joined by the claiming device (live, both ways)', async (t) => {
    const laptop = await api.register();
    await api.pushOk(laptop, [m.add(1, 'lamp', 2)]);
    const phone = await api.register();
    const phoneStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(phone)}`,
    );
    t.after(() => phoneStream.close());
    await phoneStream.next();
    const { code } = await create(laptop);
    // People type codes in lower case, with spaces or dashes.
    const res = await claim(phone, `${code.slice(0, 4).toLowerCase()}-${code.slice(4)}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.mode, 'joined');
    assert.equal(res.body.profileId, laptop.profileId);
    assert.deepEqual(
      res.body.state.cart.lines.map((l) => [l.sku, l.qty]),
      [['lamp', 2]],
    );
    const moved = pokeData(await phoneStream.next());
    assert.equal(moved.snapshot?.profileId, laptop.profileId);
    await api.pushOk(phone, [m.add(1, 'bulb')]);
    const seen = await api.pull(laptop);
    assert.deepEqual(
      seen.state.cart.lines.map((l) => l.sku),
      ['lamp', 'bulb'],
    );
  });

  test('an identified profile’s cart is copied, never its history or preferences', async () => {
    const owner = await api.register();
    await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('handoff-owner') },
      headers: owner.auth,
    });
    await api.pushOk(owner, [m.add(1, 'coat'), m.view(2, 'private-view'), m.pref(3, 'size', 'L')]);
    const tablet = await api.register('pk_shop', { channel: 'store' });
    await api.pushOk(tablet, [m.add(1, 'scarf')]);
    const res = await claim(tablet, (await create(owner)).code);
    assert.equal(res.status, 200);
    assert.equal(res.body.mode, 'copied');
    assert.equal(res.body.profileId, tablet.profileId);
    assert.equal(res.body.customerId, null);
    assert.deepEqual(res.body.state.cart.lines.map((l) => l.sku).sort(), ['coat', 'scarf']);
    assert.deepEqual(res.body.state.viewed, []);
    assert.deepEqual(res.body.state.prefs, {});
    const ownerView = await api.pull(owner);
    assert.deepEqual(
      ownerView.state.cart.lines.map((l) => l.sku),
      ['coat'],
      'owner unchanged',
    );
  });

  test('a signed-in device that opens a handoff link stays in its account: the cart is copied in', async () => {
    // A link anyone can send (`?omni_handoff=` is claimed on page load): joining would move the
    // customer's device into the sender's anonymous profile, where the sender reads it live.
    const sender = await api.register();
    await api.pushOk(sender, [m.add(1, 'bait')]);
    const { code } = await create(sender);
    const customer = await api.register();
    await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('handoff-victim') },
      headers: customer.auth,
    });
    await api.pushOk(customer, [m.add(1, 'private-item')]);
    const res = await claim(customer, code);
    assert.equal(res.status, 200);
    assert.equal(res.body.mode, 'copied');
    assert.equal(res.body.customerId, 'handoff-victim');
    assert.notEqual(res.body.profileId, sender.profileId);
    // The sender's profile never sees the customer's cart.
    const senderView = await api.pull(sender);
    assert.deepEqual(
      senderView.state.cart.lines.map((l) => l.sku),
      ['bait'],
    );
  });

  test('a site that allows linking lets the claimer join an identified profile', async () => {
    const owner = await api.register('pk_linking');
    await api.call('POST', '/v1/identify', {
      body: { token: await customerToken('linked', { audience: 'omnikit:linking' }) },
      headers: owner.auth,
    });
    const h = await create(owner);
    assert.equal(h.url, `https://link.example/h?from=qr&omni_handoff=${h.code}`);
    const other = await api.register('pk_linking');
    const res = await claim(other, h.code);
    assert.equal(res.body.mode, 'joined');
    assert.equal(res.body.customerId, 'linked');
  });

  test('unknown → 404, reused → 409, expired → 410, other site → 404', async () => {
    const a = await api.register();
    const unknown = await claim(await api.register(), 'ABCDEFGH');
    assert.equal(unknown.status, 404);
    assert.equal(errorCode(unknown), 'not_found');

    const { code } = await create(a);
    const b = await api.register();
    assert.equal((await claim(b, code)).status, 200);
    const reused = await claim(await api.register(), code);
    assert.equal(reused.status, 409);
    assert.equal(errorCode(reused), 'conflict');

    const late = await create(a);
    clock += 10 * 60_000 + 1;
    const expired = await claim(await api.register(), late.code);
    assert.equal(expired.status, 410);
    assert.equal(errorCode(expired), 'gone');

    const fresh = await create(a);
    const foreign = await claim(await api.register('pk_other'), fresh.code);
    assert.equal(foreign.status, 404, 'codes are per site');
  });

  test('claims are rate-limited per device with Retry-After', async () => {
    const d = await api.register();
    for (let i = 0; i < 3; i++) assert.equal((await claim(d, 'ZZZZZZZZ')).status, 404);
    const limited = await claim(d, 'ZZZZZZZZ');
    assert.equal(limited.status, 429);
    assert.equal(errorCode(limited), 'rate_limited');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    // Even a valid code waits: the limit comes before the lookup.
    const real = await create(await api.register());
    assert.equal((await claim(d, real.code)).status, 429);
    clock += 60_000;
    assert.equal((await claim(d, real.code)).status, 200);
  });

  test('claims are rate-limited per IP across devices', async () => {
    clock += 3_600_000;
    let limited = 0;
    for (let i = 0; i < 8 && limited === 0; i++) {
      const d = await api.register();
      for (let j = 0; j < 3; j++) {
        if ((await claim(d, 'YYYYYYYY')).status === 429) limited++;
      }
    }
    assert.ok(limited > 0, 'the per-IP budget (20) runs out before 24 claims');
  });

  test('the handoff of a forgotten profile is gone', async () => {
    const a = await api.register();
    const { code } = await create(a);
    assert.equal((await api.call('DELETE', '/v1/profile', { headers: a.auth })).status, 204);
    clock += 3_600_000;
    const res = await claim(await api.register(), code);
    assert.equal(res.status, 404);
    const snap = (await api.pull(a)) satisfies Snapshot;
    assert.notEqual(snap.profileId, a.profileId);
  });
});
