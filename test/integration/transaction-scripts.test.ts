/**
 * ioredis sends a script's body (EVAL) the first time it is used on a socket and its SHA (EVALSHA)
 * after that, whether or not the EVAL ran. Inside a MULTI that did not execute (WATCH saw a
 * change, or Redis refused the transaction: OOM, EXECABORT) the EVAL never ran, so Redis does not
 * know the script, and the next MULTI's EVALSHA fails with NOSCRIPT *inside* EXEC, where Redis
 * does not roll back: the transaction's other writes land without the script's. (Found by the
 * chaos suite's redis-restart-full: outcomes published without their record completed.) A TxQueue
 * session makes Redis know every script of its connection after any EXEC that did not fully succeed.
 */
import { Job } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addJobInTransaction, createTxQueue } from "../../src/store/redis/transaction.js";
import { newRedis, uniquePrefix } from "../helpers/redis.js";
import { startRedisServer, type OwnRedis } from "../helpers/redis-server.js";

// A Redis of this test's own: it flushes the script cache, which would trip other tests' MULTIs.
let server: OwnRedis;
let redis: Redis;
const prefix = uniquePrefix("txscripts");
beforeAll(async () => {
  server = await startRedisServer();
  redis = newRedis(server.url);
});
afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
});

interface TestCommands {
  pciTestSet(key: string, value: string): unknown;
}

describe("scripts in a TxQueue's transactions", () => {
  it("a MULTI that WATCH aborted does not leave the next one to fail with NOSCRIPT half applied", async () => {
    const lua = `return redis.call('SET', KEYS[1], ARGV[1])`;
    const tx = createTxQueue(redis, "tx-scripts", {
      prefix,
      poolSize: 1,
      onConnection: (r) => r.defineCommand("pciTestSet", { numberOfKeys: 1, lua }),
    });
    const watched = `${prefix}:watched`;
    const byScript = `${prefix}:by-script`;
    const plain = `${prefix}:plain`;
    try {
      await tx.exclusive(async ({ redis: session, multi }) => {
        await session.watch(watched);
        await redis.set(watched, "changed by another client");
        const first = await multi();
        (first as unknown as TestCommands).pciTestSet(byScript, "1");
        first.set(plain, "1");
        expect(await first.exec()).toBeNull(); // WATCH: nothing ran, the EVAL included

        const second = await multi();
        (second as unknown as TestCommands).pciTestSet(byScript, "2");
        second.set(plain, "2");
        const results = await second.exec();
        expect(results?.map(([err]) => err?.message ?? null)).toEqual([null, null]);
      });
      expect(await redis.get(byScript)).toBe("2");
      expect(await redis.get(plain)).toBe("2");
    } finally {
      await tx.close();
    }
  });

  it("the same for BullMQ's own add script: the job is added with the rest of the transaction", async () => {
    const tx = createTxQueue(redis, "tx-scripts-jobs", { prefix, poolSize: 1 });
    const watched = `${prefix}:watched-jobs`;
    const plain = `${prefix}:plain-jobs`;
    // BullMQ's add script may be known to Redis already (the Queue's start-up): forget every script.
    const flushed = newRedis(server.url);
    try {
      await tx.exclusive(async ({ queue, redis: session, multi }) => {
        await queue.waitUntilReady();
        await flushed.script("FLUSH");
        await session.watch(watched);
        await redis.set(watched, "changed");
        const first = await multi();
        addJobInTransaction(queue, first, { name: "n", data: { n: 1 }, opts: {}, jobId: "job-1" });
        first.set(plain, "1");
        expect(await first.exec()).toBeNull();

        const second = await multi();
        addJobInTransaction(queue, second, { name: "n", data: { n: 2 }, opts: {}, jobId: "job-2" });
        second.set(plain, "2");
        const results = await second.exec();
        expect(results?.filter(([err]) => err).map(([err]) => err!.message)).toEqual([]);
      });
      expect(await Job.fromId(tx.queue, "job-2")).toMatchObject({ data: { n: 2 } });
      expect(await redis.get(plain)).toBe("2");
    } finally {
      flushed.disconnect();
      await tx.close();
    }
  });
});
