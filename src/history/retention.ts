import { HISTORY_LOCK_KEY } from "./append.js";
import type { HistoryPool } from "./pool.js";

export interface RetentionResult {
  /** Rows removed by this run. */
  removed: number;
  /** What the first kept row now chains to: the seq and hash of the last removed row (null: nothing ever removed). */
  anchor: { seq: number; hash: string } | null;
}

/**
 * Removes the rows recorded more than `days` days before `now`, oldest first and only as a prefix
 * of the chain (a younger row stops it), through history_retain (the migration): it moves the
 * anchor to the last removed row, so `verify` still checks the first kept row against the hash it
 * chains to, and it takes the writers' lock. The only way rows leave the table (its trigger refuses
 * any other DELETE).
 */
export async function applyRetention(
  pool: HistoryPool,
  days: number,
  now: Date = new Date(),
): Promise<RetentionResult> {
  if (!Number.isFinite(days) || days < 0) throw new RangeError(`retention: days must be ≥ 0, got ${days}`);
  const cutoff = new Date(now.getTime() - days * 86_400_000);
  const removed = await pool.query<{ removed: string }>("SELECT history_retain($1, $2::bigint) AS removed", [
    cutoff,
    HISTORY_LOCK_KEY,
  ]);
  const anchor = (await pool.query<{ seq: string; hash: string }>("SELECT seq, hash FROM history_anchor WHERE id = 1"))
    .rows[0];
  return {
    removed: Number(removed.rows[0]?.removed ?? 0),
    anchor: anchor ? { seq: Number(anchor.seq), hash: anchor.hash } : null,
  };
}
