import { describe, expect, it } from "vitest";
import { canonicalJson, differingFields, fingerprint, fingerprintPayload } from "../../src/request-record/fingerprint.js";

describe("request fingerprints", () => {
  const base = { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM" };
  it("ignores key order, correlationId and idempotencyKey", () => {
    const a = fingerprint(fingerprintPayload({ ...base, metadata: { x: 1, y: { b: 2, a: 1 } }, correlationId: "c1" }));
    const b = fingerprint(fingerprintPayload({ identifier: base.identifier, catalog: "AWS", metadata: { y: { a: 1, b: 2 }, x: 1 }, correlationId: "c2", idempotencyKey: "k" }));
    expect(a).toBe(b);
    expect(canonicalJson({ b: 1, a: [2, { d: 1, c: 2 }] })).toBe('{"a":[2,{"c":2,"d":1}],"b":1}');
  });
  it("names the fields that differ, a field set on one side only included", () => {
    const a = fingerprintPayload({ ...base, metadata: { x: 1 } });
    const b = fingerprintPayload({ ...base, identifier: "pacinv-ZZZZZZZZZZZZZ", clientToken: "t" });
    expect(differingFields(a, b)).toEqual(["identifier", "clientToken", "metadata"]);
    expect(differingFields(a, a)).toEqual([]);
    expect(fingerprint(a)).not.toBe(fingerprint(b));
  });
});
