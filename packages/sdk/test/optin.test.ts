// The opt-in modules that need no server: the GA4 bridge (`@omnikit/sdk/ga4`) and the page's
// product (`@omnikit/sdk/page-product`). Catalog reads are in commerce.test.ts, the handoff link
// in handoff.test.ts.
import { expect } from '@open-wc/testing';
import { createClient, type ClientOptions, type OmniClient } from '@omnikit/sdk';
import { ga4 } from '@omnikit/sdk/ga4';
import { trackPageProduct } from '@omnikit/sdk/page-product';
import { testNetwork, uniqueNs, until } from './helpers.js';

const clients: OmniClient[] = [];
function client(options: Partial<ClientOptions> = {}): OmniClient {
  const c = createClient({
    endpoint: 'http://127.0.0.1:9',
    publishableKey: 'pk_local',
    network: testNetwork(false),
    ...options,
  });
  clients.push(c);
  return c;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
});

const events = (layer: unknown[]) => layer.filter((e) => (e as { event?: string }).event);

describe('ga4(client)', () => {
  it('pushes GA4 ecommerce events once per user action, never for remote changes', async () => {
    const ns = uniqueNs();
    const dataLayer: unknown[] = [];
    const remote: unknown[] = [];
    const a = client({ namespace: ns, currency: 'EUR' });
    const b = client({ namespace: ns, currency: 'EUR' });
    ga4(a, { dataLayer });
    ga4(b, { dataLayer: remote });
    await Promise.all([a.start(), b.start()]);
    a.cart.add('A', 2, { price: 1050 });
    a.cart.setQuantity('A', 1);
    a.recentlyViewed.track('A');
    a.cart.view();
    a.cart.remove('A');
    a.cart.remove('A');
    // Five changes recorded: the second remove is sent too (this view may be behind), but
    // it changed nothing here, so it is no analytics event.
    await until(b, (s) => s.status.pending === 5);
    const item = { item_id: 'A', quantity: 1, price: 10.5 };
    const one = { currency: 'EUR', value: 10.5, items: [item] };
    expect(events(dataLayer)).to.deep.equal([
      {
        event: 'add_to_cart',
        ecommerce: { currency: 'EUR', value: 21, items: [{ ...item, quantity: 2 }] },
      },
      { event: 'remove_from_cart', ecommerce: one },
      { event: 'view_item', ecommerce: one },
      { event: 'view_cart', ecommerce: one },
      { event: 'remove_from_cart', ecommerce: one },
    ]);
    expect(
      dataLayer.filter((e) => (e as { ecommerce?: unknown }).ecommerce === null),
    ).to.have.length(5);
    expect(remote).to.deep.equal([]);
  });

  it('reports every line a change touches, and without a price no price', async () => {
    const dataLayer: unknown[] = [];
    const c = client({ namespace: uniqueNs() });
    ga4(c, { dataLayer });
    c.cart.add('A', 1);
    c.cart.add('B', 2, { options: { size: 'M' }, price: 500 });
    c.cart.clear();
    expect(events(dataLayer).at(-1)).to.deep.equal({
      event: 'remove_from_cart',
      ecommerce: {
        currency: 'USD',
        value: 10,
        items: [
          { item_id: 'A', quantity: 1 },
          { item_id: 'B', quantity: 2, price: 5 },
        ],
      },
    });
  });

  it('sends nothing without consent, and nothing once stopped', async () => {
    const dataLayer: unknown[] = [];
    const c = client({ namespace: uniqueNs(), consent: 'denied' });
    const stop = ga4(c, { dataLayer });
    c.cart.add('A', 1);
    expect(dataLayer).to.deep.equal([]);
    await c.grant();
    c.cart.add('A', 1);
    expect(events(dataLayer)).to.have.length(1);
    stop();
    c.cart.add('A', 1);
    c.recentlyViewed.track('A');
    expect(events(dataLayer)).to.have.length(1);
  });

  it('uses window.dataLayer by default', async () => {
    const w = window as { dataLayer?: unknown[] };
    const before = w.dataLayer;
    delete w.dataLayer;
    try {
      const c = client({ namespace: uniqueNs() });
      ga4(c);
      c.cart.view();
      expect(events(w.dataLayer!)).to.deep.equal([
        { event: 'view_cart', ecommerce: { currency: 'USD', value: 0, items: [] } },
      ]);
    } finally {
      w.dataLayer = before;
    }
  });
});

describe('trackPageProduct(client)', () => {
  it('tracks the product the page declares as recently viewed', async () => {
    const script = document.createElement('script');
    script.type = 'application/ld+json';
    script.textContent = JSON.stringify({ '@type': 'Product', sku: 'PAGE-1', name: 'Page' });
    document.head.append(script);
    try {
      const c = client({ namespace: uniqueNs() });
      expect(trackPageProduct(c)).to.deep.equal({ sku: 'PAGE-1', name: 'Page' });
      await c.start();
      expect(c.recentlyViewed.items.map((i) => i.sku)).to.deep.equal(['PAGE-1']);
    } finally {
      script.remove();
    }
  });

  it('does nothing on a page without a product', async () => {
    const c = client({ namespace: uniqueNs() });
    expect(trackPageProduct(c)).to.equal(undefined);
    expect(c.recentlyViewed.items).to.deep.equal([]);
    expect(c.state.status.pending).to.equal(0);
  });
});
