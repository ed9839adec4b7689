// The commerce answers of the mock: stock near me, feed and admin validation, recommendations.
// These rules live in the server's commerce layer, not in @omnikit/protocol, so the mock keeps a
// compact copy of each; test/contract runs the same flows on both and fails when they drift.
import {
  FEED_COLUMNS,
  LIMITS,
  OmniError,
  storable,
  type Availability,
  type Product,
  type Reason,
  type StockAnswer,
  type StoreInfo,
  type Strategy,
} from '@omnikit/protocol';
import { postcodeAreas } from './postcodes.js';

type Obj = Record<string, unknown>;
export const isObj = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const bad = (message: string, details?: unknown, status?: number): never => {
  throw new OmniError('invalid_argument', message, { details, status });
};

/** One count: a store id or `online`, a sku, the quantity and when it was counted. */
export interface StockRow {
  location: string;
  sku: string;
  qty: number;
  updatedAt: number;
}

export type Origin = StockAnswer['origin'];

// ---- stock near me ---------------------------------------------------------------------------

const band = (qty: number, low: number): Availability =>
  !(qty > 0)
    ? { band: 'out_of_stock' }
    : qty <= low
      ? { band: 'low_stock', count: Math.floor(qty) }
      : { band: 'in_stock' };

const rad = Math.PI / 180;
/** Great-circle distance in km (haversine), as the server measures it. */
const km = (a: { lat: number; lng: number }, b: { lat: number; lng: number }): number => {
  const h =
    Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 +
    Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lng - a.lng) * rad) / 2) ** 2;
  return 2 * 6371.0088 * Math.asin(Math.min(1, Math.sqrt(h)));
};

/** Every store with stock first, then nearest, then by name; plus online. */
export function stockAnswer(
  sku: string,
  stores: Iterable<StoreInfo>,
  row: (location: string) => StockRow | undefined,
  origin: Origin,
  low: number,
): StockAnswer {
  const out = (r?: StockRow) => band(r?.qty ?? 0, low).band === 'out_of_stock';
  const list = [...stores].map((store) => {
    const r = row(store.id);
    return {
      store,
      distanceKm: origin ? Math.round(km(origin, store) * 10) / 10 : null,
      availability: band(r?.qty ?? 0, low),
      updatedAt: r?.updatedAt ?? null,
      out: out(r),
    };
  });
  list.sort(
    (a, b) =>
      +a.out - +b.out ||
      (a.distanceKm ?? 0) - (b.distanceKm ?? 0) ||
      a.store.name.localeCompare(b.store.name) ||
      (a.store.id < b.store.id ? -1 : 1),
  );
  const online = row('online');
  return {
    sku,
    stores: list.map(({ out: _out, ...s }) => s),
    online: { availability: band(online?.qty ?? 0, low), updatedAt: online?.updatedAt ?? null },
    origin,
    lowStockThreshold: low,
  };
}

/** `lat`+`lng`, or `postal` (a UK postcode, outward code or area), or neither. */
export function parseOrigin(q: URLSearchParams): Origin {
  const [lat, lng, postal] = ['lat', 'lng', 'postal'].map((k) => q.get(k) ?? undefined);
  if (postal !== undefined) {
    if (lat !== undefined || lng !== undefined) {
      bad('Give either lat and lng, or postal, not both');
    }
    const m = /^([A-Z]{1,2})(?:(\d[A-Z\d]?)(?:\s*(\d[A-Z]{2}))?)?$/.exec(
      postal.trim().toUpperCase().replace(/\s+/g, ' '),
    );
    const area = m?.[1];
    const at = area === undefined ? undefined : postcodeAreas.get(area);
    if (!at) {
      return bad(
        m
          ? `Unknown postcode area "${area}" in "${postal}": expected a UK postcode such as "SW1A 1AA"`
          : `"${postal}" is not a UK postcode: expected something like "SW1A 1AA", "M1" or "LS"`,
        { postal },
      );
    }
    return { lat: at[0], lng: at[1], area: area! };
  }
  if (lat === undefined && lng === undefined) return null;
  const y = Number(lat);
  const x = Number(lng);
  if (!lat?.trim() || !lng?.trim() || !(Math.abs(y) <= 90) || !(Math.abs(x) <= 180)) {
    bad('lat and lng must both be given, in decimal degrees (lat -90..90, lng -180..180)');
  }
  return { lat: y, lng: x };
}

