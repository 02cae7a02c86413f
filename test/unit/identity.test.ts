import { describe, expect, it } from "vitest";
import {
  defaultIdempotencyKey,
  deriveClientToken,
  newRequestJobId,
  outcomeEventId,
} from "../../src/request-record/identity.js";
import { idempotencyRecordKey } from "../../src/store/redis/keys.js";
import { CLIENT_TOKEN_PATTERN } from "../../src/schemas/request-fields.js";

describe("identity", () => {
  it("names a new request's job after its invitation, unique per record", () => {
    const id = newRequestJobId("AWS", "pacinv-ABCDEFGHIJKLM", 1_700_000_000_000);
    expect(id).toMatch(/^AWS\.pacinv-ABCDEFGHIJKLM\.[0-9a-z]+$/);
    expect(newRequestJobId("AWS", "pacinv-ABCDEFGHIJKLM", 1_700_000_000_000)).not.toBe(id);
    expect(defaultIdempotencyKey("AWS", "pacinv-ABCDEFGHIJKLM")).toBe("AWS.pacinv-ABCDEFGHIJKLM");
  });
  it("keeps idempotency records inside the queue prefix's hash tag, whatever the key", () => {
    const k = idempotencyRecordKey("{pci}", "accept-invitation", "any key with spaces and ünïcode ".repeat(20));
    expect(k).toMatch(/^\{pci\}:accept-invitation:idem:[A-Za-z0-9_-]{43}$/);
    // The key 0.2 wrote this record under (SHA-256 of the UTF-8 key): records written before an upgrade are found
    // after it.
    expect(k).toBe("{pci}:accept-invitation:idem:LEybYJkTNyMApOsyKhtMn4bjSdFEaf9eRbIqYTc4t4k");
  });
  it("derives a stable ClientToken that satisfies the API's pattern and length", () => {
    const t = deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM");
    expect(t).toBe(deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM"));
    expect(t).not.toBe(deriveClientToken("AWS.pacinv-ABCDEFGHIJKLN"));
    expect(t).toMatch(CLIENT_TOKEN_PATTERN);
    expect(t.length).toBeGreaterThanOrEqual(1);
    expect(t.length).toBeLessThanOrEqual(64);
  });
  it(
    "derives an accept's ClientToken exactly as before requests " +
      "could reject, and a reject's in a namespace of its own",
    () => {
      // The token pc-invitations 0.2 sent for this key: requests queued before the upgrade send it still.
      expect(deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM")).toBe("cGC0JtfoMCuvhfZWBl6PcSfYVQh65yY5pIgFOd4Xyb0");
      expect(deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM", "accept")).toBe(
        "cGC0JtfoMCuvhfZWBl6PcSfYVQh65yY5pIgFOd4Xyb0",
      );
      const reject = deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM", "reject");
      expect(reject).not.toBe(deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM"));
      expect(reject).toBe(deriveClientToken("AWS.pacinv-ABCDEFGHIJKLM", "reject"));
      expect(reject).toMatch(CLIENT_TOKEN_PATTERN);
      expect(reject).toHaveLength(43);
    },
  );
  it("derives a stable, UUID-shaped event id per request", () => {
    const id = outcomeEventId("AWS.pacinv-ABCDEFGHIJKLM");
    expect(id).toBe(outcomeEventId("AWS.pacinv-ABCDEFGHIJKLM"));
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(id).not.toBe(outcomeEventId("AWS.pacinv-ABCDEFGHIJKLN"));
    // The id 0.2 gave this request's event: consumers that deduplicate by it keep doing so across an upgrade.
    expect(id).toBe("f8330bde-7866-59f3-bce3-e6bae9f461a3");
  });
});
