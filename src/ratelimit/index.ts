/** The shared, adaptive rate limit: a port, its Redis implementation, and helpers. */
export type {
  AcquireOptions,
  AcquireResult,
  LimitSettings,
  RateLimitState,
  RefusalReason,
  SharedRateLimiter,
  ThrottleResult,
} from "./shared-rate-limiter.js";
export { REFUSAL_REASONS } from "./shared-rate-limiter.js";
export { createRedisRateLimiter, type RedisRateLimiterOptions } from "./redis-rate-limiter.js";
export { rateLimiterFromConfig, limitDefaultsFrom } from "./from-config.js";
export { DEFAULT_ADAPTATION, DEFAULT_LIMIT_SETTINGS, rateLimitRedisKey, type AdaptationOptions } from "./limit-settings.js";
export { RateLimitedError } from "./rate-limited-error.js";
export { retryBudgetLeft } from "./retry-budget.js";
export { maxInSlidingWindow, countPerBin } from "./window-stats.js";
