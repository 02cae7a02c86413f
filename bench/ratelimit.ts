/**
 * The shared adaptive rate limit of the real system, measured where it matters: at the API.
 * P real `pc-invitations worker` processes (`node dist/src/cli/main.js worker`, configured by
 * env like any deployment) take requests enqueued by the real producer (`enqueueMany`) and call
 * the in-process emulator's AcceptConnectionInvitation; the figures come from the emulator's
 * arrival log (`calls()[].at`). Each scenario has its own hash-tagged prefix, deleted at the end.
 *
 *   npm run bench:ratelimit          # = npm run build && node dist/bench/ratelimit.js
 *
 * Start gate: the requests queue is paused while the backlog is enqueued and the workers boot;
 * it is resumed once all P workers are connected, so the measured window (from the first call)
 * has neither process start-up nor enqueueing in it.
 *
 * Scenarios
 *  - accuracy: rate R, burst B, S seconds from the first call, with a backlog that outlasts the
 *    window. Then the same load with BullMQ's own limiter (max R per 1000 ms, P forked processes
 *    running plain BullMQ Workers, bench/ratelimit-child.ts). Targets (GCRA): achieved rate ≥ 97%
 *    of R; busiest sliding 1 s ≤ 105% of R + B.
 *  - adaptation: the API throttles above L/s (`throttleAboveRps`) while the ceiling is 200/s;
 *    a fixed number of requests (default L × (S + 2.5)). Targets over [10 s, S): goodput ≥ 90%
 *    of L, throttled share of calls ≤ 5%; and every request ends with exactly one outcome event
 *    on the outcomes queue (counted there, after the backlog drained, bounded).
 *
 * Prints one JSON document, writes it to bench/results/ratelimit.json with two SVG charts next
 * to it. Progress on stderr (BENCH_QUIET=1 silences it). Knobs (env): BENCH_RL_SECONDS (30),
 * BENCH_RL_ADAPT_SECONDS (30), BENCH_RL_RATE (50), BENCH_RL_BURST (10), BENCH_RL_PROCS (4),
 * BENCH_RL_CONCURRENCY (8, WORKER_CONCURRENCY), BENCH_RL_LATENCY_MS (20), BENCH_RL_API_LIMIT (40),
 * BENCH_RL_CEILING (200), BENCH_RL_ADAPT_BURST (10), BENCH_RL_ADAPT_REQUESTS (L × (S + 2.5)),
 * BENCH_RL_DRAIN_TIMEOUT_S (60, from the first call), BENCH_RL_MAX_THROTTLE_REQUEUES (1000),
 * BENCH_RL_BACKOFF_MS (100), BENCH_RL_LOG_LEVEL (warn), BENCH_RL_ONLY (accuracy, adaptation, background;
 * comma-separated),
 * BENCH_RL_SKIP_BULLMQ (1 = skip the BullMQ run), BENCH_RL_PROCS, BENCH_RL_RUNS (3),
 * BENCH_RL_BG_CEILING (200), BENCH_RL_BG_SHARE (0.05), BENCH_RL_SKIP_BASELINE (1 = no baseline run).
 *
 *  - background: the API throttles BENCH_RL_BG_SHARE of the calls whatever the rate (the emulator's
 *    throttleRate fault), ceiling BENCH_RL_BG_CEILING. Target: goodput ≥ 80% of the ceiling over
 *    [10 s, S). Each run is followed by a baseline: the same fleet with no throttle, so the
 *    goodput is also a ratio to what the machine allowed in that run (goodputAfter10sVsBaseline).
 */
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { PartnerCentralEmulator, type RecordedCall } from "../src/emulator/index.js";
import { createRedisRateLimiter } from "../src/ratelimit/redis-rate-limiter.js";
import { outcomeEventSchema } from "../src/contracts/outcome.js";
import {
  REDIS_URL,
  deletePrefix,
  envInt,
  progress,
  round,
  sleep,
  sourceInfo,
  spread,
  uniquePrefix,
  writeResult,
} from "./common.js";
import { lineChartSvg, type Series } from "./plot-svg.js";
import {
  OUTCOMES_QUEUE,
  REQUESTS_QUEUE,
  accuracyFigures,
  closeFleet,
  jobCounts,
  mean,
  perSecond,
  repoRoot,
  runBullmqChildren,
  slidingRateSeries,
  startFleet,
  waitForFirstCall,
  type FleetOptions,
} from "./ratelimit-workers.js";

