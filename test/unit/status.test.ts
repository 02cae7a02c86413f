import { describe, expect, it } from "vitest";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";
import { statusReportSchema } from "../../src/http/http-schemas.js";
import { formatStatus, duration } from "../../src/cli/status-table.js";
import type { RateLimitState, SharedRateLimiter } from "../../src/ratelimit/shared-rate-limiter.js";
import { newRequestJobId } from "../../src/request-record/identity.js";
import { createMemoryRequestStore } from "../../src/store/memory-request-store.js";
import type { WorkerBeat } from "../../src/store/request-store.js";
import { drainEstimate, limitKeysOf, readStatus, STATUS_FAILED_CHECKED } from "../../src/store/status.js";

/**
 * The status read model (store/status.ts) on the in-memory store and a limiter port whose state
 * the test sets: each figure of the report against what the store holds.
 */
const T0 = Date.parse("2026-12-07T12:00:00Z");

function limiterWith(states: Record<string, Partial<RateLimitState>>): Pick<SharedRateLimiter, "getState"> & {
  asked: string[];
} {
  const asked: string[] = [];
  return {
    asked,
    async getState(limitKey) {
      asked.push(limitKey);
      const s = states[limitKey] ?? {};
      return {
        limitKey,
        stored: true,
        rate: 5,
        ceiling: 5,
        burst: 5,
        minRate: 1,
        throttles: 0,
        lastThrottleAt: null,
        lastDecreaseAt: null,
        blockedForMs: 0,
        burstAvailable: 5,
        retryBudgetLeft: 10,
        retryBudget: { ratio: 0.1, minPerMinute: 10, callsLastMinute: 0, retriesLastMinute: 0 },
        backgroundThrottledShare: null,
        ...s,
      };
    },
  };
}

const id = (identifier: string, ms = T0) => newRequestJobId("AWS", identifier, ms);
const failedOutcome = (requestId: string): OutcomeEvent =>
  ({
    type: "failed",
    requestId,
    eventId: `e-${requestId}`,
    completedAt: new Date(T0).toISOString(),
    attempts: 1,
    error: { name: "ResourceNotFoundException", message: "no such invitation" },
  }) as unknown as OutcomeEvent;

function beat(over: Partial<WorkerBeat> = {}): WorkerBeat {
  return {
    id: "host-a:101:abc",
    host: "host-a",
    pid: 101,
    startedAt: new Date(T0).toISOString(),
    concurrency: 4,
    limitKeys: ["default"],
    fault: null,
    ...over,
  };
}

