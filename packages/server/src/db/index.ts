import type { Logger } from '../logger.js';
import { openPglite } from './pglite.js';
import { openPostgres } from './postgres.js';
import type { Db } from './types.js';

export type { Db, Migration, Queryable, QueryResult, Row } from './types.js';
export { migrate, coreMigrations } from './migrations.js';

/** Where the data lives. Nothing set: in-memory PGlite (tests, demos). */
export interface DatabaseOptions {
  /** PostgreSQL connection string; takes precedence over `dataDir`. */
  url?: string;
  /** PGlite data directory (embedded, persistent). */
  dataDir?: string;
  /** Schema for every table (created when missing), so tests can share one database. */
  schema?: string;
  /** Maximum pooled PostgreSQL connections (10 by default). */
  poolSize?: number;
  /** PostgreSQL: wait before reopening a lost LISTEN connection (1000 ms by default). */
  listenerReconnectMs?: number;
  /**
   * PGlite only: a `dumpDataDir()` tarball to start from instead of running initdb, which is
   * most of PGlite's start-up time (test suites start many in-memory servers).
   */
  pgliteTemplate?: Blob;
}

/** Opens the configured driver. */
export async function openDb(options: DatabaseOptions, logger: Logger): Promise<Db> {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw new Error(`database.schema: "${schema}" must match [a-z_][a-z0-9_]*`);
  }
  if (options.url) {
    return openPostgres({
      url: options.url,
      logger,
      ...(schema ? { schema } : {}),
      ...(options.poolSize ? { poolSize: options.poolSize } : {}),
      ...(options.listenerReconnectMs ? { listenerReconnectMs: options.listenerReconnectMs } : {}),
    });
  }
  return openPglite({
    ...(options.dataDir ? { dataDir: options.dataDir } : {}),
    ...(schema ? { schema } : {}),
    ...(options.pgliteTemplate ? { template: options.pgliteTemplate } : {}),
  });
}
