import { expect, fixture, html, oneEvent } from '@open-wc/testing';
import '../src/define.js';
import type { OmniCartButton } from '@omnikit/elements';

describe('<omni-cart-button>', () => {
  it('is accessible', async () => {
    const el = await fixture<OmniCartButton>(html`<omni-cart-button count="2"></omni-cart-button>`);
    await expect(el).to.be.accessible();
  });

  it('shows the count and says it in the accessible name', async () => {
    const el = await fixture<OmniCartButton>(html`<omni-cart-button count="3"></omni-cart-button>`);
    const button = el.shadowRoot!.querySelector('button')!;
    expect(el.shadowRoot!.querySelector('[part=badge]')!.textContent).to.equal('3');
    expect(button.getAttribute('aria-label')).to.equal('Cart, 3 items');
    el.count = 1;
    await el.updateComplete;
    expect(button.getAttribute('aria-label')).to.equal('Cart, 1 item');
  });

  it('speaks Korean when lang is ko', async () => {
    const el = await fixture<OmniCartButton>(
      html`<omni-cart-button lang="ko" count="2"></omni-cart-button>`,
    );
    expect(el.shadowRoot!.querySelector('button')!.getAttribute('aria-label')).to.equal(
      '장바구니, 2개 상품',
    );
  });

  it('fires a bubbling, composed omni-cart-open on click and Enter', async () => {
    const el = await fixture<OmniCartButton>(html`<omni-cart-button></omni-cart-button>`);
    const opened = oneEvent(document, 'omni-cart-open');
    el.shadowRoot!.querySelector('button')!.click();
    const event = await opened;
    expect(event.composed).to.equal(true);
  });
});
