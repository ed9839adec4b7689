// Retention throughput on PostgreSQL: rows deleted per second by one `collectGarbage` pass over
// what a logout storm, a registration flood and a year of browsing leave behind (anonymous
// profiles no device reaches, never-used devices and their profiles, old views folded into the
// recommendations' co-view counts), next to live devices it must keep.
// Sizes: BENCH_GC_PROFILES (orphans, and as many flood devices; 50 000), BENCH_GC_EVENTS (200 000).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  collectGarbage,
  commerceExtension,
  coreMigrations,
  migrate,
  openDb,
  resolveSites,
  silentLogger,
} from '@omnikit/server';
import { fmt, postgresReachable, postgresUrl, sites } from './util.js';

const profiles = Number(process.env.BENCH_GC_PROFILES ?? 50_000);
const events = Number(process.env.BENCH_GC_EVENTS ?? 200_000);
const live = 1_000;
const DAY = 86_400_000;

if (!(await postgresReachable())) {
  console.log(`gc: not run: PostgreSQL not reachable at ${postgresUrl}`);
  process.exit(0);
}

const schema = `bench_${randomBytes(4).toString('hex')}`;
const db = await openDb({ url: postgresUrl, schema, poolSize: 4 }, silentLogger);
try {
  const commerce = commerceExtension();
  await migrate(db, [...coreMigrations, ...(commerce.migrations ?? [])]);
  const now = Date.now();
  const empty = JSON.stringify({ cart: { lines: [], pickupStore: null }, viewed: [], prefs: {} });
  const old = now - 400 * DAY;
  // Left by logouts: anonymous, no device.
  await db.query(
    `INSERT INTO profiles (id, site_id, state, updated_at)
     SELECT 'orphan-' || g, 'bench', $2::jsonb, now() - interval '2 days'
     FROM generate_series(1, $1::int) g`,
    [profiles, empty],
  );
  // A registration flood: a device each on an empty profile, never seen again.
  await db.query(
    `INSERT INTO profiles (id, site_id, state) SELECT 'flood-' || g, 'bench', $2::jsonb
     FROM generate_series(1, $1::int) g`,
    [profiles, empty],
  );
  await db.query(
    `INSERT INTO devices (id, site_id, profile_id, token_hash, channel, last_seen_at)
     SELECT 'flood-' || g, 'bench', 'flood-' || g, 'hash-flood-' || g, 'web', $2
     FROM generate_series(1, $1::int) g`,
    [profiles, old],
  );
  // Live shoppers with carts: kept.
  await db.query(
    `INSERT INTO profiles (id, site_id, state, version) SELECT 'live-' || g, 'bench',
       '{"cart":{"lines":[{"sku":"a","qty":1,"addedAt":1,"updatedAt":1}],"pickupStore":null},"viewed":[],"prefs":{}}'::jsonb, 3
     FROM generate_series(1, $1::int) g`,
    [live],
  );
  await db.query(
    `INSERT INTO devices (id, site_id, profile_id, token_hash, channel, last_seen_at)
     SELECT 'live-' || g, 'bench', 'live-' || g, 'hash-live-' || g, 'web', $2
     FROM generate_series(1, $1::int) g`,
    [live, now],
  );
  // A year-old browsing history: sessions of about 20 views over 500 items.
  await db.query(
    `INSERT INTO events (site_id, kind, channel, profile_id, sku, at)
     SELECT 'bench', CASE WHEN g % 7 = 0 THEN 'add_to_cart' ELSE 'view' END, 'web',
       'live-' || (g / 20 % $3::int), 'sku-' || ((g * 7919) % 500), $2::bigint + g::bigint * 10000
     FROM generate_series(1, $1::int) g`,
    [events, old, live],
  );
  await db.query('ANALYZE');
  const resolved = await resolveSites(sites);
  const start = performance.now();
  const report = await collectGarbage(db, resolved, [commerce], { now: () => now });
  const seconds = (performance.now() - start) / 1000;
  const counts = report.sites.bench!;
  const { rows } = await db.query<{ d: number; p: number }>(
    `SELECT (SELECT count(*)::int FROM devices) AS d, (SELECT count(*)::int FROM profiles) AS p`,
  );
  if (rows[0]?.d !== live || rows[0]?.p !== live) {
    throw new Error(`gc left ${JSON.stringify(rows[0])}, expected ${live} of each`);
  }
  console.log(
    `gc: rows=${report.rows} devices=${counts.devices} profiles=${counts.profiles} ` +
      `events=${counts.events} seconds=${fmt(seconds, 2)} rows_per_s=${Math.round(report.rows / seconds)} (postgres)`,
  );
} finally {
  await db.close();
  const client = new pg.Client({ connectionString: postgresUrl });
  await client.connect();
  await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  await client.end();
}
