// The end-to-end harness: the real demo (demo/start.mjs: storefront + API on a fresh embedded
// database, the real catalog), real Chromium through playwright-core, and one browser context
// per device. Nothing is mocked.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

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

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

export const DESKTOP = { width: 1280, height: 800 };
export const MOBILE = { width: 390, height: 844 };

/**
 * A device: its own browser context (its own IndexedDB, cookies and tabs). A page's
 * console.error or uncaught error fails the test that owns it, like the browser suite's rule.
 */
export async function device(
  browser: Browser,
  viewport = DESKTOP,
): Promise<BrowserContext & { errors: string[] }> {
  const context = Object.assign(await browser.newContext({ viewport }), {
    errors: [] as string[],
  });
  context.on('page', (page) => watch(page, context.errors));
  return context;
}

function watch(page: Page, errors: string[]) {
  page.on('console', (m) => {
    // The browser's own log of a request the offline journey aborts on purpose.
    if (/ERR_INTERNET_DISCONNECTED/.test(m.text())) return;
    if (m.type() === 'error') errors.push(`${page.url()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`${page.url()}: ${e.message}`));
}

/** Opens a page of the storefront and waits for the script tag's client. */
export async function open(context: BrowserContext, url: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(url);
  await page.waitForFunction(() => !!(window as { omnikit?: { cart?: unknown } }).omnikit?.cart);
  return page;
}

let axeSource: string | undefined;

/** Runs axe-core on the page (open shadow roots included); resolves with the violations. */
export async function axe(page: Page): Promise<string[]> {
  axeSource ??= await readFile(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: axeSource });
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

const shots = new URL('screenshots/', import.meta.url);

/** Saves a full-page screenshot under test/e2e/screenshots/ (git-ignored). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(shots, { recursive: true });
  await page.screenshot({ path: new URL(`${name}.png`, shots).pathname, fullPage: true });
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
