import {
  DecisionConflictError,
  InvitationNotFoundError,
  InvitationNotPendingError,
  BatchValidationError,
  CancelValidationError,
  IdempotencyConflictError,
  ListQueryError,
  WebhookNotFoundError,
  WebhookValidationError,
  PartnerCentralCallError,
  PolicyValidationError,
  RedisAuthError,
  RedisFullError,
  RedisUnavailableError,
  CancelUnsettledError,
  RequestNotCancelableError,
  RequestNotFoundError,
  RequestValidationError,
} from "../errors/index.js";
import { toRedisError } from "../store/redis/connection.js";
import type { FieldIssue } from "../schemas/issues.js";
import { type ErrorCode, PROBLEM_TYPES, problemTypeUri } from "./problem-types.js";

export { ERROR_CODES, type ErrorCode } from "./problem-types.js";

/** The media type of every error answer (RFC 9457). */
export const PROBLEM_MEDIA_TYPE = "application/problem+json";

/**
 * Every error answer of the HTTP API is an RFC 9457 problem: `type` (the kind's URI), `title`,
 * `status`, `detail`, `instance` (the request's path, added when it is sent: sendAnswer), and
 * extension members: `code`, the stable code to match on, and the kind's own fields (`issues`,
 * `differences`, …). `error` and `message` repeat `code` and `detail` for clients of the API's
 * first error format (`{error, message}`); they are deprecated and go in the next major version.
 * Pure: error → answer.
 */
export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  code: ErrorCode;
  /** @deprecated the same as `code` */
  error: ErrorCode;
  /** @deprecated the same as `detail` */
  message: string;
  [extension: string]: unknown;
}

export interface HttpAnswer {
  status: number;
  body: ProblemBody;
  headers?: Record<string, string>;
}

/** The problem of kind `code`: its type, title and status, this occurrence's detail and fields. */
export function problem(
  code: ErrorCode,
  detail: string,
  extensions: Record<string, unknown> = {},
  headers?: Record<string, string>,
): HttpAnswer {
  const { status, title } = PROBLEM_TYPES[code];
  return {
    status,
    body: { type: problemTypeUri(code), title, status, detail, code, ...extensions, error: code, message: detail },
    ...(headers ? { headers } : {}),
  };
}

/** A batch issue names the item (`index`, 0-based position in `requests`) as well as the field. */
export interface BatchFieldIssue extends FieldIssue {
  index: number;
}

export function invalidRequest(message: string, issues: Array<FieldIssue | BatchFieldIssue>): HttpAnswer {
  return problem("INVALID_REQUEST", message, { issues });
}

export function unavailable(
  code: "BACKLOG_FULL" | "REDIS_UNAVAILABLE" | "REDIS_FULL" | "SHUTTING_DOWN",
  message: string,
  retryAfterSeconds: number,
): HttpAnswer {
  return problem(code, message, {}, { "retry-after": String(retryAfterSeconds) });
}

/**
 * 401 with the challenge of RFC 6750: `Bearer realm=…`, plus `error="invalid_token"` when a
 * token was presented and refused (none presented: no error code, as §3.1 asks).
 */
export function unauthorized(presented: boolean): HttpAnswer {
  return problem(
    "UNAUTHORIZED",
    presented
      ? "the bearer token is not valid (Authorization: Bearer <token>, one of HTTP_AUTH_TOKENS)"
      : "missing bearer token (Authorization: Bearer <token>)",
    {},
    { "www-authenticate": `Bearer realm="pc-invitations"${presented ? ', error="invalid_token"' : ""}` },
  );
}

/**
 * 403: valid credentials that do not allow this. For a token, the challenge of RFC 6750 §3.1
 * (`insufficient_scope`, and the scope it needs).
 */
export function forbidden(detail: string, scope?: string): HttpAnswer {
  return problem(
    "FORBIDDEN",
    detail,
    {},
    scope === undefined
      ? undefined
      : { "www-authenticate": `Bearer realm="pc-invitations", error="insufficient_scope", scope="${scope}"` },
  );
}

export const UNSUPPORTED_MEDIA_TYPE = problem(
  "UNSUPPORTED_MEDIA_TYPE",
  "send the body as Content-Type: application/json",
);
export const INTERNAL = problem("INTERNAL", "internal error; it has been logged");

