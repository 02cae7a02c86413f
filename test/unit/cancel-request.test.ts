/**
 * cancelRequest over the in-memory store: the cancel's promises without Redis
 * (test/integration/cancel.test.ts runs it against the Redis store, the worker and the emulator).
 */
import { describe, expect, it } from "vitest";
import { CancelUnsettledError, RequestNotCancelableError, RequestNotFoundError } from "../../src/errors/index.js";
import { cancelRequest } from "../../src/outcomes/cancel.js";
import { createProducerOn } from "../../src/producer/producer.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";
import { fakeApi } from "../helpers/fake-api.js";

const api = fakeApi();

async function waiting() {
  const store = createMemoryRequestStore();
  const r = await createProducerOn(store).enqueue({ catalog: "AWS", identifier: "pacinv-CANCELUNIT001" });
  return { store, jobId: r.jobId };
}

describe("cancelRequest (over the in-memory store)", () => {
  it("ends a waiting request with one canceled outcome, completes its record and removes its job", async () => {
    const { store, jobId } = await waiting();
    const outcome = await cancelRequest({ store, lookupsFor: () => api }, jobId, { reason: "by mistake" });
    expect(outcome).toMatchObject({ type: "canceled", requestId: jobId, reason: "by mistake", attempts: 0 });
    expect(store.outcomes.get(jobId)).toEqual(outcome);
    expect([...store.records.values()][0]!.state).toBe("completed");
    expect(store.jobs.has(jobId)).toBe(false);
    // Canceling again answers the same outcome.
    expect(await cancelRequest({ store, lookupsFor: () => api }, jobId)).toEqual(outcome);
  });

  it("refuses a request a run has taken, and one that is finished, naming the state", async () => {
    const { store, jobId } = await waiting();
    store.takeJob(jobId);
    await expect(cancelRequest({ store, lookupsFor: () => api }, jobId)).rejects.toMatchObject({ state: "active" });
    store.settleJob(jobId, "completed");
    const err = await cancelRequest({ store, lookupsFor: () => api }, jobId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestNotCancelableError);
    expect(store.outcomes.size).toBe(0);
  });

  it("an id with neither a job nor an outcome is not found", async () => {
    const { store } = await waiting();
    await expect(cancelRequest({ store, lookupsFor: () => api }, "AWS.pacinv-NOSUCHTHING01.x")).rejects.toBeInstanceOf(
      RequestNotFoundError,
    );
  });

  it("a request a run took before is read first: applied by AWS, it ends accepted, not canceled", async () => {
    const { store, jobId } = await waiting();
    // The first Accept reached AWS and was applied; its answer was lost; the job waits for its retry.
    store.takeJob(jobId);
    store.settleJob(jobId, "waiting");
    const applied = fakeApi();
    applied.setStatus("pacinv-CANCELUNIT001", "ACCEPTED");
    const err = await cancelRequest({ store, lookupsFor: () => applied }, jobId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestNotCancelableError);
    expect(err).toMatchObject({ state: "completed", outcome: { type: "accepted", alreadyAccepted: true } });
    expect(store.outcomes.get(jobId)).toMatchObject({ type: "accepted", alreadyAccepted: true });
    expect([...store.records.values()][0]!.state).toBe("completed");
    // Canceling again answers the same.
    await expect(cancelRequest({ store, lookupsFor: () => applied }, jobId)).rejects.toMatchObject({
      state: "completed",
    });
  });

  it("a started request whose invitation is still pending is canceled; one that cannot be read is not", async () => {
    const pending = await waiting();
    pending.store.takeJob(pending.jobId);
    pending.store.settleJob(pending.jobId, "waiting");
    const read = fakeApi();
    expect(await cancelRequest({ store: pending.store, lookupsFor: () => read }, pending.jobId)).toMatchObject({
      type: "canceled",
    });
    expect(read.calls.map((c) => c.operation)).toEqual(["GetConnectionInvitation"]);

    const unread = await waiting();
    unread.store.takeJob(unread.jobId);
    unread.store.settleJob(unread.jobId, "waiting");
    const failing = fakeApi();
    failing.script("GetConnectionInvitation", () => new Error("socket hang up"));
    await expect(
      cancelRequest({ store: unread.store, lookupsFor: () => failing }, unread.jobId),
    ).rejects.toBeInstanceOf(CancelUnsettledError);
    expect(unread.store.outcomes.size).toBe(0);
    expect(unread.store.jobs.has(unread.jobId)).toBe(true);
  });

  it("a request never taken is canceled without a read (nothing was sent to AWS)", async () => {
    const { store, jobId } = await waiting();
    const untouched = fakeApi();
    await cancelRequest({ store, lookupsFor: () => untouched }, jobId);
    expect(untouched.calls).toHaveLength(0);
  });

  it(
    "two cancels at once: the second, which read the job before the first " + "removed it, answers the same outcome",
    async () => {
      const { store, jobId } = await waiting();
      const seenBefore = await store.job(jobId);
      const first = await cancelRequest({ store, lookupsFor: () => api }, jobId);
      // The second cancel read the job while it was still there; by its publication it is gone.
      const second = { ...store, job: async () => seenBefore };
      expect(await cancelRequest({ store: second, lookupsFor: () => api }, jobId)).toEqual(first);
    },
  );
});
