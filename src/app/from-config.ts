import type { Telemetry } from "bullmq";
import { partnerCentralEndpoint, type Config } from "../schemas/config.js";
import type { RedisConnection } from "../store/redis/connection.js";
import { queueLocationFrom } from "../store/queue-location.js";
import { createProducer, type RedisProducer } from "../producer/producer.js";
import { createRedisRequestStore, type RedisRequestStore } from "../store/redis/redis-request-store.js";
import { retryPolicyFrom } from "../store/redis/job-options.js";
import { createRedisRateLimiter } from "../ratelimit/redis-rate-limiter.js";
import { limitSettingsFrom, type AdaptationOptions } from "../ratelimit/limit-settings.js";
import type { SharedRateLimiter } from "../ratelimit/shared-rate-limiter.js";
import { createSdkInvitationApi } from "../aws/sdk-invitation-api.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import { instrumentApi } from "../observability/instrument-api.js";
import { limitKeyTemplate, type Pacing } from "../consumer/pacing.js";
import { createRedisHeldStore, type RedisHeldStore } from "../store/redis/held.js";
import type { Logger } from "../observability/logger.js";
import type { HeldDeps } from "./held.js";

/** The producer of a CLI or API process: queue location and job retry policy from the config. */
export function producerFromConfig(
  config: Config,
  redis: RedisConnection,
  extra: { telemetry?: Telemetry } = {},
): RedisProducer {
  const loc = queueLocationFrom(config);
  return createProducer({
    redis,
    prefix: loc.prefix,
    queueName: loc.requestsQueue,
    outcomesQueueName: loc.outcomesQueue,
    retry: retryPolicyFrom(config),
    ...extra,
  });
}

/**
 * The request store of a deployment: its queues, job retry policy and retention settings. A
 * worker's or an operator's store leaves the queue's meta to producers (`writesQueueMeta: false`).
 */
export function requestStoreFromConfig(
  config: Config,
  redis: RedisConnection,
  extra: { telemetry?: Telemetry; writesQueueMeta?: boolean } = {},
): RedisRequestStore {
  return createRedisRequestStore({
    connection: redis,
    location: queueLocationFrom(config),
    retry: retryPolicyFrom(config),
    outcomeRetentionSeconds: config.RETENTION_SECONDS,
    idempotencyRetentionSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
    url: config.REDIS_URL,
    ...extra,
  });
}

/** The shared limiter of a deployment, under its queue prefix, with the env's settings for new limits. */
export function rateLimiterFromConfig(
  config: Config,
  redis: RedisConnection,
  adaptation?: Partial<AdaptationOptions>,
): SharedRateLimiter {
  return createRedisRateLimiter({
    redis,
    prefix: config.QUEUE_PREFIX,
    defaults: limitSettingsFrom(config),
    ...(adaptation ? { adaptation } : {}),
  });
}

/**
 * The Partner Central API of a process that calls it outside a worker (discover, serve): the SDK
 * adapter on the standard credential chain, AWS_REGION, PARTNERCENTRAL_ENDPOINT and
 * AWS_REQUEST_TIMEOUT_MS; each call a span when `tracing` is on. `destroy()` closes its sockets.
 */
export function apiFromConfig(
  config: Config,
  options: { tracing?: boolean } = {},
): InvitationApi & { destroy(): void } {
  const sdk = createSdkInvitationApi({
    region: config.AWS_REGION,
    requestTimeoutMs: config.AWS_REQUEST_TIMEOUT_MS,
    ...(partnerCentralEndpoint(config) ? { endpoint: partnerCentralEndpoint(config)! } : {}),
  });
  // instrumentApi may return the adapter itself (nothing to instrument): destroy the adapter's sockets, never a copy's.
  return { ...instrumentApi(sdk, undefined, { tracing: options.tracing === true }), destroy: () => sdk.destroy() };
}

/** How calls outside a worker are paced: the shared limit of RATE_LIMIT_KEY (per catalog with `{catalog}`), as a
 * worker's. */
export function pacingFromConfig(config: Config, limiter: SharedRateLimiter): Pacing {
  return { limiter, keyFor: limitKeyTemplate(config.RATE_LIMIT_KEY), maxWaitMs: config.RATE_LIMIT_MAX_WAIT_MS };
}

/**
 * The held invitations of a deployment (their store under the queue prefix, HELD_EXPIRY_NOTICE):
 * what discovery records and decide() reads. `close()` closes the store's handles, not `redis`.
 */
export function heldFromConfig(
  config: Config,
  redis: RedisConnection,
  logger?: Logger,
): HeldDeps & { store: RedisHeldStore; close(): Promise<void> } {
  const store = createRedisHeldStore({
    connection: redis,
    location: queueLocationFrom(config),
    outcomeRetentionSeconds: config.RETENTION_SECONDS,
  });
  return {
    store,
    expiryNoticeMs: config.HELD_EXPIRY_NOTICE,
    ...(logger ? { logger } : {}),
    close: () => store.close(),
  };
}
