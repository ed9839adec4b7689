// One HTTP client for every call: JSON in and out, a timeout per request, typed errors, and
// answers validated before they reach the state. The bearer token only ever goes in a header.
import { OmniError } from '@omnikit/protocol';
import { withTimeout } from './core.js';

/**
 * The network seam: how the SDK reaches the server and learns about connectivity. The default
 * uses the browser; tests (and hosts such as WebViews) can pass their own.
 */
export interface Network {
  fetch(input: string, init: RequestInit): Promise<Response>;
  /** Opens a server-sent events stream (the URL carries a one-time ticket, never a token). */
  eventSource(url: string): EventSource;
  online(): boolean;
  /** Calls `cb` when connectivity may have changed; returns the unsubscribe. */
  watch(cb: () => void): () => void;
}

/** The browser's own network: `fetch`, `EventSource`, `navigator.onLine` and its events. */
export function browserNetwork(): Network {
  return {
    fetch: (input, init) => fetch(input, init),
    eventSource: (url) => new EventSource(url),
    online: () => navigator.onLine !== false,
    watch(cb) {
      addEventListener('online', cb);
      addEventListener('offline', cb);
      return () => {
        removeEventListener('online', cb);
        removeEventListener('offline', cb);
      };
    },
  };
}

export interface Call<T> {
  method?: 'GET' | 'POST' | 'DELETE';
  body?: unknown;
  parse?: (body: unknown) => T;
  token?: string | null;
  headers?: Record<string, string>;
}

/** Sends one request to `base + path`; resolves with the parsed answer or throws an OmniError. */
export async function request<T>(
  net: Network,
  base: string,
  path: string,
  { method = 'POST', body, parse, token, headers = {} }: Call<T>,
  timeoutMs: number,
  signal: AbortSignal,
): Promise<T> {
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    // Raced too: a fetch that ignores its signal still ends at the timeout (WebKit can leave
    // one pending that a service worker never answers; the client stayed `syncing` for good).
    res = await withTimeout(
      net.fetch(base + path, {
        method,
        headers,
        body: body === undefined ? null : JSON.stringify(body),
        // AbortSignal.any is recent (Safari 17.4); without it only the timeout cancels.
        signal: AbortSignal.any?.([signal, timeout]) ?? timeout,
      }),
      timeoutMs,
    );
  } catch (cause) {
    const late = timeout.aborted || (cause as Error)?.message === 'timed out';
    throw new OmniError('network', `${path} ${late ? 'timed out' : 'is unreachable'}`, { cause });
  }
  // No body (204) or not JSON: undefined.
  const data: unknown = await res.json().catch(() => undefined);
  if (!res.ok) {
    const err = OmniError.fromBody(res.status, data);
    const retryAfter = +(res.headers.get('retry-after') ?? NaN);
    throw retryAfter >= 0
      ? new OmniError(err.code, err.message, {
          status: err.status,
          details: { retryAfterMs: retryAfter * 1000 },
        })
      : err;
  }
  if (!parse) return data as T;
  try {
    return parse(data);
  } catch (cause) {
    // A 2xx we cannot read: the request may have been applied, so retrying is the safe move
    // (every write of the protocol is idempotent).
    throw new OmniError('internal', `${path} answered a malformed body`, {
      status: res.status,
      retryable: true,
      cause,
    });
  }
}