describe("readStatus (the status read model) on the in-memory store", () => {
  it("counts the backlog by state, the finished jobs, and the outcomes waiting, in hand and parked", async () => {
    let now = T0;
    const store = createMemoryRequestStore({ now: () => now });
    for (let i = 0; i < 3; i++) store.plantJob({ id: id(`pacinv-WAIT${i}00000000`), data: {} });
    store.plantJob({ id: id("pacinv-DELAY00000000"), data: {}, state: "delayed" });
    store.plantJob({ id: id("pacinv-DELAY10000000"), data: {}, state: "delayed" });
    store.plantJob({ id: id("pacinv-PRIO000000000"), data: {}, state: "prioritized" });
    const active = id("pacinv-ACTIVE0000000");
    store.plantJob({ id: active, data: {} });
    store.takeJob(active);
    store.plantJob({ id: id("pacinv-DONE000000000"), data: {}, state: "completed" });
    const failed = [id("pacinv-FAIL000000000"), id("pacinv-FAIL100000000")];
    for (const f of failed) store.plantJob({ id: f, data: {}, state: "failed", finishedOn: T0 });
    // Outcomes: one waiting for a consumer, one being handled, one parked.
    for (const f of failed) await store.publish(failedOutcome(f));
    await store.publish(failedOutcome("AWS.pacinv-OTHER000000000.x"));
    store.settleOutcome(failed[1]!, "active");
    store.settleOutcome("AWS.pacinv-OTHER000000000.x", "parked");
    store.pauseQueue(true);
    now += 1000;

    const report = await readStatus({ store, limiter: limiterWith({}), limitKey: "default", now: () => now });
    expect(report.backlog).toEqual({ total: 7, waiting: 3, prioritized: 1, delayed: 2, active: 1 });
    expect(report.finished).toMatchObject({ completed: 1, failed: 2 });
    expect(report.outcomes).toEqual({ waiting: 1, active: 1, parked: 1 });
    expect(report.queuePaused).toBe(true);
    expect(report.at).toBe(new Date(now).toISOString());
    expect(statusReportSchema.parse(report)).toEqual(report);
  });

  it("names the oldest waiting request (first in, first taken) and its age", async () => {
    let now = T0;
    const store = createMemoryRequestStore({ now: () => now });
    const first = id("pacinv-FIRST00000000");
    store.plantJob({ id: first, data: {} });
    now += 60_000;
    store.plantJob({ id: id("pacinv-SECOND0000000"), data: {} });
    now += 5 * 60_000;
    const at = async () =>
      (await readStatus({ store, limiter: limiterWith({}), limitKey: "k", now: () => now })).oldestWaiting;
    expect(await at()).toEqual({ id: first, enqueuedAt: new Date(T0).toISOString(), ageMs: 6 * 60_000 });
    // Taken by a worker, it is no longer waiting: the next one is the oldest.
    store.takeJob(first);
    expect((await at())?.ageMs).toBe(5 * 60_000);
    store.settleJob(first, "completed");
    store.takeJob((await at())!.id);
    expect(await at()).toBeNull();
  });

  it("finds failed jobs without an outcome among the newest ones, and says how many it checked", async () => {
    const store = createMemoryRequestStore({ now: () => T0 });
    const withOutcome = id("pacinv-OK00000000000");
    const without = [id("pacinv-LOST00000000A"), id("pacinv-LOST00000000B")];
    store.plantJob({ id: withOutcome, data: {}, state: "failed", finishedOn: T0 - 3 });
    await store.publish(failedOutcome(withOutcome));
    for (const [i, j] of without.entries()) store.plantJob({ id: j, data: {}, state: "failed", finishedOn: T0 - i });
    const report = await readStatus({ store, limiter: limiterWith({}), limitKey: "k", now: () => T0 });
    expect(report.finished.withoutOutcome).toEqual({ count: 2, checked: 3, ids: without });

    // Only the newest STATUS_FAILED_CHECKED are looked at: a bounded read.
    const big = createMemoryRequestStore({ now: () => T0 });
    for (let i = 0; i < STATUS_FAILED_CHECKED + 5; i++)
      big.plantJob({ id: `AWS.pacinv-X.${i}`, data: {}, state: "failed", finishedOn: i });
    const bounded = await readStatus({ store: big, limiter: limiterWith({}), limitKey: "k", now: () => T0 });
    expect(bounded.finished.withoutOutcome.checked).toBe(STATUS_FAILED_CHECKED);
    expect(bounded.finished.withoutOutcome.count).toBe(STATUS_FAILED_CHECKED);
    expect(bounded.finished.withoutOutcome.ids[0]).toBe(`AWS.pacinv-X.${STATUS_FAILED_CHECKED + 4}`);
  });

  it(
    "gives the admitted rate (calls of the last minute / 60), the limit " + "and the ceiling of every limit, summed",
    async () => {
      const store = createMemoryRequestStore({ now: () => T0 });
      await store.beatWorker(beat({ limitKeys: ["pc-AWS", "pc-Sandbox"] }), 15_000);
      const limiter = limiterWith({
        "pc-AWS": {
          rate: 4,
          ceiling: 5,
          throttles: 3,
          lastThrottleAt: "2026-12-07T11:59:00.000Z",
          retryBudget: { ratio: 0.1, minPerMinute: 10, callsLastMinute: 240, retriesLastMinute: 6 },
        },
        "pc-Sandbox": {
          rate: 1,
          ceiling: 2,
          retryBudget: { ratio: 0.1, minPerMinute: 10, callsLastMinute: 30, retriesLastMinute: 0 },
        },
      });
      const report = await readStatus({ store, limiter, limitKey: "pc-{catalog}", now: () => T0 });
      // A template is not a limit: only the keys the workers use are read.
      expect(limiter.asked.sort()).toEqual(["pc-AWS", "pc-Sandbox"]);
      expect(report.rate.admittedPerSecond).toBeCloseTo(4.5, 10);
      expect(report.rate.limit).toBe(5);
      expect(report.rate.ceiling).toBe(7);
      expect(report.rate.limits[0]).toMatchObject({
        limitKey: "pc-AWS",
        admittedPerSecond: 4,
        callsLastMinute: 240,
        retriesLastMinute: 6,
        rate: 4,
        ceiling: 5,
        throttles: 3,
        lastThrottleAt: "2026-12-07T11:59:00.000Z",
      });
    },
  );

  it("estimates the time to drain as backlog / admitted rate: 50,000 requests at 5 calls/s is 2.8 hours", async () => {
    const store = createMemoryRequestStore({ now: () => T0 });
    for (let i = 0; i < 50; i++) store.plantJob({ id: `AWS.pacinv-D.${i}`, data: {} });
    const limiter = limiterWith({
      default: { rate: 2, retryBudget: { ratio: 0.1, minPerMinute: 10, callsLastMinute: 60, retriesLastMinute: 0 } },
    });
    const report = await readStatus({ store, limiter, limitKey: "default", now: () => T0 });
    expect(report.drain.seconds).toBe(50); // 50 requests at 1 call/s admitted
    expect(report.drain.atLimitSeconds).toBe(25); // at the limit of 2 calls/s
    expect(drainEstimate(50_000, 5, 5).seconds).toBe(10_000);
    expect(duration(10_000 * 1000)).toBe("2.8 h");
    // Nothing admitted in the last minute: nothing drains, and it says so instead of dividing by zero.
    expect(drainEstimate(10, 0, 5)).toMatchObject({ seconds: null, atLimitSeconds: 2 });
    expect(drainEstimate(0, 0, 0)).toMatchObject({ seconds: 0, atLimitSeconds: 0 });
    expect(drainEstimate(10, 0, 0)).toMatchObject({ seconds: null, atLimitSeconds: null });
  });

  it("counts the workers whose beat is fresh, and shows each fault pause", async () => {
    let now = T0;
    const store = createMemoryRequestStore({ now: () => now });
    await store.beatWorker(beat(), 15_000);
    await store.beatWorker(
      beat({
        id: "host-b:202:def",
        host: "host-b",
        pid: 202,
        fault: {
          name: "CredentialsProviderError",
          message: "Could not load credentials from any providers",
          since: new Date(T0).toISOString(),
          pauseMs: 5000,
        },
      }),
      15_000,
    );
    await store.beatWorker(beat({ id: "host-c:303:0f0", host: "host-c", pid: 303 }), 2_000);
    now += 3_000; // host-c's beat has expired: dead or hung
    const report = await readStatus({ store, limiter: limiterWith({}), limitKey: "default", now: () => now });
    expect(report.workers.alive).toBe(2);
    expect(report.workers.paused).toBe(1);
    expect(report.workers.list.map((w) => [w.host, w.lastBeatAgoMs])).toEqual([
      ["host-a", 3000],
      ["host-b", 3000],
    ]);
    expect(report.faultPause).toEqual([
      {
        workerId: "host-b:202:def",
        host: "host-b",
        pid: 202,
        error: { name: "CredentialsProviderError", message: "Could not load credentials from any providers" },
        since: new Date(T0).toISOString(),
        pauseMs: 5000,
      },
    ]);
    await store.removeWorker("host-a:101:abc");
    expect(
      (await readStatus({ store, limiter: limiterWith({}), limitKey: "default", now: () => now })).workers.alive,
    ).toBe(1);
    expect(statusReportSchema.parse(report)).toEqual(report);
  });

  it("reads RATE_LIMIT_KEY when it names one limit, with every key the live workers report", () => {
    const w = (limitKeys: string[]) => ({ ...beat(), limitKeys, lastBeatAgoMs: 0 });
    expect(limitKeysOf("default", [])).toEqual(["default"]);
    expect(limitKeysOf("default", [w(["other"]), w(["default"])])).toEqual(["default", "other"]);
    expect(limitKeysOf("pc-{catalog}", [])).toEqual([]);
    expect(limitKeysOf("pc-{catalog}", [w(["pc-AWS"]), w(["pc-AWS", "pc-Sandbox"])])).toEqual(["pc-AWS", "pc-Sandbox"]);
  });
});

