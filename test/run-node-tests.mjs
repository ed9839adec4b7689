// Runs every node:test file of the server-side packages with TypeScript sources (tsx) and the
// `source` export condition, so tests exercise src/ without a build. Extra args pass through.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

const roots = ['packages/protocol/test', 'packages/server/test', 'test/node', 'test/contract'];
const files = roots.flatMap((root) => {
  try {
    return readdirSync(root, { recursive: true })
      .map(String)
      .filter((f) => f.endsWith('.test.ts'))
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
