import { describe, expect, it } from "vitest";
import { failedEvent, invalidJobError, salvagedEnvelope } from "../../src/outcomes/outcome-events.js";
import { outcomeEventSchema } from "../../src/schemas/outcome.js";

const job = (metadata: unknown) => ({
  v: 1,
  request: { catalog: "AWS", identifier: "pacinv-ABCDEFGHIJKLM", metadata },
  clientToken: 42,
});
const deep = (levels: number) => {
  let v: Record<string, unknown> = {};
  for (let i = 0; i < levels; i++) v = { a: v };
  return v;
};

describe("salvagedEnvelope (the envelope of a job whose data broke the schema)", () => {
  it(
    "keeps the job's metadata only when it keeps the request's " +
      "rules, so the InvalidJob event stays within the contract",
    () => {
      const at = new Date("2026-11-30T00:00:00.000Z");
      expect(salvagedEnvelope("AWS.x.1", job({ crm: "0061x" }), at).metadata).toEqual({ crm: "0061x" });
      const big = Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, "x".repeat(50)]));
      expect(salvagedEnvelope("AWS.x.2", job(big), at).metadata).toBeNull();
      expect(salvagedEnvelope("AWS.x.3", job(deep(2000)), at).metadata).toBeNull();
      expect(salvagedEnvelope("AWS.x.4", job({ when: new Date(0) }), at).metadata).toBeNull();
      // What it keeps makes an event consumers can read.
      const envelope = salvagedEnvelope("AWS.x.5", job(deep(20)), at);
      expect(envelope.metadata).not.toBeNull();
      expect(
        outcomeEventSchema.safeParse(failedEvent(envelope, invalidJobError("clientToken: must be a string"))).success,
      ).toBe(true);
    },
  );
});
