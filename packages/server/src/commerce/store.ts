// SQL for the commerce tables: the only place that knows their columns. Every function takes a
// Queryable (the database or an open transaction) and is scoped by site.
import type { Product, ProductCard, ProfileState } from '@omnikit/protocol';
import type { Queryable } from '../db/index.js';
import { num } from '../db/types.js';
import type { FeedProduct, InventoryRow, Store } from './types.js';

/** Rows per multi-row statement: keeps the statements small on both drivers. */
const CHUNK = 2_000;

type RawProduct = {
  sku: string;
  group_id: string | null;
  title: string;
  description: string;
  price: string | number;
  currency: string;
  url: string | null;
  image: string | null;
  category: string | null;
  attributes: Record<string, string>;
  updated_at: string | number;
};

const productColumns =
  'sku, group_id, title, description, price, currency, url, image, category, attributes, updated_at';

function toProduct(row: RawProduct): Product {
  return {
    sku: row.sku,
    groupId: row.group_id,
    title: row.title,
    description: row.description,
    price: num(row.price),
    currency: row.currency,
    url: row.url,
    image: row.image,
    category: row.category,
    attributes: row.attributes ?? {},
    updatedAt: num(row.updated_at),
  };
}

/** The products among `skus` (any order). */
export async function readProducts(
  q: Queryable,
  siteId: string,
  skus: readonly string[],
): Promise<Product[]> {
  if (skus.length === 0) return [];
  const { rows } = await q.query<RawProduct>(
    `SELECT ${productColumns} FROM products WHERE site_id = $1 AND sku = ANY($2::text[])`,
    [siteId, [...skus]],
  );
  return rows.map(toProduct);
}

/** Every product of a site, as cards, in sku order. */
export async function readProductCards(q: Queryable, siteId: string): Promise<ProductCard[]> {
  const { rows } = await q.query<RawProduct>(
    `SELECT sku, title, price, currency, url, image, category, group_id FROM products
     WHERE site_id = $1 ORDER BY sku`,
    [siteId],
  );
  return rows.map((r) => ({
    sku: r.sku,
    title: r.title,
    price: num(r.price),
    currency: r.currency,
    url: r.url,
    image: r.image,
    category: r.category,
    groupId: r.group_id,
  }));
}

export async function countProducts(q: Queryable, siteId: string): Promise<number> {
  const { rows } = await q.query<{ n: string | number }>(
    'SELECT count(*) AS n FROM products WHERE site_id = $1',
    [siteId],
  );
  return num(rows[0]?.n ?? 0);
}

/** Inserts or replaces products (one statement per chunk). */
export async function upsertProducts(
  q: Queryable,
  siteId: string,
  products: readonly FeedProduct[],
  now: number,
): Promise<void> {
  for (let i = 0; i < products.length; i += CHUNK) {
    const part = products.slice(i, i + CHUNK);
    await q.query(
      `INSERT INTO products (${productColumns}, site_id)
       SELECT x.*, $12::bigint, $1::text FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
         $6::bigint[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[]::jsonb[])
         AS x(sku, group_id, title, description, price, currency, url, image, category, attributes)
       ON CONFLICT (site_id, sku) DO UPDATE SET group_id = excluded.group_id,
         title = excluded.title, description = excluded.description, price = excluded.price,
         currency = excluded.currency, url = excluded.url, image = excluded.image,
         category = excluded.category, attributes = excluded.attributes,
         updated_at = excluded.updated_at`,
      [
        siteId,
        part.map((p) => p.sku),
        part.map((p) => p.groupId),
        part.map((p) => p.title),
        part.map((p) => p.description),
        part.map((p) => p.price),
        part.map((p) => p.currency),
        part.map((p) => p.url),
        part.map((p) => p.image),
        part.map((p) => p.category),
        part.map((p) => JSON.stringify(p.attributes)),
        now,
      ],
    );
  }
}

type RawStore = {
  id: string;
  name: string;
  address: Store['address'];
  lat: number | string;
  lng: number | string;
  hours: Store['hours'];
  pickup: boolean;
};

