import { describe, expect, it } from "vitest";
import {
  canonicalJson,
  differingFields,
  fingerprint,
  fingerprintPayload,
} from "../../src/request-record/fingerprint.js";

describe("request fingerprints", () => {
  const base = { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM" };
  it("ignores key order, correlationId and idempotencyKey", () => {
    const a = fingerprint(fingerprintPayload({ ...base, metadata: { x: 1, y: { b: 2, a: 1 } }, correlationId: "c1" }));
    const b = fingerprint(
      fingerprintPayload({
        identifier: base.identifier,
        catalog: "AWS",
        metadata: { y: { a: 1, b: 2 }, x: 1 },
        correlationId: "c2",
        idempotencyKey: "k",
      }),
    );
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
  it("leaves an accept's payload as it was before requests could reject, so existing records keep matching", () => {
    const accept = fingerprintPayload({ ...base, metadata: { a: 1 } });
    expect(canonicalJson(accept)).toBe('{"catalog":"AWS","identifier":"pacinv-ABCDEFGHIJKLM","metadata":{"a":1}}');
    // The value pc-invitations 0.2 computed for this request.
    expect(fingerprint(accept)).toBe("X4ceXzRDsXUtM3WSL6aM0gwO-MNl5qxKPehrM8NGHdk");
    expect(fingerprintPayload({ ...base, metadata: { a: 1 }, action: "accept" })).toEqual(accept);
  });
  it("puts action and reason in a reject's payload: accept and reject of one invitation differ", () => {
    const accept = fingerprintPayload(base);
    const reject = fingerprintPayload({ ...base, action: "reject" });
    const rejectWithReason = fingerprintPayload({ ...base, action: "reject", reason: "Not a fit" });
    expect(reject).toEqual({ ...base, action: "reject" });
    expect(differingFields(accept, reject)).toEqual(["action"]);
    expect(differingFields(accept, rejectWithReason)).toEqual(["action", "reason"]);
    expect(differingFields(reject, rejectWithReason)).toEqual(["reason"]);
    expect(new Set([accept, reject, rejectWithReason].map((p) => fingerprint(p))).size).toBe(3);
  });
});
