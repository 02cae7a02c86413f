/**
 * Webhook deliveries per second of one `deliver` process (startDeliver, in this process: the fan-out
 * sink, the claim and settle scripts, signing, keep-alive POSTs) against a bare loop of signed HTTP
 * POSTs at the same concurrency to the same local receiver, in the same run, alternating. Prints
 * JSON (medians of BENCH_RUNS runs with their spread) and writes bench/results/webhooks.json.
 * Knobs: BENCH_EVENTS (per run, default 2000), BENCH_RUNS (5), BENCH_CONCURRENCY (32).
 */
import { createServer } from "node:http";
import { Agent, request } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { startDeliver, webhookStoreFromConfig } from "../src/app/deliver.js";
import { loadConfig } from "../src/config/load-config.js";
import type { OutcomeEvent } from "../src/contracts/outcome.js";
import { addWebhook } from "../src/delivery/webhook-admin.js";
import { webhookHeaders } from "../src/delivery/webhook-message.js";
import { newWebhookSecret } from "../src/delivery/sign.js";
import { createLogger } from "../src/observability/logger.js";
import { createOutcomeQueue } from "../src/store/redis/publish.js";
import {
  deletePrefix,
  envInt,
  newRedis,
  progress,
  REDIS_URL,
  repoRoot,
  round,
  sourceInfo,
  spread,
  uniquePrefix,
  writeResult,
} from "./common.js";

const EVENTS = envInt("BENCH_EVENTS", 2000, 1);
const RUNS = envInt("BENCH_RUNS", 5, 1);
const CONCURRENCY = envInt("BENCH_CONCURRENCY", 32, 1);

let received = 0;
const server = createServer((req, res) => {
  req.resume();
  req.on("end", () => {
    received++;
    res.writeHead(204).end();
  });
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
const redis = newRedis();

const event = (i: number, run: number): OutcomeEvent =>
  ({
    schemaVersion: 1,
    eventId: `evt-${run}-${i}`,
    type: "accepted",
    requestId: `AWS.inv-${run}-${i}.r`,
    correlationId: null,
    catalog: "AWS",
    identifier: `inv-${run}-${i}`,
    clientToken: "t",
    attempts: 1,
    completedAt: new Date().toISOString(),
    connection: { id: "conn-1", connectionType: "OPPORTUNITY_COLLABORATION" },
  }) as unknown as OutcomeEvent;

/** The bare loop: C workers, each signing and POSTing the next event, keep-alive. */
async function bare(run: number): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
  const secret = newWebhookSecret();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        const e = event(next++, run);
        const body = JSON.stringify(e);
        const headers = webhookHeaders(e.eventId, body, "application/json", [secret]);
        await new Promise<void>((resolve, reject) => {
          const req = request(
            url,
            { method: "POST", agent, headers: { ...headers, "content-length": Buffer.byteLength(body) } },
            (res) => {
              res.resume();
              res.on("end", () => resolve());
            },
          );
          req.on("error", reject);
          req.end(body);
        });
      }
    }),
  );
  const s = (performance.now() - started) / 1000;
  agent.destroy();
  return EVENTS / s;
}

/** One deliver process: events published first, then the time until the receiver has them all. */
async function viaDeliver(run: number): Promise<number> {
  const prefix = uniquePrefix("bench-wh");
  const config = loadConfig({
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE: "true",
    WEBHOOK_CONCURRENCY: String(CONCURRENCY),
    LOG_LEVEL: "silent",
  });
  const store = webhookStoreFromConfig(config, redis);
  await addWebhook(store, { url }, { rateLimit: 0 });
  const outcomes = createOutcomeQueue({
    connection: redis,
    prefix,
    queueName: config.OUTCOMES_QUEUE,
    requestsQueueName: config.REQUESTS_QUEUE,
    retentionSeconds: 600,
    idempotencyRetentionSeconds: 600,
  });
  for (let i = 0; i < EVENTS; i += 200) {
    await Promise.all(Array.from({ length: Math.min(200, EVENTS - i) }, (_, k) => outcomes.publish(event(i + k, run))));
  }
  received = 0;
  const started = performance.now();
  const d = await startDeliver(config, createLogger({ level: "silent" }), { pollMs: 5 });
  while (received < EVENTS) await new Promise((r) => setTimeout(r, 2));
  const s = (performance.now() - started) / 1000;
  await d.stop();
  await outcomes.close();
  await deletePrefix(redis, prefix);
  return EVENTS / s;
}

const bareRates: number[] = [];
const deliverRates: number[] = [];
const ratios: number[] = [];
for (let run = 0; run < RUNS; run++) {
  const b = await bare(run);
  const d = await viaDeliver(run);
  bareRates.push(b);
  deliverRates.push(d);
  ratios.push(d / b);
  progress(`run ${run + 1}/${RUNS}: bare ${round(b)}/s, deliver ${round(d)}/s, ratio ${round(d / b, 3)}`);
}
const doc = {
  bench: "webhooks",
  measured: sourceInfo(repoRoot()),
  at: new Date().toISOString(),
  events: EVENTS,
  runs: RUNS,
  concurrency: CONCURRENCY,
  bareSignedPostsPerSecond: spread(bareRates),
  deliverPerSecond: spread(deliverRates),
  ratio: spread(ratios.map((r) => round(r, 3))),
  target: 0.8,
  note:
    "one deliver process (fan-out sink + claim/settle scripts + signing + " +
    "keep-alive POST) vs a bare loop of signed keep-alive POSTs, same " +
    "receiver, same concurrency, alternating in one run; the deliver time " +
    "includes its start-up and the fan-out of events published before it",
};
await writeResult("webhooks.json", doc);
server.close();
redis.disconnect();
