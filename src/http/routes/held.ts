import type { FastifyInstance } from "fastify";
import { decisionBodySchema } from "../../schemas/decision.js";
import { formatFieldIssues, toFieldIssues } from "../../schemas/issues.js";
import { catalogSchema, invitationIdSchema } from "../../schemas/request-fields.js";
import { parseHeldQuery } from "../../store/held-store.js";
import { requirePrincipal } from "../principal.js";
import { sendAnswer, type HttpContext } from "../http-context.js";
import { invalidRequest, problem } from "../http-errors.js";

/**
 * Held invitations over HTTP: GET /v1/held (a page, soonest expiry first; `catalog`, `cursor`,
 * `limit`) and POST /v1/held/{catalog}/{identifier}/decision (`{"action": "accept" | "reject",
 * "reason"?}`), which records the caller's principal (its name) as `decidedBy`. Decision errors (not pending:
 * 409, decided otherwise: 409, no such invitation: 404) are mapped by the server's error handler.
 */
export async function heldRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  app.get("/v1/held", async (request, reply) => {
    if (!ctx.held) return sendAnswer(reply, notConfigured());
    const parsed = parseHeldQuery(request.query);
    if ("issues" in parsed)
      return sendAnswer(reply, invalidRequest(`invalid listing: ${formatFieldIssues(parsed.issues)}`, parsed.issues));
    return reply.send(await ctx.bounded(ctx.held.list(parsed.query)));
  });

  app.post<{ Params: { catalog: string; identifier: string } }>(
    "/v1/held/:catalog/:identifier/decision",
    async (request, reply) => {
      if (!ctx.held) return sendAnswer(reply, notConfigured());
      const { catalog, identifier } = request.params;
      if (!catalogSchema.safeParse(catalog).success || !invitationIdSchema.safeParse(identifier).success)
        return sendAnswer(
          reply,
          problem("NOT_FOUND", `no invitation ${JSON.stringify(`${catalog}.${identifier}`.slice(0, 120))}`),
        );
      const body = decisionBodySchema.safeParse(request.body);
      if (!body.success) {
        const issues = toFieldIssues(body.error);
        return sendAnswer(reply, invalidRequest(`invalid decision: ${formatFieldIssues(issues)}`, issues));
      }
      // The request's principal (principal.ts): a named token's name, a person's, HTTP_AUTH_TOKENS…
      const decidedBy = requirePrincipal(request).name;
      // Not bounded by HTTP_REDIS_TIMEOUT_MS as a whole: an invitation never held is read from AWS
      // first (through the shared limit); its Redis calls are bounded by the connection's own.
      const result = await ctx.held.decide({ ...body.data, catalog, identifier, decidedBy });
      return reply.code(202).send(result);
    },
  );
}

function notConfigured() {
  return problem(
    "NOT_CONFIGURED",
    "this server was built without held invitations (buildHttpServer's deps); pc-invitations serve has them",
  );
}
