import { Job, type JobsOptions, type Queue } from "bullmq";
import type { ChainableCommander } from "ioredis";
import type { RedisConnection } from "../queues/connection.js";
import { IdempotencyConflictError } from "../errors/index.js";
import type { AcceptJobData } from "../schemas/job.js";
import type { OutcomeEvent } from "../schemas/outcome.js";
import { differingFields, type FingerprintPayload } from "./fingerprint.js";
import { parseRecord, type IdempotencyRecord, type RecordState } from "./record.js";
import { readRecords, writeRecords } from "./record-scripts.js";

/** One validated request, with everything derived for it, ready to be reserved. */
export interface PreparedRequest {
  index: number;
  idempotencyKey: string;
  recordKey: string;
  fp: string;
  payload: FingerprintPayload;
  payloadJson: string;
  /** Job id and data to use if this request is new. */
  jobId: string;
  data: AcceptJobData;
}

export interface ReserveResult {
  jobId: string;
  duplicate: boolean;
  state: RecordState;
  clientToken: string;
  correlationId: string;
  idempotencyKey: string;
  /** The recorded outcome, when the request is complete: the API is not called again. */
  outcome?: OutcomeEvent;
}

const MAX_TRIES = 20;

/**
 * Reserves idempotency records and adds the jobs of new requests in ONE MULTI/EXEC, guarded by
 * WATCH on every record key (records are read and written by one batch script each): either both the record and its job are written or neither is, and
 * a concurrent producer that wrote one of the records first makes this EXEC fail and re-read.
 *
 * - same key, same payload: the existing job id, state and (when complete) outcome; nothing added
 *   (a record whose job has vanished while not complete gets its job back: no record without a job)
 * - same key, different payload: IdempotencyConflictError naming the differing fields; nothing
 *   of the batch is written
 *
 * `redis` must be a connection used by one reservation at a time (WATCH is per connection), with
 * defineRecordScripts applied; `queue` must be a Queue built on that same connection, so BullMQ's
 * scripts are loaded on it.
 */
export async function reserveAndEnqueue(
  redis: RedisConnection,
  queue: Queue,
  items: PreparedRequest[],
  jobOptions: JobsOptions,
): Promise<ReserveResult[]> {
  for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
    const recordKeys = [...new Set(items.map((i) => i.recordKey))];
    // WATCH, then one read of every record of the batch (and whether an open record lost its job).
    const [, rows] = await Promise.all([redis.watch(...recordKeys), readRecords(redis, recordKeys, queue.toKey(""))]);
    const existing = new Map<string, IdempotencyRecord>();
    const jobMissing = new Set<string>();
    recordKeys.forEach((k, i) => {
      const rec = parseRecord(rows[i]?.hash);
      if (!rec) return;
      existing.set(k, rec);
      if (rows[i]!.jobMissing) jobMissing.add(rec.jobId);
    });

    const results: ReserveResult[] = [];
    const toAdd: Array<{ jobId: string; data: AcceptJobData }> = [];
    const toRecord: Array<{ key: string; record: IdempotencyRecord }> = [];
    for (const item of items) {
      const rec = existing.get(item.recordKey);
      if (rec) {
        if (rec.fp !== item.fp) {
          await redis.unwatch();
          const diffs = differingFields(JSON.parse(rec.payload) as FingerprintPayload, item.payload);
          throw new IdempotencyConflictError(item.idempotencyKey, diffs, rec.jobId, item.index);
        }
        if (jobMissing.has(rec.jobId)) {
          toAdd.push({ jobId: rec.jobId, data: { ...item.data, clientToken: rec.clientToken, request: { ...item.data.request, correlationId: rec.correlationId } } });
          jobMissing.delete(rec.jobId);
        }
        results.push(toResult(rec, true));
        continue;
      }
      const record: IdempotencyRecord = {
        key: item.idempotencyKey,
        fp: item.fp,
        payload: item.payloadJson,
        jobId: item.jobId,
        clientToken: item.data.clientToken,
        correlationId: item.data.request.correlationId,
        state: "queued",
        createdAt: item.data.enqueuedAt,
      };
      existing.set(item.recordKey, record); // a repeat within this batch is a duplicate of this one
      toRecord.push({ key: item.recordKey, record });
      toAdd.push({ jobId: item.jobId, data: item.data });
      results.push(toResult(record, false));
    }

    if (toAdd.length === 0 && toRecord.length === 0) {
      await redis.unwatch();
      return results;
    }
    const client = await queue.getBackend().client;
    const multi = client.multi() as unknown as ChainableCommander;
    writeRecords(multi, toRecord);
    for (const { jobId, data } of toAdd) {
      void new Job(queue, "accept", data, { ...jobOptions, jobId }, jobId).addJob(multi as never).catch(() => undefined);
    }
    const outcome = await multi.exec();
    if (outcome === null) continue; // a watched record changed: read again
    const failed = outcome.find(([err]) => err);
    if (failed) throw failed[0];
    return results;
  }
  throw new Error(`could not reserve idempotency records after ${MAX_TRIES} tries (heavy contention on the same keys)`);
}

function toResult(rec: IdempotencyRecord, duplicate: boolean): ReserveResult {
  return {
    jobId: rec.jobId,
    duplicate,
    state: rec.state,
    clientToken: rec.clientToken,
    correlationId: rec.correlationId,
    idempotencyKey: rec.key,
    ...(rec.outcome ? { outcome: JSON.parse(rec.outcome) as OutcomeEvent } : {}),
  };
}
