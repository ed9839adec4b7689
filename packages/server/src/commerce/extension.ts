// The commerce plug-in of the server: its tables, its routes, the live-stock streams and one
// recommendation model per site, kept current from the tables (see models.ts). It reaches the
// core only through the ExtensionContext it is given.
import type { Queryable } from '../db/index.js';
import type { ServerExtension } from '../extension.js';
import { commerceTopic } from './core/notices.js';
import { commerceRoutes, type CommerceRuntime } from './http/index.js';
import { StockStreams } from './http/stock-streams.js';
import { SiteModels } from './models.js';
import type { RecModel, RecModelOptions } from './recs/index.js';
import { coviewCounts, DEFAULT_REC_OPTIONS } from './recs/index.js';
import { addCoviews } from './store/coviews.js';
import { seedDemo } from './store/demo-seed.js';
import { commerceMigrations } from './store/migrations.js';
import { forgetCustomer } from './store/orders.js';

export { forgetCustomer } from './store/orders.js';

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
  /** Heartbeat interval of stock streams (15 000 ms). */
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
      const models = new SiteModels(
        ctx.db,
        ctx.events,
        ctx.sites.keys(),
        ctx.now,
        ctx.logger,
        options.recs,
      );
      const streams = new StockStreams(ctx.db, ctx.streams, ctx.logger, options.heartbeatMs);
      const reloadCatalog = (siteId: string) =>
        models.reloadCatalog(siteId).catch((err: Error) => {
          ctx.logger.warn('catalog reload failed', { error: err.message });
        });
      let unsubscribe = (): void => {};
      const ready = (async () => {
        unsubscribe = await ctx.bus.subscribe(
          commerceTopic,
          (notice) => {
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
          },
          // Notices sent while the listening connection was down are lost: re-read everything.
          () => {
            for (const siteId of ctx.sites.keys()) {
              streams.storesChanged(siteId);
              void reloadCatalog(siteId);
            }
          },
        );
        const demo = options.demo;
        if (demo) {
          const siteId = demo.site ?? ctx.sites.keys().next().value;
          if (siteId === undefined || !ctx.sites.has(siteId)) {
            throw new Error(`commerceExtension: demo site "${String(siteId)}" is not configured`);
          }
          await seedDemo(ctx.db, siteId, demo.dir, {
            now: ctx.now(),
            logger: ctx.logger,
            bus: ctx.bus,
          });
        }
        await models.warm();
      })();
      ready.catch((err: Error) => {
        ctx.logger.error('commerce start failed', { error: err.message });
      });
      runtime = {
        ctx,
        models,
        streams,
        ready,
        importMaxBytes: options.importMaxBytes ?? 5 * 1024 * 1024,
        productsMaxAgeSeconds: options.productsMaxAgeSeconds ?? 60,
        defaultLowStockThreshold: options.lowStockThreshold ?? 5,
        stopListening: () => unsubscribe(),
      };
      commerceRoutes(app, runtime);
    },
    ready: () => need().ready,
    async close() {
      if (!runtime) return;
      runtime.streams.closeAll();
      await runtime.ready.catch(() => {});
      runtime.stopListening();
    },
    model: (siteId) => need().models.model(siteId),
    sync: () => need().models.sync(),
    onProfileErased: (tx, p) => forgetCustomer(tx, p.siteId, p.profileId, p.customerId),
    async onEventsPruned(tx, siteId, events) {
      // Views made the co-view counts; they outlive their events. Cart additions only fed
      // trending (decayed to nothing by then), purchases reach the model as orders.
      const views = events.flatMap((e) =>
        e.kind === 'view' && e.sku ? [{ profileId: e.profileId, sku: e.sku, at: e.at }] : [],
      );
      if (views.length === 0) return;
      const { sessionGapMs, maxSessionItems } = { ...DEFAULT_REC_OPTIONS, ...options.recs };
      await addCoviews(tx, siteId, coviewCounts(views, { sessionGapMs, maxSessionItems }));
    },
    forget: (siteId, profileId, customerId) =>
      need().ctx.db.transaction((tx) => forgetCustomer(tx, siteId, profileId, customerId)),
  };
}
