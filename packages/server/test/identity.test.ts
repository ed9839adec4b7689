import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { exportSPKI, generateKeyPair, SignJWT } from 'jose';
import type { IdentifyResponse, Snapshot } from '@omnikit/protocol';
import {
  Api,
  customerToken,
  errorCode,
  m,
  pokeData,
  SseReader,
  startTestServer,
  testSites,
  type TestServer,
} from './helpers.js';

let server: TestServer;
let api: Api;
const rsa = await generateKeyPair('RS256');
const rsaPublicPem = await exportSPKI(rsa.publicKey);

before(async () => {
  const [shop, other] = testSites();
  server = await startTestServer({
    sites: [
      shop!,
      other!,
      {
        id: 'rsa',
        publishableKey: 'pk_rsa',
        allowedOrigins: ['https://rsa.example'],
        customerToken: { alg: 'RS256', publicKey: rsaPublicPem },
        issuer: 'https://id.rsa.example',
        audience: 'omnikit',
        mergePolicy: 'max',
      },
    ],
  });
  api = new Api(server.url);
});
after(() => server.close());

const identify = (device: { auth: Record<string, string> }, token: string) =>
  api.call<IdentifyResponse>('POST', '/v1/identify', { body: { token }, headers: device.auth });

describe('identify', () => {
  test('links the device to the customer and merges the guest cart with a summary', async () => {
    const laptop = await api.register();
    await api.pushOk(laptop, [m.add(1, 'shoe', 1), m.view(2, 'shoe')]);
    const first = await identify(laptop, await customerToken('cust-1'));
    assert.equal(first.status, 200);
    assert.equal(first.body.customerId, 'cust-1');
    assert.notEqual(first.body.profileId, laptop.profileId);
    assert.equal(first.body.lastSeq, 2);
    assert.deepEqual(
      first.body.state.cart.lines.map((l) => [l.sku, l.qty]),
      [['shoe', 1]],
    );
    assert.deepEqual(first.body.merge?.added, [{ key: 'shoe', sku: 'shoe', qty: 1 }]);

    // A phone with its own guest cart signs in to the same account: carts add up (sum).
    const phone = await api.register();
    await api.pushOk(phone, [m.add(1, 'shoe', 2), m.add(2, 'sock', 1)]);
    const second = await identify(phone, await customerToken('cust-1'));
    assert.equal(second.status, 200);
    assert.equal(second.body.profileId, first.body.profileId);
    assert.deepEqual(
      second.body.state.cart.lines.map((l) => [l.sku, l.qty]),
      [
        ['shoe', 3],
        ['sock', 1],
      ],
    );
    assert.deepEqual(second.body.merge?.changed, [{ key: 'shoe', sku: 'shoe', from: 1, to: 3 }]);
    assert.deepEqual(second.body.merge?.added, [{ key: 'sock', sku: 'sock', qty: 1 }]);

    // A third device with an empty guest profile changes nothing: no new version.
    const tablet = await api.register();
    const third = await identify(tablet, await customerToken('cust-1'));
    assert.equal(third.body.version, second.body.version);
    assert.deepEqual(third.body.merge?.added, []);
    // Identifying again is a no-op without a merge.
    const again = await identify(phone, await customerToken('cust-1'));
    assert.equal(again.body.merge, null);
    assert.equal(again.body.version, second.body.version);
    const laptopView = await api.pull(laptop);
    assert.deepEqual(laptopView.state, second.body.state);
  });

  test('leaves the guest profile’s other devices anonymous, with the guest cart (after a handoff join)', async () => {
    const a = await api.register();
    const b = await api.register();
    await api.pushOk(a, [m.add(1, 'hat')]);
    const code = await api.call<{ code: string }>('POST', '/v1/handoff', { headers: a.auth });
    const claim = await api.call<Snapshot>('POST', '/v1/handoff/claim', {
      body: { code: code.body.code },
      headers: b.auth,
    });
    assert.equal(claim.body.profileId, a.profileId);
    const res = await identify(a, await customerToken('cust-2'));
    assert.equal(res.body.customerId, 'cust-2');
    // Anyone can show a handoff code, so sharing a guest cart is no way into an account.
    const pulled = await api.pull(b);
    assert.equal(pulled.profileId, a.profileId);
    assert.notEqual(pulled.profileId, res.body.profileId);
    assert.equal(pulled.customerId, null);
    assert.deepEqual(
      pulled.state.cart.lines.map((l) => l.sku),
      ['hat'],
    );
  });

  test('pokes the customer’s other devices, and moves this device’s stream', async (t) => {
    const phone = await api.register();
    await identify(phone, await customerToken('cust-3'));
    const phoneStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(phone)}`,
    );
    t.after(() => phoneStream.close());
    const start = pokeData(await phoneStream.next());

    const laptop = await api.register();
    const laptopStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(laptop)}`,
    );
    t.after(() => laptopStream.close());
    assert.equal(pokeData(await laptopStream.next()).snapshot?.profileId, laptop.profileId);
    await api.pushOk(laptop, [m.add(1, 'bag')]);
    await laptopStream.next((e) => pokeData(e).version === 1);

    const res = await identify(laptop, await customerToken('cust-3'));
    const onPhone = pokeData(await phoneStream.next());
    assert.ok(onPhone.version > start.version);
    assert.deepEqual(
      onPhone.snapshot?.state.cart.lines.map((l) => l.sku),
      ['bag'],
    );
    const moved = pokeData(await laptopStream.next());
    assert.equal(moved.snapshot?.profileId, res.body.profileId);
    assert.equal(moved.snapshot?.customerId, 'cust-3');
  });

  test('switching accounts without logout leaves the first cart with the first customer', async () => {
    const d = await api.register();
    await identify(d, await customerToken('alice'));
    await api.pushOk(d, [m.add(1, 'alice-item')]);
    const bob = await identify(d, await customerToken('bob'));
    assert.equal(bob.body.merge, null);
    assert.deepEqual(bob.body.state.cart.lines, []);
    const back = await identify(d, await customerToken('alice'));
    assert.deepEqual(
      back.body.state.cart.lines.map((l) => l.sku),
      ['alice-item'],
    );
  });

  test('verifies RS256 tokens with the site’s public key and its merge policy', async () => {
    const d = await api.register('pk_rsa');
    await api.pushOk(d, [m.add(1, 'x', 4)]);
    const sign = (aud: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256' })
        .setSubject('rsa-cust')
        .setIssuer('https://id.rsa.example')
        .setAudience(aud)
        .setIssuedAt()
        .setExpirationTime('2m')
        .sign(rsa.privateKey);
    const wrongAud = await identify(d, await sign('someone-else'));
    assert.equal(wrongAud.status, 401);
    assert.match(JSON.stringify(wrongAud.body), /audience/);
    const ok = await identify(d, await sign('omnikit'));
    assert.equal(ok.status, 200);
    assert.equal(ok.body.customerId, 'rsa-cust');
    assert.equal(ok.body.merge?.policy, 'max');
    // An HS256 token signed with the public key as secret (alg confusion) is refused.
    const confused = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('rsa-cust')
      .setIssuer('https://id.rsa.example')
      .setAudience('omnikit')
      .setIssuedAt()
      .setExpirationTime('2m')
      .sign(new TextEncoder().encode(rsaPublicPem));
    const res = await identify(d, confused);
    assert.equal(res.status, 401);
  });

  test('refuses bad, expired, wrong-audience, wrong-issuer and unsigned tokens with 401', async () => {
    const d = await api.register();
    const cases: [string, string, RegExp][] = [
      [
        'expired',
        await customerToken('c', { expiresIn: Math.floor(Date.now() / 1000) - 60 }),
        /expired/,
      ],
      ['audience', await customerToken('c', { audience: 'omnikit:other' }), /audience/],
      ['issuer', await customerToken('c', { issuer: 'https://evil.example' }), /issuer/],
      ['secret', await customerToken('c', { secret: 'x'.repeat(40) }), /signature/],
      ['garbage', 'not-a-jwt', /malformed/],
      [
        'none',
        `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"sub":"c"}').toString('base64url')}.`,
        /./,
      ],
    ];
    for (const [name, token, message] of cases) {
      const res = await identify(d, token);
      assert.equal(res.status, 401, name);
      assert.equal(errorCode(res), 'unauthorized', name);
      assert.match(
        (res.body as unknown as { error: { message: string } }).error.message,
        message,
        name,
      );
    }
    const missing = await api.call('POST', '/v1/identify', { body: {}, headers: d.auth });
    assert.equal(missing.status, 400);
    assert.equal((await api.pull(d)).customerId, null);
  });
});

