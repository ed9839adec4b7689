import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import { provideClient } from '../src/context.js';
import type { OmniCart, OmniCartButton } from '../src/index.js';
import {
  boxOf,
  closeClients,
  customerToken,
  mount,
  pressChord,
  secondDevice,
  shadow,
  shopper,
  shownSlot,
  testNetwork,
  textOf,
  until,
} from './helpers.js';

const lineTitles = (el: OmniCart) =>
  [...shadow(el).querySelectorAll('[part~=line] .title')].map((n) => n.textContent!.trim());
const subtotal = (el: OmniCart) => textOf(el, '[part=subtotal] span:last-child');
const line = (el: OmniCart, sku: string) =>
  shadow(el).querySelector<HTMLElement>(`[part~=line][data-sku="${sku}"]`)!;
const stepper = (el: OmniCart, sku: string, which: 'Increase' | 'Decrease') =>
  line(el, sku).querySelector<HTMLButtonElement>(`button[aria-label^="${which}"]`)!;

/** A cart whose MUG-1 (2) line has its catalog details. */
async function cartWithMugs(attrs: Record<string, string> = {}) {
  const client = await shopper();
  client.cart.add('MUG-1', 2);
  const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, client, attrs);
  await until(
    () => lineTitles(el)[0] === (attrs.lang === 'ko' ? 'Enamel mug' : 'Enamel mug'),
    'the line',
  );
  return { client, el };
}

