import type { FastifyInstance } from "fastify";
import type { Config } from "../schemas/config.js";
import type { Logger } from "../observability/logger.js";
import { initTracing } from "../observability/tracing.js";
import { startHeartbeat } from "../observability/heartbeat.js";
import { createRedis } from "../store/redis/connection.js";
import { buildHttpServer } from "../http/build-http-server.js";
import { apiFromConfig, pacingFromConfig, producerFromConfig, rateLimiterFromConfig } from "./from-config.js";
import { createDiscovery } from "./discovery.js";
import { createRequestControl } from "./request-control.js";
import { createHeldDesk } from "./held-desk.js";
import { startHeldCheck } from "./held.js";

export interface RunningServer {
  app: FastifyInstance;
  /** Stops accepting, finishes in-flight requests, then closes the producer, Redis and tracing. */
  close(): Promise<void>;
}

/**
 * Composition root of `serve`: tracing, Redis, the producer and the HTTP API, listening on
 * HTTP_HOST:HTTP_PORT; discoveries call Partner Central (the SDK on the standard credential chain,
 * PARTNERCENTRAL_ENDPOINT), through the shared limit. Whatever was opened is closed again when
 * start-up fails.
 */
export async function startServer(config: Config, logger: Logger): Promise<RunningServer> {
  const tracing = await initTracing("pc-invitations-http", config);
  const redis = createRedis(config.REDIS_URL, { cluster: config.REDIS_CLUSTER });
  // ioredis reconnects by itself; without a listener each failure would be printed as unhandled.
  redis.on("error", (err: Error) => logger.warn({ err: { message: err.message } }, "redis connection error"));
  // The HTTP request's span is the parent of the enqueue's PRODUCER span, which the job carries.
  const producer = producerFromConfig(config, redis, tracing.telemetry ? { telemetry: tracing.telemetry } : {});
  // Credentials are resolved at the first call: a server without them serves everything but discoveries.
  const api = apiFromConfig(config, { tracing: tracing.telemetry !== undefined });
  const held = createHeldDesk(config, redis, producer, { api, logger });
  const discovery = createDiscovery({
    api,
    pacing: pacingFromConfig(config, rateLimiterFromConfig(config, redis)),
    producer,
    defaults: { maxPages: config.DISCOVERY_MAX_PAGES, maxListed: config.DISCOVERY_MAX_LISTED },
    held: held.deps,
  });
  const requestControl = createRequestControl(config, redis, producer);
  // Expiring notices and expired held invitations, checked by every process that keeps the list.
  const heldCheck = startHeldCheck(held.deps, config.HELD_CHECK_INTERVAL);
  const release = async () => {
    await heldCheck.stop();
    await held.close();
    await requestControl.close();
    api.destroy();
    await producer.close();
    await redis.quit().catch(() => redis.disconnect());
    await tracing.shutdown();
  };
  let app: FastifyInstance;
  try {
    app = await buildHttpServer({
      producer,
      discovery,
      requestControl,
      held,
      redis,
      config,
      logger,
      tracing: tracing.telemetry !== undefined,
    });
    await app.listen({ port: config.HTTP_PORT, host: config.HTTP_HOST });
  } catch (err) {
    await release();
    throw err;
  }
  // HEALTH_FILE: healthy while listening (Redis trouble is answered with 503s, not fixed by a restart).
  const heartbeat = config.HEALTH_FILE
    ? startHeartbeat({ file: config.HEALTH_FILE, check: () => ({ healthy: app.server.listening }) })
    : undefined;
  return {
    app,
    close: async () => {
      await heartbeat?.stop("shutting down");
      await app.close();
      await release();
    },
  };
}
