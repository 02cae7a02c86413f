import { describe, expect, it } from "vitest";
import { decide } from "../../src/consumer/decide.js";
import type { ClassifiedError } from "../../src/aws/classify-error.js";

const err = (kind: ClassifiedError["kind"], extra: Partial<ClassifiedError> = {}): ClassifiedError => ({
  name:
    kind === "throttle"
      ? "ThrottlingException"
      : kind === "transient"
        ? "InternalServerException"
        : "ConflictException",
  kind,
  reason: null,
  message: "m",
  httpStatus: 500,
  awsRequestId: "r",
  retryAfterMs: null,
  indeterminate: false,
  ...extra,
});
const ctx = { attemptsMade: 0, maxAttempts: 3, throttleRequeues: 0, maxThrottleRequeues: 2 };

describe("decide", () => {
  it("pauses on a fault of the worker (credentials, signature), whatever the attempts, never fails the request", () => {
    const fault = err("fault", { name: "ExpiredTokenException", httpStatus: 403 });
    expect(decide(fault, ctx)).toEqual({ action: "pause", error: fault });
    expect(decide(fault, { ...ctx, attemptsMade: 2 })).toEqual({ action: "pause", error: fault });
  });
  it("fails terminal errors at once, not retryable", () => {
    const d = decide(err("terminal", { reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE", httpStatus: 409 }), ctx);
    expect(d).toMatchObject({
      action: "fail",
      error: { name: "ConflictException", reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE", retryable: false },
    });
  });
  it("retries transient errors while attempts remain, then gives up with RetriesExhausted", () => {
    expect(decide(err("transient"), ctx).action).toBe("retry");
    expect(decide(err("transient"), { ...ctx, attemptsMade: 1 }).action).toBe("retry");
    const last = decide(err("transient"), { ...ctx, attemptsMade: 2 });
    expect(last).toMatchObject({
      action: "fail",
      error: { name: "RetriesExhausted", reason: "InternalServerException", retryable: true },
    });
  });
  it("puts a throttled job back at once (the shared rate has dropped), or after Retry-After", () => {
    expect(decide(err("throttle"), ctx)).toMatchObject({ action: "rate-limit", delayMs: 0 });
    expect(decide(err("throttle", { retryAfterMs: 2500 }), ctx)).toMatchObject({ action: "rate-limit", delayMs: 2500 });
  });
  it("stops rate-limiting one job after maxThrottleRequeues: throttles then use attempts", () => {
    expect(decide(err("throttle"), { ...ctx, throttleRequeues: 2 }).action).toBe("retry");
    expect(decide(err("throttle"), { ...ctx, throttleRequeues: 2, attemptsMade: 2 })).toMatchObject({
      action: "fail",
      error: { name: "RetriesExhausted", reason: "ThrottlingException" },
    });
  });
  it("with a single attempt, a transient error fails at once", () => {
    expect(decide(err("transient"), { ...ctx, maxAttempts: 1 }).action).toBe("fail");
  });
});
