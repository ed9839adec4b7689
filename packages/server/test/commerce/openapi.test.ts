import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startCommerceServer } from './helpers.js';

type Doc = {
  paths: Record<string, Record<string, { operationId?: string; responses?: object }>>;
  components?: { schemas?: Record<string, unknown> };
};

const load = async (path: string) =>
  JSON.parse(await readFile(new URL(path, import.meta.url), 'utf8')) as Doc;

test('the OpenAPI fragment documents exactly the routes the extension adds', async (t) => {
  const core = await load('../../openapi.json');
  const fragment = await load('../../src/commerce/openapi.json');
  const server = await startCommerceServer();
  t.after(() => server.close());
  const ops = (doc: Doc) =>
    Object.entries(doc.paths).flatMap(([path, o]) =>
      Object.keys(o).map((method) => `${method.toUpperCase()} ${path}`),
    );
  const served = server.app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => `${r.method} ${r.path}`);
  const coreOps = new Set(ops(core));
  assert.deepEqual(
    [...new Set(served.filter((op) => !coreOps.has(op)))].sort(),
    ops(fragment).sort(),
  );
  for (const [path, o] of Object.entries(fragment.paths)) {
    for (const [method, op] of Object.entries(o)) {
      assert.ok(op.operationId && op.responses, `${method} ${path}`);
    }
  }
  // Every $ref resolves in the fragment or in the core document it is merged into.
  const schemas = { ...core.components?.schemas, ...fragment.components?.schemas };
  const refs = JSON.stringify(fragment).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of new Set(refs)) assert.ok(ref.split('/').pop()! in schemas, ref);
});
