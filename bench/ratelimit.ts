/**
 * The shared adaptive rate limit, measured where it matters: at the API. Worker *processes*
 * (forked from this file with `--child`) call the emulator's AcceptConnectionInvitation through
 * the real SDK; the figures come from the emulator's arrival log (`calls()[].at`).
 *
 *   npm run build && node dist/bench/ratelimit.js
 *
 * Scenarios
 *  - accuracy: P processes × C callers, acquire → call, for S seconds at rate R, burst B (GCRA);
 *    then the same with BullMQ's own limiter (max R per 1000 ms, P processes with real Workers).
 *    Targets (GCRA): achieved rate ≥ 97% of R; busiest sliding 1 s ≤ 105% of R + B.
 *  - adaptation: the API throttles above L/s (`throttleAboveRps`) while the ceiling is 200/s.
 *    A throttled call goes back to its process's queue and is re-attempted. Targets after the
 *    first 10 s: goodput ≥ 90% of L, throttled share of calls ≤ 5%; every request ends accepted.
 *
 * Prints one JSON document, writes it to bench/results/ratelimit.json with two SVG charts next
 * to it. Progress on stderr (BENCH_QUIET=1 silences it). Knobs (env): BENCH_RL_SECONDS (30),
 * BENCH_RL_ADAPT_SECONDS (30), BENCH_RL_RATE (50), BENCH_RL_BURST (10), BENCH_RL_PROCS (4),
 * BENCH_RL_CONCURRENCY (8 per process), BENCH_RL_LATENCY_MS (20), BENCH_RL_API_LIMIT (40),
 * BENCH_RL_CEILING (200), BENCH_RL_ADAPT_BURST (10), BENCH_RL_ONLY (accuracy | adaptation),
 * BENCH_RL_SKIP_BULLMQ (1 = skip the BullMQ run), BENCH_RL_THROTTLE_AS_RETRY (1 = re-attempts
 * after a throttle count against the retry budget).
 */
