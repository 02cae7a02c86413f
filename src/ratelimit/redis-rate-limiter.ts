import type { RedisConnection } from "../store/redis/connection.js";
import { defineScript } from "../store/redis/lua-scripts.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import { createAdmissionQueue } from "./admission-queue.js";
import {
  DEFAULT_ADAPTATION,
  DEFAULT_LIMIT_SETTINGS,
  adaptationIssues,
  defaultsArgv,
  limitSettingsIssues,
  rateLimitRedisKey,
  type AdaptationOptions,
} from "./limit-settings.js";
import { retryBudgetLeft } from "./retry-budget.js";
import { RATE_LIMIT_SCRIPTS, STATE_FIELDS } from "./scripts.js";
import type {
  AcquireResult,
  LimitSettings,
  RateLimitState,
  RefusalReason,
  SharedRateLimiter,
  TryAcquireOptions,
} from "./shared-rate-limiter.js";

export interface RedisRateLimiterOptions {
  /** A connection of the caller's (a single node or a Cluster); never closed by the limiter. */
  redis: RedisConnection;
  /** Key prefix, the queues' one: `${prefix}:ratelimit:${limitKey}`. @defaultValue QUEUE_PREFIX's default, "{pci}" */
  prefix?: string;
  /** Settings written when a limit does not exist in Redis yet. @defaultValue DEFAULT_LIMIT_SETTINGS */
  defaults?: Partial<LimitSettings>;
  /** @defaultValue DEFAULT_ADAPTATION */
  adaptation?: Partial<AdaptationOptions>;
}

/** The scripts, registered on the connection with ioredis defineCommand (EVALSHA, EVAL on NOSCRIPT). */
type CommandName =
  | "pciRateLimitAcquire"
  | "pciRateLimitThrottle"
  | "pciRateLimitSuccess"
  | "pciRateLimitState"
  | "pciRateLimitSet";
type ScriptRunner = Record<CommandName, (key: string, ...argv: string[]) => Promise<unknown>>;

/**
 * The SharedRateLimiter on Redis: GCRA for exact spacing, AIMD for adapting to throttles, a
 * sliding-minute retry budget. All state is in one hash per limit, updated by Lua scripts on
 * Redis time, so every worker of every machine sees one limit at once.
 * @throws RangeError for invalid defaults or adaptation options.
 */
