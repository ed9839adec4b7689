// Request limits that live in memory, per instance: token buckets for request rates and slots
// for long-lived things (event streams). The limits a deployment may tune, with their defaults.
import { OmniError } from '@omnikit/protocol';

export interface BucketOptions {
  /** Requests allowed in a burst. */
  capacity: number;
  /** Tokens added back per second. */
  refillPerSecond: number;
}

/** Token buckets per key (device id, IP...), in memory: limits are per instance. */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly options: BucketOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Takes one token for `key`; returns 0 when allowed, else the seconds to wait. */
  take(key: string): number {
    const now = this.now();
    const { capacity, refillPerSecond } = this.options;
    const bucket = this.buckets.get(key) ?? { tokens: capacity, at: now };
    bucket.tokens = Math.min(
      capacity,
      bucket.tokens + ((now - bucket.at) / 1000) * refillPerSecond,
    );
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      this.buckets.set(key, bucket);
      if (this.buckets.size > 50_000) this.prune(now);
      return 0;
    }
    this.buckets.set(key, bucket);
    return Math.max(1, Math.ceil((1 - bucket.tokens) / refillPerSecond));
  }

  /** Forgets the buckets that have refilled: they behave exactly like missing ones. */
  private prune(now: number): void {
    const { capacity, refillPerSecond } = this.options;
    for (const [key, b] of this.buckets) {
      if (b.tokens + ((now - b.at) / 1000) * refillPerSecond >= capacity) this.buckets.delete(key);
    }
  }

  /** Throws `rate_limited` (with the wait in `details.retryAfter`) when `key` is over its budget. */
  check(key: string, what: string): void {
    const wait = this.take(key);
    if (wait > 0) {
      throw new OmniError('rate_limited', `Too many ${what}; see Retry-After`, {
        details: { retryAfter: wait },
      });
    }
  }
}

/**
 * Caps how many long-lived things (event streams) one key may hold open at once; a token bucket
 * cannot, since one request can hold a stream for hours.
 */
export class ConcurrencyLimiter {
  private readonly open = new Map<string, number>();
  constructor(private readonly max: number) {}

  /** Takes a slot for `key` (429 `rate_limited` when none is free); call the result to free it. */
  acquire(key: string, what: string): () => void {
    const n = this.open.get(key) ?? 0;
    if (n >= this.max) {
      throw new OmniError('rate_limited', `Too many open ${what}`, {
        details: { retryAfter: 5, max: this.max },
      });
    }
    this.open.set(key, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left);
      else this.open.delete(key);
    };
  }
}

/**
 * One at a time per key, with a short line behind it. A device's pushes lock its profile's row,
 * so a second push of the same device can only wait for the first, and in the database it would
 * wait holding a pooled connection: a device pushing on many connections at once would hold the
 * whole pool while other shoppers wait for one. Waiting here holds nothing, and past
 * `maxWaiting` a request is refused (429) at once.
 *
 * A turn starts in a later turn of the event loop, never straight after the key's previous one:
 * PGlite answers without I/O, so a request runs to its end within the callback it arrived in,
 * and without this yield a key's requests would run one after another, each before the server
 * has even read the next socket (its line never forming, nothing refused, every other shopper
 * waiting behind all of them). With it, every request already received gets its turn, its
 * place in line or its 429 between two turns of the same key.
 */
export class Turns {
  private readonly lines = new Map<string, { count: number; tail: Promise<void> }>();
  constructor(private readonly maxWaiting: number) {}

  /**
   * Runs `fn` once the key's earlier calls are done; throws `rate_limited` when the line is full.
   * A request whose client left while it waited (`signal` aborted) does not run: nobody reads
   * its answer, and a server closing meanwhile may have closed the database under it. Given as
   * a function, the signal is only asked for once the request has its place in line: on
   * @hono/node-server, `c.req.raw.signal` builds the whole Web `Request` (body stream
   * included), work a request refused here must not cost.
   */
  async run<T>(
    key: string,
    what: string,
    signal: AbortSignal | (() => AbortSignal) | undefined,
    fn: () => Promise<T>,
  ): Promise<T> {
    const line = this.lines.get(key) ?? { count: 0, tail: Promise.resolve() };
    if (line.count > this.maxWaiting) {
      throw new OmniError('rate_limited', `Too many ${what} at once`, {
        details: { retryAfter: 1, maxWaiting: this.maxWaiting },
      });
    }
    line.count++;
    this.lines.set(key, line);
    const left = typeof signal === 'function' ? signal() : signal;
    const before = line.tail;
    let done!: () => void;
    line.tail = new Promise<void>((resolve) => (done = resolve));
    await before;
    await new Promise<void>((resolve) => setImmediate(resolve));
    try {
      if (left?.aborted) throw new OmniError('unavailable', 'The client left before its turn');
      return await fn();
    } finally {
      done();
      if (--line.count === 0) this.lines.delete(key);
    }
  }
}

