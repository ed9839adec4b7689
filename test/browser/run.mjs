// Runs the browser suite in every engine installed here (Chromium, Firefox, WebKit), one engine
// after the other, each in its own web-test-runner run with its own server, then prints one
// summary: per engine the tests passed and failed, the time taken, the randomized tests' figure
// lines, and which engines are not installed and how to install them.
//   node test/browser/run.mjs [--engine chromium|firefox|webkit]... [web-test-runner args]
// `--engine` (repeatable, or comma-separated) picks engines; an engine asked for by name must be
// installed. OMNIKIT_REQUIRE_ENGINES=1 (CI) makes any missing engine an error.
// `npm run test:browser -- --engine firefox --files packages/sdk/test/sync.test.ts`
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { engines, selectEngines } from './engines.mjs';

const require = createRequire(import.meta.url);
const root = fileURLToPath(new URL('../..', import.meta.url));
// The package's main module sits next to its CLI (dist/index.js, dist/bin.js).
const wtr = join(dirname(require.resolve('@web/test-runner')), 'bin.js');

const { selected, required, rest } = selectEngines(process.argv.slice(2));

const tmp = mkdtempSync(join(tmpdir(), 'omnikit-engines-'));
const rows = [];
for (const name of selected) {
  const engine = engines[name];
  if (!engine.find()) {
    rows.push({ name, engine, missing: true });
    continue;
  }
  console.log(`\n== browser tests in ${engine.label} ==\n`);
  const resultsFile = join(tmp, `${name}.json`);
  const started = Date.now();
  const run = spawnSync(
    process.execPath,
    [wtr, '--config', 'test/web-test-runner.config.mjs', ...rest],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, OMNIKIT_ENGINE: name, OMNIKIT_RESULTS: resultsFile },
    },
  );
  let results = null;
  try {
    results = JSON.parse(readFileSync(resultsFile, 'utf8'));
  } catch {
    // The run ended before reporting (it could not start the browser, say): the exit code tells.
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

console.log('\nbrowser tests by engine:');
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
  console.log(
    `  ${label} ${code === 0 ? 'ok  ' : 'FAIL'} ${counts}, ${seconds.toFixed(0)} s${code !== 0 && results && !results.failed ? ` (exit ${code})` : ''}`,
  );
  for (const line of results?.lines ?? []) console.log(`            ${line}`);
  for (const [file, why] of Object.entries(engine.notYet ?? {}))
    console.log(`            not yet in ${engine.label}: ${file} (${why})`);
  for (const f of results?.failures ?? []) console.log(`            ✗ [${engine.label}] ${f}`);
}
const missing = rows.filter((r) => r.missing);
if (missing.length) {
  console.log(
    `\n${missing.map((r) => r.engine.label).join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed, so ${missing.length > 1 ? 'they were' : 'it was'} not tested.` +
      ` On Debian/Ubuntu: ${missing.map((r) => r.engine.install).join('; ')}.` +
      (required ? '' : ' Set OMNIKIT_REQUIRE_ENGINES=1 to make this an error.'),
  );
}
process.exit(failed ? 1 : 0);
