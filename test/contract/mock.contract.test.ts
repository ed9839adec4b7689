// The shared flows against @omnikit/mock (msw/node), with live event streams and again with
// long-poll ones (what WebKit gets), then what only the mock has: its fault switches, its test
// helpers and reset, and how a long-poll stream goes on and ends. Last, every operation of the
// OpenAPI document must have been answered by the mock (and validated) at least once in this file.
import { after, before, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type {
  ErrorBody,
  IdentifyResponse,
  RegisterDeviceResponse,
  StockAnswer,
} from '@omnikit/protocol';
import { UK_POSTCODE_AREAS } from '../../packages/server/src/commerce/core/geo.js';
import { mutationHelpers } from '../../packages/server/test/helpers.js';
import { postcodeAreas } from '../../packages/mock/src/postcodes.js';
import { contractFlows } from './flows.js';
import { operations, validated } from './openapi.js';
import { mockTarget, site, type Target } from './targets.js';
import type { OmniMock } from '@omnikit/mock';

describe('contract: @omnikit/mock', () => contractFlows(async () => mockTarget()));
describe('contract: @omnikit/mock, long-poll event streams', () =>
  contractFlows(async () => mockTarget({ eventStreams: 'long-poll' })));

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

  it('beats every 15 s on a live stream, as the server does', async (ctx) => {
    ctx.mock.timers.enable({ apis: ['setInterval'] });
    const stream = await t.stream(`/v1/stock/stream?key=${site.publishableKey}&skus=22423`);
    try {
      assert.equal(await stream.next('heartbeat'), 15_000);
      await stream.next('stock');
      // A stream that never beat again would have the SDK pull, and a stock watch poll.
      ctx.mock.timers.tick(15_000);
      assert.equal(await stream.next('heartbeat'), 15_000);
    } finally {
      stream.close();
    }
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

describe('@omnikit/mock long-poll event streams', () => {
  const base = 'https://api.omnikit.test';
  const m = mutationHelpers(Date.now() - 600_000);
  let t: Target & { mock: OmniMock };
  let device: RegisterDeviceResponse & { auth: Record<string, string> };
  let seq = 0;
  before(() => {
    t = mockTarget({ eventStreams: 'long-poll' });
  });
  const register = async () => {
    const res = await t.call<RegisterDeviceResponse>('POST', '/v1/devices', {
      headers: { 'x-omni-key': site.publishableKey },
    });
    return { ...res.body, auth: { authorization: `Bearer ${res.body.token}` } };
  };
  beforeEach(async () => {
    device = await register();
    seq = 0;
  });
  after(() => t.close());

  const push = () =>
    t.call('POST', '/v1/sync/push', {
      body: { deviceId: device.deviceId, mutations: [m.add(++seq, '22423')] },
      headers: device.auth,
    });
  /** A sync stream's URL with a fresh ticket. */
  const streamUrl = async (d = device) => {
    const { body } = await t.call<{ ticket: string }>('POST', '/v1/sync/stream-ticket', {
      headers: d.auth,
    });
    return `${base}/v1/sync/stream?ticket=${body.ticket}`;
  };
  /** One answer, as EventSource asks for it (a reconnect says the id it saw last). */
  const answer = async (url: string, lastEventId?: string) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const res = await fetch(url, { headers });
    return { status: res.status, text: await res.text() };
  };
  /**
   * `answer(url, lastEventId)`, once the mock holds it: the unknown route's handler is msw's last,
   * so when its answer is back every request made before it has reached its own handler.
   */
  const held = async (url: string, lastEventId?: string) => {
    const reply = answer(url, lastEventId);
    await fetch(`${base}/v1/unknown`);
    return { reply };
  };
  const idOf = (text: string) => /^id: (.+)$/m.exec(text)?.[1] ?? '';
  const heartbeat = (id: string) => `event: heartbeat\nretry: 100\nid: ${id}\ndata: 15000\n\n`;
  const poke = (text: string) =>
    [...text.matchAll(/event: poke\nid: (\d+)\n/g)].map((x) => Number(x[1]));

  it('answers a new stream at once, then as events wait: the heartbeat (retry, id), the events', async () => {
    await push();
    const url = await streamUrl();
    const first = await answer(url);
    assert.equal(first.status, 200);
    assert.ok(first.text.startsWith(heartbeat('1')), first.text);
    assert.deepEqual(poke(first.text), [1]);
    // The reconnect goes on with the stream: a change made between two answers waits for it.
    await push();
    const second = await answer(url, '1');
    assert.ok(second.text.startsWith(heartbeat('2')), second.text);
    assert.deepEqual(poke(second.text), [2]);
    // A stream opens at once even with nothing to send (here: resumed where the client is).
    const other = await streamUrl(await register());
    assert.equal((await answer(`${other}&lastEventId=0`)).text, heartbeat('0'));
  });

  it("holds a device's new stream opened right after its last answer, as the SDK opens one", async () => {
    await answer(await streamUrl());
    // The SDK does not reconnect: it pulls, then opens a new stream with a new ticket.
    const next = await held(await streamUrl());
    await push();
    const text = (await next.reply).text;
    // Its snapshot first, as a new stream's, then the change.
    assert.ok(text.startsWith(heartbeat('1')), text);
    assert.deepEqual(poke(text), [0, 1]);
  });

  it("answers a device's new stream at once when something changed since its last answer", async () => {
    await answer(await streamUrl());
    // A change between the two streams (the SDK pulls only once the new one opens).
    await push();
    const url = await streamUrl();
    const start = performance.now();
    const text = (await answer(url)).text;
    // Not held: a held answer with nothing new ends only after 5 s (the margin is for load).
    assert.ok(performance.now() - start < 4000, 'answered at once');
    assert.ok(text.startsWith(heartbeat('1')), text);
    assert.deepEqual(poke(text), [1]);
  });

  it('a held answer whose client went away leaves its events to the reconnect', async () => {
    const url = await streamUrl();
    assert.deepEqual(poke((await answer(url)).text), [0]);
    const gone = new AbortController();
    const reply = fetch(url, {
      headers: { accept: 'text/event-stream', 'last-event-id': '0' },
      signal: gone.signal,
    }).catch(() => undefined);
    await fetch(`${base}/v1/unknown`); // the held request has reached its handler
    gone.abort();
    await reply;
    await push();
    // Not swallowed by the abandoned answer, and the reconnect is not refused as a second use.
    const next = await answer(url, '0');
    assert.equal(next.status, 200);
    assert.deepEqual(poke(next.text), [1]);
  });

  it('holds an answer until an event, or ends it with the heartbeat alone after 5 s', async () => {
    const url = await streamUrl();
    assert.deepEqual(poke((await answer(url)).text), [0]);
    const start = performance.now();
    const quiet = await answer(url, '0');
    // A lower bound only: a busy machine can make it later, never sooner.
    assert.ok(performance.now() - start >= 4900);
    assert.equal(quiet.text, heartbeat('0'));
    const next = await held(url, '0');
    // While an answer is held, the ticket opens nothing else, reconnect or not.
    assert.equal((await answer(url, '0')).status, 401);
    assert.equal((await answer(url)).status, 401);
    await push();
    assert.deepEqual(poke((await next.reply).text), [1]);
  });

  it('a reconnect meets no fault or latency; a new stream does', async () => {
    const stock = `${base}/v1/stock/stream?key=${site.publishableKey}&skus=22423`;
    const id = idOf((await answer(stock)).text);
    t.mock.fail('*', { status: 500 });
    t.mock.latency(20_000);
    try {
      const start = performance.now();
      const next = answer(stock, id);
      t.mock.setStock('online', '22423', 0);
      const res = await next;
      // Delayed by the latency, it could not be back before 20 s.
      assert.ok(performance.now() - start < 20_000);
      assert.equal(res.status, 200);
      assert.match(res.text, /"online":\{"availability":\{"band":"out_of_stock"/);
      t.mock.latency(0);
      assert.equal((await answer(stock)).status, 500);
    } finally {
      t.mock.latency(0);
      t.mock.clearFaults();
    }
  });

  it('offline and reset end a stream: its held answer ends, its reconnect is refused', async () => {
    const url = await streamUrl();
    await answer(url);
    const quiet = await held(url, '0');
    t.mock.offline();
    assert.equal((await quiet.reply).text, heartbeat('0'));
    t.mock.offline(false);
    assert.equal((await answer(url, '0')).status, 401);

    const stock = `${base}/v1/stock/stream?key=${site.publishableKey}&skus=22423`;
    const first = await answer(stock);
    const id = idOf(first.text);
    assert.match(first.text, /event: stock\n/);
    const waiting = await held(stock, id);
    t.mock.reset();
    assert.equal((await waiting.reply).text, heartbeat(id));
    // A stock stream needs no ticket: the reconnect opens a new stream, which sends every sku.
    const fresh = await answer(stock, id);
    assert.equal(fresh.status, 200);
    assert.notEqual(idOf(fresh.text), id);
    assert.match(fresh.text, /event: stock\n/);
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
