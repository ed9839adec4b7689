// What the soak tests share: the real @omnikit/server (its build, on in-memory PGlite), a static
// origin on loopback serving plain pages that load the built SDK, a headless browser driven by
// puppeteer-core (the system's browser, nothing downloaded): Chromium over DevTools, or Firefox
// over WebDriver BiDi, tabs that report what they did through a binding, the server's state as
// the oracle, and a seeded random source.
// Firefox over BiDi has no CPU throttling and no way to crash a tab: `soak.canThrottle` and
// `soak.canCrash` say so, and the tests that need them say what they could not run.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { launch } from './engines.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tabPage = fileURLToPath(new URL('tab.html', import.meta.url));
export const publishableKey = 'pk_soak';

/** URL prefix -> directory of built files a page may import. */
const mounts = {
  '/dist/sdk/': `${root}packages/sdk/dist/`,
  '/dist/protocol/': `${root}packages/protocol/dist/`,
  '/idb/': `${root}node_modules/idb/build/`,
};

/** Serves the site's pages (every page is the same SDK tab) and the built modules. */
async function startOrigin() {
  const http = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const mount = Object.keys(mounts).find((m) => path.startsWith(m));
    try {
      if (mount && !path.includes('..')) {
        const body = await readFile(mounts[mount] + path.slice(mount.length));
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(body);
      } else if (path === '/tab.html' || path === '/checkout.html') {
        res.writeHead(200, { 'content-type': 'text/html' }).end(await readFile(tabPage));
      } else if (path === '/favicon.ico') {
        res.writeHead(204).end();
      } else {
        res.writeHead(404).end();
      }
    } catch {
      res.writeHead(404).end();
    }
  });
  await new Promise((resolve) => http.listen(0, '127.0.0.1', resolve));
  return { http, origin: `http://127.0.0.1:${http.address().port}` };
}

/** Seeded PRNG (mulberry32): the same seed replays the same choices. */
export function random(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  return {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
    chance: (p) => next() < p,
  };
}

/** p-th percentile (nearest rank) of numbers. */
export function percentile(xs, p) {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}

