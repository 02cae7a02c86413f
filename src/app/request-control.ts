import type { Config } from "../schemas/config.js";
import type { CanceledOutcome } from "../contracts/outcome.js";
import { cancelRequest } from "../outcomes/cancel.js";
import type { Producer } from "../producer/producer.js";
import { redrive, type RedriveOptions, type RedriveSummary } from "../producer/redrive.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import { pacedLookups } from "../consumer/pacing.js";
import type { RedisConnection } from "../store/redis/connection.js";
import { apiFromConfig, pacingFromConfig, rateLimiterFromConfig, requestStoreFromConfig } from "./from-config.js";

/** What an operator does to requests already enqueued: the CLI's and the HTTP API's. */
export interface RequestControl {
  /** @throws CancelValidationError, RequestNotCancelableError, RequestNotFoundError (see cancelRequest) */
  cancel(requestId: string, options?: { reason?: string }): Promise<CanceledOutcome>;
  /** Runs again the requests whose outcome was failed (see producer/redrive.ts). */
  redrive(options?: RedriveOptions): Promise<RedriveSummary>;
  /** Closes the store and the API client it made (not `redis`, not the producer). */
  close(): Promise<void>;
}

/**
 * Request control on the deployment's queues (QUEUE_PREFIX, REQUESTS_QUEUE, OUTCOMES_QUEUE,
 * retention settings); redrives are enqueued by `producer` (one on the same requests queue). A
 * cancel reads the invitation of a request that may have reached AWS, through the shared limit,
 * with `options.api` or the API of the config (its credentials are resolved at the first read).
 */
export function createRequestControl(
  config: Config,
  redis: RedisConnection,
  producer: Pick<Producer, "enqueueRedrives" | "previewRedrives">,
  options: { api?: InvitationApi } = {},
): RequestControl {
  const store = requestStoreFromConfig(config, redis, { writesQueueMeta: false });
  const own = options.api ? undefined : apiFromConfig(config);
  const api = options.api ?? own!;
  const pacing = pacingFromConfig(config, rateLimiterFromConfig(config, redis));
  const lookupsFor = (catalog: string) => pacedLookups(api, pacing, pacing.keyFor(catalog));
  return {
    cancel: (requestId, options) => cancelRequest({ store, lookupsFor }, requestId, options),
    redrive: (options) =>
      redrive(
        {
          failedOutcomes: (filter) => store.failedOutcomes(filter),
          enqueueRedrives: (items) => producer.enqueueRedrives(items),
          previewRedrives: (items) => producer.previewRedrives(items),
        },
        options,
      ),
    async close() {
      own?.destroy();
      await store.close();
    },
  };
}
