// WebKit for the soak: WebKitGTK's MiniBrowser over classic WebDriver, in the journeys' sessions
// (test/e2e/driver/webkit.ts: a WebKitWebDriver and a proxy of its own per browser, one Xvfb
// display for all). A MiniBrowser in automation mode keeps its storage in memory, so one
// simulated browser profile (a namespace) is one MiniBrowser, started at its first tab and
// ended by `release(ns)`; its tabs are windows opened by WebDriver, each in a WebKitWebProcess
// of its own. The session has one current window, so a profile's commands run one at a time.
// Its first window stays blank and open for the profile's life: a tab that closes itself then
// never quits the browser, and with it the profile's storage.
// Classic WebDriver has neither bindings nor console events: the page reports its events with
// beacons to the origin (tab.html), the proxy reports console.error and uncaught errors, and a
// window that closed itself is noticed by polling the session's window handles.
// Back/forward cache on, as shoppers have it: a page navigated away from is frozen with its
// IndexedDB transactions, which the SDK aborts on `pagehide` so the site's next page does not
// stall on its database (packages/sdk/src/bfcache.ts; test/e2e/webkit-bfcache.test.ts). With
// it off (`webkitPageCache = false`) the unload line says `page_cache=off`.
import { tsImport } from 'tsx/esm/api';
import { driverProcesses, killSurvivors } from './processes.mjs';

const { startWebKitSession, shareDisplay } = await tsImport(
  '../e2e/driver/webkit.ts',
  import.meta.url,
);

/** WebKit's answer to `pageCache`: the flag given to MiniBrowser. */
export const webkitPageCache = true;

/** Runs `fn` (its source) in the page with `arg`; answers { v } or { e }. */
const script = (fn) => `const done = arguments[arguments.length - 1];
Promise.resolve(arguments[0]).then((arg) => (${fn})(arg)).then(
  (v) => done({ v: v === undefined ? null : v }),
  (e) => done({ e: String((e && e.stack) || e) }),
);`;

/** A tab: a window of its profile's session, with the part of puppeteer's Page the soak uses. */
class WebKitPage {
  constructor(handle, profile, browser) {
    this.handle = handle;
    this.profile = profile;
    this.owner = browser;
    this.closed = false;
    this.listeners = [];
  }

  /** Only 'close' is ever emitted (when the window is gone). */
  on(event, fn) {
    if (event === 'close') this.listeners.push(fn);
  }

  browser() {
    return this.owner;
  }

  async evaluate(fn, arg) {
    const out = await this.profile.inWindow(this.handle, (session) =>
      session.executeAsyncScript(script(String(fn)), [arg ?? null]),
    );
    if (out && 'e' in out) throw new Error(out.e);
    return out?.v;
  }

  async close() {
    if (this.closed) return;
    await this.profile.inWindow(this.handle, (session) => session.closeWindow());
    this.gone();
  }

  gone() {
    if (this.closed) return;
    this.closed = true;
    this.profile.pages.delete(this.handle);
    for (const fn of this.listeners) fn();
  }
}

async function startProfile(binary, { origin, api, problems, browser }) {
  const wk = await startWebKitSession(binary, {
    storefront: origin,
    api,
    pageCache: webkitPageCache,
  });
  const { session } = wk;
  // A script's own deadline (the soak's) is what bounds it.
  await session.setTimeouts(undefined, undefined, 600000);
  const blank = await session.getWindowHandle();
  let current = blank;
  let gate = Promise.resolve();
  const busy = new Set();
  let polling = null;
  let ended = false;
  const profile = {
    pages: new Map(),
    /**
     * Runs `fn(session)` with `handle` the current window. Commands start in the order asked;
     * those for the current window run side by side (a sync may take a while), and a switch to
     * another window waits until every command under way has answered.
     */
    inWindow(handle, fn) {
      const turn = gate.then(async () => {
        if (current !== handle) {
          await Promise.allSettled(busy);
          // Unknown should the switch fail (the window gone): the next command switches.
          current = null;
          await session.switchToWindow(handle);
          current = handle;
        }
        const command = fn(session);
        busy.add(command);
        command.then(
          () => busy.delete(command),
          () => busy.delete(command),
        );
        // Wrapped: the next command's turn waits for this one to start, not to answer.
        return { command };
      });
      gate = turn.catch(() => {});
      return turn.then(({ command }) => command);
    },
    async newPage() {
      const { handle } = await profile.inWindow(blank, () => session.createWindow('tab'));
      const page = new WebKitPage(handle, profile, browser);
      profile.pages.set(handle, page);
      polling ??= poll();
      return page;
    },
    async close() {
      ended = true;
      await polling;
      problems.push(...wk.proxy.errors);
      // Ended by its session's end and its driver's SIGTERM; were a MiniBrowser to outlive its
      // driver it would run on under init, out of the soak's sight: killed here.
      const processes = driverProcesses(session.options.port);
      await wk.close();
      await killSurvivors(processes);
    },
  };
  // Window handles need no current window: asked beside the queue, every 100 ms while a tab
  // is open, so a tab that closed itself is known soon after.
  async function poll() {
    while (!ended && profile.pages.size) {
      const list = await session.getWindowHandles().catch(() => null);
      if (!list) break;
      const handles = new Set(list);
      for (const [handle, page] of profile.pages) if (!handles.has(handle)) page.gone();
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    polling = null;
  }
  return profile;
}

/** Starts WebKit for the soak (see the top of this file). */
export async function launchWebKit(binary, { origin, api, problems }) {
  const stopDisplay = await shareDisplay();
  /** ns -> its profile (a promise: two tabs of a new profile start one browser). */
  const profiles = new Map();
  const browser = { connected: true };
  const release = async (ns) => {
    const p = profiles.get(ns);
    if (!p) return;
    profiles.delete(ns);
    // One that failed to start has nothing to end (its open said why).
    await (await p.catch(() => null))?.close();
  };
  return {
    throttle: false,
    settings: webkitPageCache ? '' : 'page_cache=off',
    async open(ns, _name, url, _hear, loaded) {
      if (!profiles.has(ns)) {
        profiles.set(ns, startProfile(binary, { origin, api, problems, browser }));
      }
      const page = await (await profiles.get(ns)).newPage();
      try {
        // A window's first page replaces its blank one: one history entry, so the page's own
        // window.close() may close it, as a tab opened with a link.
        await page.evaluate((url) => location.replace(url), url);
        await loaded();
      } catch (e) {
        await page.close().catch(() => {});
        throw e;
      }
      return { page, crash: null };
    },
    release,
    async close() {
      browser.connected = false;
      try {
        await Promise.allSettled([...profiles.keys()].map(release));
      } finally {
        stopDisplay();
      }
    },
  };
}
