import { describe, expect, it } from "vitest";
import { useInMemoryTracing } from "../helpers/tracing.js";
import { initTracing, injectTraceContext, startSpan } from "../../src/observability/tracing.js";

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe("tracing without an SDK (the default)", () => {
  it("costs nothing: initTracing without an endpoint starts nothing, inject gives {}, spans just run", async () => {
    const tracing = await initTracing("test", { OTEL_EXPORTER_OTLP_ENDPOINT: undefined });
    await tracing.shutdown();
    expect(startSpan("noop", () => injectTraceContext())).toEqual({});
    expect(await startSpan("noop", async () => 42)).toBe(42);
    expect(tracing.telemetry).toBeUndefined();
  });
});

describe("tracing with an SDK registered", () => {
  const exporter = useInMemoryTracing();

  it("injects the active span's context as a W3C traceparent (what outcome events carry)", async () => {
    exporter.reset();
    const carrier = await startSpan("process accept-invitation", async () => injectTraceContext());
    const [, traceId, spanId] = TRACEPARENT.exec(carrier.traceparent ?? "") ?? [];
    expect(traceId, JSON.stringify(carrier)).toBeDefined();
    const [span] = exporter.getFinishedSpans();
    expect(span!.spanContext()).toMatchObject({ traceId, spanId });
  });

  it("records a thrown error or rejection on the span and re-throws it unchanged", async () => {
    exporter.reset();
    const boom = new Error("boom");
    await expect(startSpan("async", async () => Promise.reject(boom))).rejects.toBe(boom);
    expect(() =>
      startSpan("sync", () => {
        throw boom;
      }),
    ).toThrow(boom);
    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.status.code, s.events[0]?.name])).toEqual([
      ["async", 2, "exception"],
      ["sync", 2, "exception"],
    ]);
  });
});
