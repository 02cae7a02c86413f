/**
 * Promises of the README kept by the worker shell, each with a test that fails when the code that
 * keeps it is removed (docs/guarantees.md lists them all):
 * - a run that lost its job's lock has its in-flight AWS call aborted (consumer/worker.ts,
 *   lockRenewalFailed → cancelJob → the call's AbortSignal);
 * - a throttle lowers the shared rate and its Retry-After holds back every worker
 *   (consumer/pacing.ts reportToLimiter → recordThrottle, through a worker, not the limiter alone).
 */
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { jobLockKey } from "../../src/store/redis/keys.js";
import { createRedisRateLimiter } from "../../src/ratelimit/redis-rate-limiter.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("a run that lost its job's lock", () => {
  it("has its in-flight AWS call aborted, frees its slot, publishes nothing; the job is run again once", async () => {
    p = await startPipeline({ label: "abort" });
    const [a, b] = p.emulator.seedInvitations(2);
    // A's first Accept never answers; the request timeout is far beyond this test.
    p.emulator.script({ operation: "AcceptConnectionInvitation", identifier: a!.identifier, times: 1, error: "Hang" });
    const [ra] = await p.producer.enqueueMany([{ catalog: a!.catalog, identifier: a!.identifier }]);
    await p.producer.enqueueMany([{ catalog: b!.catalog, identifier: b!.identifier }]);
    await p.startWorker({
      WORKER_CONCURRENCY: 1,
      LOCK_DURATION_MS: 2000,
      STALLED_INTERVAL_MS: 1000,
      AWS_REQUEST_TIMEOUT_MS: 600_000,
    });
    await waitFor(
      () =>
        p!.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: a!.identifier }).length > 0
          ? true
          : undefined,
      20_000,
      "A's call",
    );

    // Another owner takes A's lock (as after a stall): this worker's next renewal fails.
    await p.redis.set(jobLockKey(p.prefix, "accept-invitation", ra!.jobId), "someone-else", "PX", 3000);

    // Only an aborted call frees the single slot for B.
    const events = await waitForOutcomes(p.redis, p.prefix, 2, { timeoutMs: 45_000 });
    expect(events.map((e) => [e.identifier, e.type]).sort()).toEqual(
      [
        [a!.identifier, "accepted"],
        [b!.identifier, "accepted"],
      ].sort(),
    );
    const callsA = p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: a!.identifier });
    expect(callsA.map((c) => c.errorType ?? c.status)).toEqual(["Hang", 200]);
    expect(new Set(callsA.map((c) => c.clientToken)).size).toBe(1);
  });
});

describe("a throttle, through a worker", () => {
  it("lowers the shared rate, and its Retry-After holds back every worker's calls", async () => {
    p = await startPipeline({ label: "throttle" });
    const invs = p.emulator.seedInvitations(60);
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      times: 1,
      error: "ThrottlingException",
      retryAfterSeconds: 5,
    });
    await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    // 20 calls/s: without the Retry-After block the 60 requests would keep going for 3 s.
    const limit = { WORKER_CONCURRENCY: 4, RATE_LIMIT_RPS: 20, RATE_LIMIT_BURST: 2 };
    await Promise.all([p.startWorker(limit), p.startWorker(limit)]);
    const limiter = createRedisRateLimiter({ redis: p.redis, prefix: p.prefix });
    const lowered = await waitFor(
      async () => {
        const s = await limiter.getState("default");
        return s.throttles >= 1 && s.rate < s.ceiling ? s : undefined;
      },
      20_000,
      "the shared rate to drop",
    );
    expect(lowered.rate).toBeLessThan(lowered.ceiling);

    const events = await waitForOutcomes(p.redis, p.prefix, 60, { timeoutMs: 60_000 });
    expect(events.every((e) => e.type === "accepted")).toBe(true);
    const calls = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
    const throttled = calls.find((c) => c.errorType === "ThrottlingException")!;
    // Calls in flight when the throttle came back may still land just after it; none may be
    // admitted while Retry-After (5 s) runs. 1.5 s leaves room for any admission-to-arrival delay.
    const inWindow = calls.filter((c) => c.at > throttled.at + 1500 && c.at < throttled.at + 5000);
    expect(inWindow.map((c) => c.at - throttled.at)).toEqual([]);
    // ... and there was work waiting during the window: the requests done after it.
    expect(calls.filter((c) => c.at >= throttled.at + 5000).length).toBeGreaterThan(0);
  });
});
