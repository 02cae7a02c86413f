import { randomUUID } from "node:crypto";
import type { Queue, Telemetry } from "bullmq";
import { BatchValidationError, IdempotencyConflictError, RequestValidationError } from "../errors/index.js";
import { canonicalJson, fingerprint, fingerprintPayload } from "../request-record/fingerprint.js";
import {
  defaultIdempotencyKey,
  deriveClientToken,
  newRequestJobId,
  redriveIdempotencyKey,
} from "../request-record/identity.js";
import type { PreparedRequest, ReservationPreview, SubmissionResult } from "../request-record/record.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import { JOB_DATA_VERSION, type AcceptJobData } from "../contracts/job.js";
import { actionOf, type AcceptRequest } from "../contracts/request.js";
import { DEFAULT_QUEUE_LOCATION } from "../store/queue-location.js";
import { createRedis, quitConnection, type RedisConnection } from "../store/redis/connection.js";
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from "../store/redis/job-options.js";
import { createRedisRequestStore } from "../store/redis/redis-request-store.js";
import type { SubmissionStore } from "../store/request-store.js";
import { validateRequest } from "./validate-request.js";

export interface ProducerOptions {
  /** An ioredis Redis or Cluster (not closed by the producer) or a URL. @defaultValue REDIS_URL's default,
   * redis://127.0.0.1:6379 */
  redis?: RedisConnection | string;
  /** @defaultValue QUEUE_PREFIX's default, "{pci}" */
  prefix?: string;
  /** @defaultValue REQUESTS_QUEUE's default, "accept-invitation" */
  queueName?: string;
  /** Where a completed request's outcome is read from for a re-submission. @defaultValue OUTCOMES_QUEUE's default,
   * "invitation-outcomes" */
  outcomesQueueName?: string;
  /** @defaultValue DEFAULT_RETRY_POLICY (the JOB_ATTEMPTS, BACKOFF_* and RETENTION_SECONDS defaults) */
  retry?: Partial<RetryPolicy>;
  /**
   * BullMQ telemetry (e.g. `new BullMQOtel()` from bullmq-otel): each enqueue is a PRODUCER span
   * and its jobs carry the trace context to the worker. Unset: no tracing, at no cost.
   */
  telemetry?: Telemetry;
}

/**
 * What enqueue returns. For a re-submission (same idempotency key, same payload) it is the
 * first submission's job, token and state, and its outcome once there is one.
 */
export type EnqueueResult = SubmissionResult;

export interface Producer {
  /** @throws RequestValidationError, IdempotencyConflictError, RedisFullError (nothing enqueued), RedisAuthError
   * (password refused) */
  enqueue(request: unknown): Promise<EnqueueResult>;
  /**
   * Validates every request first; one invalid request (BatchValidationError) or one idempotency
   * conflict (IdempotencyConflictError with `index`) refuses the whole batch. One script per batch
   * (enqueue-script.ts): records and jobs written together or not at all.
   * One result per request, in order; a hole in a sparse array is an invalid request at its index.
   * @throws BatchValidationError, IdempotencyConflictError, RecordUnreadableError, RedisFullError (nothing of the
   * batch enqueued), RedisAuthError;
   * RequestValidationError (field `requests`) when `requests` is not an array
   */
  enqueueMany(requests: readonly unknown[]): Promise<EnqueueResult[]>;
  /**
   * What enqueueMany would do with each request, without writing anything: `new`, `duplicate`
   * (with the existing job) or `conflict` (with the differing fields). For dry runs.
   * @throws BatchValidationError
   */
  preview(requests: readonly unknown[]): Promise<ReservationPreview[]>;
  /**
   * Enqueues the redrive of each failed request: a new request (new job id) with the given
   * request's payload, idempotency key `redrive:<redriveOf>` and a ClientToken derived from it
   * (never the old one), whose job carries `redriveOf`. Otherwise as enqueueMany: a second redrive
   * of the same request is a duplicate. Callers cannot set `redriveOf` in a request (it is not part
   * of the request schema); this is the one way in, used by `redrive`.
   * @throws BatchValidationError, IdempotencyConflictError, RedisFullError (nothing of the batch enqueued)
   */
  enqueueRedrives(items: readonly RedriveItem[]): Promise<EnqueueResult[]>;
  /** What enqueueRedrives would do with each item, writing nothing (see preview). @throws BatchValidationError */
  previewRedrives(items: readonly RedriveItem[]): Promise<ReservationPreview[]>;
  /**
   * Enqueues a person's decision on an invitation (src/app/held.ts decide): the request as
   * enqueue takes it, its job carrying `decision` (who decided, why it had been held), which its
   * outcome echoes as `decidedBy` and `heldBy`. The decision is not part of the fingerprint: a
   * second person deciding alike under the same key gets the first's request (a duplicate), one
   * deciding otherwise an IdempotencyConflictError.
   * @throws RequestValidationError, IdempotencyConflictError, RedisFullError
   */
  enqueueDecision(request: unknown, decision: JobDecision): Promise<EnqueueResult>;
  close(): Promise<void>;
}

/** Who decided on a held invitation, and why it had been held (job data `decision`). */
export type JobDecision = NonNullable<AcceptJobData["decision"]>;

/** A producer on Redis (createProducer). */
export interface RedisProducer extends Producer {
  /** The requests queue's BullMQ handle (counts, dashboards; never add jobs to it directly). */
  readonly queue: Queue;
}

/** A failed request to run again: its request (as callers submit one) and its request id. */
export interface RedriveItem {
  request: unknown;
  redriveOf: string;
}

