import { afterEach, describe, expect, it } from "vitest";
import { Queue } from "bullmq";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes, countOutcomes } from "../helpers/outcomes.js";
import { waitFor } from "../helpers/wait.js";
import { createRedisRateLimiter } from "../../src/ratelimit/redis-rate-limiter.js";
import { IdempotencyConflictError } from "../../src/errors/index.js";
import { deriveClientToken } from "../../src/request-record/identity.js";
import type { ScriptedFailure } from "../../src/emulator/index.js";
import type { AcceptedOutcome, FailedOutcome } from "../../src/contracts/outcome.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

const acceptCalls = (pl: Pipeline, identifier?: string) =>
  pl.emulator.calls({ operation: "AcceptConnectionInvitation", ...(identifier ? { identifier } : {}) });

describe("pipeline: enqueue → worker → AcceptConnectionInvitation → one outcome", () => {
  it("accepts pending invitations and publishes the whole Connection with envelope fields", async () => {
    p = await startPipeline({ label: "happy" });
    const invs = p.emulator.seedInvitations(3, { catalog: "Sandbox" });
    const results = await p.producer.enqueueMany(
      invs.map((inv, i) => ({
        catalog: inv.catalog,
        identifier: inv.identifier,
        correlationId: `corr-${i}`,
        metadata: { i, tag: "x" },
      })),
    );
    expect(results.every((r) => !r.duplicate)).toBe(true);
    await p.startWorker();
    const events = (await waitForOutcomes(p.redis, p.prefix, 3)) as AcceptedOutcome[];

    expect(events.map((e) => e.type)).toEqual(["accepted", "accepted", "accepted"]);
    for (const e of events) {
      const i = Number(e.correlationId!.slice(5));
      const inv = invs[i]!;
      expect(e.requestId.startsWith(`Sandbox.${inv.identifier}.`)).toBe(true);
      expect(e.alreadyAccepted).toBe(false);
      expect(e.metadata).toEqual({ i, tag: "x" });
      expect(e.clientToken).toBe(deriveClientToken(`Sandbox.${inv.identifier}`));
      expect(e.attempts).toBe(1);
      expect(e.awsRequestId).toMatch(/.+/);
      expect(e.connection!.Id).toMatch(/^pac-[A-Za-z0-9]{13}$/);
      expect(e.connection!.Catalog).toBe("Sandbox");
      expect(e.connection!.UpdatedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
      const detail = Object.values(e.connection!.ConnectionTypes)[0]!;
      expect(detail.Status).toBe("ACTIVE");
      expect(detail.OtherParticipant.PartnerProfile?.Id).toMatch(/^pprofile-/);
      expect(p.emulator.getInvitation("Sandbox", inv.identifier)?.Status).toBe("ACCEPTED");
      expect(p.emulator.getInvitation("Sandbox", inv.identifier)?.ConnectionId).toBe(e.connection!.Id);
      expect(acceptCalls(p, inv.identifier).map((c) => c.clientToken)).toEqual([e.clientToken]);
    }
  });

  const terminal: Array<[ScriptedFailure["error"], string, number]> = [
    ["ResourceNotFoundException", "CONNECTION_INVITATION_NOT_FOUND", 404],
    ["AccessDeniedException", "ACCESS_DENIED", 403],
    ["ConflictException", "CONFLICT_CLIENT_TOKEN", 409],
    ["ValidationException", "REQUEST_VALIDATION_FAILED", 400],
    ["ServiceQuotaExceededException", "LIMIT_EXCEEDED_NUMBER_OF_ACTIVE_CONNECTION", 402],
  ];
  it.each(terminal)("publishes a failed outcome for %s and does not retry it", async (error, reason, status) => {
    p = await startPipeline({ label: "terminal" });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({ operation: "AcceptConnectionInvitation", identifier: inv.identifier, times: 5, error, reason });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
    expect(e!.type).toBe("failed");
    expect(e!.error).toMatchObject({ name: error, reason, httpStatus: status, retryable: false });
    expect(e!.error.awsRequestId).toMatch(/.+/);
    expect(e!.attempts).toBe(1);
    // Give a wrongly scheduled retry the time to happen before counting calls.
    await new Promise((r) => setTimeout(r, 150));
    expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
  });

  it("reports the real API answer for an unknown invitation", async () => {
    p = await startPipeline({ label: "real-errors" });
    await p.producer.enqueue({ catalog: "AWS", identifier: "pacinv-NOTSEEDED0000" });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
    expect(e!.error).toMatchObject({
      name: "ResourceNotFoundException",
      reason: "CONNECTION_INVITATION_NOT_FOUND",
      httpStatus: 404,
    });
  });

  it.each<[ScriptedFailure["error"], number]>([
    ["InternalServerException", 2],
    ["ServiceUnavailable503", 2],
    ["ConnectionReset", 1],
    ["ThrottlingException", 2],
  ])("retries %s and then succeeds, with one ClientToken on every call", async (error, times) => {
    p = await startPipeline({ label: "transient" });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({ operation: "AcceptConnectionInvitation", identifier: inv.identifier, times, error });
    const { clientToken } = await p.producer.enqueue({
      catalog: inv.catalog,
      identifier: inv.identifier,
      clientToken: "caller-token_1",
    });
    expect(clientToken).toBe("caller-token_1");
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as AcceptedOutcome[];
    expect(e!.type).toBe("accepted");
    expect(e!.attempts).toBe(times + 1);
    const calls = acceptCalls(p, inv.identifier);
    expect(calls).toHaveLength(times + 1);
    expect(new Set(calls.map((c) => c.clientToken))).toEqual(new Set(["caller-token_1"]));
    expect(p.emulator.getInvitation(inv.catalog, inv.identifier)?.Status).toBe("ACCEPTED");
  });

  it("gives up after the configured attempts with RetriesExhausted naming the last error", async () => {
    p = await startPipeline({ label: "exhausted", retry: { attempts: 3 } });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 100,
      error: "InternalServerException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
    expect(e!.error).toMatchObject({
      name: "RetriesExhausted",
      reason: "InternalServerException",
      httpStatus: 500,
      retryable: true,
    });
    expect(e!.attempts).toBe(3);
    expect(acceptCalls(p, inv.identifier)).toHaveLength(3);
  });

  it("bounds throttling: past MAX_THROTTLE_REQUEUES throttles use up attempts, so the job ends", async () => {
    p = await startPipeline({ label: "throttle-bound", retry: { attempts: 2 }, config: { MAX_THROTTLE_REQUEUES: 3 } });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1000,
      error: "ThrottlingException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [e] = (await waitForOutcomes(p.redis, p.prefix, 1)) as FailedOutcome[];
    expect(e!.error).toMatchObject({ name: "RetriesExhausted", reason: "ThrottlingException", httpStatus: 429 });
    // 3 requeues that cost no attempt + 2 attempts.
    expect(acceptCalls(p, inv.identifier)).toHaveLength(5);
    expect(e!.attempts).toBe(5);
  });

  it("treats a duplicate enqueue as one job, one API call and one outcome", async () => {
    p = await startPipeline({ label: "dup" });
    const inv = p.emulator.seedInvitation();
    const req = { catalog: inv.catalog, identifier: inv.identifier };
    const first = await p.producer.enqueue({ ...req, correlationId: "first" });
    // A different clientToken is a different payload for the same key: refused, naming the field.
    const second = p.producer.enqueue({ ...req, correlationId: "second", clientToken: "other-token" });
    await expect(second).rejects.toBeInstanceOf(IdempotencyConflictError);
    await expect(second).rejects.toMatchObject({
      code: "IDEMPOTENCY_CONFLICT",
      differences: ["clientToken"],
      existingJobId: first.jobId,
    });
    const [a, b] = await p.producer.enqueueMany([req, req]);
    expect(first.duplicate).toBe(false);
    for (const r of [a!, b!]) {
      expect(r).toMatchObject({
        duplicate: true,
        jobId: first.jobId,
        clientToken: first.clientToken,
        correlationId: "first",
      });
    }
    await p.startWorker();
    await waitForOutcomes(p.redis, p.prefix, 1);
    await new Promise((r) => setTimeout(r, 200));
    expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
    expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
  });

  it("does not call the API again or publish twice when a job whose outcome exists runs again", async () => {
    p = await startPipeline({ label: "redeliver" });
    const inv = p.emulator.seedInvitation();
    const { jobId } = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    await waitForOutcomes(p.redis, p.prefix, 1);
    // Simulate a redelivery: the same job id comes back although its outcome exists.
    const job = await p.producer.queue.getJob(jobId);
    await job!.retry("completed");
    await waitFor(
      async () => ((await p!.producer.queue.getJob(jobId))?.finishedOn ?? 0) > job!.finishedOn! || undefined,
    );
    expect((await p.producer.queue.getJob(jobId))!.returnvalue).toEqual({ end: "nothing", why: "already-published" });
    expect(await countOutcomes(p.redis, p.prefix)).toBe(1);
    expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
  });

  it("turns a malformed job written straight into Redis into an InvalidJob outcome and keeps working", async () => {
    p = await startPipeline({ label: "malformed" });
    const raw = new Queue("accept-invitation", { connection: p.redis, prefix: p.prefix });
    await raw.add(
      "accept",
      {
        v: 1,
        request: { catalog: "AWS", identifier: "nope", correlationId: "c-bad" },
        clientToken: "t",
        idempotencyKey: "k",
      },
      { jobId: "bad-1" },
    );
    await raw.add("accept", "not even an object", { jobId: "bad-2" });
    await raw.close();
    const inv = p.emulator.seedInvitation();
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const events = await waitForOutcomes(p.redis, p.prefix, 3);
    const bad = events.filter((e): e is FailedOutcome => e.type === "failed");
    expect(bad.map((e) => e.requestId).sort()).toEqual(["bad-1", "bad-2"]);
    for (const e of bad) expect(e.error).toMatchObject({ name: "InvalidJob", retryable: false, httpStatus: null });
    const b1 = bad.find((e) => e.requestId === "bad-1")!;
    expect(b1.correlationId).toBe("c-bad");
    expect(b1.error.message).toContain("request.identifier");
    expect(events.filter((e) => e.type === "accepted")).toHaveLength(1);
    expect(acceptCalls(p)).toHaveLength(1);
  });
});

describe("the shared rate limit in the worker", () => {
  it(
    "delays a retry over the retry budget instead of " + "failing it, and lets it through once the budget allows",
    async () => {
      p = await startPipeline({
        label: "budget",
        config: { RETRY_BUDGET_RATIO: 0, RETRY_BUDGET_MIN_PER_MINUTE: 0, RATE_LIMIT_MAX_WAIT_MS: 0 },
      });
      const inv = p.emulator.seedInvitation();
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: inv.identifier,
        times: 1,
        error: "InternalServerException",
      });
      const { jobId } = await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
      await p.startWorker();
      // First call fails (500); its retry is over a budget of 0 → the job waits, delayed, no call made.
      await waitFor(async () => (await p!.producer.queue.getJob(jobId))?.attemptsMade === 1 || undefined);
      await new Promise((r) => setTimeout(r, 400));
      expect(acceptCalls(p, inv.identifier)).toHaveLength(1);
      expect(await countOutcomes(p.redis, p.prefix)).toBe(0);
      expect(await (await p.producer.queue.getJob(jobId))!.getState()).toBe("delayed");
      // An operator opens the budget: the retry goes through, with the same attempt count.
      await createRedisRateLimiter({ redis: p.redis, prefix: p.prefix }).setLimits("default", {
        retryRatio: 1,
        retryMinPerMinute: 100,
      });
      const [e] = (await waitForOutcomes(p.redis, p.prefix, 1, { timeoutMs: 10_000 })) as AcceptedOutcome[];
      expect(e).toMatchObject({ type: "accepted", attempts: 2 });
    },
  );
});

