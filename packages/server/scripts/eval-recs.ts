// Offline evaluation of the recommendation model on real orders (UCI Online Retail, CC BY 4.0).
// Time-based split: train on everything before --cutoff; every customer who bought on both sides
// is a test case: profile = purchases before the cut-off, truth = products bought after it that
// the customer had not bought before. The model's knobs are tuned on a validation split carved
// from the training period only (same window length, just before the cut-off), then frozen.
// Baselines: popularity, co-occurrence and EASE^R (Steck 2019), its λ tuned the same way.
// A second table scores item-to-item ("bought together") on the test period's baskets.
//
//   npm run eval:recs -- --data ../shared/data/online-retail-2010-12-to-2011-09.csv.gz --cutoff 2011-08-01
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import {
  DEFAULT_REC_OPTIONS,
  RecModel,
  easeWeights,
  gramFromSets,
  isReturn,
  isSale,
  parseLocalTime,
  toBaskets,
  type Basket,
  type InvoiceLine,
  type RecModelOptions,
  selectTop,
  type TimedSku,
} from '../src/commerce/index.js';
import { DEFAULT_DATA, readRetailFile, repoRoot } from './retail-data.js';

const here = dirname(fileURLToPath(import.meta.url));
const K = 10;
const DAY = 86_400_000;
const LAMBDAS = [20, 50, 100, 200, 500, 1000] as const;
/** The shipped blend's λ grid: LAMBDAS without the ends, which never ranked on validation. */
const BLEND_LAMBDAS = [50, 100, 200, 500] as const;
/** The EASE^R baseline weighs profile items as the issue that set it did: halved every 120 days. */
const BASELINE_HALF_LIFE_DAYS = 120;

const { values } = parseArgs({
  options: {
    data: { type: 'string', default: DEFAULT_DATA },
    cutoff: { type: 'string', default: '2011-08-01' },
    out: { type: 'string', default: join(here, '../docs/recs-eval.md') },
    // `--only validation`: the tuning grids alone (full tables on stdout), never reading the
    // test period and writing no report; for exploring the grids without a test-split run.
    only: { type: 'string' },
  },
});
if (values.only !== undefined && values.only !== 'validation') {
  throw new Error(`--only takes "validation", not "${values.only}"`);
}
const dataPath = resolve(repoRoot, values.data!);
const cutoff = parseLocalTime(`${values.cutoff!}T00:00`);
const command = `npm run eval:recs -- --data ${values.data} --cutoff ${values.cutoff}`;
const began = performance.now();
/** One progress line on stderr per stage (the run takes minutes; stdout is the report). */
const progress = (stage: string) =>
  process.stderr.write(
    `eval:recs ${((performance.now() - began) / 1000).toFixed(0)} s: ${stage} (EASE^R solves ${solves}, ${(solveMs / 1000).toFixed(0)} s)\n`,
  );

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

/**
 * How every grid ranks its settings on validation: the geometric mean of HitRate@K and NDCG@K,
 * the issue's two metrics, so a relative change in either counts the same (NDCG alone let a
 * setting that misses more customers win on a better order for the ones it hits).
 */
const criterion = (s: Scores): number => Math.sqrt(s.hitRate * s.ndcg);
const byCriterion = (a: { scores: Scores }, b: { scores: Scores }): number =>
  criterion(b.scores) - criterion(a.scores);

const pct = (x: number): string => x.toFixed(4);
const day = (t: number): string => new Date(t).toISOString().slice(0, 10);
const describeKnn = (o: Partial<RecModelOptions>): string =>
  `alpha=${o.alpha} shrink=${o.shrink} neighbours=${o.neighbours} profileHalfLife=${(o.profileHalfLifeMs ?? 0) / DAY}d minSupport=${o.minSupport}`;
const describeBlend = (o: Partial<RecModelOptions>): string =>
  `λ=${o.denseLambda} knnWeight=${o.denseKnnWeight} trendWeight=${o.trendWeight} profileHalfLife=${(o.profileHalfLifeMs ?? 0) / DAY}d`;

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

