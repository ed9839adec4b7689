// The script-tag bundle on pages as brands serve them, in real Chromium driven from Node (these
// pages need their own response headers, a second origin and a second browser profile, which a
// web-test-runner page cannot have): a strict Content-Security-Policy page, and a brand page on
// another origin than the API whose cart follows the shopper to a second browser by the handoff
// link. The bundle is built from the current sources (embed-site.ts), no `npm run build` needed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'puppeteer-core';
import { launchChromium, snippet, startEmbedSite, watch, type EmbedSite } from './embed-site.js';

/** Every element, as a brand pastes them: plain tags, nothing else. */
const tags = `
  <omni-cart-button></omni-cart-button>
  <omni-add-to-cart sku="MUG-1" price="850"></omni-add-to-cart>
  <omni-store-stock sku="MUG-1"></omni-store-stock>
  <omni-recommendations strategy="also-bought" sku="MUG-1" limit="2"></omni-recommendations>
  <omni-recently-viewed></omni-recently-viewed>
  <omni-cart></omni-cart>
  <omni-handoff></omni-handoff>`;

/** The strict policy, with `scripts` (e.g. a CDN's origin) allowed besides the page's own. */
const strictCsp = (api: string, scripts = '') =>
  [
    "default-src 'self'",
    `script-src 'self'${scripts && ` ${scripts}`}`,
    "style-src 'self'",
    `connect-src 'self' ${api}`,
    `img-src 'self' ${api} data:`,
    "object-src 'none'",
    "base-uri 'none'",
    "require-trusted-types-for 'script'",
  ].join('; ');

/** Resolves in the page once `window.omnikit` exists and its first sync is done. */
async function ready(page: Page): Promise<void> {
  await page.waitForFunction(() => window.omnikit !== undefined);
  await page.evaluate(() => window.omnikit?.start());
}

/** The number the cart button's badge shows, once it shows `n`. */
async function badgeShows(page: Page, n: number): Promise<void> {
  await page.waitForFunction(
    (want) =>
      document.querySelector('omni-cart-button')?.shadowRoot?.querySelector('[part=badge]')
        ?.textContent === String(want),
    {},
    n,
  );
}

/** Clicks the real button inside `<omni-add-to-cart>`, as a shopper would. */
async function clickAdd(page: Page): Promise<void> {
  const button = await page.waitForSelector('omni-add-to-cart >>> button');
  await button?.click();
}

/**
 * Resolves with the element `selector` finds once it is shown. `visible` makes puppeteer poll
 * every frame: otherwise it re-checks on mutations of the document, and a change inside a shadow
 * root is none (a QR code drawn late was missed that way).
 */
const shown = (page: Page, selector: string) => page.waitForSelector(selector, { visible: true });

let site: EmbedSite;
let browser: Browser;

before(async () => {
  [site, browser] = await Promise.all([startEmbedSite(), launchChromium()]);
});

after(async () => {
  await browser?.close();
  await site?.close();
});

describe('dist/omnikit.min.js under a strict Content-Security-Policy', () => {
  it('runs every element with zero CSP and Trusted Types violations', async (t) => {
    // Two canaries prove the policy is enforced and the probe hears it: an inline script (blocked
    // by script-src) and a string assigned to innerHTML (blocked by Trusted Types).
    site.page('/strict', {
      headers: { 'content-security-policy': strictCsp(site.api) },
      html: `<!doctype html><html lang="en"><title>strict</title>
        <script src="/probe.js"></script>
        <script>window.inlineRan = true;</script>
        ${tags}
        ${snippet(site)}`,
    });
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(`${site.origin}/strict`);
    await ready(page);
    const canary = await page.evaluate(() => {
      try {
        document.createElement('div').innerHTML = '<b>canary</b>';
        return 'assigned';
      } catch {
        return 'refused';
      }
    });
    assert.equal(canary, 'refused');
    assert.equal(await page.evaluate(() => 'inlineRan' in window), false);

    // Exercise the elements: add to cart, the live badge, a handoff QR code, stock and recs.
    await clickAdd(page);
    await badgeShows(page, 1);
    await page.evaluate(() => window.omnikit?.sync());
    await page.waitForSelector('omni-store-stock >>> li[data-store]');
    await page.waitForSelector('omni-recommendations >>> li[data-sku]');
    await page.evaluate(() => window.omnikit?.identity.createHandoff());
    // The handoff's QR encoder, an ES module loaded from beside the script, draws here too.
    await shown(page, 'omni-handoff >>> [role=img] svg path');

    const violations = await page.evaluate(() => (window as { violations?: string[] }).violations);
    const expected = violations?.filter((v) => /^script-src-elem inline|^require-trusted/.test(v));
    assert.equal(expected?.length, 2, `the canaries were not both reported: ${violations}`);
    assert.deepEqual(
      violations?.filter((v) => !expected?.includes(v)),
      [],
      'the embed caused CSP violations',
    );
    const errors = seen.errors.filter((e) => !/inline script|TrustedHTML/.test(e));
    assert.deepEqual(errors, []);
    t.diagnostic(
      `embed-csp: violations=${violations!.length - expected!.length} canaries=${expected!.length} requests=${seen.requests.length}`,
    );
    await context.close();
  });
});

