import { timingSafeEqual } from 'node:crypto';
import type { Context, Hono } from 'hono';
import { LIMITS, OmniError, type Mutation } from '@omnikit/protocol';
import type { Db, Migration, Queryable } from './db/index.js';
import type { Logger } from './logger.js';
import type { PokeEvent, PokeHub } from './pokes.js';
import {
  readJsonBody,
  sha256,
  unknownDevice,
  type ConcurrencyLimiter,
  type RateLimiter,
} from './security.js';
import type { ResolvedSite, SiteConfig } from './sites.js';

/** The device behind a bearer token. Its profile is read per request: it can change. */
export interface AuthedDevice {
  id: string;
  siteId: string;
  channel: string;
}

/** Per-request values set by the middleware and the auth helpers (CORS and logs read them). */
export type AppEnv = {
  Variables: {
    site: ResolvedSite | undefined;
    device: AuthedDevice | undefined;
    ip: string;
  };
};

export type AppContext = Context<AppEnv>;

/** What a test may break on purpose: answer 500 before or after the handler ran. */
export type FaultAction = 'error-before' | 'error-after';
/** Test-only hook, consulted for every request. Never set it in production. */
export type FaultHook = (request: { method: string; path: string }) => FaultAction | undefined;

/** One committed push: the mutations it consumed (applied or rejected), in the server's order. */
export interface PushCommitted {
  siteId: string;
  deviceId: string;
  profileId: string;
  version: number;
  consumed: Mutation[];
}

export interface ServerDeps {
  db: Db;
  sites: ReadonlyMap<string, ResolvedSite>;
  logger: Logger;
  pokes: PokeHub;
  now: () => number;
  heartbeatMs: number;
  /** Closers of the open event streams, so shutdown can end them. */
  streams: Set<() => void>;
  /** Set by close(): answers then ask clients to drop their keep-alive connections. */
  lifecycle: { closing: boolean };
  limiters: {
    device: RateLimiter;
    ip: RateLimiter;
    claimDevice: RateLimiter;
    claimIp: RateLimiter;
    register: RateLimiter;
    /** Open event streams per device (a leader tab, plus overlap while it reconnects). */
    streamDevice: ConcurrencyLimiter;
    /** Open event streams per client address. */
    streamIp: ConcurrencyLimiter;
  };
}

/** What an extension's routes get: storage, sites and the same auth the sync routes use. */
export interface ExtensionContext {
  db: Db;
  logger: Logger;
  sites: ReadonlyMap<string, SiteConfig>;
  now: () => number;
  /** Bearer device token → device and site (401 otherwise); applies the device rate limit. */
  authenticateDevice(c: AppContext): Promise<{ device: AuthedDevice; site: SiteConfig }>;
  /** `X-Omni-Key` publishable key → site (401 otherwise). */
  authenticateSiteKey(c: AppContext): SiteConfig;
  /** `X-Omni-Admin-Key` → the site whose admin key it is (401 otherwise). */
  authenticateAdmin(c: AppContext): SiteConfig;
  /** The JSON body, size-limited (413) and parsed (400). */
  readJson(c: AppContext, maxBytes?: number): Promise<unknown>;
  /** The current profile id of a device (for per-profile reads such as recommendations). */
  profileOf(tx: Queryable, device: AuthedDevice): Promise<string>;
}

/**
 * A plug-in for the catalog, stock and recommendation APIs: its migrations run after the core
 * ones (same runner, same advisory lock) and its routes are mounted on the same app.
 */
export interface ServerExtension {
  name: string;
  migrations?: Migration[];
  routes?(app: Hono<AppEnv>, ctx: ExtensionContext): void;
  /** Ends the extension's own long-lived work (streams, listeners) when the server closes. */
  close?(): Promise<void>;
  /** Erases the extension's data of a profile, inside `DELETE /v1/profile`'s transaction. */
  onProfileErased?(
    tx: Queryable,
    profile: { siteId: string; profileId: string; customerId: string | null },
  ): Promise<void>;
}

const deviceCache = new WeakMap<Db, Map<string, AuthedDevice>>();

/** A browser on a foreign origin must not use a site's keys or tokens, even if it has them. */
export function checkOrigin(c: AppContext, site: ResolvedSite): void {
  const origin = c.req.header('origin');
  if (origin !== undefined && !site.origins.has(origin)) {
    throw new OmniError('forbidden', `Origin ${origin} is not allowed for this site`);
  }
}

