import pg from "pg";

/** A pool of PostgreSQL connections for the history (node-postgres). */
export type HistoryPool = pg.Pool;

export interface HistoryPoolOptions {
  /** Connections at most. @defaultValue 4 */
  max?: number;
  /** Longest a statement may run, ms (PostgreSQL's statement_timeout). @defaultValue 30000 */
  statementTimeoutMs?: number;
  /** Longest wait for a connection (connecting or from the pool), ms. @defaultValue 10000 */
  connectTimeoutMs?: number;
  /** Told of errors on idle connections (PostgreSQL restarted, the network cut): never thrown. */
  onError?: (err: Error) => void;
}

/**
 * A pool for DATABASE_URL. Every wait is bounded: connecting (connectTimeoutMs), each statement on
 * the server (statement_timeout) and on the client (query_timeout, a little longer), a transaction
 * left idle (idle_in_transaction_session_timeout). An idle connection that breaks is dropped and
 * reported to onError, never thrown (node-postgres would crash the process on an unhandled 'error').
 */
export function createHistoryPool(databaseUrl: string, options: HistoryPoolOptions = {}): HistoryPool {
  const statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max: options.max ?? 4,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
    statement_timeout: statementTimeoutMs,
    query_timeout: statementTimeoutMs + 5_000,
    idle_in_transaction_session_timeout: statementTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: "pc-invitations history",
  });
  pool.on("error", (err) => options.onError?.(err));
  return pool;
}

/**
 * Checks a connection out of the pool for `use`: while it is out, an error of the connection
 * itself (PostgreSQL restarted between two queries) is caught here rather than crash the process
 * (node-postgres emits it on the client, which has no listener while checked out; the pending or
 * next query fails with it anyway). A connection whose use failed is destroyed, not returned.
 */
export async function checkOut(pool: HistoryPool): Promise<{ client: pg.PoolClient; release(failed?: unknown): void }> {
  const client = await pool.connect();
  const ignore = () => {};
  client.on("error", ignore);
  let released = false;
  return {
    client,
    release(failed) {
      if (released) return;
      released = true;
      client.off("error", ignore);
      client.release(failed === undefined ? undefined : failed instanceof Error ? failed : new Error(String(failed)));
    },
  };
}
