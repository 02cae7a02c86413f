import { acceptRequestSchema } from "../contracts/request.js";
import { type FieldIssue, toFieldIssues } from "../schemas/issues.js";

/** The header's name, lower-case as Node gives it; also the `field` of its issues. */
export const IDEMPOTENCY_KEY_HEADER = "idempotency-key";

/** The body's rule for `idempotencyKey` (1-256 printable ASCII characters, no space): one rule for both. */
const keySchema = acceptRequestSchema.shape.idempotencyKey;

const SF_STRING_RULE =
  'must be a structured-field string ("…", RFC 8941, with \\" and \\\\ as its only escapes) or an unquoted key';

/**
 * The `Idempotency-Key` request header (draft-ietf-httpapi-idempotency-key-header): an RFC 8941
 * sf-string, `"8e03978e-…"`. A value that does not open with a double quote is taken as it is,
 * because Stripe-style clients send the key unquoted; the two never overlap (an unquoted value
 * cannot start with `"`). Either way the key must then pass the body's `idempotencyKey` rule.
 * Pure: the header's field values (Node's `headersDistinct`) → the key, none, or the issue.
 */
export function readIdempotencyKeyHeader(
  values: readonly string[] | undefined,
): { key: string | undefined } | { issue: FieldIssue } {
  if (values === undefined || values.length === 0) return { key: undefined };
  // The draft: "Clients MUST NOT include more than one Idempotency-Key header field".
  if (values.length > 1) return { issue: { field: IDEMPOTENCY_KEY_HEADER, rule: "must be sent once" } };
  const raw = values[0]!.trim();
  const key = raw.startsWith('"') ? parseSfString(raw) : raw;
  if (key === undefined) return { issue: { field: IDEMPOTENCY_KEY_HEADER, rule: SF_STRING_RULE } };
  const checked = keySchema.safeParse(key);
  if (!checked.success) {
    const rule = toFieldIssues(checked.error)
      .map((i) => i.rule)
      .join("; ");
    return { issue: { field: IDEMPOTENCY_KEY_HEADER, rule } };
  }
  return { key };
}

/**
 * A body carrying the header's key: the body itself when the header is absent or names the key
 * the body gives; the body with `idempotencyKey` set when the body has none. Anything that is not
 * a JSON object is left to the request schema (which refuses it with its own words).
 */
export function withHeaderKey(body: unknown, key: string | undefined): { body: unknown } | { issue: FieldIssue } {
  if (key === undefined || body === null || typeof body !== "object" || Array.isArray(body)) return { body };
  const inBody = (body as { idempotencyKey?: unknown }).idempotencyKey;
  if (inBody === undefined) return { body: { ...body, idempotencyKey: key } };
  // A body key of the wrong type is the schema's to name (`idempotencyKey: must be a string`).
  if (typeof inBody !== "string" || inBody === key) return { body };
  return {
    issue: {
      field: IDEMPOTENCY_KEY_HEADER,
      rule: "must equal the body's idempotencyKey when both are given",
    },
  };
}

/** RFC 8941 §4.2.5 (Parsing a String), the whole value: undefined when it is not exactly one sf-string. */
function parseSfString(value: string): string | undefined {
  let out = "";
  for (let i = 1; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\") {
      const next = value[++i];
      if (next !== '"' && next !== "\\") return undefined;
      out += next;
    } else if (c === '"') {
      return i === value.length - 1 ? out : undefined;
    } else {
      const code = c.charCodeAt(0);
      if (code < 0x20 || code > 0x7e) return undefined;
      out += c;
    }
  }
  return undefined; // no closing quote
}
