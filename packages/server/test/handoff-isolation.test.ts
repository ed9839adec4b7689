import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { HandoffClaimResponse, HandoffResponse } from '@omnikit/protocol';
import {
  Api,
  customerToken,
  errorCode,
  m,
  startTestServer,
  testSites,
  type Device,
  type TestServer,
} from './helpers.js';

// A handoff code is something anyone can show ("scan to continue your cart"): joining an
// anonymous profile through one must never become a way into the account of whoever signs in
// on that profile later.
let server: TestServer;
let api: Api;

before(async () => {
  server = await startTestServer({ sites: testSites() });
  api = new Api(server.url);
});
after(() => server.close());

const create = async (d: Device) => {
  const res = await api.call<HandoffResponse>('POST', '/v1/handoff', { headers: d.auth });
  assert.equal(res.status, 201);
  return res.body.code;
};
const claim = (d: Device, code: string) =>
  api.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', { body: { code }, headers: d.auth });
const identify = async (d: Device, customer: string) => {
  const res = await api.call('POST', '/v1/identify', {
    body: { token: await customerToken(customer) },
    headers: d.auth,
  });
  assert.equal(res.status, 200);
};

describe('handoff isolation', () => {
  test('a device that shared an anonymous profile does not follow another device into its account', async () => {
    const victimLaptop = await api.register();
    await identify(victimLaptop, 'isolation-victim');
    await api.pushOk(victimLaptop, [m.add(1, 'secret-sku', 2), m.pref(2, 'size', 'XL')]);

    const attacker = await api.register();
    await api.pushOk(attacker, [m.add(1, 'bait', 1)]);
    const phone = await api.register();
    const joined = await claim(phone, await create(attacker));
    assert.equal(joined.body.mode, 'joined');

    await identify(phone, 'isolation-victim');
    // The phone is in the account, with the shared guest cart merged in (policy `sum`).
    const mine = await api.pull(phone);
    assert.equal(mine.customerId, 'isolation-victim');
    assert.deepEqual(mine.state.cart.lines.map((l) => l.sku).sort(), ['bait', 'secret-sku']);

    // The attacker stays anonymous and sees nothing of the account, now or later.
    const seen = await api.pull(attacker);
    assert.equal(seen.customerId, null);
    assert.notEqual(seen.profileId, mine.profileId);
    assert.doesNotMatch(JSON.stringify(seen), /secret-sku|XL|isolation-victim/);
    await api.pushOk(attacker, [m.add(2, 'injected', 9)]);
    await api.pushOk(victimLaptop, [m.add(3, 'later-sku')]);
    assert.doesNotMatch(JSON.stringify(await api.pull(attacker)), /later-sku/);
    assert.doesNotMatch(JSON.stringify(await api.pull(victimLaptop)), /injected/);
  });

  test('signing out cancels the handoff codes made while signed in', async () => {
    const kiosk = await api.register('pk_shop', { channel: 'store' });
    await identify(kiosk, 'isolation-kiosk-customer');
    await api.pushOk(kiosk, [m.add(1, 'private-cart-item')]);
    const code = await create(kiosk);
    assert.equal((await api.call('POST', '/v1/logout', { headers: kiosk.auth })).status, 200);
    const stranger = await api.register();
    const res = await claim(stranger, code);
    assert.equal(res.status, 404);
    assert.equal(errorCode(res), 'not_found');
    assert.doesNotMatch(JSON.stringify(await api.pull(stranger)), /private-cart-item/);
  });
});
