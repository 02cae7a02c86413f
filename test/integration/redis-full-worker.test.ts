/**
 * Redis full (maxmemory reached, noeviction) while workers run: every write of ours and of BullMQ
 * that needs memory is refused with OOM. A Redis error is never an AWS attempt: the jobs wait,
 * and when Redis has room again every request ends in exactly one outcome, with its attempts
 * intact. Runs on a redis-server of its own.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes, countOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { fillUp, makeRoom, startRedisServer, type OwnRedis } from "../helpers/redis-server.js";

let server: OwnRedis;
let p: Pipeline | undefined;
beforeAll(async () => {
  server = await startRedisServer();
});
afterAll(async () => {
  await makeRoom(server.admin).catch(() => undefined);
  await p?.close();
  await server?.stop();
});

describe("Redis full for a while", () => {
  it(
    "loses nothing and spends no attempt: every request " + "ends with one accepted outcome once there is room",
    async () => {
      p = await startPipeline({ label: "full", redisUrl: server.url, emulator: { latencyMs: 20 } });
      const n = 200;
      const invs = p.emulator.seedInvitations(n);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      const worker = {
        WORKER_CONCURRENCY: 4,
        LOCK_DURATION_MS: 3000,
        STALLED_INTERVAL_MS: 1000,
        MAX_STALLED_COUNT: 1000,
        SWEEP_INTERVAL_MS: 1000,
        SWEEP_GRACE_MS: 2000,
      };
      await Promise.all([p.startWorker(worker), p.startWorker(worker)]);
      await waitFor(
        async () => ((await countOutcomes(p!.redis, p!.prefix)) >= 20 ? true : undefined),
        30_000,
        "the first outcomes",
      );

      await fillUp(server.admin);
      await waitFor(
        async () =>
          /^OOM/.test(String(await p!.redis.set(`${p!.prefix}:probe-test`, "x").catch((e: Error) => e.message))) ||
          undefined,
        5000,
        "Redis to refuse writes",
      );
      // Long enough for every worker slot to meet a refusal (jobs in flight, new jobs, the sweeper).
      await new Promise((r) => setTimeout(r, 4000));
      const duringFull = await countOutcomes(p.redis, p.prefix);
      await makeRoom(server.admin);

      const events = await waitForOutcomes(p.redis, p.prefix, n, { timeoutMs: 90_000 });
      expect(duringFull).toBeLessThan(n);
      expect(events).toHaveLength(n);
      expect(new Set(events.map((e) => e.requestId)).size).toBe(n);
      expect(events.filter((e) => e.type !== "accepted").map((e) => (e.type === "failed" ? e.error : e))).toEqual([]);
      // No attempt spent on Redis errors.
      expect(events.filter((e) => e.attempts !== 1).map((e) => [e.identifier, e.attempts])).toEqual([]);
      // One ClientToken per invitation, and every record closed.
      const calls = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
      const tokens = new Map<string, Set<string>>();
      for (const c of calls)
        (tokens.get(c.identifier!) ?? tokens.set(c.identifier!, new Set()).get(c.identifier!)!).add(c.clientToken!);
      expect([...tokens.values()].filter((t) => t.size > 1)).toEqual([]);
      await waitFor(
        async () => ((await p!.redis.zcard(`${p!.prefix}:accept-invitation:idem-open`)) === 0 ? true : undefined),
        30_000,
        "every record to close",
      );
    },
  );
});
