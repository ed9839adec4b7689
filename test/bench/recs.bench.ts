// Commerce benchmarks: recommendation latency (demo catalog with EASE^R, and the kNN part at
// 100k synthetic items), stock ranking latency, and product feed import throughput. EASE^R
// at 100k items and over HTTP: recs-scale.bench.ts.
//
//   npx tsx --conditions=source test/bench/recs.bench.ts
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  RecModel,
  decodeInventoryFile,
  decodeOrderHistory,
  decodeStoresFile,
  parseCsvFeed,
  parseJsonFeed,
  rankStores,
  type InventoryRow,
  type ProfileItems,
  type RecommendRequest,
  type Store,
} from '../../packages/server/src/commerce/index.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const HOUR = 3_600_000;

/** Deterministic uniform numbers in [0, 1) (mulberry32). */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentiles(samples: number[]): { p50: number; p95: number; p99: number } {
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number): number => s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

const ms = (x: number): string => `${x.toFixed(3)} ms`;
const lines: string[] = [];
const report = (line: string): void => {
  lines.push(line);
  console.log(line);
};

/** Times `requests` recommendation calls, with a live view event between calls (dirty caches). */
function benchRecs(
  label: string,
  model: RecModel,
  skus: readonly string[],
  requests: number,
  seed: number,
): void {
  const random = rng(seed);
  const pick = (): string => skus[Math.floor(random() * skus.length)]!;
  const strategies = ['also-bought', 'also-viewed', 'personalized', 'trending'] as const;
  let now = Date.UTC(2026, 0, 1);
  for (const strategy of strategies) {
    const samples: number[] = [];
    for (let i = 0; i < requests; i++) {
      const profile: ProfileItems = {
        viewed: Array.from({ length: 12 }, (_, k) => ({ sku: pick(), at: now - k * HOUR })),
        cart: Array.from({ length: 3 }, () => ({ sku: pick(), at: now })),
        purchased: Array.from({ length: 20 }, (_, k) => ({ sku: pick(), at: now - k * 24 * HOUR })),
      };
      const request: RecommendRequest = { strategy, sku: pick(), profile, limit: 10, now };
      now += 1_000;
      model.addEvent({ profileId: `p${i % 500}`, sku: pick(), type: 'view', at: now });
      const t = performance.now();
      const { items } = model.recommend(request);
      samples.push(performance.now() - t);
      if (items.length === 0) throw new Error(`${strategy} returned nothing`);
    }
    const p = percentiles(samples);
    report(
      `recs ${label} ${strategy.padEnd(12)} p50=${ms(p.p50)} p95=${ms(p.p95)} p99=${ms(p.p99)} (n=${requests})`,
    );
  }
}

// ---- demo catalog ----
{
  const catalog = JSON.parse(readFileSync(resolve(root, 'demo/data/catalog.json'), 'utf8')) as {
    products: { sku: string }[];
  };
  const history = decodeOrderHistory(
    JSON.parse(gunzipSync(readFileSync(resolve(root, 'demo/data/orders.json.gz'))).toString()),
  );
  const model = new RecModel();
  const skus = catalog.products.map((p) => p.sku);
  let t = performance.now();
  model.addItems(skus);
  for (const b of history) model.addBasket(b.skus, b.at);
  const loadMs = performance.now() - t;
  t = performance.now();
  model.warm();
  const warmMs = performance.now() - t;
  const st = model.stats();
  report(
    `demo model: ${st.items} items, ${history.length} baskets, ${st.boughtPairs} pairs; ` +
      `load ${loadMs.toFixed(0)} ms (${Math.round(history.length / (loadMs / 1000))} baskets/s), warm ${warmMs.toFixed(0)} ms`,
  );
  t = performance.now();
  const before = process.memoryUsage().arrayBuffers;
  model.buildDense();
  const dense = model.denseStats();
  report(
    `demo EASE^R: ${dense.items} items, build ${((performance.now() - t) / 1000).toFixed(1)} s ` +
      `(blocking here; the server builds in slices), B ${(dense.bytes / 1e6).toFixed(0)} MB, ` +
      `array buffers +${((process.memoryUsage().arrayBuffers - before) / 1e6).toFixed(0)} MB after`,
  );
  t = performance.now();
  const snapshot = JSON.stringify(model);
  const saveMs = performance.now() - t;
  t = performance.now();
  RecModel.fromJSON(JSON.parse(snapshot) as ReturnType<RecModel['toJSON']>);
  report(
    `demo snapshot: ${(snapshot.length / 1e6).toFixed(1)} MB JSON, save ${saveMs.toFixed(0)} ms, ` +
      `restore ${(performance.now() - t).toFixed(0)} ms`,
  );
  benchRecs(`demo(${skus.length})`, model, skus, 2_000, 1);

  const stores = decodeStoresFile(
    JSON.parse(readFileSync(resolve(root, 'demo/data/stores.json'), 'utf8')),
  );
  const inventory = decodeInventoryFile(
    JSON.parse(readFileSync(resolve(root, 'demo/data/inventory.json'), 'utf8')),
  );
  const bySku = new Map<string, InventoryRow[]>();
  for (const row of inventory) bySku.set(row.sku, [...(bySku.get(row.sku) ?? []), row]);
  benchStock(`demo(${stores.length} stores)`, stores, skus, bySku);
}