/** Resolves and rate-limits the bearer device; a device's token and site never change. */
export async function authenticateDevice(
  deps: ServerDeps,
  c: AppContext,
): Promise<{ device: AuthedDevice; site: ResolvedSite }> {
  const header = c.req.header('authorization') ?? '';
  // Auth scheme names are case-insensitive (RFC 9110).
  const match = /^Bearer\s+([A-Za-z0-9_-]{16,128})\s*$/i.exec(header);
  if (!match?.[1]) {
    throw new OmniError('unauthorized', 'Missing or malformed Authorization: Bearer <token>');
  }
  const hash = sha256(match[1]);
  let cache = deviceCache.get(deps.db);
  if (!cache) {
    cache = new Map();
    deviceCache.set(deps.db, cache);
  }
  let device = cache.get(hash);
  if (!device) {
    const { rows } = await deps.db.query<{ id: string; site_id: string; channel: string }>(
      'SELECT id, site_id, channel FROM devices WHERE token_hash = $1',
      [hash],
    );
    const row = rows[0];
    if (!row) throw unknownDevice();
    device = { id: row.id, siteId: row.site_id, channel: row.channel };
    if (cache.size > 100_000) cache.clear();
    cache.set(hash, device);
  }
  const site = deps.sites.get(device.siteId);
  if (!site) throw new OmniError('unauthorized', 'The site of this device is no longer configured');
  c.set('site', site);
  c.set('device', device);
  checkOrigin(c, site);
  deps.limiters.device.check(device.id, 'requests from this device');
  return { device, site };
}

/** `X-Omni-Key` → site. */
export function authenticateSiteKey(deps: ServerDeps, c: AppContext): ResolvedSite {
  // EventSource cannot send headers, so event streams pass the (public) key as `?key=`.
  const key = c.req.header('x-omni-key') ?? c.req.query('key');
  if (!key) {
    throw new OmniError(
      'unauthorized',
      'Missing X-Omni-Key (the publishable key; ?key= on streams)',
    );
  }
  for (const site of deps.sites.values()) {
    if (site.config.publishableKey === key) {
      c.set('site', site);
      checkOrigin(c, site);
      return site;
    }
  }
  throw new OmniError('unauthorized', 'Unknown publishable key');
}

/** `X-Omni-Admin-Key` → site, compared in constant time. */
export function authenticateAdmin(deps: ServerDeps, c: AppContext): ResolvedSite {
  const key = c.req.header('x-omni-admin-key');
  if (!key) throw new OmniError('unauthorized', 'Missing X-Omni-Admin-Key');
  const given = Buffer.from(sha256(key), 'hex');
  for (const site of deps.sites.values()) {
    const admin = site.config.adminKey;
    if (admin && timingSafeEqual(Buffer.from(sha256(admin), 'hex'), given)) {
      c.set('site', site);
      return site;
    }
  }
  throw new OmniError('unauthorized', 'Unknown admin key');
}

/** The request's JSON body, size-limited before parsing. */
export function readJson(c: AppContext, maxBytes: number = LIMITS.maxBodyBytes): Promise<unknown> {
  return readJsonBody(c.req.raw, maxBytes);
}

/**
 * Runs `fn` in a transaction and delivers the pokes it queued: NOTIFY inside the transaction
 * (sent by PostgreSQL on commit, to other instances) and the in-process emit after commit.
 */
export async function inTransaction<T>(
  deps: ServerDeps,
  fn: (
    tx: Queryable,
    poke: (event: PokeEvent, options?: { notified?: boolean }) => void,
  ) => Promise<T>,
): Promise<T> {
  let events: PokeEvent[] = [];
  const result = await deps.db.transaction(async (tx) => {
    // A retried transaction starts over: forget the pokes of the failed attempt.
    events = [];
    const toNotify: PokeEvent[] = [];
    const out = await fn(tx, (event, options) => {
      events.push(event);
      // `notified`: the caller's own statement already queued the NOTIFY (one round trip less).
      if (!options?.notified) toNotify.push(event);
    });
    for (const event of toNotify) await deps.pokes.notifyInTx(tx, event);
    return out;
  });
  for (const event of events) deps.pokes.emit(event);
  return result;
}
