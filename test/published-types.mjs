// Checks what each package would publish, the way a consumer's TypeScript sees it: packs it
// (npm pack) and runs "Are the types wrong?" (attw) under node16 and bundler resolution.
// The packages are ESM-only, so CommonJS `require` resolutions are out of scope. The embed
// package's `omnikit.js` files are script-tag bundles (no module, no types) and `omnikit-qr.js`
// the module they load beside them (no types): skipped.
// Needs a build first (`npm run build`); `npm run check:published` does both.
import { readdirSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const skip = { embed: ['./omnikit.js', './omnikit.min.js', './omnikit-qr.js'] };
let failed = false;
for (const name of readdirSync('packages').sort()) {
  const args = ['attw', '--pack', `packages/${name}`, '--profile', 'esm-only', '--format', 'ascii'];
  if (skip[name]) args.push('--exclude-entrypoints', ...skip[name]);
  const run = spawnSync('npx', args, { encoding: 'utf8' });
  const ok = run.status === 0;
  failed ||= !ok;
  console.log(`published types: @omnikit/${name} ${ok ? 'ok' : 'PROBLEMS'}`);
  if (!ok) console.log(run.stdout, run.stderr);
}
process.exit(failed ? 1 : 0);
