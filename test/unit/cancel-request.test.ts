/**
 * cancelRequest over the in-memory store: the cancel's promises without Redis
 * (test/integration/cancel.test.ts runs it against the Redis store, the worker and the emulator).
 */
import { describe, expect, it } from "vitest";
import { RequestNotCancelableError, RequestNotFoundError } from "../../src/errors/index.js";
import { cancelRequest } from "../../src/outcomes/cancel.js";
import { createProducerOn } from "../../src/producer/producer.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";

async function waiting() {
  const store = createMemoryRequestStore();
  const r = await createProducerOn(store).enqueue({ catalog: "AWS", identifier: "pacinv-CANCELUNIT001" });
  return { store, jobId: r.jobId };
}

describe("cancelRequest (over the in-memory store)", () => {
  it("ends a waiting request with one canceled outcome, completes its record and removes its job", async () => {
    const { store, jobId } = await waiting();
    const outcome = await cancelRequest({ store }, jobId, { reason: "by mistake" });
    expect(outcome).toMatchObject({ type: "canceled", requestId: jobId, reason: "by mistake", attempts: 0 });
    expect(store.outcomes.get(jobId)).toEqual(outcome);
    expect([...store.records.values()][0]!.state).toBe("completed");
    expect(store.jobs.has(jobId)).toBe(false);
    // Canceling again answers the same outcome.
    expect(await cancelRequest({ store }, jobId)).toEqual(outcome);
  });

  it("refuses a request a run has taken, and one that is finished, naming the state", async () => {
    const { store, jobId } = await waiting();
    store.takeJob(jobId);
    await expect(cancelRequest({ store }, jobId)).rejects.toMatchObject({ state: "active" });
    store.settleJob(jobId, "completed");
    const err = await cancelRequest({ store }, jobId).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RequestNotCancelableError);
    expect(store.outcomes.size).toBe(0);
  });

  it("an id with neither a job nor an outcome is not found", async () => {
    const { store } = await waiting();
    await expect(cancelRequest({ store }, "AWS.pacinv-NOSUCHTHING01.x")).rejects.toBeInstanceOf(RequestNotFoundError);
  });
});
