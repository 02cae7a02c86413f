import { describe, expect, it } from "vitest";
import { toHttpAnswer } from "../../src/http/http-errors.js";
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
      body: { error: "INVALID_REQUEST", message: err.message, issues: err.issues },
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
    expect(toHttpAnswer(err, opts).body).toEqual({
      error: "INVALID_REQUEST",
      message: err.message,
      issues: [
        { index: 0, field: "catalog", rule: "must be 1-64 characters" },
        { index: 2, field: "identifier", rule: "must be a string" },
        { index: 2, field: "metadata", rule: "must be an object" },
      ],
    });
  });

  it("409 with the key, the differing fields and the existing job for IdempotencyConflictError", () => {
    const err = new IdempotencyConflictError("order-42", ["metadata"], "AWS.pacinv-ABCDEFGHIJKLM.x");
    expect(toHttpAnswer(err, opts)).toEqual({
      status: 409,
      body: {
        error: "IDEMPOTENCY_CONFLICT",
        message: err.message,
        idempotencyKey: "order-42",
        differences: ["metadata"],
        existingJobId: "AWS.pacinv-ABCDEFGHIJKLM.x",
      },
    });
  });

  it("400 with the library's message and issues for CancelValidationError (the cancel body's own words)", () => {
    const err = new CancelValidationError([{ field: "reason", rule: "must be 1-256 characters" }]);
    expect(toHttpAnswer(err, opts)).toEqual({
      status: 400,
      body: {
        error: "INVALID_REQUEST",
        message: "invalid cancel: reason: must be 1-256 characters",
        issues: [{ field: "reason", rule: "must be 1-256 characters" }],
      },
    });
  });

  it("503 with Retry-After when Redis is unreachable", () => {
    expect(toHttpAnswer(new RedisUnavailableError("redis://h:6379"), opts)).toMatchObject({
      status: 503,
      body: { error: "REDIS_UNAVAILABLE" },
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
      const expected = {
        status: 503,
        body: { error: "REDIS_UNAVAILABLE", message: "Redis refused our credentials; retry later" },
        headers: { "retry-after": "5" },
      };
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
    expect(answer.body.error).toBe(code);
    expect(answer.body.message).not.toContain("secret");
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