/** Rejects with `what` after `ms`: every wait of the soak tests is bounded. */
export function deadline(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * Starts everything. `tab(ns, name)` opens a tab of the site; the returned `Tab` knows the
 * events its page reported (across reloads) and waits for them.
 */
export async function startSoak(engine = 'chromium') {
  const { http, origin } = await startOrigin();
  const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };
  const { startServer, silentLogger } = await import(`${root}packages/server/dist/index.js`);
  const server = await startServer({
    port: 0,
    logger: silentLogger,
    heartbeatMs: 5000,
    refusalDelayMs: 0,
    // Every tab registers from 127.0.0.1: the limiter is not under test here.
    rateLimits: {
      device: unlimited,
      push: unlimited,
      ip: unlimited,
      register: unlimited,
      claimIp: unlimited,
      claimDevice: unlimited,
    },
    sites: [{ id: 'soak', publishableKey, allowedOrigins: [origin] }],
  });
  const browser = await launch(engine);
  /** Problems a page reported that fail the run whatever the figures say. */
  const problems = [];

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

  async function tab(ns, name, path = '/tab.html') {
    const page = await newPage();
    const t = new Tab(page, name);
    await page.exposeFunction('__soak', (raw) => t.hear(JSON.parse(raw)));
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`${name}: console.error ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`${name}: ${e.message}`));
    const q = new URLSearchParams({ ns, tab: name, ep: server.url, key: publishableKey });
    // Replacing the blank page's entry keeps the history one entry long, as in a tab the shopper
    // opened with a link: then the page's own window.close() is allowed to close it.
    await page.evaluate((url) => location.replace(url), `${origin}${path}?${q}`);
    await t.ready();
    return t;
  }

  /** The server's snapshot of the profile of the device stored under `device` (the oracle). */
  async function serverCart(device) {
    const res = await fetch(`${server.url}/v1/sync/pull`, {
      headers: { authorization: `Bearer ${device.token}`, 'x-omni-key': publishableKey },
    });
    if (!res.ok) throw new Error(`pull: ${res.status} ${await res.text()}`);
    const snap = await res.json();
    return new Map(snap.state.cart.lines.map((l) => [l.sku, l.qty]));
  }

  async function close() {
    await browser.close();
    await server.close();
    await new Promise((resolve) => http.close(resolve));
  }

  const chromium = engine === 'chromium';
  return {
    engine,
    canThrottle: chromium,
    canCrash: chromium,
    origin,
    server,
    browser,
    tab,
    serverCart,
    problems,
    close,
  };
}

/** One tab: its page, the events it reported, and waits on them. */
export class Tab {
  constructor(page, name) {
    this.page = page;
    this.name = name;
    this.events = [];
    this.waiters = new Set();
    this.crashed = false;
    this.closed = false;
    this.cdp = null;
    page.on('error', () => {
      this.crashed = true;
      this.hear({ type: 'crashed', tab: name, at: Date.now() });
    });
    page.on('close', () => {
      this.closed = true;
      this.hear({ type: 'closed', tab: name, at: Date.now() });
    });
  }

  hear(e) {
    this.events.push(e);
    for (const w of this.waiters) w(e);
  }

  /** Resolves with the first event (from now on, or already heard after `since`) that fits. */
  next(fits, ms, what, since = this.events.length) {
    const seen = this.events.slice(since).find(fits);
    if (seen) return Promise.resolve(seen);
    let waiter;
    const p = new Promise((resolve) => {
      waiter = (e) => fits(e) && resolve(e);
      this.waiters.add(waiter);
    });
    return deadline(p, ms, `${this.name}: ${what}`).finally(() => this.waiters.delete(waiter));
  }

  /** The page's SDK has loaded its state (this load of the page). */
  ready(since = 0, ms = 30000) {
    return this.next((e) => e.type === 'ready', ms, 'page ready', since);
  }

  /** Runs `fn(window.soak, arg)` in the page, within a deadline. */
  run(fn, arg, ms = 30000) {
    return deadline(this.page.evaluate(fn, arg), ms, `${this.name}: ${String(fn).slice(0, 60)}`);
  }

  /**
   * Syncs this tab (`client.sync()`) and resolves with whether it was stuck: not finished after
   * `stuckMs` (15 s: far beyond a sync on a busy machine). Stuck is a stored change waiting for
   * a push nobody starts (the leader never heard of it), or a tab whose count of pending
   * changes never drops; a fresh change from this tab (a recently viewed item) makes the leader
   * push the whole outbox, so the oracle can still judge what was lost. A stuck sync fails the
   * run all the same, and with SOAK_DEBUG set what the tab saw is printed.
   */
  async settle(stuckMs = 15000) {
    try {
      await this.run(() => window.soak.sync(), undefined, stuckMs);
      return false;
    } catch {
      const seen = await this.run(async () => ({
        status: window.soak.client.status,
        leader: await window.soak.leaderTab(),
      }));
      let after = 'synced after a new change';
      try {
        await this.run(
          () => (window.soak.client.recentlyViewed.track('NUDGE'), window.soak.sync()),
          undefined,
          stuckMs,
        );
      } catch {
        after = 'still stuck after a new change';
      }
      if (process.env.SOAK_DEBUG)
        console.warn(`${this.name}: stuck, ${after}`, JSON.stringify(seen));
      return true;
    }
  }

  async session() {
    this.cdp ??= await this.page.createCDPSession();
    return this.cdp;
  }

  /** DevTools' CPU slowdown of this tab's renderer (1 = none). */
  async throttle(rate) {
    await (await this.session()).send('Emulation.setCPUThrottlingRate', { rate });
  }

  /** Crashes the renderer (no unload, no pagehide: a tab killed by the OS or a bug). */
  async crash() {
    const cdp = await this.session();
    // The call never answers: the renderer is gone. The page's 'error' event says so.
    cdp.send('Page.crash').catch(() => {});
    await this.next((e) => e.type === 'crashed', 10000, 'crash');
  }

  /** Closes the tab as a user does (pagehide and unload run). */
  async close() {
    if (this.closed || !this.page.browser().connected) return;
    await this.page.close({ runBeforeUnload: false });
  }
}

/**
 * Waits until the browser's lock manager says `expected` holds the SDK's leader lock (asked
 * through `tab`), polling within a deadline; resolves with the time it took (ms).
 */
export async function waitLeader(tab, expected, ms = 10000) {
  return tab.run(
    async ({ expected, ms }) => {
      const start = Date.now();
      for (;;) {
        const leader = await window.soak.leaderTab();
        if (expected === undefined ? leader !== null : leader === expected)
          return Date.now() - start;
        if (Date.now() - start > ms) throw new Error(`leader is ${leader}, not ${expected}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    { expected, ms },
    ms + 5000,
  );
}
