import { afterAll, afterEach, describe, expect, it } from "vitest";
import type { Redis } from "ioredis";
import { createRedisRateLimiter, type RedisRateLimiterOptions } from "../../src/ratelimit/redis-rate-limiter.js";
import type { RateLimitState, SharedRateLimiter } from "../../src/ratelimit/shared-rate-limiter.js";
import { RateLimitedError } from "../../src/ratelimit/rate-limited-error.js";
import { createAdmissionQueue } from "../../src/ratelimit/admission-queue.js";
import { maxInSlidingWindow } from "../../bench/window-stats.js";
import { deletePrefix, newRedis, uniquePrefix } from "../helpers/redis.js";

const admin = newRedis();
const clients: Redis[] = [];
const prefixes: string[] = [];
afterEach(async () => {
  for (const p of prefixes.splice(0)) await deletePrefix(admin, p);
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(() => admin.disconnect());

/** A limiter on its own connection, as a separate worker process would have. */
function limiterOn(prefix: string, opts: Omit<RedisRateLimiterOptions, "redis" | "prefix"> = {}): SharedRateLimiter {
  const redis = newRedis();
  clients.push(redis);
  return createRedisRateLimiter({ redis, prefix, ...opts });
}

function freshPrefix(label: string): string {
  const p = uniquePrefix(label);
  prefixes.push(p);
  return p;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("shared rate limiter (GCRA on Redis)", () => {
  it(
    "admits at most rate + burst calls in any sliding second, " +
      "from 4 connections × 3 callers, at the configured rate",
    async () => {
      const prefix = freshPrefix("gcra");
      const R = 50;
      const B = 10;
      const T = 1000 / R; // ms between admissions at the rate
      const limiters = Array.from({ length: 4 }, () => limiterOn(prefix, { defaults: { rate: R, burst: B } }));
      const admitted: number[] = [];
      const refusals: Array<{ reason: string; retryInMs: number }> = [];
      // Until 150 admissions and 50 refusals: counts, not a duration, so a loaded machine that asks
      // slower takes longer instead of measuring less (1,500 admissions without 50 refusals is a
      // limiter that does not limit: stop there).
      const enough = () => (admitted.length >= 150 && refusals.length >= 50) || admitted.length >= 1500;
      const deadline = Date.now() + 40_000;
      await Promise.all(
        limiters.flatMap((l) =>
          [0, 1, 2].map(async () => {
            while (!enough() && Date.now() < deadline) {
              const r = await l.tryAcquire("hammer");
              if (r.admitted) admitted.push(r.atMs);
              else {
                refusals.push({ reason: r.reason, retryInMs: r.retryInMs });
                // Come back early on purpose: contention at every slot.
                await sleep(Math.random() * r.retryInMs);
              }
            }
          }),
        ),
      );
      expect(admitted.length).toBeGreaterThanOrEqual(150);
      const sorted = [...admitted].sort((a, b) => a - b);
      const spanS = (sorted.at(-1)! - sorted[0]!) / 1000;
      // Closed windows (both ends counted) on Redis µs time: the strictest reading of the guarantee.
      expect(maxInSlidingWindow(admitted, 1000, true)).toBeLessThanOrEqual(R + B);
      // Every window: j - i admissions later is at least (j - i - (B - 1)) × T later (at most
      // L·R + B in any window L), and after the burst no more than one call per 1/R s.
      let closest = Infinity;
      for (let i = 0; i < sorted.length; i++) {
        for (let j = i + 1; j < sorted.length; j++)
          closest = Math.min(closest, sorted[j]! - sorted[i]! - (j - i - (B - 1)) * T);
      }
      expect(closest).toBeGreaterThanOrEqual(-0.001);
      expect((admitted.length - B) / spanS).toBeLessThanOrEqual(R * 1.001);
      // At the configured rate, not below it: a caller turned away is told to wait for the next
      // slot, never more than 1/R s away. (The rate the callers achieved measures the callers: a
      // loaded machine asks too slowly to fill every slot.)
      expect(refusals.length).toBeGreaterThanOrEqual(50);
      expect(refusals.every((r) => r.reason === "rate")).toBe(true);
      expect(Math.max(...refusals.map((r) => r.retryInMs))).toBeLessThanOrEqual(T);
    },
  );

  it(
    "setLimits takes effect at once for another connection; " + "Redis, not the env defaults, is the source of truth",
    async () => {
      const prefix = freshPrefix("set");
      const ops = limiterOn(prefix, { defaults: { rate: 50, burst: 10 } });
      const worker = limiterOn(prefix, { defaults: { rate: 5, burst: 5 } });
      expect(await ops.tryAcquire("k")).toMatchObject({ admitted: true });
      // The limit exists now; the worker's different defaults do not override it.
      expect(await worker.getState("k")).toMatchObject({ stored: true, ceiling: 50, rate: 50, burst: 10 });

      const set = await ops.setLimits("k", { rate: 2, burst: 1 });
      expect(set).toMatchObject({ ceiling: 2, rate: 2, burst: 1 });
      expect(await worker.getState("k")).toMatchObject({ ceiling: 2, rate: 2, burst: 1 });
      // The schedule goes on from the call admitted at 50/s (at most 20 ms away), then 1 call per 500 ms.
      expect(await worker.acquire("k")).toBeLessThanOrEqual(25);
      const next = await worker.tryAcquire("k");
      expect(next).toMatchObject({ admitted: false, reason: "rate" });
      if (!next.admitted) {
        expect(next.retryInMs).toBeGreaterThan(450);
        expect(next.retryInMs).toBeLessThanOrEqual(500);
      }
    },
  );

  it("setLimits refuses a floor above the ceiling in force, set alone, as the CLI does", async () => {
    const prefix = freshPrefix("floor");
    const l = limiterOn(prefix, { defaults: { rate: 10, burst: 5 } });
    await l.setLimits("k", { rate: 10 });
    await expect(l.setLimits("k", { minRate: 20 })).rejects.toThrow(/minRate: must be ≤ rate \(10 calls\/s\)/);
    await expect(l.setLimits("k", { minRate: 5 })).resolves.toMatchObject({ minRate: 5, ceiling: 10 });
  });

  it("shows a limit that does not exist yet with the defaults, without creating it", async () => {
    const prefix = freshPrefix("show");
    const l = limiterOn(prefix, { defaults: { rate: 7, burst: 3, retryRatio: 0.2, retryMinPerMinute: 4 } });
    const s = await l.getState("nobody");
    expect(s).toMatchObject({
      limitKey: "nobody",
      stored: false,
      rate: 7,
      ceiling: 7,
      burst: 3,
      throttles: 0,
      lastThrottleAt: null,
      blockedForMs: 0,
      burstAvailable: 3,
      retryBudgetLeft: 4,
      retryBudget: { ratio: 0.2, minPerMinute: 4, callsLastMinute: 0, retriesLastMinute: 0 },
    });
    expect(await admin.exists(`${prefix}:ratelimit:nobody`)).toBe(0);
  });

  it(
    "admits several first attempts in one call, as many as " + "the burst has room for, each counted; a retry alone",
    async () => {
      const prefix = freshPrefix("batch");
      const l = limiterOn(prefix, { defaults: { rate: 1, burst: 4, retryRatio: 1, retryMinPerMinute: 10 } });
      // Ten wanted at once: the burst's four conform now, back to back; the rest must wait.
      expect(await l.tryAcquire("api", { count: 10 })).toMatchObject({ admitted: true, count: 4 });
      expect(await l.tryAcquire("api", { count: 10 })).toMatchObject({ admitted: false, reason: "rate" });
      expect((await l.getState("api")).retryBudget.callsLastMinute).toBe(4);
      // A retry is asked for alone, whatever count says.
      const wide = limiterOn(prefix, { defaults: { rate: 1000, burst: 50, retryRatio: 1, retryMinPerMinute: 10 } });
      expect(await wide.tryAcquire("wide", { retry: true, count: 10 })).toMatchObject({ admitted: true, count: 1 });
      expect(await wide.tryAcquire("wide", { count: 3 })).toMatchObject({ admitted: true, count: 3 });
      expect((await wide.getState("wide")).retryBudget).toMatchObject({ callsLastMinute: 4, retriesLastMinute: 1 });
    },
  );

  it(
    "acquire with many callers waiting: their polls ask for many calls " +
      "at once, and still at most rate + burst in any sliding second",
    async () => {
      const prefix = freshPrefix("batch-window");
      const R = 40;
      const B = 8;
      const l = limiterOn(prefix, { defaults: { rate: R, burst: B } });
      // The limiter's own admission queue over its real tryAcquire, recording each admission at its
      // Redis time (what the guarantee is about) and what each poll asked for.
      const at: number[] = [];
      let mostAsked = 0;
      const acquire = createAdmissionQueue(async (key, opts) => {
        mostAsked = Math.max(mostAsked, opts.count ?? 1);
        const r = await l.tryAcquire(key, opts);
        if (r.admitted) for (let i = 0; i < (r.count ?? 1); i++) at.push(r.atMs);
        return r;
      });
      // 32 callers in one process, each taking 4 admissions.
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          for (let i = 0; i < 4; i++) await acquire("api");
        }),
      );
      expect(at).toHaveLength(128);
      expect(mostAsked).toBeGreaterThan(1);
      expect(maxInSlidingWindow(at, 1000)).toBeLessThanOrEqual(R + B);
    },
  );

  it("keeps limit keys independent: own hash, own schedule, own adaptation", async () => {
    const prefix = freshPrefix("keys");
    const l = limiterOn(prefix, { defaults: { rate: 1, burst: 1 } });
    expect((await l.tryAcquire("catalog-AWS")).admitted).toBe(true);
    expect((await l.tryAcquire("catalog-AWS")).admitted).toBe(false);
    expect((await l.tryAcquire("catalog-Sandbox")).admitted).toBe(true);

    await l.setLimits("catalog-AWS", { rate: 100 });
    await l.recordThrottle("catalog-AWS");
    expect(await l.getState("catalog-AWS")).toMatchObject({ ceiling: 100, rate: 85, throttles: 1 });
    expect(await l.getState("catalog-Sandbox")).toMatchObject({ ceiling: 1, rate: 1, throttles: 0 });
    expect(await admin.type(`${prefix}:ratelimit:catalog-AWS`)).toBe("hash");
    expect(await admin.type(`${prefix}:ratelimit:catalog-Sandbox`)).toBe("hash");
  });
});

