import { afterEach, describe, expect, it } from "vitest";
import { useInMemoryTracing } from "../helpers/tracing.js";
import { startPipeline, type Pipeline } from "../helpers/pipeline.js";
import { waitForOutcomes } from "../helpers/outcomes.js";
import { createProducer } from "../../src/producer/producer.js";
import { bullmqTelemetry, startSpan } from "../../src/observability/tracing.js";

let p: Pipeline | undefined;
afterEach(async () => {
  await p?.close();
  p = undefined;
});

describe("worker metrics", () => {
  it(
    "serves /metrics on METRICS_PORT with outcomes, AWS " + "call latency, retries, throttles and queue depth",
    async () => {
      p = await startPipeline({ label: "wmetrics" });
      const invs = p.emulator.seedInvitations(3);
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: invs[0]!.identifier,
        times: 1,
        error: "InternalServerException",
      });
      p.emulator.script({
        operation: "AcceptConnectionInvitation",
        identifier: invs[1]!.identifier,
        times: 1,
        error: "ThrottlingException",
      });
      await p.producer.enqueueMany([
        ...invs.map((i) => ({ catalog: i.catalog, identifier: i.identifier })),
        { catalog: "AWS", identifier: "pacinv-NOTSEEDED0000" },
      ]);
      const w = await p.startWorker({ METRICS_PORT: 0 });
      expect(w.metricsPort).toBeGreaterThan(0);
      await waitForOutcomes(p.redis, p.prefix, 4);
      const text = await (await fetch(`http://127.0.0.1:${w.metricsPort}/metrics`)).text();
      const value = (re: RegExp) => Number(text.match(re)?.[1] ?? NaN);
      expect(value(/pci_outcomes_total\{type="accepted",error_name=""\} (\d+)/)).toBe(3);
      expect(value(/pci_outcomes_total\{type="failed",error_name="ResourceNotFoundException"\} (\d+)/)).toBe(1);
      expect(value(/pci_retries_total (\d+)/)).toBe(1);
      expect(value(/pci_throttles_total (\d+)/)).toBe(1);
      expect(
        value(
          new RegExp(
            String.raw`pci_aws_call_duration_seconds_count\{[^}]*operation="AcceptConnectionInvitation"` +
              String.raw`[^}]*outcome="success"[^}]*\} (\d+)`,
          ),
        ),
      ).toBe(3);
      expect(text).toMatch(/pci_queue_jobs\{[^}]*state="completed"[^}]*\} \d+/);
    },
  );
});

describe("worker tracing", () => {
  const exporter = useInMemoryTracing();

  it(
    "continues the enqueue's trace: a job span, the AWS " + "call as its child, and the context on the outcome",
    async () => {
      p = await startPipeline({ label: "wtrace" });
      const inv = p.emulator.seedInvitation();
      const telemetry = await bullmqTelemetry();
      const producer = createProducer({ redis: p.redis, prefix: p.prefix, telemetry });
      const traceId = await startSpan("http request", async (span) => {
        await producer.enqueue({ catalog: inv.catalog, identifier: inv.identifier });
        return span.spanContext().traceId;
      });
      await producer.close();
      await p.startWorker({}, { telemetry });
      const [event] = await waitForOutcomes(p.redis, p.prefix, 1);
      const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      // BullMQ's spans: the enqueue (PRODUCER, kind 3) and the worker's run of the job (CONSUMER, kind 4).
      expect(spans.find((s) => s.name === "addBulk accept-invitation")?.kind).toBe(3);
      const job = spans.find((s) => s.name === "process accept-invitation");
      expect(job?.kind).toBe(4);
      const call = spans.find((s) => s.name === "AcceptConnectionInvitation");
      expect(job).toBeDefined();
      expect(call).toBeDefined();
      expect(call!.parentSpanContext?.spanId ?? (call as unknown as { parentSpanId?: string }).parentSpanId).toBe(
        job!.spanContext().spanId,
      );
      expect(event!.trace?.traceparent).toContain(traceId);
    },
  );
});
