// `npm start`: runs the omnikit API server on the embedded database (or PostgreSQL when
// DATABASE_URL is set) and serves the demo storefront, which loads the script-tag bundle
// exactly as a brand's site would. Ports: DEMO_PORT (8080), API_PORT (8787); data directory:
// OMNIKIT_DATA_DIR (.omnikit-data/ in the repo), kept across restarts. DEMO_CURRENCY (GBP, the
// data's; or USD, EUR, JPY, KRW at fixed demo rates, see currency.mjs) prices the shop.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SignJWT } from 'jose';
import { commerceExtension, startServer } from '@omnikit/server';
import { convertCatalog, demoCurrency, demoDataDir, minorDigits } from './currency.mjs';
import {
  LANGS,
  cartPage,
  categoryPage,
  esmPage,
  homePage,
  indexCatalog,
  kioskPage,
  notFoundPage,
  pageNumber,
  productPage,
  searchPage,
  signInPage,
} from './pages.mjs';

const here = fileURLToPath(new URL('.', import.meta.url));
const publicDir = join(here, 'public');
const bundleDir = join(here, '..', 'packages', 'embed', 'dist');
const host = process.env.HOST ?? '127.0.0.1';
const demoPort = Number(process.env.DEMO_PORT ?? 8080);
const apiPort = Number(process.env.API_PORT ?? 8787);
const dataDir = process.env.OMNIKIT_DATA_DIR ?? join(here, '..', '.omnikit-data');

const types = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

const currency = demoCurrency();
const sourceCatalog = JSON.parse(await readFile(join(here, 'data', 'catalog.json'), 'utf8'));
const catalog = convertCatalog(sourceCatalog, currency);
const titles = new Map(catalog.products.map((p) => [p.sku, p.title]));

