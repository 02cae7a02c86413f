/**
 * The request record's scripts, on a real Redis, through the connection pc-invitations makes
 * (ioredis 6: RESP3 by default). Every reply shape the transitions read is checked here, so a
 * protocol or Redis change that alters one fails a test, not a production worker.
 */
import { afterAll, describe, expect, it } from "vitest";
import { createRedis } from "../../src/store/redis/connection.js";
import { RECORD_FIELDS, parseRecord, type RequestRecord } from "../../src/request-record/record.js";
import { completeRecord, defineRecordCommands, queueRecords, readRecords } from "../../src/store/redis/records.js";
import { countRevival } from "../../src/store/redis/records.js";
import { deletePrefix, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import type { Redis } from "ioredis";

const redis = createRedis(REDIS_URL) as Redis;
defineRecordCommands(redis);
const prefix = uniquePrefix("record");
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

const record = (jobId: string): RequestRecord => ({
  key: `key-${jobId}`,
  fp: "fp",
  payload: "{}",
  jobId,
  clientToken: "token",
  correlationId: "corr",
  state: "queued",
  createdAt: "2026-11-30T00:00:00.000Z",
});

describe("request record scripts", () => {
  it("speak RESP3 on pc-invitations' connections", async () => {
    const info = String(await redis.call("CLIENT", "INFO"));
    expect(info).toMatch(/\bresp=3\b/);
  });

  it(
    "walk queued → (in_progress, read from the job) → completed, " +
      "read back in every state, absent fields as absent",
    async () => {
      const key = `${prefix}:accept-invitation:idem:a`;
      const missingKey = `${prefix}:accept-invitation:idem:none`;
      const jobPrefix = `${prefix}:accept-invitation:`;
      await redis.hset(`${jobPrefix}job-a`, "name", "accept"); // the job hash the read script looks for

      const tx = redis.multi();
      queueRecords(tx, [{ key, record: record("job-a") }]);
      expect((await tx.exec())!.map(([err, reply]) => [err, reply])).toEqual([[null, 1]]);

      const [queued, absent] = await readRecords(redis, [key, missingKey], jobPrefix);
      expect(parseRecord(queued!.hash)).toEqual(record("job-a"));
      expect(queued!.jobMissing).toBe(false);
      expect(absent).toEqual({ hash: undefined, jobMissing: false });

      // Another job's start says nothing about this record; its own job's start (BullMQ's processedOn) does.
      await redis.hset(`${jobPrefix}another-job`, "processedOn", "1");
      expect((await readRecords(redis, [key], jobPrefix))[0]!.hash?.state).toBe("queued");
      await redis.hset(`${jobPrefix}job-a`, "processedOn", String(Date.now()));
      expect((await readRecords(redis, [key], jobPrefix))[0]!.hash?.state).toBe("in_progress");
      expect(await redis.hget(key, "state")).toBe("queued"); // read, never written

      const done = redis.multi();
      completeRecord(done, key, { jobId: "another-job", outcomeJson: "{}", completedAt: "x", retentionSeconds: 60 });
      completeRecord(done, key, {
        jobId: "job-a",
        outcomeJson: '{"type":"accepted"}',
        completedAt: "2026-11-30T00:00:01.000Z",
        retentionSeconds: 60,
      });
      expect((await done.exec())!.map(([, reply]) => reply)).toEqual([0, 1]);
      const [completed] = await readRecords(redis, [key], jobPrefix);
      expect(parseRecord(completed!.hash)).toMatchObject({
        state: "completed",
        outcome: '{"type":"accepted"}',
        completedAt: "2026-11-30T00:00:01.000Z",
      });
      expect(await redis.ttl(key)).toBeGreaterThan(0);
      // never backwards, whatever the job says
      expect((await readRecords(redis, [key], jobPrefix))[0]!.hash?.state).toBe("completed");
    },
  );

  it("says when an open record lost its job", async () => {
    const key = `${prefix}:accept-invitation:idem:b`;
    const tx = redis.multi();
    queueRecords(tx, [{ key, record: record("job-b") }]);
    await tx.exec();
    const [row] = await readRecords(redis, [key], `${prefix}:accept-invitation:`);
    expect(row!.jobMissing).toBe(true);
    expect(Object.keys(row!.hash!).sort()).toEqual(
      RECORD_FIELDS.filter((f) => f !== "outcome" && f !== "completedAt").sort(),
    );
  });

  it(
    "count a sweeper revival in the record, and never re-create " +
      "a record that has gone as a hash of `revivals` alone",
    async () => {
      const store = { countRevival: (k: string) => countRevival(redis, k) };
      const key = `${prefix}:accept-invitation:idem:revived`;
      const tx = redis.multi();
      queueRecords(tx, [{ key, record: record("job-revived") }]);
      await tx.exec();
      expect([await store.countRevival(key), await store.countRevival(key)]).toEqual([1, 2]);
      expect(await redis.hget(key, "revivals")).toBe("2");
      const gone = `${prefix}:accept-invitation:idem:gone`;
      expect(await store.countRevival(gone)).toBe(1);
      expect(await redis.exists(gone)).toBe(0);
    },
  );

  it(
    "write and read 20,000 records in one call each (some " +
      "140,000 arguments: ioredis gets them as arrays, not spread)",
    async () => {
      const keys = Array.from({ length: 20_000 }, (_, i) => `${prefix}:accept-invitation:idem:many-${i}`);
      const tx = redis.multi();
      queueRecords(
        tx,
        keys.map((key, i) => ({ key, record: record(`job-many-${i}`) })),
      );
      expect((await tx.exec())!.map(([err, reply]) => [err, reply])).toEqual([[null, keys.length]]);
      const rows = await readRecords(redis, keys, `${prefix}:accept-invitation:`);
      expect(rows).toHaveLength(keys.length);
      expect(rows.map((r) => r.hash?.jobId)).toEqual(keys.map((_, i) => `job-many-${i}`));
    },
  );
});
