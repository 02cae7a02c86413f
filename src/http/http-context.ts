import type { FastifyReply } from "fastify";
import type { Queue } from "bullmq";
import type { RedisConnection } from "../store/redis/connection.js";
import type { Config } from "../schemas/config.js";
import type { Metrics } from "../observability/metrics.js";
import type { GateVerdict } from "./backlog-gate.js";
import { type HttpAnswer, instanceOf, PROBLEM_MEDIA_TYPE, problemPayload } from "./http-errors.js";
import type { DiscoveryOptions, DiscoverySummary } from "../producer/discover.js";
import type { RedriveOptions, RedriveSummary } from "../producer/redrive.js";
import type { CanceledOutcome } from "../contracts/outcome.js";
import type { ObserveStore } from "../store/request-store.js";
import type { StatusReport } from "../store/status.js";
import type { HeldPage, HeldQuery } from "../store/held-store.js";

/**
 * The producer as the HTTP API needs it: any object with these two calls (the library's Producer,
 * or a stub in tests). Results are passed to the client unchanged.
 */
export interface AcceptancePort {
  enqueue(request: unknown): Promise<object>;
  enqueueMany(requests: readonly unknown[]): Promise<readonly object[]>;
}

/** Discoveries (app/discovery.ts createDiscovery: the API through the shared limit, and the producer). */
export type DiscoveryPort = (options: DiscoveryOptions) => Promise<DiscoverySummary>;

/** Cancel and redrive (app/request-control.ts createRequestControl). */
export interface RequestControlPort {
  /** @throws RequestNotCancelableError, RequestNotFoundError */
  cancel(requestId: string, options?: { reason?: string }): Promise<CanceledOutcome>;
  redrive(options?: RedriveOptions): Promise<RedriveSummary>;
}

/** Held invitations (app/held-desk.ts createHeldDesk): list them, decide on one. */
export interface HeldPort {
  list(query: HeldQuery): Promise<HeldPage>;
  /** `{ catalog, identifier, action, reason?, decidedBy }`; the answer is passed to the client unchanged. */
  decide(input: unknown): Promise<object>;
}

/** What route modules share, built once by buildHttpServer. */
export interface HttpContext {
  producer: AcceptancePort;
  /** Absent: POST /v1/discoveries answers 501 NOT_CONFIGURED. */
  discovery?: DiscoveryPort;
  /** Absent: cancel and redrive answer 501 NOT_CONFIGURED. */
  requestControl?: RequestControlPort;
  /** Absent: the held routes answer 501 NOT_CONFIGURED. */
  held?: HeldPort;
  redis: RedisConnection;
  /** The store's read side: listings of requests. */
  store: Pick<ObserveStore, "listRequests">;
  /** The status read model (store/status.ts) over this server's queues and shared limits. */
  status(): Promise<StatusReport>;
  requests: Queue;
  outcomes: Queue;
  config: Config;
  metrics: Metrics;
  gate: { check(): Promise<GateVerdict> };
  /** Bounds a Redis-backed call by HTTP_REDIS_TIMEOUT_MS; a timeout becomes a 503. */
  bounded<T>(promise: Promise<T>): Promise<T>;
  /** Why Redis is out of reach: RedisAuthError while it refuses our password, else RedisUnavailableError. */
  redisDown(): Error;
}

/** Sends an error answer as `application/problem+json`, its `instance` the request's path. */
export function sendAnswer(reply: FastifyReply, answer: HttpAnswer): FastifyReply {
  return reply
    .code(answer.status)
    .headers(answer.headers ?? {})
    .type(PROBLEM_MEDIA_TYPE)
    .send(problemPayload(answer.body, instanceOf(reply.request.url)));
}

/**
 * The connection is lost (ioredis is reconnecting, or gave up): a command would wait in the
 * offline queue, so the API answers 503 at once instead.
 */
export function redisConnectionLost(redis: RedisConnection): boolean {
  return redis.status === "reconnecting" || redis.status === "close" || redis.status === "end";
}

/** The connection is up: a call that timed out reached Redis, which was slow, not away. */
export function redisConnected(redis: RedisConnection): boolean {
  return redis.status === "ready";
}
