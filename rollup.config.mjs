// One config, an array of builds (idb's single config; Lit's shared prod-config factory):
//   - every browser package: ESM production build (dev-only code stripped), an ESM
//     `development` build with DEV_MODE on, and bundled .d.ts;
//   - the server: a Node ESM build (dependencies external) + .d.ts;
//   - the script-tag bundle packages/embed/dist/omnikit.js (+ .min.js): everything, Lit included,
//     but the handoff's QR encoder, which is omnikit-qr.js beside it, loaded when it is needed.
import { builtinModules } from 'node:module';
import { fileURLToPath } from 'node:url';
import { nodeResolve } from '@rollup/plugin-node-resolve';
import replace from '@rollup/plugin-replace';
import terser from '@rollup/plugin-terser';
import esbuild from 'rollup-plugin-esbuild';
import { dts } from 'rollup-plugin-dts';

const tsconfig = 'tsconfig.json';
const isBare = (id) => !id.startsWith('.') && !id.startsWith('/') && !id.startsWith('\0');
const nodeBuiltins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);

function plugins({ dev, browser = true, bundle = false }) {
  return [
    replace({ preventAssignment: true, values: { __OMNI_DEV__: JSON.stringify(dev) } }),
    // Bundles resolve workspace packages to their sources, so builds never depend on each other.
    bundle &&
      nodeResolve({ browser, exportConditions: ['source', dev ? 'development' : 'production'] }),
    esbuild({ tsconfig, target: browser ? 'es2022' : 'node20', minify: false, sourceMap: false }),
  ].filter(Boolean);
}

/** ESM production + development builds and types for one browser package. */
function browserPackage(name, entries = ['index']) {
  const input = Object.fromEntries(entries.map((e) => [e, `packages/${name}/src/${e}.ts`]));
  return [
    {
      input,
      external: isBare,
      plugins: plugins({ dev: false }),
      output: { dir: `packages/${name}/dist`, format: 'es', chunkFileNames: 'shared/[name].js' },
    },
    {
      input,
      external: isBare,
      plugins: plugins({ dev: true }),
      output: {
        dir: `packages/${name}/dist/development`,
        format: 'es',
        chunkFileNames: 'shared/[name].js',
      },
    },
    typesOf(name, input),
  ];
}

function typesOf(name, input) {
  return {
    input,
    external: isBare,
    plugins: [dts({ tsconfig, compilerOptions: { customConditions: [] } })],
    output: { dir: `packages/${name}/dist`, format: 'es' },
  };
}

const server = {
  input: { index: 'packages/server/src/index.ts', cli: 'packages/server/src/cli.ts' },
  external: (id) => isBare(id) || nodeBuiltins.has(id),
  plugins: plugins({ dev: false, browser: false }),
  output: { dir: 'packages/server/dist', format: 'es' },
};

/**
 * An IIFE cannot split code, so the script-tag bundle takes the elements' lazy QR encoder out by
 * hand: the module that imports it (elements/src/qr-load.ts) is replaced by the embed's, with the
 * same exports, which loads omnikit-qr.js (embedQr below) from beside the script.
 */
function qrBesideTheScript() {
  const path = (p) => fileURLToPath(new URL(p, import.meta.url));
  const elements = path('packages/elements/src/qr-load.ts');
  const embed = path('packages/embed/src/qr-load.ts');
  return {
    name: 'omnikit-qr-beside-the-script',
    async resolveId(source, importer, options) {
      if (!source.endsWith('/qr-load.js')) return null;
      const found = await this.resolve(source, importer, { ...options, skipSelf: true });
      return found?.id === elements ? embed : null;
    },
  };
}

const embedBundle = {
  input: 'packages/embed/src/omnikit.ts',
  plugins: [qrBesideTheScript(), ...plugins({ dev: false, bundle: true })],
  output: [
    { file: 'packages/embed/dist/omnikit.js', format: 'iife' },
    {
      file: 'packages/embed/dist/omnikit.min.js',
      format: 'iife',
      plugins: [
        terser({ ecma: 2020, module: false, compress: { passes: 2 }, format: { comments: false } }),
      ],
    },
  ],
};

/** The handoff's QR encoder for the script-tag bundle: an ES module, `qrPath` its one export. */
const embedQr = {
  input: 'packages/elements/src/qr.ts',
  plugins: plugins({ dev: false, bundle: true }),
  output: {
    file: 'packages/embed/dist/omnikit-qr.js',
    format: 'es',
    plugins: [terser({ ecma: 2020, module: true, format: { comments: false } })],
  },
};

export default [
  ...browserPackage('protocol'),
  ...browserPackage('sdk', ['index', 'catalog', 'ga4', 'page-product', 'handoff']),
  ...browserPackage('elements', ['index', 'define']),
  ...browserPackage('mock'),
  {
    input: 'packages/embed/src/index.ts',
    external: isBare,
    plugins: plugins({ dev: false }),
    output: { dir: 'packages/embed/dist', format: 'es' },
  },
  typesOf('embed', { index: 'packages/embed/src/index.ts' }),
  server,
  typesOf('server', { index: 'packages/server/src/index.ts' }),
  embedBundle,
  embedQr,
];
