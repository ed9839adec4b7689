// The script-tag bundle in headless Chromium against a real @omnikit/server on loopback (the
// brand page of test/browser/embed-site.ts: the API and the page on two origins):
//   first widget: from the moment omnikit.min.js is received (the parser can start on it;
//                 responseEnd of its resource timing) to the first render of <omni-cart-button>,
//                 and to the first <omni-recommendations> items (data from the API);
//   add to cart:  click on <omni-add-to-cart>'s button to the badge showing the new count, and
//                 to the next frame (the one that paints it).
// Each first-widget run is a fresh browser profile (cold cache, empty IndexedDB). Prints medians.
//   npm run bench -- embed     (or: node test/bench/run.mjs embed)
import { launchChromium, snippet, startEmbedSite } from '../browser/embed-site.js';
import { fmt, median } from './util.js';

const runs = Number(process.argv.find((a) => a.startsWith('--runs='))?.split('=')[1] ?? 15);
const clicks = Number(process.argv.find((a) => a.startsWith('--clicks='))?.split('=')[1] ?? 50);

const site = await startEmbedSite();
const browser = await launchChromium();

interface FirstWidget {
  received: number;
  ready: number;
  rendered: number;
  recommended: number;
}

interface Clicks {
  dom: number[];
  frame: number[];
}

declare global {
  interface Window {
    bench?: Partial<FirstWidget>;
  }
}

// The page notes when the bundle said ready, when the cart button first rendered, and when the
// first recommendation appeared; the bench reads the script's responseEnd afterwards.
site.page('/first', {
  html: `<!doctype html><html lang="en"><title>first widget</title>
    <script>
      window.bench = {};
      document.addEventListener('omnikit:ready', () => {
        bench.ready = performance.now();
        const button = document.querySelector('omni-cart-button');
        button.updateComplete.then(() => (bench.rendered = performance.now()));
        const recs = document.querySelector('omni-recommendations');
        const seen = () => {
          if (recs.shadowRoot?.querySelector('li[data-sku]')) {
            bench.recommended = performance.now();
            return true;
          }
        };
        new MutationObserver((_, o) => seen() && o.disconnect()).observe(recs.shadowRoot, {
          subtree: true,
          childList: true,
        });
      });
    </script>
    <omni-cart-button></omni-cart-button>
    <omni-recommendations strategy="trending" limit="2"></omni-recommendations>
    ${snippet(site)}`,
});
// Clicks the add-to-cart button `clicks` times; each time, notes when the badge shows the new
// count and when the next frame starts (the one that paints it).
site.page('/click', {
  html: `<!doctype html><html lang="en"><title>add to cart</title>
    <omni-cart-button></omni-cart-button>
    <omni-add-to-cart sku="MUG-1" price="850"></omni-add-to-cart>
    ${snippet(site)}
    <script>
      window.runClicks = async (clicks) => {
        const root = document.querySelector('omni-cart-button').shadowRoot;
        const button = document.querySelector('omni-add-to-cart').shadowRoot.querySelector('button');
        const client = window.omnikit;
        await client.start();
        const dom = [];
        const frame = [];
        for (let i = 1; i <= clicks; i++) {
          const want = String(client.cart.count + 1);
          const shown = new Promise((resolve) => {
            const o = new MutationObserver(() => {
              if (root.querySelector('[part=badge]').textContent !== want) return;
              o.disconnect();
              resolve(performance.now());
            });
            o.observe(root, { subtree: true, childList: true, characterData: true });
          });
          const start = performance.now();
          button.click();
          dom.push((await shown) - start);
          await new Promise(requestAnimationFrame);
          frame.push(performance.now() - start);
          // Each round measures one change, not a queue: let the add be stored and synced.
          await client.sync();
        }
        return { dom, frame };
      };
    </script>`,
});

try {
  const first: FirstWidget[] = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await page.goto(`${site.origin}/first`);
    await page.waitForFunction(() => window.bench?.rendered && window.bench.recommended);
    first.push(
      await page.evaluate(() => {
        const [script] = performance.getEntriesByName(
          new URL('/omnikit.min.js', location.href).href,
        ) as PerformanceResourceTiming[];
        const b = window.bench as FirstWidget;
        return { ...b, received: script!.responseEnd };
      }),
    );
    await context.close();
  }

  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  await page.goto(`${site.origin}/click`);
  await page.waitForFunction(() => window.omnikit !== undefined);
  const timings = await page.evaluate(
    (n) => (window as unknown as { runClicks(n: number): Promise<Clicks> }).runClicks(n),
    clicks,
  );
  await context.close();

  const rendered = median(first.map((r) => r.rendered - r.received));
  const ready = median(first.map((r) => r.ready - r.received));
  const recommended = median(first.map((r) => r.recommended - r.received));
  const clickDom = median(timings.dom);
  const clickFrame = median(timings.frame);
  const verdict = (v: number, target: number) => (v <= target ? 'ok' : 'OVER');
  console.log(`embed, ${runs} cold page loads and ${clicks} clicks, Chromium + server on loopback`);
  console.log(`script received -> omnikit:ready          median ${fmt(ready)} ms`);
  console.log(
    `script received -> first widget rendered  median ${fmt(rendered)} ms  target <= 100 ms  ${verdict(rendered, 100)}`,
  );
  console.log(`script received -> recommendations shown  median ${fmt(recommended)} ms`);
  console.log(
    `add-to-cart click -> badge updated        median ${fmt(clickDom, 2)} ms  target <= 16 ms  ${verdict(clickDom, 16)}`,
  );
  console.log(`add-to-cart click -> next frame           median ${fmt(clickFrame)} ms`);
  console.log(
    `embed: runs=${runs} clicks=${clicks} firstWidgetMs=${fmt(rendered)} recsMs=${fmt(recommended)} clickToBadgeMs=${fmt(clickDom, 2)} clickToFrameMs=${fmt(clickFrame)}`,
  );
} finally {
  await browser.close();
  await site.close();
}
