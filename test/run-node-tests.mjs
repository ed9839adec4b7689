// Runs every node:test file of the server-side packages with TypeScript sources (tsx) and the
// `source` export condition, so tests exercise src/ without a build. Extra args pass through.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

// test/browser/*.node.ts drive Chromium from Node (pages with their own headers and origins);
// web-test-runner runs the *.test.ts there.
const roots = [
  ['packages/protocol/test', '.test.ts'],
  ['packages/server/test', '.test.ts'],
  ['test/node', '.test.ts'],
  ['test/contract', '.test.ts'],
  ['test/browser', '.node.ts'],
  // The soak's own logic on fake tabs (its browser runs are test/soak/run.mjs).
  ['test/soak', '.test.mjs'],
];
const files = roots.flatMap(([root, suffix]) => {
  try {
    return readdirSync(root, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith(suffix))
      .map((f) => join(root, f));
  } catch {
    return [];
  }
});
const only = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const selected = only.length ? files.filter((f) => only.some((o) => f.includes(o))) : files;
const flags = process.argv.slice(2).filter((a) => a.startsWith('--'));
const result = spawnSync(
  process.execPath,
  [
    '--conditions=source',
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    ...flags,
    ...selected.sort(),
  ],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
