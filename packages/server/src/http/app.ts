// The HTTP application: the middleware stack, the sync API, then each extension's routes with
// the context that is their only way into the core.
import { Hono } from 'hono';
import type { ResolvedSite, SiteConfig } from '../config/sites.js';
import type { Db } from '../db/index.js';
import type { ExtensionContext, ServerExtension } from '../extension.js';
import type { Logger } from '../logger.js';
import type { NotificationBus } from '../notify/bus.js';
import { syncRoutes, type PushCommitted } from '../sync/http/index.js';
import type { PokeHub } from '../sync/pokes.js';
import { deviceFinder, deviceSeen } from '../sync/store/devices.js';
import { readEvents, readPurchaseEvents, recordEvents } from '../sync/store/events.js';
import {
  readCustomerProfileId,
  readProfileOfDevice,
  readProfileWithPurchases,
} from '../sync/store/profiles.js';
import { createAuth } from './auth.js';
import { readJson } from './body.js';
import type { AppEnv, FaultHook } from './env.js';
import { handleError, notFound } from './errors.js';
import type { EventStreams } from './event-stream.js';
import type { Limiters } from './limits.js';
import { accessLog, cors, limitByAddress, RefusalLog } from './middleware.js';

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

/** The running services the app is built on (see `startServer`). */
export interface AppServices {
  db: Db;
  sites: ReadonlyMap<string, ResolvedSite>;
  logger: Logger;
  now: () => number;
  bus: NotificationBus;
  pokes: PokeHub;
  streams: EventStreams;
  limiters: Limiters;
  /** True once the server is closing: answers then ask clients to drop keep-alive. */
  closing: () => boolean;
  /** Where refused requests are counted and logged in aggregate (one of its own by default). */
  refusals?: RefusalLog;
}

/** Builds the HTTP application (a Web-standard `fetch` handler) on already-open services. */
export function createApp(services: AppServices, options: AppOptions = {}): Hono<AppEnv> {
  const { db, sites, logger, limiters } = services;
  const extensions = options.extensions ?? [];
  const app = new Hono<AppEnv>();
  app.use(
    '*',
    accessLog({
      logger,
      refusals: services.refusals ?? new RefusalLog(logger),
      trustProxy: options.trustProxy === true,
      faults: options.faults,
      closing: services.closing,
    }),
  );
  app.use('*', cors(sites, limiters.ip));
  app.use('*', limitByAddress(limiters.ip));

  const findDevice = deviceFinder(db);
  const auth = createAuth({
    sites,
    findDevice,
    forget: findDevice.forget,
    deviceLimiter: limiters.device,
    seen: deviceSeen(db, services.now),
  });
  app.get('/v1/health', (c) => c.json({ ok: true, version: options.version ?? '0.1.0' }));
  syncRoutes(app, { ...services, auth, extensions, onPushCommitted: options.onPushCommitted });

  const ctx: ExtensionContext = {
    db,
    logger,
    sites: new Map<string, SiteConfig>([...sites].map(([id, site]) => [id, site.config])),
    now: services.now,
    ...auth,
    readJson,
    streams: services.streams,
    bus: services.bus,
    events: { record: recordEvents, read: readEvents, purchases: readPurchaseEvents },
    profiles: {
      ofDevice: (q, device) => readProfileOfDevice(q, device.id, device.siteId),
      withPurchases: (q, device, limit) =>
        readProfileWithPurchases(q, device.id, device.siteId, limit),
      ofCustomer: readCustomerProfileId,
    },
  };
  for (const extension of extensions) extension.routes?.(app, ctx);

  app.notFound(notFound);
  app.onError(handleError(logger));
  return app;
}
