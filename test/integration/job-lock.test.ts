/**
 * The outcome fence (outcomes/publish.ts) WATCHes BullMQ's lock key of the request job and
 * compares it to the run's token. That key is BullMQ's internal layout, not its API: this test
 * fails if a BullMQ upgrade moves it or stops storing the run's token there.
 */
import { Queue, Worker } from "bullmq";
import { afterAll, describe, expect, it } from "vitest";
import { jobLockKey } from "../../src/store/redis/keys.js";
import { deletePrefix, newRedis, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = newRedis();
const prefix = uniquePrefix("lock");
afterAll(async () => {
  await deletePrefix(redis, prefix);
  redis.disconnect();
});

describe("BullMQ's job lock, as the outcome fence reads it", () => {
  it("holds the running worker's token at jobLockKey while the job runs, and is gone after", async () => {
    const queue = new Queue("lock-layout", { connection: redis, prefix });
    const seen: Array<{ token: string | undefined; stored: string | null; jobKey: string }> = [];
    const workerConnection = newRedis();
    const worker = new Worker(
      "lock-layout",
      async (job, token) => {
        seen.push({
          token,
          stored: await redis.get(jobLockKey(prefix, "lock-layout", job.id!)),
          jobKey: queue.toKey(job.id!),
        });
        return "done";
      },
      { connection: workerConnection, prefix, lockDuration: 30_000 },
    );
    try {
      const job = await queue.add("j", { n: 1 }, { jobId: "AWS.pacinv-LOCKLAYOUT0001.x" });
      await waitFor(
        async () => ((await queue.getJobState(job.id!)) === "completed" ? true : undefined),
        20_000,
        "the job to complete",
      );
      expect(seen).toHaveLength(1);
      expect(seen[0]!.token).toEqual(expect.any(String));
      expect(seen[0]!.stored).toBe(seen[0]!.token);
      // The job hash is `<prefix>:<queue>:<jobId>` (the request-record read script checks it exists).
      expect(seen[0]!.jobKey).toBe(`${prefix}:lock-layout:AWS.pacinv-LOCKLAYOUT0001.x`);
      expect(await redis.exists(`${prefix}:lock-layout:AWS.pacinv-LOCKLAYOUT0001.x`)).toBe(1);
      expect(await redis.exists(jobLockKey(prefix, "lock-layout", job.id!))).toBe(0);
    } finally {
      await worker.close();
      await queue.close();
      workerConnection.disconnect();
    }
  });
});
