import pg from 'pg';
import type { Logger } from '../logger.js';
import type { Db, Queryable, QueryResult } from './types.js';

/** SQLSTATEs worth re-running a whole transaction for (deadlock, serialization failure). */
const retryable = new Set(['40P01', '40001']);
const maxAttempts = 5;

function wrap(client: pg.Pool | pg.PoolClient): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      const res = await client.query(sql, [...params]);
      return { rows: res.rows as R[], rowCount: res.rowCount ?? 0 } as QueryResult<R>;
    },
    async exec(sql: string) {
      // No parameters: the simple query protocol runs several statements at once.
      await client.query(sql);
    },
  };
}

/** `application_name` of the LISTEN connection (unless the URL sets one). */
export const listenerApplicationName = 'omnikit listener';

/** PostgreSQL through a connection pool, plus one dedicated connection for LISTEN. */
export async function openPostgres(options: {
  url: string;
  schema?: string;
  logger: Logger;
  poolSize?: number;
  /** Wait before reopening a lost LISTEN connection, and between failed attempts (1000 ms). */
  listenerReconnectMs?: number;
}): Promise<Db> {
  const { logger } = options;
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
    // A dead peer (a dropped NAT entry, a failed-over host) is noticed in about a minute.
    keepAlive: true,
    keepAliveInitialDelayMillis: 30_000,
    // Every pooled session resolves unqualified names in the configured schema.
    ...(options.schema ? { options: `-c search_path=${options.schema}` } : {}),
  };
  const pool = new pg.Pool({ ...clientConfig, max: options.poolSize ?? 10 });
  // An idle client losing its connection must not crash the process; the pool replaces it.
  pool.on('error', (err) => logger.warn('db pool error', { error: err.message }));
  const root = wrap(pool);
  if (options.schema) {
    // Two instances may start at once: serialize the CREATE under an advisory lock.
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('SELECT pg_advisory_xact_lock(1869440107, hashtext($1))', [
        `schema:${options.schema}`,
      ]);
      await client.query(`CREATE SCHEMA IF NOT EXISTS "${options.schema}"`);
      await client.query('COMMIT');
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  interface Subscription {
    onPayload: (payload: string) => void;
    onReconnect: (() => void) | undefined;
  }
  const listeners = new Map<string, Set<Subscription>>();
  let listener: pg.Client | null = null;
  let connecting: Promise<pg.Client> | null = null;
  /** The listening connection was lost: notifications were missed until the next one. */
  let lost = false;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;

  async function connectListener(): Promise<pg.Client> {
    // Named, so operators (and tests) can tell it from the pooled sessions in pg_stat_activity.
    const client = new pg.Client({ ...clientConfig, application_name: listenerApplicationName });
    client.on('notification', (msg) => {
      for (const sub of listeners.get(msg.channel) ?? []) sub.onPayload(msg.payload ?? '');
    });
    // An error, or a connection that simply ends (a restart, a proxy timeout), both mean the
    // notifications stop: reopen and let subscribers re-read.
    const gone = (why: string) => {
      // Only the active listener matters (a failed connect rejects its own promise).
      if (closed || listener !== client) return;
      logger.warn('db listener lost', { error: why });
      listener = null;
      lost = true;
      void client.end().catch(() => {});
      scheduleReconnect();
    };
    client.on('error', (err) => gone(err.message));
    client.on('end', () => gone('connection ended'));
    try {
      await client.connect();
      for (const channel of listeners.keys()) await client.query(`LISTEN "${channel}"`);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    return client;
  }

  /** The listening connection, opened once for concurrent callers; tells subscribers when back. */
  function ensureListener(): Promise<pg.Client> {
    if (listener) return Promise.resolve(listener);
    connecting ??= connectListener().then(
      (client) => {
        connecting = null;
        if (closed) {
          void client.end().catch(() => {});
          throw new Error('database closed');
        }
        listener = client;
        if (lost) {
          lost = false;
          reconnected();
        }
        return client;
      },
      (err: unknown) => {
        connecting = null;
        throw err;
      },
    );
    return connecting;
  }

  function reconnected(): void {
    logger.info('db listener reconnected');
    for (const set of listeners.values()) {
      for (const sub of [...set]) {
        try {
          sub.onReconnect?.();
        } catch (err) {
          logger.error('db listener reconnect callback failed', { error: (err as Error).message });
        }
      }
    }
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      ensureListener().catch((err: Error) => {
        if (closed) return;
        logger.warn('db listener reconnect failed', { error: err.message });
        scheduleReconnect();
      });
    }, options.listenerReconnectMs ?? 1000);
  }

  return {
    kind: 'postgres',
    query: root.query,
    exec: root.exec,
    notify: async (channel, payload) => {
      await root.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      for (let attempt = 1; ; attempt++) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          const result = await fn(wrap(client));
          await client.query('COMMIT');
          return result;
        } catch (err) {
          await client.query('ROLLBACK').catch(() => {});
          const code = (err as { code?: unknown }).code;
          if (attempt < maxAttempts && typeof code === 'string' && retryable.has(code)) continue;
          throw err;
        } finally {
          client.release();
        }
      }
    },
    async listen(channel, onPayload, onReconnect) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel ${channel}`);
      const client = await ensureListener();
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await client.query(`LISTEN "${channel}"`);
      }
      const sub: Subscription = { onPayload, onReconnect };
      set.add(sub);
      return async () => {
        set.delete(sub);
      };
    },
    async close() {
      closed = true;
      clearTimeout(reconnectTimer);
      const l = listener;
      listener = null;
      if (l) await l.end().catch(() => {});
      await pool.end();
    },
  };
}
