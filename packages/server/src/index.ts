import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createApp, type AppOptions } from './app.js';
import type { Hono } from 'hono';
import type { AppEnv, ServerDeps } from './context.js';
import { coreMigrations, migrate, openDb, type DatabaseOptions } from './db/index.js';
import { jsonLogger, type Logger } from './logger.js';
import { PokeHub } from './pokes.js';
import {
  ConcurrencyLimiter,
  defaultRateLimits,
  RateLimiter,
  type RateLimitOptions,
} from './security.js';
import { resolveSites, type SiteConfig } from './sites.js';

export { createApp, type AppOptions } from './app.js';
export type {
  AppContext,
  AppEnv,
  AuthedDevice,
  ExtensionContext,
  FaultAction,
  FaultHook,
  PushCommitted,
  ServerDeps,
  ServerExtension,
} from './context.js';
export {
  coreMigrations,
  migrate,
  openDb,
  type DatabaseOptions,
  type Db,
  type Migration,
  type Queryable,
  type QueryResult,
  type Row,
} from './db/index.js';
export {
  commerceExtension,
  forgetCustomer,
  type CommerceExtension,
  type CommerceOptions,
} from './commerce/extension.js';
export { runImportCli } from './commerce/cli.js';
export { jsonLogger, silentLogger, type Logger, type LogFields } from './logger.js';
export { PokeHub, type PokeEvent } from './pokes.js';
export type { BucketOptions, RateLimitOptions } from './security.js';
export {
  loadSites,
  resolveSites,
  SiteConfigError,
  validateSites,
  type CustomerTokenKey,
  type ResolvedSite,
  type SiteConfig,
} from './sites.js';

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
  /** Clock, for tests of expiry (ms since epoch). */
  now?: () => number;
}

export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8787`. */
  url: string;
  port: number;
  /** The Hono app (its `routes` list what is served). */
  app: Hono<AppEnv>;
  /** Ends event streams, finishes in-flight requests, then closes the database. */
  close(): Promise<void>;
}

/** The notification channel for pokes: channels are per database, so one per schema. */
function pokeChannel(schema: string | undefined): string {
  return (schema ? `omnikit_poke_${schema}` : 'omnikit_poke').slice(0, 63);
}

/** Opens the database (migrating it), and starts the omnikit HTTP server. */
export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const logger = options.logger ?? jsonLogger;
  const sites = await resolveSites(options.sites);
  const limits = { ...defaultRateLimits };
  for (const key of Object.keys(limits) as (keyof typeof limits)[]) {
    const given = options.rateLimits?.[key];
    if (!given) continue;
    if (!(given.capacity >= 1) || !(given.refillPerSecond > 0)) {
      throw new Error(`rateLimits.${key}: capacity must be >= 1 and refillPerSecond > 0`);
    }
    limits[key] = given;
  }
  const db = await openDb(options.database ?? {}, logger);
  let pokes: PokeHub | undefined;
  try {
    await migrate(db, [
      ...coreMigrations,
      ...(options.extensions ?? []).flatMap((e) => e.migrations ?? []),
    ]);
    pokes = new PokeHub(db, pokeChannel(options.database?.schema), logger);
    await pokes.start();
  } catch (err) {
    await db.close().catch(() => {});
    throw err;
  }
  const now = options.now ?? Date.now;
  const deps: ServerDeps = {
    db,
    sites,
    logger,
    pokes,
    now,
    heartbeatMs: options.heartbeatMs ?? 15_000,
    streams: new Set(),
    lifecycle: { closing: false },
    limiters: {
      device: new RateLimiter(limits.device, now),
      ip: new RateLimiter(limits.ip, now),
      claimDevice: new RateLimiter(limits.claimDevice, now),
      claimIp: new RateLimiter(limits.claimIp, now),
      register: new RateLimiter(limits.register, now),
      streamDevice: new ConcurrencyLimiter(4),
      streamIp: new ConcurrencyLimiter(64),
    },
  };
  const app = createApp(deps, options);
  const host = options.host ?? '127.0.0.1';
  const hub = pokes;
  return new Promise((resolve, reject) => {
    const server = serve(
      { fetch: app.fetch, port: options.port ?? 0, hostname: host },
      (info: AddressInfo) => {
        let closing: Promise<void> | undefined;
        const urlHost = host.includes(':') ? `[${host}]` : host;
        resolve({
          url: `http://${urlHost}:${info.port}`,
          port: info.port,
          app,
          close: () =>
            (closing ??= (async () => {
              deps.lifecycle.closing = true;
              // Sockets that go idle from now on (ended streams, finished in-flight requests)
              // close at once instead of lingering for the keep-alive timeout.
              (server as Server).keepAliveTimeout = 1;
              const stopped = new Promise<void>((done, fail) =>
                server.close((err) => (err ? fail(err) : done())),
              );
              // Streams never end by themselves; idle keep-alive sockets would hold close().
              for (const end of [...deps.streams]) end();
              for (const extension of options.extensions ?? []) await extension.close?.();
              (server as Server).closeIdleConnections();
              await stopped;
              await hub.stop();
              await db.close();
            })()),
        });
      },
    ) as Server;
    server.once('error', (err) => {
      void hub
        .stop()
        .then(() => db.close())
        .finally(() => reject(err));
    });
  });
}
