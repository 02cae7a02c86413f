/**
 * settleMany on a real Redis: several attempts ended in one round trip, each as `settle` would
 * (the queue's next becomes due only then, in order), and a settle of a delivery that is no longer
 * its queue's head changes nothing.
 */
import type { Redis } from "ioredis";
import { afterAll, expect, it } from "vitest";
import { webhookStoreFromConfig } from "../../src/app/deliver.js";
import { loadConfig } from "../../src/config/load-config.js";
import { addWebhook } from "../../src/delivery/webhook-admin.js";
import { createRedis } from "../../src/store/redis/connection.js";
import type { DueDelivery, FanOutItem } from "../../src/store/webhook-store.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("wh-settle-many");
const store = webhookStoreFromConfig(loadConfig({}, { REDIS_URL, QUEUE_PREFIX: prefix }), redis);
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const attempt = (d: DueDelivery) => ({ eventId: d.item.eventId, attempt: 1, status: 204, latencyMs: 3, error: null });

it("settles a batch in order, and leaves a settle of a non-head delivery without effect", async () => {
  const { endpoint } = await addWebhook(store, { url: "http://127.0.0.1:9/hook" }, { rateLimit: 0 });
  const item = (eventId: string, orderKey: string): FanOutItem => ({
    endpointId: endpoint.id,
    orderKey,
    item: {
      eventId,
      cursor: "1-0",
      kind: "outcome",
      attempts: 0,
      firstFailureAt: null,
      event: { type: "accepted", eventId },
    },
  });
  // Invitation A has two events (in order), B one.
  expect(await store.fanOut([item("a1", "AWS.A"), item("a2", "AWS.A"), item("b1", "AWS.B")])).toBe(3);
  const first = await store.claimDue(10, 60_000);
  expect(first.map((d) => d.item.eventId).sort()).toEqual(["a1", "b1"]); // only heads
  expect(await store.claimDue(10, 60_000)).toEqual([]); // leased: a2 waits for a1's settle

  const settles = first.map((d) => ({
    delivery: d,
    outcome: { result: "delivered" as const },
    attempt: attempt(d),
    disableAfterMs: 86_400_000,
  }));
  expect(await store.settleMany(settles)).toEqual([true, true]);
  // Again: neither is its queue's head any more.
  expect(await store.settleMany(settles)).toEqual([false, false]);
  const next = await store.claimDue(10, 60_000);
  expect(next.map((d) => d.item.eventId)).toEqual(["a2"]);
  expect((await store.deliveryLog(endpoint.id, 10)).map((a) => a.eventId).sort()).toEqual(["a1", "b1"]);
  expect(await store.settleMany([])).toEqual([]);
});
