import { describe, expect, it } from "vitest";
import { startupRetryDelayMs } from "../../src/store/redis/connection.js";

describe("startupRetryDelayMs", () => {
  it("waits 250 ms after the first failed try, doubling, at most 5 s apart", () => {
    expect([1, 2, 3, 4, 5, 6, 7, 20].map((attempt) => startupRetryDelayMs(attempt))).toEqual([
      250, 500, 1000, 2000, 4000, 5000, 5000, 5000,
    ]);
  });

  it("never waits longer than what is left of REDIS_STARTUP_TIMEOUT_MS; nothing left, no wait", () => {
    expect(startupRetryDelayMs(4, 1200)).toBe(1200);
    expect(startupRetryDelayMs(4, 2000)).toBe(2000);
    expect(startupRetryDelayMs(1, 100)).toBe(100);
    expect(startupRetryDelayMs(3, 0)).toBe(0);
    expect(startupRetryDelayMs(3, -50)).toBeLessThanOrEqual(0);
  });
});
