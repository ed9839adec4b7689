import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import type { OmniStoreStock } from '../src/index.js';
import {
  admin,
  boxOf,
  closeClients,
  mount,
  ownProduct,
  secondDevice,
  shadow,
  shopper,
  shownSlot,
  testNetwork,
  typeKeys,
  until,
} from './helpers.js';

const stores = (el: Element) => [...shadow(el).querySelectorAll<HTMLElement>('li[data-store]')];
const order = (el: Element) => stores(el).map((s) => s.dataset.store);
const store = (el: Element, id: string) =>
  shadow(el).querySelector<HTMLElement>(`li[data-store="${id}"]`)!;
/** A store's text; '' while the list is replaced. */
const storeText = (el: Element, id: string) =>
  shadow(el).querySelector(`li[data-store="${id}"]`)?.textContent ?? '';
const band = (el: Element, id: string) => store(el, id).querySelector('[part=band]')!.textContent;

async function mugStock(attrs: Record<string, string> = {}, options = {}) {
  const client = await shopper(options);
  const el = await mount<OmniStoreStock>(
    html`<omni-store-stock sku="MUG-1"></omni-store-stock>`,
    client,
    attrs,
  );
  return { client, el };
}

/** Types a postcode into the form and submits it with Enter. */
async function searchPostcode(el: OmniStoreStock, postcode: string) {
  shadow(el).querySelector('input')!.focus();
  await typeKeys(postcode);
  await sendKeys({ press: 'Enter' });
}

describe('<omni-store-stock>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const { el } = await mugStock();
    await until(() => stores(el).length === 4, 'the stores');
    await expect(el).to.be.accessible();
  });

  it('renders stores with stock first, honest bands, hours and the age of each figure', async () => {
    const { el } = await mugStock();
    await until(() => stores(el).length === 4, 'the stores');
    // Without a position there is no "nearest": the two stores with stock come first.
    expect(order(el).slice(0, 2)).to.have.members(['manchester', 'leeds']);
    expect(band(el, 'manchester')).to.equal('In stock');
    expect(band(el, 'leeds')).to.equal('Low stock: 2 left');
    expect(band(el, 'london')).to.equal('Out of stock');
    const leeds = store(el, 'leeds').textContent!.replace(/\s+/g, ' ');
    expect(leeds).to.contain('Leeds').and.contain('1 High Street, Leeds, LS1 1UR');
    expect(leeds).to.match(/Open today \d\d:\d\d–\d\d:\d\d|Closed today/);
    expect(leeds).to.match(/as of (\d+ min\. ago|this minute)/);
    expect(store(el, 'bristol').textContent).to.contain('as of not reported');
    expect(shadow(el).querySelector('[part=online]')!.textContent).to.contain('Online: In stock');
  });

  it('by postcode (keyboard only): distances, nearest first among stores with stock', async () => {
    const { el } = await mugStock();
    await until(() => stores(el).length === 4, 'the stores');
    await searchPostcode(el, 'LS1 1UR');
    await until(() => /km away/.test(storeText(el, 'leeds')), 'distances');
    expect(order(el).slice(0, 2)).to.deep.equal(['leeds', 'manchester']);
  });

  it('asks for the position only when the shopper presses "Use my location"', async () => {
    let asked = 0;
    const geo = navigator.geolocation;
    const original = geo.getCurrentPosition;
    geo.getCurrentPosition = (ok) => {
      asked++;
      ok({ coords: { latitude: 51.45, longitude: -2.58 } } as GeolocationPosition);
    };
    try {
      const { el } = await mugStock();
      await until(() => stores(el).length === 4, 'the stores');
      expect(asked).to.equal(0);
      shadow(el).querySelector<HTMLButtonElement>('[part=locate]')!.click();
      expect(asked).to.equal(1);
      await until(() => /km away/.test(storeText(el, 'bristol')), 'distances');
    } finally {
      geo.getCurrentPosition = original;
    }
  });

  it('choosing a store makes it the pickup store, on every device', async () => {
    const { client, el } = await mugStock();
    client.cart.add('MUG-1');
    await until(() => stores(el).length === 4, 'the stores');
    const chosen = oneEvent(el, 'omni-store-select');
    store(el, 'leeds').querySelector<HTMLButtonElement>('[part=choose]')!.click();
    expect((await chosen).detail).to.deep.equal({ storeId: 'leeds' });
    expect(client.cart.pickupStore).to.equal('leeds');
    await until(() => store(el, 'leeds').getAttribute('part') === 'store chosen', 'the choice');
    const phone = await secondDevice(client);
    expect(phone.cart.pickupStore).to.equal('leeds');
    phone.cart.setPickupStore('manchester');
    await until(() => storeText(el, 'manchester').includes('Your pickup store'), 'live');
  });

  it('updates live when a store reports new stock', async () => {
    const sku = `ELEM-STOCK-${Date.now().toString(36)}`.toUpperCase();
    await ownProduct(sku);
    const el = await mount<OmniStoreStock>(
      html`<omni-store-stock sku=${sku}></omni-store-stock>`,
      await shopper(),
    );
    await until(() => stores(el).length === 4, 'the stores');
    expect(band(el, 'bristol')).to.equal('Out of stock');
    const res = await admin('PUT', '/v1/admin/stock', {
      updates: [{ location: 'bristol', sku, qty: 2, updatedAt: Date.now() }],
    });
    expect(res.status).to.equal(200);
    await until(() => band(el, 'bristol') === 'Low stock: 2 left', 'the new figure');
    expect(order(el)[0]).to.equal('bristol');
  });

  it('loading: placeholder rows in the same box as the loaded list', async () => {
    const network = testNetwork({ hold: /\/v1\/stock/ });
    const { el } = await mugStock({}, { network });
    expect(shownSlot(el, 'loading')).to.not.equal(null);
    const loading = boxOf(el);
    network.release();
    await until(() => stores(el).length === 4, 'the stores');
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(boxOf(el)).to.deep.equal(loading);
  });

  it('error: an unknown postcode says so; a failed request shows the error slot', async () => {
    const { el } = await mugStock();
    await until(() => stores(el).length === 4, 'the stores');
    await searchPostcode(el, 'ZZ9');
    await until(() => shownSlot(el, 'error'), 'the error state');
    expect(shownSlot(el, 'error')!.textContent!.trim()).to.equal(
      'That postcode was not recognised.',
    );
    const failing = await mugStock({}, { network: testNetwork({ fail: /\/v1\/stock/ }) });
    await until(() => shownSlot(failing.el, 'error'), 'the error state');
    expect(stores(failing.el)).to.have.length(0);
  });

  it('speaks Korean under lang="ko"', async () => {
    const { el } = await mugStock({ lang: 'ko' });
    await until(() => stores(el).length === 4, 'the stores');
    expect(band(el, 'leeds')).to.equal('재고 적음: 2개 남음');
    expect(shadow(el).querySelector('[part=locate]')!.textContent!.trim()).to.equal('내 위치 사용');
    expect(store(el, 'leeds').textContent).to.contain('기준');
  });
});
