// The server's OpenAPI document and a validator of answers against it. This is the ONE place
// that knows where the document lives: the core document plus, while they exist, the fragments
// merged into it (paths and components.schemas), as the server's own openapi test merges them.
import { existsSync, readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';

const serverDir = new URL('../../packages/server/', import.meta.url);
const documentPath = 'openapi.json';
const fragmentPaths = ['src/commerce/openapi.json'];

type Json = Record<string, unknown>;
interface Operation {
  operationId: string;
  responses: Record<string, { content?: Record<string, Json>; headers?: Json }>;
}
export interface OpenApiDoc {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown> };
}

const read = (path: string): Json =>
  JSON.parse(readFileSync(new URL(path, serverDir), 'utf8')) as Json;

/** The whole API as one document. */
export function loadOpenApi(): OpenApiDoc {
  const doc = read(documentPath) as unknown as OpenApiDoc;
  for (const path of fragmentPaths) {
    if (!existsSync(new URL(path, serverDir))) continue;
    const fragment = read(path) as unknown as Partial<OpenApiDoc>;
    doc.paths = { ...doc.paths, ...fragment.paths };
    doc.components.schemas = { ...doc.components.schemas, ...fragment.components?.schemas };
  }
  return doc;
}

export const openapi = loadOpenApi();

/** Every operation of the document: `operationId` -> method and path. */
export const operations = new Map(
  Object.entries(openapi.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([, op]) => typeof op === 'object' && 'responses' in op)
      .map(([method, op]) => [op.operationId, { method: method.toUpperCase(), path }] as const),
  ),
);

// OpenAPI 3.1 schemas are JSON Schema 2020-12. `strict: false` lets the document's own keywords
// (`x-event-data`, OpenAPI fields around the schemas) through; formats (`uri`) are checked.
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats.default(ajv);
ajv.addSchema(openapi, 'openapi');

const compiled = new Map<string, ValidateFunction>();
const pointer = (...parts: string[]) =>
  parts.map((p) => p.replace(/~/g, '~0').replace(/\//g, '~1')).join('/');

function validator(...parts: string[]): ValidateFunction {
  const ref = `openapi#/${pointer(...parts)}`;
  let v = compiled.get(ref);
  if (!v) compiled.set(ref, (v = ajv.compile({ $ref: ref })));
  return v;
}

/** How many answers of each operation were validated in this process. */
export const validated = new Map<string, number>();

export interface Answer {
  method: string;
  /** The URL path, e.g. `/v1/sync/push` (no query). */
  path: string;
  status: number;
  headers: Headers;
  /** Parsed JSON, or the text when not JSON, or null when empty. */
  body: unknown;
}

/**
 * Throws unless the answer is one the document describes: a documented status for the
 * operation, a body that matches its schema (or none when it has no content), and an integer
 * Retry-After where the document declares one.
 */
export function checkAnswer(answer: Answer): void {
  const op = openapi.paths[answer.path]?.[answer.method.toLowerCase()];
  const where = `${answer.method} ${answer.path} ${answer.status}`;
  if (!op) throw new Error(`${where}: not an operation of the OpenAPI document`);
  const doc = op.responses[String(answer.status)];
  if (!doc) throw new Error(`${where}: status not documented for ${op.operationId}`);
  const json = doc.content?.['application/json'];
  if (json) {
    const type = answer.headers.get('content-type') ?? '';
    if (!type.startsWith('application/json')) throw new Error(`${where}: content-type ${type}`);
    const v = validator(
      'paths',
      answer.path,
      answer.method.toLowerCase(),
      'responses',
      String(answer.status),
      'content',
      'application/json',
      'schema',
    );
    if (!v(answer.body)) {
      throw new Error(
        `${where}: body does not match the document: ${ajv.errorsText(v.errors)}\n${JSON.stringify(answer.body).slice(0, 500)}`,
      );
    }
  } else if (!doc.content && answer.body !== null && answer.body !== '') {
    throw new Error(`${where}: the document describes no body, got ${String(answer.body)}`);
  }
  if (doc.headers?.['Retry-After'] && !/^\d+$/.test(answer.headers.get('retry-after') ?? '')) {
    throw new Error(
      `${where}: Retry-After must be an integer, got ${answer.headers.get('retry-after')}`,
    );
  }
  validated.set(op.operationId, (validated.get(op.operationId) ?? 0) + 1);
}

/** Throws unless `data` (one event of a stream) matches the stream's documented event data. */
export function checkEvent(path: string, data: unknown): void {
  const v = validator(
    'paths',
    path,
    'get',
    'responses',
    '200',
    'content',
    'text/event-stream',
    'x-event-data',
  );
  if (!v(data)) {
    throw new Error(`${path} event: does not match the document: ${ajv.errorsText(v.errors)}`);
  }
}
