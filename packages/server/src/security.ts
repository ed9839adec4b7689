import { createHash, randomBytes, randomInt } from 'node:crypto';
import { OmniError } from '@omnikit/protocol';

/** A bearer secret: 256 random bits, URL-safe. */
export function randomToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Secrets are stored only as this hash; a database leak does not leak usable tokens. */
export function sha256(value: string): string {
  return createHash('sha256').update(value).digest('hex');
}

/** No 0/O, 1/I/L: handoff codes are read aloud and typed from a screen. */
const codeAlphabet = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
export const handoffCodeLength = 8;

/** A short one-time code (~40 bits); brute force is stopped by expiry and rate limits. */
export function randomHandoffCode(): string {
  let code = '';
  for (let i = 0; i < handoffCodeLength; i++) code += codeAlphabet[randomInt(codeAlphabet.length)];
  return code;
}

/** Accepts codes as people type them: any case, with spaces or dashes. */
export function normalizeHandoffCode(code: string): string {
  return code.toUpperCase().replace(/[\s-]/g, '');
}

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
      throw new OmniError('rate_limited', `Too many ${what}; retry in ${wait} s`, {
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

/** Configurable limits; defaults are generous for normal traffic and strict for handoff claims. */
export interface RateLimitOptions {
  /** Every call made with a device token. */
  device?: BucketOptions;
  /** Every call, per client IP. */
  ip?: BucketOptions;
  /** Handoff claims per device. */
  claimDevice?: BucketOptions;
  /** Handoff claims per client IP. */
  claimIp?: BucketOptions;
  /** Device registrations per client IP (each one creates a profile with a public key). */
  register?: BucketOptions;
}

export const defaultRateLimits: Required<RateLimitOptions> = {
  device: { capacity: 600, refillPerSecond: 100 },
  ip: { capacity: 3000, refillPerSecond: 1000 },
  claimDevice: { capacity: 5, refillPerSecond: 5 / 60 },
  claimIp: { capacity: 30, refillPerSecond: 30 / 60 },
  // A browser registers once; a shop's shared Wi-Fi a few thousand a day.
  register: { capacity: 300, refillPerSecond: 1 },
};

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

/**
 * Headers of every server-sent-event answer: no caching or transformation by proxies, and no
 * buffering by nginx-style proxies, so each event leaves at once.
 */
export const eventStreamHeaders: Readonly<Record<string, string>> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

/**
 * The 401 for a well-formed token of a device the server does not know (never registered, or
 * lost with a database restored from a backup). `details.reason` tells clients to start a new
 * device rather than retry; other 401s (a missing header, a site no longer configured, a bad
 * customer token) do not carry it.
 */
export const unknownDevice = (): OmniError =>
  new OmniError('unauthorized', 'Unknown device token', { details: { reason: 'unknown_device' } });
