import type { RateLimitState, SharedRateLimiter } from "../ratelimit/shared-rate-limiter.js";
import type { ObserveStore, WorkerPresence, WorkerRegistry } from "./request-store.js";

/**
 * The status read model: one screen of what an operator needs, read from the store's port and the
 * shared rate limiter, writing nothing. `pc-invitations status`, `GET /v1/status` and the
 * console's overview show this same report (docs/operations.md explains each figure).
 */
export interface StatusReport {
  /** ISO-8601 time of the read. */
  at: string;
  /** The requests queue is paused for every worker (BullMQ's queue-wide pause): nothing is taken. */
  queuePaused: boolean;
  /** Requests still to be run: `total` = waiting + prioritized + delayed + active. */
  backlog: { total: number; waiting: number; prioritized: number; delayed: number; active: number };
  /** The next request a worker takes (the oldest of the waiting list) and how long ago it was enqueued. */
  oldestWaiting: { id: string; enqueuedAt: string; ageMs: number } | null;
  /** Finished request jobs still kept (RETENTION_SECONDS), and failed ones that have no outcome event. */
  finished: {
    completed: number;
    failed: number;
    /**
     * Among the newest `checked` failed jobs (at most STATUS_FAILED_CHECKED), those without an
     * outcome event: abandoned jobs the sweeper has not finished yet. `ids`: the first 10.
     */
    withoutOutcome: { count: number; checked: number; ids: string[] };
  };
  /** The shared rate limits the fleet's calls count against, and their sums. */
  rate: {
    /** Calls admitted per second, averaged over the last minute (all limits). */
    admittedPerSecond: number;
    /** The limits' current adaptive rates, calls/s, summed: what the fleet may call now. */
    limit: number;
    /** The limits' configured rates (the adaptive ceiling), calls/s, summed. */
    ceiling: number;
    limits: LimitStatus[];
  };
  /** How long the backlog takes to drain (see drainEstimate). */
  drain: DrainEstimate;
  workers: {
    /** Workers whose beat is fresh (at most STATUS_MAX_WORKERS read). */
    alive: number;
    /** Of those, paused for a fault of their own. */
    paused: number;
    list: WorkerPresence[];
  };
  /** Workers paused because AWS refuses their credentials, signature or clock: one entry each. */
  faultPause: Array<{
    workerId: string;
    host: string;
    pid: number;
    error: { name: string; message: string };
    /** ISO-8601: when the episode began. */
    since: string;
    /** The pause now under way, ms. */
    pauseMs: number;
  }>;
  outcomes: {
    /** Outcome events published and not yet taken by a consumer. */
    waiting: number;
    active: number;
    /** Parked: consumers gave up on them (`pc-invitations outcomes --parked`, `outcomes replay`). */
    parked: number;
  };
}

export interface LimitStatus {
  limitKey: string;
  /** False: nothing stored for this limit yet (no call made through it); the figures are the defaults. */
  stored: boolean;
  admittedPerSecond: number;
  callsLastMinute: number;
  retriesLastMinute: number;
  /** Current adaptive rate, calls/s. */
  rate: number;
  /** Configured rate, calls/s: the adaptive rate's ceiling. */
  ceiling: number;
  minRate: number;
  burst: number;
  throttles: number;
  lastThrottleAt: string | null;
  /** Admissions blocked this long by a Retry-After (0: not blocked). */
  blockedForMs: number;
  retryBudgetLeft: number;
}

/**
 * `seconds`: backlog ÷ calls admitted per second over the last minute (null when no call was
 * admitted: nothing drains). `atLimitSeconds`: backlog ÷ the limits' current rates (what it would
 * take at the full limit; null when no limit is known). Each request needs at least one call, and
 * the admitted calls include retries and look-ups, so both are lower bounds when requests need
 * more than one call. 50,000 requests at 5 calls/s: 10,000 s, 2.8 hours.
 */
export interface DrainEstimate {
  seconds: number | null;
  atLimitSeconds: number | null;
  /** The rule in words, as the CLI prints it. */
  how: string;
}

/** Failed jobs looked at for a missing outcome. */
export const STATUS_FAILED_CHECKED = 1000;
/** Worker beats read. */
export const STATUS_MAX_WORKERS = 1000;

