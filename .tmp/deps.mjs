import { rollup } from 'rollup';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import terser from '@rollup/plugin-terser';
import { gzipSync } from 'node:zlib';
async function size(src) {
  const build = await rollup({ input: 'e', plugins: [{ name: 'e', resolveId: (id) => (id === 'e' ? id : null), load: (id) => (id === 'e' ? src : null) }, nodeResolve({ browser: true, exportConditions: ['production'] })], onwarn: () => {} });
  const min = await build.generate({ format: 'es', plugins: [terser({ format: { comments: false } })] });
  return gzipSync(min.output[0].code, { level: 9 }).length;
}
const p = "'/work/wt-sdk/packages/protocol/dist/index.js'";
console.log('idb openDB', await size(`export { openDB } from 'idb';`));
console.log('protocol used', await size(`export { LIMITS, OmniError, applyMutation, emptyState, lineKey, parsePoke, parseSnapshot, rebase, validateMutation, withOptions, ErrorCode } from ${p};`));
console.log('both', await size(`export { openDB } from 'idb'; export { LIMITS, OmniError, applyMutation, emptyState, lineKey, parsePoke, parseSnapshot, rebase, validateMutation, withOptions, ErrorCode } from ${p};`));
for (const f of ['parsePoke','parseSnapshot','validateMutation','rebase','applyMutation','OmniError','ErrorCode'])
  console.log(f, await size(`export { ${f} } from ${p};`));
