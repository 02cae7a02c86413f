import { describe, expect, it } from "vitest";
import {
  clientErrorAnswer,
  foreignProblem,
  problem,
  problemPayload,
  toHttpAnswer,
  unauthorized,
} from "../../src/http/http-errors.js";
import { ERROR_CODES, PROBLEM_TYPES } from "../../src/http/problem-types.js";
import { toAcceptanceStatus } from "../../src/http/acceptance-status.js";
import {
  BatchValidationError,
  CancelValidationError,
  IdempotencyConflictError,
  RedisAuthError,
  RedisUnavailableError,
  RequestValidationError,
} from "../../src/errors/index.js";
import type { OutcomeEvent } from "../../src/contracts/outcome.js";

const opts = { retryAfterSeconds: 5 };

describe("toHttpAnswer", () => {
  it("400 with the library's message and issues for RequestValidationError", () => {
    const err = new RequestValidationError([{ field: "identifier", rule: "must match ^pacinv-[A-Za-z0-9]{13}$" }]);
    expect(toHttpAnswer(err, opts)).toEqual({
      status: 400,
      body: {
        type: "/problems/invalid-request",
        title: "Invalid request",
        status: 400,
        detail: err.message,
        code: "INVALID_REQUEST",
        issues: err.issues,
        error: "INVALID_REQUEST",
        message: err.message,
      },
    });
  });

  it("400 naming the index of every bad item for BatchValidationError", () => {
    const err = new BatchValidationError([
      { index: 0, issues: [{ field: "catalog", rule: "must be 1-64 characters" }] },
      {
        index: 2,
        issues: [
          { field: "identifier", rule: "must be a string" },
          { field: "metadata", rule: "must be an object" },
        ],
      },
    ]);
    expect(toHttpAnswer(err, opts).body).toMatchObject({
      code: "INVALID_REQUEST",
      detail: err.message,
      issues: [
        { index: 0, field: "catalog", rule: "must be 1-64 characters" },
        { index: 2, field: "identifier", rule: "must be a string" },
        { index: 2, field: "metadata", rule: "must be an object" },
      ],
    });
  });

  it("422 with the key, the differing fields and the existing job for IdempotencyConflictError", () => {
    const err = new IdempotencyConflictError("order-42", ["metadata"], "AWS.pacinv-ABCDEFGHIJKLM.x");
    expect(toHttpAnswer(err, opts)).toEqual({
      status: 422,
      body: {
        type: "/problems/idempotency-conflict",
        title: "Idempotency key already used with another payload",
        status: 422,
        detail: err.message,
        code: "IDEMPOTENCY_CONFLICT",
        idempotencyKey: "order-42",
        differences: ["metadata"],
        existingJobId: "AWS.pacinv-ABCDEFGHIJKLM.x",
        error: "IDEMPOTENCY_CONFLICT",
        message: err.message,
      },
    });
  });

  it("400 with the library's message and issues for CancelValidationError (the cancel body's own words)", () => {
    const err = new CancelValidationError([{ field: "reason", rule: "must be 1-256 characters" }]);
    expect(toHttpAnswer(err, opts)).toMatchObject({
      status: 400,
      body: {
        code: "INVALID_REQUEST",
        detail: "invalid cancel: reason: must be 1-256 characters",
        issues: [{ field: "reason", rule: "must be 1-256 characters" }],
      },
    });
  });

  it("503 with Retry-After when Redis is unreachable", () => {
    expect(toHttpAnswer(new RedisUnavailableError("redis://h:6379"), opts)).toMatchObject({
      status: 503,
      body: { code: "REDIS_UNAVAILABLE", type: "/problems/redis-unavailable", status: 503 },
      headers: { "retry-after": "5" },
    });
  });

  it(
    "503 REDIS_UNAVAILABLE naming the refused credentials, never the " +
      "password, for RedisAuthError and a bare WRONGPASS or NOAUTH reply",
    () => {
      const reply = Object.assign(new Error("WRONGPASS invalid username-password pair or user is disabled."), {
        command: { name: "hello", args: ["3", "AUTH", "default", "hunter2"] },
      });
      const expected = problem(
        "REDIS_UNAVAILABLE",
        "Redis refused our credentials; retry later",
        {},
        {
          "retry-after": "5",
        },
      );
      expect(expected.body.detail).toBe("Redis refused our credentials; retry later");
      expect(
        toHttpAnswer(new RedisAuthError("redis://:***@h:6379", "default", "wrong-password", { cause: reply }), opts),
      ).toEqual(expected);
      expect(toHttpAnswer(reply, opts)).toEqual(expected);
      expect(toHttpAnswer(new Error("NOAUTH Authentication required."), opts)).toEqual(expected);
      expect(JSON.stringify(toHttpAnswer(reply, opts))).not.toContain("hunter2");
    },
  );

  it.each([
    [{ code: "FST_ERR_CTP_BODY_TOO_LARGE", statusCode: 413 }, 413, "PAYLOAD_TOO_LARGE"],
    [{ code: "FST_ERR_CTP_INVALID_MEDIA_TYPE", statusCode: 415 }, 415, "UNSUPPORTED_MEDIA_TYPE"],
    [{ code: "FST_ERR_CTP_INVALID_JSON_BODY", statusCode: 400 }, 400, "INVALID_REQUEST"],
    [{ code: "FST_ERR_CTP_EMPTY_JSON_BODY", statusCode: 400 }, 400, "INVALID_REQUEST"],
    [Object.assign(new SyntaxError("Unexpected end of JSON input"), { statusCode: 400 }), 400, "INVALID_REQUEST"],
    [
      {
        code: "FST_ERR_MAX_PARAM_LENGTH",
        statusCode: 414,
        message: "'/v1/acceptances/AWS.aaa' is exceeding the max param length",
      },
      404,
      "NOT_FOUND",
    ],
    [{ code: "FST_ERR_SOMETHING_NEW", statusCode: 400, message: "odd" }, 400, "INVALID_REQUEST"],
    [new Error("boom: secret detail"), 500, "INTERNAL"],
  ])("maps %j to %i %s", (err, status, code) => {
    const answer = toHttpAnswer(err instanceof Error ? err : Object.assign(new Error("x"), err), opts);
    expect(answer.status).toBe(status);
    expect(answer.body.status).toBe(status);
    expect(answer.body.code).toBe(code);
    expect(answer.body.detail).not.toContain("secret");
  });
});

