/**
 * producer.enqueueMany throughput vs raw BullMQ queue.addBulk of equivalent jobs: same count,
 * same batch size, same job data shape and values (built as the producer builds them: default
 * idempotency key, derived ClientToken, correlationId, enqueuedAt, throttleRequeues),
 * same jobId scheme (newRequestJobId), same default job options, same Redis connection. Fresh
 * identifiers in every measurement; the order of the two alternates between runs; each
 * measurement gets its own empty queue. The warm-up checks that a raw job and a producer job
 * have the same data keys (reported as jobShape), so a drift of the job format shows up.
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
import { requestJobOptions } from "../src/producer/job-options.js";
import { REDIS_URL, deletePrefix, envInt, freshIdentifiers, median, newRedis, progress, round, settle, uniquePrefix } from "./common.js";

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
  ratio: number;
}

export interface EnqueueBenchResult {
  config: Omit<EnqueueBenchOptions, "redisUrl">;
  jobShape: Awaited<ReturnType<typeof checkJobShape>>;
  method: Record<string, string>;
  median: { producerRps: number; rawRps: number; ratio: number; target: number; meetsTarget: boolean };
  runs: EnqueueRunResult[];
}

type Variant = "producer" | "raw";

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
  const equal = rawValid && producerKeys.join() === rawKeys.join() && jobIdPattern(res!.jobId) === jobIdPattern(raw.opts.jobId);
  if (!equal) progress(`enqueue: WARNING raw jobs differ from producer jobs: producer ${producerKeys.join()} / raw ${rawKeys.join()} (raw valid: ${rawValid})`);
  return { equal, rawPassesJobSchema: rawValid, keys: producerKeys, ...(equal ? {} : { rawKeys }) };
}

/** What a hand-written producer without validation or idempotency records would do. */
async function measureRaw(redis: Redis, prefix: string, queueName: string, o: EnqueueBenchOptions, n: number): Promise<Measurement> {
  const inputs = freshIdentifiers(n).map((identifier) => ({ catalog: o.catalog, identifier }));
  const queue = new Queue(queueName, { connection: redis, prefix, defaultJobOptions: requestJobOptions(DEFAULT_RETRY_POLICY) });
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
  const measure = (variant: Variant, run: number, n: number) =>
    variant === "producer"
      ? measureProducer(redis, prefix, `enqueue-producer-r${run}`, o, n)
      : measureRaw(redis, prefix, `enqueue-raw-r${run}`, o, n);
  let jobShape: Awaited<ReturnType<typeof checkJobShape>>;
  try {
    jobShape = await checkJobShape(redis, prefix, o.catalog);
    if (o.warmupN > 0) {
      progress(`enqueue: warm-up (N=${o.warmupN} per variant, discarded)`);
      await measure("producer", -1, o.warmupN);
      await measure("raw", -1, o.warmupN);
    }
    for (let run = 0; run < o.runs; run++) {
      const order: Variant[] = run % 2 === 0 ? ["producer", "raw"] : ["raw", "producer"];
      const got: Partial<{ producer: Awaited<ReturnType<typeof measureProducer>>; raw: Measurement }> = {};
      for (const v of order) {
        if (v === "producer") got.producer = await measureProducer(redis, prefix, `enqueue-producer-r${run}`, o, o.n);
        else got.raw = await measure("raw", run, o.n);
      }
      const r: EnqueueRunResult = {
        run,
        order: order.join(","),
        producer: got.producer!,
        raw: got.raw!,
        ratio: round(got.producer!.rps / got.raw!.rps, 4),
      };
      progress(`enqueue run ${run + 1}/${o.runs} (${r.order}): producer ${r.producer.rps} rps, raw ${r.raw.rps} rps, ratio ${r.ratio}`);
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
        "createProducer({redis shared}).enqueueMany(batch) for n fresh requests {catalog, identifier}; includes validation, job building and whatever the producer does for duplicates/idempotency",
      raw: "new Queue(same default job options).addBulk(batch) of jobs built like the producer's (same data keys, jobId scheme); timing includes building job data (sha256 clientToken, randomUUID correlationId, job id) but no validation and no idempotency bookkeeping",
      ratio: "per run producer.rps / raw.rps (same run, order alternating, each in its own empty queue), then the median",
    },
    median: {
      producerRps: round(median(runs.map((r) => r.producer.rps))),
      rawRps: round(median(runs.map((r) => r.raw.rps))),
      ratio,
      target: 0.9,
      meetsTarget: ratio >= 0.9,
    },
    runs,
  };
}
