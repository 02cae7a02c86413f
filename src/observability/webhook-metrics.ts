import { Counter, Gauge, Histogram, type Registry } from "prom-client";

/**
 * Metrics of the `deliver` fleet, on the process's registry (metrics.ts). Labels are bounded: the
 * endpoint id (operators add endpoints, a handful) and closed sets.
 */
export interface WebhookMetrics {
  /** One delivery attempt: its result (delivered, retry, failed, gone) and latency. */
  observeAttempt(endpointId: string, result: string, status: number | null, seconds: number): void;
  /** A batch of the outcome log handled by a sink. */
  recordSinkBatch(sink: string, events: number): void;
  /** Deliveries fanned out to endpoints. */
  recordFannedOut(count: number): void;
}

export function createWebhookMetrics(registry: Registry): WebhookMetrics {
  const attempts = new Counter({
    name: "pci_webhook_attempts_total",
    help: "Webhook delivery attempts, by endpoint, result (delivered, retry, failed, gone) and status class",
    labelNames: ["endpoint", "result", "status"] as const,
    registers: [registry],
  });
  const latency = new Histogram({
    name: "pci_webhook_attempt_seconds",
    help: "Webhook delivery attempt latency (request sent to answer read), by endpoint",
    labelNames: ["endpoint"] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  const sinkEvents = new Counter({
    name: "pci_sink_events_total",
    help: "Outcome log events handled by each sink of the deliver fleet",
    labelNames: ["sink"] as const,
    registers: [registry],
  });
  const fannedOut = new Counter({
    name: "pci_webhook_fanned_out_total",
    help: "Deliveries queued for endpoints by the webhooks sink",
    registers: [registry],
  });
  const lastAttempt = new Gauge({
    name: "pci_webhook_last_attempt_timestamp_seconds",
    help: "When this process last attempted a delivery to each endpoint",
    labelNames: ["endpoint"] as const,
    registers: [registry],
  });
  return {
    observeAttempt(endpointId, result, status, seconds) {
      attempts.inc({
        endpoint: endpointId,
        result,
        status: status === null ? "none" : `${Math.floor(status / 100)}xx`,
      });
      latency.observe({ endpoint: endpointId }, seconds);
      lastAttempt.set({ endpoint: endpointId }, Date.now() / 1000);
    },
    recordSinkBatch(sink, events) {
      sinkEvents.inc({ sink }, events);
    },
    recordFannedOut(count) {
      fannedOut.inc(count);
    },
  };
}
