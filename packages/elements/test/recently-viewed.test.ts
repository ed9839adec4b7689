import { expect, html } from '@open-wc/testing';
import '../src/define.js';
import type { OmniRecentlyViewed } from '../src/index.js';
import {
  boxOf,
  closeClients,
  mount,
  secondDevice,
  shadow,
  shopper,
  shownSlot,
  testNetwork,
  until,
} from './helpers.js';

const titles = (el: Element) =>
  [...shadow(el).querySelectorAll('ul[aria-labelledby] [part~=title]')].map((n) =>
    n.textContent!.trim(),
  );

async function viewedMugAndTea(attrs: Record<string, string> = {}, options = {}) {
  const client = await shopper(options);
  client.recentlyViewed.track('MUG-1');
  client.recentlyViewed.track('TEA-1');
  const el = await mount<OmniRecentlyViewed>(
    html`<omni-recently-viewed limit="2"></omni-recently-viewed>`,
    client,
    attrs,
  );
  return { client, el };
}

describe('<omni-recently-viewed>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const { el } = await viewedMugAndTea();
    await until(() => titles(el).length === 2, 'the cards');
    await expect(el).to.be.accessible();
  });

  it('renders the latest views first, up to limit, without the excluded one', async () => {
    const { client, el } = await viewedMugAndTea();
    await until(() => titles(el).join() === 'Breakfast tea,Enamel mug', 'the cards');
    client.recentlyViewed.track('LAMP-1');
    await until(() => titles(el).join() === 'Desk lamp,Breakfast tea', 'the newest view');
    el.exclude = 'LAMP-1';
    await until(() => titles(el).join() === 'Breakfast tea,Enamel mug', 'without LAMP-1');
  });

  it('follows views on another device', async () => {
    const { client, el } = await viewedMugAndTea();
    await until(() => titles(el).length === 2, 'the cards');
    const phone = await secondDevice(client);
    phone.recentlyViewed.track('CANDLE-1');
    await until(() => titles(el)[0] === 'Beeswax candle', 'the view from the other device');
  });

  it('loading: skeleton cards in the same box as the loaded cards', async () => {
    const network = testNetwork({ hold: /\/v1\/products/ });
    const { el } = await viewedMugAndTea({}, { network });
    expect(shownSlot(el, 'loading')).to.not.equal(null);
    const loading = boxOf(el);
    network.release();
    await until(() => titles(el).length === 2, 'the cards');
    expect(boxOf(el)).to.deep.equal(loading);
  });

  it('empty: nothing viewed yet', async () => {
    const el = await mount<OmniRecentlyViewed>(
      html`<omni-recently-viewed></omni-recently-viewed>`,
      await shopper(),
    );
    await until(() => shownSlot(el, 'empty'), 'the empty state');
    expect(titles(el)).to.deep.equal([]);
  });

  it('error: the products could not be loaded', async () => {
    const { el } = await viewedMugAndTea({}, { network: testNetwork({ fail: /\/v1\/products/ }) });
    await until(() => shownSlot(el, 'error'), 'the error state');
    expect(titles(el)).to.deep.equal([]);
  });

  it('speaks Korean under lang="ko"', async () => {
    const { el } = await viewedMugAndTea({ lang: 'ko' });
    await until(() => titles(el).length === 2, 'the cards');
    expect(shadow(el).querySelector('h2')!.textContent!.trim()).to.equal('최근 본 상품');
    const add = shadow(el).querySelector('omni-add-to-cart')!;
    expect(shadow(add).querySelector('button')!.textContent!.trim()).to.equal('장바구니에 담기');
  });
});
