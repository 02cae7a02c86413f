import { describe, expect, it } from "vitest";
import { requestJobResultEventId } from "../../src/consumer/run-end.js";
import { outcomeEventId } from "../../src/request-record/identity.js";

describe("a request job's result", () => {
  it("gives the outcome's eventId derived from the job id when the result does not store it", () => {
    const jobId = "pci.catalog.AWS.inv-1.abc";
    expect(requestJobResultEventId(jobId, { end: "outcome", type: "accepted" })).toBe(outcomeEventId(jobId));
  });
  it("keeps the eventId a job finished by an older release stored", () => {
    expect(requestJobResultEventId("j", { end: "outcome", type: "accepted", eventId: "e-1" })).toBe("e-1");
  });
  it("has none when the run published nothing", () => {
    expect(requestJobResultEventId("j", { end: "nothing", why: "already-published" })).toBeUndefined();
  });
});
