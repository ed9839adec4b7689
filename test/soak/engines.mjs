// The browsers the soak runs in, each found on this machine or not (as the browser suite finds
// them), and how each is driven:
//   chromium  puppeteer-core over DevTools: CPU throttling, and Page.crash crashes a tab.
//   firefox   puppeteer-core over WebDriver BiDi: no CPU throttling; a tab is crashed by
//             SIGKILL to its content process (firefox.mjs: one process per tab, the one whose
//             memory grows when the tab fills 64 MB; only a tab opened `crashable` is asked).
//   webkit    WebKitGTK's MiniBrowser over classic WebDriver (webkit.mjs): no throttling, and no
//             crash: WebKit ends the WebDriver session when any page it drives loses its web
//             process, so the tabs that outlive a crash could no longer be driven (measured:
//             after `kill -9` of one tab's WebKitWebProcess the other tabs run on, but every
//             command answers "invalid session id").
// Each `launch` gives the same small browser: `open(ns, name, url, hear, loaded, crashable)`
// opens a tab of simulated browser profile `ns` at `url` whose page reports events to `hear`,
// resolving once `loaded()` has, with its way to crash it where the engine has one and the tab
// is `crashable` (a tab of the crash tests); `release(ns)` ends a profile the tests are done
// with; `close()`. A tab that fails to open is closed again.
import puppeteer from 'puppeteer-core';
import { chromiumArgs, engines } from '../browser/engines.mjs';
import { killProcess, tabProcess } from './firefox.mjs';
import { deadline } from './tab.mjs';

/** The engines the soak runs in (found and installed as the browser suite's are). */
export const soakEngines = {
  chromium: engines.chromium,
  firefox: engines.firefox,
  webkit: engines.webkit,
};

/** Why an engine cannot run the crash tests (outbox-kill, leader); none where it can. */
export const cannotCrash = {
  webkit:
    "a tab's crash ends WebKit's WebDriver session (kill -9 of one tab's WebKitWebProcess: the other tabs run on, but every command then answers \"invalid session id\")",
};

/** Chromium: its own DevTools command, answered by the page's 'error' event. */
async function crashChromium(tab) {
  tab.cdp ??= await tab.page.createCDPSession();
  const dead = new Promise((resolve) => tab.page.once('error', resolve));
  // The call never answers: the renderer is gone.
  tab.cdp.send('Page.crash').catch(() => {});
  await deadline(dead, 10000, `${tab.name}: crash`);
}

/**
 * Firefox: SIGKILL to the tab's content process; resolves once the browser has noticed, that is
 * once the tab no longer runs scripts (its crash page is the parent process's). A script asked
 * for in the moment after the kill may still answer, so it is asked again until none does:
 * were it the wrong process, it never would, and the run stops here.
 */
async function crashFirefox(page, name, pid, root) {
  await killProcess(pid, root);
  const until = Date.now() + 10000;
  while (
    await deadline(
      page.evaluate(() => true),
      2000,
      'after crash',
    ).catch(() => false)
  ) {
    if (Date.now() > until)
      throw new Error(`${name}: still runs scripts 10 s after its process ${pid} was killed`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Launches `engine`; `problems` collects what pages report that fails the run. */
export async function launch(engine, { origin, api, problems }) {
  if (engine === 'webkit') {
    const { launchWebKit } = await import('./webkit.mjs');
    return launchWebKit(soakEngines.webkit.find(), { origin, api, problems });
  }
  const executablePath = soakEngines[engine].find();
  const firefox = engine === 'firefox';
  const browser = firefox
    ? await puppeteer.launch({
        browser: 'firefox',
        executablePath,
        headless: true,
        extraPrefsFirefox: {
          // Every tab in a content process of its own (firefox.mjs tells which), none launched
          // ahead of a tab.
          'dom.ipc.processCount': 100,
          'dom.ipc.processPrelaunch.enabled': false,
        },
      })
    : await puppeteer.launch({
        executablePath,
        headless: true,
        args: [
          ...chromiumArgs,
          // Tabs of one site must not share a renderer: a crash kills one tab, as on a real
          // machine with memory to spare (and background tabs keep running at full speed).
          '--renderer-process-limit=100',
          '--disable-renderer-backgrounding',
          '--disable-background-timer-throttling',
          '--disable-backgrounding-occluded-windows',
        ],
      });

  /**
   * A new tab. Firefox's remote agent sometimes fails to create one while another tab closes
   * ("BrowsingContext does no longer exist", from its own wait for the new tab): tried again.
   */
  async function newPage(tries = 3) {
    try {
      return await browser.newPage();
    } catch (e) {
      if (tries <= 1 || !/does no longer exist/.test(String(e))) throw e;
      return newPage(tries - 1);
    }
  }

  /**
   * Opens and loads a tab, then asks `crasher(page)` for its way to crash it (null: none); a tab
   * that fails on the way is closed again.
   */
  async function openPage(name, url, hear, loaded, crasher) {
    const page = await newPage();
    try {
      await page.exposeFunction('__soak', (raw) => hear(JSON.parse(raw)));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`${name}: console.error ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
      // Replacing the blank page's entry keeps the history one entry long, as in a tab the
      // shopper opened with a link: then the page's own window.close() is allowed to close it.
      await page.evaluate((url) => location.replace(url), url);
      await loaded();
      return { page, crash: await crasher(page) };
    } catch (e) {
      await page.close().catch(() => {});
      throw e;
    }
  }

  // Firefox: a tab that may be crashed tells which process is its own, one such tab at a time
  // (firefox.mjs); the others need no process and open as they come. (The crash tests and the
  // unload test never run at once, so no other tab opens while one fills its ballast.)
  let opening = Promise.resolve();
  function openFirefox(name, url, hear, loaded, crashable) {
    if (!crashable) return openPage(name, url, hear, loaded, async () => null);
    const turn = opening.then(() =>
      openPage(name, url, hear, loaded, async (page) => {
        const root = browser.process().pid;
        const pid = await tabProcess(root, page, name);
        return () => crashFirefox(page, name, pid, root);
      }),
    );
    opening = turn.catch(() => {});
    return turn;
  }

  return {
    throttle: !firefox,
    open: (_ns, name, url, hear, loaded, crashable) =>
      firefox
        ? openFirefox(name, url, hear, loaded, crashable)
        : openPage(name, url, hear, loaded, async () => (crashable ? crashChromium : null)),
    release: async () => {},
    close: () => browser.close(),
  };
}
