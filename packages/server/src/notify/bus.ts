// The one notification bus: how a committed change is announced to the streams and caches of
// this instance and of every other instance on the same database. A message is published inside
// the writing transaction: NOTIFY is queued there (PostgreSQL delivers it only if the transaction
// commits) and the local delivery runs right after the commit. Each instance ignores what it sent
// itself. PGlite has no other instance (its database belongs to one process), so there nothing
// is NOTIFYed or LISTENed: local delivery is the whole path.
import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '../db/index.js';
import type { Logger } from '../logger.js';

/** A kind of message with its wire form. Channels are named `omnikit_<name>_<schema>`. */
export interface Topic<T> {
  readonly name: string;
  /** The NOTIFY payloads of a message: several when one would pass the 8000-byte limit. */
  encode(message: T): Record<string, unknown>[];
  /** A payload from another instance back into a message; undefined when malformed. */
  decode(payload: Record<string, unknown>): T | undefined;
}

/** Queues `message` for delivery once the surrounding transaction commits. */
export type Publish = <T>(topic: Topic<T>, message: T, options?: { notified?: boolean }) => void;

type Handler = (message: never) => void;

interface Subscribers {
  handlers: Set<Handler>;
  resync: Set<() => void>;
  /** Stops the database subscription (PostgreSQL only). */
  stop?: () => Promise<void>;
}

export class NotificationBus {
  private readonly instance = randomUUID();
  private readonly topics = new Map<string, Subscribers>();
  private schema = 'public';

  constructor(
    private readonly db: Db,
    private readonly logger: Logger,
  ) {}

  /** Only PostgreSQL can have other instances. */
  private get shared(): boolean {
    return this.db.kind === 'postgres';
  }

  /** Learns the schema: channels are database-wide, so each schema gets its own. */
  async start(): Promise<void> {
    const { rows } = await this.db.query<{ s: string }>('SELECT current_schema() AS s');
    this.schema = (rows[0]?.s ?? 'public').toLowerCase().replace(/[^a-z0-9_]/g, '_');
  }

  /** The notification channel of a topic. */
  channel(topic: Topic<unknown>): string {
    return `omnikit_${topic.name}_${this.schema}`.slice(0, 63);
  }

  /**
   * `handler` hears every message of the topic, from this instance and from others; `onResync`
   * runs when messages may have been missed (the listening connection came back after a loss),
   * so whoever keeps state from messages re-reads it. Resolves once listening.
   */
  async subscribe<T>(
    topic: Topic<T>,
    handler: (message: T) => void,
    onResync?: () => void,
  ): Promise<() => void> {
    let subs = this.topics.get(topic.name);
    if (!subs) {
      subs = { handlers: new Set(), resync: new Set() };
      this.topics.set(topic.name, subs);
      if (this.shared) {
        const target = subs;
        subs.stop = await this.db.listen(
          this.channel(topic),
          (payload) => this.receive(topic, payload),
          () => target.resync.forEach((run) => this.guard(run)),
        );
      }
    }
    const h = handler as Handler;
    subs.handlers.add(h);
    if (onResync) subs.resync.add(onResync);
    const target = subs;
    return () => {
      target.handlers.delete(h);
      if (onResync) target.resync.delete(onResync);
    };
  }

  /**
   * The `pg_notify` arguments of a message (none on PGlite), for a caller that folds the NOTIFY
   * into a statement of its own to save a round trip; it then publishes with `notified: true`.
   */
  notifications<T>(topic: Topic<T>, message: T): { channel: string; payload: string }[] {
    if (!this.shared) return [];
    const channel = this.channel(topic);
    return topic
      .encode(message)
      .map((p) => ({ channel, payload: JSON.stringify({ i: this.instance, ...p }) }));
  }

  /** Queues the NOTIFY of a message inside `tx`; PostgreSQL sends it on commit. */
  async notifyInTx<T>(tx: Queryable, topic: Topic<T>, message: T): Promise<void> {
    for (const n of this.notifications(topic, message)) {
      await tx.query('SELECT pg_notify($1, $2)', [n.channel, n.payload]);
    }
  }

  /** Delivers a message to this instance's handlers; call after the commit. */
  emit<T>(topic: Topic<T>, message: T): void {
    for (const handler of [...(this.topics.get(topic.name)?.handlers ?? [])]) {
      this.guard(() => (handler as (m: T) => void)(message));
    }
  }

  /**
   * Runs `fn` in a transaction; what it publishes is NOTIFYed inside the transaction and
   * delivered here after the commit. A retried attempt forgets the messages of the failed one.
   */
  async transaction<R>(fn: (tx: Queryable, publish: Publish) => Promise<R>): Promise<R> {
    let local: (() => void)[] = [];
    const result = await this.db.transaction(async (tx) => {
      local = [];
      const remote: { topic: Topic<unknown>; message: unknown }[] = [];
      const publish: Publish = (topic, message, options) => {
        local.push(() => this.emit(topic, message));
        // `notified`: the caller's own statement already queued the NOTIFY.
        if (!options?.notified) remote.push({ topic: topic as Topic<unknown>, message });
      };
      const out = await fn(tx, publish);
      for (const r of remote) await this.notifyInTx(tx, r.topic, r.message);
      return out;
    });
    for (const deliver of local) deliver();
    return result;
  }

  async stop(): Promise<void> {
    const subs = [...this.topics.values()];
    this.topics.clear();
    for (const s of subs) await s.stop?.();
  }

  private guard(run: () => void): void {
    try {
      run();
    } catch (err) {
      this.logger.error('notification handler failed', { error: (err as Error).message });
    }
  }

  private receive<T>(topic: Topic<T>, payload: string): void {
    let raw: unknown;
    try {
      raw = JSON.parse(payload);
    } catch {
      raw = undefined;
    }
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      this.logger.warn('ignored malformed notification', { topic: topic.name });
      return;
    }
    const { i, ...rest } = raw as Record<string, unknown>;
    if (i === this.instance) return;
    const message = topic.decode(rest);
    if (message !== undefined) this.emit(topic, message);
  }
}
