/**
 * processJob, the run of one request, on the in-memory store and a fake API: every way a run ends
 * (run-end.ts), without Redis. The same run against real Redis, the emulator and the SDK is in
 * test/integration (pipeline, reject, redrive, reconcile-as-aws-may, worker-faults…).
 */
import { describe, expect, it } from "vitest";
import { finishAbandonedJob, processJob, type JobView } from "../../src/consumer/process-job.js";
import { sweepOnce } from "../../src/consumer/sweep.js";
import { createProducerOn } from "../../src/producer/producer.js";
import { createMemoryRequestStore, type MemoryRequestStore } from "../../src/store/memory-request-store.js";
import { awsError, connectionReset, fakeApi, type FakeApi } from "../helpers/fake-api.js";

const ID = "pacinv-UNITTEST00001";

async function setup(request: Record<string, unknown> = {}, maxAttempts = 3) {
  const store = createMemoryRequestStore();
  const api = fakeApi();
  const [submitted] = await createProducerOn(store).enqueueMany([{ catalog: "AWS", identifier: ID, ...request }]);
  const jobId = submitted!.jobId;
  /** One run, as the worker would start it: the job taken (its fence), then processJob. */
  const run = (attemptsMade = 0, extra: Partial<JobView> = {}) => {
    const token = store.takeJob(jobId);
    const view: JobView = { id: jobId, data: store.jobs.get(jobId)!.data, attemptsMade, maxAttempts, token, ...extra };
    return processJob(view, { api, store, maxThrottleRequeues: 2 });
  };
  return { store, api, jobId, run };
}
const accepts = (api: FakeApi) => api.calls.filter((c) => c.operation === "AcceptConnectionInvitation");
const recordOf = (store: MemoryRequestStore) => [...store.records.values()][0]!;

