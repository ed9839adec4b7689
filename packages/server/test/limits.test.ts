import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandoffResponse } from '@omnikit/protocol';
import { SignJWT } from 'jose';
import {
  Api,
  customerToken,
  errorCode,
  hsSecret,
  SseReader,
  startTestServer,
  testSites,
  type TestServer,
} from './helpers.js';

let server: TestServer;
let api: Api;
before(async () => {
  server = await startTestServer({ sites: testSites() });
  api = new Api(server.url);
});
after(() => server.close());

describe('resource limits', () => {
  test('a device holds at most 4 event streams; closing one frees its slot', async (t) => {
    const device = await api.register();
    const open = async () =>
      SseReader.open(`${server.url}/v1/sync/stream?ticket=${await api.ticket(device)}`);
    const streams: (SseReader & { status: number })[] = [];
    for (let i = 0; i < 4; i++) streams.push(await open());
    t.after(() => streams.forEach((s) => s.close()));
    assert.deepEqual(
      streams.map((s) => s.status),
      [200, 200, 200, 200],
    );
    const refused = await fetch(`${server.url}/v1/sync/stream?ticket=${await api.ticket(device)}`);
    assert.equal(refused.status, 429);
    assert.equal(
      ((await refused.json()) as { error: { code: string } }).error.code,
      'rate_limited',
    );
    assert.ok(Number(refused.headers.get('retry-after')) > 0);

    const first = streams.shift()!;
    first.close();
    // The slot is freed when the server sees the stream end: retry until it does (no sleep).
    let again: SseReader & { status: number };
    for (;;) {
      again = await open();
      if (again.status === 200) break;
      again.close();
      await new Promise((resolve) => setImmediate(resolve));
    }
    streams.push(again);
    assert.equal(again.status, 200);
  });

  test('a device keeps at most 5 open handoff codes; a sixth retires the oldest', async () => {
    const device = await api.register();
    const codes: string[] = [];
    for (let i = 0; i < 6; i++) {
      const res = await api.call<HandoffResponse>('POST', '/v1/handoff', { headers: device.auth });
      assert.equal(res.status, 201);
      codes.push(res.body.code);
    }
    const claimer = await api.register();
    const claim = (code: string) =>
      api.call('POST', '/v1/handoff/claim', { body: { code }, headers: claimer.auth });
    const oldest = await claim(codes[0]!);
    assert.equal(oldest.status, 404);
    assert.equal(errorCode(oldest), 'not_found');
    assert.equal((await claim(codes[5]!)).status, 200);
  });

  test('the Bearer scheme name is case-insensitive', async () => {
    const device = await api.register();
    const res = await api.call('GET', '/v1/sync/pull', {
      headers: { authorization: `bearer ${device.token}` },
    });
    assert.equal(res.status, 200);
  });
});

describe('device registration', () => {
  test('one address registers a burst of devices, then gets 429 with Retry-After', async (t) => {
    const strict = await startTestServer({
      sites: testSites(),
      rateLimits: { register: { capacity: 3, refillPerSecond: 1 / 60 } },
    });
    t.after(() => strict.close());
    const local = new Api(strict.url);
    for (let i = 0; i < 3; i++) await local.register();
    const res = await local.call('POST', '/v1/devices', {
      body: { channel: 'web' },
      headers: { 'x-omni-key': 'pk_shop' },
    });
    assert.equal(res.status, 429);
    assert.equal(errorCode(res), 'rate_limited');
    assert.ok(Number(res.headers.get('retry-after')) >= 1);
  });
});

describe('customer tokens', () => {
  test('a token without iat, or issued more than an hour ago, is refused', async () => {
    const device = await api.register();
    const identify = (token: string) =>
      api.call('POST', '/v1/identify', { body: { token }, headers: device.auth });
    const base = () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('long-lived')
        .setIssuer('https://auth.shop.example')
        .setAudience('omnikit:shop')
        .setExpirationTime('10y');
    const key = new TextEncoder().encode(hsSecret);
    const noIat = await identify(await base().sign(key));
    assert.equal(noIat.status, 401);
    assert.match(JSON.stringify(noIat.body), /iat/);
    const old = await identify(
      await base()
        .setIssuedAt(Math.floor(Date.now() / 1000) - 7200)
        .sign(key),
    );
    assert.equal(old.status, 401);
    assert.equal(errorCode(old), 'unauthorized');
    assert.equal((await identify(await customerToken('long-lived'))).status, 200);
  });
});
