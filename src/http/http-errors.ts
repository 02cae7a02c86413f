import { BatchValidationError, IdempotencyConflictError, RedisUnavailableError, RequestValidationError } from "../errors/index.js";
import type { FieldIssue } from "../schemas/issues.js";

/**
 * Every error answer of the HTTP API has this shape: a stable `error` code to match on and a
 * readable `message`, plus fields of its own (`issues`, `differences`, …). Pure: error → answer.
 */
export interface ErrorBody {
  error: ErrorCode;
  message: string;
  [field: string]: unknown;
}

export const ERROR_CODES = [
  "INVALID_REQUEST",
  "UNAUTHORIZED",
  "NOT_FOUND",
  "IDEMPOTENCY_CONFLICT",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "BACKLOG_FULL",
  "REDIS_UNAVAILABLE",
  "INTERNAL",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface HttpAnswer {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** A batch issue names the item (`index`, 0-based position in `requests`) as well as the field. */
export interface BatchFieldIssue extends FieldIssue {
  index: number;
}

export function invalidRequest(message: string, issues: Array<FieldIssue | BatchFieldIssue>): HttpAnswer {
  return { status: 400, body: { error: "INVALID_REQUEST", message, issues } };
}

export function unavailable(code: "BACKLOG_FULL" | "REDIS_UNAVAILABLE", message: string, retryAfterSeconds: number): HttpAnswer {
  return { status: 503, body: { error: code, message }, headers: { "retry-after": String(retryAfterSeconds) } };
}

export const UNAUTHORIZED: HttpAnswer = {
  status: 401,
  body: { error: "UNAUTHORIZED", message: "missing or invalid bearer token (Authorization: Bearer <token>)" },
  headers: { "www-authenticate": 'Bearer realm="pc-invitations"' },
};

/** Fastify's own client errors, by code. Anything else with a 4xx status keeps it as INVALID_REQUEST. */
const FASTIFY_ERRORS: Record<string, (err: { message: string }) => HttpAnswer> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => ({ status: 413, body: { error: "PAYLOAD_TOO_LARGE", message: "request body is larger than HTTP_BODY_LIMIT_BYTES" } }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => ({
    status: 415,
    body: { error: "UNSUPPORTED_MEDIA_TYPE", message: "send the body as Content-Type: application/json" },
  }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () => invalidRequest("invalid request: (root): must be a JSON object", [{ field: "(root)", rule: "must be a JSON object" }]),
  FST_ERR_CTP_INVALID_JSON_BODY: () => invalidRequest("invalid request: (root): must be valid JSON", [{ field: "(root)", rule: "must be valid JSON" }]),
};

/**
 * Maps what a handler or Fastify threw to the answer. Validation and conflict errors keep the
 * library's own message (the same words as `enqueue` throws); unknown errors become a 500 that
 * says nothing about internals.
 */
export function toHttpAnswer(err: unknown, options: { retryAfterSeconds: number }): HttpAnswer {
  if (err instanceof RequestValidationError) return invalidRequest(err.message, err.issues);
  if (err instanceof BatchValidationError) {
    return invalidRequest(
      err.message,
      err.invalid.flatMap((item) => item.issues.map((issue) => ({ index: item.index, field: issue.field, rule: issue.rule }))),
    );
  }
  if (err instanceof IdempotencyConflictError) {
    const index = (err as { index?: unknown }).index;
    return {
      status: 409,
      body: {
        error: "IDEMPOTENCY_CONFLICT",
        message: err.message,
        idempotencyKey: err.idempotencyKey,
        differences: err.differences,
        existingJobId: err.existingJobId,
        ...(typeof index === "number" ? { index } : {}),
      },
    };
  }
  if (err instanceof RedisUnavailableError) return unavailable("REDIS_UNAVAILABLE", "Redis is unreachable; retry later", options.retryAfterSeconds);

  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown };
  const fastify = typeof e.code === "string" ? FASTIFY_ERRORS[e.code] : undefined;
  if (fastify) return fastify({ message: String(e.message) });
  if (err instanceof SyntaxError && e.statusCode === 400) return FASTIFY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY!({ message: "" });
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    const message = typeof e.message === "string" ? e.message : "bad request";
    return invalidRequest(`invalid request: ${message}`, [{ field: "(root)", rule: message }]);
  }
  return { status: 500, body: { error: "INTERNAL", message: "internal error; it has been logged" } };
}
