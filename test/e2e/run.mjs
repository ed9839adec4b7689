// Runs the end-to-end journeys (journeys.test.ts) in every engine installed here (Chromium,
// Firefox, WebKit), one engine after the other, each in its own node:test run with its own
// demo server (OMNIKIT_ENGINE tells the run which), then prints one summary: per engine the
// journeys passed and failed and the time taken, and which engines are not installed and how to
// install them. The same rules as the browser suite (test/browser/run.mjs):
//   node test/e2e/run.mjs [--engine chromium|firefox|webkit]...
// `--engine` (repeatable, or comma-separated) picks engines; an engine asked for by name must be
// installed. OMNIKIT_REQUIRE_ENGINES=1 (CI) makes any missing engine an error.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engines, selectEngines } from '../browser/engines.mjs';

const root = fileURLToPath(new URL('../..', import.meta.url));

const { selected, required, rest } = selectEngines(process.argv.slice(2));
if (rest.length) {
  console.error(`unknown argument "${rest[0]}": node test/e2e/run.mjs [--engine name]...`);
  process.exit(2);
}

const tmp = mkdtempSync(join(tmpdir(), 'omnikit-e2e-'));
const rows = [];
for (const name of selected) {
  const engine = engines[name];
  if (!engine.find()) {
    rows.push({ name, engine, missing: true });
    continue;
  }
  console.log(`\n== end-to-end journeys in ${engine.label} ==\n`);
  const tap = join(tmp, `${name}.tap`);
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [
      '--import',
      'tsx',
      '--test',
      '--test-concurrency=1',
      '--test-reporter=spec',
      '--test-reporter-destination=stdout',
      '--test-reporter=tap',
      `--test-reporter-destination=${tap}`,
      'test/e2e/journeys.test.ts',
      // The back/forward cache: the next page never stalls behind a cached one.
      ...(name === 'webkit' ? ['test/e2e/webkit-bfcache.test.ts'] : []),
      ...(name !== 'webkit' ? ['test/e2e/bfcache-upgrade.test.ts'] : []),
    ],
    { cwd: root, stdio: 'inherit', env: { ...process.env, OMNIKIT_ENGINE: name } },
  );
  let results = null;
  try {
    const text = readFileSync(tap, 'utf8');
    const count = (what) => Number(new RegExp(`^# ${what} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
    // The journeys' own lines (indented once, under the suite), and the file's (a failed hook).
    const failures = [...text.matchAll(/^(?: {4})?not ok \d+ - (.*)$/gm)]
      .map((m) => m[1])
      .filter((t) => !t.startsWith('omnichannel journeys'));
    results = { passed: count('pass'), failed: count('fail'), failures };
  } catch {
    // The run ended before reporting: the exit code tells.
  }
  rows.push({
    name,
    engine,
    code: run.status ?? 1,
    seconds: (Date.now() - started) / 1000,
    results,
  });
}
rmSync(tmp, { recursive: true, force: true });

console.log('\nend-to-end journeys by engine:');
let failed = false;
for (const { engine, missing, code, seconds, results } of rows) {
  const label = engine.label.padEnd(9);
  if (missing) {
    failed ||= required;
    console.log(`  ${label} NOT INSTALLED: ${engine.install}`);
    continue;
  }
  failed ||= code !== 0;
  const counts = results
    ? `${results.passed} passed, ${results.failed} failed`
    : 'no results (the run did not finish)';
  console.log(`  ${label} ${code === 0 ? 'ok  ' : 'FAIL'} ${counts}, ${seconds.toFixed(0)} s`);
  for (const f of results?.failures ?? []) console.log(`            ✗ [${engine.label}] ${f}`);
}
const missing = rows.filter((r) => r.missing);
if (missing.length) {
  console.log(
    `\n${missing.map((r) => r.engine.label).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed, so the journeys did not run there.` +
      ` On Debian/Ubuntu: ${missing.map((r) => r.engine.install).join('; ')}.` +
      (required ? '' : ' Set OMNIKIT_REQUIRE_ENGINES=1 to make this an error.'),
  );
}
process.exit(failed ? 1 : 0);