describe("problem details (RFC 9457)", () => {
  it("every kind has its own type URI, title and error status; code and detail repeated for 1.0 clients", () => {
    const types = new Set<string>();
    for (const code of ERROR_CODES) {
      const { body, status } = problem(code, "what happened");
      expect(body).toEqual({
        type: `/problems/${code.toLowerCase().replaceAll("_", "-")}`,
        title: PROBLEM_TYPES[code].title,
        status,
        detail: "what happened",
        code,
        error: code,
        message: "what happened",
      });
      expect(status).toBeGreaterThanOrEqual(400);
      expect(status).toBeLessThan(600);
      types.add(body.type);
    }
    expect(types.size).toBe(ERROR_CODES.length);
  });

  it("sends the standard members first, instance after detail, then the extensions", () => {
    const answer = problem("NOT_CANCELABLE", "request x is active", { requestId: "x", state: "active" });
    expect(Object.keys(JSON.parse(problemPayload(answer.body, "/v1/acceptances/x/cancel")))).toEqual([
      "type",
      "title",
      "status",
      "detail",
      "instance",
      "code",
      "requestId",
      "state",
      "error",
      "message",
    ]);
    expect(JSON.parse(problemPayload(answer.body, undefined))).not.toHaveProperty("instance");
  });

  it("401 challenges with Bearer (RFC 6750), invalid_token only when a token was presented", () => {
    expect(unauthorized(false).headers).toEqual({ "www-authenticate": 'Bearer realm="pc-invitations"' });
    expect(unauthorized(true).headers).toEqual({
      "www-authenticate": 'Bearer realm="pc-invitations", error="invalid_token"',
    });
    expect(unauthorized(true).status).toBe(401);
  });

  it("the parser's refusals: 408, 431, and 400 naming the part", () => {
    expect(clientErrorAnswer({ code: "ERR_HTTP_REQUEST_TIMEOUT" }).body.code).toBe("REQUEST_TIMEOUT");
    expect(clientErrorAnswer({ code: "HPE_HEADER_OVERFLOW" }).status).toBe(431);
    expect(clientErrorAnswer({ code: "HPE_INVALID_METHOD" }).body).toMatchObject({
      code: "INVALID_REQUEST",
      issues: [{ field: "(method)", rule: "must be a known HTTP method" }],
    });
  });

  it("an error body of another shape becomes about:blank, keeping a 4xx's fields and none of a 5xx's", () => {
    const notFound = JSON.parse(foreignProblem(404, "Not Found", '{"error":{"key":"ERRORS.QUEUE_NOT_FOUND"}}', "/q"));
    expect(notFound).toEqual({
      type: "about:blank",
      title: "Not Found",
      status: 404,
      detail: "404 Not Found",
      instance: "/q",
      code: "NOT_FOUND",
      error: { key: "ERRORS.QUEUE_NOT_FOUND" },
    });
    const readOnly = JSON.parse(foreignProblem(405, "Method Not Allowed", '{"type":"x","status":1}', "/q"));
    expect(readOnly).toEqual({
      type: "about:blank",
      title: "Method Not Allowed",
      status: 405,
      detail: "405 Method Not Allowed",
      instance: "/q",
    });
    const crash = JSON.parse(foreignProblem(500, "Internal Server Error", '{"stack":"at x (y.js:1:2)"}', "/q"));
    expect(crash).toEqual({
      type: "about:blank",
      title: "Internal Server Error",
      status: 500,
      detail: "internal error; it has been logged",
      instance: "/q",
      code: "INTERNAL",
    });
    expect(JSON.parse(foreignProblem(400, "Bad Request", "<html>", "/q")).detail).toBe("400 Bad Request");
  });
});

describe("toAcceptanceStatus", () => {
  const accepted = { type: "accepted", attempts: 2 } as OutcomeEvent;
  const failed = { type: "failed", attempts: 1 } as OutcomeEvent;
  const rejected = { type: "rejected", attempts: 1 } as OutcomeEvent;
  const canceled = { type: "canceled", attempts: 0 } as OutcomeEvent;
  it.each([
    [{ state: "waiting", attemptsMade: 0 }, null, "waiting", 0],
    [{ state: "active", attemptsMade: 1 }, null, "active", 1],
    [{ state: "waiting-children", attemptsMade: 0 }, null, "unknown", 0],
    [{ state: "completed", attemptsMade: 1 }, accepted, "completed", 2],
    [undefined, accepted, "completed", 2],
    [undefined, failed, "failed", 1],
    [undefined, rejected, "completed", 1],
    [undefined, canceled, "canceled", 0],
    // A cancel that died before removing its job: the job waits, to end without a call.
    [{ state: "waiting", attemptsMade: 0 }, canceled, "canceled", 0],
  ] as const)("job %j with outcome %j → %s, %i attempts", (job, outcome, state, attempts) => {
    expect(toAcceptanceStatus("id-1", job, outcome)).toEqual({ id: "id-1", state, attempts, outcome });
  });
});
