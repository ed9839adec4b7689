// WebKit only: a page left for the next one of the site goes into the back/forward cache with
// its IndexedDB transactions as they were, and one frozen mid-way keeps the next page from
// reading the SDK's database: after `storageTimeoutMs` (5 s) that page moves to memory, and a
// change it then makes offline is gone after a reload. The journeys run with the cache off
// (driver/webkit.ts); this measures the stall with it on, and shows it gone with it off.
// Prints `webkit-bfcache-idb: page_cache=on navigations=… stalled=…`.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { launch, Device, type EngineBackend } from './driver/index.js';
import { startDemo, type Demo } from './harness.js';

const NAVIGATIONS = Number(process.env.WEBKIT_BFCACHE_NAVIGATIONS ?? 8);
let demo: Demo;

before(async () => {
  // test/e2e/run.mjs runs this file in WebKit only: elsewhere it would measure nothing.
  assert.equal(process.env.OMNIKIT_ENGINE, 'webkit', 'run with OMNIKIT_ENGINE=webkit');
  demo = await startDemo();
});
after(() => demo?.close());

/** Opens cart.html, then product.html, and adds to the cart there at once; true if it stalled. */
async function navigation(engine: EngineBackend): Promise<boolean> {
  const device = new Device(await engine.newDevice({ width: 1280, height: 800 }));
  try {
    const page = await device.newPage();
    await page.goto(`${demo.storefront}/cart.html`);
    await page.waitForFunction(() => !!(window as { omnikit?: object }).omnikit);
    await page.goto(`${demo.storefront}/product.html?sku=84879`);
    return await page.evaluate(async () => {
      const omnikit = (
        window as unknown as {
          omnikit: {
            cart: { add(sku: string, qty: number): Promise<void> };
            status: { storage: string };
          };
        }
      ).omnikit;
      await omnikit.cart.add('85123A', 1);
      return omnikit.status.storage === 'memory';
    });
  } finally {
    await device.close();
  }
}

async function measure(t: TestContext, pageCache: boolean): Promise<number> {
  const engine = await launch({
    storefront: demo.storefront,
    api: demo.api,
    webkitPageCache: pageCache,
  });
  let stalled = 0;
  try {
    for (let i = 0; i < NAVIGATIONS; i++) if (await navigation(engine)) stalled++;
  } finally {
    await engine.close();
  }
  t.diagnostic(
    `webkit-bfcache-idb: page_cache=${pageCache ? 'on' : 'off'} navigations=${NAVIGATIONS} stalled=${stalled}`,
  );
  return stalled;
}

test("WebKit: the back/forward cache stalls the next page's storage; without it, nothing does", async (t) => {
  await measure(t, true);
  assert.equal(await measure(t, false), 0, 'no stall with the back/forward cache off');
});
