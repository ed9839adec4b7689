import { expect, waitUntil } from '@open-wc/testing';
import { createClient, type OmniClient } from '@omnikit/sdk';
import {
  claimPageHandoff,
  clientOptions,
  EmbedConfigError,
  readScriptConfig,
  takeHandoffCode,
  type HandoffOutcome,
} from '@omnikit/embed';
import { qrUrl } from '../src/qr-load.js';

const bundle = '/packages/embed/dist/omnikit.min.js';

function tag(attrs: Record<string, string>): HTMLScriptElement {
  const script = document.createElement('script');
  for (const [k, v] of Object.entries(attrs)) script.setAttribute(k, v);
  return script;
}

/** The real server the runner started (test/browser/server-plugin.mjs). */
async function testServer(): Promise<{ endpoint: string; key: string }> {
  const cfg = (await (await fetch('/__omni/test-config')).json()) as {
    endpoint: string;
    sites: { sum: { publishableKey: string } };
  };
  return { endpoint: cfg.endpoint, key: cfg.sites.sum.publishableKey };
}

let n = 0;
/** A client on its own storage, as another browser would have. */
async function device(consent: 'granted' | 'pending' = 'granted'): Promise<OmniClient> {
  const { endpoint, key } = await testServer();
  const namespace = `embed-test-${Date.now().toString(36)}-${++n}`;
  return createClient({ endpoint, publishableKey: key, namespace, consent, retry: { baseMs: 20 } });
}

/**
 * This test page requires Trusted Types (test/browser/strict-csp.mjs): the test's own policy
 * writes its frames' markup. The bundle under test never needs one.
 */
const testPages = (
  window as {
    trustedTypes?: { createPolicy(n: string, p: object): { createHTML(s: string): unknown } };
  }
).trustedTypes?.createPolicy('omnikit-test-pages', { createHTML: (s: string) => s });

/**
 * A same-origin frame running `html` (a page of its own: its own window.omnikit). It inherits
 * this page's strict CSP, so its scripts come from the origin too.
 */
async function page(html: string): Promise<Window & typeof globalThis> {
  const frame = document.createElement('iframe');
  frame.srcdoc = (testPages?.createHTML(html) ?? html) as string;
  const loaded = new Promise((resolve) => frame.addEventListener('load', resolve, { once: true }));
  document.body.append(frame);
  // `load` waits for async and defer scripts alike, so the bundle has run by then.
  await loaded;
  return frame.contentWindow as Window & typeof globalThis;
}

/** The frame's count of `omnikit:ready` events, kept by a listener loaded before the bundle. */
const countReady = '<script src="/packages/embed/test/probes/count-ready.js"></script>';

afterEach(() => {
  for (const frame of document.querySelectorAll('iframe')) frame.remove();
});

describe('readScriptConfig', () => {
  it('reads the data-* attributes, resolving a relative endpoint against the page', () => {
    const config = readScriptConfig(
      tag({
        'data-endpoint': '/api/',
        'data-key': 'pk_demo',
        'data-currency': 'gbp',
        'data-track-views': '',
      }),
      'https://shop.example/products/1',
    );
    expect(config).to.deep.equal({
      endpoint: 'https://shop.example/api',
      publishableKey: 'pk_demo',
      consent: 'granted',
      trackViews: true,
      currency: 'GBP',
    });
  });

  it('refuses a tag without its key or with a bad consent value', () => {
    expect(() => readScriptConfig(tag({ 'data-endpoint': '/' }))).to.throw(
      EmbedConfigError,
      /data-key/,
    );
    expect(() =>
      readScriptConfig(tag({ 'data-endpoint': '/', 'data-key': 'k', 'data-consent': 'maybe' })),
    ).to.throw(EmbedConfigError, /data-consent/);
  });

  it('maps to the SDK options: consent, locale, currency, view tracking', () => {
    const script = tag({
      'data-endpoint': 'https://omni.example',
      'data-key': 'pk_x',
      'data-locale': 'ko-KR',
      'data-currency': 'KRW',
      'data-consent': 'pending',
    });
    expect(clientOptions(readScriptConfig(script))).to.deep.equal({
      endpoint: 'https://omni.example',
      publishableKey: 'pk_x',
      consent: 'pending',
      locale: 'ko-KR',
      currency: 'KRW',
    });
  });
});

describe('the QR encoder file', () => {
  it('is beside the script, with the script query kept (a cache buster must reach it too)', () => {
    expect(qrUrl('https://cdn.example/omnikit/1.4/omnikit.min.js?v=7')).to.equal(
      'https://cdn.example/omnikit/1.4/omnikit-qr.js?v=7',
    );
    expect(qrUrl('https://shop.example/js/omnikit.js')).to.equal(
      'https://shop.example/js/omnikit-qr.js',
    );
  });

  it('has no URL when the bundle did not run from its own tag', () => {
    // This module ran as a module (document.currentScript null): no URL is guessed from tags in
    // the page, which an injected <script data-key src=".../omnikit.js"> could steer.
    expect(() => qrUrl()).to.throw(/beside the omnikit script tag/);
  });
});

