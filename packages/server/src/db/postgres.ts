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

/** PostgreSQL through a connection pool, plus one dedicated connection for LISTEN. */
export async function openPostgres(options: {
  url: string;
  schema?: string;
  logger: Logger;
  poolSize?: number;
}): Promise<Db> {
  const { logger } = options;
  const clientConfig: pg.ClientConfig = {
    connectionString: options.url,
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

  const listeners = new Map<string, Set<(payload: string) => void>>();
  let listener: pg.Client | null = null;
  let closed = false;
  let reconnectTimer: NodeJS.Timeout | undefined;

  async function connectListener(): Promise<pg.Client> {
    const client = new pg.Client(clientConfig);
    client.on('notification', (msg) => {
      for (const cb of listeners.get(msg.channel) ?? []) cb(msg.payload ?? '');
    });
    client.on('error', (err) => {
      logger.warn('db listener lost', { error: err.message });
      if (listener === client) listener = null;
      void client.end().catch(() => {});
      scheduleReconnect();
    });
    await client.connect();
    for (const channel of listeners.keys()) await client.query(`LISTEN "${channel}"`);
    return client;
  }

  function scheduleReconnect(): void {
    if (closed || reconnectTimer) return;
    reconnectTimer = setTimeout(() => {
      reconnectTimer = undefined;
      connectListener().then(
        (client) => {
          if (closed) void client.end();
          else listener = client;
        },
        (err: Error) => {
          logger.warn('db listener reconnect failed', { error: err.message });
          scheduleReconnect();
        },
      );
    }, 1000);
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
    async listen(channel, onPayload) {
      if (!/^[a-z_][a-z0-9_]{0,62}$/.test(channel)) throw new Error(`bad channel ${channel}`);
      listener ??= await connectListener();
      let set = listeners.get(channel);
      if (!set) {
        set = new Set();
        listeners.set(channel, set);
        await listener.query(`LISTEN "${channel}"`);
      }
      set.add(onPayload);
      return async () => {
        set.delete(onPayload);
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
