// SQL of the physical stores of a site.
import type { Queryable } from '../../db/index.js';
import { num } from '../../db/types.js';
import type { Store } from '../core/types.js';
import { CHUNK } from './chunk.js';

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

export async function storeExists(q: Queryable, siteId: string, storeId: string): Promise<boolean> {
  const { rows } = await q.query('SELECT 1 FROM stores WHERE site_id = $1 AND id = $2', [
    siteId,
    storeId,
  ]);
  return rows.length > 0;
}
