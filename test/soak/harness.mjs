// What the soak tests share: the real @omnikit/server (its build, on in-memory PGlite), a static
// origin on loopback serving plain pages that load the built SDK, a browser (engines.mjs:
// Chromium and Firefox through puppeteer-core, WebKit through WebKitWebDriver; the system's
// browsers, nothing downloaded), tabs that report what they did (through a binding where the
// driver has one, else a beacon to the origin's /__soak), the server's state as the oracle, and
// a seeded random source.
// What an engine cannot do, the soak says: `soak.canThrottle` (CPU slowdown: Chromium only),
// `soak.cannotCrash` (why the crash tests cannot run there: WebKit's).
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { cannotCrash, launch } from './engines.mjs';
import { browserProcesses, identity, killSurvivors } from './processes.mjs';
import { deadline, Tab } from './tab.mjs';

export { deadline, waitLeader } from './tab.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));
const tabPage = fileURLToPath(new URL('tab.html', import.meta.url));
export const publishableKey = 'pk_soak';

/**
 * Runs `run(open, opened)` on simulated browser profile `ns`, where `open(name, options)` opens
 * its tabs (`soak.tab`) and `opened` lists every one it opened so far. However it ends (done, failed, past `ms` when given), every tab it opened is
 * closed and the profile released before this returns or throws: nothing of a test outlives it.
 * A run still under way once `ms` passed opens no more tabs, and fails at its next command to a
 * closed tab or at its own next deadline.
 */
export async function onProfile(soak, ns, run, ms) {
  const opened = [];
  let stopped = false;
  const open = async (name, options) => {
    if (stopped) throw new Error(`${ns}: stopped`);
    const t = await soak.tab(ns, name, options);
    opened.push(t);
    // Opened while the run was being stopped: closed below with the others.
    if (stopped) throw new Error(`${ns}: stopped`);
    return t;
  };
  const closeAll = () => Promise.allSettled(opened.map((t) => t.close()));
  const running = run(open, opened);
  try {
    return await (ms === undefined ? running : deadline(running, ms, ns));
  } finally {
    stopped = true;
    await closeAll();
    await running.catch(() => {});
    await closeAll();
    await soak.release(ns);
  }
}

/** URL prefix -> directory of built files a page may import. */
const mounts = {
  '/dist/sdk/': `${root}packages/sdk/dist/`,
  '/dist/protocol/': `${root}packages/protocol/dist/`,
  '/idb/': `${root}node_modules/idb/build/`,
};

/**
 * Serves the site's pages (every page is the same SDK tab) and the built modules, and hands
 * the events pages send to /__soak (one JSON event a request) to `hear`.
 */
async function startOrigin(hear) {
  const http = createServer(async (req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const mount = Object.keys(mounts).find((m) => path.startsWith(m));
    try {
      if (path === '/__soak' && req.method === 'POST') {
        let body = '';
        for await (const chunk of req) body += chunk;
        res.writeHead(204).end();
        hear(JSON.parse(body));
      } else if (mount && !path.includes('..')) {
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

/**
 * Starts everything. `tab(ns, name, { crashable })` opens a tab of simulated browser profile `ns`
 * (its storage namespace), one the crash tests may crash if `crashable`; the returned `Tab`
 * knows the events its page reported (across reloads) and waits for them. `release(ns)` says a
 * test is done with a profile (WebKit ends its browser). `close()` ends it all, whatever state
 * it is in, and may be called again.
 */
export async function startSoak(engine = 'chromium') {
  /** Tabs by name: a beacon's event names its tab. */
  const named = new Map();
  const { http, origin } = await startOrigin((e) => named.get(e.tab)?.hear(e));
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
  /** Problems a page reported that fail the run whatever the figures say. */
  const problems = [];
  const browser = await launch(engine, { origin, api: server.url, problems });

  async function tab(ns, name, { crashable = false } = {}) {
    const t = new Tab(name);
    named.set(name, t);
    const q = new URLSearchParams({ ns, tab: name, ep: server.url, key: publishableKey });
    const hear = (e) => t.hear(e);
    const { page, crash } = await browser.open(
      ns,
      name,
      `${origin}/tab.html?${q}`,
      hear,
      () => t.ready(),
      crashable,
    );
    t.attach(page, crash);
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

  /**
   * The browser's own close first (bounded: one that hangs must not keep the run), then every
   * browser process the soak started that outlived it is killed (processes.mjs): those seen
   * under node before the close and after it.
   */
  let closing = null;
  async function close() {
    closing ??= (async () => {
      const ours = new Set(browserProcesses().map((p) => identity(p.pid)));
      try {
        await deadline(browser.close(), 60000, `closing ${engine}`);
      } finally {
        for (const p of browserProcesses()) ours.add(identity(p.pid));
        ours.delete(null);
        await killSurvivors(ours);
        await server.close();
        http.closeAllConnections();
        await new Promise((resolve) => http.close(resolve));
      }
    })();
    return closing;
  }

  return {
    engine,
    canThrottle: browser.throttle,
    cannotCrash: cannotCrash[engine] ?? null,
    /** How this engine's browser differs from its default, for the figures' lines. */
    settings: browser.settings ?? '',
    origin,
    server,
    tab,
    release: (ns) => browser.release(ns),
    serverCart,
    problems,
    close,
  };
}
