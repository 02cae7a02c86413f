import { PartnerCentralEmulator, type EmulatorOptions } from "../../src/emulator/index.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createProducer, type RedisProducer } from "../../src/producer/producer.js";
import { startWorker, type RunningWorker } from "../../src/app/run-worker.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import type { Config } from "../../src/schemas/config.js";
import type { RetryPolicy } from "../../src/store/redis/job-options.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "./redis.js";
import type { Redis } from "ioredis";
import type { Telemetry } from "bullmq";
import type { InvitationApi } from "../../src/aws/invitation-api.js";

export const TEST_CREDENTIALS = { accessKeyId: "AKIDTEST", secretAccessKey: "test-secret-not-real" };

export interface Pipeline {
  prefix: string;
  redis: Redis;
  emulator: PartnerCentralEmulator;
  producer: RedisProducer;
  config: Config;
  /** A worker on the pipeline's config; `options.api` replaces the SDK adapter the helper makes. */
  startWorker(
    overrides?: Partial<Record<keyof Config, unknown>>,
    options?: { telemetry?: Telemetry; api?: InvitationApi },
  ): Promise<RunningWorker>;
  close(): Promise<void>;
}

/**
 * Real parts in one process: the emulator on 127.0.0.1:0, real Redis under a unique prefix, the
 * real SDK over HTTP. Fast retry settings so retry paths finish in well under a second.
 */
export async function startPipeline(
  opts: {
    emulator?: EmulatorOptions;
    retry?: Partial<RetryPolicy>;
    config?: Partial<Record<keyof Config, unknown>>;
    label?: string;
    redisUrl?: string;
  } = {},
): Promise<Pipeline> {
  const prefix = uniquePrefix(opts.label);
  const redisUrl = opts.redisUrl ?? REDIS_URL;
  const redis = newRedis(redisUrl);
  const emulator = await PartnerCentralEmulator.start(opts.emulator);
  const config = loadConfig(
    {},
    {
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: prefix,
      PARTNERCENTRAL_ENDPOINT: emulator.url,
      RATE_LIMIT_RPS: 1000,
      RATE_LIMIT_BURST: 1000,
      SHUTDOWN_GRACE_MS: 5000,
      LOG_LEVEL: "silent",
      ...opts.config,
    },
  );
  const producer = createProducer({
    redis,
    prefix,
    retry: { attempts: 4, backoffDelayMs: 20, backoffJitter: 0, ...opts.retry },
  });
  const workers: RunningWorker[] = [];
  const apis: Array<{ destroy(): void }> = [];
  return {
    prefix,
    redis,
    emulator,
    producer,
    config,
    async startWorker(overrides = {}, options = {}) {
      const cfg = loadConfig({}, { ...config, ...overrides });
      let api = options.api;
      if (!api) {
        const sdk = createSdkInvitationApi({
          endpoint: emulator.url,
          credentials: TEST_CREDENTIALS,
          requestTimeoutMs: cfg.AWS_REQUEST_TIMEOUT_MS,
        });
        apis.push(sdk);
        api = sdk;
      }
      const w = await startWorker(cfg, createLogger({ level: cfg.LOG_LEVEL }), { ...options, api });
      workers.push(w);
      return w;
    },
    async close() {
      await Promise.all(workers.map((w) => w.shutdown("test over")));
      await producer.close();
      for (const a of apis) a.destroy();
      await emulator.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    },
  };
}