const escapeXml = (text) => text.replace(/[<>&"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The demo catalog has no photos: each product gets a generated, deterministic picture. */
function productImage(sku) {
  let hash = 0;
  for (const ch of sku) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const hue = hash % 360;
  const words = (titles.get(sku) ?? sku).split(' ');
  const lines = [words.slice(0, 3).join(' '), words.slice(3, 6).join(' ')].filter(Boolean);
  const text = lines
    .map((l, i) => `<text x="200" y="${330 + i * 30}" text-anchor="middle">${escapeXml(l)}</text>`)
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 400 400" role="img" aria-label="${escapeXml(titles.get(sku) ?? sku)}">
<rect width="400" height="400" fill="hsl(${hue} 55% 92%)"/>
<circle cx="200" cy="170" r="${90 + (hash % 30)}" fill="hsl(${hue} 60% 62%)"/>
<rect x="${140 + (hash % 40)}" y="120" width="80" height="80" rx="12" fill="hsl(${(hue + 40) % 360} 65% 45%)" opacity="0.85"/>
<g font-family="system-ui, sans-serif" font-size="22" fill="hsl(${hue} 40% 22%)">${text}</g>
</svg>`;
}

let apiUrl = '';
const catalogIndex = indexCatalog(catalog.products);
const stores = JSON.parse(await readFile(join(here, 'data', 'stores.json'), 'utf8')).stores;
const esmFiles = {
  '/esm/sdk/': join(here, '..', 'packages', 'sdk', 'dist'),
  '/esm/protocol/': join(here, '..', 'packages', 'protocol', 'dist'),
  '/esm/idb/': join(here, '..', 'node_modules', 'idb', 'build'),
};
/** Demo customers the sign-in page offers (ids from the order history, names invented). */
const customers = [
  { id: '17850', name: 'Ada Lovelace (17850, with order history)' },
  { id: '14911', name: 'Grace Hopper (14911)' },
  { id: '17841', name: 'Sejong Kim (17841)' },
];
const formats = {
  en: new Intl.NumberFormat('en-GB', { style: 'currency', currency }),
  ko: new Intl.NumberFormat('ko-KR', { style: 'currency', currency }),
};
/** Minor units per major unit of the shop's currency (100 pence; 1 won). */
const minorPerMajor = 10 ** minorDigits(currency);

/** What every page needs; the language comes from the `lang` cookie (en by default). */
function pageConfig(req, query) {
  const cookie = /(?:^|;\s*)lang=(en|ko)\b/.exec(req.headers.cookie ?? '');
  const lang = LANGS.includes(query.get('lang')) ? query.get('lang') : (cookie?.[1] ?? 'en');
  return {
    lang,
    apiUrl,
    publishableKey: demoSite.publishableKey,
    currency,
    catalog: catalogIndex,
    stores,
    customers,
    price: (minor) => formats[lang].format(minor / minorPerMajor),
    minorPerMajor,
  };
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'content-type': type, ...headers });
  res.end(body);
}

/** Renders the storefront's pages; null when the path is not one of them. */
function render(path, query, config) {
  const page = pageNumber(query.get('page'));
  if (path === '/' || path === '/index.html') return homePage(config);
  if (path === '/search') return searchPage(config, (query.get('q') ?? '').slice(0, 100), page);
  if (path === '/product.html') return productPage(config, query.get('sku') ?? '');
  if (path === '/cart.html') return cartPage(config);
  if (path === '/signin.html') return signInPage(config);
  if (path === '/kiosk.html') return kioskPage(config);
  if (path === '/esm.html') return esmPage(config);
  const category = /^\/c\/([a-z0-9-]{1,60})$/.exec(path);
  if (category) return categoryPage(config, category[1], page);
  return null;
}

/** The demo's stand-in for a brand's login: signs a short-lived customer token (demo only). */
async function signIn(req, res) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 1000) return send(res, 413, 'application/json', '{"error":"too_large"}');
  }
  let customer;
  try {
    customer = JSON.parse(body).customer;
  } catch {
    customer = undefined;
  }
  // Any plain id signs in (a stand-in for the brand's login; the page offers three).
  if (typeof customer !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(customer))
    return send(res, 400, 'application/json', '{"error":"unknown_customer"}');
  const token = await new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(customer)
    .setIssuer(demoSite.issuer)
    .setAudience(demoSite.audience)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(demoSite.customerToken.secret));
  send(res, 200, 'application/json', JSON.stringify({ token }), { 'cache-control': 'no-store' });
}

const site = createServer((req, res) => {
  // A malformed request (a bad %-escape, a header value a client cannot set) is a 400, never
  // a crash of the process that also runs the API.
  serve(req, res).catch(() => {
    if (!res.headersSent) send(res, 400, 'text/plain', 'Bad request');
    else res.destroy();
  });
});

/** Only a path of this site (never an open redirect): what the URL parser makes of it. */
function localPath(back) {
  try {
    const url = new URL(back, 'http://storefront.invalid');
    return url.origin === 'http://storefront.invalid' ? url.pathname + url.search : '/';
  } catch {
    return '/';
  }
}

async function serve(req, res) {
  const url = new URL(req.url ?? '/', 'http://x');
  const path = decodeURIComponent(url.pathname);
  if (path === '/demo/sign-in' && req.method === 'POST') return signIn(req, res);
  if (path === '/lang') {
    const to = LANGS.includes(url.searchParams.get('to')) ? url.searchParams.get('to') : 'en';
    return send(res, 303, 'text/plain', '', {
      location: localPath(url.searchParams.get('back') ?? '/'),
      'set-cookie': `lang=${to}; Path=/; Max-Age=31536000; SameSite=Lax`,
    });
  }
  const image = /^\/images\/([A-Za-z0-9._-]{1,64})\.svg$/.exec(path);
  if (image) {
    return send(res, 200, types['.svg'], productImage(image[1]), {
      'cache-control': 'public, max-age=86400',
    });
  }
  const html = render(path, url.searchParams, pageConfig(req, url.searchParams));
  if (html) return send(res, 200, types['.html'], html);
  const rel = normalize(path).replace(/^(\.\.[/\\])+/, '');
  const esm = Object.keys(esmFiles).find((prefix) => rel.startsWith(prefix));
  const file = esm
    ? join(esmFiles[esm], rel.slice(esm.length))
    : rel.startsWith('/omnikit')
      ? join(bundleDir, rel)
      : join(publicDir, rel);
  try {
    send(res, 200, types[extname(file)] ?? 'application/octet-stream', await readFile(file));
  } catch {
    const config = pageConfig(req, url.searchParams);
    send(res, 404, types['.html'], notFoundPage(config));
  }
}
// The storefront's origin must be known before the API starts: it is the site's CORS origin.
await new Promise((resolve) => site.listen(demoPort, host, resolve));
const storefront = `http://${host}:${site.address().port}`;

/** The demo tenant. Its keys are public on purpose: this is a local demo, not a deployment. */
const demoSite = {
  id: 'demo',
  publishableKey: 'pk_demo_omnikit',
  allowedOrigins: [storefront, storefront.replace('127.0.0.1', 'localhost')],
  customerToken: { alg: 'HS256', secret: 'omnikit-demo-only-customer-token-secret' },
  issuer: 'omnikit-demo',
  audience: 'omnikit',
  adminKey: 'ak_demo_omnikit_local_only',
  mergePolicy: 'sum',
  // The store kiosk joins the customer's profile while it serves them ("Done, next customer"
  // logs it out again), so a pickup store chosen there reaches the customer's devices.
  handoff: { url: `${storefront}/`, allowLinking: true },
  lowStockThreshold: 5,
};

// The demo catalog, stores, stock and order history (demo/data, derived from UCI Online Retail,
// CC BY 4.0) are imported on the first run; later runs keep what the data directory holds.
// In another currency than the data's, from a copy whose catalog is priced in it.
const seedDir = await demoDataDir(join(here, 'data'), dataDir, currency, sourceCatalog);
const commerce = commerceExtension({ demo: { dir: seedDir, site: 'demo' } });
const api = await startServer({
  port: apiPort,
  host,
  sites: [demoSite],
  database: process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir },
  extensions: [commerce],
});
await commerce.ready();
apiUrl = api.url;
await repriceIfNeeded(api.url);

console.log(`omnikit demo storefront: ${storefront}/`);
console.log(`omnikit API:             ${api.url}/v1/health`);
console.log(
  `A second "device": open ${storefront}/ in a private window or another browser profile.`,
);
console.log('Press Ctrl+C to stop.');

/**
 * A data directory seeded in another currency than DEMO_CURRENCY (an earlier run's) is priced
 * again: the catalog feed in the new currency, through the admin API as a brand's feed would be.
 */
async function repriceIfNeeded(api) {
  const sku = catalog.products[0].sku;
  const res = await fetch(`${api}/v1/products?skus=${encodeURIComponent(sku)}`, {
    headers: { 'x-omni-key': demoSite.publishableKey },
  });
  const seeded = (await res.json()).products?.[0]?.currency;
  if (!seeded || seeded === currency) return;
  const imported = await fetch(`${api}/v1/admin/products/import`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-omni-admin-key': demoSite.adminKey },
    body: JSON.stringify(catalog),
  });
  if (!imported.ok) throw new Error(`re-pricing the demo catalog failed: ${imported.status}`);
  console.log(`omnikit demo: catalog re-priced from ${seeded} to ${currency}`);
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    site.close();
    void api.close().then(() => process.exit(0));
  });
}
