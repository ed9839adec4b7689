import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import type { OmniCart, OmniCartButton } from '../src/index.js';
import { closeClients, mount, secondDevice, shadow, shopper, textOf, until } from './helpers.js';

const button = (el: OmniCartButton) => shadow(el).querySelector('button')!;
const badge = (el: OmniCartButton) => textOf(el, '[part=badge]');

describe('<omni-cart-button>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const el = await mount<OmniCartButton>(
      html`<omni-cart-button></omni-cart-button>`,
      await shopper(),
    );
    await expect(el).to.be.accessible();
  });

  it('without a client shows its count attribute', async () => {
    const el = await mount<OmniCartButton>(html`<omni-cart-button count="3"></omni-cart-button>`);
    expect(badge(el)).to.equal('3');
    expect(button(el).getAttribute('aria-label')).to.equal('Cart, 3 items');
  });

  it('counts the cart live from this tab, and announces the change', async () => {
    const client = await shopper();
    const el = await mount<OmniCartButton>(html`<omni-cart-button></omni-cart-button>`, client);
    expect(badge(el)).to.equal('0');
    expect(textOf(el, '[role=status]')).to.equal('');
    client.cart.add('MUG-1', 2);
    await until(() => badge(el) === '2', 'the new count');
    expect(button(el).getAttribute('aria-label')).to.equal('Cart, 2 items');
    expect(textOf(el, '[role=status]')).to.equal('Cart, 2 items');
  });

  it('follows another device of the same shopper', async () => {
    const client = await shopper();
    const el = await mount<OmniCartButton>(html`<omni-cart-button></omni-cart-button>`, client);
    client.cart.add('MUG-1');
    const phone = await secondDevice(client);
    phone.cart.add('TEA-1', 3);
    await until(() => badge(el) === '4', 'the count from the other device');
  });

  it('opens the drawer cart and fires a cancelable omni-cart-open', async () => {
    const client = await shopper();
    const el = await mount<OmniCartButton>(
      html`<omni-cart-button></omni-cart-button><omni-cart variant="drawer"></omni-cart>`,
      client,
    );
    const cart = el.parentElement!.querySelector<OmniCart>('omni-cart')!;
    const opened = oneEvent(document, 'omni-cart-open');
    button(el).click();
    expect((await opened).composed).to.equal(true);
    await until(() => cart.open, 'the drawer');
    cart.close();
    await until(() => !cart.open, 'the drawer closed');

    el.addEventListener('omni-cart-open', (e) => e.preventDefault(), { once: true });
    button(el).click();
    await cart.updateComplete;
    expect(cart.open).to.equal(false);
  });

  it('is keyboard-usable: Enter and Space open the cart', async () => {
    const el = await mount<OmniCartButton>(
      html`<omni-cart-button></omni-cart-button>`,
      await shopper(),
    );
    let opened = 0;
    el.addEventListener('omni-cart-open', () => opened++);
    el.focus();
    await sendKeys({ press: 'Enter' });
    await sendKeys({ press: ' ' }); // ' ', not 'Space': Firefox's BiDi knows only the former
    expect(opened).to.equal(2);
  });

  it('speaks Korean under lang="ko", and switches when lang changes', async () => {
    const el = await mount<OmniCartButton>(
      html`<omni-cart-button count="2"></omni-cart-button>`,
      undefined,
      { lang: 'ko' },
    );
    expect(button(el).getAttribute('aria-label')).to.equal('장바구니, 2개 상품');
    el.parentElement!.setAttribute('lang', 'en');
    await until(() => button(el).getAttribute('aria-label') === 'Cart, 2 items', 'English');
  });
});
