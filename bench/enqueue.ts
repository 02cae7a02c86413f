/**
 * producer.enqueueMany throughput vs raw BullMQ queue.addBulk of equivalent jobs: same count,
 * same batch size, same job data shape and values (built as the producer builds them: default
 * idempotency key, derived ClientToken, correlationId, enqueuedAt, throttleRequeues),
 * same jobId scheme (newRequestJobId), same default job options, same Redis connection. Fresh
 * identifiers in every measurement; the order of the two alternates between runs; each
 * measurement gets its own empty queue. The warm-up checks that a raw job and a producer job
 * have the same data keys (reported as jobShape), so a drift of the job format shows up.
 *
 * A third measurement, `script`, runs the producer's own enqueue script (enqueueInOneScript) on
 * requests prepared before the clock starts: the record and the job written in one script, with
 * validation and derivation free. Its ratio to raw is the ceiling of any producer that writes
 * this record atomically with its job.
 */
import { performance } from "node:perf_hooks";
import { randomUUID } from "node:crypto";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import {
  acceptJobDataSchema,
  createProducer,
  defaultIdempotencyKey,
  deriveClientToken,
  newRequestJobId,
  DEFAULT_RETRY_POLICY,
  JOB_DATA_VERSION,
  type AcceptJobData,
} from "../src/index.js";
import { requestJobOptions } from "../src/store/redis/job-options.js";
import { enqueueInOneScript } from "../src/store/redis/enqueue.js";
import { keyRequests } from "../src/store/redis/reserve.js";
import { prepareRequests } from "../src/producer/producer.js";
import {
  REDIS_URL,
  deletePrefix,
  envInt,
  freshIdentifiers,
  median,
  newRedis,
  progress,
  round,
  settle,
  uniquePrefix,
} from "./common.js";

export interface EnqueueBenchOptions {
  runs: number;
  /** Jobs per measurement. */
  n: number;
  batchSize: number;
  /** Jobs of the discarded warm-up (per variant). */
  warmupN: number;
  catalog: string;
  redisUrl: string;
}

export function enqueueOptionsFromEnv(): EnqueueBenchOptions {
  return {
    runs: envInt("BENCH_RUNS", 5, 1),
    n: envInt("BENCH_ENQUEUE_N", 10_000, 1),
    batchSize: envInt("BENCH_BATCH", 500, 1),
    warmupN: envInt("BENCH_ENQUEUE_WARMUP_N", 2000, 0),
    catalog: "Sandbox",
    redisUrl: REDIS_URL,
  };
}

interface Measurement {
  rps: number;
  elapsedMs: number;
  jobsInQueue: number;
}

export interface EnqueueRunResult {
  run: number;
  order: string;
  producer: Measurement & { duplicates: number };
  raw: Measurement;
  script: Measurement;
  ratio: number;
  /** script.rps / raw.rps */
  scriptRatio: number;
}

export interface EnqueueBenchResult {
  config: Omit<EnqueueBenchOptions, "redisUrl">;
  jobShape: Awaited<ReturnType<typeof checkJobShape>>;
  method: Record<string, string>;
  median: {
    producerRps: number;
    rawRps: number;
    ratio: number;
    target: number;
    meetsTarget: boolean;
    scriptRps: number;
    scriptRatio: number;
  };
  runs: EnqueueRunResult[];
}

const VARIANTS = ["producer", "script", "raw"] as const;
type Variant = (typeof VARIANTS)[number];

async function countJobs(queue: Queue): Promise<number> {
  return queue.getJobCountByTypes("waiting", "delayed", "prioritized");
}

async function obliterate(queue: Queue): Promise<void> {
  await queue.obliterate({ force: true }).catch(() => undefined);
}

async function measureProducer(redis: Redis, prefix: string, queueName: string, o: EnqueueBenchOptions, n: number) {
  const requests = freshIdentifiers(n).map((identifier) => ({ catalog: o.catalog, identifier }));
  const producer = createProducer({ redis, prefix, queueName });
  await producer.queue.waitUntilReady();
  await settle();
  let duplicates = 0;
  const t0 = performance.now();
  for (let i = 0; i < n; i += o.batchSize) {
    const results = await producer.enqueueMany(requests.slice(i, i + o.batchSize));
    for (const r of results) if (r.duplicate) duplicates++;
  }
  const elapsedMs = performance.now() - t0;
  const jobsInQueue = await countJobs(producer.queue);
  await obliterate(producer.queue);
  await producer.close();
  return { rps: round((n * 1000) / elapsedMs), elapsedMs: round(elapsedMs), jobsInQueue, duplicates };
}