import { fork, type ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { cpus, loadavg } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { PartnerCentralEmulator, type RecordedCall } from "../src/emulator/index.js";
import { createSdkInvitationApi } from "../src/aws/sdk-invitation-api.js";
import { classifyError } from "../src/aws/classify-error.js";
import { createRedisRateLimiter } from "../src/ratelimit/redis-rate-limiter.js";
import { RateLimitedError } from "../src/ratelimit/rate-limited-error.js";
import { maxInSlidingWindow } from "../src/ratelimit/window-stats.js";
import { BENCH_CREDENTIALS, REDIS_URL, deletePrefix, envInt, progress, round, uniquePrefix } from "./common.js";
import { lineChartSvg, type Series } from "./plot-svg.js";

const CATALOG = "AWS";
const LIMIT_KEY = "bench";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

// ─── child side ──────────────────────────────────────────────────────────────────────────────

interface RunMessage {
  type: "run";
  mode: "gcra" | "bullmq";
  redisUrl: string;
  prefix: string;
  endpoint: string;
  identifiers: string[];
  concurrency: number;
  durationMs: number;
  /** After the run: how long throttled requests may still be re-attempted. */
  drainMs: number;
  throttleAsRetry: boolean;
  queueName: string;
  bullmqMax: number;
}
interface GoMessage {
  type: "go";
  startAt: number;
}
export interface ChildStats {
  pid: number;
  /** Requests started (first attempts). */
  started: number;
  succeeded: number;
  /** Calls answered ThrottlingException. */
  throttled: number;
  otherErrors: number;
  /** Requests still waiting for a re-attempt when the drain ended. */
  pendingAtEnd: number;
  /** From the end of the run until this process's last request ended. */
  drainMs: number;
  ranOutOfIdentifiers: boolean;
}

const clientToken = (identifier: string) => `bench-${identifier}`;

async function child(): Promise<void> {
  const send = (m: unknown) => process.send!(m);
  const run = await new Promise<RunMessage>((r) => process.once("message", (m) => r(m as RunMessage)));
  const redis = new Redis(run.redisUrl, { maxRetriesPerRequest: null });
  const api = createSdkInvitationApi({ endpoint: run.endpoint, credentials: BENCH_CREDENTIALS, requestTimeoutMs: 10_000 });
  const stats: ChildStats = { pid: process.pid, started: 0, succeeded: 0, throttled: 0, otherErrors: 0, pendingAtEnd: 0, drainMs: 0, ranOutOfIdentifiers: false };
  const call = (identifier: string) => api.acceptInvitation({ catalog: CATALOG, identifier, clientToken: clientToken(identifier) });

  if (run.mode === "bullmq") {
    const worker = new Worker(
      run.queueName,
      async (job) => {
        try {
          await call((job.data as { identifier: string }).identifier);
          stats.succeeded++;
        } catch {
          stats.otherErrors++;
        }
      },
      { connection: redis, prefix: run.prefix, concurrency: run.concurrency, limiter: { max: run.bullmqMax, duration: 1000 }, autorun: false },
    );
    await worker.waitUntilReady();
    send({ type: "ready" });
    const go = await new Promise<GoMessage>((r) => process.once("message", (m) => r(m as GoMessage)));
    await sleep(go.startAt - Date.now());
    const running = worker.run();
    await sleep(go.startAt + run.durationMs - Date.now());
    await worker.close();
    await running;
    stats.started = stats.succeeded + stats.otherErrors;
  } else {
    const limiter = createRedisRateLimiter({ redis, prefix: run.prefix });
    send({ type: "ready" });
    const go = await new Promise<GoMessage>((r) => process.once("message", (m) => r(m as GoMessage)));
    await sleep(go.startAt - Date.now());
    const deadline = go.startAt + run.durationMs;
    const pending: string[] = [];
    let next = 0;
    let inFlight = 0;
    let lastEnd = deadline;
    const loop = async () => {
      for (;;) {
        const now = Date.now();
        if (now > deadline + run.drainMs) return;
        let identifier: string | undefined;
        let isReattempt = false;
        if (pending.length > 0) {
          identifier = pending.shift()!;
          isReattempt = true;
        } else if (now < deadline && next < run.identifiers.length) {
          identifier = run.identifiers[next++]!;
          stats.started++;
        } else {
          if (now < deadline) stats.ranOutOfIdentifiers = true;
          if (now >= deadline && inFlight === 0) return;
          await sleep(10);
          continue;
        }
        inFlight++;
        try {
          try {
            await limiter.acquire(LIMIT_KEY, { retry: isReattempt && run.throttleAsRetry });
          } catch (err) {
            if (!(err instanceof RateLimitedError)) throw err;
            pending.push(identifier);
            await sleep(Math.min(err.retryInMs, 1000));
            continue;
          }
          try {
            await call(identifier);
            stats.succeeded++;
            lastEnd = Date.now();
            await limiter.recordSuccess(LIMIT_KEY);
          } catch (err) {
            const c = classifyError(err);
            if (c.kind === "throttle") {
              stats.throttled++;
              pending.push(identifier);
              await limiter.recordThrottle(LIMIT_KEY, c.retryAfterMs);
            } else {
              stats.otherErrors++;
              lastEnd = Date.now();
            }
          }
        } finally {
          inFlight--;
        }
      }
    };
    await Promise.all(Array.from({ length: run.concurrency }, loop));
    stats.pendingAtEnd = pending.length;
    stats.drainMs = Math.max(0, lastEnd - deadline);
  }
  api.destroy();
  redis.disconnect();
  send({ type: "done", stats });
}

// ─── parent side ─────────────────────────────────────────────────────────────────────────────

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
  only: string;
  skipBullmq: boolean;
  throttleAsRetry: boolean;
}

function settingsFromEnv(): Settings {
  return {
    seconds: envInt("BENCH_RL_SECONDS", 30, 3),
    adaptSeconds: envInt("BENCH_RL_ADAPT_SECONDS", 30, 12),
    rate: envInt("BENCH_RL_RATE", 50, 1),
    burst: envInt("BENCH_RL_BURST", 10, 1),
    procs: envInt("BENCH_RL_PROCS", 4, 1),
    concurrency: envInt("BENCH_RL_CONCURRENCY", 8, 1),
    latencyMs: envInt("BENCH_RL_LATENCY_MS", 20, 0),
    apiLimit: envInt("BENCH_RL_API_LIMIT", 40, 1),
    ceiling: envInt("BENCH_RL_CEILING", 200, 1),
    adaptBurst: envInt("BENCH_RL_ADAPT_BURST", 10, 1),
    only: process.env.BENCH_RL_ONLY ?? "",
    skipBullmq: process.env.BENCH_RL_SKIP_BULLMQ === "1",
    throttleAsRetry: process.env.BENCH_RL_THROTTLE_AS_RETRY === "1",
  };
}

