// Runs every test/bench/*.bench.ts (and *.bench.mjs) with tsx and the `source` export condition,
// printing each script's figures under the exact command that produced them.
// Usage: node test/bench/run.mjs [name-filter...]   (DATABASE_URL selects the PostgreSQL used)
import { readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const root = join(dir, '..', '..');
const only = process.argv.slice(2);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith('.bench.ts') || f.endsWith('.bench.mjs'))
  .filter((f) => only.length === 0 || only.some((o) => f.includes(o)))
  .sort();
let failed = 0;
for (const file of benches) {
  const args = ['--conditions=source', '--import', 'tsx', relative(root, join(dir, file))];
  console.log(`\n$ node ${args.join(' ')}`);
  const result = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    failed++;
    console.log(`bench ${file} failed (exit ${result.status})`);
  }
}
process.exit(failed ? 1 : 0);