export interface StatusDeps {
  store: Pick<ObserveStore, "queueCounts" | "oldestWaiting" | "failedWithoutOutcome"> & Pick<WorkerRegistry, "workers">;
  limiter: Pick<SharedRateLimiter, "getState">;
  /** RATE_LIMIT_KEY: one key, or a template with `{catalog}` (then the keys the workers report). */
  limitKey: string;
  /** @defaultValue Date.now */
  now?: () => number;
}

export async function readStatus(deps: StatusDeps): Promise<StatusReport> {
  const now = (deps.now ?? Date.now)();
  const [counts, oldest, failedChecked, workers] = await Promise.all([
    deps.store.queueCounts(),
    deps.store.oldestWaiting(),
    deps.store.failedWithoutOutcome(STATUS_FAILED_CHECKED),
    deps.store.workers(STATUS_MAX_WORKERS),
  ]);
  const keys = limitKeysOf(deps.limitKey, workers);
  const states = await Promise.all(keys.map((key) => deps.limiter.getState(key)));
  const limits = states.map(limitStatus);
  const r = counts.requests;
  const total = r.waiting + r.prioritized + r.delayed + r.active;
  const admitted = sum(limits.map((l) => l.admittedPerSecond));
  const limit = sum(limits.map((l) => l.rate));
  const faultPause = workers.flatMap((w) =>
    w.fault
      ? [
          {
            workerId: w.id,
            host: w.host,
            pid: w.pid,
            error: { name: w.fault.name, message: w.fault.message },
            since: w.fault.since,
            pauseMs: w.fault.pauseMs,
          },
        ]
      : [],
  );
  return {
    at: new Date(now).toISOString(),
    queuePaused: r.paused,
    backlog: { total, waiting: r.waiting, prioritized: r.prioritized, delayed: r.delayed, active: r.active },
    oldestWaiting: oldest
      ? {
          id: oldest.id,
          enqueuedAt: new Date(oldest.enqueuedAtMs).toISOString(),
          ageMs: Math.max(0, now - oldest.enqueuedAtMs),
        }
      : null,
    finished: {
      completed: r.completed,
      failed: r.failed,
      withoutOutcome: {
        count: failedChecked.ids.length,
        checked: failedChecked.checked,
        ids: failedChecked.ids.slice(0, 10),
      },
    },
    rate: { admittedPerSecond: admitted, limit, ceiling: sum(limits.map((l) => l.ceiling)), limits },
    drain: drainEstimate(total, admitted, limits.length > 0 ? limit : 0),
    workers: { alive: workers.length, paused: faultPause.length, list: workers },
    faultPause,
    outcomes: { ...counts.outcomes },
  };
}

/** See DrainEstimate. */
export function drainEstimate(backlog: number, admittedPerSecond: number, limitPerSecond: number): DrainEstimate {
  return {
    seconds: backlog === 0 ? 0 : admittedPerSecond > 0 ? backlog / admittedPerSecond : null,
    atLimitSeconds: backlog === 0 ? 0 : limitPerSecond > 0 ? backlog / limitPerSecond : null,
    how: "backlog ÷ calls admitted per second over the last minute (at least one call per request)",
  };
}

/** The limits to read: RATE_LIMIT_KEY when it names one, and every key the live workers use. */
export function limitKeysOf(limitKey: string, workers: readonly WorkerPresence[]): string[] {
  const keys = new Set<string>(limitKey.includes("{catalog}") ? [] : [limitKey]);
  for (const w of workers) for (const k of w.limitKeys) keys.add(k);
  return [...keys].sort();
}

function limitStatus(state: RateLimitState): LimitStatus {
  const { callsLastMinute, retriesLastMinute } = state.retryBudget;
  return {
    limitKey: state.limitKey,
    stored: state.stored,
    admittedPerSecond: callsLastMinute / 60,
    callsLastMinute,
    retriesLastMinute,
    rate: state.rate,
    ceiling: state.ceiling,
    minRate: state.minRate,
    burst: state.burst,
    throttles: state.throttles,
    lastThrottleAt: state.lastThrottleAt,
    blockedForMs: state.blockedForMs,
    retryBudgetLeft: state.retryBudgetLeft,
  };
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);
