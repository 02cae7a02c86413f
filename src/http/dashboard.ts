import type { Queue } from "bullmq";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Logger } from "../observability/logger.js";
import type { Config } from "../schemas/config.js";
import { sendAnswer } from "./http-context.js";
import { forbidden, unauthorized } from "./http-errors.js";
import { mayOpenConsole, type Principal, setPrincipal } from "./principal.js";

/**
 * Mounts the bull-board dashboard of `queues` at `basePath`, in a scope of its own that only a
 * person logged into the console or a token with the `admin` scope opens (HTTP_ADMIN_TOKENS, or a
 * named token): the dashboard shows every request's data (metadata, ClientToken, correlationId)
 * and Redis's host details, which no ingest token (HTTP_AUTH_TOKENS) may read, and
 * HTTP_AUTH_DISABLED does not open it either. With HTTP_DASHBOARD=false nothing is mounted (its
 * paths are 404) and bull-board is never loaded.
 * Read-only on purpose: removing or retrying jobs by hand could break "one outcome per request".
 */
export async function registerDashboard(
  app: FastifyInstance,
  options: {
    queues: readonly Queue[];
    basePath: string;
    config: Config;
    logger: Logger;
    /** Who is asking: a person (the console's session) or a token; undefined when nobody. */
    authenticate: (request: FastifyRequest) => Promise<Principal | undefined>;
  },
): Promise<void> {
  const { config, basePath } = options;
  if (!config.HTTP_DASHBOARD) return;
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import("@bull-board/api"),
    import("@bull-board/api/bullMQAdapter"),
    import("@bull-board/fastify"),
  ]);
  await app.register(async (scope) => {
    scope.addHook("onRequest", async (request: FastifyRequest, reply: FastifyReply) => {
      const principal = await options.authenticate(request);
      if (!principal) {
        // A browser that asks for the page is sent to the console's login form, and back here after it.
        if (request.headers.authorization === undefined && /text\/html/.test(request.headers.accept ?? ""))
          return reply.redirect(`/login?next=${encodeURIComponent(basePath)}`, 303);
        return sendAnswer(reply, unauthorized(request.headers.authorization !== undefined));
      }
      if (!mayOpenConsole(principal))
        return sendAnswer(
          reply,
          forbidden(
            `the ${principal.kind} ${JSON.stringify(principal.name)} may not read the dashboard: it needs a ` +
              "person's login or a token with the admin scope",
            "admin",
          ),
        );
      setPrincipal(request, principal);
      return undefined;
    });
    // bull-board's page asks Google for its fonts: that link is cut (the page falls back to the
    // system's fonts), so the dashboard loads nothing from another origin either.
    scope.addHook("onSend", async (_request, _reply, payload) =>
      typeof payload === "string" && payload.includes("fonts.googleapis.com")
        ? payload.replace(/<link[^>]+fonts\.googleapis\.com[^>]*>/g, "")
        : payload,
    );
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
