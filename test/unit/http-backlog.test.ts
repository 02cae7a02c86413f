import { describe, expect, it } from "vitest";
import { createBacklogGate } from "../../src/http/backlog-gate.js";

function gateWith(counts: Array<number | Error>, max = 10) {
  let clock = 0;
  let calls = 0;
  const gate = createBacklogGate({
    max,
    ttlMs: 1000,
    now: () => clock,
    count: async () => {
      const next = counts[Math.min(calls++, counts.length - 1)]!;
      if (next instanceof Error) throw next;
      return next;
    },
  });
  return { gate, advance: (ms: number) => (clock += ms), calls: () => calls };
}

describe("createBacklogGate", () => {
  it("is open up to the bound and closed above it", async () => {
    expect(await gateWith([10]).gate.check()).toEqual({ open: true });
    expect(await gateWith([11]).gate.check()).toEqual({ open: false, reason: "backlog", backlog: 11 });
  });

  it("counts at most once per ttl, and concurrent checks share one count", async () => {
    const g = gateWith([5, 50]);
    await Promise.all([g.gate.check(), g.gate.check(), g.gate.check()]);
    expect(g.calls()).toBe(1);
    g.advance(999);
    expect(await g.gate.check()).toEqual({ open: true });
    expect(g.calls()).toBe(1);
    g.advance(2);
    expect(await g.gate.check()).toMatchObject({ open: false, backlog: 50 });
    expect(g.calls()).toBe(2);
  });

  it("is closed while Redis fails, without caching the failure", async () => {
    const g = gateWith([new Error("ECONNREFUSED"), 1]);
    expect(await g.gate.check()).toEqual({ open: false, reason: "redis-unavailable" });
    expect(await g.gate.check()).toEqual({ open: true });
  });
});
