import type { Telemetry } from "bullmq";
import { partnerCentralEndpoint, type Config } from "../schemas/config.js";
import { createSdkInvitationApi } from "../aws/sdk-invitation-api.js";
import type { InvitationApi } from "../aws/invitation-api.js";
import { instrumentApi } from "../observability/instrument-api.js";
import { createRedis } from "../store/redis/connection.js";
import { processWriteGate } from "../store/redis/write-gate.js";
import { queueLocationFrom } from "../store/queue-location.js";
import { createAcceptWorker, type AcceptWorker } from "../consumer/worker.js";
import { limitKeyTemplate, type Pacing } from "../consumer/pacing.js";
import type { Logger } from "../observability/logger.js";
import { createMetrics, startMetricsServer, type MetricsServer } from "../observability/metrics.js";
import { startHeartbeat } from "../observability/heartbeat.js";
import { heldFromConfig, rateLimiterFromConfig, requestStoreFromConfig } from "./from-config.js";
import { startSweeper } from "./sweeper.js";
import { startHeldCheck } from "./held.js";
import type { SweepReport } from "../consumer/sweep.js";
import { shutdownPlan, within } from "./shutdown-plan.js";
import { startWorkerPresence, type WorkerPresence } from "./worker-presence.js";

/** How often a worker reads the state of its shared limits (gauge, log on change), ms. */
const RATE_WATCH_INTERVAL_MS = 5000;

export interface RunningWorker {
  worker: AcceptWorker;
  /** Port of the /metrics listener, when METRICS_PORT is set (0 picks a free one). */
  metricsPort?: number;
  /**
   * Stops taking jobs, lets in-flight ones finish, cancels those still running, closes everything,
   * all within SHUTDOWN_GRACE_MS (see shutdown-plan.ts). Idempotent.
   */
  shutdown(reason: string): Promise<ShutdownResult>;
  /** One sweep now, whatever the fleet's sweeper lease (see app/sweeper.ts). */
  sweep(): Promise<SweepReport | null>;
}

/** How a shutdown went. */
export interface ShutdownResult {
  /**
   * drained: every run in flight finished; cancelled: runs still in flight when the drain time was
   * over were cancelled (their jobs are redelivered after their lock expires, same ClientToken);
   * stuck: even cancelled, they had not ended by the close deadline (left behind, redelivered alike).
   */
  how: "drained" | "cancelled" | "stuck";
  /** Every closing step finished before the deadline (else it was cut short). */
  closed: boolean;
}

export interface StartWorkerOptions {
  /** The API port to call; default: the SDK adapter on the standard AWS credential chain. */
  api?: InvitationApi;
  /** BullMQ telemetry (see observability/tracing.ts); default: none. */
  telemetry?: Telemetry;
}

/**
 * Composition root of a worker process: config → SDK client, Redis, outcome queue, worker.
 * Credentials come from the standard AWS chain (env, profile, SSO, IMDS...) unless `api` is given.
 */
