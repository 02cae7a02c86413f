/**
 * Measuring a limiter from the outside: how many calls fell in the busiest window. Pure; used by
 * the tests and the bench on the arrival times the emulator records.
 */

/**
 * Largest number of timestamps in any window of `windowMs`. `closed` counts both ends
 * (t_j - t_i ≤ windowMs, the strictest reading); otherwise a window is [t, t + windowMs), as the
 * emulator's throttle counts.
 */
export function maxInSlidingWindow(times: readonly number[], windowMs: number, closed = false): number {
  const t = Float64Array.from(times).sort();
  let best = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (closed ? t[j]! - t[i]! > windowMs : t[j]! - t[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** Counts per bin of `binMs` from `startMs` (bins past the last timestamp are omitted). */
export function countPerBin(times: readonly number[], startMs: number, binMs: number, bins?: number): number[] {
  let last = startMs;
  for (const t of times) if (t > last) last = t;
  const n = bins ?? (times.length === 0 ? 0 : Math.floor((last - startMs) / binMs) + 1);
  const out = new Array<number>(n).fill(0);
  for (const t of times) {
    const b = Math.floor((t - startMs) / binMs);
    if (b >= 0 && b < n) out[b]! += 1;
  }
  return out;
}
