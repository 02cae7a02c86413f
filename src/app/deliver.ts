import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { Registry } from "prom-client";
import type { Logger } from "../observability/logger.js";
import type { Config } from "../schemas/config.js";
import { createRedis, type RedisConnection } from "../store/redis/connection.js";
import { queueLocationFrom } from "../store/queue-location.js";
import { createRedisOutcomeLog } from "../store/redis/outcome-log.js";
import { createRedisWebhookStore } from "../store/redis/webhook-store.js";
import type { OutcomeLog } from "../store/outcome-log.js";
import type { WebhookStore } from "../store/webhook-store.js";
import { runSink, type EventSink } from "../delivery/event-sink.js";
import { startHistory } from "./history.js";
import { runDeliverer } from "../delivery/deliverer.js";
import { webhookAgents } from "../delivery/destination.js";
import { webhookSink } from "../delivery/webhook-sink.js";
import { createWebhookMetrics } from "../observability/webhook-metrics.js";
import { startMetricsServer, type MetricsServer } from "../observability/metrics.js";

/** The webhooks' store of a deployment. */
export function webhookStoreFromConfig(config: Config, redis: RedisConnection): WebhookStore {
  return createRedisWebhookStore({
    connection: redis,
    location: queueLocationFrom(config),
    seenRetentionSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
  });
}

/** The outcome log of a deployment. */
export function outcomeLogFromConfig(config: Config, redis: RedisConnection): OutcomeLog {
  return createRedisOutcomeLog({ connection: redis, location: queueLocationFrom(config) });
}

/**
 * The sinks every `deliver` process runs over the outcome log: the webhooks' fan-out, and those
 * given by the caller (the PostgreSQL history when DATABASE_URL is set). A new sink: one entry here
 * or in `extraSinks`.
 */
export function deliverSinks(store: WebhookStore, extraSinks: readonly EventSink[], onFannedOut?: (n: number) => void) {
  return [webhookSink(store, onFannedOut ? { onFannedOut } : {}), ...extraSinks];
}

export interface RunningDeliver {
  readonly holder: string;
  readonly registry: Registry;
  readonly metricsPort: number | undefined;
  /** Stops reading and claiming, lets attempts in flight end (each bounded by WEBHOOK_TIMEOUT_MS), closes. */
  stop(): Promise<void>;
}

/**
 * A `deliver` process: runs each sink over the outcome log (one holder of the fleet per sink at a
 * time, at least once, in order) and the deliverer (any number of processes claim due deliveries).
 */
export async function startDeliver(
  config: Config,
  logger: Logger,
  options: { extraSinks?: readonly EventSink[]; pollMs?: number } = {},
): Promise<RunningDeliver> {
  // The history first (DATABASE_URL): its migrations run at start, under their advisory lock.
  const history = await startHistory(config, logger);
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const log = outcomeLogFromConfig(config, redis);
  const store = webhookStoreFromConfig(config, redis);
  const registry = new Registry();
  const metrics = createWebhookMetrics(registry);
  const holder = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const stop = new AbortController();
  const agents = webhookAgents({ allowPrivate: config.WEBHOOK_ALLOW_PRIVATE, maxSockets: config.WEBHOOK_CONCURRENCY });
  const extraSinks = [...(history ? [history.sink] : []), ...(options.extraSinks ?? [])];
  const sinks = deliverSinks(store, extraSinks, (n) => metrics.recordFannedOut(n));
  const running = [
    ...sinks.map((sink) =>
      runSink(log, sink, {
        holder,
        signal: stop.signal,
        onBatch: ({ sink: name, events }) => metrics.recordSinkBatch(name, events),
        onError: (err, name) => logger.warn({ err, sink: name }, "sink batch failed: handed again later"),
      }),
    ),
    runDeliverer({
      store,
      post: {
        agents,
        timeoutMs: config.WEBHOOK_TIMEOUT_MS,
        maxResponseBytes: config.WEBHOOK_MAX_RESPONSE_BYTES,
      },
      schedule: config.WEBHOOK_RETRY_SCHEDULE,
      disableAfterMs: config.WEBHOOK_DISABLE_AFTER,
      concurrency: config.WEBHOOK_CONCURRENCY,
      source: `urn:pc-invitations:${config.QUEUE_PREFIX}`,
      signal: stop.signal,
      ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}),
      onAttempt: (a) => {
        metrics.observeAttempt(a.endpointId, a.result, a.status, a.latencyMs / 1000);
        if (a.result !== "delivered") logger.info(a, `webhook attempt: ${a.result}`);
      },
      onError: (err) => logger.warn({ err }, "webhook delivery step failed (retried)"),
    }),
  ];
  let server: MetricsServer | undefined;
  if (config.METRICS_PORT !== undefined) server = await startMetricsServer({ port: config.METRICS_PORT, registry });
  logger.info({ holder, sinks: sinks.map((s) => s.name), concurrency: config.WEBHOOK_CONCURRENCY }, "deliver started");
  return {
    holder,
    registry,
    metricsPort: server?.port,
    async stop() {
      stop.abort();
      await Promise.allSettled(running);
      agents.close();
      await server?.close().catch(() => undefined);
      await log.close();
      redis.disconnect();
      await history?.close();
    },
  };
}
