/**
 * Redis refusing a command for a reason of its own state, not of the command: full
 * (`maxmemory` with noeviction), a replica, loading its data set, failing to persist, a busy
 * script, a cluster slot moving. Such a refusal passes: the work must wait for it, never count it
 * as a failed attempt at the API. (A lost connection does not throw here: BullMQ's connections
 * queue commands until Redis is back.)
 */
const REFUSALS = /^(OOM|EXECABORT|READONLY|LOADING|MISCONF|NOREPLICAS|MASTERDOWN|BUSY|CLUSTERDOWN|TRYAGAIN)\b/;

export function isRedisRefusal(err: unknown): boolean {
  for (let cur: unknown = err, depth = 0; cur && typeof cur === "object" && depth < 5; depth++) {
    const e = cur as { name?: unknown; message?: unknown; cause?: unknown };
    if (e.name === "ReplyError" && typeof e.message === "string" && REFUSALS.test(e.message)) return true;
    cur = e.cause;
  }
  return false;
}

/** Whether Redis refuses writes because it is full (OOM, or a MULTI discarded for it). */
export function isRedisFull(err: unknown): boolean {
  return isRedisRefusal(err) && /^(OOM|EXECABORT)/.test(String((err as { message?: unknown }).message ?? ""));
}
