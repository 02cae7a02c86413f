import { describe, expect, it } from "vitest";
import { useInMemoryTracing } from "../helpers/tracing.js";
import { initTracing, injectTraceContext, startSpan, withExtractedContext } from "../../src/observability/tracing.js";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe("tracing without an SDK (the default)", () => {
  it("costs nothing: initTracing without an endpoint starts nothing, inject gives {}, spans just run", async () => {
    const tracing = await initTracing("test", { OTEL_EXPORTER_OTLP_ENDPOINT: undefined });
    await tracing.shutdown();
    expect(startSpan("noop", () => injectTraceContext())).toEqual({});
    expect(await startSpan("noop", async () => 42)).toBe(42);
    expect(withExtractedContext({ traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" }, () => "ran")).toBe("ran");
  });
});

describe("tracing with an SDK registered", () => {
  const exporter = useInMemoryTracing();

  it("round-trips a traceparent: the worker-side span is a child of the enqueue-side span", async () => {
    exporter.reset();
    const carrier = await startSpan("POST /v1/acceptances", async () => injectTraceContext());
    const [, traceId, parentId] = TRACEPARENT.exec(carrier.traceparent ?? "") ?? [];
    expect(traceId, JSON.stringify(carrier)).toBeDefined();
    // The carrier travels as plain JSON in the job.
    const fromJob = JSON.parse(JSON.stringify(carrier)) as Record<string, string>;
    await withExtractedContext(fromJob, () => startSpan("accept-invitation", async () => {}));

    const spans = exporter.getFinishedSpans();
    const parent = spans.find((s) => s.name === "POST /v1/acceptances")!;
    const child = spans.find((s) => s.name === "accept-invitation")!;
    expect(parent.spanContext()).toMatchObject({ traceId, spanId: parentId });
    expect(child.spanContext().traceId).toBe(traceId);
    expect(child.parentSpanContext?.spanId).toBe(parentId);
  });

  it("starts a new trace when the carrier is empty (a job enqueued without tracing)", async () => {
    exporter.reset();
    await withExtractedContext({}, () => startSpan("accept-invitation", () => undefined));
    const [span] = exporter.getFinishedSpans();
    expect(span!.parentSpanContext).toBeUndefined();
  });

  it("records a thrown error or rejection on the span and re-throws it unchanged", async () => {
    exporter.reset();
    const boom = new Error("boom");
    await expect(startSpan("async", async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(() => startSpan("sync", () => { throw boom; })).toThrow(boom);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.status.code, s.events[0]?.name])).toEqual([
      ["async", 2, "exception"],
      ["sync", 2, "exception"],
    ]);
  });
});
