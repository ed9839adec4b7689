// Live stock: `GET /v1/stock/stream` event streams, written by the server's one event-stream
// writer. Each stream watches a few skus of one site; a committed stock change (this instance or
// another, through the notification bus) makes the hub
// re-read those skus once and send every watching stream its fresh answer. A committed change of
// the site's stores does the same for every sku any stream of the site watches. A stream is only
// sent an answer that differs from the last one it was sent for that sku.
import type { StockAnswer } from '@omnikit/protocol';
import type { Db } from '../../db/index.js';
import type { EventStream, EventStreams, StreamSlot } from '../../http/event-stream.js';
import type { Logger } from '../../logger.js';
import { rankStores } from '../core/stock.js';
import { readInventory } from '../store/inventory.js';
import { readStores } from '../store/stores.js';

/** Each sku's `GET /v1/stock` answer: the site's stores and the skus' rows, ranked. */
export async function stockAnswers(
  db: Db,
  siteId: string,
  skus: readonly string[],
  origin: StockAnswer['origin'],
  lowStockThreshold: number,
): Promise<StockAnswer[]> {
  const [stores, rows] = [await readStores(db, siteId), await readInventory(db, siteId, skus)];
  return skus.map((sku) => ({
    ...rankStores(sku, stores, rows, {
      lowThreshold: lowStockThreshold,
      ...(origin ? { origin } : {}),
    }),
    origin,
    lowStockThreshold,
  }));
}

interface Watcher {
  siteId: string;
  skus: ReadonlySet<string>;
  origin: StockAnswer['origin'];
  lowStockThreshold: number;
  /** Sends `data`, a StockAnswer of `sku` as JSON (serialized once for every stream). */
  send(sku: string, data: string): void;
}

export class StockStreams {
  private readonly watchers = new Set<Watcher>();
  private readonly streams = new Set<EventStream>();
  private readonly pending = new Map<string, Set<string>>();
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly writer: EventStreams,
    private readonly logger: Logger,
    /** Heartbeat interval of stock streams, when it differs from the server's. */
    private readonly heartbeatMs?: number,
  ) {}

  /** Open streams (for tests and metrics). */
  get size(): number {
    return this.watchers.size;
  }

  /** A committed change of these skus' stock. */
  changed(siteId: string, skus: readonly string[]): void {
    const watched = this.watched(siteId);
    this.refresh(
      siteId,
      skus.filter((sku) => watched.has(sku)),
    );
  }

  /** A committed change of the site's stores: every stream of the site gets fresh answers. */
  storesChanged(siteId: string): void {
    this.refresh(siteId, this.watched(siteId));
  }

  /** Every sku some stream of the site watches. */
  private watched(siteId: string): Set<string> {
    const skus = new Set<string>();
    for (const w of this.watchers) {
      if (w.siteId === siteId) for (const sku of w.skus) skus.add(sku);
    }
    return skus;
  }

  /** Queues a re-read of these (watched) skus of the site, and starts the flush if idle. */
  private refresh(siteId: string, skus: Iterable<string>): void {
    let set = this.pending.get(siteId);
    for (const sku of skus) {
      if (!set) this.pending.set(siteId, (set = new Set()));
      set.add(sku);
    }
    if (set) void this.flush();
  }

  private async flush(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending.size > 0) {
        const [siteId, skus] = this.pending.entries().next().value as [string, Set<string>];
        this.pending.delete(siteId);
        const watchers = [...this.watchers].filter(
          (w) => w.siteId === siteId && [...w.skus].some((s) => skus.has(s)),
        );
        // One read per distinct origin and threshold; usually one or a handful.
        const groups = new Map<string, Watcher[]>();
        for (const w of watchers) {
          const key = JSON.stringify([w.origin, w.lowStockThreshold]);
          const group = groups.get(key);
          if (group) group.push(w);
          else groups.set(key, [w]);
        }
        for (const group of groups.values()) {
          const { origin, lowStockThreshold } = group[0]!;
          // Only the skus this group watches (a store change queues every sku of the site).
          const wanted = new Set<string>();
          for (const w of group) for (const s of w.skus) if (skus.has(s)) wanted.add(s);
          const answers = await stockAnswers(
            this.db,
            siteId,
            [...wanted],
            origin,
            lowStockThreshold,
          );
          for (const body of answers) {
            const data = JSON.stringify(body);
            for (const w of group) if (w.skus.has(body.sku)) w.send(body.sku, data);
          }
        }
      }
    } catch (err) {
      this.logger.warn('stock stream refresh failed', { error: (err as Error).message });
    } finally {
      this.running = false;
    }
  }

  /**
   * Opens a stream: the current answer of every sku at once, then one event per change. The
   * watcher is registered before the first read, so a change committed meanwhile is re-read and
   * sent after the first answers, never lost and never overtaken by an older read.
   */
  async open(
    watcher: Omit<Watcher, 'send'>,
    options: {
      signal: AbortSignal;
      slots: readonly StreamSlot[];
      /** Inspects the first answers; what it throws refuses the stream (e.g. a 404). */
      check?: (initial: readonly StockAnswer[]) => void;
    },
  ): Promise<Response> {
    const { check, ...streamOptions } = options;
    const stream = this.writer.create({
      ...streamOptions,
      ...(this.heartbeatMs === undefined ? {} : { heartbeatMs: this.heartbeatMs }),
    });
    let ready = false;
    const dirty = new Set<string>();
    // The last answer sent per sku: a re-read that changed nothing sends nothing.
    const sent = new Map<string, string>();
    const entry: Watcher = {
      ...watcher,
      send: (sku, data) => {
        if (!ready) {
          dirty.add(sku);
          return;
        }
        if (sent.get(sku) === data) return;
        sent.set(sku, data);
        stream.send('stock', data);
      },
    };
    this.watchers.add(entry);
    this.streams.add(stream);
    stream.onClose(() => {
      this.watchers.delete(entry);
      this.streams.delete(stream);
    });
    let initial: StockAnswer[];
    try {
      initial = await stockAnswers(
        this.db,
        watcher.siteId,
        [...watcher.skus],
        watcher.origin,
        watcher.lowStockThreshold,
      );
      check?.(initial);
    } catch (err) {
      stream.close();
      throw err;
    }
    ready = true;
    for (const answer of initial) entry.send(answer.sku, JSON.stringify(answer));
    if (dirty.size > 0) this.changed(watcher.siteId, [...dirty]);
    return stream.response();
  }

  /** Ends every open stock stream (the extension closing before the server). */
  closeAll(): void {
    for (const stream of [...this.streams]) stream.close();
  }
}
