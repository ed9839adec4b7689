import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import type { OmniAddToCart } from '../src/index.js';
import { closeClients, mount, shadow, shopper, testNetwork, until } from './helpers.js';

const button = (el: OmniAddToCart) => shadow(el).querySelector('button')!;

describe('<omni-add-to-cart>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const el = await mount<OmniAddToCart>(
      html`<omni-add-to-cart sku="MUG-1"></omni-add-to-cart>`,
      await shopper(),
    );
    await expect(el).to.be.accessible();
  });

  it('renders a real button, disabled without a client', async () => {
    const el = await mount<OmniAddToCart>(html`<omni-add-to-cart sku="MUG-1"></omni-add-to-cart>`);
    expect(button(el).textContent!.trim()).to.equal('Add to cart');
    expect(button(el).disabled).to.equal(true);
  });

  it('adds qty to the cart and fires a bubbling, composed omni-add-to-cart', async () => {
    const client = await shopper();
    const el = await mount<OmniAddToCart>(
      html`<omni-add-to-cart sku="MUG-1" qty="2"></omni-add-to-cart>`,
      client,
    );
    const added = oneEvent(document, 'omni-add-to-cart');
    button(el).click();
    const event = await added;
    expect(event.detail).to.deep.equal({ sku: 'MUG-1', qty: 2 });
    expect(event.composed).to.equal(true);
    expect(client.cart.lines.map((l) => [l.sku, l.qty])).to.deep.equal([['MUG-1', 2]]);
    await until(() => button(el).textContent!.includes('Added'), 'the done state');
  });

  it('is keyboard-usable: Enter on the focused button adds', async () => {
    const client = await shopper();
    const el = await mount<OmniAddToCart>(
      html`<omni-add-to-cart sku="TEA-1"></omni-add-to-cart>`,
      client,
    );
    el.focus();
    expect(shadow(el).activeElement).to.equal(button(el));
    await sendKeys({ press: 'Enter' });
    await until(() => client.cart.count === 1, 'the line');
  });

  it('works offline: the line is kept and syncs later', async () => {
    const network = testNetwork({ online: false });
    const client = await shopper({ network });
    const el = await mount<OmniAddToCart>(
      html`<omni-add-to-cart sku="SPOON-1"></omni-add-to-cart>`,
      client,
    );
    button(el).click();
    await until(() => client.cart.count === 1, 'the line without a network');
    expect(client.status).to.include({ state: 'offline', pending: 1 });
    network.setOnline(true);
    await until(() => client.status.pending === 0, 'the sync once back online');
  });

  it('speaks Korean under lang="ko"', async () => {
    const el = await mount<OmniAddToCart>(
      html`<omni-add-to-cart sku="MUG-1"></omni-add-to-cart>`,
      await shopper(),
      { lang: 'ko' },
    );
    expect(button(el).textContent!.trim()).to.equal('장바구니에 담기');
  });

  it('keeps its size between states', async () => {
    const el = await mount<OmniAddToCart>(
      html`<omni-add-to-cart sku="MUG-1"></omni-add-to-cart>`,
      await shopper(),
    );
    const before = el.getBoundingClientRect().height;
    button(el).click();
    await until(() => button(el).textContent!.includes('Added'), 'the done state');
    expect(el.getBoundingClientRect().height).to.equal(before);
  });
});
