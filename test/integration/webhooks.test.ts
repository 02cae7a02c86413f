/**
 * Webhooks end to end on a real Redis and real local HTTP receivers, every request verified with
 * the `standardwebhooks` package: every event reaches every matching endpoint at least once, in
 * order per invitation, signed, through 30% 500s, a slow receiver and one that is down for a while
 * (shortened by WEBHOOK_RETRY_SCHEDULE, no timing assertion); 410 disables; Retry-After is
 * honoured; rotation signs with both secrets; private destinations are refused unless allowed.
 */
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { startDeliver, webhookStoreFromConfig } from "../../src/app/deliver.js";
import { loadConfig } from "../../src/config/load-config.js";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { noticeEventId, type Notice } from "../../src/contracts/notice.js";
import { addWebhook, rotateWebhookSecret } from "../../src/delivery/webhook-admin.js";
import { createLogger } from "../../src/observability/logger.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { createRedisHeldStore } from "../../src/store/redis/held.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";
import { startReceiver, type Receiver } from "../helpers/webhook-receiver.js";

const redis = createRedis(REDIS_URL) as Redis;
const cleanups: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => undefined);
  redis.disconnect();
});

const logger = createLogger({ level: "silent" });

function setup(label: string, env: Record<string, string> = {}) {
  const prefix = uniquePrefix(label);
  const config = loadConfig({
    REDIS_URL,
    QUEUE_PREFIX: prefix,
    WEBHOOK_ALLOW_PRIVATE: "true",
    // Shortened Standard Webhooks schedule: about 30 s in all (a receiver down for 20 s in production terms).
    WEBHOOK_RETRY_SCHEDULE: ["50ms", "100ms", "200ms", "300ms", ...Array(60).fill("500ms")].join(","),
    WEBHOOK_TIMEOUT_MS: "3000",
    WEBHOOK_CONCURRENCY: "8",
    LOG_LEVEL: "silent",
    ...env,
  });
  const location = { prefix, requestsQueue: config.REQUESTS_QUEUE, outcomesQueue: config.OUTCOMES_QUEUE };
  const outcomes = createOutcomeQueue({
    connection: redis,
    prefix,
    queueName: location.outcomesQueue,
    requestsQueueName: location.requestsQueue,
    retentionSeconds: 600,
    idempotencyRetentionSeconds: 600,
  });
  const held = createRedisHeldStore({ connection: redis, location, outcomeRetentionSeconds: 600 });
  const store = webhookStoreFromConfig(config, redis);
  cleanups.push(async () => {
    await outcomes.close();
    await held.close();
    await deletePrefix(redis, prefix);
  });
  const outcome = (i: number, type = "accepted", catalog = "AWS"): OutcomeEvent =>
    ({
      schemaVersion: 1,
      eventId: `evt-${label}-${i}`,
      type,
      requestId: `${catalog}.inv-${i}.r`,
      correlationId: null,
      catalog,
      identifier: `inv-${i}`,
      clientToken: "t",
      attempts: 1,
      completedAt: new Date().toISOString(),
    }) as unknown as OutcomeEvent;
  const notice = (i: number, catalog = "AWS"): Notice => ({
    schemaVersion: 1,
    eventId: noticeEventId("invitation.held", catalog, `inv-${i}`),
    type: "invitation.held",
    catalog,
    identifier: `inv-${i}`,
    otherParticipant: null,
    expiresAt: null,
    rule: null,
    policyHash: "h",
    at: new Date().toISOString(),
  });
  return { config, outcomes, held, store, outcome, notice };
}

async function addFor(s: ReturnType<typeof setup>, receiver: Receiver, input: Record<string, unknown> = {}) {
  const { endpoint, secret } = await addWebhook(s.store, { url: receiver.url, ...input }, { rateLimit: 0 });
  receiver.secrets.push(secret);
  return endpoint;
}

