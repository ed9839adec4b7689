// Validation of the admin API's JSON bodies. Each parser returns typed records or throws an
// `invalid_argument` OmniError that names every problem (with the item's index).
import { LIMITS, OmniError, storable, type OpeningHours } from '@omnikit/protocol';
import { isLatLng } from './geo.js';
import type { InventoryRow, Order, Store } from './types.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const RANGE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/;
export const MAX_STORES = 1_000;
export const MAX_STOCK_UPDATES = 5_000;
export const MAX_ORDER_LINES = 500;
const ORDER_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const CUSTOMER_ID = /^[^\s\p{Cc}\p{Cs}]{1,128}$/u;

function fail(message: string, problems: string[]): never {
  throw new OmniError('invalid_argument', `${message}: ${problems.slice(0, 20).join('; ')}`, {
    details: { problems },
  });
}

/** A non-empty string of at most `max` characters that a database stores (no NUL). */
const str = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.trim() !== '' && v.length <= max && storable(v);

function storeProblems(raw: unknown, at: string): string[] {
  if (!isObj(raw)) return [`${at}: must be an object`];
  const p: string[] = [];
  if (typeof raw.id !== 'string' || !LIMITS.storeIdPattern.test(raw.id) || raw.id === 'online') {
    p.push(`${at}.id: must match the store id rule and not be "online"`);
  }
  if (!str(raw.name, 200))
    p.push(`${at}.name: must be a non-empty string without NUL or an unpaired surrogate`);
  const a = raw.address;
  if (!isObj(a)) p.push(`${at}.address: must be {line1, city, postcode, country}`);
  else {
    for (const k of ['line1', 'city', 'postcode', 'country'] as const) {
      if (typeof a[k] !== 'string' || (a[k] as string).length > 200 || !storable(a[k] as string)) {
        p.push(`${at}.address.${k}: must be a string without NUL or an unpaired surrogate`);
      }
    }
  }
  if (!isLatLng({ lat: raw.lat, lng: raw.lng })) p.push(`${at}: lat/lng must be a valid position`);
  const h = raw.hours;
  if (!isObj(h)) p.push(`${at}.hours: must map mon..sun to ["HH:MM-HH:MM"] lists`);
  else {
    for (const d of DAYS) {
      const ranges = h[d];
      if (!Array.isArray(ranges) || !ranges.every((r) => typeof r === 'string' && RANGE.test(r))) {
        p.push(`${at}.hours.${d}: must be a list of "HH:MM-HH:MM" ranges ([] when closed)`);
      }
    }
  }
  if (typeof raw.pickup !== 'boolean') p.push(`${at}.pickup: must be a boolean`);
  return p;
}

/** `PUT /v1/admin/stores`: `[store...]` or `{stores: [...]}`. */
export function parseStores(body: unknown): Store[] {
  const list = isObj(body) && Array.isArray(body.stores) ? body.stores : body;
  if (!Array.isArray(list)) fail('Invalid stores', ['expected [store...] or {"stores": [...]}']);
  if (list.length > MAX_STORES) fail('Invalid stores', [`at most ${MAX_STORES} per request`]);
  const problems = list.flatMap((s, i) => storeProblems(s, `stores[${i}]`));
  const ids = new Set<string>();
  list.forEach((s: Obj, i) => {
    if (ids.has(s.id as string)) problems.push(`stores[${i}].id: duplicate "${String(s.id)}"`);
    ids.add(s.id as string);
  });
  if (problems.length > 0) fail('Invalid stores', problems);
  return (list as Obj[]).map((s) => ({
    id: s.id as string,
    name: (s.name as string).trim(),
    // Only the defined fields: anything else in the body is dropped, never stored or served.
    address: {
      line1: (s.address as Obj).line1 as string,
      city: (s.address as Obj).city as string,
      postcode: (s.address as Obj).postcode as string,
      country: (s.address as Obj).country as string,
    },
    lat: s.lat as number,
    lng: s.lng as number,
    hours: Object.fromEntries(DAYS.map((d) => [d, (s.hours as Obj)[d]])) as OpeningHours,
    pickup: s.pickup as boolean,
  }));
}

