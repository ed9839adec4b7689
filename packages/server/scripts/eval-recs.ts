// Offline evaluation of the recommendation model on real orders (UCI Online Retail, CC BY 4.0).
// Time-based split: train on everything before --cutoff; every customer who bought on both sides
// is a test case: profile = purchases before the cut-off, truth = products bought after it that
// the customer had not bought before. The model's knobs are tuned on a validation split carved
// from the training period only (same window length, just before the cut-off), then frozen.
//
//   npm run eval:recs -- --data ../shared/data/online-retail-2010-12-to-2011-09.csv.gz --cutoff 2011-08-01
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  RecModel,
  isReturn,
  isSale,
  parseLocalTime,
  toBaskets,
  type Basket,
  type InvoiceLine,
  type RecModelOptions,
  type TimedSku,
} from '../src/commerce/index.js';
import { DEFAULT_DATA, readRetailFile, repoRoot } from './retail-data.js';

const here = dirname(fileURLToPath(import.meta.url));
const K = 10;
const DAY = 86_400_000;

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_DATA },
    cutoff: { type: 'string', default: '2011-08-01' },
    out: { type: 'string', default: join(here, '../docs/recs-eval.md') },
  },
});
const dataPath = resolve(repoRoot, values.data!);
const cutoff = parseLocalTime(`${values.cutoff!}T00:00`);
const command = `npm run eval:recs -- --data ${values.data} --cutoff ${values.cutoff}`;

interface Case {
  customer: string;
  profile: TimedSku[];
  /** Everything bought before the split: never worth recommending in this evaluation. */
  before: Set<string>;
  truth: Set<string>;
}

interface Split {
  train: Basket[];
  cases: Case[];
  customersBothSides: number;
  items: number;
}

/** Builds the train baskets and test cases for one split point, using lines before `end` only. */
function split(lines: readonly InvoiceLine[], at: number, end: number): Split {
  const train = toBaskets(lines.filter((l) => l.at < at));
  // Net quantities per customer and sku on each side: a product bought and then fully returned
  // or cancelled is not a purchase, on either side.
  const before = new Map<string, Map<string, { qty: number; last: number }>>();
  const after = new Map<string, Map<string, number>>();
  for (const line of lines) {
    if (!line.customerId || line.at >= end) continue;
    const sale = isSale(line);
    if (!sale && !isReturn(line)) continue;
    const qty = sale ? line.quantity : -Math.abs(line.quantity);
    if (line.at < at) {
      const m = before.get(line.customerId) ?? new Map<string, { qty: number; last: number }>();
      before.set(line.customerId, m);
      const e = m.get(line.stockCode) ?? { qty: 0, last: 0 };
      e.qty += qty;
      if (sale) e.last = Math.max(e.last, line.at);
      m.set(line.stockCode, e);
    } else {
      const m = after.get(line.customerId) ?? new Map<string, number>();
      after.set(line.customerId, m);
      m.set(line.stockCode, (m.get(line.stockCode) ?? 0) + qty);
    }
  }
  const cases: Case[] = [];
  let both = 0;
  for (const [customer, items] of [...before].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const later = after.get(customer);
    if (!later) continue;
    const profile: TimedSku[] = [];
    const seen = new Set<string>();
    for (const [sku, e] of items) {
      if (e.last > 0) seen.add(sku);
      if (e.qty > 0 && e.last > 0) profile.push({ sku, at: e.last });
    }
    const truth = new Set<string>();
    for (const [sku, qty] of later) if (qty > 0 && !seen.has(sku)) truth.add(sku);
    if (profile.length === 0 || [...later.values()].every((q) => q <= 0)) continue;
    both++;
    if (truth.size > 0) cases.push({ customer, profile, before: seen, truth });
  }
  const items = new Set(train.flatMap((b) => b.skus)).size;
  return { train, cases, customersBothSides: both, items };
}

interface Scores {
  hitRate: number;
  ndcg: number;
  mrr: number;
  coverage: number;
}

