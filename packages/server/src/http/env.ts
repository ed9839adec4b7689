// The types every route shares: what the middleware puts on a request's context (`c.var`).
import type { Context } from 'hono';
import type { ResolvedSite } from '../config/sites.js';

/** The device behind a bearer token. Its profile is read per request: it can change. */
export interface AuthedDevice {
  id: string;
  siteId: string;
  channel: string;
}

/**
 * Per-request values. `ip` is set for every request; `site` once a request is known to belong to
 * a site (the access log and CORS read it); `device` by `requireDevice`.
 */
export type AppEnv = {
  Variables: {
    ip: string;
    site: ResolvedSite | undefined;
    device: AuthedDevice | undefined;
  };
};

/** What a route behind `requireSiteKey` or `requireAdmin` reads. */
export type SiteEnv = { Variables: { site: ResolvedSite } };

/** What a route behind `requireDevice` reads. */
export type DeviceEnv = { Variables: { site: ResolvedSite; device: AuthedDevice } };

export type AppContext = Context<AppEnv>;

/** What a test may break on purpose: answer 500 before or after the handler ran. */
export type FaultAction = 'error-before' | 'error-after';
/** Test-only hook, consulted for every request. Never set it in production. */
export type FaultHook = (request: { method: string; path: string }) => FaultAction | undefined;