const CATALOG = "AWS";
/** The limit the workers use (RATE_LIMIT_KEY unset). */
const LIMIT_KEY = "default";

interface Settings {
  seconds: number;
  adaptSeconds: number;
  rate: number;
  burst: number;
  procs: number;
  concurrency: number;
  latencyMs: number;
  apiLimit: number;
  ceiling: number;
  adaptBurst: number;
  adaptRequests: number;
  drainTimeoutS: number;
  maxThrottleRequeues: number;
  backoffMs: number;
  logLevel: string;
  only: string;
  skipBullmq: boolean;
  runs: number;
  bgCeiling: number;
  bgShare: number;
  skipBaseline: boolean;
}

function settingsFromEnv(): Settings {
  const adaptSeconds = envInt("BENCH_RL_ADAPT_SECONDS", 30, 12);
  const apiLimit = envInt("BENCH_RL_API_LIMIT", 40, 1);
  return {
    seconds: envInt("BENCH_RL_SECONDS", 30, 3),
    adaptSeconds,
    rate: envInt("BENCH_RL_RATE", 50, 1),
    burst: envInt("BENCH_RL_BURST", 10, 1),
    procs: envInt("BENCH_RL_PROCS", 4, 1),
    concurrency: envInt("BENCH_RL_CONCURRENCY", 8, 1),
    latencyMs: envInt("BENCH_RL_LATENCY_MS", 20, 0),
    apiLimit,
    ceiling: envInt("BENCH_RL_CEILING", 200, 1),
    adaptBurst: envInt("BENCH_RL_ADAPT_BURST", 10, 1),
    adaptRequests: envInt("BENCH_RL_ADAPT_REQUESTS", Math.round(apiLimit * (adaptSeconds + 2.5)), 1),
    drainTimeoutS: envInt("BENCH_RL_DRAIN_TIMEOUT_S", 60, 1),
    maxThrottleRequeues: envInt("BENCH_RL_MAX_THROTTLE_REQUEUES", 1000, 0),
    backoffMs: envInt("BENCH_RL_BACKOFF_MS", 100, 0),
    logLevel: process.env.BENCH_RL_LOG_LEVEL || "warn",
    only: process.env.BENCH_RL_ONLY ?? "",
    skipBullmq: process.env.BENCH_RL_SKIP_BULLMQ === "1",
    runs: envInt("BENCH_RL_RUNS", 3, 1),
    bgCeiling: envInt("BENCH_RL_BG_CEILING", 200, 1),
    bgShare: Number(process.env.BENCH_RL_BG_SHARE || "0.05"),
    skipBaseline: process.env.BENCH_RL_SKIP_BASELINE === "1",
  };
}

const acceptCalls = (emu: PartnerCentralEmulator) => emu.calls({ operation: "AcceptConnectionInvitation" });

function fleetOptions(s: Settings, label: string, requests: number, limit: FleetOptions["limit"]): FleetOptions {
  return {
    label,
    requests,
    limit,
    catalog: CATALOG,
    limitKey: LIMIT_KEY,
    procs: s.procs,
    concurrency: s.concurrency,
    logLevel: s.logLevel,
    jobAttempts: 6,
    backoffMs: s.backoffMs,
    maxThrottleRequeues: s.maxThrottleRequeues,
  };
}

// ─── scenarios ───────────────────────────────────────────────────────────────────────────────

