// Hostile data: every server-provided field an element shows (product titles, product URLs and
// image paths, store names and address lines) carries each of 100 XSS payloads, put there through
// the admin API as a feed or a POS would. The elements must render them as text: no payload may
// run, and none may become an element or an attribute.
import { expect, html } from '@open-wc/testing';
import '../src/define.js';
import type { OmniClient, StoreInfo } from '@omnikit/sdk';
import type { OmniCart, OmniStoreStock } from '../src/index.js';
import { admin, closeClients, customerToken, mount, shopper, until } from './helpers.js';
import { createCatalog } from '@omnikit/sdk/catalog';

declare global {
  interface Window {
    __xss?: (n: number) => void;
  }
}

/** 25 vectors x 4 contexts (text, attribute breaking quotes, closing tags, broken markup). */
function payloads(): string[] {
  const vectors = [
    (n: number) => `<script>__xss(${n})</script>`,
    (n: number) => `<img src=x onerror=__xss(${n})>`,
    (n: number) => `<img src="x" onerror="__xss(${n})">`,
    (n: number) => `<svg onload=__xss(${n})>`,
    (n: number) => `<svg><script>__xss(${n})</script></svg>`,
    (n: number) => `<iframe srcdoc="<script>parent.__xss(${n})</script>"></iframe>`,
    (n: number) => `<iframe src="javascript:parent.__xss(${n})"></iframe>`,
    (n: number) => `<a href="javascript:__xss(${n})" id=x${n}>x</a>`,
    (n: number) => `<body onload=__xss(${n})>`,
    (n: number) => `<details open ontoggle=__xss(${n})>`,
    (n: number) => `<video><source onerror=__xss(${n})></video>`,
    (n: number) => `<audio src=x onerror=__xss(${n})>`,
    (n: number) => `<input autofocus onfocus=__xss(${n})>`,
    (n: number) => `<marquee onstart=__xss(${n})>`,
    (n: number) => `<object data="javascript:__xss(${n})"></object>`,
    (n: number) => `<embed src="javascript:__xss(${n})">`,
    (n: number) => `<math><mtext><img src=x onerror=__xss(${n})></mtext></math>`,
    (n: number) => `<style>@import 'javascript:__xss(${n})';</style>`,
    (n: number) => `<div style="background:url(javascript:__xss(${n}))">`,
    (n: number) => `<img src=x:x onerror=&#95;&#95;xss(${n})>`,
    (n: number) => `<scr<script>ipt>__xss(${n})</scr</script>ipt>`,
    (n: number) => `<!--><img src=x onerror=__xss(${n})>-->`,
    (n: number) =>
      `<template><img src=x onerror=__xss(${n})></template><img src=x onerror=__xss(${n})>`,
    (n: number) => `<form><button formaction="javascript:__xss(${n})">x</button></form>`,
    (n: number) => `<img src=x onerror=__xss(${n}) <b>broken <i>markup`,
  ];
  const contexts = [
    (v: string) => v,
    (v: string) => `"><${v.slice(1)}`,
    (v: string) => `'></span></li></ul>${v}`,
    (v: string) => `</title></style></textarea>${v}<`,
  ];
  const out: string[] = [];
  contexts.forEach((c) => vectors.forEach((v) => out.push(c(v(out.length)))));
  return out;
}

const P = payloads();
const executed = new Set<number>();

/**
 * CSP reports while hostile data renders. This page runs under a strict policy with Trusted
 * Types required (test/browser/strict-csp.mjs): a sink fed a string throws and is reported here.
 */
