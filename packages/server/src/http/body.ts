// The one way request bodies are read: a hard byte cap counted as the bytes arrive, then for JSON
// a bound on nesting and members before parsing. Every route that takes a body goes through here.
import type { Context } from 'hono';
import { LIMITS, OmniError } from '@omnikit/protocol';

/**
 * Reads a body as text with a hard cap, counting bytes as they arrive so an oversized or lying
 * `Content-Length` never makes the server buffer more than `maxBytes`.
 */
export async function readBodyText(request: Request, maxBytes: number): Promise<string> {
  const tooLarge = () =>
    new OmniError('payload_too_large', `Request body exceeds ${maxBytes} bytes`, {
      details: { maxBytes },
    });
  const declared = request.headers.get('content-length');
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge();
  if (declared !== null) {
    // The HTTP parser delivers exactly Content-Length bytes, already checked against the cap;
    // text() also takes @hono/node-server's fast path that skips Web streams.
    return request.text();
  }
  if (!request.body) return '';
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge();
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** How much structure one JSON body may have, counted before it is parsed. */
export interface JsonLimits {
  /** Largest body, in bytes. */
  maxBytes: number;
  /** Deepest nesting of arrays and objects (a flat object is depth 1). */
  maxDepth: number;
  /** Object members across the whole body. */
  maxKeys: number;
}

/**
 * Counts a JSON text's nesting depth and object members in one pass, outside strings: a
 * hostile body is refused before `JSON.parse` builds it and before any code walks it.
 * Returns the first limit passed, or undefined. Malformed text is left to `JSON.parse`.
 */
export function jsonShapeProblem(
  text: string,
  limits: Pick<JsonLimits, 'maxDepth' | 'maxKeys'>,
): 'depth' | 'keys' | undefined {
  let depth = 0;
  let keys = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 0x5c)
        i++; // backslash: skip the escaped character
      else if (ch === 0x22) inString = false;
      continue;
    }
    if (ch === 0x22) inString = true;
    else if (ch === 0x7b || ch === 0x5b) {
      if (++depth > limits.maxDepth) return 'depth';
    } else if (ch === 0x7d || ch === 0x5d) depth--;
    else if (ch === 0x3a && ++keys > limits.maxKeys) return 'keys';
  }
  return undefined;
}

/** The bounds of every JSON body unless a route gives its own: deep enough for any valid one. */
export const defaultJsonLimits: Readonly<JsonLimits> = {
  maxBytes: LIMITS.maxBodyBytes,
  maxDepth: 32,
  maxKeys: 50_000,
};

/**
 * Reads a JSON body bounded in size (413), nesting depth (400) and object members (413) before
 * it is parsed; empty is `undefined`.
 */
export async function readJsonBody(
  request: Request,
  limits: Partial<JsonLimits> = {},
): Promise<unknown> {
  const { maxBytes, maxDepth, maxKeys } = { ...defaultJsonLimits, ...limits };
  const text = await readBodyText(request, maxBytes);
  if (text.length === 0) return undefined;
  const problem = jsonShapeProblem(text, { maxDepth, maxKeys });
  if (problem === 'depth') {
    throw new OmniError('invalid_argument', `JSON nested deeper than ${maxDepth} levels`, {
      details: { maxDepth },
    });
  }
  if (problem === 'keys') {
    throw new OmniError('payload_too_large', `JSON with more than ${maxKeys} object members`, {
      details: { maxKeys },
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OmniError('invalid_argument', 'Request body is not valid JSON');
  }
}

/** The request's JSON body, bounded (see {@link readJsonBody}) before parsing. */
export function readJson(c: Context, limits: Partial<JsonLimits> = {}): Promise<unknown> {
  return readJsonBody(c.req.raw, limits);
}
