import { startDeliver } from "../../app/deliver.js";
import { firstSignal, prepareRuntime } from "../runtime.js";
import { defineCommand } from "../define-command.js";

const details = `Delivers each outcome event and notice to every webhook endpoint that matches (Standard
Webhooks signatures, retried on WEBHOOK_RETRY_SCHEDULE, in order per invitation), and runs the
outcome log's other sinks. Run any number: they share the work through Redis.
Configured by: REDIS_URL, QUEUE_PREFIX, WEBHOOK_CONCURRENCY, WEBHOOK_TIMEOUT_MS,
WEBHOOK_MAX_RESPONSE_BYTES, WEBHOOK_RETRY_SCHEDULE, WEBHOOK_DISABLE_AFTER, WEBHOOK_ALLOW_PRIVATE,
METRICS_PORT (Prometheus /metrics). See docs/webhooks.md.
SIGTERM/SIGINT: stop claiming, let attempts in flight end (each within WEBHOOK_TIMEOUT_MS), exit 0;
an attempt cut short is made again by another process (at least once).`;

export const deliver = defineCommand({
  name: "deliver",
  summary: "deliver outcome events to webhook endpoints (run any number)",
  details,
  run: () => deliverCommand(),
});

async function deliverCommand(): Promise<number> {
  const signalled = firstSignal();
  const { config, logger } = await prepareRuntime("deliver", { writes: true });
  const running = await startDeliver(config, logger);
  await signalled;
  await running.stop();
  logger.info("deliver stopped");
  return 0;
}
