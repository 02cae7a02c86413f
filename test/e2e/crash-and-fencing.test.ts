import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PartnerCentralEmulator } from "../../src/emulator/index.js";
import { createProducer } from "../../src/producer/producer.js";
import { startCli, stopCli, type CliProcess, PROCESS_START_MS } from "../helpers/cli.js";
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

/** Fast failure detection so redelivery after a crash takes ~2 s, not BullMQ's default 30 s. */
const FAST_STALL = { LOCK_DURATION_MS: "1500", STALLED_INTERVAL_MS: "300", MAX_STALLED_COUNT: "20" };
const env = (prefix: string, extra: Record<string, string> = {}) => ({
  REDIS_URL,
  QUEUE_PREFIX: prefix,
  PARTNERCENTRAL_ENDPOINT: emulator.url,
  LOG_LEVEL: "info",
  RATE_LIMIT_RPS: "100000",
  RATE_LIMIT_BURST: "100000",
  BACKOFF_DELAY_MS: "50",
  ...FAST_STALL,
  ...extra,
});
const tokensPerInvitation = (identifier: string) =>
  new Set(emulator.calls({ operation: "AcceptConnectionInvitation", identifier }).map((c) => c.clientToken));

describe("crashes and stale workers", { timeout: 240_000 }, () => {
  it("kill -9 during the call: the job is redelivered, AWS sees one ClientToken, one outcome", async () => {
    emulator.reset();
    emulator.setFaults({ latencyMs: 700 });
    const prefix = uniquePrefix("kill9");
    const producer = createProducer({ redis, prefix });
    const inv = emulator.seedInvitation();
    await producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    const first = startCli(["worker"], env(prefix));
    let second: CliProcess | undefined;
    try {
      await waitFor(
        () => emulator.calls({ operation: "AcceptConnectionInvitation" }).length === 1 || undefined,
        PROCESS_START_MS,
        "the call in flight",
      );
      first.child.kill("SIGKILL");
      expect((await first.exited).signal).toBe("SIGKILL");
      second = startCli(["worker"], env(prefix));
      const [event] = await waitForOutcomes(redis, prefix, 1, { timeoutMs: PROCESS_START_MS });
      expect(event!.type).toBe("accepted");
      const calls = emulator.calls({ operation: "AcceptConnectionInvitation", identifier: inv.identifier });
      expect(calls.length).toBeGreaterThanOrEqual(2);
      expect(tokensPerInvitation(inv.identifier).size).toBe(1);
      expect(calls.at(-1)!.replayed).toBe(true); // AWS replayed the first acceptance
      await new Promise((r) => setTimeout(r, 500));
      expect(await countOutcomes(redis, prefix)).toBe(1);
    } finally {
      emulator.setFaults({ latencyMs: undefined });
      if (second) await stopCli(second);
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  });

  it("a job BullMQ gives up on after too many lost workers still gets its outcome, reconciled", async () => {
    emulator.reset();
    emulator.setFaults({ latencyMs: 700 });
    const prefix = uniquePrefix("abandoned");
    const producer = createProducer({ redis, prefix });
    const inv = emulator.seedInvitation();
    await producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    const noStalls = env(prefix, { MAX_STALLED_COUNT: "0" });
    const first = startCli(["worker"], noStalls);
    let second: CliProcess | undefined;
    try {
      await waitFor(
        () => emulator.calls({ operation: "AcceptConnectionInvitation" }).length === 1 || undefined,
        PROCESS_START_MS,
        "the call in flight",
      );
      first.child.kill("SIGKILL");
      await first.exited;
      second = startCli(["worker"], noStalls);
      const [event] = await waitForOutcomes(redis, prefix, 1, { timeoutMs: PROCESS_START_MS });
      // BullMQ failed the job without running it again; the killed run's call had been carried out.
      expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true });
      expect(emulator.calls({ operation: "AcceptConnectionInvitation" })).toHaveLength(1);
      expect(emulator.calls({ operation: "GetConnectionInvitation" })).toHaveLength(1);
      const job = (await producer.queue.getJobs(["failed"]))[0];
      expect(job?.failedReason).toMatch(/stalled more than allowable limit/);
    } finally {
      emulator.setFaults({ latencyMs: undefined });
      if (second) await stopCli(second);
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  });

  it("a worker that lost its lock (blocked event loop) publishes nothing: exactly one outcome", async () => {
    emulator.reset();
    const prefix = uniquePrefix("fence");
    const producer = createProducer({ redis, prefix });
    const inv = emulator.seedInvitation();
    await producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    const fixture = fileURLToPath(new URL("../fixtures/blocking-worker.mjs", import.meta.url));
    let stderr = "";
    const blocker = spawn(process.execPath, [fixture], {
      env: { ...env(prefix, { BLOCK_MS: "4000", LOCK_DURATION_MS: "1000" }), PATH: process.env.PATH ?? "" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    blocker.stderr!.on("data", (d) => (stderr += d));
    const blockerExit = new Promise<number | null>((r) => blocker.on("close", (code) => r(code)));
    let other: CliProcess | undefined;
    try {
      await waitFor(
        () => stderr.includes("blocking the event loop") || undefined,
        PROCESS_START_MS,
        "the blocking worker to block",
      );
      other = startCli(["worker"], env(prefix));
      await waitForOutcomes(redis, prefix, 1, { timeoutMs: PROCESS_START_MS });
      // Let the blocked worker wake up and try to publish.
      // The stale run notices and drops what it learnt. (The same process may later run the job
      // again as its new, rightful owner: that is a different run with a fresh lock.)
      await waitFor(
        () => stderr.includes("lost the job's lock; published nothing") || undefined,
        PROCESS_START_MS,
        "the stale run to be fenced",
      );
      await new Promise((r) => setTimeout(r, 300));
      expect(await countOutcomes(redis, prefix)).toBe(1);
      expect(tokensPerInvitation(inv.identifier).size).toBe(1);
      expect(stderr).toMatch(/"dropped":"accepted","msg":"lost the job's lock; published nothing"/);
    } finally {
      blocker.kill("SIGTERM");
      await blockerExit;
      if (other) await stopCli(other);
      await producer.close();
      await deletePrefix(redis, prefix);
    }
  });
});
