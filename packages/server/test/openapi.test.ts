// The published API document: one valid OpenAPI 3.1 document (checked by a standard validator)
// that describes exactly the routes a server with the commerce extension serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import SwaggerParser from '@apidevtools/swagger-parser';
import { startCommerceServer } from './commerce/helpers.js';

type Doc = {
  openapi: string;
  paths: Record<string, Record<string, { operationId?: string; responses?: object }>>;
};

const load = async () =>
  JSON.parse(await readFile(new URL('../openapi.json', import.meta.url), 'utf8')) as Doc;

test('openapi.json is one valid OpenAPI 3.1 document', async () => {
  const doc = await load();
  assert.equal(doc.openapi, '3.1.0');
  // Validates the document against the OpenAPI 3.1 schema and resolves every $ref in it.
  await SwaggerParser.validate(doc as unknown as Parameters<typeof SwaggerParser.validate>[0]);
});

test('openapi.json documents exactly the routes the server serves', async (t) => {
  const doc = await load();
  const server = await startCommerceServer();
  t.after(() => server.close());
  const documented = new Set(
    Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((method) => `${method.toUpperCase()} ${path}`),
    ),
  );
  // Middleware is registered as ALL '*'; every concrete route must be documented.
  const served = new Set(
    server.app.routes
      .filter((r) => r.method !== 'ALL')
      .map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`),
  );
  assert.deepEqual([...served].sort(), [...documented].sort());

  for (const key of documented) {
    const [method, path] = key.split(' ') as [string, string];
    const op = doc.paths[path]?.[method.toLowerCase()];
    assert.ok(op?.operationId && op.responses, `${key} has an operationId and responses`);
    const res = await server.api.call(method, path);
    const body = JSON.stringify(res.body);
    assert.ok(!body.includes('No route'), `${key} is routed (got ${res.status} ${body})`);
    assert.ok(res.status < 500, `${key} answers without a 5xx`);
  }
});
