import { describe, expect, it } from "vitest";
import { deriveClientToken, outcomeEventId, requestJobId } from "../../src/queues/identity.js";
import { CLIENT_TOKEN_PATTERN } from "../../src/schemas/request.js";

describe("identity", () => {
  it("derives one job id per (catalog, identifier)", () => {
    expect(requestJobId("AWS", "pacinv-ABCDEFGHIJKLM")).toBe("AWS.pacinv-ABCDEFGHIJKLM");
    expect(requestJobId("AWS", "pacinv-ABCDEFGHIJKLM")).not.toBe(requestJobId("Sandbox", "pacinv-ABCDEFGHIJKLM"));
  });
  it("derives a stable ClientToken that satisfies the API's pattern and length", () => {
    const t = deriveClientToken("AWS", "pacinv-ABCDEFGHIJKLM");
    expect(t).toBe(deriveClientToken("AWS", "pacinv-ABCDEFGHIJKLM"));
    expect(t).not.toBe(deriveClientToken("AWS", "pacinv-ABCDEFGHIJKLN"));
    expect(t).toMatch(CLIENT_TOKEN_PATTERN);
    expect(t.length).toBeGreaterThanOrEqual(1);
    expect(t.length).toBeLessThanOrEqual(64);
  });
  it("derives a stable, UUID-shaped event id per request", () => {
    const id = outcomeEventId("AWS.pacinv-ABCDEFGHIJKLM");
    expect(id).toBe(outcomeEventId("AWS.pacinv-ABCDEFGHIJKLM"));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).not.toBe(outcomeEventId("AWS.pacinv-ABCDEFGHIJKLN"));
  });
});
