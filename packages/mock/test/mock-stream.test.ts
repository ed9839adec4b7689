// The mock's event streams in a real browser: an EventSource served through msw's service
// worker, which needs a ReadableStream the page can transfer to the worker (not WebKitGTK's).
import { expect } from '@open-wc/testing';
import type { Poke, StockAnswer } from '@omnikit/protocol';
import { endpoint, mock, push, register, useWorker } from './browser-mock.js';

/** The next `type` event of an EventSource, its data parsed. */
const next = <T>(source: EventSource, type: string) =>
  new Promise<T>((resolve) =>
    source.addEventListener(type, (e) => resolve(JSON.parse((e as MessageEvent).data) as T), {
      once: true,
    }),
  );

describe('@omnikit/mock streams in the browser', () => {
  useWorker();

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
});
