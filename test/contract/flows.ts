// The shared flows: the same requests and the same assertions against the mock and the real
// server. Every answer is also checked against the OpenAPI document by the target's client.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  emptyState,
  reduce,
  type ErrorBody,
  type HandoffClaimResponse,
  type HandoffResponse,
  type IdentifyResponse,
  type Mutation,
  type Poke,
  type ProductsResponse,
  type PushResponse,
  type RecommendationsResponse,
  type RegisterDeviceResponse,
  type Snapshot,
  type StockAnswer,
} from '@omnikit/protocol';
import { mutationHelpers } from '../../packages/server/test/helpers.js';
import { site, type Reply, type Target } from './targets.js';

const pub = { 'x-omni-key': site.publishableKey };
const admin = { 'x-omni-admin-key': site.adminKey };
const code = (r: Reply) => (r.body as ErrorBody | null)?.error?.code;

interface Device extends RegisterDeviceResponse {
  auth: Record<string, string>;
}

// Mutation times in the recent past: the server never records events in its future.
const m = mutationHelpers(Date.now() - 600_000);

/** Registers the shared flows for one target (started once for the file). */
export function contractFlows(start: () => Promise<Target>): void {
  let t: Target;
  before(async () => {
    t = await start();
  });
  after(() => t.close());

  const register = async (body: unknown = { channel: 'web' }): Promise<Device> => {
    const res = await t.call<RegisterDeviceResponse>('POST', '/v1/devices', { body, headers: pub });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return { ...res.body, auth: { authorization: `Bearer ${res.body.token}` } };
  };
  const push = (d: Device, mutations: unknown[], deviceId = d.deviceId) =>
    t.call<PushResponse>('POST', '/v1/sync/push', {
      body: { deviceId, mutations },
      headers: d.auth,
    });
  const pushOk = async (d: Device, mutations: Mutation[]) => {
    const res = await push(d, mutations);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body;
  };
  const pull = async (d: Device) => {
    const res = await t.call<Snapshot>('GET', '/v1/sync/pull', { headers: d.auth });
    assert.equal(res.status, 200);
    return res.body;
  };
  const identify = async (d: Device, sub: string) =>
    t.call<IdentifyResponse>('POST', '/v1/identify', {
      body: { token: await t.token(sub) },
      headers: d.auth,
    });
  const lines = (s: { state: Snapshot['state'] }) => s.state.cart.lines.map((l) => [l.sku, l.qty]);

  it('health', async () => {
    const res = await t.call<{ ok: boolean }>('GET', '/v1/health');
    assert.equal(res.status, 200);
    assert.equal(res.body.ok, true);
  });

  describe('register', () => {
    it('needs a known publishable key', async () => {
      const none = await t.call('POST', '/v1/devices', { body: {} });
      assert.equal(none.status, 401);
      assert.equal(code(none), 'unauthorized');
      const unknown = await t.call('POST', '/v1/devices', {
        body: {},
        headers: { 'x-omni-key': 'pk_nope' },
      });
      assert.equal(unknown.status, 401);
    });

    it('starts an empty anonymous profile', async () => {
      const d = await register();
      assert.deepEqual(await pull(d), {
        profileId: d.profileId,
        customerId: null,
        version: 0,
        lastSeq: 0,
        state: emptyState(),
      });
    });

    it('carries over a state through the reducers; refuses an invalid one', async () => {
      const at = Date.now() - 60_000;
      const state = {
        cart: {
          lines: [{ key: '22423', sku: '22423', qty: 2, addedAt: at, updatedAt: at }],
          pickupStore: 'manchester',
        },
        viewed: [{ sku: '22699', at }],
        prefs: { size: 'M' },
      };
      const d = await register({ channel: 'web', state });
      const s = await pull(d);
      assert.deepEqual(lines(s), [['22423', 2]]);
      assert.equal(s.state.cart.pickupStore, 'manchester');
      assert.deepEqual(s.state.viewed, [{ sku: '22699', at }]);
      assert.deepEqual(s.state.prefs, { size: 'M' });
      const bad = await t.call('POST', '/v1/devices', {
        body: {
          state: {
            ...state,
            cart: { lines: [{ ...state.cart.lines[0], qty: 0 }], pickupStore: null },
          },
        },
        headers: pub,
      });
      assert.equal(bad.status, 400);
      assert.equal(code(bad), 'invalid_argument');
    });

    it('answers 401 unknown_device for a token it does not know', async () => {
      const res = await t.call<ErrorBody>('GET', '/v1/sync/pull', {
        headers: { authorization: `Bearer ${'x'.repeat(43)}` },
      });
      assert.equal(res.status, 401);
      assert.deepEqual(res.body.error.details, { reason: 'unknown_device' });
      assert.equal((await t.call('GET', '/v1/sync/pull')).status, 401);
    });
  });

  describe('push and pull', () => {
    it('applies, skips retries, consumes invalid mutations; the reducers are the oracle', async () => {
      const d = await register();
      const batch = [
        m.add(1, '22423', 2),
        m.view(2, '22699'),
        m.pref(3, 'size', 'M'),
        m.add(4, '22699', 1),
        m.set(5, '22423', 3),
        { seq: 6, name: 'cart.add', args: { sku: '22423', qty: 0 }, at: m.next() },
      ];
      const first = await pushOk(d, batch as Mutation[]);
      assert.equal(first.version, 1);
      assert.equal(first.lastSeq, 6);
      assert.deepEqual(
        first.results.map((r) => r.status),
        ['applied', 'applied', 'applied', 'applied', 'applied', 'rejected'],
      );
      assert.equal(
        (first.results[5] as { error: { code: string } }).error.code,
        'invalid_argument',
      );
      const snap = await pull(d);
      assert.deepEqual(snap.state, reduce(batch as Mutation[]));
      assert.equal(snap.lastSeq, 6);
      const retry = await pushOk(d, batch as Mutation[]);
      assert.deepEqual(
        retry.results.map((r) => r.status),
        Array(6).fill('skipped'),
      );
      assert.equal(retry.version, 1);
      const noop = await pushOk(d, [
        { seq: 7, name: 'cart.remove', args: { sku: 'ABSENT' }, at: m.next() },
      ]);
      assert.deepEqual([noop.version, noop.lastSeq, noop.results[0]?.status], [1, 7, 'applied']);
    });

    it('rejects text a database cannot store (a NUL, an unpaired surrogate) as invalid, not a 500', async () => {
      const d = await register();
      const res = await pushOk(d, [
        m.pref(1, 'note', 'a\u0000b'),
        {
          ...m.add(2, '22423'),
          args: { sku: '22423', qty: 1, options: { size: '\ud800' } },
        } as Mutation,
        m.add(3, '22699'),
      ]);
      assert.deepEqual(
        res.results.map((r) => [r.status, r.status === 'rejected' && r.error.code]),
        [
          ['rejected', 'invalid_argument'],
          ['rejected', 'invalid_argument'],
          ['applied', false],
        ],
      );
      assert.deepEqual(lines(await pull(d)), [['22699', 1]]);
    });

    it('refuses another device, oversized batches and malformed bodies', async () => {
      const a = await register();
      const b = await register();
      const other = await push(a, [m.add(1, '22423')], b.deviceId);
      assert.equal(other.status, 403);
      assert.equal(code(other), 'forbidden');
      const big = await push(
        a,
        Array.from({ length: 101 }, (_, i) => m.view(i + 1, '22423')),
      );
      assert.equal(big.status, 413);
      assert.equal(code(big), 'payload_too_large');
      const notJson = await t.call('POST', '/v1/sync/push', { raw: '{', headers: a.auth });
      assert.equal(notJson.status, 400);
      const badSeq = await push(a, [{ ...m.add(1, '22423'), seq: 0 }]);
      assert.equal(badSeq.status, 400);
      assert.equal((await pull(a)).version, 0);
    });
  });

  describe('sync stream', () => {
    it('pokes at once, then on every change; tickets are single use', async () => {
      const d = await register();
      await pushOk(d, [m.add(1, '85099B')]);
      const ticket = await t.call<{ ticket: string; expiresAt: number }>(
        'POST',
        '/v1/sync/stream-ticket',
        {
          headers: d.auth,
        },
      );
      assert.equal(ticket.status, 201);
      assert.ok(ticket.body.expiresAt > Date.now());
      const stream = await t.stream(`/v1/sync/stream?ticket=${ticket.body.ticket}`);
      try {
        assert.equal(stream.status, 200);
        const first = await stream.next<Poke>('poke');
        assert.equal(first.version, 1);
        assert.deepEqual(first.snapshot && lines(first.snapshot), [['85099B', 1]]);
        await pushOk(d, [m.add(2, '85099B')]);
        const second = await stream.next<Poke>('poke');
        assert.equal(second.version, 2);
        assert.equal(second.snapshot?.lastSeq, 2);
        assert.deepEqual(second.snapshot && lines(second.snapshot), [['85099B', 2]]);
      } finally {
        stream.close();
      }
      const reused = await t.call('GET', `/v1/sync/stream?ticket=${ticket.body.ticket}`);
      assert.equal(reused.status, 401);
      assert.equal((await t.call('GET', '/v1/sync/stream?ticket=short')).status, 401);
    });

    it('resumes after Last-Event-ID without repeating it', async () => {
      const d = await register();
      await pushOk(d, [m.add(1, '22423')]);
      const { body } = await t.call<{ ticket: string }>('POST', '/v1/sync/stream-ticket', {
        headers: d.auth,
      });
      const stream = await t.stream(`/v1/sync/stream?ticket=${body.ticket}&lastEventId=1`);
      try {
        await pushOk(d, [m.add(2, '22423')]);
        assert.equal((await stream.next<Poke>('poke')).version, 2);
      } finally {
        stream.close();
      }
    });
  });

  describe('identity', () => {
    it('identify merges the guest cart by the site policy and reports it', async () => {
      const sub = `alice-${t.name}`;
      const b = await register();
      await pushOk(b, [m.add(1, '22699', 1)]);
      const first = await identify(b, sub);
      assert.equal(first.status, 200);
      assert.equal(first.body.customerId, sub);
      assert.equal(first.body.version, 1);
      assert.deepEqual(first.body.merge?.added, [{ key: '22699', sku: '22699', qty: 1 }]);

      const a = await register();
      await pushOk(a, [m.add(1, '22699', 2), m.add(2, '22423', 1), m.view(3, '85099B')]);
      const merged = await identify(a, sub);
      assert.equal(merged.status, 200);
      assert.equal(merged.body.profileId, first.body.profileId);
      assert.equal(merged.body.lastSeq, 3);
      assert.deepEqual(lines(merged.body), [
        ['22699', 3],
        ['22423', 1],
      ]);
      assert.deepEqual(merged.body.merge, {
        policy: 'sum',
        added: [{ key: '22423', sku: '22423', qty: 1 }],
        changed: [{ key: '22699', sku: '22699', from: 1, to: 3 }],
        dropped: [],
        pickupStoreChanged: false,
        viewedAdded: 1,
        removed: [],
      });
      // The other signed-in device sees the merged cart; identifying again merges nothing.
      assert.deepEqual(lines(await pull(b)), [
        ['22699', 3],
        ['22423', 1],
      ]);
      const again = await identify(a, sub);
      assert.equal(again.body.merge, null);
      assert.equal(again.body.profileId, first.body.profileId);

      const out = await t.call<Snapshot>('POST', '/v1/logout', { headers: a.auth });
      assert.equal(out.status, 200);
      assert.equal(out.body.customerId, null);
      assert.notEqual(out.body.profileId, first.body.profileId);
      assert.deepEqual(out.body.state, emptyState());
      assert.equal(out.body.lastSeq, 3);
      assert.deepEqual(lines(await pull(b)), [
        ['22699', 3],
        ['22423', 1],
      ]);
    });

    it('refuses bad customer tokens', async () => {
      const d = await register();
      const tokens = [
        await t.token('bob', { expiresIn: '-1m' }),
        await t.token('bob', { audience: 'omnikit:elsewhere' }),
        await t.token('bob', { secret: 'a-different-secret-that-is-long-enough-0123' }),
        // A sub no database stores as it is (a NUL): refused, not a 500.
        await t.token('bob\u0000'),
        'not.a.jwt',
      ];
      for (const token of tokens) {
        const res = await t.call('POST', '/v1/identify', { body: { token }, headers: d.auth });
        assert.equal(res.status, 401, token);
        assert.equal(code(res), 'unauthorized');
      }
      const missing = await t.call('POST', '/v1/identify', { body: {}, headers: d.auth });
      assert.equal(missing.status, 400);
    });

    it('forget erases the profile; the device carries on anonymous', async () => {
      const sub = `carol-${t.name}`;
      const d = await register();
      await identify(d, sub);
      await pushOk(d, [m.add(1, '22423', 2)]);
      const before = await pull(d);
      const res = await t.call('DELETE', '/v1/profile', { headers: d.auth });
      assert.equal(res.status, 204);
      const after = await pull(d);
      assert.notEqual(after.profileId, before.profileId);
      assert.deepEqual([after.customerId, after.version, after.state], [null, 0, emptyState()]);
      const back = await identify(d, sub);
      assert.deepEqual(back.body.state.cart.lines, []);
    });
  });

  describe('sibling devices', () => {
    it('a sibling shares the profile with seqs of its own; identify and logout move the family', async () => {
      const root = await register();
      const made = await t.call<RegisterDeviceResponse>('POST', '/v1/devices/sibling', {
        body: {},
        headers: root.auth,
      });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.equal(made.body.profileId, root.profileId);
      assert.notEqual(made.body.deviceId, root.deviceId);
      const sib: Device = { ...made.body, auth: { authorization: `Bearer ${made.body.token}` } };
      // Both devices' first change is seq 1: each has its own counter, neither is skipped.
      await pushOk(root, [m.add(1, '22423')]);
      const second = await pushOk(sib, [m.add(1, '22699')]);
      assert.deepEqual(second.results, [{ seq: 1, status: 'applied' }]);
      assert.deepEqual(lines(await pull(root)), [
        ['22423', 1],
        ['22699', 1],
      ]);
      assert.deepEqual((await pull(sib)).state, (await pull(root)).state);

      // A device joined through a handoff code shares the guest profile, not the browser.
      const stranger = await register();
      const code = await t.call<HandoffResponse>('POST', '/v1/handoff', { headers: root.auth });
      const joined = await t.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', {
        body: { code: code.body.code },
        headers: stranger.auth,
      });
      assert.equal(joined.body.mode, 'joined');
      const signedIn = await identify(sib, `fay-${t.name}`);
      assert.equal(signedIn.status, 200);
      const rootNow = await pull(root);
      assert.deepEqual(
        [rootNow.profileId, rootNow.customerId],
        [signedIn.body.profileId, `fay-${t.name}`],
      );
      const strangerNow = await pull(stranger);
      assert.deepEqual([strangerNow.profileId, strangerNow.customerId], [root.profileId, null]);

      const out = await t.call<Snapshot>('POST', '/v1/logout', { headers: root.auth });
      assert.equal(out.status, 200);
      const sibNow = await pull(sib);
      assert.deepEqual(
        [sibNow.profileId, sibNow.customerId, sibNow.state],
        [out.body.profileId, null, emptyState()],
      );
    });

    it("a change's id is applied once per profile: again under another device or seq, or after a merge, it is skipped", async () => {
      const root = await register();
      const made = await t.call<RegisterDeviceResponse>('POST', '/v1/devices/sibling', {
        body: {},
        headers: root.auth,
      });
      const sib: Device = { ...made.body, auth: { authorization: `Bearer ${made.body.token}` } };
      const add = (seq: number, sku: string, id: string): Mutation => ({ ...m.add(seq, sku), id });
      // A tab that went on alone sent t1 under the sibling; the other tabs send it too, with t2.
      await pushOk(sib, [add(1, '22423', 't1')]);
      const both = await pushOk(root, [add(1, '22423', 't1'), add(2, '22699', 't2')]);
      assert.deepEqual(
        both.results.map((r) => r.status),
        ['skipped', 'applied'],
      );
      assert.equal(both.lastSeq, 2);
      assert.deepEqual(lines(await pull(root)), [
        ['22423', 1],
        ['22699', 1],
      ]);
      // An id that is not 1-64 letters, digits, '.', '_', ':' or '-': rejected, seq consumed.
      const bad = await pushOk(root, [
        add(3, '22423', ''),
        add(4, '22423', 'x'.repeat(65)),
        add(5, '22423', 'a\u0000b'),
      ]);
      assert.deepEqual(
        bad.results.map((r) => [r.status, r.status === 'rejected' && r.error.code]),
        Array(3).fill(['rejected', 'invalid_argument']),
      );
      assert.equal(bad.lastSeq, 5);
      // After the guest's cart merged into an account, its ids are the account's.
      const sub = `ida-${t.name}`;
      const account = await register();
      await pushOk(account, [add(1, '85099B', 'a1')]);
      assert.equal((await identify(account, sub)).status, 200);
      assert.equal((await identify(root, sub)).status, 200);
      const again = await pushOk(account, [add(2, '22699', 't2')]);
      assert.deepEqual(
        again.results.map((r) => r.status),
        ['skipped'],
      );
      assert.deepEqual(lines(await pull(account)), [
        ['85099B', 1],
        ['22423', 1],
        ['22699', 1],
      ]);
      // Also when the merge changed nothing (a guest cart emptied again): 'g1' stays skipped.
      const guest = await register();
      await pushOk(guest, [add(1, '84879', 'g1'), { ...m.set(2, '84879', 0), id: 'g2' }]);
      const before = (await pull(account)).version;
      const none = await identify(guest, sub);
      assert.equal(none.status, 200);
      assert.deepEqual(none.body.merge?.added, []);
      assert.equal(none.body.version, before);
      const late = await pushOk(account, [add(3, '84879', 'g1')]);
      assert.deepEqual(
        late.results.map((r) => r.status),
        ['skipped'],
      );
      assert.equal(lines(await pull(account)).length, 3);
    });

    it('needs a device token and an object body', async () => {
      const none = await t.call('POST', '/v1/devices/sibling', { body: {} });
      assert.equal(none.status, 401);
      assert.equal(code(none), 'unauthorized');
      const d = await register();
      const bad = await t.call('POST', '/v1/devices/sibling', { raw: '[]', headers: d.auth });
      assert.equal(bad.status, 400);
      assert.equal(code(bad), 'invalid_argument');
    });
  });

  describe('handoff', () => {
    it('a claim joins an anonymous profile, once', async () => {
      const a = await register();
      await pushOk(a, [m.add(1, '22423', 2)]);
      const made = await t.call<HandoffResponse>('POST', '/v1/handoff', { headers: a.auth });
      assert.equal(made.status, 201);
      assert.match(made.body.code, /^[A-HJKMNP-Z2-9]{8}$/);
      assert.equal(made.body.url, `${site.handoffUrl}?omni_handoff=${made.body.code}`);
      assert.ok(made.body.expiresAt > Date.now() + 9 * 60_000);
      const c = await register();
      const typed = `${made.body.code.slice(0, 4)}-${made.body.code.slice(4)}`.toLowerCase();
      const claim = await t.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', {
        body: { code: typed },
        headers: c.auth,
      });
      assert.equal(claim.status, 200);
      assert.equal(claim.body.mode, 'joined');
      assert.equal(claim.body.profileId, a.profileId);
      assert.deepEqual(lines(claim.body), [['22423', 2]]);
      await pushOk(c, [m.add(1, '22699')]);
      assert.deepEqual(lines(await pull(a)), [
        ['22423', 2],
        ['22699', 1],
      ]);
      const twice = await t.call('POST', '/v1/handoff/claim', {
        body: { code: made.body.code },
        headers: c.auth,
      });
      assert.equal(twice.status, 409);
      assert.equal(code(twice), 'conflict');
      const unknown = await t.call('POST', '/v1/handoff/claim', {
        body: { code: 'ZZZZ2222' },
        headers: c.auth,
      });
      assert.equal(unknown.status, 404);
      assert.equal(
        (await t.call('POST', '/v1/handoff/claim', { body: {}, headers: c.auth })).status,
        400,
      );
    });

    it("an identified profile's code copies its cart; logout retires open codes", async () => {
      const owner = await register();
      await identify(owner, `dora-${t.name}`);
      await pushOk(owner, [m.add(1, '22423', 1)]);
      const made = await t.call<HandoffResponse>('POST', '/v1/handoff', { headers: owner.auth });
      const tablet = await register();
      await pushOk(tablet, [m.add(1, '85099B')]);
      const claim = await t.call<HandoffClaimResponse>('POST', '/v1/handoff/claim', {
        body: { code: made.body.code },
        headers: tablet.auth,
      });
      assert.equal(claim.body.mode, 'copied');
      assert.equal(claim.body.profileId, tablet.profileId);
      assert.equal(claim.body.customerId, null);
      assert.equal(claim.body.version, 2);
      assert.deepEqual(lines(claim.body), [
        ['85099B', 1],
        ['22423', 1],
      ]);

      const later = await t.call<HandoffResponse>('POST', '/v1/handoff', { headers: owner.auth });
      await t.call('POST', '/v1/logout', { headers: owner.auth });
      const stale = await t.call('POST', '/v1/handoff/claim', {
        body: { code: later.body.code },
        headers: tablet.auth,
      });
      assert.equal(stale.status, 404);
    });
  });

  describe('catalog', () => {
    it('products by sku, with missing ones listed and an ETag', async () => {
      const res = await t.call<ProductsResponse>('GET', '/v1/products?skus=22423,NOPE-1', {
        headers: pub,
      });
      assert.equal(res.status, 200);
      const [p] = res.body.products;
      assert.deepEqual(
        [p?.sku, p?.title, p?.price, p?.currency],
        ['22423', 'Regency Cakestand 3 Tier', 1275, 'GBP'],
      );
      assert.deepEqual(res.body.missing, ['NOPE-1']);
      const etag = res.headers.get('etag');
      assert.ok(etag);
      const cached = await t.call('GET', '/v1/products?skus=22423,NOPE-1', {
        headers: { ...pub, 'if-none-match': etag },
      });
      assert.equal(cached.status, 304);
      assert.equal((await t.call('GET', '/v1/products?skus=22423')).status, 401);
      assert.equal((await t.call('GET', '/v1/products?skus=', { headers: pub })).status, 400);
    });

    it('imports JSON and CSV feeds idempotently, all or nothing unless partial', async () => {
      const feed = (price: number) => ({
        products: [
          {
            sku: 'NEW-1',
            title: 'Contract mug',
            price,
            currency: 'GBP',
            url: '/p/NEW-1',
            image: null,
            category: 'Mugs',
          },
        ],
      });
      const post = (body: unknown, query = '', headers: Record<string, string> = admin) =>
        t.call<Record<string, unknown>>('POST', `/v1/admin/products/import${query}`, {
          body,
          headers,
        });
      const report = (r: Reply<Record<string, unknown>>) => [
        r.status,
        r.body.created,
        r.body.updated,
        r.body.unchanged,
      ];
      assert.deepEqual(report(await post(feed(500))), [200, 1, 0, 0]);
      assert.deepEqual(report(await post(feed(500))), [200, 0, 0, 1]);
      assert.deepEqual(report(await post(feed(550))), [200, 0, 1, 0]);
      const csv = await t.call<Record<string, unknown>>('POST', '/v1/admin/products/import', {
        raw: 'sku,title,price,currency,attr.colour\nNEW-2,"Contract bowl, blue",300,GBP,Blue\n',
        headers: { ...admin, 'content-type': 'text/csv' },
      });
      assert.deepEqual(report(csv), [200, 1, 0, 0]);
      const got = await t.call<ProductsResponse>('GET', '/v1/products?skus=NEW-2,NEW-1', {
        headers: pub,
      });
      assert.deepEqual(
        got.body.products.map((p) => [p.sku, p.title, p.price, p.attributes, p.description]),
        [
          ['NEW-2', 'Contract bowl, blue', 300, { colour: 'Blue' }, ''],
          ['NEW-1', 'Contract mug', 550, {}, ''],
        ],
      );
      const bad = [{ sku: 'NEW-3', title: 'Half', price: 1.5, currency: 'GBP' }];
      const refused = await post(bad);
      assert.equal(refused.status, 422);
      assert.equal(code(refused), 'invalid_argument');
      const details = (refused.body as unknown as ErrorBody).error.details as {
        applied: boolean;
        rejected: { row: number }[];
      };
      assert.deepEqual([details.applied, details.rejected.map((r) => r.row)], [false, [1]]);
      const partial = await post(
        [...bad, { sku: 'NEW-4', title: 'Whole', price: 100, currency: 'GBP' }],
        '?partial=true',
      );
      assert.deepEqual(
        [...report(partial), (partial.body.rejected as unknown[]).length],
        [200, 1, 0, 0, 1],
      );
      // Text no database stores is a rejected row with its reason, not a 500.
      const nul = await post([
        { sku: 'NEW-5', title: 'Mug\u0000', price: 100, currency: 'GBP' },
        { sku: 'NEW-6', title: 'Mug', price: 100, currency: 'GBP', attributes: { c: '\ud800' } },
        // A name checked on its own (a number value too), and never joined with its value.
        { sku: 'NEW-7', title: 'Mug', price: 100, currency: 'GBP', attributes: { 'k\u0000': 5 } },
        {
          sku: 'NEW-8',
          title: 'Mug',
          price: 100,
          currency: 'GBP',
          attributes: { x: 1, 'y\ud83d': '\udc4d' },
        },
      ]);
      assert.equal(nul.status, 422);
      assert.deepEqual(
        ((nul.body as unknown as ErrorBody).error.details as { rejected: unknown[] }).rejected,
        [
          {
            row: 1,
            sku: 'NEW-5',
            reasons: ['title must not contain NUL or an unpaired surrogate'],
          },
          {
            row: 2,
            sku: 'NEW-6',
            reasons: ['attribute "c" must not contain NUL or an unpaired surrogate'],
          },
          {
            row: 3,
            sku: 'NEW-7',
            reasons: ['attribute name "k\u0000" must not contain NUL or an unpaired surrogate'],
          },
          {
            row: 4,
            sku: 'NEW-8',
            reasons: ['attribute name "y\ud83d" must not contain NUL or an unpaired surrogate'],
          },
        ],
      );
      const xml = await t.call('POST', '/v1/admin/products/import', {
        raw: '<x/>',
        headers: { ...admin, 'content-type': 'text/xml' },
      });
      assert.equal(xml.status, 415);
      assert.equal((await post(feed(1), '', {})).status, 401);
    });
  });

  describe('stock', () => {
    const stock = async (query: string) => {
      const res = await t.call<StockAnswer>('GET', `/v1/stock?${query}`, { headers: pub });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    };
    const rank = (a: StockAnswer) =>
      a.stores.map((s) => [
        s.store.id,
        s.availability.band,
        'count' in s.availability ? s.availability.count : null,
        s.updatedAt === null ? 'never' : 'counted',
      ]);

    it('ranks stores with stock first, then nearest, with honest bands', async () => {
      const plain = await stock('sku=22423');
      assert.deepEqual(rank(plain), [
        ['lon-covent-garden', 'in_stock', null, 'counted'],
        ['manchester', 'low_stock', 2, 'counted'],
        ['brighton', 'out_of_stock', null, 'never'],
        ['edinburgh', 'out_of_stock', null, 'counted'],
      ]);
      assert.deepEqual(
        [plain.online.availability, plain.origin, plain.lowStockThreshold],
        [{ band: 'in_stock' }, null, 5],
      );
      const north = await stock('sku=22423&lat=55.95&lng=-3.2');
      assert.deepEqual(
        north.stores.map((s) => s.store.id),
        ['manchester', 'lon-covent-garden', 'edinburgh', 'brighton'],
      );
      assert.equal(north.stores[2]?.distanceKm, 0.3);
      const postal = await stock('sku=22423&postal=m1%201ae');
      assert.deepEqual(postal.origin, { lat: 53.48, lng: -2.24, area: 'M' });
      assert.equal(postal.stores[0]?.store.id, 'manchester');
      assert.equal(postal.stores[0]?.distanceKm, 0.6);
    });

    it('refuses bad queries with 400, unknown products with 404', async () => {
      for (const query of [
        'sku=22423&lat=51',
        'sku=22423&lat=51&lng=0&postal=M1',
        'sku=22423&postal=QQ1',
        'sku=%3F%3F',
      ]) {
        const res = await t.call('GET', `/v1/stock?${query}`, { headers: pub });
        assert.equal(res.status, 400, query);
        assert.equal(code(res), 'invalid_argument');
      }
      assert.equal((await t.call('GET', '/v1/stock?sku=NOPE-1', { headers: pub })).status, 404);
      assert.equal((await t.call('GET', '/v1/stock?sku=22423')).status, 401);
    });

    it('admin stock: newest count wins, stale and unknown rows are reported', async () => {
      const put = (body: unknown) =>
        t.call<Record<string, unknown[]>>('PUT', '/v1/admin/stock', { body, headers: admin });
      const now = Date.now();
      const one = await put({ location: 'edinburgh', sku: '22699', qty: 9, updatedAt: now });
      assert.equal(one.status, 200);
      assert.deepEqual([one.body.applied?.length, one.body.stale, one.body.invalid], [1, [], []]);
      const bulk = await put({
        updates: [
          { location: 'edinburgh', sku: '22699', qty: 1, updatedAt: now - 1000 },
          { storeId: 'atlantis', sku: '22699', qty: 1, updatedAt: now },
          { location: 'online', sku: '22699', qty: 7, updatedAt: new Date(now).toISOString() },
        ],
      });
      assert.deepEqual(
        [
          bulk.body.applied?.length,
          (bulk.body.stale as { index: number; reason: string }[]).map((r) => [r.index, r.reason]),
          (bulk.body.invalid as { index: number }[]).map((r) => r.index),
        ],
        [1, [[0, 'stale']], [1]],
      );
      const answer = await stock('sku=22699');
      assert.deepEqual(answer.online.availability, { band: 'in_stock' });
      assert.equal(
        answer.stores.find((s) => s.store.id === 'edinburgh')?.availability.band,
        'in_stock',
      );
      assert.equal(
        (await put({ location: 'edinburgh', sku: '22699', qty: -1, updatedAt: now })).status,
        400,
      );
      assert.equal((await t.call('PUT', '/v1/admin/stock', { body: {}, headers: {} })).status, 401);
    });

    it('admin stores: upserted stores join every answer', async () => {
      const york = {
        id: 'york',
        name: 'omnikit York',
        address: { line1: '25 Stonegate', city: 'York', postcode: 'YO1 8AW', country: 'GB' },
        lat: 53.9615,
        lng: -1.0835,
        hours: { mon: [], tue: [], wed: [], thu: [], fri: [], sat: ['10:00-16:00'], sun: [] },
        pickup: false,
      };
      const res = await t.call<{ upserted: number }>('PUT', '/v1/admin/stores', {
        body: { stores: [york] },
        headers: admin,
      });
      assert.deepEqual([res.status, res.body.upserted], [200, 1]);
      assert.ok((await stock('sku=85123A')).stores.some((s) => s.store.id === 'york'));
      const bad = await t.call('PUT', '/v1/admin/stores', {
        body: [{ ...york, id: 'online' }],
        headers: admin,
      });
      assert.equal(bad.status, 400);
      // Text no database stores: a 400 that names the fields, not a 500.
      const nul = await t.call('PUT', '/v1/admin/stores', {
        body: [{ ...york, name: 'York\u0000', address: { ...york.address, city: 'Y\u0000' } }],
        headers: admin,
      });
      assert.equal(nul.status, 400);
      assert.match(JSON.stringify(nul.body), /stores\[0\]\.name: .*without NUL/);
      assert.match(JSON.stringify(nul.body), /stores\[0\]\.address\.city: .*without NUL/);
    });

    it('the stock stream sends each sku at once, then every change', async () => {
      const stream = await t.stream(
        `/v1/stock/stream?key=${site.publishableKey}&skus=85099B&postal=M1`,
      );
      try {
        const first = await stream.next<StockAnswer>('stock');
        assert.deepEqual(rank(first)[0], ['manchester', 'in_stock', null, 'counted']);
        const res = await t.call('PUT', '/v1/admin/stock', {
          body: { location: 'manchester', sku: '85099B', qty: 3, updatedAt: Date.now() },
          headers: admin,
        });
        assert.equal(res.status, 200);
        const next = await stream.next<StockAnswer>('stock');
        assert.deepEqual(next.stores.find((s) => s.store.id === 'manchester')?.availability, {
          band: 'low_stock',
          count: 3,
        });
      } finally {
        stream.close();
      }
      assert.equal((await t.call('GET', '/v1/stock/stream?skus=85099B')).status, 401);
      assert.equal(
        (await t.call('GET', `/v1/stock/stream?key=${site.publishableKey}&skus=`)).status,
        400,
      );
    });
  });

  describe('orders and recommendations', () => {
    const recs = async (d: Device, query: string) => {
      const res = await t.call<RecommendationsResponse>('GET', `/v1/recommendations?${query}`, {
        headers: d.auth,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const skus = res.body.items.map((i) => i.sku);
      assert.equal(new Set(skus).size, skus.length, 'no sku twice');
      for (const i of res.body.items) assert.equal(i.product.sku, i.sku);
      return res.body;
    };

    it('also-bought follows the orders, never the anchor or excluded skus', async () => {
      const d = await register();
      const cake = await recs(d, 'strategy=also-bought&sku=22423&limit=5');
      assert.equal(cake.strategy, 'also-bought');
      assert.equal(cake.items.length, 5);
      assert.deepEqual(cake.items[0], {
        sku: '22699',
        reason: { code: 'often_bought_with', sku: '22423', text: 'often bought with 22423' },
        product: {
          sku: '22699',
          title: 'Roses Regency Teacup and Saucer',
          price: 295,
          currency: 'GBP',
          url: '/product.html?sku=22699',
          image: '/images/22699.svg',
          category: 'Mugs & cups',
          groupId: null,
        },
      });
      assert.ok(!cake.items.some((i) => i.sku === '22423'));
      const bags = await recs(d, 'strategy=also-bought&sku=85099B&limit=3&exclude=22699');
      assert.equal(bags.items[0]?.sku, '22386');
      assert.ok(!bags.items.some((i) => i.sku === '22699'));
    });

    it('recently-viewed is exactly what was viewed; personalized leaves the cart out', async () => {
      const d = await register();
      await pushOk(d, [m.view(1, '22697'), m.view(2, '85123A'), m.add(3, '22423')]);
      const seen = await recs(d, 'strategy=recently-viewed');
      assert.deepEqual(
        seen.items.map((i) => [i.sku, i.reason.code]),
        [
          ['85123A', 'recently_viewed'],
          ['22697', 'recently_viewed'],
        ],
      );
      const mine = await recs(d, 'limit=4');
      assert.equal(mine.strategy, 'personalized');
      assert.deepEqual(
        [mine.items[0]?.sku, mine.items[0]?.reason.code, mine.items[0]?.reason.sku],
        ['22699', 'because_in_cart', '22423'],
      );
      assert.ok(!mine.items.some((i) => i.sku === '22423'));
      const hot = await recs(d, 'strategy=trending&limit=3');
      assert.equal(hot.items.length, 3);
      for (const i of hot.items)
        assert.ok(['trending', 'popular', 'catalog'].includes(i.reason.code));
    });

    it('orders are idempotent and count for the customer on every device', async () => {
      const sub = `erin-${t.name}`;
      const d = await register();
      const who = await identify(d, sub);
      // `at` is given: the server compares it on a retry, and one left out defaults to "now",
      // which differs between the two calls (a 409 on both implementations).
      const order = {
        at: Date.now() - 1000,
        orderId: `o-${t.name}-1`,
        customerId: sub,
        channel: 'store',
        storeId: 'manchester',
        lines: [{ sku: '22699', qty: 1 }],
      };
      const post = (body: unknown) =>
        t.call<{ created: boolean; profileId?: string | null }>('POST', '/v1/orders', {
          body,
          headers: admin,
        });
      const made = await post(order);
      assert.deepEqual(
        [made.status, made.body.created, made.body.profileId],
        [201, true, who.body.profileId],
      );
      const retry = await post(order);
      assert.deepEqual([retry.status, retry.body.created], [200, false]);
      assert.equal((await post({ ...order, lines: [{ sku: '22699', qty: 2 }] })).status, 409);
      assert.equal((await post({ ...order, orderId: 'o-x', storeId: undefined })).status, 400);
      assert.equal((await post({ ...order, orderId: 'o-y', storeId: 'atlantis' })).status, 400);
      // A customer id no database stores as sent (an unpaired surrogate): 400, not a 409 later.
      assert.equal((await post({ ...order, orderId: 'o-z', customerId: 'a\ud800' })).status, 400);
      // A bought item is not recommended again, even where it is the obvious pick.
      const after = await recs(d, 'strategy=also-bought&sku=22423&limit=5');
      assert.ok(!after.items.some((i) => i.sku === '22699'));
    });

    it('refuses bad queries', async () => {
      const d = await register();
      for (const query of [
        'strategy=nope',
        'strategy=also-bought',
        'limit=0',
        'limit=101',
        'sku=%3F',
      ]) {
        const res = await t.call('GET', `/v1/recommendations?${query}`, { headers: d.auth });
        assert.equal(res.status, 400, query);
        assert.equal(code(res), 'invalid_argument');
      }
      assert.equal((await t.call('GET', '/v1/recommendations')).status, 401);
    });
  });
}
