import type { JobsOptions } from "bullmq";
import { IdempotencyConflictError, RecordUnreadableError } from "../../errors/index.js";
import {
  isReplaceable,
  judgeSubmission,
  newRecord,
  parseRecord,
  submissionResult,
  type PreparedRequest,
  type RequestRecord,
  type ReservationPreview,
  type SubmissionResult,
} from "../../request-record/record.js";
import type { AcceptJobData } from "../../contracts/job.js";
import { REQUEST_JOB_NAME } from "./job-options.js";
import { identifierIndexKey, idempotencyRecordKey } from "./keys.js";
import { queueRecords, readRecords, type ReadRecord } from "./records.js";
import { addJobInTransaction, producerSpan, type TxSession } from "./transaction.js";

const MAX_TRIES = 20;

/** A prepared request with its record's Redis key. */
export type KeyedRequest = PreparedRequest & { recordKey: string };

/** Each prepared request with its record's key in the requests queue `queueName` under `prefix`. */
export function keyRequests(items: readonly PreparedRequest[], prefix: string, queueName: string): KeyedRequest[] {
  return items.map((item) => ({ ...item, recordKey: idempotencyRecordKey(prefix, queueName, item.idempotencyKey) }));
}

/**
 * The producer's slower way, for a batch in which a duplicate's open record has lost its job
 * (enqueue.lua returns "job-missing" then, having written nothing): the record gets its job back,
 * with its own ClientToken and correlation id, in a transaction.
 *
 * Reserves request records and adds the jobs of new requests in ONE MULTI/EXEC, guarded by WATCH
 * on every record key: either both the record and its job are written or neither is, and a
 * concurrent producer that wrote one of the records first makes this EXEC fail and re-read.
 *
 * - same key, same payload: the existing job id, state and (when complete) outcome; nothing added
 *   (a record whose job has vanished while not complete gets its job back: no record without a job)
 * - same key, different payload: IdempotencyConflictError naming the differing fields; nothing
 *   of the batch is written
 *
 * `tx` (one connection of a TxQueue, used by this call alone) must have run defineRecordCommands on
 * its connection. With BullMQ telemetry on the queue, the batch is one PRODUCER span and every new
 * job carries its context to the worker.
 */
export async function reserveAndEnqueue(
  tx: TxSession,
  items: readonly KeyedRequest[],
  jobOptions: JobsOptions,
  outcomeKeyPrefix: string,
  identifierIndexTtlMs: number,
): Promise<SubmissionResult[]> {
  const { queue, redis } = tx;
  return producerSpan(queue, "addBulk", queue.name, async (telemetryMetadata) => {
    const opts: JobsOptions = telemetryMetadata
      ? { ...jobOptions, telemetry: { metadata: telemetryMetadata } }
      : jobOptions;
    for (let attempt = 0; attempt < MAX_TRIES; attempt++) {
      const recordKeys = [...new Set(items.map((i) => i.recordKey))];
      // WATCH, then one read of every record of the batch (and whether an open record lost its job).
      const [, rows] = await Promise.all([
        redis.watch(recordKeys),
        readRecords(redis, recordKeys, queue.toKey(""), outcomeKeyPrefix),
      ]);
      const { existing, jobMissing, unreadable } = judgeRows(recordKeys, rows);

      const results: SubmissionResult[] = [];
      const firstInBatch = new Map<string, number>(); // record key → index of the batch's request that is new with it
      const toAdd: Array<{ jobId: string; data: AcceptJobData }> = [];
      const toRecord: Array<{ key: string; record: RequestRecord }> = [];
      for (const item of items) {
        const stray = unreadable.get(item.recordKey);
        if (stray) {
          await redis.unwatch();
          throw unreadableRecordError(item, stray);
        }
        const judged = judgeSubmission(existing.get(item.recordKey), item.fp, item.payload);
        if (judged.verdict === "conflict") {
          await redis.unwatch();
          throw new IdempotencyConflictError(
            item.idempotencyKey,
            judged.differences,
            judged.record.jobId,
            item.index,
            firstInBatch.get(item.recordKey),
          );
        }
        if (judged.verdict === "duplicate") {
          const rec = judged.record;
          if (jobMissing.delete(rec.jobId)) {
            toAdd.push({
              jobId: rec.jobId,
              data: {
                ...item.data,
                clientToken: rec.clientToken,
                request: { ...item.data.request, correlationId: rec.correlationId },
              },
            });
          }
          results.push(submissionResult(rec, true));
          continue;
        }
        const record = newRecord(item);
        existing.set(item.recordKey, record); // a repeat within this batch is a duplicate of this one
        firstInBatch.set(item.recordKey, item.index);
        toRecord.push({ key: item.recordKey, record });
        toAdd.push({ jobId: item.jobId, data: item.data });
        results.push(submissionResult(record, false));
      }

      if (toAdd.length === 0 && toRecord.length === 0) {
        await redis.unwatch();
        return results;
      }
      const multi = await tx.multi();
      queueRecords(multi, toRecord);
      for (const { jobId, data } of toAdd) {
        addJobInTransaction(queue, multi, { name: REQUEST_JOB_NAME, data, opts, jobId });
        // The invitation's index, as enqueue.lua writes it (a job given back is entered again).
        const index = identifierIndexKey(queue.opts.prefix!, queue.name, data.request.identifier);
        multi.zadd(index, Date.parse(data.enqueuedAt) || Date.now(), jobId);
        multi.pexpire(index, Math.max(1, Math.round(identifierIndexTtlMs)));
      }
      const outcome = await multi.exec();
      if (outcome === null) continue; // a watched record changed: read again
      const failed = outcome.find(([err]) => err);
      if (failed) throw failed[0];
      return results;
    }
    throw new Error(
      `could not reserve idempotency records after ${MAX_TRIES} tries (heavy contention on the same keys)`,
    );
  });
}

