import { DelayedError, UnrecoverableError, Worker, type ConnectionOptions, type Job, type Telemetry } from "bullmq";
import type { InvitationApi } from "../aws/invitation-api.js";
import type { Logger } from "../observability/logger.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import type { QueueLocation } from "../store/queue-location.js";
import { finishAbandonedJob, processJob, type ProcessDeps, type RunStore } from "./process-job.js";
import type { RequestJobResult } from "./run-end.js";
import { operationDone } from "../operations/index.js";
import type { Pacing } from "./pacing.js";
import type { Metrics } from "../observability/metrics.js";
import { isRedisRefusal } from "../store/redis/redis-errors.js";
import type { WriteGate } from "../store/redis/write-gate.js";
import {
  createFaultPause,
  faultPauseLogLine,
  faultRecoveredLogLine,
  type FaultLogLine,
  type FaultPause,
} from "./fault-pause.js";

export interface WorkerOptions {
  connection: ConnectionOptions;
  location: QueueLocation;
  api: InvitationApi;
  /** The request store (outcomes under the run's fence, the request's record). */
  store: RunStore;
  logger: Logger;
  /** The shared, adaptive rate limit every call passes (see docs/rate-limits.md). */
  pacing?: Pacing;
  /** Outcome, retry and throttle counters (AWS call latency comes from instrumentApi). */
  metrics?: Metrics;
  /** @defaultValue WORKER_CONCURRENCY's default, 4 */
  concurrency?: number;
  /** @defaultValue MAX_THROTTLE_REQUEUES's default, 10 */
  maxThrottleRequeues?: number;
  /** BullMQ lock duration, ms. @defaultValue LOCK_DURATION_MS's default, 30000 */
  lockDurationMs?: number;
  /** Stalled-job check interval, ms. @defaultValue STALLED_INTERVAL_MS's default, 30000 */
  stalledIntervalMs?: number;
  /** @defaultValue MAX_STALLED_COUNT's default, 5 */
  maxStalledCount?: number;
  /** BullMQ telemetry: each run is a CONSUMER span, a child of the enqueue's span. */
  telemetry?: Telemetry;
  /**
   * Where a run waits while Redis refuses writes (full, read-only…): the job keeps its attempts
   * and runs again once Redis accepts a write. Without it such a refusal fails the attempt.
   */
  writeGate?: WriteGate;
  /** Pause after a fault of the worker's own (credentials…): first pause, ms. @defaultValue FAULT_PAUSE_MS's default,
   * 5000 */
  faultMinBackoffMs?: number;
  /** Longest pause after repeated faults, ms. @defaultValue FAULT_PAUSE_MAX_MS's default, 300000 */
  faultMaxBackoffMs?: number;
  /** A fault pause began, went on with a longer pause, or ended (worker.fault says which). */
  onFaultChange?: () => void;
  autorun?: boolean;
}

/** The BullMQ Worker, and the fault it is paused for, if any (for health checks). */
export type AcceptWorker = Worker & { readonly fault: FaultPause["fault"] };

/** At most one "worker error" log line per this many ms (the others are counted in the next). */
const ERROR_LOG_INTERVAL_MS = 10_000;

/** Thrown to make BullMQ retry with backoff; carries the classified error for logs. */
export class TransientAttemptError extends Error {
  override readonly name = "TransientAttemptError";
}

/**
 * The BullMQ shell around processJob: it only translates decisions into BullMQ signals
 * (return; throw → backoff; moveToDelayed + DelayedError → back later without using an attempt;
 * UnrecoverableError → failed; DelayedError alone → BullMQ leaves the job be). Pacing is the
 * shared limiter's job, not BullMQ's fixed-window limiter, which lets up to twice the limit
 * through around a window edge.
 *
 * Two things never cost a request an attempt: Redis refusing a write (the run waits on the write
 * gate, then runs again: every step is idempotent and the ClientToken is the same), and a fault
 * of the worker's own (the job goes back, the worker pauses, see fault-pause.ts).
 */