/**
 * The producer's enqueue script alone: requests validated and derived (prepareRequests) before the
 * clock starts, then timed: each batch's script call, its arguments built (BullMQ's job encoding,
 * the records' fields) and the reply read.
 */
async function measureScript(
  redis: Redis,
  prefix: string,
  queueName: string,
  o: EnqueueBenchOptions,
  n: number,
): Promise<Measurement> {
  const producer = createProducer({ redis, prefix, queueName });
  await producer.queue.waitUntilReady();
  const requests = freshIdentifiers(n).map((identifier) => ({ catalog: o.catalog, identifier }));
  const batches: Array<ReturnType<typeof keyRequests>> = [];
  for (let i = 0; i < n; i += o.batchSize)
    batches.push(keyRequests(prepareRequests(requests.slice(i, i + o.batchSize)), prefix, queueName));
  const opts = requestJobOptions(DEFAULT_RETRY_POLICY);
  await settle();
  const t0 = performance.now();
  for (const items of batches) {
    const results = await enqueueInOneScript(redis, producer.queue, items, opts, "", 7 * 86_400_000);
    if (!Array.isArray(results) || results.some((r) => r.duplicate))
      throw new Error("bench enqueue: the script found existing records for fresh requests");
  }
  const elapsedMs = performance.now() - t0;
  const jobsInQueue = await countJobs(producer.queue);
  await obliterate(producer.queue);
  await producer.close();
  return { rps: round((n * 1000) / elapsedMs), elapsedMs: round(elapsedMs), jobsInQueue };
}

/** The producer's job data for a request {catalog, identifier}, built without the producer. */
export function buildRawJobs(inputs: ReadonlyArray<{ catalog: string; identifier: string }>) {
  const enqueuedAt = new Date().toISOString();
  return inputs.map(({ catalog, identifier }) => {
    const idempotencyKey = defaultIdempotencyKey(catalog, identifier);
    const clientToken = deriveClientToken(idempotencyKey);
    const data: AcceptJobData = {
      v: JOB_DATA_VERSION,
      request: { catalog, identifier, clientToken, correlationId: randomUUID() },
      clientToken,
      idempotencyKey,
      enqueuedAt,
      throttleRequeues: 0,
    };
    return { name: "accept", data, opts: { jobId: newRequestJobId(catalog, identifier) } };
  });
}

const shapeOf = (data: unknown): string[] => {
  const d = data as Record<string, unknown>;
  const r = (d.request ?? {}) as Record<string, unknown>;
  return [...Object.keys(d).map((k) => k), ...Object.keys(r).map((k) => `request.${k}`)].sort();
};

/** Same data keys in a producer-made job and a raw one; the raw one passes the job schema. */
async function checkJobShape(redis: Redis, prefix: string, catalog: string) {
  const producer = createProducer({ redis, prefix, queueName: "enqueue-shape" });
  const [identifier] = freshIdentifiers(1);
  const [res] = await producer.enqueueMany([{ catalog, identifier: identifier! }]);
  const job = await producer.queue.getJob(res!.jobId);
  const producerKeys = shapeOf(job?.data ?? {});
  const raw = buildRawJobs([{ catalog, identifier: freshIdentifiers(1)[0]! }])[0]!;
  const rawKeys = shapeOf(raw.data);
  const rawValid = acceptJobDataSchema.safeParse(raw.data).success;
  const jobIdPattern = (id: string) => id.replace(/[A-Za-z0-9]/g, "x");
  await producer.queue.obliterate({ force: true });
  await producer.close();
  const equal =
    rawValid && producerKeys.join() === rawKeys.join() && jobIdPattern(res!.jobId) === jobIdPattern(raw.opts.jobId);
  if (!equal)
    progress(
      `enqueue: WARNING raw jobs differ from producer jobs: producer ` +
        `${producerKeys.join()} / raw ${rawKeys.join()} (raw valid: ${rawValid})`,
    );
  return { equal, rawPassesJobSchema: rawValid, keys: producerKeys, ...(equal ? {} : { rawKeys }) };
}

