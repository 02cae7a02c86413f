import type { FastifyInstance, FastifyRequest } from "fastify";
import { type FieldIssue, formatFieldIssues, toFieldIssues } from "../../schemas/issues.js";
import { readAcceptanceStatus, toAcceptanceStatus } from "../acceptance-status.js";
import { parseRequestQuery } from "../../store/request-query.js";
import { batchEnvelopeSchema } from "../http-schemas.js";
import { invalidRequest, problem } from "../http-errors.js";
import { IDEMPOTENCY_KEY_HEADER, readIdempotencyKeyHeader, withHeaderKey } from "../idempotency-key-header.js";
import { sendAnswer, type HttpContext } from "../http-context.js";
import { admission } from "../admission.js";
import { isRequestId } from "../../schemas/request-id.js";

/**
 * /v1/acceptances: enqueue one or a batch, look one up. Validation is the producer's (the same
 * rules and messages as the library); errors it throws are mapped by the server's error handler.
 * One request may carry its idempotency key in the `Idempotency-Key` header (echoed on the
 * answer); a 202 names the request in `Location`.
 */
export async function acceptanceRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const envelope = batchEnvelopeSchema(ctx.config.HTTP_MAX_BATCH);
  const admit = admission(ctx);

  app.post("/v1/acceptances", { preHandler: admit }, async (request, reply) => {
    const header = readIdempotencyKeyHeader(headerValues(request, IDEMPOTENCY_KEY_HEADER));
    if ("issue" in header) return sendAnswer(reply, headerInvalid(header.issue));
    const merged = withHeaderKey(request.body, header.key);
    if ("issue" in merged) return sendAnswer(reply, headerInvalid(merged.issue));
    // Echoed as sent, on whatever answer follows (202, 422, 503…), so a client can match them up.
    if (header.key !== undefined) reply.header("idempotency-key", request.headers[IDEMPOTENCY_KEY_HEADER]);
    const result = await ctx.bounded(ctx.producer.enqueue(merged.body));
    ctx.metrics.recordEnqueued(isDuplicate(result));
    const jobId = (result as { jobId?: unknown }).jobId;
    // The request's status monitor (RFC 9110 §15.3.3): the new request's, or the existing one's.
    if (typeof jobId === "string") reply.header("location", acceptancePath(jobId));
    return reply.code(202).send(result);
  });

  // No Location (a batch creates many resources, and a Link per item would make the header grow
  // with the batch, past what proxies accept): each result's jobId names its request.
  app.post("/v1/acceptances/batch", { preHandler: admit }, async (request, reply) => {
    if (request.headers[IDEMPOTENCY_KEY_HEADER] !== undefined) {
      const issue = {
        field: IDEMPOTENCY_KEY_HEADER,
        rule: "is not accepted on a batch: give each request its own idempotencyKey in the body",
      };
      return sendAnswer(reply, headerInvalid(issue));
    }
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

  // A page of requests: by state, or an invitation's (request-query.ts says the order and the
  // cursor). Each item is what GET /v1/acceptances/{id} answers for it.
  app.get("/v1/acceptances", async (request, reply) => {
    const parsed = parseRequestQuery(request.query);
    if ("issues" in parsed)
      return sendAnswer(reply, invalidRequest(`invalid listing: ${formatFieldIssues(parsed.issues)}`, parsed.issues));
    const page = await ctx.bounded(ctx.store.listRequests(parsed.query));
    return reply.send({
      items: page.items.map((item) => toAcceptanceStatus(item.id, item.job, item.outcome)),
      next: page.next,
    });
  });

  // An id that cannot be one of ours (schemas/request-id.ts) is answered 404 without asking Redis.
  app.get<{ Params: { id: string } }>("/v1/acceptances/:id", async (request, reply) => {
    const { id } = request.params;
    const status = isRequestId(id)
      ? await ctx.bounded(readAcceptanceStatus(ctx.requests, ctx.outcomes, id))
      : undefined;
    if (!status)
      return sendAnswer(
        reply,
        problem("NOT_FOUND", `no request or outcome with id ${JSON.stringify(id.slice(0, 80))}`),
      );
    return reply.send(status);
  });
}

/** The path of one request's status: GET /v1/acceptances/{id}. */
export function acceptancePath(jobId: string): string {
  return `/v1/acceptances/${encodeURIComponent(jobId)}`;
}

/**
 * Each field value of a header as sent (Node's `headersDistinct`, which keeps two fields apart
 * where `headers` joins them with a comma); from `headers` for a request without it (inject).
 */
function headerValues(request: FastifyRequest, name: string): string[] | undefined {
  const distinct = (request.raw.headersDistinct as Record<string, string[]> | undefined)?.[name];
  if (distinct) return distinct;
  const value = request.headers[name];
  return value === undefined ? undefined : Array.isArray(value) ? value : [value];
}

function headerInvalid(issue: FieldIssue) {
  return invalidRequest(`invalid request: ${formatFieldIssues([issue])}`, [issue]);
}

function isDuplicate(result: object): boolean {
  return (result as { duplicate?: unknown }).duplicate === true;
}
