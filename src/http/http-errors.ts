import {
  BatchValidationError,
  CancelValidationError,
  IdempotencyConflictError,
  PartnerCentralCallError,
  PolicyValidationError,
  RedisAuthError,
  RedisFullError,
  RedisUnavailableError,
  RequestNotCancelableError,
  RequestNotFoundError,
  RequestValidationError,
} from "../errors/index.js";
import { toRedisError } from "../store/redis/connection.js";
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
  "NOT_CANCELABLE",
  "PAYLOAD_TOO_LARGE",
  "UNSUPPORTED_MEDIA_TYPE",
  "REQUEST_TIMEOUT",
  "HEADERS_TOO_LARGE",
  "BACKLOG_FULL",
  "REDIS_UNAVAILABLE",
  "REDIS_FULL",
  "SHUTTING_DOWN",
  "NOT_CONFIGURED",
  "AWS_ERROR",
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

export function unavailable(
  code: "BACKLOG_FULL" | "REDIS_UNAVAILABLE" | "REDIS_FULL" | "SHUTTING_DOWN",
  message: string,
  retryAfterSeconds: number,
): HttpAnswer {
  return { status: 503, body: { error: code, message }, headers: { "retry-after": String(retryAfterSeconds) } };
}

export const UNAUTHORIZED: HttpAnswer = {
  status: 401,
  body: { error: "UNAUTHORIZED", message: "missing or invalid bearer token (Authorization: Bearer <token>)" },
  headers: { "www-authenticate": 'Bearer realm="pc-invitations"' },
};

/** Fastify's own client errors, by code. Anything else with a 4xx status keeps it as INVALID_REQUEST. */
const FASTIFY_ERRORS: Record<string, (err: { message: string }) => HttpAnswer> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => ({
    status: 413,
    body: { error: "PAYLOAD_TOO_LARGE", message: "request body is larger than HTTP_BODY_LIMIT_BYTES" },
  }),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => ({
    status: 415,
    body: { error: "UNSUPPORTED_MEDIA_TYPE", message: "send the body as Content-Type: application/json" },
  }),
  FST_ERR_CTP_EMPTY_JSON_BODY: () =>
    invalidRequest("invalid request: (root): must be a JSON object", [
      { field: "(root)", rule: "must be a JSON object" },
    ]),
  FST_ERR_CTP_INVALID_JSON_BODY: () =>
    invalidRequest("invalid request: (root): must be valid JSON", [{ field: "(root)", rule: "must be valid JSON" }]),
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: () =>
    invalidRequest("invalid request: content-length: must be the length of the body", [
      { field: "content-length", rule: "must be the length of the body" },
    ]),
  // Unreachable while the router's maxParamLength is Node's header limit (build-http-server.ts):
  // kept so that a lower bound would still answer in our words, as the route does for a non-id.
  FST_ERR_MAX_PARAM_LENGTH: () => ({
    status: 404,
    body: { error: "NOT_FOUND", message: "no route or request: a segment of the URL's path is too long to be an id" },
  }),
  FST_ERR_BAD_URL: () =>
    invalidRequest("invalid request: (url): must be validly percent-encoded", [
      { field: "(url)", rule: "must be validly percent-encoded" },
    ]),
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
      err.invalid.flatMap((item) =>
        item.issues.map((issue) => ({ index: item.index, field: issue.field, rule: issue.rule })),
      ),
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
        // A key first used earlier in the same (refused) batch has no job yet: its position instead.
        ...(err.firstIndex === undefined ? { existingJobId: err.existingJobId } : { firstIndex: err.firstIndex }),
        ...(typeof index === "number" ? { index } : {}),
      },
    };
  }
  if (err instanceof RequestNotCancelableError) {
    return {
      status: 409,
      body: { error: "NOT_CANCELABLE", message: err.message, requestId: err.requestId, state: err.state },
    };
  }
  if (err instanceof RequestNotFoundError) return { status: 404, body: { error: "NOT_FOUND", message: err.message } };
  if (err instanceof PolicyValidationError || err instanceof CancelValidationError)
    return invalidRequest(err.message, err.issues);
  // AWS refused a discovery's call for good (after its own retries): the gateway's answer, with AWS's words.
  if (err instanceof PartnerCentralCallError) {
    return {
      status: 502,
      body: {
        error: "AWS_ERROR",
        message: err.message,
        operation: err.operation,
        awsError: err.errorName,
        reason: err.reason,
        awsHttpStatus: err.httpStatus,
      },
    };
  }
  if (err instanceof RedisUnavailableError) {
    // Connected but slow (a long script of someone else's, a batch too big for the timeout): the
    // call may have been carried out. Sending it again is safe: the idempotency key finds it.
    const message =
      err.timedOutAfterMs === undefined
        ? "Redis is unreachable; retry later"
        : `Redis did not answer within ${err.timedOutAfterMs} ms (HTTP_REDIS_TIMEOUT_MS); the request may have ` +
          `been carried out: sending it again is safe (an enqueue finds its idempotency key, a cancel its outcome)`;
    return unavailable("REDIS_UNAVAILABLE", message, options.retryAfterSeconds);
  }
  const redis = err instanceof RedisFullError || err instanceof RedisAuthError ? err : toRedisError(err);
  if (redis instanceof RedisFullError) {
    return unavailable(
      "REDIS_FULL",
      "Redis is full and refuses writes; nothing was enqueued; retry later",
      options.retryAfterSeconds,
    );
  }
  // The credentials were valid at start-up (serve checks them): this is an operator's problem.
  if (redis instanceof RedisAuthError)
    return unavailable("REDIS_UNAVAILABLE", "Redis refused our credentials; retry later", options.retryAfterSeconds);

  const e = (err ?? {}) as { code?: unknown; statusCode?: unknown; message?: unknown };
  const fastify = typeof e.code === "string" ? FASTIFY_ERRORS[e.code] : undefined;
  if (fastify) return fastify({ message: String(e.message) });
  if (err instanceof SyntaxError && e.statusCode === 400)
    return FASTIFY_ERRORS.FST_ERR_CTP_INVALID_JSON_BODY!({ message: "" });
  if (typeof e.statusCode === "number" && e.statusCode >= 400 && e.statusCode < 500) {
    // A client error of Fastify's we have no words of our own for: its message names no secret
    // and no body (the body is never quoted by Fastify's errors).
    const message = typeof e.message === "string" && e.message.length > 0 ? e.message.slice(0, 200) : "bad request";
    return invalidRequest(`invalid request: ${message}`, [{ field: "(request)", rule: message }]);
  }
  return { status: 500, body: { error: "INTERNAL", message: "internal error; it has been logged" } };
}

