import { Queue } from "bullmq";
import type { Config } from "../schemas/config.js";
import type { CanceledOutcome } from "../schemas/outcome.js";
import type { RedisConnection } from "../queues/connection.js";
import { queueLocationFrom } from "../queues/queue-names.js";
import { createOutcomeQueue } from "../outcomes/publish.js";
import { cancelRequest } from "../outcomes/cancel.js";
import { readFailedOutcomes } from "../outcomes/failed-outcomes.js";
import type { Producer } from "../producer/producer.js";
import { redrive, type RedriveOptions, type RedriveSummary } from "../producer/redrive.js";

/** What an operator does to requests already enqueued: the CLI's and the HTTP API's. */
export interface RequestControl {
  /** @throws CancelValidationError, RequestNotCancelableError, RequestNotFoundError (see cancelRequest) */
  cancel(requestId: string, options?: { reason?: string }): Promise<CanceledOutcome>;
  /** Runs again the requests whose outcome was failed (see producer/redrive.ts). */
  redrive(options?: RedriveOptions): Promise<RedriveSummary>;
  /** Closes the queue handles it made (not `redis`, not the producer). */
  close(): Promise<void>;
}

/**
 * Request control on the deployment's queues (QUEUE_PREFIX, REQUESTS_QUEUE, OUTCOMES_QUEUE,
 * retention settings); redrives are enqueued by `producer` (one on the same requests queue).
 */
export function createRequestControl(
  config: Config,
  redis: RedisConnection,
  producer: Pick<Producer, "enqueueRedrives" | "previewRedrives">,
): RequestControl {
  const loc = queueLocationFrom(config);
  // A handle that leaves the queue's meta to producers and workers.
  const requests = new Queue(loc.requestsQueue, { connection: redis, prefix: loc.prefix, skipMetasUpdate: true });
  requests.on("error", () => {}); // its callers see their own errors
  const outcomes = createOutcomeQueue({
    connection: redis,
    prefix: loc.prefix,
    queueName: loc.outcomesQueue,
    requestsQueueName: loc.requestsQueue,
    retentionSeconds: config.RETENTION_SECONDS,
    idempotencyRetentionSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
  });
  return {
    cancel: (requestId, options) => cancelRequest({ requests, outcomes }, requestId, options),
    redrive: (options) =>
      redrive(
        {
          failedOutcomes: (filter) => readFailedOutcomes(outcomes.queue, redis, filter),
          enqueueRedrives: (items) => producer.enqueueRedrives(items),
          previewRedrives: (items) => producer.previewRedrives(items),
        },
        options,
      ),
    async close() {
      await outcomes.close();
      await requests.close();
    },
  };
}
