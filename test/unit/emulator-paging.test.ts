import { describe, it, expect } from "vitest";
import { decodeNextToken, encodeNextToken, takePage } from "../../src/emulator/paging.js";
import { ApiError } from "../../src/emulator/wire.js";

const items = (n: number) => Array.from({ length: n }, (_, i) => ({ seq: (i + 1) * 10, record: `r${i + 1}` }));

describe("NextToken", () => {
  it("round-trips for the same operation and filters; no token means from the start", () => {
    const t = encodeNextToken("ListConnections", 42, '["AWS"]');
    expect(t).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeNextToken(t, "ListConnections", '["AWS"]')).toBe(42);
    expect(decodeNextToken(undefined, "ListConnections", '["AWS"]')).toBe(0);
  });

  it.each([
    ["another operation", encodeNextToken("ListConnections", 1, "f"), "ListConnectionInvitations", "f"],
    ["other filters", encodeNextToken("ListConnections", 1, "f"), "ListConnections", "g"],
    ["garbage", "not-a-token", "ListConnections", "f"],
    [
      "a negative position",
      Buffer.from(JSON.stringify({ v: 1, op: "X", after: -1, filter: "f" })).toString("base64url"),
      "X",
      "f",
    ],
  ])("refuses a token for %s as a ValidationException on NextToken", (_n, token, op, filter) => {
    try {
      decodeNextToken(token, op, filter);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ApiError);
      const { response } = err as ApiError;
      expect(response.status).toBe(400);
      expect(response.body?.ErrorDetails).toEqual([
        { FieldValidationError: { Name: "NextToken", Message: "Invalid NextToken", Code: "INVALID_VALUE" } },
      ]);
    }
  });
});

describe("takePage", () => {
  it("reports where to continue only when another item follows", () => {
    expect(takePage(items(5), 2)).toEqual({ page: ["r1", "r2"], after: 20 });
    expect(takePage(items(2), 2)).toEqual({ page: ["r1", "r2"] });
    expect(takePage(items(0), 2)).toEqual({ page: [] });
  });
});
