/**
 * Diagnostic (not part of `npm run bench`): where does producer.enqueueMany spend its time
 * compared with a raw queue.addBulk?
 *
 *   node dist/bench/diag-enqueue.js          # prints one JSON document
 *
 * Variants, each measured in every run (order rotating), each in its own empty queue, fresh ids:
 *   raw          queue.addBulk of jobs built like the producer's (as bench/enqueue.ts)
 *   rawRecords   raw + the idempotency records: one MULTI per batch with HSET record + addJob per
 *                request, no WATCH and no reads; the floor of the current idempotency design
 *   producer     the real createProducer().enqueueMany
 *   phased       a copy of enqueueMany (validate → prepare → the real reserveAndEnqueue) with a
 *                timer per phase; should run like `producer`
 * Knobs: DIAG_N (10000), DIAG_RUNS (5), BENCH_BATCH (500).
 */
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { Job, Queue } from "bullmq";
import type { ChainableCommander, Redis } from "ioredis";
import {
  createProducer,
  defaultIdempotencyKey,
  deriveClientToken,
  newRequestJobId,
  validateRequest,
  DEFAULT_RETRY_POLICY,
  JOB_DATA_VERSION,
  type AcceptJobData,
  type AcceptRequest,
} from "../src/index.js";
import { requestJobOptions } from "../src/producer/job-options.js";
import { canonicalJson, fingerprint, fingerprintPayload } from "../src/idempotency/fingerprint.js";
import { idempotencyRecordKey } from "../src/idempotency/keys.js";
import { reserveAndEnqueue, type PreparedRequest } from "../src/idempotency/reserve.js";
import { buildRawJobs } from "./enqueue.js";
import { deletePrefix, envInt, freshIdentifiers, median, newRedis, round, settle, uniquePrefix } from "./common.js";

type Variant = "raw" | "rawRecords" | "producer" | "phased";
const VARIANTS: Variant[] = ["raw", "rawRecords", "producer", "phased"];
type Phase = "validate" | "prepare" | "reserve";

interface Measure {
  rps: number;
  phasesMs?: Record<Phase, number>;
}

const jobOptions = requestJobOptions(DEFAULT_RETRY_POLICY);

/** The producer's prepare(), copied (src/producer/producer.ts), without trace context. */
function prepare(prefix: string, queueName: string, request: AcceptRequest, index: number, enqueuedAt: string): PreparedRequest {
  const idempotencyKey = request.idempotencyKey ?? defaultIdempotencyKey(request.catalog, request.identifier);
  const payload = fingerprintPayload(request);
  const clientToken = request.clientToken ?? deriveClientToken(idempotencyKey);
  const data: AcceptJobData = {
    v: JOB_DATA_VERSION,
    request: { ...request, clientToken, correlationId: request.correlationId ?? randomUUID() },
    clientToken,
    idempotencyKey,
    enqueuedAt,
    enqueueId: randomUUID(),
    throttleRequeues: 0,
  };
  return {
    index,
    idempotencyKey,
    recordKey: idempotencyRecordKey(prefix, queueName, idempotencyKey),
    fp: fingerprint(payload),
    payload,
    payloadJson: canonicalJson(payload),
    jobId: newRequestJobId(request.catalog, request.identifier),
    data,
  };
}

