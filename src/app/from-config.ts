import type { Telemetry } from "bullmq";
import type { Config } from "../schemas/config.js";
import type { RedisConnection } from "../queues/connection.js";
import { queueLocationFrom } from "../queues/queue-names.js";
import { createProducer, type Producer } from "../producer/producer.js";
import { retryPolicyFrom } from "../producer/job-options.js";
import { createRedisRateLimiter } from "../ratelimit/redis-rate-limiter.js";
import { limitSettingsFrom, type AdaptationOptions } from "../ratelimit/limit-settings.js";
import type { SharedRateLimiter } from "../ratelimit/shared-rate-limiter.js";

/** The producer of a CLI or API process: queue location and job retry policy from the config. */
export function producerFromConfig(config: Config, redis: RedisConnection, extra: { telemetry?: Telemetry } = {}): Producer {
  const loc = queueLocationFrom(config);
  return createProducer({ redis, prefix: loc.prefix, queueName: loc.requestsQueue, outcomesQueueName: loc.outcomesQueue, retry: retryPolicyFrom(config), ...extra });
}

/** The shared limiter of a deployment, under its queue prefix, with the env's settings for new limits. */
export function rateLimiterFromConfig(config: Config, redis: RedisConnection, adaptation?: Partial<AdaptationOptions>): SharedRateLimiter {
  return createRedisRateLimiter({ redis, prefix: config.QUEUE_PREFIX, defaults: limitSettingsFrom(config), ...(adaptation ? { adaptation } : {}) });
}
