import { describe, expect, it } from "vitest";
import { redrive } from "../../src/producer/redrive.js";
import { parseDuration } from "../../src/schemas/duration.js";

describe("redrive's since window", () => {
  it("takes any duration the parser does: one reaching before 1970 is all of it, not a RangeError", async () => {
    let asked: number | undefined;
    const ports = {
      failedOutcomes: async (filter: { sinceMs?: number }) => {
        asked = filter.sinceMs;
        return [];
      },
      enqueueRedrives: async () => [],
      previewRedrives: async () => [],
      now: () => new Date("2026-11-30T00:00:00.000Z"),
    };
    const summary = await redrive(ports, { sinceMs: parseDuration("999999999d")!, dryRun: true });
    expect(summary.since).toBe("1970-01-01T00:00:00.000Z");
    expect(asked).toBe(0);
    expect((await redrive(ports, { sinceMs: parseDuration("1d")!, dryRun: true })).since).toBe(
      "2026-11-29T00:00:00.000Z",
    );
  });
});