/** Fastify's own client errors, by code. Anything else with a 4xx status keeps it as INVALID_REQUEST. */
const FASTIFY_ERRORS: Record<string, (err: { message: string }) => HttpAnswer> = {
  FST_ERR_CTP_BODY_TOO_LARGE: () => problem("PAYLOAD_TOO_LARGE", "request body is larger than HTTP_BODY_LIMIT_BYTES"),
  FST_ERR_CTP_INVALID_MEDIA_TYPE: () => UNSUPPORTED_MEDIA_TYPE,
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
  FST_ERR_MAX_PARAM_LENGTH: () =>
    problem("NOT_FOUND", "no route or request: a segment of the URL's path is too long to be an id"),
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
    return problem("IDEMPOTENCY_CONFLICT", err.message, {
      idempotencyKey: err.idempotencyKey,
      differences: err.differences,
      // A key first used earlier in the same (refused) batch has no job yet: its position instead.
      ...(err.firstIndex === undefined ? { existingJobId: err.existingJobId } : { firstIndex: err.firstIndex }),
      ...(typeof index === "number" ? { index } : {}),
    });
  }
  if (err instanceof RequestNotCancelableError) {
    return problem("NOT_CANCELABLE", err.message, {
      requestId: err.requestId,
      state: err.state,
      ...(err.outcome ? { outcome: err.outcome } : {}),
    });
  }
  if (err instanceof CancelUnsettledError) {
    return problem("CANCEL_UNSETTLED", err.message, { requestId: err.requestId }, { "retry-after": "5" });
  }
  if (err instanceof RequestNotFoundError) return problem("NOT_FOUND", err.message);
  if (err instanceof InvitationNotFoundError) return problem("NOT_FOUND", err.message);
  if (err instanceof InvitationNotPendingError) {
    return problem("INVITATION_NOT_PENDING", err.message, {
      catalog: err.catalog,
      identifier: err.identifier,
      invitationStatus: err.status,
      ...(err.held ? { heldState: err.held } : {}),
    });
  }
  if (err instanceof DecisionConflictError) {
    return problem("DECISION_CONFLICT", err.message, {
      catalog: err.catalog,
      identifier: err.identifier,
      existing: err.existing,
      differences: err.differences,
    });
  }
  if (err instanceof WebhookNotFoundError) return problem("NOT_FOUND", err.message);
  if (err instanceof WebhookValidationError) return invalidRequest(err.message, err.issues);
  if (err instanceof PolicyValidationError || err instanceof CancelValidationError || err instanceof ListQueryError)
    return invalidRequest(err.message, err.issues);
  // AWS refused a discovery's call for good (after its own retries): the gateway's answer, with AWS's words.
  if (err instanceof PartnerCentralCallError) {
    return problem("AWS_ERROR", err.message, {
      operation: err.operation,
      awsError: err.errorName,
      reason: err.reason,
      awsHttpStatus: err.httpStatus,
    });
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
  return INTERNAL;
}

/**
 * What Node's HTTP parser refused before Fastify saw a request (the server's `clientError`), as an
 * answer of the API's shape: the field is the part of the request that was wrong.
 */
export function clientErrorAnswer(err: { code?: unknown }): HttpAnswer {
  const code = typeof err.code === "string" ? err.code : "";
  if (code === "ERR_HTTP_REQUEST_TIMEOUT") {
    return problem(
      "REQUEST_TIMEOUT",
      "the request (headers and body) did not arrive in time (HTTP_HEADERS_TIMEOUT_MS / HTTP_REQUEST_TIMEOUT_MS)",
    );
  }
  if (code === "HPE_HEADER_OVERFLOW")
    return problem("HEADERS_TOO_LARGE", "the request line (its URL) and headers are too large");
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

/** `instance`: the path of the request (its query left out), as the client sent it. */
export function instanceOf(url: string): string {
  return url.split("?")[0] ?? url;
}

/** The body as sent: the standard members first (`instance` after `detail`), then the extensions. */
export function problemPayload(body: ProblemBody, instance: string | undefined): string {
  const { type, title, status, detail, ...rest } = body;
  return JSON.stringify({ type, title, status, detail, ...(instance === undefined ? {} : { instance }), ...rest });
}

/** The kinds a foreign error answer's status stands for, when exactly one of ours means the same. */
const KIND_OF_STATUS: Readonly<Record<number, ErrorCode>> = {
  400: "INVALID_REQUEST",
  401: "UNAUTHORIZED",
  403: "FORBIDDEN",
  404: "NOT_FOUND",
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
  500: "INTERNAL",
};
const STANDARD_MEMBERS = new Set(["type", "title", "status", "detail", "instance", "code"]);

/**
 * An error answer that code other than ours wrote in its own shape (bull-board's API behind
 * /admin/queues: `{error: {key}}`), as a problem: `type` `about:blank` (RFC 9457 §4.2.1: nothing
 * more than the status is known), the status phrase as `title`, `code` when the status is one of
 * our kinds'. A 4xx keeps the body's own members as extensions (bull-board's page reads
 * `error.key`); a 5xx keeps none of them (they could describe internals).
 */
export function foreignProblem(status: number, statusText: string, payload: unknown, instance: string): string {
  let foreign: Record<string, unknown> = {};
  if (status < 500 && typeof payload === "string") {
    try {
      const parsed: unknown = JSON.parse(payload);
      if (parsed !== null && typeof parsed === "object" && !Array.isArray(parsed))
        foreign = Object.fromEntries(Object.entries(parsed).filter(([k]) => !STANDARD_MEMBERS.has(k)));
    } catch {
      // Not JSON: nothing to keep.
    }
  }
  const code = KIND_OF_STATUS[status];
  return JSON.stringify({
    type: "about:blank",
    title: statusText,
    status,
    detail: status >= 500 ? "internal error; it has been logged" : `${status} ${statusText}`,
    instance,
    ...(code ? { code } : {}),
    ...foreign,
  });
}
