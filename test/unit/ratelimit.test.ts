import { describe, expect, it } from "vitest";
import { createAdmissionQueue, type TryAcquire } from "../../src/ratelimit/admission-queue.js";
import { adaptationIssues, limitSettingsIssues, rateLimitRedisKey } from "../../src/ratelimit/limit-settings.js";
import { RateLimitedError } from "../../src/ratelimit/rate-limited-error.js";
import { createRedisRateLimiter, toState } from "../../src/ratelimit/redis-rate-limiter.js";
import { retryBudgetLeft } from "../../src/ratelimit/retry-budget.js";
import { countPerBin, maxInSlidingWindow } from "../../bench/window-stats.js";
import { limitSettingsFrom } from "../../src/ratelimit/limit-settings.js";
import { loadConfig } from "../../src/config/load-config.js";
import { ConfigError } from "../../src/errors/index.js";
import { STATE_FIELDS } from "../../src/ratelimit/scripts.js";
import type { AcquireResult } from "../../src/ratelimit/shared-rate-limiter.js";
import type { Redis } from "ioredis";

describe("rateLimitRedisKey", () => {
  it("puts the limit under the queue prefix, so {pci} is its Cluster hash tag", () => {
    expect(rateLimitRedisKey("{pci}", "default")).toBe("{pci}:ratelimit:default");
    expect(rateLimitRedisKey("{pci}", "catalog:AWS")).toBe("{pci}:ratelimit:catalog:AWS");
  });
  it.each(["", "has space", "tab\there", "é", "x".repeat(129)])("rejects the limit key %j", (k) => {
    expect(() => rateLimitRedisKey("{pci}", k)).toThrow(RangeError);
  });
});

describe("limitSettingsIssues / adaptationIssues", () => {
  it("accepts valid settings, fractional rates included", () => {
    expect(limitSettingsIssues({ rate: 0.5, burst: 1, minRate: 0.1, retryRatio: 0, retryMinPerMinute: 0 })).toEqual([]);
    expect(limitSettingsIssues({})).toEqual([]);
  });
  it("names each bad field and its rule", () => {
    expect(
      limitSettingsIssues({ rate: 0, burst: 1.5, minRate: -1, retryRatio: 2, retryMinPerMinute: Number.NaN }),
    ).toEqual([
      "rate: must be from 0.001 to 1000000 calls/s",
      "burst: must be a whole number from 1 to 1000000",
      "minRate: must be from 0.001 to 1000000 calls/s",
      "retryRatio: must be from 0 to 1",
      "retryMinPerMinute: must be a whole number from 0 to 1000000",
    ]);
    expect(adaptationIssues({ decreaseFactor: 1, increaseStep: 0 })).toEqual([
      "decreaseFactor: must be between 0 and 1 (exclusive)",
      "increaseStep: must be > 0",
    ]);
  });
  it("createRedisRateLimiter refuses invalid options before touching Redis", () => {
    const untouchable = new Proxy({}, { get: () => expect.unreachable("Redis touched") }) as unknown as Redis;
    expect(() => createRedisRateLimiter({ redis: untouchable, defaults: { burst: 0 } })).toThrow(/burst/);
    expect(() => createRedisRateLimiter({ redis: untouchable, adaptation: { decreaseFactor: 0 } })).toThrow(
      /decreaseFactor/,
    );
  });
});

