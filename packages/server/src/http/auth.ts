// Authentication as Hono middleware: each one resolves its credential once, sets typed context
// variables (`c.var.site`, `c.var.device`) and applies the limits tied to it. Handlers never
// authenticate by hand; they list the middleware they need before themselves.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { OmniError } from '@omnikit/protocol';
import type { ResolvedSite } from '../config/sites.js';
import type { AppContext, AuthedDevice, DeviceEnv, SiteEnv } from './env.js';
import { unknownDevice } from './errors.js';
import type { RateLimiter } from './limits.js';

/** The three ways a request proves who it is. */
export interface Auth {
  /** `Authorization: Bearer <device token>` → `c.var.device` and `c.var.site` (401 otherwise). */
  requireDevice: MiddlewareHandler<DeviceEnv>;
  /** `X-Omni-Key` (or `?key=` on event streams) → `c.var.site` (401 otherwise). */
  requireSiteKey: MiddlewareHandler<SiteEnv>;
  /** `X-Omni-Admin-Key` → `c.var.site`, the site whose admin key it is (401 otherwise). */
  requireAdmin: MiddlewareHandler<SiteEnv>;
}

export interface AuthOptions {
  sites: ReadonlyMap<string, ResolvedSite>;
  /** The device a bearer token belongs to (looked up by the token's hash, never the token). */
  findDevice(token: string): Promise<AuthedDevice | undefined>;
  /** Applied to every request made with a device token. */
  deviceLimiter: RateLimiter;
  /** Records the device as in use; false when it no longer exists (see `deviceSeen`). */
  seen?(device: AuthedDevice): Promise<boolean>;
  /** Drops a token from `findDevice`'s cache (its device is gone). */
  forget?(token: string): void;
}

/** A browser on a foreign origin must not use a site's keys or tokens, even if it has them. */
export function checkOrigin(c: AppContext, site: ResolvedSite): void {
  const origin = c.req.header('origin');
  if (origin !== undefined && !site.origins.has(origin)) {
    throw new OmniError('forbidden', `Origin ${origin} is not allowed for this site`);
  }
}

/** Sets the request's site (for CORS and the access log) after checking its origin may use it. */
export function enterSite(c: AppContext, site: ResolvedSite): void {
  c.set('site', site);
  checkOrigin(c, site);
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function createAuth(options: AuthOptions): Auth {
  const { sites, deviceLimiter } = options;

  const requireDevice: MiddlewareHandler<DeviceEnv> = async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    // Auth scheme names are case-insensitive (RFC 9110).
    const match = /^Bearer\s+([A-Za-z0-9_-]{16,128})\s*$/i.exec(header);
    const token = match?.[1];
    if (!token) {
      throw new OmniError('unauthorized', 'Missing or malformed Authorization: Bearer <token>');
    }
    const device = await options.findDevice(token);
    if (!device) throw unknownDevice();
    const site = sites.get(device.siteId);
    if (!site) {
      throw new OmniError('unauthorized', 'The site of this device is no longer configured');
    }
    c.set('device', device);
    enterSite(c as unknown as AppContext, site);
    deviceLimiter.check(device.id, 'requests from this device');
    if (options.seen && !(await options.seen(device))) {
      options.forget?.(token);
      throw unknownDevice();
    }
    await next();
  };

  const requireSiteKey: MiddlewareHandler<SiteEnv> = async (c, next) => {
    // EventSource cannot send headers, so event streams pass the (public) key as `?key=`.
    const key = c.req.header('x-omni-key') ?? c.req.query('key');
    if (!key) {
      throw new OmniError(
        'unauthorized',
        'Missing X-Omni-Key (the publishable key; ?key= on streams)',
      );
    }
    const site = [...sites.values()].find((s) => s.config.publishableKey === key);
    if (!site) throw new OmniError('unauthorized', 'Unknown publishable key');
    enterSite(c as unknown as AppContext, site);
    await next();
  };

  const requireAdmin: MiddlewareHandler<SiteEnv> = async (c, next) => {
    const key = c.req.header('x-omni-admin-key');
    if (!key) throw new OmniError('unauthorized', 'Missing X-Omni-Admin-Key');
    // Compared as fixed-length digests in constant time: the key's length leaks nothing either.
    const given = digest(key);
    const site = [...sites.values()].find((s) => {
      const admin = s.config.adminKey;
      return admin !== undefined && timingSafeEqual(digest(admin), given);
    });
    if (!site) throw new OmniError('unauthorized', 'Unknown admin key');
    c.set('site', site);
    await next();
  };

  return { requireDevice, requireSiteKey, requireAdmin };
}