/** What a hand-written producer without validation or idempotency records would do. */
async function measureRaw(
  redis: Redis,
  prefix: string,
  queueName: string,
  o: EnqueueBenchOptions,
  n: number,
): Promise<Measurement> {
  const inputs = freshIdentifiers(n).map((identifier) => ({ catalog: o.catalog, identifier }));
  const queue = new Queue(queueName, {
    connection: redis,
    prefix,
    defaultJobOptions: requestJobOptions(DEFAULT_RETRY_POLICY),
  });
  await queue.waitUntilReady();
  await settle();
  const t0 = performance.now();
  for (let i = 0; i < n; i += o.batchSize) {
    const jobs = buildRawJobs(inputs.slice(i, i + o.batchSize));
    await queue.addBulk(jobs);
  }
  const elapsedMs = performance.now() - t0;
  const jobsInQueue = await countJobs(queue);
  await obliterate(queue);
  await queue.close();
  return { rps: round((n * 1000) / elapsedMs), elapsedMs: round(elapsedMs), jobsInQueue };
}

export async function benchEnqueue(o: EnqueueBenchOptions = enqueueOptionsFromEnv()): Promise<EnqueueBenchResult> {
  const redis = newRedis(o.redisUrl);
  const prefix = uniquePrefix("bench-enq");
  const runs: EnqueueRunResult[] = [];
  const measure = (variant: Variant, run: number, n: number): Promise<Measurement & { duplicates?: number }> =>
    variant === "producer"
      ? measureProducer(redis, prefix, `enqueue-producer-r${run}`, o, n)
      : variant === "script"
        ? measureScript(redis, prefix, `enqueue-script-r${run}`, o, n)
        : measureRaw(redis, prefix, `enqueue-raw-r${run}`, o, n);
  let jobShape: Awaited<ReturnType<typeof checkJobShape>>;
  try {
    jobShape = await checkJobShape(redis, prefix, o.catalog);
    if (o.warmupN > 0) {
      progress(`enqueue: warm-up (N=${o.warmupN} per variant, discarded)`);
      for (const v of VARIANTS) await measure(v, -1, o.warmupN);
    }
    for (let run = 0; run < o.runs; run++) {
      // Alternating order: each variant first in some runs and last in others.
      const order: Variant[] = run % 2 === 0 ? [...VARIANTS] : [...VARIANTS].reverse();
      const got: Partial<Record<Variant, Measurement & { duplicates?: number }>> = {};
      for (const v of order) got[v] = await measure(v, run, o.n);
      const raw = got.raw!;
      const r: EnqueueRunResult = {
        run,
        order: order.join(","),
        producer: { ...got.producer!, duplicates: got.producer!.duplicates ?? 0 },
        raw,
        script: got.script!,
        ratio: round(got.producer!.rps / raw.rps, 4),
        scriptRatio: round(got.script!.rps / raw.rps, 4),
      };
      progress(
        `enqueue run ${run + 1}/${o.runs} (${r.order}): producer ${r.producer.rps} rps, script ` +
          `${r.script.rps} rps, raw ${raw.rps} rps, ratio ${r.ratio}, script ratio ${r.scriptRatio}`,
      );
      runs.push(r);
    }
  } finally {
    await deletePrefix(redis, prefix).catch(() => 0);
    redis.disconnect();
  }
  const ratio = round(median(runs.map((r) => r.ratio)), 4);
  const { redisUrl: _redisUrl, ...shown } = o;
  return {
    config: shown,
    jobShape,
    method: {
      producer:
        "createProducer({redis shared}).enqueueMany(batch) for n fresh requests {catalog, identifier}; " +
        "includes validation, job building and whatever the producer does for duplicates/idempotency",
      raw:
        "new Queue(same default job options).addBulk(batch) of jobs built like the producer's (same data keys, " +
        "jobId scheme); timing includes building job data (sha256 clientToken, randomUUID " +
        "correlationId, job id) but no validation and no idempotency bookkeeping",
      script:
        "the producer's enqueue script alone (enqueueInOneScript, as enqueueMany runs it) on requests validated and " +
        "derived by prepareRequests before the clock starts: the record " +
        "written with its job in one script, validation and derivation free",
      ratio:
        "per run producer.rps / raw.rps (same run, order alternating, each in its own empty queue), then the median; " +
        "scriptRatio likewise script.rps / raw.rps: the ceiling of " +
        "any producer writing this record atomically with its job",
    },
    median: {
      producerRps: round(median(runs.map((r) => r.producer.rps))),
      rawRps: round(median(runs.map((r) => r.raw.rps))),
      ratio,
      scriptRps: round(median(runs.map((r) => r.script.rps))),
      scriptRatio: round(median(runs.map((r) => r.scriptRatio)), 4),
      target: 0.9,
      meetsTarget: ratio >= 0.9,
    },
    runs,
  };
}
