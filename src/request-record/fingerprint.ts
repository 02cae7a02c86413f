import { hash } from "node:crypto";
import type { AcceptRequest } from "../contracts/request.js";
import { DEFAULT_OPERATION, OPERATIONS, type Operation } from "../operations/index.js";

/**
 * The part of a request that must be identical for a re-submission to count as the same request.
 * `correlationId` and `idempotencyKey` are left out: tracing ids may differ between tries.
 * `clientToken` and `metadata` count only when the caller set them. `action` and an operation's own
 * fields (a reject's `reason`: src/operations) count only for an operation other than the default:
 * an accept leaves them out, so the payload (and the fingerprint) of an accept is what it was before
 * requests could reject, and accept and reject of one invitation under one key differ in `action`.
 * `redriveOf` is set by the producer for a redrive only (never by callers): the record of a redrive
 * says which request it runs again, and a caller's own key `redrive:…` can never pass for one.
 */
export const FINGERPRINT_FIELDS = [
  "catalog",
  "identifier",
  "action",
  ...(OPERATIONS.flatMap((o) => Object.keys(o.requestFields)) as Array<OperationField>),
  "clientToken",
  "metadata",
  "redriveOf",
] as const;
/** The names of the operations' own request fields. */
type OperationField = Operation extends infer O
  ? O extends Operation
    ? keyof O["requestFields"] & string
    : never
  : never;
export type FingerprintPayload = Partial<
  Pick<AcceptRequest, Exclude<(typeof FINGERPRINT_FIELDS)[number], "redriveOf">>
> & { redriveOf?: string };

export function fingerprintPayload(request: AcceptRequest, redriveOf?: string): FingerprintPayload {
  const out: FingerprintPayload = {};
  const source: Record<string, unknown> = { ...request };
  if ((request.action ?? DEFAULT_OPERATION.action) === DEFAULT_OPERATION.action) {
    for (const op of OPERATIONS) for (const field of Object.keys(op.requestFields)) source[field] = undefined;
    source.action = undefined;
  }
  if (redriveOf !== undefined) source.redriveOf = redriveOf;
  for (const f of FINGERPRINT_FIELDS) if (source[f] !== undefined) (out as Record<string, unknown>)[f] = source[f];
  return out;
}

/** JSON with object keys sorted at every depth, so equal payloads give equal text. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  // One string built in place (no entries, filter and map arrays): it runs for every request.
  const object = value as Record<string, unknown>;
  let out = "";
  for (const k of Object.keys(object).sort()) {
    const v = object[k];
    if (v === undefined) continue;
    out += `${out === "" ? "" : ","}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
}

/** Fingerprint of a payload, from its canonical JSON (pass it when it is already computed). */
export function fingerprint(payload: FingerprintPayload, json: string = canonicalJson(payload)): string {
  return hash("sha256", json, "base64url");
}

/** Names of the fingerprint fields whose values differ (a field present on one side only differs). */
export function differingFields(a: FingerprintPayload, b: FingerprintPayload): string[] {
  return FINGERPRINT_FIELDS.filter((f) => canonicalJson(a[f] ?? null) !== canonicalJson(b[f] ?? null));
}
