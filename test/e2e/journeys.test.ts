// The omnichannel journeys of the demo storefront, end to end: the real demo server (storefront
// + API on a fresh embedded database with the real catalog), a real browser, one isolated
// device (browser context, or in WebKit its own browser) per device. One engine per run:
// OMNIKIT_ENGINE=chromium|firefox|webkit (test/e2e/run.mjs runs every engine installed).
// Every wait is for a state the shopper would see (a count, a line, a store), bounded, as
// Playwright's auto-waiting is (test/e2e/driver/); no sleeps. A page's console.error or
// uncaught error fails the run.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Device, launch, type EngineBackend, type Page } from './driver/index.js';
import {
  DESKTOP,
  MOBILE,
  axe,
  cartOf,
  open,
  screenshot,
  signIn,
  startDemo,
  type Demo,
} from './harness.js';

let demo: Demo;
let engine: EngineBackend;
const devices: Device[] = [];
const label = (
  { chromium: 'Chromium', firefox: 'Firefox', webkit: 'WebKit' } as Record<string, string>
)[process.env.OMNIKIT_ENGINE ?? 'chromium'];

before(async () => {
  demo = await startDemo();
  engine = await launch({ storefront: demo.storefront, api: demo.api });
});
after(async () => {
  for (const device of devices) await device.close();
  const errors = devices.flatMap((d) => d.errors);
  await engine?.close();
  await demo?.close();
  assert.deepEqual(errors, [], `no page logged an error in ${label}`);
});

async function newDevice(viewport = DESKTOP) {
  const device = new Device(await engine.newDevice(viewport));
  devices.push(device);
  return device;
}

const product = (sku: string) => `${demo.storefront}/product.html?sku=${sku}`;

/**
 * Clicks the product page's own add-to-cart button (not the recommendation cards') and waits
 * until it says "Added", which it does once the change is stored on the device, as a shopper
 * sees it before moving on. Leaving at once loses the add in WebKit: it drops an IndexedDB
 * write still under way when the page unloads (the browser suite's `durable-unload` line
 * measures it, kept=0 in WebKit), where Chromium and Firefox finish it.
 */
async function addFromProductPage(page: Page, sku: string) {
  await page.goto(product(sku));
  const add = page.locator(`article omni-add-to-cart[sku="${sku}"]`);
  await add.getByRole('button').click();
  await add.getByRole('button', { name: 'Added', exact: true }).waitFor();
}

/** The count the header's cart button shows, as its accessible name says it. */
const badge = (page: Page, n: number) =>
  page
    .locator('header omni-cart-button')
    .getByRole('button', { name: n === 1 ? 'Cart, 1 item' : `Cart, ${n} items` });

/** Waits until the device's client holds exactly `lines` (sorted `sku x qty`). */
async function cartIs(page: Page, lines: string[]) {
  await page.waitForFunction(
    (want) =>
      JSON.stringify(
        (
          window as unknown as { omnikit: { cart: { lines: { sku: string; qty: number }[] } } }
        ).omnikit.cart.lines
          .map((l) => `${l.sku} x ${l.qty}`)
          .sort(),
      ) === JSON.stringify(want),
    [...lines].sort(),
    { timeout: 10_000 },
  );
}

