// The mock's event streams in a real browser, an EventSource served through msw's service worker:
// one live answer where the page can transfer a ReadableStream to the worker (Chromium, Firefox),
// long-poll answers that EventSource reconnects after where it cannot (WebKit: DataCloneError).
import { expect } from '@open-wc/testing';
import type { Poke, StockAnswer } from '@omnikit/protocol';
import { endpoint, mock, push, register, useWorker, type Device } from './browser-mock.js';

/** The next `type` event of an EventSource, its data parsed. */
const next = <T>(source: EventSource, type: string) =>
  new Promise<T>((resolve) =>
    source.addEventListener(type, (e) => resolve(JSON.parse((e as MessageEvent).data) as T), {
      once: true,
    }),
  );

/** Every `type` event's data, parsed, until `last(data)`. */
const until = <T>(source: EventSource, type: string, last: (data: T) => boolean) =>
  new Promise<T[]>((resolve) => {
    const seen: T[] = [];
    source.addEventListener(type, (e) => {
      const data = JSON.parse((e as MessageEvent).data) as T;
      seen.push(data);
      if (last(data)) resolve(seen);
    });
  });

const streamUrl = async (d: Device) => {
  const { ticket } = await fetch(`${endpoint}/v1/sync/stream-ticket`, {
    method: 'POST',
    headers: d.auth,
  }).then((r) => r.json() as Promise<{ ticket: string }>);
  return `${endpoint}/v1/sync/stream?ticket=${ticket}`;
};

describe('@omnikit/mock streams in the browser', () => {
  useWorker();

  it('syncs a cart and pokes an EventSource through the service worker', async () => {
    const d = await register();
    expect((await push(d, 1)).status).to.equal(200);
    const source = new EventSource(await streamUrl(d));
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

  it('pokes every change once and in order, however the answers fall', async () => {
    const d = await register();
    const source = new EventSource(await streamUrl(d));
    try {
      expect((await next<Poke>(source, 'poke')).version).to.equal(0);
      const pokes = until<Poke>(source, 'poke', (p) => p.version === 4);
      for (let seq = 1; seq <= 4; seq++) expect((await push(d, seq)).status).to.equal(200);
      expect((await pokes).map((p) => p.version)).to.deep.equal([1, 2, 3, 4]);
    } finally {
      source.close();
    }
  });

  it('streams every stock change once and in order, several in one task too', async () => {
    const key = mock.site.publishableKey;
    const source = new EventSource(`${endpoint}/v1/stock/stream?key=${key}&skus=22423`);
    try {
      const one = (a: StockAnswer) => {
        const { availability } = a.online;
        return availability.band === 'low_stock' && availability.count === 1;
      };
      const answers = until<StockAnswer>(source, 'stock', one);
      await next(source, 'stock');
      mock.setStock('online', '22423', 3);
      mock.setStock('online', '22423', 2);
      await next(source, 'stock');
      mock.setStock('online', '22423', 1);
      expect((await answers).map((a) => a.online.availability)).to.deep.equal([
        { band: 'in_stock' },
        { band: 'low_stock', count: 3 },
        { band: 'low_stock', count: 2 },
        { band: 'low_stock', count: 1 },
      ]);
    } finally {
      source.close();
    }
  });
});
