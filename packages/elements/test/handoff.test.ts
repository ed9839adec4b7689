import { expect, html, oneEvent } from '@open-wc/testing';
import { sendKeys } from '@web/test-runner-commands';
import '../src/define.js';
import type { OmniClient } from '@omnikit/sdk';
import { OmniHandoff, type QrEncoder } from '../src/index.js';
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

const bundledEncoder = OmniHandoff.loadQrEncoder;

/** The QR encoder arrives when `release` is called (a slow network), and not before. */
function slowEncoder(): { calls: () => number; release: () => void } {
  let calls = 0;
  let release!: () => void;
  const arrived = new Promise<void>((resolve) => (release = resolve));
  OmniHandoff.loadQrEncoder = async (): Promise<QrEncoder> => {
    calls++;
    await arrived;
    return bundledEncoder();
  };
  return { calls: () => calls, release };
}

/** The QR encoder cannot be loaded (offline, or blocked), as a dynamic import fails. */
function noEncoder(): void {
  OmniHandoff.loadQrEncoder = () =>
    Promise.reject(new TypeError('Failed to fetch dynamically imported module'));
}

const qrNote = (el: Element) => shadow(el).querySelector('[part=qr] [aria-live]');

describe('<omni-handoff>', () => {
  afterEach(closeClients);
  afterEach(() => (OmniHandoff.loadQrEncoder = bundledEncoder));

  it('is accessible', async () => {
    const el = await handoffOf(await shopper());
    await until(() => url(el), 'the code');
    await expect(el).to.be.accessible();
  });

  it('renders a QR code made on the page, the short URL and a countdown', async () => {
    const el = await handoffOf(await shopper());
    await until(() => url(el), 'the code');
    expect(url(el)).to.match(/\/claim\?omni_handoff=/);
    // The encoder is loaded with the first code: the QR code follows it.
    await until(() => shadow(el).querySelector('[role=img]'), 'the QR code');
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
    await until(() => url(el) && shadow(el).querySelector('[role=img]'), 'the code and its QR');
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(boxOf(el)).to.deep.equal(loading);
  });

  it('error: no code without the network shows the error slot and a retry', async () => {
    const el = await handoffOf(await shopper({ network: testNetwork({ fail: /\/v1\// }) }));
    await until(() => shownSlot(el, 'error'), 'the error state');
    expect(shadow(el).querySelector('[part=refresh]')!.hasAttribute('hidden')).to.equal(false);
  });

  it('loads the QR encoder with the first code, a placeholder keeping the box meanwhile', async () => {
    const encoder = slowEncoder();
    const network = testNetwork({ hold: /\/v1\/handoff/ });
    const el = await handoffOf(await shopper({ network }));
    const loading = boxOf(el);
    network.release();
    await until(() => url(el), 'the code');
    // The code is shown, its QR code is not drawn yet: the placeholder stays, in the same box.
    expect(encoder.calls()).to.be.above(0);
    expect(shownSlot(el, 'loading')).to.not.equal(null);
    expect(shadow(el).querySelector('[role=img]')).to.equal(null);
    expect(boxOf(el)).to.deep.equal(loading);
    encoder.release();
    await until(() => shadow(el).querySelector('[role=img] svg path'), 'the QR code');
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(boxOf(el)).to.deep.equal(loading);
  });

  it('without the encoder: the code in its place, the URL, said politely, same box', async () => {
    noEncoder();
    const network = testNetwork({ hold: /\/v1\/handoff/ });
    const el = await handoffOf(await shopper({ network }));
    const loading = boxOf(el);
    network.release();
    await until(() => textOf(el, '[part=code]'), "the code in the QR code's place");
    const code = new URL(url(el)).searchParams.get('omni_handoff');
    expect(textOf(el, '[part=code]')).to.equal(code);
    expect(qrNote(el)!.getAttribute('aria-live')).to.equal('polite');
    expect(qrNote(el)!.textContent!.replace(/\s+/g, ' ').trim()).to.equal(
      `The QR code could not be drawn. Open the address below, or enter this code: ${code}`,
    );
    expect(shadow(el).querySelector('[role=img]')).to.equal(null);
    expect(shownSlot(el, 'loading')).to.equal(null);
    expect(shownSlot(el, 'error')).to.equal(null);
    expect(textOf(el, '[part=countdown]')).to.match(/^Expires in \d+:\d\d$/);
    expect(boxOf(el)).to.deep.equal(loading);
    await expect(el).to.be.accessible();
  });

  it('without the encoder, in Korean', async () => {
    noEncoder();
    const el = await handoffOf(await shopper(), { lang: 'ko' });
    await until(() => textOf(el, '[part=code]'), "the code in the QR code's place");
    expect(textOf(el, '[part=qr] [aria-live] p')).to.equal(
      'QR 코드를 표시할 수 없습니다. 아래 주소를 열거나 이 코드를 입력하세요:',
    );
    expect(url(el)).to.match(/\/claim\?omni_handoff=/);
  });

  it('speaks Korean under lang="ko"', async () => {
    const el = await handoffOf(await shopper(), { lang: 'ko' });
    await until(() => url(el), 'the code');
    expect(textOf(el, '[part=countdown]')).to.match(/^\d+:\d\d 후 만료$/);
  });
});
