import type { Queue } from "bullmq";
import type { FastifyInstance } from "fastify";

/**
 * Mounts the bull-board dashboard of `queues` at `basePath` in `scope` (whose hooks, e.g. bearer
 * auth, apply to it). Imported dynamically: with HTTP_DASHBOARD=false bull-board is never loaded.
 * Read-only on purpose: removing or retrying jobs by hand could break "one outcome per request".
 */
export async function registerDashboard(
  scope: FastifyInstance,
  queues: readonly Queue[],
  basePath: string,
): Promise<void> {
  const [{ createBullBoard }, { BullMQAdapter }, { FastifyAdapter }] = await Promise.all([
    import("@bull-board/api"),
    import("@bull-board/api/bullMQAdapter"),
    import("@bull-board/fastify"),
  ]);
  const serverAdapter = new FastifyAdapter();
  serverAdapter.setBasePath(basePath);
  createBullBoard({
    queues: queues.map((q) => new BullMQAdapter(q, { readOnlyMode: true })),
    serverAdapter,
    options: { uiConfig: { boardTitle: "pc-invitations" } },
  });
  await scope.register(serverAdapter.registerPlugin(), { prefix: basePath });
}
