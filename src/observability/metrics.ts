import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import type { Queue } from "bullmq";
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from "prom-client";
import type { OutcomeType } from "../contracts/outcome.js";

/**
 * Prometheus metrics of pc-invitations: one Registry per process (or per test), never prom-client's
 * global one, so two registries never clash. Recording goes through the small typed functions of
 * `Metrics`, so label names and values stay a closed set (bounded cardinality).
 */

/** What the queue gauges read at scrape time: the part of a BullMQ Queue they need. */
export type QueueProbe = Pick<Queue, "name" | "getJobCounts" | "getJobs">;

/** Result of one AWS call, as the worker classifies it (ErrorKind of classifyError, or success). */
export type AwsCallOutcome = "success" | "throttle" | "transient" | "terminal" | "fault";

export interface Metrics {
  readonly registry: Registry;
  /** After producer.enqueue/enqueueMany: one per request, duplicate = it already existed. */
  recordEnqueued(duplicate: boolean, count?: number): void;
  /** After an outcome event is published. `errorName` = event.error.name for failed ones. */
  recordOutcome(type: OutcomeType, errorName?: string | null): void;
  /** Around every AWS API call, throttled and failed ones included. */
  observeAwsCall(operation: string, outcome: AwsCallOutcome, seconds: number): void;
  /** When a job is put back for a retry with backoff (Decision "retry"). */
  recordRetry(): void;
  /** When AWS throttled a call (Decision "rate-limit", or a throttle that used up an attempt). */
  recordThrottle(): void;
  /** The shared rate limit in force, calls per second, per limiter key (set by the rate limiter). */
  setSharedRate(limitKey: string, callsPerSecond: number): void;
  /** One HTTP API request; `route` is the route pattern (bounded), never the raw URL. */
  observeHttpRequest(method: string, route: string, statusCode: number, seconds: number): void;
  /** A call failed with a fault of the worker (credentials, signature, clock); `errorName` from classifyError. */
  recordFault(errorName: string): void;
  /** Whether this worker has stopped taking jobs because of a fault (1) or not (0). */
  setPausedByFault(paused: boolean): void;
  /** A job waited because Redis refused a write (full, read-only, loading…), without using an attempt. */
  recordRedisRefusal(): void;
}

/** Job states reported by pci_queue_jobs. */
export const QUEUE_STATES = [
  "waiting",
  "active",
  "delayed",
  "prioritized",
  "completed",
  "failed",
  "waiting-children",
] as const;

/**
 * prom-client's default metrics that break Prometheus' naming rules (`promtool check metrics`:
 * "non-counter metrics should not have "_total" suffix"): gauges named like counters. Each is the
 * sum of the per-type gauge beside it, which stays: `sum(nodejs_active_handles)` is
 * `nodejs_active_handles_total` (docs/http-api.md "Metrics").
 */
export const NON_CONFORMING_DEFAULTS = [
  "nodejs_active_handles_total",
  "nodejs_active_requests_total",
  "nodejs_active_resources_total",
] as const;

/** A scrape never waits longer than this for Redis; a queue that did not answer is left out. */
const SCRAPE_TIMEOUT_MS = 2000;

