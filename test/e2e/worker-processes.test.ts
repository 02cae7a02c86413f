import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createProducer } from "../../src/producer/producer.js";
import { startCli, stopCli } from "../helpers/cli.js";
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


/** Largest number of calls whose arrival times fall in any window of `windowMs`. */
function maxInWindow(times: number[], windowMs: number): number {
  const t = [...times].sort((a, b) => a - b);
  let best = 0;
  for (let i = 0, j = 0; j < t.length; j++) {
    while (t[j]! - t[i]! >= windowMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

describe("worker processes", () => {
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
      await waitForOutcomes(redis, prefix, 20, { timeoutMs: 20_000 });
      const calls = emulator.calls({ operation: "AcceptConnectionInvitation" });
      expect(calls).toHaveLength(20);
      const times = calls.map((c) => c.at);
      // The shared GCRA limit: no sliding second holds more than rate + burst = 6 calls, and 20
      // calls at 5/s with a burst of 1 are spread over at least 19 × 200 ms.
      expect(maxInWindow(times, 1000)).toBeLessThanOrEqual(6);
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(3700);
      // Both processes did part of the work. A run logs "invitation accepted" after it published,
      // so the last lines may still be on their way when the 20th outcome is seen: wait for them.
      const accepted = () => workers.map((w) => (w.stderr().match(/"msg":"invitation accepted"/g) ?? []).length);
      await waitFor(() => accepted().reduce((a, b) => a + b, 0) >= 20 || undefined, 10_000, "20 'invitation accepted' lines").catch(() => undefined);
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
    const env = workerEnv(prefix, { RATE_LIMIT_RPS: "1000", RATE_LIMIT_BURST: "1000", WORKER_CONCURRENCY: "4", SHUTDOWN_GRACE_MS: "10000" });
    const first = startCli(["worker"], env);
    try {
      await waitFor(async () => (await countOutcomes(redis, prefix)) >= 4 || undefined, 15_000, "first outcomes");
      first.child.kill("SIGTERM");
      const r = await first.exited;
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("shutting down");
      expect(r.stderr).toContain('"how":"drained"');
      // Everything the first worker sent to the API has its outcome: nothing was abandoned.
      const calledBefore = new Set(emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => c.identifier));
      const doneBefore = await countOutcomes(redis, prefix);
      expect(doneBefore).toBe(calledBefore.size);
      expect(doneBefore).toBeLessThan(30);

      const second = startCli(["worker"], env);
      const events = await waitForOutcomes(redis, prefix, 30, { timeoutMs: 20_000 });
      expect((await stopCli(second)).code).toBe(0);
      expect(new Set(events.map((e) => e.requestId)).size).toBe(30);
      expect(events.every((e) => e.type === "accepted")).toBe(true);
      for (const inv of invs) {
        const tokens = new Set(emulator.calls({ operation: "AcceptConnectionInvitation", identifier: inv.identifier }).map((c) => c.clientToken));
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
