/**
 * The shared limiter's real Lua scripts on a real Redis, on a simulated clock: a deterministic
 * replay of workers calling an API, with no timer in it, so a test can assert on what the
 * adaptation did after N simulated seconds however loaded the machine is.
 *
 * The one change to the scripts: `redis.call('TIME')` (in includes/prelude.lua) reads the clock
 * from `<limit key>:simclock` instead (fields `s` and `us`), which the simulation sets before
 * each call. The commands are defined under the production names on a connection of the
 * simulation's own, so `createRedisRateLimiter` on that connection runs them (defineScript does
 * not redefine a command). Standalone Redis only (the clock is a second key).
 */
import type { Redis } from "ioredis";
import { createRedisRateLimiter } from "../../src/ratelimit/redis-rate-limiter.js";
import type { AdaptationOptions } from "../../src/ratelimit/limit-settings.js";
import { rateLimitRedisKey } from "../../src/ratelimit/limit-settings.js";
import { RATE_LIMIT_SCRIPTS } from "../../src/ratelimit/scripts.js";
import { defineScript } from "../../src/store/redis/lua-scripts.js";

const TIME_CALL = "redis.call('TIME')";
const SIM_TIME = "redis.call('HMGET', KEYS[1] .. ':simclock', 's', 'us')";

/** Defines the limiter's scripts on `redis` with the simulated clock. Throws if a script's clock call moved. */
export function defineSimulatedClockScripts(redis: Redis): void {
  for (const script of Object.values(RATE_LIMIT_SCRIPTS)) {
    const n = script.lua.split(TIME_CALL).length - 1;
    if (n !== 1) throw new Error(`${script.path}: expected one ${TIME_CALL}, found ${n}`);
    defineScript(redis, { ...script, lua: script.lua.replace(TIME_CALL, SIM_TIME) }, { numberOfKeys: 1 });
  }
}

/** What the API does with a call arriving at `atMs` (simulated ms): throttle it or not. */
export type SimulatedApi = (atMs: number) => boolean;

/** Throttles `share` of the calls whatever their rate (someone else's traffic), from a seeded generator. */
export function backgroundThrottles(share: number, seed = 1): SimulatedApi {
  let x = seed >>> 0 || 1;
  return () => {
    // xorshift32: the same sequence on every run.
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32 < share;
  };
}

/** Throttles a call when `limit` calls were accepted in the trailing second (the emulator's throttleAboveRps). */
export function hiddenCap(limit: number): SimulatedApi {
  const accepted: number[] = [];
  return (atMs) => {
    while (accepted.length > 0 && accepted[0]! <= atMs - 1000) accepted.shift();
    if (accepted.length >= limit) return true;
    accepted.push(atMs);
    return false;
  };
}

export interface SimulationOptions {
  redis: Redis;
  prefix: string;
  limit: { rate: number; burst: number; minRate: number };
  adaptation?: Partial<AdaptationOptions>;
  api: SimulatedApi;
  seconds: number;
  /** Calls in flight at most (worker processes × concurrency). */
  concurrency: number;
  latencyMs: number;
  /** The most calls/s the workers can make (CPU-bound workers); unbounded when absent. */
  demandRps?: number;
}

export interface SimulationResult {
  /** Per simulated second: calls answered OK, calls throttled, the limiter's rate at its end. */
  okPerS: number[];
  throttledPerS: number[];
  ratePerS: number[];
  /** OK calls per second from second `from` on, over `reference`. */
  goodputShare(from: number, reference: number): number;
  /** Throttled share of the calls answered from second `from` on. */
  throttledShare(from: number): number;
  backgroundThrottledShare: number | null;
}

/**
 * Runs `seconds` of simulated time: workers ask the limiter for as many calls as they have free
 * slots (as the admission queue does), wait exactly the `retryInMs` they are told, call the API
 * (decided at arrival, answered `latencyMs` later) and report each answer (throttle or success).
 */
