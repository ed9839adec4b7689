import type { Db, Migration } from './types.js';

/** The sync service's own schema. Every row carries its site_id: tenants never share rows. */
export const coreMigrations: Migration[] = [
  {
    id: '0001_core',
    sql: `
CREATE TABLE profiles (
  id text PRIMARY KEY,
  site_id text NOT NULL,
  customer_id text,
  merged_into text,
  state jsonb NOT NULL,
  version bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX profiles_site_customer ON profiles (site_id, customer_id)
  WHERE customer_id IS NOT NULL;
CREATE INDEX profiles_merged_into ON profiles (merged_into) WHERE merged_into IS NOT NULL;

CREATE TABLE devices (
  id text PRIMARY KEY,
  site_id text NOT NULL,
  profile_id text NOT NULL REFERENCES profiles (id),
  token_hash text NOT NULL UNIQUE,
  channel text NOT NULL,
  last_seq bigint NOT NULL DEFAULT 0,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX devices_profile ON devices (profile_id);

CREATE TABLE stream_tickets (
  ticket_hash text PRIMARY KEY,
  site_id text NOT NULL,
  device_id text NOT NULL REFERENCES devices (id),
  expires_at bigint NOT NULL
);
CREATE INDEX stream_tickets_expires ON stream_tickets (expires_at);

CREATE TABLE handoff_codes (
  code_hash text PRIMARY KEY,
  site_id text NOT NULL,
  profile_id text NOT NULL,
  device_id text NOT NULL REFERENCES devices (id),
  expires_at bigint NOT NULL,
  used_at bigint
);
CREATE INDEX handoff_codes_expires ON handoff_codes (expires_at);

CREATE TABLE events (
  id bigserial PRIMARY KEY,
  site_id text NOT NULL,
  kind text NOT NULL CHECK (kind IN ('view', 'add_to_cart', 'purchase', 'handoff')),
  channel text NOT NULL,
  device_id text,
  profile_id text,
  sku text,
  qty integer,
  at bigint NOT NULL
);
CREATE INDEX events_site_sku ON events (site_id, sku, at);
CREATE INDEX events_profile ON events (profile_id, at);
`,
  },
  {
    // Retention (sync/gc.ts): when each device was last seen (ms since epoch, like events.at;
    // existing devices count as seen at their creation), and indexes for what gc looks for.
    id: '0002_retention',
    sql: `
ALTER TABLE devices ADD COLUMN last_seen_at bigint;
UPDATE devices SET last_seen_at = (extract(epoch FROM created_at) * 1000)::bigint;
ALTER TABLE devices ALTER COLUMN last_seen_at SET NOT NULL;
ALTER TABLE devices ALTER COLUMN last_seen_at
  SET DEFAULT (extract(epoch FROM now()) * 1000)::bigint;
CREATE INDEX devices_site_seen ON devices (site_id, last_seen_at);
CREATE INDEX profiles_site_anonymous ON profiles (site_id, updated_at) WHERE customer_id IS NULL;
CREATE INDEX events_site_at ON events (site_id, at);
CREATE INDEX handoff_codes_profile ON handoff_codes (profile_id);
CREATE INDEX handoff_codes_device ON handoff_codes (device_id);
CREATE INDEX stream_tickets_device ON stream_tickets (device_id);
`,
  },
  {
    // Sibling devices (POST /v1/devices/sibling): a tab of a browser that goes on alone sends
    // under a device of its own, on the same profile. `family` is the root device's id (NULL on
    // the root), so identity moves find a browser's devices and keep them on one profile (they
    // look among the profile's devices: no index of its own). No foreign key: a family outlives
    // its root, which retention may collect first.
    id: '0003_device_family',
    sql: `
ALTER TABLE devices ADD COLUMN family text;
`,
  },
  {
    // Mutation ids (protocol Mutation.id): the ids of a profile's latest applied changes, kept in
    // its row (at most maxRecentIds, oldest first), so a change sent again under another device
    // or seq (a browser tab that went on alone sent it, and its other tabs did too) is applied
    // once. In the row, not a table: the push locks and writes the row anyway. Separated by
    // spaces (mutationIdPattern has none): a jsonb array made pushes on PostgreSQL slower.
    id: '0004_recent_ids',
    sql: `
ALTER TABLE profiles ADD COLUMN recent_ids text NOT NULL DEFAULT '';
`,
  },
];

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction
 * under an advisory lock, so two instances starting on one database never race. Idempotent.
 * Returns the ids it applied.
 */
export async function migrate(db: Db, migrations: readonly Migration[]): Promise<string[]> {
  const ids = new Set<string>();
  for (const m of migrations) {
    if (ids.has(m.id)) throw new Error(`Duplicate migration id ${m.id}`);
    ids.add(m.id);
  }
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(1869440107, hashtext($1))', [
      'migrations:' + (await tx.query<{ s: string }>('SELECT current_schema() AS s')).rows[0]?.s,
    ]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      id text PRIMARY KEY,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const done = new Set(
      (await tx.query<{ id: string }>('SELECT id FROM schema_migrations')).rows.map((r) => r.id),
    );
    const applied: string[] = [];
    for (const m of migrations) {
      if (done.has(m.id)) continue;
      await tx.exec(m.sql);
      await tx.query('INSERT INTO schema_migrations (id) VALUES ($1)', [m.id]);
      applied.push(m.id);
    }
    return applied;
  });
}
