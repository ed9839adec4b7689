// Change notices of the commerce data (stock rows, catalog, stores): what the notification bus
// carries between instances so their stock streams and recommendation catalogs stay current.
import type { Topic } from '../../notify/bus.js';

/**
 * What changed: stock of some skus, a site's catalog (a reload of its sku list), or a site's
 * stores (name, address, position, hours, pickup: every stock answer of the site).
 */
export type CommerceNotice =
  | { type: 'stock'; siteId: string; skus: string[] }
  | { type: 'catalog'; siteId: string; skus: string[] }
  | { type: 'stores'; siteId: string };

/** NOTIFY payloads must stay under 8000 bytes: longer sku lists go out in several notices. */
const MAX_PAYLOAD = 7_000;

function chunks(skus: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const sku of skus) {
    if (size + sku.length + 3 > MAX_PAYLOAD && current.length > 0) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(sku);
    size += sku.length + 3;
  }
  if (current.length > 0 || out.length === 0) out.push(current);
  return out;
}

export const commerceTopic: Topic<CommerceNotice> = {
  name: 'commerce',
  encode: (notice) =>
    notice.type === 'stores'
      ? [{ t: notice.type, s: notice.siteId }]
      : chunks(notice.skus).map((k) => ({ t: notice.type, s: notice.siteId, k })),
  decode: (m) => {
    if (typeof m.s !== 'string') return undefined;
    if (m.t === 'stores') return { type: 'stores', siteId: m.s };
    if ((m.t !== 'stock' && m.t !== 'catalog') || !Array.isArray(m.k)) return undefined;
    const skus = m.k.filter((k): k is string => typeof k === 'string');
    return { type: m.t, siteId: m.s, skus };
  },
};
