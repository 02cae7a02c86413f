import Cursor from "pg-cursor";
import { checkOut, type HistoryPool } from "./pool.js";
import type { ChainedRow } from "./chain.js";
import { chainedRowOf, STORED_COLUMNS, type StoredRow } from "./verify.js";

/** Filters of a history read; every one given must hold. */
export interface HistoryQuery {
  /** The invitation's identifier (`pacinv-…`). */
  identifier?: string;
  catalog?: string;
  /** The other participant: an account id or a profile id. */
  partner?: string;
  requestId?: string;
  connectionId?: string;
  /** Event type: accepted, rejected, failed, canceled, invitation.held… */
  type?: string;
  /** Events that occurred at or after this time. */
  since?: Date;
  /** Events that occurred before this time. */
  until?: Date;
  /** Rows after this seq (a cursor: the last seq of the page before). */
  afterSeq?: number;
  /** Oldest first (the default) or newest first. */
  order?: "asc" | "desc";
}

/** One row of the history, as read: the columns the hash covers (chain.ts ChainedRow), its hash, the event. */
export type HistoryRecord = Omit<ChainedRow, "body"> & {
  hash: string;
  /** The event as it was delivered. */
  event: Record<string, unknown>;
};

/** Rows a page holds at most. */
export const HISTORY_PAGE_MAX = 1000;

export function toHistoryRecord(row: StoredRow): HistoryRecord {
  const { body, ...columns } = chainedRowOf(row);
  return { ...columns, hash: row.hash, event: JSON.parse(body) as Record<string, unknown> };
}

/** The SQL of a query: WHERE (parameterised), ORDER BY. */
export function historySql(query: HistoryQuery): { text: string; values: unknown[] } {
  const where: string[] = [];
  const values: unknown[] = [];
  const add = (sql: string, value: unknown) => {
    values.push(value);
    where.push(sql.replace("?", `$${values.length}`));
  };
  if (query.identifier !== undefined) add("identifier = ?", query.identifier);
  if (query.catalog !== undefined) add("catalog = ?", query.catalog);
  if (query.partner !== undefined) add("partner = ?", query.partner);
  if (query.requestId !== undefined) add("request_id = ?", query.requestId);
  if (query.connectionId !== undefined) add("connection_id = ?", query.connectionId);
  if (query.type !== undefined) add("type = ?", query.type);
  if (query.since !== undefined) add("occurred_at >= ?", query.since);
  if (query.until !== undefined) add("occurred_at < ?", query.until);
  if (query.afterSeq !== undefined) add(query.order === "desc" ? "seq < ?" : "seq > ?", query.afterSeq);
  const text =
    `SELECT ${STORED_COLUMNS} FROM history_event` +
    (where.length > 0 ? ` WHERE ${where.join(" AND ")}` : "") +
    ` ORDER BY seq ${query.order === "desc" ? "DESC" : "ASC"}`;
  return { text, values };
}

/**
 * One page of the history (at most `limit` rows, ≤ HISTORY_PAGE_MAX), oldest first unless
 * `order: "desc"`. The next page: `afterSeq` = the last record's seq.
 *
 * This is also the console's fallback for a request search once the request's record expired in
 * Redis (IDEMPOTENCY_RETENTION_SECONDS): by identifier, partner or request id, newest first.
 */
export async function queryHistory(pool: HistoryPool, query: HistoryQuery = {}, limit = 100): Promise<HistoryRecord[]> {
  const { text, values } = historySql(query);
  const bounded = Math.max(1, Math.min(HISTORY_PAGE_MAX, Math.floor(limit)));
  values.push(bounded);
  const result = await pool.query<StoredRow>(`${text} LIMIT $${values.length}`, values);
  return result.rows.map(toHistoryRecord);
}

/**
 * Every row a query matches, through a cursor `batchSize` rows at a time: memory stays bounded
 * whatever the table holds. The caller's pace is the read's pace (the next batch is read when the
 * last is consumed); `signal` ends it between batches.
 */
export async function* streamHistory(
  pool: HistoryPool,
  query: HistoryQuery = {},
  options: { batchSize?: number; signal?: AbortSignal } = {},
): AsyncGenerator<HistoryRecord> {
  const { text, values } = historySql(query);
  const { client, release } = await checkOut(pool);
  let failed: Error | undefined;
  const cursor = client.query(new Cursor<StoredRow>(text, values));
  try {
    for (;;) {
      options.signal?.throwIfAborted();
      const rows = await cursor.read(options.batchSize ?? 500);
      if (rows.length === 0) return;
      for (const row of rows) yield toHistoryRecord(row);
    }
  } catch (err) {
    failed = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    await cursor.close().catch(() => {});
    release(failed);
  }
}
