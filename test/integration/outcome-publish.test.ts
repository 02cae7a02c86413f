/**
 * A worker's publication of an outcome (outcomes/publish.ts → publish-script.ts), on a real Redis:
 * the fence, at most one outcome, the record completed with it, and the answers that say which.
 */
import type { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createOutcomeQueue } from "../../src/store/redis/publish.js";
import { createRedis } from "../../src/store/redis/connection.js";
import { jobLockKey } from "../../src/store/redis/keys.js";
import { idempotencyRecordKey, openRecordsKey } from "../../src/store/redis/keys.js";
import type { OutcomeEvent } from "../../src/schemas/outcome.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";

const redis = createRedis(REDIS_URL) as Redis;
const prefix = uniquePrefix("publish");
const requestsQueueName = "accept-invitation";
const outcomes = createOutcomeQueue({
  connection: redis,
  prefix,
  queueName: "invitation-outcomes",
  requestsQueueName,
  retentionSeconds: 60,
  idempotencyRetentionSeconds: 600,
});
afterAll(async () => {
  await outcomes.close();
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const event = (requestId: string, connectionId = "conn-1"): OutcomeEvent =>
  ({
    schemaVersion: 1,
    eventId: `evt-${requestId}`,
    type: "accepted",
    requestId,
    correlationId: "corr",
    catalog: "AWS",
    identifier: "inv-1",
    clientToken: "token",
    attempts: 1,
    completedAt: "2026-11-30T00:00:00.000Z",
    alreadyAccepted: false,
    connection: { id: connectionId },
  }) as unknown as OutcomeEvent;

async function queueRecord(key: string, jobId: string): Promise<void> {
  await redis.hset(key, "jobId", jobId, "state", "queued", "createdAt", "2026-11-30T00:00:00.000Z");
  await redis.zadd(openRecordsKey(key), 1, key);
}

describe("publishing a worker's outcome", () => {
  it(
    "publishes once under the run's lock, completes the " + "record with it, and says already-published after",
    async () => {
      const jobId = "req-1";
      const recordKey = idempotencyRecordKey(prefix, requestsQueueName, "k1");
      await queueRecord(recordKey, jobId);
      await redis.set(jobLockKey(prefix, requestsQueueName, jobId), "lock-token");
      const fence = { jobId, token: "lock-token" };

      expect(await outcomes.publish(event(jobId), { fence, idempotencyKey: "k1" })).toBe("published");
      expect((await outcomes.queue.getJob(jobId))?.data).toMatchObject({
        requestId: jobId,
        connection: { id: "conn-1" },
      });
      expect(await redis.hmget(recordKey, "state", "completedAt")).toEqual(["completed", "2026-11-30T00:00:00.000Z"]);
      // the record outlives the event here
      expect(JSON.parse((await redis.hget(recordKey, "outcome"))!)).toMatchObject({ requestId: jobId });
      expect(await redis.ttl(recordKey)).toBeGreaterThan(500);
      expect(await redis.zscore(openRecordsKey(recordKey), recordKey)).toBeNull();

      // Again (a redelivered run): nothing is written, the first outcome stays.
      expect(await outcomes.publish(event(jobId, "conn-2"), { fence, idempotencyKey: "k1" })).toBe("already-published");
      expect((await outcomes.queue.getJob(jobId))?.data).toMatchObject({ connection: { id: "conn-1" } });
      expect(JSON.parse((await redis.hget(recordKey, "outcome"))!)).toMatchObject({ connection: { id: "conn-1" } });
      // And with no record to tell (one whose data could not be read): the outcome itself says so.
      expect(await outcomes.publish(event(jobId, "conn-3"), { fence })).toBe("already-published");
      expect(await outcomes.queue.count()).toBe(1);
    },
  );

  it("publishes nothing for a run whose token is no longer the lock's, or when the lock is gone", async () => {
    const jobId = "req-2";
    const recordKey = idempotencyRecordKey(prefix, requestsQueueName, "k2");
    await queueRecord(recordKey, jobId);
    await redis.set(jobLockKey(prefix, requestsQueueName, jobId), "another-run");
    expect(await outcomes.publish(event(jobId), { fence: { jobId, token: "my-token" }, idempotencyKey: "k2" })).toBe(
      "fenced",
    );
    await redis.del(jobLockKey(prefix, requestsQueueName, jobId));
    expect(await outcomes.publish(event(jobId), { fence: { jobId, token: "my-token" }, idempotencyKey: "k2" })).toBe(
      "fenced",
    );
    expect(await outcomes.queue.getJob(jobId)).toBeUndefined();
    expect(await redis.hget(recordKey, "state")).toBe("queued");
  });

  it("leaves a record that belongs to a newer request alone, and still publishes this one's outcome", async () => {
    const recordKey = idempotencyRecordKey(prefix, requestsQueueName, "k3");
    await queueRecord(recordKey, "req-newer");
    expect(await outcomes.publish(event("req-older"), { idempotencyKey: "k3" })).toBe("published");
    expect(await redis.hmget(recordKey, "jobId", "state")).toEqual(["req-newer", "queued"]);
    expect(await outcomes.queue.getJob("req-older")).toBeDefined();
  });
});
