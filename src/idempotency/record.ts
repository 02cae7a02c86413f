import { z } from "zod";

export const RECORD_STATES = ["queued", "in_progress", "completed"] as const;
export type RecordState = (typeof RECORD_STATES)[number];

/**
 * An idempotency record, one Redis hash per key, independent of BullMQ's job retention:
 *   key          the caller's idempotencyKey (or `<catalog>.<identifier>`)
 *   fp           fingerprint of the payload (see fingerprint.ts); payload: its canonical JSON
 *   jobId        the request's BullMQ job id;  clientToken, correlationId: as stored in the job
 *   state        queued → in_progress → completed
 *   outcome      the outcome event JSON, once completed (answers re-submissions after the job
 *                and the outcome event are gone)
 * No TTL while queued or in progress; RETENTION after completion (IDEMPOTENCY_RETENTION_SECONDS).
 */
export const idempotencyRecordSchema = z.object({
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
export type IdempotencyRecord = z.infer<typeof idempotencyRecordSchema>;

/** The hash fields of a record, in the order the batch scripts use. */
export const RECORD_FIELDS = Object.keys(idempotencyRecordSchema.shape) as Array<keyof IdempotencyRecord>;

/** HGETALL → record, or undefined when the hash is absent or not a record. */
export function parseRecord(hash: Record<string, string> | null | undefined): IdempotencyRecord | undefined {
  if (!hash || Object.keys(hash).length === 0) return undefined;
  const parsed = idempotencyRecordSchema.safeParse(hash);
  return parsed.success ? parsed.data : undefined;
}