/**
 * The records read for a batch: `existing` (parsed), the job ids of open records whose job is gone,
 * and the hashes that are not records but name a live job (`unreadable`: never written over).
 * A hash that is not a record and isReplaceable is left out: judged as no record, replaced whole
 * by queueRecords.
 */
function judgeRows(recordKeys: readonly string[], rows: readonly ReadRecord[]) {
  const existing = new Map<string, RequestRecord>();
  const jobMissing = new Set<string>();
  const unreadable = new Map<string, Record<string, string>>();
  recordKeys.forEach((k, i) => {
    const row = rows[i];
    if (!row?.hash) return;
    const record = parseRecord(row.hash);
    if (!record) {
      if (!isReplaceable(row.hash, row.jobMissing)) unreadable.set(k, row.hash);
      return;
    }
    existing.set(k, record);
    if (row.jobMissing) jobMissing.add(record.jobId);
  });
  return { existing, jobMissing, unreadable };
}

/** The refusal of `item`, whose record key holds `hash`: not a record, and naming a live job. */
export function unreadableRecordError(item: PreparedRequest, hash: Record<string, string>): RecordUnreadableError {
  return new RecordUnreadableError(item.idempotencyKey, hash.jobId ?? "?", Object.keys(hash), item.index);
}

/**
 * What reserveAndEnqueue would do with each item, read in one round trip and written nowhere: the
 * dry run of `discover` and `redrive`. A concurrent producer may change the answer a moment later.
 */
export async function previewReservations(
  tx: TxSession,
  items: readonly KeyedRequest[],
): Promise<ReservationPreview[]> {
  const recordKeys = [...new Set(items.map((i) => i.recordKey))];
  const rows = await readRecords(tx.redis, recordKeys, tx.queue.toKey(""));
  const { existing, unreadable } = judgeRows(recordKeys, rows);
  const firstInBatch = new Map<string, number>();
  return items.map((item): ReservationPreview => {
    const stray = unreadable.get(item.recordKey);
    if (stray) throw unreadableRecordError(item, stray);
    const judged = judgeSubmission(existing.get(item.recordKey), item.fp, item.payload);
    if (judged.verdict === "conflict") {
      const firstIndex = firstInBatch.get(item.recordKey);
      return {
        verdict: "conflict",
        idempotencyKey: item.idempotencyKey,
        existingJobId: judged.record.jobId,
        differences: judged.differences,
        ...(firstIndex !== undefined ? { firstIndex } : {}),
      };
    }
    if (judged.verdict === "duplicate") {
      return {
        verdict: "duplicate",
        idempotencyKey: item.idempotencyKey,
        jobId: judged.record.jobId,
        state: judged.record.state,
      };
    }
    // A repeat within this batch is a duplicate of this one.
    existing.set(item.recordKey, { ...newRecord(item), clientToken: "", correlationId: "", createdAt: "" });
    firstInBatch.set(item.recordKey, item.index);
    return { verdict: "new", idempotencyKey: item.idempotencyKey };
  });
}
