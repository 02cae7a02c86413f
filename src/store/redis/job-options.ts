import type { JobsOptions } from "bullmq";
import { CONFIG_DEFAULTS, type Config } from "../../schemas/config.js";

/** The BullMQ job name of a request. */
export const REQUEST_JOB_NAME = "accept";

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

export function retryPolicyFrom(
  config: Pick<Config, "JOB_ATTEMPTS" | "BACKOFF_DELAY_MS" | "BACKOFF_JITTER" | "RETENTION_SECONDS">,
): RetryPolicy {
  return {
    attempts: config.JOB_ATTEMPTS,
    backoffDelayMs: config.BACKOFF_DELAY_MS,
    backoffJitter: config.BACKOFF_JITTER,
    retentionSeconds: config.RETENTION_SECONDS,
  };
}

/** JOB_ATTEMPTS, BACKOFF_DELAY_MS, BACKOFF_JITTER and RETENTION_SECONDS left unset. */
export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze(retryPolicyFrom(CONFIG_DEFAULTS));

export function requestJobOptions(policy: RetryPolicy): JobsOptions {
  return {
    attempts: policy.attempts,
    backoff: { type: "exponential", delay: policy.backoffDelayMs, jitter: policy.backoffJitter },
    removeOnComplete: { age: policy.retentionSeconds },
    removeOnFail: { age: policy.retentionSeconds },
  };
}
