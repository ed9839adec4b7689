// A web-test-runner reporter that names the engine: after the run it lists every failure as
// `✗ [Firefox] file: suite > test: message`, and, when OMNIKIT_RESULTS names a file, writes the
// run's counts, failures and figure lines there (JSON) for browser/run.mjs's per-engine summary.
import { writeFileSync } from 'node:fs';

/** A randomized test's or a measurement's one line of figures: `name: key=value key=value`. */
const figures = /^[a-z][\w-]*: (\S+=\S+ ?)+$/;

function* flatten(results, path = []) {
  for (const t of results?.tests ?? []) yield { name: [...path, t.name].join(' > '), test: t };
  for (const s of results?.suites ?? []) yield* flatten(s, [...path, s.name]);
}

/**
 * The error's first line, plus the lines that say why when the first does not: a fast-check
 * failure's first line only says "Property failed after N tests"; its counterexample and the
 * error it got follow.
 */
function firstLine(error) {
  const lines = String(error?.message ?? error ?? 'failed').split('\n');
  const why = lines
    .slice(1)
    .filter((l) => /^(Counterexample|Shrunk|Got )/.test(l))
    .map((l) => l.trim().slice(0, 400));
  return [lines[0], ...why].join(' | ');
}

export function engineReporter({ label, resultsFile }) {
  return {
    onTestRunFinished({ sessions }) {
      let passed = 0;
      let failed = 0;
      const failures = [];
      const lines = [];
      for (const session of sessions) {
        for (const { name, test } of flatten(session.testResults)) {
          if (test.skipped) continue;
          if (test.passed) passed++;
          else {
            failed++;
            failures.push(`${session.testFile}: ${name}: ${firstLine(test.error)}`);
          }
        }
        // A file that failed outside its tests (a hook, a load error, a timeout).
        for (const error of session.errors ?? []) {
          failures.push(`${session.testFile}: ${firstLine(error)}`);
        }
        for (const args of session.logs ?? []) {
          const text = args.map(String).join(' ');
          if (figures.test(text)) lines.push(text);
        }
      }
      if (failures.length) {
        console.log(`\n${failures.length} failure(s) in ${label}:`);
        for (const f of failures) console.log(`  ✗ [${label}] ${f}`);
      }
      if (resultsFile) {
        writeFileSync(
          resultsFile,
          JSON.stringify({ engine: label, passed, failed, failures, lines }, null, 2),
        );
      }
    },
  };
}
