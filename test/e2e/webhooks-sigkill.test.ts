/**
 * Two `pc-invitations deliver` processes (the built CLI), one SIGKILLed while deliveries are in
 * flight: every event still reaches the endpoint, verified by `standardwebhooks`, in order per
 * invitation (what the dead process held is claimed again once its lease passes).
 */
import type { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { loadConfig } from "../../src/config/load-config.js";
import { webhookStoreFromConfig } from "../../src/app/deliver.js";
import { addWebhook } from "../../src/delivery/webhook-admin.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { PROCESS_START_MS, startCli, type CliProcess } from "../helpers/cli.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { startReceiver } from "../helpers/webhook-receiver.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("wh-kill");
const env = {
  REDIS_URL,
  QUEUE_PREFIX: prefix,
  WEBHOOK_ALLOW_PRIVATE: "true",
  WEBHOOK_TIMEOUT_MS: "1000",
  WEBHOOK_CONCURRENCY: "4",
  WEBHOOK_RETRY_SCHEDULE: Array(60).fill("500ms").join(","),
  LOG_LEVEL: "info",
};
const procs: CliProcess[] = [];
afterAll(async () => {
  for (const p of procs) p.child.kill("SIGKILL");
  await Promise.all(procs.map((p) => p.exited));
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

it("loses nothing when a deliver process is SIGKILLed mid-delivery", async () => {
  const config = loadConfig(env);
  const store = webhookStoreFromConfig(config, redis);
  // Slow answers, so the killed process has deliveries in flight; 1 in 4 answered 500.
  const receiver = await startReceiver((_req, n) => ({ status: n % 4 === 3 ? 500 : 200, delayMs: 100 }));
  const { secret } = await addWebhook(store, { url: receiver.url }, { rateLimit: 0 });
  receiver.secrets.push(secret);
  const outcomes = createOutcomeQueue({
    connection: redis,
    prefix,
    queueName: config.OUTCOMES_QUEUE,
    requestsQueueName: config.REQUESTS_QUEUE,
    retentionSeconds: 600,
    idempotencyRetentionSeconds: 600,
  });
  const started = (p: CliProcess) => /deliver started/.test(p.stdout() + p.stderr());
  for (let i = 0; i < 2; i++) procs.push(startCli(["deliver"], env));
  await waitFor(() => procs.every(started), PROCESS_START_MS, "deliver processes started");

  const ids: Array<[string, string]> = [];
  for (let i = 0; i < 30; i++) {
    const ev = (k: number) =>
      ({
        schemaVersion: 1,
        eventId: `evt-${i}-${k}`,
        type: k === 0 ? "failed" : "accepted",
        requestId: `AWS.inv-${i}.${k}`,
        correlationId: null,
        catalog: "AWS",
        identifier: `inv-${i}`,
        clientToken: "t",
        attempts: 1,
        completedAt: new Date().toISOString(),
      }) as unknown as OutcomeEvent;
    await outcomes.publish(ev(0));
    await outcomes.publish(ev(1));
    ids.push([`evt-${i}-0`, `evt-${i}-1`]);
  }
  await waitFor(() => receiver.receipts.length >= 10, 60_000, "deliveries under way");
  procs[0]!.child.kill("SIGKILL");
  await procs[0]!.exited;
  await waitFor(() => ids.flat().every((id) => receiver.delivered().has(id)), 120_000, "every event delivered");
  expect(receiver.receipts.every((r) => r.verified)).toBe(true);
  for (const [first, second] of ids) {
    const firstOk = receiver.receipts.findIndex((r) => r.id === first && r.status < 300);
    const secondSent = receiver.receipts.findIndex((r) => r.id === second);
    expect(secondSent, `${second} after ${first}`).toBeGreaterThan(firstOk);
  }
  await outcomes.close();
  await receiver.close();
}, 300_000);
