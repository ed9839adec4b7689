// The end-to-end harness: the real demo (demo/start.mjs: storefront + API on a fresh embedded
// database, the real catalog) and what the journeys do in a browser, through the driver layer
// (test/e2e/driver/: one device is a browser context, or in WebKit its own browser). Nothing
// is mocked.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Device, Page } from './driver/index.js';

const require = createRequire(import.meta.url);
const root = new URL('../../', import.meta.url);

export interface Demo {
  storefront: string;
  api: string;
  close(): Promise<void>;
}

/** Starts `demo/start.mjs` on free ports and a new data directory; resolves once it listens. */
export async function startDemo(): Promise<Demo> {
  const dataDir = await mkdtemp(join(tmpdir(), 'omnikit-e2e-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DEMO_PORT: '0',
    API_PORT: '0',
    OMNIKIT_DATA_DIR: dataDir,
  };
  delete env.DATABASE_URL;
  const child: ChildProcess = spawn(process.execPath, ['demo/start.mjs'], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: string[] = [];
  child.stderr!.on('data', (d) => logs.push(String(d)));
  const urls: Record<string, string> = {};
  const lines = createInterface({ input: child.stdout! });
  for await (const line of lines) {
    const match = /^omnikit (demo storefront|API):\s+(\S+)/.exec(line);
    if (match) urls[match[1]!] = match[2]!;
    if (urls['demo storefront'] && urls['API']) break;
  }
  if (!urls['API']) throw new Error(`the demo did not start:\n${logs.join('')}`);
  return {
    storefront: urls['demo storefront']!.replace(/\/$/, ''),
    api: new URL(urls['API']!).origin,
    async close() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

/** Opens a page of the storefront on `device` and waits for the script tag's client. */
export async function open(device: Device, url: string): Promise<Page> {
  const page = await device.newPage();
  await page.goto(url);
  await page.waitForFunction(() => !!(window as { omnikit?: { cart?: unknown } }).omnikit?.cart);
  return page;
}

let axeSource: string | undefined;

/** Runs axe-core on the page (open shadow roots included); resolves with the violations. */
export async function axe(page: Page): Promise<string[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScript(axeSource);
  return page.evaluate(async () => {
    const result = await (
      window as unknown as {
        axe: {
          run(): Promise<{
            violations: { id: string; help: string; nodes: { target: unknown[] }[] }[];
          }>;
        };
      }
    ).axe.run();
    return result.violations.map(
      (v) => `${v.id}: ${v.help} (${v.nodes.map((n) => JSON.stringify(n.target)).join(', ')})`,
    );
  });
}

/** Saves a screenshot under test/e2e/screenshots/<engine>/ (git-ignored); full-page but in WebKit. */
export async function screenshot(page: Page, name: string): Promise<void> {
  const dir = new URL(`screenshots/${process.env.OMNIKIT_ENGINE ?? 'chromium'}/`, import.meta.url);
  await mkdir(dir, { recursive: true });
  await page.screenshot(new URL(`${name}.png`, dir).pathname);
}

/** Signs the device in as `customer` through the demo's stand-in login page. */
export async function signIn(page: Page, storefront: string, customer: string): Promise<void> {
  await page.goto(`${storefront}/signin.html`);
  await page.waitForFunction(() => !!(window as { omnikit?: { cart?: unknown } }).omnikit?.cart);
  await page.evaluate(async (id) => {
    const res = await fetch('/demo/sign-in', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ customer: id }),
    });
    const { token } = (await res.json()) as { token: string };
    await (
      window as unknown as { omnikit: { identity: { identify(t: string): Promise<unknown> } } }
    ).omnikit.identity.identify(token);
  }, customer);
}

/** The cart as the device's client sees it: `sku x qty` lines, sorted. */
export function cartOf(page: Page): Promise<string[]> {
  return page.evaluate(() =>
    (
      window as unknown as { omnikit: { cart: { lines: { sku: string; qty: number }[] } } }
    ).omnikit.cart.lines
      .map((l) => `${l.sku} x ${l.qty}`)
      .sort(),
  );
}

/** What the back/forward cache tests use of the page's client. */
type Omnikit = {
  cart: { add(sku: string, qty: number): Promise<void>; line(sku: string): unknown };
  status: { storage: string };
};

/**
 * Adds `sku` on the page shown and resolves once it is stored: true when its storage moved to
 * memory (the database stalled `storageTimeoutMs`, behind a page in the back/forward cache).
 */
export const addStalls = (page: Page, sku: string) =>
  page.evaluate(async (s) => {
    const { omnikit } = window as unknown as { omnikit: Omnikit };
    await omnikit.cart.add(s, 1);
    return omnikit.status.storage === 'memory';
  }, sku);

/**
 * Goes back to `path` and says whether it shows `sku` with its storage still IndexedDB (10 s at
 * most), and whether it came from the back/forward cache (`window.restored`, which the test's
 * `pageshow` listener sets).
 */
export async function backShows(page: Page, path: string, sku: string) {
  // Once this call has answered: a page restored at once would destroy its context first.
  await page.evaluate(() => void setTimeout(() => history.back()));
  const shown = await page
    .waitForFunction(
      (want) => {
        const { omnikit } = window as unknown as { omnikit?: Omnikit };
        return location.pathname === want.path && omnikit?.cart.line(want.sku);
      },
      { path, sku },
      { timeout: 10_000 },
    )
    .then(
      () => true,
      () => false,
    );
  const back = await page.evaluate(() => ({
    restored: !!(window as { restored?: boolean }).restored,
    storage: (window as unknown as { omnikit?: Omnikit }).omnikit?.status.storage,
  }));
  return { restored: back.restored, missing: !shown || back.storage !== 'indexeddb' };
}
