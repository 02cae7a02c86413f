/**
 * The outcome log (store/outcome-log.ts) on a real Redis: each publication appends its event in
 * the same script or MULTI, nothing is appended when nothing is published, pages read without
 * consuming, and runSink (delivery/event-sink.ts) hands every event to a sink at least once, in
 * order, taking over what a dead holder left pending.
 */
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { runSink } from "../../src/delivery/event-sink.js";
import type { LoggedEvent } from "../../src/store/outcome-log.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { jobLockKey, outcomeLogKey } from "../../src/store/redis/keys.js";
import { createRedisOutcomeLog } from "../../src/store/redis/outcome-log.js";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { createRedisHeldStore } from "../../src/store/redis/held.js";
import { noticeEventId, type Notice } from "../../src/contracts/notice.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("outcome-log");
const location = { prefix, requestsQueue: "accept-invitation", outcomesQueue: "invitation-outcomes" };
const outcomes = createOutcomeQueue({
  connection: redis,
  prefix,
  queueName: location.outcomesQueue,
  requestsQueueName: location.requestsQueue,
  retentionSeconds: 60,
  idempotencyRetentionSeconds: 600,
});
const log = createRedisOutcomeLog({ connection: redis, location });
afterAll(async () => {
  await outcomes.close();
  await log.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const event = (requestId: string, type = "accepted", catalog = "AWS"): OutcomeEvent =>
  ({
    schemaVersion: 1,
    eventId: `evt-${requestId}`,
    type,
    requestId,
    correlationId: null,
    catalog,
    identifier: `inv-${requestId}`,
    clientToken: "token",
    attempts: 1,
    completedAt: "2026-11-30T00:00:00.000Z",
  }) as unknown as OutcomeEvent;

describe("the outcome log", () => {
  it("holds each published event once, in publication order, and nothing for a refused publication", async () => {
    expect(await outcomes.publish(event("r1"))).toBe("published");
    expect(await outcomes.publish(event("r1"))).toBe("already-published");
    await redis.set(jobLockKey(prefix, location.requestsQueue, "r2"), "someone-else");
    expect(await outcomes.publish(event("r2"), { fence: { jobId: "r2", token: "mine" } })).toBe("fenced");
    // A cancel's publication (the MULTI path) appends too.
    expect(
      await outcomes.publishUnlessStarted(event("r3", "failed", "Sandbox"), { jobState: async () => "waiting" }),
    ).toBe("published");
    const page = await log.readEvents(undefined, 10);
    expect(page.events.map((e) => [e.kind, e.event.requestId, e.event.type])).toEqual([
      ["outcome", "r1", "accepted"],
      ["outcome", "r3", "failed"],
    ]);
    expect(page.next).toBe(page.events[1]!.cursor);
    // Trimmed by age, approximately (MINID ~).
    const [, , , , , trim] = (await redis.xinfo("STREAM", outcomeLogKey(prefix, location.outcomesQueue))) as unknown[];
    expect(trim).toBeDefined();
  });

  it("holds each notice of a held invitation once, as a notice", async () => {
    const held = createRedisHeldStore({ connection: redis, location, outcomeRetentionSeconds: 60 });
    const notice: Notice = {
      schemaVersion: 1,
      eventId: noticeEventId("invitation.held", "Sandbox", "inv-n1"),
      type: "invitation.held",
      catalog: "Sandbox",
      identifier: "inv-n1",
      otherParticipant: null,
      expiresAt: null,
      rule: null,
      policyHash: "h",
      at: "2026-11-30T00:00:00.000Z",
    };
    const before = (await log.readEvents(undefined, 100)).events.length;
    expect(await held.publishNotice(notice)).toBe("published");
    expect(await held.publishNotice(notice)).toBe("already-sent");
    const page = await log.readEvents(undefined, 100, { types: ["invitation.held"] });
    expect(page.events.map((e) => [e.kind, e.event.eventId])).toEqual([["notice", notice.eventId]]);
    expect((await log.readEvents(undefined, 100)).events.length).toBe(before + 1);
    await held.close();
  });

  it("reads pages after a cursor, filtered by type and catalog, without consuming", async () => {
    for (let i = 0; i < 6; i++) await outcomes.publish(event(`p${i}`, i % 2 ? "failed" : "accepted", "AWS"));
    const all = await log.readEvents(undefined, 100);
    const first = await log.readEvents(undefined, 3);
    const second = await log.readEvents(first.next, 3);
    expect([...first.events, ...second.events].map((e) => e.cursor)).toEqual(
      all.events.slice(0, 6).map((e) => e.cursor),
    );
    const failed = await log.readEvents(undefined, 100, { types: ["failed"] });
    expect(failed.events.every((e) => e.event.type === "failed")).toBe(true);
    expect(failed.events.map((e) => e.event.requestId)).toEqual(["r3", "p1", "p3", "p5"]);
    const sandbox = await log.readEvents(undefined, 100, { catalog: "Sandbox" });
    expect(sandbox.events.map((e) => e.event.eventId)).toEqual(["evt-r3", "notice:held:Sandbox.inv-n1"]);
    // Nothing was consumed: the outcomes queue still holds every event for its consumers.
    expect(await outcomes.queue.getWaitingCount()).toBe(all.events.length);
    expect(all.events.length).toBeGreaterThan(6);
    expect((await log.readEvents(undefined, 100)).events).toHaveLength(all.events.length);
  });

  it("hands every event to a sink in order, and takes over what a dead holder left unacknowledged", async () => {
    const seen: LoggedEvent[] = [];
    // A first holder that reads a batch and dies before acknowledging it.
    const group = "sink:test";
    await log.ensureGroup(group);
    expect(await log.holdLease("test", "dead-holder", 200)).toBe(true);
    const taken = await log.readGroup(group, "dead-holder", 3, 10);
    expect(taken.events).toHaveLength(3);
    // Another process waits for the lease, then gets everything, the dead holder's first.
    const stop = new AbortController();
    const running = runSink(
      log,
      {
        name: "test",
        handle: async (events) => {
          seen.push(...events);
        },
      },
      { holder: "second", signal: stop.signal, blockMs: 50, leaseMs: 300, retryDelayMs: 20 },
    );
    const total = (await log.readEvents(undefined, 1000)).events.length;
    await waitFor(() => seen.length >= total, 15_000, "every event handled");
    await outcomes.publish(event("late"));
    await waitFor(() => seen.some((e) => e.event.requestId === "late"), 15_000, "a new event handled");
    stop.abort();
    await running;
    const cursors = seen.map((e) => e.cursor);
    expect(new Set(cursors).size).toBe(cursors.length);
    expect(cursors).toEqual([...cursors].sort(compareCursor));
    expect(await log.groupInfo(group)).toMatchObject({ pending: 0 });
  });

  it("hands a batch again when the sink fails on it", async () => {
    const stop = new AbortController();
    let failures = 0;
    const handled: string[] = [];
    const running = runSink(
      log,
      {
        name: "flaky",
        handle: async (events) => {
          if (failures < 2) {
            failures++;
            throw new Error("sink down");
          }
          handled.push(...events.map((e) => e.cursor));
        },
      },
      { holder: "only", signal: stop.signal, blockMs: 50, retryDelayMs: 10, batchSize: 4 },
    );
    const total = (await log.readEvents(undefined, 1000)).events.length;
    await waitFor(() => handled.length >= total, 15_000, "every event handled after the failures");
    stop.abort();
    await running;
    expect(failures).toBe(2);
    expect(handled).toEqual([...handled].sort(compareCursor));
    expect(new Set(handled).size).toBe(total);
  });
});

function compareCursor(a: string, b: string): number {
  const [am, as] = a.split("-").map(BigInt) as [bigint, bigint];
  const [bm, bs] = b.split("-").map(BigInt) as [bigint, bigint];
  return am === bm ? Number(as - bs) : am < bm ? -1 : 1;
}
