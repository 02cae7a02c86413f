/**
 * `npm run bench:cost`: what pc-invitations' guarantees cost per request, beside the least a
 * BullMQ + SDK pipeline can do (bench/cost-bare-child.ts), measured side by side in one run:
 *
 * Three phases, each starting with all of its input present, so no figure depends on how fast the
 * previous stage happened to be (an idle BullMQ worker polls: ~7 commands per empty fetch):
 *   1. enqueue     N requests (enqueueMany / addBulk, batches of 500), the requests queue paused;
 *   2. processing  the queue resumed; the worker alone, until N outcome events wait (LLEN / 20 ms);
 *   3. consuming   the outcome consumer (consumeOutcomes / a plain Worker) reads the N events.
 *
 *   workerCpuMsPerRequest   CPU of the worker process (a child: `pc-invitations worker`, or the
 *                           bare worker) during phase 2, from /proc, / N
 *   redisCommandsPerRequest commands Redis executed (INFO commandstats, scripts' inner commands
 *                           included) in phases 1 + 2, / N; also enqueueCommandsPerRequest,
 *                           processingCommandsPerRequest and (not in the total)
 *                           consumingCommandsPerRequest; redisCommandsByName per phase
 *   redisBytesPerRequest    used_memory retained once every request is finished and consumed
 *                           (finished jobs and outcome events kept for their retention, records), / N
 *
 * Each side runs on its own redis-server (started here, FLUSHALL between measurements) against an
 * in-process emulator without latency; N requests (default 2000), worker concurrency 16, the
 * shared limit out of the way (100 000/s). BENCH_COST_RUNS runs (default 3), the order of the sides
 * alternating; medians and min/max of the per-run figures and ratios. One JSON document on stdout,
 * written to bench/results/cost.json; progress on stderr.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { Queue, Worker } from "bullmq";
import { Redis } from "ioredis";
import { PartnerCentralEmulator } from "../src/emulator/index.js";
import { createProducer } from "../src/producer/producer.js";
import { consumeOutcomes } from "../src/outcomes/consume.js";
import { deriveClientToken } from "../src/request-record/identity.js";
import { readHeartbeat } from "../src/observability/heartbeat.js";
import {
  BENCH_CREDENTIALS,
  envInt,
  progress,
  repoRoot,
  round,
  sleep,
  sourceInfo,
  spread,
  uniquePrefix,
  writeResult,
} from "./common.js";

const N = envInt("BENCH_COST_N", 2000, 100);
const RUNS = envInt("BENCH_COST_RUNS", 3, 1);
const CONCURRENCY = envInt("BENCH_COST_CONCURRENCY", 16, 1);
const BATCH = 500;
/** BENCH_COST_PROFILE=DIR: the worker children write V8 CPU profiles there (--cpu-prof); see bench/README.md. */
const PROFILE_DIR = process.env.BENCH_COST_PROFILE || "";
const profileArgs = PROFILE_DIR ? ["--cpu-prof", `--cpu-prof-dir=${PROFILE_DIR}`] : [];
const CLK_TCK = 100; // Linux USER_HZ

type Side = "pcInvitations" | "bare";
interface SideResult {
  workerCpuMsPerRequest: number;
  redisCommandsPerRequest: number;
  /** Of which: the producer's (enqueueMany / addBulk) and the worker's. */
  enqueueCommandsPerRequest: number;
  processingCommandsPerRequest: number;
  /** Reading the outcome events afterwards (consumeOutcomes / a plain Worker): not in redisCommandsPerRequest. */
  consumingCommandsPerRequest: number;
  redisBytesPerRequest: number;
  /** MEMORY USAGE per request by key shape (bytesByKeyShape). */
  redisBytesByKey: Record<string, number>;
  wallMs: number;
  /** Per request, by command (scripts' inner commands included), most first, for each phase. */
  redisCommandsByName: {
    enqueue: Record<string, number>;
    processing: Record<string, number>;
    consuming: Record<string, number>;
  };
}

/** CPU (user + system) of a process so far, ms, from /proc. */
function procCpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
}

async function startRedisServer(): Promise<{ url: string; admin: Redis; stop(): Promise<void> }> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  const admin = new Redis({ port, host: "127.0.0.1", maxRetriesPerRequest: null, retryStrategy: () => 50 });
  admin.on("error", () => {});
  for (let i = 0; i < 200 && (await admin.ping().catch(() => "")) !== "PONG"; i++) await sleep(50);
  return {
    url: `redis://127.0.0.1:${port}`,
    admin,
    async stop() {
      admin.disconnect();
      child.kill("SIGKILL");
    },
  };
}

