import type { FastifyInstance, FastifyRequest } from "fastify";
import type { z } from "zod";
import { formatFieldIssues, toFieldIssues } from "../../schemas/issues.js";
import { discoveryRequestSchema, HOLD_ALL_POLICY } from "../../schemas/policy.js";
import { cancelBodySchema, redriveBodySchema } from "../http-schemas.js";
import { invalidRequest, problem, toHttpAnswer, unavailable, type HttpAnswer } from "../http-errors.js";
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
  /** The stop controllers of the discoveries in flight. */
  const inFlight = new Set<AbortController>();

  app.post("/v1/discoveries", { preHandler: admit }, async (request, reply) => {
    if (!ctx.discovery) return sendAnswer(reply, notConfigured("discoveries"));
    const body = parseBody(discoveryRequestSchema, request.body, "discovery");
    if ("status" in body) return sendAnswer(reply, body);
    if (redisConnectionLost(ctx.redis)) return sendAnswer(reply, redisDown(ctx));
    const { catalogs, policy, dryRun } = body.value;
    const stop = stopSignal(request, inFlight);
    try {
      const summary = await withoutIdleTimeout(request, ctx, () =>
        ctx.discovery!({
          catalogs,
          policy: policy ?? HOLD_ALL_POLICY,
          dryRun: dryRun ?? false,
          signal: stop.signal,
        }),
      );
      ctx.metrics.recordEnqueued(false, summary.enqueued.accept + summary.enqueued.reject);
      if (summary.duplicates > 0) ctx.metrics.recordEnqueued(true, summary.duplicates);
      return reply.send(summary);
    } catch (err) {
      if (!stop.signal.aborted) throw err;
      // Stopped on purpose: what it enqueued stands, and a second discovery enqueues nothing twice.
      if (stop.signal.reason === SHUTTING_DOWN) {
        request.log.info("discovery stopped: the server is shutting down");
        return sendAnswer(
          reply,
          unavailable(
            "SHUTTING_DOWN",
            "the server is shutting down: the discovery was stopped (what it enqueued stands); retry " +
              "(another instance)",
            ctx.config.HTTP_RETRY_AFTER_SECONDS,
          ),
        );
      }
      request.log.info("discovery stopped: its caller closed the connection");
      // Nobody reads it (the socket is gone): 499, nginx's "client closed request", for the record.
      return reply.code(499).send();
    } finally {
      stop.dispose();
    }
  });
  // A server that is closing stops its discoveries instead of waiting for them (their API calls
  // are paced by the shared limit: a long listing would outlast the shutdown's grace period).
  app.addHook("preClose", async () => {
    for (const controller of inFlight) controller.abort(SHUTTING_DOWN);
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

/** The abort reason of a discovery stopped because the server is closing. */
const SHUTTING_DOWN = new Error("the server is shutting down");

/**
 * What stops a discovery: its caller closing the connection (the request's socket closes: nobody
 * would read the answer, so its paced API calls would only use up the rate limit the workers share)
 * or the server closing. `dispose` once the request is answered (a keep-alive socket serves more).
 */
function stopSignal(request: FastifyRequest, inFlight: Set<AbortController>): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const socket = request.raw.socket;
  const onClose = () => controller.abort(new Error("the caller closed the connection"));
  if (socket.destroyed) onClose();
  else socket.once("close", onClose);
  inFlight.add(controller);
  return {
    signal: controller.signal,
    dispose: () => {
      socket.off("close", onClose);
      inFlight.delete(controller);
    },
  };
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
