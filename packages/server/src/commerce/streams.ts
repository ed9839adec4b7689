// Live stock: `GET /v1/stock/stream` event streams. Each stream watches a few skus of one site;
// a committed stock change (this instance or another, through the commerce bus) makes the hub
// re-read those skus once and send every watching stream its fresh answer.
import type { StockAnswer } from '@omnikit/protocol';
import type { Db } from '../db/index.js';
import type { Logger } from '../logger.js';
import { rankStores } from './stock.js';
import { readInventory, readStores } from './store.js';
import { eventStreamHeaders } from '../security.js';

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
  send(body: StockAnswer): void;
}

export class StockStreams {
  private readonly watchers = new Set<Watcher>();
  private readonly closers = new Set<() => void>();
  private readonly pending = new Map<string, Set<string>>();
  private running = false;

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
    private readonly heartbeatMs: number,
  ) {}

  /** Open streams (for tests and metrics). */
  get size(): number {
    return this.watchers.size;
  }

  /** A committed change of these skus' stock. */
  changed(siteId: string, skus: readonly string[]): void {
    let set = this.pending.get(siteId);
    for (const sku of skus) {
      if (![...this.watchers].some((w) => w.siteId === siteId && w.skus.has(sku))) continue;
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
          (w) => w.siteId === siteId && [...skus].some((s) => w.skus.has(s)),
        );
        // One read per distinct origin and threshold; usually one or a handful.
        const groups = new Map<string, Watcher[]>();
        for (const w of watchers) {
          const key = JSON.stringify([w.origin, w.lowStockThreshold]);
          groups.set(key, [...(groups.get(key) ?? []), w]);
        }
        for (const group of groups.values()) {
          const { origin, lowStockThreshold } = group[0]!;
          const answers = await stockAnswers(this.db, siteId, [...skus], origin, lowStockThreshold);
          for (const w of group) {
            for (const body of answers) if (w.skus.has(body.sku)) w.send(body);
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
    readInitial: () => Promise<StockAnswer[]>,
    signal: AbortSignal,
  ): Promise<Response> {
    const encoder = new TextEncoder();
    let controller: ReadableStreamDefaultController<Uint8Array> | undefined;
    let closed = false;
    let ready = false;
    const dirty = new Set<string>();
    const write = (text: string): void => {
      if (closed || !controller) return;
      try {
        controller.enqueue(encoder.encode(text));
      } catch {
        close();
      }
    };
    const entry: Watcher = {
      ...watcher,
      send: (body) => {
        if (!ready) dirty.add(body.sku);
        else write(`event: stock\ndata: ${JSON.stringify(body)}\n\n`);
      },
    };
    let heartbeat: NodeJS.Timeout | undefined;
    const close = (): void => {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      this.watchers.delete(entry);
      this.closers.delete(close);
      signal.removeEventListener('abort', close);
      try {
        controller?.close();
      } catch {
        // Already closed or cancelled by the client.
      }
    };
    this.closers.add(close);
    signal.addEventListener('abort', close);
    this.watchers.add(entry);
    let initial: StockAnswer[];
    try {
      initial = await readInitial();
    } catch (err) {
      close();
      throw err;
    }
    const body = new ReadableStream<Uint8Array>({
      start: (ctrl) => {
        if (closed) {
          // The client went away while the first answers were read.
          ctrl.close();
          return;
        }
        controller = ctrl;
        heartbeat = setInterval(() => write(': heartbeat\n\n'), this.heartbeatMs);
        write(': connected\n\n');
        ready = true;
        for (const answer of initial) entry.send(answer);
        if (dirty.size > 0) this.changed(watcher.siteId, [...dirty]);
      },
      cancel: () => close(),
    });
    return new Response(body, { status: 200, headers: eventStreamHeaders });
  }

  /** Ends every open stream (server shutdown). */
  closeAll(): void {
    for (const close of [...this.closers]) close();
  }
}
