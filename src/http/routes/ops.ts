import type { FastifyInstance } from "fastify";
import { probeWrites } from "../../store/redis/connection.js";
import { queueLocationFrom } from "../../store/queue-location.js";
import type { HttpContext } from "../http-context.js";

/**
 * Unauthenticated operational routes: liveness, readiness, Prometheus metrics, the OpenAPI
 * document. None of them reveals a request or a secret.
 */
export async function opsRoutes(app: FastifyInstance, ctx: HttpContext & { openapi: object }): Promise<void> {
  app.get("/healthz", async () => ({ status: "ok" }));

  const prefix = queueLocationFrom(ctx.config).prefix;
  // Each check bounded by HTTP_REDIS_TIMEOUT_MS. `memory`: a write probe that a full Redis refuses
  // (maxmemory reached, noeviction) yet that writes nothing; one round trip, on the queues' slot.
  // Its 503 is the readiness report (checks), not an error: probes and people read the same body.
  app.get("/readyz", { config: { ownErrorBody: true } }, async (_request, reply) => {
    const redis = await ctx.bounded(ctx.redis.ping()).then(
      () => "ok" as const,
      () => "down" as const,
    );
    const [queue, memory] =
      redis === "ok"
        ? await Promise.all([
            ctx.bounded(ctx.requests.isPaused()).then(
              (p) => (p ? ("paused" as const) : ("running" as const)),
              () => "unknown" as const,
            ),
            ctx.bounded(probeWrites(ctx.redis, prefix)).catch(() => "unknown" as const),
          ])
        : (["unknown", "unknown"] as const);
    // `unknown` memory (the probe timed out, or an ACL forbids SETRANGE) does not take the
    // instance out: only a Redis known to refuse writes does.
    const ready = redis === "ok" && queue === "running" && memory !== "full";
    return reply
      .code(ready ? 200 : 503)
      .send({ status: ready ? "ready" : "not-ready", checks: { redis, queue, memory } });
  });

  app.get("/metrics", async (_request, reply) => {
    const body = await ctx.metrics.registry.metrics();
    return reply.type(ctx.metrics.registry.contentType).send(body);
  });

  app.get("/openapi.json", async () => ctx.openapi);
}
