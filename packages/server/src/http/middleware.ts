// The middleware every request passes, outermost first: the access log (and test faults), CORS,
// and the per-address rate limit.
import { isIP, type Socket } from 'node:net';
import type { MiddlewareHandler } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { errorBody, OmniError } from '@omnikit/protocol';
import type { ResolvedSite } from '../config/sites.js';
import type { Logger } from '../logger.js';
import type { AppContext, AppEnv, FaultHook } from './env.js';
import { injectedFault } from './errors.js';
import type { RateLimiter } from './limits.js';

const allowHeaders = 'Authorization, Content-Type, X-Omni-Key, Last-Event-ID';
const allowMethods = 'GET, POST, DELETE, OPTIONS';

/** The request's connection on @hono/node-server (undefined elsewhere, e.g. `app.request()`). */
function socketOf(c: AppContext): Socket | undefined {
  return (c.env as { incoming?: { socket?: Socket } } | undefined)?.incoming?.socket;
}

function clientIp(c: AppContext, trustProxy: boolean): string {
  if (trustProxy) {
    // The proxy appends the address it saw; entries to its left are whatever the client sent.
    const forwarded = c.req.header('x-forwarded-for')?.split(',').at(-1)?.trim();
    if (forwarded) return forwarded;
  }
  try {
    return getConnInfo(c).remote.address ?? 'unknown';
  } catch {
    // Not running on @hono/node-server (e.g. app.request() in a unit test).
    return 'unknown';
  }
}

/** Adds one to `key`'s count; past `max` distinct keys, the rest are counted as `other`. */
function count(counts: Map<string, number>, key: string, max = 20): void {
  const at = counts.has(key) || counts.size < max ? key : 'other';
  counts.set(at, (counts.get(at) ?? 0) + 1);
}

/** `key n, key n, …`, largest first. */
const byCount = (counts: Map<string, number>) =>
  [...counts]
    .sort((a, b) => b[1] - a[1])
    .map(([key, n]) => `${key} ${n}`)
    .join(', ');

/**
 * Refused requests (429) are logged as one line per interval with their counts by path and by
 * client address (what an operator needs to find a flood's source), not one line each: a flood
 * must cost neither a log write per refusal nor the log's disk.
 */
export class RefusalLog {
  private readonly counts = new Map<string, number>();
  private readonly addresses = new Map<string, number>();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly held = new Set<() => void>();
  /** The connections that have a refusal held. */
  private readonly sockets = new WeakSet<Socket>();
  private released = false;

  /**
   * `delayMs`: how long a refusal is held before it is answered (see `hold`); 0 answers at once.
   */
  constructor(
    private readonly logger: Logger,
    private readonly everyMs = 10_000,
    private readonly delayMs = 0,
  ) {}

  /**
   * Waits `delayMs` before a refusal is answered. A client over its budget has nothing to do
   * before `Retry-After` anyway, and a client that waits for its answers (every browser, most
   * flood tools) gets at most one refusal per connection per `delayMs` instead of as many as it
   * can send. A connection that sends again while a refusal of its own is held (pipelining,
   * which browsers never do) is closed. The hold ends early when the client leaves; at most
   * 10,000 are held at once (past that, answered at once), and `release()` answers them all.
   * Resolves with how long the refusal was held (ms), which its `Retry-After` no longer owes.
   */
  hold(socket?: Socket): Promise<number> {
    if (socket && this.sockets.has(socket)) {
      socket.destroy();
      return Promise.resolve(0);
    }
    if (this.delayMs <= 0 || this.released || this.held.size >= 10_000) return Promise.resolve(0);
    const start = performance.now();
    return new Promise<number>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.held.delete(done);
        if (socket) {
          this.sockets.delete(socket);
          socket.off('close', done);
        }
        resolve(performance.now() - start);
      };
      const timer = setTimeout(done, this.delayMs);
      this.held.add(done);
      if (socket) {
        this.sockets.add(socket);
        socket.once('close', done);
      }
    });
  }

  /** Answers every held refusal now, and the ones to come at once (server shutdown). */
  release(): void {
    this.released = true;
    for (const done of [...this.held]) done();
  }

  add(method: string, path: string, address: string): void {
    // Paths and addresses are the clients': past 20 distinct ones, the rest count together.
    count(this.counts, `${method} ${path}`);
    // With trustProxy the address is whatever X-Forwarded-For said: only real ones are named.
    count(this.addresses, isIP(address) ? address : 'invalid');
    this.timer ??= setTimeout(() => this.flush(), this.everyMs);
    this.timer.unref?.();
  }

  /** Logs the counts so far (if any) and starts a new interval. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.counts.size === 0) return;
    const total = [...this.counts.values()].reduce((n, k) => n + k, 0);
    const paths = byCount(this.counts);
    const addresses = byCount(this.addresses);
    this.counts.clear();
    this.addresses.clear();
    this.logger.warn('requests refused', {
      status: 429,
      count: total,
      seconds: this.everyMs / 1000,
      paths,
      addresses,
    });
  }
}

/**
 * One structured log line per request, but refusals (429) in aggregate (see `RefusalLog`).
 * Paths only: tickets ride in query strings.
 */