async function benchAccuracy(emu: PartnerCentralEmulator, admin: Redis, s: Settings) {
  const durationMs = s.seconds * 1000;
  emu.reset();
  emu.setFaults({ throttleAboveRps: undefined, errorRate: undefined, latencyMs: s.latencyMs });
  const requests = s.rate * (s.seconds + 5) + s.burst;
  progress(
    `ratelimit accuracy: GCRA ${s.rate}/s burst ${s.burst}, ${s.procs} worker ` +
      `processes × ${s.concurrency}, ${s.seconds} s, ${requests} requests`,
  );
  const fleet = await startFleet(
    emu,
    admin,
    fleetOptions(s, "bench-rl", requests, { rate: s.rate, burst: s.burst, minRate: 1 }),
  );
  let gT0: number;
  let backlogAtEnd: number;
  let workers: Awaited<ReturnType<typeof closeFleet>>;
  let stopAt = Number.POSITIVE_INFINITY;
  try {
    gT0 = await waitForFirstCall(() => acceptCalls(emu));
    await sleep(gT0 + durationMs + 200 - Date.now());
    const c = (await jobCounts(admin, fleet.prefix, REQUESTS_QUEUE)).counts;
    backlogAtEnd = (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
  } finally {
    stopAt = Date.now();
    workers = await closeFleet(admin, fleet);
  }
  const gAll = acceptCalls(emu).map((c) => c.at);
  const gTimes = gAll.filter((t) => t >= gT0 && t < gT0 + durationMs);
  const gcra = {
    ...accuracyFigures(gTimes, gT0, durationMs, s.rate, s.burst),
    requestsEnqueued: requests,
    backlogAtWindowEnd: backlogAtEnd,
    // Jobs already holding a worker slot when SIGTERM came still wait for their admission and call.
    workers: { ...workers, callsAfterSigterm: gAll.filter((t) => t >= stopAt).length },
  };

  let bullmq: (ReturnType<typeof accuracyFigures> & { processes: number[] }) | undefined;
  let bTimes: number[] = [];
  let bT0 = 0;
  if (!s.skipBullmq) {
    emu.reset();
    const jobs = Math.ceil(s.rate * s.seconds * 1.3) + 100;
    const bIds = emu.seedInvitations(jobs, { catalog: CATALOG }).map((i) => i.identifier);
    const bPrefix = uniquePrefix("bench-rl-bullmq");
    const queue = new Queue("bench-accept", { connection: admin, prefix: bPrefix });
    for (let i = 0; i < bIds.length; i += 500) {
      await queue.addBulk(
        bIds.slice(i, i + 500).map((identifier) => ({
          name: "accept",
          data: { identifier },
          opts: { removeOnComplete: true, attempts: 1 },
        })),
      );
    }
    progress(
      `ratelimit accuracy: BullMQ limiter max ${s.rate} per 1000 ` +
        `ms, ${s.procs} processes × ${s.concurrency}, ${s.seconds} s`,
    );
    try {
      const b = await runBullmqChildren(s.procs, {
        redisUrl: REDIS_URL,
        prefix: bPrefix,
        queueName: "bench-accept",
        endpoint: emu.url,
        catalog: CATALOG,
        concurrency: s.concurrency,
        durationMs: durationMs + 500,
        max: s.rate,
      });
      const all = acceptCalls(emu)
        .map((c) => c.at)
        .filter((t) => t >= b.startAt);
      bT0 = Math.min(...all);
      bTimes = all.filter((t) => t < bT0 + durationMs);
      bullmq = {
        ...accuracyFigures(bTimes, bT0, durationMs, s.rate, s.burst),
        processes: b.stats.map((x) => x.succeeded + x.otherErrors),
      };
    } finally {
      await queue.close();
      await deletePrefix(admin, bPrefix);
    }
  }

  const series: Series[] = [
    {
      name: `GCRA ${s.rate}/s burst ${s.burst}`,
      points: slidingRateSeries(gTimes, gT0, durationMs),
      color: "#1f77b4",
      width: 2,
    },
    ...(bullmq
      ? [{ name: `BullMQ max ${s.rate}/1000 ms`, points: slidingRateSeries(bTimes, bT0, durationMs), color: "#d62728" }]
      : []),
    {
      name: `rate ${s.rate}/s`,
      points: [
        [0, s.rate],
        [s.seconds, s.rate],
      ],
      color: "#555",
      dashed: true,
    },
    {
      name: `rate + burst ${s.rate + s.burst}`,
      points: [
        [0, s.rate + s.burst],
        [s.seconds, s.rate + s.burst],
      ],
      color: "#999",
      dashed: true,
    },
  ];
  const svg = lineChartSvg({
    title: `Accuracy: calls in the trailing 1 s at the API, ${s.procs} worker processes`,
    xLabel: "time since the first call (s)",
    yLabel: "calls in the last second",
    series,
    xMax: s.seconds,
  });
  const result = {
    system:
      `${s.procs} × pc-invitations worker (dist/src/cli/main.js ` +
      `worker), requests from createProducer().enqueueMany`,
    limit: { rate: s.rate, burst: s.burst },
    processes: s.procs,
    concurrencyPerProcess: s.concurrency,
    durationS: s.seconds,
    windowFrom: "first AcceptConnectionInvitation call",
    apiLatencyMs: s.latencyMs,
    gcra,
    ...(bullmq ? { bullmq } : {}),
    targets: {
      achievedRateAtLeast97Pct: gcra.achievedPctOfRate >= 97,
      maxIn1sAtMost105PctOfRatePlusBurst: gcra.maxIn1sPctOfRatePlusBurst <= 105,
      backlogOutlastedWindow: backlogAtEnd > 0,
    },
  };
  return { result, svg };
}

/**
 * The limit adapting to the API. `cap`: the API throttles above s.apiLimit calls/s (throttles that
 * follow our rate). `background`: the API throttles s.bgShare of the calls whatever our rate (other
 * traffic on the account) under a ceiling of s.bgCeiling; slowing down would only lose work.
 */
async function benchAdaptation(
  emu: PartnerCentralEmulator,
  admin: Redis,
  s: Settings,
  kind: "cap" | "background" | "baseline" = "cap",
) {
  const durationMs = s.adaptSeconds * 1000;
  // baseline: the background scenario's fleet and ceiling with no throttle at all, what the
  // workers can do on this machine now: the background's goodput is also given as a ratio to it.
  const baseline = kind === "baseline";
  const background = kind === "background" || baseline;
  // What goodput is measured against: the API's cap, or (background) the ceiling.
  const reference = background ? s.bgCeiling : s.apiLimit;
  const ceiling = background ? s.bgCeiling : s.ceiling;
  const n = background ? Math.round(s.bgCeiling * (s.adaptSeconds + 2.5)) : s.adaptRequests;
  emu.reset();
  emu.setFaults(
    background
      ? {
          throttleAboveRps: undefined,
          throttleRate: baseline ? undefined : s.bgShare,
          errorRate: undefined,
          latencyMs: s.latencyMs,
        }
      : { throttleAboveRps: s.apiLimit, throttleRate: undefined, errorRate: undefined, latencyMs: s.latencyMs },
  );
  progress(
    background
      ? `ratelimit background: the API throttles ${s.bgShare * 100}% of calls whatever the rate, ` +
          `ceiling ${ceiling}/s, ${s.procs} worker processes × ${s.concurrency}, ${n} requests`
      : `ratelimit adaptation: API throttles above ${s.apiLimit}/s, ceiling ` +
          `${ceiling}/s, ${s.procs} worker processes × ${s.concurrency}, ${n} requests`,
  );
  const fleet = await startFleet(
    emu,
    admin,
    fleetOptions(s, baseline ? "bench-rl-base" : background ? "bench-rl-bg" : "bench-rl-adapt", n, {
      rate: ceiling,
      burst: s.adaptBurst,
      minRate: 1,
    }),
  );
  const limiter = createRedisRateLimiter({ redis: admin, prefix: fleet.prefix });
  const rateAt: Array<[number, number]> = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      rateAt.push([Date.now(), (await limiter.getState(LIMIT_KEY)).rate]);
      await sleep(250);
    }
  })();
  let t0 = 0;
  let outcomeCount = 0;
  let events: Array<{
    requestId: string;
    type: string;
    attempts: number;
    completedAt: string;
    error?: { name: string };
  }> = [];
  let state: Awaited<ReturnType<typeof limiter.getState>>;
  let requestJobs: Record<string, number>;
  let workers: Awaited<ReturnType<typeof closeFleet>>;
  const deadlineMs = Math.max(s.drainTimeoutS * 1000, durationMs + 5000);
  try {
    t0 = await waitForFirstCall(() => acceptCalls(emu));
    for (;;) {
      outcomeCount = (await jobCounts(admin, fleet.prefix, OUTCOMES_QUEUE)).total;
      const now = Date.now();
      if ((outcomeCount >= n && now >= t0 + durationMs) || now > t0 + deadlineMs) break;
      await sleep(250);
    }
    await sleep(300); // a duplicate outcome would show up here
    const queue = new Queue(OUTCOMES_QUEUE, { connection: admin, prefix: fleet.prefix });
    try {
      const jobs = await queue.getJobs(["waiting", "active", "delayed", "prioritized", "completed", "failed"], 0, -1);
      events = jobs.map((j) => outcomeEventSchema.parse(j.data) as (typeof events)[number]);
    } finally {
      await queue.close();
    }
    requestJobs = (await jobCounts(admin, fleet.prefix, REQUESTS_QUEUE)).counts;
    state = await limiter.getState(LIMIT_KEY);
  } finally {
    sampling = false;
    await sampler;
    workers = await closeFleet(admin, fleet);
    emu.setFaults({ throttleAboveRps: undefined, throttleRate: undefined });
  }

  const all = acceptCalls(emu);
  const inRun = all.filter((c) => c.at >= t0 && c.at < t0 + durationMs);
  const after10 = inRun.filter((c) => c.at >= t0 + 10_000);
  const ok = (c: RecordedCall) => c.status === 200;
  const throttled = (c: RecordedCall) => c.errorType === "ThrottlingException";
  const okAfter10 = after10.filter(ok).length;
  const throttledAfter10 = after10.filter(throttled).length;
  const goodput = okAfter10 / ((durationMs - 10_000) / 1000);

  // Exactly one outcome event per enqueued request, on the outcomes queue.
  const perRequest = new Map<string, number>();
  for (const e of events) perRequest.set(e.requestId, (perRequest.get(e.requestId) ?? 0) + 1);
  const missing = fleet.jobIds.filter((id) => !perRequest.has(id)).length;
  const duplicated = [...perRequest.values()].filter((v) => v > 1).length;
  const accepted = events.filter((e) => e.type === "accepted").length;
  const failedBy: Record<string, number> = {};
  for (const e of events)
    if (e.type === "failed") failedBy[e.error?.name ?? "?"] = (failedBy[e.error?.name ?? "?"] ?? 0) + 1;
  const lastCompleted = Math.max(0, ...events.map((e) => Date.parse(e.completedAt)));
  // At the API: calls per invitation, and invitations accepted more than once (never expected).
  const byId = new Map<string, { calls: number; accepted: number }>();
  for (const c of all) {
    const e = byId.get(c.identifier ?? "") ?? { calls: 0, accepted: 0 };
    e.calls++;
    if (ok(c)) e.accepted++;
    byId.set(c.identifier ?? "", e);
  }

  const chartS = Math.max(s.adaptSeconds, Math.ceil((lastCompleted - t0) / 1000));
  const perSecOk = perSecond(all, t0, chartS, ok);
  const perSecThrottled = perSecond(all, t0, chartS, throttled);
  const rateSamples = rateAt.map(([t, r]) => [(t - t0) / 1000, r] as [number, number]).filter(([t]) => t >= 0);
  const svg = lineChartSvg({
    title: background
      ? `Background throttles: ${s.bgShare * 100}% of calls whatever ` +
        `the rate, ceiling ${ceiling}/s, ${s.procs} worker processes`
      : `Adaptation: API throttles above ${s.apiLimit}/s, ceiling ${ceiling}/s, ${s.procs} worker processes`,
    xLabel: "time since the first call (s)",
    yLabel: "calls per second",
    series: [
      { name: "accepted / s", points: perSecOk, color: "#2ca02c", width: 2, step: true },
      { name: "throttled / s", points: perSecThrottled, color: "#d62728", step: true },
      { name: "limiter rate (Redis)", points: rateSamples.filter(([t]) => t <= chartS), color: "#1f77b4" },
      {
        name: background ? `ceiling ${ceiling}/s` : `API limit ${s.apiLimit}/s`,
        points: [
          [0, reference],
          [chartS, reference],
        ],
        color: "#555",
        dashed: true,
      },
      {
        name: `end of window (${s.adaptSeconds} s)`,
        points: [
          [s.adaptSeconds, 0],
          [s.adaptSeconds, reference * 2],
        ],
        color: "#bbb",
        dashed: true,
      },
    ],
    xMax: chartS,
    yMax: Math.max(
      80,
      Math.ceil(Math.max(reference * 1.2, ...perSecThrottled.map((p) => p[1]), ...perSecOk.map((p) => p[1])) / 20) * 20,
    ),
  });
  const firstOkSecond = perSecOk.findIndex(([, v]) => v >= 0.9 * reference);
  const oneOutcomeEach = events.length === n && perRequest.size === n && missing === 0 && duplicated === 0;
  const result = {
    system:
      `${s.procs} × pc-invitations worker (dist/src/cli/main.js ` +
      `worker), requests from createProducer().enqueueMany`,
    kind,
    ...(background ? { backgroundThrottledShareOfApi: baseline ? 0 : s.bgShare } : { apiLimitRps: s.apiLimit }),
    ceilingRps: ceiling,
    burst: s.adaptBurst,
    processes: s.procs,
    concurrencyPerProcess: s.concurrency,
    durationS: s.adaptSeconds,
    windowFrom: "first AcceptConnectionInvitation call",
    apiLatencyMs: s.latencyMs,
    maxThrottleRequeues: s.maxThrottleRequeues,
    goodputAfter10sRps: round(goodput),
    goodputAfter10sPctOfApiLimit: round((100 * goodput) / reference, 1),
    throttledShareAfter10sPct: round((100 * throttledAfter10) / Math.max(1, after10.length), 2),
    callsAfter10s: after10.length,
    throttledAfter10s: throttledAfter10,
    firstSecondAt90PctOfApiLimit: firstOkSecond < 0 ? null : firstOkSecond + 1,
    limiterLearntBackgroundShare: state.backgroundThrottledShare,
    throttledFirst10s: inRun.filter((c) => c.at < t0 + 10_000 && throttled(c)).length,
    limiterAtEnd: { rate: state.rate, ceiling: state.ceiling, throttles: state.throttles },
    meanLimiterRateAfter10s: round(mean(rateSamples.filter(([t]) => t >= 10 && t < s.adaptSeconds).map(([, v]) => v))),
    requests: {
      enqueued: n,
      outcomeEvents: events.length,
      distinctRequestsWithOutcome: perRequest.size,
      missingOutcomes: missing,
      duplicatedOutcomes: duplicated,
      accepted,
      failed: failedBy,
      maxAttemptsInOutcome: Math.max(0, ...events.map((e) => e.attempts)),
      /** First call → completedAt of the last outcome event. */
      drainS: round((lastCompleted - t0) / 1000, 1),
      drainTimedOut: outcomeCount < n,
      requestJobsAtEnd: requestJobs,
      apiCalls: all.length,
      apiCallsThrottled: all.filter(throttled).length,
      invitationsAcceptedTwice: [...byId.values()].filter((e) => e.accepted > 1).length,
      maxCallsPerInvitation: Math.max(0, ...[...byId.values()].map((e) => e.calls)),
    },
    /** Per second since the first call: accepted and throttled calls, the limiter's rate at the end of the second. */
    timeline: {
      acceptedPerS: perSecOk.map(([, v]) => v),
      throttledPerS: perSecThrottled.map(([, v]) => v),
      limiterRateAtS: perSecOk.map(([sec]) =>
        round(rateSamples.filter(([t]) => t <= sec).at(-1)?.[1] ?? Number.NaN, 1),
      ),
    },
    workers,
    targets: background
      ? { goodputAtLeast80PctOfCeiling: goodput >= 0.8 * ceiling, everyRequestExactlyOneOutcome: oneOutcomeEach }
      : {
          goodputAtLeast90PctOfApiLimit: goodput >= 0.9 * s.apiLimit,
          throttledShareAtMost5Pct: throttledAfter10 <= 0.05 * after10.length,
          everyRequestExactlyOneOutcome: oneOutcomeEach,
        },
  };
  return { result, svg };
}

