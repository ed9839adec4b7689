import { expect } from '@open-wc/testing';
import { setupWorker } from 'msw/browser';
import { http, HttpResponse } from 'msw';
import { createHandlers } from '@omnikit/mock';
import { OmniError, errorBody } from '@omnikit/protocol';

const endpoint = 'https://api.omnikit.test';
const worker = setupWorker(...createHandlers({ endpoint }));

describe('@omnikit/mock', () => {
  before(() => worker.start({ quiet: true, onUnhandledRequest: 'error' }));
  afterEach(() => worker.resetHandlers());
  // stop() leaves msw's service worker in control of the next test pages of this origin, and
  // WebKit streams no EventSource through it: later files would never get a poke.
  after(async () => {
    worker.stop();
    const registrations = await navigator.serviceWorker.getRegistrations();
    await Promise.all(registrations.map((r) => r.unregister()));
  });

  it('answers fetch through the msw service worker', async () => {
    const res = await fetch(`${endpoint}/v1/health`);
    expect(await res.json()).to.deep.equal({ ok: true, version: 'mock' });
  });

  it('answers unknown routes with the server error shape', async () => {
    const res = await fetch(`${endpoint}/v1/unknown`, { method: 'POST' });
    expect(res.status).to.equal(404);
    expect(OmniError.fromBody(res.status, await res.json()).code).to.equal('not_found');
  });

  it('lets a test inject a fault with a one-off handler', async () => {
    worker.use(
      http.get(
        `${endpoint}/v1/health`,
        () => HttpResponse.json(errorBody(new OmniError('unavailable', 'down')), { status: 503 }),
        { once: true },
      ),
    );
    const res = await fetch(`${endpoint}/v1/health`);
    expect(res.status).to.equal(503);
    expect((await fetch(`${endpoint}/v1/health`)).status).to.equal(200);
  });
});
