// The commerce plug-in of the server: its tables, its routes, the live-stock streams and one
// recommendation model per site, kept current from the tables (see models.ts).
import type { Queryable } from '../db/index.js';
import type { ServerExtension } from '../context.js';
import { CommerceBus } from './bus.js';
import { seedDemo } from './demo.js';
import { commerceMigrations } from './migrations.js';
import { SiteModels } from './models.js';
import type { RecModel, RecModelOptions } from './recs/index.js';
import { commerceRoutes, type CommerceRuntime } from './routes.js';
import { StockStreams } from './streams.js';

export interface CommerceOptions {
  /**
   * Seed a site from a demo data directory (catalog.json, stores.json, inventory.json,
   * orders.json.gz) when its catalog is empty. `site` defaults to the first configured site.
   */
  demo?: { dir: string; site?: string } | false;
  /** Largest feed `POST /v1/admin/products/import` accepts (5 MiB). */
  importMaxBytes?: number;
  /** `Cache-Control: public, max-age` of `GET /v1/products` (60 s). */
  productsMaxAgeSeconds?: number;
  /** "Low stock" threshold for sites that set no `lowStockThreshold` (5). */
  lowStockThreshold?: number;
  /** Interval of `: heartbeat` comments on stock streams (15 000 ms). */
  heartbeatMs?: number;
  /** Recommendation model settings (see `DEFAULT_REC_OPTIONS`). */
  recs?: Partial<RecModelOptions>;
}

export interface CommerceExtension extends ServerExtension {
  /** Resolves once demo seeding (if any) and the recommendation warm-up are done. */
  ready(): Promise<void>;
  /**
   * Ends the open stock streams and stops listening. The server's `close()` waits for open
   * connections, so call this first (until the core calls extensions' `close` itself).
   */
  close(): Promise<void>;
  /** The site's recommendation model (benches, diagnostics). */
  model(siteId: string): RecModel | undefined;
  /** Reads every view, cart addition and order committed so far into the models. */
  sync(): Promise<void>;
  /**
   * The erasure hook for the core's `DELETE /v1/profile`, to run inside its transaction: the
   * profile's orders stop naming the customer (see `forgetCustomer`).
   */
  onProfileErased(
    tx: Queryable,
    profile: { siteId: string; profileId: string; customerId: string | null },
  ): Promise<void>;
  /** `onProfileErased` in a transaction of its own (until the core calls the hook). */
  forget(siteId: string, profileId: string, customerId: string | null): Promise<void>;
}

/** A site's data protection erasure: its orders no longer name the customer or the profile. */
export async function forgetCustomer(
  tx: Queryable,
  siteId: string,
  profileId: string,
  customerId: string | null,
): Promise<void> {
  await tx.query(
    `UPDATE orders SET customer_id = NULL, profile_id = NULL
     WHERE site_id = $1 AND (profile_id = $2 OR customer_id = $3)`,
    [siteId, profileId, customerId],
  );
}

/** The catalog, stock and recommendation APIs, as a server extension. One per server. */
export function commerceExtension(options: CommerceOptions = {}): CommerceExtension {
  let runtime: CommerceRuntime | undefined;
  const need = (): CommerceRuntime => {
    if (!runtime) throw new Error('commerceExtension: the server has not mounted it yet');
    return runtime;
  };
  return {
    name: 'commerce',
    migrations: commerceMigrations,
    routes(app, ctx) {
      if (runtime) throw new Error('commerceExtension: use one instance per server');
      const bus = new CommerceBus(ctx.db, ctx.logger);
      const models = new SiteModels(ctx.db, ctx.sites.keys(), ctx.now, ctx.logger, options.recs);
      const streams = new StockStreams(ctx.db, ctx.logger, options.heartbeatMs ?? 15_000);
      const reloadCatalog = (siteId: string) =>
        models.reloadCatalog(siteId).catch((err: Error) => {
          ctx.logger.warn('catalog reload failed', { error: err.message });
        });
      bus.on((notice) => {
        switch (notice.type) {
          case 'stock':
            streams.changed(notice.siteId, notice.skus);
            break;
          case 'stores':
            streams.storesChanged(notice.siteId);
            break;
          case 'catalog':
            void reloadCatalog(notice.siteId);
            break;
          default:
            notice satisfies never;
        }
      });
      bus.onReconnect(() => {
        for (const siteId of ctx.sites.keys()) {
          streams.storesChanged(siteId);
          void reloadCatalog(siteId);
        }
      });
      const ready = (async () => {
        await bus.start();
        const demo = options.demo;
        if (demo) {
          const siteId = demo.site ?? ctx.sites.keys().next().value;
          if (siteId === undefined || !ctx.sites.has(siteId)) {
            throw new Error(`commerceExtension: demo site "${String(siteId)}" is not configured`);
          }
          await seedDemo(ctx.db, siteId, demo.dir, { now: ctx.now(), logger: ctx.logger, bus });
        }
        await models.warm();
      })();
      ready.catch((err: Error) => {
        ctx.logger.error('commerce start failed', { error: err.message });
      });
      runtime = {
        ctx,
        db: ctx.db,
        bus,
        models,
        streams,
        ready,
        importMaxBytes: options.importMaxBytes ?? 5 * 1024 * 1024,
        productsMaxAgeSeconds: options.productsMaxAgeSeconds ?? 60,
        defaultLowStockThreshold: options.lowStockThreshold ?? 5,
      };
      commerceRoutes(app, runtime);
    },
    ready: () => need().ready,
    async close() {
      if (!runtime) return;
      runtime.streams.closeAll();
      await runtime.ready.catch(() => {});
      await runtime.bus.stop();
    },
    model: (siteId) => need().models.model(siteId),
    sync: () => need().models.sync(),
    onProfileErased: (tx, p) => forgetCustomer(tx, p.siteId, p.profileId, p.customerId),
    forget: (siteId, profileId, customerId) =>
      need().db.transaction((tx) => forgetCustomer(tx, siteId, profileId, customerId)),
  };
}
