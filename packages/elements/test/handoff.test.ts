import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import type { OmniClient } from '@omnikit/sdk';
import type { OmniHandoff } from '../src/index.js';
import {
  boxOf,
  closeClients,
  mount,
  shadow,
  shopper,
  shownSlot,
  testNetwork,
  textOf,
  until,
} from './helpers.js';

const url = (el: Element) => textOf(el, '[part=url]');

async function handoffOf(client: OmniClient, attrs: Record<string, string> = {}) {
  const el = await mount<OmniHandoff>(html`<omni-handoff></omni-handoff>`, client, attrs);
  return el;
}

/** The client, except that its handoff codes expire `ms` after they are made. */
function expiringIn(client: OmniClient, ms: number): OmniClient {
  const identity = new Proxy(client.identity, {
    get: (target, key) =>
      key === 'createHandoff'
        ? async () => ({ ...(await target.createHandoff()), expiresAt: Date.now() + ms })
        : Reflect.get(target, key),
  });
  return new Proxy(client, {
    get: (target, key) => (key === 'identity' ? identity : Reflect.get(target, key)),
  });
}

describe('<omni-handoff>', () => {
  afterEach(closeClients);

  it('is accessible', async () => {
    const el = await handoffOf(await shopper());
    await until(() => url(el), 'the code');
    await expect(el).to.be.accessible();
  });

  it('renders a QR code made on the page, the short URL and a countdown', async () => {
    const el = await handoffOf(await shopper());
    await until(() => url(el), 'the code');
    expect(url(el)).to.match(/\/claim\?omni_handoff=/);
    const img = shadow(el).querySelector('[role=img]')!;
    expect(img.getAttribute('aria-label')).to.equal(`QR code for ${url(el)}`);
    const svg = img.querySelector('svg')!;
    const side = Number(svg.getAttribute('viewBox')!.split(' ')[2]);
    // Version 3 or more (29+ modules) plus the quiet zone, drawn as one path of dark modules.
    expect(side).to.be.within(29 + 4, 177 + 4);
    expect(svg.querySelector('path')!.getAttribute('d')!.length).to.be.above(1000);
    expect(textOf(el, '[part=countdown]')).to.match(/^Expires in \d+:\d\d$/);
  });

  it('another device opening the URL joins the cart', async () => {
    const client = await shopper();
    client.cart.add('MUG-1', 2);
    const el = await handoffOf(client);
    await until(() => url(el), 'the code');
    const code = new URL(url(el)).searchParams.get('omni_handoff')!;
    const phone = await shopper();
    expect(await phone.identity.claimHandoff(code)).to.equal('joined');
    expect(phone.cart.lines.map((l) => [l.sku, l.qty])).to.deep.equal([['MUG-1', 2]]);
  });

  it('an expired code offers a new one (keyboard), with omni-handoff-refresh', async () => {
    const el = await handoffOf(expiringIn(await shopper(), 1500));
    await until(() => url(el), 'the code');
    const first = url(el);
    await until(() => textOf(el, '[part=countdown]') === 'This code has expired.', 'expiry');
    expect(url(el)).to.equal('');
    const refresh = shadow(el).querySelector<HTMLButtonElement>('[part=refresh]')!;
    refresh.focus();
    const refreshed = oneEvent(el, 'omni-handoff-refresh');
    await sendKeys({ press: 'Enter' });
    await refreshed;
    await until(() => url(el) && url(el) !== first, 'a new code');
  });

  it('loading: a placeholder in the same box as the code', async () => {
    const network = testNetwork({ hold: /\/v1\/handoff/ });
    const el = await handoffOf(await shopper({ network }));
    expect(shownSlot(el, 'loading')).to.not.equal(null);
    const loading = boxOf(el);
    network.release();
    await until(() => url(el), 'the code');
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(boxOf(el)).to.deep.equal(loading);
  });

  it('error: no code without the network shows the error slot and a retry', async () => {
    const el = await handoffOf(await shopper({ network: testNetwork({ fail: /\/v1\// }) }));
    await until(() => shownSlot(el, 'error'), 'the error state');
    expect(shadow(el).querySelector('[part=refresh]')!.hasAttribute('hidden')).to.equal(false);
  });

  it('speaks Korean under lang="ko"', async () => {
    const el = await handoffOf(await shopper(), { lang: 'ko' });
    await until(() => url(el), 'the code');
    expect(textOf(el, '[part=countdown]')).to.match(/^\d+:\d\d 후 만료$/);
  });
});