describe("the status table (what `pc-invitations status` prints on a terminal)", () => {
  it("shows each figure of the report on its line", async () => {
    const store = createMemoryRequestStore({ now: () => T0 });
    for (let i = 0; i < 12; i++) store.plantJob({ id: `AWS.pacinv-T.${i}`, data: {} });
    await store.beatWorker(
      beat({
        fault: {
          name: "ExpiredTokenException",
          message: "expired",
          since: new Date(T0).toISOString(),
          pauseMs: 10_000,
        },
      }),
      15_000,
    );
    const limiter = limiterWith({
      default: {
        rate: 4,
        ceiling: 5,
        retryBudget: { ratio: 0.1, minPerMinute: 10, callsLastMinute: 180, retriesLastMinute: 0 },
      },
    });
    const report = await readStatus({ store, limiter, limitKey: "default", now: () => T0 + 90_000 });
    const text = formatStatus(report, "{pci} accept-invitation");
    expect(text).toContain("Backlog         12 request(s)  (waiting 12, prioritized 0, delayed 0, active 0)");
    expect(text).toContain("Oldest waiting  AWS.pacinv-T.0, enqueued 90 s ago");
    expect(text).toContain("Rate            3 calls/s admitted (last minute), limit 4 calls/s, ceiling 5 calls/s");
    expect(text).toContain("Time to drain   4 s  (12 request(s) ÷ 3 calls/s admitted over the last minute)");
    expect(text).toContain("Workers alive   1 (0 taking jobs, 1 paused): host-a:101");
    expect(text).toContain("Fault pause     host-a:101 paused since 2026-12-07T12:00:00.000Z: ExpiredTokenException");
  });

  it("writes durations as a person reads them", () => {
    expect([400, 35_000, 2_520_000, 10_000_000, 3 * 86_400_000].map(duration)).toEqual([
      "0.4 s",
      "35 s",
      "42 min",
      "2.8 h",
      "3 d",
    ]);
  });
});
