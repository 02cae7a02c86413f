import { context, propagation, SpanStatusCode, trace, type Span } from "@opentelemetry/api";
import type { Telemetry } from "bullmq";
import type { Config } from "../schemas/config.js";

/**
 * Tracing on @opentelemetry/api. The API is a no-op until an SDK registers itself, so every
 * helper below is safe (and nearly free) when tracing is off: `injectTraceContext()` returns `{}`
 * and `startSpan` runs `fn` with a non-recording span.
 *
 * Trace context crosses the queues through BullMQ's own telemetry (bullmq-otel): an enqueue is a
 * PRODUCER span whose context BullMQ stores in the job, and the worker's run is a CONSUMER span,
 * its child. Our own spans (the AWS calls, see aws/instrument-api.ts) are children of that run.
 */
export type TraceCarrier = Record<string, string>;

export interface Tracing {
  /** BullMQ telemetry to give every Queue and Worker; undefined when tracing is off. */
  readonly telemetry?: Telemetry;
  /** Flushes buffered spans and stops the SDK. A no-op when tracing is off. */
  shutdown(): Promise<void>;
}

export const TRACER_NAME = "pc-invitations";

/**
 * Starts the OpenTelemetry Node SDK exporting spans over OTLP/HTTP to `<endpoint>/v1/traces`, only
 * when an endpoint is configured (OTEL_EXPORTER_OTLP_ENDPOINT). The SDK is imported dynamically so
 * a process without tracing never loads it. Only traces: metrics are prom-client's, logs pino's.
 * Other standard OTEL_* variables (headers, sampler, resource attributes) are read by the SDK itself.
 */
export async function initTracing(
  serviceName: string,
  config: Pick<Config, "OTEL_EXPORTER_OTLP_ENDPOINT">,
): Promise<Tracing> {
  const endpoint = config.OTEL_EXPORTER_OTLP_ENDPOINT;
  if (!endpoint) return { shutdown: async () => {} };
  const [{ NodeSDK }, { OTLPTraceExporter }] = await Promise.all([
    import("@opentelemetry/sdk-node"),
    import("@opentelemetry/exporter-trace-otlp-http"),
  ]);
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, "")}/v1/traces` }),
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return { telemetry: await bullmqTelemetry(), shutdown: () => sdk.shutdown() };
}

/** BullMQ's OpenTelemetry adapter (bullmq-otel), on whatever tracer provider is registered. */
export async function bullmqTelemetry(): Promise<Telemetry> {
  const { BullMQOtel } = await import("bullmq-otel");
  return new BullMQOtel({ tracerName: TRACER_NAME }) as unknown as Telemetry;
}

/** The active trace context as a W3C carrier (`traceparent`, maybe `tracestate`); `{}` when there is none. */
export function injectTraceContext(): TraceCarrier {
  const carrier: TraceCarrier = {};
  propagation.inject(context.active(), carrier);
  return carrier;
}

/**
 * Runs `fn` inside a new active span, ended when `fn` settles. A thrown error or rejected promise
 * is recorded on the span and re-thrown unchanged.
 */
export function startSpan<T>(
  name: string,
  fn: (span: Span) => T,
  attributes: Record<string, string | number | boolean> = {},
): T {
  return trace.getTracer(TRACER_NAME).startActiveSpan(name, { attributes }, (span) => {
    const fail = (err: unknown): never => {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      span.end();
      throw err;
    };
    let result: T;
    try {
      result = fn(span);
    } catch (err) {
      return fail(err);
    }
    if (result instanceof Promise) {
      return result.then((value) => {
        span.end();
        return value;
      }, fail) as T;
    }
    span.end();
    return result;
  });
}
