import type { FastifyInstance } from "fastify";
import type { HttpContext } from "../http-context.js";

/**
 * GET /v1/status: the status read model (store/status.ts), the report `pc-invitations status`
 * prints. Read-only and bounded (each figure reads a bounded amount); a Redis that does not answer
 * within HTTP_REDIS_TIMEOUT_MS is a 503 problem, as everywhere.
 */
export async function statusRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get("/v1/status", async (_request, reply) => reply.send(await ctx.bounded(ctx.status())));
}
