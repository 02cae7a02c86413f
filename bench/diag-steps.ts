/**
 * Diagnostic (not part of `npm run bench`): where does a worker slot spend its time?
 *
 *   node dist/bench/diag-steps.js            # prints one JSON document
 *
 * Builds the worker like startWorker does (createAcceptWorker + createOutcomeQueue) but with
 * pass-through wrappers that timestamp each step of every job: outcomes.exists,
 * outcomes.markInProgress, the API call, outcomes.publish, and the worker's "completed" event (after BullMQ's moveToFinished). Knobs:
 *   DIAG_N (2000), DIAG_RUNS (5), BENCH_CONCURRENCY (16), BENCH_LATENCY_MS (20)
 *   DIAG_EMULATOR=inline|process   emulator in this process (as the bench) or in a child process
 *   DIAG_PACING=1|0                the shared rate limiter as startWorker wires it (rate 100 000/s), or none
 *   DIAG_VARIANTS=default,pool,pool+pipeWatch,pool+pipeWatch+evalsha,pool+pipeWatch+fused
 *     Every run measures the direct-SDK baseline and each variant (order rotating per run), so
 *     each variant's ratio is paired with a baseline of the same run. Flags, joined with '+':
 *       noExists      outcomes.exists() answers false without asking Redis (what-if: skip the
 *                     pre-call round trip on a first delivery; every job here is a first delivery)
 *       autoPipeline  worker's Redis connection with ioredis enableAutoPipelining
 *                     (what-if for src/queues/connection.ts createRedis)
 *       noConsumer    no consumeOutcomes in this process during the drain (end = last completion)
 *       pool, pipeWatch, evalsha, fused
 *                     the outcome store is bench/whatif-outcome-store.ts (a copy of
 *                     src/outcomes/publish.ts) with that change; see that file
 */
import { performance } from "node:perf_hooks";
import { spawn, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, resolve } from "node:path";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { PartnerCentralEmulator } from "../src/emulator/index.js";
import {
  consumeOutcomes,
  createAcceptWorker,
  createProducer,
  createSdkInvitationApi,
  defaultIdempotencyKey,
  loadConfig,
  deriveClientToken,
  type InvitationApi,
} from "../src/index.js";
import { createOutcomeQueue } from "../src/outcomes/publish.js";
import { rateLimiterFromConfig } from "../src/ratelimit/from-config.js";
import type { OutcomeStore } from "../src/outcomes/outcome-store.js";
import { createOutcomeQueueWhatIf, type WhatIf } from "./whatif-outcome-store.js";
import { createLogger } from "../src/observability/logger.js";
import {
  BENCH_CREDENTIALS,
  REDIS_URL,
  deletePrefix,
  envInt,
  envString,
  median,
  newRedis,
  percentiles,
  round,
  settle,
  startCpuSample,
  uniquePrefix,
  withTimeout,
} from "./common.js";

interface Emu {
  url: string;
  seed(n: number): Promise<Array<{ catalog: string; identifier: string }>>;
  close(): Promise<void>;
}

async function inlineEmulator(latencyMs: number): Promise<Emu> {
  const emu = await PartnerCentralEmulator.start({ latencyMs });
  return {
    url: emu.url,
    seed: async (n) => emu.seedInvitations(n, { catalog: "Sandbox" }),
    close: () => emu.close(),
  };
}

async function childEmulator(latencyMs: number): Promise<Emu> {
  const main = resolve(dirname(fileURLToPath(import.meta.url)), "..", "src", "cli", "main.js");
  const child: ChildProcess = spawn(process.execPath, [main, "emulator", "--port", "0", "--latency-ms", String(latencyMs)], {
    stdio: ["ignore", "ignore", "pipe"],
    env: { ...process.env, LOG_LEVEL: "silent" },
  });
  const url = await new Promise<string>((ok, fail) => {
    let buf = "";
    child.stderr!.on("data", (d: Buffer) => {
      buf += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(buf);
      if (m) ok(m[1]!);
    });
    child.once("exit", (code) => fail(new Error(`emulator exited ${code}: ${buf}`)));
  });
  return {
    url,
    async seed(n) {
      const res = await fetch(`${url}/_emulator/invitations`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ count: n, catalog: "Sandbox" }),
      });
      return (await res.json()) as Array<{ catalog: string; identifier: string }>;
    },
    async close() {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
    },
  };
}

