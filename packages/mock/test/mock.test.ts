// The mock in a real browser, through msw's service worker: what Node's interceptors do not
// prove (EventSource streams through the worker, network errors, headers a page can read).
// The answers' shapes are checked against the OpenAPI document by test/contract (Node).
import { expect } from '@open-wc/testing';
import { setupWorker } from 'msw/browser';
import { createMock } from '@omnikit/mock';
import {
  OmniError,
  type Poke,
  type RegisterDeviceResponse,
  type StockAnswer,
} from '@omnikit/protocol';

const endpoint = 'https://api.omnikit.test';
const mock = createMock({ endpoint });
const worker = setupWorker(...mock.handlers);

async function register(): Promise<RegisterDeviceResponse & { auth: Record<string, string> }> {
  const res = await fetch(`${endpoint}/v1/devices`, {
    method: 'POST',
    headers: { 'x-omni-key': mock.site.publishableKey },
  });
  const body = (await res.json()) as RegisterDeviceResponse;
  return { ...body, auth: { authorization: `Bearer ${body.token}` } };
}

const push = (d: RegisterDeviceResponse & { auth: Record<string, string> }, seq: number) =>
  fetch(`${endpoint}/v1/sync/push`, {
    method: 'POST',
    headers: { ...d.auth, 'content-type': 'application/json' },
    body: JSON.stringify({
      deviceId: d.deviceId,
      mutations: [{ seq, name: 'cart.add', args: { sku: '22423', qty: 1 }, at: Date.now() }],
    }),
  });

/** The next `type` event of an EventSource, its data parsed. */
const next = <T>(source: EventSource, type: string) =>
  new Promise<T>((resolve) =>
    source.addEventListener(type, (e) => resolve(JSON.parse((e as MessageEvent).data) as T), {
      once: true,
    }),
  );

describe('@omnikit/mock in the browser', () => {
  before(() => worker.start({ quiet: true, onUnhandledRequest: 'error' }));
  afterEach(() => mock.clearFaults());
  // stop() leaves msw's service worker in control of the next test pages of this origin, and
  // WebKit streams no EventSource through it: later files would never get a poke.
  after(async () => {
    mock.reset();
    worker.stop();
    const registrations = await navigator.serviceWorker.getRegistrations();
    await Promise.all(registrations.map((r) => r.unregister()));
  });

  it('syncs a cart and pokes an EventSource through the service worker', async () => {
    const d = await register();
    expect((await push(d, 1)).status).to.equal(200);
    const ticket = await fetch(`${endpoint}/v1/sync/stream-ticket`, {
      method: 'POST',
      headers: d.auth,
    }).then((r) => r.json() as Promise<{ ticket: string }>);
    const source = new EventSource(`${endpoint}/v1/sync/stream?ticket=${ticket.ticket}`);
    try {
      const first = await next<Poke>(source, 'poke');
      expect(first.version).to.equal(1);
      const second = next<Poke>(source, 'poke');
      await push(d, 2);
      expect((await second).snapshot?.state.cart.lines[0]?.qty).to.equal(2);
    } finally {
      source.close();
    }
  });

  it('streams stock changes to an EventSource', async () => {
    const key = mock.site.publishableKey;
    const source = new EventSource(`${endpoint}/v1/stock/stream?key=${key}&skus=85099B`);
    try {
      const first = await next<StockAnswer>(source, 'stock');
      expect(first.online.availability.band).to.equal('in_stock');
      const change = next<StockAnswer>(source, 'stock');
      mock.setStock('online', '85099B', 0);
      expect((await change).online.availability.band).to.equal('out_of_stock');
    } finally {
      source.close();
    }
  });

  it('gives a page a readable 429 with Retry-After, and offline network errors', async () => {
    const d = await register();
    mock.fail('push', { status: 429, retryAfter: 3, times: 1 });
    const limited = await push(d, 1);
    expect([limited.status, limited.headers.get('retry-after')]).to.deep.equal([429, '3']);
    const err = OmniError.fromBody(limited.status, await limited.json());
    expect([err.code, err.retryable]).to.deep.equal(['rate_limited', true]);
    mock.offline();
    let failed: unknown;
    await push(d, 1).catch((e: unknown) => (failed = e));
    expect(failed).to.be.instanceOf(TypeError);
    mock.offline(false);
    expect((await push(d, 1)).status).to.equal(200);
  });

  it('answers unknown routes with the server error shape', async () => {
    const res = await fetch(`${endpoint}/v1/unknown`, { method: 'POST' });
    expect(res.status).to.equal(404);
    expect(OmniError.fromBody(res.status, await res.json()).code).to.equal('not_found');
  });
});
