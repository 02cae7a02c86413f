import type { FastifyInstance } from "fastify";
import type { HttpContext } from "../http-context.js";

/**
 * Unauthenticated operational routes: liveness, readiness, Prometheus metrics, the OpenAPI
 * document. None of them reveals a request or a secret.
 */
export async function opsRoutes(app: FastifyInstance, ctx: HttpContext & { openapi: object }): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  app.get("/readyz", async (_request, reply) => {
    const redis = await ctx.bounded(ctx.redis.ping()).then(
      () => "ok" as const,
      () => "down" as const,
    );
    const queue = redis === "ok" ? await ctx.bounded(ctx.requests.isPaused()).then((p) => (p ? ("paused" as const) : ("running" as const)), () => "unknown" as const) : "unknown";
    const ready = redis === "ok" && queue === "running";
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", checks: { redis, queue } });
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  app.get("/openapi.json", async () => ctx.openapi);
}
