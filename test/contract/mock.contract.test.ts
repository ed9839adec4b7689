// The shared flows against @omnikit/mock (msw/node), then what only the mock has: its fault
// switches, its test helpers and reset. Last, every operation of the OpenAPI document must have
// been answered by the mock (and validated) at least once in this file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ErrorBody,
  IdentifyResponse,
  RegisterDeviceResponse,
  StockAnswer,
} from '@omnikit/protocol';
import { UK_POSTCODE_AREAS } from '../../packages/server/src/commerce/core/geo.js';
import { postcodeAreas } from '../../packages/mock/src/postcodes.js';
import { contractFlows } from './flows.js';
import { operations, validated } from './openapi.js';
import { mockTarget, site, type Target } from './targets.js';
import type { OmniMock } from '@omnikit/mock';

describe('contract: @omnikit/mock', () => contractFlows(async () => mockTarget()));

describe('@omnikit/mock switches and helpers', () => {
  let t: Target & { mock: OmniMock };
  let device: RegisterDeviceResponse & { auth: Record<string, string> };
  const pull = () => t.call('GET', '/v1/sync/pull', { headers: device.auth });
  before(async () => {
    t = mockTarget();
    const res = await t.call<RegisterDeviceResponse>('POST', '/v1/devices', {
      headers: { 'x-omni-key': site.publishableKey },
    });
    device = { ...res.body, auth: { authorization: `Bearer ${res.body.token}` } };
  });
  after(() => t.close());

  it('injects 429 with Retry-After, for a number of answers', async () => {
    t.mock.fail('pull', { status: 429, retryAfter: 7, times: 2 });
    for (let i = 0; i < 2; i++) {
      const res = await pull();
      assert.equal(res.status, 429);
      assert.equal(res.headers.get('retry-after'), '7');
      assert.deepEqual((res.body as ErrorBody).error.code, 'rate_limited');
      assert.deepEqual((res.body as ErrorBody).error.details, { retryAfter: 7 });
    }
    assert.equal((await pull()).status, 200);
  });

  it('injects 500 on every operation until cleared', async () => {
    t.mock.fail('*', { status: 500 });
    const res = await pull();
    assert.deepEqual([res.status, (res.body as ErrorBody).error.code], [500, 'internal']);
    assert.equal(
      (await t.call('POST', '/v1/sync/stream-ticket', { headers: device.auth })).status,
      500,
    );
    t.mock.clearFaults();
    assert.equal((await pull()).status, 200);
  });

  it('adds latency', async () => {
    t.mock.latency(60);
    const start = performance.now();
    await pull();
    // A lower bound only: a busy machine can make it slower, never faster.
    assert.ok(performance.now() - start >= 55);
    t.mock.clearFaults();
  });

  it('goes offline: fetch rejects as with no network, open streams end', async () => {
    const stream = await t.stream(`/v1/stock/stream?key=${site.publishableKey}&skus=22423`);
    await stream.next('stock');
    t.mock.offline();
    await stream.ended();
    await assert.rejects(
      fetch('https://api.omnikit.test/v1/sync/pull', { headers: device.auth }),
      TypeError,
    );
    t.mock.offline(false);
    assert.equal((await pull()).status, 200);
  });

  it('answers unknown routes with the server error shape', async () => {
    const res = await fetch('https://api.omnikit.test/v1/nope', { method: 'POST' });
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as ErrorBody).error.code, 'not_found');
  });

  it('signs customer tokens, sets stock, shows snapshots', async () => {
    const token = await t.mock.customerToken('helper-1');
    const who = await t.call<IdentifyResponse>('POST', '/v1/identify', {
      body: { token },
      headers: device.auth,
    });
    assert.equal(who.body.customerId, 'helper-1');
    assert.deepEqual(t.mock.snapshot(device.deviceId), {
      profileId: who.body.profileId,
      customerId: 'helper-1',
      version: who.body.version,
      lastSeq: 0,
      state: who.body.state,
    });
    assert.equal(t.mock.snapshot('nope'), undefined);
    const stream = await t.stream(`/v1/stock/stream?key=${site.publishableKey}&skus=21212`);
    try {
      assert.equal(
        (await stream.next<StockAnswer>('stock')).online.availability.band,
        'out_of_stock',
      );
      t.mock.setStock('online', '21212', 2);
      const next = await stream.next<StockAnswer>('stock');
      assert.deepEqual(next.online.availability, { band: 'low_stock', count: 2 });
    } finally {
      stream.close();
    }
  });

  it('reset forgets devices and re-seeds the catalog', async () => {
    t.mock.setStock('online', '21212', 50);
    t.mock.reset();
    const res = await pull();
    assert.deepEqual(
      [res.status, (res.body as ErrorBody).error.details],
      [401, { reason: 'unknown_device' }],
    );
    const answer = await t.call<StockAnswer>('GET', '/v1/stock?sku=21212', {
      headers: { 'x-omni-key': site.publishableKey },
    });
    assert.equal(answer.body.online.updatedAt, null);
  });

  it('knows the same UK postcode areas as the server', () => {
    assert.deepEqual(
      Object.fromEntries(postcodeAreas),
      Object.fromEntries(Object.entries(UK_POSTCODE_AREAS).map(([k, v]) => [k, [...v]])),
    );
  });
});

// Registered last, so it runs after every test above.
describe('coverage', () => {
  it('the mock answered every operation of the OpenAPI document, each answer validated', () => {
    const missing = [...operations.keys()].filter((id) => !validated.has(id));
    assert.deepEqual(missing, []);
    const total = [...validated.values()].reduce((a, b) => a + b, 0);
    // The one figure line of the contract suite.
    // eslint-disable-next-line no-console
    console.log(
      `contract: mock operations=${validated.size}/${operations.size} answers-validated=${total}`,
    );
  });
});
