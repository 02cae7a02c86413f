import type { FastifyInstance } from "fastify";
import { formatFieldIssues, toFieldIssues } from "../../schemas/issues.js";
import { readAcceptanceStatus } from "../acceptance-status.js";
import { batchEnvelopeSchema } from "../http-schemas.js";
import { invalidRequest } from "../http-errors.js";
import { sendAnswer, type HttpContext } from "../http-context.js";
import { admission } from "../admission.js";
import { isRequestId } from "../../schemas/request-id.js";

/**
 * /v1/acceptances: enqueue one or a batch, look one up. Validation is the producer's (the same
 * rules and messages as the library); errors it throws are mapped by the server's error handler.
 */
export async function acceptanceRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const envelope = batchEnvelopeSchema(ctx.config.HTTP_MAX_BATCH);
  const admit = admission(ctx);

  app.post("/v1/acceptances", { preHandler: admit }, async (request, reply) => {
    const result = await ctx.bounded(ctx.producer.enqueue(request.body));
    ctx.metrics.recordEnqueued(isDuplicate(result));
    return reply.code(202).send(result);
  });

  app.post("/v1/acceptances/batch", { preHandler: admit }, async (request, reply) => {
    const parsed = envelope.safeParse(request.body);
    if (!parsed.success) {
      const issues = toFieldIssues(parsed.error);
      return sendAnswer(reply, invalidRequest(`invalid batch: ${formatFieldIssues(issues)}`, issues));
    }
    const requests = parsed.data.requests;
    const results = await ctx.bounded(ctx.producer.enqueueMany(requests));
    const duplicates = results.filter(isDuplicate).length;
    if (duplicates > 0) ctx.metrics.recordEnqueued(true, duplicates);
    if (results.length > duplicates) ctx.metrics.recordEnqueued(false, results.length - duplicates);
    return reply.code(202).send({ results });
  });

  // An id that cannot be one of ours (schemas/request-id.ts) is answered 404 without asking Redis.
  app.get<{ Params: { id: string } }>("/v1/acceptances/:id", async (request, reply) => {
    const { id } = request.params;
    const status = isRequestId(id)
      ? await ctx.bounded(readAcceptanceStatus(ctx.requests, ctx.outcomes, id))
      : undefined;
    if (!status)
      return reply
        .code(404)
        .send({ error: "NOT_FOUND", message: `no request or outcome with id ${JSON.stringify(id.slice(0, 80))}` });
    return reply.send(status);
  });
}

function isDuplicate(result: object): boolean {
  return (result as { duplicate?: unknown }).duplicate === true;
}
