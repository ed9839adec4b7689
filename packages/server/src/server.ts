// `startServer`: opens the database (migrating it), starts the notification bus, builds the app
// and listens; `close()` takes it all down in the reverse order.
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import type { Hono } from 'hono';
import { resolveSites, type SiteConfig } from './config/sites.js';
import { coreMigrations, migrate, openDb, type DatabaseOptions, type Db } from './db/index.js';
import { createApp, type AppOptions } from './http/app.js';
import { RefusalLog } from './http/middleware.js';
import type { AppEnv } from './http/env.js';
import { EventStreams } from './http/event-stream.js';
import { createLimiters, type RateLimitOptions } from './http/limits.js';
import { jsonLogger, type Logger } from './logger.js';
import { NotificationBus } from './notify/bus.js';
import { collectGarbage, GcSchedule, type GcOptions, type GcReport } from './sync/gc.js';
import { PokeHub } from './sync/pokes.js';

export interface ServerOptions extends AppOptions {
  /** Port to listen on; 0 picks a free one. */
  port?: number;
  /** Interface to bind; loopback by default. */
  host?: string;
  /** The tenants; validated at start. */
  sites: SiteConfig[];
  /** Storage; in-memory PGlite when neither `url` nor `dataDir` is set. */
  database?: DatabaseOptions;
  /** Structured logs (one JSON line per request); stdout/stderr by default. */
  logger?: Logger;
  /** Heartbeat interval of the event streams (15 000 ms by default). */
  heartbeatMs?: number;
  /** Token-bucket limits; each one given replaces its default. */
  rateLimits?: RateLimitOptions;
  /**
   * How long a refused request (429) is held before it is answered: 1000 ms by default, 0 to
   * answer at once, at most 10 000 (well under clients' request timeouts). A flooder's
   * connections then wait instead of costing the server a refusal each as fast as they can
   * send. Set 0 where the platform caps concurrent requests per instance (a held refusal takes
   * a slot).
   */
  refusalDelayMs?: number;
  /** Clock, for tests of expiry (ms since epoch). */
  now?: () => number;
  /**
   * Retention by each site's policy: every `intervalMs` (1 hour by default), one instance at
   * a time; `false` leaves it to `omnikit-server gc` (e.g. a cron job).
   */
  gc?: { intervalMs?: number; batchSize?: number } | false;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  port: number;
  /** The Hono app (its `routes` list what is served). */
  app: Hono<AppEnv>;
  /** Ends event streams, finishes in-flight requests, then closes the database. */
  close(): Promise<void>;
  /** The open database (tools and tests read it); `close()` closes it. */
  db: Db;
  /** One retention pass now (what the schedule runs); see `collectGarbage`. */
  gc(options?: Pick<GcOptions, 'batchSize'>): Promise<GcReport>;
}

/** Opens the database (migrating it), and starts the omnikit HTTP server. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? jsonLogger;
  const sites = await resolveSites(options.sites);
  const now = options.now ?? Date.now;
  const limiters = createLimiters(options.rateLimits, now);
  const refusalDelayMs = options.refusalDelayMs ?? 1000;
  // Well under a client's request timeout (the SDK's is 15 s), or a 429 would look like one.
  if (!Number.isInteger(refusalDelayMs) || refusalDelayMs < 0 || refusalDelayMs > 10_000) {
    throw new Error('refusalDelayMs: an integer from 0 to 10000');
  }
  const db = await openDb(options.database ?? {}, logger);
  const bus = new NotificationBus(db, logger);
  const pokes = new PokeHub(bus, logger);
  try {
    await migrate(db, [
      ...coreMigrations,
      ...(options.extensions ?? []).flatMap((e) => e.migrations ?? []),
    ]);
    await bus.start();
    await pokes.start();
  } catch (err) {
    await bus.stop().catch(() => {});
    await db.close().catch(() => {});
    throw err;
  }
  const streams = new EventStreams(options.heartbeatMs ?? 15_000);
  let closingNow = false;
  const refusals = new RefusalLog(logger, 10_000, refusalDelayMs);
  const app = createApp(
    { db, sites, logger, now, bus, pokes, streams, limiters, refusals, closing: () => closingNow },
    options,
  );
  const gcOptions = options.gc === false ? undefined : (options.gc ?? {});
  const gc = (extra: Pick<GcOptions, 'batchSize'> = {}) =>
    collectGarbage(db, sites, options.extensions ?? [], {
      now,
      stopped: () => closingNow,
      ...(gcOptions?.batchSize ? { batchSize: gcOptions.batchSize } : {}),
      ...extra,
    });
  const schedule =
    gcOptions && new GcSchedule(() => gc(), gcOptions.intervalMs ?? 3_600_000, logger);
  const host = options.host ?? '127.0.0.1';
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: options.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        let closing: Promise<void> | undefined;
        schedule?.start();
        const urlHost = host.includes(':') ? `[${host}]` : host;
        resolve({
          url: `http://${urlHost}:${info.port}`,
          port: info.port,
          app,
          db,
          gc,
          close: () =>
            (closing ??= (async () => {
              closingNow = true;
              const gcStopped = schedule?.stop();
              // Sockets that go idle from now on (ended streams, finished in-flight requests)
              // close at once instead of lingering for the keep-alive timeout.
              (server as Server).keepAliveTimeout = 1;
              const stopped = new Promise<void>((done, fail) =>
                server.close((err) => (err ? fail(err) : done())),
              );
              // Streams never end by themselves; idle keep-alive sockets would hold close().
              streams.closeAll();
              refusals.release(); // held refusals are answered now, not after their delay
              for (const extension of options.extensions ?? []) await extension.close?.();
              (server as Server).closeIdleConnections();
              await stopped;
              await gcStopped;
              refusals.flush(); // first: a failing close below must not lose the counts
              pokes.stop();
              await bus.stop();
              await db.close();
            })()),
        });
      },
    ) as Server;
    server.once('error', (err) => {
      void bus
        .stop()
        .then(() => db.close())
        .finally(() => reject(err));
    });
  });
}
