// A web-test-runner plugin that runs ONE real @omnikit/server (in-memory PGlite) next to the test
// pages, with test sites whose allowed origin is the runner's own. Pages learn about it from
//   GET /__omni/test-config            -> { endpoint, engine, fuzzSeed, sites: { [name]: { publishableKey, mergePolicy, adminKey? } } }
//   GET /__omni/sign-token?site=&sub=  -> { token }  (an HS256 customer token, as a brand backend signs)
//   POST /__omni/admin?site=&method=&path= (JSON body) -> { status, body }: an admin API call made
//     with the site's admin key, as a POS/ERP would (the server's CORS rightly refuses admin calls
//     from browsers).
// The `shop` site carries the commerce extension's fixture: a small catalog, four UK stores, their
// stock and a few orders (see commerceFixture below).
// The server is imported from its build (packages/server/dist), so run `npm run build` first
// (`npm run test:browser` does).
import { SignJWT } from 'jose';

const secret = 'wtr-customer-token-secret-0123456789abcdef';
// Randomized browser tests run one fixed seed, so CI is reproducible; explore with
// `SDK_FUZZ_SEED=random npm run test:browser` (the seed is printed) or replay with a number.
const fuzzSeed =
  process.env.SDK_FUZZ_SEED === 'random'
    ? Date.now() % 2 ** 31
    : Number(process.env.SDK_FUZZ_SEED ?? 20261124);
const issuer = 'https://brand.test';
const audience = 'omnikit-wtr';

/** Named test sites, one per merge policy the tests need, plus one that links on handoff. */
const siteDefs = {
  sum: { mergePolicy: 'sum' },
  max: { mergePolicy: 'max' },
  account: { mergePolicy: 'prefer-account' },
  guest: { mergePolicy: 'prefer-guest' },
  linking: { mergePolicy: 'sum', handoff: { allowLinking: true } },
  shop: { mergePolicy: 'sum', adminKey: 'wtr-admin-key-of-the-shop', lowStockThreshold: 3 },
};

/**
 * The `shop` site's commerce data. Skus are the tests' own: stock-changing tests use skus no
 * other test reads. Orders make MUG-1 and TEA-1 (and SPOON-1) bought together, LAMP-1 with BULB-1.
 */
const product = (sku, title, price, category) => ({
  sku,
  title,
  description: `${title}, from the test catalog.`,
  price,
  currency: 'GBP',
  url: `/p/${sku}`,
  image: `/img/${sku}.svg`,
  category,
});
const hours = {
  mon: ['09:00-17:30'],
  tue: ['09:00-17:30'],
  wed: ['09:00-17:30'],
  thu: ['09:00-20:00'],
  fri: ['09:00-17:30'],
  sat: ['10:00-16:00'],
  sun: [],
};
const store = (id, name, lat, lng, postcode) => ({
  id,
  name,
  address: { line1: `1 High Street`, city: name, postcode, country: 'GB' },
  lat,
  lng,
  hours,
  pickup: true,
});
export const commerceFixture = {
  products: [
    product('MUG-1', 'Enamel mug', 850, 'Kitchen'),
    product('TEA-1', 'Breakfast tea', 450, 'Pantry'),
    product('SPOON-1', 'Tea spoon', 300, 'Kitchen'),
    product('LAMP-1', 'Desk lamp', 3900, 'Home'),
    product('BULB-1', 'LED bulb', 600, 'Home'),
    product('CANDLE-1', 'Beeswax candle', 1200, 'Home'),
    product('WATCH-1', 'Watched item', 1000, 'Home'),
    // Stock watches that poll (commerce.test.ts, service-worker.test.ts): each its own sku.
    product('POLL-1', 'Polled item', 1000, 'Home'),
    product('SWPOLL-1', 'Polled item behind a worker', 1000, 'Home'),
  ],
  stores: [
    store('london', 'London', 51.5074, -0.1278, 'WC2N 5DU'),
    store('manchester', 'Manchester', 53.4808, -2.2426, 'M1 1AE'),
    store('leeds', 'Leeds', 53.7997, -1.5492, 'LS1 1UR'),
    store('bristol', 'Bristol', 51.4545, -2.5879, 'BS1 4ST'),
  ],
  // MUG-1: plenty in Manchester, 2 left in Leeds, none in London; online 40.
  stock: [
    ['manchester', 'MUG-1', 20],
    ['leeds', 'MUG-1', 2],
    ['london', 'MUG-1', 0],
    ['online', 'MUG-1', 40],
    ['london', 'TEA-1', 12],
    ['bristol', 'WATCH-1', 0],
  ],
  orders: [
    ['MUG-1', 'TEA-1'],
    ['MUG-1', 'TEA-1', 'SPOON-1'],
    ['MUG-1', 'TEA-1'],
    ['LAMP-1', 'BULB-1'],
    ['LAMP-1', 'BULB-1'],
    ['CANDLE-1'],
  ],
};

