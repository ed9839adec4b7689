// Compares the server benches of two checkouts, interleaved (A B B A A B ...), so that a load
// that comes and goes on a shared machine falls on both alike. Prints, per figure, the median of
// each side and the median of the per-round ratios B/A.
//   node test/bench/ab.mjs <checkout A> <checkout B> [--rounds=4] [--benches=sync,poke,commerce-api]
// Each checkout needs its own `npm ci`; DATABASE_URL selects the PostgreSQL both use.
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const positional = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const flags = Object.fromEntries(
  process.argv
    .slice(2)
    .filter((a) => a.startsWith('--'))
    .map((a) => a.slice(2).split('=')),
);
if (positional.length !== 2) {
  console.error(
    'usage: node test/bench/ab.mjs <checkout A> <checkout B> [--rounds=N] [--benches=a,b]',
  );
  process.exit(2);
}
const [dirA, dirB] = positional.map((d) => resolve(d));
const rounds = Number(flags.rounds ?? 4);
const benches = (flags.benches ?? 'sync,poke,commerce-api').split(',');

/** The figures a bench printed, by name; `higher` says whether more is better. */
function figures(out) {
  const found = [];
  let section = '';
  for (const line of out.split('\n')) {
    let m;
    if ((m = /^(\w+): demo seeded/.exec(line.trim()))) section = m[1];
    if ((m = /^push (\w+): median ([\d.]+) mutations\/s/.exec(line)))
      found.push([`push ${m[1]} (mutations/s)`, Number(m[2]), true]);
    else if ((m = /^(pull|poke) (\w+): p50 ([\d.]+) ms, p95 ([\d.]+) ms/.exec(line))) {
      found.push([`${m[1]} ${m[2]} p50 (ms)`, Number(m[3]), false]);
      found.push([`${m[1]} ${m[2]} p95 (ms)`, Number(m[4]), false]);
    } else if ((m = /^\| (GET [^|]+?) \| ([\d.]+) \| ([\d.]+) \|$/.exec(line))) {
      found.push([`${section} ${m[1]} p50 (ms)`, Number(m[2]), false]);
      found.push([`${section} ${m[1]} p95 (ms)`, Number(m[3]), false]);
    }
  }
  return found;
}

/**
 * Runs one bench in `dir`. Besides its own figures, the CPU seconds (user + system) of the bench
 * and its server child for the bench's fixed amount of work: less disturbed by other load on
 * the machine than latencies are, since waiting for a core does not count.
 */
function run(dir, bench) {
  const node = `${JSON.stringify(process.execPath)} --conditions=source --import tsx test/bench/${bench}.bench.ts`;
  // bash's `times` prints the CPU time of the commands it waited for, on its second line.
  const r = spawnSync('bash', ['-c', `${node}; s=$?; times >&2; exit $s`], {
    cwd: dir,
    encoding: 'utf8',
    env: process.env,
    timeout: 15 * 60_000,
  });
  if (r.status !== 0) {
    // One failed run (a reset connection on a loaded machine) leaves a hole, not a lost comparison.
    const why =
      (r.stderr ?? '').split('\n').find((l) => /Error/.test(l)) ??
      r.error?.message ??
      `exit ${r.status}`;
    failures.push(`${bench} in ${dir}: ${why.trim()}`);
    console.log(`ab: ${failures.at(-1)}`);
    return [];
  }
  const cpu = r.stderr.trim().split('\n').at(-1).split(/\s+/).map(seconds);
  return [...figures(r.stdout), [`${bench}: CPU, bench + server (s)`, cpu[0] + cpu[1], false]];
}

/** `1m2.500s` as seconds. */
function seconds(text) {
  const [, m, s] = /^(\d+)m([\d.]+)s$/.exec(text) ?? [];
  if (m === undefined) throw new Error(`not a time: ${text}`);
  return Number(m) * 60 + Number(s);
}

/** The rounds that printed the figure (a run that did not leaves a hole; 0 is a figure). */
const present = (xs) => xs.filter((x) => x !== undefined);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
};

const failures = [];

/** The table so far: printed after every round, so a run stopped early still reports. */
function print(done) {
  console.log(`\nA = ${dirA}\nB = ${dirB}\n${done} of ${rounds} interleaved rounds\n`);
  if (failures.length) console.log(`failed runs (holes in the table): ${failures.length}\n`);
  console.log('| figure | A median | B median | B/A (median of rounds) | B is |');
  console.log('|---|---:|---:|---:|---|');
  for (const [name, { higher, a, b }] of series) {
    const ratios = a.flatMap((x, i) => (x !== undefined && b[i] !== undefined ? [b[i] / x] : []));
    const fig = (xs) => (xs.length ? median(xs).toFixed(2) : '-');
    if (!ratios.length) {
      console.log(`| ${name} | ${fig(present(a))} | ${fig(present(b))} | - | no round has both |`);
      continue;
    }
    const ratio = median(ratios);
    const better = higher ? ratio >= 1 : ratio <= 1;
    const change = Math.abs(ratio - 1) * 100;
    console.log(
      `| ${name} | ${fig(present(a))} | ${fig(present(b))} | ${ratio.toFixed(3)} | ` +
        `${change < 5 ? 'same (<5%)' : `${change.toFixed(0)}% ${better ? 'better' : 'worse'}`} |`,
    );
  }
}

const series = new Map(); // name -> { higher, a: [], b: [] }, indexed by round
for (let round = 0; round < rounds; round++) {
  const order = round % 2 === 0 ? ['a', 'b'] : ['b', 'a'];
  for (const bench of benches) {
    for (const side of order) {
      for (const [name, value, higher] of run(side === 'a' ? dirA : dirB, bench)) {
        const s = series.get(name) ?? { higher, a: [], b: [] };
        s[side][round] = value; // by round: a figure missing from one run shifts no other
        series.set(name, s);
      }
    }
  }
  console.log(`ab: round ${round + 1} of ${rounds} done`);
  print(round + 1);
}
// A comparison with holes is still printed, but does not pass as a clean run.
if (failures.length) process.exitCode = 1;
