import { Job, Queue, type Telemetry } from "bullmq";
import { defaultIdempotencyKey, parseRequestJobId } from "../../request-record/identity.js";
import {
  jobDataFromRecord,
  parseRecord,
  type PreparedRequest,
  type RequestRecord,
} from "../../request-record/record.js";
import { CONFIG_DEFAULTS } from "../../schemas/config.js";
import type { OutcomeEvent } from "../../contracts/outcome.js";
import type { QueueLocation } from "../queue-location.js";
import type { JobState, RequestStore } from "../request-store.js";
import { CLOSE_SETTLE_MS, classifyRedisError, settled, toRedisError, type RedisConnection } from "./connection.js";
import { enqueueInOneScript } from "./enqueue.js";
import { readFailedOutcomes } from "./failed-outcomes.js";
import { REQUEST_JOB_NAME, requestJobOptions, type RetryPolicy } from "./job-options.js";
import { failedJobsSince, inspectJob, repairUnparseableJobs, reviveJob } from "./jobs.js";
import { idempotencyRecordKey, openRecordsKeyOf, sweeperKeys } from "./keys.js";
import { createOutcomeQueue, type OutcomeQueue } from "./publish.js";
import { countRevival, defineRecordCommands, forgetOpenRecord, openRecordKeys } from "./records.js";
import { runScript } from "./lua-scripts.js";
import { SCRIPTS } from "./scripts.js";
import { keyRequests, previewReservations, reserveAndEnqueue } from "./reserve.js";
import { createTxQueue } from "./transaction.js";
import { failedWithoutOutcome, oldestWaiting, queueCounts, type QueuePair } from "./observe.js";
import { listRequests } from "./list-requests.js";
import { beatWorker, listWorkers, removeWorker } from "./workers.js";

/** How far around a job id's time its record is looked for among the open records, ms. */
const RECORD_TIME_WINDOW_MS = 10 * 60_000;
/** Open records read a page at a time while looking for a job's record, at most this many. */
const RECORD_SCAN_PAGE = 500;
const RECORD_SCAN_LIMIT = 100_000;
/**
 * An invitation's index (keys.ts identifierIndexKey) is kept this much longer than the longest
 * retention after its last new job, so a request that waits days in a stalled queue is still listed.
 */
const IDENTIFIER_INDEX_MARGIN_MS = 7 * 86_400_000;

export interface RedisRequestStoreOptions {
  /** A connection of the caller's (a single node or a Cluster); never closed by the store. */
  connection: RedisConnection;
  location: QueueLocation;
  /** Attempts, backoff and retention of request jobs. */
  retry: RetryPolicy;
  /** Consumed outcome events are kept this long, s. @defaultValue RETENTION_SECONDS's default, 86400 */
  outcomeRetentionSeconds?: number;
  /** Completed request records are kept this long, s. @defaultValue IDEMPOTENCY_RETENTION_SECONDS's default, 86400 */
  idempotencyRetentionSeconds?: number;
  /**
   * Whether this store's requests queue handle writes the queue's meta (BullMQ's version and
   * options) when it starts: a producer's does; a worker's or an operator's leaves it to them.
   * @defaultValue true
   */
  writesQueueMeta?: boolean;
  /** BullMQ telemetry: enqueues and publications are PRODUCER spans whose context the jobs carry. */
  telemetry?: Telemetry;
  /** REDIS_URL, named (without credentials) in RedisFullError and RedisAuthError. */
  url?: string;
}

/** The request store on Redis: BullMQ's two queues, the request records, the scripts of lua/. */
export interface RedisRequestStore extends RequestStore {
  /** The requests queue (a BullMQ handle, for the worker shell, gauges and dashboards). */
  readonly requestsQueue: Queue;
  /** The outcomes queue (for gauges and dashboards; consumers use consumeOutcomes). */
  readonly outcomesQueue: Queue;
}

/**
 * The request store on Redis. A new request's record and its job are written by one script per
 * batch (lua/enqueue.lua), or, when a duplicate's open record has lost its job, by a WATCH
 * transaction that gives the job back (reserve.ts); outcomes by one script per publication
 * (lua/publish-outcome.lua), a cancel's by a WATCH transaction (publish.ts). The outcome side (its
 * queue handle and its pool of transaction connections) is opened on first use, so a producer
 * opens none of it.
 */
