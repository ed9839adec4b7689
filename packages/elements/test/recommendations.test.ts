import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import type { OmniRecommendations } from '../src/index.js';
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

const cards = (el: Element) => [
  ...shadow(el).querySelectorAll<HTMLElement>('ul[aria-labelledby] [part~=card]'),
];
const skus = (el: Element) => cards(el).map((c) => c.dataset.sku);
const text = (card: HTMLElement, part: string) =>
  card.querySelector(`[part~=${part}]`)!.textContent!.trim();

async function alsoBought(attrs: Record<string, string> = {}, options = {}) {
  const client = await shopper(options);
  const el = await mount<OmniRecommendations>(
    html`<omni-recommendations
      strategy="also-bought"
      sku="MUG-1"
      limit="2"
    ></omni-recommendations>`,
    client,
    attrs,
  );
  return { client, el };
}

describe('<omni-recommendations>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const { el } = await alsoBought();
    await until(() => cards(el).length === 2, 'the cards');
    await expect(el).to.be.accessible();
  });

  it('renders product cards with title, price, link and the reason', async () => {
    const { el } = await alsoBought();
    await until(() => cards(el).length === 2, 'the cards');
    const tea = cards(el)[0]!;
    expect(tea.dataset.sku).to.equal('TEA-1');
    expect(text(tea, 'title')).to.equal('Breakfast tea');
    expect(text(tea, 'price')).to.equal('£4.50');
    expect(text(tea, 'reason')).to.equal('Often bought with Enamel mug');
    expect(tea.querySelector('a')!.href).to.match(/^http:\/\/.*\/p\/TEA-1$/);
  });

  it('adds to the cart from a card, with a bubbling omni-add-to-cart', async () => {
    const { client, el } = await alsoBought();
    await until(() => cards(el).length === 2, 'the cards');
    const added = oneEvent(document, 'omni-add-to-cart');
    const add = cards(el)[0]!.querySelector('omni-add-to-cart')!;
    shadow(add).querySelector('button')!.click();
    expect((await added).detail).to.deep.equal({ sku: 'TEA-1', qty: 1 });
    expect(client.cart.lines.map((l) => l.sku)).to.deep.equal(['TEA-1']);
  });

  it('row layout: one scrollable row the keyboard can reach', async () => {
    const { el } = await alsoBought();
    el.layout = 'row';
    await until(() => cards(el).length === 2, 'the cards');
    const list = shadow(el).querySelector<HTMLElement>('ul[aria-labelledby]')!;
    expect(getComputedStyle(list).overflowX).to.equal('auto');
    expect(list.tabIndex).to.equal(0);
    list.focus();
    await sendKeys({ press: 'Tab' });
    // The first card's link comes next.
    expect(shadow(el).activeElement).to.equal(cards(el)[0]!.querySelector('a'));
  });

  it('follows the cart on another device: what is in the cart is no longer recommended', async () => {
    const { client, el } = await alsoBought();
    await until(() => skus(el)[0] === 'TEA-1', 'the cards');
    client.cart.add('CANDLE-1');
    const phone = await secondDevice(client);
    phone.cart.add('TEA-1');
    await until(() => cards(el).length === 2 && !skus(el).includes('TEA-1'), 'TEA-1 gone');
  });

  it('loading: skeleton cards in the same box as the loaded cards', async () => {
    const network = testNetwork({ hold: /\/v1\/recommendations/ });
    const { el } = await alsoBought({}, { network });
    expect(shownSlot(el, 'loading')).to.not.equal(null);
    expect(shadow(el).querySelectorAll('[part~=skeleton]')).to.have.length(2);
    const loading = boxOf(el);
    network.release();
    await until(() => cards(el).length === 2, 'the cards');
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(boxOf(el)).to.deep.equal(loading);
  });

  it('empty: a shopper who viewed nothing gets the empty slot for recently-viewed', async () => {
    const el = await mount<OmniRecommendations>(
      html`<omni-recommendations strategy="recently-viewed"></omni-recommendations>`,
      await shopper(),
    );
    await until(() => shownSlot(el, 'empty'), 'the empty state');
    expect(cards(el)).to.have.length(0);
  });

  it('error: falls back to trending when the strategy fails, never random', async () => {
    const { el } = await alsoBought({}, { network: testNetwork({ fail: /also-bought/ }) });
    await until(() => cards(el).length > 0, 'the fallback cards');
    for (const card of cards(el)) {
      expect(['Trending now', 'Popular', 'From our catalog']).to.include(text(card, 'reason'));
    }
  });

  it('error: with no answer at all, shows the error slot and no cards', async () => {
    const { el } = await alsoBought({}, { network: testNetwork({ fail: /recommendations/ }) });
    await until(() => shownSlot(el, 'error'), 'the error state');
    expect(cards(el)).to.have.length(0);
    expect(shownSlot(el, 'loading')).to.equal(null);
  });

  it('speaks Korean under lang="ko"', async () => {
    const { el } = await alsoBought({ lang: 'ko' });
    await until(() => cards(el).length === 2, 'the cards');
    expect(shadow(el).querySelector('h2')!.textContent!.trim()).to.equal('추천 상품');
    expect(text(cards(el)[0]!, 'reason')).to.equal('Enamel mug와(과) 함께 자주 구매');
  });
});
