import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  createFaultPause,
  faultPauseLogLine,
  faultRecoveredLogLine,
  type FaultLogLine,
  type FaultPauseOptions,
} from "../../src/consumer/fault-pause.js";
import type { ClassifiedError } from "../../src/aws/classify-error.js";
import { CONFIG_DEFAULTS } from "../../src/schemas/config.js";

const fault = (name = "ExpiredTokenException"): ClassifiedError => ({
  name,
  kind: "fault",
  reason: null,
  message: "The security token included in the request is expired",
  httpStatus: 403,
  awsRequestId: "req-1",
  retryAfterMs: null,
  indeterminate: false,
});

/** A fault pause whose every effect is recorded, logs included, as the worker shell logs them. */
function recorded(options: Partial<FaultPauseOptions> = {}) {
  const effects: string[] = [];
  const logs: FaultLogLine[] = [];
  const pause = createFaultPause({
    pause: () => effects.push("pause"),
    resume: () => effects.push("resume"),
    onPause: (error, backoffMs, first) => logs.push(faultPauseLogLine(error, backoffMs, first)),
    onRecover: (error, pausedMs) => logs.push(faultRecoveredLogLine(error, pausedMs)),
    ...options,
  });
  return { pause, effects, logs };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe("createFaultPause", () => {
  it("pauses on the first fault for minBackoffMs, then resumes so the next job probes", () => {
    // Prepare
    const { pause, effects } = recorded({ minBackoffMs: 100, maxBackoffMs: 1000 });
    // Act
    const delay = pause.trip(fault());
    // Assess
    expect(delay).toBe(100);
    expect(effects).toEqual(["pause"]);
    expect(pause.fault).toMatchObject({ error: { name: "ExpiredTokenException" }, backoffMs: 100 });
    vi.advanceTimersByTime(99);
    expect(effects).toEqual(["pause"]);
    vi.advanceTimersByTime(1);
    expect(effects).toEqual(["pause", "resume"]);
    // Still a fault until a call goes through: the worker stays unhealthy while it probes.
    expect(pause.fault).not.toBeNull();
  });

  it("doubles the pause on each failed probe, up to maxBackoffMs, then stays there", () => {
    const { pause } = recorded({ minBackoffMs: 100, maxBackoffMs: 1000 });
    const pauses: number[] = [];
    for (let probe = 0; probe < 7; probe++) {
      pauses.push(pause.trip(fault()));
      vi.advanceTimersByTime(pauses.at(-1)!);
    }
    expect(pauses).toEqual([100, 200, 400, 800, 1000, 1000, 1000]);
  });

  it("faults of jobs still in flight while paused neither pause again nor lengthen the pause", () => {
    const { pause, effects, logs } = recorded({ minBackoffMs: 100, maxBackoffMs: 1000 });
    expect(pause.trip(fault())).toBe(100);
    // Three more runs that were in flight fail with the same fault.
    expect([pause.trip(fault()), pause.trip(fault("InvalidSignatureException")), pause.trip(fault())]).toEqual([
      100, 100, 100,
    ]);
    expect(effects).toEqual(["pause"]);
    expect(logs).toHaveLength(1);
    vi.advanceTimersByTime(100);
    expect(pause.trip(fault())).toBe(200);
  });

  it(
    "clear ends the episode: resumes at once, reports how long " +
      "it lasted, and the next fault starts over at minBackoffMs",
    () => {
      const { pause, effects, logs } = recorded({ minBackoffMs: 100, maxBackoffMs: 1000 });
      pause.trip(fault());
      vi.advanceTimersByTime(100);
      pause.trip(fault());
      vi.advanceTimersByTime(50);
      pause.clear();
      expect(pause.fault).toBeNull();
      expect(effects).toEqual(["pause", "resume", "pause", "resume"]);
      expect(logs.at(-1)).toEqual({
        level: "info",
        fields: { error: { name: "ExpiredTokenException" }, pausedMs: 150 },
        message: expect.stringContaining("again"),
      });
      // The pause's timer is gone: no second resume.
      vi.advanceTimersByTime(10_000);
      expect(effects).toHaveLength(4);
      expect(pause.trip(fault())).toBe(100);
    },
  );

  it("clear without a fault does nothing", () => {
    const { pause, effects, logs } = recorded();
    pause.clear();
    expect(effects).toEqual([]);
    expect(logs).toEqual([]);
  });

  it("close stops the pending resume", () => {
    const { pause, effects } = recorded({ minBackoffMs: 100 });
    pause.trip(fault());
    pause.close();
    vi.advanceTimersByTime(10_000);
    expect(effects).toEqual(["pause"]);
  });

  it("defaults to FAULT_PAUSE_MS and FAULT_PAUSE_MAX_MS as the config schema defines them", async () => {
    // Other schema defaults than today's, so a default written into fault-pause.ts shows.
    vi.resetModules();
    vi.doMock("../../src/schemas/config.js", async (importOriginal) => {
      const real = await importOriginal<typeof import("../../src/schemas/config.js")>();
      return { ...real, CONFIG_DEFAULTS: { ...real.CONFIG_DEFAULTS, FAULT_PAUSE_MS: 1234, FAULT_PAUSE_MAX_MS: 4000 } };
    });
    try {
      const { createFaultPause: create } = await import("../../src/consumer/fault-pause.js");
      const pause = create({ pause: () => undefined, resume: () => undefined });
      const pauses: number[] = [];
      for (let probe = 0; probe < 5; probe++) {
        pauses.push(pause.trip(fault()));
        vi.advanceTimersByTime(pauses.at(-1)!);
      }
      expect(pauses).toEqual([1234, 2468, 4000, 4000, 4000]);
    } finally {
      vi.doUnmock("../../src/schemas/config.js");
      vi.resetModules();
    }
  });

  it("with the real schema defaults: 5 s first, 5 min at most", () => {
    const { pause } = recorded();
    expect(pause.trip(fault())).toBe(CONFIG_DEFAULTS.FAULT_PAUSE_MS);
    expect(CONFIG_DEFAULTS.FAULT_PAUSE_MS).toBe(5000);
    expect(CONFIG_DEFAULTS.FAULT_PAUSE_MAX_MS).toBe(300_000);
  });

  it("never pauses for less than minBackoffMs, even if maxBackoffMs is set lower", () => {
    const { pause } = recorded({ minBackoffMs: 500, maxBackoffMs: 100 });
    expect(pause.trip(fault())).toBe(500);
    vi.advanceTimersByTime(500);
    expect(pause.trip(fault())).toBe(500);
  });
});

describe("what a fault episode logs", () => {
  it(
    "one error when it starts, one warning per failed probe (with the " +
      "next pause), one info when it ends; again for the next episode",
    () => {
      const { pause, logs } = recorded({ minBackoffMs: 100, maxBackoffMs: 400 });
      for (let probe = 0; probe < 5; probe++) {
        const delay = pause.trip(fault());
        pause.trip(fault()); // a run that was in flight: no line
        vi.advanceTimersByTime(delay);
      }
      pause.clear();
      pause.trip(fault("UnrecognizedClientException"));
      expect(logs.map((l) => [l.level, l.fields.pauseMs ?? null])).toEqual([
        ["error", 100],
        ["warn", 200],
        ["warn", 400],
        ["warn", 400],
        ["warn", 400],
        ["info", null],
        ["error", 100],
      ]);
      expect(logs[0]!.fields).toEqual({
        error: { name: "ExpiredTokenException", message: fault().message, httpStatus: 403 },
        pauseMs: 100,
      });
      expect(logs[0]!.message).toMatch(/credentials or signature.*attempts intact/);
      expect(logs.at(-1)!.fields).toMatchObject({ error: { name: "UnrecognizedClientException" } });
    },
  );
});
