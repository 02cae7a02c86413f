/**
 * Backpressure for POSTs: refuse new work while the requests queue backlog is above a bound, or
 * while Redis does not answer. The backlog count is cached for `ttlMs` and concurrent checks share
 * one count in flight, so a busy API costs Redis at most one count per `ttlMs`, not one per request.
 * Failures are not cached: the next request asks again.
 */
export type GateVerdict =
  | { open: true }
  | { open: false; reason: "backlog"; backlog: number }
  | { open: false; reason: "redis-unavailable" };

export interface BacklogGateOptions {
  /** Jobs waiting to be processed (waiting + delayed + prioritized). Rejects when Redis is unreachable. */
  count: () => Promise<number>;
  max: number;
  ttlMs: number;
  now?: () => number;
}

export function createBacklogGate(options: BacklogGateOptions): { check(): Promise<GateVerdict> } {
  const now = options.now ?? Date.now;
  let cached: { value: number; expires: number } | undefined;
  let inFlight: Promise<number> | undefined;

  async function backlog(): Promise<number> {
    if (cached && cached.expires > now()) return cached.value;
    inFlight ??= options.count().then(
      (value) => {
        cached = { value, expires: now() + options.ttlMs };
        inFlight = undefined;
        return value;
      },
      (err: unknown) => {
        inFlight = undefined;
        throw err;
      },
    );
    return inFlight;
  }

  return {
    async check() {
      let value: number;
      try {
        value = await backlog();
      } catch {
        return { open: false, reason: "redis-unavailable" };
      }
      return value > options.max ? { open: false, reason: "backlog", backlog: value } : { open: true };
    },
  };
}
