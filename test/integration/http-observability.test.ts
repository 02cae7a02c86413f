import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, describe, expect, it } from "vitest";
import { context, propagation, trace } from "@opentelemetry/api";
import { buildHttpServer } from "../../src/http/build-http-server.js";
import { createProducer } from "../../src/producer/producer.js";
import { loadConfig } from "../../src/config/load-config.js";
import { createLogger } from "../../src/observability/logger.js";
import { createMetrics, startMetricsServer } from "../../src/observability/metrics.js";
import { initTracing } from "../../src/observability/tracing.js";
import { deletePrefix, newRedis, REDIS_URL, uniquePrefix } from "../helpers/redis.js";
import { waitFor } from "../helpers/wait.js";

const TOKEN = "observability-token-0123";

describe("startMetricsServer", () => {
  it("serves GET /metrics in the Prometheus format and 404 elsewhere", async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.recordThrottle();
    const server = await startMetricsServer({ port: 0, host: "127.0.0.1", registry: metrics.registry });
    try {
      const res = await fetch(`http://127.0.0.1:${server.port}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await res.text()).toContain("pci_throttles_total 1");
      expect((await fetch(`http://127.0.0.1:${server.port}/`)).status).toBe(404);
    } finally {
      await server.close();
    }
  });
});

describe("tracing through the HTTP API (OTLP/HTTP to a local collector)", () => {
  const received: Array<{ url: string; body: string }> = [];
  let collector: Server;
  afterAll(async () => {
    trace.disable();
    context.disable();
    propagation.disable();
    await new Promise((r) => collector?.close(r));
  });

  it("carries the request span's trace context in the job (BullMQ telemetry) and exports the spans", async () => {
    collector = createServer((req, res) => {
      let body = "";
      req.on("data", (d) => (body += d));
      req.on("end", () => {
        received.push({ url: req.url ?? "", body });
        res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    const tracing = await initTracing("pc-invitations-test", { OTEL_EXPORTER_OTLP_ENDPOINT: endpoint });

    const redis = newRedis();
    const prefix = uniquePrefix("http-trace");
    expect(tracing.telemetry).toBeDefined();
    const producer = createProducer({ redis, prefix, telemetry: tracing.telemetry! });
    const config = loadConfig(
      {},
      { REDIS_URL, QUEUE_PREFIX: prefix, HTTP_AUTH_TOKENS: TOKEN, HTTP_DASHBOARD: false, LOG_LEVEL: "silent" },
    );
    const app = await buildHttpServer({
      producer,
      redis,
      config,
      logger: createLogger({ level: "silent" }),
      tracing: true,
    });
    try {
      await app.listen({ port: 0, host: "127.0.0.1" });
      const res = await fetch(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/v1/acceptances`, {
        method: "POST",
        headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
        body: JSON.stringify({ catalog: "AWS", identifier: "pacinv-TRACE00000001" }),
      });
      expect(res.status).toBe(202);
      const { jobId } = (await res.json()) as { jobId: string };
      const job = await producer.queue.getJob(jobId);
      // BullMQ stores the PRODUCER span's context on the job; the worker's CONSUMER span continues it.
      const metadata = job!.opts.telemetry?.metadata;
      const traceparent = metadata ? (JSON.parse(metadata) as Record<string, string>).traceparent : undefined;
      const traceId = /^00-([0-9a-f]{32})-[0-9a-f]{16}-01$/.exec(traceparent ?? "")?.[1];
      expect(traceId, `job.opts.telemetry = ${JSON.stringify(job!.opts.telemetry)}`).toBeDefined();
      expect(job!.data.trace).toBeUndefined();

      await tracing.shutdown();
      const exported = await waitFor(() => received.find((r) => r.url === "/v1/traces"), 5000, "an OTLP export");
      expect(exported.body).toContain("POST /v1/acceptances");
      expect(exported.body).toContain("addBulk accept-invitation");
      expect(exported.body).toContain(traceId!);
      expect(exported.body).toContain("pc-invitations-test");
    } finally {
      await app.close();
      await producer.close();
      await deletePrefix(redis, prefix);
      redis.disconnect();
    }
  });
});
