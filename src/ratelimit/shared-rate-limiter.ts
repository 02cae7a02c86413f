/**
 * The port: a rate limit shared by every worker of a deployment, exact over any sliding window,
 * adapting to throttles. `createRedisRateLimiter` is the implementation; unit fakes satisfy it too.
 */
export interface SharedRateLimiter {
  /**
   * Admit one call now (or up to `count` first attempts, as many as the schedule allows now), or
   * say how long to wait. Counts each call admitted.
   */
  tryAcquire(limitKey: string, opts?: TryAcquireOptions): Promise<AcquireResult>;
  /**
   * Wait until admitted; resolves with the ms waited. Waiters of one process are served first in,
   * first out, and only the oldest asks Redis, so a thousand waiters cost one poll at a time; a
   * poll asks for half of the first attempts waiting in a row at the head, so they are admitted
   * together when the schedule allows (one round trip for many calls).
   * @throws RateLimitedError when a retry is over the retry budget, or when the wait would be
   *   longer than `maxWaitMs` (the caller should delay the job instead of holding a slot).
   * @throws the signal's reason when aborted.
   */
  acquire(limitKey: string, opts?: AcquireOptions & { signal?: AbortSignal; maxWaitMs?: number }): Promise<number>;
  /**
   * The API throttled a call: multiply the rate by the decrease factor (at most once per
   * cooldown, never below the minimum rate), drop the burst credit, and when the API sent a
   * Retry-After block every admission of this limit until it has passed.
   */
  recordThrottle(limitKey: string, retryAfterMs?: number | null): Promise<ThrottleResult>;
  /** A call succeeded: after a quiet interval, raise the rate toward the ceiling (never above). */
  recordSuccess(limitKey: string): Promise<void>;
  /** Current configuration and adaptive state. Writes nothing. */
  getState(limitKey: string): Promise<RateLimitState>;
  /**
   * Change the configuration; every worker sees it on its next call. `rate` is the new ceiling
   * and also the new current rate (adaptation restarts from it).
   */
  setLimits(limitKey: string, limits: Partial<LimitSettings>): Promise<RateLimitState>;
}

export interface AcquireOptions {
  /** A re-attempt of a call that failed: counted against the retry budget. @defaultValue false */
  retry?: boolean;
}

export interface TryAcquireOptions extends AcquireOptions {
  /** First attempts wanted now (ignored for a retry, which is always asked for alone). @defaultValue 1 */
  count?: number;
}

export const REFUSAL_REASONS = ["rate", "retry-after", "retry-budget"] as const;
/**
 * Why a call was not admitted: `rate` (the GCRA schedule; wait `retryInMs`), `retry-after` (the
 * API asked everyone to wait), `retry-budget` (too many retries in the last minute; delay the job).
 */
export type RefusalReason = (typeof REFUSAL_REASONS)[number];

export type AcquireResult =
  /**
   * `atMs`: Redis time of the admission, ms since the epoch (fractional). `count`: how many calls
   * were admitted (≤ the count asked for; absent = 1).
   */
  { admitted: true; atMs: number; count?: number } | { admitted: false; retryInMs: number; reason: RefusalReason };

export interface ThrottleResult {
  /** Rate after the report, calls/s. */
  rate: number;
  /** False when the report fell within the cooldown of the previous decrease. */
  decreased: boolean;
  /** Admissions are blocked for this long (0 = not blocked). */
  blockedForMs: number;
}

/** The configuration of one limit, stored in its Redis hash. */
export interface LimitSettings {
  /** The ceiling, calls/s: the adaptive rate never exceeds it. > 0, fractions allowed. */
  rate: number;
  /** Calls that may go back to back after an idle spell; a whole number ≥ 1. */
  burst: number;
  /** Floor of the adaptive rate, calls/s. */
  minRate: number;
  /** Retries may be at most this fraction (0–1) of the calls admitted in the last minute… */
  retryRatio: number;
  /** …or this many per minute, whichever is more, so a quiet system can still retry. */
  retryMinPerMinute: number;
}

export interface RateLimitState {
  limitKey: string;
  /** False when nothing is stored for this limit yet: the values shown are this process's defaults. */
  stored: boolean;
  /** Current adaptive rate, calls/s. */
  rate: number;
  /** Configured rate, calls/s. */
  ceiling: number;
  burst: number;
  minRate: number;
  /** Throttles reported since the limit was created. */
  throttles: number;
  /** ISO-8601 time of the last throttle report, or null. */
  lastThrottleAt: string | null;
  /** ISO-8601 time of the last decrease, or null. */
  lastDecreaseAt: string | null;
  /** Admissions are blocked for this long by a Retry-After (0 = not blocked). */
  blockedForMs: number;
  /** Calls that could be admitted back to back right now (the unused burst credit). */
  burstAvailable: number;
  /** Retries that could still be admitted right now (first attempts are never limited by it). */
  retryBudgetLeft: number;
  retryBudget: { ratio: number; minPerMinute: number; callsLastMinute: number; retriesLastMinute: number };
  /**
   * The throttled share of calls found not to follow our rate (other traffic on the account):
   * throttles within it do not lower the rate. Null until such throttles were seen.
   */
  backgroundThrottledShare: number | null;
}