export async function simulate(o: SimulationOptions): Promise<SimulationResult> {
  const key = "sim";
  const clockKey = `${rateLimitRedisKey(o.prefix, key)}:simclock`;
  defineSimulatedClockScripts(o.redis);
  const limiter = createRedisRateLimiter({
    redis: o.redis,
    prefix: o.prefix,
    defaults: o.limit,
    ...(o.adaptation ? { adaptation: o.adaptation } : {}),
  });
  const t0Us = 1_800_000_000 * 1_000_000;
  let nowUs = t0Us;
  let clockAt = -1;
  const setClock = async () => {
    if (clockAt === nowUs) return;
    clockAt = nowUs;
    await o.redis.hset(clockKey, "s", Math.floor(nowUs / 1e6), "us", nowUs % 1e6);
  };
  await setClock();
  await limiter.setLimits(key, o.limit);

  const endUs = t0Us + o.seconds * 1e6;
  const okPerS = new Array<number>(o.seconds).fill(0);
  const throttledPerS = new Array<number>(o.seconds).fill(0);
  const ratePerS: number[] = [];
  const inFlight: Array<{ doneUs: number; throttled: boolean }> = [];
  const latencyUs = Math.round(o.latencyMs * 1000);
  const demandGapUs = o.demandRps ? Math.ceil(1e6 / o.demandRps) : 0;
  let nextTryUs = nowUs;
  let nextDemandUs = nowUs;
  let sampledSecond = 0;
  while (nowUs < endUs) {
    // Answers due now, in order.
    inFlight.sort((a, b) => a.doneUs - b.doneUs);
    while (inFlight.length > 0 && inFlight[0]!.doneUs <= nowUs) {
      const call = inFlight.shift()!;
      const sec = Math.floor((call.doneUs - t0Us) / 1e6);
      await setClock();
      if (call.throttled) {
        throttledPerS[sec]! += 1;
        await limiter.recordThrottle(key);
      } else {
        okPerS[sec]! += 1;
        await limiter.recordSuccess(key);
      }
    }
    while (sampledSecond < Math.floor((nowUs - t0Us) / 1e6)) {
      await setClock();
      ratePerS.push((await limiter.getState(key)).rate);
      sampledSecond++;
    }
    const free = o.concurrency - inFlight.length;
    if (free > 0 && nowUs >= nextTryUs && nowUs >= nextDemandUs) {
      await setClock();
      const r = await limiter.tryAcquire(key, { count: demandGapUs ? 1 : free });
      if (r.admitted) {
        for (let i = 0; i < (r.count ?? 1); i++)
          inFlight.push({ doneUs: nowUs + latencyUs, throttled: o.api(nowUs / 1000) });
        if (demandGapUs) nextDemandUs = nowUs + demandGapUs;
      } else {
        nextTryUs = nowUs + r.retryInMs * 1000;
      }
      continue;
    }
    // Next event: an answer, or (with a free slot) the next admission to ask for.
    let next = inFlight.length > 0 ? Math.min(...inFlight.map((c) => c.doneUs)) : endUs;
    if (o.concurrency - inFlight.length > 0) next = Math.min(next, Math.max(nextTryUs, nextDemandUs));
    nowUs = Math.max(next, nowUs + 1);
  }
  await setClock();
  const state = await limiter.getState(key);
  while (ratePerS.length < o.seconds) ratePerS.push(state.rate);
  await o.redis.del(clockKey, rateLimitRedisKey(o.prefix, key));
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
  return {
    okPerS,
    throttledPerS,
    ratePerS,
    goodputShare: (from, reference) => sum(okPerS.slice(from)) / (o.seconds - from) / reference,
    throttledShare: (from) => {
      const t = sum(throttledPerS.slice(from));
      return t / Math.max(1, t + sum(okPerS.slice(from)));
    },
    backgroundThrottledShare: state.backgroundThrottledShare,
  };
}