describe("graceful shutdown with the shared rate limit", () => {
  it("puts jobs still waiting for a slot back in the queue instead of calling AWS after SIGTERM", async () => {
    p = await startPipeline({
      label: "stop-wait",
      config: { RATE_LIMIT_RPS: 1, RATE_LIMIT_BURST: 1, WORKER_CONCURRENCY: 5 },
    });
    const invs = p.emulator.seedInvitations(5);
    await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
    const w = await p.startWorker();
    await waitForOutcomes(p.redis, p.prefix, 1);
    const started = Date.now();
    await w.shutdown("test");
    expect(Date.now() - started).toBeLessThan(2000);
    const callsAtStop = p.emulator.calls({ operation: "AcceptConnectionInvitation" }).length;
    expect(callsAtStop).toBeLessThanOrEqual(2);
    const counts = await p.producer.queue.getJobCounts("waiting", "delayed", "active", "failed", "completed");
    expect(counts.failed).toBe(0);
    expect(counts.active).toBe(0);
    expect(counts.waiting! + counts.delayed! + counts.completed!).toBe(5);
    // Another worker finishes them: nothing was lost.
    await p.startWorker({ RATE_LIMIT_RPS: 1000, RATE_LIMIT_BURST: 1000 });
    await createRedisRateLimiter({ redis: p.redis, prefix: p.prefix }).setLimits("default", {
      rate: 1000,
      burst: 1000,
    });
    await waitForOutcomes(p.redis, p.prefix, 5, { timeoutMs: 10_000 });
  });
});
