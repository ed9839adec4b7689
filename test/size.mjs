// Prints the gzip and brotli size of every public entry and of the script-tag bundle, and fails
// when one is over its budget in test/size-budgets.json. A package entry is measured the way a
// site ships it: bundled with its dependencies (peer dependencies excluded) and minified.
import { readFileSync } from 'node:fs';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';
import { bundle } from './bundle.mjs';

const { budgets } = JSON.parse(
  readFileSync(new URL('./size-budgets.json', import.meta.url), 'utf8'),
);

// Production artefacts must not carry development-only code: omnikit's dev messages are marked
// "(dev)" (createClient's list of unknown options is dev-only too) and Lit's development build
// announces itself.
const devMarkers = ['[omnikit] (dev)', 'unknown option(s)', 'Lit is in dev mode'];

const rows = [];
let failed = false;
const gz = (code) => gzipSync(code, { level: 9 }).length;
const br = (code) =>
  brotliCompressSync(code, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
for (const [key, budget] of Object.entries(budgets)) {
  // `+= X on Y`: what importing X adds to a bundle of Y (an opt-in measured on its own).
  const [, added, base] = /^\+= (.+) on (.+)$/.exec(key) ?? [];
  const entry = added ? `${base} + ${added}` : key;
  const code = entry.startsWith('@')
    ? Buffer.from((await bundle(entry)).code)
    : readFileSync(entry);
  const under = added ? Buffer.from((await bundle(base)).code) : '';
  const gzip = gz(code) - (added ? gz(under) : 0);
  const brotli = br(code) - (added ? br(under) : 0);
  const over = gzip > budget.gzip;
  const dev = devMarkers.filter((m) => code.includes(m));
  if (dev.length) console.error(`size: ${entry} contains development-only code: ${dev.join(', ')}`);
  failed ||= over || dev.length > 0;
  rows.push({
    entry: key,
    raw: code.length - under.length,
    gzip,
    brotli,
    budget: budget.gzip,
    status: over ? 'OVER BUDGET' : 'ok',
  });
}
const kb = (n) => `${(n / 1024).toFixed(2)} KB`;
const table = rows.map((r) => [
  r.entry,
  kb(r.raw),
  kb(r.gzip),
  kb(r.brotli),
  kb(r.budget),
  // Exact bytes left under the gzip budget: KB rounding hides a near miss.
  String(r.budget - r.gzip),
  r.status,
]);
const head = ['entry', 'bytes', 'gzip', 'brotli', 'gzip budget', 'left (B)', ''];
const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
const line = (cells) =>
  cells
    .map((c, i) => c.padEnd(widths[i]))
    .join('  ')
    .trimEnd();
console.log(line(head));
for (const r of table) console.log(line(r));
if (failed) {
  console.error(
    '\nsize: failed (a budget is exceeded, see test/size-budgets.json, or dev-only code shipped)',
  );
  process.exit(1);
}
