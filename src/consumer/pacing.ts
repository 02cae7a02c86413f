import type { InvitationApi } from "../aws/invitation-api.js";
import { classifyError, type ClassifiedError } from "../aws/classify-error.js";
import type { SharedRateLimiter } from "../ratelimit/shared-rate-limiter.js";

/** How a worker's API calls are paced by the shared limit (see docs/rate-limits.md). */
export interface Pacing {
  limiter: SharedRateLimiter;
  /** The limit a call for this catalog counts against: RATE_LIMIT_KEY with `{catalog}` filled in. */
  keyFor(catalog: string): string;
  /** Longest wait for a slot while holding the job; past it the job is delayed instead. */
  maxWaitMs: number;
  /** Aborted when the worker shuts down: jobs still waiting for a slot go back, uncalled. */
  stopping?: AbortSignal;
}

export function limitKeyTemplate(template: string): (catalog: string) => string {
  return template.includes("{catalog}") ? (catalog) => template.replaceAll("{catalog}", catalog) : () => template;
}

/**
 * Tells the limiter what the API answered: throttles lower the shared rate (honouring
 * Retry-After), answers AWS processed (success or a 4xx) let it climb back; 5xx, network errors
 * and faults (credentials, signature: refused before AWS processed the call) say nothing about
 * the rate. Reporting never fails the job.
 */
export async function reportToLimiter(
  pacing: Pacing | undefined,
  key: string,
  error: ClassifiedError | null,
): Promise<void> {
  if (!pacing) return;
  try {
    if (error === null || error.kind === "terminal") await pacing.limiter.recordSuccess(key);
    else if (error.kind === "throttle") await pacing.limiter.recordThrottle(key, error.retryAfterMs);
  } catch {
    // The limiter is advisory here; the next call reports again.
  }
}

/**
 * The look-up calls of reconciliation, discovery and redrives count against the same AWS limit:
 * each waits for a slot (no maxWait: it can only end by admission or abort) and reports its answer.
 * The operations on an invitation (act) pass through: processJob paces them itself (with a bounded wait).
 */
export function pacedLookups(
  api: InvitationApi,
  pacing: Pacing | undefined,
  key: string,
  signal?: AbortSignal,
): InvitationApi {
  if (!pacing) return api;
  const paced =
    <A extends unknown[], R>(call: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      await pacing.limiter.acquire(key, signal ? { signal } : {});
      try {
        const result = await call(...args);
        await reportToLimiter(pacing, key, null);
        return result;
      } catch (err) {
        await reportToLimiter(pacing, key, classifyError(err));
        throw err;
      }
    };
  return {
    act: api.act.bind(api),
    getInvitation: paced(api.getInvitation.bind(api)),
    listInvitations: paced(api.listInvitations.bind(api)),
    getConnection: paced(api.getConnection.bind(api)),
    listConnections: paced(api.listConnections.bind(api)),
  };
}
