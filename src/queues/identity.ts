import { createHash } from "node:crypto";

/**
 * The ClientToken sent to AWS when the caller gave none: a function of the idempotency key only
 * (by default `<catalog>.<identifier>`), so every retry, redelivery, and re-submission of the
 * request sends the same token and AWS replays its first answer instead of accepting twice.
 * 43 base64url characters: within the API's 1-64 `^[A-Za-z0-9-_]+$`.
 */
export function deriveClientToken(idempotencyKey: string): string {
  return createHash("sha256").update(`pc-invitations/client-token/v1\0${idempotencyKey}`).digest("base64url");
}

/** Deterministic event id of a request's outcome: the same on every redelivery. */
export function outcomeEventId(requestId: string): string {
  const h = createHash("sha256").update(`pc-invitations/outcome/v1\0${requestId}`).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${((parseInt(h.slice(16, 18), 16) & 0x3f) | 0x80).toString(16)}${h.slice(18, 20)}-${h.slice(20, 32)}`;
}
