/**
 * How many retries could still be admitted now, given the calls and retries of the last minute.
 * The acquire script admits a retry when `retries + 1 ≤ max(minPerMinute, ratio × (calls + 1))`
 * (each admitted retry is also a call), so this is the largest k with
 * `retries + k ≤ max(minPerMinute, ratio × (calls + k))`. Pure.
 */
export function retryBudgetLeft(b: { ratio: number; minPerMinute: number; calls: number; retries: number }): number {
  const byFloor = b.minPerMinute - b.retries;
  // retries + k ≤ ratio·(calls + k)  ⇔  k·(1 − ratio) ≤ ratio·calls − retries
  const byRatio = b.ratio >= 1 ? Number.POSITIVE_INFINITY : (b.ratio * b.calls - b.retries) / (1 - b.ratio);
  const left = Math.floor(Math.max(byFloor, byRatio) + 1e-9);
  return Number.isFinite(left) ? Math.max(0, left) : Number.MAX_SAFE_INTEGER;
}