describe("processJob (on the in-memory store)", () => {
  it("accepts: one call with the job's ClientToken, one accepted outcome published, the record completed", async () => {
    const { store, api, jobId, run } = await setup();
    const end = await run();
    expect(end).toMatchObject({ end: "outcome", outcome: { type: "accepted", alreadyAccepted: false, attempts: 1 } });
    expect(accepts(api)).toHaveLength(1);
    expect(accepts(api)[0]!.input.ClientToken).toBe(recordOf(store).clientToken);
    expect(store.outcomes.get(jobId)?.type).toBe("accepted");
    expect(recordOf(store).state).toBe("completed");
  });

  it("rejects with the request's reason: the reject operation's call and outcome", async () => {
    const { store, api, jobId, run } = await setup({ action: "reject", reason: "not a fit" });
    expect(await run()).toMatchObject({ end: "outcome", outcome: { type: "rejected", rejectReason: "not a fit" } });
    expect(api.calls[0]).toMatchObject({ operation: "RejectConnectionInvitation", input: { Reason: "not a fit" } });
    expect(store.outcomes.get(jobId)?.type).toBe("rejected");
  });

  it("a redelivered job whose outcome exists: nothing called, nothing published", async () => {
    const { api, run } = await setup();
    await run();
    expect(await run()).toEqual({ end: "nothing", why: "already-published" });
    expect(accepts(api)).toHaveLength(1);
  });

  it("a run that lost its lock publishes nothing (fenced), whatever it learnt", async () => {
    const { store, jobId, run } = await setup();
    const token = store.takeJob(jobId);
    store.loseLock(jobId);
    const end = await run(0, { token });
    expect(end).toMatchObject({ end: "nothing", why: "fenced", outcome: { type: "accepted" } });
    expect(store.outcomes.size).toBe(0);
    expect(recordOf(store).state).not.toBe("completed");
  });

  it("a job whose data broke is rebuilt from its record: the request ends as if nothing happened", async () => {
    const { store, api, jobId, run } = await setup();
    store.plantJob({ id: jobId, data: { v: 1, request: { catalog: "AWS" } } });
    expect(await run()).toMatchObject({ end: "outcome", outcome: { type: "accepted", identifier: ID } });
    expect(accepts(api)).toHaveLength(1);
    expect(store.jobs.get(jobId)?.data).toMatchObject({ request: { catalog: "AWS", identifier: ID } });
    expect(recordOf(store).state).toBe("completed");
  });

  it("a job whose data broke and that has no record ends InvalidJob without a call", async () => {
    const { store, api, run } = await setup();
    const orphan = "AWS.pacinv-NORECORD00001.x1";
    store.plantJob({ id: orphan, data: { v: 1, request: { catalog: "AWS" } } });
    const token = store.takeJob(orphan);
    expect(await run(0, { id: orphan, data: store.jobs.get(orphan)!.data, token })).toMatchObject({
      end: "outcome",
      outcome: { type: "failed", error: { name: "InvalidJob" } },
    });
    expect(api.calls).toHaveLength(0);
  });

  it("a job whose id cannot carry an outcome is never sent", async () => {
    const { api, run } = await setup();
    expect(await run(0, { id: "42" })).toEqual({ end: "nothing", why: "not-a-request" });
    expect(api.calls).toHaveLength(0);
  });

  it(
    "transient errors: retried while attempts remain; a " + "fault goes back later without failing; a throttle too",
    async () => {
      const { api, run } = await setup();
      api.script("AcceptConnectionInvitation", () => awsError("InternalServerException", 500));
      expect(await run()).toMatchObject({ end: "retry", error: { kind: "transient" } });
      api.script("AcceptConnectionInvitation", () => awsError("ExpiredTokenException", 403));
      expect(await run(1)).toMatchObject({ end: "later", why: "fault" });
      api.script("AcceptConnectionInvitation", () => awsError("ThrottlingException", 400));
      expect(await run(1)).toMatchObject({ end: "later", why: "throttle", delayMs: 0 });
    },
  );

  it("a conflict is settled by reading: an invitation accepted meanwhile is accepted (alreadyAccepted)", async () => {
    const { api, run } = await setup();
    api.setStatus(ID, "ACCEPTED");
    expect(await run()).toMatchObject({ end: "outcome", outcome: { type: "accepted", alreadyAccepted: true } });
    expect(api.calls.map((c) => c.operation)).toEqual([
      "AcceptConnectionInvitation",
      "GetConnectionInvitation",
      "GetConnection",
    ]);
  });

  it("a conflict on an invitation in a final status fails naming it", async () => {
    const { api, run } = await setup();
    api.setStatus(ID, "EXPIRED");
    expect(await run()).toMatchObject({
      end: "outcome",
      outcome: { type: "failed", error: { name: "ConflictException", invitationStatus: "EXPIRED" } },
    });
  });

  it("out of attempts after answers that were lost: read first, and an applied accept is accepted", async () => {
    const { api, run } = await setup({}, 1);
    api.script("AcceptConnectionInvitation", connectionReset, { applied: true });
    expect(await run()).toMatchObject({ end: "outcome", outcome: { type: "accepted", alreadyAccepted: true } });
  });

  it(
    "out of attempts after lost answers, and the read " + "refused for the worker's own fault: later, no outcome",
    async () => {
      const { store, api, run } = await setup({}, 1);
      api.script("AcceptConnectionInvitation", connectionReset);
      api.script("GetConnectionInvitation", () => awsError("ExpiredTokenException", 403));
      expect(await run()).toMatchObject({ end: "later", why: "fault" });
      expect(store.outcomes.size).toBe(0);
    },
  );

  it("out of attempts after a call that never left (connection refused): RetriesExhausted, no read", async () => {
    const { api, run } = await setup({}, 1);
    const refused = () => Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:1"), { code: "ECONNREFUSED" });
    api.script("AcceptConnectionInvitation", refused);
    expect(await run()).toMatchObject({
      end: "outcome",
      outcome: { type: "failed", error: { name: "RetriesExhausted", reason: "NetworkError" } },
    });
    expect(api.calls.map((c) => c.operation)).toEqual(["AcceptConnectionInvitation"]);
  });

  it("a redrive reads first: an invitation accepted meanwhile is accepted without a call of its own", async () => {
    const store = createMemoryRequestStore();
    const api = fakeApi();
    const [redrive] = await createProducerOn(store).enqueueRedrives([
      { request: { catalog: "AWS", identifier: ID }, redriveOf: "AWS.pacinv-UNITTEST00001.old" },
    ]);
    api.setStatus(ID, "ACCEPTED");
    const token = store.takeJob(redrive!.jobId);
    const view = {
      id: redrive!.jobId,
      data: store.jobs.get(redrive!.jobId)!.data,
      attemptsMade: 0,
      maxAttempts: 3,
      token,
    };
    expect(await processJob(view, { api, store, maxThrottleRequeues: 2 })).toMatchObject({
      end: "outcome",
      outcome: { type: "accepted", alreadyAccepted: true, attempts: 0, redriveOf: "AWS.pacinv-UNITTEST00001.old" },
    });
    expect(accepts(api)).toHaveLength(0);
  });

  describe("a job BullMQ gave up on (it lost its worker too often)", () => {
    /** The job taken and failed by the queue without an outcome, as BullMQ does past MAX_STALLED_COUNT. */
    async function abandoned() {
      const ctx = await setup();
      ctx.store.takeJob(ctx.jobId);
      ctx.store.settleJob(ctx.jobId, "failed", 0);
      const view: JobView = {
        id: ctx.jobId,
        data: ctx.store.jobs.get(ctx.jobId)!.data,
        attemptsMade: 1,
        maxAttempts: 3,
      };
      const finishAbandoned = () =>
        finishAbandonedJob(view, "job stalled more than allowable limit", {
          api: ctx.api,
          store: ctx.store,
          maxThrottleRequeues: 2,
        });
      const sweep = () =>
        sweepOnce(
          { store: ctx.store, lookupsFor: () => ctx.api },
          { graceMs: 0, batch: 10, maxRevivals: 3, failedSinceMs: 0 },
        );
      return { ...ctx, finishAbandoned, sweep };
    }

    it("found accepted: the lost run's call was applied, and it is the outcome", async () => {
      const { store, api, jobId, finishAbandoned } = await abandoned();
      api.setStatus(ID, "ACCEPTED");
      expect(await finishAbandoned()).toMatchObject({
        end: "outcome",
        outcome: { type: "accepted", alreadyAccepted: true },
      });
      expect(store.outcomes.get(jobId)?.type).toBe("accepted");
    });

    it(
      "found still pending: nothing is reported, since a lost run's call may land after the read; " +
        "the sweeper then ends it with what AWS did",
      async () => {
        const { store, api, jobId, finishAbandoned, sweep } = await abandoned();
        expect(await finishAbandoned()).toEqual({ end: "nothing", why: "unsettled" });
        expect(store.outcomes.size).toBe(0);
        expect(recordOf(store).state).not.toBe("completed");
        // The lost run's Accept reaches AWS after the read (a stalled worker's request was not over).
        api.setStatus(ID, "ACCEPTED");
        expect(await sweep()).toMatchObject({ finished: 1 });
        expect(store.outcomes.get(jobId)).toMatchObject({ type: "accepted", alreadyAccepted: true });
        expect(recordOf(store).state).toBe("completed");
      },
    );

    it("found still pending, and still pending at the sweep: the job comes back with its ClientToken", async () => {
      const { store, jobId, finishAbandoned, sweep } = await abandoned();
      expect(await finishAbandoned()).toEqual({ end: "nothing", why: "unsettled" });
      expect(await sweep()).toMatchObject({ revived: 1 });
      expect(store.jobs.get(jobId)?.state).toBe("waiting");
      expect(store.outcomes.size).toBe(0);
    });

    it("the read fails for a passing reason: nothing reported either, the sweeper reads again", async () => {
      const { store, api, finishAbandoned } = await abandoned();
      api.script("GetConnectionInvitation", () => awsError("InternalServerException", 500));
      expect(await finishAbandoned()).toEqual({ end: "nothing", why: "unsettled" });
      expect(store.outcomes.size).toBe(0);
    });

    it("found in a final status: failed WorkerLost naming it", async () => {
      const { store, api, jobId, finishAbandoned } = await abandoned();
      api.setStatus(ID, "EXPIRED");
      await finishAbandoned();
      expect(store.outcomes.get(jobId)).toMatchObject({
        type: "failed",
        error: { name: "RetriesExhausted", reason: "WorkerLost", invitationStatus: "EXPIRED" },
      });
    });
  });
});