async function commandStats(admin: Redis): Promise<Record<string, number>> {
  const text = await admin.info("commandstats");
  return Object.fromEntries([...text.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)].map((m) => [m[1]!, Number(m[2])]));
}
/**
 * Where the retained bytes go: MEMORY USAGE (SAMPLES 0: every element) of every key under
 * `prefix`, summed by key shape (the request's id and other ids replaced by `*`), / N, most first.
 * The per-key figures leave out Redis's own overhead per key (the dict entry), which used_memory
 * counts: their sum is below redisBytesPerRequest.
 */
async function bytesByKeyShape(admin: Redis, prefix: string): Promise<Record<string, number>> {
  const sums = new Map<string, number>();
  let cursor = "0";
  do {
    const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
    cursor = next;
    const pipe = admin.pipeline();
    for (const k of keys) pipe.memory("USAGE", k, "SAMPLES", 0);
    const sizes = (await pipe.exec()) ?? [];
    keys.forEach((k, i) => {
      // `:<queue>:<id>…`: the queue's name and lowercase words (events, idem, by-identifier…) kept.
      const shape = k
        .slice(prefix.length)
        .split(":")
        .map((part, i) => (i <= 1 || /^[a-z-]+$/.test(part) ? part : "*"))
        .join(":");
      sums.set(shape, (sums.get(shape) ?? 0) + Number(sizes[i]?.[1] ?? 0));
    });
  } while (cursor !== "0");
  return Object.fromEntries([...sums].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, round(v / N, 1)]));
}

async function usedMemory(admin: Redis): Promise<number> {
  return Number(/used_memory:(\d+)/.exec(await admin.info("memory"))?.[1]);
}

