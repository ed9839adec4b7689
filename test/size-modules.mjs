// What each source module of a browser entry costs once bundled and minified: the same bundle as
// test/size.mjs measures (test/bundle.mjs), built from the sources with a source map, whose
// mappings say which module each minified character came from.
//   node test/size-modules.mjs [entry]        (default @omnikit/sdk; `npm run size:modules`)
// A module's gzip share is its minified code gzipped alone, scaled so the shares add up to the
// bundle's gzip size: gzip compresses a module better beside the others, so a share is an
// estimate of what dropping the module would save, not a measured build without it.
import { gzipSync } from 'node:zlib';
import { decode } from '@jridgewell/sourcemap-codec';
import { bundle } from './bundle.mjs';

const entry = process.argv[2] ?? '@omnikit/sdk';
const { code, map } = await bundle(entry, { sources: true });

// Each mapping segment covers its line from its column to the next segment's; a line's text
// before its first segment (a template literal's next lines) and its newline go to the source
// of the segment before.
const parts = new Map();
const lines = code.split('\n');
const add = (source, text) => parts.set(source, (parts.get(source) ?? '') + text);
let source = '(unmapped)';
decode(map.mappings).forEach((segments, l) => {
  const line = lines[l] ?? '';
  add(source, line.slice(0, segments[0]?.[0] ?? line.length));
  segments.forEach((seg, i) => {
    const end = segments[i + 1]?.[0] ?? line.length;
    source = seg.length > 1 ? map.sources[seg[1]] : '(generated)';
    add(source, line.slice(seg[0], end));
  });
  if (l < lines.length - 1) add(source, '\n');
});

const gz = (s) => gzipSync(s, { level: 9 }).length;
const total = gz(code);
const alone = [...parts]
  .filter(([, text]) => text)
  .map(([source, text]) => ({ source, bytes: text.length, alone: gz(text) }));
const sum = alone.reduce((n, r) => n + r.alone, 0);
const name = (source) => source.replace(/^(\.\.\/)*/, '').replace(/^.*node_modules\//, '');
const rows = alone
  .map((r) => ({ ...r, share: Math.round((r.alone * total) / sum) }))
  .sort((a, b) => b.share - a.share);
const width = Math.max(...rows.map((r) => name(r.source).length), 6);
// The sources' bundle is within a few bytes of the built one test/size.mjs measures.
console.log(`${entry}: ${code.length} B minified, ${total} B gzip (built from the sources)\n`);
console.log(`${'module'.padEnd(width)}  minified  gzip share`);
for (const r of rows) {
  console.log(
    `${name(r.source).padEnd(width)}  ${String(r.bytes).padStart(8)}  ${String(r.share).padStart(10)}`,
  );
}
