import type { Config } from "../schemas/config.js";
import type { DiscoveryPolicy } from "../schemas/policy.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import type { EventQueue } from "../aws/event-queue.js";
import { createSqsEventQueue, type SqsEventQueueOptions } from "../aws/sqs-event-queue.js";
import { pacedLookups } from "../consumer/pacing.js";
import { cancelRequest } from "../outcomes/cancel.js";
import type { Logger } from "../observability/logger.js";
import { handleEvent, type EventHistory, type HeldInvitations } from "../producer/ingest-event.js";
import { runIngestLoop, type BatchReport } from "../producer/ingest-loop.js";
import { createRedis, quitConnection } from "../store/redis/connection.js";
import { createRedisInvitationEnds } from "../store/redis/invitation-ends.js";
import {
  heldFromConfig,
  apiFromConfig,
  pacingFromConfig,
  producerFromConfig,
  rateLimiterFromConfig,
  requestStoreFromConfig,
} from "./from-config.js";
import { within } from "./shutdown-plan.js";
import { ingestHeldOf } from "./held.js";
import { noticedHistory } from "./event-notices.js";
import { policyHash } from "../producer/discovery-policy.js";

/** SQS's largest batch: a receive takes at most 10 messages. */
const BATCH_SIZE = 10;
/** Requests of one invitation a Cancelled or Expired event looks at (the first page of its index). */
const OPEN_REQUESTS_LIMIT = 50;
const NOT_STARTED: ReadonlySet<string> = new Set(["waiting", "delayed", "prioritized"]);
/** First pause after an SQS error, ms (it doubles up to INGEST_BACKOFF_MAX_MS). */
const FIRST_BACKOFF_MS = 250;

export interface IngestOptions {
  queueUrl: string;
  policy: DiscoveryPolicy;
  logger: Logger;
  /** Where held invitations go; default: the held store of the config (app/held.ts ingestHeldOf). */
  held?: HeldInvitations;
  /** Where events are noted for the history and the drift report; default: the log. */
  history?: EventHistory;
  /** The API for a cancel's look-ups; default: the SDK adapter of the config. */
  api?: InvitationApi;
  /** The event queue; default: the SQS adapter on `queueUrl` (AWS_REGION, AWS_ENDPOINT_URL_SQS). */
  queue?: EventQueue;
  /** Static credentials for SQS; default: the standard AWS credential chain. */
  credentials?: SqsEventQueueOptions["credentials"];
  onBatch?(report: BatchReport): void;
}

export interface RunningIngest {
  /** Resolves when the loop ends (after stop). */
  done: Promise<void>;
  /**
   * Stops receiving, lets the batch in hand finish (its work recorded, its messages deleted), then
   * closes everything; all within SHUTDOWN_GRACE_MS, whatever SQS, Redis or AWS do. `drained`:
   * the batch finished; else what was not deleted comes back to another process. Idempotent.
   */
  stop(reason: string): Promise<{ drained: boolean }>;
}

/**
 * Composition root of `pc-invitations ingest`: the SQS queue, the producer and the request store on
 * Redis, the cancel path (its look-ups through the shared limit), the ended-invitation marks, the
 * held store and the history, and the loop.
 */
export function startIngest(config: Config, options: IngestOptions): RunningIngest {
  const { logger } = options;
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = producerFromConfig(config, redis);
  const store = requestStoreFromConfig(config, redis, { writesQueueMeta: false });
  const own = options.api ? undefined : apiFromConfig(config);
  const api = options.api ?? own!;
  const pacing = pacingFromConfig(config, rateLimiterFromConfig(config, redis));
  const lookupsFor = (catalog: string) => pacedLookups(api, pacing, pacing.keyFor(catalog));
  const queue =
    options.queue ??
    createSqsEventQueue({
      queueUrl: options.queueUrl,
      region: config.AWS_REGION,
      ...(config.AWS_ENDPOINT_URL_SQS ? { endpoint: config.AWS_ENDPOINT_URL_SQS } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
    });
  // The held invitations' store (what discovery keeps too): a hold is recorded and announced.
  const heldStore = options.held ? undefined : heldFromConfig(config, redis, logger);
  const held = options.held ?? ingestHeldOf(heldStore!, policyHash(options.policy));
  // The events the history needs go onto the outcome log as notices (deliver's history sink records them).
  const history =
    options.history ??
    (heldStore ? noticedHistory(heldStore.store, logger, policyHash(options.policy)) : loggedHistory(logger));
  const ends = createRedisInvitationEnds(redis, config.QUEUE_PREFIX);
  const controller = new AbortController();

  const done = runIngestLoop(
    {
      queue,
      logger,
      signal: controller.signal,
      handle: (event) =>
        handleEvent(
          {
            policy: options.policy,
            enqueueMany: (requests) => producer.enqueueMany(requests),
            preview: (requests) => producer.preview(requests),
            cancel: (requestId, o) => cancelRequest({ store, lookupsFor }, requestId, o),
            openRequestsOf: async (catalog, identifier) => {
              // The first page of the invitation's index: bounded, however many requests it has.
              const page = await store.listRequests({ identifier, catalog, limit: OPEN_REQUESTS_LIMIT });
              return page.items
                .filter((r) => r.outcome === null && r.job !== undefined && NOT_STARTED.has(r.job.state))
                .map((r) => r.id);
            },
            ends,
            endsTtlSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
            held,
            history,
          },
          event,
        ),
      ...(options.onBatch ? { onBatch: options.onBatch } : {}),
    },
    {
      batchSize: BATCH_SIZE,
      waitSeconds: config.INGEST_WAIT_SECONDS,
      visibilitySeconds: config.INGEST_VISIBILITY_TIMEOUT_SECONDS,
      backoffMs: FIRST_BACKOFF_MS,
      backoffMaxMs: config.INGEST_BACKOFF_MAX_MS,
      batchesInFlight: config.INGEST_BATCHES_IN_FLIGHT,
    },
  );
  logger.info({ queueUrl: options.queueUrl }, "ingest started");

  let stopping: Promise<{ drained: boolean }> | undefined;
  return {
    done,
    stop(reason) {
      stopping ??= (async () => {
        logger.info({ reason }, "ingest stopping: finishing the batch in hand");
        controller.abort(new Error(`ingest stopping: ${reason}`));
        const deadline = Date.now() + config.SHUTDOWN_GRACE_MS;
        const drained =
          (await within(
            done.then(() => true),
            Math.max(0, deadline - Date.now() - 500),
          )) === true;
        queue.destroy();
        own?.destroy();
        await within(
          Promise.allSettled([producer.close(), store.close(), heldStore?.close()]).then(() => quitConnection(redis)),
          Math.max(0, deadline - Date.now()),
        );
        logger.info({ drained }, "ingest stopped");
        return { drained };
      })();
      return stopping!;
    },
  };
}

function loggedHistory(logger: Logger): EventHistory {
  return {
    async note(event, handling) {
      if (event.kind === "connection-canceled")
        logger.warn(
          { eventId: event.eventId, connectionId: event.connection?.id, canceledBy: event.connection?.canceledBy },
          "ingest.connection canceled by the other participant (history and drift report)",
        );
      else logger.debug({ eventId: event.eventId, kind: event.kind, result: handling.result }, "ingest.noted");
    },
  };
}
