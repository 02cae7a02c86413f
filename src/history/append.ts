import type pg from "pg";
import { GENESIS_HASH, rowHash, type ChainedRow } from "./chain.js";
import { historyColumns, isHistoryInput, type HistoryInput } from "./history-row.js";
import { checkOut, type HistoryPool } from "./pool.js";

/**
 * The transaction-scoped advisory lock every writer of the chain takes (appendEvents, and
 * history_retain in the migration): one writer at a time reads the chain's tip and appends after it.
 */
export const HISTORY_LOCK_KEY = "8271946150347721";

/** The last row of the chain: its seq and hash (or the anchor's, or seq 0 and the zero hash). */
export interface ChainTip {
  seq: number;
  hash: string;
}

export interface AppendResult {
  /** Rows written: events whose id the history did not hold yet. */
  inserted: number;
  /** Events the history held already (a redelivery) or repeated within the batch. */
  duplicates: number;
  /** Values that are no event (no eventId or type): not recorded. */
  invalid: number;
}

const COLUMNS = [
  ["seq", "bigint"],
  ["event_id", "text"],
  ["type", "text"],
  ["request_id", "text"],
  ["catalog", "text"],
  ["identifier", "text"],
  ["partner", "text"],
  ["connection_id", "text"],
  ["action", "text"],
  ["decided_by", "text"],
  ["policy_rule", "integer"],
  ["policy_hash", "text"],
  ["aws_request_id", "text"],
  ["occurred_at", "timestamptz"],
  ["recorded_at", "timestamptz"],
  ["body", "text"],
  ["prev_hash", "text"],
  ["hash", "text"],
] as const;

const INSERT =
  `INSERT INTO history_event (${COLUMNS.map(([c]) => c).join(", ")}) ` +
  `SELECT * FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(", ")}) ` +
  "ON CONFLICT (event_id) DO NOTHING RETURNING seq";

/** Reads the chain's tip inside a writer's transaction (after the lock). */
export async function readTip(client: pg.ClientBase): Promise<ChainTip> {
  const last = await client.query<{ seq: string; hash: string }>(
    "SELECT seq, hash FROM history_event ORDER BY seq DESC LIMIT 1",
  );
  const row =
    last.rows[0] ??
    (await client.query<{ seq: string; hash: string }>("SELECT seq, hash FROM history_anchor WHERE id = 1")).rows[0];
  return row ? { seq: Number(row.seq), hash: row.hash } : { seq: 0, hash: GENESIS_HASH };
}

/**
 * Appends the events the history does not hold yet, in the order given, each chained to the one
 * before, in one transaction under HISTORY_LOCK_KEY: any number of processes may call it at once
 * and the chain stays one (seq gapless, each prev_hash the hash of the row before). Once per event
 * id, however often an event is delivered: ids already recorded are skipped under the lock, and the
 * unique event_id (ON CONFLICT DO NOTHING) backs that up; a row it would skip rolls the whole batch
 * back rather than leave a hole in the chain. Throws (nothing written) when PostgreSQL fails: the
 * caller delivers the batch again.
 */
export async function appendEvents(
  pool: HistoryPool,
  events: readonly unknown[],
  clock: () => Date = () => new Date(),
): Promise<AppendResult> {
  const seen = new Set<string>();
  const batch: HistoryInput[] = [];
  let invalid = 0;
  for (const event of events) {
    if (!isHistoryInput(event)) invalid++;
    else if (!seen.has(event.eventId)) {
      seen.add(event.eventId);
      batch.push(event);
    }
  }
  if (batch.length === 0) return { inserted: 0, duplicates: events.length - invalid, invalid };

  const { client, release } = await checkOut(pool);
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      await client.query("SELECT pg_advisory_xact_lock($1::bigint)", [HISTORY_LOCK_KEY]);
      const known = await client.query<{ event_id: string }>(
        "SELECT event_id FROM history_event WHERE event_id = ANY($1::text[])",
        [batch.map((e) => e.eventId)],
      );
      const held = new Set(known.rows.map((r) => r.event_id));
      const fresh = batch.filter((e) => !held.has(e.eventId));
      if (fresh.length > 0) {
        const tip = await readTip(client);
        const recordedAt = clock().toISOString();
        const rows: Array<ChainedRow & { prevHash: string; hash: string }> = [];
        let prevHash = tip.hash;
        for (const [i, event] of fresh.entries()) {
          const row: ChainedRow = {
            seq: tip.seq + 1 + i,
            ...historyColumns(event, recordedAt),
            recordedAt,
            body: JSON.stringify(event),
          };
          const hash = rowHash(prevHash, row);
          rows.push({ ...row, prevHash, hash });
          prevHash = hash;
        }
        const written = await client.query(INSERT, [
          rows.map((r) => r.seq),
          rows.map((r) => r.eventId),
          rows.map((r) => r.type),
          rows.map((r) => r.requestId),
          rows.map((r) => r.catalog),
          rows.map((r) => r.identifier),
          rows.map((r) => r.partner),
          rows.map((r) => r.connectionId),
          rows.map((r) => r.action),
          rows.map((r) => r.decidedBy),
          rows.map((r) => r.policyRule),
          rows.map((r) => r.policyHash),
          rows.map((r) => r.awsRequestId),
          rows.map((r) => r.occurredAt),
          rows.map((r) => r.recordedAt),
          rows.map((r) => r.body),
          rows.map((r) => r.prevHash),
          rows.map((r) => r.hash),
        ]);
        if (written.rowCount !== rows.length) {
          throw new Error(
            `history: ${rows.length - (written.rowCount ?? 0)} of ${rows.length} rows were already recorded ` +
              "although not seen under the lock; the batch is rolled back",
          );
        }
      }
      await client.query("COMMIT");
      return { inserted: fresh.length, duplicates: events.length - invalid - fresh.length, invalid };
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackError: unknown) => {
        broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
      });
      throw err;
    }
  } catch (err) {
    // A connection whose query failed may be broken (PostgreSQL restarted): drop it from the pool.
    broken ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    release(broken);
  }
}