export function accessLog(options: {
  logger: Logger;
  refusals: RefusalLog;
  trustProxy: boolean;
  faults: FaultHook | undefined;
  /** True once the server is closing. */
  closing: () => boolean;
}): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const start = performance.now();
    c.set('ip', clientIp(c, options.trustProxy));
    const fault = options.faults?.({ method: c.req.method, path: c.req.path });
    if (fault === 'error-before') {
      c.res = injectedFault(c);
    } else {
      await next();
      if (fault === 'error-after') c.res = injectedFault(c);
    }
    // An in-flight request finishing during shutdown must not leave an idle keep-alive socket
    // behind: server.close() only closes the sockets that were idle when it was called.
    if (options.closing()) c.res.headers.set('Connection', 'close');
    if (c.res.status === 429) {
      options.refusals.add(c.req.method, c.req.path, c.get('ip'));
      const socket = socketOf(c);
      const heldMs = await options.refusals.hold(socket); // at once when the server closes
      // A client that left reads nothing: no need to rewrite its answer.
      if (heldMs > 0 && !socket?.destroyed) await lessToWait(c, heldMs);
      // Released by shutdown: the socket must not stay open for keep-alive after it.
      if (options.closing()) c.res.headers.set('Connection', 'close');
      return;
    }
    options.logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      site: c.get('site')?.config.id,
    });
  };
}

/**
 * A 429 held for `heldMs` before it was answered: its `Retry-After` (and the body's
 * `details.retryAfter`, which says the same) counts from the refusal, so the hold is taken off.
 * A client that honours it does not wait the hold twice. A 429 of another shape (an
 * extension's text answer) keeps its body; only the header changes.
 */
async function lessToWait(c: AppContext, heldMs: number): Promise<void> {
  const seconds = Number(c.res.headers.get('retry-after'));
  if (!(seconds > 0)) return;
  // Whole seconds held, never more than were: a timer may fire a fraction of a millisecond
  // before its time by performance.now(), so 999.6 ms held counts as the second it was.
  const left = Math.max(0, seconds - Math.floor(heldMs / 1000 + 0.01));
  if (c.res.headers.get('content-type')?.startsWith('application/json')) {
    try {
      const body = (await c.res.clone().json()) as {
        error?: { details?: { retryAfter?: unknown } };
      };
      const details = body?.error?.details;
      if (typeof details?.retryAfter === 'number') {
        details.retryAfter = left;
        // Hono copies the old answer's headers onto the new one: Retry-After is set below.
        c.res = new Response(JSON.stringify(body), c.res);
      }
    } catch {
      // Not JSON after all: the body stays as it was.
    }
  }
  c.res.headers.set('Retry-After', String(left));
}

/**
 * CORS: a preflight is allowed when some site lists the origin; the actual answer carries
 * Access-Control-Allow-Origin only when the site the request turned out to belong to does.
 * A preflight is answered here, so it takes its address's token here: it costs a request like
 * any other (`limitByAddress` runs after CORS, so the 429s of real requests carry CORS headers).
 */
export function cors(
  sites: ReadonlyMap<string, ResolvedSite>,
  addressLimiter: RateLimiter,
): MiddlewareHandler<AppEnv> {
  const anySiteAllows = (origin: string) =>
    [...sites.values()].some((site) => site.origins.has(origin));
  return async (c, next) => {
    const origin = c.req.header('origin');
    if (!origin) return next();
    if (c.req.method === 'OPTIONS') {
      addressLimiter.check(c.get('ip'), 'requests from this address');
      if (!anySiteAllows(origin)) {
        return c.json(
          errorBody(new OmniError('forbidden', `Origin ${origin} is not allowed`)),
          403,
        );
      }
      return new Response(null, {
        status: 204,
        headers: {
          'Access-Control-Allow-Origin': origin,
          'Access-Control-Allow-Methods': allowMethods,
          'Access-Control-Allow-Headers': allowHeaders,
          'Access-Control-Max-Age': '600',
          Vary: 'Origin',
        },
      });
    }
    await next();
    const site = c.get('site');
    if (site ? site.origins.has(origin) : anySiteAllows(origin)) {
      c.res.headers.set('Access-Control-Allow-Origin', origin);
      c.res.headers.set('Access-Control-Expose-Headers', 'Retry-After');
    }
    c.res.headers.append('Vary', 'Origin');
  };
}

/** Every request counts against its client address's bucket. */
export function limitByAddress(limiter: RateLimiter): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    limiter.check(c.get('ip'), 'requests from this address');
    await next();
  };
}
