import type { Config } from "../schemas/config.js";
import type { CanceledOutcome } from "../schemas/outcome.js";
import { cancelRequest } from "../outcomes/cancel.js";
import type { Producer } from "../producer/producer.js";
import { redrive, type RedriveOptions, type RedriveSummary } from "../producer/redrive.js";
import type { RedisConnection } from "../store/redis/connection.js";
import { requestStoreFromConfig } from "./from-config.js";

/** What an operator does to requests already enqueued: the CLI's and the HTTP API's. */
export interface RequestControl {
  /** @throws CancelValidationError, RequestNotCancelableError, RequestNotFoundError (see cancelRequest) */
  cancel(requestId: string, options?: { reason?: string }): Promise<CanceledOutcome>;
  /** Runs again the requests whose outcome was failed (see producer/redrive.ts). */
  redrive(options?: RedriveOptions): Promise<RedriveSummary>;
  /** Closes the store it made (not `redis`, not the producer). */
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
  const store = requestStoreFromConfig(config, redis, { writesQueueMeta: false });
  return {
    cancel: (requestId, options) => cancelRequest({ store }, requestId, options),
    redrive: (options) =>
      redrive(
        {
          failedOutcomes: (filter) => store.failedOutcomes(filter),
          enqueueRedrives: (items) => producer.enqueueRedrives(items),
          previewRedrives: (items) => producer.previewRedrives(items),
        },
        options,
      ),
    close: () => store.close(),
  };
}
