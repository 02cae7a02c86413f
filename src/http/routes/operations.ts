import type { FastifyInstance, FastifyRequest } from "fastify";
import type { z } from "zod";
import { formatFieldIssues, toFieldIssues } from "../../schemas/issues.js";
import { discoveryRequestSchema, HOLD_ALL_POLICY } from "../../schemas/policy.js";
import { cancelBodySchema, redriveBodySchema } from "../http-schemas.js";
import { invalidRequest, problem, toHttpAnswer, type HttpAnswer } from "../http-errors.js";
import { redisConnectionLost, sendAnswer, type HttpContext } from "../http-context.js";
import { admission } from "../admission.js";
import { isRequestId } from "../../schemas/request-id.js";

/**
 * The work around the queue, over HTTP: discover (POST /v1/discoveries), cancel
 * (POST /v1/acceptances/{id}/cancel), redrive (POST /v1/redrives). Bodies are checked by the same
 * schemas as the CLI's and the library's; errors are mapped by the server's error handler.
 */
export async function operationRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const admit = admission(ctx);

  app.post("/v1/discoveries", { preHandler: admit }, async (request, reply) => {
    if (!ctx.discovery) return sendAnswer(reply, notConfigured("discoveries"));
    const body = parseBody(discoveryRequestSchema, request.body, "discovery");
    if ("status" in body) return sendAnswer(reply, body);
    if (redisConnectionLost(ctx.redis)) return sendAnswer(reply, redisDown(ctx));
    const { catalogs, policy, dryRun } = body.value;
    const summary = await withoutIdleTimeout(request, ctx, () =>
      ctx.discovery!({ catalogs, policy: policy ?? HOLD_ALL_POLICY, dryRun: dryRun ?? false }),
    );
    ctx.metrics.recordEnqueued(false, summary.enqueued.accept + summary.enqueued.reject);
    if (summary.duplicates > 0) ctx.metrics.recordEnqueued(true, summary.duplicates);
    return reply.send(summary);
  });

  app.post<{ Params: { id: string } }>("/v1/acceptances/:id/cancel", async (request, reply) => {
    if (!ctx.requestControl) return sendAnswer(reply, notConfigured("cancel"));
    const body = parseBody(cancelBodySchema, request.body ?? {}, "cancel");
    if ("status" in body) return sendAnswer(reply, body);
    const { id } = request.params;
    if (!isRequestId(id))
      return sendAnswer(reply, problem("NOT_FOUND", `no request with id ${JSON.stringify(id.slice(0, 80))}`));
    const outcome = await ctx.bounded(
      ctx.requestControl.cancel(id, body.value.reason !== undefined ? { reason: body.value.reason } : {}),
    );
    return reply.send(outcome);
  });

  app.post("/v1/redrives", { preHandler: admit }, async (request, reply) => {
    if (!ctx.requestControl) return sendAnswer(reply, notConfigured("redrives"));
    const body = parseBody(redriveBodySchema, request.body, "redrive");
    if ("status" in body) return sendAnswer(reply, body);
    if (redisConnectionLost(ctx.redis)) return sendAnswer(reply, redisDown(ctx));
    const { errors, since, dryRun } = body.value;
    const summary = await withoutIdleTimeout(request, ctx, () =>
      ctx.requestControl!.redrive({
        ...(errors ? { errorNames: errors } : {}),
        ...(since !== undefined ? { sinceMs: since } : {}),
        dryRun: dryRun ?? false,
      }),
    );
    if (summary.redriven > 0 && !summary.dryRun) ctx.metrics.recordEnqueued(false, summary.redriven);
    return reply.send(summary);
  });
}

function parseBody<S extends z.ZodType>(schema: S, body: unknown, what: string): { value: z.output<S> } | HttpAnswer {
  const parsed = schema.safeParse(body);
  if (parsed.success) return { value: parsed.data };
  const issues = toFieldIssues(parsed.error);
  return invalidRequest(`invalid ${what}: ${formatFieldIssues(issues)}`, issues);
}

function notConfigured(what: string): HttpAnswer {
  return problem(
    "NOT_CONFIGURED",
    `this server was built without ${what} (buildHttpServer's deps); pc-invitations serve has them`,
  );
}

function redisDown(ctx: HttpContext): HttpAnswer {
  return toHttpAnswer(ctx.redisDown(), { retryAfterSeconds: ctx.config.HTTP_RETRY_AFTER_SECONDS });
}

/**
 * A discovery or a redrive takes as long as its API calls (paced by the shared limit) or its
 * outcome scan take, and nothing goes over the connection meanwhile. HTTP_IDLE_TIMEOUT_MS is there
 * for clients that go quiet, not for a server at work: it is suspended while this request runs.
 */
async function withoutIdleTimeout<T>(request: FastifyRequest, ctx: HttpContext, work: () => Promise<T>): Promise<T> {
  const socket = request.raw.socket;
  socket.setTimeout(0);
  try {
    return await work();
  } finally {
    if (!socket.destroyed) socket.setTimeout(ctx.config.HTTP_IDLE_TIMEOUT_MS);
  }
}
