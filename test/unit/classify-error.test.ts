import { describe, expect, it } from "vitest";
import { classifyError } from "../../src/aws/classify-error.js";

/** Builds an error shaped like the SDK's service exceptions. */
function sdkError(name: string, status: number | undefined, extra: Record<string, unknown> = {}) {
  return Object.assign(new Error(`${name} message`), {
    name,
    $fault: status !== undefined && status >= 500 ? "server" : "client",
    $metadata: { httpStatusCode: status, requestId: "req-1" },
    ...extra,
  });
}

describe("classifyError", () => {
  it.each([
    ["ResourceNotFoundException", 404, "terminal"],
    ["AccessDeniedException", 403, "terminal"],
    ["ConflictException", 409, "terminal"],
    ["ValidationException", 400, "terminal"],
    ["ServiceQuotaExceededException", 402, "terminal"],
    ["ThrottlingException", 429, "throttle"],
    ["ThrottlingException", 400, "throttle"],
    ["InternalServerException", 500, "transient"],
    ["Unknown", 503, "transient"],
    ["SomeFutureException", 502, "transient"],
    ["SomeFutureClientException", 418, "terminal"],
    ["TooManyRequests", 429, "throttle"],
  ] as const)("%s with HTTP %s is %s", (name, status, kind) => {
    const c = classifyError(sdkError(name, status, { Reason: "R" }));
    expect(c.kind).toBe(kind);
    expect(c.name).toBe(name);
    expect(c.httpStatus).toBe(status);
    expect(c.awsRequestId).toBe("req-1");
    expect(c.reason).toBe("R");
  });

  it.each(["ECONNRESET", "ECONNREFUSED", "ETIMEDOUT", "EPIPE"])(
    "a network error %s (no HTTP answer) is a transient NetworkError",
    (code) => {
      const err = Object.assign(new Error("socket hang up"), { code, $metadata: {} });
      const c = classifyError(err);
      expect(c).toMatchObject({ name: "NetworkError", kind: "transient", httpStatus: null });
      expect(c.message).toContain(code);
    },
  );

  it("finds a network code in the cause chain and treats SDK timeouts as network errors", () => {
    const wrapped = Object.assign(new Error("outer"), {
      cause: Object.assign(new Error("inner"), { code: "ECONNRESET" }),
    });
    expect(classifyError(wrapped).name).toBe("NetworkError");
    expect(classifyError(Object.assign(new Error("t"), { name: "TimeoutError" })).kind).toBe("transient");
  });

  it("marks errors after which AWS may have acted as indeterminate", () => {
    expect(classifyError(sdkError("InternalServerException", 500)).indeterminate).toBe(true);
    expect(classifyError(sdkError("Unknown", 503)).indeterminate).toBe(true);
    expect(classifyError(Object.assign(new Error("reset"), { code: "ECONNRESET" })).indeterminate).toBe(true);
    expect(classifyError(Object.assign(new Error("t"), { name: "TimeoutError" })).indeterminate).toBe(true);
    expect(classifyError(Object.assign(new Error("refused"), { code: "ECONNREFUSED" })).indeterminate).toBe(false);
    expect(classifyError(sdkError("ThrottlingException", 429)).indeterminate).toBe(false);
    expect(classifyError(sdkError("ConflictException", 409)).indeterminate).toBe(false);
  });

  it.each([
    ["CredentialsProviderError", undefined],
    ["ExpiredTokenException", 403],
    ["ExpiredTokenException", 400],
    ["InvalidSignatureException", 403],
    ["UnrecognizedClientException", 403],
    ["IncompleteSignatureException", 403],
    ["IncompleteSignature", 400],
    ["MissingAuthenticationTokenException", 403],
  ] as const)(
    "%s (HTTP %s) is a fault of the worker, not of the request, and nothing happened at AWS",
    (name, status) => {
      const c = classifyError(sdkError(name, status));
      expect(c).toMatchObject({ name, kind: "fault", indeterminate: false });
    },
  );

  it("AccessDeniedException stays terminal: a permission on the invitation, fixed by IAM and a redrive", () => {
    expect(classifyError(sdkError("AccessDeniedException", 403)).kind).toBe("terminal");
  });

  it("our own hard timeout is a network error after which AWS may have acted", () => {
    const c = classifyError(
      Object.assign(new Error("no answer within 1000 ms"), { name: "TimeoutError", code: "ETIMEDOUT" }),
    );
    expect(c).toMatchObject({ name: "NetworkError", kind: "transient", indeterminate: true });
  });

  it("an unclassifiable error is terminal, never retried forever", () => {
    expect(classifyError(new TypeError("RFC-3339 date-times must be expressed as strings")).kind).toBe("terminal");
    expect(classifyError("a string").kind).toBe("terminal");
  });

  it("reads Retry-After in seconds, as an HTTP date, and x-amz-retry-after in ms", () => {
    const now = Date.parse("2026-01-01T00:00:00Z");
    const withHeaders = (headers: Record<string, string>) =>
      classifyError(sdkError("ThrottlingException", 429, { $response: { headers } }), now).retryAfterMs;
    expect(withHeaders({ "retry-after": "2" })).toBe(2000);
    expect(withHeaders({ "Retry-After": "Thu, 01 Jan 2026 00:00:03 GMT" })).toBe(3000);
    expect(withHeaders({ "x-amz-retry-after": "750" })).toBe(750);
    expect(withHeaders({})).toBeNull();
  });

  it("keeps ValidationException ErrorDetails", () => {
    const details = [{ FieldValidationError: { Name: "Identifier", Message: "bad", Code: "INVALID_STRING_FORMAT" } }];
    expect(classifyError(sdkError("ValidationException", 400, { ErrorDetails: details })).details).toEqual(details);
  });
});