async function measure(redis: Redis, prefix: string, variant: Variant, tag: string, n: number, batch: number): Promise<Measure> {
  const requests = freshIdentifiers(n).map((identifier) => ({ catalog: "Sandbox", identifier }));
  const queueName = `enq-${tag}`;
  if (variant === "producer") {
    const producer = createProducer({ redis, prefix, queueName });
    await producer.queue.waitUntilReady();
    await settle();
    const t0 = performance.now();
    for (let i = 0; i < n; i += batch) await producer.enqueueMany(requests.slice(i, i + batch));
    const elapsed = performance.now() - t0;
    await producer.queue.obliterate({ force: true });
    await producer.close();
    return { rps: round((n * 1000) / elapsed) };
  }
  // The producer's layout: a shared connection plus a dedicated one for transactions.
  const tx = redis.duplicate();
  const queue = new Queue(queueName, { connection: tx, prefix, defaultJobOptions: jobOptions });
  await queue.waitUntilReady();
  await settle();
  const phases: Record<Phase, number> = { validate: 0, prepare: 0, reserve: 0 };
  const t0 = performance.now();
  for (let i = 0; i < n; i += batch) {
    const slice = requests.slice(i, i + batch);
    if (variant === "raw") {
      await queue.addBulk(buildRawJobs(slice));
    } else if (variant === "rawRecords") {
      const enqueuedAt = new Date().toISOString();
      const items = slice.map((r, k) => prepare(prefix, queueName, r, k, enqueuedAt));
      const client = await queue.client;
      const multi = client.multi() as unknown as ChainableCommander;
      for (const it of items) {
        multi.hset(it.recordKey, {
          key: it.idempotencyKey,
          fp: it.fp,
          payload: it.payloadJson,
          jobId: it.jobId,
          clientToken: it.data.clientToken,
          correlationId: it.data.request.correlationId,
          state: "queued",
          createdAt: it.data.enqueuedAt,
        } as never);
      }
      for (const it of items) void new Job(queue, "accept", it.data, { ...jobOptions, jobId: it.jobId }, it.jobId).addJob(multi as never).catch(() => undefined);
      await multi.exec();
    } else {
      let t = performance.now();
      const lap = (p: Phase) => {
        const now = performance.now();
        phases[p] += now - t;
        t = now;
      };
      const valid: AcceptRequest[] = [];
      for (const input of slice) {
        const r = validateRequest(input);
        if (!r.ok) throw new Error("invalid request");
        valid.push(r.request);
      }
      lap("validate");
      const enqueuedAt = new Date().toISOString();
      const items = valid.map((r, k) => prepare(prefix, queueName, r, k, enqueuedAt));
      lap("prepare");
      await reserveAndEnqueue(tx, queue, items, jobOptions);
      lap("reserve");
    }
  }
  const elapsed = performance.now() - t0;
  await queue.obliterate({ force: true });
  await queue.close();
  tx.disconnect();
  return {
    rps: round((n * 1000) / elapsed),
    ...(variant === "phased" ? { phasesMs: Object.fromEntries(Object.entries(phases).map(([k, v]) => [k, round(v)])) as Record<Phase, number> } : {}),
  };
}

async function main(): Promise<void> {
  const n = envInt("DIAG_N", 10_000, 1);
  const runs = envInt("DIAG_RUNS", 5, 1);
  const batch = envInt("BENCH_BATCH", 500, 1);
  const redis = newRedis();
  const prefix = uniquePrefix("diag-enq");
  const perRun: Array<Record<string, Measure & { ratioToRaw: number }>> = [];
  try {
    for (const v of VARIANTS) await measure(redis, prefix, v, `warm-${v}`, 2000, batch);
    for (let run = 0; run < runs; run++) {
      const k = run % VARIANTS.length;
      const order = [...VARIANTS.slice(k), ...VARIANTS.slice(0, k)];
      const got: Partial<Record<Variant, Measure>> = {};
      for (const v of order) got[v] = await measure(redis, prefix, v, `r${run}-${v}`, n, batch);
      const rawRps = got.raw!.rps;
      perRun.push(Object.fromEntries(Object.entries(got).map(([v, m]) => [v, { ...m, ratioToRaw: round(m.rps / rawRps, 4) }])));
      process.stderr.write(`[diag-enqueue] run ${run + 1}/${runs}: ${VARIANTS.map((v) => `${v} ${got[v]!.rps}`).join(", ")}\n`);
    }
  } finally {
    await deletePrefix(redis, prefix);
    redis.disconnect();
  }
  const summary = Object.fromEntries(
    VARIANTS.map((v) => {
      const ms = perRun.map((r) => r[v]!);
      const phases = ms[0]!.phasesMs
        ? Object.fromEntries((Object.keys(ms[0]!.phasesMs) as Phase[]).map((p) => [p, round(median(ms.map((m) => m.phasesMs![p])))]))
        : undefined;
      return [v, { rps: round(median(ms.map((m) => m.rps))), ratioToRaw: round(median(ms.map((m) => m.ratioToRaw)), 4), ...(phases ? { phasesMsPerRun: phases } : {}) }];
    }),
  );
  process.stdout.write(JSON.stringify({ settings: { n, runs, batch }, median: summary, runs: perRun }, null, 2) + "\n");
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`diag failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
