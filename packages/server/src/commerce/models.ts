// One recommendation model per site, kept in memory and fed by tailing the tables: `orders`
// (co-purchase baskets) and the core's `events` (views and cart additions recorded by pushes,
// read through the extension context).
// Tailing the tables rather than hooking the writers means every instance's model hears every
// write, whichever instance took it, and a restart rebuilds the same model from the same rows.
import type { ProductCard } from '@omnikit/protocol';
import type { Db } from '../db/index.js';
import { num } from '../db/types.js';
import type { EventsRecorder, StoredEvent } from '../extension.js';
import type { Logger } from '../logger.js';
import { RecModel, type RecModelOptions } from './recs/index.js';
import { readCoviews } from './store/coviews.js';
import { readOrdersAfter, type TailOrder } from './store/orders.js';
import { readProductCards } from './store/products.js';

/** Rows read per table and tail query; a warm-up reads in pages of this size. */
const PAGE = 10_000;
/** Ids skipped by a tail are re-asked for this long (a transaction still committing). */
const GAP_TTL_MS = 60_000;
const MAX_GAPS = 2_000;
/** A jump of more ids than this is not worth remembering gaps for (bulk deletes, restarts). */
const MAX_GAP_SPAN = 200;

/**
 * Follows a table by its increasing id. Ids are handed out before commit, so a row may become
 * visible after a higher one: ids skipped over are remembered for a while and asked for again.
 */
export class Tail<R extends { id: string | number }> {
  private cursor = 0;
  private readonly gaps = new Map<number, number>();

  /** The last id seen. */
  get after(): number {
    return this.cursor;
  }

  /** Ids skipped over and still worth asking for. */
  get missing(): number[] {
    return [...this.gaps.keys()];
  }

  /**
   * Whether a read that finds nothing above `last` would bring nothing new: every id up to
   * `last` seen, none skipped over and still awaited.
   */
  covers(last: number): boolean {
    return last <= this.cursor && this.gaps.size === 0;
  }

  /**
   * Takes the rows of one query (new rows after `after`, and any of `missing`), handing each
   * unseen one to `handle` in id order. Returns how many rows were new.
   */
  absorb(rows: readonly R[], now: number, handle: (row: R) => void): number {
    let fresh = 0;
    for (const row of rows) {
      const id = num(row.id);
      if (id > this.cursor) {
        if (this.cursor > 0 && id - this.cursor - 1 <= MAX_GAP_SPAN) {
          for (let k = this.cursor + 1; k < id; k++) this.gaps.set(k, now);
        }
        this.cursor = id;
        fresh++;
      } else if (!this.gaps.delete(id)) {
        continue;
      }
      handle(row);
    }
    for (const [id, since] of this.gaps) {
      if (now - since > GAP_TTL_MS || this.gaps.size > MAX_GAPS) this.gaps.delete(id);
    }
    return fresh;
  }
}

/**
 * One poll at a time: callers arriving while one runs share the next, which starts after the
 * latest of them arrived (so it sees every row committed before each of them).
 */
class SharedPoll {
  private running: Promise<void> | undefined;
  private queued: Promise<void> | undefined;

  constructor(private readonly poll: () => Promise<void>) {}

  run(): Promise<void> {
    if (this.queued) return this.queued;
    const previous = this.running ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(() => {
        this.queued = undefined;
        const run = this.poll();
        this.running = run;
        return run.finally(() => {
          if (this.running === run) this.running = undefined;
        });
      });
    this.queued = next;
    return next;
  }
}

