/** Rows as both drivers return them: int8 may arrive as a string (pg) or a number (PGlite). */
export type Row = Record<string, unknown>;

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Something that runs SQL: the database itself or an open transaction. */
export interface Queryable {
  /** One statement with `$n` parameters. */
  query<R extends object = Row>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/**
 * The storage the server needs, small enough for two real drivers (embedded PGlite and a
 * PostgreSQL pool) to implement with the same SQL.
 */
export interface Db extends Queryable {
  readonly kind: 'pglite' | 'postgres';
  /** Runs `fn` in one transaction; commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a notification channel; resolves once listening. Returns the unsubscribe.
   * `onReconnect` runs once a lost listening connection is back and listening again: what was
   * notified in between is gone, so re-read whatever it would have announced.
   */
  listen(
    channel: string,
    onPayload: (payload: string) => void,
    onReconnect?: () => void,
  ): Promise<() => Promise<void>>;
  /** Sends a notification now (inside a transaction, use `SELECT pg_notify` to send on commit). */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}

/** A versioned schema change. Ids are applied once each, in list order. */
export interface Migration {
  /** Unique and stable, e.g. `0001_core` or `catalog_0001_products`. */
  id: string;
  sql: string;
}

/** Numbers from int8/numeric columns (strings in pg, numbers in PGlite). */
export function num(value: unknown): number {
  return typeof value === 'number' ? value : Number(value);
}
