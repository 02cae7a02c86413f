import { describe, expect, it } from "vitest";
import { outcomeEventSchema } from "../../src/contracts/outcome.js";

const failed = {
  schemaVersion: 1,
  eventId: "3f079b74-1e16-5c9d-82d4-8e3b23a840f6",
  requestId: "AWS.pacinv-ABCDEFGHIJKLM.x",
  correlationId: "c",
  metadata: null,
  catalog: "AWS",
  identifier: "pacinv-ABCDEFGHIJKLM",
  clientToken: "t",
  attempts: 1,
  enqueuedAt: "2026-11-26T04:20:01.000Z",
  completedAt: "2026-11-26T04:20:02.000Z",
  type: "failed",
  error: {
    name: "AccessDeniedException",
    reason: "ACCESS_DENIED",
    message: "m",
    httpStatus: 403,
    awsRequestId: "r",
    retryable: false,
  },
};

describe("outcome event schema (version 1)", () => {
  it("reads an event written before `action` existed as an accept", () => {
    expect(outcomeEventSchema.parse(failed)).toMatchObject({ action: "accept" });
  });
  it("keeps fields it does not know, in the event and in its error: additive changes keep schemaVersion 1", () => {
    const later = { ...failed, action: "reject", somethingNew: { x: 1 }, error: { ...failed.error, hint: "h" } };
    const parsed = outcomeEventSchema.parse(later);
    expect(parsed).toMatchObject({ somethingNew: { x: 1 }, error: { hint: "h" } });
  });
});