describe('logout and forget', () => {
  test('logout gives a fresh anonymous profile; the customer keeps the cart', async () => {
    const d = await api.register();
    await identify(d, await customerToken('leaver'));
    await api.pushOk(d, [m.add(1, 'kept', 2)]);
    const out = await api.call<Snapshot>('POST', '/v1/logout', { headers: d.auth });
    assert.equal(out.status, 200);
    assert.equal(out.body.customerId, null);
    assert.deepEqual(out.body.state.cart.lines, []);
    assert.equal(out.body.lastSeq, 1);
    const back = await identify(d, await customerToken('leaver'));
    assert.deepEqual(
      back.body.state.cart.lines.map((l) => [l.sku, l.qty]),
      [['kept', 2]],
    );
  });

  test('forget erases the profile and detaches every device to a new empty one', async (t) => {
    const a = await api.register();
    await identify(a, await customerToken('forgetful'));
    await api.pushOk(a, [m.add(1, 'secret-item'), m.view(2, 'secret-item')]);
    const b = await api.register();
    await identify(b, await customerToken('forgetful'));
    const bStream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(b)}`,
    );
    t.after(() => bStream.close());
    const before = pokeData(await bStream.next());
    assert.deepEqual(
      before.snapshot?.state.cart.lines.map((l) => l.sku),
      ['secret-item'],
    );
    const gone = await api.call('DELETE', '/v1/profile', { headers: a.auth });
    assert.equal(gone.status, 204);
    const pa = await api.pull(a);
    const pb = await api.pull(b);
    assert.notEqual(pa.profileId, pb.profileId);
    // The other device's stream follows it to its new, empty profile at once.
    const moved = pokeData(await bStream.next());
    assert.equal(moved.snapshot?.profileId, pb.profileId);
    assert.deepEqual(moved.snapshot?.state.cart.lines, []);
    for (const p of [pa, pb]) {
      assert.equal(p.customerId, null);
      assert.deepEqual(p.state.cart.lines, []);
      assert.deepEqual(p.state.viewed, []);
    }
    const again = await identify(a, await customerToken('forgetful'));
    assert.deepEqual(again.body.state.cart.lines, [], 'the customer starts over');
  });
});
