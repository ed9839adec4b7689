// WebKit for the journeys: WebKitGTK's MiniBrowser through WebKitWebDriver over classic WebDriver
// (it refuses BiDi), started as the browser suite starts it (test/browser/engines.mjs), on one
// Xvfb display for the run. WebKitWebDriver holds one session at a time, and a MiniBrowser in
// automation mode keeps its data in memory only, so a device is its own WebKitWebDriver and
// MiniBrowser: its own IndexedDB and cookies. Its traffic goes through its own proxy (proxy.ts),
// which blocks the API and reports page errors, as WebDriver classic can do neither. Its
// back/forward cache is on, as a shopper has it (the journeys ran with it off until the SDK
// stopped a cached page's frozen IndexedDB transaction from stalling the next page, issue 18);
// `webkitPageCache: false` turns it off for webkit-bfcache.test.ts's comparison.
// The soak (test/soak/webkit.mjs) drives its WebKit tabs through the same sessions
// (startWebKitSession, shareDisplay), several windows each.
import { writeFile } from 'node:fs/promises';
import { remote } from 'webdriverio';
import { startWebKitDriver, startXvfb } from '../../browser/engines.mjs';
import type {
  DeviceBackend,
  EngineBackend,
  Key,
  LaunchOptions,
  PageBackend,
  Viewport,
} from './index.js';
import { startProxy, type DeviceProxy } from './proxy.js';

type Session = Awaited<ReturnType<typeof remote>>;

/** W3C WebDriver key codes. */
const keys: Record<Key, string> = {
  Enter: '\uE007',
  Tab: '\uE004',
  Escape: '\uE00C',
  Backspace: '\uE003',
};

/**
 * One Xvfb display for every session of a run (startWebKitDriver starts none while DISPLAY is
 * set); resolves with what stops it again.
 */
export async function shareDisplay(): Promise<() => void> {
  const xvfb = process.env.DISPLAY ? null : await startXvfb();
  if (!xvfb) return () => {};
  process.env.DISPLAY = xvfb.display;
  return () => {
    xvfb.process.kill();
    delete process.env.DISPLAY;
  };
}

export async function launchWebKit(
  binary: string,
  { storefront, api, webkitPageCache = true }: LaunchOptions,
): Promise<EngineBackend> {
  const stopDisplay = await shareDisplay();
  const devices = new Set<DeviceBackend>();
  return {
    name: 'webkit',
    label: 'WebKit',
    async newDevice(viewport) {
      const device = await newDevice(binary, viewport, storefront, api, webkitPageCache);
      devices.add(device);
      return device;
    },
    async close() {
      for (const device of devices) await device.close();
      stopDisplay();
    },
  };
}

/** A MiniBrowser session of its own behind a proxy of its own (see the top of this file). */
export interface WebKitSession {
  session: Session;
  proxy: DeviceProxy;
  close(): Promise<void>;
}

/**
 * Starts a MiniBrowser (its own WebKitWebDriver) whose traffic goes through its own proxy for
 * `storefront` and `api`, with the back/forward cache on or off, and `args` given to it too.
 */
export async function startWebKitSession(
  binary: string,
  {
    storefront,
    api,
    pageCache = true,
    args = [],
  }: { storefront: string; api: string; pageCache?: boolean; args?: string[] },
): Promise<WebKitSession> {
  const proxy = await startProxy(storefront, api);
  // MiniBrowser's default is the cache on: WebKit keeps a cached page's IndexedDB transactions
  // as they were, and the SDK aborts those that could hold the site's next page from its
  // database (packages/sdk/src/bfcache.ts).
  const driver = await startWebKitDriver(binary, [
    `--proxy=${proxy.url}`,
    ...(pageCache ? [] : ['--enable-page-cache=false']),
    ...args,
  ]);
  let session: Session;
  try {
    session = await remote(driver.options as Parameters<typeof remote>[0]);
  } catch (e) {
    driver.stop();
    await proxy.close();
    throw e;
  }
  let closed = false;
  return {
    session,
    proxy,
    async close() {
      if (closed) return;
      closed = true;
      await session.deleteSession().catch(() => {});
      driver.stop();
      await proxy.close();
    },
  };
}

async function newDevice(
  binary: string,
  viewport: Viewport,
  storefront: string,
  api: string,
  pageCache: boolean,
): Promise<DeviceBackend> {
  const { session, proxy, close } = await startWebKitSession(binary, {
    storefront,
    api,
    pageCache,
  });
  let page: PageBackend | null = null;
  return {
    errors: proxy.errors,
    async newPage() {
      // One window per session is all the journeys use: a device opens one page.
      if (page) throw new Error('a WebKit device opens one page');
      page = pageBackend(session, proxy);
      await fitViewport(session, viewport);
      return page;
    },
    async blockApi(on) {
      proxy.blockApi(on);
    },
    close,
  };
}

/**
 * Sizes the window so the page gets `viewport`. GTK will not make MiniBrowser's window narrower
 * than its toolbar (447 px here), so a phone's 390 px becomes 447: still the storefront's
 * small-screen layout (its breakpoint is 40rem, 640 px).
 */
async function fitViewport(session: Session, viewport: Viewport) {
  const inner = () =>
    session.executeScript('return [innerWidth, innerHeight];', []) as Promise<[number, number]>;
  const [w, h] = await inner();
  const rect = await session.getWindowRect();
  await session.setWindowRect(
    null,
    null,
    viewport.width + rect.width - w,
    viewport.height + rect.height - h,
  );
}

function pageBackend(session: Session, proxy: DeviceProxy): PageBackend {
  const keyActions = (actions: object[]) =>
    session.performActions([{ type: 'key', id: 'keyboard', actions }]);
  return {
    async goto(url) {
      await session.navigateTo(url);
    },
    async reload() {
      await session.refresh();
    },
    run: <T>(body: string, args: unknown[]) =>
      session.executeScript(body, args as object[]) as Promise<T>,
    // A mouse click at the element's centre, as W3C pointer actions: WebKit's element click
    // calls an element inside a shadow root covered by its own host ("element click
    // intercepted"), since it checks the hit with document.elementFromPoint.
    async click(body, args) {
      const [x, y] = (await session.executeScript(
        `const el = (function () {${body}\n}).apply(null, arguments);
         const box = el.getBoundingClientRect();
         return [Math.round(box.left + box.width / 2), Math.round(box.top + box.height / 2)];`,
        args as object[],
      )) as [number, number];
      await session.performActions([
        {
          type: 'pointer',
          id: 'mouse',
          parameters: { pointerType: 'mouse' },
          actions: [
            { type: 'pointerMove', origin: 'viewport', x, y, duration: 0 },
            { type: 'pointerDown', button: 0 },
            { type: 'pointerUp', button: 0 },
          ],
        },
      ]);
    },
    press: (key) =>
      keyActions([
        { type: 'keyDown', value: keys[key] },
        { type: 'keyUp', value: keys[key] },
      ]),
    // Each key goes down and up before the next: a key still held would swallow a repeat of it.
    type: (text) =>
      keyActions(
        [...text].flatMap((c) => [
          { type: 'keyDown', value: c },
          { type: 'keyUp', value: c },
        ]),
      ),
    async screenshot(path) {
      await writeFile(path, Buffer.from(await session.takeScreenshot(), 'base64'));
    },
    idle: (timeout) => proxy.idle(timeout),
  };
}
