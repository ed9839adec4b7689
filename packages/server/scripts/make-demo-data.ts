// Generates demo/data/ (catalog, stores, inventory, order history) from the UCI Online Retail
// file, deterministically: the same input gives byte-identical output.
//
//   npx tsx --conditions=source packages/server/scripts/make-demo-data.ts [--data FILE] [--out DIR]
import { writeFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import {
  encodeOrderHistory,
  isSale,
  parseJsonFeed,
  toBaskets,
  ONLINE,
  type InvoiceLine,
  type FeedProduct,
  type Store,
} from '../src/commerce/index.js';
import type { InventoryFile } from '../src/commerce/core/demo-data.js';
import { DEFAULT_DATA, readRetailFile, repoRoot } from './retail-data.js';

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_DATA },
    out: { type: 'string', default: 'demo/data' },
    products: { type: 'string', default: '2500' },
  },
});
const dataPath = resolve(repoRoot, values.data!);
const outDir = resolve(repoRoot, values.out!);
const CATALOG_SIZE = Number(values.products);

const ATTRIBUTION =
  'Derived from the UCI "Online Retail" dataset: Daqing Chen, Sai Liang Sain, Kun Guo (2012), ' +
  'UCI Machine Learning Repository, https://doi.org/10.24432/C5BW33. Licensed CC BY 4.0 ' +
  '(https://creativecommons.org/licenses/by/4.0/). Changes: selected, cleaned and re-shaped ' +
  'by packages/server/scripts/make-demo-data.ts; stores and stock are generated.';

// ---- titles, categories, variants ----

const SMALL_WORDS = new Set(['of', 'and', 'in', 'with', 'for', 'the', 'a', 'on', 'to', 'or']);
const KEEP_UPPER = new Set(['LED', 'USB', 'UK', 'DIY', 'LP', 'II', 'III', 'IV', 'S/4', 'S/3']);