/** Configurable limits; defaults are generous for normal traffic and strict for handoff claims. */
export interface RateLimitOptions {
  /** Every call made with a device token. */
  device?: BucketOptions;
  /**
   * Pushes per device. The SDK sends one batch at a time and folds what comes meanwhile into the
   * next, so a shopper never needs many; each accepted push is database work, where a refusal
   * is not, so a flooding device gets little of the database from this budget.
   */
  push?: BucketOptions;
  /** Every call, per client IP. */
  ip?: BucketOptions;
  /** Handoff claims per device. */
  claimDevice?: BucketOptions;
  /** Handoff claims per client IP. */
  claimIp?: BucketOptions;
  /** Device registrations per client IP (each one creates a profile with a public key). */
  register?: BucketOptions;
  /**
   * Sibling devices made per device (`POST /v1/devices/sibling`, which also takes from
   * `register`): a browser needs one for each tab left without its storage, rarely more.
   */
  sibling?: BucketOptions;
}

export const defaultRateLimits: Required<RateLimitOptions> = {
  device: { capacity: 600, refillPerSecond: 100 },
  push: { capacity: 20, refillPerSecond: 5 },
  ip: { capacity: 3000, refillPerSecond: 1000 },
  claimDevice: { capacity: 5, refillPerSecond: 5 / 60 },
  claimIp: { capacity: 30, refillPerSecond: 30 / 60 },
  // A browser registers once; a shop's shared Wi-Fi a few thousand a day, a few dozen at once.
  // Each registration is database work (a profile and a device), so the burst stays small.
  register: { capacity: 30, refillPerSecond: 1 },
  // A tab whose storage fails makes one; a few tabs failing together, a few.
  sibling: { capacity: 10, refillPerSecond: 1 / 60 },
};

/** The defaults with each given bucket in place of its default; throws on a bucket that cannot work. */
export function resolveRateLimits(given: RateLimitOptions = {}): Required<RateLimitOptions> {
  const limits = { ...defaultRateLimits };
  for (const key of Object.keys(limits) as (keyof typeof limits)[]) {
    const bucket = given[key];
    if (!bucket) continue;
    if (!(bucket.capacity >= 1) || !(bucket.refillPerSecond > 0)) {
      throw new Error(`rateLimits.${key}: capacity must be >= 1 and refillPerSecond > 0`);
    }
    limits[key] = bucket;
  }
  return limits;
}

/** The limiters of one server, built once from its options. */
export interface Limiters {
  device: RateLimiter;
  push: RateLimiter;
  ip: RateLimiter;
  claimDevice: RateLimiter;
  claimIp: RateLimiter;
  register: RateLimiter;
  sibling: RateLimiter;
  /** Open event streams per device (a leader tab, plus overlap while it reconnects). */
  streamDevice: ConcurrencyLimiter;
  /** Open event streams per client address. */
  streamIp: ConcurrencyLimiter;
  /** A device's pushes, one at a time (see `Turns`). */
  pushDevice: Turns;
  /** An address's registrations, one at a time once their bodies are in (see `Turns`). */
  registerIp: Turns;
}

export function createLimiters(options: RateLimitOptions | undefined, now: () => number): Limiters {
  const limits = resolveRateLimits(options);
  return {
    device: new RateLimiter(limits.device, now),
    push: new RateLimiter(limits.push, now),
    ip: new RateLimiter(limits.ip, now),
    claimDevice: new RateLimiter(limits.claimDevice, now),
    claimIp: new RateLimiter(limits.claimIp, now),
    register: new RateLimiter(limits.register, now),
    sibling: new RateLimiter(limits.sibling, now),
    streamDevice: new ConcurrencyLimiter(4),
    streamIp: new ConcurrencyLimiter(64),
    // The SDK pushes one batch at a time; a retry may overlap a push the server still runs.
    pushDevice: new Turns(4),
    // Shoppers behind one address (a shop's Wi-Fi, a carrier's NAT) may register together; the
    // line only ever holds bodies already read, so nobody's slow upload holds it up.
    registerIp: new Turns(16),
  };
}