function waitForLine(
  child: ChildProcess,
  stream: "stdout" | "stderr",
  needle: string,
  timeoutMs = 30_000,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let text = "";
    const timer = setTimeout(
      () => reject(new Error(`no "${needle}" from the child within ${timeoutMs} ms`)),
      timeoutMs,
    );
    child[stream]!.on("data", (d: Buffer) => {
      if (text.length < 1_000_000) text += d;
      if (text.includes(needle)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once("exit", (code) => reject(new Error(`the child exited (${code}) before "${needle}"`)));
  });
}

async function waitForHealthy(file: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await readHeartbeat(file, 60_000)).ok) {
    if (Date.now() > deadline) throw new Error(`no healthy heartbeat in ${file} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once("exit", r));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(20_000).then(() => child.kill("SIGKILL"))]);
}

async function measure(side: Side, url: string, admin: Redis, emu: PartnerCentralEmulator): Promise<SideResult> {
  await admin.flushall();
  const prefix = uniquePrefix(side === "bare" ? "cost-bare" : "cost");
  const invitations = emu.seedInvitations(N, { catalog: "AWS" });
  // Readiness of `pc-invitations worker`, whatever LOG_LEVEL says: its first healthy heartbeat.
  const healthFile = join(tmpdir(), `pci-cost-${process.pid}-${Date.now()}.health`);
  const child =
    side === "bare"
      ? spawn(process.execPath, [...profileArgs, join(repoRoot(), "dist", "bench", "cost-bare-child.js")], {
          env: { ...process.env, REDIS_URL: url, PREFIX: prefix, ENDPOINT: emu.url, CONCURRENCY: String(CONCURRENCY) },
          stdio: ["ignore", "pipe", "pipe"],
        })
      : spawn(process.execPath, [...profileArgs, join(repoRoot(), "dist", "src", "cli", "main.js"), "worker"], {
          env: {
            ...process.env,
            REDIS_URL: url,
            QUEUE_PREFIX: prefix,
            PARTNERCENTRAL_ENDPOINT: emu.url,
            AWS_ACCESS_KEY_ID: BENCH_CREDENTIALS.accessKeyId,
            AWS_SECRET_ACCESS_KEY: BENCH_CREDENTIALS.secretAccessKey,
            WORKER_CONCURRENCY: String(CONCURRENCY),
            RATE_LIMIT_RPS: "100000",
            RATE_LIMIT_BURST: "100000",
            LOG_LEVEL: process.env.BENCH_COST_LOG_LEVEL || "info",
            HEALTH_FILE: healthFile,
          },
          stdio: ["ignore", "pipe", "pipe"],
        });
  child.stdout!.resume();
  child.stderr!.resume();
  try {
    if (side === "bare") await waitForLine(child, "stdout", "ready");
    else await waitForHealthy(healthFile);
    // Phase 1, enqueue: the requests queue is paused, so the worker takes nothing yet and the
    // processing phase starts with every job waiting (no idle polls that depend on how fast the
    // producer is). Phase 2, processing: from resume to the N-th outcome consumed.
    const requestsQueueName = side === "bare" ? "requests" : "accept-invitation";
    const controlConnection = new Redis(url, { maxRetriesPerRequest: null });
    const control = new Queue(requestsQueueName, { connection: controlConnection, prefix });
    await control.pause();
    await admin.config("RESETSTAT");
    const memBefore = await usedMemory(admin);

    let startConsumer: (count: () => void) => void;
    let closeAll: () => Promise<void>;
    const outcomesWait = `${prefix}:${side === "bare" ? "outcomes" : "invitation-outcomes"}:wait`;
    if (side === "bare") {
      const connection = new Redis(url, { maxRetriesPerRequest: null });
      const queue = new Queue("requests", { connection, prefix });
      for (let i = 0; i < N; i += BATCH) {
        await queue.addBulk(
          invitations.slice(i, i + BATCH).map((inv) => ({
            name: "accept",
            data: {
              catalog: inv.catalog,
              identifier: inv.identifier,
              clientToken: deriveClientToken(`${inv.catalog}.${inv.identifier}`),
            },
            opts: {
              jobId: `${inv.catalog}.${inv.identifier}`,
              attempts: 6,
              backoff: { type: "exponential", delay: 1000 },
              removeOnComplete: { age: 86_400 },
              removeOnFail: { age: 86_400 },
            },
          })),
        );
      }
      let consumer: Worker | undefined;
      startConsumer = (count) => {
        consumer = new Worker("outcomes", async () => count(), {
          connection: connection.duplicate(),
          prefix,
          concurrency: 1,
        });
      };
      closeAll = async () => {
        await consumer?.close();
        await queue.close();
        connection.disconnect();
      };
    } else {
      const redis = new Redis(url, { maxRetriesPerRequest: null });
      const producer = createProducer({ redis, prefix });
      for (let i = 0; i < N; i += BATCH)
        await producer.enqueueMany(
          invitations.slice(i, i + BATCH).map((inv) => ({ catalog: inv.catalog, identifier: inv.identifier })),
        );
      let consumer: { close(): Promise<void> } | undefined;
      startConsumer = (count) => {
        consumer = consumeOutcomes(() => count(), { redis, prefix });
      };
      closeAll = async () => {
        await consumer?.close();
        await producer.close();
        redis.disconnect();
      };
    }
    const enqueueStats = await commandStats(admin);

    // Phase 2, processing: the worker alone, until every outcome event waits on the outcomes queue
    // (one LLEN per 20 ms to know, not counted).
    const cpuBefore = procCpuMs(child.pid!);
    const started = performance.now();
    await control.resume();
    let polls = 0;
    while ((await admin.llen(outcomesWait)) < N) {
      polls++;
      await sleep(20);
    }
    polls++;
    const wallMs = performance.now() - started;
    const cpuAfter = procCpuMs(child.pid!);
    // Let completions (moveToFinished of the last jobs) land before counting.
    await sleep(300);
    // The bench's own polls are not the system's work: a slower run would otherwise count more.
    const processedRaw = await commandStats(admin);
    const processedStats = { ...processedRaw, llen: (processedRaw.llen ?? 0) - polls };

    // Phase 3, consuming: the outcome consumer reads the N events.
    let consumed = 0;
    await new Promise<void>((resolve) => startConsumer(() => ++consumed === N && resolve()));
    await sleep(300);
    const stats = await commandStats(admin);
    await control.close();
    controlConnection.disconnect();
    const total = (st: Record<string, number>) => Object.values(st).reduce((a, b) => a + b, 0);
    const minus = (a: Record<string, number>, b: Record<string, number>) =>
      Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v - (b[k] ?? 0)]));
    const perRequest = (st: Record<string, number>) =>
      Object.fromEntries(
        Object.entries(st)
          .filter(([, v]) => v > 0)
          .sort((x, y) => y[1] - x[1])
          .map(([k, v]) => [k, round(v / N, 2)]),
      );
    const byName = {
      enqueue: perRequest(enqueueStats),
      processing: perRequest(minus(processedStats, enqueueStats)),
      consuming: perRequest(minus(stats, processedRaw)),
    };
    if (process.env.BENCH_COST_COMMANDS) progress(`${side} commands per request: ${JSON.stringify(byName)}`);
    const memAfter = await usedMemory(admin);
    const redisBytesByKey = await bytesByKeyShape(admin, prefix);
    await closeAll();
    return {
      workerCpuMsPerRequest: (cpuAfter - cpuBefore) / N,
      redisCommandsPerRequest: total(processedStats) / N,
      enqueueCommandsPerRequest: total(enqueueStats) / N,
      processingCommandsPerRequest: (total(processedStats) - total(enqueueStats)) / N,
      consumingCommandsPerRequest: (total(stats) - total(processedRaw)) / N,
      redisBytesPerRequest: (memAfter - memBefore) / N,
      redisBytesByKey,
      wallMs,
      redisCommandsByName: byName,
    };
  } finally {
    await stopChild(child);
  }
}

async function main(): Promise<void> {
  const started = Date.now();
  const server = await startRedisServer();
  const emu = await PartnerCentralEmulator.start({ latencyMs: 0 });
  const runs: Array<Record<Side, SideResult>> = [];
  try {
    // Warm-up (discarded): scripts compiled, JIT warm, sockets open.
    progress("cost: warm-up");
    await measure("pcInvitations", server.url, server.admin, emu);
    await measure("bare", server.url, server.admin, emu);
    for (let r = 0; r < RUNS; r++) {
      const order: Side[] = r % 2 === 0 ? ["pcInvitations", "bare"] : ["bare", "pcInvitations"];
      const run = {} as Record<Side, SideResult>;
      for (const side of order) run[side] = await measure(side, server.url, server.admin, emu);
      runs.push(run);
      progress(
        `cost run ${r + 1}/${RUNS}: cpu ${round(run.pcInvitations.workerCpuMsPerRequest, 3)} ` +
          `vs ${round(run.bare.workerCpuMsPerRequest, 3)} ms, ` +
          `commands ${round(run.pcInvitations.redisCommandsPerRequest, 1)} ` +
          `vs ${round(run.bare.redisCommandsPerRequest, 1)}, ` +
          `bytes ${Math.round(run.pcInvitations.redisBytesPerRequest)} vs ${Math.round(run.bare.redisBytesPerRequest)}`,
      );
    }
  } finally {
    await emu.close();
    await server.stop();
  }
  const figure = (name: Exclude<keyof SideResult, "redisCommandsByName" | "redisBytesByKey">) => ({
    pcInvitations: spread(runs.map((r) => r.pcInvitations[name])),
    bare: spread(runs.map((r) => r.bare[name])),
    ratio: spread(runs.map((r) => r.pcInvitations[name] / r.bare[name])),
  });
  const doc = {
    bench: "cost",
    machine: {
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model ?? "unknown",
      node: process.version,
      loadavgAtEnd: loadavg().map((x) => round(x)),
    },
    source: sourceInfo(repoRoot()),
    startedAt: new Date(started).toISOString(),
    durationS: round((Date.now() - started) / 1000, 1),
    settings: { requests: N, runs: RUNS, concurrency: CONCURRENCY, apiLatencyMs: 0, logLevel: "info" },
    perRequest: {
      workerCpuMs: figure("workerCpuMsPerRequest"),
      redisCommands: figure("redisCommandsPerRequest"),
      enqueueCommands: figure("enqueueCommandsPerRequest"),
      processingCommands: figure("processingCommandsPerRequest"),
      consumingCommands: figure("consumingCommandsPerRequest"),
      redisBytesRetained: figure("redisBytesPerRequest"),
      wallMs: figure("wallMs"),
    },
    targets: {
      workerCpuAtMost1_5xBare:
        median(runs.map((r) => r.pcInvitations.workerCpuMsPerRequest / r.bare.workerCpuMsPerRequest)) <= 1.5,
      redisCommandsAtMost1_3xBare:
        median(runs.map((r) => r.pcInvitations.redisCommandsPerRequest / r.bare.redisCommandsPerRequest)) <= 1.3,
      redisBytesAtMost1_5xBare:
        median(runs.map((r) => r.pcInvitations.redisBytesPerRequest / r.bare.redisBytesPerRequest)) <= 1.5,
      redisBytesAtMost1_4xBare:
        median(runs.map((r) => r.pcInvitations.redisBytesPerRequest / r.bare.redisBytesPerRequest)) <= 1.4,
    },
    runs,
  };
  await writeResult("cost.json", doc);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
