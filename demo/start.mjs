// `npm start`: runs the omnikit API server on the embedded database (or PostgreSQL when
// DATABASE_URL is set) and serves the demo storefront, which loads the script-tag bundle
// exactly as a brand's site would. Ports: DEMO_PORT (8080), API_PORT (8787); data directory:
// OMNIKIT_DATA_DIR (.omnikit-data/ in the repo), kept across restarts.
import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { commerceExtension, startServer } from '@omnikit/server';

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

const catalog = JSON.parse(await readFile(join(here, 'data', 'catalog.json'), 'utf8'));
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
const site = createServer(async (req, res) => {
  const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
  const image = /^\/images\/([A-Za-z0-9._-]{1,64})\.svg$/.exec(path);
  if (image) {
    res.writeHead(200, {
      'content-type': types['.svg'],
      'cache-control': 'public, max-age=86400',
    });
    res.end(productImage(image[1]));
    return;
  }
  const rel = normalize(path.endsWith('/') ? `${path}index.html` : path).replace(
    /^(\.\.[/\\])+/,
    '',
  );
  const file = rel.startsWith('/omnikit') ? join(bundleDir, rel) : join(publicDir, rel);
  try {
    let body = await readFile(file);
    if (extname(file) === '.html')
      body = Buffer.from(body.toString().replaceAll('%API_URL%', apiUrl));
    res.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    res.end(body);
  } catch {
    res.writeHead(404, { 'content-type': 'text/plain' });
    res.end('Not found');
  }
});
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
  handoff: { url: `${storefront}/`, allowLinking: false },
  lowStockThreshold: 5,
};

// The demo catalog, stores, stock and order history (demo/data, derived from UCI Online Retail,
// CC BY 4.0) are imported on the first run; later runs keep what the data directory holds.
const commerce = commerceExtension({ demo: { dir: join(here, 'data'), site: 'demo' } });
const api = await startServer({
  port: apiPort,
  host,
  sites: [demoSite],
  database: process.env.DATABASE_URL ? { url: process.env.DATABASE_URL } : { dataDir },
  extensions: [commerce],
});
await commerce.ready();
apiUrl = api.url;

console.log(`omnikit demo storefront: ${storefront}/`);
console.log(`omnikit API:             ${api.url}/v1/health`);
console.log(
  `A second "device": open ${storefront}/ in a private window or another browser profile.`,
);
console.log('Press Ctrl+C to stop.');

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    site.close();
    void api.close().then(() => process.exit(0));
  });
}
