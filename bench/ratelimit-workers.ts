/**
 * Helpers of bench/ratelimit.ts: real `pc-invitations worker` processes (the built CLI, spawned
 * as users run it) fed by the real producer, their logs, the forked BullMQ-limiter processes of
 * the comparison, and the figures computed from the emulator's arrival log.
 */
import { fork, spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { PartnerCentralEmulator, RecordedCall } from "../src/emulator/index.js";
import { createProducer, type Producer } from "../src/producer/producer.js";
import { createRedisRateLimiter } from "../src/ratelimit/redis-rate-limiter.js";
import { maxInSlidingWindow } from "./window-stats.js";
import { BENCH_CREDENTIALS, REDIS_URL, deletePrefix, repoRoot, round, sleep, uniquePrefix } from "./common.js";
import type { BullmqChildStats, BullmqRunMessage } from "./ratelimit-child.js";

export const REQUESTS_QUEUE = "accept-invitation";
export const OUTCOMES_QUEUE = "invitation-outcomes";

export { repoRoot };

/** The built CLI, `pc-invitations`. */
export function cliPath(): string {
  const cli = join(repoRoot(), "dist", "src", "cli", "main.js");
  if (!existsSync(cli)) throw new Error(`${cli} not found: run npm run build first`);
  return cli;
}

/** What a worker process logged (pino JSON lines on stderr), by message, plus a few samples. */
export interface WorkerLog {
  lines: number;
  byMsg: Record<string, number>;
  /** Up to 5 lines at error level or above, and up to 5 warn lines other than throttles. */
  samples: string[];
  stdoutBytes: number;
}

export interface WorkerProcess {
  child: ChildProcess;
  log: WorkerLog;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node dist/src/cli/main.js worker` with a clean environment plus `env`. */
export function startWorkerProcess(env: Record<string, string>): WorkerProcess {
  const child = spawn(process.execPath, [cliPath(), "worker"], {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "/tmp",
      AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
      // Keep the host's AWS configuration out of the bench.
      AWS_CONFIG_FILE: "/dev/null",
      AWS_SHARED_CREDENTIALS_FILE: "/dev/null",
      REDIS_URL,
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const log: WorkerLog = { lines: 0, byMsg: {}, samples: [], stdoutBytes: 0 };
  let errorSamples = 0;
  let warnSamples = 0;
  let partial = "";
  child.stdout!.on("data", (d: Buffer) => (log.stdoutBytes += d.length));
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    const lines = (partial + chunk).split("\n");
    partial = lines.pop() ?? "";
    for (const line of lines) {
      if (line.trim() === "") continue;
      log.lines++;
      let msg = "(not JSON)";
      let level = 60;
      try {
        const o = JSON.parse(line) as { msg?: unknown; level?: unknown };
        msg = typeof o.msg === "string" ? o.msg : "(no msg)";
        level = typeof o.level === "number" ? o.level : 30;
      } catch {
        // kept as "(not JSON)", an error-level sample
      }
      log.byMsg[msg] = (log.byMsg[msg] ?? 0) + 1;
      if (level >= 50 && errorSamples < 5) {
        errorSamples++;
        log.samples.push(line.slice(0, 600));
      } else if (level === 40 && msg !== "throttled; job goes back" && warnSamples < 5) {
        warnSamples++;
        log.samples.push(line.slice(0, 600));
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.on("close", (code, signal) => res({ code, signal })),
  );
  return { child, log, exited };
}

/** Waits until `n` BullMQ workers are connected to the requests queue (bounded). */
export async function waitForWorkers(
  redis: Redis,
  prefix: string,
  n: number,
  workers: WorkerProcess[],
  timeoutMs = 30_000,
): Promise<number> {
  const queue = new Queue(REQUESTS_QUEUE, { connection: redis, prefix });
  const t0 = Date.now();
  try {
    for (;;) {
      const dead = workers.find((w) => w.child.exitCode !== null);
      if (dead)
        throw new Error(`a worker exited with ${dead.child.exitCode} during start-up: ${dead.log.samples.join("\n")}`);
      if ((await queue.getWorkersCount()) >= n) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`${n} workers not connected after ${timeoutMs} ms`);
      await sleep(100);
    }
  } finally {
    await queue.close();
  }
}

/**
 * SIGTERM to every worker (each stops taking jobs, finishes its in-flight ones and exits 0);
 * SIGKILL for any still running after `timeoutMs`. Returns exit codes and how long it took.
 */
export async function stopWorkers(
  workers: WorkerProcess[],
  timeoutMs = 20_000,
): Promise<{ exitCodes: Array<number | null>; killed: number; stopMs: number }> {
  const t0 = Date.now();
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill("SIGTERM");
  let killed = 0;
  const timer = setTimeout(() => {
    for (const w of workers)
      if (w.child.exitCode === null && w.child.signalCode === null) {
        killed++;
        w.child.kill("SIGKILL");
      }
  }, timeoutMs);
  const runs = await Promise.all(workers.map((w) => w.exited));
  clearTimeout(timer);
  return { exitCodes: runs.map((r) => r.code), killed, stopMs: Date.now() - t0 };
}

/** Sums the logs of several workers. */
export function mergeLogs(logs: WorkerLog[]): WorkerLog {
  const out: WorkerLog = { lines: 0, byMsg: {}, samples: [], stdoutBytes: 0 };
  for (const l of logs) {
    out.lines += l.lines;
    out.stdoutBytes += l.stdoutBytes;
    for (const [k, v] of Object.entries(l.byMsg)) out.byMsg[k] = (out.byMsg[k] ?? 0) + v;
    out.samples.push(...l.samples.slice(0, Math.max(0, 6 - out.samples.length)));
  }
  return out;
}

/** Jobs on a queue, by state, and their total. */
export async function jobCounts(
  redis: Redis,
  prefix: string,
  name: string,
): Promise<{ total: number; counts: Record<string, number> }> {
  const queue = new Queue(name, { connection: redis, prefix });
  try {
    const counts = await queue.getJobCounts(
      "waiting",
      "active",
      "delayed",
      "prioritized",
      "waiting-children",
      "completed",
      "failed",
    );
    return { total: Object.values(counts).reduce((a, b) => a + b, 0), counts };
  } finally {
    await queue.close();
  }
}

/** Waits until the first call appears in `calls()` (cheap while there are few), bounded. */
export async function waitForFirstCall(calls: () => RecordedCall[], timeoutMs = 20_000): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    const c = calls();
    if (c.length > 0) return Math.min(...c.map((x) => x.at));
    if (Date.now() - t0 > timeoutMs) throw new Error(`no API call within ${timeoutMs} ms`);
    await sleep(20);
  }
}

export interface AccuracyFigures {
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

export function accuracyFigures(
  times: number[],
  t0: number,
  durationMs: number,
  rate: number,
  burst: number,
): AccuracyFigures {
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
export function slidingRateSeries(
  times: number[],
  t0: number,
  durationMs: number,
  stepMs = 100,
): Array<[number, number]> {
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

/** Calls matching `pick` in each whole second after t0, as [second, count] (x = end of the second). */
export function perSecond(
  calls: RecordedCall[],
  t0: number,
  seconds: number,
  pick: (c: RecordedCall) => boolean,
): Array<[number, number]> {
  const bins = new Array<number>(seconds).fill(0);
  for (const c of calls) {
    const b = Math.floor((c.at - t0) / 1000);
    if (b >= 0 && b < seconds && pick(c)) bins[b]! += 1;
  }
  return bins.map((v, i) => [i + 1, v]);
}

export const mean = (xs: number[]) => (xs.length === 0 ? Number.NaN : xs.reduce((a, b) => a + b, 0) / xs.length);

// ─── the real system: producer + worker processes ────────────────────────────────────────────

export interface FleetOptions {
  /** Label of the fresh prefix, `{pci-<label>-<random>}`. */
  label: string;
  /** Fresh invitations seeded in the emulator and enqueued. */
  requests: number;
  catalog: string;
  /** The limit the workers share (RATE_LIMIT_KEY unset: `default`), set in Redis and in the env. */
  limitKey: string;
  limit: { rate: number; burst: number; minRate: number };
  procs: number;
  concurrency: number;
  logLevel: string;
  jobAttempts: number;
  backoffMs: number;
  maxThrottleRequeues: number;
}

export interface Fleet {
  prefix: string;
  producer: Producer;
  workers: WorkerProcess[];
  /** Request ids (job ids) returned by enqueueMany, in order. */
  jobIds: string[];
  enqueueMs: number;
  workersReadyMs: number;
}

/**
 * A fresh prefix with the limit set; the requests enqueued by the producer into the paused
 * requests queue; P worker processes started and connected; then the queue is resumed, so the
 * calls start with every worker up and nothing else running in the bench process.
 */
export async function startFleet(emu: PartnerCentralEmulator, admin: Redis, o: FleetOptions): Promise<Fleet> {
  const prefix = uniquePrefix(o.label);
  await createRedisRateLimiter({ redis: admin, prefix, defaults: o.limit }).setLimits(o.limitKey, o.limit);
  const invitations = emu.seedInvitations(o.requests, { catalog: o.catalog });
  const producer = createProducer({
    redis: admin,
    prefix,
    queueName: REQUESTS_QUEUE,
    retry: { attempts: o.jobAttempts, backoffDelayMs: o.backoffMs },
  });
  const fleet: Fleet = { prefix, producer, workers: [], jobIds: [], enqueueMs: 0, workersReadyMs: 0 };
  try {
    await producer.queue.pause();
    const t0 = Date.now();
    for (let i = 0; i < invitations.length; i += 500) {
      const res = await producer.enqueueMany(
        invitations.slice(i, i + 500).map((x) => ({ catalog: x.catalog, identifier: x.identifier })),
      );
      fleet.jobIds.push(...res.map((r) => r.jobId));
    }
    fleet.enqueueMs = Date.now() - t0;
    const env: Record<string, string> = {
      QUEUE_PREFIX: prefix,
      REQUESTS_QUEUE,
      OUTCOMES_QUEUE,
      PARTNERCENTRAL_ENDPOINT: emu.url,
      LOG_LEVEL: o.logLevel,
      WORKER_CONCURRENCY: String(o.concurrency),
      RATE_LIMIT_RPS: String(o.limit.rate),
      RATE_LIMIT_BURST: String(o.limit.burst),
      RATE_LIMIT_MIN_RPS: String(o.limit.minRate),
      JOB_ATTEMPTS: String(o.jobAttempts),
      BACKOFF_DELAY_MS: String(o.backoffMs),
      MAX_THROTTLE_REQUEUES: String(o.maxThrottleRequeues),
      SHUTDOWN_GRACE_MS: "10000",
    };
    for (let i = 0; i < o.procs; i++) fleet.workers.push(startWorkerProcess(env));
    // Generous: on a loaded shared machine three Node processes can take a minute to connect.
    const startTimeoutMs = Number(process.env.BENCH_RL_START_TIMEOUT_S || "120") * 1000;
    fleet.workersReadyMs = await waitForWorkers(admin, prefix, o.procs, fleet.workers, startTimeoutMs);
    await sleep(500); // let the processes' start-up CPU settle before the window opens
    await producer.queue.resume();
    return fleet;
  } catch (err) {
    await closeFleet(admin, fleet);
    throw err;
  }
}

/** Stops the workers (SIGTERM, then SIGKILL), closes the producer, deletes the prefix. */
export async function closeFleet(admin: Redis, fleet: Fleet) {
  const stopped = await stopWorkers(fleet.workers);
  await fleet.producer.close();
  await deletePrefix(admin, fleet.prefix);
  const log = mergeLogs(fleet.workers.map((w) => w.log));
  return {
    ...stopped,
    workersReadyMs: fleet.workersReadyMs,
    enqueueMs: fleet.enqueueMs,
    log: log.byMsg,
    logSamples: log.samples,
  };
}

// ─── BullMQ's own limiter, for comparison ────────────────────────────────────────────────────

/** Forks `n` bench/ratelimit-child.js processes, starts them together, collects their stats. */
export async function runBullmqChildren(
  n: number,
  run: Omit<BullmqRunMessage, "type">,
): Promise<{ startAt: number; stats: BullmqChildStats[] }> {
  const script = join(dirname(fileURLToPath(import.meta.url)), "ratelimit-child.js");
  const children: ChildProcess[] = [];
  const message = (c: ChildProcess, type: string) =>
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
    for (let i = 0; i < n; i++) children.push(fork(script, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] }));
    const ready = children.map((c) => message(c, "ready"));
    for (const c of children) c.send({ type: "run", ...run });
    await Promise.all(ready);
    const done = children.map((c) => message(c, "done"));
    const startAt = Date.now() + 300;
    for (const c of children) c.send({ type: "go", startAt });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>(
      (_, rej) =>
        (timer = setTimeout(() => rej(new Error("bench children did not finish in time")), run.durationMs + 30_000)),
    );
    try {
      const results = (await Promise.race([Promise.all(done), timeout])) as Array<{ stats: BullmqChildStats }>;
      return { startAt, stats: results.map((r) => r.stats) };
    } finally {
      clearTimeout(timer);
    }
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill("SIGTERM");
  }
}