export function createMetrics(options: { queues?: readonly QueueProbe[]; defaultMetrics?: boolean } = {}): Metrics {
  const registry = new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    for (const name of NON_CONFORMING_DEFAULTS) registry.removeSingleMetric(name);
  }
  const queues = options.queues ?? [];

  const enqueued = new Counter({
    name: "pci_requests_enqueued_total",
    help: "Accept requests enqueued; duplicate=true when the request already existed (nothing new added).",
    labelNames: ["duplicate"] as const,
    registers: [registry],
  });
  const outcomes = new Counter({
    name: "pci_outcomes_total",
    help: "Outcome events published, by type (accepted|rejected|failed|canceled) and error name (empty unless failed).",
    labelNames: ["type", "error_name"] as const,
    registers: [registry],
  });
  const awsCalls = new Histogram({
    name: "pci_aws_call_duration_seconds",
    help:
      "Latency of AWS Partner Central API calls, by operation " +
      "and outcome (success|throttle|transient|terminal|fault).",
    labelNames: ["operation", "outcome"] as const,
    buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const retries = new Counter({
    name: "pci_retries_total",
    help: "Jobs put back for a retry with backoff after a transient error.",
    registers: [registry],
  });
  const throttles = new Counter({
    name: "pci_throttles_total",
    help: "AWS calls answered with throttling (ThrottlingException or HTTP 429).",
    registers: [registry],
  });
  const sharedRate = new Gauge({
    name: "pci_shared_rate_limit",
    help: "Shared rate limit currently in force, calls per second, by limiter key.",
    labelNames: ["limit_key"] as const,
    registers: [registry],
  });
  const faults = new Counter({
    name: "pci_worker_faults_total",
    help:
      "AWS calls refused for a fault of the worker (no usable " +
      "credentials, expired token, skewed clock), by error name.",
    labelNames: ["error_name"] as const,
    registers: [registry],
  });
  const pausedByFault = new Gauge({
    name: "pci_worker_paused_by_fault",
    help: "1 while this worker takes no jobs because of a fault of its own (see pci_worker_faults_total), else 0.",
    registers: [registry],
  });
  const redisRefusals = new Counter({
    name: "pci_redis_refusals_total",
    help: "Times a job waited because Redis refused a write (full, read-only, loading), without using an attempt.",
    registers: [registry],
  });
  const http = new Histogram({
    name: "pci_http_request_duration_seconds",
    help: "HTTP API requests, by method, route pattern and status code.",
    labelNames: ["method", "route", "status_code"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });

  new Gauge({
    name: "pci_queue_jobs",
    help: "Jobs per queue and state, read from BullMQ at scrape time.",
    labelNames: ["queue", "state"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (q) => {
          const counts = await bounded(q.getJobCounts(...QUEUE_STATES));
          if (!counts) return;
          for (const state of QUEUE_STATES) this.set({ queue: q.name, state }, counts[state] ?? 0);
        }),
      );
    },
  });
  new Gauge({
    name: "pci_queue_oldest_waiting_age_seconds",
    help: "Age of the oldest job in the waiting state, per queue (0 when none waits), read at scrape time.",
    labelNames: ["queue"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const now = Date.now();
      await Promise.all(
        queues.map(async (q) => {
          // BullMQ pushes new jobs on the left of the wait list; ascending order starts at the oldest.
          const jobs = await bounded(q.getJobs(["waiting"], 0, 0, true));
          if (!jobs) return;
          const oldest = jobs[0]?.timestamp;
          this.set({ queue: q.name }, oldest ? Math.max(0, (now - oldest) / 1000) : 0);
        }),
      );
    },
  });

  return {
    registry,
    recordEnqueued: (duplicate, count = 1) => enqueued.inc({ duplicate: String(duplicate) }, count),
    recordOutcome: (type, errorName) => outcomes.inc({ type, error_name: type === "failed" ? (errorName ?? "") : "" }),
    observeAwsCall: (operation, outcome, seconds) => awsCalls.observe({ operation, outcome }, seconds),
    recordRetry: () => retries.inc(),
    recordThrottle: () => throttles.inc(),
    setSharedRate: (limitKey, callsPerSecond) => sharedRate.set({ limit_key: limitKey }, callsPerSecond),
    observeHttpRequest: (method, route, statusCode, seconds) =>
      http.observe({ method, route, status_code: String(statusCode) }, seconds),
    recordFault: (errorName) => faults.inc({ error_name: errorName }),
    setPausedByFault: (paused) => pausedByFault.set(paused ? 1 : 0),
    recordRedisRefusal: () => redisRefusals.inc(),
  };
}

/** The value, or undefined when Redis failed or was slower than a scrape may wait. */
async function bounded<T>(promise: Promise<T>): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>(
    (resolve) => (timer = setTimeout(() => resolve(undefined), SCRAPE_TIMEOUT_MS)),
  );
  try {
    return await Promise.race([promise.catch(() => undefined), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface MetricsServer {
  /** The port actually bound (useful with port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * A tiny Prometheus endpoint (`GET /metrics`, anything else 404) for processes without the HTTP
 * API, e.g. workers with METRICS_PORT set. Unauthenticated, like most scrape targets: bind it to a
 * private interface.
 */
export function startMetricsServer(options: {
  port: number;
  host?: string;
  registry: Registry;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== "GET" || (req.url ?? "").split("?")[0] !== "/metrics") {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    options.registry.metrics().then(
      (body) => res.writeHead(200, { "content-type": options.registry.contentType }).end(body),
      () => res.writeHead(500, { "content-type": "text/plain" }).end("metrics collection failed\n"),
    );
  });
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host ?? "0.0.0.0", () => {
      server.off("error", reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done, fail) => {
            server.close((err) => (err ? fail(err) : done()));
            server.closeAllConnections();
          }),
      });
    });
  });
}
