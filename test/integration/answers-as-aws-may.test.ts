/**
 * The worker against the answers AWS's model allows but our emulator does not give by default
 * (its switches, docs/emulator.md), through the real SDK over HTTP: whatever the spelling of an
 * error, the request ends as it should.
 */
import { afterEach, describe, expect, it } from "vitest";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("answers as AWS may give them", () => {
  it.each([
    ["error type only in the x-amzn-ErrorType header", { errorTypeLocation: "header" }],
    ["a coral-style namespaced __type", { errorTypeFormat: "coral" }],
    ["another namespace in __type", { errorNamespace: "com.amazonaws.partnercentral" }],
  ])("a Conflict for an accepted invitation, %s: accepted", async (_what, switches) => {
    p = await startPipeline({
      label: "spelling",
      emulator: { ...switches, stateConflictReason: { ACCEPTED: "DUPLICATE_CONNECTION" } } as never,
    });
    const inv = p.emulator.seedInvitation({ status: "ACCEPTED" });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({ type: "accepted", alreadyAccepted: true, attempts: 1 });
  });

  it("a 5xx with an empty body is retried (same token) and accepted", async () => {
    p = await startPipeline({ label: "empty5xx", emulator: { emptyServerErrorBodies: true } as never });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 1,
      error: "InternalServerException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(event).toMatchObject({ type: "accepted", attempts: 2 });
  });

  it("throttling answered with HTTP 400 is a throttle: the job goes back without using an attempt", async () => {
    p = await startPipeline({ label: "throttle400", emulator: { throttleStatus: 400 } as never });
    const inv = p.emulator.seedInvitation();
    p.emulator.script({
      operation: "AcceptConnectionInvitation",
      identifier: inv.identifier,
      times: 2,
      error: "ThrottlingException",
    });
    await p.producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
    await p.startWorker();
    const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
    expect(p.emulator.calls({ operation: "AcceptConnectionInvitation" }).map((c) => c.status)).toEqual([400, 400, 200]);
    // Two throttles requeued without using an attempt, then the call that went through.
    expect(event).toMatchObject({ type: "accepted", attempts: 3 });
    // BullMQ counted one attempt only: the run that went through.
    const job = await p.producer.queue.getJob(event!.requestId);
    expect(job!.attemptsMade).toBe(1);
  });

  it(
    "rate throttles carrying Retry-After are honoured: no call " +
      "reaches AWS before it has passed, and every request is accepted",
    async () => {
      const retryAfterMs = 1000;
      p = await startPipeline({
        label: "ratethrottle",
        emulator: { throttleAboveRps: 3, throttleRetryAfterSeconds: retryAfterMs / 1000 } as never,
      });
      const invs = p.emulator.seedInvitations(12);
      await p.producer.enqueueMany(invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })));
      // One call at a time: each call after a throttled one was admitted after the worker had the
      // throttle's answer, so its arrival at the emulator can be held against the throttle's.
      await p.startWorker({
        WORKER_CONCURRENCY: 1,
        RATE_LIMIT_RPS: 50,
        RATE_LIMIT_BURST: 10,
        MAX_THROTTLE_REQUEUES: 100,
      });
      const events = await waitForOutcomes(p.redis, p.prefix, 12, { timeoutMs: 60_000 });
      expect(events.every((e) => e.type === "accepted")).toBe(true);
      const calls = p.emulator.calls();
      const throttled = calls.filter((c) => c.errorType === "ThrottlingException");
      expect(throttled.length).toBeGreaterThan(0);
      // The emulator's own arrival times: the first call after each throttle came Retry-After later or more.
      const tooSoon = throttled
        .map((t) => ({ throttledAt: t.at, next: calls.find((c) => c.seq > t.seq) }))
        .filter(({ throttledAt, next }) => next !== undefined && next.at < throttledAt + retryAfterMs)
        .map(({ throttledAt, next }) => ({ throttledAt, nextAt: next!.at, gapMs: next!.at - throttledAt }));
      expect(tooSoon).toEqual([]);
      expect(throttled.every((t) => calls.some((c) => c.seq > t.seq))).toBe(true);
    },
  );
});