interface Step {
  start: number;
  existsEnd?: number;
  markStart?: number;
  markEnd?: number;
  apiStart?: number;
  apiEnd?: number;
  publishStart?: number;
  publishEnd?: number;
  completed?: number;
}

interface Variant {
  name: string;
  noExists: boolean;
  autoPipeline: boolean;
  noConsumer: boolean;
  /** undefined = the real createOutcomeQueue */
  whatIf?: WhatIf;
}

const FLAGS = ["noExists", "autoPipeline", "noConsumer", "pool", "pipeWatch", "evalsha", "fused"];

function parseVariant(name: string, concurrency: number): Variant {
  const flags = new Set(name.split("+").filter((f) => f !== "default"));
  for (const f of flags) if (!FLAGS.includes(f)) throw new Error(`unknown variant flag ${f}`);
  const whatIf = ["pool", "pipeWatch", "evalsha", "fused"].some((f) => flags.has(f))
    ? { txPool: flags.has("pool") ? concurrency : 1, pipelineWatch: flags.has("pipeWatch"), evalsha: flags.has("evalsha"), fused: flags.has("fused") }
    : undefined;
  return { name, noExists: flags.has("noExists"), autoPipeline: flags.has("autoPipeline"), noConsumer: flags.has("noConsumer"), ...(whatIf ? { whatIf } : {}) };
}

interface Ctx {
  emu: Emu;
  redis: Redis;
  prefix: string;
  c: number;
}

async function baseline(ctx: Ctx, size: number): Promise<number> {
  const invs = await ctx.emu.seed(size);
  const api = createSdkInvitationApi({ endpoint: ctx.emu.url, credentials: BENCH_CREDENTIALS });
  let next = 0;
  await settle();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: ctx.c }, async () => {
      for (let i = next++; i < size; i = next++) {
        const inv = invs[i]!;
        await api.acceptInvitation({ catalog: inv.catalog, identifier: inv.identifier, clientToken: deriveClientToken(defaultIdempotencyKey(inv.catalog, inv.identifier)) });
      }
    }),
  );
  const rps = (size * 1000) / (performance.now() - t0);
  api.destroy();
  return round(rps);
}

const withPacing = envString("DIAG_PACING", "1") === "1";

