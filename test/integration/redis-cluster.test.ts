import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Cluster, Redis } from "ioredis";
import { createRedisRateLimiter } from "../../src/ratelimit/redis-rate-limiter.js";
import { maxInSlidingWindow } from "../../bench/window-stats.js";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createSdkInvitationApi } from "../../src/aws/sdk-invitation-api.js";
import { createProducer } from "../../src/producer/producer.js";
import { DEFAULT_RETRY_POLICY } from "../../src/store/redis/job-options.js";
import { createRedisRequestStore } from "../../src/store/redis/redis-request-store.js";
import { createAcceptWorker } from "../../src/consumer/worker.js";
import { createLogger } from "../../src/observability/logger.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { TEST_CREDENTIALS } from "../helpers/pipeline.js";
import { uniquePrefix } from "../helpers/redis.js";
import { runCli, startCli } from "../helpers/cli.js";
import { waitFor } from "../helpers/wait.js";
import { hasRedisBinaries, startRedisCluster, type RedisCluster } from "../helpers/redis-cluster.js";

const available = await hasRedisBinaries();
let cluster: RedisCluster;
let client: Cluster;

beforeAll(async () => {
  if (!available) return;
  cluster = await startRedisCluster(3);
  client = cluster.connect();
}, 60_000);
afterAll(async () => {
  await cluster?.stop();
});

/** CLUSTER KEYSLOT, asked of the cluster itself. */
const slotOf = (key: string) => client.call("CLUSTER", "KEYSLOT", key) as Promise<number>;