describe('omnikit-qr.js, the QR encoder beside the script on a CDN', () => {
  /** A strict-CSP brand page with a cart, loading the script from `src` on the CDN. */
  async function cdnPage(path: string, src: string) {
    site.page(path, {
      headers: { 'content-security-policy': strictCsp(site.api, site.cdn) },
      html: `<!doctype html><html lang="en"><title>cdn</title>
        <script src="/probe.js"></script>
        <omni-add-to-cart sku="MUG-1" price="850"></omni-add-to-cart>
        <omni-cart></omni-cart>
        <script src="${site.cdn}${src}" data-endpoint="${site.api}" data-key="${site.publishableKey}" async></script>`,
    });
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    const seen = watch(page);
    await page.goto(`${site.origin}${path}`);
    await ready(page);
    await clickAdd(page);
    const encoder = () => seen.requests.filter((url) => url.endsWith('/omnikit-qr.js'));
    // Nothing loads the encoder until the shopper opens "continue on another device".
    assert.deepEqual(encoder(), []);
    const open = await shown(page, 'omni-cart >>> [part=handoff]');
    await open?.click();
    return { context, page, seen, encoder };
  }

  const violations = (page: Page) =>
    page.evaluate(() => (window as { violations?: string[] }).violations);

  it("is fetched from the script's origin when the handoff opens, and draws the QR code", async () => {
    const { context, page, seen, encoder } = await cdnPage('/cdn', '/omnikit.min.js');
    await shown(page, 'omni-cart >>> omni-handoff >>> [role=img] svg path');
    assert.deepEqual(encoder(), [`${site.cdn}/omnikit-qr.js`]);
    assert.deepEqual(await violations(page), []);
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  it("missing: the code in the QR code's place and the URL, no error of the embed", async () => {
    const { context, page, seen, encoder } = await cdnPage(
      '/cdn-one-file',
      '/without-qr/omnikit.min.js',
    );
    const code = await shown(page, 'omni-cart >>> omni-handoff >>> [part=code]');
    const url = await page.$eval('omni-cart >>> omni-handoff >>> [part=url] a', (a) => a.href);
    assert.equal(
      await code?.evaluate((el) => el.textContent),
      new URL(url).searchParams.get('omni_handoff'),
    );
    const note = await page.$eval(
      'omni-cart >>> omni-handoff >>> [aria-live] p',
      (p) => p.textContent,
    );
    assert.match(note ?? '', /^The QR code could not be drawn\./);
    assert.equal(await page.$('omni-cart >>> omni-handoff >>> [role=img]'), null);
    assert.deepEqual(await violations(page), []);
    // Asked for once; the browser reports the 404, the embed adds nothing to the console.
    const missing = `${site.cdn}/without-qr/omnikit-qr.js`;
    assert.deepEqual(encoder(), [missing]);
    const ours = seen.errors.filter(
      (e) => e !== `404 ${missing}` && !/^Failed to load resource: .* 404 \(Not Found\)$/.test(e),
    );
    assert.deepEqual(ours, []);
    await context.close();
  });
});

describe('a brand page on another origin than the API', () => {
  it('has a working cart that a second browser joins by the handoff link', async () => {
    site.page('/shop', {
      html: `<!doctype html><html lang="en"><title>brand</title>${tags}${snippet(site)}`,
    });
    const [ctxA, ctxB] = await Promise.all([
      browser.createBrowserContext(),
      browser.createBrowserContext(),
    ]);
    const a = await ctxA.newPage();
    const b = await ctxB.newPage();
    const seenA = watch(a);
    const seenB = watch(b);
    await b.evaluateOnNewDocument(() => {
      document.addEventListener('omnikit:handoff', (e) => {
        (window as { handoff?: unknown }).handoff = e.detail;
      });
    });

    await a.goto(`${site.origin}/shop`);
    await ready(a);
    await clickAdd(a);
    await badgeShows(a, 1);
    await a.waitForSelector('omni-store-stock >>> li[data-store]');
    await a.waitForSelector('omni-recommendations >>> li[data-sku]');
    const { url } = (await a.evaluate(() => window.omnikit!.identity.createHandoff()))!;
    assert.ok(url.startsWith(`${site.handoffPage}?omni_handoff=`), url);

    // The phone opens the link: the embed claims it, cleans the address bar, shows the cart.
    await b.goto(url);
    await ready(b);
    await b.waitForFunction(() => (window as { handoff?: unknown }).handoff !== undefined);
    assert.deepEqual(await b.evaluate(() => (window as { handoff?: unknown }).handoff), {
      code: new URL(url).searchParams.get('omni_handoff'),
      outcome: 'joined',
    });
    assert.equal(b.url(), site.handoffPage);
    await badgeShows(b, 1);

    // And the cart stays one: an add on the phone reaches the laptop's badge live.
    await clickAdd(b);
    await badgeShows(b, 2);
    await badgeShows(a, 2);

    // No request but the page's own and the API's.
    for (const url of [...seenA.requests, ...seenB.requests]) {
      const { origin } = new URL(url);
      assert.ok(origin === site.origin || origin === site.api, `unexpected request ${url}`);
    }
    assert.deepEqual([...seenA.errors, ...seenB.errors], []);
    await Promise.all([ctxA.close(), ctxB.close()]);
  });
});