function evaluate(cases: readonly Case[], items: number, rank: (c: Case) => string[]): Scores {
  let hits = 0;
  let ndcg = 0;
  let mrr = 0;
  const shown = new Set<string>();
  for (const c of cases) {
    const list = rank(c).slice(0, K);
    let dcg = 0;
    let first = 0;
    list.forEach((sku, i) => {
      shown.add(sku);
      if (!c.truth.has(sku)) return;
      dcg += 1 / Math.log2(i + 2);
      if (first === 0) first = i + 1;
    });
    let ideal = 0;
    for (let i = 0; i < Math.min(K, c.truth.size); i++) ideal += 1 / Math.log2(i + 2);
    if (first > 0) {
      hits++;
      mrr += 1 / first;
    }
    ndcg += dcg / ideal;
  }
  const n = cases.length || 1;
  return { hitRate: hits / n, ndcg: ndcg / n, mrr: mrr / n, coverage: shown.size / items };
}

function buildModel(train: readonly Basket[], options: Partial<RecModelOptions>): RecModel {
  const model = new RecModel(options);
  for (const b of train) model.addBasket(b.skus, b.at);
  model.warm();
  return model;
}

const popularity = (model: RecModel) => (c: Case) => model.popular(K, c.before);

// "Customers who bought your items also bought": raw co-purchase counts summed over every item of
// the profile, no normalisation, no recency; ties and empty profiles fall back to popularity.
const coOccurrence = (model: RecModel) => {
  const popular = model.popular(model.size);
  const popRank = new Map(popular.map((sku, i) => [sku, i]));
  return (c: Case) => {
    const scores = new Map<string, number>();
    for (const p of c.profile) {
      for (const [q, co] of model.coPurchased(p.sku)) {
        if (!c.before.has(q)) scores.set(q, (scores.get(q) ?? 0) + co);
      }
    }
    const ranked = [...scores]
      .sort((a, b) => b[1] - a[1] || popRank.get(a[0])! - popRank.get(b[0])!)
      .map(([sku]) => sku);
    return ranked.length >= K
      ? ranked
      : [...ranked, ...model.popular(K, new Set([...c.before, ...ranked]))];
  };
};

const personalized = (model: RecModel, now: number) => (c: Case) =>
  model
    .recommend({
      strategy: 'personalized',
      profile: { purchased: c.profile },
      limit: K,
      exclude: c.before,
      now,
    })
    .items.map((r) => r.sku);

// ---- run ----
const started = performance.now();
const lines = readRetailFile(dataPath);
const last = lines.reduce((m, l) => Math.max(m, l.at), 0) + 1;
const windowMs = last - cutoff;
if (windowMs <= 0) throw new Error(`--cutoff ${values.cutoff} is after the last order`);
// Validation: the same window length, ending at the cut-off; nothing at or after it is read.
const valCutoff = cutoff - windowMs;
const val = split(lines, valCutoff, cutoff);

const grid: Partial<RecModelOptions>[] = [];
for (const alpha of [0.5, 0.7])
  for (const shrink of [0, 10])
    for (const neighbours of [20, 50, 200])
      for (const halfLifeDays of [14, 30, 120])
        grid.push({
          alpha,
          shrink,
          neighbours,
          profileHalfLifeMs: halfLifeDays * DAY,
          minSupport: 2,
        });

const tuning: { options: Partial<RecModelOptions>; scores: Scores }[] = [];
// One model per split: the grid only changes scoring knobs, which `configure` applies without
// recounting (neighbour lists are recomputed from the same counts).
const valModel = buildModel(val.train, {});
for (const options of grid) {
  valModel.configure(options);
  tuning.push({
    options,
    scores: evaluate(val.cases, val.items, personalized(valModel, valCutoff)),
  });
}

tuning.sort((a, b) => b.scores.ndcg - a.scores.ndcg);
const chosen = tuning[0]!.options;

const test = split(lines, cutoff, Infinity);
const model = buildModel(test.train, chosen);
const rows: [string, Scores][] = [
  ['popularity (all-time best sellers)', evaluate(test.cases, test.items, popularity(model))],
  [
    'co-occurrence (also-bought of profile items)',
    evaluate(test.cases, test.items, coOccurrence(model)),
  ],
  [
    'personalized (item kNN, recency-weighted)',
    evaluate(test.cases, test.items, personalized(model, cutoff)),
  ],
];
const seconds = (performance.now() - started) / 1000;

