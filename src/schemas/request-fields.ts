import { z } from "zod";

/**
 * The fields every request has, and their rules (contracts/request.ts assembles the request from
 * them and from each operation's own fields).
 *
 * Field patterns of AcceptConnectionInvitation, anchored exactly as in the Smithy model
 * (see shared/reference/partnercentral-account-api.md §2.1). The SDK validates nothing
 * client-side, so these are the only checks before AWS sees a request.
 */
export const CATALOG_PATTERN = /^[a-zA-Z0-9-]+$/;
export const INVITATION_ID_PATTERN = /^pacinv-[A-Za-z0-9]{13}$/;
export const CLIENT_TOKEN_PATTERN = /^[A-Za-z0-9-_]+$/;

/** Largest accepted `metadata`, measured as UTF-8 bytes of its JSON text. */
export const METADATA_MAX_BYTES = 4096;
/** Deepest accepted nesting of `metadata`: the object itself is level 1, `{"a":{}}` is 2 levels. */
export const METADATA_MAX_DEPTH = 32;
/** Longest accepted `idempotencyKey`. */
export const IDEMPOTENCY_KEY_MAX_LENGTH = 256;
/** Largest accepted `correlationId`. */
export const CORRELATION_ID_MAX_LENGTH = 128;
/** Longest `reason` of a reject: RejectConnectionInvitation's `Reason` (`@length(max:256)`). */
export const REJECT_REASON_MAX_LENGTH = 256;

export const catalogSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must be 1-64 characters" })
  .max(64, { error: "must be 1-64 characters" })
  .regex(CATALOG_PATTERN, { error: "must match ^[a-zA-Z0-9-]+$ (documented values: AWS, Sandbox)" })
  .describe("Partner Central catalog. Documented values: AWS, Sandbox.");

export const invitationIdSchema = z
  .string({ error: "must be a string" })
  .regex(INVITATION_ID_PATTERN, { error: "must match ^pacinv-[A-Za-z0-9]{13}$" })
  .describe("Connection invitation id, e.g. pacinv-ABCDEFGHIJKLM.");

export const clientTokenSchema = z
  .string({ error: "must be a string" })
  .min(1, { error: "must be 1-64 characters" })
  .max(64, { error: "must be 1-64 characters" })
  .regex(CLIENT_TOKEN_PATTERN, { error: "must match ^[A-Za-z0-9-_]+$" })
  .describe("Idempotency token sent to AWS as ClientToken. Derived from catalog+identifier when absent.");

/**
 * `metadata` is checked by `metadataIssues` (iterative, bounded) before zod's recursive JSON
 * parse runs: depth and size first, so a 5,000-level object is refused with a rule instead of
 * overflowing the stack. The JSON Schema is that of the record (the check adds no shape).
 */
export const metadataSchema = z
  .preprocess(
    (value, ctx) => {
      for (const issue of metadataIssues(value)) ctx.addIssue({ code: "custom", input: value, ...issue });
      return value;
    },
    z.record(z.string(), z.json(), { error: "must be a JSON object" }),
  )
  .describe(
    `Caller's JSON object (≤ ${METADATA_MAX_BYTES} bytes, ≤ ` +
      `${METADATA_MAX_DEPTH} levels), carried untouched to the outcome event.`,
  );

/** At most this many value-level issues are reported for one `metadata` (the first ones found). */
const MAX_METADATA_ISSUES = 10;

/**
 * Every rule `metadata` must keep, checked without recursion, in bounded time and memory:
 * - at most METADATA_MAX_DEPTH levels deep (a cycle counts as too deep), and at most
 *   METADATA_MAX_BYTES bytes as JSON;
 * - only JSON values: strings, finite numbers (`1e400` parses to Infinity: refused), booleans,
 *   null, arrays and plain objects (not Dates, Maps, class instances, undefined, functions…);
 * - no `__proto__` key at any level: JavaScript objects cannot keep it as data (an assignment sets
 *   the prototype instead), so it would be silently dropped and metadata would not arrive untouched.
 * Returns nothing for a non-object root: the record schema says "must be a JSON object".
 * Issue paths are relative to `metadata`.
 */
export function metadataIssues(root: unknown): Array<{ path: PropertyKey[]; message: string }> {
  if (!isPlainObject(root)) return [];
  const issues: Array<{ path: PropertyKey[]; message: string }> = [];
  const stack: Array<{ value: unknown; path: PropertyKey[] }> = [{ value: root, path: [] }];
  let nodes = 0;
  while (stack.length > 0) {
    const { value, path } = stack.pop()!;
    if (++nodes > METADATA_MAX_BYTES)
      return [{ path: [], message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON` }];
    const problem = jsonValueProblem(value);
    if (problem) {
      if (issues.length < MAX_METADATA_ISSUES) issues.push({ path, message: problem });
      continue;
    }
    if (value === null || typeof value !== "object") continue;
    if (path.length >= METADATA_MAX_DEPTH)
      return [{ path: [], message: `must be at most ${METADATA_MAX_DEPTH} levels deep` }];
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
      continue;
    }
    const keys = Object.keys(value);
    for (let i = keys.length - 1; i >= 0; i--) {
      const key = keys[i]!;
      if (key === "__proto__") {
        if (issues.length < MAX_METADATA_ISSUES)
          issues.push({ path: [...path, key], message: '"__proto__" is not allowed as a key' });
        continue;
      }
      stack.push({ value: (value as Record<string, unknown>)[key], path: [...path, key] });
    }
  }
  if (issues.length > 0) return issues;
  // Only JSON values, bounded depth: JSON.stringify is exact here and cannot overflow.
  return Buffer.byteLength(JSON.stringify(root), "utf8") > METADATA_MAX_BYTES
    ? [{ path: [], message: `must be at most ${METADATA_MAX_BYTES} bytes as JSON` }]
    : [];
}

function jsonValueProblem(value: unknown): string | undefined {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      return Number.isFinite(value)
        ? undefined
        : "must be a finite number (JSON numbers are at most ±1.7976931348623157e308)";
    case "object":
      if (value === null || Array.isArray(value) || isPlainObject(value)) return undefined;
      return (
        `must be a JSON value (string, number, boolean, null, array or ` +
        `object), not a ${value.constructor?.name ?? "non-plain object"}`
      );
    default:
      return `must be a JSON value (string, number, boolean, null, array or object), not ${typeof value}`;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}
