import type { ClassifiedError } from "../aws/classify-error.js";
import type { OutcomeError, OutcomeEvent } from "../contracts/outcome.js";
import type { RunEnd } from "./run-end.js";

export interface AttemptContext {
  /** Failed attempts before this one (BullMQ attemptsMade). */
  attemptsMade: number;
  /** Allowed attempts (BullMQ job.opts.attempts). */
  maxAttempts: number;
  /** Times this job was already put back for throttling. */
  throttleRequeues: number;
  maxThrottleRequeues: number;
}

/**
 * How a run ends after a failed API call. Pure: `fail` builds the failed outcome of the request
 * from an error. A throttled job goes back without using an attempt (the shared limiter has
 * lowered the rate for everyone), but this is bounded: past maxThrottleRequeues a throttle is
 * treated like any transient error and uses up attempts, so no job loops forever.
 */
export function decide(
  error: ClassifiedError,
  ctx: AttemptContext,
  fail: (error: OutcomeError) => OutcomeEvent,
): RunEnd {
  // A fault of the worker (credentials, signature, clock) says nothing about the invitation: the
  // request must not fail for it, nor spend its attempts.
  if (error.kind === "fault") return { end: "later", why: "fault", delayMs: 0, error };
  if (error.kind === "terminal") return { end: "outcome", outcome: fail(toOutcomeError(error, false)) };
  if (error.kind === "throttle" && ctx.throttleRequeues < ctx.maxThrottleRequeues) {
    return { end: "later", why: "throttle", delayMs: error.retryAfterMs ?? 0, error };
  }
  if (ctx.attemptsMade + 1 < ctx.maxAttempts) return { end: "retry", error };
  return { end: "outcome", outcome: fail(retriesExhausted(error, ctx)) };
}

/** The failure of a request whose attempts ran out: RetriesExhausted, its reason the last error's name. */
export function retriesExhausted(error: ClassifiedError, ctx: AttemptContext): OutcomeError {
  return {
    ...toOutcomeError(error, true),
    name: "RetriesExhausted",
    reason: error.name,
    message:
      `gave up after ${ctx.attemptsMade + 1 + ctx.throttleRequeues} ` +
      `attempt(s); last error ${error.name}: ${error.message}`,
  };
}

export function toOutcomeError(error: ClassifiedError, retryable: boolean): OutcomeError {
  return {
    name: error.name,
    reason: error.reason,
    message: error.message,
    httpStatus: error.httpStatus,
    awsRequestId: error.awsRequestId,
    retryable,
    ...(error.details ? { details: error.details } : {}),
  };
}
