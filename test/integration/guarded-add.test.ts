/**
 * Our scripts that add a job (src/store/redis/lua/enqueue.lua, publish-outcome.lua) run a guard of
 * ours and BullMQ's own addStandardJob in one script (src/store/redis/bullmq-add.ts, the loader's
 * `--- @include "bullmq:addStandardJob"`). The script here (test/fixtures/lua/guarded-add.lua) is
 * shaped like them. It leans on BullMQ's internals (its CommonJS build's scripts, the arguments its
 * Job builds): these tests fail if they change under us, and show the three promises: the job is
 * the one Queue#add would write, a guard that refuses adds nothing, and a full Redis refuses the
 * whole script (guard's writes included) before it runs.
 */
import { createRequire } from "node:module";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Queue as BullQueue } from "bullmq";
import { addJobArguments, type AddedJob } from "../../src/store/redis/bullmq-add.js";
import type { RedisConnection } from "../../src/store/redis/connection.js";
import { loadLuaScript, runScript } from "../../src/store/redis/lua-scripts.js";
import { deletePrefix, newRedis, uniquePrefix } from "../helpers/redis.js";
import { fillUp, makeRoom, startRedisServer, type OwnRedis } from "../helpers/redis-server.js";

const script = loadLuaScript(new URL("../fixtures/lua/", import.meta.url), "guarded-add", "pciTestGuardedAdd");
const guarded = {
  run(redis: RedisConnection, queue: BullQueue, added: AddedJob, guard: { keys: string[]; args: string[] }) {
    const bull = addJobArguments(queue, added);
    return runScript(redis, script, [...bull.keys, ...guard.keys], [...bull.args, ...guard.args]);
  },
};
const job = (jobId: string) => ({
  name: "outcome",
  data: { n: 1, text: "é" },
  opts: { attempts: 3, removeOnComplete: { age: 60 } },
  jobId,
});

describe("BullMQ's addStandardJob, as our scripts use it", () => {
  it("is where we read it, with the interface we call", () => {
    const { addStandardJob } = createRequire(import.meta.url)("bullmq/dist/cjs/scripts/index.js") as {
      addStandardJob: { name: string; keys: number; content: string };
    };
    expect(addStandardJob.name).toBe("addStandardJob");
    expect(addStandardJob.keys).toBe(9);
    // Its KEYS and ARGV: ours are appended after them, so these indices must be all it reads.
    const indices = new Set(addStandardJob.content.match(/(KEYS|ARGV)\[\d+\]/g));
    expect([...indices].every((i) => /^KEYS\[[1-9]\]$|^ARGV\[[1-3]\]$/.test(i))).toBe(true);
    expect(addStandardJob.content).not.toMatch(/#KEYS|#ARGV|^#!/);
  });
});

describe("a script that adds a job after a guard", () => {
  let redis: Redis;
  const prefix = uniquePrefix("guarded-add");
  let queue: Queue;
  beforeAll(async () => {
    redis = newRedis();
    queue = new Queue("guarded", { connection: redis, prefix });
  });
  afterAll(async () => {
    await queue.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  });

  it("adds the job Queue#add would, and the guard's writes with it", async () => {
    const reference = new Queue("reference", { connection: redis, prefix });
    try {
      await reference.add("outcome", job("j1").data, { ...job("j1").opts, jobId: "j1" });
      const marker = `${prefix}:marker`;
      expect(await guarded.run(redis, queue, job("j1"), { keys: [marker], args: ["go", "written"] })).toBe("j1");
      const [ours, theirs] = await Promise.all([queue.getJob("j1"), reference.getJob("j1")]);
      expect(ours?.data).toEqual(theirs?.data);
      expect(ours?.opts).toEqual(theirs?.opts);
      expect(ours?.name).toBe("outcome");
      expect(await queue.getJobState("j1")).toBe("waiting");
      expect(await redis.hget(marker, "guard")).toBe("written");
      // BullMQ's own duplicate handling still holds: a second add does not overwrite.
      expect(
        await guarded.run(redis, queue, { ...job("j1"), data: { n: 2 } }, { keys: [marker], args: ["go", "again"] }),
      ).toBe("j1");
      expect((await queue.getJob("j1"))?.data).toEqual(job("j1").data);
    } finally {
      await reference.close();
    }
  });

  it("adds nothing when the guard returns early", async () => {
    expect(await guarded.run(redis, queue, job("j2"), { keys: [`${prefix}:marker2`], args: ["refuse", "x"] })).toBe(
      "refused",
    );
    expect(await queue.getJob("j2")).toBeUndefined();
    expect(await redis.exists(`${prefix}:marker2`)).toBe(0);
  });

  it("captures exactly BullMQ's arguments, and refuses a job BullMQ would not add as a standard one", () => {
    const { keys, args } = addJobArguments(queue, job("j3"));
    expect(keys).toHaveLength(9);
    expect(keys[0]).toBe(queue.toKey("wait"));
    expect(args).toHaveLength(3);
    expect(() => addJobArguments(queue, { ...job("j4"), opts: { delay: 1000 } })).toThrow(/delayed or prioritized/);
  });
});

describe("a script that adds a job after a guard, on a full Redis", () => {
  let server: OwnRedis;
  let redis: Redis;
  let admin: Redis;
  beforeAll(async () => {
    server = await startRedisServer();
    redis = newRedis(server.url);
    admin = newRedis(server.url);
  });
  afterAll(async () => {
    redis?.disconnect();
    admin?.disconnect();
    await server?.stop();
  });

  it("is refused whole before it runs: neither the guard's write nor the job", async () => {
    const queue = new Queue("guarded", { connection: redis, prefix: "full" });
    try {
      await queue.waitUntilReady();
      // The guard's first write (HDEL) needs no memory: a script without the shebang would be let
      // through by it, and Redis lets a script that has written go on to the end, job and all.
      await admin.hset("full:marker", "old", "1");
      await fillUp(admin);
      await expect(guarded.run(redis, queue, job("j1"), { keys: ["full:marker"], args: ["go", "x"] })).rejects.toThrow(
        /^OOM/,
      );
      await makeRoom(admin);
      expect(await admin.hgetall("full:marker")).toEqual({ old: "1" });
      expect(await admin.exists("full:guarded:j1", "full:guarded:id")).toBe(0);
      expect(await guarded.run(redis, queue, job("j1"), { keys: ["full:marker"], args: ["go", "x"] })).toBe("j1");
    } finally {
      await makeRoom(admin);
      await queue.close();
    }
  });
});
