import { Hono } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { OmniError, errorBody } from '@omnikit/protocol';
import {
  authenticateAdmin,
  authenticateDevice,
  authenticateSiteKey,
  readJson,
  type AppContext,
  type AppEnv,
  type ExtensionContext,
  type FaultHook,
  type PushCommitted,
  type ServerDeps,
  type ServerExtension,
} from './context.js';
import { deviceRoutes } from './routes/devices.js';
import { handoffRoutes } from './routes/handoff.js';
import { identityRoutes } from './routes/identity.js';
import { syncRoutes } from './routes/sync.js';
import { unknownDevice } from './security.js';
import type { SiteConfig } from './sites.js';

export interface AppOptions {
  /** Reported by `GET /v1/health`. */
  version?: string;
  /** Catalog, stock, recommendations...: routes mounted after the sync API. */
  extensions?: ServerExtension[];
  /** Take the client IP from `X-Forwarded-For` (only behind a proxy you trust). */
  trustProxy?: boolean;
  /** Test-only fault injection (500 before or after a handler runs). */
  faults?: FaultHook;
  /** Observes every committed push (metrics; the sync tests' server-side log). */
  onPushCommitted?: (event: PushCommitted) => void;
}

const allowHeaders = 'Authorization, Content-Type, X-Omni-Key, Last-Event-ID';
const allowMethods = 'GET, POST, DELETE, OPTIONS';

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

function errorResponse(c: AppContext, err: OmniError): Response {
  const retryAfter = (err.details as { retryAfter?: unknown } | undefined)?.retryAfter;
  if (err.code === 'rate_limited' && typeof retryAfter === 'number') {
    c.header('Retry-After', String(retryAfter));
  }
  // The rest of an oversized body is never read: the connection cannot carry another request.
  if (err.code === 'payload_too_large') c.header('Connection', 'close');
  return c.json(errorBody(err), err.status as 400);
}

/** Builds the HTTP application (a Web-standard `fetch` handler) on already-open services. */
export function createApp(deps: ServerDeps, options: AppOptions = {}): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { logger } = deps;
  const anySiteAllows = (origin: string) =>
    [...deps.sites.values()].some((site) => site.origins.has(origin));

  // Outermost: one structured log line per request. Paths only: tickets ride in query strings.
  app.use('*', async (c, next) => {
    const start = performance.now();
    c.set('ip', clientIp(c, options.trustProxy === true));
    const fault = options.faults?.({ method: c.req.method, path: c.req.path });
    if (fault === 'error-before') {
      c.res = c.json(errorBody(new OmniError('internal', 'Injected fault')), 500);
    } else {
      await next();
      if (fault === 'error-after') {
        c.res = c.json(errorBody(new OmniError('internal', 'Injected fault')), 500);
      }
    }
    // An in-flight request finishing during shutdown must not leave an idle keep-alive socket
    // behind: server.close() only closes the sockets that were idle when it was called.
    if (deps.lifecycle.closing) c.res.headers.set('Connection', 'close');
    logger.info('request', {
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ms: Math.round((performance.now() - start) * 10) / 10,
      site: c.get('site')?.config.id,
    });
  });

  // CORS: a preflight is allowed when some site lists the origin; the actual answer carries
  // Access-Control-Allow-Origin only when the site the request turned out to belong to does.
  app.use('*', async (c, next) => {
    const origin = c.req.header('origin');
    if (!origin) return next();
    if (c.req.method === 'OPTIONS') {
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
  });

  app.use('*', async (c, next) => {
    deps.limiters.ip.check(c.get('ip'), 'requests from this address');
    await next();
  });

  app.get('/v1/health', (c) => c.json({ ok: true, version: options.version ?? '0.1.0' }));
  deviceRoutes(app, deps);
  syncRoutes(app, deps, options.onPushCommitted);
  identityRoutes(app, deps, options.extensions ?? []);
  handoffRoutes(app, deps);

  const siteConfigs = new Map<string, SiteConfig>(
    [...deps.sites].map(([id, site]) => [id, site.config]),
  );
  const ext: ExtensionContext = {
    db: deps.db,
    logger,
    sites: siteConfigs,
    now: deps.now,
    authenticateDevice: async (c) => {
      const { device, site } = await authenticateDevice(deps, c);
      return { device, site: site.config };
    },
    authenticateSiteKey: (c) => authenticateSiteKey(deps, c).config,
    authenticateAdmin: (c) => authenticateAdmin(deps, c).config,
    readJson,
    profileOf: async (tx, device) => {
      const { rows } = await tx.query<{ profile_id: string }>(
        'SELECT profile_id FROM devices WHERE id = $1 AND site_id = $2',
        [device.id, device.siteId],
      );
      const id = rows[0]?.profile_id;
      if (!id) throw unknownDevice();
      return id;
    },
  };
  for (const extension of options.extensions ?? []) extension.routes?.(app, ext);

  app.notFound((c) =>
    c.json(errorBody(new OmniError('not_found', `No route ${c.req.method} ${c.req.path}`)), 404),
  );
  app.onError((err, c) => {
    if (err instanceof OmniError) return errorResponse(c, err);
    logger.error('unhandled error', {
      method: c.req.method,
      path: c.req.path,
      error: err instanceof Error ? err.message : String(err),
    });
    return c.json(errorBody(new OmniError('internal', 'Internal error')), 500);
  });
  return app;
}