/** `a,b,c` as distinct valid skus, 1 to `max` of them. */
export function skuList(value: string | null, name: string, max: number): string[] {
  const skus = [
    ...new Set(
      (value ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    ),
  ];
  if (!skus.length) bad(`${name}: give 1 to ${max} skus`);
  if (skus.length > max) bad(`${name}: at most ${max} skus per request`, { max });
  const wrong = skus.filter((s) => !LIMITS.skuPattern.test(s));
  if (wrong.length) bad(`${name}: not valid skus: ${wrong.slice(0, 5).join(', ')}`);
  return skus;
}

/** Last write wins by `updatedAt`; on a tie the lower count wins. Why a row is refused, or ''. */
export function stockRefusal(row: StockRow, current: StockRow | undefined, now: number): string {
  const p: string[] = [];
  if (typeof row.location !== 'string' || !LIMITS.storeIdPattern.test(row.location)) {
    p.push('location must be a store id or "online"');
  }
  if (typeof row.sku !== 'string' || !LIMITS.skuPattern.test(row.sku)) {
    p.push('sku must follow the sku rule');
  }
  if (!Number.isSafeInteger(row.qty) || row.qty < 0) p.push('qty must be a non-negative integer');
  if (!(row.updatedAt > 0)) p.push('updatedAt must be a time in ms since epoch');
  else if (row.updatedAt > now + 300_000) p.push('updatedAt is more than 300000 ms in the future');
  if (p.length) return `Invalid stock update: ${p.join('; ')}`;
  if (!current || row.updatedAt > current.updatedAt) return '';
  if (row.updatedAt === current.updatedAt) {
    if (row.qty === current.qty) return 'duplicate';
    if (row.qty < current.qty) return '';
  }
  return 'stale';
}

/** A time as ms since epoch or an ISO 8601 string; NaN when neither. */
export const parseTime = (v: unknown): number =>
  typeof v === 'number'
    ? v
    : typeof v === 'string' && /^\d{4}-\d\d-\d\dT/.test(v)
      ? Date.parse(v)
      : NaN;

// ---- admin bodies ----------------------------------------------------------------------------

const fail = (what: string, problems: string[]): never =>
  bad(`Invalid ${what}: ${problems.slice(0, 20).join('; ')}`, { problems });

const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'] as const;
const RANGE = /^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$/;
const text = (v: unknown, max: number): v is string =>
  typeof v === 'string' && v.trim() !== '' && v.length <= max && storable(v);

/** `PUT /v1/admin/stores`: `[store...]` or `{stores: [...]}`. */
export function parseStores(body: unknown): StoreInfo[] {
  const list = isObj(body) && Array.isArray(body.stores) ? body.stores : body;
  if (!Array.isArray(list)) return fail('stores', ['expected [store...] or {"stores": [...]}']);
  if (list.length > 1000) fail('stores', ['at most 1000 per request']);
  const p: string[] = [];
  const ids = new Set<unknown>();
  list.forEach((s: unknown, i) => {
    const at = `stores[${i}]`;
    if (!isObj(s)) return p.push(`${at}: must be an object`);
    if (typeof s.id !== 'string' || !LIMITS.storeIdPattern.test(s.id) || s.id === 'online') {
      p.push(`${at}.id: must match the store id rule and not be "online"`);
    }
    if (ids.has(s.id)) p.push(`${at}.id: duplicate "${String(s.id)}"`);
    ids.add(s.id);
    if (!text(s.name, 200))
      p.push(`${at}.name: must be a non-empty string without NUL or an unpaired surrogate`);
    const a = s.address;
    for (const k of ['line1', 'city', 'postcode', 'country']) {
      const v = isObj(a) ? a[k] : undefined;
      if (typeof v !== 'string' || v.length > 200 || !storable(v)) {
        p.push(`${at}.address.${k}: must be a string without NUL or an unpaired surrogate`);
      }
    }
    const { lat, lng } = s;
    if (
      typeof lat !== 'number' ||
      typeof lng !== 'number' ||
      !(Math.abs(lat) <= 90) ||
      !(Math.abs(lng) <= 180)
    ) {
      p.push(`${at}: lat/lng must be a valid position`);
    }
    for (const d of DAYS) {
      const r = isObj(s.hours) ? s.hours[d] : undefined;
      if (!Array.isArray(r) || !r.every((x) => typeof x === 'string' && RANGE.test(x))) {
        p.push(`${at}.hours.${d}: must be a list of "HH:MM-HH:MM" ranges ([] when closed)`);
      }
    }
    if (typeof s.pickup !== 'boolean') p.push(`${at}.pickup: must be a boolean`);
  });
  if (p.length) fail('stores', p);
  return (list as StoreInfo[]).map((s) => ({
    id: s.id,
    name: s.name.trim(),
    address: s.address,
    lat: s.lat,
    lng: s.lng,
    hours: Object.fromEntries(DAYS.map((d) => [d, s.hours[d]])) as StoreInfo['hours'],
    pickup: s.pickup,
  }));
}

export interface Order {
  orderId: string;
  customerId: string | null;
  storeId: string | null;
  channel: 'store' | 'web' | 'app';
  at: number;
  lines: { sku: string; qty: number }[];
}

/** `POST /v1/orders`. */
export function parseOrder(b: unknown, now: number): Order {
  if (!isObj(b)) return fail('order', ['expected an object']);
  const p: string[] = [];
  const { orderId, channel, lines } = b;
  const customerId = b.customerId ?? null;
  const storeId = b.storeId ?? null;
  if (typeof orderId !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(orderId)) {
    p.push('orderId: 1-128 characters of A-Z a-z 0-9 . _ : -');
  }
  if (
    customerId !== null &&
    !(typeof customerId === 'string' && /^[^\s\p{Cc}\p{Cs}]{1,128}$/u.test(customerId))
  ) {
    p.push('customerId: 1-128 characters without spaces');
  }
  if (storeId !== null && !(typeof storeId === 'string' && LIMITS.storeIdPattern.test(storeId))) {
    p.push('storeId: must match the store id rule');
  }
  if (channel !== 'store' && channel !== 'web' && channel !== 'app') {
    p.push('channel: must be "store", "web" or "app"');
  }
  if (channel === 'store' && storeId === null) p.push('storeId: required for a store purchase');
  const at = b.at === undefined ? now : parseTime(b.at);
  if (!(at > 0)) p.push('at: must be ms since epoch or an ISO 8601 time');
  else if (at > now + 300_000) p.push('at: is in the future');
  if (!Array.isArray(lines) || !lines.length || lines.length > 500) {
    p.push('lines: must be a list of 1 to 500 {sku, qty}');
  } else {
    lines.forEach((l: unknown, i) => {
      const x = isObj(l) ? l : {};
      if (typeof x.sku !== 'string' || !LIMITS.skuPattern.test(x.sku)) {
        p.push(`lines[${i}].sku: must follow the sku rule`);
      }
      if (!Number.isSafeInteger(x.qty) || (x.qty as number) < 1) {
        p.push(`lines[${i}].qty: must be a positive integer`);
      }
    });
  }
  if (p.length) fail('order', p);
  return {
    orderId: orderId as string,
    customerId: customerId as string | null,
    storeId: storeId as string | null,
    channel: channel as Order['channel'],
    at: Math.floor(at),
    lines: (lines as Obj[]).map((l) => ({ sku: l.sku as string, qty: l.qty as number })),
  };
}

// ---- product feeds ---------------------------------------------------------------------------

export type FeedProduct = Omit<Product, 'updatedAt'>;
export interface Rejected {
  row: number;
  sku?: string;
  reasons: string[];
}

/** RFC 4180 records; a broken quote makes the whole feed unreadable, as on the server. */
function csvRecords(input: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const end = () => {
    row.push(field);
    if (row.length > 1 || row[0] !== '') rows.push(row);
    row = [];
    field = '';
  };
  for (let i = input.charCodeAt(0) === 0xfeff ? 1 : 0; i < input.length; i++) {
    const c = input[i];
    if (quoted) {
      if (c !== '"') field += c;
      else if (input[i + 1] === '"') field += input[i++];
      else quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n') end();
    else if (c !== '\r') field += c;
  }
  if (quoted) bad('Feed is not valid CSV: Quote Not Closed');
  end();
  return rows;
}

/** Parses and validates a feed (CSV with a header row and `attr.<name>` columns, or JSON). */
export function parseFeed(
  input: string,
  csv: boolean,
): { products: FeedProduct[]; rejected: Rejected[] } {
  let raws: { row: number; raw: Obj; problems: string[] }[];
  if (csv) {
    const [header, ...records] = csvRecords(input);
    const cols = (header ?? []).map((h) => h.trim());
    if (!header) return { products: [], rejected: [] };
    if (!cols.some((c) => FEED_COLUMNS[c.toLowerCase()] === 'sku')) {
      bad('Feed header has no "sku" column', { columns: cols });
    }
    raws = records.map((rec, i) => {
      const raw: Obj = {};
      const attrs: Obj = {};
      const problems: string[] = [];
      if (rec.length !== cols.length) {
        problems.push(`has ${rec.length} fields; the header has ${cols.length}`);
      }
      cols.forEach((c, j) => {
        const v = rec[j];
        if (!v) return;
        if (/^attr[.:]/i.test(c)) attrs[c.slice(5)] = v;
        else if (FEED_COLUMNS[c.toLowerCase()]) raw[FEED_COLUMNS[c.toLowerCase()]!] = v;
      });
      if (typeof raw.price === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(raw.price)) {
        raw.price = Number(raw.price);
      } else if (raw.price !== undefined) raw.price = NaN;
      if (typeof raw.attributes === 'string') {
        try {
          raw.attributes = JSON.parse(raw.attributes);
        } catch {
          problems.push('attributes is not a JSON object');
          delete raw.attributes;
        }
      }
      if (Object.keys(attrs).length) raw.attributes = { ...(raw.attributes as Obj), ...attrs };
      return { row: i + 2, raw, problems };
    });
  } else {
    let doc: unknown;
    try {
      doc = JSON.parse(input);
    } catch (err) {
      return bad(`Feed is not valid JSON: ${(err as Error).message}`);
    }
    const list = Array.isArray(doc) ? doc : isObj(doc) ? doc.products : undefined;
    if (!Array.isArray(list)) bad('JSON feed must be an array or { "products": [...] }');
    raws = (list as unknown[]).map((item, i) => {
      const raw: Obj = {};
      if (isObj(item)) {
        for (const [k, v] of Object.entries(item)) {
          if (FEED_COLUMNS[k.toLowerCase()]) raw[FEED_COLUMNS[k.toLowerCase()]!] = v;
        }
      }
      return { row: i + 1, raw, problems: isObj(item) ? [] : ['is not an object'] };
    });
  }
  const products: FeedProduct[] = [];
  const rejected: Rejected[] = [];
  const first = new Map<string, number>();
  for (const { row, raw, problems } of raws) {
    const p = validateProduct(raw, problems);
    const sku = typeof raw.sku === 'string' ? raw.sku.trim() : undefined;
    if (p && !problems.length) {
      const seen = first.get(p.sku);
      if (seen === undefined) {
        first.set(p.sku, row);
        products.push(p);
      } else rejected.push({ row, sku: p.sku, reasons: [`duplicate sku (first at row ${seen})`] });
    } else rejected.push(sku ? { row, sku, reasons: problems } : { row, reasons: problems });
  }
  return { products, rejected };
}

const currencies = new Set(Intl.supportedValuesOf('currency'));

function validateProduct(raw: Obj, p: string[]): FeedProduct | null {
  const str = (name: string, max: number, required = false): string | null => {
    const v = raw[name];
    if (v === undefined || v === null || (typeof v === 'string' && !v.trim())) {
      if (required) p.push(`missing ${name}`);
      return null;
    }
    if (typeof v !== 'string') return (p.push(`${name} must be a string`), null);
    if (!storable(v))
      return (p.push(`${name} must not contain NUL or an unpaired surrogate`), null);
    if (v.trim().length > max) return (p.push(`${name} is longer than ${max} characters`), null);
    return v.trim();
  };
  const link = (name: string) => {
    const s = str(name, 2048);
    if (s === null || (s.startsWith('/') && !s.startsWith('//')) || /^https?:\/\/[^/]/i.test(s)) {
      return s;
    }
    p.push(`${name} must be an http(s) URL or a path starting with "/"`);
    return null;
  };
  const sku = str('sku', 64, true);
  if (sku !== null && !LIMITS.skuPattern.test(sku)) {
    p.push('sku must be 1-64 letters, digits or . _ - / and start with a letter or digit');
  }
  const groupId = str('groupId', 64);
  if (groupId !== null && !LIMITS.skuPattern.test(groupId))
    p.push('groupId must follow the sku rule');
  const title = str('title', 200, true);
  const description = str('description', 5000) ?? '';
  const price = raw.price;
  if (price === undefined || price === null || price === '') p.push('missing price');
  else if (typeof price !== 'number' || !Number.isFinite(price)) {
    p.push('price must be a number of minor units');
  } else if (!Number.isInteger(price)) {
    p.push('price must be an integer number of minor units (e.g. 1299 for 12.99)');
  } else if (price < 0) p.push('price must not be negative');
  const currency = str('currency', 3, true)?.toUpperCase() ?? null;
  if (currency !== null && !currencies.has(currency)) {
    p.push(`currency "${String(raw.currency)}" is not an ISO 4217 code`);
  }
  const url = link('url');
  const image = link('image');
  const category = str('category', 100);
  const attributes: Record<string, string> = {};
  const a = raw.attributes;
  if (a !== undefined && a !== null && a !== '') {
    if (!isObj(a) || Object.keys(a).length > 20) p.push('attributes must be an object of strings');
    else {
      for (const [k, v] of Object.entries(a)) {
        const key = k.trim();
        const val = typeof v === 'number' || typeof v === 'boolean' ? String(v) : v;
        if (key && key.length <= 40 && !storable(key)) {
          p.push(`attribute name "${key}" must not contain NUL or an unpaired surrogate`);
        } else if (typeof val === 'string' && !storable(val)) {
          p.push(`attribute "${key}" must not contain NUL or an unpaired surrogate`);
        } else if (!key || key.length > 40 || typeof val !== 'string' || val.trim().length > 200) {
          p.push(`attribute "${key}" must be a string`);
        } else if (val.trim()) attributes[key] = val.trim();
      }
    }
  }
  return p.length || sku === null || title === null || currency === null
    ? null
    : {
        sku,
        groupId,
        title,
        description,
        price: price as number,
        currency,
        url,
        image,
        category,
        attributes,
      };
}

// ---- recommendations -------------------------------------------------------------------------

export const STRATEGIES: readonly Strategy[] = [
  'also-bought',
  'also-viewed',
  'trending',
  'personalized',
  'recently-viewed',
];

export type EventKind = 'view' | 'add_to_cart' | 'purchase';
export interface RecEvent {
  profileId: string;
  kind: EventKind;
  sku: string;
  at: number;
}
type Timed = { sku: string; at: number };

const DAY = 86_400_000;
const decay = (age: number, halfLife: number) => 0.5 ** (Math.max(0, age) / halfLife);

/**
 * Item-item similarity over sets (baskets or one profile's views): the server's shrunk cosine
 * with a support of at least 2. Best neighbours of each sku, best first.
 */
function neighbours(sets: Iterable<Set<string>>): Map<string, [string, number][]> {
  const n = new Map<string, number>();
  const co = new Map<string, Map<string, number>>();
  for (const set of sets) {
    for (const a of set) {
      n.set(a, (n.get(a) ?? 0) + 1);
      const row = co.get(a) ?? new Map<string, number>();
      co.set(a, row);
      for (const b of set) if (b !== a) row.set(b, (row.get(b) ?? 0) + 1);
    }
  }
  const out = new Map<string, [string, number][]>();
  for (const [a, row] of co) {
    const list: [string, number][] = [];
    for (const [b, c] of row) {
      if (c >= 2) list.push([b, (c / Math.sqrt(n.get(a)! * n.get(b)!)) * (c / (c + 10))]);
    }
    out.set(a, list.sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1)).slice(0, 20));
  }
  return out;
}

