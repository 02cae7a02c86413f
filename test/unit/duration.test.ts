import { describe, expect, it } from "vitest";
import { DURATION_RULE, durationSchema, parseDuration } from "../../src/schemas/duration.js";
import { durationArg, UsageError } from "../../src/cli/args.js";

describe("durations (one parser: discover --every, redrive --since, the HTTP API's since)", () => {
  it("takes a whole number and a unit", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("5m")).toBe(300_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("1d")).toBe(86_400_000);
    expect(durationArg("1d", "since")).toBe(86_400_000);
    expect(durationSchema.parse("1d")).toBe(86_400_000);
  });

  const padded = [" 1d", "1d ", "\t1d", "1d\n", " 1d ", "\u00a01d", "1 d"];

  it.each(padded)("refuses %j (whitespace is not trimmed) in the parser", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it.each(padded)("refuses %j on the CLI with the option and the rule (a usage error, exit 2)", (text) => {
    expect(() => durationArg(text, "since")).toThrow(UsageError);
    expect(() => durationArg(text, "since")).toThrow(`--since ${DURATION_RULE}, got "${text}"`);
  });

  it.each(padded)("refuses %j in the HTTP schema with the same rule", (text) => {
    const r = durationSchema.safeParse(text);
    expect(r.success).toBe(false);
    expect(r.error?.issues.map((i) => i.message)).toEqual([DURATION_RULE]);
  });

  it("refuses what it always refused: no unit, another unit, a sign, a fraction, zero, empty", () => {
    for (const text of ["1", "1w", "-1d", "1.5h", "0s", "", "1D"]) {
      expect(parseDuration(text) ?? 0, text).toBeLessThan(1);
      expect(durationSchema.safeParse(text).success, text).toBe(false);
    }
  });
});