async function main(): Promise<void> {
  const s = settingsFromEnv();
  const started = Date.now();
  const emu = await PartnerCentralEmulator.start();
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const dir = join(repoRoot(), "bench", "results");
  await mkdir(dir, { recursive: true });
  try {
    // Each scenario BENCH_RL_RUNS times: the key figures as median/min/max over the runs, and the
    // last run in full (its per-second timeline is what the charts draw).
    const accuracyRuns: Array<Awaited<ReturnType<typeof benchAccuracy>>> = [];
    const adaptationRuns: Array<Awaited<ReturnType<typeof benchAdaptation>>> = [];
    const backgroundRuns: Array<Awaited<ReturnType<typeof benchAdaptation>>> = [];
    const baselineRuns: Array<Awaited<ReturnType<typeof benchAdaptation>>> = [];
    const wanted = (name: string) => s.only === "" || s.only.split(",").includes(name);
    // Written after every run, so a run that fails on a loaded machine keeps the runs before it.
    const write = async () => {
      const accuracy = accuracyRuns.at(-1);
      const adaptation = adaptationRuns.at(-1);
      const background = backgroundRuns.at(-1);
      const doc = {
        machine: {
          cpus: cpus().length,
          cpuModel: cpus()[0]?.model ?? "unknown",
          node: process.version,
          loadavgAtEnd: loadavg().map((x) => round(x)),
        },
        source: sourceInfo(repoRoot()),
        startedAt: new Date(started).toISOString(),
        durationS: round((Date.now() - started) / 1000, 1),
        runs: Math.max(accuracyRuns.length, adaptationRuns.length, backgroundRuns.length),
        runsPlanned: s.runs,
        ...(accuracy
          ? {
              accuracySpread: {
                gcraAchievedPctOfRate: spread(accuracyRuns.map((r) => r.result.gcra.achievedPctOfRate)),
                gcraMaxIn1s: spread(accuracyRuns.map((r) => r.result.gcra.maxIn1s)),
                gcraMaxIn1sPctOfRatePlusBurst: spread(accuracyRuns.map((r) => r.result.gcra.maxIn1sPctOfRatePlusBurst)),
                ...(accuracy.result.bullmq
                  ? { bullmqMaxIn1s: spread(accuracyRuns.map((r) => r.result.bullmq?.maxIn1s ?? NaN)) }
                  : {}),
              },
              accuracy: accuracy.result,
            }
          : {}),
        ...(adaptation
          ? {
              adaptationSpread: {
                goodputAfter10sPctOfApiLimit: spread(adaptationRuns.map((r) => r.result.goodputAfter10sPctOfApiLimit)),
                throttledShareAfter10sPct: spread(adaptationRuns.map((r) => r.result.throttledShareAfter10sPct)),
                missingOutcomes: spread(adaptationRuns.map((r) => r.result.requests.missingOutcomes)),
                duplicatedOutcomes: spread(adaptationRuns.map((r) => r.result.requests.duplicatedOutcomes)),
              },
              adaptation: adaptation.result,
            }
          : {}),
        ...(background
          ? {
              backgroundSpread: {
                goodputAfter10sPctOfCeiling: spread(backgroundRuns.map((r) => r.result.goodputAfter10sPctOfApiLimit)),
                // The limiter's own figure, whatever the workers' CPU allows: its mean rate after 10 s.
                limiterRateAfter10sPctOfCeiling: spread(
                  backgroundRuns.map((r) => round((100 * r.result.meanLimiterRateAfter10s) / r.result.ceilingRps, 1)),
                ),
                ...(baselineRuns.length === backgroundRuns.length
                  ? {
                      // The same fleet, no throttles, in the same run: what the machine allowed.
                      baselineGoodputAfter10sPctOfCeiling: spread(
                        baselineRuns.map((r) => r.result.goodputAfter10sPctOfApiLimit),
                      ),
                      goodputAfter10sVsBaseline: spread(
                        backgroundRuns.map((r, i) =>
                          round(r.result.goodputAfter10sRps / baselineRuns[i]!.result.goodputAfter10sRps, 3),
                        ),
                      ),
                    }
                  : {}),
                throttledShareAfter10sPct: spread(backgroundRuns.map((r) => r.result.throttledShareAfter10sPct)),
                missingOutcomes: spread(backgroundRuns.map((r) => r.result.requests.missingOutcomes)),
                duplicatedOutcomes: spread(backgroundRuns.map((r) => r.result.requests.duplicatedOutcomes)),
              },
              background: background.result,
            }
          : {}),
      };
      if (accuracy) await writeFile(join(dir, "ratelimit-accuracy.svg"), accuracy.svg);
      if (adaptation) await writeFile(join(dir, "ratelimit-adaptation.svg"), adaptation.svg);
      if (background) await writeFile(join(dir, "ratelimit-background.svg"), background.svg);
      progress(`wrote ${await writeResult("ratelimit.json", doc)} and the SVGs in ${doc.durationS} s`);
    };
    for (let run = 1; run <= s.runs; run++) {
      progress(`run ${run}/${s.runs}`);
      if (wanted("accuracy")) accuracyRuns.push(await benchAccuracy(emu, admin, s));
      if (wanted("adaptation")) adaptationRuns.push(await benchAdaptation(emu, admin, s, "cap"));
      if (wanted("background")) {
        backgroundRuns.push(await benchAdaptation(emu, admin, s, "background"));
        if (!s.skipBaseline) baselineRuns.push(await benchAdaptation(emu, admin, s, "baseline"));
      }
      await write();
    }
  } finally {
    await emu.close();
    admin.disconnect();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
