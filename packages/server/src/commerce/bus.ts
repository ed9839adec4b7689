// Cross-instance change notices of the commerce data (stock rows, catalog, stores), on a
// notification channel of their own: queued with pg_notify inside the writing transaction (so
// only committed changes are announced), delivered in-process right after the commit, and to
// other instances by PostgreSQL. Each instance ignores the notices it sent itself.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/index.js';
import type { Logger } from '../logger.js';

/**
 * What changed: stock of some skus, a site's catalog (a reload of its sku list), or a site's
 * stores (name, address, position, hours, pickup: every stock answer of the site).
 */
export type CommerceNotice =
  | { type: 'stock'; siteId: string; skus: string[] }
  | { type: 'catalog'; siteId: string; skus: string[] }
  | { type: 'stores'; siteId: string };

/** NOTIFY payloads must stay under 8000 bytes: longer sku lists go out in several notices. */
const MAX_PAYLOAD = 7_000;

export class CommerceBus {
  private readonly instance = randomUUID();
  private readonly handlers = new Set<(notice: CommerceNotice) => void>();
  private channel: string | undefined;
  private stopListening: (() => Promise<void>) | undefined;
  private readonly reconnectHandlers = new Set<() => void>();

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** Channels are database-wide: one per schema, like the core's pokes. */
  async start(): Promise<void> {
    const { rows } = await this.db.query<{ s: string }>('SELECT current_schema() AS s');
    const schema = (rows[0]?.s ?? 'public').toLowerCase().replace(/[^a-z0-9_]/g, '_');
    this.channel = `omnikit_commerce_${schema}`.slice(0, 63);
    this.stopListening = await this.db.listen(
      this.channel,
      (payload) => this.receive(payload),
      // Notices sent while the listening connection was down are lost: re-read everything.
      () => this.reconnectHandlers.forEach((h) => h()),
    );
  }

  /** `handler` runs when notices may have been missed (the listener reconnected). */
  onReconnect(handler: () => void): void {
    this.reconnectHandlers.add(handler);
  }

  async stop(): Promise<void> {
    const stop = this.stopListening;
    this.stopListening = undefined;
    await stop?.();
  }

  on(handler: (notice: CommerceNotice) => void): () => void {
    this.handlers.add(handler);
    return () => this.handlers.delete(handler);
  }

  /** Queues the notice for other instances; PostgreSQL sends it on commit. */
  async publishInTx(tx: Queryable, notice: CommerceNotice): Promise<void> {
    if (!this.channel) return;
    if (notice.type === 'stores') {
      const payload = JSON.stringify({ i: this.instance, t: notice.type, s: notice.siteId });
      await tx.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
      return;
    }
    for (const skus of chunks(notice.skus)) {
      const payload = JSON.stringify({
        i: this.instance,
        t: notice.type,
        s: notice.siteId,
        k: skus,
      });
      await tx.query('SELECT pg_notify($1, $2)', [this.channel, payload]);
    }
  }

  /** Delivers a notice to this instance's handlers; call after the commit. */
  emit(notice: CommerceNotice): void {
    for (const handler of [...this.handlers]) {
      try {
        handler(notice);
      } catch (err) {
        this.logger.error('commerce notice handler failed', { error: (err as Error).message });
      }
    }
  }

  private receive(payload: string): void {
    let msg: { i?: unknown; t?: unknown; s?: unknown; k?: unknown };
    try {
      msg = JSON.parse(payload) as typeof msg;
    } catch {
      this.logger.warn('ignored malformed commerce notification');
      return;
    }
    if (msg.i === this.instance || typeof msg.s !== 'string') return;
    if (msg.t === 'stores') {
      this.emit({ type: msg.t, siteId: msg.s });
      return;
    }
    if (!Array.isArray(msg.k)) return;
    const skus = msg.k.filter((k): k is string => typeof k === 'string');
    if (msg.t === 'stock' || msg.t === 'catalog') {
      this.emit({ type: msg.t, siteId: msg.s, skus });
    }
  }
}

function chunks(skus: readonly string[]): string[][] {
  const out: string[][] = [];
  let current: string[] = [];
  let size = 0;
  for (const sku of skus) {
    if (size + sku.length + 3 > MAX_PAYLOAD && current.length > 0) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(sku);
    size += sku.length + 3;
  }
  if (current.length > 0 || out.length === 0) out.push(current);
  return out;
}