export async function readStores(q: Queryable, siteId: string): Promise<Store[]> {
  const { rows } = await q.query<RawStore>(
    'SELECT id, name, address, lat, lng, hours, pickup FROM stores WHERE site_id = $1 ORDER BY id',
    [siteId],
  );
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    address: r.address,
    lat: num(r.lat),
    lng: num(r.lng),
    hours: r.hours,
    pickup: r.pickup,
  }));
}

export async function upsertStores(
  q: Queryable,
  siteId: string,
  stores: readonly Store[],
  now: number,
): Promise<void> {
  for (let i = 0; i < stores.length; i += CHUNK) {
    const part = stores.slice(i, i + CHUNK);
    await q.query(
      `INSERT INTO stores (id, name, address, lat, lng, hours, pickup, site_id, updated_at)
       SELECT x.*, $1::text, $9::bigint FROM unnest($2::text[], $3::text[], $4::text[]::jsonb[],
         $5::float8[], $6::float8[], $7::text[]::jsonb[], $8::boolean[])
         AS x(id, name, address, lat, lng, hours, pickup)
       ON CONFLICT (site_id, id) DO UPDATE SET name = excluded.name, address = excluded.address,
         lat = excluded.lat, lng = excluded.lng, hours = excluded.hours, pickup = excluded.pickup,
         updated_at = excluded.updated_at`,
      [
        siteId,
        part.map((s) => s.id),
        part.map((s) => s.name),
        part.map((s) => JSON.stringify(s.address)),
        part.map((s) => s.lat),
        part.map((s) => s.lng),
        part.map((s) => JSON.stringify(s.hours)),
        part.map((s) => s.pickup),
        now,
      ],
    );
  }
}

type RawInventory = {
  location: string;
  sku: string;
  qty: number | string;
  updated_at: number | string;
};

const toInventory = (r: RawInventory): InventoryRow => ({
  location: r.location,
  sku: r.sku,
  qty: num(r.qty),
  updatedAt: num(r.updated_at),
});

/** Every location's row for the given skus. */
export async function readInventory(
  q: Queryable,
  siteId: string,
  skus: readonly string[],
): Promise<InventoryRow[]> {
  if (skus.length === 0) return [];
  const { rows } = await q.query<RawInventory>(
    `SELECT location, sku, qty, updated_at FROM inventory
     WHERE site_id = $1 AND sku = ANY($2::text[])`,
    [siteId, [...skus]],
  );
  return rows.map(toInventory);
}

/** Writes rows as given; callers decide which rows win (`applyStockUpdates`). */
export async function writeInventory(
  q: Queryable,
  siteId: string,
  rows: readonly InventoryRow[],
): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) {
    const part = rows.slice(i, i + CHUNK);
    await q.query(
      `INSERT INTO inventory (location, sku, qty, updated_at, site_id)
       SELECT x.*, $1::text FROM unnest($2::text[], $3::text[], $4::integer[], $5::bigint[])
         AS x(location, sku, qty, updated_at)
       ON CONFLICT (site_id, location, sku) DO UPDATE SET qty = excluded.qty,
         updated_at = excluded.updated_at`,
      [
        siteId,
        part.map((r) => r.location),
        part.map((r) => r.sku),
        part.map((r) => r.qty),
        part.map((r) => r.updatedAt),
      ],
    );
  }
}

/** One line of an order. */
export interface OrderLine {
  sku: string;
  qty: number;
}

/** A purchase as `POST /v1/orders` takes it (POS or online). */
export interface Order {
  orderId: string;
  customerId: string | null;
  storeId: string | null;
  channel: 'store' | 'web' | 'app';
  at: number;
  lines: OrderLine[];
}

type RawOrder = {
  id: string;
  customer_id: string | null;
  profile_id: string | null;
  store_id: string | null;
  channel: Order['channel'];
  at: number | string;
  lines: OrderLine[];
};

