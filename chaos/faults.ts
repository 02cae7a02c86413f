/**
 * One function per fault. Each injects its fault into a running system, waits until the fault is
 * over (Redis back, window passed), and says how much it injected. docs/chaos.md describes what
 * each one stands for and what the system must still guarantee.
 */
import type { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { PartnerCentralEmulator, RecordedCall } from "../src/emulator/index.js";
import type { FaultKind, ChaosOptions } from "./options.js";
import type { Child } from "./processes.js";
import { type AofCut, AofFollower, type ChaosRedis, type FollowedAofPosition, type Fsync } from "./redis-server.js";
import type { InjectedJob } from "./evaluate.js";

export interface FaultContext {
  o: ChaosOptions;
  redis: ChaosRedis;
  /** The harness's own connection (commands queue while Redis is away). */
  admin: Redis;
  requestsQueue: Queue;
  prefix: string;
  emulator: PartnerCentralEmulator;
  workers(): Child[];
  startWorker(): Child;
  /** Seeds n more invitations and starts a producer process for them, all released at once. */
  startLateProducer(n: number): Promise<Child>;
  consumer(): Child;
  restartConsumer(): Promise<Child>;
  injectedJobs: InjectedJob[];
  /** Each simulated host crash: when, and the AOF it cut (read after the run: the writes it lost). */
  hostCrashes: Array<{ at: number; cut: AofCut | undefined }>;
  progress(line: string): void;
}

/** What one injection did: a count (processes killed, answers faulted, jobs written…) and details. */
export interface Injection {
  count: number;
  detail?: Record<string, unknown>;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * Stops Redis under the given fsync policy and starts it again on its AOF. A SIGKILL under
 * everysec stands for the host going down, not only the process: on Linux a killed process loses
 * nothing the kernel has (the page cache), but a host crash loses what was not fsynced yet, up to
 * the last ~1 s. So that fault is a host crash simulated exactly: Redis is stopped with SIGTERM,
 * which writes and fsyncs everything it acknowledged, and the AOF is then cut back to its size of
 * ~1 s before; what the cut drops is what the crash lost, and the harness knows exactly what that
 * was (aof.ts). A SIGKILL would also drop Redis's AOF buffer, a write it postpones while a slow
 * fsync runs (up to 2 s, replies already sent), which nobody could tell afterwards. Under always
 * every acknowledged write was fsynced: nothing is cut.
 */
async function restartRedis(ctx: FaultContext, signal: "SIGKILL" | "SIGTERM", fsync: Fsync): Promise<Injection> {
  // The policy in force when the server goes down is what decides what survives.
  await ctx.admin.config("SET", "appendfsync", fsync);
  const hostCrash = signal === "SIGKILL" && fsync === "everysec";
  const positions: FollowedAofPosition[] = [];
  const follower = new AofFollower(ctx.redis);
  // The whole file is read once first (up to a few seconds under load), before the sampling starts.
  if (hostCrash) await follower.position();
  const until = Date.now() + (hostCrash ? 1300 : 300);
  while (Date.now() < until) {
    if (hostCrash) {
      const p = await follower.position();
      if (p) positions.push(p);
    }
    await sleep(100);
  }
  const at = Date.now();
  await ctx.redis.stop(hostCrash ? "SIGTERM" : signal);
  let crash: Record<string, unknown> = {};
  if (hostCrash) {
    const lastFsynced = positions.filter((p) => p.at <= at - 1000).at(-1);
    const cut = lastFsynced ? await ctx.redis.truncateAof(lastFsynced, follower) : undefined;
    // What the cut dropped is read after the run (harness.ts): the evaluation allows a loss or a
    // republication only for the writes it names.
    ctx.hostCrashes.push({ at, cut });
    crash = {
      aofBytesCut: cut ? cut.droppedBytes.length : null,
      ...(lastFsynced ? { msOfWritesCut: at - lastFsynced.at } : {}),
    };
  }
  await sleep(ctx.o.redisDownMs);
  const t = Date.now();
  await ctx.redis.spawn("everysec");
  return {
    count: 1,
    detail: {
      signal: hostCrash ? "SIGTERM, then the AOF cut back (a host crash)" : signal,
      appendfsync: fsync,
      downMs: Date.now() - at,
      loadMs: Date.now() - t,
      ...crash,
    },
  };
}

let injectedSeq = 0;

export const FAULTS: Record<FaultKind, (ctx: FaultContext) => Promise<Injection>> = {
  async "worker-kill"(ctx) {
    const alive = ctx.workers().filter((w) => w.alive());
    const victim = alive[Math.floor(Math.random() * alive.length)];
    if (!victim) return { count: 0 };
    victim.proc.kill("SIGKILL");
    await victim.exited;
    await sleep(200);
    ctx.startWorker();
    return { count: 1, detail: { killed: victim.name } };
  },

  async "api-5xx-before"(ctx) {
    const from = Date.now();
    ctx.emulator.setFaults({ errorRate: 0.3 });
    await sleep(ctx.o.faultWindowMs);
    ctx.emulator.setFaults({ errorRate: undefined });
    const faulted = ctx.emulator
      .calls()
      .filter((c) => c.at >= from && c.status === 500 && c.errorType === "InternalServerException").length;
    return { count: faulted, detail: { errorRate: 0.3, windowMs: ctx.o.faultWindowMs } };
  },

  async "api-5xx-after"(ctx) {
    const times = ctx.o.scriptedFaults;
    const from = Date.now();
    ctx.emulator.script({
      operation: "AcceptConnectionInvitation",
      times,
      error: "InternalServerException",
      applyFirst: true,
    });
    const faulted = await waitForFaultedCalls(
      ctx,
      from,
      times,
      (c) => c.status === 500 && c.errorType === "InternalServerException",
    );
    return { count: faulted, detail: { scripted: times } };
  },

  async "api-connection-reset"(ctx) {
    const half = Math.ceil(ctx.o.scriptedFaults / 2);
    const from = Date.now();
    ctx.emulator.script({ operation: "AcceptConnectionInvitation", times: half, error: "ConnectionReset" });
    ctx.emulator.script({
      operation: "AcceptConnectionInvitation",
      times: half,
      error: "ConnectionReset",
      applyFirst: true,
    });
    const faulted = await waitForFaultedCalls(ctx, from, 2 * half, (c) => c.errorType === "ConnectionReset");
    return { count: faulted, detail: { resetBeforeTheOperation: half, resetAfterTheOperation: half } };
  },

  async "redis-connection-reset"(ctx) {
    // Every connection to Redis but the harness's own is dropped at once, mid-command for some:
    // blocking waits, WATCH…EXEC transactions, lock renewals. The clients reconnect by themselves.
    const killed = Number(await ctx.admin.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"));
    await sleep(200);
    return { count: killed, detail: { connectionsDropped: killed } };
  },

  async "invalid-job"(ctx) {
    // JSON, but not what a producer writes: the worker must answer it with an InvalidJob outcome.
    for (let i = 0; i < ctx.o.corruptJobs; i++) {
      const id = `chaos-invalid-${process.pid}-${++injectedSeq}`;
      await ctx.requestsQueue.add(
        "accept",
        { v: 1, request: { catalog: "AWS" }, note: "written by the chaos harness" },
        { jobId: id, attempts: ctx.o.jobAttempts },
      );
      ctx.injectedJobs.push({ id, kind: "invalid-json" });
    }
    return { count: ctx.o.corruptJobs };
  },

  async "corrupt-job"(ctx) {
    // Data that is not JSON at all, written straight into the job hash. The job is added delayed
    // so no worker can take it before its data is replaced, then promoted to waiting.
    for (let i = 0; i < ctx.o.corruptJobs; i++) {
      const id = `chaos-notjson-${process.pid}-${++injectedSeq}`;
      const job = await ctx.requestsQueue.add(
        "accept",
        { placeholder: true },
        { jobId: id, delay: 3_600_000, attempts: ctx.o.jobAttempts },
      );
      await ctx.admin.hset(ctx.requestsQueue.toKey(id), "data", '{"v":1,"request":{"catalog":"AWS", <truncated');
      await job.promote();
      ctx.injectedJobs.push({ id, kind: "not-json" });
    }
    return { count: ctx.o.corruptJobs };
  },

  async "consumer-throw"(ctx) {
    const c = ctx.consumer();
    const before = c.lines.filter((l) => l.thrown).length;
    c.send({ throwRate: 0.5 });
    await sleep(ctx.o.faultWindowMs);
    c.send({ throwRate: 0 });
    return {
      count: c.lines.filter((l) => l.thrown).length - before,
      detail: { throwRate: 0.5, windowMs: ctx.o.faultWindowMs },
    };
  },

  async "consumer-kill"(ctx) {
    const c = ctx.consumer();
    const seen = c.lines.length;
    c.send({ hangNext: true });
    // Killed in the middle of a handler when there is an event to handle; if none comes, killed idle.
    const deadline = Date.now() + 15_000;
    let hanging: unknown;
    while (Date.now() < deadline && !(hanging = c.lines.slice(seen).find((l) => l.hanging)?.hanging)) await sleep(50);
    c.proc.kill("SIGKILL");
    await c.exited;
    await ctx.restartConsumer();
    return { count: 1, detail: { midHandler: hanging ?? null } };
  },

  async "redis-freeze"(ctx) {
    ctx.redis.freeze();
    await sleep(ctx.o.freezeMs);
    ctx.redis.thaw();
    return { count: 1, detail: { frozenMs: ctx.o.freezeMs, lockDurationMs: ctx.o.lockDurationMs } };
  },

  "redis-term-always": (ctx) => restartRedis(ctx, "SIGTERM", "always"),
  "redis-term-everysec": (ctx) => restartRedis(ctx, "SIGTERM", "everysec"),
  "redis-kill-always": (ctx) => restartRedis(ctx, "SIGKILL", "always"),
  "redis-kill-everysec": (ctx) => restartRedis(ctx, "SIGKILL", "everysec"),

  async "redis-full"(ctx) {
    const used = await usedMemory(ctx);
    const [, original] = (await ctx.admin.config("GET", "maxmemory")) as [string, string];
    const limit = Math.max(1, Math.floor(used / 2));
    await ctx.admin.config("SET", "maxmemory", String(limit));
    // A producer that starts while Redis is full (a new pod, a restarted API server): its first
    // writes are refused; once Redis has room again it must get its requests through.
    const late = Math.max(5, Math.ceil(ctx.o.requests / 100));
    await ctx.startLateProducer(late);
    await sleep(ctx.o.redisFullMs);
    await ctx.admin.config("SET", "maxmemory", original);
    return {
      count: 1,
      detail: { usedBytes: used, maxmemoryBytes: limit, fullMs: ctx.o.redisFullMs, producerStartedWhileFull: late },
    };
  },

  async "redis-restart-full"(ctx) {
    // Redis comes back from a restart (a failover, a move to a smaller instance) with less memory
    // than its data: it loads the AOF, then refuses writes. Its script cache starts empty, so
    // every client's first use of every script falls in the full window.
    const used = await usedMemory(ctx);
    const limit = Math.max(1, Math.floor(used / 2));
    const at = Date.now();
    await ctx.redis.stop("SIGTERM");
    await ctx.redis.spawn("everysec", { maxmemoryBytes: limit });
    const late = Math.max(5, Math.ceil(ctx.o.requests / 100));
    await ctx.startLateProducer(late);
    await sleep(ctx.o.redisFullMs);
    await ctx.admin.config("SET", "maxmemory", "0");
    return {
      count: 1,
      detail: { usedBytes: used, maxmemoryBytes: limit, fullMs: Date.now() - at, producerStartedWhileFull: late },
    };
  },
};

async function usedMemory(ctx: FaultContext): Promise<number> {
  const info = await ctx.admin.info("memory");
  return Number(/^used_memory:(\d+)/m.exec(info)?.[1] ?? "0");
}

/**
 * Waits (bounded) until `times` Accept calls since `from` were answered with the scripted fault
 * (scripts take the next matching calls), and returns how many were.
 */
async function waitForFaultedCalls(
  ctx: FaultContext,
  from: number,
  times: number,
  faulted: (c: RecordedCall) => boolean,
): Promise<number> {
  const deadline = Date.now() + Math.max(5000, ctx.o.faultWindowMs * 3);
  let n = 0;
  while (
    (n = ctx.emulator
      .calls({ operation: "AcceptConnectionInvitation" })
      .filter((c) => c.at >= from && faulted(c)).length) < times &&
    Date.now() < deadline
  )
    await sleep(50);
  return n;
}
