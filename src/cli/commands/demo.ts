import { randomBytes } from "node:crypto";
import { PartnerCentralEmulator } from "../../emulator/index.js";
import { createSdkInvitationApi } from "../../aws/sdk-invitation-api.js";
import { startWorker } from "../../app/run-worker.js";
import { createProducer } from "../../producer/producer.js";
import { consumeOutcomes, isNotice } from "../../outcomes/consume.js";
import { createRedis } from "../../store/redis/connection.js";
import { deletePrefix } from "../../store/redis/delete-prefix.js";
import type { OutcomeEvent } from "../../contracts/outcome.js";
import { RequestValidationError } from "../../errors/index.js";
import { loadConfig } from "../../config/load-config.js";
import { prepareRuntime } from "../runtime.js";
import { intArg } from "../args.js";
import { defineCommand } from "../define-command.js";
import { summarize, summaryLine, tableHeader, tableRow } from "../outcome-table.js";

const details = `Starts the Partner Central emulator, seeds invitations, enqueues valid ones, an unknown one, an
already accepted one (reported as accepted, alreadyAccepted: true),
a rejected one and a malformed one, runs a worker against the emulator through the real
AWS SDK, prints every outcome and a summary, cleans its keys up and exits 0.
Uses the Redis at REDIS_URL under a throw-away queue prefix.


--output ndjson (or json; the default when stdout is not a terminal): each outcome event as an
NDJSON line, then the summary as JSON. --output table (the default on a terminal): a table
(identifier, outcome, connection id or error, attempts) and a summary line.`;

export const demo = defineCommand({
  name: "demo",
  summary: "a self-contained run on local defaults (what `npm start` does)",
  options: { count: { type: "string", description: "pending invitations to seed (default 8)", valueName: "N" } },
  details,
  output: { formats: ["table", "ndjson", "json"], tty: "table", piped: "ndjson" },
  run: ({ values, output }) => demoCommand(intArg(values.count, "count", 1) ?? 8, output === "table"),
});

async function demoCommand(count: number, table: boolean): Promise<number> {
  // The failures the demo provokes are in the table; their warn lines would only break it up.
  process.env.LOG_LEVEL ??= table ? "error" : "warn";
  // A local trial says at once that there is no Redis (and how to start one), unless told to wait.
  process.env.REDIS_STARTUP_TIMEOUT_MS ??= "0";

  const { config: base, logger } = await prepareRuntime("demo", { writes: true });
  const prefix = `{pci-demo-${randomBytes(4).toString("hex")}}`;
  const out = (line: string) => process.stdout.write(`${line}\n`);

  const emulator = await PartnerCentralEmulator.start({ latencyMs: 20 });
  const config = loadConfig(process.env, {
    QUEUE_PREFIX: prefix,
    PARTNERCENTRAL_ENDPOINT: emulator.url,
    RATE_LIMIT_RPS: Math.max(base.RATE_LIMIT_RPS, 20),
    RATE_LIMIT_BURST: Math.max(base.RATE_LIMIT_BURST, 20),
    BACKOFF_DELAY_MS: 200,
  });
  const api = createSdkInvitationApi({
    endpoint: emulator.url,
    region: config.AWS_REGION,
    credentials: { accessKeyId: "AKIDEMULATOR", secretAccessKey: "emulator-only-secret" },
  });
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  const producer = createProducer({
    redis,
    prefix,
    queueName: config.REQUESTS_QUEUE,
    outcomesQueueName: config.OUTCOMES_QUEUE,
    retry: { backoffDelayMs: 200 },
  });
  const worker = await startWorker(config, logger, { api });
  out(`emulator at ${emulator.url}; queue prefix ${prefix}; worker concurrency ${config.WORKER_CONCURRENCY}`);

  try {
    const pending = emulator.seedInvitations(count, { catalog: "Sandbox" });
    const accepted = emulator.seedInvitation({ catalog: "Sandbox", status: "ACCEPTED" });
    const rejected = emulator.seedInvitation({ catalog: "Sandbox", status: "REJECTED" });
    const requests = [
      ...pending.map((inv, i) => ({ catalog: inv.catalog, identifier: inv.identifier, metadata: { demoItem: i } })),
      { catalog: "Sandbox", identifier: "pacinv-UNKNOWN000000", correlationId: "demo-unknown" },
      { catalog: accepted.catalog, identifier: accepted.identifier, correlationId: "demo-already-accepted" },
      { catalog: rejected.catalog, identifier: rejected.identifier, correlationId: "demo-rejected" },
    ];
    try {
      await producer.enqueue({ catalog: "Sandbox", identifier: "pacinv-tooShort" });
    } catch (err) {
      if (!(err instanceof RequestValidationError)) throw err;
      out(`rejected at the producer, as expected: ${err.message}`);
    }
    const results = await producer.enqueueMany([...requests, requests[0]!]);
    const unique = results.filter((r) => !r.duplicate).length;
    out(`enqueued ${unique} requests (+${results.length - unique} duplicate enqueue, folded into its job)`);

    const events: OutcomeEvent[] = [];
    if (table) tableHeader().forEach(out);
    await new Promise<void>((resolve) => {
      const consumer = consumeOutcomes(
        (event) => {
          if (isNotice(event)) return;
          events.push(event);
          out(table ? tableRow(event) : JSON.stringify(event));
          if (events.length === unique) void consumer.close().then(resolve);
        },
        { redis, prefix, queueName: config.OUTCOMES_QUEUE },
      );
    });
    const summary = summarize(events, unique, emulator.calls({ operation: "AcceptConnectionInvitation" }).length);
    out(table ? summaryLine(summary) : JSON.stringify({ summary }));
    return 0;
  } finally {
    await worker.shutdown("demo finished");
    await producer.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
    api.destroy();
    await emulator.close();
  }
}
