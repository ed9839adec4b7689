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

const strictCsp = (api: string) =>
  [
    "default-src 'self'",
    "script-src 'self'",
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
