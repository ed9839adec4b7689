// SQL of `recs_coviews`: the co-view counts of browsing sessions whose events retention has
// deleted, so a model rebuilt at start still counts them (see recs/sessions.ts).
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { CoviewCount } from '../recs/index.js';
import { CHUNK } from './chunk.js';

/** Adds counts to the site's totals (inside retention's transaction). */
export async function addCoviews(
  tx: Queryable,
  siteId: string,
  counts: readonly CoviewCount[],
): Promise<void> {
  for (let i = 0; i < counts.length; i += CHUNK) {
    await tx.query(
      `INSERT INTO recs_coviews (site_id, sku_a, sku_b, n)
       SELECT $1, x.a, x.b, x.n FROM json_to_recordset($2::text::json) AS x (a text, b text, n bigint)
       ON CONFLICT (site_id, sku_a, sku_b) DO UPDATE SET n = recs_coviews.n + excluded.n`,
      [siteId, JSON.stringify(counts.slice(i, i + CHUNK))],
    );
  }
}

/** Every count kept for the site. */
export async function readCoviews(q: Queryable, siteId: string): Promise<CoviewCount[]> {
  const { rows } = await q.query<{ sku_a: string; sku_b: string; n: string | number }>(
    'SELECT sku_a, sku_b, n FROM recs_coviews WHERE site_id = $1',
    [siteId],
  );
  return rows.map((r) => ({ a: r.sku_a, b: r.sku_b, n: num(r.n) }));
}
