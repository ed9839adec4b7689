// A brand's site for the script-tag bundle, driven from Node: a real @omnikit/server (in-memory
// PGlite, the commerce extension, a small catalog) on one loopback origin, and a static "brand"
// origin on another port that serves plain HTML pages (with the headers a test gives, such as a
// strict Content-Security-Policy) and the script-tag bundle. Used by embed-pages.node.ts and
// test/bench/embed.bench.ts. The bundle is built from the current sources with the root
// rollup.config.mjs's own script-tag build, so a stale or missing dist/ can never be tested.
import { createServer, type Server } from 'node:http';
import { pathToFileURL } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { rollup, type OutputOptions, type RollupOptions } from 'rollup';
import { commerceExtension, silentLogger, startServer, type RunningServer } from '@omnikit/server';

const root = new URL('../../', import.meta.url);

/** The files of packages/embed/dist/ the script tag uses (omnikit.js, .min.js, omnikit-qr.js). */
const scriptTagFile = (out: OutputOptions) => out.file?.startsWith('packages/embed/dist/');

/** The script-tag files, built in memory by the repository's rollup config. */
async function buildBundle(): Promise<Record<string, string>> {
  const configUrl = pathToFileURL(`${root.pathname}rollup.config.mjs`).href;
  const { default: builds } = (await import(configUrl)) as { default: RollupOptions[] };
  const entries = builds.filter((b) => [b.output].flat().some((o) => o && scriptTagFile(o)));
  if (!entries.some((b) => b.input === 'packages/embed/src/omnikit.ts'))
    throw new Error('rollup.config.mjs has no script-tag build');
  const cwd = process.cwd();
  // The config's paths are relative to the repository root.
  process.chdir(root.pathname);
  try {
    const files: Record<string, string> = {};
    for (const entry of entries) {
      const bundle = await rollup({ ...entry, onwarn: () => {} });
      for (const out of [entry.output].flat() as OutputOptions[]) {
        const { output } = await bundle.generate(out);
        files[String(out.file).split('/').pop()!] = output[0].code;
      }
      await bundle.close();
    }
    return files;
  } finally {
    process.chdir(cwd);
  }
}
const publishableKey = 'pk_brand';
const adminKey = 'brand-admin-key-0123456789';
const unlimited = { capacity: 1e9, refillPerSecond: 1e9 };

/** The catalog, stores and stock the brand's systems load through the admin API. */
const product = (sku: string, title: string, price: number) => ({
  sku,
  title,
  price,
  currency: 'GBP',
  url: `/p/${sku}`,
  category: 'Kitchen',
});
const open = ['09:00-17:30'];
const hours = { mon: open, tue: open, wed: open, thu: open, fri: open, sat: open, sun: [] };
const store = (id: string, name: string, lat: number, lng: number, postcode: string) => ({
  id,
  name,
  address: { line1: '1 High Street', city: name, postcode, country: 'GB' },
  lat,
  lng,
  hours,
  pickup: true,
});
export const catalog = {
  products: [
    product('MUG-1', 'Enamel mug', 850),
    product('TEA-1', 'Breakfast tea', 450),
    product('SPOON-1', 'Tea spoon', 300),
  ],
  stores: [
    store('london', 'London', 51.5074, -0.1278, 'WC2N 5DU'),
    store('leeds', 'Leeds', 53.7997, -1.5492, 'LS1 1UR'),
  ],
  stock: [
    ['london', 'MUG-1', 12],
    ['leeds', 'MUG-1', 2],
    ['online', 'MUG-1', 40],
  ] as const,
  orders: [
    ['MUG-1', 'TEA-1'],
    ['MUG-1', 'TEA-1', 'SPOON-1'],
    ['MUG-1', 'TEA-1'],
  ],
};