/** Loads the fixture through the admin API, as a brand's systems would. */
async function seedShop(url, adminKey) {
  const admin = async (method, path, body) => {
    const res = await fetch(url + path, {
      method,
      headers: { 'content-type': 'application/json', 'x-omni-admin-key': adminKey },
      body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`seeding ${path}: ${res.status} ${await res.text()}`);
  };
  const { products, stores, stock, orders } = commerceFixture;
  const now = Date.now() - 60_000;
  await admin('POST', '/v1/admin/products/import', { products });
  await admin('PUT', '/v1/admin/stores', { stores });
  await admin('PUT', '/v1/admin/stock', {
    updates: stock.map(([location, sku, qty]) => ({ location, sku, qty, updatedAt: now })),
  });
  for (const [i, lines] of orders.entries()) {
    await admin('POST', '/v1/orders', {
      orderId: `wtr-order-${i}`,
      channel: 'web',
      at: now - (orders.length - i) * 60_000,
      lines: lines.map((sku) => ({ sku, qty: 1 })),
    });
  }
}

/** An HS256 customer token, as a brand's backend would sign it for its logged-in customer. */
function signToken(sub, ttlSeconds = 300) {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer(issuer)
    .setAudience(audience)
    .setIssuedAt()
    .setExpirationTime(`${ttlSeconds}s`)
    .sign(new TextEncoder().encode(secret));
}

const json = (value) => ({ body: JSON.stringify(value), type: 'json' });

const readBody = async (req) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
};

/** `engine`: the browser engine of this run, told to the pages (randomized tests print it). */
export function omniServerPlugin({ engine = 'chromium' } = {}) {
  let server;
  let commerce;
  return {
    name: 'omni-server',
    async serverStart({ config }) {
      const dist = await import('../../packages/server/dist/index.js');
      const { startServer, silentLogger } = dist;
      commerce = dist.commerceExtension({ heartbeatMs: 5000 });
      const port = config.port;
      const origins = [`http://localhost:${port}`, `http://127.0.0.1:${port}`];
      if (config.hostname && config.hostname !== 'localhost') {
        origins.push(`http://${config.hostname}:${port}`);
      }
      server = await startServer({
        port: 0,
        logger: silentLogger,
        heartbeatMs: 5000,
        // SDK tests with short request timeouts must see a 429 as a 429, not as a timeout.
        refusalDelayMs: 0,
        // Every test page registers devices from 127.0.0.1: lift the per-IP caps. The randomized
        // tests push as fast as their steps go: lift the push budget too.
        rateLimits: {
          push: { capacity: 100000, refillPerSecond: 100000 },
          ip: { capacity: 100000, refillPerSecond: 100000 },
          claimIp: { capacity: 1000, refillPerSecond: 1000 },
          claimDevice: { capacity: 100, refillPerSecond: 100 },
          register: { capacity: 100000, refillPerSecond: 100000 },
        },
        sites: Object.entries(siteDefs).map(([name, extra]) => ({
          id: `wtr-${name}`,
          publishableKey: `pk_wtr_${name}`,
          allowedOrigins: origins,
          customerToken: { alg: 'HS256', secret },
          issuer,
          audience,
          handoff: { url: `http://localhost:${port}/claim`, ...extra.handoff },
          mergePolicy: extra.mergePolicy,
          ...(extra.adminKey ? { adminKey: extra.adminKey } : {}),
          ...(extra.lowStockThreshold ? { lowStockThreshold: extra.lowStockThreshold } : {}),
        })),
        extensions: [commerce],
      });
      await commerce.ready();
      await seedShop(server.url, siteDefs.shop.adminKey);
    },
    async serverStop() {
      // Open stock streams would hold the server's close: end them first.
      await commerce?.close();
      await server?.close();
    },
    async serve(context) {
      if (context.path === '/__omni/test-config') {
        return json({
          endpoint: server.url,
          engine,
          fuzzSeed,
          sites: Object.fromEntries(
            Object.entries(siteDefs).map(([name, d]) => [
              name,
              {
                publishableKey: `pk_wtr_${name}`,
                mergePolicy: d.mergePolicy,
                ...(d.adminKey ? { adminKey: d.adminKey } : {}),
              },
            ]),
          ),
        });
      }
      if (context.path === '/__omni/sign-token') {
        const sub = context.URL.searchParams.get('sub') ?? 'customer-1';
        const ttl = Number(context.URL.searchParams.get('ttl') ?? 300);
        return json({ token: await signToken(sub, ttl) });
      }
      if (context.path === '/__omni/admin') {
        const q = context.URL.searchParams;
        const def = siteDefs[q.get('site') ?? 'shop'];
        if (!def?.adminKey) return json({ status: 0, body: 'no admin key for this site' });
        const body = await readBody(context.req);
        const res = await fetch(server.url + q.get('path'), {
          method: q.get('method') ?? 'POST',
          headers: { 'content-type': 'application/json', 'x-omni-admin-key': def.adminKey },
          ...(body ? { body } : {}),
        });
        const text = await res.text();
        return json({ status: res.status, body: text ? JSON.parse(text) : null });
      }
    },
  };
}
