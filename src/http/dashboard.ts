import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../observability/logger.js";
import type { Config } from "../schemas/config.js";
import { createBearerAuth } from "./bearer-auth.js";
import { sendAnswer } from "./http-context.js";
import { unauthorized } from "./http-errors.js";

/**
 * Mounts the bull-board dashboard of `queues` at `basePath`, in a scope of its own that only
 * HTTP_ADMIN_TOKENS open: the dashboard shows every request's data (metadata, ClientToken,
 * correlationId) and Redis's host details, which no ingest token (HTTP_AUTH_TOKENS) may read, and
 * HTTP_AUTH_DISABLED does not open it either. Without an admin token, or with HTTP_DASHBOARD=false,
 * nothing is mounted (its paths are 404) and bull-board is never loaded.
 * Read-only on purpose: removing or retrying jobs by hand could break "one outcome per request".
 */
export async function registerDashboard(
  app: FastifyInstance,
  options: { queues: readonly Queue[]; basePath: string; config: Config; logger: Logger },
): Promise<void> {
  const { config, basePath } = options;
  if (!config.HTTP_DASHBOARD) return;
  const tokens = config.HTTP_ADMIN_TOKENS ?? [];
  if (tokens.length === 0) {
    options.logger.info(`no dashboard: set HTTP_ADMIN_TOKENS (tokens of its own) to serve it at ${basePath}`);
    return;
  }
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import("@bull-board/api"),
    import("@bull-board/api/bullMQAdapter"),
    import("@bull-board/fastify"),
  ]);
  const verify = createBearerAuth(tokens);
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
      if (!verify(request.headers.authorization)) {
        return sendAnswer(reply, unauthorized(request.headers.authorization !== undefined));
      }
      return undefined;
    });
    const serverAdapter = new FastifyAdapter();
    serverAdapter.setBasePath(basePath);
    createBullBoard({
      queues: options.queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
      serverAdapter,
      options: { uiConfig: { boardTitle: "pc-invitations" } },
    });
    await scope.register(serverAdapter.registerPlugin(), { prefix: basePath });
  });
}