/** The per-site models, their catalogs (product cards), and the tails that keep them current. */
export class SiteModels {
  private readonly models = new Map<string, RecModel>();
  private readonly catalogs = new Map<string, Map<string, ProductCard>>();
  private readonly orders = new Tail<TailOrder & { id: number }>();
  private readonly events = new Tail<StoredEvent>();
  private readonly ordersPoll = new SharedPoll(() => this.pollOrders());
  private readonly eventsPoll = new SharedPoll(() => this.pollEvents());
  /** The one EASE^R rebuild under way (sites are rebuilt one after the other). */
  private rebuilding: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    /** The core's events, read through the extension context (never by SQL of ours). */
    private readonly coreEvents: Pick<EventsRecorder, 'read'>,
    siteIds: Iterable<string>,
    private readonly now: () => number,
    private readonly logger: Logger,
    options: Partial<RecModelOptions> = {},
  ) {
    for (const id of siteIds) {
      this.models.set(id, new RecModel(options));
      this.catalogs.set(id, new Map());
    }
  }

  model(siteId: string): RecModel | undefined {
    return this.models.get(siteId);
  }

  /** Whether the site's catalog has the sku (the recommendation filter). */
  inCatalog(siteId: string, sku: string): boolean {
    return this.catalogs.get(siteId)?.has(sku) ?? false;
  }

  /** What a widget shows of a product, from memory (kept in step with imports). */
  card(siteId: string, sku: string): ProductCard | undefined {
    return this.catalogs.get(siteId)?.get(sku);
  }

  /** Loads the catalogs and the whole history, then precomputes the neighbour lists. */
  async warm(): Promise<void> {
    const start = performance.now();
    for (const [siteId, model] of this.models) {
      await this.reloadCatalog(siteId);
      // What retention folded away of deleted events, before the events still stored.
      model.addViewCounts(await readCoviews(this.db, siteId));
    }
    await this.sync();
    for (const model of this.models.values()) model.warm();
    this.refreshDense();
    const stats = [...this.models].map(([id, m]) => `${id}:${m.size}`).join(' ');
    this.logger.info('recommendations warmed', {
      ms: Math.round(performance.now() - start),
      items: stats,
    });
  }

  /** Re-reads one site's product cards (after an import here or on another instance). */
  async reloadCatalog(siteId: string): Promise<void> {
    const model = this.models.get(siteId);
    if (!model) return;
    const cards = await readProductCards(this.db, siteId);
    this.catalogs.set(siteId, new Map(cards.map((c) => [c.sku, c])));
    // New items become known to the fallbacks (trending, then catalog order).
    model.addItems(cards.map((c) => c.sku));
  }

  /**
   * Catches up with every row committed before this call: a request that follows a write sees
   * it. Concurrent callers share one poll per table, started after the latest of them arrived.
   */
  async sync(): Promise<void> {
    // Both tables at once: two round trips in parallel, not one after the other.
    await Promise.all([this.syncEvents(), this.syncOrders()]);
  }

  /** `sync` for the core's events only (views and cart additions). */
  syncEvents(): Promise<void> {
    return this.eventsPoll.run();
  }

  /**
   * `sync` for orders only. `lastSeq`, when given, is the highest order seq seen by a read
   * made after the caller arrived: when the tail already has every order up to it and awaits
   * no late one, a poll would read nothing, so none is made.
   */
  syncOrders(lastSeq?: number): Promise<void> {
    if (lastSeq !== undefined && this.orders.covers(lastSeq)) return Promise.resolve();
    return this.ordersPoll.run();
  }

  private async pollOrders(): Promise<void> {
    const now = this.now();
    for (;;) {
      const orders = await readOrdersAfter(this.db, {
        after: this.orders.after,
        seqs: this.orders.missing,
        limit: PAGE,
      });
      const fresh = this.orders.absorb(
        orders.map((o) => ({ ...o, id: o.seq })),
        now,
        (order) => {
          const model = this.models.get(order.siteId);
          if (model && order.skus.length > 0) model.addBasket(order.skus, order.at);
        },
      );
      if (fresh < PAGE) break;
    }
    this.refreshDense();
  }

  private async pollEvents(): Promise<void> {
    const now = this.now();
    for (;;) {
      const events = await this.coreEvents.read(this.db, {
        after: this.events.after,
        ids: this.events.missing,
        limit: PAGE,
      });
      const fresh = this.events.absorb(events, now, (event) => {
        const model = this.models.get(event.siteId);
        // Purchases reach the model as whole orders (co-purchase pairs and trending) above.
        if (!model || !event.sku || (event.kind !== 'view' && event.kind !== 'add_to_cart')) {
          return;
        }
        model.addEvent({
          profileId: event.profileId ?? 'unknown',
          sku: event.sku,
          type: event.kind,
          at: event.at,
        });
      });
      if (fresh < PAGE) break;
    }
    // Views leave the weights fresh, but a rebuild that failed is retried at the next poll.
    this.refreshDense();
  }

  /**
   * Starts a background rebuild of stale EASE^R weights, one site at a time (each build holds
   * 12·n² bytes at its peak); the old weights serve meanwhile.
   */
  private refreshDense(): void {
    if (this.rebuilding) return;
    const stale = [...this.models].find(([, model]) => model.denseStale && !model.denseBuilding);
    if (!stale) return;
    const [siteId, model] = stale;
    this.rebuilding = model
      .refreshDense()
      .catch((err: Error) => {
        this.logger.error('recommendation rebuild failed', { site: siteId, error: err.message });
      })
      .finally(() => {
        this.rebuilding = undefined;
        // The next stale site, if any (a failed one waits for its next poll).
        if (!model.denseStale) this.refreshDense();
      });
  }
}
