import { z } from "zod";
import type { AcceptJobData } from "../schemas/job.js";
import type { OutcomeEvent } from "../schemas/outcome.js";
import { differingFields, type FingerprintPayload } from "./fingerprint.js";

/**
 * The request record: one Redis hash per idempotency key, independent of BullMQ's job retention.
 * It is what answers a re-submission, and it says how far the request got.
 *
 *   key          the caller's idempotencyKey (or `<catalog>.<identifier>`)
 *   fp, payload  fingerprint of the payload (fingerprint.ts) and its canonical JSON
 *   jobId        the request's BullMQ job id;  clientToken, correlationId: as stored in the job
 *   state        see below
 *   outcome      the outcome event JSON, once completed (answers re-submissions after the job
 *                and the outcome event are gone);  completedAt
 *
 * State machine (each arrow is one write of the store: src/store/redis/lua/*.lua in Redis):
 *
 *   (none) ──queueRecords, in the MULTI that adds the job──▶ queued (and in the open-records index)
 *   queued ──completeRecord, in the MULTI that adds the outcome──▶ completed (out of the index)
 *   completed ──IDEMPOTENCY_RETENTION_SECONDS──▶ (none)
 *
 * `in_progress` is read, not written: a queued record whose job a worker has taken (the job hash
 * has BullMQ's processedOn) reads as in_progress (readRecords), so a run costs no record write of
 * its own. (Records written as in_progress by 0.1 still read and complete as such.)
 * Never backwards; no TTL while open. `completed` holds exactly when the request's outcome event
 * was published: both are written by one EXEC.
 */
export const RECORD_STATES = ["queued", "in_progress", "completed"] as const;
export type RecordState = (typeof RECORD_STATES)[number];

export const requestRecordSchema = z.object({
  key: z.string(),
  fp: z.string(),
  payload: z.string(),
  jobId: z.string(),
  clientToken: z.string(),
  correlationId: z.string(),
  state: z.enum(RECORD_STATES),
  createdAt: z.string(),
  outcome: z.string().optional(),
  completedAt: z.string().optional(),
});
export type RequestRecord = z.infer<typeof requestRecordSchema>;

/** The hash fields of a record, in the order the scripts use. */
export const RECORD_FIELDS = Object.keys(requestRecordSchema.shape) as Array<keyof RequestRecord>;

/** One validated request, with everything derived for it (producer.ts prepareRequests), ready to be submitted. */
export interface PreparedRequest {
  /** Its position in the caller's batch. */
  index: number;
  idempotencyKey: string;
  fp: string;
  payload: FingerprintPayload;
  payloadJson: string;
  /** Job id and data to use if this request is new. */
  jobId: string;
  data: AcceptJobData;
}

/** The record a new request gets: queued, with its job id, ClientToken and correlation id. */
export function newRecord(item: PreparedRequest): RequestRecord {
  return {
    key: item.idempotencyKey,
    fp: item.fp,
    payload: item.payloadJson,
    jobId: item.jobId,
    clientToken: item.data.clientToken,
    correlationId: item.data.request.correlationId,
    state: "queued",
    createdAt: item.data.enqueuedAt,
  };
}

/** What a submission would do with one request (the store's preview). */
export type ReservationPreview =
  | { verdict: "new"; idempotencyKey: string }
  | { verdict: "duplicate"; idempotencyKey: string; jobId: string; state: SubmissionResult["state"] }
  /** `firstIndex`: the key's first use is that earlier item of the batch (see IdempotencyConflictError). */
  | {
      verdict: "conflict";
      idempotencyKey: string;
      existingJobId: string;
      differences: string[];
      firstIndex?: number;
    };

/** A hash read from Redis → record, or undefined when the hash is absent or not a record. */
export function parseRecord(hash: Record<string, string> | null | undefined): RequestRecord | undefined {
  if (!hash || Object.keys(hash).length === 0) return undefined;
  const parsed = requestRecordSchema.safeParse(hash);
  return parsed.success ? parsed.data : undefined;
}

/**
 * A hash at a record key that is not a record (parseRecord: undefined) is judged as no record, and
 * replaced whole by the write that follows, only when no live request can own it: it names no job,
 * or it is not completed and its job is gone. One that names a job still there is unreadable and
 * never written over (RecordUnreadableError). The scripts' isReplaceable (store/redis/lua/includes/record.lua)
 * is this rule in Lua; `jobMissing` is readRecord's flag.
 */
export function isReplaceable(hash: Record<string, string>, jobMissing: boolean): boolean {
  return hash.jobId === undefined || jobMissing;
}

/** What a producer returns for one request: its record's view. */
export interface SubmissionResult {
  jobId: string;
  duplicate: boolean;
  state: RecordState;
  clientToken: string;
  correlationId: string;
  idempotencyKey: string;
  /** The recorded outcome, when the request is complete: the API is not called again. */
  outcome?: OutcomeEvent;
}

export function submissionResult(record: RequestRecord, duplicate: boolean): SubmissionResult {
  return {
    jobId: record.jobId,
    duplicate,
    state: record.state,
    clientToken: record.clientToken,
    correlationId: record.correlationId,
    idempotencyKey: record.key,
    ...(record.outcome ? { outcome: JSON.parse(record.outcome) as OutcomeEvent } : {}),
  };
}

export type Judgement =
  /** No record: a new request. */
  | { verdict: "new" }
  /** Same key, same payload: the first submission's request. */
  | { verdict: "duplicate"; record: RequestRecord }
  /** Same key, another payload: refused, naming the fields that differ. */
  | { verdict: "conflict"; record: RequestRecord; differences: string[] };

/** A submission against the record of its key (pure). */
export function judgeSubmission(record: RequestRecord | undefined, fp: string, payload: FingerprintPayload): Judgement {
  if (!record) return { verdict: "new" };
  if (record.fp === fp) return { verdict: "duplicate", record };
  return {
    verdict: "conflict",
    record,
    differences: differingFields(JSON.parse(record.payload) as FingerprintPayload, payload),
  };
}