export function createRedisRequestStore(options: RedisRequestStoreOptions): RedisRequestStore {
  const { connection, location } = options;
  const { prefix } = location;
  const jobOptions = requestJobOptions(options.retry);
  const telemetry = options.telemetry ? { telemetry: options.telemetry } : {};
  const requestsQueue = new Queue(location.requestsQueue, {
    connection,
    prefix,
    defaultJobOptions: jobOptions,
    ...(options.writesQueueMeta === false ? { skipMetasUpdate: true } : {}),
    ...telemetry,
  });
  // Errors reach the callers of each operation; without a listener BullMQ prints them whole
  // (console.error), command arguments included.
  requestsQueue.on("error", () => {});
  // A batch whose duplicate lost its job is reserved by a WATCH transaction (reserve.ts), on a pool
  // of connections of its own (WATCH is per connection); opened on first use.
  let txPool: ReturnType<typeof createTxQueue> | undefined;
  const tx = () =>
    (txPool ??= createTxQueue(connection, location.requestsQueue, {
      prefix,
      defaultJobOptions: jobOptions,
      ...telemetry,
      onConnection: defineRecordCommands,
    }));
  let outcomeQueue: OutcomeQueue | undefined;
  const outcomes = () =>
    (outcomeQueue ??= createOutcomeQueue({
      connection,
      prefix,
      queueName: location.outcomesQueue,
      requestsQueueName: location.requestsQueue,
      retentionSeconds: outcomeRetentionSeconds,
      idempotencyRetentionSeconds,
      ...telemetry,
    }));
  const outcomeKeyPrefix = `${prefix}:${location.outcomesQueue}:`;
  const keyed = (items: readonly PreparedRequest[]) => keyRequests(items, prefix, location.requestsQueue);
  const sweeper = sweeperKeys(prefix, location.requestsQueue);
  const openKey = openRecordsKeyOf(prefix, location.requestsQueue);
  const outcomeRetentionSeconds = options.outcomeRetentionSeconds ?? CONFIG_DEFAULTS.RETENTION_SECONDS;
  const idempotencyRetentionSeconds =
    options.idempotencyRetentionSeconds ?? CONFIG_DEFAULTS.IDEMPOTENCY_RETENTION_SECONDS;
  let outcomesHandle: Queue | undefined;
  const identifierIndexTtlMs =
    Math.max(options.retry.retentionSeconds, outcomeRetentionSeconds, idempotencyRetentionSeconds) * 1000 +
    IDENTIFIER_INDEX_MARGIN_MS;
  const pair: QueuePair = {
    redis: connection,
    prefix,
    requestsQueue: location.requestsQueue,
    outcomesQueue: location.outcomesQueue,
  };
  const fleet = { redis: connection, prefix, queueName: location.requestsQueue };

  /**
   * The open record naming `jobId`: its request's default key's record when that is the one (the
   * common case), else among the open records created around the job id's time (a caller's own
   * key), read a page at a time, bounded.
   */
  async function recordOfJob(jobId: string): Promise<RequestRecord | undefined> {
    const parsed = parseRequestJobId(jobId);
    if (!parsed) return undefined;
    const byDefault = parseRecord(
      await connection.hgetall(
        idempotencyRecordKey(prefix, location.requestsQueue, defaultIdempotencyKey(parsed.catalog, parsed.identifier)),
      ),
    );
    if (byDefault?.jobId === jobId) return byDefault;
    const [from, to] = [parsed.createdMs - RECORD_TIME_WINDOW_MS, parsed.createdMs + RECORD_TIME_WINDOW_MS];
    for (let offset = 0; offset < RECORD_SCAN_LIMIT; offset += RECORD_SCAN_PAGE) {
      const keys = await connection.zrangebyscore(openKey, from, to, "LIMIT", offset, RECORD_SCAN_PAGE);
      const read = connection.pipeline();
      for (const key of keys) read.hget(key, "jobId");
      const jobIds = ((await read.exec()) ?? []).map(([, id]) => id);
      const found = jobIds.indexOf(jobId);
      if (found >= 0) return parseRecord(await connection.hgetall(keys[found]!));
      if (keys.length < RECORD_SCAN_PAGE) break;
    }
    return undefined;
  }

  return {
    requestsQueue,
    get outcomesQueue() {
      return (outcomesHandle ??= outcomes().queue);
    },

    async submit(items) {
      if (items.length === 0) return [];
      const batch = keyed(items);
      try {
        const results = await enqueueInOneScript(
          connection,
          requestsQueue,
          batch,
          jobOptions,
          outcomeKeyPrefix,
          identifierIndexTtlMs,
        ).catch((err: unknown) => {
          // A full Redis refuses the script before it reads anything. The transaction below still
          // answers what needs no write (duplicates, conflicts), and is refused (EXECABORT) at its
          // first write, writing nothing.
          if (classifyRedisError(err) === "full") return "refused" as const;
          throw err;
        });
        if (Array.isArray(results)) return results;
        // "job-missing": a duplicate's record lost its job, which the transaction gives back.
        return await tx().exclusive((session) =>
          reserveAndEnqueue(session, batch, jobOptions, outcomeKeyPrefix, identifierIndexTtlMs),
        );
      } catch (err) {
        // A full Redis refuses the MULTI whole (EXECABORT) or the script at its first write (OOM):
        // nothing of the batch is written, and the caller gets one typed error for it. So does a
        // refused password (WRONGPASS, or NOAUTH without one): RedisAuthError, never retried.
        throw toRedisError(err, options.url) ?? err;
      }
    },
    async preview(items) {
      if (items.length === 0) return [];
      return tx().exclusive((session) => previewReservations(session, keyed(items)));
    },

    exists: (requestId) => outcomes().exists(requestId),
    publish: (event, opts) => outcomes().publish(event, opts),
    async readOutcome(requestId) {
      return ((await outcomes().queue.getJob(requestId))?.data as OutcomeEvent | undefined) ?? undefined;
    },
    publishUnlessStarted: (event, opts = {}) =>
      outcomes().publishUnlessStarted(event, {
        ...(opts.idempotencyKey ? { idempotencyKey: opts.idempotencyKey } : {}),
        jobState: () => requestsQueue.getJobState(event.requestId),
      }),

    async job(requestId) {
      const job = await requestsQueue.getJob(requestId);
      if (!job) return undefined;
      return {
        id: requestId,
        data: job.data,
        attemptsMade: job.attemptsMade,
        state: (await job.getState()) as JobState,
        started: job.processedOn !== undefined || job.attemptsMade > 0 || (job.stalledCounter ?? 0) > 0,
      };
    },
    jobState: async (requestId) => (await requestsQueue.getJobState(requestId)) as JobState,
    recordOfJob,
    async rewriteJobData(jobId, data) {
      await (await requestsQueue.getJob(jobId))?.updateData(data);
    },
    async removeJob(requestId) {
      // A run that holds the job's lock makes BullMQ refuse the removal.
      return (await requestsQueue.remove(requestId).catch(() => 0)) === 1;
    },

    async openRecords(beforeMs, limit) {
      const keys = await openRecordKeys(connection, openKey, beforeMs, limit);
      const hashes = await Promise.all(keys.map((k) => connection.hgetall(k)));
      return keys.map((recordKey, i) => ({ recordKey, record: parseRecord(hashes[i]) }));
    },
    forgetRecord: (recordKey) => forgetOpenRecord(connection, recordKey),
    countRevival: (recordKey) => countRevival(connection, recordKey),
    jobStatus: (jobId) => inspectJob(requestsQueue, connection, jobId),
    failedJobsSince: (sinceMs, limit) => failedJobsSince(requestsQueue, connection, sinceMs, limit),
    reviveJob: (jobId, status, data) =>
      reviveJob(requestsQueue, jobId, status, { name: REQUEST_JOB_NAME, data, opts: jobOptions }),
    // A job BullMQ cannot read is rebuilt from its request's record when it has one (its data and
    // the request job's options, encoded as BullMQ does), so the request ends as if nothing happened.
    repairUnreadableJobs: () =>
      repairUnparseableJobs(requestsQueue, connection, async (jobId) => {
        const record = await recordOfJob(jobId);
        if (!record) return undefined;
        const data = jobDataFromRecord(record);
        const json = new Job(requestsQueue, REQUEST_JOB_NAME, data, jobOptions, jobId).asJSON();
        return { data: json.data, opts: JSON.stringify(json.opts) };
      }),
    async completeRecord(idempotencyKey, outcome) {
      const recordKey = idempotencyRecordKey(prefix, location.requestsQueue, idempotencyKey);
      const done = await runScript(
        connection,
        SCRIPTS.completeRecord,
        [recordKey, openKey],
        [
          outcome.requestId,
          idempotencyRetentionSeconds > outcomeRetentionSeconds ? JSON.stringify(outcome) : "",
          outcome.completedAt,
          String(idempotencyRetentionSeconds),
        ],
      );
      return Number(done) === 1;
    },
    async takeSweepLease(holder, ms) {
      return (await connection.set(sweeper.lease, holder, "PX", Math.max(1, Math.round(ms)), "NX")) === "OK";
    },
    async sweepCursor() {
      const value = Number(await connection.get(sweeper.cursor));
      return value > 0 ? value : undefined;
    },
    async setSweepCursor(ms) {
      await connection.set(sweeper.cursor, String(ms));
    },

    failedOutcomes: (filter) => readFailedOutcomes(outcomes().queue, connection, filter),

    queueCounts: () => queueCounts(pair),
    oldestWaiting: () => oldestWaiting(pair),
    failedWithoutOutcome: (limit) => failedWithoutOutcome(pair, limit),
    listRequests: (query) => listRequests(pair, query),
    beatWorker: (beat, ttlMs) => beatWorker(fleet, beat, ttlMs),
    removeWorker: (id) => removeWorker(fleet, id),
    workers: (limit) => listWorkers(fleet, limit),

    async close() {
      // Let the queue handle finish starting first (BullMQ's INFO, script loading and queue meta
      // write are in flight for a few ms after creation): a connection closed under them rejects
      // those commands with "Connection is closed". Bounded, so a Redis that is away does not hold
      // close() up.
      await settled(requestsQueue.waitUntilReady(), CLOSE_SETTLE_MS);
      await Promise.all([txPool?.close(), outcomeQueue?.close()]);
      await requestsQueue.close();
    },
  };
}
