import { describe, expect, it } from "vitest";
import { validateRequest } from "../../src/producer/validate-request.js";

const ok = { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM" };
const issuesOf = (input: unknown) => {
  const r = validateRequest(input);
  if (r.ok) throw new Error("expected invalid");
  return r.issues;
};

describe("accept request schema", () => {
  it("accepts the minimal and the full request", () => {
    expect(validateRequest(ok).ok).toBe(true);
    expect(
      validateRequest({
        ...ok,
        catalog: "Sandbox",
        clientToken: "a-b_C9",
        correlationId: "c",
        metadata: { a: [1, { b: null }] },
      }).ok,
    ).toBe(true);
  });
  it.each<[unknown, string, string]>([
    [{ ...ok, catalog: "" }, "catalog", "1-64"],
    [{ ...ok, catalog: "A".repeat(65) }, "catalog", "1-64"],
    [{ ...ok, catalog: "AWS catalog" }, "catalog", "^[a-zA-Z0-9-]+$"],
    [{ ...ok, identifier: "pacinv-SHORT" }, "identifier", "^pacinv-[A-Za-z0-9]{13}$"],
    [{ ...ok, identifier: "xpacinv-ABCDEFGHIJKLM" }, "identifier", "^pacinv-"],
    [{ ...ok, identifier: "pacinv-ABCDEFGHIJKLM\n" }, "identifier", "^pacinv-"],
    [{ ...ok, clientToken: "" }, "clientToken", "1-64"],
    [{ ...ok, clientToken: "x".repeat(65) }, "clientToken", "1-64"],
    [{ ...ok, clientToken: "has space" }, "clientToken", "^[A-Za-z0-9-_]+$"],
    [{ ...ok, metadata: { big: "x".repeat(5000) } }, "metadata", "4096 bytes"],
    [{ ...ok, metadata: [1, 2] }, "metadata", ""],
    [{ ...ok, correlationId: "" }, "correlationId", "1-128"],
    [{ ...ok, extra: 1 }, "(root)", "unknown field(s): extra"],
    [{ identifier: ok.identifier }, "catalog", ""],
    [{ ...ok, action: "approve" }, "action", 'must be "accept" or "reject"'],
    [{ ...ok, action: "reject", reason: "x".repeat(257) }, "reason", "at most 256 characters"],
    [{ ...ok, action: "reject", reason: 7 }, "reason", "must be a string"],
    [{ ...ok, reason: "Not a fit" }, "reason", 'only allowed with action "reject"'],
    [{ ...ok, action: "accept", reason: "Not a fit" }, "reason", 'only allowed with action "reject"'],
  ])("rejects bad input #%# naming its field", (input, field, rule) => {
    const issues = issuesOf(input);
    const issue = issues.find((i) => i.field === field);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.rule).toContain(rule);
  });
  it("takes an action, accept by default, and a reason of at most 256 characters with a reject", () => {
    expect(validateRequest({ ...ok, action: "accept" }).ok).toBe(true);
    expect(validateRequest({ ...ok, action: "reject" }).ok).toBe(true);
    expect(validateRequest({ ...ok, action: "reject", reason: "x".repeat(256) }).ok).toBe(true);
    const r = validateRequest(ok);
    expect(r.ok && r.request.action).toBeUndefined();
  });
  it("names every broken field at once", () => {
    const fields = issuesOf({ catalog: "?", identifier: "x", clientToken: "" })
      .map((i) => i.field)
      .sort();
    expect(fields).toEqual(["catalog", "clientToken", "identifier"]);
  });
  it("rejects a non-object", () => {
    expect(issuesOf("AWS")[0]!.field).toBe("(root)");
    expect(issuesOf(null)[0]!.field).toBe("(root)");
  });
});