describe('<omni-cart>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const { el } = await cartWithMugs();
    await expect(el).to.be.accessible();
  });

  it('renders lines with image, title, prices, the subtotal and the sync state in words', async () => {
    const { el } = await cartWithMugs();
    const mug = line(el, 'MUG-1');
    expect(mug.querySelector('img')!.src).to.match(/^http:\/\/.*\/img\/MUG-1\.svg$/);
    expect(mug.querySelector('img')!.alt).to.equal('');
    expect(mug.textContent).to.contain('£8.50').and.contain('£17.00');
    expect(mug.querySelector('output')!.textContent).to.equal('2');
    expect(subtotal(el)).to.equal('£17.00');
    await until(() => textOf(el, '[part=sync]') === 'Saved', '"Saved"');
  });

  it('says "Offline: will sync" with changes waiting, and "Saved" once back', async () => {
    const network = testNetwork({ online: false });
    const client = await shopper({ network });
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, client);
    client.cart.add('TEA-1');
    await until(() => textOf(el, '[part=sync]') === 'Offline: will sync', 'the offline words');
    network.setOnline(true);
    await until(() => textOf(el, '[part=sync]') === 'Saved', '"Saved"');
  });

  it('steps quantities and removes lines, with events and announcements', async () => {
    const { client, el } = await cartWithMugs();
    const changed = oneEvent(el, 'omni-quantity-change');
    stepper(el, 'MUG-1', 'Increase').click();
    expect((await changed).detail).to.deep.equal({ sku: 'MUG-1', qty: 3 });
    await until(() => client.cart.lines[0]?.qty === 3, 'qty 3');
    expect(textOf(el, '[role=status]:not([part])')).to.equal('Enamel mug: quantity 3');
    stepper(el, 'MUG-1', 'Decrease').click();
    await until(() => client.cart.lines[0]?.qty === 2, 'qty 2');
    const removed = oneEvent(el, 'omni-line-remove');
    line(el, 'MUG-1').querySelector<HTMLButtonElement>('[part=remove]')!.click();
    expect((await removed).detail).to.deep.equal({ sku: 'MUG-1' });
    await until(() => shownSlot(el, 'empty'), 'the empty state');
    expect(client.cart.count).to.equal(0);
    expect(textOf(el, '[role=status]:not([part])')).to.equal('Enamel mug removed from the cart');
    // Focus stays in the cart (on its heading) once the focused line is gone.
    expect(shadow(el).activeElement?.tagName).to.equal('H2');
  });

  it('is keyboard-usable: Tab reaches the stepper and Enter steps', async () => {
    const { client, el } = await cartWithMugs();
    stepper(el, 'MUG-1', 'Increase').focus();
    await sendKeys({ press: 'Enter' });
    await until(() => client.cart.lines[0]?.qty === 3, 'qty 3 from the keyboard');
    await pressChord('Shift', 'Tab');
    expect(shadow(el).activeElement).to.equal(stepper(el, 'MUG-1', 'Decrease'));
  });

  it('drawer: a modal dialog that traps focus, closes on Escape and returns focus', async () => {
    const client = await shopper();
    client.cart.add('MUG-1');
    const button = await mount<OmniCartButton>(
      html`<omni-cart-button></omni-cart-button><omni-cart variant="drawer"></omni-cart>`,
      client,
    );
    const cart = button.parentElement!.querySelector<OmniCart>('omni-cart')!;
    button.focus();
    await sendKeys({ press: 'Enter' });
    await until(() => cart.open, 'the open drawer');
    const dialog = shadow(cart).querySelector('dialog')!;
    expect(dialog.open).to.equal(true);
    expect(dialog.matches(':modal')).to.equal(true);
    for (let i = 0; i < 8; i++) {
      await sendKeys({ press: 'Tab' });
      expect(document.activeElement, `focus after ${i + 1} Tab(s)`).to.equal(cart);
    }
    const closed = oneEvent(cart, 'omni-cart-close');
    await sendKeys({ press: 'Escape' });
    await closed;
    expect(cart.open).to.equal(false);
    expect(document.activeElement).to.equal(button);
  });

  it('follows another device of the same shopper', async () => {
    const client = await shopper();
    client.cart.add('MUG-1');
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, client);
    const phone = await secondDevice(client);
    phone.cart.add('LAMP-1');
    await until(() => lineTitles(el).includes('Desk lamp'), 'the line from the other device');
    expect(subtotal(el)).to.equal('£47.50');
  });

  it('shows its loading slot until a client is provided, then the cart', async () => {
    const el = await mount<OmniCart>(html`<omni-cart><p slot="loading">Wait</p></omni-cart>`);
    expect(shownSlot(el, 'loading')).to.not.equal(null);
    expect(shownSlot(el, 'empty')).to.equal(null);
    provideClient(el.parentElement!, await shopper());
    await until(() => shownSlot(el, 'empty'), 'the empty state');
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(textOf(el, '[part=sync]')).to.not.equal('');
  });

  it('empty: says so in the empty slot', async () => {
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, await shopper());
    await until(() => shownSlot(el, 'empty'), 'the empty state');
    expect(shownSlot(el, 'empty')!.textContent!.trim()).to.equal('Your cart is empty.');
    expect(shadow(el).querySelector('[part=lines]')!.hasAttribute('hidden')).to.equal(true);
  });

  it('error: product details failing shows the error slot, and the lines by sku', async () => {
    const client = await shopper({ network: testNetwork({ fail: /\/v1\/products/ }) });
    client.cart.add('MUG-1');
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, client);
    await until(() => shownSlot(el, 'error'), 'the error state');
    await until(() => lineTitles(el).join() === 'MUG-1', 'the line by its sku');
  });

  /**
   * An account device with one tea, and a guest (`lines` in its cart, shown by an <omni-cart>)
   * that signs in to the same account: the site's policy (sum) merges the two carts.
   */
  async function mergedIntoAccount(lines: [string, number][]) {
    const customer = `cart-merge-${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
    const account = await shopper();
    await account.identity.identify(await customerToken(customer));
    account.cart.add('TEA-1');
    await account.sync();
    const guest = await shopper();
    for (const [sku, qty] of lines) guest.cart.add(sku, qty);
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, guest);
    await guest.identity.identify(await customerToken(customer));
    return { account, guest, el };
  }

  it('after sign-in, says what the merge added', async () => {
    const { el } = await mergedIntoAccount([['MUG-1', 2]]);
    await until(() => textOf(el, '[part=notice]').includes('Enamel mug'), 'the merge notice');
    expect(textOf(el, '[part=notice] p')).to.equal('Added from your other visit: 2 × Enamel mug');
    expect(shadow(el).querySelector('[part=notice]')!.getAttribute('role')).to.equal('status');
    await until(() => lineTitles(el).length === 2, 'both carts');
    const dismiss = [...shadow(el).querySelectorAll('[part=notice] button')].find(
      (b) => b.textContent === 'Dismiss',
    ) as HTMLButtonElement;
    dismiss.click();
    await until(
      () => shadow(el).querySelector('[part=notice]')!.hasAttribute('hidden'),
      'dismissed',
    );
    // Dismissed, not undone: the merged cart stays.
    expect(lineTitles(el)).to.have.length(2);
  });

  it('undo takes the merge back out, on every device of the account', async () => {
    const { account, guest, el } = await mergedIntoAccount([
      ['MUG-1', 2],
      ['TEA-1', 1],
    ]);
    await until(() => lineTitles(el).length === 2, 'both carts');
    await until(() => account.cart.line('MUG-1')?.qty === 2, 'the merge on the other device');
    shadow(el).querySelector<HTMLButtonElement>('[part=undo-merge]')!.click();
    // The account cart as it was: one tea (the policy summed the guest's), no mugs.
    await until(
      () => lineTitles(el).length === 1 && guest.cart.line('TEA-1')?.qty === 1,
      'the cart before the merge',
    );
    expect(shadow(el).querySelector('[part=notice]')!.hasAttribute('hidden')).to.equal(true);
    await until(
      () => textOf(el, 'span.sr-only[role=status]').startsWith('Taken out again'),
      'announced',
    );
    await guest.sync();
    await until(
      () => account.cart.line('MUG-1') === undefined && account.cart.line('TEA-1')?.qty === 1,
      'the undo on the other device',
    );
  });

  it('shows the pickup store by name', async () => {
    const { client, el } = await cartWithMugs();
    await client.cart.setPickupStore('leeds');
    await until(() => textOf(el, '[part=pickup]') === 'Pick up at Leeds', 'the pickup store');
  });

  it('opens <omni-handoff> to continue on another device', async () => {
    const { el } = await cartWithMugs();
    const toggle = shadow(el).querySelector<HTMLButtonElement>('[part=handoff]')!;
    expect(toggle.textContent!.trim()).to.equal('Continue on another device');
    toggle.click();
    await until(() => shadow(el).querySelector('omni-handoff'), 'the handoff element');
    expect(toggle.getAttribute('aria-expanded')).to.equal('true');
    const handoff = shadow(el).querySelector('omni-handoff')!;
    await until(() => textOf(handoff, '[part=url]').includes('omni_handoff'), 'the handoff URL');
  });

  it('speaks Korean under lang="ko"', async () => {
    const { el } = await cartWithMugs({ lang: 'ko' });
    expect(textOf(el, 'h2')).to.equal('내 장바구니');
    expect(textOf(el, '[part=subtotal] span')).to.equal('소계');
    expect(subtotal(el)).to.equal('£17.00');
    expect(line(el, 'MUG-1').querySelector('[part=remove]')!.getAttribute('aria-label')).to.equal(
      'Enamel mug 삭제',
    );
  });

  it('keeps its box while product details load', async () => {
    const network = testNetwork({ hold: /\/v1\/products/ });
    const client = await shopper({ network });
    client.cart.add('MUG-1');
    client.cart.add('TEA-1');
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, client);
    await until(
      () => shadow(el).querySelectorAll('[part~=line] .bone').length === 2,
      'placeholders',
    );
    const loading = boxOf(el);
    network.release();
    await until(() => lineTitles(el).includes('Breakfast tea'), 'the details');
    expect(boxOf(el)).to.deep.equal(loading);
  });
});
