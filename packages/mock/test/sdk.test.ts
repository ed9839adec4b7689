// @omnikit/sdk on the mock, as an integrator's test or a backend-free demo runs it: two clients
// (two simulated browsers) in one page, through msw's service worker.
import { expect } from '@open-wc/testing';
import { setupWorker } from 'msw/browser';
import { createMock } from '@omnikit/mock';
import { createClient, type OmniClient } from '@omnikit/sdk';
import { createCatalog } from '@omnikit/sdk/catalog';

const endpoint = 'https://api.omnikit-sdk.test';
const mock = createMock({ endpoint });
const worker = setupWorker(...mock.handlers);
let n = 0;
const client = () =>
  createClient({
    endpoint,
    publishableKey: mock.site.publishableKey,
    namespace: `omnikit-mock-sdk:${Date.now()}:${++n}`,
    storage: 'memory',
  });
/** Resolves once `select(state)` passes `test` (now or after a change). */
const until = <T>(c: OmniClient, select: (s: OmniClient['state']) => T, test: (v: T) => boolean) =>
  new Promise<T>((resolve) => {
    if (test(select(c.state))) return resolve(select(c.state));
    const stop = c.subscribe(select, (v) => {
      if (!test(v)) return;
      stop();
      resolve(v);
    });
  });

describe('@omnikit/sdk on @omnikit/mock', () => {
  const clients: OmniClient[] = [];
  before(() => worker.start({ quiet: true, onUnhandledRequest: 'error' }));
  after(async () => {
    await Promise.all(clients.map((c) => c.close()));
    mock.reset();
    worker.stop();
    // As browser-mock.ts: msw's worker must not stay in control of the next files' pages.
    const registrations = await navigator.serviceWorker.getRegistrations();
    await Promise.all(registrations.map((r) => r.unregister()));
  });

  it('a cart follows a handoff and then updates live; sign-in merges it', async () => {
    const phone = client();
    const laptop = client();
    clients.push(phone, laptop);
    phone.cart.add('22423', 2);
    await phone.sync();
    const { code } = await phone.identity.createHandoff();
    expect(await laptop.identity.claimHandoff(code)).to.equal('joined');
    expect(laptop.cart.count).to.equal(2);
    phone.cart.add('22699');
    await until(
      laptop,
      (s) => s.cart.count,
      (count) => count === 3,
    );
    const merge = await laptop.identity.identify(await mock.customerToken('sdk-shopper'));
    expect(merge?.added.map((l) => [l.sku, l.qty])).to.deep.equal([
      ['22423', 2],
      ['22699', 1],
    ]);
    expect(laptop.identity.customerId).to.equal('sdk-shopper');
  });

  it('reads products, stock and recommendations', async () => {
    const shopper = client();
    clients.push(shopper);
    const [cake] = await createCatalog(shopper).products.get(['22423']);
    expect(cake?.title).to.equal('Regency Cakestand 3 Tier');
    const stock = await createCatalog(shopper).stock.near({ sku: '22423', postal: 'M1 1AE' });
    expect(stock.stores[0]?.store.id).to.equal('manchester');
    const recs = await shopper.recommendations.get({
      strategy: 'also-bought',
      sku: '22423',
      limit: 3,
    });
    expect(recs[0]?.sku).to.equal('22699');
    expect(recs[0]?.reason.code).to.equal('often_bought_with');
  });
});
