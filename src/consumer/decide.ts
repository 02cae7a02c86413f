import type { ClassifiedError } from "../aws/classify-error.js";
import type { OutcomeError } from "../schemas/outcome.js";

export interface AttemptContext {
  /** Failed attempts before this one (BullMQ attemptsMade). */
  attemptsMade: number;
  /** Allowed attempts (BullMQ job.opts.attempts). */
  maxAttempts: number;
  /** Times this job was already put back for throttling. */
  throttleRequeues: number;
  maxThrottleRequeues: number;
}

export type Decision =
  /** Publish a `failed` outcome with this error; the job is finished. */
  | { action: "fail"; error: OutcomeError }
  /** Throw so BullMQ retries this job after its exponential backoff. */
  | { action: "retry"; error: ClassifiedError }
  /** Put this job back after delayMs (AWS's Retry-After, else at once: the shared rate has dropped) without using an
   * attempt. */
  | { action: "rate-limit"; delayMs: number; error: ClassifiedError }
  /** The worker cannot authenticate its calls: put the job back without using an attempt and pause the work. */
  | { action: "pause"; error: ClassifiedError };

/**
 * What to do after a failed API call. Pure. A throttled job goes back without using an attempt
 * (the shared limiter has lowered the rate for everyone), but this is bounded: past
 * maxThrottleRequeues a throttle is treated like any transient error and uses up attempts, so
 * no job loops forever.
 */
export function decide(error: ClassifiedError, ctx: AttemptContext): Decision {
  // A fault of the worker (credentials, signature, clock) says nothing about the invitation: the
  // request must not fail for it, nor spend its attempts.
  if (error.kind === "fault") return { action: "pause", error };
  if (error.kind === "terminal") return { action: "fail", error: toOutcomeError(error, false) };
  if (error.kind === "throttle" && ctx.throttleRequeues < ctx.maxThrottleRequeues) {
    return { action: "rate-limit", delayMs: error.retryAfterMs ?? 0, error };
  }
  if (ctx.attemptsMade + 1 < ctx.maxAttempts) return { action: "retry", error };
  return {
    action: "fail",
    error: {
      ...toOutcomeError(error, true),
      name: "RetriesExhausted",
      reason: error.name,
      message:
        `gave up after ${ctx.attemptsMade + 1 + ctx.throttleRequeues} ` +
        `attempt(s); last error ${error.name}: ${error.message}`,
    },
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
