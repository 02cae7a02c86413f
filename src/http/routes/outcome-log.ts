import type { FastifyInstance, FastifyRequest } from "fastify";
import { ListQueryError } from "../../errors/index.js";
import type { HttpContext } from "../http-context.js";
import { queueLocationFrom } from "../../store/queue-location.js";
import type { LogFilter } from "../../store/outcome-log.js";
import { createRedisOutcomeLog, isLogCursor } from "../../store/redis/outcome-log.js";

/** How long the SSE stream waits between looks at an idle log, ms, and between keep-alive comments. */
const STREAM_POLL_MS = 500;
const STREAM_KEEPALIVE_MS = 15_000;

interface Query {
  after?: string;
  limit?: string;
  type?: string | string[];
  catalog?: string;
}

function parseQuery(query: Query, lastEventId?: string): { after: string; limit: number; filter: LogFilter } {
  const after = query.after ?? lastEventId ?? "0";
  if (!isLogCursor(after)) {
    throw new ListQueryError([{ field: "after", rule: "must be a cursor this API gave (<ms>-<seq>) or 0" }]);
  }
  const limit = query.limit === undefined ? 100 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw new ListQueryError([{ field: "limit", rule: "must be a whole number from 1 to 1000" }]);
  }
  const types = (Array.isArray(query.type) ? query.type : query.type ? [query.type] : []).flatMap((t) => t.split(","));
  return { after, limit, filter: { types, ...(query.catalog ? { catalog: query.catalog } : {}) } };
}

/**
 * GET /v1/outcomes (a page of the outcome log after a cursor) and GET /v1/outcomes/stream
 * (server-sent events, resumed from Last-Event-ID): outcome events and notices read without
 * consuming anything (docs/outcome-stream.md). Filters: `type` (repeatable or comma-separated), `catalog`.
 */
export async function outcomeLogRoutes(app: FastifyInstance, ctx: HttpContext): Promise<void> {
  const log = createRedisOutcomeLog({ connection: ctx.redis, location: queueLocationFrom(ctx.config) });

  app.get("/v1/outcomes", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const { after, limit, filter } = parseQuery(request.query);
    const page = await ctx.bounded(log.readEvents(after, limit, filter));
    return reply.send({
      items: page.events.map((e) => ({ cursor: e.cursor, kind: e.kind, event: e.event })),
      next: page.next,
    });
  });

  app.get("/v1/outcomes/stream", async (request: FastifyRequest<{ Querystring: Query }>, reply) => {
    const lastEventId = request.headers["last-event-id"];
    const parsed = parseQuery(request.query, typeof lastEventId === "string" ? lastEventId : undefined);
    // Without a cursor, from now on (a stream is for what comes next; pages are for the past).
    let after =
      request.query.after === undefined && lastEventId === undefined
        ? await ctx.bounded(log.lastCursor())
        : parsed.after;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(": pc-invitations outcome stream\n\n");
    let open = true;
    const closed = () => {
      open = false;
    };
    request.raw.on("close", closed);
    app.server.on("close", closed);
    let lastWrite = Date.now();
    while (open && !res.destroyed) {
      try {
        const page = await ctx.bounded(log.readEvents(after, 100, parsed.filter, 1000));
        for (const e of page.events) {
          res.write(`id: ${e.cursor}\nevent: ${e.event.type}\ndata: ${JSON.stringify(e.event)}\n\n`);
          lastWrite = Date.now();
        }
        after = page.next;
        if (page.events.length > 0) continue;
      } catch {
        // Redis away: say nothing, look again (the client keeps its Last-Event-ID).
      }
      if (Date.now() - lastWrite >= STREAM_KEEPALIVE_MS) {
        res.write(": keep-alive\n\n");
        lastWrite = Date.now();
      }
      await new Promise((r) => setTimeout(r, STREAM_POLL_MS));
    }
    app.server.off("close", closed);
    res.end();
  });
}