/** "WHITE HANGING HEART T-LIGHT HOLDER" -> "White Hanging Heart T-Light Holder". */
function titleCase(description: string): string {
  return description
    .trim()
    .replace(/\s+/g, ' ')
    .split(' ')
    .map((word, i) => {
      if (KEEP_UPPER.has(word)) return word;
      const lower = word.toLowerCase();
      if (i > 0 && SMALL_WORDS.has(lower)) return lower;
      return lower.replace(/(^|[-/(&+'."])([a-z])/g, (_m, sep: string, c: string) =>
        sep === "'" ? sep + c : sep + c.toUpperCase(),
      );
    })
    .join(' ');
}

// First matching rule wins, so seasonal and specific rules come before broad ones.
const CATEGORY_RULES: [string, RegExp][] = [
  ['Christmas', /\b(CHRISTMAS|XMAS|ADVENT|SANTA|REINDEER|SNOWFLAKE|NATIVITY|BAUBLE|FESTIVE)\b/],
  ['Easter', /\b(EASTER|EGG HUNT|CHICK)\b/],
  [
    'Candles & lights',
    /\b(CANDLES?|T-LIGHTS?|TLIGHTS?|LANTERN|LIGHTS?|LAMP|CANDLEHOLDER|NIGHTLIGHT)\b/,
  ],
  ['Bags', /\b(BAGS?|TOTE|PURSE|SHOPPER|BACKPACK|RUCKSACK|SATCHEL)\b/],
  ['Mugs & cups', /\b(MUGS?|CUPS?|BEAKERS?|TEACUP|SAUCER)\b/],
  ['Party', /\b(PARTY|BUNTING|BALLOONS?|BIRTHDAY|CONFETTI|GARLAND|NAPKINS?|PAPER PLATES|STRAWS)\b/],
  [
    'Stationery & gift wrap',
    /\b(CARDS?|WRAP|NOTEBOOK|PENCILS?|PENS?|STICKERS?|ENVELOPES?|CALENDAR|JOURNAL|BOOKS?|TAPE|GIFT TAGS?|CHALK|RIBBONS?|SKETCHBOOK|ERASER|NOTEPAD|STATIONERY|POSTCARD|TISSUE PAPER)\b/,
  ],
  [
    'Toys & children',
    /\b(TOYS?|DOLLS?|PLAYHOUSE|CHILDRENS?|CHILD'S|SPACEBOY|DOLLY|GAMES?|JIGSAW|SKIPPING ROPE|KIDS|TEDDY|PUPPET|BLOCKS?|SOLDIER|CIRCUS|SPINNING TOP|MAGIC|FELTCRAFT)\b/,
  ],
  ['Home decor', /\b(CUSHION|DOORMAT|CLOCK|PHOTO FRAME|HOT WATER BOTTLE)\b/],
  [
    'Kitchen & baking',
    /\b(CAKE|BAKING|JARS?|TEA TOWELS?|APRON|CUTLERY|PLATES?|BOWLS?|LUNCH ?BOX|RECIPE|SPOONS?|PANTRY|TRAY|TEAPOT|COASTERS?|EGG CUP|TINS?|KITCHEN|OVEN|JUG|BISCUIT|CHOPSTICKS|BREAD)\b/,
  ],
  [
    'Garden',
    /\b(GARDEN|PLANTERS?|WATERING|BIRD ?HOUSE|BIRD FEEDER|FLOWER POT|HERB|POTTING|PARASOL|PICNIC)\b/,
  ],
  [
    'Jewellery & accessories',
    /\b(NECKLACE|BRACELET|EARRINGS|RING|HAIR ?(BAND|CLIP|SLIDES?)|HAIRBAND|UMBRELLA|GLOVES|SCARF|BROOCH|LIP GLOSS|COMPACT MIRROR|PASSPORT COVER)\b/,
  ],
  [
    'Home decor',
    /\b(FRAMES?|CLOCK|SIGN|HOOKS?|CUSHION|HANGING|HEARTS?|DOORMAT|MIRROR|VASE|WALL|COAT HANGER|DOOR|SHELF|BOX|STORAGE|DRAWER|HOT WATER BOTTLE|BLANKET|THROW|DECORATION|ORNAMENT|LETTERS|TILE|KNOB|WICKER|PHOTO)\b/,
  ],
];

function categorize(description: string): string {
  const d = description.toUpperCase();
  for (const [name, rule] of CATEGORY_RULES) if (rule.test(d)) return name;
  return 'Gifts';
}

const COLOURS = [
  'RED',
  'PINK',
  'BLUE',
  'GREEN',
  'WHITE',
  'BLACK',
  'IVORY',
  'CREAM',
  'PURPLE',
  'YELLOW',
  'ORANGE',
  'BROWN',
  'GREY',
  'SILVER',
  'GOLD',
  'NATURAL',
  'LILAC',
  'TURQUOISE',
  'AQUA',
  'CHOCOLATE',
];
const SIZES = ['SMALL', 'MEDIUM', 'LARGE', 'JUMBO', 'MINI', 'GIANT'];

/** The description without colour and size words, plus those words as attributes. */
function variantOf(description: string): { stem: string; colour?: string; size?: string } {
  const words = description.toUpperCase().trim().split(/\s+/);
  const colours = words.filter((w) => COLOURS.includes(w));
  const sizes = words.filter((w) => SIZES.includes(w));
  const stem = words.filter((w) => !COLOURS.includes(w) && !SIZES.includes(w)).join(' ');
  const out: { stem: string; colour?: string; size?: string } = { stem };
  if (colours.length > 0) out.colour = colours.map((c) => titleCase(c)).join('/');
  if (sizes.length > 0) out.size = titleCase(sizes.join(' '));
  return out;
}

// ---- deterministic pseudo-randomness ----

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** A uniform number in [0, 1) fixed by the key (mulberry32 seeded by an FNV-1a hash). */
function unit(key: string): number {
  let t = (hash(key) + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}

// ---- stores ----

const weekdays = (open: string, close: string, late?: string) => ({
  mon: [`${open}-${close}`],
  tue: [`${open}-${close}`],
  wed: [`${open}-${close}`],
  thu: [`${open}-${late ?? close}`],
  fri: [`${open}-${close}`],
});
const std = { ...weekdays('09:30', '18:00', '20:00'), sat: ['09:00-18:00'], sun: ['11:00-17:00'] };
const scot = { ...weekdays('09:00', '18:00', '19:30'), sat: ['09:00-18:00'], sun: ['12:00-17:00'] };
const small = { ...weekdays('10:00', '17:30'), sat: ['10:00-17:30'], sun: [] };

// Fictional shops on real shopping streets; coordinates are those of the street.
const STORES: Store[] = [
  store(
    'lon-covent-garden',
    'omnikit Covent Garden',
    '12 Neal Street',
    'London',
    'WC2H 9PU',
    51.5147,
    -0.1263,
    std,
    true,
  ),
  store(
    'lon-shoreditch',
    'omnikit Shoreditch',
    '45 Redchurch Street',
    'London',
    'E2 7DJ',
    51.5238,
    -0.0752,
    std,
    true,
  ),
  store(
    'lon-richmond',
    'omnikit Richmond',
    '20 Hill Street',
    'Richmond',
    'TW9 1TN',
    51.4597,
    -0.3067,
    std,
    true,
  ),
  store(
    'brighton',
    'omnikit Brighton',
    '14 Kensington Gardens',
    'Brighton',
    'BN1 4AL',
    50.8256,
    -0.1383,
    small,
    false,
  ),
  store(
    'bristol',
    'omnikit Bristol',
    '21 Park Street',
    'Bristol',
    'BS1 5NH',
    51.4553,
    -2.6012,
    std,
    true,
  ),
  store(
    'cardiff',
    'omnikit Cardiff',
    '7 Castle Arcade',
    'Cardiff',
    'CF10 1BU',
    51.4808,
    -3.1805,
    std,
    true,
  ),
  store(
    'birmingham',
    'omnikit Birmingham',
    '18 New Street',
    'Birmingham',
    'B2 4RQ',
    52.4792,
    -1.899,
    std,
    true,
  ),
  store(
    'manchester',
    'omnikit Manchester',
    '30 Oldham Street',
    'Manchester',
    'M1 1JN',
    53.4837,
    -2.2343,
    std,
    true,
  ),
  store(
    'liverpool',
    'omnikit Liverpool',
    '60 Bold Street',
    'Liverpool',
    'L1 4EA',
    53.4023,
    -2.9797,
    std,
    true,
  ),
  store('leeds', 'omnikit Leeds', '9 Briggate', 'Leeds', 'LS1 6HD', 53.7964, -1.5428, std, true),
  store('york', 'omnikit York', '25 Stonegate', 'York', 'YO1 8AW', 53.9615, -1.0835, small, false),
  store(
    'newcastle',
    'omnikit Newcastle',
    '33 Grey Street',
    'Newcastle upon Tyne',
    'NE1 6EE',
    54.972,
    -1.6118,
    std,
    true,
  ),
  store(
    'edinburgh',
    'omnikit Edinburgh',
    '52 George Street',
    'Edinburgh',
    'EH2 2LR',
    55.953,
    -3.2003,
    scot,
    true,
  ),
  store(
    'glasgow',
    'omnikit Glasgow',
    '140 Buchanan Street',
    'Glasgow',
    'G1 2JW',
    55.8625,
    -4.253,
    scot,
    true,
  ),
];

function store(
  id: string,
  name: string,
  line1: string,
  city: string,
  postcode: string,
  lat: number,
  lng: number,
  hours: Store['hours'],
  pickup: boolean,
): Store {
  return { id, name, address: { line1, city, postcode, country: 'GB' }, lat, lng, hours, pickup };
}

// ---- build ----

const lines: InvoiceLine[] = readRetailFile(dataPath);
const sales = lines.filter(isSale);
const stats = new Map<
  string,
  { orders: Set<string>; units: number; prices: Map<number, number>; names: Map<string, number> }
>();
for (const line of sales) {
  let s = stats.get(line.stockCode);
  if (!s) {
    s = { orders: new Set(), units: 0, prices: new Map(), names: new Map() };
    stats.set(line.stockCode, s);
  }
  s.orders.add(line.invoice);
  s.units += line.quantity;
  const pence = Math.round(line.unitPrice * 100);
  s.prices.set(pence, (s.prices.get(pence) ?? 0) + 1);
  const name = line.description.trim();
  if (name) s.names.set(name, (s.names.get(name) ?? 0) + 1);
}
const mode = <T extends string | number>(m: Map<T, number>, better: (a: T, b: T) => number): T =>
  [...m].sort((a, b) => b[1] - a[1] || better(a[0], b[0]))[0]![0];

// Top products by the number of orders they appear in (units would favour bulk wholesale lines).
const top = [...stats]
  .filter(([, s]) => s.names.size > 0)
  .sort(
    (a, b) =>
      b[1].orders.size - a[1].orders.size || b[1].units - a[1].units || (a[0] < b[0] ? -1 : 1),
  )
  .slice(0, CATALOG_SIZE);

// Variants share a stem (the name without colour and size words). Within a stem, a product
// whose colour and size repeat those of a better seller is the same item under another code,
// not a variant, so it stays on its own.
const variants = new Map<string, string[]>();
const variantKeys = new Map<string, Set<string>>();
const described = top.map(([sku, s]) => {
  const name = mode(s.names, (a, b) => (a < b ? -1 : 1));
  const v = variantOf(name);
  const key = `${v.colour ?? ''}|${v.size ?? ''}`;
  const keys = variantKeys.get(v.stem) ?? new Set<string>();
  variantKeys.set(v.stem, keys);
  if (!keys.has(key) && key !== '|') {
    keys.add(key);
    variants.set(v.stem, [...(variants.get(v.stem) ?? []), sku]);
  }
  return { sku, s, name, v };
});

const products: FeedProduct[] = described.map(({ sku, s, name, v }) => {
  const members = variants.get(v.stem) ?? [];
  const group = members.includes(sku) ? members : [sku];
  const title = titleCase(name);
  const category = categorize(name);
  const attributes: Record<string, string> = {};
  if (group.length > 1 && v.colour) attributes.colour = v.colour;
  if (group.length > 1 && v.size) attributes.size = v.size;
  return {
    sku,
    groupId: group.length > 1 ? `G-${[...group].sort()[0]}` : null,
    title,
    description: `${title}. ${category}, ordered ${s.orders.size} times from Dec 2010 to Sep 2011.`,
    price: mode(s.prices, (a, b) => a - b),
    currency: 'GBP',
    url: `/product.html?sku=${encodeURIComponent(sku)}`,
    image: `/images/${encodeURIComponent(sku)}.svg`,
    category,
    attributes,
  };
});

// The catalog is itself a valid JSON product feed: check it with the importer.
const catalogDoc = { attribution: ATTRIBUTION, products };
const check = parseJsonFeed(JSON.stringify(catalogDoc));
if (check.rejected.length > 0) {
  throw new Error(
    `generated catalog has rejected rows: ${JSON.stringify(check.rejected.slice(0, 3))}`,
  );
}

// Stock: a store carries roughly a week of its share of demand; bigger stores a larger share.
// Slow sellers are more often out of stock, and a few lines are low everywhere.
const lastSale = sales.reduce((m, l) => Math.max(m, l.at), 0);
const days = (lastSale - sales.reduce((m, l) => Math.min(m, l.at), Infinity)) / 86_400_000;
const locations = [ONLINE, ...STORES.map((s) => s.id)];
const storeWeight = (id: string): number =>
  id === ONLINE ? 6 : STORES.find((s) => s.id === id)!.pickup ? 1 : 0.5;
const quantities: Record<string, number[]> = {};
for (const { sku, s } of described) {
  const weeklyOrders = (s.orders.size / days) * 7;
  quantities[sku] = locations.map((loc) => {
    const r = unit(`${sku}@${loc}`);
    const pOut = loc === ONLINE ? 0.02 : 0.04 + 0.5 / (weeklyOrders + 4);
    if (r < pOut) return 0;
    const scale = storeWeight(loc) * (4 + weeklyOrders * 2) * (0.3 + unit(`${sku}#${loc}`) * 1.7);
    return Math.max(1, Math.round(scale));
  });
}
// Counts were taken at each location's last nightly sync on the last day of the data.
const syncBase = Date.UTC(2011, 8, 30, 18, 0);
const inventory: InventoryFile = {
  format: 'omnikit-inventory/1',
  attribution: ATTRIBUTION,
  locations,
  updatedAt: locations.map((loc) =>
    new Date(syncBase + Math.floor(unit(`sync@${loc}`) * 120) * 60_000).toISOString(),
  ),
  qty: quantities,
};

// Order history: every basket, restricted to catalog products so recommendations can render.
const inCatalog = new Set(products.map((p) => p.sku));
const baskets = toBaskets(sales)
  .map((b) => ({ ...b, skus: b.skus.filter((sku) => inCatalog.has(sku)) }))
  .filter((b) => b.skus.length > 0);
const history = encodeOrderHistory(baskets, ATTRIBUTION);

mkdirSync(outDir, { recursive: true });
const write = (name: string, content: string | Buffer): void => {
  writeFileSync(join(outDir, name), content);
  console.log(`${relative(repoRoot, join(outDir, name))}: ${content.length} bytes`);
};
const json = (value: unknown): string => `${JSON.stringify(value, null, 1)}\n`;
write('catalog.json', json(catalogDoc));
write(
  'stores.json',
  json({ attribution: 'Fictional shops on real streets; generated.', stores: STORES }),
);
write('inventory.json', `${JSON.stringify(inventory)}\n`);
write('orders.json.gz', gzipSync(JSON.stringify(history), { level: 9 }));
const counts = Object.values(quantities).flat();
console.log(
  `products=${products.length} groups=${new Set(products.map((p) => p.groupId).filter(Boolean)).size} ` +
    `stores=${STORES.length} baskets=${baskets.length} stock rows=${counts.length} ` +
    `out=${counts.filter((q) => q === 0).length} low(<=5)=${counts.filter((q) => q > 0 && q <= 5).length}`,
);
