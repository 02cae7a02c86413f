import { describe, expect, it } from "vitest";
import { nextFailedCursor, sweepOnce, type SweepPorts } from "../../src/consumer/sweep.js";
import type { OutcomeEvent } from "../../src/schemas/outcome.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";

/** The in-memory store with failed jobs whose data breaks the schema (each gets an InvalidJob outcome). */
function ports(failed: Array<{ jobId: string }>, publishFails: Set<string>) {
  const store = createMemoryRequestStore({ now: () => 1_000_000 });
  failed.forEach((f, i) => {
    store.plantJob({ id: f.jobId, data: { broken: true }, state: "failed", finishedOn: 10_000 + i * 1000 });
  });
  const published: string[] = [];
  const p: SweepPorts = {
    store: {
      ...store,
      publish: async (event: OutcomeEvent, options) => {
        if (publishFails.has(event.requestId)) throw new Error(`cannot write ${event.requestId}`);
        published.push(event.requestId);
        return store.publish(event, options);
      },
    },
    lookupsFor: () => {
      throw new Error("no look-up expected");
    },
    now: () => new Date(1_000_000),
  };
  return { p, published };
}

describe("sweepOnce (pure orchestration over its ports)", () => {
  it("goes on past a request it cannot finish, says which and why, and leaves it for the next sweep", async () => {
    const { p, published } = ports(
      [{ jobId: "AWS.a.1" }, { jobId: "AWS.b.1" }, { jobId: "AWS.c.1" }],
      new Set(["AWS.a.1"]),
    );
    const report = await sweepOnce(p, { graceMs: 0, batch: 10, maxRevivals: 3, failedSinceMs: 0 });
    expect(published).toEqual(["AWS.b.1", "AWS.c.1"]);
    expect(report).toMatchObject({
      failedJobsChecked: 3,
      finished: 2,
      deferred: 1,
      errors: [{ jobId: "AWS.a.1", message: "cannot write AWS.a.1" }],
    });
    // The next sweep reads failed jobs from before the one left over (it has no record: no other way finds it).
    expect(report.retryFailedFrom).toBe(10_000);
    expect(nextFailedCursor(900_000, report, 500)).toBe(10_500);
  });

  it("moves the failed-jobs cursor to the sweep's start when nothing was left over", async () => {
    const { p } = ports([{ jobId: "AWS.a.1" }], new Set());
    const report = await sweepOnce(p, { graceMs: 0, batch: 10, maxRevivals: 3, failedSinceMs: 0 });
    expect(report.retryFailedFrom).toBeUndefined();
    expect(nextFailedCursor(900_000, report, 500)).toBe(900_000);
  });

  it(
    "leaves alone a failed job whose id cannot carry an " + "outcome (a number): no outcome can be stored under it",
    async () => {
      const { p, published } = ports([{ jobId: "21" }, { jobId: "AWS.b.1" }], new Set());
      const report = await sweepOnce(p, { graceMs: 0, batch: 10, maxRevivals: 3, failedSinceMs: 0 });
      expect(published).toEqual(["AWS.b.1"]);
      expect(report).toMatchObject({ failedJobsChecked: 2, notRequests: 1, finished: 1 });
      expect(report.errors).toBeUndefined();
    },
  );
});