const pct = (x: number): string => x.toFixed(4);
const table = [
  `| model | HitRate@${K} | NDCG@${K} | MRR@${K} | coverage |`,
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    ([name, s]) =>
      `| ${name} | ${pct(s.hitRate)} | ${pct(s.ndcg)} | ${pct(s.mrr)} | ${pct(s.coverage)} |`,
  ),
].join('\n');
const pop = rows[0]![1];
const pers = rows[2]![1];
const lift = (pers.ndcg / pop.ndcg - 1) * 100;
const describe = (o: Partial<RecModelOptions>): string =>
  `alpha=${o.alpha} shrink=${o.shrink} neighbours=${o.neighbours} profileHalfLife=${(o.profileHalfLifeMs ?? 0) / DAY}d minSupport=${o.minSupport}`;
const day = (t: number): string => new Date(t).toISOString().slice(0, 10);

const report = `# Recommendation quality on real orders

Generated by \`packages/server/scripts/eval-recs.ts\`; do not edit by hand. Command (from the repo root):

\`\`\`
${command}
\`\`\`

Data: UCI "Online Retail" dataset, Daqing Chen, Sai Liang Sain, Kun Guo (2012), UCI Machine
Learning Repository, https://doi.org/10.24432/C5BW33, licensed CC BY 4.0. File
\`${relative(repoRoot, dataPath)}\` (see ../shared/data/PROVENANCE.md). The figures below are
derived from it.

## Test: train before ${day(cutoff)}, test ${day(cutoff)} .. ${day(last - 1)}

${table}

Personalized vs popularity: NDCG@${K} ${lift >= 0 ? '+' : ''}${lift.toFixed(0)}%, HitRate@${K} ${pct(pop.hitRate)} -> ${pct(pers.hitRate)}.

- ${test.train.length} training baskets, ${test.items} products; ${test.customersBothSides} customers bought on both
  sides, ${test.cases.length} of them bought something new after the cut-off (the test cases).
- Truth: products a customer bought after the cut-off (net of returns and cancellations) that they
  had not bought before it. Every model is asked for ${K} items and excludes everything the customer
  bought before, since re-purchases are not in the truth.
- Cleaning: cancellation invoices ("C...") and negative quantities are returns: they cancel the
  customer's purchase of that product on the same side of the split and are never basket items;
  non-product lines (postage, fees, discounts, manual lines, samples, gift vouchers: any stock code
  that is not five digits plus an optional variant suffix) and zero-price lines are left out.
- Popularity: all-time best sellers of the training period. Co-occurrence: raw co-purchase counts
  summed over the profile's items (ties and short lists filled by popularity). Personalized: the
  server's \`RecModel\` with strategy \`personalized\` (item-based kNN over the profile's purchases,
  asymmetric-cosine similarity with shrinkage, weights halved every profile half-life, fallback to
  trending), exactly as the HTTP route calls it.
- Coverage: distinct products recommended across all test customers / products in training.

## Tuning (validation split inside the training period)

The test period is never read while tuning. Validation: train before ${day(valCutoff)}, validate on
${day(valCutoff)} .. ${day(cutoff - 1)} (the test window's length, ending at the cut-off), ${val.cases.length} cases. Grid over
${grid.length} settings, ranked by validation NDCG@${K}; the best was frozen for the test run:

- chosen: ${describe(chosen)}

| setting | val HitRate@${K} | val NDCG@${K} |
|---|---:|---:|
${tuning
  .slice(0, 8)
  .map((t) => `| ${describe(t.options)} | ${pct(t.scores.hitRate)} | ${pct(t.scores.ndcg)} |`)
  .join('\n')}

(top 8 of ${grid.length}; run time ${seconds.toFixed(1)} s on this machine.)
`;

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, report);
console.log(table);
console.log(`\nchosen on validation: ${describe(chosen)}`);
console.log(
  `cases: ${test.cases.length} test, ${val.cases.length} validation; ${seconds.toFixed(1)} s`,
);
console.log(`command: ${command}`);
console.log(`wrote ${relative(process.cwd(), values.out!)}`);