function benchStock(
  label: string,
  stores: readonly Store[],
  skus: readonly string[],
  bySku: ReadonlyMap<string, InventoryRow[]>,
): void {
  const random = rng(2);
  const samples: number[] = [];
  for (let i = 0; i < 5_000; i++) {
    const sku = skus[Math.floor(random() * skus.length)]!;
    const origin = { lat: 50.5 + random() * 5, lng: -4.5 + random() * 5 };
    const t = performance.now();
    rankStores(sku, stores, bySku.get(sku) ?? [], { origin, lowThreshold: 5 });
    samples.push(performance.now() - t);
  }
  const p = percentiles(samples);
  report(`stock ${label} rankStores p50=${ms(p.p50)} p95=${ms(p.p95)} (n=${samples.length})`);
}

// ---- 500 synthetic stores ----
{
  const random = rng(3);
  const hours = { mon: [], tue: [], wed: [], thu: [], fri: [], sat: [], sun: [] };
  const stores: Store[] = Array.from({ length: 500 }, (_, i) => ({
    id: `s${i}`,
    name: `Store ${i}`,
    address: { line1: `${i} High Street`, city: 'Town', postcode: 'AB1 2CD', country: 'GB' },
    lat: 50 + random() * 8,
    lng: -5 + random() * 6,
    hours,
    pickup: true,
  }));
  const rows = stores.map((s) => ({
    location: s.id,
    sku: 'X',
    qty: Math.floor(random() * 12),
    updatedAt: 1,
  }));
  benchStock('synthetic(500 stores)', stores, ['X'], new Map([['X', rows]]));
}

// ---- 100k synthetic items ----
{
  const ITEMS = 100_000;
  const random = rng(4);
  // Zipf-like popularity and topical clusters, so neighbour lists look like a real shop's.
  const item = (): number => {
    const r = Math.floor(Math.pow(random(), 2.5) * ITEMS);
    return r;
  };
  // The kNN part alone: EASE^R over this catalog's best sellers is in recs-scale.bench.ts.
  const model = new RecModel({ denseMaxItems: 0 });
  const skus = Array.from({ length: ITEMS }, (_, i) => `SYN-${i}`);
  model.addItems(skus);
  let t = performance.now();
  const BASKETS = 300_000;
  let at = Date.UTC(2025, 0, 1);
  for (let b = 0; b < BASKETS; b++) {
    const anchor = item();
    const size = 1 + Math.floor(random() * 6);
    const basket = [skus[anchor]!];
    for (let k = 1; k < size; k++) {
      const near = random() < 0.7 ? (anchor + Math.floor(random() * 50)) % ITEMS : item();
      basket.push(skus[near]!);
    }
    at += 60_000;
    model.addBasket(basket, at);
  }
  const loadMs = performance.now() - t;
  t = performance.now();
  model.warm();
  const st = model.stats();
  report(
    `synthetic model: ${st.items} items, ${BASKETS} baskets, ${st.boughtPairs} pairs; ` +
      `load ${loadMs.toFixed(0)} ms (${Math.round(BASKETS / (loadMs / 1000))} baskets/s), warm ${(performance.now() - t).toFixed(0)} ms`,
  );
  benchRecs('synthetic(100k, kNN)', model, skus, 1_000, 5);
}

// ---- feed import ----
{
  const ROWS = 50_000;
  const csv = [
    'sku,groupId,title,description,price,currency,url,image,category,attr.size,attr.colour',
  ];
  const json: Record<string, unknown>[] = [];
  for (let i = 0; i < ROWS; i++) {
    const sku = `FEED-${i}`;
    csv.push(
      `${sku},G-${i >> 2},"Product ${i}, cotton","A fine product, number ${i}",${100 + i},GBP,/p/${sku},/img/${sku}.png,Tops,M,Red`,
    );
    json.push({
      sku,
      groupId: `G-${i >> 2}`,
      title: `Product ${i}`,
      description: `A fine product, number ${i}`,
      price: 100 + i,
      currency: 'GBP',
      url: `/p/${sku}`,
      image: `/img/${sku}.png`,
      category: 'Tops',
      attributes: { size: 'M', colour: 'Red' },
    });
  }
  const csvText = csv.join('\n');
  const jsonText = JSON.stringify(json);
  for (const [label, run] of [
    ['csv', () => parseCsvFeed(csvText)],
    ['json', () => parseJsonFeed(jsonText)],
  ] as const) {
    run(); // warm-up
    const t = performance.now();
    const result = run();
    const s = (performance.now() - t) / 1000;
    if (result.products.length !== ROWS) throw new Error(`${label} import lost rows`);
    report(
      `feed import ${label}: ${ROWS} rows in ${(s * 1000).toFixed(0)} ms = ${Math.round(ROWS / s)} rows/s`,
    );
  }
}

console.log('\ncommand: npx tsx --conditions=source test/bench/recs.bench.ts');
