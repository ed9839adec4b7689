// The SDK's tests at scale, in real browsers against the real server, on the built SDK
// (run `npm run build` first; `npm run test:soak` does):
//   unload       a change 0/1/5/20 ms before its tab closes, reloads or navigates away
//   outbox-kill  renderer crashes at random points during writes and pushes, 2-3 tabs
//   leader       10-20 tabs opening and closing, the leader crashing without unload
// Each prints one line of computed figures (unload: one per case and a total) and the run exits
// non-zero when a guarantee fails.
// Engines (engines.mjs): Chromium over DevTools runs all three. Firefox over WebDriver BiDi runs
// all three: its burst runs at full speed (BiDi cannot slow the CPU: `cpu1x-burst3`), and a tab
// is crashed by SIGKILL to its own content process. WebKit (MiniBrowser over classic WebDriver,
// one browser per simulated profile, back/forward cache on, see webkit.mjs)
// runs unload at full speed; a page's last events there go out as beacons and its resolved
// changes are read back from localStorage. In every engine, unload allows (counts in lost=)
// the loss of a change not yet resolved when its lone tab goes away, and fails on any other
// (unload.mjs); WebKit is where such losses were seen, in a burst 0-1 ms before its lone tab
// closes. WebKit cannot run the crash tests, and says why: `kill
// -9` of one tab's WebKitWebProcess is a real crash that the other tabs survive, but WebKit then
// ends the WebDriver session, so they can no longer be driven. Every engine found runs;
// `--engine=chromium,webkit` picks; OMNIKIT_REQUIRE_ENGINES=1 (CI) makes a missing one an error.
//   node test/soak/run.mjs                 quick mode (CI, part of `npm test`)
//   node test/soak/run.mjs --full          full mode (`npm run test:soak`)
//   --only=unload,outbox-kill,leader   --seed=<n>|random   --unload-trials=<n>   --kills=<n>
//   --leader-trials=<n>   --concurrency=<n> (unload cases run at once)
//   --cases=<substring> (only the unload cases whose id has it, e.g. close/0ms/with-tab)
//   --engine=chromium,firefox,webkit
// Seeded: every random choice (victims, delays, tab counts, churn) replays from the printed
// seed; the browser's own timing does not, which is what the trials measure.
// However a run ends (a failed case, Ctrl-C, a rejection or exception nothing handled), each
// test closes its tabs and profiles, and the run its browsers, and kills any browser process
// of its own that outlived them; an error nothing handled is printed and exits non-zero.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { soakEngines } from './engines.mjs';
import { deadline, random, startSoak } from './harness.mjs';
import { browserProcesses, identity, killSurvivors } from './processes.mjs';
import { runUnload } from './unload.mjs';
import { runOutboxKill } from './outbox-kill.mjs';
import { runLeader } from './leader.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).map((a) => {
    const [k, v] = a.replace(/^--/, '').split('=');
    return [k, v ?? 'true'];
  }),
);
const full = args.full === 'true';
const num = (key, quick, whole) => Number(args[key] ?? (full ? whole : quick));
const seedArg = args.seed ?? process.env.SOAK_SEED ?? '20261202';
const seed = seedArg === 'random' ? Date.now() % 2 ** 31 : Number(seedArg);
const only = (args.only ?? 'unload,outbox-kill,leader').split(',');
const opts = {
  unload: {
    trials: num('unload-trials', 1, 100),
    concurrency: num('concurrency', 4, 4),
    cases: args.cases,
  },
  kill: { kills: num('kills', 12, 500), perRound: full ? 10 : 6 },
  leader: { trials: num('leader-trials', 4, 200) },
};

const root = fileURLToPath(new URL('../..', import.meta.url));
for (const built of ['packages/sdk/dist/index.js', 'packages/server/dist/index.js']) {
  if (!existsSync(root + built)) {
    console.error(`soak: ${built} is missing; run \`npm run build\` first`);
    process.exit(1);
  }
}

const asked = args.engine?.split(',');
for (const name of asked ?? []) {
  if (!soakEngines[name]) {
    console.error(`soak: unknown engine "${name}": one of ${Object.keys(soakEngines).join(', ')}`);
    process.exit(2);
  }
}
const engines = asked ?? Object.keys(soakEngines);
const required = !!asked || process.env.OMNIKIT_REQUIRE_ENGINES === '1';
const missing = engines.filter((name) => !soakEngines[name].find());

