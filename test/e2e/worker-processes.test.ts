import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createProducer } from "../../src/producer/producer.js";
import { startCli, stopCli, PROCESS_START_MS } from "../helpers/cli.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const redis = newRedis();
let emulator: PartnerCentralEmulator;
beforeAll(async () => {
  emulator = await PartnerCentralEmulator.start();
});
afterAll(async () => {
  await emulator.close();
  redis.disconnect();
});

function workerEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return { REDIS_URL, QUEUE_PREFIX: prefix, PARTNERCENTRAL_ENDPOINT: emulator.url, LOG_LEVEL: "info", ...extra };
}

/**
 * Calls admitted by a limit, per second of Redis time: the limit's own count of its admissions
 * (the `c:<second>` fields of its hash, kept 60 s for the retry budget; docs/rate-limits.md).
 */
async function admittedPerRedisSecond(prefix: string, limitKey: string): Promise<Map<number, number>> {
  const hash = await redis.hgetall(`${prefix}:ratelimit:${limitKey}`);
  const perSecond = new Map<number, number>();
  for (const [field, value] of Object.entries(hash)) {
    const m = /^c:(\d+)$/.exec(field);
    if (m) perSecond.set(Number(m[1]), Number(value));
  }
  return perSecond;
}

/** Most admissions in any run of `k` consecutive seconds, for every k from 1 to the whole span. */
function busiestRuns(perSecond: Map<number, number>): Array<{ seconds: number; admitted: number }> {
  const secs = [...perSecond.keys()];
  const first = Math.min(...secs);
  const counts = Array.from({ length: Math.max(...secs) - first + 1 }, (_, i) => perSecond.get(first + i) ?? 0);
  return counts.map((_, k) => {
    let most = 0;
    for (let i = 0; i + k < counts.length; i++)
      most = Math.max(
        most,
        counts.slice(i, i + k + 1).reduce((a, b) => a + b, 0),
      );
    return { seconds: k + 1, admitted: most };
  });
}

describe("worker processes", { timeout: 240_000 }, () => {
  it("share one rate limit across two processes", async () => {
    emulator.reset();
    emulator.setFaults({ latencyMs: 30 });
    const prefix = uniquePrefix("rate");
    const producer = createProducer({ redis, prefix });
    const invs = emulator.seedInvitations(20);
    await producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    const env = workerEnv(prefix, { RATE_LIMIT_RPS: "5", RATE_LIMIT_BURST: "1", WORKER_CONCURRENCY: "4" });
    const workers = [startCli(["worker"], env), startCli(["worker"], env)];
    try {
      await waitForOutcomes(redis, prefix, 20, { timeoutMs: PROCESS_START_MS });
      const calls = emulator.calls({ operation: "AcceptConnectionInvitation" });
      expect(calls).toHaveLength(20);
      // The shared GCRA limit promises at most L·rate + burst admissions in any L seconds of
      // Redis time (docs/rate-limits.md); when the calls reach the emulator also depends on how
      // soon each loaded process gets the CPU (7 in one second once, beside CPU hogs), so the
      // admissions are counted where the limit stamps them. Every call was admitted once, by the
      // one limit both processes share, and no run of k Redis seconds holds more than 5k + 1.
      const perSecond = await admittedPerRedisSecond(prefix, "default");
      expect([...perSecond.values()].reduce((a, b) => a + b, 0)).toBe(calls.length);
      for (const run of busiestRuns(perSecond))
        expect(run.admitted, `${run.seconds} s`).toBeLessThanOrEqual(5 * run.seconds + 1);
      // Both processes did part of the work. A run logs "invitation accepted" after it published,
      // so the last lines may still be on their way when the 20th outcome is seen: wait for them.
      const accepted = () => workers.map((w) => (w.stderr().match(/"msg":"invitation accepted"/g) ?? []).length);
      await waitFor(
        () => accepted().reduce((a, b) => a + b, 0) >= 20 || undefined,
        10_000,
        "20 'invitation accepted' lines",
      ).catch(() => undefined);
      const pids = accepted();
      expect(pids[0]! + pids[1]!).toBe(20);
      expect(pids[0]).toBeGreaterThan(0);
      expect(pids[1]).toBeGreaterThan(0);
    } finally {
      const runs = await Promise.all(workers.map(stopCli));
      for (const r of runs) expect(r.code).toBe(0);
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  });

  it("on SIGTERM mid-batch finishes in-flight jobs, exits 0, and loses nothing", async () => {
    emulator.reset();
    emulator.setFaults({ latencyMs: 150 });
    const prefix = uniquePrefix("sigterm");
    const producer = createProducer({ redis, prefix });
    const invs = emulator.seedInvitations(30);
    await producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    const env = workerEnv(prefix, {
      RATE_LIMIT_RPS: "1000",
      RATE_LIMIT_BURST: "1000",
      WORKER_CONCURRENCY: "4",
      SHUTDOWN_GRACE_MS: "10000",
    });
    const first = startCli(["worker"], env);
    try {
      await waitFor(
        async () => (await countOutcomes(redis, prefix)) >= 4 || undefined,
        PROCESS_START_MS,
        "first outcomes",
      );
      first.child.kill("SIGTERM");
      const r = await first.exited;
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("shutting down");
      expect(r.stderr).toContain('"how":"drained"');
      // Everything the first worker sent to the API has its outcome: nothing was abandoned.
      const calledBefore = new Set(
        emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => c.identifier),
      );
      const doneBefore = await countOutcomes(redis, prefix);
      expect(doneBefore).toBe(calledBefore.size);
      expect(doneBefore).toBeLessThan(30);

      const second = startCli(["worker"], env);
      const events = await waitForOutcomes(redis, prefix, 30, { timeoutMs: PROCESS_START_MS });
      expect((await stopCli(second)).code).toBe(0);
      expect(new Set(events.map((e) => e.requestId)).size).toBe(30);
      expect(events.every((e) => e.type === "accepted")).toBe(true);
      for (const inv of invs) {
        const tokens = new Set(
          emulator
            .calls({ operation: "AcceptConnectionInvitation", identifier: inv.identifier })
            .map((c) => c.clientToken),
        );
        expect(tokens.size).toBe(1);
        expect(emulator.getInvitation(inv.catalog, inv.identifier)?.Status).toBe("ACCEPTED");
      }
    } finally {
      await stopCli(first);
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  });
});
