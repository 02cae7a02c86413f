import { describe, expect, it } from "vitest";
import { createMetrics, type QueueProbe } from "../../src/observability/metrics.js";

function probe(name: string, counts: Record<string, number> | Error, oldestTimestamp?: number): QueueProbe {
  return {
    name,
    getJobCounts: async () => {
      if (counts instanceof Error) throw counts;
      return counts;
    },
    getJobs: async () => (oldestTimestamp === undefined ? [] : [{ timestamp: oldestTimestamp }]),
  } as unknown as QueueProbe;
}

const value = (text: string, series: string) => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("createMetrics", () => {
  it("records through its typed functions", async () => {
    const m = createMetrics({ defaultMetrics: false });
    m.recordEnqueued(false, 3);
    m.recordEnqueued(true);
    m.recordOutcome("accepted");
    m.recordOutcome("failed", "ResourceNotFoundException");
    m.observeAwsCall("AcceptConnectionInvitation", "success", 0.2);
    m.observeAwsCall("AcceptConnectionInvitation", "throttle", 0.01);
    m.recordRetry();
    m.recordThrottle();
    m.setSharedRate("accept-invitation", 4.5);
    const text = await m.registry.metrics();
    expect(value(text, 'pci_requests_enqueued_total{duplicate="false"}')).toBe(3);
    expect(value(text, 'pci_requests_enqueued_total{duplicate="true"}')).toBe(1);
    expect(value(text, 'pci_outcomes_total{type="accepted",error_name=""}')).toBe(1);
    expect(value(text, 'pci_outcomes_total{type="failed",error_name="ResourceNotFoundException"}')).toBe(1);
    expect(
      value(text, 'pci_aws_call_duration_seconds_count{operation="AcceptConnectionInvitation",outcome="success"}'),
    ).toBe(1);
    expect(
      value(
        text,
        'pci_aws_call_duration_seconds_bucket{le="0.025",operation="AcceptConnectionInvitation",outcome="throttle"}',
      ),
    ).toBe(1);
    expect(value(text, "pci_retries_total")).toBe(1);
    expect(value(text, "pci_throttles_total")).toBe(1);
    expect(value(text, 'pci_shared_rate_limit{limit_key="accept-invitation"}')).toBe(4.5);
    expect(text).not.toContain("process_cpu_seconds_total");
  });

  it("reads queue depth and the oldest waiting job's age at scrape time, leaving out a queue that fails", async () => {
    const m = createMetrics({
      defaultMetrics: false,
      queues: [
        probe("requests", { waiting: 7, active: 2, delayed: 1 }, Date.now() - 30_000),
        probe("outcomes", new Error("down")),
      ],
    });
    const text = await m.registry.metrics();
    expect(value(text, 'pci_queue_jobs{queue="requests",state="waiting"}')).toBe(7);
    expect(value(text, 'pci_queue_jobs{queue="requests",state="active"}')).toBe(2);
    expect(value(text, 'pci_queue_jobs{queue="requests",state="failed"}')).toBe(0);
    expect(text).not.toMatch(/pci_queue_jobs\{queue="outcomes"/);
    const age = value(text, 'pci_queue_oldest_waiting_age_seconds{queue="requests"}')!;
    expect(age).toBeGreaterThanOrEqual(29);
    expect(age).toBeLessThan(60);
  });

  it("includes the default process metrics, in a registry of its own", async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.recordRetry();
    expect(await a.registry.metrics()).toContain("process_cpu_seconds_total");
    expect(value(await b.registry.metrics(), "pci_retries_total")).toBe(0);
  });
});
