// SQL of the catalog: products and the cards the recommendation widgets show.
import type { Product, ProductCard } from '@omnikit/protocol';
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { FeedProduct } from '../core/types.js';
import { CHUNK } from './chunk.js';

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
