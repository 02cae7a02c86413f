/**
 * A real network can hang in ways a local emulator does not by default: an endpoint that accepts
 * the connection and never answers. AWS_REQUEST_TIMEOUT_MS must really end the call, and SIGTERM
 * must end a worker within its grace period whatever its calls are doing.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { countOutcomes, waitForOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { startCli, type CliRun } from "../helpers/cli.js";
import { REDIS_URL } from "../helpers/redis.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("AWS_REQUEST_TIMEOUT_MS", () => {
  it("ends a call the endpoint never answers; the request is retried with the same token and accepted", async () => {
    p = await startPipeline({ label: "timeout" });
    const inv = p.emulator.seedInvitation();
    // Only the first call hangs; without the timeout it would hang for ever and no outcome come.
    p.emulator.script({ operation: "AcceptConnectionInvitation", identifier: inv.identifier, times: 1, error: "Hang" });
    const request = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    // The timeout bounds every call, answered ones too, and the emulator answers in this (maybe
    // loaded) process: with 500 ms a loaded machine's answer to the retry missed it (3 attempts).
    await p.startWorker({ AWS_REQUEST_TIMEOUT_MS: 2000 });
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
    // Retried and accepted; a retry whose answer was late too is one more attempt, not a failure.
    expect(event).toMatchObject({ type: "accepted" });
    expect(event!.attempts).toBeGreaterThanOrEqual(2);
    const calls = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
    expect(calls[0]!.errorType).toBe("Hang");
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(calls.at(-1)!.status).toBe(200);
    // Every call, the hung one and each retry, carries the request's one ClientToken.
    expect(new Set(calls.map((c) => c.clientToken))).toEqual(new Set([request.clientToken]));
  });
});

describe("retries that all end on timeouts", () => {
  it(
    "are reconciled when they run out: the first Accept was applied but never answered, and neither " +
      "was any retry; the invitation is read, found ACCEPTED, and the request ends accepted (alreadyAccepted)",
    async () => {
      p = await startPipeline({ label: "timeout-recon", retry: { attempts: 2 } });
      const inv = p.emulator.seedInvitation();
      // Every Accept of this invitation is carried out (the first changes it, the retry is a replay
      // of the same ClientToken) and never answered: each attempt ends at AWS_REQUEST_TIMEOUT_MS.
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 2,
        error: "Hang",
        applyFirst: true,
      });
      const request = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      // Long enough for the look-up's answer on a loaded machine: it is bounded by the same timeout.
      await p.startWorker({ AWS_REQUEST_TIMEOUT_MS: 2000 });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 30_000 });
      // A timeout may have reached AWS: out of attempts, the invitation is read before any failure is reported.
      expect(event).toMatchObject({
        type: "accepted",
        requestId: request.jobId,
        alreadyAccepted: true,
        attempts: 2,
        connection: { Id: p.emulator.getInvitation(inv.catalog, inv.identifier)!.ConnectionId },
      });
      const accepts = p.emulator.calls({ operation: "AcceptConnectionInvitation" });
      expect(accepts.map((c) => c.errorType)).toEqual(["Hang", "Hang"]);
      expect(new Set(accepts.map((c) => c.clientToken))).toEqual(new Set([request.clientToken]));
      const reads = p.emulator.calls({ operation: "GetConnectionInvitation", identifier: inv.identifier });
      expect(reads.length).toBeGreaterThanOrEqual(1);
      expect(reads[0]!.seq).toBeGreaterThan(accepts.at(-1)!.seq);
    },
  );
});

describe("SHUTDOWN_GRACE_MS", () => {
  it(
    "is a hard bound: a worker whose calls hang exits after SIGTERM with " +
      "code 5 (runs cancelled), its jobs left to be redelivered and accepted",
    async () => {
      p = await startPipeline({ label: "grace" });
      p.emulator.setSwitches({ hang: ["AcceptConnectionInvitation"] } as never);
      const invs = p.emulator.seedInvitations(2);
      const requests = await p.producer.enqueueMany(
        invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })),
      );
      const graceMs = 4000;
      // The request timeout is far longer than any wait below: only the grace period can end the run.
      const worker = startCli(["worker"], {
        REDIS_URL,
        QUEUE_PREFIX: p.prefix,
        PARTNERCENTRAL_ENDPOINT: p.emulator.url,
        AWS_REQUEST_TIMEOUT_MS: "600000",
        SHUTDOWN_GRACE_MS: String(graceMs),
        // Short locks and stalled checks, so that the jobs it leaves are redelivered in seconds.
        LOCK_DURATION_MS: "2000",
        STALLED_INTERVAL_MS: "500",
        RATE_LIMIT_RPS: "100",
        RATE_LIMIT_BURST: "100",
      });
      await waitFor(
        () => (p!.emulator.calls({ operation: "AcceptConnectionInvitation" }).length >= 2 ? true : undefined),
        30_000,
        "both calls to hang",
      );
      worker.child.kill("SIGTERM");
      // A loose bound: the process must exit, not within a tight window.
      const exited = await Promise.race([
        worker.exited,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), graceMs + 10_000)),
      ]);
      if (!exited) worker.child.kill("SIGKILL");
      expect(
        exited,
        `the worker did not exit within ${graceMs + 10_000} ms of SIGTERM with a ${graceMs} ms grace period`,
      ).toBeDefined();
      const run = exited as CliRun;
      // 5: the runs in flight were cancelled when the grace period ran out, and everything closed in time.
      expect({ code: run.code, signal: run.signal }, run.stderr.slice(-2000)).toEqual({ code: 5, signal: null });
      expect(run.stderr).toContain("grace period over");

      // Nothing failed and nothing was published: both jobs are still active, their attempts unused,
      // until their lock expires and a worker takes them again.
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      const jobs = await Promise.all(requests.map((r) => p!.producer.queue.getJob(r.jobId)));
      expect(await Promise.all(jobs.map((j) => j!.getState()))).toEqual(["active", "active"]);
      expect(jobs.map((j) => j!.attemptsMade)).toEqual([0, 0]);

      p.emulator.setSwitches({ hang: null } as never);
      await p.startWorker({ STALLED_INTERVAL_MS: 500 });
      const events = await waitForOutcomes(p.redis, p.prefix, 2, { timeoutMs: 30_000 });
      expect(events.map((e) => e.type)).toEqual(["accepted", "accepted"]);
      for (const [i, r] of requests.entries()) {
        const calls = p.emulator.calls({ operation: "AcceptConnectionInvitation", identifier: invs[i]!.identifier });
        expect(calls.map((c) => c.errorType ?? c.status)).toEqual(["Hang", 200]);
        expect(new Set(calls.map((c) => c.clientToken))).toEqual(new Set([r.clientToken]));
      }
    },
  );
});
