import { startWorker, type ShutdownResult } from "../../app/run-worker.js";
import { shutdownPlan, within } from "../../app/shutdown-plan.js";
import { initTracing } from "../../observability/tracing.js";
import { FORCED_EXIT_CODE, firstSignal, prepareRuntime } from "../runtime.js";
import { defineCommand } from "../define-command.js";

/** How a worker process ended after SIGTERM/SIGINT (README, "Exit codes"). */
export const WORKER_EXIT = {
  /** Every run in flight finished within the grace period; everything closed. */
  drained: 0,
  /** The grace period ran out: the runs still in flight were cancelled; their jobs are redelivered (same ClientToken).
   * */
  cancelled: 5,
  /** Something did not close by the end of SHUTDOWN_GRACE_MS: the process exited anyway (jobs redelivered alike). */
  forced: FORCED_EXIT_CODE,
} as const;

const details = `Configured by environment variables (see README): REDIS_URL, QUEUE_PREFIX, AWS_REGION,
PARTNERCENTRAL_ENDPOINT, WORKER_CONCURRENCY, RATE_LIMIT_KEY/RPS/BURST (initial values of the
shared limit; see "pc-invitations limits"), MAX_THROTTLE_REQUEUES, SHUTDOWN_GRACE_MS, LOCK_DURATION_MS,
AWS credentials (standard chain).
METRICS_PORT: Prometheus /metrics on that port. OTEL_EXPORTER_OTLP_ENDPOINT: export trace spans.
SIGTERM/SIGINT: stop taking jobs and exit within SHUTDOWN_GRACE_MS, whatever runs: exit 0 when the
runs in flight finished, 5 when some were cancelled at the end of the grace period (their jobs are
redelivered, same ClientToken), 6 when closing did not finish in time and the process left anyway.`;

export const worker = defineCommand({
  name: "worker",
  summary: "run a worker that accepts queued invitations",
  details,
  run: () => workerCommand(),
});

async function workerCommand(): Promise<number> {
  // Listening before "worker started" is logged: a SIGTERM sent on that line must stop it cleanly.
  const signalled = firstSignal();
  const { config, logger } = await prepareRuntime("worker", { writes: true });
  const tracing = await initTracing("pc-invitations-worker", config);
  const running = await startWorker(config, logger, tracing.telemetry ? { telemetry: tracing.telemetry } : {});
  // The grace period is a hard bound (firstSignal): whatever still runs or hangs, the process ends at its end.
  const signal = await signalled;
  const startedAt = Date.now();
  const plan = shutdownPlan(config.SHUTDOWN_GRACE_MS);
  try {
    const result: ShutdownResult = await running.shutdown(signal);
    const traced = await within(tracing.shutdown(), startedAt + plan.closeByMs - Date.now()).catch(
      () => "timeout" as const,
    );
    if (!result.closed || result.how === "stuck" || traced === "timeout") return WORKER_EXIT.forced;
    return result.how === "drained" ? WORKER_EXIT.drained : WORKER_EXIT.cancelled;
  } catch (err) {
    logger.error({ err }, "shutdown failed");
    return 1;
  }
}