console.log(`soak: mode=${full ? 'full' : 'quick'} seed=${seed} (replay: --seed=${seed})`);
const started = Date.now();
const failures = [];
/** The engine's soak under way: what a run that ends early has to close. */
let running = null;

/**
 * Ends the run early: stopped from outside (Ctrl-C, a CI timeout), or a rejection or exception
 * nothing handled (a bug of the soak's own, or a driver's). What it started goes too: the
 * soak's browsers and server, and any browser process that outlived them (WebKit's would run
 * on under init, holding their display). The first reason wins; a second one is printed.
 */
let ending = false;
async function abort(code, why, error) {
  if (error !== undefined) console.error(`soak: ${why}:`, error);
  if (ending) return;
  ending = true;
  if (error !== undefined) console.log('soak: FAILED (see the error above), cleaning up');
  try {
    await deadline(running?.close() ?? Promise.resolve(), 90000, 'closing the soak');
  } catch (e) {
    console.error(`soak: ${e.message}`);
  }
  try {
    // A process gone between the table and its /proc read has no identity (null).
    const ours = new Set(browserProcesses().map((p) => identity(p.pid)));
    ours.delete(null);
    await killSurvivors(ours);
  } finally {
    // Whatever the clean-up met, the run ends with its code (an exit left to an empty event
    // loop would be 0).
    process.exit(code);
  }
}
for (const signal of ['SIGINT', 'SIGTERM']) process.once(signal, () => abort(130));
process.on('unhandledRejection', (e) => abort(1, 'unhandled rejection', e));
process.on('uncaughtException', (e) => abort(1, 'uncaught exception', e));

/** Every engine in turn; resolves with the exit code (null when ending early). */
async function main() {
  for (const engine of engines) {
    if (missing.includes(engine)) continue;
    // Ending early: no browser may start after abort() took stock of the processes to kill.
    if (ending) return null;
    const rng = random(seed);
    // One stream per test, drawn in a fixed order, so `--only` replays a test as the whole run
    // does, in every engine.
    const seeds = { unload: rng.next(), kill: rng.next(), leader: rng.next() };
    const stream = (name) => random(Math.floor(seeds[name] * 2 ** 31));
    const tag = `${seed}:${engine}`;
    const soak = (running = await startSoak(engine));
    try {
      const runs = [
        ['unload', () => runUnload(soak, stream('unload'), { ...opts.unload, tag })],
        ['outbox-kill', () => runOutboxKill(soak, stream('kill'), { ...opts.kill, tag }), true],
        ['leader', () => runLeader(soak, stream('leader'), { ...opts.leader, tag }), true],
      ];
      for (const [name, run, crashes] of runs) {
        if (ending) return null;
        if (!only.includes(name)) continue;
        if (crashes && soak.cannotCrash) {
          console.log(`${name}: engine=${engine} not run: ${soak.cannotCrash}`);
          continue;
        }
        const t = Date.now();
        try {
          const result = await run();
          for (const line of result.lines) console.log(line);
          failures.push(...result.failures.map((f) => `[${engine}] ${f}`));
        } catch (e) {
          failures.push(`[${engine}] ${name}: ${e.stack ?? e}`);
        }
        console.log(`soak: ${name} in ${engine} took ${((Date.now() - t) / 1000).toFixed(0)} s`);
      }
    } finally {
      await soak.close();
      running = null;
    }
    failures.push(...soak.problems.map((p) => `[${engine}] ${p}`));
  }
  // Ending early (see abort): that has the last word, and the exit code.
  if (ending) return null;
  for (const name of missing) {
    const line = `soak: ${name} is not installed (${soakEngines[name].install})`;
    if (required) failures.push(line);
    else console.log(`${line}: not run`);
  }
  console.log(
    `soak: ${failures.length ? 'FAILED' : 'ok'} in ${((Date.now() - started) / 1000).toFixed(0)} s seed=${seed}`,
  );
  for (const f of failures) console.error(`soak: ${f}`);
  return failures.length ? 1 : 0;
}

main().then(
  (code) => code === null || process.exit(code),
  (e) => abort(1, 'failed', e),
);
