import type { Cluster, Redis } from "ioredis";
import type { Config } from "../schemas/config.js";
import type { AdaptationOptions } from "./limit-settings.js";
import { createRedisRateLimiter } from "./redis-rate-limiter.js";
import type { LimitSettings, SharedRateLimiter } from "./shared-rate-limiter.js";

/** The defaults of a new limit, from the environment (RATE_LIMIT_RPS, RATE_LIMIT_BURST, …). */
export function limitDefaultsFrom(config: Config): LimitSettings {
  return {
    rate: config.RATE_LIMIT_RPS,
    burst: config.RATE_LIMIT_BURST,
    minRate: Math.min(config.RATE_LIMIT_MIN_RPS, config.RATE_LIMIT_RPS),
    retryRatio: config.RETRY_BUDGET_RATIO,
    retryMinPerMinute: config.RETRY_BUDGET_MIN_PER_MINUTE,
  };
}

/** Composition: the shared limiter of a deployment, under its queue prefix. */
export function rateLimiterFromConfig(config: Config, redis: Redis | Cluster, adaptation?: Partial<AdaptationOptions>): SharedRateLimiter {
  return createRedisRateLimiter({ redis, prefix: config.QUEUE_PREFIX, defaults: limitDefaultsFrom(config), ...(adaptation ? { adaptation } : {}) });
}