describe(`omnichannel journeys in ${label}`, () => {
  test('1. a guest cart on the phone follows the customer to the laptop, live both ways', async () => {
    const phone = await open(await newDevice(MOBILE), `${demo.storefront}/`);
    await addFromProductPage(phone, '85123A');
    await addFromProductPage(phone, '22423');
    await badge(phone, 2).waitFor();

    const laptop = await open(await newDevice(), `${demo.storefront}/`);
    await signIn(laptop, demo.storefront, 'journey-1');
    await signIn(phone, demo.storefront, 'journey-1');
    // The phone's guest lines were merged into the account: the laptop sees them without a reload.
    await cartIs(laptop, ['22423 x 1', '85123A x 1']);
    await badge(laptop, 2).waitFor();
    assert.deepEqual(await cartOf(phone), await cartOf(laptop));

    // A change on either device appears on the other.
    await addFromProductPage(laptop, '85123A');
    await cartIs(phone, ['22423 x 1', '85123A x 2']);
    await phone.goto(`${demo.storefront}/cart.html`);
    await phone
      .locator('main omni-cart')
      .getByRole('button', { name: /^Remove / })
      .first()
      .click();
    await cartIs(laptop, (await cartOf(phone)).slice());
    await screenshot(phone, 'cart-mobile');
  });

  test('2. a guest cart merges into an account cart by the site policy, with a notice and undo', async () => {
    const laptop = await open(await newDevice(), `${demo.storefront}/`);
    await signIn(laptop, demo.storefront, 'journey-2');
    await addFromProductPage(laptop, '85123A');
    await cartIs(laptop, ['85123A x 1']);

    const phone = await open(await newDevice(MOBILE), `${demo.storefront}/`);
    await addFromProductPage(phone, '85123A');
    await addFromProductPage(phone, '47566');
    await phone.goto(`${demo.storefront}/signin.html`);
    await signIn(phone, demo.storefront, 'journey-2');
    // The demo site's policy is `sum`: quantities of the same line add up.
    await cartIs(phone, ['47566 x 1', '85123A x 2']);
    await cartIs(laptop, ['47566 x 1', '85123A x 2']);
    // The cart on the sign-in page tells the shopper what the merge did.
    await phone
      .locator('main omni-cart')
      .getByText(/Added from your other visit/)
      .waitFor();
    await screenshot(phone, 'merge-notice-mobile');
    // Undo: the account cart as it was, here and on the laptop.
    await phone.locator('main omni-cart').getByRole('button', { name: 'Undo' }).click();
    await cartIs(phone, ['85123A x 1']);
    await cartIs(laptop, ['85123A x 1']);
  });

  test('3. handoff: the kiosk opens the laptop cart by its URL; a pickup store chosen there reaches the laptop', async () => {
    const laptop = await open(await newDevice(), `${demo.storefront}/cart.html`);
    await addFromProductPage(laptop, '84879');
    await laptop.goto(`${demo.storefront}/cart.html`);
    await laptop
      .locator('main omni-cart')
      .getByRole('button', { name: 'Continue on another device' })
      .click();
    const link = laptop.locator('omni-handoff').getByRole('link');
    await link.waitFor();
    const url = await link.getAttribute('href');
    assert.match(url ?? '', /omni_handoff=/);
    await laptop.locator('omni-handoff').getByRole('img').waitFor();
    await screenshot(laptop, 'handoff-desktop');

    const kiosk = await open(await newDevice(), `${demo.storefront}/kiosk.html`);
    await kiosk.getByLabel('Handoff code or URL').fill(url!);
    await kiosk.getByRole('button', { name: 'Open cart' }).click();
    await kiosk.locator('#kiosk-lines li[data-sku="84879"]').waitFor();
    await kiosk.getByLabel('Pickup store').selectOption('lon-covent-garden');
    await laptop.waitForFunction(
      () =>
        (window as unknown as { omnikit: { cart: { pickupStore: string | null } } }).omnikit.cart
          .pickupStore === 'lon-covent-garden',
    );
    await laptop
      .locator('main omni-cart')
      .getByText(/Pick up at omnikit Covent Garden/)
      .waitFor();
    await screenshot(kiosk, 'kiosk-desktop');
  });

  test('4. offline: edits made without the API survive a reload and reach the laptop once back', async () => {
    const phone = await open(await newDevice(MOBILE), `${demo.storefront}/`);
    await signIn(phone, demo.storefront, 'journey-4');
    const laptop = await open(await newDevice(), `${demo.storefront}/`);
    await signIn(laptop, demo.storefront, 'journey-4');

    // The API becomes unreachable for the phone (the storefront's own pages still load).
    await phone.device.blockApi(true);
    await addFromProductPage(phone, '20725');
    await addFromProductPage(phone, '20725');
    await addFromProductPage(phone, '22720');
    await phone.reload();
    await cartIs(phone, ['20725 x 2', '22720 x 1']);
    // Nothing reached the server while offline.
    assert.deepEqual(await cartOf(laptop), []);

    await phone.device.blockApi(false);
    await phone.evaluate(() =>
      (window as unknown as { omnikit: { sync(): Promise<void> } }).omnikit.sync(),
    );
    await cartIs(laptop, ['20725 x 2', '22720 x 1']);
    await cartIs(phone, ['20725 x 2', '22720 x 1']);
  });

  test('5. recently viewed on the phone shows on the laptop home and moves its recommendations', async () => {
    const laptop = await open(await newDevice(), `${demo.storefront}/`);
    await signIn(laptop, demo.storefront, 'journey-5');
    const recs = () =>
      laptop.evaluate(async () => {
        const client = (
          window as unknown as {
            omnikit: { recommendations: { get(q: object): Promise<{ sku: string }[]> } };
          }
        ).omnikit;
        return (await client.recommendations.get({ strategy: 'personalized', limit: 8 })).map(
          (r) => r.sku,
        );
      });
    const before = await recs();

    const phone = await open(await newDevice(MOBILE), `${demo.storefront}/`);
    await signIn(phone, demo.storefront, 'journey-5');
    for (const sku of ['23203', '85099B']) {
      await phone.goto(product(sku));
      await phone.waitForFunction(
        (s) =>
          (
            window as unknown as { omnikit: { state: { viewed: { sku: string }[] } } }
          ).omnikit.state.viewed.some((v) => v.sku === s),
        sku,
      );
    }
    await phone.evaluate(() =>
      (window as unknown as { omnikit: { sync(): Promise<void> } }).omnikit.sync(),
    );

    await laptop.goto(`${demo.storefront}/`);
    const recent = laptop.locator('omni-recently-viewed');
    await recent.getByText('Jumbo Bag Red Retrospot', { exact: false }).first().waitFor();
    const afterViews = await recs();
    assert.notDeepEqual(afterViews, before, 'the views changed the personalized picks');
    await screenshot(laptop, 'home-desktop');
  });

  test('6. a stock update through the admin API changes the product page live', async () => {
    const phone = await open(await newDevice(MOBILE), product('84879'));
    const stock = phone.locator('omni-store-stock');
    await stock.getByRole('textbox').fill('WC2H 9PU');
    await stock.getByRole('button', { name: 'Find' }).click();
    await stock.getByText('omnikit Covent Garden').first().waitFor();

    const res = await fetch(`${demo.api}/v1/admin/stock`, {
      method: 'PUT',
      headers: {
        'x-omni-admin-key': 'ak_demo_omnikit_local_only',
        'content-type': 'application/json',
      },
      body: JSON.stringify({
        storeId: 'lon-covent-garden',
        sku: '84879',
        qty: 2,
        updatedAt: Date.now(),
      }),
    });
    assert.equal(res.status, 200, await res.text());
    await stock.getByText('Low stock: 2 left').first().waitFor();
    await screenshot(phone, 'product-mobile');
  });

  test('7. every demo page is axe-clean and the cart drawer works from the keyboard', async () => {
    const context = await newDevice();
    const page = await open(context, `${demo.storefront}/`);
    await addFromProductPage(page, '85123A');
    const pages = [
      '/',
      '/c/candles-and-lights',
      '/search?q=heart',
      '/product.html?sku=85123A',
      '/cart.html',
      '/signin.html',
      '/kiosk.html',
      '/esm.html',
    ];
    for (const path of pages) {
      await page.goto(`${demo.storefront}${path}`);
      await page.waitForNetworkIdle();
      assert.deepEqual(await axe(page), [], `axe on ${path}`);
      await screenshot(page, `page${path.replace(/[^a-z0-9]+/gi, '-')}-desktop`);
    }
    const mobile = await newDevice(MOBILE);
    const small = await open(mobile, `${demo.storefront}/`);
    await small.waitForNetworkIdle();
    await screenshot(small, 'home-mobile');

    // Keyboard: the cart button opens the drawer, Escape closes it and focus returns.
    await page.goto(`${demo.storefront}/`);
    const button = page.locator('header omni-cart-button').getByRole('button');
    await button.focus();
    await page.keyboard.press('Enter');
    const dialog = page.locator('#cart-drawer').getByRole('dialog');
    await dialog.waitFor();
    assert.deepEqual(await axe(page), [], 'axe with the drawer open');
    await page.keyboard.press('Tab');
    assert.equal(
      await page.evaluate(() => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return (
          !!el?.closest('omni-cart') ||
          !!(el?.getRootNode() as ShadowRoot).host?.closest('omni-cart')
        );
      }),
      true,
      'focus stays in the drawer',
    );
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal(
      await button.evaluate((b) => {
        let el: Element | null = document.activeElement;
        while (el?.shadowRoot?.activeElement) el = el.shadowRoot.activeElement;
        return el === b;
      }),
      true,
      'focus returns to the cart button',
    );
  });
});
