/**
 * How a worker spends SHUTDOWN_GRACE_MS after SIGTERM, so that the process is gone by its end:
 *
 *   0 ── in-flight runs finish ── drainMs ── cancel the runs still in flight, close the queues
 *   and Redis ── closeByMs ── margin ── graceMs: the CLI's hard exit fires, whatever still runs
 *
 * In-flight runs get the grace period but a reserve for the closing steps: 5 s, or half the grace
 * period when that is shorter. Every closing step is bounded by closeByMs, which leaves a margin
 * (500 ms, or a quarter of the reserve) before the hard exit, so a shutdown that goes to plan ends
 * with its own exit code (cli/commands/worker.ts) rather than the hard exit's.
 */
export interface ShutdownPlan {
  graceMs: number;
  /** Until then in-flight runs may finish; then they are cancelled. */
  drainMs: number;
  /** Every closing step is over by then (each is cut short at it). */
  closeByMs: number;
}

/** Most of the grace period kept for cancelling runs and closing connections, ms. */
export const CLOSE_RESERVE_MS = 5000;
/** Most of that reserve left between the last closing step and the hard exit, ms. */
export const EXIT_MARGIN_MS = 500;

export function shutdownPlan(graceMs: number): ShutdownPlan {
  const reserve = Math.min(CLOSE_RESERVE_MS, Math.floor(graceMs / 2));
  const margin = Math.min(EXIT_MARGIN_MS, Math.floor(reserve / 4));
  return { graceMs, drainMs: graceMs - reserve, closeByMs: graceMs - margin };
}

/** The promise's value, or "timeout" if it takes longer than ms (at once for ms ≤ 0, unless already settled). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | "timeout"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), Math.max(0, ms)))),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
