import { createHash, randomBytes } from "node:crypto";

/** Without an idempotencyKey, a request's key is its invitation: `<catalog>.<identifier>`. */
export function defaultIdempotencyKey(catalog: string, identifier: string): string {
  return `${catalog}.${identifier}`;
}

/**
 * Redis key of an idempotency record, inside the queue prefix so one hash tag covers it on Redis
 * Cluster. The caller's key is hashed: any length or character set stays a short, safe key.
 */
export function idempotencyRecordKey(prefix: string, queueName: string, idempotencyKey: string): string {
  return `${prefix}:${queueName}:idem:${createHash("sha256").update(idempotencyKey).digest("base64url")}`;
}

/**
 * Job id of a new request: the invitation plus a per-record suffix. Within a record's lifetime
 * every re-submission gets this same id back (from the record); once the record has expired, a new
 * submission is a new request with a new id, so it gets an outcome of its own even while the old
 * job or outcome is still retained.
 */
export function newRequestJobId(catalog: string, identifier: string, nowMs = Date.now()): string {
  sequence = (sequence + 1) % 1_679_616; // 36^4
  return `${catalog}.${identifier}.${nowMs.toString(36)}${PROCESS_NONCE}${sequence.toString(36).padStart(4, "0")}`;
}

/** Random per process, so two producers enqueueing in the same millisecond never collide. */
const PROCESS_NONCE = randomBytes(3).toString("hex");
let sequence = 0;