/** For each invitation, the notice was answered 2xx before the outcome was first sent. */
function inOrder(receiver: Receiver, pairs: Array<[string, string]>): boolean {
  return pairs.every(([first, second]) => {
    const firstOk = receiver.receipts.findIndex((r) => r.id === first && r.status < 300);
    const secondSent = receiver.receipts.findIndex((r) => r.id === second);
    return firstOk >= 0 && secondSent > firstOk;
  });
}

describe("webhooks", () => {
  it("delivers every event to every matching endpoint, signed and in order per invitation, through 500s, " +
    "a slow receiver and one that is down for a while, with two deliver processes", async () => {
    const s = setup("wh-faults");
    const flaky = await startReceiver(() => ({ status: Math.random() < 0.3 ? 500 : 200 }));
    const slow = await startReceiver(() => ({ status: 200, delayMs: 150 }));
    const downer = await startReceiver(() => ({ status: 204 }));
    const onlyFailed = await startReceiver(() => ({ status: 200 }));
    const cloud = await startReceiver(() => ({ status: 200 }));
    cleanups.push(() => Promise.all([flaky, slow, downer, onlyFailed, cloud].map((r) => r.close())));
    await addFor(s, flaky);
    await addFor(s, slow);
    await addFor(s, downer);
    await addFor(s, onlyFailed, { events: ["failed"], catalog: "Sandbox" });
    await addFor(s, cloud, { format: "cloudevents" });
    await downer.down();

    const d1 = await startDeliver(s.config, logger, { pollMs: 20 });
    const d2 = await startDeliver(s.config, logger, { pollMs: 20 });
    cleanups.push(
      () => d1.stop(),
      () => d2.stop(),
    );

    const pairs: Array<[string, string]> = [];
    const N = 25;
    for (let i = 0; i < N; i++) {
      const catalog = i % 5 === 0 ? "Sandbox" : "AWS";
      const n = s.notice(i, catalog);
      const o = s.outcome(i, i % 2 ? "failed" : "accepted", catalog);
      expect(await s.held.publishNotice(n)).toBe("published");
      expect(await s.outcomes.publish(o)).toBe("published");
      pairs.push([n.eventId, o.eventId]);
    }
    const all = pairs.flat();
    // The down receiver comes back once its deliveries have been refused a few times (they wait, retried).
    const downerId = (await s.store.endpoints()).find((e) => e.url === downer.url)!.id;
    await waitFor(
      async () => (await s.store.deliveryLog(downerId, 100)).filter((a) => a.result === "retry").length >= 5,
      60_000,
      "the down receiver refused",
    );
    await downer.up();
    await waitFor(
      () => all.every((id) => flaky.delivered().has(id) && slow.delivered().has(id)),
      120_000,
      "flaky+slow",
    );
    await waitFor(() => all.every((id) => downer.delivered().has(id) && cloud.delivered().has(id)), 120_000, "downer");
    const failedSandbox = pairs
      .map(([, o], i) => ({ o, i }))
      .filter(({ i }) => i % 2 === 1 && i % 5 === 0)
      .map(({ o }) => o);
    await waitFor(() => failedSandbox.every((id) => onlyFailed.delivered().has(id)), 60_000, "filtered");

    for (const r of [flaky, slow, downer, cloud]) {
      expect(
        r.receipts.every((x) => x.verified),
        "every request verifies",
      ).toBe(true);
      expect(inOrder(r, pairs), "in order per invitation").toBe(true);
    }
    // The filtered endpoint got its matching events only.
    expect(new Set(onlyFailed.receipts.map((x) => x.id))).toEqual(new Set(failedSandbox));
    expect(flaky.receipts.some((x) => x.status === 500)).toBe(true);
    // Standard body: the event itself; CloudEvents: a structured event around it.
    const accepted = flaky.receipts.find((x) => x.id === pairs[0]![1])!;
    expect(accepted.body).toMatchObject({ eventId: pairs[0]![1], type: "accepted" });
    expect(accepted.headers["content-type"]).toBe("application/json");
    const ce = cloud.receipts.find((x) => x.id === pairs[0]![1])!;
    expect(ce.headers["content-type"]).toBe("application/cloudevents+json");
    expect(ce.body).toMatchObject({
      specversion: "1.0",
      id: pairs[0]![1],
      type: "com.pc-invitations.outcome.accepted",
      data: { eventId: pairs[0]![1] },
    });
    // The delivery log says attempt, status and latency.
    const endpoints = await s.store.endpoints();
    const flakyLog = await s.store.deliveryLog(endpoints.find((e) => e.url === flaky.url)!.id, 1000);
    expect(flakyLog.some((a) => a.status === 500 && a.result === "retry")).toBe(true);
    expect(flakyLog.every((a) => a.latencyMs >= 0 && a.attempt >= 1)).toBe(true);
    const metrics = await d1.registry.metrics();
    expect(metrics).toContain("pci_webhook_attempts_total");
  }, 240_000);

  it("disables an endpoint that answers 410, honours Retry-After, and signs " +
    "with both secrets while one rotates", async () => {
    const s = setup("wh-410");
    const gone = await startReceiver(() => ({ status: 410 }));
    let asked = 0;
    const later = await startReceiver(() =>
      asked++ === 0 ? { status: 429, headers: { "retry-after": "2" } } : { status: 200 },
    );
    const rotating = await startReceiver(() => ({ status: 200 }));
    cleanups.push(() => Promise.all([gone, later, rotating].map((r) => r.close())));
    const goneEp = await addFor(s, gone);
    await addFor(s, later);
    const rotEp = await addFor(s, rotating);
    const oldSecret = rotating.secrets[0]!;
    const { secret: newSecret } = await rotateWebhookSecret(s.store, rotEp.id, 3_600_000);
    expect(JSON.stringify(await s.store.endpoints())).not.toContain(newSecret.slice(6, 20));
    const d = await startDeliver(s.config, logger, { pollMs: 20 });
    cleanups.push(() => d.stop());
    await s.outcomes.publish(s.outcome(1));
    await waitFor(async () => (await s.store.endpoint(goneEp.id))?.enabled === false, 60_000, "410 disables");
    expect((await s.store.endpoint(goneEp.id))?.disabledReason).toContain("410");
    await waitFor(() => later.delivered().has("evt-wh-410-1"), 60_000, "after Retry-After");
    const [first, second] = later.receipts;
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(1900);
    await waitFor(() => rotating.receipts.length > 0, 60_000, "rotating");
    const sig = String(rotating.receipts[0]!.headers["webhook-signature"]);
    expect(sig.split(" ")).toHaveLength(2);
    const { Webhook } = await import("standardwebhooks");
    const r = rotating.receipts[0]!;
    const raw = JSON.stringify(r.body);
    for (const secret of [oldSecret, newSecret]) {
      // Each secret alone verifies the delivery (a receiver that has either accepts it).
      expect(() => new Webhook(secret).verify(raw, r.headers as Record<string, string>)).not.toThrow();
    }
  }, 120_000);

  it("refuses private and loopback destinations unless WEBHOOK_ALLOW_PRIVATE, by name and by address", async () => {
    const s = setup("wh-ssrf", { WEBHOOK_ALLOW_PRIVATE: "false", WEBHOOK_RETRY_SCHEDULE: "50ms" });
    const receiver = await startReceiver(() => ({ status: 200 }));
    cleanups.push(() => receiver.close());
    const byIp = await addFor(s, receiver);
    const byName = await addWebhook(s.store, { url: `http://localhost:${receiver.port}/hook` }, { rateLimit: 0 });
    const d = await startDeliver(s.config, logger, { pollMs: 20 });
    cleanups.push(() => d.stop());
    await s.outcomes.publish(s.outcome(1));
    for (const id of [byIp.id, byName.endpoint.id]) {
      await waitFor(
        async () => (await s.store.deliveryLog(id, 10)).some((a) => a.result === "failed"),
        60_000,
        "given up",
      );
      const attempts = await s.store.deliveryLog(id, 10);
      expect(attempts.every((a) => a.status === null && /not a public address/.test(a.error ?? ""))).toBe(true);
    }
    expect(receiver.receipts).toHaveLength(0);
  }, 120_000);
});
