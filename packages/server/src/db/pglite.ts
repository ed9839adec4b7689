import { PGlite, type Transaction } from '@electric-sql/pglite';
import type { Db, Queryable, QueryResult } from './types.js';

function wrap(target: PGlite | Transaction): Queryable {
  return {
    async query<R extends object>(sql: string, params: readonly unknown[] = []) {
      const res = await target.query<R>(sql, [...params]);
      return { rows: res.rows, rowCount: res.affectedRows ?? res.rows.length } as QueryResult<R>;
    },
    async exec(sql: string) {
      await target.exec(sql);
    },
  };
}

/** Embedded PostgreSQL (WASM): a data directory on disk, or in memory without one. */
export async function openPglite(options: {
  dataDir?: string;
  schema?: string;
  template?: Blob;
}): Promise<Db> {
  const pg = await PGlite.create({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(options.template ? { loadDataDir: options.template } : {}),
  });
  const root = wrap(pg);
  if (options.schema) {
    // One connection, so a session-level search_path holds for every later query.
    await pg.exec(
      `CREATE SCHEMA IF NOT EXISTS "${options.schema}"; SET search_path TO "${options.schema}"`,
    );
  }
  return {
    kind: 'pglite',
    query: root.query,
    exec: root.exec,
    notify: async (channel, payload) => {
      await root.query('SELECT pg_notify($1, $2)', [channel, payload]);
    },
    transaction: (fn) => pg.transaction((tx) => fn(wrap(tx))),
    // No `onReconnect`: the embedded database has no connection to lose.
    listen: async (channel, onPayload) => {
      const stop = await pg.listen(channel, onPayload);
      return async () => {
        if (!pg.closed) await stop();
      };
    },
    close: async () => {
      if (!pg.closed) await pg.close();
    },
  };
}
