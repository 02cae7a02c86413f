import { CONFIG_DEFAULTS, type Config } from "../schemas/config.js";
import { limitKeyIssue } from "../schemas/limit-key.js";
import type { LimitSettings } from "./shared-rate-limiter.js";

type LimitConfig = Pick<
  Config,
  "RATE_LIMIT_RPS" | "RATE_LIMIT_BURST" | "RATE_LIMIT_MIN_RPS" | "RETRY_BUDGET_RATIO" | "RETRY_BUDGET_MIN_PER_MINUTE"
>;

/** The settings of a new limit, from RATE_LIMIT_RPS, RATE_LIMIT_BURST, RATE_LIMIT_MIN_RPS, RETRY_BUDGET_*. */
export function limitSettingsFrom(config: LimitConfig): LimitSettings {
  return {
    rate: config.RATE_LIMIT_RPS,
    burst: config.RATE_LIMIT_BURST,
    minRate: Math.min(config.RATE_LIMIT_MIN_RPS, config.RATE_LIMIT_RPS),
    retryRatio: config.RETRY_BUDGET_RATIO,
    retryMinPerMinute: config.RETRY_BUDGET_MIN_PER_MINUTE,
  };
}

/** Defaults of a limit that does not exist in Redis yet: those of the unset environment. */
export const DEFAULT_LIMIT_SETTINGS: Readonly<LimitSettings> = Object.freeze(limitSettingsFrom(CONFIG_DEFAULTS));

/** How the rate follows the API's throttles (AIMD with a memory of the last throttled rate). */
export interface AdaptationOptions {
  /**
   * Rate multiplier on a throttle, 0 < f < 1; consecutive decreases (no rise in between) compound:
   * f, f², f³… @defaultValue 0.85 (bench: ≥ 90% of the API's limit, < 1% of calls throttled)
   */
  decreaseFactor: number;
  /** Throttles within this many ms of the last decrease do not decrease again. @defaultValue 1000 */
  decreaseCooldownMs: number;
  /** A rise needs this many ms without a throttle or a rate change. @defaultValue 1000 */
  increaseIntervalMs: number;
  /** Smallest rise, calls/s; it doubles on each consecutive rise past the last throttled rate. @defaultValue 1 */
  increaseStep: number;
}

export const DEFAULT_ADAPTATION: Readonly<AdaptationOptions> = Object.freeze({
  decreaseFactor: 0.85,
  decreaseCooldownMs: 1000,
  increaseIntervalMs: 1000,
  increaseStep: 1,
});

/**
 * The Redis key of a limit: `${prefix}:ratelimit:${limitKey}`. Built from the queue prefix, so
 * with the default `{pci}` it lands in the queues' Cluster slot; every script touches this one
 * key only, so it works on a Cluster whatever the prefix.
 * @throws RangeError for an empty key, or one with spaces, control or non-ASCII characters.
 */
export function rateLimitRedisKey(prefix: string, limitKey: string): string {
  const issue = limitKeyIssue(limitKey);
  if (issue) throw new RangeError(`limit key ${issue}, got ${JSON.stringify(limitKey)}`);
  return `${prefix}:ratelimit:${limitKey}`;
}

/**
 * Bounds of a limit's settings. The rate bounds keep the GCRA arithmetic (µs per call) meaningful:
 * below MIN_RATE a call would be admitted less than once in ~17 minutes, which is a typo, not a
 * limit. (RATE_LIMIT_RPS and RATE_LIMIT_MIN_RPS in the config schema use the same bounds; a test
 * checks they agree.)
 */
export const LIMIT_BOUNDS = Object.freeze({
  minRate: 0.001,
  maxRate: 1_000_000,
  maxBurst: 1_000_000,
  maxRetryMinPerMinute: 1_000_000,
});

/** The rule of each setting, as its problem says it (`field: rule`); the CLI quotes it for text that is no number. */
export const LIMIT_SETTING_RULES: Readonly<Record<keyof LimitSettings, string>> = Object.freeze({
  rate: `must be from ${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate} calls/s`,
  burst: `must be a whole number from 1 to ${LIMIT_BOUNDS.maxBurst}`,
  minRate: `must be from ${LIMIT_BOUNDS.minRate} to ${LIMIT_BOUNDS.maxRate} calls/s`,
  retryRatio: "must be from 0 to 1",
  retryMinPerMinute: `must be a whole number from 0 to ${LIMIT_BOUNDS.maxRetryMinPerMinute}`,
});

/**
 * The problems of a (partial) settings object, as `field: rule`; empty when valid. The one place
 * these rules live: `limits set` (CLI), `setLimits` and the limiter's defaults all check with it.
 * Cross-field rule: a `minRate` given must be ≤ the rate, the one given or else `current.rate`
 * (the ceiling in force), so a floor set alone is judged against the ceiling it will live with.
 */
export function limitSettingsIssues(s: Partial<LimitSettings>, current?: Partial<LimitSettings>): string[] {
  const issues: string[] = [];
  const check = (field: keyof LimitSettings, ok: (v: number) => boolean) => {
    const v = s[field];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && ok(v)))
      issues.push(`${field}: ${LIMIT_SETTING_RULES[field]}`);
  };
  const { minRate: low, maxRate: high, maxBurst, maxRetryMinPerMinute } = LIMIT_BOUNDS;
  check("rate", (v) => v >= low && v <= high);
  check("burst", (v) => Number.isInteger(v) && v >= 1 && v <= maxBurst);
  check("minRate", (v) => v >= low && v <= high);
  check("retryRatio", (v) => v >= 0 && v <= 1);
  check("retryMinPerMinute", (v) => Number.isInteger(v) && v >= 0 && v <= maxRetryMinPerMinute);
  if (issues.length > 0) return issues;
  // A floor set above the ceiling is a mistake. Lowering only the ceiling below the floor in force
  // is not: the scripts cap the floor at the ceiling (as limitSettingsFrom does for the env).
  const rate = s.rate ?? current?.rate;
  if (s.minRate !== undefined && rate !== undefined && s.minRate > rate)
    issues.push(`minRate: must be ≤ rate (${rate} calls/s)`);
  return issues;
}

export function adaptationIssues(a: Partial<AdaptationOptions>): string[] {
  const issues: string[] = [];
  const check = (field: keyof AdaptationOptions, ok: (v: number) => boolean, rule: string) => {
    const v = a[field];
    if (v !== undefined && !(typeof v === "number" && Number.isFinite(v) && ok(v))) issues.push(`${field}: ${rule}`);
  };
  check("decreaseFactor", (v) => v > 0 && v < 1, "must be between 0 and 1 (exclusive)");
  check("decreaseCooldownMs", (v) => v >= 0, "must be ≥ 0");
  check("increaseIntervalMs", (v) => v >= 0, "must be ≥ 0");
  check("increaseStep", (v) => v > 0, "must be > 0");
  return issues;
}

/** The ARGV[1..5] every script takes: the defaults written when a limit does not exist yet. */
export function defaultsArgv(d: LimitSettings): string[] {
  return [d.rate, d.burst, d.minRate, d.retryRatio, d.retryMinPerMinute].map(String);
}
