import { PcInvitationsError } from "../errors/index.js";
import type { RefusalReason } from "./shared-rate-limiter.js";

/**
 * `acquire` will not wait: a retry over the retry budget, or a wait longer than `maxWaitMs`
 * (typically a Retry-After). The caller should delay the job by `retryInMs`, not fail it.
 */
export class RateLimitedError extends PcInvitationsError {
  override readonly name = "RateLimitedError";
  readonly code = "RATE_LIMITED";
  readonly retryable = true;
  constructor(
    readonly limitKey: string,
    readonly reason: RefusalReason,
    readonly retryInMs: number,
  ) {
    super(`rate limit "${limitKey}": not admitted (${reason}); retry in ${retryInMs} ms`);
  }
}