export function createAcceptWorker(opts: WorkerOptions): AcceptWorker {
  const deps: ProcessDeps = {
    api: opts.api,
    store: opts.store,
    maxThrottleRequeues: opts.maxThrottleRequeues ?? CONFIG_DEFAULTS.MAX_THROTTLE_REQUEUES,
    ...(opts.pacing ? { pacing: opts.pacing } : {}),
  };
  const worker: Worker = new Worker(
    opts.location.requestsQueue,
    async (job: Job, token?: string, signal?: AbortSignal): Promise<RequestJobResult> => {
      const jobId = job.id ?? "(no id)";
      const log = jobLogger(opts.logger, { jobId, correlationId: correlationOf(job.data) });
      // With telemetry, BullMQ runs this inside its CONSUMER span, a child of the enqueue's context.
      const view = {
        id: jobId,
        data: job.data,
        attemptsMade: job.attemptsMade,
        maxAttempts: job.opts.attempts ?? 1,
        ...(token ? { token } : {}),
      };
      let result: Awaited<ReturnType<typeof processJob>>;
      for (let refusals = 0; ; refusals++) {
        try {
          result = await processJob(view, deps, signal);
          break;
        } catch (err) {
          if (!opts.writeGate || !isRedisRefusal(err)) throw err;
          opts.metrics?.recordRedisRefusal();
          if (refusals === 0)
            log.warn(
              { err: { message: (err as Error).message } },
              "Redis refused a write; the job waits for room, its attempts intact",
            );
          try {
            await opts.writeGate.untilWritable(signal);
          } catch {
            // The lock was lost while waiting: leave the job as it is; BullMQ's stalled check hands it on.
            log.warn("lock lost while waiting for Redis; the job is left to the stalled check");
            throw new DelayedError();
          }
        }
      }
      // AWS answered this run (or it published without needing AWS): a fault pause is over.
      if (result.end === "outcome" || result.end === "retry" || (result.end === "later" && result.why === "throttle")) {
        faults.clear();
      }
      switch (result.end) {
        case "nothing":
          switch (result.why) {
            case "not-a-request":
              log.warn(
                "the job's id cannot carry an outcome: no pc-invitations producer enqueued it (one added without a " +
                  "jobId is numbered by BullMQ, which refuses a number as the outcome's id); failed without calling " +
                  "the API and without an outcome",
              );
              throw new UnrecoverableError(
                `job id ${JSON.stringify(jobId.slice(0, 80))} cannot carry ` +
                  `an outcome (enqueue requests with the producer); not sent`,
              );
            case "already-published":
              log.info("outcome already published; not calling the API again");
              return { end: "nothing", why: "already-published" };
            case "fenced":
              // Another worker owns the job now (or will, after BullMQ's stalled check): whatever this
              // run learnt is dropped, not published, and BullMQ is told to leave the job alone.
              log.warn({ dropped: result.outcome?.type }, "lost the job's lock; published nothing");
              throw new DelayedError();
          }
          break;
        case "outcome": {
          const o = result.outcome;
          opts.metrics?.recordOutcome(o.type, o.type === "failed" ? o.error.name : null);
          if (o.type === "failed") {
            log.warn({ error: o.error, attempts: o.attempts }, "request failed");
            throw new UnrecoverableError(
              `${o.error.name}${o.error.reason ? ` (${o.error.reason})` : ""}: ${o.error.message}`,
            );
          }
          // A run never publishes `canceled` (cancelRequest does, for a job no run has taken).
          const op = operationDone(o.type);
          if (op) log.info({ attempts: o.attempts, ...op.logFields(o) }, `invitation ${op.done}`);
          // Its eventId is derived from the job id (run-end.ts requestJobResultEventId): not stored.
          return { end: "outcome", type: o.type };
        }
        case "retry":
          opts.metrics?.recordRetry();
          log.warn(
            { error: result.error, attemptsMade: job.attemptsMade + 1 },
            "transient error; will retry with backoff",
          );
          throw new TransientAttemptError(`${result.error.name}: ${result.error.message}`);
        case "later":
          switch (result.why) {
            case "throttle": {
              // Only a valid job reaches the API, so its data has throttleRequeues.
              const throttleRequeues = (job.data as { throttleRequeues: number }).throttleRequeues + 1;
              log.warn({ error: result.error, delayMs: result.delayMs, throttleRequeues }, "throttled; job goes back");
              await job.updateData({ ...job.data, throttleRequeues });
              return backLater(job, token, result.delayMs);
            }
            case "limit":
            case "shutdown":
              log.info(
                { reason: result.reason, delayMs: result.delayMs },
                "shared rate limit: job delayed without a call",
              );
              return backLater(job, token, result.delayMs);
            case "fault": {
              const error = result.error!;
              opts.metrics?.recordFault(error.name);
              const delayMs = faults.trip(error);
              log.debug({ error, delayMs }, "worker fault: job goes back, attempts intact");
              return backLater(job, token, delayMs);
            }
          }
      }
      throw new Error(`unknown end of a run: ${JSON.stringify(result)}`);
    },
    {
      connection: opts.connection,
      prefix: opts.location.prefix,
      concurrency: opts.concurrency ?? CONFIG_DEFAULTS.WORKER_CONCURRENCY,
      lockDuration: opts.lockDurationMs ?? CONFIG_DEFAULTS.LOCK_DURATION_MS,
      stalledInterval: opts.stalledIntervalMs ?? CONFIG_DEFAULTS.STALLED_INTERVAL_MS,
      maxStalledCount: opts.maxStalledCount ?? CONFIG_DEFAULTS.MAX_STALLED_COUNT,
      autorun: opts.autorun ?? true,
      ...(opts.telemetry ? { telemetry: opts.telemetry } : {}),
    },
  );
  // While Redis refuses writes BullMQ reports an error per fetch attempt: one line per 10 s, with a count.
  let lastErrorLog = 0;
  let suppressedErrors = 0;
  worker.on("error", (err) => {
    const now = Date.now();
    if (now - lastErrorLog < ERROR_LOG_INTERVAL_MS) {
      suppressedErrors++;
      return;
    }
    opts.logger.error(
      { err, ...(suppressedErrors > 0 ? { suppressedSinceLast: suppressedErrors } : {}) },
      "worker error",
    );
    lastErrorLog = now;
    suppressedErrors = 0;
  });
  // A fault of the worker's own: stop taking jobs, probe again after a backoff. Logged as
  // faultPauseLogLine says: an error when the episode starts, a warning per failed probe.
  const logFault = (line: FaultLogLine) => opts.logger[line.level](line.fields, line.message);
  const faults = createFaultPause({
    pause: () => void worker.pause(true),
    resume: () => void Promise.resolve(worker.resume()).catch(() => undefined),
    onPause: (error, backoffMs, first) => {
      opts.metrics?.setPausedByFault(true);
      logFault(faultPauseLogLine(error, backoffMs, first));
      opts.onFaultChange?.();
    },
    onRecover: (error, pausedMs) => {
      opts.metrics?.setPausedByFault(false);
      logFault(faultRecoveredLogLine(error, pausedMs));
      opts.onFaultChange?.();
    },
    ...(opts.faultMinBackoffMs !== undefined ? { minBackoffMs: opts.faultMinBackoffMs } : {}),
    ...(opts.faultMaxBackoffMs !== undefined ? { maxBackoffMs: opts.faultMaxBackoffMs } : {}),
  });
  worker.on("closing", () => faults.close());
  // BullMQ reports a failed lock renewal but does not stop the processor: abort its signal so
  // the in-flight SDK call is cancelled and the run publishes nothing (the fence in publish()
  // covers the window before this event fires).
  worker.on("lockRenewalFailed", (jobIds: string[]) => {
    for (const id of jobIds) {
      opts.logger.warn({ jobId: id }, "lock renewal failed; aborting the run");
      worker.cancelJob(id, "lock lost");
    }
  });
  // BullMQ fails a job that lost its worker too often without calling the processor. Such a job
  // (finished, failed, and without an outcome) still gets one.
  worker.on("failed", (job) => {
    if (!job?.id || !job.finishedOn) return; // a failed attempt that will be retried
    const jobView = { id: job.id, data: job.data, attemptsMade: job.attemptsMade, maxAttempts: job.opts.attempts ?? 1 };
    finishAbandonedJob(jobView, job.failedReason ?? "failed", deps).then(
      (r) => {
        if (r.end === "later" && r.why === "fault" && r.error) {
          // AWS refused the look-up for the worker's own fault: no outcome; the sweeper finishes the job later.
          opts.metrics?.recordFault(r.error.name);
          faults.trip(r.error);
          opts.logger.warn(
            { jobId: job.id, reason: job.failedReason, error: { name: r.error.name } },
            "abandoned job left to the sweeper: AWS refused the look-up (worker fault)",
          );
          return;
        }
        if (r.end === "nothing" && r.why === "unsettled") {
          opts.logger.warn(
            { jobId: job.id, reason: job.failedReason },
            "abandoned job left to the sweeper: its invitation is still pending, and a lost run's call may still land",
          );
          return;
        }
        if (r.end !== "outcome") return;
        opts.metrics?.recordOutcome(r.outcome.type, r.outcome.type === "failed" ? r.outcome.error.name : null);
        opts.logger.warn({ jobId: job.id, reason: job.failedReason }, "abandoned job given its outcome");
      },
      (err) =>
        opts.logger.error(
          { err, jobId: job.id },
          "could not publish the outcome of an abandoned job (the sweeper will finish it)",
        ),
    );
  });
  return Object.defineProperty(worker, "fault", { get: () => faults.fault }) as AcceptWorker;
}

/** Puts the job back in the delayed set (no attempt used) with a little jitter against herds. */
async function backLater(job: Job, token: string | undefined, delayMs: number): Promise<never> {
  const jitter = Math.floor(Math.random() * Math.min(250, 10 + delayMs / 10));
  await job.moveToDelayed(Date.now() + delayMs + jitter, token);
  throw new DelayedError();
}

/**
 * The job's ids on every line, without a pino child logger per job (a child serialises and scrubs
 * its bindings each time it is made: a cost on every request for lines most requests never log).
 */
function jobLogger(logger: Logger, ids: { jobId: string; correlationId: string | undefined }) {
  const at =
    (level: "info" | "warn" | "debug") =>
    (fieldsOrMessage: object | string, message?: string): void => {
      if (!logger.isLevelEnabled(level)) return;
      if (typeof fieldsOrMessage === "string") logger[level](ids, fieldsOrMessage);
      else logger[level]({ ...ids, ...fieldsOrMessage }, message);
    };
  return { info: at("info"), warn: at("warn"), debug: at("debug") };
}

function correlationOf(data: unknown): string | undefined {
  const c = (data as { request?: { correlationId?: unknown } } | null)?.request?.correlationId;
  return typeof c === "string" ? c : undefined;
}
