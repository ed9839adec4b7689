// Sibling devices: a second device of one browser (a tab left without its storage sends under
// it), on the same profile with seqs of its own, moved with its family by identity changes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type {
  HandoffClaimResponse,
  HandoffResponse,
  IdentifyResponse,
  RegisterDeviceResponse,
  Snapshot,
} from '@omnikit/protocol';
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

before(async () => {
  server = await startTestServer();
  api = new Api(server.url);
});
after(() => server.close());

const sibling = async (d: Device): Promise<Device> => {
  const res = await api.call<RegisterDeviceResponse>('POST', '/v1/devices/sibling', {
    body: {},
    headers: d.auth,
  });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return { ...res.body, auth: { authorization: `Bearer ${res.body.token}` } };
};
const identify = async (d: Device, sub: string) => {
  const res = await api.call<IdentifyResponse>('POST', '/v1/identify', {
    body: { token: await customerToken(sub) },
    headers: d.auth,
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};
const logout = async (d: Device) => {
  const res = await api.call<Snapshot>('POST', '/v1/logout', { headers: d.auth });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
};
const skus = (s: Snapshot) => s.state.cart.lines.map((l) => [l.sku, l.qty]);

describe('POST /v1/devices/sibling', () => {
  test('makes a device of the same family on the profile, with its own token and seqs', async () => {
    const root = await api.register();
    const sib = await sibling(root);
    assert.equal(sib.profileId, root.profileId);
    assert.notEqual(sib.deviceId, root.deviceId);
    assert.notEqual(sib.token, root.token);
    // Both start at seq 1: neither skips the other's change.
    const a = await api.pushOk(root, [m.add(1, 'root-item')]);
    const b = await api.pushOk(sib, [m.add(1, 'sib-item')]);
    assert.deepEqual([a.results[0]?.status, b.results[0]?.status], ['applied', 'applied']);
    const fromRoot = await api.pull(root);
    const fromSib = await api.pull(sib);
    assert.deepEqual(skus(fromRoot), [
      ['root-item', 1],
      ['sib-item', 1],
    ]);
    assert.deepEqual(fromSib.state, fromRoot.state);
    assert.deepEqual([fromRoot.lastSeq, fromSib.lastSeq], [1, 1]);

    // A sibling's sibling belongs to the same root; tokens are stored hashed, like any device's.
    const third = await sibling(sib);
    const { rows } = await server.db.query<{ id: string; family: string | null; channel: string }>(
      'SELECT id, family, channel FROM devices WHERE id = ANY($1::text[]) ORDER BY created_at, id',
      [[root.deviceId, sib.deviceId, third.deviceId]],
    );
    const family = new Map(rows.map((r) => [r.id, r.family]));
    assert.deepEqual(
      [family.get(root.deviceId), family.get(sib.deviceId), family.get(third.deviceId)],
      [null, root.deviceId, root.deviceId],
    );
    assert.deepEqual(new Set(rows.map((r) => r.channel)), new Set(['web']));
    const stored = await server.db.query('SELECT 1 FROM devices WHERE token_hash = $1', [
      third.token,
    ]);
    assert.equal(stored.rowCount, 0);
  });

  test('takes the channel of its device and follows it onto a signed-in profile', async () => {
    const store = await api.register('pk_shop', { channel: 'store' });
    const account = await identify(store, 'sib-channel');
    const sib = await sibling(store);
    assert.equal(sib.profileId, account.profileId);
    const { rows } = await server.db.query<{ channel: string }>(
      'SELECT channel FROM devices WHERE id = $1',
      [sib.deviceId],
    );
    assert.equal(rows[0]?.channel, 'store');
    assert.equal((await api.pull(sib)).customerId, 'sib-channel');
  });

  test('401 without a token or with an unknown one; 400 for a body that is not an object', async () => {
    const none = await api.call('POST', '/v1/devices/sibling', { body: {} });
    assert.equal(none.status, 401);
    assert.equal(errorCode(none), 'unauthorized');
    const unknown = await api.call<{ error: { details?: unknown } }>(
      'POST',
      '/v1/devices/sibling',
      { body: {}, headers: { authorization: `Bearer ${'x'.repeat(43)}` } },
    );
    assert.equal(unknown.status, 401);
    assert.deepEqual(unknown.body.error.details, { reason: 'unknown_device' });

    const d = await api.register();
    for (const raw of ['"x"', '[]', 'null', '1', '{', '{"a":']) {
      const res = await api.call('POST', '/v1/devices/sibling', { raw, headers: d.auth });
      assert.equal(res.status, 400, raw);
      assert.equal(errorCode(res), 'invalid_argument', raw);
    }
    // No body at all is `{}`, as for a registration.
    const bare = await api.call('POST', '/v1/devices/sibling', { headers: d.auth });
    assert.equal(bare.status, 201);
    const big = await api.call('POST', '/v1/devices/sibling', {
      raw: JSON.stringify({ pad: 'x'.repeat(70 * 1024) }),
      headers: d.auth,
    });
    assert.equal(big.status, 413);
    assert.equal(errorCode(big), 'payload_too_large');
  });

  test('is limited per device and per address (429 rate_limited, Retry-After)', async (t) => {
    const strict = await startTestServer({
      rateLimits: {
        sibling: { capacity: 2, refillPerSecond: 1 / 3600 },
        register: { capacity: 6, refillPerSecond: 1 / 3600 },
      },
    });
    t.after(() => strict.close());
    const local = new Api(strict.url);
    const make = (d: Device) =>
      local.call('POST', '/v1/devices/sibling', { body: {}, headers: d.auth });
    const a = await local.register();
    assert.deepEqual([(await make(a)).status, (await make(a)).status], [201, 201]);
    const perDevice = await make(a);
    assert.equal(perDevice.status, 429);
    assert.equal(errorCode(perDevice), 'rate_limited');
    assert.ok(Number(perDevice.headers.get('retry-after')) >= 1);
    // Another device of the address has a budget of its own, but siblings are registrations:
    // the address's (six: two registrations and four sibling requests, the address checked
    // first, the refused one included) runs out.
    const b = await local.register();
    assert.equal((await make(b)).status, 201);
    const perAddress = await make(b);
    assert.equal(perAddress.status, 429);
    assert.equal(errorCode(perAddress), 'rate_limited');
    const { rows } = await strict.db.query<{ n: number }>('SELECT count(*)::int AS n FROM devices');
    assert.equal(rows[0]?.n, 5);
  });
});

describe('a family moves together', () => {
  test('identify by the root takes its siblings to the account; by a sibling, the root', async () => {
    for (const signsIn of ['root', 'sibling'] as const) {
      const sub = `sib-identify-${signsIn}`;
      const root = await api.register();
      const sib = await sibling(root);
      await api.pushOk(root, [m.add(1, 'hat')]);
      await api.pushOk(sib, [m.add(1, 'scarf'), m.view(2, 'scarf')]);
      const account = await identify(signsIn === 'root' ? root : sib, sub);
      for (const d of [root, sib]) {
        const s = await api.pull(d);
        assert.equal(s.profileId, account.profileId, signsIn);
        assert.equal(s.customerId, sub, signsIn);
        assert.deepEqual(skus(s), [
          ['hat', 1],
          ['scarf', 1],
        ]);
      }
      // Both pushed seq 1 and 2 before: their counters stay their own on the account.
      assert.deepEqual(
        [(await api.pull(root)).lastSeq, (await api.pull(sib)).lastSeq],
        [1, 2],
        signsIn,
      );
      await api.pushOk(sib, [m.add(3, 'glove')]);
      assert.deepEqual(skus(await api.pull(root)).at(-1), ['glove', 1]);
      // Nothing is left on the guest profile: it was retired into the account.
      const { rows } = await server.db.query<{ merged_into: string | null }>(
        'SELECT merged_into FROM profiles WHERE id = $1',
        [root.profileId],
      );
      assert.equal(rows[0]?.merged_into, account.profileId, signsIn);
    }
  });

  test('the sibling’s stream follows it when the root signs in', async (t) => {
    const root = await api.register();
    const sib = await sibling(root);
    const stream = await SseReader.open(
      `${server.url}/v1/sync/stream?ticket=${await api.ticket(sib)}`,
    );
    t.after(() => stream.close());
    assert.equal(pokeData(await stream.next()).snapshot?.profileId, root.profileId);
    const account = await identify(root, 'sib-stream');
    const moved = pokeData(await stream.next());
    assert.deepEqual(
      [moved.snapshot?.profileId, moved.snapshot?.customerId],
      [account.profileId, 'sib-stream'],
    );
  });

  test('logout by either device takes both to the same fresh profile', async () => {
    for (const signsOut of ['root', 'sibling'] as const) {
      const sub = `sib-logout-${signsOut}`;
      const root = await api.register();
      const sib = await sibling(root);
      const account = await identify(root, sub);
      await api.pushOk(sib, [m.add(1, 'kept')]);
      const fresh = await logout(signsOut === 'root' ? root : sib);
      assert.notEqual(fresh.profileId, account.profileId);
      assert.equal(fresh.customerId, null);
      for (const d of [root, sib]) {
        const s = await api.pull(d);
        assert.equal(s.profileId, fresh.profileId, signsOut);
        assert.deepEqual(s.state.cart.lines, [], signsOut);
      }
      // The account keeps its cart for the next sign-in.
      assert.deepEqual(skus(await identify(root, sub)), [['kept', 1]]);
    }
  });

  test('logout cancels the open handoff codes of the whole family', async () => {
    const root = await api.register();
    const sib = await sibling(root);
    await identify(root, 'sib-codes');
    const made = await api.call<HandoffResponse>('POST', '/v1/handoff', { headers: sib.auth });
    assert.equal(made.status, 201);
    await logout(root);
    const tablet = await api.register();
    const stale = await api.call('POST', '/v1/handoff/claim', {
      body: { code: made.body.code },
      headers: tablet.auth,
    });
    assert.equal(stale.status, 404);
  });

  test('a device joined through a handoff code does not follow an identify; the family does', async () => {
    const root = await api.register();
    const sib = await sibling(root);
    await api.pushOk(root, [m.add(1, 'shared')]);
    const stranger = await api.register();
    const code = await api.call<HandoffResponse>('POST', '/v1/handoff', { headers: root.auth });
    const joined = await api.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', {
      body: { code: code.body.code },
      headers: stranger.auth,
    });
    assert.deepEqual([joined.body.mode, joined.body.profileId], ['joined', root.profileId]);
    await api.pushOk(sib, [m.view(1, 'seen-by-sibling')]);
    await api.pushOk(stranger, [m.view(1, 'seen-by-stranger')]);

    const account = await identify(root, 'sib-private');
    assert.equal((await api.pull(sib)).profileId, account.profileId);
    // Anyone can show a handoff code: sharing a guest cart is no way into an account.
    const left = await api.pull(stranger);
    assert.equal(left.profileId, root.profileId);
    assert.equal(left.customerId, null);
    assert.deepEqual(skus(left), [['shared', 1]]);
    // The guest profile lives on for the stranger; the family's history went to the account.
    const { rows } = await server.db.query<{ sku: string; profile_id: string }>(
      `SELECT sku, profile_id FROM events WHERE kind = 'view' AND device_id = ANY($1::text[])`,
      [[sib.deviceId, stranger.deviceId]],
    );
    assert.deepEqual(
      new Map(rows.map((r) => [r.sku, r.profile_id])),
      new Map([
        ['seen-by-sibling', account.profileId],
        ['seen-by-stranger', root.profileId],
      ]),
    );
  });

  test('a handoff join takes the claiming device’s family with it', async () => {
    const laptop = await api.register();
    await api.pushOk(laptop, [m.add(1, 'lamp')]);
    const phone = await api.register();
    const phoneTab = await sibling(phone);
    const code = await api.call<HandoffResponse>('POST', '/v1/handoff', { headers: laptop.auth });
    const res = await api.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', {
      body: { code: code.body.code },
      headers: phoneTab.auth,
    });
    assert.deepEqual([res.body.mode, res.body.profileId], ['joined', laptop.profileId]);
    assert.equal((await api.pull(phone)).profileId, laptop.profileId);
    assert.deepEqual(skus(await api.pull(phone)), [['lamp', 1]]);
  });

  test('a family split by an erase moves apart: each device has its own fresh profile', async () => {
    const root = await api.register();
    const sib = await sibling(root);
    const other = await api.register();
    await identify(root, 'sib-erase');
    await identify(other, 'sib-erase');
    await api.pushOk(sib, [m.add(1, 'secret')]);
    const gone = await api.call('DELETE', '/v1/profile', { headers: sib.auth });
    assert.equal(gone.status, 204);
    const after = await Promise.all([root, sib, other].map((d) => api.pull(d)));
    assert.equal(new Set(after.map((s) => s.profileId)).size, 3);
    for (const s of after) {
      assert.deepEqual([s.customerId, s.state.cart.lines], [null, []]);
    }
    // Apart, a sign-in moves only the devices still on the profile it leaves.
    const back = await identify(root, 'sib-erase');
    assert.equal((await api.pull(root)).profileId, back.profileId);
    assert.notEqual((await api.pull(sib)).profileId, back.profileId);
  });
});

describe('families and sites', () => {
  test('a sibling is made on its device’s site', async () => {
    const [, other] = testSites();
    const d = await api.register(other!.publishableKey);
    const sib = await sibling(d);
    const { rows } = await server.db.query<{ site_id: string }>(
      'SELECT site_id FROM devices WHERE id = $1',
      [sib.deviceId],
    );
    assert.equal(rows[0]?.site_id, 'other');
  });
});