/** Forks `n` children, hands each its run, starts them together, and collects their stats. */
async function runChildren(n: number, run: (i: number) => Omit<RunMessage, "type">, durationMs: number, drainMs: number, onStart?: (startAt: number) => void): Promise<{ startAt: number; stats: ChildStats[] }> {
  const script = fileURLToPath(import.meta.url);
  const children: ChildProcess[] = [];
  const messages = (c: ChildProcess, type: string) =>
    new Promise<Record<string, unknown>>((res, rej) => {
      const onMsg = (m: Record<string, unknown>) => {
        if (m.type === type) {
          c.off("message", onMsg);
          res(m);
        }
      };
      c.on("message", onMsg);
      c.once("exit", (code) => rej(new Error(`bench child exited with ${code} before "${type}"`)));
    });
  try {
    for (let i = 0; i < n; i++) children.push(fork(script, ["--child"], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    const ready = children.map((c) => messages(c, "ready"));
    children.forEach((c, i) => c.send({ type: "run", ...run(i) }));
    await Promise.all(ready);
    const done = children.map((c) => messages(c, "done"));
    const startAt = Date.now() + 300;
    children.forEach((c) => c.send({ type: "go", startAt }));
    onStart?.(startAt);
    const timeout = sleep(durationMs + drainMs + 30_000).then(() => {
      throw new Error("bench children did not finish in time");
    });
    const results = (await Promise.race([Promise.all(done), timeout])) as Array<{ stats: ChildStats }>;
    return { startAt, stats: results.map((r) => r.stats) };
  } finally {
    for (const c of children) if (c.exitCode === null) c.kill();
  }
}

interface AccuracyFigures {
  calls: number;
  achievedRps: number;
  achievedPctOfRate: number;
  /** Calls after the first 2 s per second: the rate once any initial burst is spent. */
  steadyRps: number;
  /** Busiest sliding 1 s window [t, t + 1 s) of API arrivals. */
  maxIn1s: number;
  maxIn1sPctOfRatePlusBurst: number;
  maxIn1sAfterFirst2s: number;
  /** Busiest 100 ms: how bursty the calls are. */
  maxIn100ms: number;
}

function accuracyFigures(times: number[], t0: number, durationMs: number, rate: number, burst: number): AccuracyFigures {
  const steady = times.filter((t) => t >= t0 + 2000);
  const maxIn1s = maxInSlidingWindow(times, 1000);
  return {
    calls: times.length,
    achievedRps: round(times.length / (durationMs / 1000)),
    achievedPctOfRate: round((100 * times.length) / (durationMs / 1000) / rate, 1),
    steadyRps: round(steady.length / ((durationMs - 2000) / 1000)),
    maxIn1s,
    maxIn1sPctOfRatePlusBurst: round((100 * maxIn1s) / (rate + burst), 1),
    maxIn1sAfterFirst2s: maxInSlidingWindow(steady, 1000),
    maxIn100ms: maxInSlidingWindow(times, 100),
  };
}

/** Calls in the trailing 1 s window, sampled every `stepMs`: "calls per second" over time. */
function slidingRateSeries(times: number[], t0: number, durationMs: number, stepMs = 100): Array<[number, number]> {
  const t = [...times].sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  let lo = 0;
  let hi = 0;
  for (let s = 0; s <= durationMs; s += stepMs) {
    const end = t0 + s;
    while (hi < t.length && t[hi]! <= end) hi++;
    while (lo < hi && t[lo]! <= end - 1000) lo++;
    out.push([s / 1000, hi - lo]);
  }
  return out;
}

function perSecond(calls: RecordedCall[], t0: number, seconds: number, pick: (c: RecordedCall) => boolean): Array<[number, number]> {
  const bins = new Array<number>(seconds).fill(0);
  for (const c of calls) {
    const b = Math.floor((c.at - t0) / 1000);
    if (b >= 0 && b < seconds && pick(c)) bins[b]! += 1;
  }
  return bins.map((v, i) => [i + 1, v]);
}

const acceptCalls = (emu: PartnerCentralEmulator) => emu.calls({ operation: "AcceptConnectionInvitation" });

async function benchAccuracy(emu: PartnerCentralEmulator, admin: Redis, s: Settings) {
  const durationMs = s.seconds * 1000;
  const perChild = Math.ceil((s.rate * s.seconds + s.burst) / s.procs) * 2 + 50;

  emu.reset();
  emu.setFaults({ throttleAboveRps: undefined, errorRate: undefined, latencyMs: s.latencyMs });
  const ids = emu.seedInvitations(perChild * s.procs, { catalog: CATALOG }).map((i) => i.identifier);
  const gPrefix = uniquePrefix("bench-rl");
  await createRedisRateLimiter({ redis: admin, prefix: gPrefix }).setLimits(LIMIT_KEY, { rate: s.rate, burst: s.burst });
  progress(`ratelimit accuracy: GCRA ${s.rate}/s burst ${s.burst}, ${s.procs} processes × ${s.concurrency}, ${s.seconds} s`);
  const g = await runChildren(
    s.procs,
    (i) => ({ mode: "gcra", redisUrl: REDIS_URL, prefix: gPrefix, endpoint: emu.url, identifiers: ids.slice(i * perChild, (i + 1) * perChild),
      concurrency: s.concurrency, durationMs, drainMs: 0, throttleAsRetry: false, queueName: "", bullmqMax: 0 }),
    durationMs,
    0,
  );
  const gTimes = acceptCalls(emu).map((c) => c.at).filter((t) => t >= g.startAt && t < g.startAt + durationMs);
  await deletePrefix(admin, gPrefix);
  const gcra = { ...accuracyFigures(gTimes, g.startAt, durationMs, s.rate, s.burst), processes: g.stats.map((x) => x.started) };

  let bullmq: (AccuracyFigures & { processes: number[] }) | undefined;
  let bTimes: number[] = [];
  let bStart = 0;
  if (!s.skipBullmq) {
    emu.reset();
    const jobs = Math.ceil(s.rate * s.seconds * 1.3) + 100;
    const bIds = emu.seedInvitations(jobs, { catalog: CATALOG }).map((i) => i.identifier);
    const bPrefix = uniquePrefix("bench-rl-bullmq");
    const queue = new Queue("bench-accept", { connection: admin, prefix: bPrefix });
    for (let i = 0; i < bIds.length; i += 500) {
      await queue.addBulk(bIds.slice(i, i + 500).map((identifier) => ({ name: "accept", data: { identifier }, opts: { removeOnComplete: true, attempts: 1 } })));
    }
    progress(`ratelimit accuracy: BullMQ limiter max ${s.rate} per 1000 ms, ${s.procs} processes × ${s.concurrency}, ${s.seconds} s`);
    const b = await runChildren(
      s.procs,
      () => ({ mode: "bullmq", redisUrl: REDIS_URL, prefix: bPrefix, endpoint: emu.url, identifiers: [], concurrency: s.concurrency,
        durationMs, drainMs: 0, throttleAsRetry: false, queueName: "bench-accept", bullmqMax: s.rate }),
      durationMs,
      0,
    );
    bStart = b.startAt;
    bTimes = acceptCalls(emu).map((c) => c.at).filter((t) => t >= b.startAt && t < b.startAt + durationMs);
    await queue.close();
    await deletePrefix(admin, bPrefix);
    bullmq = { ...accuracyFigures(bTimes, b.startAt, durationMs, s.rate, s.burst), processes: b.stats.map((x) => x.started) };
  }

  const series: Series[] = [
    { name: `GCRA ${s.rate}/s burst ${s.burst}`, points: slidingRateSeries(gTimes, g.startAt, durationMs), color: "#1f77b4", width: 2 },
    ...(bullmq ? [{ name: `BullMQ max ${s.rate}/1000 ms`, points: slidingRateSeries(bTimes, bStart, durationMs), color: "#d62728" }] : []),
    { name: `rate ${s.rate}/s`, points: [[0, s.rate], [s.seconds, s.rate]], color: "#555", dashed: true },
    { name: `rate + burst ${s.rate + s.burst}`, points: [[0, s.rate + s.burst], [s.seconds, s.rate + s.burst]], color: "#999", dashed: true },
  ];
  const svg = lineChartSvg({
    title: `Accuracy: calls in the trailing 1 s at the API, ${s.procs} worker processes`,
    xLabel: "time (s)",
    yLabel: "calls in the last second",
    series,
    xMax: s.seconds,
  });
  const result = {
    limit: { rate: s.rate, burst: s.burst },
    processes: s.procs,
    concurrencyPerProcess: s.concurrency,
    durationS: s.seconds,
    apiLatencyMs: s.latencyMs,
    gcra,
    ...(bullmq ? { bullmq } : {}),
    targets: {
      achievedRateAtLeast97Pct: gcra.achievedPctOfRate >= 97,
      maxIn1sAtMost105PctOfRatePlusBurst: gcra.maxIn1sPctOfRatePlusBurst <= 105,
    },
  };
  return { result, svg };
}

async function benchAdaptation(emu: PartnerCentralEmulator, admin: Redis, s: Settings) {
  const durationMs = s.adaptSeconds * 1000;
  const drainMs = 20_000;
  const perChild = Math.ceil((s.apiLimit * s.adaptSeconds * 1.5) / s.procs) + 100;
  emu.reset();
  emu.setFaults({ throttleAboveRps: s.apiLimit, errorRate: undefined, latencyMs: s.latencyMs });
  const ids = emu.seedInvitations(perChild * s.procs, { catalog: CATALOG }).map((i) => i.identifier);
  const prefix = uniquePrefix("bench-rl-adapt");
  const limiter = createRedisRateLimiter({ redis: admin, prefix });
  await limiter.setLimits(LIMIT_KEY, { rate: s.ceiling, burst: s.adaptBurst, minRate: 1 });
  progress(`ratelimit adaptation: API throttles above ${s.apiLimit}/s, ceiling ${s.ceiling}/s, ${s.procs} processes × ${s.concurrency}, ${s.adaptSeconds} s`);

  const rateSamples: Array<[number, number]> = [];
  let sampling = true;
  let t0 = 0;
  const sampler = (async () => {
    while (sampling) {
      if (t0 > 0 && Date.now() >= t0) rateSamples.push([(Date.now() - t0) / 1000, (await limiter.getState(LIMIT_KEY)).rate]);
      await sleep(250);
    }
  })();
  const r = await runChildren(
    s.procs,
    (i) => ({ mode: "gcra", redisUrl: REDIS_URL, prefix, endpoint: emu.url, identifiers: ids.slice(i * perChild, (i + 1) * perChild),
      concurrency: s.concurrency, durationMs, drainMs, throttleAsRetry: s.throttleAsRetry, queueName: "", bullmqMax: 0 }),
    durationMs,
    drainMs,
    (startAt) => (t0 = startAt),
  );
  sampling = false;
  await sampler;
  const state = await limiter.getState(LIMIT_KEY);
  await deletePrefix(admin, prefix);
  emu.setFaults({ throttleAboveRps: undefined });

  const all = acceptCalls(emu);
  const inRun = all.filter((c) => c.at >= r.startAt && c.at < r.startAt + durationMs);
  const after10 = inRun.filter((c) => c.at >= r.startAt + 10_000);
  const ok = (c: RecordedCall) => c.status === 200;
  const throttled = (c: RecordedCall) => c.errorType === "ThrottlingException";
  const okAfter10 = after10.filter(ok).length;
  const throttledAfter10 = after10.filter(throttled).length;
  const goodput = okAfter10 / ((durationMs - 10_000) / 1000);

  // Every request ends: each identifier that was called has exactly one accepted call at the end.
  const byId = new Map<string, { calls: number; accepted: number; lastStatus: number }>();
  for (const c of all) {
    const e = byId.get(c.identifier ?? "") ?? { calls: 0, accepted: 0, lastStatus: 0 };
    e.calls++;
    if (ok(c)) e.accepted++;
    e.lastStatus = c.status;
    byId.set(c.identifier ?? "", e);
  }
  const unfinished = [...byId.values()].filter((e) => e.accepted === 0).length;
  const attempts = [...byId.values()].map((e) => e.calls);
  const totals = r.stats.reduce(
    (a, x) => ({ started: a.started + x.started, succeeded: a.succeeded + x.succeeded, throttled: a.throttled + x.throttled, otherErrors: a.otherErrors + x.otherErrors, pendingAtEnd: a.pendingAtEnd + x.pendingAtEnd }),
    { started: 0, succeeded: 0, throttled: 0, otherErrors: 0, pendingAtEnd: 0 },
  );
  const perSecOk = perSecond(all, r.startAt, s.adaptSeconds, ok);
  const perSecThrottled = perSecond(all, r.startAt, s.adaptSeconds, throttled);
  const svg = lineChartSvg({
    title: `Adaptation: API throttles above ${s.apiLimit}/s, ceiling ${s.ceiling}/s, ${s.procs} worker processes`,
    xLabel: "time (s)",
    yLabel: "calls per second",
    series: [
      { name: "accepted / s", points: perSecOk, color: "#2ca02c", width: 2, step: true },
      { name: "throttled / s", points: perSecThrottled, color: "#d62728", step: true },
      { name: "limiter rate (Redis)", points: rateSamples, color: "#1f77b4" },
      { name: `API limit ${s.apiLimit}/s`, points: [[0, s.apiLimit], [s.adaptSeconds, s.apiLimit]], color: "#555", dashed: true },
    ],
    xMax: s.adaptSeconds,
    yMax: Math.max(80, Math.ceil((Math.max(s.apiLimit * 2, ...perSecThrottled.map((p) => p[1]), ...perSecOk.map((p) => p[1]))) / 20) * 20),
  });
  const firstOkSecond = perSecOk.findIndex(([, v]) => v >= 0.9 * s.apiLimit);
  const result = {
    apiLimitRps: s.apiLimit,
    ceilingRps: s.ceiling,
    burst: s.adaptBurst,
    processes: s.procs,
    concurrencyPerProcess: s.concurrency,
    durationS: s.adaptSeconds,
    apiLatencyMs: s.latencyMs,
    throttleReattemptsCountAsRetries: s.throttleAsRetry,
    goodputAfter10sRps: round(goodput),
    goodputAfter10sPctOfApiLimit: round((100 * goodput) / s.apiLimit, 1),
    throttledShareAfter10sPct: round((100 * throttledAfter10) / Math.max(1, after10.length), 2),
    callsAfter10s: after10.length,
    throttledAfter10s: throttledAfter10,
    firstSecondAt90PctOfApiLimit: firstOkSecond < 0 ? null : firstOkSecond + 1,
    throttledFirst10s: inRun.filter((c) => c.at < r.startAt + 10_000 && throttled(c)).length,
    limiterAtEnd: { rate: state.rate, ceiling: state.ceiling, throttles: state.throttles },
    meanLimiterRateAfter10s: round(mean(rateSamples.filter(([t]) => t >= 10).map(([, v]) => v))),
    requests: {
      ...totals,
      calledIdentifiers: byId.size,
      unfinished,
      maxCallsPerRequest: Math.max(0, ...attempts),
      drainMs: Math.max(0, ...r.stats.map((x) => x.drainMs)),
    },
    targets: {
      goodputAtLeast90PctOfApiLimit: goodput >= 0.9 * s.apiLimit,
      throttledShareAtMost5Pct: throttledAfter10 <= 0.05 * after10.length,
      everyRequestEnded: unfinished === 0 && totals.pendingAtEnd === 0 && totals.otherErrors === 0,
    },
  };
  return { result, svg };
}

const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

/** bench/results next to the sources, whether run from dist/bench or from bench/. */
function resultsDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const root = here.split(/[\\/]/).slice(-2, -1)[0] === "dist" ? resolve(here, "..", "..") : resolve(here, "..");
  return join(root, "bench", "results");
}

async function main(): Promise<void> {
  const s = settingsFromEnv();
  const started = Date.now();
  const emu = await PartnerCentralEmulator.start();
  const admin = new Redis(REDIS_URL, { maxRetriesPerRequest: null });
  const dir = resultsDir();
  await mkdir(dir, { recursive: true });
  try {
    const accuracy = s.only === "adaptation" ? undefined : await benchAccuracy(emu, admin, s);
    const adaptation = s.only === "accuracy" ? undefined : await benchAdaptation(emu, admin, s);
    const doc = {
      machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", node: process.version, loadavgAtEnd: loadavg().map((x) => round(x)) },
      startedAt: new Date(started).toISOString(),
      durationS: round((Date.now() - started) / 1000, 1),
      ...(accuracy ? { accuracy: accuracy.result } : {}),
      ...(adaptation ? { adaptation: adaptation.result } : {}),
    };
    if (accuracy) await writeFile(join(dir, "ratelimit-accuracy.svg"), accuracy.svg);
    if (adaptation) await writeFile(join(dir, "ratelimit-adaptation.svg"), adaptation.svg);
    const json = JSON.stringify(doc, null, 2);
    await writeFile(join(dir, "ratelimit.json"), json + "\n");
    process.stdout.write(json + "\n");
    progress(`wrote ${join(dir, "ratelimit.json")} and the SVGs in ${doc.durationS} s`);
  } finally {
    await emu.close();
    admin.disconnect();
  }
}

const entry = process.argv.includes("--child") ? child : main;
entry().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