const violations: string[] = [];
const onViolation = (e: SecurityPolicyViolationEvent) =>
  violations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`.trim());
/** Whether this engine enforces Trusted Types (where it does not, the CSP still applies). */
let trustedTypes = false;
/** Whether this engine applied the page's CSP (an inline script did not run). */
let csp = 'unknown';

/** Every element and attribute under `root`, shadow roots included. */
function* deep(root: ParentNode): Generator<Element> {
  for (const el of root.querySelectorAll('*')) {
    yield el;
    if (el.shadowRoot) yield* deep(el.shadowRoot);
  }
}

/** Injected markup, if any: script-ish elements or event-handler attributes anywhere. */
function injected(root: ParentNode): string[] {
  const found: string[] = [];
  for (const el of deep(root)) {
    const tag = el.localName;
    if (
      [
        'script',
        'iframe',
        'object',
        'embed',
        'video',
        'audio',
        'math',
        'marquee',
        'details',
      ].includes(tag)
    ) {
      found.push(`<${tag}>`);
    }
    for (const a of el.getAttributeNames()) {
      if (a.startsWith('on')) found.push(`${tag}[${a}]`);
    }
    const href = el.getAttribute('href') ?? el.getAttribute('src') ?? '';
    if (/^\s*javascript:/i.test(href)) found.push(`${tag} javascript: URL`);
  }
  return found;
}

/** Waits until every image under `root` has loaded or failed (onerror payloads fire by then). */
async function imagesSettled(root: ParentNode) {
  const imgs = [...deep(root)].filter((e): e is HTMLImageElement => e instanceof HTMLImageElement);
  await Promise.all(
    imgs.map((i) => {
      // Lazy images off screen would never load: load them now.
      i.loading = 'eager';
      return i.decode().catch(() => undefined);
    }),
  );
}

/** The element shows each of `texts` as text. */
const showsAll = (el: Element, texts: string[]) => {
  const all = [...deep(el.shadowRoot!)].map((n) => n.textContent).join('\n');
  return texts.every((t) => all.includes(t));
};

const skuOf = (i: number) => `XSS-${String(i).padStart(3, '0')}`;

describe('hostile data is rendered as text', function () {
  // Hundreds of renders against the real server: more than the default 10 s per test.
  this.timeout(120_000);
  let stores: StoreInfo[] = [];
  const fields = new Set<string>();

  before(async () => {
    document.addEventListener('securitypolicyviolation', onViolation);
    window.__xss = (n) => executed.add(n);
    const res = await admin('POST', '/v1/admin/products/import', {
      products: P.map((p, i) => ({
        sku: skuOf(i),
        title: p,
        price: 100 + i,
        currency: 'GBP',
        // Paths are all a feed may give (the server refuses javascript: URLs); they still carry
        // the payload into href and src attributes.
        url: `/p/${p}`,
        image: `/img/${p}`,
        category: 'Hostile',
      })),
    });
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    const client = await shopper();
    stores = (await createCatalog(client).stock.near({ sku: 'MUG-1' })).stores.map((s) => s.store);
  });

  after(async () => {
    // The other tests read the fixture's stores: put them back as they were.
    if (stores.length) await admin('PUT', '/v1/admin/stores', { stores });
    delete window.__xss;
    document.removeEventListener('securitypolicyviolation', onViolation);
    await closeClients();
  });

  it('the page enforces the strict policy, so what follows cannot pass on a lax page', async () => {
    // Reports arrive as events after the fact: count them until the provoked ones are in.
    let reports = 0;
    const count = () => reports++;
    document.addEventListener('securitypolicyviolation', count);
    // A string into an HTML sink throws where Trusted Types are enforced.
    try {
      document.createElement('div').innerHTML = '<b>x</b>';
    } catch (e) {
      expect(e).to.be.instanceOf(TypeError);
      trustedTypes = true;
    }
    // An inline script the page did not bring never runs: Chromium refuses its text already
    // (Trusted Types), Firefox refuses to run it (script-src).
    const script = document.createElement('script');
    try {
      script.textContent = 'window.__cspProbe = true';
      document.body.append(script);
      script.remove();
    } catch (e) {
      expect(e).to.be.instanceOf(TypeError);
    }
    const w = window as { __cspProbe?: boolean };
    csp = w.__cspProbe ? 'not-enforced' : 'enforced';
    delete w.__cspProbe;
    const { engine } = (await (await fetch('/__omni/test-config')).json()) as { engine: string };
    // WebKitGTK's MiniBrowser (2.50) runs the inline script although the test page carries the
    // header: measured and printed there, asserted in the engines that enforce it.
    if (engine !== 'webkit') {
      expect(csp).to.equal('enforced');
      await until(() => reports >= (trustedTypes ? 2 : 1), 'the CSP reports');
      expect(violations).to.have.length(trustedTypes ? 2 : 1);
    }
    document.removeEventListener('securitypolicyviolation', count);
    // Those were this test's own; from here on every report counts against the elements.
    violations.length = 0;
  });

  it('cart lines and the merge notice: titles, links and images of 100 hostile products', async () => {
    const customer = `xss-${Date.now().toString(36)}`;
    const guest = await shopper();
    P.forEach((_, i) => guest.cart.add(skuOf(i)));
    const el = await mount<OmniCart>(html`<omni-cart></omni-cart>`, guest);
    await until(() => showsAll(el, P), 'every hostile title as text', 15000);
    await imagesSettled(el.shadowRoot!);
    const links = [...el.shadowRoot!.querySelectorAll('a')];
    expect(links).to.have.length(100);
    // The payload stays inside the URL, percent-encoded by the URL parser.
    for (const a of links) expect(a.href).to.match(/^http:\/\/[^/]+\/p\//);
    fields.add('product.title').add('product.url').add('product.image');

    // After sign-in the notice names what the merge added: the hostile titles again.
    await guest.sync();
    await guest.identity.identify(await customerToken(customer));
    await until(
      () => el.shadowRoot!.querySelector('[part=notice]')?.textContent?.includes(P[0]!),
      'the merge notice',
    );
    expect(injected(el)).to.deep.equal([]);
  });

  it('recently viewed and recommendation cards, 24 at a time', async () => {
    const client: OmniClient = await shopper();
    const container = await mount<HTMLElement>(
      html`<div>
        <omni-recently-viewed limit="24"></omni-recently-viewed>
        <omni-recommendations strategy="recently-viewed" limit="24"></omni-recommendations>
      </div>`,
      client,
    );
    const viewed = container.querySelector('omni-recently-viewed')!;
    const recs = container.querySelector('omni-recommendations')!;
    for (let start = 0; start < P.length; start += 24) {
      const chunk = P.map((_, i) => i).slice(start, start + 24);
      for (const i of chunk.reverse()) client.recentlyViewed.track(skuOf(i));
      const texts = chunk.map((i) => P[i]!);
      await until(() => showsAll(viewed, texts), `viewed cards from ${start}`, 15000);
      // Recommendations are asked again when the cart changes: a change brings the new views.
      client.cart.add(['MUG-1', 'TEA-1', 'SPOON-1', 'LAMP-1', 'BULB-1'][start / 24]!);
      await until(() => showsAll(recs, texts), `recommended cards from ${start}`, 15000);
      await imagesSettled(container);
      expect(injected(container)).to.deep.equal([]);
    }
  });

  it('store names and address lines, each field carrying every payload', async () => {
    const client = await shopper();
    const el = await mount<OmniStoreStock>(
      html`<omni-store-stock sku="MUG-1"></omni-store-stock>`,
      client,
    );
    await until(
      () => el.shadowRoot!.querySelectorAll('li[data-store]').length === stores.length,
      'stores',
    );
    const rounds = Math.ceil(P.length / stores.length);
    for (let r = 0; r < rounds; r++) {
      const pick = (k: number, f: number) => P[(r * stores.length + k + f * 25) % P.length]!;
      const hostile = stores.map((s, k) => ({
        ...s,
        name: pick(k, 0),
        address: { ...s.address, line1: pick(k, 1), city: pick(k, 2), postcode: pick(k, 3) },
      }));
      const res = await admin('PUT', '/v1/admin/stores', { stores: hostile });
      expect(res.status, JSON.stringify(res.body)).to.equal(200);
      // The live stream brings the edited stores.
      const texts = hostile.flatMap((s) => [
        s.name,
        s.address.line1,
        s.address.city,
        s.address.postcode,
      ]);
      await until(() => showsAll(el, texts), `round ${r} of store fields`, 15000);
      expect(injected(el)).to.deep.equal([]);
    }
    fields
      .add('store.name')
      .add('store.address.line1')
      .add('store.address.city')
      .add('store.address.postcode');
  });

  it('ran none of them', async () => {
    expect([...executed]).to.deep.equal([]);
    // The figures this test exists for, printed once.
    console.warn(
      `xss: payloads=${P.length} fields=${fields.size} executed=${executed.size} ` +
        `csp_violations=${violations.length} ` +
        `tt_violations=${violations.filter((v) => v.startsWith('require-trusted-types-for')).length} ` +
        `csp=${csp} trusted_types=${trustedTypes ? 'enforced' : 'not-enforced'}`,
    );
    expect(fields.size).to.equal(7);
    expect(violations).to.deep.equal([]);
  });
});