async function pipeline(ctx: Ctx, v: Variant, tag: string, size: number) {
  const { emu, redis, prefix, c } = ctx;
  const reqQ = `req-${tag}`;
  const outQ = `out-${tag}`;
  const invs = await emu.seed(size);
  const producer = createProducer({ redis, prefix, queueName: reqQ });
  for (let i = 0; i < size; i += 500) {
    await producer.enqueueMany(invs.slice(i, i + 500).map(({ catalog, identifier }) => ({ catalog, identifier })));
  }
  await producer.close();

  const steps = new Map<string, Step>();
  /** default idempotency key `<catalog>.<identifier>` → request job id (learnt in markInProgress). */
  const byInvitation = new Map<string, string>();
  const sdk = createSdkInvitationApi({ endpoint: emu.url, credentials: BENCH_CREDENTIALS });
  const api: InvitationApi = {
    ...sdk,
    async acceptInvitation(input, o) {
      const rid = byInvitation.get(defaultIdempotencyKey(input.catalog, input.identifier));
      const s = rid === undefined ? undefined : steps.get(rid);
      if (s) s.apiStart = performance.now();
      try {
        return await sdk.acceptInvitation(input, o);
      } finally {
        if (s) s.apiEnd = performance.now();
      }
    },
  };
  const connection = v.autoPipeline ? new Redis(REDIS_URL, { maxRetriesPerRequest: null, enableAutoPipelining: true }) : newRedis();
  const storeOptions = {
    connection,
    prefix,
    queueName: outQ,
    requestsQueueName: reqQ,
    retentionSeconds: 3600,
    idempotencyRetentionSeconds: 3600,
  };
  const outcomesQueue = v.whatIf ? createOutcomeQueueWhatIf(storeOptions, v.whatIf) : createOutcomeQueue(storeOptions);
  const outcomes: OutcomeStore = {
    async markInProgress(idempotencyKey, requestId) {
      if (idempotencyKey) byInvitation.set(idempotencyKey, requestId);
      const s = steps.get(requestId);
      if (s) s.markStart = performance.now();
      await outcomesQueue.markInProgress(idempotencyKey, requestId);
      if (s) s.markEnd = performance.now();
    },
    async exists(requestId: string) {
      const s: Step = { start: performance.now() };
      steps.set(requestId, s);
      const r = v.noExists ? false : await outcomesQueue.exists(requestId);
      s.existsEnd = performance.now();
      return r;
    },
    async publish(event, options) {
      const s = steps.get(event.requestId);
      if (s) s.publishStart = performance.now();
      const r = await outcomesQueue.publish(event, options);
      if (s) s.publishEnd = performance.now();
      return r;
    },
  };
  let received = 0;
  let resolveAll!: (t: number) => void;
  const all = new Promise<number>((r) => (resolveAll = r));
  let completed = 0;
  let resolveCompleted!: (t: number) => void;
  const allCompleted = new Promise<number>((r) => (resolveCompleted = r));
  const consumer = v.noConsumer
    ? undefined
    : consumeOutcomes(
        () => {
          if (++received === size) resolveAll(performance.now());
        },
        { redis: REDIS_URL, prefix, queueName: outQ },
      );
  await settle(300);
  const stopCpu = await startCpuSample(redis);
  const t0 = performance.now();
  const worker = createAcceptWorker({
    connection,
    location: { prefix, requestsQueue: reqQ, outcomesQueue: outQ },
    api,
    outcomes,
    logger: createLogger({ level: "silent" }),
    concurrency: c,
    // As startWorker: the shared limiter (one acquire + one report per call), at a rate that
    // never makes anyone wait. DIAG_PACING=0 leaves it out.
    ...(withPacing
      ? {
          pacing: {
            limiter: rateLimiterFromConfig(
              loadConfig({}, { QUEUE_PREFIX: prefix, RATE_LIMIT_RPS: 100_000, RATE_LIMIT_BURST: 100_000 }),
              connection,
            ),
            keyFor: () => `diag-${tag}`,
            maxWaitMs: 20_000,
          },
        }
      : {}),
  });
  worker.on("completed", (job) => {
    const s = steps.get(job.id!);
    if (s) s.completed = performance.now();
    if (++completed === size) resolveCompleted(performance.now());
  });
  const tCompleted = await withTimeout(allCompleted, 120_000, "diag drain");
  const tEnd = consumer ? await withTimeout(all, 60_000, "diag consumer") : tCompleted;
  const cpu = await stopCpu();
  await worker.close();
  await consumer?.close();
  await outcomesQueue.close();
  connection.disconnect();
  sdk.destroy();
  for (const q of [reqQ, outQ]) {
    const queue = new Queue(q, { connection: redis, prefix });
    await queue.obliterate({ force: true });
    await queue.close();
  }

  const done = [...steps.values()].filter((s) => s.completed !== undefined && s.apiEnd !== undefined);
  const mean = (f: (s: Step) => number) => round(done.reduce((a, s) => a + f(s), 0) / done.length);
  return {
    rps: round((size * 1000) / (tEnd - t0)),
    slotBusyAvg: round(done.reduce((a, s) => a + (s.completed! - s.start), 0) / (tCompleted - t0)),
    nodeCpuMsPerJob: round(cpu.nodeCpuMs / size, 3),
    redisCpuMsPerJob: round(cpu.redisCpuMs / size, 3),
    elu: cpu.elu,
    machineBusy: cpu.machineBusy,
    meanStepMs: {
      exists: mean((s) => s.existsEnd! - s.start),
      markInProgress: mean((s) => (s.markEnd ?? s.existsEnd!) - (s.markStart ?? s.existsEnd!)),
      existsEndToApiStart: mean((s) => s.apiStart! - s.existsEnd!),
      api: mean((s) => s.apiEnd! - s.apiStart!),
      apiEndToPublishStart: mean((s) => s.publishStart! - s.apiEnd!),
      publish: mean((s) => s.publishEnd! - s.publishStart!),
      publishEndToCompleted: mean((s) => s.completed! - s.publishEnd!),
      total: mean((s) => s.completed! - s.start),
    },
  };
}