/** A time as ms since epoch or an ISO 8601 string; NaN when neither. */
export function parseTime(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value)) return Date.parse(value);
  return NaN;
}

/**
 * `PUT /v1/admin/stock`: one row `{location, sku, qty, updatedAt}` or `{updates: [...]}`.
 * `storeId` is accepted for `location`. Rows are checked one by one later (`applyStockUpdates`),
 * so one bad row in a bulk call is reported, not fatal.
 */
export function parseStockBody(body: unknown): { single: boolean; rows: InventoryRow[] } {
  if (!isObj(body)) fail('Invalid stock update', ['expected an object']);
  const single = !Array.isArray(body.updates);
  const list = single ? [body] : (body.updates as unknown[]);
  if (list.length === 0) fail('Invalid stock update', ['updates is empty']);
  if (list.length > MAX_STOCK_UPDATES) {
    fail('Invalid stock update', [`at most ${MAX_STOCK_UPDATES} updates per request`]);
  }
  return {
    single,
    rows: list.map((raw) => {
      const r = isObj(raw) ? raw : {};
      return {
        location: (r.location ?? r.storeId) as string,
        sku: r.sku as string,
        qty: r.qty as number,
        updatedAt: parseTime(r.updatedAt),
      };
    }),
  };
}

/** `POST /v1/orders`. */
export function parseOrder(body: unknown, now: number): Order {
  if (!isObj(body)) fail('Invalid order', ['expected an object']);
  const p: string[] = [];
  if (typeof body.orderId !== 'string' || !ORDER_ID.test(body.orderId)) {
    p.push('orderId: 1-128 characters of A-Z a-z 0-9 . _ : -');
  }
  const customerId = body.customerId ?? null;
  if (customerId !== null && (typeof customerId !== 'string' || !CUSTOMER_ID.test(customerId))) {
    p.push('customerId: 1-128 characters without spaces');
  }
  const storeId = body.storeId ?? null;
  if (storeId !== null && (typeof storeId !== 'string' || !LIMITS.storeIdPattern.test(storeId))) {
    p.push('storeId: must match the store id rule');
  }
  const channel = body.channel;
  if (channel !== 'store' && channel !== 'web' && channel !== 'app') {
    p.push('channel: must be "store", "web" or "app"');
  }
  if (channel === 'store' && storeId === null) p.push('storeId: required for a store purchase');
  const at = body.at === undefined ? now : parseTime(body.at);
  if (!Number.isFinite(at) || at <= 0) p.push('at: must be ms since epoch or an ISO 8601 time');
  else if (at > now + 5 * 60_000) p.push('at: is in the future');
  const lines = body.lines;
  if (!Array.isArray(lines) || lines.length === 0 || lines.length > MAX_ORDER_LINES) {
    p.push(`lines: must be a list of 1 to ${MAX_ORDER_LINES} {sku, qty}`);
  } else {
    lines.forEach((l: unknown, i) => {
      const line = isObj(l) ? l : {};
      if (typeof line.sku !== 'string' || !LIMITS.skuPattern.test(line.sku)) {
        p.push(`lines[${i}].sku: must follow the sku rule`);
      }
      if (!Number.isSafeInteger(line.qty) || (line.qty as number) < 1) {
        p.push(`lines[${i}].qty: must be a positive integer`);
      }
    });
  }
  if (p.length > 0) fail('Invalid order', p);
  return {
    orderId: body.orderId as string,
    customerId: customerId as string | null,
    storeId: storeId as string | null,
    channel: channel as Order['channel'],
    at: Math.floor(at),
    lines: (lines as Obj[]).map((l) => ({ sku: l.sku as string, qty: l.qty as number })),
  };
}
