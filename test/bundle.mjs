// How the size scripts bundle an entry the way a site ships it: every export used (through a
// namespace), dependencies bundled, peer dependencies left out, minified with terser.
// test/size.mjs measures the built packages (dist/); test/size-modules.mjs builds the same
// bundle from the sources, with a source map, to say which module each byte came from.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import terser from '@rollup/plugin-terser';
import { rollup } from 'rollup';
import esbuild from 'rollup-plugin-esbuild';

/**
 * Bundles `entry`: a package (`@omnikit/sdk`), one of its entries (`@omnikit/sdk/ga4`), or several
 * at once (`@omnikit/sdk + @omnikit/sdk/ga4`). Resolves with rollup's output chunk (`code`, and
 * `map` with `sources`).
 */
export async function bundle(entry, { sources = false } = {}) {
  const specs = entry.split(' + ');
  const pkg = specs[0].split('/').slice(0, 2).join('/');
  const dir = `packages/${pkg.replace('@omnikit/', '')}`;
  const { peerDependencies = {} } = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8'));
  const peers = Object.keys(peerDependencies);
  const file = (spec) => {
    const sub = spec.split('/')[2] ?? 'index';
    const path = resolve(sources ? `${dir}/src/${sub}.ts` : `${dir}/dist/${sub}.js`);
    if (!existsSync(path)) throw new Error(`bundle: no such entry: ${spec} (${path})`);
    return path;
  };
  const source = specs.map((spec, i) => `export * as m${i} from ${JSON.stringify(file(spec))};`);
  const build = await rollup({
    input: 'entry',
    external: (id) => peers.some((p) => id === p || id.startsWith(`${p}/`)),
    plugins: [
      {
        name: 'entry',
        resolveId: (id) => (id === 'entry' ? id : null),
        load: (id) => (id === 'entry' ? source.join('\n') : null),
      },
      ...(sources
        ? [
            replace({ preventAssignment: true, values: { __OMNI_DEV__: 'false' } }),
            nodeResolve({ browser: true, exportConditions: ['source', 'production'] }),
            esbuild({ tsconfig: 'tsconfig.json', target: 'es2022', sourceMap: true }),
          ]
        : [nodeResolve({ browser: true, exportConditions: ['production'] })]),
    ],
    // A module that does not resolve would be left out quietly (as external): say so instead.
    onwarn: (w) => {
      if (w.code === 'UNRESOLVED_IMPORT') throw new Error(`bundle: ${w.message}`);
    },
  });
  const { output } = await build.generate({
    format: 'es',
    sourcemap: sources ? 'hidden' : false,
    plugins: [terser({ format: { comments: false } })],
  });
  await build.close();
  return output[0];
}
