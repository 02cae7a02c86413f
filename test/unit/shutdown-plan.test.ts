import { describe, expect, it } from "vitest";
import { CLOSE_RESERVE_MS, shutdownPlan, within } from "../../src/app/shutdown-plan.js";
import { CONFIG_DEFAULTS } from "../../src/schemas/config.js";

describe("shutdownPlan", () => {
  it.each([
    [CONFIG_DEFAULTS.SHUTDOWN_GRACE_MS, 25_000, 29_500],
    [10_000, 5_000, 9_500],
    [4_000, 2_000, 3_500],
    [1_000, 500, 875],
    [0, 0, 0],
  ])("grace %i ms: runs may finish until %i ms, every closing step is over by %i ms", (graceMs, drainMs, closeByMs) => {
    expect(shutdownPlan(graceMs)).toEqual({ graceMs, drainMs, closeByMs });
  });

  it("fits every step inside the grace period, whatever its length", () => {
    for (const graceMs of [0, 1, 3, 50, 999, 10_001, 60_000, 3_600_000]) {
      const plan = shutdownPlan(graceMs);
      expect(plan.drainMs).toBeGreaterThanOrEqual(0);
      expect(plan.drainMs).toBeLessThanOrEqual(plan.closeByMs);
      expect(plan.closeByMs).toBeLessThanOrEqual(graceMs);
      expect(graceMs - plan.drainMs).toBeLessThanOrEqual(CLOSE_RESERVE_MS);
    }
  });
});

describe("within", () => {
  it("gives the value of a promise that settles in time, and 'timeout' for one that does not", async () => {
    expect(await within(Promise.resolve(7), 0)).toBe(7);
    expect(await within(new Promise(() => undefined), 0)).toBe("timeout");
    expect(await within(new Promise(() => undefined), -5)).toBe("timeout");
  });
});
