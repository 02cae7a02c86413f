import type { Worker } from "bullmq";
import type { Config } from "../schemas/config.js";
import { createSdkInvitationApi } from "../aws/sdk-invitation-api.js";
import { createRedis } from "../queues/connection.js";
import { queueLocationFrom } from "../queues/queue-names.js";
import { createOutcomeQueue } from "../outcomes/publish.js";
import type { Logger } from "../observability/logger.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import { createAcceptWorker } from "./worker.js";

export interface RunningWorker {
  worker: Worker;
  /** Stops taking jobs, lets in-flight ones finish within graceMs, then closes everything. */
  shutdown(reason: string): Promise<void>;
}

/**
 * Composition root of a worker process: config → SDK client, Redis, outcome queue, worker.
 * Credentials come from the standard AWS chain (env, profile, SSO, IMDS...) unless `api` is given.
 */
export async function startWorker(config: Config, logger: Logger, api?: InvitationApi): Promise<RunningWorker> {
  const connection = createRedis(config.REDIS_URL);
  connection.on("error", (err) => logger.warn({ err: { message: err.message } }, "redis connection error"));
  const sdk = api
    ? undefined
    : createSdkInvitationApi({
        region: config.AWS_REGION,
        requestTimeoutMs: config.AWS_REQUEST_TIMEOUT_MS,
        ...(config.PARTNERCENTRAL_ENDPOINT ? { endpoint: config.PARTNERCENTRAL_ENDPOINT } : {}),
      });
  const location = queueLocationFrom(config);
  const outcomes = createOutcomeQueue({
    connection,
    prefix: location.prefix,
    queueName: location.outcomesQueue,
    requestsQueueName: location.requestsQueue,
    retentionSeconds: config.RETENTION_SECONDS,
    idempotencyRetentionSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
  });
  const worker = createAcceptWorker({
    connection,
    location,
    api: api ?? sdk!,
    outcomes,
    logger,
    concurrency: config.WORKER_CONCURRENCY,
    rateLimit: { max: config.RATE_LIMIT_MAX, durationMs: config.RATE_LIMIT_DURATION_MS },
    maxThrottleRequeues: config.MAX_THROTTLE_REQUEUES,
    throttlePauseMs: config.THROTTLE_PAUSE_MS,
    lockDurationMs: config.LOCK_DURATION_MS,
    stalledIntervalMs: config.STALLED_INTERVAL_MS,
    maxStalledCount: config.MAX_STALLED_COUNT,
  });
  await worker.waitUntilReady();
  logger.info(
    {
      queue: location.requestsQueue,
      prefix: location.prefix,
      concurrency: config.WORKER_CONCURRENCY,
      rateLimit: `${config.RATE_LIMIT_MAX}/${config.RATE_LIMIT_DURATION_MS}ms`,
      endpoint: config.PARTNERCENTRAL_ENDPOINT ?? "aws",
      region: config.AWS_REGION,
    },
    "worker started",
  );

  let closing: Promise<void> | undefined;
  const shutdown = (reason: string) =>
    (closing ??= (async () => {
      logger.info({ reason, graceMs: config.SHUTDOWN_GRACE_MS }, "shutting down: no new jobs, finishing in-flight ones");
      let timer: NodeJS.Timeout | undefined;
      const graceful = worker.close().then(() => "drained" as const);
      const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), config.SHUTDOWN_GRACE_MS)));
      const how = await Promise.race([graceful, timeout]);
      clearTimeout(timer);
      if (how === "timeout") {
        // Jobs still running keep their lock until it expires; BullMQ's stalled check then hands them
        // to another worker, which sends the same ClientToken. Nothing is lost.
        logger.warn("grace period over; closing with jobs in flight (they will be redelivered)");
        await worker.close(true);
      }
      await outcomes.close();
      sdk?.destroy();
      await connection.quit().catch(() => connection.disconnect());
      logger.info({ how }, "worker stopped");
    })());
  return { worker, shutdown };
}
