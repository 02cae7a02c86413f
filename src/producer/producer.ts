import { randomUUID } from "node:crypto";
import { Queue, type Telemetry } from "bullmq";
import { classifyRedisError, createRedis, toRedisError, type RedisConnection } from "../queues/connection.js";
import { DEFAULT_QUEUE_LOCATION } from "../queues/queue-names.js";
import { CONFIG_DEFAULTS } from "../schemas/config.js";
import { createTxQueue } from "../queues/transaction.js";
import { JOB_DATA_VERSION, type AcceptJobData } from "../schemas/job.js";
import { actionOf, type AcceptRequest } from "../schemas/request.js";
import { BatchValidationError, IdempotencyConflictError, RequestValidationError } from "../errors/index.js";
import { canonicalJson, fingerprint, fingerprintPayload } from "../request-record/fingerprint.js";
import {
  defaultIdempotencyKey,
  deriveClientToken,
  idempotencyRecordKey,
  newRequestJobId,
  redriveIdempotencyKey,
} from "../request-record/identity.js";
import type { SubmissionResult } from "../request-record/record.js";
import { defineRecordCommands } from "../request-record/transitions.js";
import { enqueueInOneScript } from "./enqueue-script.js";
import { previewReservations, reserveAndEnqueue, type PreparedRequest, type ReservationPreview } from "./reserve.js";
import { validateRequest } from "./validate-request.js";
import { DEFAULT_RETRY_POLICY, requestJobOptions, type RetryPolicy } from "./job-options.js";

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
  readonly queue: Queue;
  close(): Promise<void>;
}

/** A failed request to run again: its request (as callers submit one) and its request id. */
export interface RedriveItem {
  request: unknown;
  redriveOf: string;
}

export function createProducer(options: ProducerOptions = {}): Producer {
  // A URL: the producer opens (and closes) the connection, and names the URL, without its
  // credentials, in its Redis errors.
  const url = typeof options.redis === "object" ? undefined : (options.redis ?? CONFIG_DEFAULTS.REDIS_URL);
  const ownsConnection = url !== undefined;
  const connection = url === undefined ? (options.redis as RedisConnection) : createRedis(url);
  const prefix = options.prefix ?? DEFAULT_QUEUE_LOCATION.prefix;
  const queueName = options.queueName ?? DEFAULT_QUEUE_LOCATION.requestsQueue;
  const outcomeKeyPrefix = `${prefix}:${options.outcomesQueueName ?? DEFAULT_QUEUE_LOCATION.outcomesQueue}:`;
  const jobOptions = requestJobOptions({ ...DEFAULT_RETRY_POLICY, ...options.retry });
  const telemetry = options.telemetry ? { telemetry: options.telemetry } : {};
  const queue = new Queue(queueName, { connection, prefix, defaultJobOptions: jobOptions, ...telemetry });
  // A batch whose duplicate lost its job is reserved by a WATCH transaction (reserve.ts), on a
  // pool of connections of its own (WATCH is per connection); every other batch is one script.
  const tx = createTxQueue(connection, queueName, {
    prefix,
    defaultJobOptions: jobOptions,
    ...telemetry,
    onConnection: defineRecordCommands,
  });
  // Connection errors reach BullMQ queues as 'error' events; with no listener BullMQ prints them
  // with console.error, command arguments included. A producer's failures surface through the
  // calls that fail (enqueue rejects), so the events themselves are dropped here.
  queue.on("error", () => {});

  const prepareAll = (requests: readonly unknown[], redriveOf?: readonly string[]) =>
    prepareRequests(requests, { prefix, queueName }, redriveOf);

  /** Redrives as requests: the redrive key, no ClientToken (a new one is derived from that key). */
  function redriveRequests(items: readonly RedriveItem[]): unknown[] {
    if (!Array.isArray(items))
      throw new RequestValidationError([{ field: "items", rule: "must be an array of redrives" }]);
    return items.map(({ request, redriveOf }) => {
      if (request === null || typeof request !== "object") return request;
      const { clientToken: _old, ...rest } = request as Record<string, unknown>;
      return { ...rest, idempotencyKey: redriveIdempotencyKey(redriveOf) };
    });
  }

  async function enqueueMany(requests: readonly unknown[], redriveOf?: readonly string[]): Promise<EnqueueResult[]> {
    const items = prepareAll(requests, redriveOf);
    if (items.length === 0) return [];
    try {
      const results = await enqueueInOneScript(connection, queue, items, jobOptions, outcomeKeyPrefix).catch(
        (err: unknown) => {
          // A full Redis refuses the script before it reads anything. The transaction below still
          // answers what needs no write (duplicates, conflicts), and is refused (EXECABORT) at its
          // first write, writing nothing.
          if (classifyRedisError(err) === "full") return "refused" as const;
          throw err;
        },
      );
      if (Array.isArray(results)) return results;
      // "job-missing": a duplicate's record lost its job, which the transaction gives back.
      return await tx.exclusive((session) => reserveAndEnqueue(session, items, jobOptions, outcomeKeyPrefix));
    } catch (err) {
      // A full Redis refuses the MULTI whole (EXECABORT) or the script at its first write (OOM):
      // nothing of the batch is written, and the caller gets one typed error for it. So does a
      // refused password (WRONGPASS, or NOAUTH without one): RedisAuthError, never retried.
      throw toRedisError(err, url) ?? err;
    }
  }

  return {
    queue,
    enqueueMany: (requests) => enqueueMany(requests),
    async preview(requests) {
      const items = prepareAll(requests);
      return items.length === 0 ? [] : tx.exclusive((session) => previewReservations(session, items));
    },
    enqueueRedrives: (items) =>
      enqueueMany(
        redriveRequests(items),
        items.map((i) => i.redriveOf),
      ),
    async previewRedrives(items) {
      const prepared = prepareAll(
        redriveRequests(items),
        items.map((i) => i.redriveOf),
      );
      return prepared.length === 0 ? [] : tx.exclusive((session) => previewReservations(session, prepared));
    },
    async enqueue(request) {
      try {
        const [result] = await enqueueMany([request]);
        return result!;
      } catch (err) {
        if (err instanceof BatchValidationError) throw new RequestValidationError(err.invalid[0]!.issues);
        if (err instanceof IdempotencyConflictError)
          throw new IdempotencyConflictError(err.idempotencyKey, err.differences, err.existingJobId);
        throw err;
      }
    },
    async close() {
      // Let both queue handles finish starting first (BullMQ's INFO, script loading and queue
      // meta write are in flight for a few ms after creation): a connection closed under them
      // rejects those commands with "Connection is closed". Bounded, so a Redis that is away does
      // not hold close() up.
      await settled(Promise.all([queue.waitUntilReady(), tx.queue.waitUntilReady()]), CLOSE_SETTLE_MS);
      await tx.close();
      await queue.close();
      if (ownsConnection) await quitConnection(connection);
    },
  };
}