describe('the ?omni_handoff= claim', () => {
  const home = location.href;
  afterEach(() => history.replaceState(null, '', home));

  const withCode = (code: string) => {
    const url = new URL(home);
    url.searchParams.set('omni_handoff', code);
    url.hash = 'reviews';
    history.replaceState(null, '', url);
  };

  it('takes the code out of the URL and keeps the rest of it', () => {
    withCode('ABCD-1234');
    expect(takeHandoffCode()).to.equal('ABCD-1234');
    expect(location.href).to.equal(`${home}#reviews`);
    expect(takeHandoffCode()).to.equal(null);
  });

  it('joins the profile behind the code, once, and reports it', async () => {
    const a = await device();
    const b = await device();
    await a.cart.add('EMBED-HANDOFF', 2);
    const { code } = await a.identity.createHandoff();
    withCode(code);
    const reported = new Promise<HandoffOutcome>((resolve) =>
      document.addEventListener('omnikit:handoff', (e) => resolve(e.detail), { once: true }),
    );
    expect(await claimPageHandoff(b)).to.deep.equal({ code, outcome: 'joined' });
    expect(await reported).to.deep.equal({ code, outcome: 'joined' });
    expect(location.search).not.to.contain('omni_handoff');
    expect(b.cart.lines.map((l) => [l.sku, l.qty])).to.deep.equal([['EMBED-HANDOFF', 2]]);
    // Nothing is left to claim: a second run (a re-executed script) sends nothing.
    expect(await claimPageHandoff(b)).to.equal(null);
    await Promise.all([a.close(), b.close()]);
  });

  it('reports a code the server refuses with its outcome and error, and says so', async () => {
    const b = await device();
    withCode('NOPE-NOPE');
    const warn = console.warn;
    const warned: unknown[] = [];
    console.warn = (...args: unknown[]) => warned.push(args.join(' '));
    try {
      const outcome = await claimPageHandoff(b);
      expect(outcome?.outcome).to.equal('unknown');
      expect(outcome && 'error' in outcome && outcome.error.code).to.equal('not_found');
      expect(warned).to.have.length(1);
      expect(String(warned[0])).to.match(/^\[omnikit\] the handoff link could not be used/);
    } finally {
      console.warn = warn;
    }
    expect(location.search).not.to.contain('omni_handoff');
    await b.close();
  });

  it('without consent sends nothing and leaves the code for a later visit', async () => {
    const b = await device('pending');
    withCode('LATER-1234');
    expect(await claimPageHandoff(b)).to.equal(null);
    expect(new URL(location.href).searchParams.get('omni_handoff')).to.equal('LATER-1234');
    await b.close();
  });
});

describe('dist/omnikit.js', () => {
  it('creates the client from its own async tag, upgrades earlier elements, fires omnikit:ready', async () => {
    const win = await page(`${countReady}
      <omni-cart-button></omni-cart-button>
      <script src="${bundle}" data-endpoint="/api" data-key="pk_async" async></script>`);
    expect(win.readies).to.equal(1);
    const client = win.omnikit;
    expect(client?.cart.count).to.equal(0);
    expect(typeof client?.identity.claimHandoff).to.equal('function');
    const button = win.document.querySelector('omni-cart-button');
    expect(button).to.be.instanceOf(win.customElements.get('omni-cart-button'));
    await client?.close();
  });

  it('works with defer, and a second copy of the script changes nothing', async () => {
    const win = await page(`${countReady}
      <script src="${bundle}" data-endpoint="/api" data-key="pk_first" defer></script>
      <script src="${bundle}?again" data-endpoint="/api" data-key="pk_second" defer></script>
      <omni-cart-button></omni-cart-button>`);
    expect(win.readies).to.equal(1);
    expect(win.omnikit?.state.cart.currency).to.equal('USD');
    // The first tag's client stays: its namespace (by key) is the one in use, once it has
    // opened its storage (start() resolves when local state is loaded).
    await win.omnikit?.start();
    const dbs = (await win.indexedDB.databases()).map((d) => d.name);
    expect(dbs).to.include('omnikit:pk_first');
    expect(dbs).not.to.include('omnikit:pk_second');
    expect(win.document.querySelector('omni-cart-button')?.shadowRoot).to.not.equal(null);
    await win.omnikit?.close();
  });

  it('fetches omnikit-qr.js from beside the script when a handoff opens, not before', async () => {
    const { endpoint, key } = await testServer();
    const win = await page(
      `<script src="${bundle}" data-endpoint="${endpoint}" data-key="${key}" async></script>`,
    );
    const fetched = () =>
      win.performance
        .getEntriesByType('resource')
        .map((e) => new URL(e.name).pathname)
        .filter((path) => path.endsWith('/omnikit-qr.js'));
    await win.omnikit?.start();
    expect(fetched()).to.deep.equal([]);
    // The shopper opens "continue on another device".
    const handoff = win.document.createElement('omni-handoff');
    win.document.body.append(handoff);
    await waitUntil(
      () => handoff.shadowRoot?.querySelector('[role=img] svg path'),
      'the QR code was not drawn',
      { timeout: 8000 },
    );
    expect(fetched()).to.deep.equal(['/packages/embed/dist/omnikit-qr.js']);
    await win.omnikit?.close();
  });

  it('a tag without data-key says why and still defines the elements', async () => {
    // The frame keeps its console.error to itself: the message is the behaviour under test.
    const win = await page(`<script src="/packages/embed/test/probes/keep-errors.js"></script>
      <script src="${bundle}" data-endpoint="/api" async></script>`);
    expect(win.refused).to.match(/data-key/);
    expect(win.omnikit).to.equal(undefined);
    expect(win.customElements.get('omni-cart-button')).to.be.a('function');
  });
});

declare global {
  interface Window {
    readies?: number;
    refused?: string;
  }
}