/**
 * What Node's HTTP parser refused before Fastify saw a request (the server's `clientError`), as an
 * answer of the API's shape: the field is the part of the request that was wrong.
 */
export function clientErrorAnswer(err: { code?: unknown }): HttpAnswer {
  const code = typeof err.code === "string" ? err.code : "";
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return {
      status: 408,
      body: {
        error: "REQUEST_TIMEOUT",
        message:
          "the request (headers and body) did not arrive in time (HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS)",
      },
    };
  }
  if (code === "HPE_HEADER_OVERFLOW")
    return {
      status: 431,
      body: { error: "HEADERS_TOO_LARGE", message: "the request line (its URL) and headers are too large" },
    };
  const [field, rule] = PARSER_ERRORS[code] ?? ["(request)", "must be a well-formed HTTP/1.1 request"];
  return invalidRequest(`invalid request: ${field}: ${rule}`, [{ field, rule }]);
}

/** llhttp's error codes, by the part of the request they are about. */
const PARSER_ERRORS: Record<string, [field: string, rule: string]> = {
  HPE_INVALID_CONTENT_LENGTH: ["content-length", "must be one non-negative whole number"],
  HPE_UNEXPECTED_CONTENT_LENGTH: ["content-length", "must not be sent together with Transfer-Encoding: chunked"],
  HPE_INVALID_TRANSFER_ENCODING: ["transfer-encoding", "must be chunked, as the last encoding"],
  HPE_INVALID_CHUNK_SIZE: ["transfer-encoding", "chunk sizes must be hexadecimal numbers"],
  HPE_INVALID_HEADER_TOKEN: ["(headers)", "header names and values must be valid HTTP tokens and text"],
  HPE_INVALID_METHOD: ["(method)", "must be a known HTTP method"],
  HPE_INVALID_URL: ["(url)", "must be a valid request target"],
  HPE_INVALID_VERSION: ["(version)", "must be HTTP/1.0 or HTTP/1.1"],
};