describe("retryBudgetLeft", () => {
  it.each([
    // ratio, floor, calls, retries → left
    [0.1, 0, 0, 0, 0],
    [0.1, 0, 100, 0, 11], // 11 more: 11/111 ≤ 10%
    [0.1, 0, 111, 11, 0],
    [0.1, 0, 131, 11, 2],
    [0.1, 10, 0, 0, 10], // the floor
    [0.1, 10, 0, 4, 6],
    [0.1, 10, 1000, 10, 100], // ratio beats the floor: (100 - 10) / 0.9
    [0, 0, 1000, 0, 0],
    [0.5, 0, 10, 5, 0],
  ])("ratio %d, floor %d, %d calls, %d retries → %d left", (ratio, minPerMinute, calls, retries, left) => {
    expect(retryBudgetLeft({ ratio, minPerMinute, calls, retries })).toBe(left);
  });
  it("is unbounded at ratio 1", () => {
    expect(retryBudgetLeft({ ratio: 1, minPerMinute: 0, calls: 0, retries: 0 })).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("maxInSlidingWindow / countPerBin", () => {
  it("counts the busiest window, half-open by default, closed on request", () => {
    const t = [0, 100, 999, 1000, 1500, 1999];
    expect(maxInSlidingWindow(t, 1000)).toBe(3); // e.g. [100, 1100)
    expect(maxInSlidingWindow(t, 1000, true)).toBe(4); // [0, 1000] or [999, 1999]
    expect(maxInSlidingWindow([0, 1000], 1000)).toBe(1);
    expect(maxInSlidingWindow([0, 1000], 1000, true)).toBe(2);
    expect(maxInSlidingWindow([], 1000)).toBe(0);
    expect(maxInSlidingWindow([5, 1, 3], 10)).toBe(3);
  });
  it("bins timestamps", () => {
    expect(countPerBin([0, 10, 999, 1000, 2500], 0, 1000)).toEqual([3, 1, 1]);
    expect(countPerBin([0, 10], 0, 1000, 3)).toEqual([2, 0, 0]);
    expect(countPerBin([], 0, 1000)).toEqual([]);
  });
});

describe("toState", () => {
  const reply = (v: Partial<Record<(typeof STATE_FIELDS)[number], string>>) => STATE_FIELDS.map((f) => v[f] ?? "");
  const now = 1_764_131_201_000_000;
  it("turns the script's reply into a state, with ISO times and the retry budget left", () => {
    const s = toState(
      "default",
      reply({
        stored: "1",
        now: String(now),
        ceiling: "50",
        burst: "10",
        minRate: "1",
        rate: "35.00000000001",
        retryRatio: "0.1",
        retryMin: "10",
        throttles: "3",
        throttledAt: String(now - 2_000_000),
        decreasedAt: String(now - 2_000_000),
        blockedUntil: String(now + 1_500_000),
        tat: String(now),
        calls: "100",
        retries: "4",
      }),
    );
    expect(s).toEqual({
      limitKey: "default",
      stored: true,
      rate: 35,
      ceiling: 50,
      burst: 10,
      minRate: 1,
      throttles: 3,
      lastThrottleAt: new Date((now - 2_000_000) / 1000).toISOString(),
      lastDecreaseAt: new Date((now - 2_000_000) / 1000).toISOString(),
      blockedForMs: 1500,
      burstAvailable: 0,
      retryBudgetLeft: 6,
      retryBudget: { ratio: 0.1, minPerMinute: 10, callsLastMinute: 100, retriesLastMinute: 4 },
      backgroundThrottledShare: null,
    });
  });
  it("derives the burst credit from the GCRA schedule", () => {
    const base = {
      stored: "1",
      now: String(now),
      ceiling: "10",
      burst: "5",
      minRate: "1",
      rate: "10",
      retryRatio: "0",
      retryMin: "0",
    };
    expect(toState("k", reply(base)).burstAvailable).toBe(5); // never used
    expect(toState("k", reply({ ...base, tat: String(now - 10_000_000) })).burstAvailable).toBe(5); // idle long ago
    expect(toState("k", reply({ ...base, tat: String(now + 100_000) })).burstAvailable).toBe(4); // one call just now
    expect(toState("k", reply({ ...base, tat: String(now + 400_000) })).burstAvailable).toBe(1);
    expect(toState("k", reply({ ...base, tat: String(now + 450_000) })).burstAvailable).toBe(0);
  });
});

describe("acquire (admission queue)", () => {
  /** A fake limiter that admits one call every `gapMs` of real time and counts its polls. */
  function fakeLimiter(
    gapMs: number,
    extra: (opts: { retry?: boolean }) => AcquireResult | undefined = () => undefined,
  ) {
    let next = 0;
    const stats = { polls: 0 };
    const tryAcquire: TryAcquire = async (_key, opts) => {
      stats.polls++;
      const special = extra(opts);
      if (special) return special;
      const now = performance.now();
      if (now >= next) {
        next = Math.max(next, now) + gapMs;
        return { admitted: true, atMs: now };
      }
      return { admitted: false, retryInMs: Math.ceil(next - now), reason: "rate" };
    };
    return { tryAcquire, stats };
  }

  it("serves waiters first in, first out, with one poll per wait instead of one per waiter", async () => {
    const fake = fakeLimiter(15);
    const acquire = createAdmissionQueue(fake.tryAcquire);
    const order: number[] = [];
    await Promise.all(Array.from({ length: 8 }, (_, i) => acquire("k").then(() => order.push(i))));
    expect(order).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    // 8 admissions and about one refusal before each of the last 7 (a herd would be ~8 × 7 / 2).
    expect(fake.stats.polls).toBeLessThanOrEqual(8 + 7 * 2);
  });

  it(
    "asks for half of the first attempts waiting in a row at the " +
      "head together, and hands out exactly the admissions granted",
    async () => {
      const asked: Array<{ retry?: boolean; count?: number }> = [];
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      const acquire = createAdmissionQueue(async (_key, opts) => {
        asked.push({ ...opts });
        await gate; // every waiter is queued before the first answer
        // One fewer than asked for, when more than one is: the schedule had less room.
        return { admitted: true, atMs: 0, count: Math.max(1, (opts.count ?? 1) - 1) };
      });
      const order: string[] = [];
      const names = ["f0", "f1", "f2", "f3", "f4", "f5", "f6", "r7", "f8"];
      const all = names.map((n) => acquire("k", { retry: n.startsWith("r") }).then(() => order.push(n)));
      release();
      await Promise.all(all);
      expect(order).toEqual(names);
      // f0 polled alone (the others came while its poll was out). Then f1–f6 in a row (the retry
      // ends the run): 3 asked for, 2 granted (f1, f2); f3–f6: 2 asked, 1 granted (f3); f4–f6: the
      // same (f4); f5–f6: 1; f6: 1; the retry alone; f8.
      expect(asked).toEqual([
        { retry: false },
        { retry: false, count: 3 },
        { retry: false, count: 2 },
        { retry: false, count: 2 },
        { retry: false },
        { retry: false },
        { retry: true },
        { retry: false },
      ]);
    },
  );

  it("resolves with the time waited", async () => {
    const acquire = createAdmissionQueue(fakeLimiter(40).tryAcquire);
    expect(await acquire("k")).toBeLessThan(10);
    expect(await acquire("k")).toBeGreaterThanOrEqual(30);
  });

  it("keeps limit keys apart", async () => {
    const polls: string[] = [];
    const acquire = createAdmissionQueue(async (key) => {
      polls.push(key);
      return { admitted: true, atMs: 0 };
    });
    await Promise.all([acquire("a"), acquire("b"), acquire("a")]);
    expect(polls.sort()).toEqual(["a", "a", "b"]);
  });

  it("rejects an aborted waiter at once with the signal's reason; the others go on", async () => {
    const acquire = createAdmissionQueue(fakeLimiter(50).tryAcquire);
    await acquire("k");
    const head = new AbortController();
    const second = new AbortController();
    const a = acquire("k", { signal: head.signal });
    const b = acquire("k", { signal: second.signal });
    const c = acquire("k");
    setTimeout(() => {
      second.abort(new Error("b cancelled"));
      head.abort(new Error("a cancelled"));
    }, 10);
    const started = performance.now();
    await expect(a).rejects.toThrow("a cancelled");
    expect(performance.now() - started).toBeLessThan(40);
    await expect(b).rejects.toThrow("b cancelled");
    await expect(c).resolves.toBeGreaterThan(20);
    const pre = new AbortController();
    pre.abort(new Error("already"));
    await expect(acquire("k", { signal: pre.signal })).rejects.toThrow("already");
  });

  it("does not wait for the retry budget: RateLimitedError with the hint; first attempts behind it go on", async () => {
    const fake = fakeLimiter(1, (opts) =>
      opts.retry ? { admitted: false, retryInMs: 42_000, reason: "retry-budget" } : undefined,
    );
    const acquire = createAdmissionQueue(fake.tryAcquire);
    const retry = acquire("k", { retry: true });
    const first = acquire("k");
    await expect(retry).rejects.toBeInstanceOf(RateLimitedError);
    await expect(retry).rejects.toMatchObject({
      reason: "retry-budget",
      retryInMs: 42_000,
      limitKey: "k",
      code: "RATE_LIMITED",
    });
    await expect(first).resolves.toBeGreaterThanOrEqual(0);
  });

  it("gives up past maxWaitMs instead of holding the caller", async () => {
    const acquire = createAdmissionQueue(async () => ({ admitted: false, retryInMs: 5000, reason: "retry-after" }));
    await expect(acquire("k", { maxWaitMs: 1000 })).rejects.toMatchObject({ reason: "retry-after", retryInMs: 5000 });
  });

  it("rejects a waiter whose poll failed, and the next one polls again", async () => {
    let n = 0;
    const acquire = createAdmissionQueue(async () => {
      if (n++ === 0) throw new Error("redis down");
      return { admitted: true, atMs: 0 };
    });
    const a = acquire("k");
    const b = acquire("k");
    await expect(a).rejects.toThrow("redis down");
    await expect(b).resolves.toBeGreaterThanOrEqual(0);
  });
});

describe("rate-limit configuration", () => {
  it("has documented defaults, the env values only seed a new limit", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({
      RATE_LIMIT_KEY: "default",
      RATE_LIMIT_RPS: 5,
      RATE_LIMIT_BURST: 5,
      RATE_LIMIT_MIN_RPS: 1,
      RETRY_BUDGET_RATIO: 0.1,
      RETRY_BUDGET_MIN_PER_MINUTE: 10,
    });
    expect(limitSettingsFrom(c)).toEqual({ rate: 5, burst: 5, minRate: 1, retryRatio: 0.1, retryMinPerMinute: 10 });
  });
  it("accepts fractional rates and caps the floor at the ceiling", () => {
    const c = loadConfig({ RATE_LIMIT_RPS: "0.5", RATE_LIMIT_MIN_RPS: "2", RATE_LIMIT_KEY: "profile:partner-central" });
    expect(limitSettingsFrom(c)).toMatchObject({ rate: 0.5, minRate: 0.5 });
    expect(c.RATE_LIMIT_KEY).toBe("profile:partner-central");
  });
  it("names every bad rate-limit variable", () => {
    try {
      loadConfig({
        RATE_LIMIT_RPS: "0",
        RATE_LIMIT_BURST: "0",
        RETRY_BUDGET_RATIO: "1.5",
        RATE_LIMIT_KEY: "a b",
        RETRY_BUDGET_MIN_PER_MINUTE: "-1",
      });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const fields = (err as ConfigError).issues.map((i) => i.field).sort();
      expect(fields).toEqual([
        "RATE_LIMIT_BURST",
        "RATE_LIMIT_KEY",
        "RATE_LIMIT_RPS",
        "RETRY_BUDGET_MIN_PER_MINUTE",
        "RETRY_BUDGET_RATIO",
      ]);
    }
  });
});

describe("limitKeyTemplate", () => {
  it("gives one limit per catalog when the key has {catalog}, else one for all", async () => {
    const { limitKeyTemplate } = await import("../../src/consumer/pacing.js");
    expect(limitKeyTemplate("catalog:{catalog}")("AWS")).toBe("catalog:AWS");
    expect(limitKeyTemplate("catalog:{catalog}")("Sandbox")).toBe("catalog:Sandbox");
    expect(limitKeyTemplate("profile:eu")("AWS")).toBe("profile:eu");
  });
});