export function createProducer(options: ProducerOptions = {}): RedisProducer {
  // A URL: the producer opens (and closes) the connection, and names the URL, without its
  // credentials, in its Redis errors.
  const url = typeof options.redis === "object" ? undefined : (options.redis ?? CONFIG_DEFAULTS.REDIS_URL);
  const ownsConnection = url !== undefined;
  const connection = url === undefined ? (options.redis as RedisConnection) : createRedis(url);
  const store = createRedisRequestStore({
    connection,
    location: {
      prefix: options.prefix ?? DEFAULT_QUEUE_LOCATION.prefix,
      requestsQueue: options.queueName ?? DEFAULT_QUEUE_LOCATION.requestsQueue,
      outcomesQueue: options.outcomesQueueName ?? DEFAULT_QUEUE_LOCATION.outcomesQueue,
    },
    retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(url !== undefined ? { url } : {}),
  });
  return {
    ...createProducerOn(store),
    queue: store.requestsQueue,
    async close() {
      await store.close();
      if (ownsConnection) await quitConnection(connection);
    },
  };
}

/**
 * A producer over any submission store (the Redis one: createProducer; the in-memory one in unit
 * tests). It validates and prepares requests; the store judges and writes them. Its close() closes
 * nothing (the store is the caller's).
 */
export function createProducerOn(store: SubmissionStore): Producer {
  /** Redrives as requests: the redrive key, no ClientToken (a new one is derived from that key). */
  function redriveRequests(items: readonly RedriveItem[]): unknown[] {
    if (!Array.isArray(items)) {
      throw new RequestValidationError([{ field: "items", rule: "must be an array of redrives" }]);
    }
    return items.map(({ request, redriveOf }) => {
      if (request === null || typeof request !== "object") return request;
      const { clientToken: _old, ...rest } = request as Record<string, unknown>;
      return { ...rest, idempotencyKey: redriveIdempotencyKey(redriveOf) };
    });
  }
  const redrivesOf = (items: readonly RedriveItem[]) => items.map((i) => i.redriveOf);
  const enqueueMany = (requests: readonly unknown[], redriveOf?: readonly string[]) =>
    store.submit(prepareRequests(requests, redriveOf));
  const enqueueOne = async (submit: () => Promise<EnqueueResult[]>): Promise<EnqueueResult> => {
    try {
      const [result] = await submit();
      return result!;
    } catch (err) {
      if (err instanceof BatchValidationError) throw new RequestValidationError(err.invalid[0]!.issues);
      if (err instanceof IdempotencyConflictError) {
        throw new IdempotencyConflictError(err.idempotencyKey, err.differences, err.existingJobId);
      }
      throw err;
    }
  };

  return {
    enqueueMany: (requests) => enqueueMany(requests),
    preview: async (requests) => store.preview(prepareRequests(requests)),
    enqueueRedrives: (items) => enqueueMany(redriveRequests(items), redrivesOf(items)),
    previewRedrives: async (items) => store.preview(prepareRequests(redriveRequests(items), redrivesOf(items))),
    enqueue: (request) => enqueueOne(() => enqueueMany([request])),
    enqueueDecision: (request, decision) =>
      enqueueOne(async () => store.submit(prepareRequests([request], undefined, [decision]))),
    async close() {},
  };
}

/**
 * Validates every request (one invalid request refuses the batch: BatchValidationError) and derives
 * what enqueueing each needs: idempotency key, payload fingerprint, ClientToken, correlation id, a
 * new job id and the job's data. The requests of one call share `enqueuedAt`.
 */
export function prepareRequests(
  requests: readonly unknown[],
  redriveOf?: readonly string[],
  decisions?: readonly JobDecision[],
): PreparedRequest[] {
  // A JavaScript caller may pass anything: say so in the library's words, not with a TypeError.
  if (!Array.isArray(requests)) {
    throw new RequestValidationError([{ field: "requests", rule: "must be an array of requests" }]);
  }
  const valid: AcceptRequest[] = [];
  const invalid: Array<{ index: number; issues: RequestValidationError["issues"] }> = [];
  // A plain loop, not forEach: a hole in a sparse array is a request too (an invalid one), so
  // results and error indexes keep the caller's positions.
  for (let index = 0; index < requests.length; index++) {
    const r = validateRequest(requests[index]);
    if (r.ok) valid.push(r.request);
    else invalid.push({ index, issues: r.issues });
  }
  if (invalid.length > 0) throw new BatchValidationError(invalid);
  const enqueuedAt = new Date().toISOString();
  return valid.map((r, i) => prepareRequest(r, i, enqueuedAt, redriveOf?.[i], decisions?.[i]));
}

function prepareRequest(
  request: AcceptRequest,
  index: number,
  enqueuedAt: string,
  redriveOf?: string,
  decision?: JobDecision,
): PreparedRequest {
  const idempotencyKey = request.idempotencyKey ?? defaultIdempotencyKey(request.catalog, request.identifier);
  const payload = fingerprintPayload(request, redriveOf);
  const payloadJson = canonicalJson(payload);
  const clientToken = request.clientToken ?? deriveClientToken(idempotencyKey, actionOf(request));
  const data: AcceptJobData = {
    v: JOB_DATA_VERSION,
    request: { ...request, clientToken, correlationId: request.correlationId ?? randomUUID() },
    clientToken,
    idempotencyKey,
    enqueuedAt,
    throttleRequeues: 0,
    ...(redriveOf !== undefined ? { redriveOf } : {}),
    ...(decision !== undefined ? { decision } : {}),
  };
  return {
    index,
    idempotencyKey,
    fp: fingerprint(payload, payloadJson),
    payload,
    payloadJson,
    jobId: newRequestJobId(request.catalog, request.identifier),
    data,
  };
}