// Solving EASE^R is the run's one O(n³) cost; the baseline and the shipped model build the very
// same Gram matrix (every training basket over every product), so each (matrix, λ) is solved
// once. The key is the matrix's contents, so a different matrix can never reuse a solution.
const solved = new Map<string, Float32Array>();
let solves = 0;
let solveMs = 0;
function memoSolver(gram: Float64Array, n: number, lambda: number): Float32Array {
  let h1 = 0x811c9dc5;
  let h2 = 0;
  for (let i = 0; i < gram.length; i++) {
    const v = gram[i]!;
    if (v === 0) continue;
    h1 = Math.imul(h1 ^ i, 0x01000193) ^ v;
    h2 = (h2 + Math.imul(i + 1, v | 0)) | 0;
  }
  const key = `${n}:${lambda}:${h1}:${h2}`;
  let b = solved.get(key);
  if (!b) {
    const t = performance.now();
    b = easeWeights(gram, n, lambda);
    solveMs += performance.now() - t;
    solves++;
    solved.set(key, b);
  }
  return b;
}

function buildModel(train: readonly Basket[], options: Partial<RecModelOptions>): RecModel {
  const model = new RecModel({ ...options, denseSolver: memoSolver });
  for (const b of train) model.addBasket(b.skus, b.at);
  model.warm();
  return model;
}

/** The training products in order of first appearance (the order the model numbers them). */
function productsOf(train: readonly Basket[]): string[] {
  return [...new Set(train.flatMap((b) => b.skus))];
}

