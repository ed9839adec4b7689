// The mock in a real browser, through msw's service worker: what Node's interceptors do not
// prove (network errors, headers a page can read). Its event streams: mock-stream.test.ts.
// The answers' shapes are checked against the OpenAPI document by test/contract (Node).
import { expect } from '@open-wc/testing';
import { OmniError } from '@omnikit/protocol';
import { endpoint, mock, push, register, useWorker } from './browser-mock.js';

describe('@omnikit/mock in the browser', () => {
  useWorker();

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
