import type { FastifyInstance, FastifyRequest } from "fastify";
import { WebhookNotFoundError } from "../../errors/index.js";
import type { HttpContext } from "../http-context.js";
import { queueLocationFrom } from "../../store/queue-location.js";
import { createRedisWebhookStore } from "../../store/redis/webhook-store.js";
import { createRedisOutcomeLog } from "../../store/redis/outcome-log.js";
import { addWebhook, replayWebhooks, rotateWebhookSecret } from "../../delivery/webhook-admin.js";
import { parseDuration } from "../../schemas/duration.js";
import { ListQueryError } from "../../errors/index.js";

type ById = FastifyRequest<{ Params: { id: string } }>;

/**
 * /v1/webhooks: the endpoint registry (docs/webhooks.md). A secret is in the answer to a creation
 * or a rotation only; no other answer carries one. Writes need the admin scope, reads the read scope.
 */
export async function webhookRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const location = queueLocationFrom(ctx.config);
  const store = createRedisWebhookStore({
    connection: ctx.redis,
    location,
    seenRetentionSeconds: ctx.config.IDEMPOTENCY_RETENTION_SECONDS,
  });
  const log = createRedisOutcomeLog({ connection: ctx.redis, location });
  const found = async <T>(id: string, value: Promise<T | undefined | false>) => {
    const v = await ctx.bounded(value);
    if (v === undefined || v === false) throw new WebhookNotFoundError(id);
    return v;
  };

  app.get("/v1/webhooks", async (_req, reply) => reply.send({ items: await ctx.bounded(store.endpoints()) }));
  app.post("/v1/webhooks", async (req, reply) => {
    const { endpoint, secret } = await ctx.bounded(
      addWebhook(store, req.body ?? {}, { rateLimit: ctx.config.WEBHOOK_RATE_LIMIT }),
    );
    return reply.code(201).send({ ...endpoint, secret });
  });
  app.get("/v1/webhooks/:id", async (req: ById, reply) =>
    reply.send(await found(req.params.id, store.endpoint(req.params.id))),
  );
  app.delete("/v1/webhooks/:id", async (req: ById, reply) => {
    await found(req.params.id, store.removeEndpoint(req.params.id));
    return reply.code(204).send();
  });
  app.post("/v1/webhooks/:id/disable", async (req: ById, reply) => {
    await found(req.params.id, store.setEnabled(req.params.id, false, "disabled by an operator"));
    return reply.send(await ctx.bounded(store.endpoint(req.params.id)));
  });
  app.post("/v1/webhooks/:id/enable", async (req: ById, reply) => {
    await found(req.params.id, store.setEnabled(req.params.id, true));
    return reply.send(await ctx.bounded(store.endpoint(req.params.id)));
  });
  app.post("/v1/webhooks/:id/rotate-secret", async (req: ById, reply) => {
    const { secret, endpoint } = await ctx.bounded(
      rotateWebhookSecret(store, req.params.id, ctx.config.WEBHOOK_SECRET_OVERLAP),
    );
    return reply.send({ ...endpoint, secret });
  });
  app.get("/v1/webhooks/:id/deliveries", async (req: ById, reply) => {
    await found(req.params.id, store.endpoint(req.params.id));
    const [pending, attempts] = await ctx.bounded(
      Promise.all([store.pending(req.params.id), store.deliveryLog(req.params.id, 100)]),
    );
    return reply.send({ pending, attempts });
  });
  app.post(
    "/v1/webhooks/replay",
    async (
      req: FastifyRequest<{ Body: { since?: string; eventId?: string; endpointId?: string } | undefined }>,
      reply,
    ) => {
      const body = req.body ?? {};
      if ((body.since === undefined) === (body.eventId === undefined)) {
        throw new ListQueryError([{ field: "since", rule: "give one of since (a duration) or eventId" }]);
      }
      const ms = body.since === undefined ? undefined : parseDuration(String(body.since));
      if (body.since !== undefined && ms === undefined) {
        throw new ListQueryError([{ field: "since", rule: "must be a duration (30m, 2h, 1d)" }]);
      }
      const result = await ctx.bounded(
        replayWebhooks(store, log, {
          ...(ms !== undefined ? { sinceMs: Date.now() - ms } : {}),
          ...(body.eventId !== undefined ? { eventId: String(body.eventId) } : {}),
          ...(body.endpointId !== undefined ? { endpointId: String(body.endpointId) } : {}),
        }),
      );
      return reply.send(result);
    },
  );
}
