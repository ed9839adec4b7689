import type { Migration } from '../../db/index.js';

/**
 * The commerce tables. Every row is scoped by site_id; times are ms since epoch (bigint) as in
 * the core's `events`. Plain SQL that runs unchanged on PGlite and PostgreSQL.
 */
export const commerceMigrations: Migration[] = [
  {
    id: 'commerce_0001_catalog_stock_orders',
    sql: `
CREATE TABLE products (
  site_id text NOT NULL,
  sku text NOT NULL,
  group_id text,
  title text NOT NULL,
  description text NOT NULL DEFAULT '',
  price bigint NOT NULL CHECK (price >= 0),
  currency text NOT NULL,
  url text,
  image text,
  category text,
  attributes jsonb NOT NULL DEFAULT '{}'::jsonb,
  updated_at bigint NOT NULL,
  PRIMARY KEY (site_id, sku)
);
CREATE INDEX products_group ON products (site_id, group_id) WHERE group_id IS NOT NULL;

CREATE TABLE stores (
  site_id text NOT NULL,
  id text NOT NULL,
  name text NOT NULL,
  address jsonb NOT NULL,
  lat double precision NOT NULL,
  lng double precision NOT NULL,
  hours jsonb NOT NULL,
  pickup boolean NOT NULL DEFAULT false,
  updated_at bigint NOT NULL,
  PRIMARY KEY (site_id, id)
);

CREATE TABLE inventory (
  site_id text NOT NULL,
  location text NOT NULL,
  sku text NOT NULL,
  qty integer NOT NULL CHECK (qty >= 0),
  updated_at bigint NOT NULL,
  PRIMARY KEY (site_id, location, sku)
);
CREATE INDEX inventory_sku ON inventory (site_id, sku);

CREATE TABLE orders (
  seq bigserial NOT NULL,
  site_id text NOT NULL,
  id text NOT NULL,
  customer_id text,
  profile_id text,
  store_id text,
  channel text NOT NULL CHECK (channel IN ('store', 'web', 'app')),
  at bigint NOT NULL,
  lines jsonb NOT NULL,
  created_at bigint NOT NULL,
  PRIMARY KEY (site_id, id)
);
CREATE UNIQUE INDEX orders_seq ON orders (seq);
CREATE INDEX orders_customer ON orders (site_id, customer_id) WHERE customer_id IS NOT NULL;
CREATE INDEX orders_profile ON orders (site_id, profile_id) WHERE profile_id IS NOT NULL;
`,
  },
  {
    // Co-view counts of sessions whose events retention deleted (store/coviews.ts); a pair is
    // stored once (sku_a < sku_b), and sku_a = sku_b counts the sessions with that item.
    id: 'commerce_0002_recs_coviews',
    sql: `
CREATE TABLE recs_coviews (
  site_id text NOT NULL,
  sku_a text NOT NULL,
  sku_b text NOT NULL,
  n bigint NOT NULL,
  PRIMARY KEY (site_id, sku_a, sku_b)
);
`,
  },
];
