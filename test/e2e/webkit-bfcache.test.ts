// WebKit only: a page left for the next one of the site goes into the back/forward cache with
// its IndexedDB transactions as they were. One frozen mid-way (between the read and the write of
// a `sequence` or `setBase`) kept the next page from reading the SDK's database: after
// `storageTimeoutMs` (5 s) that page moved to memory (stalled=1 to 4 of 8 here), and its change
// was gone from storage. The SDK now aborts such transactions on `pagehide` and runs them again
// on `pageshow` (packages/sdk/src/bfcache.ts), so the journeys run with the cache on, as
// shoppers have it. This checks, with the cache on and off, that the next page never stalls and
// that the first page, once back, goes on with IndexedDB and shows the next page's change.
// Prints `webkit-bfcache-idb: page_cache=… navigations=… restored=… stalled=… missing=…
// page_errors=…`.
import { after, before, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { launch, Device, type EngineBackend } from './driver/index.js';
import { addStalls, backShows, startDemo, type Demo } from './harness.js';

const NAVIGATIONS = Number(process.env.WEBKIT_BFCACHE_NAVIGATIONS ?? 8);
let demo: Demo;

before(async () => {
  // test/e2e/run.mjs runs this file in WebKit only: elsewhere it would measure nothing.
  assert.equal(process.env.OMNIKIT_ENGINE, 'webkit', 'run with OMNIKIT_ENGINE=webkit');
  demo = await startDemo();
});
after(() => demo?.close());

interface Outcome {
  /** The next page moved to memory. */
  stalled: boolean;
  /** The first page came back from the back/forward cache. */
  restored: boolean;
  /** The first page, back, lacks the add or IndexedDB. */
  missing: boolean;
  /** What the pages logged as errors. */
  errors: string[];
}

/**
 * Opens cart.html, then product.html, and adds to the cart there at once; then goes back to
 * cart.html, which should show the add with its storage still IndexedDB.
 */
async function navigation(engine: EngineBackend): Promise<Outcome> {
  const device = new Device(await engine.newDevice({ width: 1280, height: 800 }));
  try {
    const page = await device.newPage();
    await page.goto(`${demo.storefront}/cart.html`);
    await page.waitForFunction(() => !!(window as { omnikit?: object }).omnikit);
    await page.evaluate(() =>
      addEventListener('pageshow', (e) => {
        if (e.persisted) (window as { restored?: boolean }).restored = true;
      }),
    );
    await page.goto(`${demo.storefront}/product.html?sku=84879`);
    const stalled = await addStalls(page, '85123A');
    // Once back, it reads the store again: the add is there unless the next page stalled.
    const { restored, missing } = await backShows(page, '/cart.html', '85123A');
    return { stalled, restored, missing, errors: [...device.errors] };
  } finally {
    await device.close();
  }
}

async function measure(t: TestContext, pageCache: boolean) {
  const engine = await launch({
    storefront: demo.storefront,
    api: demo.api,
    webkitPageCache: pageCache,
  });
  let [stalled, restored, missing] = [0, 0, 0];
  const errors: string[] = [];
  try {
    for (let i = 0; i < NAVIGATIONS; i++) {
      const outcome = await navigation(engine);
      stalled += +outcome.stalled;
      restored += +outcome.restored;
      missing += +outcome.missing;
      errors.push(...outcome.errors);
    }
  } finally {
    await engine.close();
  }
  t.diagnostic(
    `webkit-bfcache-idb: page_cache=${pageCache ? 'on' : 'off'} navigations=${NAVIGATIONS} restored=${restored} stalled=${stalled} missing=${missing} page_errors=${errors.length}`,
  );
  // Reported, not asserted: one run in five logged `Unhandled Promise Rejection:
  // InvalidStateError: Script execution context has stopped` on cart.html, origin not found yet.
  for (const e of errors) t.diagnostic(`page error: ${e}`);
  // Otherwise this measured nothing: the cache on must cache, off must not.
  if (pageCache) assert.ok(restored > 0, 'the back/forward cache restored no page');
  else assert.equal(restored, 0, 'the back/forward cache is off');
  return { stalled, missing };
}

test("WebKit: with the back/forward cache on or off, the next page's storage never stalls", async (t) => {
  const on = await measure(t, true);
  const off = await measure(t, false);
  assert.deepEqual(on, { stalled: 0, missing: 0 }, 'the back/forward cache on');
  assert.deepEqual(off, { stalled: 0, missing: 0 }, 'the back/forward cache off');
});
