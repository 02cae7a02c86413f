import type { JobsOptions } from "bullmq";

/** Retry and retention policy stored on each request job at enqueue time (BullMQ semantics). */
export interface RetryPolicy {
  /** API attempts, first call included. @defaultValue 6 */
  attempts: number;
  /** Exponential backoff base, ms. @defaultValue 1000 */
  backoffDelayMs: number;
  /** Jitter fraction 0-1. @defaultValue 0.5 */
  backoffJitter: number;
  /** Finished jobs are kept this long, s; duplicate detection lasts as long. @defaultValue 86400 */
  retentionSeconds: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  attempts: 6,
  backoffDelayMs: 1000,
  backoffJitter: 0.5,
  retentionSeconds: 86_400,
};

export function requestJobOptions(policy: RetryPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    backoff: { type: "exponential", delay: policy.backoffDelayMs, jitter: policy.backoffJitter },
    removeOnComplete: { age: policy.retentionSeconds },
    removeOnFail: { age: policy.retentionSeconds },
  };
}