export function createRedisRateLimiter(options: RedisRateLimiterOptions): SharedRateLimiter {
  const prefix = options.prefix ?? CONFIG_DEFAULTS.QUEUE_PREFIX;
  const defaults: LimitSettings = { ...DEFAULT_LIMIT_SETTINGS, ...options.defaults };
  const adaptation: AdaptationOptions = { ...DEFAULT_ADAPTATION, ...options.adaptation };
  const issues = [...limitSettingsIssues(defaults), ...adaptationIssues(adaptation)];
  if (issues.length > 0) throw new RangeError(`invalid rate limiter options: ${issues.join("; ")}`);

  const redis = options.redis;
  for (const script of Object.values(RATE_LIMIT_SCRIPTS)) defineScript(redis, script, { numberOfKeys: 1 });
  const run = redis as unknown as ScriptRunner;
  const argv0 = defaultsArgv(defaults);
  const keyOf = (limitKey: string) => rateLimitRedisKey(prefix, limitKey);

  // Limits whose last admission here found the rate at its ceiling: a success report would
  // change nothing (rises stop at the ceiling), so none is sent until a throttle or an admission
  // below the ceiling says otherwise. Saves a script call per successful call in the steady state.
  const atCeiling = new Set<string>();

  async function tryAcquire(limitKey: string, opts: TryAcquireOptions = {}): Promise<AcquireResult> {
    const count = opts.retry ? 1 : Math.max(1, Math.floor(opts.count ?? 1));
    const reply = (await run.pciRateLimitAcquire(keyOf(limitKey), ...argv0, opts.retry ? "1" : "0", String(count))) as [
      number,
      number,
      number | string,
      number?,
    ];
    if (reply[0] === 1) {
      if (reply[2] === 1) atCeiling.add(limitKey);
      else atCeiling.delete(limitKey);
      return { admitted: true, atMs: reply[1] / 1000, count: reply[3] ?? 1 };
    }
    return { admitted: false, retryInMs: Math.max(1, Math.ceil(reply[1] / 1000)), reason: reply[2] as RefusalReason };
  }

  const acquire = createAdmissionQueue(tryAcquire);

  return {
    tryAcquire,
    acquire,
    async recordThrottle(limitKey, retryAfterMs) {
      atCeiling.delete(limitKey);
      const ra =
        retryAfterMs !== undefined && retryAfterMs !== null && Number.isFinite(retryAfterMs) && retryAfterMs > 0
          ? retryAfterMs
          : 0;
      const reply = (await run.pciRateLimitThrottle(
        keyOf(limitKey),
        ...argv0,
        String(ra),
        String(adaptation.decreaseFactor),
        String(adaptation.decreaseCooldownMs),
      )) as [string, number, number];
      return { rate: Number(reply[0]), decreased: reply[1] === 1, blockedForMs: Math.ceil(reply[2] / 1000) };
    },
    async recordSuccess(limitKey) {
      if (atCeiling.has(limitKey)) return;
      await run.pciRateLimitSuccess(
        keyOf(limitKey),
        ...argv0,
        String(adaptation.increaseIntervalMs),
        String(adaptation.increaseStep),
      );
    },
    async getState(limitKey) {
      return toState(limitKey, (await run.pciRateLimitState(keyOf(limitKey), ...argv0)) as string[]);
    },
    async setLimits(limitKey, limits) {
      // A floor alone is checked against the ceiling in force (the stored one).
      const current =
        limits.minRate !== undefined && limits.rate === undefined
          ? toState(limitKey, (await run.pciRateLimitState(keyOf(limitKey), ...argv0)) as string[])
          : undefined;
      const bad = limitSettingsIssues(
        limits,
        current ? { rate: current.ceiling, minRate: current.minRate } : undefined,
      );
      if (bad.length > 0) throw new RangeError(`invalid limits: ${bad.join("; ")}`);
      const v = (x: number | undefined) => (x === undefined ? "" : String(x));
      const reply = (await run.pciRateLimitSet(
        keyOf(limitKey),
        ...argv0,
        v(limits.rate),
        v(limits.burst),
        v(limits.minRate),
        v(limits.retryRatio),
        v(limits.retryMinPerMinute),
      )) as string[];
      return toState(limitKey, reply);
    },
  };
}

/** The flat reply of get-state.lua / set.lua as a RateLimitState. Pure. */
export function toState(limitKey: string, reply: readonly string[]): RateLimitState {
  const raw = Object.fromEntries(STATE_FIELDS.map((f, i) => [f, reply[i] ?? ""])) as Record<
    (typeof STATE_FIELDS)[number],
    string
  >;
  const num = (s: string) => (s === "" ? 0 : Number(s));
  const iso = (us: string) => (us === "" ? null : new Date(Number(us) / 1000).toISOString());
  const now = num(raw.now);
  const rate = num(raw.rate);
  const burst = num(raw.burst);
  const ratio = num(raw.retryRatio);
  const minPerMinute = num(raw.retryMin);
  const calls = num(raw.calls);
  const retries = num(raw.retries);
  // GCRA: the next call conforms once tat - tau <= now; each T of slack behind that is one more call.
  const T = Math.ceil(1_000_000 / rate);
  const tat = raw.tat === "" ? now : Math.max(num(raw.tat), now);
  const slack = now + (Math.max(burst, 1) - 1) * T - tat;
  const blockedForMs = Math.max(0, Math.ceil((num(raw.blockedUntil) - now) / 1000));
  return {
    limitKey,
    stored: raw.stored === "1",
    rate: round3(rate),
    ceiling: num(raw.ceiling),
    burst,
    minRate: num(raw.minRate),
    throttles: num(raw.throttles),
    lastThrottleAt: iso(raw.throttledAt),
    lastDecreaseAt: iso(raw.decreasedAt),
    blockedForMs,
    burstAvailable: blockedForMs > 0 || slack < 0 ? 0 : Math.min(burst, Math.floor(slack / T) + 1),
    retryBudgetLeft: retryBudgetLeft({ ratio, minPerMinute, calls, retries }),
    retryBudget: { ratio, minPerMinute, callsLastMinute: calls, retriesLastMinute: retries },
    backgroundThrottledShare: raw.bg === "" ? null : round3(num(raw.bg)),
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
