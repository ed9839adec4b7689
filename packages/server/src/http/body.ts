// The one way request bodies are read: a hard byte cap counted as the bytes arrive, then JSON
// parsing. Every route that takes a body goes through here.
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

/** Reads a JSON body with a hard cap (see {@link readBodyText}); empty is `undefined`. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  const text = await readBodyText(request, maxBytes);
  if (text.length === 0) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new OmniError('invalid_argument', 'Request body is not valid JSON');
  }
}

/** The request's JSON body, size-limited before parsing. */
export function readJson(c: Context, maxBytes: number = LIMITS.maxBodyBytes): Promise<unknown> {
  return readJsonBody(c.req.raw, maxBytes);
}
