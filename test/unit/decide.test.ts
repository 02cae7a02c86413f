import { describe, expect, it } from "vitest";
import { decide as decideWith } from "../../src/consumer/decide.js";
import type { ClassifiedError } from "../../src/aws/classify-error.js";
import type { OutcomeError, OutcomeEvent } from "../../src/contracts/outcome.js";

/** decide() with a failed outcome that is just the error (the envelope is the run's, not decide's). */
const decide = (error: ClassifiedError, c: typeof ctx) =>
  decideWith(error, c, (e: OutcomeError) => ({ type: "failed", error: e }) as OutcomeEvent);
/** The end's kind: outcome (failed here), retry, later, nothing. */
const endOf = (error: ClassifiedError, c: typeof ctx) => decide(error, c).end;

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
    expect(decide(fault, ctx)).toEqual({ end: "later", why: "fault", delayMs: 0, error: fault });
    expect(decide(fault, { ...ctx, attemptsMade: 2 })).toEqual({
      end: "later",
      why: "fault",
      delayMs: 0,
      error: fault,
    });
  });
  it("fails terminal errors at once, not retryable", () => {
    const d = decide(err("terminal", { reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE", httpStatus: 409 }), ctx);
    expect(d).toMatchObject({
      end: "outcome",
      outcome: {
        type: "failed",
        error: { name: "ConflictException", reason: "INCOMPATIBLE_CONNECTION_INVITATION_STATE", retryable: false },
      },
    });
  });
  it("retries transient errors while attempts remain, then gives up with RetriesExhausted", () => {
    expect(endOf(err("transient"), ctx)).toBe("retry");
    expect(endOf(err("transient"), { ...ctx, attemptsMade: 1 })).toBe("retry");
    const last = decide(err("transient"), { ...ctx, attemptsMade: 2 });
    expect(last).toMatchObject({
      end: "outcome",
      outcome: { error: { name: "RetriesExhausted", reason: "InternalServerException", retryable: true } },
    });
  });
  it("puts a throttled job back at once (the shared rate has dropped), or after Retry-After", () => {
    expect(decide(err("throttle"), ctx)).toMatchObject({ end: "later", why: "throttle", delayMs: 0 });
    expect(decide(err("throttle", { retryAfterMs: 2500 }), ctx)).toMatchObject({
      end: "later",
      why: "throttle",
      delayMs: 2500,
    });
  });
  it("stops rate-limiting one job after maxThrottleRequeues: throttles then use attempts", () => {
    expect(endOf(err("throttle"), { ...ctx, throttleRequeues: 2 })).toBe("retry");
    expect(decide(err("throttle"), { ...ctx, throttleRequeues: 2, attemptsMade: 2 })).toMatchObject({
      end: "outcome",
      outcome: { error: { name: "RetriesExhausted", reason: "ThrottlingException" } },
    });
  });
  it("with a single attempt, a transient error fails at once", () => {
    expect(decide(err("transient"), { ...ctx, maxAttempts: 1 })).toMatchObject({ end: "outcome" });
  });
});