describe.skipIf(!available)("on a 3-master Redis Cluster", () => {
  it("keeps every key of a limit in the slot of the prefix's hash tag", async () => {
    const prefix = uniquePrefix("cluster");
    const limiter = createRedisRateLimiter({ redis: client, prefix, defaults: { rate: 10, burst: 2 } });
    for (const key of ["default", "catalog:AWS", "profile:x"])
      expect((await limiter.tryAcquire(key)).admitted).toBe(true);
    const tagSlot = await slotOf(prefix.slice(1, -1));
    for (const key of ["default", "catalog:AWS", "profile:x"]) {
      expect(await slotOf(`${prefix}:ratelimit:${key}`)).toBe(tagSlot);
      expect(await client.type(`${prefix}:ratelimit:${key}`)).toBe("hash");
    }
    // The masters split the slots: the tag's slot is served by one of them, not all by one node.
    const shards = (await client.call("CLUSTER", "SLOTS")) as Array<[number, number, ...unknown[]]>;
    expect(shards).toHaveLength(3);
  });

  it(
    "admits at most rate + burst in any sliding second " + "from 3 Cluster clients, and adapts for all of them",
    async () => {
      const prefix = uniquePrefix("cluster-gcra");
      const clients = [client, cluster.connect(), cluster.connect()];
      const R = 40;
      const B = 8;
      const T = 1000 / R; // ms between admissions at the rate
      const limiters = clients.map((redis) =>
        createRedisRateLimiter({ redis, prefix, defaults: { rate: R, burst: B }, adaptation: { decreaseFactor: 0.5 } }),
      );
      const admitted: number[] = [];
      const refusals: Array<{ reason: string; retryInMs: number }> = [];
      // Six callers, coming back early on purpose, until 100 admissions and 30 refusals: counts, not
      // a duration, so a loaded machine that asks slower takes longer instead of measuring less.
      // (1,000 admissions without 30 refusals is a limiter that does not limit: stop there.)
      const enough = () => (admitted.length >= 100 && refusals.length >= 30) || admitted.length >= 1000;
      const deadline = Date.now() + 40_000;
      await Promise.all(
        limiters.flatMap((l) =>
          [0, 1].map(async () => {
            while (!enough() && Date.now() < deadline) {
              const r = await l.tryAcquire("api");
              if (r.admitted) admitted.push(r.atMs);
              else {
                refusals.push({ reason: r.reason, retryInMs: r.retryInMs });
                await new Promise((res) => setTimeout(res, Math.random() * r.retryInMs));
              }
            }
          }),
        ),
      );
      expect(admitted.length).toBeGreaterThanOrEqual(100);
      // Never too many, on the admissions' own Redis times: no second holds more than R + B, and
      // more generally j - i admissions later is at least (j - i - (B - 1)) × T later (GCRA: at
      // most L·R + B in any window L), however fast or slow the callers asked.
      expect(maxInSlidingWindow(admitted, 1000, true)).toBeLessThanOrEqual(R + B);
      const at = [...admitted].sort((a, b) => a - b);
      let closest = Infinity; // least (time apart - time GCRA requires) over every pair, ms
      for (let i = 0; i < at.length; i++) {
        for (let j = i + 1; j < at.length; j++) closest = Math.min(closest, at[j]! - at[i]! - (j - i - (B - 1)) * T);
      }
      expect(closest).toBeGreaterThanOrEqual(-0.001);
      // Never too few: a caller turned away is only ever told to wait for the next slot of the
      // rate, at most T away, so a caller that comes back when told is not held below R. (A
      // lower bound on the rate achieved measures the callers: beside CPU hogs they asked too
      // slowly for 38/s.)
      expect(refusals.length).toBeGreaterThanOrEqual(30);
      expect(refusals.every((r) => r.reason === "rate")).toBe(true);
      expect(Math.max(...refusals.map((r) => r.retryInMs))).toBeLessThanOrEqual(T);

      // A Retry-After long enough to still hold when the next call comes, however late that is.
      await limiters[0]!.recordThrottle("api", 30_000);
      expect(await limiters[1]!.tryAcquire("api")).toMatchObject({ admitted: false, reason: "retry-after" });
      expect(await limiters[2]!.getState("api")).toMatchObject({ rate: 20, ceiling: 40, throttles: 1 });
      await limiters[2]!.setLimits("api", { rate: 5, burst: 1 });
      expect(await limiters[0]!.getState("api")).toMatchObject({ rate: 5, ceiling: 5, burst: 1 });
    },
  );

  it("works with a prefix without a hash tag too: each script touches one key", async () => {
    const prefix = `pci-plain-${Math.random().toString(36).slice(2, 8)}`;
    // One call per 100 s: the retry right after a first attempt is refused for the rate however
    // slowly a loaded machine gets to it (at 100/s, 10 ms between the two calls let it through).
    const limiter = createRedisRateLimiter({
      redis: client,
      prefix,
      defaults: { rate: 0.01, minRate: 0.001, burst: 1, retryMinPerMinute: 1 },
    });
    const keys = Array.from({ length: 12 }, (_, i) => `k${i}`);
    for (const k of keys) {
      expect((await limiter.tryAcquire(k)).admitted).toBe(true);
      expect((await limiter.tryAcquire(k, { retry: true })).admitted).toBe(false); // rate: burst 1
      await limiter.recordThrottle(k, 50);
      await limiter.recordSuccess(k);
      expect(await limiter.getState(k)).toMatchObject({ stored: true, throttles: 1 });
    }
    const slots = new Set(await Promise.all(keys.map((k) => slotOf(`${prefix}:ratelimit:${k}`))));
    expect(slots.size).toBeGreaterThan(1);
  });

  it(
    "runs the whole flow on the Cluster: producer → BullMQ " + "worker → API → outcome, under a hash-tagged prefix",
    async () => {
      const prefix = uniquePrefix("cluster-e2e");
      const location = { prefix, requestsQueue: "accept-invitation", outcomesQueue: "invitation-outcomes" };
      const emulator = await PartnerCentralEmulator.start();
      const api = createSdkInvitationApi({ endpoint: emulator.url, credentials: TEST_CREDENTIALS });
      const connection = cluster.connect();
      const producer = createProducer({
        redis: connection,
        prefix,
        retry: { attempts: 3, backoffDelayMs: 20, backoffJitter: 0 },
      });
      const outcomes = createRedisRequestStore({
        connection,
        location,
        retry: DEFAULT_RETRY_POLICY,
        outcomeRetentionSeconds: 3600,
        idempotencyRetentionSeconds: 3600,
        writesQueueMeta: false,
      });
      const worker = createAcceptWorker({
        connection,
        location,
        api,
        outcomes,
        logger: createLogger({ level: "silent" }),
      });
      try {
        const invs = emulator.seedInvitations(5);
        await producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
        const events = await waitForOutcomes(connection as unknown as Redis, prefix, 5, { timeoutMs: 60_000 });
        expect(events.map((e) => e.type)).toEqual(Array(5).fill("accepted"));
        expect(emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(5);
      } finally {
        await worker.close();
        await outcomes.close();
        await producer.close();
        api.destroy();
        await emulator.close();
      }
    },
  );

  it("runs the CLI on the Cluster with REDIS_CLUSTER=true: enqueue, worker, outcomes --drain, limits", async () => {
    const prefix = uniquePrefix("cluster-cli");
    const emulator = await PartnerCentralEmulator.start();
    const env = {
      REDIS_URL: `redis://127.0.0.1:${cluster.ports[0]}`,
      REDIS_CLUSTER: "true",
      QUEUE_PREFIX: prefix,
      PARTNERCENTRAL_ENDPOINT: emulator.url,
      RATE_LIMIT_RPS: "1000",
      RATE_LIMIT_BURST: "1000",
    };
    const worker = startCli(["worker"], env);
    try {
      const invs = emulator.seedInvitations(4);
      const lines = invs.map((i) => JSON.stringify({ catalog: i.catalog, identifier: i.identifier })).join("\n");
      const enq = await runCli(["enqueue", "--json"], env, lines);
      expect(enq.code, enq.stderr).toBe(0);
      expect(JSON.parse(enq.stdout)).toMatchObject({ enqueued: 4, duplicates: 0 });
      await waitFor(
        () => emulator.calls({ operation: "AcceptConnectionInvitation" }).length === 4 || undefined,
        60_000,
        "4 calls",
      ); // a worker process's start: 14 s seen at load 14
      const out = await waitFor(
        async () => {
          const r = await runCli(["outcomes", "--drain"], env);
          return r.stdout.trim().split("\n").filter(Boolean).length === 4 ? r : undefined;
        },
        60_000,
        "4 outcomes drained",
      );
      expect(
        out.stdout
          .trim()
          .split("\n")
          .map((l) => JSON.parse(l).type),
      ).toEqual(Array(4).fill("accepted"));
      const limits = await runCli(["limits", "show"], env);
      expect(JSON.parse(limits.stdout)).toMatchObject({ stored: true, ceiling: 1000 });
    } finally {
      worker.child.kill("SIGTERM");
      expect((await worker.exited).code).toBe(0);
      await emulator.close();
    }
  }, 180_000);
});
