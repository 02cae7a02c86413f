import type { SettleResult } from "../store/webhook-store.js";
import type { PostResult } from "./post-webhook.js";

/** Retry-After is honoured up to this long; longer asks wait this long. */
export const MAX_RETRY_AFTER_MS = 86_400_000;

/**
 * How an attempt ends (pure): 2xx delivered; 410 gone (the endpoint is disabled); anything else
 * (another status, a 3xx: redirects are not followed, no answer, a refused destination) is tried
 * again after `schedule[attempt - 1]`, or after the answer's Retry-After when that is later, until
 * the schedule is spent: failed.
 */
export function decideAttempt(
  result: PostResult,
  attempt: number,
  schedule: readonly number[],
  nowMs: number,
): SettleResult {
  if (result.kind === "answer" && result.status >= 200 && result.status < 300) return { result: "delivered" };
  if (result.kind === "answer" && result.status === 410) return { result: "gone" };
  const delay = schedule[attempt - 1];
  if (delay === undefined) return { result: "failed" };
  const retryAfter = result.kind === "answer" ? result.retryAfterMs : null;
  const wait = retryAfter === null ? delay : Math.max(delay, Math.min(retryAfter, MAX_RETRY_AFTER_MS));
  return { result: "retry", nextAtMs: nowMs + wait };
}