// EASE^R as a baseline, written from the paper rather than through RecModel: rows = training
// baskets, profile = the customer's earlier purchases weighted by recency, score = x·B.
function easeBaseline(train: readonly Basket[], lambda: number, now: number) {
  const items = productsOf(train);
  const n = items.length;
  const at = new Map(items.map((sku, i) => [sku, i]));
  const b = memoSolver(
    gramFromSets(
      train.map((basket) => basket.skus.map((sku) => at.get(sku)!)),
      n,
    ),
    n,
    lambda,
  );
  const halfLife = BASELINE_HALF_LIFE_DAYS * DAY;
  return (c: Case): string[] => {
    const s = new Float64Array(n);
    for (const p of c.profile) {
      const i = at.get(p.sku);
      if (i === undefined) continue;
      const w = Math.pow(0.5, Math.max(0, now - p.at) / halfLife);
      for (let j = 0, r = i * n; j < n; j++) s[j]! += w * b[r + j]!;
    }
    const ids: number[] = [];
    for (let j = 0; j < n; j++) if (!c.before.has(items[j]!)) ids.push(j);
    return selectTop(ids, K, (x, y) => s[y]! - s[x]! || x - y).map((j) => items[j]!);
  };
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

// ---- item-to-item ("bought together") ----

interface PairScores {
  queries: number;
  hitRate: number;
  recall: number;
  ndcg: number;
}

/**
 * For every product of every test basket (2..100 distinct products, the product known from
 * training): are the basket's other products in the top K of `similar(product)`?
 */
function evaluatePairs(
  baskets: readonly Basket[],
  known: ReadonlySet<string>,
  similar: (sku: string) => string[],
): PairScores {
  const lists = new Map<string, string[]>();
  let queries = 0;
  let hits = 0;
  let recall = 0;
  let ndcg = 0;
  for (const basket of baskets) {
    if (basket.skus.length < 2 || basket.skus.length > 100) continue;
    for (const sku of basket.skus) {
      if (!known.has(sku)) continue;
      let list = lists.get(sku);
      if (!list) lists.set(sku, (list = similar(sku).slice(0, K)));
      const others = new Set(basket.skus);
      others.delete(sku);
      let found = 0;
      let dcg = 0;
      list.forEach((q, i) => {
        if (!others.has(q)) return;
        found++;
        dcg += 1 / Math.log2(i + 2);
      });
      let ideal = 0;
      for (let i = 0; i < Math.min(K, others.size); i++) ideal += 1 / Math.log2(i + 2);
      queries++;
      if (found > 0) hits++;
      recall += found / Math.min(K, others.size);
      ndcg += dcg / ideal;
    }
  }
  const n = queries || 1;
  return { queries, hitRate: hits / n, recall: recall / n, ndcg: ndcg / n };
}

/** Raw co-purchase counts, ties and short lists filled by popularity. */
const coPurchasedWith = (model: RecModel) => {
  const popular = model.popular(model.size);
  const popRank = new Map(popular.map((sku, i) => [sku, i]));
  return (sku: string): string[] => {
    const row = [...model.coPurchased(sku)];
    const ranked = selectTop(
      row.map((_, x) => x),
      K,
      (x, y) => row[y]![1] - row[x]![1] || popRank.get(row[x]![0])! - popRank.get(row[y]![0])!,
    ).map((x) => row[x]![0]);
    return ranked.length >= K
      ? ranked
      : [...ranked, ...model.popular(K, new Set([sku, ...ranked]))];
  };
};

/** The row of B: the products whose EASE^R weight from `sku` is highest. */
function easeRow(train: readonly Basket[], lambda: number) {
  const items = productsOf(train);
  const n = items.length;
  const at = new Map(items.map((sku, i) => [sku, i]));
  const b = memoSolver(
    gramFromSets(
      train.map((basket) => basket.skus.map((sku) => at.get(sku)!)),
      n,
    ),
    n,
    lambda,
  );
  return (sku: string): string[] => {
    const i = at.get(sku)!;
    const ids: number[] = [];
    for (let j = 0; j < n; j++) if (j !== i) ids.push(j);
    return selectTop(ids, K, (x, y) => b[i * n + y]! - b[i * n + x]! || x - y).map(
      (j) => items[j]!,
    );
  };
}

const alsoBought = (model: RecModel) => (sku: string) =>
  model.recommend({ strategy: 'also-bought', sku, limit: K }).items.map((r) => r.sku);

// ---- run ----
const started = performance.now();
const lines = readRetailFile(dataPath);
const last = lines.reduce((m, l) => Math.max(m, l.at), 0) + 1;
const windowMs = last - cutoff;
if (windowMs <= 0) throw new Error(`--cutoff ${values.cutoff} is after the last order`);
// Validation: the same window length, ending at the cut-off; nothing at or after it is read.
const valCutoff = cutoff - windowMs;
const val = split(lines, valCutoff, cutoff);
progress(`read ${lines.length} lines; validation: ${val.cases.length} cases, ${val.items} items`);

// 1. The item kNN's knobs, EASE^R off.
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
const valModel = buildModel(val.train, { denseMaxItems: 0 });
for (const options of grid) {
  valModel.configure(options);
  tuning.push({
    options,
    scores: evaluate(val.cases, val.items, personalized(valModel, valCutoff)),
  });
}
tuning.sort(byCriterion);
progress('item kNN grid done');
const knnChosen = tuning[0]!.options;

// 2. The EASE^R baseline's λ.
const baselineTuning = LAMBDAS.map((lambda) => ({
  lambda,
  scores: evaluate(val.cases, val.items, easeBaseline(val.train, lambda, valCutoff)),
}));
baselineTuning.sort(byCriterion);
progress('EASE^R baseline λ tuned');
const baselineLambda = baselineTuning[0]!.lambda;

// 3. The shipped blend: EASE^R's λ, the weights of kNN and trending beside it and the profile
// half-life, with
// the kNN's similarity knobs frozen from step 1. Same counts, so one model and one Gram matrix.
// (The ranges were moved once, on validation figures alone: the previous grid's best had
// trendWeight and the half-life at the top of their ranges, and λ = 20 or 1000 never ranked.)
const blendGrid: Partial<RecModelOptions>[] = [];
for (const denseLambda of BLEND_LAMBDAS)
  for (const denseKnnWeight of [0, 0.25, 0.5])
    for (const trendWeight of [0.1, 0.2, 0.35, 0.5])
      for (const halfLifeDays of [120, 365])
        blendGrid.push({
          denseLambda,
          denseKnnWeight,
          trendWeight,
          profileHalfLifeMs: halfLifeDays * DAY,
        });
const blendTuning: { options: Partial<RecModelOptions>; scores: Scores }[] = [];
const blendModel = buildModel(val.train, knnChosen);
for (const options of blendGrid) {
  blendModel.configure(options);
  if (blendModel.denseStale) blendModel.buildDense();
  blendTuning.push({
    options,
    scores: evaluate(val.cases, val.items, personalized(blendModel, valCutoff)),
  });
}
blendTuning.sort(byCriterion);
progress('blend grid done');
const chosen = { ...knnChosen, ...blendTuning[0]!.options };
/** Whether the server ships what was chosen: the figures above are the server's only if so. */
const differing = (Object.keys(chosen) as (keyof RecModelOptions)[]).filter(
  (k) => chosen[k] !== DEFAULT_REC_OPTIONS[k],
);
const defaultsNote = differing.length
  ? `**The server's defaults differ** in ${differing.map((k) => `${k}=${String(DEFAULT_REC_OPTIONS[k])}`).join(', ')}: set them to these and run this again.`
  : "The server's `DEFAULT_REC_OPTIONS` are exactly these settings.";
if (differing.length) process.stderr.write(`eval:recs: ${defaultsNote}\n`);
if (values.only === 'validation') {
  const line = (setting: string, s: Scores) =>
    `| ${setting} | ${pct(s.hitRate)} | ${pct(s.ndcg)} | ${pct(criterion(s))} |`;
  console.log(
    [
      `validation ${day(valCutoff)} .. ${day(cutoff - 1)}, ${val.cases.length} cases; ranked by √(HitRate@${K}·NDCG@${K})`,
      '\nEASE^R baseline:',
      ...baselineTuning.map((t) => line(`λ=${t.lambda}`, t.scores)),
      '\nitem kNN:',
      ...tuning.map((t) => line(describeKnn(t.options), t.scores)),
      '\nblend:',
      ...blendTuning.map((t) => line(describeBlend(t.options), t.scores)),
      `\nchosen: ${describeKnn(chosen)} ${describeBlend(chosen)}; EASE^R baseline λ=${baselineLambda}`,
      defaultsNote,
      `${((performance.now() - began) / 1000).toFixed(0)} s, ${solves} solves (${(solveMs / 1000).toFixed(0)} s)`,
    ].join('\n'),
  );
  process.exit(0);
}
// The validation solutions are never needed again: free their memory before the test split.
solved.clear();
const valSolves = solves;

const test = split(lines, cutoff, Infinity);
const model = buildModel(test.train, chosen);
model.buildDense();
const knnModel = buildModel(test.train, { ...knnChosen, denseMaxItems: 0 });
const rows: [string, Scores][] = [
  ['popularity (all-time best sellers)', evaluate(test.cases, test.items, popularity(model))],
  [
    'co-occurrence (also-bought of profile items)',
    evaluate(test.cases, test.items, coOccurrence(model)),
  ],
  [
    `EASE^R (λ=${baselineLambda}, baskets as rows, ${BASELINE_HALF_LIFE_DAYS}-day recency)`,
    evaluate(test.cases, test.items, easeBaseline(test.train, baselineLambda, cutoff)),
  ],
  [
    'item kNN alone (the previous personalized model)',
    evaluate(test.cases, test.items, personalized(knnModel, cutoff)),
  ],
  [
    '**shipped personalized** (EASE^R + item kNN + trending)',
    evaluate(test.cases, test.items, personalized(model, cutoff)),
  ],
];

const testBaskets = toBaskets(lines.filter((l) => l.at >= cutoff));
const known = new Set(productsOf(test.train));
const pairRows: [string, PairScores][] = [
  [
    'co-occurrence (raw co-purchase counts)',
    evaluatePairs(testBaskets, known, coPurchasedWith(model)),
  ],
  [
    '**shipped also-bought** (asymmetric cosine kNN, fallback chain)',
    evaluatePairs(testBaskets, known, alsoBought(model)),
  ],
  [
    `EASE^R row (λ=${baselineLambda}, for reference)`,
    evaluatePairs(testBaskets, known, easeRow(test.train, baselineLambda)),
  ],
];
const seconds = (performance.now() - started) / 1000;

const table = [
  `| model | HitRate@${K} | NDCG@${K} | MRR@${K} | coverage |`,
  '|---|---:|---:|---:|---:|',
  ...rows.map(
    ([name, s]) =>
      `| ${name} | ${pct(s.hitRate)} | ${pct(s.ndcg)} | ${pct(s.mrr)} | ${pct(s.coverage)} |`,
  ),
].join('\n');
const pairTable = [
  `| model | HitRate@${K} | Recall@${K} | NDCG@${K} |`,
  '|---|---:|---:|---:|',
  ...pairRows.map(
    ([name, s]) => `| ${name} | ${pct(s.hitRate)} | ${pct(s.recall)} | ${pct(s.ndcg)} |`,
  ),
].join('\n');
const pop = rows[0]![1];
const ease = rows[2]![1];
const pers = rows[4]![1];
const lift = (pers.ndcg / pop.ndcg - 1) * 100;
const easeLift = (pers.ndcg / ease.ndcg - 1) * 100;
const signed = (x: number): string => `${x >= 0 ? '+' : ''}${x.toFixed(1)}%`;
const denseItems = model.denseStats().items;

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

Shipped vs EASE^R: NDCG@${K} ${signed(easeLift)} (${pct(ease.ndcg)} -> ${pct(pers.ndcg)}), HitRate@${K} ${pct(ease.hitRate)} -> ${pct(pers.hitRate)}.
Shipped vs popularity: NDCG@${K} ${signed(lift)}, HitRate@${K} ${pct(pop.hitRate)} -> ${pct(pers.hitRate)}.

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
  summed over the profile's items (ties and short lists filled by popularity).
- EASE^R (Steck, WWW 2019), computed here from the paper: X = training baskets × products (binary),
  B = I - P·diagMat(1/diag(P)) with P = (XᵀX + λI)⁻¹ and a zero diagonal; a customer's score is
  x·B with x = their earlier purchases, each weighted 0.5^(age / ${BASELINE_HALF_LIFE_DAYS} days); λ chosen on the
  validation split from {${LAMBDAS.join(', ')}}.
- Item kNN alone: the previous shipped model (asymmetric-cosine neighbours with shrinkage, profile
  weights halved every profile half-life).
- Shipped personalized: the server's \`RecModel\` with strategy \`personalized\`, exactly as the HTTP
  route calls it: EASE^R over the best-selling ${denseItems} products (every product here; the server
  caps it at \`denseMaxItems\` = ${model.options.denseMaxItems}) from the same counts, plus the item kNN scores
  (each scaled to a best of 1, kNN weighted by \`denseKnnWeight\`) and trending (purchases halved
  every 7 days, weighted by \`trendWeight\`, as the season moves demand), with the server's own
  profile recency, reasons (the profile item that added most) and fallback to trending.
- Coverage: distinct products recommended across all test customers / products in training.

## Bought together (item-to-item), same test period

Every product of every test-period basket with 2 to 100 distinct products (the product known from
training) asks for ${K} products bought with it; the truth is the rest of that basket.
${pairRows[0]![1].queries} queries.

${pairTable}

Recall@${K}: share of the basket's other products found (out of at most ${K}). The shipped
\`also-bought\` strategy answers from the co-purchase neighbour lists (similarity settings below),
then co-views, then trending.

## Tuning (validation split inside the training period)

The test period is never read while tuning. Validation: train before ${day(valCutoff)}, validate on
${day(valCutoff)} .. ${day(cutoff - 1)} (the test window's length, ending at the cut-off), ${val.cases.length} cases. Every
grid (the baseline's λ too) is ranked by √(HitRate@${K}·NDCG@${K}) on validation, the geometric mean of
the two metrics this report compares on, so that a relative change in either counts the same; its
best setting was frozen for the test run.

Chosen for the server (\`DEFAULT_REC_OPTIONS\`): ${describeKnn(chosen)} denseLambda=${chosen.denseLambda}
denseKnnWeight=${chosen.denseKnnWeight} trendWeight=${chosen.trendWeight}. ${defaultsNote}

EASE^R baseline, λ (chosen: ${baselineLambda}):

| λ | val HitRate@${K} | val NDCG@${K} | √(HR·NDCG) |
|---:|---:|---:|---:|
${baselineTuning.map((t) => `| ${t.lambda} | ${pct(t.scores.hitRate)} | ${pct(t.scores.ndcg)} | ${pct(criterion(t.scores))} |`).join('\n')}

Item kNN similarity (EASE^R off), top 8 of ${grid.length} (chosen: ${describeKnn(knnChosen)}):

| setting | val HitRate@${K} | val NDCG@${K} | √(HR·NDCG) |
|---|---:|---:|---:|
${tuning
  .slice(0, 8)
  .map(
    (t) =>
      `| ${describeKnn(t.options)} | ${pct(t.scores.hitRate)} | ${pct(t.scores.ndcg)} | ${pct(criterion(t.scores))} |`,
  )
  .join('\n')}

Shipped blend with those kNN settings, top 8 of ${blendGrid.length}:

| setting | val HitRate@${K} | val NDCG@${K} | √(HR·NDCG) |
|---|---:|---:|---:|
${blendTuning
  .slice(0, 8)
  .map(
    (t) =>
      `| ${describeBlend(t.options)} | ${pct(t.scores.hitRate)} | ${pct(t.scores.ndcg)} | ${pct(criterion(t.scores))} |`,
  )
  .join('\n')}

Run time ${seconds.toFixed(0)} s on this machine (2 shared cores), of which ${(solveMs / 1000).toFixed(0)} s solving
${solves} EASE^R systems (${valSolves} on validation; the baseline and the shipped model share each
identical one).
`;

mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, report);
console.log(table);
console.log(`\n${pairTable}`);
console.log(
  `\nchosen on validation: ${describeKnn(chosen)} ${describeBlend(chosen)}; EASE^R baseline λ=${baselineLambda}`,
);
console.log(
  `cases: ${test.cases.length} test, ${val.cases.length} validation; ${seconds.toFixed(1)} s (${solves} solves, ${(solveMs / 1000).toFixed(1)} s)`,
);
console.log(`command: ${command}`);
console.log(`wrote ${relative(process.cwd(), values.out!)}`);
