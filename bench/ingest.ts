/**
 * `node dist/bench/ingest.js` (after `npm run build`): from an event's arrival on the SQS queue to
 * its outcome event, at BENCH_INGEST_RATE events/s (default 10) with the emulator answering in
 * BENCH_API_LATENCY_MS (default 100), beside what `discover --every 5m` gives by design. One ingest
 * process and one worker in this process, moto_server (MOTO_SERVER or on the PATH) as the queue,
 * Redis at REDIS_URL under a throw-away prefix. Prints JSON and writes bench/results/ingest.json.
 *
 * Arrival = when SendMessage returned (the event is on the queue); outcome = the outcome event's
 * `completedAt`. The difference includes the long poll's wake-up, the policy, the enqueue, the
 * worker's pick-up, the shared limit, the API call (BENCH_API_LATENCY_MS) and the publication.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type AddressInfo } from "node:net";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { PartnerCentralEmulator } from "../src/emulator/index.js";
import { loadConfig } from "../src/config/load-config.js";
import { createLogger } from "../src/observability/logger.js";
import { startIngest } from "../src/app/ingest.js";
import { startWorker } from "../src/app/run-worker.js";
import { requestStoreFromConfig, producerFromConfig } from "../src/app/from-config.js";
import { createSdkInvitationApi } from "../src/aws/sdk-invitation-api.js";
import { parsePolicy } from "../src/producer/discovery-policy.js";
import {
  BENCH_CREDENTIALS,
  deletePrefix,
  envInt,
  newRedis,
  percentiles,
  progress,
  REDIS_URL,
  round,
  sleep,
  sourceInfo,
  repoRoot,
  uniquePrefix,
  writeResult,
} from "./common.js";

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  const { port } = srv.address() as AddressInfo;
  await new Promise((r) => srv.close(r));
  return port;
}

function findMoto(): string {
  const found = [process.env.MOTO_SERVER, ...(process.env.PATH ?? "").split(":").map((d) => `${d}/moto_server`)]
    .concat("/root/.pyenv/shims/moto_server")
    .find((p) => p && existsSync(p));
  if (!found) throw new Error("moto_server is not installed: pip install 'moto[server]' (or set MOTO_SERVER)");
  return found;
}

async function main(): Promise<void> {
  const events = envInt("BENCH_INGEST_EVENTS", 300, 1);
  const rate = envInt("BENCH_INGEST_RATE", 10, 1);
  const latencyMs = envInt("BENCH_API_LATENCY_MS", 100, 0);
  const port = await freePort();
  const motoUrl = `http://127.0.0.1:${port}`;
  const moto = spawn(findMoto(), ["-H", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
  const sqs = new SQSClient({ region: "us-east-1", endpoint: motoUrl, credentials: BENCH_CREDENTIALS, maxAttempts: 1 });
  const prefix = uniquePrefix("bench-ingest");
  const redis = newRedis();
  const emulator = await PartnerCentralEmulator.start({ latencyMs });
  const api = createSdkInvitationApi({ endpoint: emulator.url, credentials: BENCH_CREDENTIALS });
  try {
    for (let i = 0; ; i++) {
      const up = await fetch(`${motoUrl}/moto-api/`).then(
        () => true,
        () => false,
      );
      if (up) break;
      if (i > 600) throw new Error("moto_server did not start");
      await sleep(100);
    }
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: "bench-events" }))).QueueUrl!;
    const config = loadConfig(
      {},
      {
        REDIS_URL,
        QUEUE_PREFIX: prefix,
        PARTNERCENTRAL_ENDPOINT: emulator.url,
        AWS_ENDPOINT_URL_SQS: motoUrl,
        RATE_LIMIT_RPS: 100,
        RATE_LIMIT_BURST: 100,
        WORKER_CONCURRENCY: 8,
        LOG_LEVEL: "warn",
        SHUTDOWN_GRACE_MS: 5000,
      },
    );
    const logger = createLogger({ level: "warn" });
    const worker = await startWorker(config, logger, { api });
    const ingest = startIngest(config, {
      queueUrl,
      policy: parsePolicy({ default: "accept", rules: [] }),
      logger,
      api,
      credentials: BENCH_CREDENTIALS,
    });
    const invitations = emulator.seedInvitations(events).map((i) => i.identifier);
    // Seeded without events: the bench writes each Received itself, at the rate, and notes its arrival.
    progress(`ingest bench: ${events} events at ${rate}/s, API latency ${latencyMs} ms`);
    const arrivedAt = new Map<string, number>();
    const started = Date.now();
    await Promise.all(
      invitations.map(async (id, i) => {
        await sleep(Math.max(0, started + (i * 1000) / rate - Date.now()));
        const event = {
          version: "1",
          id: `bench-${i}`,
          "detail-type": "Partner Connection Invitation Received",
          source: "aws.partnercentral-account",
          time: new Date().toISOString(),
          region: "us-east-1",
          account: "111122223333",
          resources: [],
          detail: {
            catalog: "AWS",
            connectionInvitation: { id, connectionType: "OpportunityCollaboration", senderProfileId: "pprofile-X" },
          },
        };
        await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(event) }));
        arrivedAt.set(id, Date.now());
      }),
    );
    const store = requestStoreFromConfig(config, redis, { writesQueueMeta: false });
    const producer = producerFromConfig(config, redis);
    const latencies: number[] = [];
    const deadline = Date.now() + 120_000;
    for (const id of invitations) {
      for (;;) {
        const [p] = await producer.preview([{ catalog: "AWS", identifier: id }]);
        const jobId = p?.verdict === "duplicate" ? p.jobId : undefined;
        const outcome = jobId ? await store.readOutcome(jobId) : undefined;
        if (outcome) {
          latencies.push(Date.parse(outcome.completedAt) - arrivedAt.get(id)!);
          break;
        }
        if (Date.now() > deadline) throw new Error(`no outcome for ${id} within 120 s`);
        await sleep(50);
      }
    }
    await ingest.stop("bench over");
    await worker.shutdown("bench over");
    await store.close();
    await producer.close();
    const p = percentiles(latencies);
    const doc = {
      bench: "ingest",
      what: "event arrival on the SQS queue → its outcome event (completedAt)",
      source: sourceInfo(repoRoot()),
      at: new Date().toISOString(),
      settings: { events, ratePerSecond: rate, apiLatencyMs: latencyMs, queue: "moto_server", workerConcurrency: 8 },
      eventsToOutcomeMs: {
        p50: round(p.p50),
        p99: round(p.p99),
        max: round(Math.max(...latencies)),
      },
      p99BeyondApiLatencyMs: round(p.p99 - latencyMs),
      discoverEvery5mByDesign: {
        note: "an invitation waits for the next period: uniform over 0-300 s, plus the same pipeline",
        p50Ms: 150_000 + round(p.p50),
        p99Ms: 297_000 + round(p.p99),
      },
    };
    await writeResult("ingest.json", doc);
  } finally {
    api.destroy();
    await emulator.close();
    await deletePrefix(redis, prefix).catch(() => {});
    redis.disconnect();
    sqs.destroy();
    moto.kill("SIGTERM");
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
