// Chromium (over CDP) and Firefox (over WebDriver BiDi) for the journeys, through puppeteer-core
// and the machine's own browsers, launched as the browser suite launches them
// (test/browser/engines.mjs). A device is a browser context (BiDi: a user context), with its
// own IndexedDB and cookies; a blocked API is request interception aborting its requests.
import { writeFile } from 'node:fs/promises';
import puppeteer, {
  type Browser,
  type ElementHandle,
  type HTTPRequest,
  type Page,
} from 'puppeteer-core';
import { chromiumArgs } from '../../browser/engines.mjs';
import type {
  DeviceBackend,
  EngineBackend,
  Key,
  LaunchOptions,
  PageBackend,
  Viewport,
} from './index.js';

const labels = { chromium: 'Chromium', firefox: 'Firefox' } as const;

/**
 * The browser's own report of a request the offline journey cut off on purpose (Chromium:
 * net::ERR_INTERNET_DISCONNECTED; Firefox: "CORS request did not succeed" for the API's URL).
 */
const cutOff = /ERR_INTERNET_DISCONNECTED|CORS request did not succeed/;

export async function launchPuppeteer(
  name: 'chromium' | 'firefox',
  executablePath: string,
  { api }: LaunchOptions,
): Promise<EngineBackend> {
  const browser: Browser = await puppeteer.launch(
    name === 'chromium'
      ? { executablePath, headless: true, args: chromiumArgs }
      : { browser: 'firefox', executablePath, headless: true },
  );
  return {
    name,
    label: labels[name],
    newDevice: (viewport) => newDevice(browser, viewport, api),
    close: () => browser.close(),
  };
}

async function newDevice(
  browser: Browser,
  viewport: Viewport,
  api: string,
): Promise<DeviceBackend> {
  const context = await browser.createBrowserContext();
  const pages: Page[] = [];
  const errors: string[] = [];
  const warnings: string[] = [];
  let blocked = false;
  let wasBlocked = false;
  const isApi = (url: string) => url.startsWith(`${api}/`) || url === api;

  const record = (page: Page, text: string, url = '') => {
    if (wasBlocked && cutOff.test(text) && (isApi(url) || text.includes(api))) return;
    // Firefox reports an event stream that ended with no response at all (the SDK closes its
    // poke stream and opens a new one on sign-in; 1 run in 5 here) as a failed CORS request.
    // No page code logged it and the SDK reconnects; any other CORS failure still counts.
    if (
      /CORS request did not succeed\). Status code: \(null\)/.test(text) &&
      text.includes(`${api}/v1/sync/stream?`)
    )
      return;
    errors.push(`${page.url()}: ${text}`);
  };

  return {
    errors,
    warnings,
    async newPage() {
      const page = await context.newPage();
      inFront.set(browser, page); // a new tab comes to the front
      pages.push(page);
      await page.setViewport(viewport);
      page.on('console', (m) => {
        if (m.type() === 'error') record(page, m.text(), m.location().url);
        else if (m.type() === 'warn')
          warnings.push(`${new Date().toISOString()} ${page.url()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => record(page, e instanceof Error ? e.message : String(e)));
      page.on('request', (r: HTTPRequest) => {
        // Rejects when interception is off (the request needs no answer then).
        const answer = blocked && isApi(r.url()) ? r.abort('internetdisconnected') : r.continue();
        answer.catch(() => {});
      });
      if (blocked) await page.setRequestInterception(true);
      return pageBackend(page);
    },
    async blockApi(on) {
      blocked = on;
      wasBlocked ||= on;
      // Interception only while blocked: it turns the cache off and slows every request.
      for (const page of pages) await page.setRequestInterception(on);
    },
    close: () => context.close(),
  };
}

/** The page in front in each browser: keys and clicks go to it (Firefox drops a background tab's). */
const inFront = new WeakMap<Browser, Page>();

function pageBackend(page: Page): PageBackend {
  const toFront = async () => {
    const browser = page.browser();
    if (inFront.get(browser) === page) return;
    await page.bringToFront();
    inFront.set(browser, page);
  };

  const call = (body: string, args: unknown[]) =>
    `(function () {${body}\n}).apply(null, ${JSON.stringify(args)})`;

  // Requests in flight, for idle(): event streams stay open by design and do not count.
  const inFlight = new Set<HTTPRequest>();
  let lastChange = Date.now();
  const isStream = (r: HTTPRequest) => {
    if (/text\/event-stream/.test(r.headers().accept ?? '')) return true;
    try {
      return r.resourceType() === 'eventsource';
    } catch {
      return false; // BiDi (Firefox) has no resource types; the Accept header told.
    }
  };
  page.on('request', (r) => {
    if (isStream(r)) return;
    inFlight.add(r);
    lastChange = Date.now();
  });
  const done = (r: HTTPRequest) => {
    if (inFlight.delete(r)) lastChange = Date.now();
  };
  // A new document starts afresh (a request the old one left behind is not this page's).
  page.on('framenavigated', (frame) => {
    if (frame === page.mainFrame()) inFlight.clear();
  });
  page.on('requestfinished', done);
  page.on('requestfailed', done);

  return {
    async goto(url) {
      await page.goto(url);
    },
    async reload() {
      await page.reload();
    },
    async addInitScript(source) {
      await page.evaluateOnNewDocument(source);
    },
    run: <T>(body: string, args: unknown[]) => page.evaluate(call(body, args)) as Promise<T>,
    async click(body, args) {
      await toFront();
      const handle = await page.evaluateHandle(call(body, args));
      const element = handle.asElement() as ElementHandle<Element> | null;
      if (!element) throw new Error('the script returned no element to click');
      try {
        await element.click();
      } finally {
        await handle.dispose();
      }
    },
    async press(key: Key) {
      await toFront();
      await page.keyboard.press(key);
    },
    async type(text) {
      await toFront();
      await page.keyboard.type(text);
    },
    async screenshot(path) {
      await writeFile(path, await page.screenshot({ fullPage: true }));
    },
    async idle(timeout) {
      const deadline = Date.now() + timeout;
      while (inFlight.size > 0 || Date.now() - lastChange < 500) {
        if (Date.now() > deadline)
          throw new Error(
            `the network did not settle in ${timeout} ms: ${[...inFlight].map((r) => r.url()).join(', ')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