export async function readOrder(
  q: Queryable,
  siteId: string,
  orderId: string,
): Promise<(Order & { profileId: string | null }) | undefined> {
  const { rows } = await q.query<RawOrder>(
    `SELECT id, customer_id, profile_id, store_id, channel, at, lines FROM orders
     WHERE site_id = $1 AND id = $2`,
    [siteId, orderId],
  );
  const r = rows[0];
  return r
    ? {
        orderId: r.id,
        customerId: r.customer_id,
        profileId: r.profile_id,
        storeId: r.store_id,
        channel: r.channel,
        at: num(r.at),
        lines: r.lines,
      }
    : undefined;
}

/** Inserts orders, skipping ids the site already has; returns how many were inserted. */
export async function insertOrders(
  q: Queryable,
  siteId: string,
  orders: readonly (Order & { profileId: string | null })[],
  now: number,
): Promise<number> {
  let inserted = 0;
  for (let i = 0; i < orders.length; i += CHUNK) {
    const part = orders.slice(i, i + CHUNK);
    const res = await q.query(
      `INSERT INTO orders (id, customer_id, profile_id, store_id, channel, at, lines, site_id, created_at)
       SELECT x.*, $1::text, $9::bigint FROM unnest($2::text[], $3::text[], $4::text[], $5::text[],
         $6::text[], $7::bigint[], $8::text[]::jsonb[])
         AS x(id, customer_id, profile_id, store_id, channel, at, lines)
       ON CONFLICT (site_id, id) DO NOTHING`,
      [
        siteId,
        part.map((o) => o.orderId),
        part.map((o) => o.customerId),
        part.map((o) => o.profileId),
        part.map((o) => o.storeId),
        part.map((o) => o.channel),
        part.map((o) => o.at),
        part.map((o) => JSON.stringify(o.lines)),
        now,
      ],
    );
    inserted += res.rowCount;
  }
  return inserted;
}

/** The calling device's profile and what it bought. */
export interface ProfileForRecs {
  id: string;
  customerId: string | null;
  state: ProfileState;
  purchases: { sku: string; at: number }[];
}

/**
 * A device's current profile with its purchases, newest first, one entry per sku: orders
 * recorded for its customer id (in store or online, before or after the customer first signed
 * in here) or for the profile, plus purchase events other writers recorded for it. One round
 * trip; each branch is an index scan.
 */
export async function readProfileForRecs(
  q: Queryable,
  siteId: string,
  deviceId: string,
  limit = 200,
): Promise<ProfileForRecs | undefined> {
  const { rows } = await q.query<{
    id: string;
    customer_id: string | null;
    state: ProfileState;
    purchases: { sku: string; at: number | string }[] | null;
  }>(
    `WITH p AS (
       SELECT p.id, p.customer_id, p.state FROM devices d JOIN profiles p ON p.id = d.profile_id
        WHERE d.id = $2 AND d.site_id = $1
     ), bought AS (
       SELECT l.value->>'sku' AS sku, o.at FROM p, orders o, jsonb_array_elements(o.lines) AS l
        WHERE o.site_id = $1 AND o.profile_id = p.id
       UNION ALL
       SELECT l.value->>'sku' AS sku, o.at FROM p, orders o, jsonb_array_elements(o.lines) AS l
        WHERE o.site_id = $1 AND o.customer_id = p.customer_id
          AND o.profile_id IS DISTINCT FROM p.id
       UNION ALL
       SELECT e.sku, e.at FROM p, events e
        WHERE e.site_id = $1 AND e.profile_id = p.id AND e.kind = 'purchase'
          AND e.sku IS NOT NULL
     ), latest AS (
       SELECT sku, max(at) AS at FROM bought GROUP BY sku ORDER BY max(at) DESC, sku LIMIT $3
     )
     SELECT p.id, p.customer_id, p.state,
            (SELECT json_agg(json_build_object('sku', sku, 'at', at) ORDER BY at DESC, sku)
               FROM latest) AS purchases
       FROM p`,
    [siteId, deviceId, limit],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    id: row.id,
    customerId: row.customer_id,
    state: row.state,
    purchases: (row.purchases ?? []).map((r) => ({ sku: r.sku, at: num(r.at) })),
  };
}
