import { randomUUID } from "node:crypto";
import { maxHeaderSize, STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import { Queue } from "bullmq";
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import type { RedisConnection } from "../store/redis/connection.js";
import { ConfigError, RedisAuthError, RedisUnavailableError } from "../errors/index.js";
import { redactUrl } from "../config/load-config.js";
import type { Logger } from "../observability/logger.js";
import { createMetrics, type Metrics } from "../observability/metrics.js";
import { toRedisError } from "../store/redis/connection.js";
import { queueLocationFrom } from "../store/queue-location.js";
import type { Config } from "../schemas/config.js";
import { createBacklogGate } from "./backlog-gate.js";
import { registerDashboard } from "./dashboard.js";
import type { AcceptancePort, DiscoveryPort, HeldPort, HttpContext, RequestControlPort } from "./http-context.js";
import { redisConnected, redisConnectionLost, sendAnswer } from "./http-context.js";
import { capConnections } from "./connection-cap.js";
import {
  clientErrorAnswer,
  foreignProblem,
  type HttpAnswer,
  instanceOf,
  PROBLEM_MEDIA_TYPE,
  problem,
  problemPayload,
  toHttpAnswer,
  unauthorized,
  unavailable,
  forbidden,
} from "./http-errors.js";
import { buildOpenApiDocument } from "./openapi.js";
import { acceptanceRoutes } from "./routes/acceptances.js";
import { docsRoutes } from "./routes/docs.js";
import { opsRoutes } from "./routes/ops.js";
import { operationRoutes } from "./routes/operations.js";
import { withTimeout } from "./with-timeout.js";
import { statusRoutes } from "./routes/status.js";
import { heldRoutes } from "./routes/held.js";
import { outcomeLogRoutes } from "./routes/outcome-log.js";
import { webhookRoutes } from "./routes/webhooks.js";
import { createRedisRequestStore } from "../store/redis/redis-request-store.js";
import { retryPolicyFrom } from "../store/redis/job-options.js";
import { createRedisRateLimiter } from "../ratelimit/redis-rate-limiter.js";
import { limitSettingsFrom } from "../ratelimit/limit-settings.js";
import { readStatus } from "../store/status.js";
import type { AccessStore } from "../store/access-store.js";
import { createRedisAccessStore } from "../store/redis/access.js";
import { consoleRoutes } from "./console/routes.js";
import { createScheduleControl } from "./console/schedules.js";
import { createBearerAuthenticator, LEGACY_TOKEN_SCOPES, may, scopeOfRoute, setPrincipal } from "./principal.js";

export interface HttpServerDeps {
  /** Enqueues requests: the library's Producer (its queue must be the one of `config`). */
  producer: AcceptancePort;
  /**
   * Discoveries for POST /v1/discoveries (createDiscovery over the API and the shared limit: the
   * server then needs AWS credentials and PARTNERCENTRAL_ENDPOINT like a worker). Without it that
   * route answers 501 NOT_CONFIGURED.
   */
  discovery?: DiscoveryPort;
  /** Cancel and redrive (createRequestControl). Without it those routes answer 501 NOT_CONFIGURED. */
  requestControl?: RequestControlPort;
  /** Held invitations (createHeldDesk). Without it GET /v1/held and decisions answer 501 NOT_CONFIGURED. */
  held?: HeldPort;
  /** Connection for status lookups, backlog counts, readiness and the dashboard. Not closed here. */
  redis: RedisConnection;
  config: Config;
  logger: Logger;
  /** Default: a new registry that also reports both queues. */
  metrics?: Metrics;
  /**
   * Trace every request with the Fastify instrumentation (@fastify/otel): a SERVER span per
   * request, named `METHOD /route`, continuing an incoming `traceparent`. Set it when an
   * OpenTelemetry SDK is running (OTEL_EXPORTER_OTLP_ENDPOINT). @defaultValue false
   */
  tracing?: boolean;
  /** Named tokens, people and sessions. Default: the access store in Redis under the queue prefix. */
  access?: AccessStore;
}

/** How long one backlog count answers every POST (so Redis sees at most one count per second). */
const BACKLOG_CACHE_MS = 1000;
/** An incoming x-request-id is kept when it looks like an id; anything else is replaced. */
const SANE_REQUEST_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const DASHBOARD_PATH = "/admin/queues";

/**
 * The HTTP API as a Fastify instance, not listening yet: tests call `listen({ port: 0 })`, the
 * `serve` command the configured port. `close()` stops accepting, lets Redis calls in flight
 * finish (up to HTTP_REDIS_TIMEOUT_MS) and closes the queue handles it made, not `redis` or the
 * producer: close those after it.
 * @throws ConfigError when no bearer token is configured and HTTP_AUTH_DISABLED is not true.
 */
export async function buildHttpServer(deps: HttpServerDeps): Promise<FastifyInstance> {
  const { config, redis } = deps;
  const tokens = config.HTTP_AUTH_TOKENS ?? [];
  if (tokens.length === 0 && !config.HTTP_AUTH_DISABLED) {
    throw new ConfigError([
      {
        field: "HTTP_AUTH_TOKENS",
        rule:
          "must be set (comma-separated bearer tokens), or set " +
          "HTTP_AUTH_DISABLED=true to serve without authentication",
      },
    ]);
  }
  if (config.HTTP_AUTH_DISABLED)
    deps.logger.warn("HTTP_AUTH_DISABLED=true: the HTTP API accepts requests without a bearer token");

  const loc = queueLocationFrom(config);
  // Read-only handles (counts, lookups, dashboard): they leave the queues' meta to producer and worker.
  const requests = new Queue(loc.requestsQueue, { connection: redis, prefix: loc.prefix, skipMetasUpdate: true });
  const outcomes = new Queue(loc.outcomesQueue, { connection: redis, prefix: loc.prefix, skipMetasUpdate: true });
  // Their connection's errors reach the callers of each lookup (and the answer below). Without a
  // listener BullMQ prints them whole with console.error, a refused AUTH's password included.
  requests.on("error", () => {});
  outcomes.on("error", () => {});
  const metrics = deps.metrics ?? createMetrics({ queues: [requests, outcomes] });
  // Why Redis is out of reach, when Redis said why: a password refused on reconnect (rotated under
  // a running server) is answered as such, not as "unreachable". Forgotten once the connection is
  // ready again.
  let refused: RedisAuthError | undefined;
  const onRedisError = (err: unknown) => {
    const known = toRedisError(err, config.REDIS_URL);
    if (known instanceof RedisAuthError) refused = known;
  };
  const onRedisReady = () => {
    refused = undefined;
  };
  redis.on("error", onRedisError);
  redis.on("ready", onRedisReady);
  const redisDown = (): RedisUnavailableError | RedisAuthError =>
    refused ?? new RedisUnavailableError(redactUrl(config.REDIS_URL));
  // Redis calls still running, so close() can let them finish before the caller closes the producer
  // (a client that hung up leaves its handler running).
  const inFlight = new Set<Promise<unknown>>();
  const bounded = <T>(promise: Promise<T>): Promise<T> => {
    inFlight.add(promise);
    promise.then(
      () => inFlight.delete(promise),
      () => inFlight.delete(promise),
    );
    // Commands issued while the connection is lost would wait in ioredis' offline queue until it
    // is back: answer now instead. (While first connecting, the timeout below decides.)
    if (redisConnectionLost(redis)) {
      promise.catch(() => {});
      return Promise.reject(redisDown());
    }
    return withTimeout(promise, config.HTTP_REDIS_TIMEOUT_MS, () => {
      const down = redisDown();
      return down instanceof RedisUnavailableError && redisConnected(redis)
        ? new RedisUnavailableError(down.url, undefined, config.HTTP_REDIS_TIMEOUT_MS)
        : down;
    });
  };
  const gate = createBacklogGate({
    max: config.HTTP_MAX_BACKLOG,
    ttlMs: BACKLOG_CACHE_MS,
    count: async () => {
      const c = await bounded(requests.getJobCounts("waiting", "delayed", "prioritized"));
      return (c.waiting ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    },
  });
  // The read side of the store (listings, status): it writes nothing, and leaves the queue's meta alone.
  const store = createRedisRequestStore({
    connection: redis,
    location: loc,
    retry: retryPolicyFrom(config),
    outcomeRetentionSeconds: config.RETENTION_SECONDS,
    idempotencyRetentionSeconds: config.IDEMPOTENCY_RETENTION_SECONDS,
    writesQueueMeta: false,
    url: config.REDIS_URL,
  });
  const limiter = createRedisRateLimiter({ redis, prefix: loc.prefix, defaults: limitSettingsFrom(config) });
  const ctx: HttpContext = {
    producer: deps.producer,
    store,
    status: () => readStatus({ store, limiter, limitKey: config.RATE_LIMIT_KEY }),
    ...(deps.discovery ? { discovery: deps.discovery } : {}),
    ...(deps.requestControl ? { requestControl: deps.requestControl } : {}),
    ...(deps.held ? { held: deps.held } : {}),
    redis,
    requests,
    outcomes,
    config,
    metrics,
    gate,
    bounded,
    redisDown,
  };

  const app = Fastify({
    // pino 10 vs Fastify's pino 9 logger types differ only in generics; the instance is the same.
    loggerInstance: deps.logger as FastifyBaseLogger,
    // Fastify's two lines per request are replaced by the one in onResponse below.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: "requestId" }),
    bodyLimit: config.HTTP_BODY_LIMIT_BYTES,
    requestIdHeader: false,
    // X-Forwarded-Proto (and -For) are believed only behind a proxy we are told of: then a request
    // that came over TLS to the proxy gets the console's Secure cookie.
    trustProxy: config.HTTP_TRUST_PROXY,
    genReqId: (req) => {
      const incoming = req.headers["x-request-id"];
      return typeof incoming === "string" && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // Our own 503 while closing (onRequest below), in the API's error shape.
    return503OnClosing: false,
    // The router never refuses a path parameter: each route judges its own, after authentication
    // (an id too long to be ours is 404 NOT_FOUND like any other non-id). A bound below the URL's
    // would answer first, before auth, in Fastify's words (FST_ERR_MAX_PARAM_LENGTH). The router's
    // work stays bounded: Node refuses a request line and headers over maxHeaderSize (16 KiB unless
    // --max-http-header-size; 431 HEADERS_TOO_LARGE) before Fastify sees them, so no segment is
    // longer than this, and our routes' parameters are plain ones (no regex), matched in one pass.
    routerOptions: { maxParamLength: maxHeaderSize },
    // Slow and hostile clients: every phase of a connection is bounded (see HTTP_* in the config).
    // Node checks the header and request deadlines every connectionsCheckingInterval (default 30 s).
    http: {
      headersTimeout: config.HTTP_HEADERS_TIMEOUT_MS,
      connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(config.HTTP_HEADERS_TIMEOUT_MS / 4))),
    },
    requestTimeout: config.HTTP_REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.HTTP_KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.HTTP_IDLE_TIMEOUT_MS,
    // A body is only ever read by zod, which copies it into fresh objects: `__proto__` and
    // `constructor` keys are plain data here, refused (or kept) by the request schema with a field
    // and a rule, the same way as in the library and the CLI, instead of Fastify's own 400.
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    // What Node's parser refuses, and Fastify's framework errors, in the API's error shape.
    clientErrorHandler: (err, socket) => writeClientError(err, socket),
    frameworkErrors: (err, _request, reply) => {
      void sendAnswer(reply, toHttpAnswer(err, { retryAfterSeconds: config.HTTP_RETRY_AFTER_SECONDS }));
    },
  });
  capConnections(app.server, config.HTTP_MAX_CONNECTIONS);
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onRequest", async (_request, reply) => {
    if (closing)
      return sendAnswer(
        reply,
        unavailable(
          "SHUTTING_DOWN",
          "the server is shutting down; retry (another instance)",
          config.HTTP_RETRY_AFTER_SECONDS,
        ),
      );
    return undefined;
  });
  // JSON only: Fastify's default text/plain parser would let other media types through.
  app.removeContentTypeParser("text/plain");
  if (deps.tracing) await app.register(await fastifyTracing());

  app.addHook("onSend", async (request, reply, payload) => {
    reply.header("x-request-id", request.id);
    // Answered before the body was read whole (401, 413, 415, 503…): close the connection, so a
    // client that keeps trickling its body does not hold it, and no unread body is parsed as the
    // next request.
    if (!request.raw.complete || closing) reply.header("connection", "close");
    // Every error answer is a problem: one written in another shape by code that is not ours
    // (bull-board's API) is turned into one here. /readyz's 503 is its readiness report, not an error.
    if (reply.statusCode < 400 || isProblem(reply.getHeader("content-type")) || ownErrorBody(request)) return payload;
    reply.type(PROBLEM_MEDIA_TYPE);
    return foreignProblem(
      reply.statusCode,
      STATUS_CODES[reply.statusCode] ?? "Error",
      payload,
      instanceOf(request.url),
    );
  });
  // One line per request; never the body or headers (Authorization stays out of logs).
  app.addHook("onResponse", async (request, reply) => {
    const route = request.routeOptions.url ?? "(unmatched)";
    metrics.observeHttpRequest(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      {
        method: request.method,
        url: request.url,
        route,
        statusCode: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
      },
      "request",
    );
  });
  app.setErrorHandler((err, request, reply) => {
    const answer = toHttpAnswer(err, { retryAfterSeconds: config.HTTP_RETRY_AFTER_SECONDS });
    // The logger scrubs errors (no Redis command arguments, so no request body or password).
    if (answer.status === 503) request.log.warn({ err, code: answer.body.code }, "request refused: Redis");
    else if (answer.status >= 500) request.log.error({ err }, "request failed");
    return sendAnswer(reply, answer);
  });
  app.setNotFoundHandler((request, reply) =>
    sendAnswer(reply, problem("NOT_FOUND", `no route ${request.method} ${instanceOf(request.url)}`)),
  );
  app.addHook("onClose", async () => {
    await withTimeout(Promise.allSettled([...inFlight]), config.HTTP_REDIS_TIMEOUT_MS, () => new Error("drain")).catch(
      () => {},
    );
    await Promise.all([requests.close(), outcomes.close(), store.close()]);
    redis.off("error", onRedisError);
    redis.off("ready", onRedisReady);
  });

  // Who is asking (principal.ts): a token of the environment, a named token of the access store,
  // or (HTTP_AUTH_DISABLED) anonymous; each /v1 route then needs its scope (scopeOfRoute).
  const access = deps.access ?? createRedisAccessStore({ redis, prefix: loc.prefix });
  const authenticateBearer = createBearerAuthenticator({
    authTokens: config.HTTP_AUTH_DISABLED ? [] : tokens,
    adminTokens: config.HTTP_ADMIN_TOKENS ?? [],
    access: { tokenByDigest: (digest) => bounded(access.tokenByDigest(digest)) },
  });
  const authenticate = async (request: FastifyRequest, reply: FastifyReply) => {
    let principal = await authenticateBearer(request.headers.authorization);
    if (!principal && config.HTTP_AUTH_DISABLED)
      principal = { kind: "token", name: "anonymous", scopes: LEGACY_TOKEN_SCOPES };
    if (!principal) return sendAnswer(reply, unauthorized(request.headers.authorization !== undefined));
    const scope = scopeOfRoute(
      request.method,
      request.routeOptions.url,
      (request.routeOptions.config as { scope?: unknown } | undefined)?.scope,
    );
    if (!may(principal, scope))
      return sendAnswer(
        reply,
        forbidden(
          `the ${principal.kind} ${JSON.stringify(principal.name)} lacks the scope this needs: ${scope}`,
          scope,
        ),
      );
    setPrincipal(request, principal);
    return undefined;
  };

  await opsRoutes(app, { ...ctx, openapi: buildOpenApiDocument({ maxBatch: config.HTTP_MAX_BATCH }) });
  await docsRoutes(app);
  await app.register(async (scope) => {
    scope.addHook("onRequest", authenticate);
    await acceptanceRoutes(scope, ctx);
    await statusRoutes(scope, ctx);
    await operationRoutes(scope, ctx);
    await heldRoutes(scope, ctx);
    await outcomeLogRoutes(scope, ctx);
    await webhookRoutes(scope, ctx);
  });
  // Not behind the ingest tokens: a person's login or an admin token (HTTP_ADMIN_TOKENS, named tokens).
  // The console at / (a person's login, or an admin token), and the dashboard behind the same login.
  const schedules = createScheduleControl({ redis, prefix: loc.prefix, queueName: config.DISCOVERY_QUEUE });
  app.addHook("onClose", async () => {
    await schedules.close();
  });
  const consoleAccess = await consoleRoutes(app, {
    ctx,
    access,
    authenticateBearer,
    limiter,
    schedules,
    sessionTtlMs: config.CONSOLE_SESSION_TTL_MS,
    // The held list and decide(): the same as GET /v1/held's and the decision route's.
    held: ctx.held,
  });
  await registerDashboard(app, {
    queues: [requests, outcomes],
    basePath: DASHBOARD_PATH,
    config,
    logger: deps.logger,
    authenticate: consoleAccess.authenticate,
  });
  return app;
}

