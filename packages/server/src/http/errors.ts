// How failures leave the server: every error is `{ error: { code, message, details? } }`, an
// OmniError with its own status, anything else a bare 500 that says nothing about the cause.
import type { Context } from 'hono';
import { errorBody, OmniError } from '@omnikit/protocol';
import type { Logger } from '../logger.js';

/**
 * The 401 for a well-formed token of a device the server does not know (never registered, or
 * lost with a database restored from a backup). `details.reason` tells clients to start a new
 * device rather than retry; other 401s (a missing header, a site no longer configured, a bad
 * customer token) do not carry it.
 */
export const unknownDevice = (): OmniError =>
  new OmniError('unauthorized', 'Unknown device token', { details: { reason: 'unknown_device' } });

/** The answer for an OmniError: its status, `Retry-After` on 429, and no keep-alive on 413. */
export function errorResponse(c: Context, err: OmniError): Response {
  const retryAfter = (err.details as { retryAfter?: unknown } | undefined)?.retryAfter;
  if (err.code === 'rate_limited' && typeof retryAfter === 'number') {
    c.header('Retry-After', String(retryAfter));
  }
  // The rest of an oversized body is never read: the connection cannot carry another request.
  if (err.code === 'payload_too_large') c.header('Connection', 'close');
  return c.json(errorBody(err), err.status as 400);
}

/** `app.onError`: OmniErrors as they are, anything else logged and hidden behind a 500. */
export function handleError(logger: Logger): (err: Error, c: Context) => Response {
  return (err, c) => {
    if (err instanceof OmniError) return errorResponse(c, err);
    logger.error('unhandled error', {
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? err.message : String(err),
    });
    return c.json(errorBody(new OmniError('internal', 'Internal error')), 500);
  };
}

/** `app.notFound`: a 404 in the same error shape as every other answer. */
export function notFound(c: Context): Response {
  return c.json(
    errorBody(new OmniError('not_found', `No route ${c.req.method} ${c.req.path}`)),
    404,
  );
}

/** A 500 injected by a test's fault hook. */
export function injectedFault(c: Context): Response {
  return c.json(errorBody(new OmniError('internal', 'Injected fault')), 500);
}