describe("shared rate limiter: adaptation (AIMD)", () => {
  const fastAdaptation = { decreaseFactor: 0.5, decreaseCooldownMs: 200, increaseIntervalMs: 40, increaseStep: 2 };

  it(
    "halves the rate on a throttle, once per cooldown, " + "compounding while no rise comes between, down to the floor",
    async () => {
      const prefix = freshPrefix("aimd-down");
      const a = limiterOn(prefix, { defaults: { rate: 40, burst: 5, minRate: 4 }, adaptation: fastAdaptation });
      const b = limiterOn(prefix, { defaults: { rate: 40, burst: 5, minRate: 4 }, adaptation: fastAdaptation });
      expect(await a.recordThrottle("api")).toEqual({ rate: 20, decreased: true, blockedForMs: 0 });
      // Throttles answering calls admitted at the old rate: counted, no second decrease.
      expect(await b.recordThrottle("api")).toEqual({ rate: 20, decreased: false, blockedForMs: 0 });
      expect(await b.getState("api")).toMatchObject({ rate: 20, ceiling: 40, throttles: 2 });
      const rates: number[] = [];
      for (let i = 0; i < 3; i++) {
        await sleep(220);
        rates.push((await (i % 2 ? a : b).recordThrottle("api")).rate);
      }
      // Still throttled a cooldown later: ×0.5² = 5, then ×0.5³ → the floor 4.
      expect(rates).toEqual([5, 4, 4]);
    },
  );

  it("a rise ends the streak: the next throttle costs a single factor again", async () => {
    const prefix = freshPrefix("aimd-streak");
    const l = limiterOn(prefix, {
      defaults: { rate: 40, burst: 5 },
      adaptation: { ...fastAdaptation, increaseStep: 1 },
    });
    await l.recordThrottle("api"); // 20
    await sleep(220);
    await l.recordThrottle("api"); // 20 × 0.25 = 5
    await sleep(220);
    // Halfway back toward one factor above the last decreased rate (5 / 0.5 = 10), not toward the
    // rate before the compounding descent (20): that overshot once after every deep descent.
    await l.recordSuccess("api"); // 7.5
    expect((await l.getState("api")).rate).toBe(7.5);
    await sleep(220);
    expect((await l.recordThrottle("api")).rate).toBe(3.75);
  });

  it("drops the burst credit on a throttle: the next calls are spaced at the new rate", async () => {
    const prefix = freshPrefix("aimd-burst");
    // One call per 5 s, halved to one per 10 s: the second call is refused for the new rate
    // however slowly a loaded machine gets to it (at 20/s, 20 ms between the calls left 80 ms
    // to wait, not more).
    const l = limiterOn(prefix, { defaults: { rate: 0.2, burst: 10, minRate: 0.01 }, adaptation: fastAdaptation });
    expect((await l.getState("api")).burstAvailable).toBe(10);
    await l.recordThrottle("api");
    expect((await l.tryAcquire("api")).admitted).toBe(true);
    const next = await l.tryAcquire("api");
    expect(next).toMatchObject({ admitted: false, reason: "rate" });
    if (!next.admitted) expect(next.retryInMs).toBeGreaterThan(5000); // more than one interval at the old rate
  });

  it("climbs back on sustained success, gradually, and never above the ceiling", async () => {
    const prefix = freshPrefix("aimd-up");
    const adaptation = { ...fastAdaptation, increaseIntervalMs: 150 };
    const l = limiterOn(prefix, { defaults: { rate: 40, burst: 5, minRate: 2 }, adaptation });
    const other = limiterOn(prefix, { defaults: { rate: 40, burst: 5, minRate: 2 }, adaptation });
    await l.recordThrottle("api");
    await sleep(210);
    await l.recordThrottle("api");
    expect((await l.getState("api")).rate).toBe(5); // 40 × 0.5 × 0.5²
    await sleep(160);
    // 20 successes at once from two connections: one rise per quiet interval, not one per success.
    // The first rise goes halfway back toward one factor above the last decreased rate (5 / 0.5 =
    // 10), at least the step (2): 7.5.
    await Promise.all(Array.from({ length: 20 }, (_, i) => (i % 2 ? l : other).recordSuccess("api")));
    expect((await l.getState("api")).rate).toBe(7.5);

    const seen: number[] = [];
    const deadline = Date.now() + 5000;
    while (Date.now() < deadline) {
      await Promise.all([l.recordSuccess("api"), other.recordSuccess("api")]);
      const r = (await l.getState("api")).rate;
      if (seen.at(-1) !== r) seen.push(r);
      if (r === 40 && seen.length > 1) break;
      await sleep(10);
    }
    expect(seen.at(-1)).toBe(40);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    // Halfway back toward 10, then probing with doubling steps: gradual.
    expect(seen.length).toBeGreaterThanOrEqual(4);
    for (let i = 0; i < 4; i++) {
      await l.recordSuccess("api");
      await sleep(160);
    }
    expect((await l.getState("api")).rate).toBe(40);
  });

  it("honours Retry-After: no connection is admitted until it has passed", async () => {
    const prefix = freshPrefix("retry-after");
    const a = limiterOn(prefix, { defaults: { rate: 100, burst: 10 } });
    const b = limiterOn(prefix, { defaults: { rate: 100, burst: 10 } });
    const t = await a.recordThrottle("api", 400);
    expect(t.blockedForMs).toBeGreaterThan(390);
    expect(t.blockedForMs).toBeLessThanOrEqual(400);
    const refused = await b.tryAcquire("api");
    expect(refused).toMatchObject({ admitted: false, reason: "retry-after" });
    if (!refused.admitted) expect(refused.retryInMs).toBeGreaterThan(350);
    expect((await b.getState("api")).blockedForMs).toBeGreaterThan(300);
    await expect(b.acquire("api", { maxWaitMs: 100 })).rejects.toMatchObject({
      name: "RateLimitedError",
      reason: "retry-after",
    });
    // A shorter Retry-After never shortens the block.
    await a.recordThrottle("api", 10);
    const started = Date.now();
    await b.acquire("api");
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe("shared rate limiter: throttles that do not follow our rate", () => {
  /**
   * Drives the limiter like a worker against a simulated API: acquire, answer, report. `answer`
   * gets the call's number and says whether the API throttled it. Stops when `done` holds (given
   * the state and the decreases so far) or at the deadline (generous: a loaded machine makes
   * fewer calls per second, never wrong ones). Returns the state and the decreases.
   */
  async function drive(
    l: SharedRateLimiter,
    answer: (n: number) => boolean | Promise<boolean>,
    done: (s: RateLimitState, decreases: number) => boolean,
    deadlineMs = 30_000,
  ) {
    const end = Date.now() + deadlineMs;
    let decreases = 0;
    for (let n = 0; Date.now() < end; n++) {
      await l.acquire("api", { maxWaitMs: 5000 });
      if (await answer(n)) decreases += (await l.recordThrottle("api")).decreased ? 1 : 0;
      else await l.recordSuccess("api");
      if (n % 50 === 0 && done(await l.getState("api"), decreases)) break;
    }
    return { ...(await l.getState("api")), decreases };
  }

  it("5% of calls throttled whatever the rate: learnt as background, the rate goes back to the ceiling", async () => {
    const l = limiterOn(freshPrefix("bg"), { defaults: { rate: 200, burst: 10, minRate: 1 } });
    const end = await drive(
      l,
      (n) => n % 20 === 19,
      (st) => st.backgroundThrottledShare !== null && st.rate === st.ceiling,
    );
    expect(end.backgroundThrottledShare).toBeGreaterThan(0.02);
    expect(end.backgroundThrottledShare).toBeLessThan(0.1);
    expect(end.rate).toBe(200);
  });

  it(
    "throttles above a hidden cap follow our rate: the " + "rate comes down and stays down, no background learnt",
    async () => {
      const l = limiterOn(freshPrefix("cap"), { defaults: { rate: 200, burst: 10, minRate: 1 } });
      // The API takes 80 calls/s and throttles the rest: of calls sent at rate r, the share
      // 1 - 80/r, spread evenly. r is the limiter's rate, not how fast this loop manages to ask: a
      // loaded machine asks slower than the limiter allows (below 80/s an API counting calls per
      // wall-clock second throttled nothing, and the rate rightly stayed at 200), while the share
      // of our calls a cap throttles is what the limiter has to tell apart from a background.
      let rate = 200;
      let owed = 0;
      const answer = async (n: number) => {
        if (n % 5 === 0) rate = (await l.getState("api")).rate;
        owed += Math.max(0, 1 - 80 / rate);
        if (owed < 1) return false;
        owed -= 1;
        return true;
      };
      // Until 12 s have passed (several probes near the cap judged, each over a window of Redis
      // time) and the rate was lowered 4 times at least (it came down to the cap more than once).
      const started = Date.now();
      const end = await drive(l, answer, (_, decreases) => Date.now() - started > 12_000 && decreases >= 4, 45_000);
      expect(end.decreases).toBeGreaterThanOrEqual(4);
      expect(end.rate).toBeLessThanOrEqual(100);
      expect(end.backgroundThrottledShare).toBeNull();
    },
  );
});

describe("shared rate limiter: retry budget", () => {
  const generous = { rate: 100_000, burst: 100_000 };

  it("refuses retries beyond 10% of the calls of the last minute, never first attempts", async () => {
    const prefix = freshPrefix("budget");
    const a = limiterOn(prefix, { defaults: { ...generous, retryRatio: 0.1, retryMinPerMinute: 0 } });
    const b = limiterOn(prefix, { defaults: { ...generous, retryRatio: 0.1, retryMinPerMinute: 0 } });
    // No calls yet: even one retry would be 100% of the calls.
    expect(await a.tryAcquire("api", { retry: true })).toMatchObject({ admitted: false, reason: "retry-budget" });
    for (let i = 0; i < 100; i++) expect((await (i % 2 ? a : b).tryAcquire("api")).admitted).toBe(true);

    const retries = [];
    for (let i = 0; i < 20; i++) retries.push(await (i % 2 ? a : b).tryAcquire("api", { retry: true }));
    // r + 1 ≤ 0.1 (c + 1) with c = 100 + r admits r = 0…10: 11 retries, 11/111 ≤ 10%.
    expect(retries.filter((r) => r.admitted)).toHaveLength(11);
    const refusal = retries.find((r) => !r.admitted);
    expect(refusal).toMatchObject({ admitted: false, reason: "retry-budget" });
    if (refusal && !refusal.admitted) {
      expect(refusal.retryInMs).toBeGreaterThan(57_000);
      expect(refusal.retryInMs).toBeLessThanOrEqual(60_000);
    }
    const s = await a.getState("api");
    expect(s.retryBudget).toMatchObject({ callsLastMinute: 111, retriesLastMinute: 11 });
    expect(s.retryBudget.retriesLastMinute / s.retryBudget.callsLastMinute).toBeLessThanOrEqual(0.1);
    expect(s.retryBudgetLeft).toBe(0);

    // First attempts are never refused for the budget, and they make room for more retries.
    for (let i = 0; i < 20; i++) expect((await a.tryAcquire("api")).admitted).toBe(true);
    expect((await a.getState("api")).retryBudgetLeft).toBe(2);
    await expect(a.acquire("api", { retry: true })).resolves.toBeGreaterThanOrEqual(0);
    await expect(a.acquire("api", { retry: true })).resolves.toBeGreaterThanOrEqual(0);
    const over = a.acquire("api", { retry: true });
    await expect(over).rejects.toBeInstanceOf(RateLimitedError);
    await expect(over).rejects.toMatchObject({ reason: "retry-budget", code: "RATE_LIMITED" });
  });

  it("always allows the per-minute floor of retries, so a quiet system can still retry", async () => {
    const prefix = freshPrefix("budget-floor");
    const l = limiterOn(prefix, { defaults: { ...generous, retryRatio: 0.1, retryMinPerMinute: 3 } });
    const r = [];
    for (let i = 0; i < 4; i++) r.push((await l.tryAcquire("quiet", { retry: true })).admitted);
    expect(r).toEqual([true, true, true, false]);
  });

  it("a retry refused for the budget is not counted, and a refused first attempt is not counted either", async () => {
    const prefix = freshPrefix("budget-count");
    const l = limiterOn(prefix, { defaults: { rate: 1, burst: 1, retryRatio: 0.5, retryMinPerMinute: 0 } });
    expect((await l.tryAcquire("k")).admitted).toBe(true);
    expect((await l.tryAcquire("k")).admitted).toBe(false); // rate
    expect((await l.tryAcquire("k", { retry: true })).admitted).toBe(false); // rate (budget would allow 1 of 2)
    expect((await l.getState("k")).retryBudget).toMatchObject({ callsLastMinute: 1, retriesLastMinute: 0 });
  });
});