/**
 * Answers what Node's HTTP parser refused (malformed request, header overflow, request timeout)
 * with an error body of the API's shape, then closes the socket, as Node itself does. Nothing of
 * the request is logged (its raw bytes would include the Authorization header).
 */
function writeClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  // A response already under way on this socket cannot be followed by another one.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawHttpAnswer(clientErrorAnswer(err)));
  socket.destroy();
}

/** No `instance`: Node refused the request before its path was known. */
function rawHttpAnswer(answer: HttpAnswer): string {
  const body = problemPayload(answer.body, undefined);
  return (
    `HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status] ?? ""}\r\nContent-Type: ${PROBLEM_MEDIA_TYPE}\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

function isProblem(contentType: unknown): boolean {
  return typeof contentType === "string" && contentType.startsWith(PROBLEM_MEDIA_TYPE);
}

/** A route whose error statuses carry a body of its own on purpose (route config `ownErrorBody`). */
function ownErrorBody(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { ownErrorBody?: boolean } | undefined)?.ownErrorBody === true;
}

/** The Fastify instrumentation as a plugin, loaded only when tracing is on. */
async function fastifyTracing() {
  const { FastifyOtelInstrumentation } = await import("@fastify/otel");
  const instrumentation = new FastifyOtelInstrumentation({
    // The request span carries the route pattern (bounded), never the raw URL, in its name.
    requestHook: (span, request) => span.updateName(`${request.method} ${request.routeOptions.url ?? "(unmatched)"}`),
  });
  return instrumentation.plugin();
}