export interface RecInput {
  strategy: Strategy;
  sku: string | undefined;
  limit: number;
  exclude: string[];
  viewed: Timed[];
  cart: Timed[];
  purchased: Timed[];
  orders: Iterable<Order>;
  events: RecEvent[];
  catalog: ReadonlySet<string>;
  now: number;
}

/** The server's strategies and fallback chain (ending in trending), on the mock's data. */
export function recommend(r: RecInput): { sku: string; reason: Reason }[] {
  const items: { sku: string; reason: Reason }[] = [];
  const taken = new Set([...r.exclude, ...(r.sku ? [r.sku] : [])]);
  const soft = new Set<string>();
  const add = (sku: string, reason: Reason) => {
    if (items.length >= r.limit || taken.has(sku) || !r.catalog.has(sku)) return;
    if (reason.code.startsWith('because_') && soft.has(sku)) return;
    taken.add(sku);
    items.push({ sku, reason });
  };
  if (r.strategy === 'recently-viewed') {
    for (const v of [...r.viewed].sort((a, b) => b.at - a.at)) {
      add(v.sku, { code: 'recently_viewed', text: 'recently viewed' });
    }
    return items;
  }
  for (const x of [...r.cart, ...r.purchased]) taken.add(x.sku);
  const orders = [...r.orders];
  const bought = neighbours(orders.map((o) => new Set(o.lines.map((l) => l.sku))));
  const views = new Map<string, Set<string>>();
  for (const e of r.events) {
    if (e.kind === 'view') views.set(e.profileId, (views.get(e.profileId) ?? new Set()).add(e.sku));
  }
  const viewed = neighbours(views.values());
  if (r.sku && (r.strategy === 'also-bought' || r.strategy === 'also-viewed')) {
    const anchor = r.sku;
    const kinds = r.strategy === 'also-bought' ? [bought, viewed] : [viewed, bought];
    for (const m of kinds) {
      const code = m === bought ? 'often_bought_with' : 'often_viewed_with';
      const text = `${code.replace(/_/g, ' ')} ${anchor}`;
      for (const [sku] of m.get(anchor) ?? []) add(sku, { code, sku: anchor, text });
    }
  }
  if (r.strategy !== 'trending') {
    for (const v of r.viewed) soft.add(v.sku);
    // Item-based kNN over the profile's items, weighted by how and how recently each was touched.
    const scores = new Map<string, { s: number; best: number; reason: Reason }>();
    const sources: [Timed[], number, Reason['code'], string][] = [
      [r.viewed, 1, 'because_you_viewed', 'because you viewed '],
      [r.cart, 2, 'because_in_cart', 'because '],
      [r.purchased, 3, 'because_you_bought', 'because you bought '],
    ];
    for (const [list, weight, code, text] of sources) {
      for (const item of list) {
        const w = weight * decay(r.now - item.at, 30 * DAY);
        const reason: Reason = {
          code,
          sku: item.sku,
          text: text + item.sku + (code === 'because_in_cart' ? ' is in your cart' : ''),
        };
        for (const [m, f] of [
          [bought, 1],
          [viewed, 0.5],
        ] as const) {
          for (const [sku, sim] of m.get(item.sku) ?? []) {
            const c = w * f * sim;
            const e = scores.get(sku);
            if (!e) scores.set(sku, { s: c, best: c, reason });
            else {
              e.s += c;
              if (c > e.best) Object.assign(e, { best: c, reason });
            }
          }
        }
      }
    }
    for (const [sku, { reason }] of [...scores].sort((a, b) => b[1].s - a[1].s)) add(sku, reason);
  }
  // Trending: events and orders, halved every week; ties by all-time sales, then sku.
  const trend = new Map<string, number>();
  const sales = new Map<string, number>();
  const bump = (sku: string, w: number, at: number) =>
    trend.set(sku, (trend.get(sku) ?? 0) + w * decay(r.now - at, 7 * DAY));
  for (const e of r.events) if (e.kind !== 'purchase') bump(e.sku, e.kind === 'view' ? 1 : 3, e.at);
  for (const o of orders) {
    for (const sku of new Set(o.lines.map((l) => l.sku))) {
      bump(sku, 5, o.at);
      sales.set(sku, (sales.get(sku) ?? 0) + 1);
    }
  }
  const score = (s: string) => trend.get(s) ?? 0;
  const ranked = [...r.catalog].sort(
    (a, b) => score(b) - score(a) || (sales.get(b) ?? 0) - (sales.get(a) ?? 0) || (a < b ? -1 : 1),
  );
  for (const sku of ranked) {
    add(
      sku,
      score(sku) > 0
        ? { code: 'trending', text: 'trending' }
        : sales.get(sku)
          ? { code: 'popular', text: 'popular' }
          : { code: 'catalog', text: 'from the catalog' },
    );
  }
  return items;
}
