import type { Config } from "../schemas/config.js";
import type { RedisConnection } from "../queues/connection.js";
import { queueLocationFrom } from "../queues/queue-names.js";
import { createProducer, type Producer, type ProducerOptions } from "./producer.js";

/** The producer of a CLI or API process: queue location and job retry policy from the config. */
export function producerFromConfig(config: Config, redis: RedisConnection, extra: Pick<ProducerOptions, "traceContext"> = {}): Producer {
  const loc = queueLocationFrom(config);
  return createProducer({
    redis,
    prefix: loc.prefix,
    queueName: loc.requestsQueue,
    retry: {
      attempts: config.JOB_ATTEMPTS,
      backoffDelayMs: config.BACKOFF_DELAY_MS,
      backoffJitter: config.BACKOFF_JITTER,
      retentionSeconds: config.RETENTION_SECONDS,
    },
    ...extra,
  });
}