type PipelineMeasure = Awaited<ReturnType<typeof pipeline>>;

async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const n = envInt("DIAG_N", 2000, 1);
  const runs = envInt("DIAG_RUNS", 5, 1);
  const c = envInt("BENCH_CONCURRENCY", 16, 1);
  const latencyMs = envInt("BENCH_LATENCY_MS", 20, 0);
  const mode = envString("DIAG_EMULATOR", "inline");
  const variants = envString("DIAG_VARIANTS", "default,pool,pool+pipeWatch,pool+pipeWatch+evalsha,pool+pipeWatch+fused").split(",").map((name) => parseVariant(name, c));
  const emu = mode === "process" ? await childEmulator(latencyMs) : await inlineEmulator(latencyMs);
  const redis = newRedis();
  const prefix = uniquePrefix("diag");
  const ctx: Ctx = { emu, redis, prefix, c };
  const perRun: Array<{ run: number; order: string[]; baselineRps: number; variants: Record<string, PipelineMeasure & { ratio: number }> }> = [];
  try {
    // Warm-up, discarded.
    await baseline(ctx, 200);
    for (const v of variants) await pipeline(ctx, v, `warm-${v.name}`, 200);
    for (let run = 0; run < runs; run++) {
      const names = ["baseline", ...variants.map((v) => v.name)];
      const k = run % names.length;
      const order = [...names.slice(k), ...names.slice(0, k)];
      let baselineRps = Number.NaN;
      const got: Record<string, PipelineMeasure> = {};
      for (const name of order) {
        if (name === "baseline") baselineRps = await baseline(ctx, n);
        else got[name] = await pipeline(ctx, variants.find((v) => v.name === name)!, `r${run}-${name}`, n);
      }
      const vs = Object.fromEntries(Object.entries(got).map(([k2, m]) => [k2, { ...m, ratio: round(m.rps / baselineRps, 4) }]));
      perRun.push({ run, order, baselineRps, variants: vs });
      process.stderr.write(
        `[diag] run ${run + 1}/${runs}: baseline ${baselineRps} rps; ` +
          Object.entries(vs).map(([k2, m]) => `${k2} ${m.rps} rps (${m.ratio})`).join("; ") + "\n",
      );
    }
  } finally {
    await emu.close();
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
  const med = (xs: number[]) => round(median(xs), 3);
  const summary = Object.fromEntries(
    variants.map((v) => {
      const ms = perRun.map((r) => r.variants[v.name]!);
      const stepKeys = Object.keys(ms[0]!.meanStepMs) as Array<keyof PipelineMeasure["meanStepMs"]>;
      return [
        v.name,
        {
          ratio: med(ms.map((m) => m.ratio)),
          rps: med(ms.map((m) => m.rps)),
          slotBusyAvg: med(ms.map((m) => m.slotBusyAvg)),
          nodeCpuMsPerJob: med(ms.map((m) => m.nodeCpuMsPerJob)),
          redisCpuMsPerJob: med(ms.map((m) => m.redisCpuMsPerJob)),
          elu: med(ms.map((m) => m.elu)),
          machineBusy: med(ms.map((m) => m.machineBusy)),
          meanStepMs: Object.fromEntries(stepKeys.map((key) => [key, med(ms.map((m) => m.meanStepMs[key]))])),
        },
      ];
    }),
  );
  process.stdout.write(
    JSON.stringify(
      {
        settings: { n, runs, concurrency: c, latencyMs, emulator: mode, variants: variants.map((v) => v.name) },
        median: { baselineRps: med(perRun.map((r) => r.baselineRps)), variants: summary },
        runs: perRun,
      },
      null,
      2,
    ) + "\n",
  );
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`diag failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
