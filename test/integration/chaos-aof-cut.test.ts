import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jobsCreatedOnlyIn } from "../../chaos/aof.js";
import { AofFollower, ChaosRedis } from "../../chaos/redis-server.js";
import { createProducer } from "../../src/index.js";

/**
 * The chaos harness's simulated host crash (chaos/redis-server.ts AofFollower, truncateAof) on a
 * real redis-server: the AOF, followed as it grows, is cut back to an earlier position where whole
 * units end, Redis loads what is left as it is, and the harness (chaos/aof.ts jobsCreatedOnlyIn)
 * names exactly the requests whose creation the cut took: what chaos/evaluate.ts allows to be
 * lost, and nothing else.
 */
const PREFIX = "{chaos-aof-cut}";
const REQUESTS = `${PREFIX}:accept-invitation:`;
const OUTCOMES = `${PREFIX}:invitation-outcomes:`;
const identifier = (n: number) => `pacinv-${String(n).padStart(13, "0")}`;

let dir: string;
let redis: ChaosRedis;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "pci-chaos-aof-cut-"));
  // appendfsync always: every acknowledged write is in the file before the position is read.
  redis = await ChaosRedis.start(dir, "always");
});

afterAll(async () => {
  await redis?.destroy();
  await rm(dir, { recursive: true, force: true });
});

describe("chaos harness: the AOF cut of a simulated host crash", () => {
  it("drops exactly the requests written after the position, and says which they were", async () => {
    const producer = createProducer({ redis: redis.url, prefix: PREFIX });
    try {
      const follower = new AofFollower(redis);
      await producer.enqueueMany([1].map((n) => ({ catalog: "AWS", identifier: identifier(n) })));
      await follower.position();
      const kept = await producer.enqueueMany([2, 3].map((n) => ({ catalog: "AWS", identifier: identifier(n) })));
      // Read in two steps: what was there, then what was appended since.
      const position = (await follower.position())!;
      expect(position.keep).toBe(position.size);
      const dropped = await producer.enqueueMany([4, 5].map((n) => ({ catalog: "AWS", identifier: identifier(n) })));
      await producer.close();
      await redis.stop("SIGTERM");

      const cut = (await redis.truncateAof(position, follower))!;
      expect(jobsCreatedOnlyIn(cut.dropped, cut.kept, REQUESTS).sort()).toEqual(dropped.map((r) => r.jobId).sort());
      expect(jobsCreatedOnlyIn(cut.dropped, cut.kept, OUTCOMES)).toEqual([]);
      expect(cut.kept.at(-1)!.end).toBe(position.size);
      expect(cut.dropped[0]!.start).toBe(position.size);

      // Redis loads the cut file as it is (nothing torn): the first three requests (job and record), not the last two.
      await redis.spawn("everysec");
      const check = new Redis(redis.url);
      try {
        const exists = async (jobId: string) => (await check.exists(`${REQUESTS}${jobId}`)) === 1;
        expect(await Promise.all(kept.map((r) => exists(r.jobId)))).toEqual([true, true]);
        expect(await Promise.all(dropped.map((r) => exists(r.jobId)))).toEqual([false, false]);
        expect(await check.keys(`${REQUESTS}idem:*`)).toHaveLength(3);
      } finally {
        check.disconnect();
      }
      expect(await readFile(join(dir, "redis.log"), "utf8")).not.toMatch(/short read|Revert incomplete MULTI/);
    } finally {
      await producer.close().catch(() => undefined);
    }
  });
});