export async function startWorker(
  config: Config,
  logger: Logger,
  options: StartWorkerOptions = {},
): Promise<RunningWorker> {
  const { api, telemetry } = options;
  const connection = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  connection.on("error", (err) => logger.warn({ err: { message: err.message } }, "redis connection error"));
  const sdk = api
    ? undefined
    : createSdkInvitationApi({
        region: config.AWS_REGION,
        requestTimeoutMs: config.AWS_REQUEST_TIMEOUT_MS,
        ...(partnerCentralEndpoint(config) ? { endpoint: partnerCentralEndpoint(config)! } : {}),
      });
  const location = queueLocationFrom(config);
  // The worker's store leaves the queue's meta to producers.
  const store = requestStoreFromConfig(config, connection, {
    writesQueueMeta: false,
    ...(telemetry ? { telemetry } : {}),
  });
  // Metrics only when METRICS_PORT is set: the queue gauges cost Redis calls at each scrape.
  const metricsOn = config.METRICS_PORT !== undefined;
  const metrics = metricsOn ? createMetrics({ queues: [store.requestsQueue, store.outcomesQueue] }) : undefined;
  const limiter = rateLimiterFromConfig(config, connection);
  // The limits this worker's calls count against (its beat names them, so status reads them).
  const limitKeys = new Set<string>(config.RATE_LIMIT_KEY.includes("{catalog}") ? [] : [config.RATE_LIMIT_KEY]);
  const stopping = new AbortController();
  const keyFor = limitKeyTemplate(config.RATE_LIMIT_KEY);
  const workerApi = instrumentApi(api ?? sdk!, metrics, { tracing: telemetry !== undefined });
  const pacing: Pacing = {
    limiter,
    keyFor: (catalog) => {
      const key = keyFor(catalog);
      limitKeys.add(key);
      return key;
    },
    maxWaitMs: config.RATE_LIMIT_MAX_WAIT_MS,
    stopping: stopping.signal,
  };
  let presence: WorkerPresence | undefined;
  const worker = createAcceptWorker({
    connection,
    location,
    api: workerApi,
    store,
    // One probe per process: a short-lived SET that a full Redis refuses.
    writeGate: processWriteGate(connection, location.prefix),
    logger,
    ...(metrics ? { metrics } : {}),
    ...(telemetry ? { telemetry } : {}),
    concurrency: config.WORKER_CONCURRENCY,
    pacing,
    maxThrottleRequeues: config.MAX_THROTTLE_REQUEUES,
    faultMinBackoffMs: config.FAULT_PAUSE_MS,
    faultMaxBackoffMs: Math.max(config.FAULT_PAUSE_MS, config.FAULT_PAUSE_MAX_MS),
    lockDurationMs: config.LOCK_DURATION_MS,
    stalledIntervalMs: config.STALLED_INTERVAL_MS,
    maxStalledCount: config.MAX_STALLED_COUNT,
    // A pause (or its end) is written to the worker's beat at once, for status across machines.
    onFaultChange: () => presence?.beatNow(),
  });
  await worker.waitUntilReady();
  presence = startWorkerPresence({
    store,
    logger,
    concurrency: config.WORKER_CONCURRENCY,
    limitKeys: () => limitKeys,
    fault: () => worker.fault,
  });
  // The held invitations: expiring notices and expired ones, checked by every worker (each notice
  // goes out once whichever process sends it).
  const held = heldFromConfig(config, connection, logger);
  const heldCheck = startHeldCheck(held, config.HELD_CHECK_INTERVAL);
  const sweeper = startSweeper({
    config,
    store,
    api: workerApi,
    pacing,
    logger,
  });
  // A job BullMQ cannot read fails before any processor runs: have it repaired soon, not at the next sweep.
  worker.on("error", (err) => {
    if (err instanceof SyntaxError) sweeper.repairSoon();
  });
  // HEALTH_FILE: the container's health (Dockerfile HEALTHCHECK → pc-invitations healthcheck).
  const heartbeat = config.HEALTH_FILE
    ? startHeartbeat({
        file: config.HEALTH_FILE,
        check: () =>
          worker.fault
            ? {
                healthy: false,
                reason:
                  `paused since ${worker.fault.since.toISOString()}: AWS refuses the worker's ` +
                  `calls (${worker.fault.error.name}: ${worker.fault.error.message})`,
              }
            : !worker.isRunning()
              ? { healthy: false, reason: "the worker is not running" }
              : connection.status !== "ready"
                ? { healthy: false, reason: `Redis connection ${connection.status}` }
                : { healthy: true },
      })
    : undefined;
  let metricsServer: MetricsServer | undefined;
  if (metrics) {
    metricsServer = await startMetricsServer({ port: config.METRICS_PORT!, registry: metrics.registry });
    logger.info({ port: metricsServer.port }, "metrics at /metrics");
  }
  // Every few seconds: the shared limits this worker uses, into the gauge and, when the adaptive
  // rate moved, into the log (so throttling episodes are visible without a metrics stack).
  const lastRate = new Map<string, number>();
  const watchLimits = async () => {
    for (const key of limitKeys) {
      const state = await limiter.getState(key);
      metrics?.setSharedRate(key, state.rate);
      if (lastRate.get(key) !== state.rate) {
        lastRate.set(key, state.rate);
        logger.info(
          {
            limitKey: key,
            rate: state.rate,
            ceiling: state.ceiling,
            burst: state.burst,
            throttles: state.throttles,
            retryBudgetLeft: state.retryBudgetLeft,
          },
          "shared rate limit",
        );
      }
    }
  };
  const rateWatch = setInterval(() => void watchLimits().catch(() => undefined), RATE_WATCH_INTERVAL_MS);
  rateWatch.unref();
  logger.info(
    {
      queue: location.requestsQueue,
      prefix: location.prefix,
      concurrency: config.WORKER_CONCURRENCY,
      rateLimit: {
        key: config.RATE_LIMIT_KEY,
        initialRps: config.RATE_LIMIT_RPS,
        initialBurst: config.RATE_LIMIT_BURST,
      },
      endpoint: partnerCentralEndpoint(config) ?? "aws",
      region: config.AWS_REGION,
    },
    "worker started",
  );

  let closing: Promise<ShutdownResult> | undefined;
  const shutdown = (reason: string) =>
    (closing ??= (async (): Promise<ShutdownResult> => {
      // Every step below is bounded by the plan's deadlines, counted from now: the grace period is
      // a hard bound (the CLI exits at its end whatever still runs).
      const startedAt = Date.now();
      const plan = shutdownPlan(config.SHUTDOWN_GRACE_MS);
      const left = (untilMs: number) => startedAt + untilMs - Date.now();
      logger.info(
        { reason, graceMs: plan.graceMs, drainMs: plan.drainMs },
        "shutting down: no new jobs, finishing in-flight ones",
      );
      let closed =
        (await within(heartbeat?.stop(`shutting down (${reason})`) ?? Promise.resolve(), left(plan.drainMs))) !==
        "timeout";
      const graceful = worker.close().then(() => "drained" as const);
      // Calls in flight finish; jobs still waiting for a rate-limit slot go back to the queue.
      stopping.abort();
      let how: ShutdownResult["how"] = (await within(graceful, left(plan.drainMs))) === "timeout" ? "stuck" : "drained";
      if (how === "stuck") {
        // The runs still in flight are cancelled (their AWS calls aborted) and publish nothing. Their
        // jobs keep the lock until it expires; BullMQ's stalled check then hands them to another
        // worker, which sends the same ClientToken. Nothing is lost.
        logger.warn("grace period over; cancelling the runs in flight (their jobs will be redelivered)");
        worker.cancelAllJobs("shutdown: grace period over");
        // Half of what is left for the cancelled runs to end, the rest for the connections.
        how = (await within(graceful, left(plan.closeByMs) / 2)) === "timeout" ? "stuck" : "cancelled";
        if (how === "stuck") logger.error("the worker did not close after its runs were cancelled; leaving without it");
      }
      clearInterval(rateWatch);
      sweeper.stop();
      if ((await within(heldCheck.stop().then(held.close), left(plan.closeByMs))) === "timeout") closed = false;
      // No longer counted among the fleet's workers.
      if ((await within(presence.stop(), left(plan.closeByMs))) === "timeout") closed = false;
      // Each step cut short at the deadline: a frozen Redis or a stuck socket must not hold the process.
      if (
        (await within(Promise.allSettled([metricsServer?.close(), store.close()]), left(plan.closeByMs))) === "timeout"
      )
        closed = false;
      sdk?.destroy();
      if ((await within(connection.quit(), left(plan.closeByMs)).catch(() => "timeout" as const)) === "timeout") {
        connection.disconnect();
        closed = false;
      }
      logger.info({ how, closed, ms: Date.now() - startedAt }, "worker stopped");
      return { how, closed };
    })());
  return {
    worker,
    shutdown,
    sweep: () => sweeper.sweep({ force: true }),
    ...(metricsServer ? { metricsPort: metricsServer.port } : {}),
  };
}