async function seed(api: string): Promise<void> {
  const admin = async (method: string, path: string, body: unknown) => {
    const res = await fetch(api + path, {
      method,
      headers: { 'content-type': 'application/json', 'x-omni-admin-key': adminKey },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  const at = Date.now() - 60_000;
  await admin('POST', '/v1/admin/products/import', { products: catalog.products });
  await admin('PUT', '/v1/admin/stores', { stores: catalog.stores });
  await admin('PUT', '/v1/admin/stock', {
    updates: catalog.stock.map(([location, sku, qty]) => ({ location, sku, qty, updatedAt: at })),
  });
  for (const [i, lines] of catalog.orders.entries()) {
    await admin('POST', '/v1/orders', {
      orderId: `brand-order-${i}`,
      channel: 'web',
      at: at - i * 60_000,
      lines: lines.map((sku) => ({ sku, qty: 1 })),
    });
  }
}

/** A page the brand origin serves: its HTML and response headers. */
export interface BrandPage {
  html: string;
  headers?: Record<string, string>;
}

export interface EmbedSite {
  /** The API's origin, e.g. `http://127.0.0.1:41234`. */
  api: string;
  /** The brand's origin (another port, so another origin). */
  origin: string;
  /**
   * A CDN's origin (a third one) serving the script-tag files with CORS, as public CDNs do;
   * under `/without-qr/` only the script, as a brand that copied one file would have it.
   */
  cdn: string;
  publishableKey: string;
  /** Where the server's handoff URLs point (the `shop` page, `?omni_handoff=` appended). */
  handoffPage: string;
  /** Serves `html` at `path` on the brand origin from now on. */
  page(path: string, page: BrandPage): void;
  close(): Promise<void>;
}

/**
 * A same-origin script for pages under a Content-Security-Policy: it records every
 * `securitypolicyviolation` (they are composed, so shadow roots' reach the document too).
 */
const probe = `window.violations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  violations.push(e.effectiveDirective + ' ' + e.blockedURI + ' ' + e.sample);
}, true);`;

/** The files in `bundle` with CORS; under `/without-qr/` all but omnikit-qr.js. */
function cdnServer(bundle: Record<string, string>): Server {
  return createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const [, partial, file = ''] = /^\/(without-qr\/)?([^/]+)$/.exec(path) ?? [];
    const cors = { 'access-control-allow-origin': '*' };
    if (Object.hasOwn(bundle, file) && !(partial && file === 'omnikit-qr.js')) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', ...cors });
      res.end(bundle[file]);
    } else res.writeHead(404, { 'content-type': 'text/plain', ...cors }).end('not found');
  });
}

/** The port of a server listening on loopback. */
async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

/**
 * Starts the API, the brand origin (which serves the script-tag files and /probe.js) and a CDN
 * origin (the script-tag files).
 */
export async function startEmbedSite(): Promise<EmbedSite> {
  const pages = new Map<string, BrandPage>();
  const bundle = await buildBundle();
  const http: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const page = pages.get(path);
    if (page) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', ...page.headers });
      res.end(page.html);
      return;
    }
    const file = path.slice(1);
    if (Object.hasOwn(bundle, file)) {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(bundle[file]);
      return;
    }
    // The browser asks for it by itself; an empty answer keeps a 404 out of the console.
    if (path === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    if (path === '/probe.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(probe);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
  });
  const cdnHttp = cdnServer(bundle);
  const [origin, cdn] = await Promise.all([listen(http), listen(cdnHttp)]);
  const handoffPage = `${origin}/shop`;
  const commerce = commerceExtension({ heartbeatMs: 5000 });
  let server: RunningServer;
  try {
    server = await startServer({
      port: 0,
      logger: silentLogger,
      heartbeatMs: 5000,
      rateLimits: { ip: unlimited, push: unlimited, register: unlimited, claimIp: unlimited },
      refusalDelayMs: 0,
      sites: [
        {
          id: 'brand',
          publishableKey,
          adminKey,
          allowedOrigins: [origin],
          handoff: { url: handoffPage },
        },
      ],
      extensions: [commerce],
    });
    await commerce.ready();
    await seed(server.url);
  } catch (err) {
    http.close();
    cdnHttp.close();
    throw err;
  }
  return {
    api: server.url,
    origin,
    cdn,
    publishableKey,
    handoffPage,
    page: (path, page) => pages.set(path, page),
    async close() {
      // Open stock streams would hold the server's close: end them first.
      await commerce.close();
      await server.close();
      for (const server of [http, cdnHttp]) {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      }
    },
  };
}

/** The copy-paste snippet of the README, for this site (the script from `from`, e.g. the CDN). */
export function snippet(
  site: EmbedSite,
  attrs = 'async',
  file = 'omnikit.min.js',
  from = '',
): string {
  return `<script src="${from}/${file}" data-endpoint="${site.api}" data-key="${site.publishableKey}" data-currency="GBP" ${attrs}></script>`;
}

/** Headless Debian Chromium (or CHROME_PATH), with the project's usual flags. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/** Every request a page makes (URL), and what its console printed as errors. */
export function watch(page: Page): { requests: string[]; errors: string[] } {
  const requests: string[] = [];
  const errors: string[] = [];
  page.on('request', (req) => requests.push(req.url()));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  page.on('pageerror', (err) => errors.push(String(err)));
  page.on('response', (res) => {
    if (res.status() >= 400) errors.push(`${res.status()} ${res.url()}`);
  });
  return { requests, errors };
}
