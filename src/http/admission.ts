import type { FastifyReply, FastifyRequest } from "fastify";
import { toHttpAnswer, UNSUPPORTED_MEDIA_TYPE, unavailable } from "./http-errors.js";
import { redisConnected, sendAnswer, type HttpContext } from "./http-context.js";

const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * The preHandler of every POST that adds work (enqueues, discoveries, redrives): content type,
 * then backpressure, both before any work is done for the request.
 */
export function admission(ctx: HttpContext) {
  return async function admit(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!JSON_MEDIA_TYPE.test(request.headers["content-type"] ?? "")) {
      return sendAnswer(reply, UNSUPPORTED_MEDIA_TYPE);
    }
    const verdict = await ctx.gate.check();
    if (verdict.open) return undefined;
    const retryAfter = ctx.config.HTTP_RETRY_AFTER_SECONDS;
    return sendAnswer(
      reply,
      verdict.reason === "backlog"
        ? unavailable(
            "BACKLOG_FULL",
            `the requests queue backlog is over HTTP_MAX_BACKLOG (${ctx.config.HTTP_MAX_BACKLOG}); retry later`,
            retryAfter,
          )
        : redisConnected(ctx.redis)
          ? // Connected but slow: the backlog count timed out, and nothing of this request was sent.
            unavailable(
              "REDIS_UNAVAILABLE",
              `Redis did not answer within ${ctx.config.HTTP_REDIS_TIMEOUT_MS} ` +
                `ms (HTTP_REDIS_TIMEOUT_MS); nothing was done: retry later`,
              retryAfter,
            )
          : toHttpAnswer(ctx.redisDown(), { retryAfterSeconds: retryAfter }),
    );
  };
}
