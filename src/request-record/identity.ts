import { hash, randomBytes } from "node:crypto";
import type { RequestAction } from "../contracts/request.js";

/**
 * The identities of a request, all derived here:
 *   idempotency key   the caller's, or `<catalog>.<identifier>`: names the request record (the store derives its key)
 *   job id            `<catalog>.<identifier>.<suffix>`: the request's BullMQ job, fixed by its record
 *   ClientToken       a function of the idempotency key and the action: the same on every retry,
 *                     redelivery and re-submission, so AWS replays its first answer instead of acting twice
 *   event id          a function of the job id: the same on every redelivery of the outcome
 */

/** Without an idempotencyKey, a request's key is its invitation: `<catalog>.<identifier>`. */
export function defaultIdempotencyKey(catalog: string, identifier: string): string {
  return `${catalog}.${identifier}`;
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

/**
 * What a request's job id says of it (newRequestJobId's layout): its invitation, and when it was
 * made (ms); undefined for an id of another shape.
 */
export function parseRequestJobId(
  jobId: string,
): { catalog: string; identifier: string; createdMs: number } | undefined {
  const [catalog, identifier, suffix, ...rest] = jobId.split(".");
  if (!catalog || !identifier || !suffix || rest.length > 0 || suffix.length <= 10) return undefined;
  const createdMs = Number.parseInt(suffix.slice(0, -10), 36);
  return Number.isFinite(createdMs) ? { catalog, identifier, createdMs } : undefined;
}

/** Random per process, so two producers enqueueing in the same millisecond never collide. */
const PROCESS_NONCE = randomBytes(3).toString("hex");
let sequence = 0;

/**
 * The ClientToken sent to AWS when the caller gave none: a function of the idempotency key and the
 * action. 43 base64url characters: within the API's 1-64 `^[A-Za-z0-9-_]+$`. An accept's token is
 * what it always was; a reject's comes from a namespace of its own, so the two actions never send
 * one token (AWS remembers tokens per operation, but nothing of ours should depend on that).
 */
export function deriveClientToken(idempotencyKey: string, action: RequestAction = "accept"): string {
  const namespace = action === "accept" ? "pc-invitations/client-token/v1" : `pc-invitations/client-token/${action}/v1`;
  return hash("sha256", `${namespace}\0${idempotencyKey}`, "base64url");
}

/**
 * The idempotency key of the redrive of a failed request: one per failed request, so running the
 * same redrive twice finds the first one (a duplicate) instead of acting again. Its ClientToken,
 * derived from it, is new: the old one may be bound to the old answer.
 */
export function redriveIdempotencyKey(requestId: string): string {
  return `redrive:${requestId}`;
}

/** Deterministic event id of a request's outcome (UUID v5 shape): the same on every redelivery. */
export function outcomeEventId(requestId: string): string {
  const h = hash("sha256", `pc-invitations/outcome/v1\0${requestId}`, "hex");
  const variant = ((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
