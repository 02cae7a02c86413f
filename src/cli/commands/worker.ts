import { startWorker } from "../../app/run-worker.js";
import { initTracing } from "../../observability/tracing.js";
import { prepareRuntime } from "../runtime.js";
import { parse } from "../args.js";

export const workerHelp = `pc-invitations worker: run a worker that accepts queued invitations

  pc-invitations worker

Configured by environment variables (see README): REDIS_URL, QUEUE_PREFIX, AWS_REGION,
PARTNERCENTRAL_ENDPOINT, WORKER_CONCURRENCY, RATE_LIMIT_KEY/RPS/BURST (initial values of the
shared limit; see "pc-invitations limits"), MAX_THROTTLE_REQUEUES, SHUTDOWN_GRACE_MS, LOCK_DURATION_MS,
AWS credentials (standard chain).
METRICS_PORT: Prometheus /metrics on that port. OTEL_EXPORTER_OTLP_ENDPOINT: export trace spans.
SIGTERM/SIGINT: stop taking jobs, finish in-flight ones within SHUTDOWN_GRACE_MS, exit 0.`;

export async function workerCommand(argv: string[]): Promise<number> {
  parse(argv, {});
  const { config, logger } = await prepareRuntime("worker", { writes: true });
  const tracing = await initTracing("pc-invitations-worker", config);
  const running = await startWorker(config, logger, tracing.telemetry ? { telemetry: tracing.telemetry } : {});
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      // The last resort of the grace period's bound: whatever hangs, the process ends.
      setTimeout(() => {
        logger.error({ graceMs: config.SHUTDOWN_GRACE_MS }, "shutdown did not finish; exiting");
        process.exit(1);
      }, config.SHUTDOWN_GRACE_MS + 15_000).unref();
      running.shutdown(signal).then(tracing.shutdown).then(
        () => resolve(0),
        (err) => {
          logger.error({ err }, "shutdown failed");
          resolve(1);
        },
      );
    };
    process.once("SIGTERM", stop);
    process.once("SIGINT", stop);
  });
}