/**
 * Validates every request (one invalid request refuses the batch: BatchValidationError) and derives
 * what enqueueing each needs: idempotency key and record key, payload fingerprint, ClientToken,
 * correlation id, a new job id and the job's data. The requests of one call share `enqueuedAt`.
 */
export function prepareRequests(
  requests: readonly unknown[],
  location: { prefix: string; queueName: string },
  redriveOf?: readonly string[],
): PreparedRequest[] {
  // A JavaScript caller may pass anything: say so in the library's words, not with a TypeError.
  if (!Array.isArray(requests))
    throw new RequestValidationError([{ field: "requests", rule: "must be an array of requests" }]);
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
  return valid.map((r, i) => prepareRequest(r, i, enqueuedAt, location, redriveOf?.[i]));
}

function prepareRequest(
  request: AcceptRequest,
  index: number,
  enqueuedAt: string,
  location: { prefix: string; queueName: string },
  redriveOf?: string,
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
  };
  return {
    index,
    idempotencyKey,
    recordKey: idempotencyRecordKey(location.prefix, location.queueName, idempotencyKey),
    fp: fingerprint(payload, payloadJson),
    payload,
    payloadJson,
    jobId: newRequestJobId(request.catalog, request.identifier),
    data,
  };
}

/** Longest close() waits for the queues' start-up commands, and for QUIT, before dropping the connection. */
const CLOSE_SETTLE_MS = 2000;

/** Resolves when `promise` settles or after `ms`, whichever is first; never rejects. */
async function settled(promise: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([promise.catch(() => undefined), new Promise((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

/**
 * QUIT (Redis answers every command sent before it, then closes; on a Cluster every node does)
 * rather than disconnect (which rejects whatever is still pending with "Connection is closed").
 * Falls back to disconnect when QUIT fails or does not come back in time.
 */
async function quitConnection(connection: RedisConnection): Promise<void> {
  await settled(connection.quit(), CLOSE_SETTLE_MS);
  if (connection.status !== "end") connection.disconnect();
}
