// A real server with the commerce extension, on the core tests' database setup (in-memory PGlite
// from the template, or a fresh PostgreSQL schema when DATABASE_URL is set).
import type { TestContext } from 'node:test';
import type { ServerOptions, SiteConfig } from '@omnikit/server';
import {
  commerceExtension,
  type CommerceExtension,
  type CommerceOptions,
} from '../../src/commerce/extension.js';
import {
  Api,
  dropSchema,
  freshSchema,
  startTestServer,
  testSites,
  type TestServer,
} from '../helpers.js';

export const adminKey = 'admin-key-of-the-shop';
export const otherAdminKey = 'admin-key-of-the-other-site';
export const admin = { 'x-omni-admin-key': adminKey };
export const pub = { 'x-omni-key': 'pk_shop' };

/** The core's two test sites; the second one gets an admin key of its own. */
export function commerceSites(shop: Partial<SiteConfig> = {}): SiteConfig[] {
  const [first, second] = testSites(shop) as [SiteConfig, SiteConfig];
  return [first, { ...second, adminKey: otherAdminKey }];
}

export interface CommerceServer extends TestServer {
  ext: CommerceExtension;
  api: Api;
}

export async function startCommerceServer(
  options: {
    commerce?: CommerceOptions;
    server?: Partial<ServerOptions> & { schema?: string };
  } = {},
): Promise<CommerceServer> {
  const ext = commerceExtension({ heartbeatMs: 200, ...options.commerce });
  const server = await startTestServer({
    sites: commerceSites(),
    ...options.server,
    extensions: [ext],
  });
  try {
    await ext.ready();
  } catch (err) {
    await server.close();
    throw err;
  }
  return {
    ...server,
    ext,
    api: new Api(server.url),
    close: async () => {
      await ext.close();
      await server.close();
    },
  };
}

/**
 * Two instances on one fresh schema (PostgreSQL only), like two replicas behind a load balancer;
 * both close, and the schema is dropped, when the test ends.
 */
export async function startCommercePair(t: TestContext): Promise<[CommerceServer, CommerceServer]> {
  const schema = freshSchema();
  const a = await startCommerceServer({ server: { schema } });
  const b = await startCommerceServer({ server: { schema } });
  t.after(async () => {
    await a.close();
    await b.close();
    await dropSchema(schema);
  });
  return [a, b];
}

/** A small catalog feed (JSON): A..H. */
export function fixtureProducts(skus = ['A', 'B', 'C', 'D', 'E', 'F', 'G', 'H']) {
  return skus.map((sku, i) => ({
    sku,
    title: `Product ${sku}`,
    price: 100 * (i + 1),
    currency: 'GBP',
    url: `/p/${sku}`,
    image: `/img/${sku}.svg`,
    category: 'Gifts',
  }));
}

export async function importFixture(api: Api, skus?: string[]): Promise<void> {
  const res = await api.call('POST', '/v1/admin/products/import', {
    body: { products: fixtureProducts(skus) },
    headers: admin,
  });
  if (res.status !== 200) throw new Error(`import: ${res.status} ${JSON.stringify(res.body)}`);
}

const HOURS = {
  mon: ['09:00-17:30'],
  tue: ['09:00-17:30'],
  wed: ['09:00-17:30'],
  thu: ['09:00-20:00'],
  fri: ['09:00-17:30'],
  sat: ['09:00-18:00'],
  sun: [],
};

export function store(id: string, name: string, lat: number, lng: number, city = name) {
  return {
    id,
    name,
    address: { line1: `1 ${name} Street`, city, postcode: 'X1 1XX', country: 'GB' },
    lat,
    lng,
    hours: HOURS,
    pickup: true,
  };
}
