// @custom-elements-manifest/analyzer: the element contracts (JSDoc in src/*.ts) become
// custom-elements.json, which `customElements` in package.json points to.
export default {
  globs: ['src/*.ts'],
  exclude: ['src/index.ts', 'src/define.ts'],
  outdir: '.',
  litelement: true,
};
